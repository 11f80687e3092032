"""Seat reports: Microsoft 365 Copilot usage CSV (Graph v1, Graph v2, admin-center export) and GitHub Copilot
seats / billing JSON -> seats rows and seat-licence spend rows at the configured list price."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from boardpack.adapters import SOURCE_COLUMNS, USAGE_COLUMNS, Settings, github, m365
from boardpack.exceptions import InputError
from boardpack.schema import SEAT_USERS_COLUMNS, SEATS_COLUMNS, SPEND_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"
M365, GITHUB = FIXTURES / "m365_copilot", FIXTURES / "github_copilot"
JUN, JUL, AUG, SEP = (pd.Timestamp(f"2026-{m:02d}-01") for m in (6, 7, 8, 9))


def seats_of(seats: pd.DataFrame, month, product=None) -> dict:
    rows = seats[(seats["Month"] == month) & ((seats["Product"] == product) if product else True)]
    return {(bu if isinstance(bu, str) else None): (lic, act)
            for bu, lic, act in zip(rows["BusinessUnit"], rows["LicensedSeats"], rows["ActiveUsers"])}


# --- Microsoft 365 Copilot -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ms():
    return m365.read(M365, Settings())


def test_m365_frames(ms):
    assert list(ms.seats.columns) == list(SEATS_COLUMNS)
    assert list(ms.spend.columns) == list(SPEND_COLUMNS) + list(SOURCE_COLUMNS)
    assert set(ms.seats["ProviderName"]) == {"Microsoft"} and set(ms.seats["Product"]) == {"Microsoft 365 Copilot"}
    assert ms.usage.empty and list(ms.usage.columns) == list(USAGE_COLUMNS)


def test_m365_graph_v1_active_means_activity_inside_the_report_period(ms):
    # refresh 2026-06-30, period 30 days: active from 2026-06-01 on. Ada 06-29 and Eve 06-01 are active;
    # Bob 05-15, Dee 05-31 (one day before the period) and Cy (never) are not. Every row is a licensed seat.
    assert seats_of(ms.seats, JUN) == {None: (5, 2)}


def test_m365_a_superseded_weekly_report_of_the_same_month_is_not_counted(ms):
    assert ms.fixes["m365.superseded_report_dropped"] == 1
    assert any("graph_v1_weekly_2026-06-23.csv is superseded" in n for n in ms.notes)


def test_m365_graph_v2_with_department_and_dirty_headers(ms):
    # refresh 2026-07-31, period 28 days: active after 2026-07-03. Header case and spacing differ from Graph's.
    assert seats_of(ms.seats, JUL) == {"Sales": (2, 1), "Engineering": (2, 1), None: (1, 1)}
    assert ms.fixes["m365.datetime_truncated_to_date"] == 1  # 2026-07-31T00:00:00Z


def test_m365_admin_export_takes_date_and_period_from_the_file_name(ms):
    # copilot_usage_export_2026-08-31_D30.csv: active after 2026-08-01 -> Ada 08-20 and Bob 08-02, not Cy 07-15
    assert seats_of(ms.seats, AUG) == {None: (3, 2)}


def test_m365_variants_are_named_in_the_notes(ms):
    text = "\n".join(ms.notes)
    for variant in ("Graph v1", "Graph v2", "admin center export"):
        assert variant in text


def test_m365_seat_spend_is_seats_times_list_price(ms):
    spend = ms.spend
    assert set(spend["x_SpendModality"]) == {"seat_licence"}
    assert set(spend["ChargeCategory"]) == {"Purchase"} and set(spend["ChargeFrequency"]) == {"Recurring"}
    assert set(spend["ServiceName"]) == {"Microsoft 365 Copilot"} and set(spend["ListUnitPrice"]) == {30.0}
    by_month = spend.groupby("ChargePeriodStart")["EffectiveCost"].sum()
    assert by_month.to_dict() == {JUN: 5 * 30.0, JUL: 5 * 30.0, AUG: 3 * 30.0, SEP: 4 * 30.0}
    july = spend[spend["ChargePeriodStart"] == JUL]
    by_unit = dict(zip(july["x_BusinessUnit"].fillna("-"), july["ConsumedQuantity"]))
    assert by_unit == {"Sales": 2, "Engineering": 2, "-": 1}
    assert (spend["ChargePeriodEnd"] == spend["ChargePeriodStart"] + pd.DateOffset(months=1)).all()
    assert spend["ChargeDescription"].str.contains("list price").all()
    assert any("list price assumption" in n for n in ms.notes)


def test_m365_seat_price_comes_from_settings(tmp_path):
    shutil.copy(M365 / "graph_v1_2026-06.csv", tmp_path)
    data = m365.read(tmp_path, Settings(seat_prices={"Microsoft 365 Copilot": 25.5}))
    assert data.spend["EffectiveCost"].sum() == 5 * 25.5


def test_m365_without_a_price_reports_seats_but_no_charge(tmp_path):
    shutil.copy(M365 / "graph_v1_2026-06.csv", tmp_path)
    data = m365.read(tmp_path, Settings(seat_prices={}))
    assert len(data.seats) == 1 and data.spend.empty
    assert any("never priced at zero" in n for n in data.notes)


def test_m365_unknown_headers_are_refused_with_the_expected_ones(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text("Name,Email,Licence\nAda,ada@contoso.com,E5\n")
    with pytest.raises(InputError) as e:
        m365.read(tmp_path, Settings())
    assert e.value.path == str(path)
    assert "Report Refresh Date" in str(e.value) and "Last activity date (UTC)" in str(e.value)


def test_m365_spreadsheet_dates_are_refused_with_line_and_column(tmp_path):
    (tmp_path / "r.csv").write_text("Report Refresh Date,User Principal Name,Last Activity Date,Report Period\n"
                                    "2026-06-30,a@x.com,2026-06-01,30\n2026-06-30,b@x.com,6/29/2026,30\n")
    with pytest.raises(InputError) as e:
        m365.read(tmp_path, Settings())
    assert (e.value.line, e.value.column) == (3, "Last Activity Date")


def test_m365_admin_export_without_date_or_period_in_its_name(tmp_path):
    (tmp_path / "export.csv").write_text("User name,Last activity date (UTC)\na@x.com,2026-09-20\nb@x.com,\n")
    data = m365.read(tmp_path, Settings())
    assert seats_of(data.seats, pd.Timestamp("2026-09-01")) == {None: (2, 1)}
    assert data.fixes["m365.refresh_date_from_latest_activity"] == 1
    assert data.fixes["m365.report_period_assumed_30_days"] == 1


def test_m365_admin_export_with_nobody_active_and_no_date_is_refused(tmp_path):
    (tmp_path / "export.csv").write_text("User name,Last activity date (UTC)\na@x.com,\n")
    with pytest.raises(InputError, match="file name"):
        m365.read(tmp_path, Settings())


# --- GitHub Copilot --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gh():
    return github.read(GITHUB, Settings())


def test_github_frames(gh):
    assert list(gh.seats.columns) == list(SEATS_COLUMNS)
    assert list(gh.spend.columns) == list(SPEND_COLUMNS) + list(SOURCE_COLUMNS)
    assert set(gh.seats["ProviderName"]) == {"GitHub"}
    assert gh.usage.empty and list(gh.usage.columns) == list(USAGE_COLUMNS)


def test_github_seat_list_pages_give_product_team_and_activity(gh):
    # seats_2026-07-31.json (two pages): snapshot at the end of 2026-07-31, active after 2026-07-02 00:00.
    # octocat 07-30 (written with a -06:00 offset) active; hubot 07-01 23:00Z not; mona never.
    assert seats_of(gh.seats, JUL, "GitHub Copilot Business") == {"Platform": (2, 1), None: (1, 0)}
    assert seats_of(gh.seats, JUL, "GitHub Copilot Enterprise") == {"Data Science": (1, 1)}  # lisa 07-02 00:30Z


def test_github_seat_list_wins_over_the_billing_summary_of_the_same_month(gh):
    assert sum(lic for lic, _ in seats_of(gh.seats, JUL).values()) == 4
    assert any("billing summary says 5 seats, the seat list has 4" in n for n in gh.notes)


def test_github_billing_summary_fills_months_without_a_seat_list(gh):
    assert seats_of(gh.seats, JUN) == {None: (10, 7)}  # seat_breakdown total / active_this_cycle


def test_github_fetched_at_sets_the_month_and_unknown_plan_is_business(gh):
    assert seats_of(gh.seats, AUG, "GitHub Copilot Business") == {None: (2, 1)}  # hubot last active 07-20
    assert gh.fixes["github.plan_type_assumed_business"] == 1


def test_github_seat_spend_is_priced_per_plan(gh):
    spend = gh.spend
    cost = spend.groupby(["ChargePeriodStart", "ServiceName"])["EffectiveCost"].sum().to_dict()
    assert cost == {(JUN, "GitHub Copilot Business"): 10 * 19.0, (JUL, "GitHub Copilot Business"): 3 * 19.0,
                    (JUL, "GitHub Copilot Enterprise"): 1 * 39.0, (AUG, "GitHub Copilot Business"): 2 * 19.0,
                    (SEP, "GitHub Copilot Business"): 4 * 19.0}
    assert set(spend["x_SpendModality"]) == {"seat_licence"} and set(spend["ChargeCategory"]) == {"Purchase"}
    platform = spend[spend["x_BusinessUnit"] == "Platform"].iloc[0]
    assert platform["ConsumedQuantity"] == 2 and platform["ConsumedUnit"] == "Seats"
    assert platform["SkuId"] == "github-copilot-business:seat"
    assert platform["x_SourceFile"] == "seats_2026-07-31.json"  # the unused billing summary is not named


def write_json(folder: Path, name: str, doc) -> Path:
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


def seat(login: str, last: str | None, **fields) -> dict:
    return {"assignee": {"login": login, "id": sum(map(ord, login))}, "last_activity_at": last,
            "plan_type": "business", "assigning_team": None, **fields}


def test_github_later_snapshot_of_a_month_supersedes_an_earlier_one(tmp_path):
    write_json(tmp_path, "seats_2026-07-15.json", {"seats": [seat("a", "2026-07-10T00:00:00Z")]})
    write_json(tmp_path, "seats_2026-07-31.json", {"seats": [seat("a", "2026-07-10T00:00:00Z"),
                                                             seat("b", None)]})
    data = github.read(tmp_path, Settings())
    assert seats_of(data.seats, JUL) == {None: (2, 1)}
    assert data.fixes["github.superseded_snapshot_dropped"] == 1


def test_github_duplicate_seats_across_pages_count_once(tmp_path):
    write_json(tmp_path, "seats_2026-07.json", [{"seats": [seat("a", "2026-07-30T00:00:00Z")]},
                                                {"seats": [seat("a", "2026-07-30T00:00:00Z")]}])
    data = github.read(tmp_path, Settings())
    assert seats_of(data.seats, JUL) == {None: (1, 1)}
    assert data.fixes["github.duplicate_seat_dropped"] == 1


def test_github_bare_seat_list_dated_by_its_latest_activity(tmp_path):
    write_json(tmp_path, "seats.json", [seat("a", "2026-09-20T00:00:00Z"), seat("b", "2026-08-01T00:00:00Z")])
    data = github.read(tmp_path, Settings())
    assert seats_of(data.seats, pd.Timestamp("2026-09-01")) == {None: (2, 1)}
    assert data.fixes["github.snapshot_date_from_latest_activity"] == 1


def test_github_billing_without_any_date_is_refused(tmp_path):
    write_json(tmp_path, "billing.json", {"seat_breakdown": {"total": 3, "active_this_cycle": 1}})
    with pytest.raises(InputError, match="fetched_at"):
        github.read(tmp_path, Settings())


def test_github_other_json_is_refused(tmp_path):
    # Copilot metrics are read (tests/test_copilot.py); JSON that is neither they nor seats is refused
    write_json(tmp_path, "repos_2026-07-01.json", [{"name": "demo/repo1", "private": True}])
    with pytest.raises(InputError, match="not a GitHub Copilot seats or billing response"):
        github.read(tmp_path, Settings())


def test_github_bad_seat_count_is_refused(tmp_path):
    write_json(tmp_path, "billing_2026-07.json", {"seat_breakdown": {"total": "many", "active_this_cycle": 1}})
    with pytest.raises(InputError) as e:
        github.read(tmp_path, Settings())
    assert e.value.column == "seat_breakdown.total"


# --- seats keyed by what they are; business units from the attribution map (issue 10, items 8 and 9) ---------

def attribution(tmp_path: Path, *rows: str) -> pd.DataFrame:
    """The attribution map as the raw folder's reference/attribution.csv gives it to every adapter."""
    from boardpack.sources import read_attribution

    path = tmp_path / "attribution.csv"
    path.write_text("\n".join(["Key,UseCaseId,BusinessUnit", *rows]) + "\n")
    return read_attribution(path)


