"""Read the canonical tables from a data folder, typed, with the source line of every row kept.

A data folder holds one file per table: `spend`, `seats`, `outcomes`, `use_cases`, `models` and, when the
seat reports' users are at hand, `seat_users` and their apps `seat_apps` (optional: `schema.OPTIONAL_TABLES`),
each as `.csv`, `.csv.gz` or `.parquet`. Raw files are never changed. Every file is sniffed (`boardpack.sniff`)
before any is parsed, so that a file that cannot be the table is refused in milliseconds, by name. Values
that do not parse as their column's type are left as text, so that the type expectation of the contract
fails and names them; the row numbers of such values are kept in `Tables.unparsed` for the gate report.

The spend table, which can be of any size, is only found and sniffed here: an engine reads, checks and
rolls it up (`boardpack.large`), where exact repeats of a row are counted once.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import sniff
from .exceptions import InputError
from .schema import COLUMNS, OPTIONAL_TABLES, TABLES, empty_table

SUFFIXES = (".csv", ".csv.gz", ".parquet")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass
class Tables:
    """The canonical tables (`schema.TABLES`) and where each came from."""

    frames: dict[str, pd.DataFrame]
    sources: dict[str, Path]
    # table -> column -> {row label: raw value} for values that did not parse as the column's type
    unparsed: dict[str, dict[str, dict[int, str]]] = field(default_factory=dict)
    # every file read, when the tables were assembled from raw source folders (else: `sources`)
    files: list[Path] = field(default_factory=list)
    # how a raw folder was assembled: fixes, attribution, source of truth, FX, reconciliation
    report: dict | None = None
    # contracts.Check results of inputs checked before they became tables (gateway logs, or the spend
    # table when an engine read it); the gate reports them with its own
    checks: list = field(default_factory=list)
    checked: set = field(default_factory=set)  # tables whose own suite already ran in an engine
    notes: list = field(default_factory=list)  # what the engine did not check, and why
    input_rows: dict = field(default_factory=dict)  # rows read per table, where the frame is a rollup of them
    # where every dollar read went (boardpack.ledger), and the money read but not counted; a raw folder's
    # are made as it is assembled, a spend table's once it is read (steps.validate)
    ledger: pd.DataFrame | None = None
    excluded: pd.DataFrame | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def row_label(self, name: str) -> str:
        """What the index of a table's frame counts: CSV line numbers, or row numbers otherwise."""
        return "line" if self.sources[name].suffix in (".csv", ".gz") else "row"


def find_source(data_dir: Path, table: str) -> Path:
    """The one file that holds `table` in `data_dir`."""
    # lexists: a link that loops or leads nowhere is there, and the sniff says what is wrong with it
    found = [data_dir / f"{table}{s}" for s in SUFFIXES if os.path.lexists(data_dir / f"{table}{s}")]
    if not found:
        raise InputError(
            data_dir / f"{table}.csv", "file not found",
            f"put the {table} table in {data_dir} as {table}.csv or {table}.parquet (see README, 'Bring your own data').")
    if len(found) > 1:
        raise InputError(found[0], f"several files hold the {table} table: {', '.join(p.name for p in found)}",
                         "keep exactly one of them in the data folder.")
    return found[0]


def _optional_source(data_dir: Path, table: str) -> Path:
    """The file of an optional table; where there is none, the name it would have (which does not exist)."""
    if any(os.path.lexists(data_dir / f"{table}{s}") for s in SUFFIXES):
        return find_source(data_dir, table)
    return data_dir / f"{table}.csv"


def read_raw(path: Path) -> pd.DataFrame:
    """Read a file as text columns (CSV) or as stored (Parquet); index = source line / row number."""
    if path.stat().st_size == 0:
        raise InputError(path, "the file is empty", "export the table again; the first line must be the header row.")
    if path.suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as e:  # pyarrow raises several types for a damaged file
            raise InputError(path, f"not a readable Parquet file ({e})", "write the file again with a Parquet writer.") from None
        df.index = pd.RangeIndex(1, len(df) + 1)
        return df
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file has no header row", "the first line must name the columns.") from None
    except pd.errors.ParserError as e:
        line = _line_of(str(e))
        raise InputError(path, f"malformed CSV ({str(e).strip()})", sniff.MALFORMED_HINT, line=line) from None
    except UnicodeDecodeError as e:
        # e.start counts from the parser's buffer, not from the file: find the byte again, with its line
        raise sniff.bad_utf8(path) or InputError(path, f"not UTF-8 text ({e.reason})", "save the file as UTF-8 CSV.") from None
    except EOFError:  # the sniff decompressed the first KB; the cut is further on
        raise InputError(path, sniff.TRUNCATED_GZIP, sniff.GZIP_HINT) from None
    except (zlib.error, gzip.BadGzipFile) as e:
        raise InputError(path, f"damaged gzip data ({e})", sniff.GZIP_HINT) from None
    except OSError as e:
        raise sniff.os_error(path, e) from None
    # Line 1 is the header; this holds while no quoted field spans lines, which canonical tables avoid.
    df.index = pd.RangeIndex(2, len(df) + 2)
    return df


