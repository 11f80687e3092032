"""The canonical spend table, read, typed, validated and rolled up inside an engine, at every size.

The spend table is the one canonical table that can grow to billions of rows (an hourly FOCUS export, or
spend written per request), and one path serves every size, so that no size falls off a cliff: the engine
(embedded DuckDB, or Spark) reads the file, numbers its rows, types them (`engine.typed_select`), drops
exact repeats, the spend suite of `data_contracts/` validates them where they lie, and `sql/spend_daily.sql`
rolls them up to one row per day and key. Only that rollup, quarter-sized, goes on to the metrics.

On DuckDB a failure names the file's own lines, as a spreadsheet user counts them (the header is line 1;
a Parquet file's rows from 1). Spark reads a file in parallel splits and cannot say which line a row was:
there a failure gives counts and sample values. The small tables (seats, outcomes, use cases, models) stay
in pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import contracts, sniff
from .engine import DuckDBEngine, Engine, _q, typed, typed_select, unparsed_select
from .exceptions import InputError
from .ingest import coerce
from .schema import SPEND_COLUMNS

SAMPLES = 5
LINE = "__line"
REPEATED_BY = "{name} (the earlier identical lines)"


@dataclass
class SpendRead:
    """What reading the spend file gives the validation step."""

    rollup: pd.DataFrame
    checks: list
    notes: list[str]
    rows: int  # rows read, repeats included
    excluded: pd.DataFrame | None = None  # the repeats' money, for the ledger (read, superseded)


def kind_of(path: Path) -> str:
    return "parquet" if path.suffix == ".parquet" else "csv"


def read_spend(engine: Engine, path: Path, params: dict, expensive_check_rows: int,
               suites: dict | None = None) -> SpendRead:
    """The spend file read, checked and rolled up in `engine`, every row of it."""
    try:
        return _read(engine, path, params, expensive_check_rows, suites)
    except Exception as e:  # each engine raises its own types for a file it cannot read to the end
        if isinstance(e, InputError) or not _engine_error(e):
            raise
        raise sniff.engine_read_error(path, str(e)) from None


def _engine_error(e: Exception) -> bool:
    """Whether `e` is an engine's error about a file it cannot read, not about the SQL (a defect of ours)."""
    name, module = type(e).__name__, type(e).__module__
    return name in ("InvalidInputException", "IOException") or (
        module.startswith(("pyspark", "py4j")) and name not in ("AnalysisException", "ParseException"))


def _read(engine: Engine, path: Path, params: dict, expensive_check_rows: int, suites: dict | None) -> SpendRead:
    kind = kind_of(path)
    label = "line" if kind == "csv" else "row"
    present = engine.schema([path], kind, strict=True)
    missing = [c for c in SPEND_COLUMNS if c not in present]
    if missing:
        raise InputError(path, f"required column(s) missing: {', '.join(missing)} (rule: required columns present)",
                         "add the missing column(s) to the header row; the README lists every column of this table.")
    # every column of the file, not only the schema's: a row that differs from another in any column is a
    # distinct charge, and only a row equal in all of them is the same charge read twice
    engine.register_files("spend_text", [path], kind, {c: c for c in present}, SPEND_COLUMNS, numbered=True)
    engine.stage("spend_text")
    unparsed = _unparsed(engine, "spend_text")
    repeats, excluded, check = _repeats(engine, path, list(present), label)
    kept = "spend_text" if not repeats else \
        f"(SELECT * FROM spend_text WHERE {LINE} NOT IN (SELECT {LINE} FROM spend_repeats)) AS kept"
    engine.create_view("spend_rows", typed_select(kept, SPEND_COLUMNS, set(unparsed), keep=(LINE,)))
    checks, notes, rows = contracts.validate_view(engine, "spend", "spend_rows", "spend", str(path), params=params,
                                                  expensive_check_rows=expensive_check_rows, unparsed=unparsed,
                                                  contracts=suites, row_label=label)
    checks = ([check] if check else []) + checks
    if any(not c.success and c.severity == "critical" for c in checks):  # the gate stops the run: no rollup
        return SpendRead(pd.DataFrame(), checks, notes, rows + repeats)
    return SpendRead(rollup_frame(engine.run("spend_daily")), checks, notes, rows + repeats, excluded)


def _unparsed(engine: Engine, view: str) -> dict[str, tuple[int, list, list]]:
    """Column -> (count, sample texts, their lines) of values that are there but do not parse as the column's
    type; lines only where the engine numbers them."""
    counts = engine.frame(unparsed_select(view, SPEND_COLUMNS)).iloc[0]
    found = {}
    for name, count in counts.items():
        if pd.notna(count) and int(count):
            sql = (f'SELECT {LINE} AS line, "{name}__text" AS v FROM {view} WHERE "{name}__text" IS NOT NULL '
                   f"AND {typed(name, SPEND_COLUMNS[name])} IS NULL ORDER BY {LINE} LIMIT {SAMPLES}")
            bad = engine.frame(sql)
            lines = [int(n) for n in bad["line"]] if engine.numbers_lines else []
            found[name] = (int(count), list(bad["v"]), lines)
    return found


