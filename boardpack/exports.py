"""Finance exports: the pack's tables as CSV files and one XLSX workbook, for finance's own tools.

`write(pack)` reads what the pack already holds (`tables/*.parquet`, `metrics.json`, `ledger.json`) and writes
`exports/`: one CSV per table (but `NOT_EXPORTED`), `headline.csv` (name, value, unit), `ledger.csv`, `columns.csv` (the unit and
meaning of every column) and `board-pack.xlsx` with the same content, a sheet per CSV file. Any table in
`tables/` (or passed in) becomes a CSV file and a sheet, so a later table needs no code here; its columns get a
unit from `UNITS`, or one read from their type ("not stated" for a number nobody described).

The promises (README, "Finance exports"): UTF-8 without a byte-order mark; ISO 8601 dates, date-only for a
column whose values are all days; plain numbers (`.` decimal, no thousands separator, never an exponent);
numbers stay numbers and dates real dates in the workbook; and no text cell can run as a formula, in either
format (`neutralise`). Same pack, same bytes: the workbook's created and modified times are the pack's
`generated` date, and XlsxWriter gives every zip entry one fixed time, so nothing comes from the clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Mapping

import pandas as pd
import xlsxwriter

from . import ledger, metrics_json
from .schema import TABLES

EXPORTS = "exports"
WORKBOOK = "board-pack.xlsx"
# What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_576  # a sheet's limit, header included: a longer table continues on "name (2)", ...
DAY_FORMAT, TIME_FORMAT = "yyyy-mm-dd", 'yyyy-mm-dd"T"hh:mm:ss'

# Tables of tables/ that finance gets through another: the seat reports' users (a row per seat per report, 100,000
# rows for the sample, 10 s of a build as a sheet) through the reclaim list, their finance view; their per-app
# activity (seat_apps) through the pack's breadth of use; GitHub Copilot's metrics by feature (a row per day, feature
# and user) through downgrade.csv.
NOT_EXPORTED = {"seat_users", "seat_apps", "seat_feature_usage"}
# {cur}: the pack's reporting currency; {billing}: the same when every spend row is billed in it, else the row's
# BillingCurrency. Column meanings follow docs/inputs.md (FOCUS 1.2 and the x_ extensions) and docs/metrics.md.
UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "spend": {
        "BillingPeriodStart": ("date", "start of the billing period (FOCUS), inclusive, UTC"),
        "BillingPeriodEnd": ("date", "end of the billing period (FOCUS), exclusive, UTC"),
        "ChargePeriodStart": ("date", "start of the period the charge covers (FOCUS), inclusive, UTC"),
        "ChargePeriodEnd": ("date", "end of the period the charge covers (FOCUS), exclusive, UTC"),
        "BillingAccountId": ("text", "the account billed (FOCUS)"),
        "SubAccountId": ("text", "the sub-account, project or subscription charged (FOCUS)"),
        "ProviderName": ("text", "who provides the service (FOCUS)"),
        "PublisherName": ("text", "who publishes the service, e.g. the model maker on a marketplace (FOCUS)"),
        "InvoiceIssuerName": ("text", "who issues the invoice (FOCUS)"),
        "ServiceName": ("text", "the service charged (FOCUS)"),
        "ServiceCategory": ("text", "the service's category (FOCUS)"),
        "ChargeCategory": ("text", "Usage, Purchase, Tax, Credit or Adjustment (FOCUS)"),
        "ChargeFrequency": ("text", "One-Time, Recurring or Usage-Based (FOCUS)"),
        "ChargeDescription": ("text", "the provider's description of the charge (FOCUS)"),
        "PricingCategory": ("text", "Standard, Dynamic, Committed or Other (FOCUS)"),
        "SkuId": ("text", "the provider's SKU (FOCUS)"),
        "ConsumedQuantity": ("ConsumedUnit of the row", "the quantity used (FOCUS)"),
        "ConsumedUnit": ("text", "the unit of ConsumedQuantity (FOCUS)"),
        "PricingQuantity": ("PricingUnit of the row", "the quantity priced (FOCUS)"),
        "PricingUnit": ("text", "the unit of PricingQuantity and ListUnitPrice (FOCUS)"),
        "ListUnitPrice": ("{billing} per PricingUnit", "list price of one PricingUnit (FOCUS)"),
        "ListCost": ("{billing}", "cost at list price (FOCUS)"),
        "ContractedCost": ("{billing}", "cost at the contracted price (FOCUS)"),
        "EffectiveCost": ("{billing}", "amortised cost after discounts: what the pack counts as spend (FOCUS)"),
        "BilledCost": ("{billing}", "cost as invoiced (FOCUS)"),
        "BillingCurrency": ("ISO 4217 code", "currency of the row's costs (FOCUS)"),
        "Tags": ("JSON object", "the provider's tags, FOCUS key-value format"),
        "x_UseCaseId": ("text", "the use case charged (boardpack extension)"),
        "x_BusinessUnit": ("text", "the business unit charged (boardpack extension)"),
        "x_Model": ("text", "the model used (boardpack extension)"),
        "x_TokenType": ("text", "input, output, cached_input or cache_write (boardpack extension)"),
        "x_SpendModality": ("text", "api_tokens, seat_licence, self_hosted or platform (boardpack extension)"),
    },
    "seats": {
        "ProviderName": ("text", "who provides the licence"),
        "Product": ("text", "the licensed product"),
        "Month": ("date", "first day of the month"),
        "BusinessUnit": ("text", "the business unit holding the seats"),
        "LicensedSeats": ("seats", "seats paid for in the month"),
        "ActiveUsers": ("users", "seats used in the month"),
    },
    "reclaim": {
        "Product": ("text", "the licensed product"),
        "ProviderName": ("text", "who provides the licence"),
        "SeatId": ("text", "the seat's holder as the seat report names them (a hash where the report conceals names)"),
        "Anonymised": ("true/false", "true when SeatId is a concealed-name hash"),
        "BusinessUnit": ("text", "the business unit holding the seat"),
        "ReportDate": ("date", "the product's last seat report in the quarter"),
        "AssignedDate": ("date", "when the seat was assigned, where the report says"),
        "LastActivityDate": ("date", "the holder's last activity with the product; empty: none recorded"),
        "IdleSince": ("date", "last activity; or assignment, or first report listing the seat, if never used since"),
        "DaysIdle": ("days", "days from IdleSince to ReportDate"),
        "NeverUsed": ("true/false", "no activity recorded since the seat was assigned"),
        "ReclaimDays": ("days", "the longest reclaim threshold ([seats] reclaim_days) the seat has reached"),
        "CostPerYear": ("{cur}", "twelve months at what a seat of the product cost this quarter"),
    },
    "outcomes": {
        "UseCaseId": ("text", "the use case"),
        "Month": ("date", "first day of the month"),
        "OutcomeType": ("text", "what the use case produced"),
        "Quantity": ("Unit of the row", "how much of it"),
        "Unit": ("text", "the unit of Quantity"),
        "ValueLow": ("{cur}", "value, low estimate"),
        "ValueBase": ("{cur}", "value, base estimate"),
        "ValueHigh": ("{cur}", "value, high estimate"),
        "Evidence": ("text", "measured, estimated or assumed"),
        "Method": ("text", "how the value was worked out"),
        "Owner": ("text", "who answers for the number"),
    },
    "use_cases": {
        "UseCaseId": ("text", "the use case"),
        "Name": ("text", "its name"),
        "BusinessUnit": ("text", "the business unit it serves"),
        "Owner": ("text", "who answers for it"),
        "Stage": ("text", "pilot, production or retired"),
        "RequiredTier": ("text", "the model tier its work needs: light, standard or frontier"),
        "Portable": ("true/false", "behind a gateway with a tested alternative provider"),
        "FallbackProvider": ("text", "that alternative provider"),
    },
    "models": {
        "Model": ("text", "the model id"),
        "Provider": ("text", "who serves it"),
        "Family": ("text", "its model family"),
        "Tier": ("text", "light, standard or frontier"),
        "OpenWeights": ("true/false", "its weights are published"),
        "InputPricePerMTok": ("USD per 1M tokens", "list price of input tokens"),
        "OutputPricePerMTok": ("USD per 1M tokens", "list price of output tokens"),
        "PriceSource": ("text", "the price catalog entry the prices come from"),
    },
    "headline": {
        "name": ("text", "the metric, as in metrics.json (docs/metrics.md); a.b is key b of a"),
        "value": ("see unit", "its value for the quarter; empty when it has no basis (see no_basis.*)"),
        "unit": ("text", "the unit of value"),
    },
    "ledger": {
        "source": ("text", "the source the money was read from"),
        "file": ("text", "the input file"),
        "quarter": ("YYYY-Qn", "the quarter of the charges"),
        "currency": ("ISO 4217 code", "the file's own currency"),
        **{k: ("currency of the row", v) for k, v in {
            "read": "money the file holds", "estimated": "money the pack adds where no file bills it",
            "counted": "money the pack counts", "not_ai": "money dropped as not AI spend",
            "superseded": "money another source or a later fetch replaced",
            "balance": "read + estimated - counted - not_ai - superseded: zero to the cent"}.items()},
        "counted_reporting": ("{cur}", "counted, in the reporting currency"),
        "superseded_by": ("text", "what replaced the superseded money"),
    },
    "columns": {
        "table": ("text", "the CSV file's name without .csv, and the workbook's sheet"),
        "column": ("text", "the column"),
        "unit": ("text", "its unit"),
        "meaning": ("text", "what it holds"),
    },
}

# Units of metrics.json's numbers, by key (docs/metrics.md); a key not here is judged by its ending.
_METRIC_UNITS = {
    "quarter": "YYYY-Qn", "currency": "ISO 4217 code", "status": "FINAL or PROVISIONAL", "top_provider": "text",
    "value_multiple": "multiple (value / spend)", "hhi": "index, 0 to 10,000", "outcome_rows": "rows",
    "tokens": "tokens", "previous_tokens": "tokens",
    "unit_cost_per_mtok": "{cur} per 1M tokens", "previous_unit_cost_per_mtok": "{cur} per 1M tokens",
}

UNITS["downgrade"] = {
    "Product": ("text", "the licensed product: GitHub Copilot Enterprise"),
    "ProviderName": ("text", "who provides the licence"),
    "SeatId": ("text", "the seat's holder as the seat list names them (user:<login>)"),
    "BusinessUnit": ("text", "the business unit holding the seat"),
    "ReportDate": ("date", "the product's last seat report in the quarter"),
    "LastActivityDate": ("date", "the holder's last activity with Copilot; empty: none recorded"),
    "FeaturesUsed": ("text", "the Copilot features the holder used in the quarter, by the users report"),
    "MoveTo": ("text", "the plan that serves what the holder used: GitHub Copilot Business"),
    "SavingPerYear": ("{cur}", "twelve months of what an Enterprise seat costs more than a Business one, this quarter"),
}
_METRIC_GROUPS = ("modality", "bridge", "targets", "rag", "no_basis", "previous")


def neutralise(value):
    """Text a spreadsheet would run as a formula, made inert by a leading `'` (OWASP's advice for CSV injection);
    anything else unchanged. Numbers are never touched: -2 is a number, "-2+3" is text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write(pack_dir: str | Path, generated: str | None = None,
          tables: Mapping[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write `exports/` for the pack in `pack_dir` and return the files written.

    `generated` (YYYY-MM-DD) dates the workbook; None: the `generated` parameter of the pack's manifest.json.
    `tables` adds tables that are not (or not yet) in `tables/`; one of the same name replaces the file's."""
    pack = Path(pack_dir)
    metrics = metrics_json.read(pack)
    book = json.loads((pack / "ledger.json").read_text(encoding="utf-8"))
    frames = {p.stem: pd.read_parquet(p) for p in sorted((pack / "tables").glob("*.parquet"))
              if p.stem not in NOT_EXPORTED} | dict(tables or {})
    for name in frames:
        if name in ("headline", "ledger", "columns") or not re.fullmatch(r"[A-Za-z0-9_]{1,24}", name):
            raise ValueError(f"a table named {name!r} cannot be exported: its name must be letters, digits and _ "
                             f"(24 at most) and not headline, ledger or columns")
    rows = book.get("rows") or []
    # ledger.py's columns in its order, so that a ledger without rows still has its header
    book_frame = pd.DataFrame(rows, columns=list(dict.fromkeys([*ledger.COLUMNS, *(k for r in rows for k in r)])))
    # the headline, the canonical tables in their usual order, any other table (a reclaim list) by name, the ledger
    sheets = ({"headline": _headline(metrics)} | {t: frames[t] for t in TABLES if t in frames}
              | {t: frames[t] for t in sorted(set(frames) - set(TABLES))} | {"ledger": book_frame})
    cells = {name: [_column(frame[c]) for c in frame.columns] for name, frame in sheets.items()}

    spend = frames.get("spend")
    billed_in = set(spend["BillingCurrency"].dropna()) if spend is not None and "BillingCurrency" in spend else set()
    fill = {"{cur}": metrics["currency"],
            "{billing}": metrics["currency"] if billed_in <= {metrics["currency"]} else "BillingCurrency of the row"}
    described = [[name, c, *_unit(name, c, kind)] for name, frame in sheets.items()
                 for c, (kind, _) in zip(map(str, frame.columns), cells[name])]
    described += [["columns", c, *u] for c, u in UNITS["columns"].items()]
    for row in described:
        for key, text in fill.items():
            row[2] = row[2].replace(key, text)
    sheets["columns"] = pd.DataFrame(described, columns=list(UNITS["columns"]), dtype=object)
    cells["columns"] = [_column(sheets["columns"][c]) for c in sheets["columns"].columns]

    out = pack / EXPORTS
    out.mkdir(exist_ok=True)
    written = [_replace(out / f"{name}.csv", _csv_bytes(sheets[name].columns, cells[name])) for name in sheets]
    date = dt.datetime.combine(dt.date.fromisoformat(generated or _generated(pack)), dt.time())
    tmp = out / f".{WORKBOOK}.tmp"
    try:
        _xlsx(tmp, sheets, cells, date)
        written.append(out / WORKBOOK)
        os.replace(tmp, written[-1])
    finally:
        tmp.unlink(missing_ok=True)
    return written


def _generated(pack: Path) -> str:
    try:
        return json.loads((pack / "manifest.json").read_text(encoding="utf-8"))["parameters"]["generated"]
    except (OSError, KeyError, ValueError):
        raise ValueError(f"{pack} has no manifest.json with the pack's date: pass generated=") from None


def _headline(metrics: dict) -> pd.DataFrame:
    """metrics.json's single numbers and texts, then those of its groups (modality.api_tokens, bridge.volume,
    previous.spend, ...), each with its unit. Lists (use cases, providers, forecast) stay in metrics.json."""
    rows = [(k, v, _metric_unit(k)) for k, v in metrics.items() if not isinstance(v, (dict, list))]
    for group in _METRIC_GROUPS:
        for k, v in (metrics.get(group) or {}).items():
            if not isinstance(v, (dict, list)):
                unit = {"rag": "green, amber or red", "no_basis": "reason"}.get(group) or _metric_unit(k)
                rows.append((f"{group}.{k}", v, unit))
    rows = [(k, v, unit.replace("{cur}", metrics["currency"])) for k, v, unit in rows]
    return pd.DataFrame(rows, columns=["name", "value", "unit"], dtype=object)


def _metric_unit(key: str) -> str:
    if key in _METRIC_UNITS:
        return _METRIC_UNITS[key]
    if key.endswith("_share") or key in ("workload_fit", "mape"):
        return "share, 0 to 1"
    if re.search(r"(spend|cost|value|savings|opportunity|^volume|^mix|^price)", key) or key in (
            "api_tokens", "seat_licence", "self_hosted", "platform"):
        return "{cur}"
    return "not stated"


def _unit(table: str, column: str, kind: str) -> tuple[str, str]:
    """(unit, meaning) of a column: as UNITS describes it, else read from its type."""
    unit, meaning = UNITS.get(table, {}).get(column, ({"day": "date", "bool": "true/false", "text": "text"}
                                                      .get(kind, "not stated"), ""))
    if kind == "time":  # a period column that holds times of day (a finer rollup) says so
        unit = "date and time, UTC, YYYY-MM-DDThh:mm:ss"
    elif unit == "date":
        unit = "date, YYYY-MM-DD"
    return unit, meaning


def _column(series: pd.Series) -> tuple[str, list]:
    """(kind, values) of a column, the one form both writers read: None for missing; Python bool, int, float,
    datetime.date (a day), datetime.datetime (a time, UTC) or str (neutralised)."""
    s = series
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        present = s.dropna()
        if (present == present.dt.normalize()).all():  # every value a midnight: the column holds days
            return "day", [None if pd.isna(v) else v.date() for v in s]
        return "time", [None if pd.isna(v) else v.to_pydatetime().replace(tzinfo=None) for v in s]
    if pd.api.types.is_bool_dtype(s.dtype):
        return "bool", [None if pd.isna(v) else bool(v) for v in s]
    if pd.api.types.is_integer_dtype(s.dtype):
        return "int", [None if pd.isna(v) else int(v) for v in s]
    if pd.api.types.is_float_dtype(s.dtype):
        return "float", [None if pd.isna(v) else _finite(float(v), series.name) for v in s]
    if isinstance(s.dtype, pd.StringDtype):  # the tables' text columns: only text or missing, the common case
        return "text", [None if pd.isna(v) else neutralise(v) for v in s]
    values = [_value(v, series.name) for v in s]
    kinds = {type(v) for v in values if v is not None}
    return ("text" if kinds <= {str} else "mixed"), values


def _value(v, column):
    """One cell of a column of mixed content (the headline's value, a later table's object column)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool) or hasattr(v, "dtype") and v.dtype == bool:
        return bool(v)
    if isinstance(v, int) or hasattr(v, "dtype") and v.dtype.kind in "iu":
        return int(v)
    if isinstance(v, float) or hasattr(v, "dtype") and v.dtype.kind == "f":
        return _finite(float(v), column)
    if isinstance(v, pd.Timestamp):
        v = (v.tz_convert("UTC").tz_localize(None) if v.tzinfo else v).to_pydatetime()
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, dt.date):
        return v
    return neutralise(str(v))


def _finite(x: float, column) -> float:
    if not math.isfinite(x):  # a spreadsheet has no infinity; the contracts keep them out of the tables
        raise ValueError(f"column {column!r} holds {x}, which neither CSV nor XLSX can state as a number")
    return x


def _text(v) -> str:
    """One CSV field: ISO 8601 dates, plain numbers, TRUE/FALSE as a spreadsheet writes them, text as is."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        # repr is the shortest text that reads back as the same number; Decimal lays it out without an exponent
        return str(int(v)) if v.is_integer() else format(Decimal(repr(v)), "f")
    if isinstance(v, dt.date):  # a datetime is a date too
        return v.isoformat()
    return v


def _csv_bytes(header, columns: list[tuple[str, list]]) -> bytes:
    buffer = io.StringIO(newline="")
    # RFC 4180: comma, double quotes where needed, CRLF line ends
    w = csv.writer(buffer, lineterminator="\r\n")
    w.writerow([_value(str(h), "header") for h in header])
    w.writerows(zip(*([_text(v) for v in values] for _, values in columns)))
    return buffer.getvalue().encode("utf-8")


def _xlsx(path: Path, sheets: dict[str, pd.DataFrame], cells: dict, date: dt.datetime) -> None:
    """The workbook: a sheet per CSV file, the same cells. XlsxWriter gives every zip entry one fixed time (1980)
    and takes the document's created and modified times from `created`, so the bytes are the pack's alone."""
    # text goes through write_string, which never makes a formula, a number or a link of it; the options say the
    # same for XlsxWriter's generic write(), should it ever be used
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"created": date, "author": "boardpack"})
    formats = {dt.datetime: book.add_format({"num_format": TIME_FORMAT}),
               dt.date: book.add_format({"num_format": DAY_FORMAT})}

    def put(sheet, r, c, v):
        if v is None:
            return
        if isinstance(v, str):
            sheet.write_string(r, c, v)
        elif isinstance(v, bool):
            sheet.write_boolean(r, c, v)
        elif isinstance(v, (int, float)):
            sheet.write_number(r, c, v)
        else:  # a date or a time: a real date, shown as ISO 8601
            sheet.write_datetime(r, c, v, formats[dt.datetime if isinstance(v, dt.datetime) else dt.date])

    for name, frame in sheets.items():
        columns = [values for _, values in cells[name]]
        rows = len(columns[0]) if columns else 0
        per_sheet = EXCEL_MAX_ROWS - 1
        for part, start in enumerate(range(0, max(rows, 1), per_sheet), 1):
            sheet = book.add_worksheet(name if part == 1 else f"{name} ({part})")
            for c, header in enumerate(frame.columns):
                put(sheet, 0, c, _value(str(header), "header"))
            # constant_memory: a row is flushed when the next begins, so rows go in order
            for r in range(start, min(rows, start + per_sheet)):
                for c, values in enumerate(columns):
                    put(sheet, r - start + 1, c, values[r])
    book.close()


def _replace(path: Path, data: bytes) -> Path:
    """Write `path` through a new file renamed over it: an earlier file (perhaps a hard link shared with a
    published version) is replaced, never written into."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