def test_m365_hashed_and_mixed_case_user_names_without_a_map(ms):
    # graph_v1_2026-09.csv: refresh 2026-09-30, 30 days; Ada 09-28, Cy 09-10 and the anonymised user 09-02 active
    assert seats_of(ms.seats, SEP) == {None: (4, 3)}


def test_m365_seats_take_business_units_from_the_attribution_map(tmp_path):
    mapping = attribution(tmp_path, "m365_copilot.user:*@sales.contoso.com,,Sales",        # a glob: Ada (any case), Bob
                          "m365_copilot.user:8f14e45fceea167a5a36dedd4bea2543,,Engineering",  # hashed UPN, upper case in the file
                          "m365_copilot.user:b25ef06be3b6948c0bc431da46c2c738,,Finance",  # July: no Department for this user
                          "m365_copilot.user:5f4dcc3b5aa765d61d8327deb882cf99,,Legal")    # July: Department Sales wins
    data = m365.read(M365, Settings(attribution=mapping))
    assert seats_of(data.seats, SEP) == {"Sales": (2, 1), "Engineering": (1, 1), None: (1, 1)}
    assert seats_of(data.seats, JUL) == {"Sales": (2, 1), "Engineering": (2, 1), "Finance": (1, 1)}
    sep = data.spend[data.spend["ChargePeriodStart"] == SEP]
    assert dict(zip(sep["x_BusinessUnit"].fillna("-"), sep["EffectiveCost"])) == {"Sales": 60.0, "Engineering": 30.0,
                                                                                  "-": 30.0}


