"""GitHub Copilot seat and billing JSON -> seats, seat_users and seat-licence spend rows.

Files: `*.json` under `github_copilot/`: responses of `GET /orgs/{org}/copilot/billing/seats` (`{total_seats,
seats: [...]}`, one page per file or a list of pages, or a bare list of seats) and of
`GET /orgs/{org}/copilot/billing` (`{seat_breakdown: {total, active_this_cycle, ...}, plan_type}`).

The API says nothing of when it was called, so each file's snapshot time is its `fetched_at` field (added by
whoever saved it), else a date in the file name (`seats_2026-07-31.json`, or `_2026-07` for the month's end),
else the latest `last_activity_at` of its seats. Month = the snapshot's month; a seat is active when its
`last_activity_at` falls within the 30 days up to the snapshot (the last 30 days of the month when the
snapshot is taken at its end). Seat lists win over billing summaries of the same month; the billing summary
(`total`, `active_this_cycle`) is used for months without a seat list. Prices come from `settings.seat_prices`.

A seat is its assignee: a user, a team or an organization (GitHub's `copilot-seat-details` schema; how they
are told apart: tests/fixtures/github_copilot/NOTES.md), keyed by kind and id, since a team and a user can
share an id. Pages overlapping, or the enterprise listing naming a user once per organization, list a seat
twice: it counts once. Each page's `total_seats` is a cross-check: a month whose seat list has more or fewer
seats than it says is named in `notes` with both numbers, and fails the warning check `total_seats` (the
seats listed are what is counted and charged).

Business unit of a seat: the first of its keys that the attribution map of the raw folder
(`settings.attribution`, `reference/attribution.csv`) resolves, in this order, else the name of the team
that assigned it:
    github_copilot.user:<login>            the user (lower case), or
    github_copilot.team:<slug>             a team that is itself the assignee
    github_copilot.org:<login>             an organization that is itself the assignee
    github_copilot.team:<slug>             the assigning team (`assigning_team.slug`)
    github_copilot.org:<login>             the organization, when the file says: the seat's `organization` (the
                                           enterprise listing) or an `organization` field saved with the page
For example `github_copilot.team:platform,,Engineering` or `github_copilot.org:contoso-emea,,EMEA`.

`seat_users` lists the seats of the snapshots kept (the same seats the seats table counts): SeatId is the
assignee's kind and name, lower case (`user:<login>`, `team:<slug>`, `org:<login>`; `<kind>:#<id>` for an
assignee with neither); ReportDate the snapshot's day (fetched_at's day, else the file name's date, a month
alone meaning its last day, else the latest activity's day; the latest of the month's pages for all of them);
AssignedDate the seat's `created_at` day and LastActivityDate its `last_activity_at` day (UTC; empty when
null). Months filled from a billing summary have no seat list, so no seat_users rows.

Copilot metrics saved in the same folder (the legacy metrics API's JSON, the usage-metrics reports' NDJSON) are
read by `github_metrics` into `seat_feature_usage`; a folder may hold them without any seat list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from ..exceptions import InputError
from ..schema import ACTIVE_DAYS, SEAT_USERS_COLUMNS, SEATS_COLUMNS
from . import (
    Settings,
    SourceData,
    _typed,
    business_units,
    empty_usage,
    files_in,
    github_metrics,
    seat_spend_rows,
    spend_frame,
)

SOURCE = "github_copilot"
PROVIDER = "GitHub"
PRODUCTS = {"business": "GitHub Copilot Business", "enterprise": "GitHub Copilot Enterprise"}
DEFAULT_PLAN = "business"
DATE_IN_NAME = re.compile(r"(20\d{2})-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?(?![0-9])")
SEAT_COLUMNS = ["Month", "asof", "day", "seat", "seat_id", "keys", "Product", "BusinessUnit", "active", "assigned",
                "last", "file", "total_seats"]
KEY = "github_copilot."  # + user:<login>, team:<slug> or org:<login>: the attribution map's keys


def read(folder: Path, settings: Settings) -> SourceData:
    """Seat lists and billing summaries under `folder` as seats rows per month x product x team."""
    data = SourceData(SOURCE)
    seats, billing, usage = [], [], []
    for path in files_in(folder, "*.json", *(f"*{s}" for s in github_metrics.SUFFIXES)):
        data.files.append(path)
        found = github_metrics.records(path)
        if found is not None:  # Copilot metrics by feature, not seats
            usage += github_metrics.rows(path, *found)
            continue
        for doc, fetched_at in _documents(path):
            if "seat_breakdown" in doc:
                billing.append(_billing_record(doc, fetched_at, path, data))
            else:
                seats += _seat_records(doc, fetched_at, path, data)
    kept = _latest_snapshot(pd.DataFrame(seats, columns=SEAT_COLUMNS), data)
    _check_total_seats(kept, data)
    kept = _rostered_business_units(kept, settings.roster, data)
    kept = _business_units(kept, settings.attribution)
    data.seats = _with_billing(_seat_counts(kept), billing, data)
    data.seat_users = _seat_users(kept)
    used_billing = [b for b in billing if b["Month"] not in set(kept["Month"])]
    data.spend = _seat_spend(data.seats, settings, kept.to_dict("records") + used_billing, data)
    data.usage = empty_usage()  # seat reports hold no token volumes
    data.seat_feature_usage = github_metrics.combine(usage, data)
    return data


# --- reading ---------------------------------------------------------------------------------------------

def _documents(path: Path) -> list[tuple[dict, object]]:
    """(billing summary or seats page, its fetched_at) for every document of a file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(path, f"not a JSON file ({e})", "save the API response body as it came.") from None
    top_fetched = doc.get("fetched_at") if isinstance(doc, dict) else None
    if isinstance(doc, list) and doc and all(isinstance(d, dict) and "assignee" in d for d in doc):
        return [({"seats": doc}, None)]  # a bare list of seats
    out = []
    for item in doc if isinstance(doc, list) else [doc]:
        if not isinstance(item, dict) or not ("seat_breakdown" in item or isinstance(item.get("seats"), list)):
            raise InputError(path, "not a GitHub Copilot seats or billing response (no `seats` list and no "
                             "`seat_breakdown`)", "save the response of GET /orgs/{org}/copilot/billing/seats or "
                             "/orgs/{org}/copilot/billing.")
        out.append((item, item.get("fetched_at") or top_fetched))
    return out


