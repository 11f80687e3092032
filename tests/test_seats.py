"""Reclaimable seats, worked by hand on a small seat_users table (docs/metrics.md, "Reclaimable seats")."""

from __future__ import annotations

import pandas as pd
import pytest

from boardpack import metrics
from boardpack.quarters import Quarter
from boardpack.schema import SEAT_USERS_COLUMNS

Q3 = Quarter.parse("2026-Q3")
M365, GH = "Microsoft 365 Copilot", "GitHub Copilot Business"
PRICES = {M365: 30.0, GH: 19.0}


def users() -> pd.DataFrame:
    rows = []

    def seat(product, seat_id, report, last=None, assigned=None):
        rows.append({"ProviderName": "Microsoft" if product == M365 else "GitHub", "Product": product,
                     "SeatId": seat_id, "Anonymised": product == M365, "BusinessUnit": "Finance",
                     "ReportDate": pd.Timestamp(report), "AssignedDate": pd.Timestamp(assigned) if assigned else pd.NaT,
                     "LastActivityDate": pd.Timestamp(last) if last else pd.NaT})

    seat(M365, "d", "2026-06-30")  # listed last quarter: held since 30 June at least
    for report in ("2026-07-31", "2026-08-31"):
        seat(M365, "d", report)
    seat(M365, "a", "2026-09-30", last="2026-09-29")  # 1 day: in use
    seat(M365, "b", "2026-09-30", last="2026-08-31")  # 30 days
    seat(M365, "c", "2026-09-30", last="2026-07-01")  # 91 days
    seat(M365, "d", "2026-09-30")  # never used; idle since its first report, 30 June: 92 days
    seat(M365, "e", "2026-09-30")  # never used, first listed today: a new seat, not reclaimable
    seat(M365, "f", "2026-09-30", last="2026-06-15")  # active before the first report: 107 days
    seat(GH, "user:g", "2026-09-30", assigned="2026-09-01")  # never used, assigned 29 days ago: too new
    seat(GH, "user:h", "2026-09-30", last="2026-06-30", assigned="2026-05-01")  # 92 days
    seat(GH, "user:i", "2026-09-30", last="2026-03-01", assigned="2026-08-15")  # unused since assigned: 46 days
    seat(GH, "user:j", "2026-09-30", last="2026-09-30", assigned="2026-01-10")  # used today
    seat(GH, "user:k", "2026-10-31", assigned="2026-01-10")  # next quarter's report: not this quarter's
    return pd.DataFrame(rows)[list(SEAT_USERS_COLUMNS)]


def test_the_reclaim_list_is_the_seats_a_person_picks_by_hand():
    got = metrics.reclaimable_seats(users(), Q3, PRICES, [30, 60, 90])
    picked = [(GH, "user:h", 92, False, 90, 228.0), (GH, "user:i", 46, True, 30, 228.0),
              (M365, "f", 107, False, 90, 360.0), (M365, "d", 92, True, 90, 360.0),
              (M365, "c", 91, False, 90, 360.0), (M365, "b", 30, False, 30, 360.0)]
    assert list(got[["Product", "SeatId", "DaysIdle", "NeverUsed", "ReclaimDays", "CostPerYear"]]
                .itertuples(index=False, name=None)) == picked
    assert got.loc[got["SeatId"] == "d", "IdleSince"].item() == pd.Timestamp("2026-06-30")
    assert got.loc[got["SeatId"] == "user:i", "IdleSince"].item() == pd.Timestamp("2026-08-15")
    assert set(got["ReportDate"]) == {pd.Timestamp("2026-09-30")}


def test_the_summary_counts_each_threshold_and_its_cost_a_year():
    table = users()
    got = metrics.reclaim_summary(table, metrics.reclaimable_seats(table, Q3, PRICES, [30, 60, 90]), Q3, PRICES,
                                  [30, 60, 90])
    gh, m365 = got["products"]
    assert (gh["product"], gh["seats"], gh["never_used"], gh["anonymised"]) == (GH, 4, 1, False)
    assert gh["by_days"] == {"30": {"seats": 2, "cost_per_year": 456.0}, "60": {"seats": 1, "cost_per_year": 228.0},
                             "90": {"seats": 1, "cost_per_year": 228.0}}
    assert (m365["seats"], m365["never_used"], m365["anonymised"], m365["report_date"]) == (6, 1, True, "2026-09-30")
    assert m365["by_days"]["30"] == {"seats": 4, "cost_per_year": 1440.0}
    assert m365["by_days"]["90"] == {"seats": 3, "cost_per_year": 1080.0}
    assert got["total"] == {"30": {"seats": 6, "cost_per_year": 1896.0}, "60": {"seats": 4, "cost_per_year": 1308.0},
                            "90": {"seats": 4, "cost_per_year": 1308.0}}
    assert got["unpriced"] == []