def test_github_seats_are_keyed_by_assignee_kind_and_id(gh):
    # seats_2026-09-30.json: user octocat, team ml-platform and organization contoso-research all have id 1;
    # they are three seats, and mona a fourth (total_seats 4)
    assert seats_of(gh.seats, SEP, "GitHub Copilot Business") == {"Platform": (1, 1), "ML Platform": (1, 1), None: (2, 0)}
    assert gh.fixes["github.duplicate_seat_dropped"] == 0


def test_github_total_seats_agrees_with_the_seat_lists(gh):
    check = next(c for c in gh.checks if c.column == "total_seats")
    assert check.success and check.severity == "warning" and check.table == "github_copilot"


def page(*seats, total: int, **fields) -> dict:
    return {"total_seats": total, "seats": list(seats), **fields}


def test_github_seat_list_short_of_total_seats_is_a_warning_with_both_numbers(tmp_path):
    # one page of two saved: total_seats says 3, the list has 2
    write_json(tmp_path, "seats_2026-07-31.json", page(seat("a", "2026-07-30T00:00:00Z"), seat("b", None), total=3))
    write_json(tmp_path, "seats_2026-08-31.json", page(seat("a", "2026-08-30T00:00:00Z"), total=1))
    data = github.read(tmp_path, Settings())
    note = next(n for n in data.notes if "total_seats" in n)
    assert "2026-07" in note and "2 seat(s)" in note and "total_seats 3" in note and "seats_2026-07-31.json" in note
    check = next(c for c in data.checks if c.column == "total_seats")
    assert (check.success, check.severity, check.unexpected_count) == (False, "warning", 1)
    assert "2026-07: 2 listed, total_seats 3" in check.samples and "seats_2026-07-31.json" in check.source
    assert seats_of(data.seats, JUL) == {None: (2, 1)}  # the seats listed are what is counted and charged