def _line_of(message: str) -> int | None:
    import re

    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def coerce(df: pd.DataFrame, types: dict[str, str]) -> tuple[pd.DataFrame, dict[str, dict[int, str]]]:
    """Give each known column its type where every value parses; report the values that do not."""
    out, unparsed = df.copy(), {}
    for column, kind in types.items():
        if column not in out.columns:
            continue
        raw = out[column]
        if kind == "string":
            out[column] = _as_text(raw)
            continue
        text = _as_text(raw)
        if kind == "number":
            parsed = pd.to_numeric(text, errors="coerce") if raw.dtype.kind not in "iuf" else raw.astype(float)
        elif kind == "datetime":
            parsed = _to_datetime(raw, text)
        elif kind == "boolean":
            parsed = _to_bool(raw, text)
        else:
            raise ValueError(kind)
        bad = text.notna() & parsed.isna()
        if bad.any():
            unparsed[column] = {int(i): str(v) for i, v in text[bad].items()}
            out[column] = text  # left as text: the contract's type expectation fails and names it
        else:
            out[column] = parsed
    return out, unparsed


def _as_text(raw: pd.Series) -> pd.Series:
    if raw.dtype.kind in "iufbM":
        return raw.astype("str").where(raw.notna(), None)
    text = raw.astype("str").str.strip()
    return text.mask(text.isin(["", "nan", "None", "<NA>"]), None)


def _to_datetime(raw: pd.Series, text: pd.Series) -> pd.Series:
    if raw.dtype.kind == "M":
        ts = raw
        return ts.dt.tz_convert("UTC").dt.tz_localize(None) if ts.dt.tz is not None else ts
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def _to_bool(raw: pd.Series, text: pd.Series) -> pd.Series:
    if raw.dtype.kind == "b":
        return raw
    lowered = text.str.lower()
    mapped = lowered.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
    if mapped.notna().all():
        return mapped.astype(bool)
    return mapped


def load_tables(data_dir: str | Path, currency: str = "USD", truth: dict | None = None,
                quarter_end: pd.Timestamp | None = None, seat_prices: dict | None = None,
                engine=None, expensive_check_rows: int = 5_000_000, assisted_hours: dict | None = None) -> Tables:
    """Read every canonical table in `data_dir`, typed; a raw folder of source exports is assembled first.

    A canonical spend table is not read here, whatever its size: it is found, sniffed and left to the engine
    (`boardpack.large`), and `Tables.checked` says so.

    Raises InputError for unreadable files.
    """
    data_dir = Path(data_dir)
    sniff.check_folder(data_dir)
    from . import sources

    if sources.is_raw(data_dir):
        from .adapters import Settings

        settings = Settings(seat_prices={**Settings().seat_prices, **(seat_prices or {})}, engine=engine,
                            expensive_check_rows=expensive_check_rows, assisted_hours=assisted_hours)
        assembled = sources.assemble(data_dir, currency, truth, settings=settings, quarter_end=quarter_end)
        frames, unparsed = {}, {}
        for table in TABLES:
            frame = assembled.frames[table].reset_index(drop=True)
            frame.index = pd.RangeIndex(1, len(frame) + 1)
            frames[table], bad = coerce(frame, COLUMNS[table])
            if bad:
                unparsed[table] = bad
        origin = {t: data_dir / (t if (data_dir / t).is_dir() else "") for t in TABLES}
        return Tables(frames, origin, unparsed, files=assembled.files, report=assembled.report,
                      checks=assembled.checks, ledger=assembled.ledger, excluded=assembled.excluded)
    frames, unparsed = {}, {}
    sources = {table: _optional_source(data_dir, table) if table in OPTIONAL_TABLES else find_source(data_dir, table)
               for table in TABLES}
    for path in sources.values():  # every file before any is parsed: a bad one stops the run in milliseconds
        if os.path.lexists(path):
            sniff.check(path, delimiters=",")
    for table, path in sources.items():
        if table == "spend":
            frames[table], _ = coerce(pd.DataFrame(columns=list(COLUMNS[table])), COLUMNS[table])
            continue
        if not os.path.lexists(path):  # an optional table left out: no rows, every column, typed
            frames[table] = empty_table(COLUMNS[table])
            continue
        df, bad = coerce(read_raw(path), COLUMNS[table])
        frames[table] = df
        if bad:
            unparsed[table] = bad
    return Tables(frames, sources, unparsed, checked={"spend"})


