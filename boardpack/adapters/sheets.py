"""Outcomes and use cases as analysts keep them (CSV or XLSX) -> the canonical `outcomes` / `use_cases` tables.

Files: `*.csv`, `*.xlsx` or `*.xlsm` under `outcomes/` or `use_cases/`, concatenated. Headers are matched
case-, space- and punctuation-insensitively through `OUTCOME_ALIASES` / `USE_CASE_ALIASES` ("Use case id",
"use_case_id", "Value (base)"...), and may sit below a few title rows. Every sheet of a workbook whose
headers match is read. `Month` may be a date or "2026-07"; Portable is yes/no/true/false/1/0; evidence
grades, stages and tiers are case-folded. What cannot be read raises InputError naming file, row and column.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ..exceptions import InputError
from ..schema import EVIDENCE, OUTCOMES_COLUMNS, STAGES, TIERS, USE_CASES_COLUMNS
from . import Settings, SourceData, files_in

PATTERNS = ("*.csv", "*.xlsx", "*.xlsm")
HEADER_SEARCH_ROWS = 10  # title rows analysts put above the header

OUTCOME_ALIASES = {  # spelled as analysts write them; matching ignores case, spaces and punctuation
    "UseCaseId": ("Use case ID", "Use case", "UC ID", "UC"),
    "Month": ("Month", "Period", "Date"),
    "OutcomeType": ("Outcome type", "Outcome", "Type", "Metric", "KPI"),
    "Quantity": ("Quantity", "Qty", "Volume"),
    "Unit": ("Unit", "Units", "UoM"),
    "ValueLow": ("Value (low)", "Value low", "Low", "Low value", "Low case"),
    "ValueBase": ("Value (base)", "Value base", "Base", "Base value", "Base case", "Value"),
    "ValueHigh": ("Value (high)", "Value high", "High", "High value", "High case"),
    "Evidence": ("Evidence grade", "Evidence", "Grade", "Evidence level"),
    "Method": ("Method", "Methodology", "How measured", "Measurement method"),
    "Owner": ("Owner", "Outcome owner", "Accountable"),
}
USE_CASE_ALIASES = {
    "UseCaseId": ("Use case ID", "ID", "UC ID", "UC"),
    "Name": ("Name", "Use case", "Use case name", "Title"),
    "BusinessUnit": ("Business unit", "BU", "Department", "Division"),
    "Owner": ("Owner", "Use case owner", "Accountable"),
    "Stage": ("Stage", "Status", "Lifecycle stage"),
    "RequiredTier": ("Required tier", "Tier", "Model tier"),
    "Portable": ("Portable", "Is portable", "Portability"),
    "FallbackProvider": ("Fallback provider", "Fallback", "Alternative provider"),
}
REQUIRED = {"outcomes": ("UseCaseId", "Month", "OutcomeType", "ValueBase", "Evidence"),
            "use_cases": ("UseCaseId", "Name")}
ALLOWED = {"Evidence": EVIDENCE, "Stage": STAGES, "RequiredTier": TIERS}
TRUE, FALSE = {"yes", "y", "true", "t", "1"}, {"no", "n", "false", "f", "0"}
MONTH_TEXT = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[ T].*)?$")
MONTH_NAMES = ("%b %Y", "%B %Y", "%b-%Y", "%B-%Y", "%b %y", "%b-%y")


def read(folder: Path, settings: Settings) -> SourceData:
    """Dispatch on the folder's name: `outcomes/` or `use_cases/`."""
    if folder.name == "use_cases":
        return read_use_cases(folder, settings)
    if folder.name == "outcomes":
        return read_outcomes(folder, settings)
    raise InputError(folder, "not an outcomes/ or use_cases/ folder", "name the folder outcomes or use_cases.")


def read_outcomes(folder: Path, settings: Settings) -> SourceData:
    """Every outcomes sheet under `folder` as the canonical outcomes table."""
    data = SourceData("outcomes")
    data.outcomes = _read_table(folder, "outcomes", OUTCOME_ALIASES, OUTCOMES_COLUMNS, data).drop(columns="_where")
    return data


def read_use_cases(folder: Path, settings: Settings) -> SourceData:
    """Every use-case register under `folder` as the canonical use_cases table (ids unique across files)."""
    data = SourceData("use_cases")
    table = _read_table(folder, "use_cases", USE_CASE_ALIASES, USE_CASES_COLUMNS, data)
    duplicated = table["UseCaseId"].duplicated(keep=False)
    if duplicated.any():
        where = table.loc[duplicated, ["UseCaseId", "_where"]].astype(str).agg(" at ".join, axis=1)
        raise InputError(folder, f"use case ids listed more than once: {'; '.join(where)}",
                         "keep one row per use case across all files of use_cases/.", column="UseCaseId")
    data.use_cases = table.drop(columns="_where")
    return data


