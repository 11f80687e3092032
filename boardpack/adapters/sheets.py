"""Outcomes and use cases as analysts keep them (CSV or XLSX) -> the canonical `outcomes` / `use_cases` tables.

Files: `*.csv`, `*.tsv`, `*.xlsx` or `*.xlsm` under `outcomes/` or `use_cases/`, concatenated. Headers are
matched case-, space- and punctuation-insensitively through `OUTCOME_ALIASES` / `USE_CASE_ALIASES` ("Use case
id", "use_case_id", "Value (base)"...), and may sit below a few title rows. Every sheet of a workbook whose
headers match is read. `Month` may be a date or "2026-07"; Portable is yes/no/true/false/1/0; evidence
grades, stages and tiers are case-folded. What cannot be read raises InputError naming file, row and column.

Text files are delimited by `;`, `,` or tab: the delimiter is the one under which the header is found.
Numbers typed as text follow the file's decimal convention: a decimal point (`1,234.50`) or a decimal comma
(`1.234,50`, `1234,50`, `1 234,50`), as Excel writes them in the locale it runs in. The convention is shown
by the first value that can be read only one way; without one, a semicolon means a decimal comma (Excel
writes `;` where the comma is the decimal separator) and a comma a decimal point. A value the convention
does not read, or one that reads both ways ("1.234": 1234 or 1.234?) in a file without a convention, is
refused: 10x to 1000x wrong values must not reach the value multiple silently.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ..exceptions import InputError
from ..schema import EVIDENCE, OUTCOMES_COLUMNS, STAGES, TIERS, USE_CASES_COLUMNS
from . import Settings, SourceData, files_in

PATTERNS = ("*.csv", "*.tsv", "*.xlsx", "*.xlsm")
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
DELIMITERS = {";": "sheets.semicolon_delimiter", ",": None, "\t": "sheets.tab_delimiter"}  # delimiter -> fix counted
# The convention a delimiter implies when no value shows one (see the module docstring); tab: none
DELIMITER_DECIMALS = {";": "comma", ",": "point"}
DECIMAL_MARK = {"point": ".", "comma": ","}
GROUP_MARK = {"point": ",", "comma": "."}
SPACES = " \u00a0\u202f'’"  # thousands separators in either convention: space, no-break spaces, apostrophes
CURRENCY = re.compile(r"[$€£¥]|USD|EUR|GBP")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


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


def _sheets(path: Path, aliases: dict, fixes) -> list[tuple[str, pd.DataFrame, str | None]]:
    """(label for messages, cells without a header, decimal convention the file format implies) for a text
    file or every sheet of a workbook."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
        except Exception as e:  # openpyxl raises several types for a damaged workbook
            raise InputError(path, f"not a readable Excel workbook ({e})", "save the file again as .xlsx.") from None
        return [(f"{path} [sheet {name}]", frame, None) for name, frame in book.items()]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text", "save the sheet as 'CSV UTF-8'.") from None
    if not text.strip():
        raise InputError(path, "the file is empty", "export the sheet again with its header row.")
    delimiter = _delimiter(text, aliases)
    if DELIMITERS[delimiter]:
        fixes[DELIMITERS[delimiter]] += 1  # Excel in many European locales, or "Text (tab delimited)"
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as e:
        raise InputError(path, f"malformed CSV ({e})", "export the sheet again as CSV UTF-8.") from None
    return [(str(path), _cells(rows), DELIMITER_DECIMALS.get(delimiter))]


def _delimiter(text: str, aliases: dict) -> str:
    """The delimiter under which the most header columns are found in the first lines; when none finds a
    header, the one the first line holds most of (the file is then refused for its headers)."""
    head = text.splitlines()[:HEADER_SEARCH_ROWS]

    def found(delimiter: str) -> int:
        header = _header(_cells(list(csv.reader(head, delimiter=delimiter))), aliases)
        return len(header[1]) if header else 0
    return max(DELIMITERS, key=lambda d: (found(d), head[0].count(d) if head else 0))


def _cells(rows: list[list[str]]) -> pd.DataFrame:
    """Rows of a text file as cells, short rows padded with empty cells (Excel drops trailing empty ones)."""
    width = max((len(r) for r in rows), default=0)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)


def _overflow(cells: pd.DataFrame, header: int, label: str) -> None:
    """A text row with values right of the header's last column: a value held the delimiter unquoted, and
    every cell after it moved one column on."""
    width = max(i for i, v in enumerate(cells.iloc[header]) if _cell_text(v)) + 1
    for index, values in cells.iloc[header + 1:, width:].iterrows():
        extra = [v for v in values if _cell_text(v)]
        if extra:
            raise InputError(label, f"{len(extra)} value(s) right of the last header column ({extra[0]!r}): a value "
                             "holds the delimiter", "quote any value that contains the delimiter, or export the "
                             "sheet again from Excel.", line=int(index) + 1)


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
        for label, cells, implied in _sheets(path, aliases, data.fixes):
            found = _header(cells, aliases)
            if found is None:
                continue
            row, positions = found
            missing = [c for c in REQUIRED[table] if c not in positions]
            if missing:
                raise InputError(label, f"no column for {', '.join(missing)}", _hint(missing, aliases), line=row + 1)
            if row:
                data.fixes["sheets.title_rows_skipped"] += row
            if path.suffix.lower() in (".csv", ".tsv"):
                _overflow(cells, row, label)
            decimals = _decimals(cells, row, positions, columns, implied)
            if decimals.name == "comma":
                data.notes.append(f"{table}: {Path(label).name}: numbers read with a decimal comma "
                                  f"({decimals.shown_by}).")
            frames.append(_parse(cells, row, positions, label, columns, data.fixes, decimals))
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


