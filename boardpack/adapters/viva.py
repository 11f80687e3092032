"""Viva Insights person query (Copilot analytics) CSV -> outcome rows of Copilot assisted hours, valued.

Files: `*.csv` under `viva_insights/`, each a person query exported from the Viva Insights analyst experience with
the Copilot metrics: one row per person and period (a week, usually), `PersonId` (anonymised), `MetricDate` (the
period's first day) and the metric `Copilot assisted hours` (Microsoft's estimate of the hours Copilot assisted
the person with), among other metrics and HR attributes that are not read. Column names vary between tenants and
tools (`Copilot assisted hours`, `Copilot_assisted_hours`, `Copilot_Assisted_Hours`): they are matched case- and
punctuation-insensitively. Dates are YYYY-MM-DD or the analyst portal's M/D/YYYY.

Each month (of MetricDate) gives one outcome row of the use case of Microsoft 365 Copilot: the hours, valued at
the configured loaded hourly rate (`[viva_insights] loaded_hourly_rate`, with an optional low and high rate for the
range). Evidence is always `estimated`: the hours are Microsoft's model of time assisted, not time measured, and
the rate is an assumption of the configuration (README, "Copilot assisted hours"). The use case is
`[viva_insights] use_case`, else the one the attribution map gives Microsoft 365 Copilot's seats
(`m365_copilot.product:Microsoft 365 Copilot`).
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pandas as pd

from ..exceptions import InputError
from ..schema import OUTCOMES_COLUMNS
from . import ISO_DATE, Settings, SourceData, _typed, files_in

SOURCE = "viva_insights"
OUTCOME_TYPE = "copilot_assisted_hours"
SEAT_KEY = "m365_copilot.product:Microsoft 365 Copilot"  # the key of Microsoft 365 Copilot's seat spend rows (m365)
COLUMNS = {"person": "PersonId", "date": "MetricDate", "hours": "Copilot assisted hours"}
US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def read(folder: Path, settings: Settings) -> SourceData:
    """Every person query under `folder` as monthly outcome rows of assisted hours x the loaded hourly rate."""
    data = SourceData(SOURCE)
    frames = []
    for path in files_in(folder, "*.csv", delimiters=","):
        data.files.append(path)
        frames.append(_read_file(path, data))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["person", "date", "hours"])
    duplicated = rows.duplicated(["person", "date"])
    if duplicated.any():  # the same person and period in two exports (overlapping windows): counted once
        data.fixes["viva.duplicate_person_period_dropped"] += int(duplicated.sum())
    rows = rows[~duplicated]
    if rows.empty:
        data.outcomes = _typed([], OUTCOMES_COLUMNS)
        return data
    rates = settings.assisted_hours or {}
    if not rates.get("loaded_hourly_rate"):
        raise InputError(folder, "Copilot assisted hours need a loaded hourly rate to be valued",
                         "set [viva_insights] loaded_hourly_rate in the configuration (the fully loaded cost of an "
                         "hour of work, in the reporting currency), or remove the folder.")
    use_case = rates.get("use_case") or _mapped_use_case(settings.attribution)
    if not use_case:
        raise InputError(folder, "no use case for Microsoft 365 Copilot's assisted hours",
                         f"set [viva_insights] use_case, or map {SEAT_KEY} to a use case in reference/attribution.csv.")
    base = float(rates["loaded_hourly_rate"])
    low, high = float(rates.get("loaded_hourly_rate_low") or base), float(rates.get("loaded_hourly_rate_high") or base)
    monthly = rows.groupby(rows["date"].dt.to_period("M").dt.to_timestamp())["hours"].sum()
    method = (f"Viva Insights Copilot assisted hours (Microsoft's estimate) x a loaded hourly rate of {base:g}"
              + (f" ({low:g} to {high:g})" if (low, high) != (base, base) else "") + " from the configuration")
    data.outcomes = _typed({
        "UseCaseId": [use_case] * len(monthly), "Month": list(monthly.index), "OutcomeType": OUTCOME_TYPE,
        "Quantity": monthly.values, "Unit": "hours", "ValueLow": monthly.values * low,
        "ValueBase": monthly.values * base, "ValueHigh": monthly.values * high, "Evidence": "estimated",
        "Method": method, "Owner": rates.get("owner")}, OUTCOMES_COLUMNS)
    data.notes.append(f"viva_insights: {float(monthly.sum()):,.1f} Copilot assisted hours of "
                      f"{rows['person'].nunique()} people in {len(monthly)} month(s), valued at {base:g} an hour, "
                      f"graded estimated, to {use_case}.")
    return data


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


def _read_file(path: Path, data: SourceData) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file is empty", "export the person query again; the first line is the header.") \
            from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(path, f"not a readable CSV file ({e})", "export the person query again as CSV.") from None
    if not isinstance(raw.index, pd.RangeIndex):  # pandas takes a first field no header names as the index
        raise InputError(path, "not a readable CSV file (the rows have more fields than the header)",
                         "export the person query again as CSV.", line=2)
    by_norm = {_norm(h): h for h in raw.columns}
    found = {field: by_norm.get(_norm(name)) for field, name in COLUMNS.items()}
    missing = [COLUMNS[f] for f, h in found.items() if h is None]
    if missing:
        raise InputError(path, f"not a Viva Insights person query with Copilot metrics: no column {missing}",
                         "run a person query with the Copilot metrics (Microsoft 365 Copilot metric group) and "
                         "export it as CSV; its columns include PersonId, MetricDate and Copilot assisted hours.")
    text = raw[found["hours"]].str.strip()
    hours = pd.to_numeric(text.replace("", None), errors="coerce")
    bad = (text != "") & (hours.isna() | (hours < 0))
    if bad.any():
        row = int(bad.idxmax())
        raise InputError(path, f"Copilot assisted hours {text[row]!r} is not a number of hours >= 0",
                         "export the query again; do not edit the file in a spreadsheet.", line=row + 2,
                         column=found["hours"])
    person = raw[found["person"]].str.strip()
    if (person == "").any():
        row = int((person == "").idxmax())
        raise InputError(path, "a row has no PersonId", "export the query again.", line=row + 2,
                         column=found["person"])
    data.notes.append(f"viva_insights: {path.name} read as a person query ({len(raw)} person-periods).")
    return pd.DataFrame({"person": person, "date": _dates(raw[found["date"]], path, found["date"]),
                         "hours": hours.fillna(0.0)})


def _dates(values: pd.Series, path: Path, column: str) -> pd.Series:
    """YYYY-MM-DD or M/D/YYYY (the analyst portal's export) -> dates; anything else is refused with its line."""
    text = values.str.strip()
    us = text.str.extract(US_DATE.pattern)
    iso_text = text.where(~us[0].notna(), us[2] + "-" + us[0].str.zfill(2) + "-" + us[1].str.zfill(2))
    parsed = pd.to_datetime(iso_text.where(iso_text.str.match(ISO_DATE.pattern)).str[:10], format="%Y-%m-%d",
                            errors="coerce")
    if parsed.isna().any():
        row = int(parsed.isna().idxmax())
        raise InputError(path, f"MetricDate {text[row]!r} is not a date (YYYY-MM-DD or M/D/YYYY)",
                         "export the query again; do not edit the file in a spreadsheet.", line=row + 2, column=column)
    return parsed


def _mapped_use_case(mapping) -> str | None:
    """The use case the attribution map gives Microsoft 365 Copilot's seat spend (exact key first, then globs)."""
    if mapping is None or len(mapping) == 0:
        return None
    for key, case in zip(mapping["Key"], mapping["UseCaseId"]):
        if key == SEAT_KEY and isinstance(case, str) and case:
            return case
    for key, case in zip(mapping["Key"], mapping["UseCaseId"]):
        if re.search(r"[*?\[]", key) and fnmatch.fnmatchcase(SEAT_KEY, key) and isinstance(case, str) and case:
            return case
    return None