def _instant(value, path: Path, field: str) -> pd.Timestamp:
    """ISO 8601 with any offset (GitHub writes -06:00 as well as Z) -> tz-naive UTC."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(path, f"{field} {value!r} is not an ISO 8601 time", "keep times as the API returns them.",
                         column=field) from None
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC").tz_localize(None)


def _snapshot(fetched_at, path: Path, latest_activity, data: SourceData) -> tuple[pd.Timestamp, pd.Timestamp,
                                                                                   pd.Timestamp]:
    """(month, snapshot instant, day) of a document; a date without a time means the end of that day.

    The instant is exclusive where only a date is known (the next midnight); `day` is the day it describes.
    """
    if fetched_at:
        stamp = _instant(fetched_at, path, "fetched_at")
        if len(str(fetched_at).strip()) <= 10:  # a date alone: the snapshot is the end of that day
            return stamp, stamp + pd.Timedelta(days=1), stamp.normalize()
        return stamp, stamp, stamp.normalize()
    match = DATE_IN_NAME.search(path.stem)
    if match:
        year, month, day = match.groups()
        start = pd.Timestamp(f"{year}-{month}-{day or '01'}")
        end = start + (pd.Timedelta(days=1) if day else pd.DateOffset(months=1))
        return start, end, end - pd.Timedelta(days=1)
    if latest_activity is not None:
        data.fixes["github.snapshot_date_from_latest_activity"] += 1
        data.notes.append(f"github_copilot: {path.name} has no fetched_at and no date in its name; the latest "
                          f"activity {latest_activity:%Y-%m-%d} is taken as the snapshot date.")
        return latest_activity, latest_activity, latest_activity.normalize()
    raise InputError(path, "cannot tell which month the file describes (no fetched_at, no date in the file "
                     "name, no seat activity)", "add \"fetched_at\": \"2026-07-31T23:00:00Z\" to the JSON, or put "
                     "the date in the file name, e.g. seats_2026-07-31.json.")


def _product(plan_type, path: Path, data: SourceData) -> str:
    plan = str(plan_type or "").strip().lower()
    if plan not in PRODUCTS:
        data.fixes["github.plan_type_assumed_business"] += 1  # "unknown" or missing: Business is the common plan
        plan = DEFAULT_PLAN
    return PRODUCTS[plan]


def _seat_records(doc: dict, fetched_at, path: Path, data: SourceData) -> list[dict]:
    """One record per seat: its user, product, team, and whether it was active in the 30 days to the snapshot."""
    activity = [_instant(s["last_activity_at"], path, "last_activity_at") if s.get("last_activity_at") else None
                for s in doc["seats"]]
    known = [a for a in activity if a is not None]
    month, asof, day = _snapshot(fetched_at, path, max(known) if known else None, data)
    records = []
    for seat, last in zip(doc["seats"], activity):
        if last is not None and last > asof:
            data.fixes["github.activity_after_snapshot"] += 1  # the snapshot time is a day or file-name estimate
        assignee, team = seat.get("assignee") or {}, seat.get("assigning_team") or {}
        kind, ident, name = _assignee(assignee)
        short = "org" if kind == "organization" else kind
        assigned = _instant(seat["created_at"], path, "created_at") if seat.get("created_at") else None
        org = _login(seat.get("organization")) or _login(doc.get("organization"))
        keys = [f"{KEY}{short}:{name}" if name else None,
                f"{KEY}team:{str(team['slug']).lower()}" if team.get("slug") else None,
                f"{KEY}org:{org}" if org else None]
        records.append({
            "Month": month.to_period("M").to_timestamp(), "asof": asof, "day": day,
            "seat": f"{kind}:{ident if ident is not None else name}" if ident is not None or name else None,
            # what seat_users shows: the name a reader knows the seat by; the id only where there is no name
            "seat_id": f"{short}:{name}" if name else f"{short}:#{ident}" if ident is not None else None,
            "keys": [k for k in keys if k],
            "Product": _product(seat.get("plan_type") or doc.get("plan_type"), path, data),
            # the map comes first (`_business_units`); the team's own name is what is left without it
            "BusinessUnit": team.get("name") or (assignee.get("name") if kind == "team" else None) or None,
            "active": last is not None and last > asof - pd.Timedelta(days=ACTIVE_DAYS), "file": path.name,
            "assigned": assigned.normalize() if assigned is not None else None,
            "last": last.normalize() if last is not None else None,
            "total_seats": doc.get("total_seats") if isinstance(doc.get("total_seats"), (int, float)) else None,
        })
    return records


def _assignee(assignee: dict) -> tuple[str, str | None, str | None]:
    """(kind, id, login or slug in lower case) of a seat's assignee: user, team or organization.

    `type` says User or Organization where the object has it; a team has neither `type` nor `login` but a
    `slug`; an organization without `type` is known by its /orgs/ URLs. Bots and other accounts are users.
    """
    kind = str(assignee.get("type") or "").strip().lower()
    if kind not in ("user", "organization", "team"):
        if "login" not in assignee and ("slug" in assignee or "members_url" in assignee):
            kind = "team"
        elif "hooks_url" in assignee or "/orgs/" in str(assignee.get("url") or ""):
            kind = "organization"
        else:
            kind = "user"
    name = assignee.get("slug") if kind == "team" else assignee.get("login")
    ident = assignee.get("id")
    return kind, None if ident is None else str(ident), str(name).lower() if name else None


def _login(org) -> str | None:
    """An organization's login, from an organization object or a plain login, in lower case."""
    login = org.get("login") if isinstance(org, dict) else org if isinstance(org, str) else None
    return login.strip().lower() if login and login.strip() else None


