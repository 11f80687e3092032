"""The three executive metrics, the per-use-case view, seats and the Jevons bridge (docs/metrics.md).

Pure functions: DataFrames of one quarter in, numbers or DataFrames out, no I/O. `quarter_metrics`
assembles them into the structure of `metrics.json`.

A metric without a basis is None, never a made-up 0: workload fit, unit cost and the open-weight share of
a quarter without token spend, the value multiple of a quarter without outcomes, the portable share without
a use-case register. `metrics.json` says why under `no_basis` (metric -> reason, in the words the pages
print), and such a metric has no status (`rag` None): it is neither on track nor off it.
"""

from __future__ import annotations

import math
from typing import Any, cast

import pandas as pd

from . import copilot, forecast
from .quarters import Quarter
from .schema import ACTIVE_DAYS, EVIDENCE, M365_APPS, SEAT_RULES, TIER_RANK

MEASURED_OR_ESTIMATED = ("measured", "estimated")
NO_TOKENS = "no token spend this quarter"
NO_OUTCOMES = "no outcomes recorded"
NO_REGISTER = "no use-case register"
NO_TIER = "no token spend on a use case with a required tier"
# The metrics that rest on token spend: none of them has a basis in a quarter without it
TOKEN_METRICS = ("workload_fit", "retiering_savings", "open_weight_share", "unit_cost_per_mtok")
HEADLINE_KEYS = (
    "spend", "value", "value_low", "value_high", "value_multiple", "unattributed_spend_share", "token_spend",
    "overprovisioned_spend", "workload_fit", "retiering_savings", "idle_seat_cost", "portable_spend_share",
    "hhi", "top_provider_share", "consumption_share", "open_weight_share",
)


def _ratio(a: float, b: float) -> float | None:
    return float(a) / float(b) if b else None


def in_quarter(frame: pd.DataFrame, column: str, quarter: Quarter) -> pd.DataFrame:
    return frame[quarter.contains(frame[column])]


def token_rows(spend: pd.DataFrame) -> pd.DataFrame:
    return spend[spend["x_SpendModality"] == "api_tokens"]


# --- 1. Value multiple -------------------------------------------------------------------------------

def value_metrics(spend: pd.DataFrame, outcomes: pd.DataFrame) -> dict[str, Any]:
    """Spend, value and its range, the multiple, and the unattributed share of one quarter."""
    total = float(spend["EffectiveCost"].sum())
    graded = outcomes["Evidence"]
    value = float(outcomes.loc[graded.isin(MEASURED_OR_ESTIMATED), "ValueBase"].sum())
    with_outcome = set(outcomes["UseCaseId"])
    attributed = spend["x_UseCaseId"].isin(with_outcome)
    return {
        "spend": total,
        "value": value,
        "value_low": float(outcomes.loc[graded == "measured", "ValueLow"].sum()),
        "value_high": float(outcomes["ValueHigh"].sum()),
        "assumed_value": float(outcomes.loc[graded == "assumed", "ValueBase"].sum()),
        "value_multiple": _ratio(value, total) if len(outcomes) else None,
        "net_value": value - total,
        "unattributed_spend": float(spend.loc[~attributed, "EffectiveCost"].sum()),
        "unattributed_spend_share": _ratio(spend.loc[~attributed, "EffectiveCost"].sum(), total),
    }


def quadrant(stage: object, spend: float, evidenced_value: float, multiple: float | None, target: float) -> str:
    """scale, fix, prove or retire, as docs/metrics.md defines them; retire wins over the others."""
    if stage == "retired" and spend > 0:
        return "retire"
    if evidenced_value <= 0:
        return "prove"
    if multiple is None or multiple >= target:
        return "scale"
    return "fix"


def use_case_table(spend: pd.DataFrame, outcomes: pd.DataFrame, use_cases: pd.DataFrame, target: float) -> pd.DataFrame:
    """One row per use case with spend or outcomes this quarter: spend, value, multiple, evidence mix, quadrant."""
    spend_by = spend.groupby("x_UseCaseId")["EffectiveCost"].sum()
    value_by = (outcomes.groupby(["UseCaseId", "Evidence"])["ValueBase"].sum().unstack("Evidence")
                if len(outcomes) else pd.DataFrame(index=pd.Index([], name="UseCaseId")))
    value_by = value_by.reindex(columns=["measured", "estimated", "assumed"], fill_value=0.0).fillna(0.0)
    ids = sorted(set(spend_by.index) | set(value_by.index))
    if not ids:
        return pd.DataFrame(columns=USE_CASE_COLUMNS)
    table = use_cases.set_index("UseCaseId").reindex(ids)
    rows = []
    for uc in ids:
        s = float(spend_by.get(uc, 0.0))
        mix = value_by.loc[uc] if uc in value_by.index else pd.Series(0.0, index=value_by.columns)
        v = float(mix["measured"] + mix["estimated"])
        # no outcome row for the use case this quarter: no basis for a multiple, as for the headline one
        multiple = _ratio(v, s) if uc in value_by.index else None
        stage = table.at[uc, "Stage"]  # NaN for a use case missing from the register
        rows.append({
            # a use case tagged on spend but missing from the register is shown by its id
            "use_case": uc, "name": table.at[uc, "Name"] if isinstance(table.at[uc, "Name"], str) else uc,
            "business_unit": table.at[uc, "BusinessUnit"],
            "owner": table.at[uc, "Owner"], "stage": stage, "required_tier": table.at[uc, "RequiredTier"],
            # a use case missing from the register (NaN) is not known to be portable
            "portable": bool(table.at[uc, "Portable"] == True),  # noqa: E712
            "fallback": table.at[uc, "FallbackProvider"],
            "spend": s, "value": v,
            "value_measured": float(mix["measured"]), "value_estimated": float(mix["estimated"]),
            "value_assumed": float(mix["assumed"]), "multiple": multiple,
            "evidence": _evidence_label(mix), "quadrant": quadrant(stage, s, v, multiple, target),
        })
    return pd.DataFrame(rows).sort_values("spend", ascending=False, ignore_index=True)