def test_github_seats_take_business_units_from_the_attribution_map(tmp_path):
    mapping = attribution(tmp_path, "github_copilot.user:mona,,Finance", "github_copilot.team:platform,,Engineering",
                          "github_copilot.team:ml-*,,Data Science", "github_copilot.org:contoso-research,,Research")
    data = github.read(GITHUB, Settings(attribution=mapping))
    assert seats_of(data.seats, SEP, "GitHub Copilot Business") == {"Engineering": (1, 1), "Data Science": (1, 1),
                                                                    "Research": (1, 0), "Finance": (1, 0)}
    sep = data.spend[data.spend["ChargePeriodStart"] == SEP]
    assert dict(zip(sep["x_BusinessUnit"], sep["EffectiveCost"])) == {"Engineering": 19.0, "Data Science": 19.0,
                                                                      "Research": 19.0, "Finance": 19.0}


def test_github_user_key_first_then_team_then_the_organization_the_file_names(tmp_path):
    emea = {"login": "contoso-emea", "id": 7, "url": "https://api.github.com/orgs/contoso-emea"}
    team = {"id": 10, "name": "Platform", "slug": "platform"}
    write_json(tmp_path, "enterprise_seats_2026-07-31.json", page(
        seat("a", "2026-07-30T00:00:00Z", organization=emea),
        seat("b", "2026-07-30T00:00:00Z", organization=emea, assigning_team=team),
        seat("c", None, organization=emea, assigning_team=team), total=3))
    mapping = attribution(tmp_path, "github_copilot.org:contoso-emea,,EMEA", "github_copilot.team:platform,,Engineering",
                          "github_copilot.user:c,,Office of the CTO")
    data = github.read(tmp_path, Settings(attribution=mapping))
    assert seats_of(data.seats, JUL) == {"EMEA": (1, 1), "Engineering": (1, 1), "Office of the CTO": (1, 0)}


