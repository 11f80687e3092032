"""A large canonical spend table, read, typed, validated and rolled up inside an engine.

The spend table is the one canonical table that can grow to billions of rows (an hourly FOCUS export,
or spend written per request). With `--engine spark`, or a spend file above `[engine] large_table_mb`,
it never reaches pandas whole: the engine reads the file, types it (`engine.typed_select`), the spend
suite of `data_contracts/` validates it where it lies, and `sql/spend_daily.sql` rolls it up to one row
per day and key. Only that rollup, quarter-sized, goes on to the metrics. The small tables (seats,
outcomes, use cases, models) stay in pandas, where errors can name CSV lines.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import contracts
from .engine import DuckDBEngine, Engine, typed, typed_select, unparsed_select
from .exceptions import InputError
from .ingest import coerce
from .schema import SPEND_COLUMNS

SAMPLES = 5


def kind_of(path: Path) -> str:
    return "parquet" if path.suffix == ".parquet" else "csv"


def read_spend(engine: Engine, path: Path, params: dict, expensive_check_rows: int,
               suites: dict | None = None) -> tuple[pd.DataFrame, list, list[str], int]:
    """(daily rollup of the spend file, contract checks, notes, rows read) with every row checked in `engine`."""
    kind = kind_of(path)
    try:
        present = engine.schema([path], kind)
    except Exception as e:  # each engine raises its own types for an unreadable file
        raise InputError(path, f"cannot be read: {str(e).strip().splitlines()[0]}",
                         "export the spend table again as CSV (header row) or Parquet.") from None
    missing = [c for c in SPEND_COLUMNS if c not in present]
    if missing:
        raise InputError(path, f"required column(s) missing: {', '.join(missing)} (rule: required columns present)",
                         "add the missing column(s) to the header row; the README lists every column of this table.")
    engine.register_files("spend_text", [path], kind, {c: c for c in SPEND_COLUMNS}, SPEND_COLUMNS)
    unparsed = _unparsed(engine, "spend_text")
    engine.create_view("spend_rows", typed_select("spend_text", SPEND_COLUMNS, set(unparsed)))
    checks, notes, rows = contracts.validate_view(engine, "spend", "spend_rows", "spend", str(path), params=params,
                                                  expensive_check_rows=expensive_check_rows, unparsed=unparsed,
                                                  contracts=suites)
    if any(not c.success and c.severity == "critical" for c in checks):
        return pd.DataFrame(), checks, notes, rows  # the gate stops the run; nothing to roll up
    return rollup_frame(engine.run("spend_daily")), checks, notes, rows


def _unparsed(engine: Engine, view: str) -> dict[str, tuple[int, list]]:
    """Column -> (count, sample texts) of values that are there but do not parse as the column's type."""
    counts = engine.frame(unparsed_select(view, SPEND_COLUMNS)).iloc[0]
    found = {}
    for name, count in counts.items():
        if pd.notna(count) and int(count):
            sql = (f'SELECT DISTINCT "{name}__text" AS v FROM {view} WHERE "{name}__text" IS NOT NULL '
                   f"AND {typed(name, SPEND_COLUMNS[name])} IS NULL ORDER BY v LIMIT {SAMPLES}")
            found[name] = (int(count), list(engine.frame(sql)["v"]))
    return found


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