USE_CASE_COLUMNS = ["use_case", "name", "business_unit", "owner", "stage", "required_tier", "portable", "fallback",
                    "spend", "value", "value_measured", "value_estimated", "value_assumed", "multiple", "evidence",
                    "quadrant"]


def _evidence_label(mix: pd.Series) -> str:
    grades = [g for g in ("measured", "estimated", "assumed") if mix.get(g, 0) > 0]
    return " + ".join(grades) if grades else "none"


def value_assumptions(outcomes: pd.DataFrame, use_cases: pd.DataFrame) -> pd.DataFrame:
    """How every estimated or assumed value of the quarter was arrived at: use case, grade, method, value."""
    graded = outcomes[outcomes["Evidence"].isin(("estimated", "assumed"))]
    if "Method" not in graded:
        graded = graded.assign(Method=None)
    out = (graded.groupby(["UseCaseId", "Evidence", "Method"], dropna=False)["ValueBase"].sum().reset_index()
           .rename(columns={"UseCaseId": "use_case", "Evidence": "evidence", "Method": "method", "ValueBase": "value"}))
    out["name"] = out["use_case"].map(use_cases.set_index("UseCaseId")["Name"])
    return out.sort_values(["evidence", "value"], ascending=[False, False], ignore_index=True)


# --- 2. Workload fit ---------------------------------------------------------------------------------

