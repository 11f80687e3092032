"""Microsoft 365 Copilot usage report CSV (user detail) -> seats, seat_users and seat-licence spend rows.

Files: `*.csv` under `m365_copilot/`, one per report download, in any of three header variants: Graph
`getMicrosoft365CopilotUsageUserDetail` version v1 or v2, or the admin center's "Export". Headers are matched
case- and punctuation-insensitively through `ALIASES`. Every row is a licensed user; a user whose last
activity falls inside the report period (Report Refresh Date minus Report Period days, to the refresh date)
is active. The month is the month of the Report Refresh Date. The admin export has neither refresh date nor
period: they come from the file name (`..._2026-07-31_D30.csv`), else the latest activity date and 30 days.

The report carries no prices: the seat charge is seats x `settings.seat_prices` (a list price assumption
unless a FOCUS or invoice source provides the charge and is made the source of truth).

Business unit of a user: the report's Department when it has one (Graph's own reports never do), else the
attribution map of the raw folder (`settings.attribution`, `reference/attribution.csv`) resolving the user's
key `m365_copilot.user:<user principal name>`, lower case; where the report is anonymised (the tenant's
"display concealed names" setting) the principal name is the hash the report shows, lower case too:
    m365_copilot.user:ada@sales.contoso.com,,Sales        one user
    m365_copilot.user:*@sales.contoso.com,,Sales          a glob: every user of a domain
    m365_copilot.user:8f14e45fceea167a5a36dedd4bea2543,,Finance   an anonymised user
Seats and their charges are counted per month and business unit; users the map does not resolve have none.

`seat_users` lists the users of the reports kept (the same rows the seats count): SeatId is the user principal
name (or its hash), lower case, as in the key above; ReportDate the Report Refresh Date; AssignedDate empty (the
report has none); LastActivityDate the user's Last Activity Date. Anonymised: the SeatId is exactly 32 hex
digits. A principal name always has an "@", so such a value can only be the MD5-like hash a report with
concealed names shows in its place.

`seat_apps` lists, for the same users, the per-app last-activity dates the report gives (`APP_ALIASES`: Graph v1
and v2, admin-center export), one row per user and app with a date; Copilot Chat is the latest of the report's
Copilot Chat columns (v1 has one, v2 and the admin export a work and a web one). A report without per-app columns
gives no rows, and so no breadth of use (README, "Breadth of use").
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ..schema import M365_APPS, SEAT_APPS_COLUMNS, SEAT_USERS_COLUMNS, SEATS_COLUMNS
from . import (
    ISO_DATE,
    Settings,
    SourceData,
    _typed,
    business_units,
    empty_usage,
    files_in,
    seat_spend_rows,
    spend_frame,
)

SOURCE = "m365_copilot"
PROVIDER = "Microsoft"
PRODUCT = "Microsoft 365 Copilot"
USER_KEY = "m365_copilot.user:"  # + user principal name (or its hash), lower case: the attribution map's key
DEFAULT_PERIOD_DAYS = 30
CONCEALED = re.compile(r"^[0-9a-f]{32}$")  # a concealed-name report's stand-in for a principal name (lower case)

# Canonical field -> header spellings seen across releases (compared after `_norm`).
ALIASES = {
    "user": ("User Principal Name", "User name", "Username", "UPN", "userPrincipalName"),
    "last_activity": ("Last Activity Date", "Last activity date (UTC)",
                      "Last activity date (UTC (Universal Time Code))", "Last activity date (Universal Time Code)",
                      "lastActivityDate"),
    "refresh": ("Report Refresh Date", "Refresh Date", "reportRefreshDate"),
    "period": ("Report Period", "reportPeriod"),
    "department": ("Department", "Department name", "Business unit"),
    "display_name": ("Display Name", "displayName"),
}
# App of breadth of use (schema.M365_APPS) -> its per-app last-activity headers across the three variants (compared
# after `_norm`); every header found of an app counts, the latest date wins (Copilot Chat's work and web columns).
APP_ALIASES = {
    "Teams": ("Microsoft Teams Copilot Last Activity Date", "Last activity date of Teams Copilot (UTC)",
              "microsoftTeamsCopilotLastActivityDate"),
    "Outlook": ("Outlook Copilot Last Activity Date", "Last activity date of Outlook Copilot (UTC)",
                "outlookCopilotLastActivityDate"),
    "Word": ("Word Copilot Last Activity Date", "Last activity date of Word Copilot (UTC)",
             "wordCopilotLastActivityDate"),
    "Excel": ("Excel Copilot Last Activity Date", "Last activity date of Excel Copilot (UTC)",
              "excelCopilotLastActivityDate"),
    "PowerPoint": ("PowerPoint Copilot Last Activity Date", "Last activity date of PowerPoint Copilot (UTC)",
                   "powerPointCopilotLastActivityDate"),
    "OneNote": ("OneNote Copilot Last Activity Date", "Last activity date of OneNote Copilot (UTC)",
                "oneNoteCopilotLastActivityDate"),
    "Loop": ("Loop Copilot Last Activity Date", "Last activity date of Loop Copilot (UTC)",
             "loopCopilotLastActivityDate"),
    "Copilot Chat": ("Copilot Chat Last Activity Date", "Copilot Chat (work) Last Activity Date",
                     "Copilot Chat (web) Last Activity Date", "Last activity date of Copilot Chat (work) (UTC)",
                     "Last activity date of Copilot Chat (web) (UTC)", "copilotChatLastActivityDate"),
}
assert tuple(APP_ALIASES) == M365_APPS
APP_COLUMN = "app:"  # + app: a user's per-app last activity, as the users frame carries it to `_seat_apps`
# Headers that tell the variants apart, and what each variant must have (for the error message).
V2_MARKERS = ("Prompts submitted for all apps", "Active Usage Days for all apps")
EXPECTED = {
    "Graph v1": "Report Refresh Date, User Principal Name, Display Name, Last Activity Date, ..., Report Period",
    "Graph v2": "the v1 headers plus Prompts submitted for all apps, Active Usage Days for all apps, ...",
    "admin center export": "User name, Display name, ..., Last activity date (UTC), ...",
}
PERIOD_IN_NAME = re.compile(r"(?i)(?<![a-z0-9])(?:d(7|28|30|90|180)|(7|28|30|90|180)[ _-]?days?)(?![0-9])")
DATE_IN_NAME = re.compile(r"(20\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])")


def read(folder: Path, settings: Settings) -> SourceData:
    """Every user-detail CSV under `folder` as seats rows (one month per refresh date) and seat spend rows."""
    data = SourceData(SOURCE)
    users = []
    for path in files_in(folder, "*.csv", delimiters=","):
        data.files.append(path)
        users.append(_read_file(path, data))
    users = _latest_report_per_month([u for u in users if len(u)], data)
    users = _rostered_business_units(users, settings.roster, data)
    users = _mapped_business_units(users, settings.attribution)
    if settings.roster is not None:
        _note_unattributed(users, data)
    if len(users):  # by report and user, once: the order of seat_users and seat_apps
        users = users.sort_values(["refresh", "user"], kind="stable").reset_index(drop=True)
    data.seats = _seats(users)
    data.seat_users = _seat_users(users)
    data.seat_apps = _seat_apps(users)
    files = (users[["Month", "file"]].drop_duplicates().groupby("Month")["file"]
             .agg(lambda f: ", ".join(sorted(f))).to_dict())
    data.spend = _seat_spend(data.seats, settings, data, files)
    data.usage = empty_usage()  # seat reports hold no token volumes
    return data


# --- headers ---------------------------------------------------------------------------------------------

def _norm(header: str) -> str:
    """Header as compared: lower case, letters and digits only ("Last activity date (UTC)" -> lastactivitydateutc)."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