# --- reading sheets --------------------------------------------------------------------------------------

def _norm(header) -> str:
    """Header as compared: lower case, letters and digits only ("Use case ID" -> usecaseid)."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


def _sheets(path: Path, fixes) -> list[tuple[str, pd.DataFrame]]:
    """(label for messages, cells without a header) for a CSV file or every sheet of a workbook."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
        except Exception as e:  # openpyxl raises several types for a damaged workbook
            raise InputError(path, f"not a readable Excel workbook ({e})", "save the file again as .xlsx.") from None
        return [(f"{path} [sheet {name}]", frame) for name, frame in book.items()]
    try:
        first = path.read_text(encoding="utf-8-sig").split("\n", 1)[0]
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text", "save the sheet as 'CSV UTF-8'.") from None
    sep = ";" if first.count(";") > first.count(",") else ","
    if sep == ";":
        fixes["sheets.semicolon_delimiter"] += 1  # Excel in many European locales
    try:
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, sep=sep, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file is empty", "export the sheet again with its header row.") from None
    except pd.errors.ParserError as e:
        raise InputError(path, f"malformed CSV ({str(e).strip()})",
                         "quote any value that contains the delimiter.") from None
    return [(str(path), frame)]


def _header(cells: pd.DataFrame, aliases: dict) -> tuple[int, dict[str, int]] | None:
    """(row index of the header, canonical column -> cell column) from the first rows, or None.

    When several headers could name one column ("Use case" and "Use case id"), the earlier alias wins.
    """
    rank = {}
    for column, names in aliases.items():
        for position, alias in enumerate((column, *names)):
            rank.setdefault(_norm(alias), (column, position))
    for row in range(min(HEADER_SEARCH_ROWS, len(cells))):
        best: dict[str, tuple[int, int]] = {}
        for position, value in enumerate(cells.iloc[row]):
            hit = rank.get(_norm(value)) if _cell_text(value) else None
            if hit and (hit[0] not in best or hit[1] < best[hit[0]][0]):
                best[hit[0]] = (hit[1], position)
        if len(best) >= 2:
            return row, {column: position for column, (_, position) in best.items()}
    return None


def _read_table(folder: Path, table: str, aliases: dict, columns: dict, data: SourceData) -> pd.DataFrame:
    """Every matching sheet under `folder`, parsed to `columns`, concatenated; `_where` keeps file and row."""
    frames = []
    for path in files_in(folder, *PATTERNS):
        if path.name.startswith("~$"):  # Excel's lock file of an open workbook
            continue
        data.files.append(path)
        matched = 0
        for label, cells in _sheets(path, data.fixes):
            found = _header(cells, aliases)
            if found is None:
                continue
            row, positions = found
            missing = [c for c in REQUIRED[table] if c not in positions]
            if missing:
                raise InputError(label, f"no column for {', '.join(missing)}", _hint(missing, aliases), line=row + 1)
            if row:
                data.fixes["sheets.title_rows_skipped"] += row
            frames.append(_parse(cells, row, positions, label, columns, data.fixes))
            matched += 1
        if not matched:
            raise InputError(path, f"no sheet with the {table} headers",
                             _hint(list(REQUIRED[table]), aliases) + " The header may sit below up to "
                             f"{HEADER_SEARCH_ROWS - 1} title rows.")
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(t)) for c, t in columns.items()} | {"_where": []})
    return pd.concat(frames, ignore_index=True)


def _hint(missing: list[str], aliases: dict) -> str:
    named = (f"{c} (or {', '.join(repr(a) for a in aliases[c][:3])})" for c in missing)
    return "name the columns " + "; ".join(named) + "."


def _dtype(kind: str) -> str:
    return {"datetime": "datetime64[us]", "number": "float64", "boolean": "bool"}.get(kind, "object")


# --- values ----------------------------------------------------------------------------------------------