def tiered_tokens(spend: pd.DataFrame, use_cases: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Token rows with the model's tier and the use case's required tier side by side."""
    tokens = token_rows(spend)
    tiers = models.set_index("Model")["Tier"]
    required = use_cases.set_index("UseCaseId")["RequiredTier"]
    out = tokens.assign(ModelTier=tokens["x_Model"].map(tiers), RequiredTier=tokens["x_UseCaseId"].map(required))
    # as numbers: a tier that maps to nothing (no row in the register) stays NaN, never over-provisioned
    out["overprovisioned"] = (out["ModelTier"].map(TIER_RANK).astype(float)
                              > out["RequiredTier"].map(TIER_RANK).astype(float))
    return out


def retiering_cost(rows: pd.DataFrame, models: pd.DataFrame, reference_models: dict[str, str]) -> pd.Series:
    """Each row's token volume priced at list price on the reference model of its required tier.

    Output tokens take the output price; every other token type (input, cached input, cache writes)
    takes the input price, which overstates the reference cost of cached tokens: the saving is a floor.
    """
    prices = models.set_index("Model")[["InputPricePerMTok", "OutputPricePerMTok"]]
    ref = rows["RequiredTier"].map(reference_models)
    unit = [prices.at[m, "OutputPricePerMTok" if t == "output" else "InputPricePerMTok"]
            for m, t in zip(ref, rows["x_TokenType"])]
    return rows["ConsumedQuantity"] / 1e6 * pd.Series(unit, index=rows.index, dtype=float)


def workload_fit(spend: pd.DataFrame, use_cases: pd.DataFrame, models: pd.DataFrame,
                 reference_models: dict[str, str]) -> dict[str, Any]:
    rows = tiered_tokens(spend, use_cases, models)
    over = rows[rows["overprovisioned"]]
    token_spend = float(rows["EffectiveCost"].sum())
    overprovisioned = float(over["EffectiveCost"].sum())
    savings = float((over["EffectiveCost"] - retiering_cost(over, models, reference_models)).sum()) if len(over) else 0.0
    # Fit is judged only where a use case says what tier the work needs: with none, there is nothing to judge
    # (an unattributed quarter would otherwise read as a perfect fit).
    assessed = float(rows.loc[rows["RequiredTier"].notna() & rows["ModelTier"].notna(), "EffectiveCost"].sum())
    fit = 1 - overprovisioned / token_spend if token_spend and assessed else None
    return {"token_spend": token_spend, "overprovisioned_spend": overprovisioned, "workload_fit": fit,
            "retiering_savings": savings, "assessed_token_spend": assessed}


def retiering_table(spend: pd.DataFrame, use_cases: pd.DataFrame, models: pd.DataFrame,
                    reference_models: dict[str, str]) -> pd.DataFrame:
    """Over-provisioned spend by use case and model, with the saving of moving to the reference model."""
    rows = tiered_tokens(spend, use_cases, models)
    over = rows[rows["overprovisioned"]].copy()
    if over.empty:
        return pd.DataFrame(columns=["use_case", "model", "model_tier", "required_tier", "reference_model",
                                     "spend", "reference_cost", "savings"])
    over["reference_cost"] = retiering_cost(over, models, reference_models)
    over["reference_model"] = over["RequiredTier"].map(reference_models)
    out = (over.groupby(["x_UseCaseId", "x_Model", "ModelTier", "RequiredTier", "reference_model"], as_index=False)
           [["EffectiveCost", "reference_cost"]].sum())
    out.columns = ["use_case", "model", "model_tier", "required_tier", "reference_model", "spend", "reference_cost"]
    out["savings"] = out["spend"] - out["reference_cost"]
    return out.sort_values("savings", ascending=False, ignore_index=True)


def seat_utilisation(seats: pd.DataFrame, spend: pd.DataFrame, by_unit: bool = False) -> pd.DataFrame | None:
    """Per product: licensed seats, active users, utilisation, seat cost and the idle share of it.

    Idle cost is computed per month (and business unit where the seat report has one) and then summed,
    so that a month of low use is not averaged away by a month of high use. `by_unit`: per product and business
    unit instead (a `business_unit` column first), whose rows add up to the per-product ones; None when the seat
    report does not name a business unit on every row, so that seats cannot be attributed.
    """
    seat_spend = spend[spend["x_SpendModality"] == "seat_licence"].assign(
        Month=lambda d: d["ChargePeriodStart"].dt.to_period("M").dt.to_timestamp())
    keys = ["Product", "Month"] + (["BusinessUnit"] if seats["BusinessUnit"].notna().all() else [])
    if by_unit and len(keys) < 3:
        return None
    spend_keys = ["ServiceName", "Month"] + (["x_BusinessUnit"] if len(keys) == 3 else [])
    cost = seat_spend.groupby(spend_keys)["EffectiveCost"].sum()
    cost.index.names = keys
    s = seats.groupby(keys)[["LicensedSeats", "ActiveUsers"]].sum()
    s = s.join(cost.rename("seat_cost"), how="outer").fillna(0.0)
    s["idle_cost"] = (1 - s["ActiveUsers"] / s["LicensedSeats"].where(s["LicensedSeats"] > 0)).fillna(0) * s["seat_cost"]
    months = seats["Month"].nunique() or 1
    out = s.groupby(level=["BusinessUnit", "Product"] if by_unit else "Product").sum()
    out["utilisation"] = out["ActiveUsers"] / out["LicensedSeats"].where(out["LicensedSeats"] > 0)
    out["licensed_seats"] = out["LicensedSeats"] / months  # average per month, as a seat count reads
    out["active_users"] = out["ActiveUsers"] / months
    out = out.reset_index().rename(columns={"BusinessUnit": "business_unit", "Product": "product",
                                            "idle_cost": "idle_seat_cost"})
    return out[(["business_unit"] if by_unit else [])
               + ["product", "licensed_seats", "active_users", "utilisation", "seat_cost", "idle_seat_cost"]]


def value_per_seat(spend: pd.DataFrame, outcomes: pd.DataFrame, seats: pd.DataFrame,
                   target: float) -> list[dict[str, Any]]:
    """Per seat product, one quarter: the evidenced value the ledger attributes to it, per active and per
    licensed seat, against what a seat costs, and the break-even utilisation (docs/metrics.md, "Value per seat").

    A use case's value goes to a seat product in the share of the use case's spend that is the product's seats
    (all of it for a use case that is only seats). Evidenced is measured and estimated value; assumed value is
    given apart, as for the value multiple. Seats are monthly averages of the seats table."""
    on_seats = spend[(spend["x_SpendModality"] == "seat_licence") & spend["x_UseCaseId"].notna()]
    by_case = spend.groupby("x_UseCaseId")["EffectiveCost"].sum()
    graded = outcomes.groupby(["UseCaseId", "Evidence"])["ValueBase"].sum()
    months = seats["Month"].nunique() or 1
    out = []
    for product, rows in spend[spend["x_SpendModality"] == "seat_licence"].groupby("ServiceName", sort=True):
        cost = float(rows["EffectiveCost"].sum())
        mine = on_seats[on_seats["ServiceName"] == product].groupby("x_UseCaseId")["EffectiveCost"].sum()
        value = {grade: 0.0 for grade in EVIDENCE}
        for case, amount in mine.items():
            for grade in EVIDENCE:
                value[grade] += float(graded.get((case, grade), 0.0)) * amount / by_case[str(case)]  # ids are str
        held = seats[seats["Product"] == product]
        licensed, active = held["LicensedSeats"].sum() / months, held["ActiveUsers"].sum() / months
        evidenced = value["measured"] + value["estimated"]
        per_active = _ratio(evidenced, active) if evidenced else None
        per_licensed_cost = _ratio(cost, licensed)
        out.append({
            "product": product, "use_cases": sorted(mine.index), "seat_cost": cost, "value": evidenced,
            "value_measured": value["measured"], "value_estimated": value["estimated"],
            "assumed_value": value["assumed"], "evidence": _evidence_label(pd.Series(value)),
            "multiple": _ratio(evidenced, cost) if evidenced else None,
            "licensed_seats": float(licensed), "active_users": float(active),
            "utilisation": _ratio(active, licensed), "value_per_active_seat": per_active,
            "cost_per_licensed_seat": per_licensed_cost,
            # the share of seats in use at which value per licensed seat is `target` times its cost
            "break_even_utilisation": (_ratio(target * per_licensed_cost, per_active)
                                       if per_active and per_licensed_cost is not None else None)})
    return out


def seat_prices(seats: pd.DataFrame, spend: pd.DataFrame) -> dict[str, float]:
    """What a seat costs a month, per product: the quarter's seat-licence spend over the seat-months licensed
    (the price paid, from the ledger's spend rows; a product without either has none)."""
    cost = spend[spend["x_SpendModality"] == "seat_licence"].groupby("ServiceName")["EffectiveCost"].sum()
    months = seats.groupby("Product")["LicensedSeats"].sum()
    return {p: float(cost[p] / months[p]) for p in cost.index if p in months.index and months[p] > 0 and cost[p] > 0}


RECLAIM_COLUMNS = ["Product", "ProviderName", "SeatId", "Anonymised", "BusinessUnit", "ReportDate", "AssignedDate",
                   "LastActivityDate", "IdleSince", "DaysIdle", "NeverUsed", "ReclaimDays", "CostPerYear"]


def reclaimable_seats(seat_users: pd.DataFrame, quarter: Quarter, prices: dict[str, float],
                      days: list[int]) -> pd.DataFrame:
    """The seats of each product's last seat report in the quarter that nobody used for `min(days)` days or more:
    the list for IT (docs/metrics.md, "Reclaimable seats").

    A seat is idle since its last activity; since its assignment when that came later (a seat given back and
    assigned again) or when it was never used; where the report gives no assignment date (Microsoft's), since
    the first report that lists it, which can only understate how long it has been idle. `ReclaimDays` is the
    longest threshold of `days` it has reached; `CostPerYear` is twelve months at the product's price in
    `prices` (empty when the product has none)."""
    upto, latest = _last_reports(seat_users, quarter)
    if latest.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RECLAIM_COLUMNS})
    first_seen = upto.groupby(["Product", "SeatId"])["ReportDate"].min().rename("FirstSeen")
    latest = latest.join(first_seen, on=["Product", "SeatId"])
    last, assigned = latest["LastActivityDate"], latest["AssignedDate"]
    latest["NeverUsed"] = last.isna() | (assigned.notna() & (last < assigned))
    held = assigned.where(assigned.notna(), latest["FirstSeen"])
    since = last.where(~latest["NeverUsed"], held)
    latest["IdleSince"] = since.where(assigned.isna() | (since >= assigned), assigned)
    latest["DaysIdle"] = (latest["ReportDate"] - latest["IdleSince"]).dt.days.clip(lower=0).astype(int)
    out = latest[latest["DaysIdle"] >= min(days)].copy()
    out["ReclaimDays"] = out["DaysIdle"].map(lambda d: max(t for t in days if t <= d)).astype(int)
    out["CostPerYear"] = out["Product"].map(lambda p: prices[p] * 12 if p in prices else float("nan"))
    return (out.sort_values(["Product", "DaysIdle", "SeatId"], ascending=[True, False, True])[RECLAIM_COLUMNS]
            .reset_index(drop=True))