def _columns(headers: list[str], path: Path) -> tuple[dict[str, str], str]:
    """Canonical field -> the file's header, and the variant's name; an unknown header set is refused."""
    by_norm = {_norm(h): h for h in headers}
    found = {field: next((by_norm[_norm(a)] for a in aliases if _norm(a) in by_norm), None)
             for field, aliases in ALIASES.items()}
    found = {k: v for k, v in found.items() if v}
    if "user" not in found or "last_activity" not in found:
        expected = "; ".join(f"{name}: {cols}" for name, cols in EXPECTED.items())
        raise InputError(path, f"not a Microsoft 365 Copilot usage report: headers {headers[:6]}"
                         f"{'...' if len(headers) > 6 else ''} match none of the known variants",
                         f"download the user detail report (Graph getMicrosoft365CopilotUsageUserDetail v1/v2, "
                         f"or the admin center's Export). Expected headers: {expected}.")
    if "refresh" in found:
        variant = "Graph v2" if any(_norm(m) in by_norm for m in V2_MARKERS) else "Graph v1"
    else:
        variant = "admin center export"
    return found, variant


# --- one file --------------------------------------------------------------------------------------------

def _read_file(path: Path, data: SourceData) -> pd.DataFrame:
    """The users of one report: user, month, refresh date, business unit, active, last activity."""
    def csv(**options) -> pd.DataFrame:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **options)
        except pd.errors.EmptyDataError:
            raise InputError(path, "the file is empty",
                             "download the report again; the first line is the header.") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as e:
            raise InputError(path, f"not a readable CSV file ({e})", "download the report again as CSV.") from None

    headers = list(csv(nrows=0).columns)
    columns, variant = _columns(headers, path)
    apps = _app_columns(headers)
    # only the columns read: the prompt counts are a large part of a v2 report's bytes (benchmarks/seats.py)
    raw = csv(usecols=sorted(set(columns.values()) | {h for found in apps.values() for h in found}))
    data.notes.append(f"m365_copilot: {path.name} read as the {variant} header variant ({len(raw)} users).")
    if raw.empty:
        return pd.DataFrame()
    last = _dates(raw[columns["last_activity"]], path, columns["last_activity"], data.fixes)
    refresh, period = _refresh_and_period(raw, columns, path, last, data)
    active = last.notna() & (last > refresh - pd.to_timedelta(period, unit="D"))
    late = last.notna() & (last > refresh)
    if late.any():  # activity after the refresh date: a clock or export lag, still activity in the period
        data.fixes["m365.activity_after_refresh_date"] += int(late.sum())
    department = raw[columns["department"]].str.strip() if "department" in columns else pd.Series(None, index=raw.index)
    frame = pd.DataFrame({
        "user": raw[columns["user"]].str.strip().str.lower(),
        "refresh": refresh, "Month": refresh.dt.to_period("M").dt.to_timestamp(),
        "BusinessUnit": department.replace("", None), "active": active, "file": path.name, "last": last,
        **{APP_COLUMN + app: _latest_of([_dates(raw[h], path, h, data.fixes) for h in found])
           for app, found in apps.items()},
    })
    duplicated = frame.duplicated(["user", "Month"])
    if duplicated.any():
        data.fixes["m365.duplicate_user_dropped"] += int(duplicated.sum())
    return frame[~duplicated]