def _billing_record(doc: dict, fetched_at, path: Path, data: SourceData) -> dict:
    breakdown = doc["seat_breakdown"] or {}
    for field in ("total", "active_this_cycle"):
        if not isinstance(breakdown.get(field), (int, float)) or breakdown[field] < 0:
            raise InputError(path, f"seat_breakdown.{field} {breakdown.get(field)!r} is not a seat count",
                             "save the billing response unchanged.", column=f"seat_breakdown.{field}")
    month, asof, _ = _snapshot(fetched_at, path, None, data)
    return {"Month": month.to_period("M").to_timestamp(), "asof": asof, "file": path.name,
            "Product": _product(doc.get("plan_type"), path, data),
            "LicensedSeats": float(breakdown["total"]), "ActiveUsers": float(breakdown["active_this_cycle"])}


# --- months ----------------------------------------------------------------------------------------------

def _latest_snapshot(seats: pd.DataFrame, data: SourceData) -> pd.DataFrame:
    """Per month, the seats of the latest snapshot day (its pages unioned), each user once."""
    if seats.empty:
        return seats
    day = seats["asof"].dt.normalize()
    latest = day.groupby(seats["Month"]).transform("max")
    for name in seats.loc[day < latest, "file"].unique():
        data.fixes["github.superseded_snapshot_dropped"] += 1
        data.notes.append(f"github_copilot: {name} is superseded by a later snapshot of the same month; not counted.")
    seats = seats[day == latest]
    named = seats["seat"].notna()
    duplicated = named & seats.duplicated(["Month", "seat"])
    if duplicated.any():  # overlapping pages, or one user seated through two orgs of one enterprise
        data.fixes["github.duplicate_seat_dropped"] += int(duplicated.sum())
    return seats[~duplicated]