def _cell_text(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    text = str(value).strip()
    return text or None


def _parse(cells: pd.DataFrame, header: int, positions: dict, label: str, columns: dict, fixes) -> pd.DataFrame:
    """The rows under the header, each value parsed to its canonical type; blank rows dropped."""
    body = cells.iloc[header + 1:]
    records = []
    for index, values in body.iterrows():
        line = int(index) + 1  # CSV line / Excel row number (both count the header rows too)
        raw = {c: values.iloc[p] for c, p in positions.items()}
        if all(_cell_text(v) is None for v in raw.values()):
            fixes["sheets.blank_row_dropped"] += 1
            continue
        record = {c: _value(raw.get(c), kind, c, label, line, fixes) for c, kind in columns.items()}
        record["_where"] = f"{label}, line {line}"
        records.append(record)
    frame = pd.DataFrame(records, columns=[*columns, "_where"])
    for column, kind in columns.items():
        if kind == "datetime":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
        elif kind == "number":
            frame[column] = frame[column].astype(float)
    return frame


def _value(value, kind: str, column: str, label: str, line: int, fixes):
    """One cell as its canonical type; a value that cannot be read safely raises InputError."""
    if kind == "datetime":
        return _month(value, column, label, line, fixes)
    if kind == "number":
        return _number(value, column, label, line, fixes)
    if kind == "boolean":
        return _boolean(value, column, label, line, fixes)
    text = _cell_text(value)
    if text is not None and text != str(value):
        fixes["sheets.whitespace_trimmed"] += 1
    if text is None and column in ("UseCaseId", "Name", "OutcomeType"):
        raise InputError(label, f"{column} is empty", f"fill in {column} or delete the row.", line=line, column=column)
    if column in ALLOWED and text is not None:
        return _graded(text, column, label, line, fixes)
    if isinstance(value, float) and text is not None and value.is_integer():
        text = str(int(value))  # an id typed as a number in Excel: 12.0 -> "12"
    return text


def _graded(text: str, column: str, label: str, line: int, fixes) -> str:
    folded = text.casefold()
    if folded != text:
        fixes[f"sheets.{column.lower()}_case_folded"] += 1
    if folded not in ALLOWED[column]:
        raise InputError(label, f"{column} {text!r} is not one of {', '.join(ALLOWED[column])}",
                         f"use one of {', '.join(ALLOWED[column])}.", line=line, column=column)
    return folded


def _month(value, column: str, label: str, line: int, fixes) -> pd.Timestamp:
    """A date, "2026-07", "2026-07-15", "Jul 2026" or an Excel serial -> the first day of its month."""
    text = _cell_text(value)
    if text is None:
        raise InputError(label, "Month is empty", "write the month as 2026-07 or a date.", line=line, column=column)
    if isinstance(value, (datetime, date, pd.Timestamp)):
        stamp = pd.Timestamp(value)
    elif isinstance(value, (int, float)) or re.fullmatch(r"\d{5}(\.\d+)?", text):
        fixes["sheets.excel_serial_date"] += 1  # a date cell exported as its number of days since 1899-12-30
        stamp = pd.Timestamp("1899-12-30") + pd.Timedelta(days=float(text))
    else:
        stamp = _month_text(text)
        if stamp is None:
            raise InputError(label, f"Month {text!r} is not a month", "write the month as 2026-07 or 2026-07-01.",
                             line=line, column=column)
    if stamp.day != 1 or stamp != stamp.normalize():
        fixes["sheets.date_to_month_start"] += 1
    return stamp.to_period("M").to_timestamp()


def _month_text(text: str) -> pd.Timestamp | None:
    match = MONTH_TEXT.match(text)
    if match:
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
        try:
            return pd.Timestamp(year=year, month=month, day=day)
        except ValueError:
            return None
    for fmt in MONTH_NAMES:
        try:
            return pd.Timestamp(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def _number(value, column: str, label: str, line: int, fixes) -> float | None:
    """Numbers, also typed with thousands separators or a currency sign ("$1,234.50"); empty -> null."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if pd.isna(value) else float(value)
    text = _cell_text(value)
    if text is None:
        return None
    cleaned = re.sub(r"[\s,$€£¥]|USD|EUR|GBP", "", text)
    try:
        number = float(cleaned)
    except ValueError:
        raise InputError(label, f"{column} {text!r} is not a number", "write a plain number such as 1234.5.",
                         line=line, column=column) from None
    if cleaned != text:
        fixes["sheets.number_formatting_removed"] += 1
    return number


def _boolean(value, column: str, label: str, line: int, fixes) -> bool:
    if isinstance(value, bool):
        return value
    text = _cell_text(value)
    if text is None:
        fixes["sheets.blank_portable_as_false"] += 1  # analysts leave "no" blank; shown on the data-quality page
        return False
    folded = text.casefold().removesuffix(".0")
    if folded in TRUE or folded in FALSE:
        return folded in TRUE
    raise InputError(label, f"{column} {text!r} is not yes or no", "write yes/no, true/false or 1/0.",
                     line=line, column=column)