def test_a_product_without_a_price_is_listed_without_a_cost_and_named():
    table = users()
    got = metrics.reclaim_summary(table, metrics.reclaimable_seats(table, Q3, {M365: 30.0}, [90]), Q3, {M365: 30.0}, [90])
    assert got["unpriced"] == [GH] and got["products"][0]["by_days"]["90"] == {"seats": 1, "cost_per_year": None}
    assert got["total"]["90"] == {"seats": 4, "cost_per_year": 1080.0}


def test_business_units_get_their_own_seats_to_take_back_and_seats_of_no_unit_belong_to_none():
    table = users()
    table.loc[table["SeatId"].isin(["c", "f"]), "BusinessUnit"] = "Legal"
    table.loc[table["SeatId"] == "b", "BusinessUnit"] = None
    got = metrics.reclaim_summary(table, metrics.reclaimable_seats(table, Q3, PRICES, [30, 60, 90]), Q3, PRICES,
                                  [30, 60, 90])["by_unit"]
    # Finance holds g, h, i, j (h idle 92 days, i never used for 46) and a, d, e (d never used for 92 days);
    # Legal holds c and f, both idle 90 days or more; b's report names no business unit.
    assert [(u["business_unit"], u["product"], u["seats"], u["never_used"]) for u in got] == [
        ("Finance", GH, 4, 1), ("Finance", M365, 3, 1), ("Legal", M365, 2, 0)]
    assert got[0]["by_days"] == {"30": {"seats": 2, "cost_per_year": 456.0}, "60": {"seats": 1, "cost_per_year": 228.0},
                                 "90": {"seats": 1, "cost_per_year": 228.0}}
    assert got[1]["by_days"]["90"] == {"seats": 1, "cost_per_year": 360.0}
    assert got[2]["by_days"]["30"] == got[2]["by_days"]["90"] == {"seats": 2, "cost_per_year": 720.0}


def test_a_quarter_without_a_seat_report_of_its_users_has_no_reclaim_summary():
    table = users()
    assert metrics.reclaim_summary(table, metrics.reclaimable_seats(table, Quarter.parse("2026-Q1"), PRICES, [30]),
                                   Quarter.parse("2026-Q1"), PRICES, [30]) is None
    assert metrics.reclaimable_seats(table.iloc[0:0], Q3, PRICES, [30]).empty


def test_the_price_of_a_seat_is_the_quarters_seat_spend_over_its_seat_months():
    seats = pd.DataFrame({"Product": [M365, M365, GH], "LicensedSeats": [100.0, 300.0, 10.0]})
    spend = pd.DataFrame({"x_SpendModality": ["seat_licence", "seat_licence", "api_tokens", "seat_licence"],
                          "ServiceName": [M365, M365, "OpenAI API", "Some other seat"],
                          "EffectiveCost": [5000.0, 7000.0, 999.0, 50.0]})
    assert metrics.seat_prices(seats, spend) == {M365: pytest.approx(30.0)}


def funnel_users() -> pd.DataFrame:
    rows = []

    def seat(seat_id, report, last=None):
        rows.append({"ProviderName": "Microsoft", "Product": M365, "SeatId": seat_id, "Anonymised": False,
                     "BusinessUnit": "Finance", "ReportDate": pd.Timestamp(report), "AssignedDate": pd.NaT,
                     "LastActivityDate": pd.Timestamp(last) if last else pd.NaT})

    seat("s5", "2026-06-30", "2026-06-10")  # last quarter's report: in the trend only
    for report, s1, s2, s3 in (("2026-07-31", "2026-07-30", "2026-07-15", "2026-07-20"),
                               ("2026-08-31", "2026-08-30", "2026-07-15", "2026-07-20"),
                               ("2026-09-30", "2026-09-29", "2026-09-10", "2026-07-20")):
        seat("s1", report, s1)  # active every month: engaged
        seat("s2", report, s2)  # active in July and September
        seat("s3", report, s3)  # tried it in July, then stopped
        seat("s5", report, "2026-06-10")  # not used this quarter
    seat("s6", "2026-07-31", "2026-07-25")  # active in July, gone by August
    seat("s4", "2026-09-30")  # new in September, not used yet
    seat("s1", "2026-09-15", "2026-09-14")  # a mid-month download: the month's last report wins
    return pd.DataFrame(rows)[list(SEAT_USERS_COLUMNS)]


