"""Naming what a failed check found: the file, the line (CSV) or row (Parquet), the column, the rule broken
and the fix (the rules the adapter raises for: the package docstring). The aggregates say which file; running
`query._query` row by row, numbered in file order, on that file alone names the line."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ...exceptions import InputError
from .. import Settings
from ..refetch import relative
from .layout import _Layout
from .query import _query
from .rules import NEGATIVE
from .spec import ENUMS, MANDATORY_VALUES, NUMBER_COLUMNS, TIME_COLUMNS


def _diagnose(con, agg: pd.DataFrame, layouts: list[_Layout], settings: Settings) -> None:
    """Find the first offending row of the first file with a problem and raise its InputError."""
    bad_files = agg.loc[agg["__bad"] > 0, "__file"].dropna().unique().tolist()
    by_path = {str(lay.path): lay for lay in layouts}
    layout = by_path.get(bad_files[0]) if bad_files else layouts[0]
    con.execute("SET threads = 1")
    sql, _ = _query([[layout]], settings, numbered=True)
    # the same layers, row by row, numbered in file order (one thread keeps the order)
    layers = sql[: sql.rindex("SELECT")]
    row = con.execute(layers + "SELECT * FROM l6 WHERE __bad ORDER BY __row LIMIT 1").df()
    if row.empty:  # pragma: no cover - the aggregate saw a bad row, so this file has one
        raise InputError(layout.path, "a row failed the FOCUS checks", "check the file against FOCUS 1.2.")
    _raise_for(layout, row.iloc[0].to_dict())


NEGATIVE_RULE = 'values >= 0 where ChargeCategory == "Usage" and ChargeClass is not "Correction"'
NEGATIVE_HINT = ("a negative usage cost is a correction of an earlier charge (FOCUS 1.1 and later mark corrections "
                 "ChargeClass Correction): check these lines are corrections. They are counted as they are, and "
                 "the pack is PROVISIONAL until they are marked or explained.")


def _negative_usage(con, agg: pd.DataFrame, layouts: list[_Layout], settings: Settings, folder: Path) -> list:
    """A warning per file with negative usage costs not marked as corrections, naming the file's own lines."""
    from ...contracts import Check

    files = agg.loc[agg["__negative_usage"].fillna(0) > 0].groupby("__file")["__negative_usage"].sum()
    checks = []
    for path, count in files.items():
        layout = next(lay for lay in layouts if str(lay.path) == path)
        con.execute("SET threads = 1")
        sql, _ = _query([[layout]], settings, numbered=True)
        rows = con.execute(sql[: sql.rindex("SELECT")] + "SELECT __row, __eff FROM l6 WHERE __kept AND "
                           f"ChargeCategory = 'Usage' AND ({NEGATIVE}) AND "
                           "lower(trim(coalesce(ChargeClass, ''))) <> 'correction' ORDER BY __row LIMIT 5").fetchall()
        csv = layout.kind == "csv"
        checks.append(Check(
            table="spend", source=relative(Path(path), folder), expectation="expect_column_values_to_be_between",
            column=layout.columns.get("EffectiveCost", ("EffectiveCost",))[0], severity="warning", success=False,
            rule=NEGATIVE_RULE, hint=NEGATIVE_HINT, unexpected_count=int(count),
            rows=[int(r) + 1 if csv else int(r) for r, _ in rows], samples=[float(v) for _, v in rows],
            row_label="line" if csv else "row"))
    return checks


def _bad_tags(con, layout: _Layout, tags: str, settings: Settings) -> None:
    con.execute("SET threads = 1")
    sql, _ = _query([[layout]], settings, numbered=True)
    found = con.execute(sql[: sql.rindex("SELECT")] + "SELECT min(__row) FROM l6 WHERE __kept AND Tags = ?",
                        [tags]).fetchone()[0]
    n = int(found or 0)
    line = n + 1 if layout.kind == "csv" and n else None
    raise InputError(layout.path, f"Tags value {tags[:120]!r} is not a JSON object (rule: Tags key-value format)"
                     + ("" if line or not n else f" (row {n})"),
                     'write Tags as a JSON object, e.g. {"project": "alpha", "env": "prod"}.', line=line,
                     column=layout.columns.get("Tags", ("Tags",))[0])


def _raise_for(layout: _Layout, r: dict) -> None:
    n = int(r["__row"])
    line = n + 1 if layout.kind == "csv" else None
    where = "" if line else f" (row {n})"

    def raw(column):
        return layout.columns.get(column, (column,))[0]

    def fail(column, problem, hint):
        raise InputError(layout.path, problem + where, hint, line=line, column=raw(column))

    for c in TIME_COLUMNS:
        if r.get(c + "__s") is not None and pd.isna(r.get(c + "__ts")):
            value = r[c + "__s"]
            if r.get(c + "__k") == 9 and re.fullmatch(r"\s*\d{1,2}/\d{1,2}/\d{2,4}.*", str(value)):
                fail(c, f"{c} value {value!r} is not a month-first date (rule: dates)",
                     "write dates as ISO 8601 UTC, e.g. 2025-05-01T00:00:00Z (day-first dates are ambiguous).")
            fail(c, f"{c} value {value!r} is not a date/time (rule: dates)",
                 "write dates as ISO 8601 UTC, e.g. 2025-05-01T00:00:00Z, and check the value exists.")
    for c in NUMBER_COLUMNS:
        if r.get(c + "__s") is not None and pd.isna(r.get(c + "__n")):
            fail(c, f"{c} value {r[c + '__s']!r} is not a number (rule: numbers)",
                 "write plain decimal numbers such as 1234.56 or -12.5 (E-notation allowed); re-export the file.")
    for c in ENUMS:
        if r.get(c + "__fix") == 9:
            fail(c, f"{c} value {r[c + '__raw']!r} is not a FOCUS value (rule: allowed values)",
                 f"use one of {', '.join(ENUMS[c].values())}.")
    for c in ("ChargePeriodStart", "ChargePeriodEnd"):
        if pd.isna(r.get(c + "__ts")):
            fail(c, f"{c} is empty on an AI row (rule: mandatory value)", f"every row needs a {c}.")
    if pd.isna(r.get("EffectiveCost__n")) and pd.isna(r.get("BilledCost__n")):
        fail("EffectiveCost", "EffectiveCost and BilledCost are both empty on an AI row (rule: mandatory value)",
             "every row needs its cost in EffectiveCost (and BilledCost).")
    for c in MANDATORY_VALUES:
        if r.get(c) is None or (isinstance(r.get(c), float) and pd.isna(r.get(c))):
            fail(c, f"{c} is empty on an AI row (rule: mandatory value)", f"every row needs a {c}.")
    if not re.fullmatch(r"[A-Z]{3}", str(r.get("BillingCurrency"))):
        fail("BillingCurrency", f"BillingCurrency value {r.get('BillingCurrency__raw')!r} is not an ISO 4217 code "
             "(rule: currency)", "write the billing currency as three letters, e.g. USD or EUR.")
    if r.get("ChargePeriodEnd__ts") < r.get("ChargePeriodStart__ts"):
        fail("ChargePeriodEnd", f"ChargePeriodEnd {r['ChargePeriodEnd__ts']} is before ChargePeriodStart "
             f"{r['ChargePeriodStart__ts']} (rule: period order)", "ChargePeriodEnd is the exclusive end of the "
             "charge period and must be after its start.")
    raise InputError(layout.path, "a row failed the FOCUS checks" + where, "check the row against FOCUS 1.2.",
                     line=line)