# --- seat_users: one row per seat counted -------------------------------------------------------------------

def in_order(rows) -> list[tuple]:
    """Rows sorted whatever their None values (the adapters' row order is not part of the table)."""
    return sorted(rows, key=lambda r: tuple(str(v) for v in r))


def users_of(users: pd.DataFrame) -> list[tuple]:
    """seat_users rows as sorted tuples, dates as YYYY-MM-DD text and empty as None."""
    day = lambda t: None if pd.isna(t) else f"{t:%Y-%m-%d}"  # noqa: E731
    return in_order((p, prod, sid, anon, bu, day(rd), day(ad), day(la)) for p, prod, sid, anon, bu, rd, ad, la
                    in users[list(SEAT_USERS_COLUMNS)].itertuples(index=False))


def per_month_unit(frame: pd.DataFrame, month: str, count) -> dict:
    """(month, product, business unit or '-') -> seats, from seats (LicensedSeats) or seat_users (rows)."""
    keys = [frame[month].dt.to_period("M").dt.to_timestamp(), frame["Product"], frame["BusinessUnit"].fillna("-")]
    return {k: float(v) for k, v in (frame.groupby(keys)[count].sum() if count else frame.groupby(keys).size()).items()}


def assert_seat_users_typed(users: pd.DataFrame):
    assert list(users.columns) == list(SEAT_USERS_COLUMNS)
    for column in ("ReportDate", "AssignedDate", "LastActivityDate"):
        assert users[column].dtype == "datetime64[us]"
        assert (users[column].dropna() == users[column].dropna().dt.normalize()).all()  # days
    assert users["Anonymised"].dtype == bool and all(type(v) is bool for v in users["Anonymised"].tolist())
    for column in ("ProviderName", "Product", "SeatId", "BusinessUnit"):
        assert all(v is None or type(v) is str for v in users[column].tolist())


MS, M365_PRODUCT = "Microsoft", "Microsoft 365 Copilot"


