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