def _app_columns(headers: list[str]) -> dict[str, list[str]]:
    """App -> the file's per-app last-activity headers of it (`APP_ALIASES`); apps the report has none of are left out."""
    by_norm = {_norm(h): h for h in headers}
    found = {app: [by_norm[_norm(a)] for a in aliases if _norm(a) in by_norm] for app, aliases in APP_ALIASES.items()}
    return {app: list(dict.fromkeys(hs)) for app, hs in found.items() if hs}


def _latest_of(dates: list[pd.Series]) -> pd.Series:
    """The latest of several date columns, row by row (empty where all are)."""
    return dates[0] if len(dates) == 1 else pd.concat(dates, axis=1).max(axis=1)


def _dates(values: pd.Series, path: Path, column: str, fixes) -> pd.Series:
    """YYYY-MM-DD (UTC) or empty -> dates; a time part is dropped and counted; anything else is refused. Each
    distinct text is judged once (a report's 50,000 dates are a few hundred days; benchmarks/seats.py)."""
    text = values.fillna("").astype(str).str.strip()
    codes, distinct = pd.factorize(text)
    each = pd.Series(distinct, dtype=object).astype(str)
    bad = (each != "") & ~each.str.match(ISO_DATE)
    if bad.any():
        row = int(pd.Series(bad.to_numpy()[codes], index=text.index).idxmax())
        raise InputError(path, f"date {text[row]!r} is not YYYY-MM-DD", "download the report again as CSV rather "
                         "than saving it from a spreadsheet, which rewrites dates.", line=row + 2, column=column)
    timed = (each.str.len() > 10).to_numpy()[codes]
    if timed.any():
        fixes["m365.datetime_truncated_to_date"] += int(timed.sum())
    parsed = pd.to_datetime(each.str[:10].replace("", None), format="%Y-%m-%d", errors="coerce")
    invalid = (each != "") & parsed.isna()
    if invalid.any():
        row = int(pd.Series(invalid.to_numpy()[codes], index=text.index).idxmax())
        raise InputError(path, f"date {text[row]!r} is not a calendar date", "fix or remove the value.",
                         line=row + 2, column=column)
    return pd.Series(parsed.to_numpy()[codes], index=text.index)