def test_m365_seat_users_are_the_users_of_the_reports_kept(ms):
    # Worked from the fixture files: June is graph_v1_2026-06.csv (the weekly 06-23 report is superseded), July
    # graph_v2_2026-07.csv (concealed names, Department column; 2026-07-31T00:00:00Z read as its day), August the
    # admin export dated by its name, September graph_v1_2026-09.csv (UPNs lower-cased, one upper-case hash).
    # The report has no assignment date: AssignedDate is always empty.
    def row(sid, anon, bu, report, last):
        return MS, M365_PRODUCT, sid, anon, bu, report, None, last

    assert_seat_users_typed(ms.seat_users)
    assert users_of(ms.seat_users) == in_order([
        row("ada@contoso.com", False, None, "2026-06-30", "2026-06-29"),
        row("bob@contoso.com", False, None, "2026-06-30", "2026-05-15"),
        row("cy@contoso.com", False, None, "2026-06-30", None),
        row("dee@contoso.com", False, None, "2026-06-30", "2026-05-31"),
        row("eve@contoso.com", False, None, "2026-06-30", "2026-06-01"),
        row("5f4dcc3b5aa765d61d8327deb882cf99", True, "Sales", "2026-07-31", "2026-07-30"),
        row("6cb75f652a9b52798eb6cf2201057c73", True, "Sales", "2026-07-31", "2026-07-03"),
        row("34cc93ece0ba9e3f6f235d4af979b16c", True, "Engineering", "2026-07-31", "2026-07-04"),
        row("218dd27aebeccecae69ad8408d9a36bf", True, "Engineering", "2026-07-31", None),
        row("b25ef06be3b6948c0bc431da46c2c738", True, None, "2026-07-31", "2026-07-31"),
        row("ada@contoso.com", False, None, "2026-08-31", "2026-08-20"),
        row("bob@contoso.com", False, None, "2026-08-31", "2026-08-02"),
        row("cy@contoso.com", False, None, "2026-08-31", "2026-07-15"),
        row("ada@sales.contoso.com", False, None, "2026-09-30", "2026-09-28"),
        row("bob@sales.contoso.com", False, None, "2026-09-30", "2026-08-15"),
        row("cy@contoso.com", False, None, "2026-09-30", "2026-09-10"),
        row("8f14e45fceea167a5a36dedd4bea2543", True, None, "2026-09-30", "2026-09-02"),
    ])


def test_m365_seat_users_agree_with_the_seats_per_month_and_business_unit(ms, tmp_path):
    assert per_month_unit(ms.seat_users, "ReportDate", None) == per_month_unit(ms.seats, "Month", "LicensedSeats")
    mapping = attribution(tmp_path, "m365_copilot.user:*@sales.contoso.com,,Sales",
                          "m365_copilot.user:8f14e45fceea167a5a36dedd4bea2543,,Engineering",
                          "m365_copilot.user:b25ef06be3b6948c0bc431da46c2c738,,Finance")
    data = m365.read(M365, Settings(attribution=mapping))
    assert per_month_unit(data.seat_users, "ReportDate", None) == per_month_unit(data.seats, "Month", "LicensedSeats")
    sep = data.seat_users[data.seat_users["ReportDate"] == pd.Timestamp("2026-09-30")]
    assert dict(zip(sep["SeatId"], sep["BusinessUnit"])) == {
        "ada@sales.contoso.com": "Sales", "bob@sales.contoso.com": "Sales", "cy@contoso.com": None,
        "8f14e45fceea167a5a36dedd4bea2543": "Engineering"}


