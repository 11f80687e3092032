"""The dollar ledger: where every input dollar of every file and quarter went, with control totals.

For each source file, quarter and currency: the money the file holds (`read`), the money the pack estimates
from it where no file bills it (`estimated`: seats x list price, usage x list price), and where it went:
`counted` in the pack, dropped as `not_ai` (by the AI-spend catalog), or `superseded` by another source or a
later fetch of the same data (`superseded_by` names them). In every row

    read + estimated = counted + not_ai + superseded        (to the cent, in the file's own currency)

and a ledger that does not balance stops the run. `counted_reporting` is the counted money in the reporting
currency; per quarter it equals the pack's total spend (`check_pack`). Pure functions; the build writes the
result as `ledger.json` and shows it on the data-quality page and in the pack's appendix.
"""

from __future__ import annotations

import pandas as pd

from .exceptions import LedgerError

CENT = 0.005  # a row balances when its remainder is below half a cent
MONEY = ("read", "estimated", "counted", "not_ai", "superseded", "counted_reporting")
KEYS = ("source", "file", "quarter", "currency")
COLUMNS = (*KEYS, *MONEY, "superseded_by", "balance")
TOP_DROPPED = 10


def quarter_of(starts: pd.Series) -> pd.Series:
    """'2026-Q3' for each timestamp."""
    periods = pd.to_datetime(starts).dt.to_period("Q")
    return periods.dt.year.astype(str) + "-Q" + periods.dt.quarter.astype(str)


def _keyed(frame: pd.DataFrame | None, value: str, currency: str = "BillingCurrency") -> pd.Series:
    """`frame[value]` indexed by the ledger's keys (source, file, quarter, currency); empty for no frame."""
    if frame is None or frame.empty:
        return pd.Series(dtype=object)
    index = pd.MultiIndex.from_arrays([frame["x_Source"].fillna("(unknown)"), frame["x_SourceFile"].fillna("(no file)"),
                                       quarter_of(frame["ChargePeriodStart"]), frame[currency].fillna("").str.upper()],
                                      names=list(KEYS))
    return pd.Series(frame[value].to_numpy(), index=index)


def _sum(frame: pd.DataFrame | None, amount: str, name: str, currency: str = "BillingCurrency") -> pd.Series:
    keyed = _keyed(frame, amount, currency)
    return keyed.astype(float).groupby(level=list(KEYS)).sum().rename(name) if len(keyed) else \
        pd.Series(dtype=float, name=name)


def entries(emitted: pd.DataFrame, excluded: pd.DataFrame | None, counted: pd.DataFrame,
            shadow: pd.DataFrame | None) -> pd.DataFrame:
    """The ledger of a raw folder, one row per source, file, quarter and currency.

    `emitted`: every spend row the adapters gave, before assembly (`x_ReadCost`/`x_ReadCurrency`: the amount
    as read; `x_Basis` 'estimated' for estimates); `excluded`: the money adapters read but did not emit
    (`adapters.EXCLUDED_COLUMNS`); `counted` / `shadow`: the rows after assembly that count, and those that
    another source superseded (`x_SupersededBy`). `counted` also has EffectiveCost in the reporting currency.
    """
    read_cols = {"currency": "x_ReadCurrency"}  # emitted and counted rows keep the amount as read
    estimated = emitted["x_Basis"].eq("estimated")
    parts = [
        _sum(emitted[~estimated], "x_ReadCost", "read", **read_cols),
        _sum(excluded, "EffectiveCost", "read_excluded"),
        _sum(emitted[estimated], "x_ReadCost", "estimated", **read_cols),
        _sum(counted, "x_ReadCost", "counted", **read_cols),
        _sum(counted, "EffectiveCost", "counted_reporting", **read_cols),
        _sum(None if excluded is None else excluded[excluded["x_Exclusion"] == "not_ai"], "EffectiveCost", "not_ai"),
        _sum(None if excluded is None else excluded[excluded["x_Exclusion"] != "not_ai"], "EffectiveCost",
             "superseded_excluded"),
        _sum(shadow, "x_ReadCost", "superseded", **read_cols),
    ]
    table = pd.concat([p for p in parts if len(p)], axis=1).fillna(0.0) if any(len(p) for p in parts) else \
        pd.DataFrame(columns=list(MONEY))
    for column in ("read", "read_excluded", "estimated", "counted", "counted_reporting", "not_ai",
                   "superseded_excluded", "superseded"):
        if column not in table:
            table[column] = 0.0
    table["read"] += table.pop("read_excluded")
    table["superseded"] += table.pop("superseded_excluded")
    names = [n.dropna() for n in (_keyed(excluded, "x_ExcludedBy"), _keyed(shadow, "x_SupersededBy", "x_ReadCurrency"))]
    names = [n for n in names if len(n)]
    by = pd.concat(names).groupby(level=list(KEYS)).agg(lambda s: ", ".join(sorted(set(s)))) if names else {}
    table["superseded_by"] = [by.get(key, "") for key in table.index]
    table["balance"] = table["read"] + table["estimated"] - table["counted"] - table["not_ai"] - table["superseded"]
    table.index = table.index.set_names(list(KEYS))
    return table.reset_index()[list(COLUMNS)].sort_values(["quarter", "source", "file"], ignore_index=True)