def _refresh_and_period(raw, columns, path: Path, last: pd.Series, data: SourceData) -> tuple[pd.Series, pd.Series]:
    """Per-row Report Refresh Date and Report Period days; the admin export takes them from its file name."""
    if "refresh" in columns:
        refresh = _dates(raw[columns["refresh"]], path, columns["refresh"], data.fixes)
        if refresh.isna().any():
            row = int(refresh.isna().idxmax())
            raise InputError(path, "Report Refresh Date is empty", "download the report again.", line=row + 2,
                             column=columns["refresh"])
    else:
        refresh = pd.Series(_refresh_from_name(path, last, data), index=raw.index)
    if "period" in columns:
        text = raw[columns["period"]]
        distinct = pd.Series(text.unique())  # one report has one or two spellings: parse those, not every row
        period = text.map(dict(zip(distinct, distinct.str.extract(r"(\d+)", expand=False))))
        if period.isna().any():
            row = int(period.isna().idxmax())
            raise InputError(path, f"Report Period {raw[columns['period']][row]!r} is not a day count",
                             "Report Period is the number of days (7, 30, 90, 180).", line=row + 2,
                             column=columns["period"])
        return refresh, period.astype(int)
    match = PERIOD_IN_NAME.search(path.stem)
    if match:
        return refresh, pd.Series(int(match.group(1) or match.group(2)), index=raw.index)
    data.fixes["m365.report_period_assumed_30_days"] += 1
    data.notes.append(f"m365_copilot: {path.name} names no report period; {DEFAULT_PERIOD_DAYS} days assumed "
                      "(put D7/D30/D90/D180 in the file name to say which).")
    return refresh, pd.Series(DEFAULT_PERIOD_DAYS, index=raw.index)


def _refresh_from_name(path: Path, last: pd.Series, data: SourceData) -> pd.Timestamp:
    match = DATE_IN_NAME.search(path.stem)
    if match:
        return pd.Timestamp(f"{match.group(1)}-{match.group(2)}-{match.group(3)}")
    if last.notna().any():
        data.fixes["m365.refresh_date_from_latest_activity"] += 1
        data.notes.append(f"m365_copilot: {path.name} has no refresh date; the latest activity date "
                          f"{last.max():%Y-%m-%d} is used (put the report date in the file name, e.g. _2026-07-31).")
        return last.max()
    raise InputError(path, "the admin center export has no report date and nobody was active",
                     "put the date of the download in the file name, e.g. copilot_usage_2026-07-31_D30.csv.")