def test_m365_seat_users_anonymised_means_32_hex_digits_in_place_of_the_principal_name(tmp_path):
    # Graph v1 column shape (as graph_v1_2026-09.csv) with concealed names: the hash replaces the UPN, and
    # Display Name is a hash too. Only a value of exactly 32 hex digits (so no "@") counts as the concealed hash.
    header = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,Copilot Chat Last Activity Date,"
              "Microsoft Teams Copilot Last Activity Date,Word Copilot Last Activity Date,Excel Copilot Last Activity "
              "Date,PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,OneNote Copilot Last "
              "Activity Date,Loop Copilot Last Activity Date,Report Period")
    rows = ["2026-10-31,C4CA4238A0B923820DCC509A6F75849B,8f8a8d8f8a8b8c8d8e8f808182838485,2026-10-30,2026-10-30"
            ",,,,,,,,30",
            "2026-10-31,0123456789abcdef0123456789abcdef@contoso.com,Hex Local,,,,,,,,,,30",  # has an "@": a UPN
            "2026-10-31,0123456789abcdef0123456789abcde,x,2026-09-01,,,,,,,,,30",  # 31 hex digits: not the hash
            "2026-10-31,zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz,y,,,,,,,,,,30"]  # 32 characters, not hex
    folder = tmp_path / "m365_copilot"
    folder.mkdir()
    (folder / "concealed_2026-10.csv").write_text("\n".join([header, *rows]) + "\n")
    mapping = attribution(tmp_path, "m365_copilot.user:c4ca4238a0b923820dcc509a6f75849b,,Finance")
    data = m365.read(folder, Settings(attribution=mapping))
    assert_seat_users_typed(data.seat_users)
    def row(sid, anon, bu, last):
        return MS, M365_PRODUCT, sid, anon, bu, "2026-10-31", None, last

    assert users_of(data.seat_users) == in_order([
        row("c4ca4238a0b923820dcc509a6f75849b", True, "Finance", "2026-10-30"),
        row("0123456789abcdef0123456789abcdef@contoso.com", False, None, None),
        row("0123456789abcdef0123456789abcde", False, None, "2026-09-01"),
        row("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", False, None, None),
    ])
    assert seats_of(data.seats, pd.Timestamp("2026-10-01")) == {"Finance": (1, 1), None: (3, 0)}


def test_m365_no_users_no_seat_users(tmp_path):
    (tmp_path / "r.csv").write_text("Report Refresh Date,User Principal Name,Last Activity Date,Report Period\n")
    data = m365.read(tmp_path, Settings())
    assert data.seat_users.empty and list(data.seat_users.columns) == list(SEAT_USERS_COLUMNS)


GH, BUSINESS, ENTERPRISE = "GitHub", "GitHub Copilot Business", "GitHub Copilot Enterprise"


def test_github_seat_users_are_the_seats_of_the_snapshots_kept(gh):
    # Worked from the fixture files, times in UTC: octocat's created_at 2025-01-10T12:00-06:00 is 18:00Z, the same
    # day; its 2026-07-30T10:00-06:00 and 2026-09-29T10:00-06:00 activity stay on those days. July: the file name's
    # day; August: fetched_at 2026-08-31T23:59Z; September: the file name's day. June has only a billing summary,
    # so no seat list and no rows; the user, team and organization of id 1 are three seats, by kind and name.
    def row(product, sid, bu, report, assigned, last):
        return GH, product, sid, False, bu, report, assigned, last

    assert_seat_users_typed(gh.seat_users)
    assert users_of(gh.seat_users) == in_order([
        row(BUSINESS, "user:octocat", "Platform", "2026-07-31", "2025-01-10", "2026-07-30"),
        row(BUSINESS, "user:hubot", "Platform", "2026-07-31", "2025-03-01", "2026-07-01"),
        row(BUSINESS, "user:mona", None, "2026-07-31", "2026-06-20", None),
        row(ENTERPRISE, "user:lisa", "Data Science", "2026-07-31", "2025-11-11", "2026-07-02"),
        row(BUSINESS, "user:octocat", None, "2026-08-31", "2025-01-10", "2026-08-15"),
        row(BUSINESS, "user:hubot", None, "2026-08-31", "2025-03-01", "2026-07-20"),  # plan "unknown": Business
        row(BUSINESS, "user:octocat", "Platform", "2026-09-30", "2025-01-10", "2026-09-29"),
        row(BUSINESS, "team:ml-platform", "ML Platform", "2026-09-30", "2026-02-01", "2026-09-15"),
        row(BUSINESS, "org:contoso-research", None, "2026-09-30", "2026-03-01", None),
        row(BUSINESS, "user:mona", None, "2026-09-30", "2026-06-20", "2026-08-01"),
    ])


