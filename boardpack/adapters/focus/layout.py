"""A FOCUS file's header: which FOCUS column each of its columns is (case, 1.3 names, Microsoft's meter),
what is missing or extra, and how the files are read, as text or in their own types."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ...engine import _q
from ...exceptions import InputError
from .. import SourceData, table_kind, table_scan
from .spec import (
    ALIASES_13,
    EXTENSION_COLUMNS,
    FIX_ALIAS,
    FIX_COLUMN_CASE,
    FIX_METER,
    FOCUS_COLUMNS,
    MANDATORY,
    METER_ALIAS,
    NUMBER_COLUMNS,
    TIME_COLUMNS,
    USED,
)


@dataclass
class _Layout:
    path: Path
    kind: str                           # "csv" or "parquet"
    columns: dict                       # canonical column -> (raw name, DuckDB type)
    extras: list                        # extra non-x_ columns
    renamed: Counter                    # fix rule -> count


def _layout(con, path: Path) -> _Layout:
    kind = table_kind(path)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {table_scan([path], kind)}").fetchall()
    except duckdb.Error as exc:
        raise InputError(path, f"cannot be read as FOCUS {kind.upper()}: {str(exc).splitlines()[0]}",
                         "export the file again as CSV (comma-separated, header row), CSV.gz or Parquet.") from None
    canonical = {c.lower(): c for c in FOCUS_COLUMNS + EXTENSION_COLUMNS}
    columns, extras, renamed = {}, [], Counter()
    raw = [(name, typ) for name, typ, *_ in described if name != "filename"]
    for name, typ in raw:
        clean = name.strip().lstrip("\ufeff")
        key = clean.lower()
        if key in canonical:
            target = canonical[key]
            if target in columns and columns[target][0] == target:
                continue  # the exact spelling wins over a case variant
            columns[target] = (name, typ)
            if clean != target:
                renamed[FIX_COLUMN_CASE] += 1
        elif key in ALIASES_13 or key.startswith("x_"):
            continue
        else:
            extras.append(clean)
    for name, typ in raw:
        target = ALIASES_13.get(name.strip().lower())
        if target and target not in columns:
            columns[target] = (name, typ)
            renamed[FIX_ALIAS] += 1
        if name.strip().lower() == METER_ALIAS and "SkuMeter" not in columns:
            columns["SkuMeter"] = (name, typ)
            renamed[FIX_METER] += 1
    return _Layout(path, kind, columns, extras, renamed)


def _check_mandatory(layout: _Layout) -> None:
    missing = [c for c in MANDATORY if c not in layout.columns]
    if "EffectiveCost" not in layout.columns and "BilledCost" not in layout.columns:
        missing.append("EffectiveCost")
    if missing:
        raise InputError(
            layout.path, f"mandatory FOCUS column(s) missing: {', '.join(missing)} (rule: FOCUS mandatory columns)",
            "export with the provider's FOCUS export (FOCUS 1.0 or later), which always has these columns; "
            "a renamed header must use the FOCUS names.", column=missing[0])


def _raw_select(layout_group: list[_Layout], numbered: bool = False) -> str:
    """One SELECT over files of one header layout: raw text (`__v`) or typed values (`__t`/`__d`) per column."""
    first = layout_group[0]
    parts = []
    for column in USED:
        raw = first.columns.get(column)
        name, typ = (raw[0], raw[1].upper()) if raw else (None, None)
        ref = _q(name) if name else None
        if column in TIME_COLUMNS:
            if ref is None:
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"NULL::TIMESTAMP AS {_q(column + '__t')}"]
            elif typ.startswith("TIMESTAMP WITH TIME ZONE") or typ == "TIMESTAMPTZ":
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}",
                          f"timezone('UTC', {ref}) AS {_q(column + '__t')}"]
            elif typ.startswith("TIMESTAMP") or typ == "DATE":
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"{ref}::TIMESTAMP AS {_q(column + '__t')}"]
            else:
                parts += [f"{ref}::VARCHAR AS {_q(column + '__v')}", f"NULL::TIMESTAMP AS {_q(column + '__t')}"]
        elif column in NUMBER_COLUMNS:
            if ref is None:
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"NULL::DOUBLE AS {_q(column + '__d')}"]
            elif typ.split("(")[0] in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT",
                                       "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"{ref}::DOUBLE AS {_q(column + '__d')}"]
            else:
                parts += [f"{ref}::VARCHAR AS {_q(column + '__v')}", f"NULL::DOUBLE AS {_q(column + '__d')}"]
        else:
            if ref is None:
                parts.append(f"NULL::VARCHAR AS {_q(column + '__v')}")
            elif typ.startswith(("MAP", "STRUCT", "JSON")) or typ.endswith("[]"):
                parts.append(f"to_json({ref})::VARCHAR AS {_q(column + '__v')}")
            else:
                parts.append(f"{ref}::VARCHAR AS {_q(column + '__v')}")
    parts.append("filename AS __file")
    if numbered:
        parts.append("row_number() OVER () AS __row")
    return f"SELECT {', '.join(parts)} FROM {table_scan([lay.path for lay in layout_group], first.kind)}"


def _note_columns(out: SourceData, layouts: list[_Layout], folder: Path) -> None:
    extras = Counter(c for lay in layouts for c in dict.fromkeys(lay.extras))
    for column, n in sorted(extras.items()):
        out.notes.append(f"extra column ignored: {column} ({n} file{'s' if n > 1 else ''})")
    absent = Counter(c for lay in layouts for c in USED if c not in lay.columns and c not in EXTENSION_COLUMNS)
    for column, n in sorted(absent.items()):
        out.notes.append(f"column {column} absent from {n} file{'s' if n > 1 else ''}: read as null")


def register(engine, groups: list[list[_Layout]]) -> None:
    """The FOCUS files as view `focus_raw` of `engine`: every used column as read (no trim: the rules count
    blanks and `NULL` strings as fixes), times and numbers also in the file's own type where it has one."""
    kinds = {**{c: "datetime" for c in TIME_COLUMNS}, **{c: "number" for c in NUMBER_COLUMNS}}
    for i, group in enumerate(groups):
        columns = {c: group[0].columns[c][0] if c in group[0].columns else None for c in USED}
        engine.register_files(f"focus_files_{i}", [lay.path for lay in group], group[0].kind, columns, kinds,
                              raw_text=True)
    engine.union_view("focus_raw", [f"focus_files_{i}" for i in range(len(groups))])