def _repeats(engine: Engine, path: Path, columns: list[str], label: str):
    """(rows that repeat an earlier row in every column, their money for the ledger, the warning) of the
    numbered view `spend_text`; the view `spend_repeats` names them.

    One pass hashes every row; only rows whose hash occurs twice are compared column by column, so a file
    without repeats pays for one hash aggregation and a hash collision never drops a distinct charge."""
    cols = []
    for c in columns:  # number and datetime columns come as a native value and a text: both are the row
        cols += [_q(c), _q(c + "__text")] if c in SPEND_COLUMNS and SPEND_COLUMNS[c] in ("number", "datetime") \
            else [_q(c)]
    row = ", ".join(cols)
    twice = f"SELECT h FROM (SELECT hash({row}) AS h FROM spend_text) AS hashed GROUP BY h HAVING count(*) > 1"
    if not int(engine.frame(f"SELECT count(*) AS n FROM ({twice}) AS t")["n"].iloc[0]):
        return 0, None, None
    engine.create_view("spend_repeats", (
        f"SELECT {LINE}, first_line FROM (SELECT {LINE}, min({LINE}) OVER (PARTITION BY {row}) AS first_line "
        f"FROM spend_text WHERE hash({row}) IN ({twice})) AS candidates WHERE {LINE} > first_line"))
    n = engine.count("spend_repeats")
    if not n:
        return 0, None, None
    start, cost = typed("ChargePeriodStart", "datetime"), typed("EffectiveCost", "number")
    money = engine.frame(
        f"SELECT date_trunc('month', {start}) AS month, upper(coalesce(BillingCurrency, '')) AS currency, "
        f"sum({cost}) AS cost, count({cost}) AS costed, count({start}) AS dated, count(*) AS n "
        f"FROM spend_text WHERE {LINE} IN (SELECT {LINE} FROM spend_repeats) GROUP BY 1, 2 ORDER BY 1, 2")
    shown = engine.frame(f"SELECT {LINE} AS line, first_line FROM spend_repeats ORDER BY {LINE} LIMIT {SAMPLES}")
    dollars = ", ".join(f"{v:,.2f} {c}" for c, v in money.groupby("currency")["cost"].sum().items() if pd.notna(v))
    check = contracts.Check(
        table="spend", source=str(path), expectation="expect_compound_columns_to_be_unique", column=None,
        severity="warning", success=False,
        rule=f"exact duplicate rows: {n:,} row(s) repeat an earlier {label} in every column "
             f"({dollars or 'no readable cost'} of EffectiveCost); each is counted once",
        hint="remove the repeated rows (was the same export appended twice?); if they are distinct charges, make "
             "them differ in a column (ChargeDescription, SkuId or Tags) and they will count.",
        unexpected_count=n, element_count=engine.count("spend_text"),
        rows=[int(r) for r in shown["line"]] if engine.numbers_lines else [],
        samples=[f"repeats {label} {int(r)}" for r in shown["first_line"]] if engine.numbers_lines else [],
        row_label=label)
    excluded = None
    if (money["costed"] == money["n"]).all() and (money["dated"] == money["n"]).all():
        # (else the copies kept fail the contract on the same values, and no pack is made)
        from .adapters import excluded_frame

        excluded = excluded_frame({
            "x_Source": ["spend table"] * len(money), "x_SourceFile": [path.name] * len(money),
            "ChargePeriodStart": list(money["month"]), "BillingCurrency": list(money["currency"]),
            "EffectiveCost": list(money["cost"]), "x_Exclusion": ["duplicate"] * len(money),
            "Rows": [int(r) for r in money["n"]], "x_ExcludedBy": [REPEATED_BY.format(name=path.name)] * len(money)})
    return n, excluded, check


def rollup_frame(rolled: pd.DataFrame) -> pd.DataFrame:
    """The engine's rollup as the canonical spend frame: schema columns and types, rows numbered from 1."""
    frame, _ = coerce(rolled[list(SPEND_COLUMNS)].copy(), SPEND_COLUMNS)
    for name, kind in SPEND_COLUMNS.items():  # Spark hands back ns, DuckDB us: one resolution for both
        if kind == "datetime" and frame[name].dtype.kind == "M":
            frame[name] = frame[name].astype("datetime64[us]")
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def rollup_pandas(spend: pd.DataFrame) -> pd.DataFrame:
    """The same rollup (sql/spend_daily.sql) of a spend frame already in memory, by embedded DuckDB."""
    with DuckDBEngine() as duck:
        duck.register_frame("spend_rows", spend[list(SPEND_COLUMNS)])
        return rollup_frame(duck.run("spend_daily"))