def from_table(spend: pd.DataFrame, path, excluded: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ledger of a canonical spend table: every dollar it holds is AI spend and counts; `excluded` (rows
    repeated in every column, counted once) is read and superseded."""
    frame = spend.assign(x_Source="spend table", x_SourceFile=getattr(path, "name", str(path)),
                         x_ReadCost=spend["EffectiveCost"], x_ReadCurrency=spend["BillingCurrency"].str.upper(),
                         x_Basis=None)
    table = entries(frame, excluded, frame, None)
    check(table)
    return table


def check(table: pd.DataFrame) -> None:
    """Stop the run when a row does not balance: money would be lost or made up between files and pack."""
    off = table[table["balance"].abs() >= CENT]
    if len(off):
        r = off.iloc[0]
        raise LedgerError(
            f"The dollar ledger does not balance for {r['source']} file {r['file']}, {r['quarter']}: read "
            f"{r['read']:,.2f} + estimated {r['estimated']:,.2f} {r['currency']} but counted {r['counted']:,.2f} + "
            f"not AI {r['not_ai']:,.2f} + superseded {r['superseded']:,.2f} (off by {r['balance']:,.2f}; "
            f"{len(off)} row(s) in all).\n  How to fix: this is a defect of boardpack, not of your data: report it "
            "with the file; no pack was rendered.")


def check_pack(table: pd.DataFrame, spend: pd.DataFrame, quarters: list[str]) -> None:
    """The pack's spend of each quarter must equal the ledger's counted money, to the cent."""
    pack = spend.groupby(quarter_of(spend["ChargePeriodStart"]))["EffectiveCost"].sum() if len(spend) else pd.Series()
    counted = table.groupby("quarter")["counted_reporting"].sum()
    for q in quarters:
        a, b = float(pack.get(q, 0.0)), float(counted.get(q, 0.0))
        if abs(a - b) >= 0.01:
            raise LedgerError(f"The pack's spend for {q} ({a:,.2f}) is not the dollar ledger's counted total "
                              f"({b:,.2f}).\n  How to fix: this is a defect of boardpack, not of your data: "
                              "report it; no pack was rendered.")


def summary(table: pd.DataFrame, excluded: pd.DataFrame | None) -> dict:
    """What ledger.json holds besides the rows: totals per quarter and currency, the largest dropped services."""
    totals = {}
    for (quarter, currency), g in table.groupby(["quarter", "currency"]):
        totals.setdefault(quarter, {})[currency] = {m: round(float(g[m].sum()), 2) for m in MONEY}
    counted = table.groupby("quarter")["counted_reporting"].sum()
    dropped = []
    if excluded is not None and len(excluded):
        gone = excluded[excluded["x_Exclusion"] == "not_ai"]
        if len(gone):
            keyed = gone.assign(quarter=quarter_of(gone["ChargePeriodStart"]),
                                ServiceName=gone["ServiceName"].fillna("(no ServiceName)"),
                                ProviderName=gone["ProviderName"].fillna(""),
                                ServiceCategory=gone["ServiceCategory"].fillna(""))
            top = (keyed.groupby(["quarter", "ProviderName", "ServiceName", "ServiceCategory", "BillingCurrency"])
                   .agg(amount=("EffectiveCost", "sum"), rows=("Rows", "sum")).reset_index())
            for quarter, g in top.groupby("quarter"):
                for r in g.sort_values("amount", ascending=False).head(TOP_DROPPED).to_dict("records"):
                    dropped.append({"quarter": quarter, "provider": r["ProviderName"], "service": r["ServiceName"],
                                    "category": r["ServiceCategory"], "currency": r["BillingCurrency"],
                                    "amount": round(float(r["amount"]), 2), "rows": int(r["rows"])})
    return {"quarters": totals, "counted_reporting": {q: round(float(v), 2) for q, v in counted.items()},
            "not_ai_services": dropped}


def records(table: pd.DataFrame) -> list[dict]:
    """The rows for JSON: money to the cent."""
    out = []
    for r in table.to_dict("records"):
        out.append({k: (round(float(v), 2) if k in MONEY or k == "balance" else v) for k, v in r.items()})
    return out
