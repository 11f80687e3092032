"""GitHub Copilot (issue 11): Copilot metrics by feature read from GitHub's published shapes, breadth of use and the
Enterprise seats Business would serve, each worked by hand on tests/fixtures/github_copilot_metrics (NOTES.md there
says where every shape comes from; docs/metrics.md, "GitHub Copilot: breadth of use")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from boardpack import copilot, metrics, pages
from boardpack.adapters import Settings, github
from boardpack.config import load_config
from boardpack.exceptions import ConfigError, InputError
from boardpack.quarters import Quarter
from boardpack.schema import ENTERPRISE_ONLY_FEATURES, SEAT_FEATURE_USAGE_COLUMNS, SEAT_USERS_COLUMNS

FIXTURE = Path(__file__).parent / "fixtures" / "github_copilot_metrics"
Q1, Q3 = Quarter.parse("2026-Q1"), Quarter.parse("2026-Q3")
ENT, BUS = "GitHub Copilot Enterprise", "GitHub Copilot Business"
PRICES = {ENT: 39.0, BUS: 19.0}


@pytest.fixture(scope="module")
def gh():
    return github.read(FIXTURE, Settings())


def row(usage: pd.DataFrame, day: str, feature: str, seat: str | None = None) -> dict:
    pick = (usage["Day"] == pd.Timestamp(day)) & (usage["Feature"] == feature)
    pick &= usage["SeatId"].isna() if seat is None else usage["SeatId"] == seat
    found = usage[pick]
    assert len(found) == 1, (day, feature, seat)
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in found.iloc[0].items()}


# --- reading ---------------------------------------------------------------------------------------------

def test_the_table_has_the_schema_columns_and_a_folder_of_metrics_alone_has_no_seats(gh):
    usage = gh.seat_feature_usage
    assert list(usage.columns) == list(SEAT_FEATURE_USAGE_COLUMNS)
    assert set(usage["ProviderName"]) == {"GitHub"}
    assert gh.seats.empty and gh.spend.empty and gh.seat_users.empty


def test_legacy_metrics_api_days_sum_the_editor_model_language_counts_by_hand(gh):
    usage = gh.seat_feature_usage
    # 30 March: python 200/60 (lines 220/70) + ruby 300/90 (310/100) in vscode, typescript 100/50 (120/55) in neovim
    assert row(usage, "2026-03-30", "code_completion") | {} == {
        "ProviderName": "GitHub", "Day": pd.Timestamp("2026-03-30"), "SeatId": None, "Feature": "code_completion",
        "EngagedUsers": 18.0, "Interactions": None, "Suggestions": 600.0, "Acceptances": 200.0,
        "LinesSuggested": 650.0, "LinesAccepted": 225.0, "Report": "metrics_api"}
    assert row(usage, "2026-03-30", "ide_chat")["Interactions"] == 50.0  # 40 chats on default + 10 on a custom model
    assert row(usage, "2026-03-30", "ide_chat")["EngagedUsers"] == 12.0
    assert (row(usage, "2026-03-30", "dotcom_chat")["EngagedUsers"], row(usage, "2026-03-30", "dotcom_chat")
            ["Interactions"]) == (5.0, 9.0)
    assert row(usage, "2026-03-30", "pull_request_summaries")["Interactions"] == 5.0  # 3 + 2 PR summaries
    assert row(usage, "2026-03-30", "any")["EngagedUsers"] == 20.0
    # 31 March: dotcom chat and pull requests are null: no row, not a zero
    day31 = usage[usage["Day"] == pd.Timestamp("2026-03-31")]
    assert sorted(day31["Feature"]) == ["any", "code_completion", "ide_chat"]
    assert (row(usage, "2026-03-31", "code_completion")["Suggestions"],
            row(usage, "2026-03-31", "code_completion")["Acceptances"]) == (200.0, 80.0)


def test_usage_metrics_organisation_report_gives_feature_counts_and_active_users(gh):
    usage = gh.seat_feature_usage
    completion = row(usage, "2026-09-29", "code_completion")
    assert (completion["Suggestions"], completion["Acceptances"], completion["LinesSuggested"],
            completion["LinesAccepted"], completion["EngagedUsers"], completion["Report"]) == \
        (40.0, 10.0, 50.0, 12.0, None, "totals_report")  # per-feature engaged users: not in this report
    assert row(usage, "2026-09-29", "any")["EngagedUsers"] == 5.0  # daily_active_users
    cli = row(usage, "2026-09-29", "cli")
    assert (cli["EngagedUsers"], cli["Interactions"]) == (1.0, 3.0)
    assert row(usage, "2026-09-29", "code_review")["EngagedUsers"] == 1.0
    assert row(usage, "2026-09-30", "code_completion")["Suggestions"] == 60.0  # from the 28-day report's day_totals
    org30 = usage[(usage["Day"] == pd.Timestamp("2026-09-30")) & usage["SeatId"].isna()]
    assert sorted(org30["Feature"]) == ["any", "chat_panel_ask_mode", "code_completion"]  # no CLI that day: no row


def test_a_day_in_the_one_day_and_the_28_day_report_counts_once_and_is_named(gh):
    usage = gh.seat_feature_usage
    org29 = usage[(usage["Day"] == pd.Timestamp("2026-09-29")) & usage["SeatId"].isna()]
    assert len(org29) == 7 and not org29.duplicated(["Feature"]).any()
    assert gh.fixes["github.metrics_day_reported_twice"] == 7
    assert any("1 day(s) of Copilot metrics are in more than one file (2026-09-29" in n for n in gh.notes)


def test_users_report_rows_are_one_per_user_day_and_feature_used(gh):
    usage = gh.seat_feature_usage
    users = usage[usage["SeatId"].notna()]
    assert set(users["Report"]) == {"users_report"} and set(users["EngagedUsers"]) == {1.0}
    got = sorted(zip(users["Day"].dt.strftime("%m-%d"), users["SeatId"], users["Feature"]))
    assert got == [
        ("09-29", "user:alice", "code_completion"),  # user_login "Alice": lower case, as the seat list's SeatId
        ("09-29", "user:bob", "agent_edit"), ("09-29", "user:bob", "chat_panel_agent_mode"),
        ("09-29", "user:bob", "code_review"),  # used_copilot_code_review_active
        ("09-29", "user:carol", "chat_panel_ask_mode"), ("09-29", "user:carol", "cli"),  # used_cli, prompt_count 3
        ("09-29", "user:carol", "code_completion"),
        ("09-30", "user:alice", "chat_panel_ask_mode"), ("09-30", "user:alice", "code_completion"),
        ("09-30", "user:dave", "code_completion"), ("09-30", "user:dave", "ide_chat"),  # used_chat, no chat feature
        # gina's code_completion has no activity at all: not a use
    ]
    assert row(usage, "2026-09-29", "cli", "user:carol")["Interactions"] == 3.0


def _copy(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "github_copilot"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_report_envelope_instead_of_the_report_is_refused_with_the_fix(tmp_path):
    folder = _copy(tmp_path, "organization-1-day.json", json.dumps(
        {"download_links": ["https://example.invalid/report.ndjson"], "report_day": "2026-09-29"}))
    with pytest.raises(InputError, match="download_links") as e:
        github.read(folder, Settings())
    assert "download the NDJSON file" in str(e.value)


def test_a_broken_ndjson_line_a_bad_day_and_a_negative_count_are_refused_with_line_and_column(tmp_path):
    good = (FIXTURE / "users-1-day_2026-09-30.ndjson").read_text().splitlines()
    folder = _copy(tmp_path, "users.ndjson", good[0] + "\n{not json\n")
    with pytest.raises(InputError, match="not an NDJSON line") as e:
        github.read(folder, Settings())
    assert e.value.line == 2
    shutil.rmtree(folder)
    bad_day = good[1].replace('"day": "2026-09-30"', '"day": "30/09/2026"')
    folder = _copy(tmp_path, "users.ndjson", good[0] + "\n" + bad_day)
    with pytest.raises(InputError, match="is not a day") as e:
        github.read(folder, Settings())
    assert (e.value.line, e.value.column) == (2, "day")
    shutil.rmtree(folder)
    negative = good[0].replace('"code_generation_activity_count": 30', '"code_generation_activity_count": -30', 1)
    folder = _copy(tmp_path, "users.ndjson", negative)
    with pytest.raises(InputError, match="not a count"):
        github.read(folder, Settings())


def test_seat_lists_beside_metrics_are_read_as_before(tmp_path):
    folder = tmp_path / "github_copilot"
    shutil.copytree(Path(__file__).parent / "fixtures" / "github_copilot", folder)
    before = github.read(folder, Settings())
    shutil.copy(FIXTURE / "users-1-day_2026-09-29.ndjson", folder)
    after = github.read(folder, Settings())
    pd.testing.assert_frame_equal(before.seats, after.seats)
    pd.testing.assert_frame_equal(before.seat_users, after.seat_users)
    assert len(after.seat_feature_usage) == 7 and before.seat_feature_usage.empty


# --- breadth ---------------------------------------------------------------------------------------------

def test_breadth_of_the_usage_metrics_reports_worked_by_hand(gh):
    b = copilot.breadth(gh.seat_feature_usage, Q3)
    g = b["groups"]
    # completions: 29th alice, carol; 30th alice, dave -> (2 + 2) / 2 days; alice, carol, dave
    assert g["completions"] == {"daily": 2.0, "daily_from": "users", "distinct": 3}
    # chat (ask, agent mode, IDE chat): 29th bob, carol; 30th alice, dave -> 2.0 a day; 4 people
    assert g["chat"] == {"daily": 2.0, "daily_from": "users", "distinct": 4}
    assert g["agent"] == {"daily": 0.5, "daily_from": "users", "distinct": 1}  # bob on one of two days
    # the organisation totals give CLI and code-review users: 1 on the 29th, none (left out) on the 30th
    assert g["cli"] == {"daily": 0.5, "daily_from": "organisation", "distinct": 1}
    assert g["code_review"] == {"daily": 0.5, "daily_from": "organisation", "distinct": 1}
    # organisation totals: 10 of 40 and 20 of 60 completions accepted
    assert (b["acceptance_rate"], b["suggested"], b["accepted"], b["acceptance_from"]) == (0.3, 100.0, 30.0,
                                                                                            "organisation")
    assert b["daily_active"] == 4.5 and b["users"] == 4  # (5 + 4) / 2; alice, bob, carol, dave
    assert (b["organisation_days"], b["user_days"], b["first_day"], b["last_day"]) == (2, 2, "2026-09-29", "2026-09-30")
    assert (b["user_first_day"], b["user_last_day"]) == ("2026-09-29", "2026-09-30")
    assert b["no_basis"] == {}


def test_breadth_of_the_legacy_api_has_daily_figures_and_says_what_it_does_not_give(gh):
    b = copilot.breadth(gh.seat_feature_usage, Q1)
    g = b["groups"]
    assert g["completions"] == {"daily": 16.0, "daily_from": "organisation", "distinct": None}  # (18 + 14) / 2
    assert g["chat"]["daily"] == 10.0  # max(IDE 12, github.com 5) on the 30th, 8 on the 31st
    assert b["acceptance_rate"] == 0.35  # (200 + 80) / (600 + 200)
    assert b["daily_active"] == 18.0 and b["users"] is None
    assert b["no_basis"]["completions.distinct"] == copilot.NOT_GIVEN == "not given by this export"
    assert g["agent"]["daily"] is None and b["no_basis"]["agent.daily"] == copilot.NOT_GIVEN


def test_breadth_without_metrics_in_the_quarter_is_none_and_acceptance_needs_both_counts(gh):
    assert copilot.breadth(gh.seat_feature_usage, Quarter.parse("2026-Q2")) is None
    usage = gh.seat_feature_usage
    only_users = usage[usage["SeatId"].notna()]
    b = copilot.breadth(only_users, Q3)
    # from the users report: 5 + 20 + 30 + 30 suggested (gina's zeros are not rows), 5 + 5 + 10 + 10 accepted
    assert (b["acceptance_rate"], b["acceptance_from"]) == (30 / 100, "users")
    no_counts = only_users.assign(Acceptances=float("nan"))
    assert copilot.breadth(no_counts, Q3)["acceptance_rate"] is None
    assert copilot.breadth(no_counts, Q3)["no_basis"]["acceptance_rate"] == "not given by this export"


# --- Enterprise seats Business would serve ---------------------------------------------------------------

def seat_users() -> pd.DataFrame:
    rows = []

    def seat(product, login, last, assigned="2026-01-05", report="2026-09-30"):
        rows.append({"ProviderName": "GitHub", "Product": product, "SeatId": f"user:{login}",
                     "Anonymised": False, "BusinessUnit": "Engineering", "ReportDate": pd.Timestamp(report),
                     "AssignedDate": pd.Timestamp(assigned),
                     "LastActivityDate": pd.Timestamp(last) if last else pd.NaT})

    seat(ENT, "alice", "2026-09-30")  # completions and ask-mode chat: Business gives both
    seat(ENT, "bob", "2026-09-29")  # agent mode, agent edits, code review: Enterprise's
    seat(ENT, "carol", "2026-09-29")  # the CLI: Enterprise's (premium requests)
    seat(ENT, "erin", "2026-05-01")  # unused for 152 days: reclaimed, not moved
    seat(ENT, "frank", "2026-09-20")  # active, but nothing in the users report: nothing Enterprise adds
    seat(ENT, "gina", "2026-09-30")  # listed with no activity in any feature
    seat(ENT, "hal", None, report="2026-08-31")  # August's report: not the quarter's last
    seat(BUS, "dave", "2026-09-30")  # a Business seat: nothing to move
    return pd.DataFrame(rows)[list(SEAT_USERS_COLUMNS)]


def test_the_downgrade_list_is_the_enterprise_seats_a_person_picks_by_hand(gh):
    users = seat_users()
    reclaim = metrics.reclaimable_seats(users, Q3, PRICES, [30, 60, 90])
    assert list(reclaim["SeatId"]) == ["user:erin"]
    got = copilot.downgrade_list(users, gh.seat_feature_usage, Q3, PRICES, reclaim)
    assert list(got.columns) == copilot.DOWNGRADE_COLUMNS
    assert list(got[["SeatId", "FeaturesUsed", "MoveTo", "SavingPerYear"]].itertuples(index=False, name=None)) == [
        ("user:alice", "chat_panel_ask_mode, code_completion", BUS, 240.0),  # (39 - 19) x 12
        ("user:frank", "", BUS, 240.0), ("user:gina", "", BUS, 240.0)]
    summary = copilot.downgrade_summary(users, gh.seat_feature_usage, Q3, PRICES, got)
    assert (summary["seats"], summary["enterprise_seats"], summary["saving_per_year"], summary["price_difference"]) \
        == (3, 6, 720.0, 20.0)
    assert (summary["user_days"], summary["first_day"], summary["last_day"]) == (2, "2026-09-29", "2026-09-30")
    assert summary["features"] == ENTERPRISE_ONLY_FEATURES and summary["no_basis"] is None


def test_the_features_enterprise_adds_come_from_the_configuration(gh, tmp_path):
    users = seat_users()
    # with nothing counted as Enterprise's, every Enterprise seat not reclaimed is listed
    got = copilot.downgrade_list(users, gh.seat_feature_usage, Q3, PRICES, None, features=[])
    assert list(got["SeatId"]) == ["user:alice", "user:bob", "user:carol", "user:erin", "user:frank", "user:gina"]
    # CLI alone as Enterprise's: bob (agent) moves, carol (CLI) stays
    got = copilot.downgrade_list(users, gh.seat_feature_usage, Q3, PRICES, None, features=["cli"])
    assert "user:bob" in set(got["SeatId"]) and "user:carol" not in set(got["SeatId"])
    config = tmp_path / "boardpack.toml"
    config.write_text('[seats]\nenterprise_only_features = ["cli", "agent_edit"]\n', encoding="utf-8")
    assert load_config(config).seats["enterprise_only_features"] == ["cli", "agent_edit"]
    assert load_config().seats["enterprise_only_features"] == ENTERPRISE_ONLY_FEATURES
    config.write_text('[seats]\nenterprise_only_feature = ["cli"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean enterprise_only_features"):
        load_config(config)


def test_no_users_report_no_list_and_the_pack_says_why(gh):
    users = seat_users()
    org_only = gh.seat_feature_usage[gh.seat_feature_usage["SeatId"].isna()]
    assert copilot.downgrade_list(users, org_only, Q3, PRICES, None) is None
    summary = copilot.downgrade_summary(users, org_only, Q3, PRICES, None)
    assert (summary["seats"], summary["enterprise_seats"], summary["no_basis"]) == (None, 6, copilot.NO_USERS_REPORT)
    # no Enterprise seats: no list either, and nothing to say
    business = users[users["Product"] == BUS]
    assert copilot.downgrade_list(business, gh.seat_feature_usage, Q3, PRICES, None) is None
    tables = {"seat_feature_usage": gh.seat_feature_usage, "seat_users": business}
    assert copilot.github_metrics(tables, Q3, PRICES, None, None)["copilot_downgrade"] is None


def test_without_a_business_price_the_move_is_counted_not_costed(gh):
    users = seat_users()
    got = copilot.downgrade_list(users, gh.seat_feature_usage, Q3, {ENT: 39.0}, None)
    assert len(got) == 4 and got["SavingPerYear"].isna().all()  # erin too: no reclaim list given
    summary = copilot.downgrade_summary(users, gh.seat_feature_usage, Q3, {ENT: 39.0}, got)
    assert summary["seats"] == 4 and summary["saving_per_year"] is None and summary["price_difference"] is None


# --- the page ----------------------------------------------------------------------------------------------

def test_the_page_gives_the_figures_and_one_line_for_what_is_missing(gh):
    users = seat_users()
    reclaim = metrics.reclaimable_seats(users, Q3, PRICES, [30, 60, 90])
    m = {"currency": "USD", **copilot.github_metrics({"seat_feature_usage": gh.seat_feature_usage,
                                                      "seat_users": users}, Q3, PRICES, reclaim, None)}
    html = " ".join(pages.copilot_page(m).data.split())
    assert "4.5</strong>" in html and "30.0%</strong> of the 100 code completions suggested were accepted" in html
    assert "(2026-09-29 to 2026-09-30, the users report); 3 and 4 different people used them" in html
    assert "<strong>3</strong> of 6 GitHub Copilot Enterprise seats" in html and "$720" in html
    assert "exports/downgrade.csv" in html
    empty = pages.copilot_page({"currency": "USD", "copilot_breadth": None, "copilot_downgrade": None}).data
    assert "No GitHub Copilot metrics this quarter" in empty and "No GitHub Copilot Enterprise seats" in empty
    legacy = {"currency": "USD", **copilot.github_metrics({"seat_feature_usage": gh.seat_feature_usage,
                                                           "seat_users": users}, Q1, PRICES, None, None)}
    assert "not given" in pages.copilot_page(legacy).data


# --- the contract ------------------------------------------------------------------------------------------

def test_the_contract_stops_a_negative_count_and_an_unknown_report_naming_table_and_column(sample_data, tmp_path):
    from boardpack import steps
    from boardpack.exceptions import ContractError

    data = tmp_path / "data"
    shutil.copytree(sample_data, data)
    (data / "seat_feature_usage.csv.gz").unlink()
    (data / "seat_feature_usage.csv").write_text(
        ",".join(SEAT_FEATURE_USAGE_COLUMNS) + "\n"
        "GitHub,2026-09-29,,code_completion,,0,40,-10,50,12,totals_report\n"
        "GitHub,2026-09-29,user:alice,code_completion,1,0,20,5,25,6,users-1-day\n", encoding="utf-8")
    with pytest.raises(ContractError) as e:
        steps.validate("2026-Q3", data, None, tmp_path / "out")
    text = str(e.value)
    assert "seat_feature_usage" in text and "Acceptances" in text and "Report" in text and "users-1-day" in text


def test_a_raw_folder_gives_the_table_beside_the_seats(tmp_path):
    from boardpack.ingest import load_tables

    folder = tmp_path / "raw" / "github_copilot"
    shutil.copytree(Path(__file__).parent / "fixtures" / "github_copilot", folder)
    for path in FIXTURE.glob("*.*json"):
        shutil.copy(path, folder)
    tables = load_tables(tmp_path / "raw")
    usage = tables["seat_feature_usage"]
    assert list(usage.columns) == list(SEAT_FEATURE_USAGE_COLUMNS) and len(usage) == 29  # 8 + 21 (above)
    assert usage["Day"].dtype.kind == "M" and len(tables["seat_users"]) and len(tables["seats"])