# --- months, seats and charges -----------------------------------------------------------------------------

def _latest_report_per_month(frames: list[pd.DataFrame], data: SourceData) -> pd.DataFrame:
    """One report per month: files of the latest refresh date in each month (users unioned across them)."""
    if not frames:
        return pd.DataFrame(columns=["user", "refresh", "Month", "BusinessUnit", "active", "file", "last"])
    users = pd.concat(frames, ignore_index=True)
    latest = users.groupby("Month")["refresh"].transform("max")
    dropped = users.loc[users["refresh"] < latest, "file"].unique()
    for name in dropped:  # a weekly and a monthly download of the same month would count every seat twice
        data.fixes["m365.superseded_report_dropped"] += 1
        data.notes.append(f"m365_copilot: {name} is superseded by a later report of the same month; not counted.")
    users = users[users["refresh"] == latest]
    duplicated = users.duplicated(["user", "Month"])  # split downloads of one report listing a user twice
    if duplicated.any():
        data.fixes["m365.duplicate_user_dropped"] += int(duplicated.sum())
    return users[~duplicated]


def _rostered_business_units(users: pd.DataFrame, roster, data: SourceData) -> pd.DataFrame:
    """Users without a Department take the business unit of the HR roster (`reference/hr_roster.csv`), joined on
    the id the report gives (lower case); a Department of the report is never overwritten."""
    if users.empty or roster is None or len(roster) == 0:
        return users
    missing = users["BusinessUnit"].isna()
    found = users.loc[missing, "user"].map(roster["BusinessUnit"])
    data.fixes["m365.business_unit_from_hr_roster"] += int(found.notna().sum())
    return users.assign(BusinessUnit=users["BusinessUnit"].where(~missing, found))


def _note_unattributed(users: pd.DataFrame, data: SourceData) -> None:
    """How many seats of the latest report still have no business unit, after the roster and the attribution map."""
    if users.empty:
        return
    latest = users[users["refresh"] == users["refresh"].max()]
    left = int(latest["BusinessUnit"].isna().sum())
    data.notes.append(f"m365_copilot: {left} of the {len(latest)} seats of the {latest['refresh'].max():%Y-%m-%d} "
                      "report have no business unit after the HR roster and the attribution map"
                      + (" (add them to reference/hr_roster.csv)." if left else "."))


def _mapped_business_units(users: pd.DataFrame, mapping) -> pd.DataFrame:
    """Users without a Department take the business unit the attribution map gives their key."""
    if users.empty or mapping is None or len(mapping) == 0 or users["BusinessUnit"].notna().all():
        return users  # nothing to map, or nobody to map
    missing = users["BusinessUnit"].isna()
    keys = USER_KEY + users.loc[missing, "user"]
    found = business_units(keys, mapping)
    return users.assign(BusinessUnit=users["BusinessUnit"].where(~missing, keys.map(found)))


def _seats(users: pd.DataFrame) -> pd.DataFrame:
    """LicensedSeats (every listed user) and ActiveUsers per month and business unit."""
    columns = list(SEATS_COLUMNS)
    if users.empty:
        return pd.DataFrame(columns=columns)
    seats = (users.groupby(["Month", "BusinessUnit"], dropna=False)
             .agg(LicensedSeats=("user", "size"), ActiveUsers=("active", "sum")).reset_index())
    seats = seats.assign(ProviderName=PROVIDER, Product=PRODUCT)
    seats["BusinessUnit"] = seats["BusinessUnit"].astype(object).where(seats["BusinessUnit"].notna(), None)
    seats["Month"] = seats["Month"].astype("datetime64[us]")
    return seats[columns].astype({"LicensedSeats": float, "ActiveUsers": float})


