"""GitHub Copilot: breadth of use and the Enterprise seats that Business would serve (docs/metrics.md).

Pure functions: the `seat_feature_usage` table (schema.SEAT_FEATURE_USAGE_COLUMNS), the seat reports' users and
the quarter in; numbers, or the list for IT, out. A figure the data cannot give is None, and `no_basis` says why
in the words the page prints; never a made-up 0.
"""

from __future__ import annotations

import pandas as pd

from .quarters import Quarter
from .schema import ENTERPRISE_ONLY_FEATURES, FEATURE_GROUPS, GITHUB_PLANS

NOT_GIVEN = "not given by this export"
NO_USERS_REPORT = "no users report (users-1-day or users-28-day) this quarter"
DOWNGRADE_COLUMNS = ["Product", "ProviderName", "SeatId", "BusinessUnit", "ReportDate", "LastActivityDate",
                     "FeaturesUsed", "MoveTo", "SavingPerYear"]


def _in_quarter(usage: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    return usage[quarter.contains(usage["Day"])]


def breadth(usage: pd.DataFrame, quarter: Quarter) -> dict | None:
    """Who used which kind of feature of GitHub Copilot in the quarter (docs/metrics.md, "GitHub Copilot: breadth
    of use"), per group of `schema.FEATURE_GROUPS`:

    - `daily`: average daily engaged users. From the organisation's totals where they give the group's engaged
      users (the legacy metrics API for completions and chat; the usage-metrics reports for cli and code review):
      each day the largest of the group's features (a floor of those who used any of them), a day without the
      feature counting 0 (the reports leave out what nobody used), averaged over the days the totals cover. Else
      from the users report: users with the group's features each day, averaged over the days it covers.
    - `distinct`: users who used the group at least once in the quarter (users report only).
    - `acceptance_rate` (completions only): accepted / suggested code completions, from the organisation's totals
      where they give both, else from the users report.
    None when the quarter has no Copilot metrics."""
    rows = _in_quarter(usage, quarter)
    if rows.empty:
        return None
    org, users = rows[rows["SeatId"].isna()], rows[rows["SeatId"].notna()]
    org_days, user_days = org["Day"].nunique(), users["Day"].nunique()
    groups, no_basis = {}, {}
    for group, features in FEATURE_GROUPS.items():
        mine_org = org[org["Feature"].isin(features) & org["EngagedUsers"].notna()]
        mine_users = users[users["Feature"].isin(features)]
        entry = {"daily": None, "daily_from": None, "distinct": None}
        if len(mine_org):
            entry["daily"] = float(mine_org.groupby("Day")["EngagedUsers"].max().sum() / org_days)
            entry["daily_from"] = "organisation"
        elif user_days:
            entry["daily"] = float(mine_users.groupby("Day")["SeatId"].nunique().sum() / user_days)
            entry["daily_from"] = "users"
        else:
            no_basis[f"{group}.daily"] = NOT_GIVEN
        if user_days:
            entry["distinct"] = int(mine_users["SeatId"].nunique())
        else:
            no_basis[f"{group}.distinct"] = NOT_GIVEN
        groups[group] = entry
    completions = FEATURE_GROUPS["completions"]
    rate, rate_from = None, None
    for scope, frame in (("organisation", org), ("users", users)):
        given = frame[frame["Feature"].isin(completions) & frame["Suggestions"].notna() & frame["Acceptances"].notna()]
        if len(given) and given["Suggestions"].sum() > 0:
            rate, rate_from = float(given["Acceptances"].sum() / given["Suggestions"].sum()), scope
            suggested, accepted = float(given["Suggestions"].sum()), float(given["Acceptances"].sum())
            break
    else:
        suggested = accepted = None
        no_basis["acceptance_rate"] = NOT_GIVEN
    active = org[(org["Feature"] == "any") & org["EngagedUsers"].notna()]
    any_daily = float(active["EngagedUsers"].sum() / org_days) if len(active) else (
        float(users.groupby("Day")["SeatId"].nunique().sum() / user_days) if user_days else None)
    return {
        "groups": groups, "acceptance_rate": rate, "acceptance_from": rate_from, "suggested": suggested,
        "accepted": accepted, "daily_active": any_daily,
        "users": int(users["SeatId"].nunique()) if user_days else None,
        "organisation_days": int(org_days), "user_days": int(user_days),
        "first_day": rows["Day"].min().date().isoformat(), "last_day": rows["Day"].max().date().isoformat(),
        "user_first_day": users["Day"].min().date().isoformat() if user_days else None,
        "user_last_day": users["Day"].max().date().isoformat() if user_days else None,
        "reports": sorted(set(rows["Report"].dropna())), "no_basis": no_basis,
    }


def downgrade_list(seat_users: pd.DataFrame, usage: pd.DataFrame, quarter: Quarter, prices: dict[str, float],
                   reclaim: pd.DataFrame | None, features: list[str] | None = None) -> pd.DataFrame | None:
    """The GitHub Copilot Enterprise seats of the quarter's last seat report whose users used none of `features`
    (what Enterprise gives over Business; `[seats] enterprise_only_features`) in the quarter, by the users report:
    the list for IT (docs/metrics.md, "Enterprise seats that Business would serve"). A seat on the reclaim list is
    not also here: it is taken back, not moved. `SavingPerYear` is twelve months of the difference between what an
    Enterprise and a Business seat cost this quarter (`prices`); empty when either has no price.

    None when the quarter has no users report or no Enterprise seat report: no basis for a list."""
    enterprise, business = GITHUB_PLANS["enterprise"], GITHUB_PLANS["business"]
    features = list(ENTERPRISE_ONLY_FEATURES if features is None else features)
    used = _in_quarter(usage, quarter)
    used = used[used["SeatId"].notna()]
    inside = seat_users[quarter.contains(seat_users["ReportDate"]) & (seat_users["Product"] == enterprise)]
    if used.empty or inside.empty:
        return None
    latest = inside[inside["ReportDate"] == inside["ReportDate"].max()]
    taken = set() if reclaim is None or reclaim.empty else set(reclaim.loc[reclaim["Product"] == enterprise, "SeatId"])
    by_seat = used.groupby("SeatId")["Feature"].agg(lambda f: sorted(set(f)))
    rows = []
    for seat in latest.sort_values("SeatId").to_dict("records"):
        mine = by_seat.get(seat["SeatId"], [])
        if seat["SeatId"] in taken or set(mine) & set(features):
            continue
        saving = (prices[enterprise] - prices[business]) * 12 if enterprise in prices and business in prices else None
        rows.append({"Product": enterprise, "ProviderName": seat["ProviderName"], "SeatId": seat["SeatId"],
                     "BusinessUnit": seat["BusinessUnit"], "ReportDate": seat["ReportDate"],
                     "LastActivityDate": seat["LastActivityDate"], "FeaturesUsed": ", ".join(mine),
                     "MoveTo": business, "SavingPerYear": saving})
    out = pd.DataFrame(rows, columns=DOWNGRADE_COLUMNS)
    return out.astype({"SavingPerYear": float, "ReportDate": "datetime64[us]", "LastActivityDate": "datetime64[us]"})


def downgrade_summary(seat_users: pd.DataFrame, usage: pd.DataFrame, quarter: Quarter, prices: dict[str, float],
                      downgrade: pd.DataFrame | None, features: list[str] | None = None) -> dict:
    """What the pack says of the downgrade list: how many Enterprise seats, how many to move, a year's saving; or
    why there is no list (`no_basis`)."""
    enterprise, business = GITHUB_PLANS["enterprise"], GITHUB_PLANS["business"]
    features = list(ENTERPRISE_ONLY_FEATURES if features is None else features)
    inside = seat_users[quarter.contains(seat_users["ReportDate"]) & (seat_users["Product"] == enterprise)]
    seats = int((inside["ReportDate"] == inside["ReportDate"].max()).sum()) if len(inside) else 0
    covered = _in_quarter(usage, quarter)
    covered = covered.loc[covered["SeatId"].notna(), "Day"]
    out = {"features": features, "enterprise_seats": seats, "seats": None, "saving_per_year": None,
           "user_days": int(covered.nunique()),
           "first_day": covered.min().date().isoformat() if len(covered) else None,
           "last_day": covered.max().date().isoformat() if len(covered) else None,
           "price_difference": (prices[enterprise] - prices[business]) if enterprise in prices and business in prices
           else None, "no_basis": None}
    if not seats:
        out["no_basis"] = "no GitHub Copilot Enterprise seats in this quarter's seat reports"
    elif downgrade is None:
        out["no_basis"] = NO_USERS_REPORT
    else:
        out["seats"] = len(downgrade)
        out["saving_per_year"] = float(downgrade["SavingPerYear"].sum()) if out["price_difference"] is not None \
            else None
    return out


def github_metrics(tables: dict, quarter: Quarter, prices: dict[str, float], reclaim: pd.DataFrame | None,
                   features: list[str], listed: pd.DataFrame | None = None) -> dict:
    """metrics.json's `copilot_breadth` and `copilot_downgrade` (null when there is nothing to say); `listed`: the
    quarter's `downgrade_list` when the caller has made it."""
    usage, users = tables.get("seat_feature_usage"), tables.get("seat_users")
    if usage is None:
        return {"copilot_breadth": None, "copilot_downgrade": None}
    found = breadth(usage, quarter)
    down = None
    if users is not None and len(users):
        if listed is None:
            listed = downgrade_list(users, usage, quarter, prices, reclaim, features)
        down = downgrade_summary(users, usage, quarter, prices, listed, features)
        if not down["enterprise_seats"]:
            down = None  # no Enterprise seats at all: nothing to say
    return {"copilot_breadth": found, "copilot_downgrade": down}
