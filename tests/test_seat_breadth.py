"""Breadth of use of Microsoft 365 Copilot (per-app last activity -> seat_apps -> metrics `breadth`) and adoption
when a tenant's name concealment changes between reports, worked by hand (docs/metrics.md, "Breadth of use",
"Adoption")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from boardpack import metrics
from boardpack.adapters import Settings, m365
from boardpack.quarters import Quarter
from boardpack.schema import M365_APPS, SEAT_APPS_COLUMNS, SEAT_USERS_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"
Q3 = Quarter.parse("2026-Q3")
M365, GH = "Microsoft 365 Copilot", "GitHub Copilot Business"


def seat_users(rows: list[tuple]) -> pd.DataFrame:
    """(product, seat id, report, last activity or None, anonymised) -> seat_users."""
    return pd.DataFrame([{"ProviderName": "Microsoft" if p == M365 else "GitHub", "Product": p, "SeatId": s,
                          "Anonymised": anon, "BusinessUnit": "Finance", "ReportDate": pd.Timestamp(r),
                          "AssignedDate": pd.NaT, "LastActivityDate": pd.Timestamp(last) if last else pd.NaT}
                         for p, s, r, last, anon in rows])[list(SEAT_USERS_COLUMNS)]


def seat_apps(rows: list[tuple]) -> pd.DataFrame:
    """(seat id, report, app, last activity) -> seat_apps of Microsoft 365 Copilot."""
    return pd.DataFrame([{"ProviderName": "Microsoft", "Product": M365, "SeatId": s, "ReportDate": pd.Timestamp(r),
                          "App": app, "LastActivityDate": pd.Timestamp(last)}
                         for s, r, app, last in rows])[list(SEAT_APPS_COLUMNS)]


# --- the metric ------------------------------------------------------------------------------------------

def breadth_users() -> pd.DataFrame:
    return seat_users([
        (M365, "a", "2026-08-31", "2026-08-20", True),
        (M365, "a", "2026-09-30", "2026-09-29", True),  # active
        (M365, "b", "2026-09-30", "2026-09-10", True),  # active
        (M365, "c", "2026-09-30", "2026-08-31", True),  # 30 days before the report: outside the window, idle
        (M365, "d", "2026-09-30", None, True),  # never used
        (M365, "e", "2026-09-30", "2026-09-05", True),  # active
        (GH, "user:g", "2026-09-30", "2026-09-30", False),  # a product without per-app activity: no breadth
    ])


def breadth_apps() -> pd.DataFrame:
    return seat_apps([
        ("a", "2026-08-31", "Excel", "2026-08-20"),  # August's report: not the quarter's last
        ("a", "2026-09-30", "Teams", "2026-09-29"),
        ("a", "2026-09-30", "Copilot Chat", "2026-09-20"),
        ("a", "2026-09-30", "Word", "2026-08-15"),  # used, but before the 30 days up to the report
        ("b", "2026-09-30", "Outlook", "2026-09-10"),
        ("b", "2026-09-30", "Teams", "2026-09-01"),  # the first day of the window
        ("c", "2026-09-30", "Teams", "2026-08-31"),  # idle seat: outside the window
        ("e", "2026-09-30", "Copilot Chat", "2026-09-05"),
        ("z", "2026-09-30", "Loop", "2026-09-29"),  # not a seat of the report: not counted
    ])


def test_breadth_is_the_share_of_active_seats_using_each_app_worked_by_hand():
    got = metrics.breadth(breadth_users(), breadth_apps(), Q3)
    assert got["active_days"] == 30
    [p] = got["products"]  # GitHub Copilot has no per-app rows: not listed
    # 5 seats in the 2026-09-30 report; a, b and e used Copilot after 2026-08-31
    assert (p["product"], p["report_date"], p["licensed"], p["active"]) == (M365, "2026-09-30", 5, 3)
    apps = {a["app"]: (a["seats"], a["share_of_active"], a["share_of_licensed"]) for a in p["apps"]}
    assert [a["app"] for a in p["apps"]] == list(M365_APPS)
    assert apps == {"Teams": (2, 2 / 3, 2 / 5),  # a and b; c's Teams use is 30 days old
                    "Outlook": (1, 1 / 3, 1 / 5),  # b
                    "Word": (0, 0.0, 0.0),  # a's Word use is August's
                    "Excel": (0, 0.0, 0.0),  # only in August's report
                    "PowerPoint": (0, 0.0, 0.0), "OneNote": (0, 0.0, 0.0), "Loop": (0, 0.0, 0.0),  # z is no seat
                    "Copilot Chat": (2, 2 / 3, 2 / 5)}  # a and e
    assert p["apps_per_active_seat"] == 5 / 3  # a: Teams, Chat; b: Outlook, Teams; e: Chat


def test_no_per_app_rows_no_breadth():
    assert metrics.breadth(breadth_users(), None, Q3) is None
    assert metrics.breadth(breadth_users(), breadth_apps().iloc[:0], Q3) is None
    # the quarter's last report has no per-app rows (a report without the columns): none, not 0%
    assert metrics.breadth(breadth_users(), breadth_apps().iloc[:1], Q3) is None
    assert metrics.breadth(breadth_users(), breadth_apps(), Quarter.parse("2026-Q2")) is None


# --- the adapter ------------------------------------------------------------------------------------------

def test_m365_seat_apps_are_the_per_app_dates_of_the_reports_kept_in_every_variant():
    # Worked from the fixture files (tests/fixtures/m365_copilot/NOTES.md): June Graph v1, July Graph v2 (Copilot
    # Chat (work) and (web)), August the admin-center export, September Graph v1. The superseded weekly June
    # report gives none. Only cells with a date give a row.
    data = m365.read(FIXTURES / "m365_copilot", Settings())
    got = data.seat_apps
    assert list(got.columns) == list(SEAT_APPS_COLUMNS)
    assert set(got["Product"]) == {M365} and set(got["ProviderName"]) == {"Microsoft"}
    rows = [(s, r.date().isoformat(), app, last.date().isoformat())
            for s, r, app, last in zip(got["SeatId"], got["ReportDate"], got["App"], got["LastActivityDate"])]
    assert rows == [
        ("ada@contoso.com", "2026-06-30", "Teams", "2026-06-20"),
        ("ada@contoso.com", "2026-06-30", "Copilot Chat", "2026-06-29"),
        ("bob@contoso.com", "2026-06-30", "Teams", "2026-05-15"),
        ("dee@contoso.com", "2026-06-30", "Word", "2026-05-31"),
        ("eve@contoso.com", "2026-06-30", "Excel", "2026-06-01"),
        ("34cc93ece0ba9e3f6f235d4af979b16c", "2026-07-31", "Word", "2026-07-04"),
        ("5f4dcc3b5aa765d61d8327deb882cf99", "2026-07-31", "Copilot Chat", "2026-07-30"),
        ("6cb75f652a9b52798eb6cf2201057c73", "2026-07-31", "Teams", "2026-07-03"),
        ("b25ef06be3b6948c0bc431da46c2c738", "2026-07-31", "Copilot Chat", "2026-07-31"),
        ("ada@contoso.com", "2026-08-31", "Teams", "2026-08-20"),
        ("ada@contoso.com", "2026-08-31", "Copilot Chat", "2026-08-19"),
        ("bob@contoso.com", "2026-08-31", "Word", "2026-08-02"),
        ("cy@contoso.com", "2026-08-31", "Copilot Chat", "2026-07-15"),
        ("8f14e45fceea167a5a36dedd4bea2543", "2026-09-30", "Word", "2026-09-02"),
        ("ada@sales.contoso.com", "2026-09-30", "Teams", "2026-09-20"),
        ("ada@sales.contoso.com", "2026-09-30", "Copilot Chat", "2026-09-28"),
        ("bob@sales.contoso.com", "2026-09-30", "Teams", "2026-08-15"),
        ("cy@contoso.com", "2026-09-30", "Copilot Chat", "2026-09-10"),
    ]
    # every row is a seat of seat_users, in the same report
    keys = set(zip(data.seat_users["SeatId"], data.seat_users["ReportDate"]))
    assert set(zip(got["SeatId"], got["ReportDate"])) <= keys
    # September's breadth from the files: active after 2026-08-31 are ada (09-28), cy (09-10), the hash (09-02)
    [p] = metrics.breadth(data.seat_users, got, Q3)["products"]
    assert (p["licensed"], p["active"]) == (4, 3)
    assert {a["app"]: a["seats"] for a in p["apps"] if a["seats"]} == {"Teams": 1, "Word": 1, "Copilot Chat": 2}


def test_m365_copilot_chat_is_the_latest_of_work_and_web(tmp_path):
    header = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,"
              "Copilot Chat (work) Last Activity Date,Copilot Chat (web) Last Activity Date,"
              "Loop Copilot Last Activity Date,Prompts submitted for all apps,Report Period")
    (tmp_path / "v2_2026-10.csv").write_text(header + "\n"
                                             "2026-10-31,a@contoso.com,A,2026-10-20,2026-10-10,2026-10-20,,4,30\n"
                                             "2026-10-31,b@contoso.com,B,2026-10-05,,,2026-10-05,1,30\n")
    got = m365.read(tmp_path, Settings()).seat_apps
    assert list(zip(got["SeatId"], got["App"], got["LastActivityDate"].dt.strftime("%Y-%m-%d"))) == [
        ("a@contoso.com", "Copilot Chat", "2026-10-20"), ("b@contoso.com", "Loop", "2026-10-05")]


def test_m365_a_report_without_per_app_columns_gives_no_seat_apps(tmp_path):
    (tmp_path / "r_2026-10.csv").write_text("Report Refresh Date,User Principal Name,Last Activity Date,Report Period\n"
                                            "2026-10-31,a@contoso.com,2026-10-20,30\n")
    data = m365.read(tmp_path, Settings())
    assert len(data.seat_users) == 1
    assert data.seat_apps.empty and list(data.seat_apps.columns) == list(SEAT_APPS_COLUMNS)
    assert metrics.breadth(data.seat_users, data.seat_apps, Quarter.parse("2026-Q4")) is None


# --- adoption when concealment changes ------------------------------------------------------------------------

HASH = "0123456789abcdef0123456789abcdef"


def test_adoption_has_no_basis_for_engaged_and_retention_when_concealment_changes():
    # July's report conceals names (x and y as hashes), August's and September's do not. x is active in all three
    # and y in July and September: followed by one id they would be engaged 1 (x) and retained 2 of 2. Followed
    # by the ids the reports give, July's hashes never reappear: engaged 0 and retention 0%, both wrong.
    users = seat_users([
        (M365, HASH, "2026-07-31", "2026-07-30", True),
        (M365, "f" * 32, "2026-07-31", "2026-07-29", True),
        (M365, "x@contoso.com", "2026-08-31", "2026-08-30", False),
        (M365, "y@contoso.com", "2026-08-31", "2026-07-29", False),
        (M365, "x@contoso.com", "2026-09-30", "2026-09-29", False),
        (M365, "y@contoso.com", "2026-09-30", "2026-09-20", False),
    ])
    [p] = metrics.adoption(users, Q3, engaged_months=3)["products"]
    assert (p["engaged"], p["retention"]) == (None, None)
    assert p["no_basis"] == {"engaged": "ids not comparable between reports: concealment changed",
                             "retention": "ids not comparable between reports: concealment changed"}
    # what does not follow a seat between reports still stands: September's 2 seats, both used in the quarter
    assert (p["licensed"], p["active"]) == (2, 2)
    assert [t["active"] for t in p["trend"]] == [2, 1, 2]


def test_adoption_with_the_same_concealment_in_every_report_is_computed():
    # the same seats, every report with hashes (September's one UPN among three hashes is still a concealed report)
    users = seat_users([
        (M365, HASH, "2026-07-31", "2026-07-30", True),
        (M365, "f" * 32, "2026-07-31", "2026-07-29", True),
        (M365, HASH, "2026-08-31", "2026-08-30", True),
        (M365, "f" * 32, "2026-08-31", "2026-07-29", True),
        (M365, HASH, "2026-09-30", "2026-09-29", True),
        (M365, "f" * 32, "2026-09-30", "2026-09-20", True),
        (M365, "e" * 32, "2026-09-30", None, True),
        (M365, "new@contoso.com", "2026-09-30", None, False),
    ])
    [p] = metrics.adoption(users, Q3, engaged_months=3)["products"]
    assert (p["engaged"], p["retention"], p["no_basis"]) == (1, 1.0, {})  # HASH all three months; both kept


def test_the_fixture_reports_change_concealment_in_the_quarter():
    # July's Graph v2 report conceals names, August's export and September's report do not
    data = m365.read(FIXTURES / "m365_copilot", Settings())
    [p] = metrics.adoption(data.seat_users, Q3, engaged_months=3)["products"]
    assert (p["engaged"], p["retention"]) == (None, None) and set(p["no_basis"]) == {"engaged", "retention"}


# --- the page ------------------------------------------------------------------------------------------------

def test_the_adoption_table_says_no_basis_and_breadth_draws_one_chart_per_product():
    from boardpack import pages

    users = seat_users([(M365, HASH, "2026-07-31", "2026-07-30", True),
                        (M365, "x@contoso.com", "2026-09-30", "2026-09-29", False)])
    m = {"currency": "USD", "adoption": metrics.adoption(users, Q3, engaged_months=3)}
    html = pages.adoption_table(m)
    assert html.count("no basis") == 2 and ">0.0%<" not in html  # never a wrong 0
    assert pages.breadth_figures({"breadth": None}) == ""
    figure = pages.breadth_figures({"breadth": metrics.breadth(breadth_users(), breadth_apps(), Q3)})
    assert figure.count("<figure") == 1 and "of the 3 active; 60.0% of 5 licensed seats were active" in figure