def test_github_seat_users_agree_with_the_seats_of_months_with_a_seat_list(gh, tmp_path):
    seats = per_month_unit(gh.seats, "Month", "LicensedSeats")
    assert seats.pop((JUN, BUSINESS, "-")) == 10  # the billing summary's month: no seat list, no seat_users
    assert per_month_unit(gh.seat_users, "ReportDate", None) == seats
    mapping = attribution(tmp_path, "github_copilot.user:mona,,Finance", "github_copilot.team:platform,,Engineering",
                          "github_copilot.org:contoso-research,,Research")
    data = github.read(GITHUB, Settings(attribution=mapping))
    seats = per_month_unit(data.seats, "Month", "LicensedSeats")
    del seats[(JUN, BUSINESS, "-")]
    assert per_month_unit(data.seat_users, "ReportDate", None) == seats
    sep = data.seat_users[data.seat_users["ReportDate"] == pd.Timestamp("2026-09-30")]
    assert dict(zip(sep["SeatId"], sep["BusinessUnit"])) == {
        "user:octocat": "Engineering", "team:ml-platform": "ML Platform", "org:contoso-research": "Research",
        "user:mona": "Finance"}


def test_github_seat_users_report_day_and_utc_days(tmp_path):
    # July: a month alone in the file name -> its last day. August: two pages of one snapshot day (a date-only
    # fetched_at, meaning the end of 08-14, and 08-15T10:00Z) -> one report, dated by its latest page, 08-15.
    # created_at 2025-12-31T20:00-06:00 is 2026-01-01 in UTC; an assignee without a login is known by its id.
    write_json(tmp_path, "seats_2026-07.json", {"seats": [
        seat("a", "2026-07-30T23:30:00-02:00", created_at="2025-12-31T20:00:00-06:00")]})
    write_json(tmp_path, "seats_aug.json", [
        {"fetched_at": "2026-08-14", "seats": [seat("B", "2026-08-14T08:00:00Z")]},
        {"fetched_at": "2026-08-15T10:00:00Z", "seats": [{"assignee": {"id": 77, "type": "User"},
                                                          "last_activity_at": None, "plan_type": "enterprise"}]}])
    data = github.read(tmp_path, Settings())
    assert_seat_users_typed(data.seat_users)
    assert users_of(data.seat_users) == in_order([
        (GH, BUSINESS, "user:a", False, None, "2026-07-31", "2026-01-01", "2026-07-31"),  # 07-30 23:30-02:00 = 07-31Z
        (GH, BUSINESS, "user:b", False, None, "2026-08-15", None, "2026-08-14"),
        (GH, ENTERPRISE, "user:#77", False, None, "2026-08-15", None, None),
    ])


def test_github_seat_users_of_a_superseded_snapshot_or_a_duplicate_page_are_not_listed(tmp_path):
    write_json(tmp_path, "seats_2026-07-15.json", {"seats": [seat("a", "2026-07-10T00:00:00Z"), seat("z", None)]})
    write_json(tmp_path, "seats_2026-07-31.json", [{"seats": [seat("a", "2026-07-10T00:00:00Z"), seat("b", None)]},
                                                   {"seats": [seat("b", None)]}])
    data = github.read(tmp_path, Settings())
    assert users_of(data.seat_users) == in_order([
        (GH, BUSINESS, "user:a", False, None, "2026-07-31", None, "2026-07-10"),
        (GH, BUSINESS, "user:b", False, None, "2026-07-31", None, None)])
    assert seats_of(data.seats, JUL) == {None: (2, 1)}


def test_github_billing_alone_gives_no_seat_users(tmp_path):
    shutil.copy(GITHUB / "billing_2026-06.json", tmp_path)
    data = github.read(tmp_path, Settings())
    assert seats_of(data.seats, JUN) == {None: (10, 7)}
    assert data.seat_users.empty and list(data.seat_users.columns) == list(SEAT_USERS_COLUMNS)