def _check_total_seats(seats: pd.DataFrame, data: SourceData) -> None:
    """Each month's seats listed against the `total_seats` its pages state: a note and a failed warning check
    for every month they differ (a page not saved, or pages of two runs mixed), with both numbers."""
    from ..contracts import Check

    stated = seats.dropna(subset=["total_seats"])
    if stated.empty:
        return
    differ = []
    for month, rows in stated.groupby("Month"):
        totals = sorted(set(rows["total_seats"].astype(int)))
        listed = int((seats["Month"] == month).sum())
        files = ", ".join(sorted(set(rows["file"])))
        if len(totals) > 1:
            data.notes.append(f"github_copilot: {month:%Y-%m} ({files}): the pages disagree on total_seats "
                              f"({', '.join(map(str, totals))}); the largest is compared.")
        if listed != totals[-1]:
            differ.append(f"{month:%Y-%m}: {listed} listed, total_seats {totals[-1]}")
            data.notes.append(f"github_copilot: {month:%Y-%m} ({files}): the seat list has {listed} seat(s), "
                              f"total_seats {totals[-1]}; the {listed} listed are counted and charged.")
    files = [str(p) for p in data.files if p.name in set(stated["file"])]
    data.checks.append(Check(
        table=SOURCE, source=", ".join(files), expectation="expect_seat_list_to_match_total_seats",
        column="total_seats", severity="warning", success=not differ,
        rule="each month's seat list has as many seats as its total_seats",
        hint="save every page of GET /orgs/{org}/copilot/billing/seats from one run (per_page=100, following the Link "
             "header to the last page), together; until then the seats listed are what is counted and charged.",
        unexpected_count=len(differ), element_count=int(stated["Month"].nunique()), samples=differ,
        row_label="month"))


def _rostered_business_units(seats: pd.DataFrame, roster, data: SourceData) -> pd.DataFrame:
    """A user's seat whose assigning team names no business unit takes the HR roster's (`reference/hr_roster.csv`,
    README "HR seat roster"), by its seat id (`user:<login>`) or the bare login, in lower case; a team's name is
    never overwritten, and the attribution map still comes first (`_business_units`)."""
    if seats.empty or roster is None or len(roster) == 0:
        return seats
    units = roster["BusinessUnit"]
    ids = seats["seat_id"].where(seats["seat_id"].fillna("").str.startswith("user:"))
    found = ids.map(units)
    found = found.where(found.notna(), ids.str.slice(len("user:")).map(units))
    found = found.where(seats["BusinessUnit"].isna())
    data.fixes["github.business_unit_from_hr_roster"] += int(found.notna().sum())
    filled = seats["BusinessUnit"].where(seats["BusinessUnit"].notna(), found)
    return seats.assign(BusinessUnit=filled.astype(object).where(filled.notna(), None))


def _business_units(seats: pd.DataFrame, mapping) -> pd.DataFrame:
    """Each seat's business unit: the first of its keys the attribution map resolves, else its team's name."""
    if seats.empty:
        return seats
    found = business_units([k for keys in seats["keys"] for k in keys], mapping)
    mapped = [next((found[k] for k in keys if k in found), None) for keys in seats["keys"]]
    return seats.assign(BusinessUnit=[m if m is not None else bu for m, bu in zip(mapped, seats["BusinessUnit"])])


