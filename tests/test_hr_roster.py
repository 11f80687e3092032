"""The HR seat roster (`reference/hr_roster.csv`): business units for the seats of a Microsoft 365 Copilot report
without a department, worked by hand on tests/fixtures/hr_roster (README, "HR seat roster")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from boardpack import sources
from boardpack.adapters import Settings, m365
from boardpack.exceptions import InputError

FIXTURES = Path(__file__).parent / "fixtures"
ROSTER = FIXTURES / "hr_roster" / "hr_roster.csv"
SEP = pd.Timestamp("2026-09-30")


def units(seat_users: pd.DataFrame, report: str) -> dict:
    rows = seat_users[seat_users["ReportDate"] == pd.Timestamp(report)]
    return {s: (b if isinstance(b, str) else None) for s, b in zip(rows["SeatId"], rows["BusinessUnit"])}


def test_the_roster_is_read_by_lower_case_id_without_rows_lacking_a_unit():
    roster = sources.read_roster(ROSTER)
    assert roster["BusinessUnit"].to_dict() == {
        "ada@sales.contoso.com": "Sales", "cy@contoso.com": "Operations",
        "5f4dcc3b5aa765d61d8327deb882cf99": "Finance", "b25ef06be3b6948c0bc431da46c2c738": "Legal",
        "nobody@contoso.com": "HR"}  # zed has no business unit: left out
    assert roster.loc["cy@contoso.com", "CostCentre"] == "CC-300"
    assert sources.read_roster(FIXTURES / "hr_roster" / "absent.csv") is None


def test_the_roster_fills_only_seats_without_a_department_and_counts_the_rest():
    data = m365.read(FIXTURES / "m365_copilot", Settings(roster=sources.read_roster(ROSTER)))
    su = data.seat_users
    # September (Graph v1, no Department): Ada by her mixed-case name, Cy; Bob and the hash are not in the roster
    assert units(su, "2026-09-30") == {"ada@sales.contoso.com": "Sales", "bob@sales.contoso.com": None,
                                       "cy@contoso.com": "Operations", "8f14e45fceea167a5a36dedd4bea2543": None}
    # July (Graph v2, Department column): 5f4d... keeps the report's Sales, never the roster's Finance; b25e...,
    # without a department in the report, takes Legal
    assert units(su, "2026-07-31") == {"5f4dcc3b5aa765d61d8327deb882cf99": "Sales",
                                       "6cb75f652a9b52798eb6cf2201057c73": "Sales",
                                       "34cc93ece0ba9e3f6f235d4af979b16c": "Engineering",
                                       "218dd27aebeccecae69ad8408d9a36bf": "Engineering",
                                       "b25ef06be3b6948c0bc431da46c2c738": "Legal"}
    assert units(su, "2026-06-30")["cy@contoso.com"] == "Operations"
    assert units(su, "2026-08-31") == {"ada@contoso.com": None, "bob@contoso.com": None, "cy@contoso.com": "Operations"}
    # Cy in June, August and September, Ada in September, b25e... in July
    assert data.fixes["m365.business_unit_from_hr_roster"] == 5
    assert ("m365_copilot: 2 of the 4 seats of the 2026-09-30 report have no business unit after the HR roster and "
            "the attribution map (add them to reference/hr_roster.csv).") in data.notes
    # the seats table counts the same units: September, active after 2026-08-31 (Ada 09-28, Cy 09-10, hash 09-02)
    sep = data.seats[data.seats["Month"] == pd.Timestamp("2026-09-01")]
    assert {(b if isinstance(b, str) else None): (lic, act) for b, lic, act in
            zip(sep["BusinessUnit"], sep["LicensedSeats"], sep["ActiveUsers"])} == {
        "Sales": (1, 1), "Operations": (1, 1), None: (2, 1)}


def test_the_roster_comes_before_the_attribution_map(tmp_path):
    (tmp_path / "attribution.csv").write_text("Key,UseCaseId,BusinessUnit\n"
                                              "m365_copilot.user:*@sales.contoso.com,,Marketing\n"
                                              "m365_copilot.user:cy@contoso.com,,Marketing\n")
    data = m365.read(FIXTURES / "m365_copilot", Settings(roster=sources.read_roster(ROSTER),
                                                         attribution=sources.read_attribution(tmp_path / "attribution.csv")))
    # Ada and Cy from the roster; Bob, whom the roster does not list, from the map's glob; the hash from neither
    assert units(data.seat_users, "2026-09-30") == {"ada@sales.contoso.com": "Sales", "bob@sales.contoso.com": "Marketing",
                                                    "cy@contoso.com": "Operations",
                                                    "8f14e45fceea167a5a36dedd4bea2543": None}
    assert any(n.startswith("m365_copilot: 1 of the 4 seats of the 2026-09-30 report") for n in data.notes)


def test_without_a_roster_nothing_changes_and_no_note_is_made():
    data = m365.read(FIXTURES / "m365_copilot", Settings())
    assert set(units(data.seat_users, "2026-09-30").values()) == {None}
    assert "m365.business_unit_from_hr_roster" not in data.fixes
    assert not any("HR roster" in n for n in data.notes)


def test_a_raw_folder_reads_its_roster_from_reference(tmp_path):
    shutil.copytree(FIXTURES / "m365_copilot", tmp_path / "m365_copilot")
    (tmp_path / "reference").mkdir()
    shutil.copy(ROSTER, tmp_path / "reference" / "hr_roster.csv")
    assembled = sources.assemble(tmp_path, "USD")
    assert units(assembled.frames["seat_users"], "2026-09-30")["cy@contoso.com"] == "Operations"
    assert any("2 of the 4 seats" in n for n in assembled.report["sources"]["m365_copilot"]["notes"])


@pytest.mark.parametrize("text, message, line", [
    ("User,BusinessUnit\na@x.com,Sales\n", "missing column(s) ['UserId']", None),
    ("UserId,BusinessUnit,CostCentre\na@x.com,Sales,1\nA@X.com,Finance,2\n", "given 2 business units", 3),
    ("UserId,BusinessUnit\na@x.com,Sales\n,Finance\n", "a row has no UserId", 3),
])
def test_a_bad_roster_is_refused_with_file_line_and_fix(tmp_path, text, message, line):
    path = tmp_path / "hr_roster.csv"
    path.write_text(text)
    with pytest.raises(InputError) as e:
        sources.read_roster(path)
    assert message in str(e.value) and "hr_roster.csv" in str(e.value)
    if line:
        assert f"line {line}" in str(e.value)


def test_the_roster_gives_a_github_user_without_a_team_a_business_unit(tmp_path):
    """tests/fixtures/github_copilot/seats_2026-09-30.json: octocat is assigned by the Platform team, mona by no
    team; the roster knows both, by seat id and by bare login, and only mona takes its unit."""
    from boardpack.adapters import github

    roster = tmp_path / "hr_roster.csv"
    roster.write_text("UserId,BusinessUnit,CostCentre\nMona,Research,CC-700\nuser:octocat,Finance,CC-200\n")
    folder = tmp_path / "github_copilot"
    folder.mkdir()
    shutil.copy(FIXTURES / "github_copilot" / "seats_2026-09-30.json", folder)
    data = github.read(folder, Settings(roster=sources.read_roster(roster)))
    got = {s: (b if isinstance(b, str) else None) for s, b in zip(data.seat_users["SeatId"],
                                                                  data.seat_users["BusinessUnit"])}
    assert got["user:mona"] == "Research" and got["user:octocat"] == "Platform"
    assert data.fixes["github.business_unit_from_hr_roster"] == 1
    without = github.read(folder, Settings())
    assert dict(zip(without.seat_users["SeatId"], without.seat_users["BusinessUnit"]))["user:mona"] is None