def test_the_adoption_funnel_is_the_one_worked_by_hand():
    [got] = metrics.adoption(funnel_users(), Q3, engaged_months=3)["products"]
    assert (got["product"], got["licensed"], got["active"], got["engaged"]) == (M365, 5, 3, 1)
    assert got["retention"] == 0.5  # s1, s2, s3, s6 active in July; s1 and s2 still in September
    assert got["trend"] == [{"month": "2026-06-01", "licensed": 1, "active": 1},
                            {"month": "2026-07-01", "licensed": 5, "active": 4},
                            {"month": "2026-08-01", "licensed": 4, "active": 1},
                            {"month": "2026-09-01", "licensed": 5, "active": 2}]
    assert metrics.adoption(funnel_users(), Q3, engaged_months=2)["products"][0]["engaged"] == 2
    assert metrics.adoption(funnel_users(), Quarter.parse("2026-Q1"), engaged_months=3) is None


def test_the_adoption_funnel_of_each_business_unit_is_the_one_worked_by_hand():
    table = funnel_users()
    table.loc[table["SeatId"] == "s1", "BusinessUnit"] = "Sales"
    table.loc[(table["SeatId"] == "s2") & (table["ReportDate"] == pd.Timestamp("2026-07-31")), "BusinessUnit"] = "Legal"
    table.loc[(table["SeatId"] == "s2") & (table["ReportDate"] > pd.Timestamp("2026-07-31")), "BusinessUnit"] = "Sales"
    got = metrics.adoption(table, Q3, engaged_months=3)
    finance, sales = got["by_unit"]
    # September: Sales holds s1 and s2 (which moved from Legal), Finance s3, s4 and s5; Legal none any more
    assert (sales["business_unit"], sales["licensed"], sales["active"], sales["engaged"]) == ("Sales", 2, 2, 1)
    assert sales["retention"] == 1.0  # of Sales' July actives (s1; s2 was Legal's then), s1 is still active
    assert (finance["business_unit"], finance["licensed"], finance["active"], finance["engaged"]) == ("Finance", 3, 1, 0)
    assert finance["retention"] == 0.0  # s3 and s6 were active in July; neither is in September
    # the product's own funnel is unchanged by the units
    assert got["products"][0]["licensed"] == 5 and got["products"][0]["retention"] == 0.5


def test_value_per_seat_and_break_even_are_the_ones_worked_by_hand():
    months = [pd.Timestamp(f"2026-{m:02d}-01") for m in (7, 8, 9)]
    seats = pd.DataFrame({"Product": [M365] * 3 + [GH] * 3, "Month": months * 2,
                          "LicensedSeats": [100.0, 100.0, 100.0, 10.0, 10.0, 10.0],
                          "ActiveUsers": [60.0, 70.0, 80.0, 5.0, 5.0, 5.0]})
    spend = pd.DataFrame({
        "x_SpendModality": ["seat_licence"] * 3 + ["api_tokens", "seat_licence", "seat_licence"],
        "ServiceName": [M365] * 3 + ["OpenAI API", M365, GH],
        "x_UseCaseId": ["UC-01"] * 4 + ["UC-09", None],
        "EffectiveCost": [2700.0, 2700.0, 2700.0, 900.0, 900.0, 500.0]})
    outcomes = pd.DataFrame({"UseCaseId": ["UC-01", "UC-01", "UC-01", "UC-09"],
                             "Evidence": ["estimated", "assumed", "measured", "measured"],
                             "ValueBase": [20_000.0, 5_000.0, 2_000.0, 1_000.0]})
    gh, m365 = metrics.value_per_seat(spend, outcomes, seats, target=3.0)
    # UC-01 is 90% seats (8,100 of 9,000): 90% of its 22,000 evidenced and 5,000 assumed; UC-09 all of its 1,000
    assert m365["use_cases"] == ["UC-01", "UC-09"] and m365["seat_cost"] == 9000.0
    assert m365["value"] == pytest.approx(20_800.0) and m365["assumed_value"] == pytest.approx(4_500.0)
    assert (m365["value_measured"], m365["value_estimated"]) == (pytest.approx(2_800.0), pytest.approx(18_000.0))
    assert (m365["licensed_seats"], m365["active_users"], m365["utilisation"]) == (100.0, 70.0, 0.7)
    assert m365["value_per_active_seat"] == pytest.approx(20_800 / 70)
    assert m365["cost_per_licensed_seat"] == pytest.approx(90.0)
    assert m365["multiple"] == pytest.approx(20_800 / 9_000)
    assert m365["break_even_utilisation"] == pytest.approx(3 * 90 / (20_800 / 70))  # 90.9%: above today's 70%
    assert (gh["value"], gh["value_per_active_seat"], gh["break_even_utilisation"], gh["multiple"]) == (0.0, None, None, None)