def _seat_counts(seats: pd.DataFrame) -> pd.DataFrame:
    columns = list(SEATS_COLUMNS)
    if seats.empty:
        return pd.DataFrame(columns=columns)
    out = (seats.groupby(["Month", "Product", "BusinessUnit"], dropna=False)
           .agg(LicensedSeats=("file", "size"), ActiveUsers=("active", "sum")).reset_index())
    out["ProviderName"] = PROVIDER
    return out[columns]


def _seat_users(seats: pd.DataFrame) -> pd.DataFrame:
    """One row per seat counted: the seat_users table (SEAT_USERS_COLUMNS), strings as str or None.

    A month's pages are one report: its rows all take the latest day among them.
    """
    if seats.empty:
        return _typed([], SEAT_USERS_COLUMNS)
    seats = seats.assign(ReportDate=seats.groupby("Month")["day"].transform("max"))
    seats = seats.sort_values(["ReportDate", "Product", "seat_id"], kind="stable", na_position="last")
    out = _typed({
        "ProviderName": [PROVIDER] * len(seats), "Product": list(seats["Product"]), "SeatId": list(seats["seat_id"]),
        "Anonymised": [False] * len(seats), "BusinessUnit": list(seats["BusinessUnit"]),
        "ReportDate": list(seats["ReportDate"]), "AssignedDate": list(seats["assigned"]),
        "LastActivityDate": list(seats["last"]),
    }, SEAT_USERS_COLUMNS)
    for column, kind in SEAT_USERS_COLUMNS.items():  # str or None, as the seats table's BusinessUnit (not NaN)
        if kind == "string":
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def _with_billing(seat_rows: pd.DataFrame, billing: list[dict], data: SourceData) -> pd.DataFrame:
    """Seat-list months as counted; billing summaries fill the months without a seat list."""
    columns = list(SEATS_COLUMNS)
    frames = [seat_rows] if len(seat_rows) else []
    if billing:
        summary = pd.DataFrame(billing)
        summary = summary[summary["asof"] == summary.groupby(["Month", "Product"])["asof"].transform("max")]
        listed = set(seat_rows["Month"]) if len(seat_rows) else set()
        for rec in summary.to_dict("records"):
            if rec["Month"] in listed:
                counted = seat_rows.loc[seat_rows["Month"] == rec["Month"], "LicensedSeats"].sum()
                if counted != rec["LicensedSeats"]:
                    data.notes.append(f"github_copilot: {rec['Month']:%Y-%m}: the billing summary says "
                                      f"{rec['LicensedSeats']:.0f} seats, the seat list has {counted:.0f}; the "
                                      "seat list is used.")
            else:
                frames.append(pd.DataFrame([{**rec, "ProviderName": PROVIDER, "BusinessUnit": None}]))
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)[columns]
    out["BusinessUnit"] = out["BusinessUnit"].astype(object).where(out["BusinessUnit"].notna(), None)
    out["Month"] = pd.to_datetime(out["Month"]).astype("datetime64[us]")
    out = out.astype({"LicensedSeats": float, "ActiveUsers": float})
    return out.sort_values(["Month", "Product"], ignore_index=True)


def _seat_spend(seats: pd.DataFrame, settings: Settings, records: list, data: SourceData) -> pd.DataFrame:
    """Seat charges per month x product x team; `records` name the files each month came from."""
    if seats.empty:
        return spend_frame([])
    files: dict = {}
    for rec in records:
        files.setdefault(rec["Month"], set()).add(rec["file"])
    files = {month: ", ".join(sorted(names)) for month, names in files.items()}
    rows = []
    for product, group in seats.groupby("Product"):
        price = settings.seat_prices.get(product)
        if price is None:
            data.notes.append(f"github_copilot: no seat price for '{product}' in the settings; its seats are "
                              "reported without a charge (never priced at zero).")
            continue
        rows += seat_spend_rows(group, price, provider=PROVIDER, source=SOURCE, key="github_copilot.product",
                                files=files)
    if rows:
        data.notes.append("github_copilot: seat charges are seats x the configured list price, an assumption; a "
                          "FOCUS or invoice source of the charge, made the source of truth, replaces them.")
    return spend_frame(rows)