def _seat_users(users: pd.DataFrame) -> pd.DataFrame:
    """One row per user counted, in the order `read` sorted them (report, user): the seat_users table
    (SEAT_USERS_COLUMNS), strings as str or None. Whole columns, not rows: 600,000 users (benchmarks/seats.py) take
    about a second."""
    if users.empty:
        return _typed([], SEAT_USERS_COLUMNS)
    seat_id = users["user"].astype(object).where(users["user"].notna() & (users["user"] != ""), None)
    unit = users["BusinessUnit"].astype(object)
    # each distinct id judged once: a year of monthly reports lists the same users twelve times
    codes, ids = pd.factorize(seat_id.fillna(""))
    concealed = pd.Series(ids, dtype=object).astype(str).str.fullmatch(CONCEALED.pattern).to_numpy(bool)[codes]
    out = pd.DataFrame({
        "ProviderName": PROVIDER, "Product": PRODUCT, "SeatId": seat_id,
        "Anonymised": pd.Series(concealed, index=users.index),
        "BusinessUnit": unit.where(unit.notna(), None),
        "ReportDate": users["refresh"].dt.normalize().astype("datetime64[us]"),
        "AssignedDate": pd.Series(pd.NaT, index=users.index, dtype="datetime64[us]"),
        "LastActivityDate": pd.to_datetime(users["last"]).astype("datetime64[us]"),
    }, index=users.index)
    for column in ("ProviderName", "Product"):
        out[column] = out[column].astype(object)
    return out[list(SEAT_USERS_COLUMNS)]


def _seat_apps(users: pd.DataFrame) -> pd.DataFrame:
    """One row per user counted and app with a last-activity date: the seat_apps table (SEAT_APPS_COLUMNS), long form,
    by report, user and app (M365_APPS' order). The seat ids and report dates are those of `_seat_users`, so each row
    joins one seat_users row. Whole arrays, not a melt: 600,000 users x 12 apps take a fraction of a second."""
    apps = [app for app in M365_APPS if APP_COLUMN + app in users.columns]
    if users.empty or not apps:
        return _typed([], SEAT_APPS_COLUMNS)
    users = users[users["user"].notna() & (users["user"] != "")]
    dates = np.column_stack([users[APP_COLUMN + app].to_numpy("datetime64[ns]") for app in apps])
    row, col = np.nonzero(~np.isnat(dates))  # row-major: each user's apps together, in M365_APPS' order
    if not len(row):
        return _typed([], SEAT_APPS_COLUMNS)
    out = pd.DataFrame({
        "ProviderName": PROVIDER, "Product": PRODUCT, "SeatId": users["user"].to_numpy(object)[row],
        "ReportDate": pd.to_datetime(users["refresh"].to_numpy()[row]).normalize().astype("datetime64[us]"),
        "App": np.array(apps, dtype=object)[col],
        "LastActivityDate": pd.to_datetime(dates[row, col]).astype("datetime64[us]"),
    })
    for column in ("ProviderName", "Product"):
        out[column] = out[column].astype(object)
    return out[list(SEAT_APPS_COLUMNS)]


def _seat_spend(seats: pd.DataFrame, settings: Settings, data: SourceData, files: dict) -> pd.DataFrame:
    if seats.empty:
        return spend_frame([])
    price = settings.seat_prices.get(PRODUCT)
    if price is None:
        data.notes.append(f"m365_copilot: no seat price for '{PRODUCT}' in the settings; seats are reported "
                          "without a charge (never priced at zero).")
        return spend_frame([])
    data.notes.append(f"m365_copilot: seat charges are seats x {price:.2f} USD, a list price assumption; a FOCUS or "
                      "invoice source of the charge, made the source of truth, replaces them.")
    return spend_frame(seat_spend_rows(seats, price, provider=PROVIDER, source=SOURCE,
                                       key="m365_copilot.product", files=files))