def _last_reports(seat_users: pd.DataFrame, quarter: Quarter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every report up to the quarter's end, each product's last report in the quarter)."""
    upto = seat_users[seat_users["ReportDate"] < quarter.end]
    inside = upto[quarter.contains(upto["ReportDate"])]
    return upto, inside[inside["ReportDate"] == inside.groupby("Product")["ReportDate"].transform("max")].copy()


def monthly_reports(seat_users: pd.DataFrame) -> pd.DataFrame:
    """Each product's last report of each month, with `Active`: activity in the 30 days up to the report (the seat
    adapters' rule), and `Month`."""
    month = seat_users["ReportDate"].dt.to_period("M").dt.to_timestamp()
    last = seat_users.groupby([seat_users["Product"], month])["ReportDate"].transform("max")
    kept = seat_users[seat_users["ReportDate"] == last].assign(Month=month)
    return kept.assign(Active=kept["LastActivityDate"] > kept["ReportDate"] - pd.Timedelta(days=ACTIVE_DAYS))


def adoption(seat_users: pd.DataFrame, quarter: Quarter, engaged_months: int) -> dict[str, Any] | None:
    """The adoption funnel of each seat product in the quarter (docs/metrics.md, "Adoption"): seats licensed in
    its last report, active (used in the quarter), engaged (active in `engaged_months` or more of the quarter's
    monthly reports), retention (of those active in the quarter's first monthly report, the share active in its
    last), and licensed and active seats month by month over every month the data covers up to the quarter's end.
    None when the quarter has no seat report of its users."""
    upto = monthly_reports(seat_users[seat_users["ReportDate"] < quarter.end])
    inside = upto[quarter.contains(upto["ReportDate"])]
    if inside.empty:
        return None
    products, by_unit = [], []
    for product, rows in inside.groupby("Product", sort=True):
        months = sorted(rows["Month"].unique())
        last = rows[rows["Month"] == months[-1]]
        first = rows[rows["Month"] == months[0]]
        active_months = rows[rows["Active"]].groupby("SeatId")["Month"].nunique()
        still = set(last.loc[last["Active"], "SeatId"])
        changed = concealment_changed(rows)
        trend = upto[upto["Product"] == product].groupby("Month").agg(licensed=("SeatId", "size"),
                                                                       active=("Active", "sum"))
        products.append({
            "product": product,
            **_funnel(last, first, active_months, still, quarter, engaged_months, changed, len(months)),
            "months_in_quarter": len(months),
            # the trend's index is Month, a Timestamp; pandas-stubs types an iterrows index as Hashable
            "trend": [{"month": cast(pd.Timestamp, m).date().isoformat(),
                       "licensed": int(r["licensed"]), "active": int(r["active"])}
                      for m, r in trend.iterrows()]})
        # per business unit: a seat belongs to the unit its last report names (its first report's, for retention)
        for unit in sorted(set(last["BusinessUnit"].dropna())):
            by_unit.append({"business_unit": unit, "product": product,
                            **_funnel(last[last["BusinessUnit"] == unit], first[first["BusinessUnit"] == unit],
                                      active_months, still, quarter, engaged_months, changed, len(months))})
    return {"engaged_months": engaged_months, "active_days": ACTIVE_DAYS, "products": products, "by_unit": by_unit}