def _parse(cells: pd.DataFrame, header: int, positions: dict, label: str, columns: dict, fixes,
           decimals: Decimals) -> pd.DataFrame:
    """The rows under the header, each value parsed to its canonical type; blank rows dropped."""
    body = cells.iloc[header + 1:]
    records = []
    for index, values in body.iterrows():
        line = int(index) + 1  # CSV line / Excel row number (both count the header rows too)
        raw = {c: values.iloc[p] for c, p in positions.items()}
        if all(_cell_text(v) is None for v in raw.values()):
            fixes["sheets.blank_row_dropped"] += 1
            continue
        record = {c: _value(raw.get(c), kind, c, label, line, fixes, decimals) for c, kind in columns.items()}
        record["_where"] = f"{label}, line {line}"
        records.append(record)
    frame = pd.DataFrame(records, columns=[*columns, "_where"])
    for column, kind in columns.items():
        if kind == "datetime":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
        elif kind == "number":
            frame[column] = frame[column].astype(float)
    return frame


def _value(value, kind: str, column: str, label: str, line: int, fixes, decimals: Decimals):
    """One cell as its canonical type; a value that cannot be read safely raises InputError."""
    if kind == "datetime":
        return _month(value, column, label, line, fixes)
    if kind == "number":
        return _number(value, column, label, line, fixes, decimals)
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


# --- numbers and their decimal convention ----------------------------------------------------------------

@dataclass(frozen=True)
class Decimals:
    """The decimal convention of a sheet: "point", "comma" or None (not known), and what showed it."""

    name: str | None
    shown_by: str = ""


def read_number(text: str, decimals: str) -> float | None:
    """`text` read under a decimal convention ("point" or "comma"), currency signs and thousands separators
    removed; None when it is not a number written that way."""
    body = CURRENCY.sub("", text).strip()
    mark, group = re.escape(DECIMAL_MARK[decimals]), re.escape(GROUP_MARK[decimals] + SPACES)
    # a grouped integer starts with 1-3 digits (not 0) and continues in groups of exactly three
    match = re.fullmatch(rf"([+-]?)([1-9]\d{{0,2}}(?:[{group}]\d{{3}})+|\d+)?(?:{mark}(\d+))?", body)
    if not match or not (match.group(2) or match.group(3)):
        return None
    sign, integer, fraction = match.group(1), re.sub(r"\D", "", match.group(2) or "0"), match.group(3) or "0"
    return float(f"{sign}{integer}.{fraction}")


def _readings(text: str) -> dict[str, float | None]:
    return {name: read_number(text, name) for name in DECIMAL_MARK}


def _shown(readings: dict[str, float | None]) -> str | None:
    """The convention a value can only be read under ("1234,50": comma), else None."""
    valid = [name for name, value in readings.items() if value is not None]
    return valid[0] if len(valid) == 1 else None


def _decimals(cells: pd.DataFrame, header: int, positions: dict, columns: dict, implied: str | None) -> Decimals:
    """The sheet's convention: that of the first number cell written as text that reads only one way, else
    the one its file format implies (a semicolon-delimited file: comma)."""
    numbers = [c for c, kind in columns.items() if kind == "number" and c in positions]
    for index, values in cells.iloc[header + 1:].iterrows():
        for column in numbers:
            value = values.iloc[positions[column]]
            text = _cell_text(value) if isinstance(value, str) else None
            shown = _shown(_readings(text)) if text else None
            if shown:
                return Decimals(shown, f"as {text!r} at line {int(index) + 1}, column {column} shows")
    if implied:
        return Decimals(implied, "the file is semicolon-delimited, as Excel writes it where the comma is the decimal "
                                 "separator" if implied == "comma" else "the file is comma-delimited")
    return Decimals(None)


def _number(value, column: str, label: str, line: int, fixes, decimals: Decimals) -> float | None:
    """Numbers, also typed with thousands separators or a currency sign ("$1,234.50", "1.234,50 €") under the
    sheet's decimal convention; empty -> null."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if pd.isna(value) else float(value)
    text = _cell_text(value)
    if text is None:
        return None
    readings = _readings(text)
    if all(v is None for v in readings.values()):
        raise InputError(label, f"{column} {text!r} is not a number",
                         f"write a plain number such as {_written(1234.5, decimals.name or 'point')}.",
                         line=line, column=column)
    if decimals.name is None:
        if len(set(readings.values())) > 1 and None not in readings.values():
            point, comma = readings["point"], readings["comma"]
            raise InputError(label, f"{column} {text!r} is ambiguous: {_written(point, 'point')} with a decimal point, "
                             f"{_written(comma, 'point')} with a decimal comma, and no other value of the sheet shows "
                             "which the sheet uses",
                             "write it without a thousands separator (1234) or with its decimals (1,234.00 or "
                             "1.234,00).", line=line, column=column)
        number = next(v for v in readings.values() if v is not None)
    else:
        number = readings[decimals.name]
        if number is None:
            other = next(v for v in readings.values() if v is not None)
            raise InputError(label, f"{column} {text!r} is not written with a decimal {decimals.name} as the rest "
                             f"of the sheet is ({decimals.shown_by})",
                             f"write {_written(other, decimals.name)} if {_written(other, 'point')} is meant, or check "
                             "the value.", line=line, column=column)
    if not PLAIN_NUMBER.fullmatch(text):
        fixes["sheets.number_formatting_removed"] += 1
    return number


def _written(number: float, decimals: str) -> str:
    """A number as written under a convention, without thousands separators (1234.5 or 1234,5)."""
    return f"{number:.15g}".replace(".", DECIMAL_MARK[decimals])


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