def _funnel(last: pd.DataFrame, first: pd.DataFrame, active_months: pd.Series, still: set[str], quarter: Quarter,
            engaged_months: int, changed: bool, months: int) -> dict[str, Any]:
    """Licensed, active, engaged and retention of the seats in `last` (a product's last monthly report, or its rows
    of one business unit), with `first` the same seats' first monthly report, `active_months` the monthly reports
    each seat was active in and `still` the seats active in the product's last report."""
    started = set(first.loc[first["Active"], "SeatId"])
    return {
        "licensed": len(last), "active": int((last["LastActivityDate"] >= quarter.start).sum()),
        # a seat followed from report to report by its id: no basis where the ids changed between them
        "engaged": None if changed else int((active_months.reindex(last["SeatId"]).fillna(0) >= engaged_months).sum()),
        "retention": None if changed else len(started & still) / len(started) if started and months > 1 else None,
        "no_basis": dict.fromkeys(("engaged", "retention"), CONCEALMENT_CHANGED) if changed else {}}

CONCEALMENT_CHANGED = "ids not comparable between reports: concealment changed"


def concealment_changed(reports: pd.DataFrame) -> bool:
    """Whether the product's reports in `reports` disagree on concealing user names: one shows hashes, another
    user principal names, so the same holder has a different SeatId in each and cannot be followed between them.
    A report conceals names when most of its ids are hashes (`Anonymised`)."""
    concealed = reports.groupby("ReportDate")["Anonymised"].mean() > 0.5
    return concealed.nunique() > 1


def breadth(seat_users: pd.DataFrame, seat_apps: pd.DataFrame | None, quarter: Quarter) -> dict[str, Any] | None:
    """Breadth of use (docs/metrics.md, "Breadth of use"): per seat product with per-app activity, in its last
    report of the quarter, the seats active (used in the ACTIVE_DAYS up to the report) and, per app
    (schema.M365_APPS), the seats whose holder used it in those days, as a share of the active and of the licensed
    seats. A product whose last report has no per-app rows (a report without per-app columns) has none; None when
    no product has any, and the pack names the report that would give it."""
    if seat_apps is None or seat_apps.empty:
        return None
    latest = _last_reports(seat_users, quarter)[1]
    products = []
    for product, rows in latest.groupby("Product", sort=True):
        report = rows["ReportDate"].max()
        apps = seat_apps[(seat_apps["Product"] == product) & (seat_apps["ReportDate"] == report)]
        if apps.empty:
            continue
        window = report - pd.Timedelta(days=ACTIVE_DAYS)
        active = rows.loc[rows["LastActivityDate"] > window, ["SeatId"]].drop_duplicates()
        # an app counts for a seat of the report that is active: a per-app date is never later than the overall one
        # a join, not isin: pandas' isin on Arrow strings walks them in Python (a second for 90,000 rows)
        used = apps[apps["LastActivityDate"] > window].merge(active, on="SeatId")
        seats = used.groupby("App")["SeatId"].nunique()
        licensed = len(rows)
        products.append({
            "product": product, "report_date": report.date().isoformat(), "licensed": licensed,
            "active": len(active),
            "apps": [{"app": app, "seats": int(seats.get(app, 0)),
                      "share_of_active": _ratio(seats.get(app, 0), len(active)),
                      "share_of_licensed": _ratio(seats.get(app, 0), licensed)}
                     for app in M365_APPS],
            "apps_per_active_seat": _ratio(len(used), len(active))})
    return {"active_days": ACTIVE_DAYS, "products": products} if products else None


def seat_lists(tables: dict[str, pd.DataFrame], quarter: Quarter,
               seat_rules: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The two lists for IT, made once a build (steps.compute passes them to `quarter_metrics` and writes them to
    tables/): `reclaimable_seats` and the Enterprise seats Business would serve (`copilot.downgrade_list`, None
    without a basis), both priced at what the quarter's seats cost (`seat_prices`)."""
    rules = SEAT_RULES | seat_rules
    seats, spend = in_quarter(tables["seats"], "Month", quarter), in_quarter(tables["spend"], "ChargePeriodStart", quarter)
    prices = seat_prices(seats, spend)
    reclaim = reclaimable_seats(tables["seat_users"], quarter, prices, list(rules["reclaim_days"]))
    downgrade = copilot.downgrade_list(tables["seat_users"], tables["seat_feature_usage"], quarter, prices, reclaim,
                                       rules["enterprise_only_features"])
    return reclaim, downgrade


def reclaim_summary(seat_users: pd.DataFrame, reclaim: pd.DataFrame, quarter: Quarter, prices: dict[str, float],
                    days: list[int]) -> dict[str, Any] | None:
    """Per product and in total, the seats reclaimable at each threshold and what they cost a year; None when
    the quarter has no seat report with its users (the pack then names the file that would fill it)."""
    latest = _last_reports(seat_users, quarter)[1]
    if latest.empty:
        return None
    products = []
    for product, rows in latest.groupby("Product", sort=True):
        mine = reclaim[reclaim["Product"] == product]
        price = prices.get(str(product))  # Product is a str column
        products.append({
            "product": product, "report_date": rows["ReportDate"].max().date().isoformat(), "seats": len(rows),
            "anonymised": bool(rows["Anonymised"].any()), "price_per_month": price,
            "never_used": int(mine["NeverUsed"].sum()),
            "by_days": {str(t): {"seats": int((mine["DaysIdle"] >= t).sum()),
                                 "cost_per_year": None if price is None else float((mine["DaysIdle"] >= t).sum()
                                                                                   * price * 12)}
                        for t in days}})
    total = {str(t): {"seats": sum(p["by_days"][str(t)]["seats"] for p in products),
                      "cost_per_year": sum(p["by_days"][str(t)]["cost_per_year"] or 0.0 for p in products)}
             for t in days}
    return {"days": list(days), "products": products, "total": total,
            "unpriced": [p["product"] for p in products if p["price_per_month"] is None],
            "by_unit": _reclaim_by_unit(latest, reclaim, prices, days)}


def _reclaim_by_unit(latest: pd.DataFrame, reclaim: pd.DataFrame, prices: dict[str, float],
                     days: list[int]) -> list[dict[str, Any]]:
    """The same counts per business unit and product, for the business-unit views; seats whose report names no
    business unit belong to none of them (they stay in the product's totals)."""
    out = []
    for (unit, product), rows in latest.dropna(subset=["BusinessUnit"]).groupby(["BusinessUnit", "Product"], sort=True):
        mine = reclaim[(reclaim["Product"] == product) & (reclaim["BusinessUnit"] == unit)]
        price = prices.get(str(product))  # Product is a str column
        out.append({"business_unit": unit, "product": product, "seats": len(rows),
                    "never_used": int(mine["NeverUsed"].sum()),
                    "by_days": {str(t): {"seats": int((mine["DaysIdle"] >= t).sum()),
                                         "cost_per_year": None if price is None
                                         else float((mine["DaysIdle"] >= t).sum() * price * 12)} for t in days}})
    return out


# --- 3. Flexibility ----------------------------------------------------------------------------------

def provider_shares(spend: pd.DataFrame) -> pd.Series:
    by = spend.groupby("ProviderName")["EffectiveCost"].sum().sort_values(ascending=False)
    total = by.sum()
    return by / total if total else by


def flexibility(spend: pd.DataFrame, use_cases: pd.DataFrame, models: pd.DataFrame) -> dict[str, Any]:
    total = float(spend["EffectiveCost"].sum())
    portable_ids = set(use_cases.loc[use_cases["Portable"] == True, "UseCaseId"])  # noqa: E712
    shares = provider_shares(spend)
    usage_based = (spend["ChargeFrequency"] == "Usage-Based") & (spend["PricingCategory"] != "Committed")
    tokens = token_rows(spend)
    open_models = set(models.loc[models["OpenWeights"] == True, "Model"])  # noqa: E712
    token_spend = tokens["EffectiveCost"].sum()
    return {
        # without a register nothing is known to be portable, which is not the same as nothing being portable
        "portable_spend_share": _ratio(spend.loc[spend["x_UseCaseId"].isin(portable_ids), "EffectiveCost"].sum(), total)
        if len(use_cases) else None,
        "hhi": float((shares.mul(100) ** 2).sum()) if total else None,
        "top_provider": shares.index[0] if len(shares) else None,
        "top_provider_share": float(shares.iloc[0]) if len(shares) else None,
        "consumption_share": _ratio(spend.loc[usage_based, "EffectiveCost"].sum(), total),
        "open_weight_share": _ratio(tokens.loc[tokens["x_Model"].isin(open_models), "EffectiveCost"].sum(), token_spend),
    }


# --- Spend dynamics ----------------------------------------------------------------------------------

def sku_volumes(spend: pd.DataFrame) -> pd.DataFrame:
    """Token cost and volume per SKU (model x token type)."""
    tokens = token_rows(spend)
    # dropna=False: token spend without a model or token type still counts, as one SKU of its own
    return tokens.groupby(["x_Model", "x_TokenType"], dropna=False)[["EffectiveCost", "ConsumedQuantity"]].sum()


def jevons_bridge(previous: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """Split the change in token spend into volume, mix and price effects that sum to it exactly.

    Effects are rounded to the cent; the price effect takes the rounding remainder (at most a cent)
    so that volume + mix + price equals the rounded change in token spend exactly.
    """
    p, c = sku_volumes(previous), sku_volumes(current)
    cost0, v0 = p["EffectiveCost"].sum(), p["ConsumedQuantity"].sum()
    cost1, v1 = c["EffectiveCost"].sum(), c["ConsumedQuantity"].sum()
    u0_avg = cost0 / v0 if v0 else 0.0
    u1 = c["EffectiveCost"] / c["ConsumedQuantity"].where(c["ConsumedQuantity"] > 0)
    u0 = (p["EffectiveCost"] / p["ConsumedQuantity"].where(p["ConsumedQuantity"] > 0)).reindex(c.index)
    u0 = u0.fillna(u1)  # a SKU new this quarter takes u0 = u1: it adds mix, not price
    volume = (v1 - v0) * u0_avg
    mix = (c["ConsumedQuantity"] / v1 * u0).sum() * v1 - v1 * u0_avg if v1 else 0.0
    price = float((c["ConsumedQuantity"] * (u1 - u0)).fillna(0).sum())
    prev_r, cur_r = round(float(cost0), 2), round(float(cost1), 2)
    volume_r, mix_r = round(float(volume), 2), round(float(mix), 2)
    return {
        "previous_token_spend": prev_r, "token_spend": cur_r,
        "volume": volume_r, "mix": mix_r, "price": round(cur_r - prev_r - volume_r - mix_r, 2),
        "price_unrounded": price,
        "previous_tokens": float(v0), "tokens": float(v1),
        "unit_cost_per_mtok": float(cost1 / v1 * 1e6) if v1 else None,
        "previous_unit_cost_per_mtok": float(u0_avg * 1e6) if v0 else None,
    }


# --- Assembly ----------------------------------------------------------------------------------------

def rag(value: float | None, target: float, higher_is_better: bool = True) -> str:
    """green when the target is met, amber within 10% of it, red otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "red"
    if not higher_is_better:
        value, target = -value, -target
    if value >= target:
        return "green"
    return "amber" if value >= target - abs(target) * 0.10 else "red"


def headline(tables: dict[str, pd.DataFrame], quarter: Quarter, reference_models: dict[str, str]) -> dict[str, Any]:
    """The headline numbers of one quarter (the keys of HEADLINE_KEYS and a few supporting ones)."""
    spend = in_quarter(tables["spend"], "ChargePeriodStart", quarter)
    outcomes = in_quarter(tables["outcomes"], "Month", quarter)
    seats = in_quarter(tables["seats"], "Month", quarter)
    out: dict[str, Any] = {"quarter": str(quarter)}
    out |= value_metrics(spend, outcomes)
    out["outcome_rows"] = len(outcomes)
    out |= workload_fit(spend, tables["use_cases"], tables["models"], reference_models)
    seat = cast(pd.DataFrame, seat_utilisation(seats, spend))  # None only by_unit=True
    out["idle_seat_cost"] = float(seat["idle_seat_cost"].sum())
    out["rightsizing_opportunity"] = out["retiering_savings"] + out["idle_seat_cost"]
    out |= flexibility(spend, tables["use_cases"], tables["models"])
    out["modality"] = {k: float(v) for k, v in spend.groupby("x_SpendModality")["EffectiveCost"].sum().items()}
    tokens = token_rows(spend)
    out["tokens"] = float(tokens["ConsumedQuantity"].sum())
    out["unit_cost_per_mtok"] = _ratio(out["token_spend"] * 1e6, out["tokens"])
    return out


def quarter_metrics(tables: dict[str, pd.DataFrame], quarter: Quarter, targets: dict[str, float],
                    reference_models: dict[str, str], currency: str, status: str,
                    scenarios: dict[str, dict[str, Any]] | None = None, seat_rules: dict[str, Any] | None = None,
                    reclaim: pd.DataFrame | None = None, downgrade: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything `metrics.json` holds for a quarter: headline, previous, bridge, use cases, history.

    `reclaim`, `downgrade`: the quarter's `seat_lists`, when the caller has made them (steps.compute writes them to
    tables/); else they are made here."""
    spend = tables["spend"]
    # One headline per quarter from the first in the data: the history, this quarter and the previous one.
    history = [headline(tables, q, reference_models) for q in _quarter_range(min(_quarters(spend)), quarter)]
    current = history[-1]
    prev_q = quarter.previous()
    has_previous = prev_q.contains(spend["ChargePeriodStart"]).any()
    previous = history[-2] if has_previous else None
    spend_q = in_quarter(spend, "ChargePeriodStart", quarter)
    outcomes_q = in_quarter(tables["outcomes"], "Month", quarter)
    seats_q = in_quarter(tables["seats"], "Month", quarter)
    ucs = use_case_table(spend_q, outcomes_q, tables["use_cases"], targets["value_multiple"])
    metrics: dict[str, Any] = {"quarter": str(quarter), "currency": currency, "status": status}
    metrics |= {k: current[k] for k in HEADLINE_KEYS}
    metrics |= {k: current[k] for k in current if k not in HEADLINE_KEYS and k != "quarter"}
    both_without_tokens = previous is not None and not current["token_spend"] and not previous["token_spend"]
    metrics["bridge"] = (jevons_bridge(in_quarter(spend, "ChargePeriodStart", prev_q), spend_q)
                         if has_previous and not both_without_tokens else None)
    metrics["previous"] = ({"quarter": str(prev_q)} | {k: previous[k] for k in HEADLINE_KEYS}) if previous else None
    metrics["targets"] = dict(targets)
    metrics["no_basis"] = no_basis(current, tables["use_cases"], both_without_tokens)
    metrics["rag"] = {k: None if k in metrics["no_basis"] else rag(current[k], targets[k])
                      for k in ("value_multiple", "workload_fit", "portable_spend_share")}
    metrics["use_cases"] = _records(ucs)
    metrics["retiering"] = _records(retiering_table(spend_q, tables["use_cases"], tables["models"], reference_models))
    metrics["seats"] = _records(cast(pd.DataFrame, seat_utilisation(seats_q, spend_q)))  # None only by_unit=True
    # the same per business unit, for the business-unit views (README, "Role views"); null: not attributable
    by_unit = seat_utilisation(seats_q, spend_q, by_unit=True)
    metrics["seats_by_unit"] = None if by_unit is None else _records(by_unit)
    # reclaimable seats, from the seat reports' users (README, "Reclaimable seats"); null: no such report this quarter
    rules: dict[str, Any] = SEAT_RULES | (seat_rules or {})
    prices, days = seat_prices(seats_q, spend_q), list(rules["reclaim_days"])
    users = tables.get("seat_users")
    if users is not None and reclaim is None:
        reclaim = reclaimable_seats(users, quarter, prices, days)
    # cast: with users, reclaim is the caller's or made just above, never None
    summary = None if users is None else reclaim_summary(users, cast(pd.DataFrame, reclaim), quarter, prices, days)
    saving = summary["total"][str(days[-1])]["cost_per_year"] if summary else 0.0  # a year, at the longest threshold
    if summary is not None:  # a headline of the executive summary when a year of it is a material share of spend
        summary["headline_share"] = rules["headline_share"]
        summary["material"] = bool(saving and current["spend"] and saving >= rules["headline_share"] * current["spend"] * 4)
    metrics["reclaim"] = summary
    metrics["adoption"] = None if users is None else adoption(users, quarter, int(rules["engaged_months"]))
    # breadth of use, from the seat reports' per-app activity (README, "Breadth of use"); null: no such report
    metrics["breadth"] = None if users is None else breadth(users, tables.get("seat_apps"), quarter)
    metrics["value_per_seat"] = value_per_seat(spend_q, outcomes_q, seats_q, targets["value_multiple"])
    # GitHub Copilot's breadth of use and the Enterprise seats Business would serve (boardpack.copilot)
    metrics |= copilot.github_metrics(tables, quarter, prices, reclaim, rules["enterprise_only_features"], downgrade)
    metrics["providers"] = [{"provider": k, "share": float(v), "spend": float(v * current["spend"])}
                            for k, v in provider_shares(spend_q).items()]
    metrics["modality"] = current["modality"]
    metrics["history"] = [{k: h[k] for k in ("quarter", "spend", "value", "value_low", "value_high", "assumed_value",
                                              "token_spend", "tokens", "unit_cost_per_mtok", "hhi",
                                              "top_provider_share", "value_multiple")} for h in history]
    metrics["reference_models"] = dict(reference_models)
    metrics["assumptions"] = _records(value_assumptions(outcomes_q, tables["use_cases"]))
    modality_history = {m: [h["modality"].get(m, 0.0) for h in history] for m in forecast.MODALITIES}
    metrics["forecast"] = forecast.forecast(history, modality_history, current["retiering_savings"],
                                            current["idle_seat_cost"], scenarios or {}, saving / 4)
    return metrics


def no_basis(current: dict[str, Any], use_cases: pd.DataFrame, both_without_tokens: bool) -> dict[str, str]:
    """Metric -> why it has no number this quarter (see the module docstring)."""
    out: dict[str, str] = {}
    if not current["token_spend"]:
        out |= dict.fromkeys(TOKEN_METRICS, NO_TOKENS)
    elif current["workload_fit"] is None:
        out |= dict.fromkeys(("workload_fit", "retiering_savings"),
                             NO_REGISTER if not len(use_cases) else NO_TIER)
    if both_without_tokens:
        out["bridge"] = "no token spend this quarter or last"
    if not current["outcome_rows"]:
        out["value_multiple"] = NO_OUTCOMES
    if not len(use_cases):
        out["portable_spend_share"] = NO_REGISTER
    return out


def _quarters(spend: pd.DataFrame) -> list[Quarter]:
    return [Quarter.of(t) for t in spend["ChargePeriodStart"].dt.to_period("Q").dt.start_time.unique()]


def _quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    out, q = [], first
    while q <= last:
        out.append(q)
        q = q.next()
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # str(k): the frames' column names are str; pandas-stubs types them as Hashable
    return [{str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]
