"""Viva Insights person query -> outcome rows of Copilot assisted hours x the configured loaded hourly rate, worked
by hand on tests/fixtures/viva_insights (README, "Copilot assisted hours")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from boardpack import sources
from boardpack.adapters import Settings, viva
from boardpack.config import load_config
from boardpack.exceptions import ConfigError, InputError
from boardpack.schema import OUTCOMES_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"
VIVA = FIXTURES / "viva_insights"
RATES = {"loaded_hourly_rate": 100.0, "loaded_hourly_rate_low": 70.0, "loaded_hourly_rate_high": 120.0,
         "use_case": "UC-01", "owner": "Head of Digital Workplace"}


def outcomes_of(data) -> list[tuple]:
    o = data.outcomes
    return [(u, m.date().isoformat(), q, lo, base, hi) for u, m, q, lo, base, hi in
            zip(o["UseCaseId"], o["Month"], o["Quantity"], o["ValueLow"], o["ValueBase"], o["ValueHigh"])]


def test_assisted_hours_are_summed_by_month_and_valued_at_the_rate():
    # person_query_2026-08.csv is read first (file names sorted); its Engineering week of 2026-08-02 is also in the
    # quarter's export and counts once. June: 1.75 (a1, week of 06-28); July: 1.25 (a1) + 0.5 (b2) + 0 (b2, empty
    # cell); August: 2.5 (c3) + 0.75 (a1); September: 3 (c3, 9/6/2026). Low, base, high at 70, 100, 120 an hour.
    data = viva.read(VIVA, Settings(assisted_hours=RATES))
    assert list(data.outcomes.columns) == list(OUTCOMES_COLUMNS)
    assert outcomes_of(data) == [("UC-01", "2026-06-01", 1.75, 122.5, 175.0, 210.0),
                                 ("UC-01", "2026-07-01", 1.75, 122.5, 175.0, 210.0),
                                 ("UC-01", "2026-08-01", 3.25, 227.5, 325.0, 390.0),
                                 ("UC-01", "2026-09-01", 3.0, 210.0, 300.0, 360.0)]
    o = data.outcomes
    assert set(o["Evidence"]) == {"estimated"} and set(o["Unit"]) == {"hours"}  # never measured
    assert set(o["OutcomeType"]) == {"copilot_assisted_hours"} and set(o["Owner"]) == {"Head of Digital Workplace"}
    assert set(o["Method"]) == {"Viva Insights Copilot assisted hours (Microsoft's estimate) x a loaded hourly rate "
                                "of 100 (70 to 120) from the configuration"}
    assert data.fixes["viva.duplicate_person_period_dropped"] == 1
    assert any("9.8 Copilot assisted hours of 3 people in 4 month(s)" in n for n in data.notes)  # 9.75 hours


def test_without_a_range_low_and_high_are_the_rate_and_the_use_case_comes_from_the_attribution_map(tmp_path):
    (tmp_path / "attribution.csv").write_text("Key,UseCaseId,BusinessUnit\nm365_copilot.product:*,UC-07,\n")
    mapping = sources.read_attribution(tmp_path / "attribution.csv")
    data = viva.read(VIVA, Settings(assisted_hours={"loaded_hourly_rate": 80.0}, attribution=mapping))
    assert outcomes_of(data)[0] == ("UC-07", "2026-06-01", 1.75, 140.0, 140.0, 140.0)
    assert data.outcomes["Owner"].isna().all()  # nobody named: the outcomes contract warns


def test_without_a_rate_or_a_use_case_the_folder_is_refused_with_the_fix():
    with pytest.raises(InputError, match=r"loaded_hourly_rate"):
        viva.read(VIVA, Settings())
    with pytest.raises(InputError, match=r"\[viva_insights\] use_case, or map m365_copilot.product:Microsoft 365 Copilot"):
        viva.read(VIVA, Settings(assisted_hours={"loaded_hourly_rate": 80.0}))


@pytest.mark.parametrize("text, message, line", [
    ("PersonId,MetricDate,Collaboration hours\np1,2026-07-05,3\n", "no column ['Copilot assisted hours']", None),
    ("PersonId,MetricDate,Copilot assisted hours\np1,2026-07-05,1\np1,05.07.2026,1\n", "MetricDate '05.07.2026'", 3),
    ("PersonId,MetricDate,Copilot assisted hours\np1,2026-07-05,1,5\n", "not a readable CSV", None),
    ("PersonId,MetricDate,Copilot assisted hours\np1,2026-07-05,-1\n", "'-1' is not a number of hours >= 0", 2),
    ("PersonId,MetricDate,Copilot assisted hours\n,2026-07-05,1\n", "no PersonId", 2),
])
def test_a_bad_person_query_is_refused_with_file_line_and_fix(tmp_path, text, message, line):
    (tmp_path / "q.csv").write_text(text)
    with pytest.raises(InputError) as e:
        viva.read(tmp_path, Settings(assisted_hours=RATES))
    assert message in str(e.value) and "q.csv" in str(e.value)
    if line:
        assert f"line {line}" in str(e.value)


def test_a_raw_folder_gives_the_outcomes_table(tmp_path):
    shutil.copytree(FIXTURES / "m365_copilot", tmp_path / "m365_copilot")  # some AI spend: the seats
    shutil.copytree(VIVA, tmp_path / "viva_insights")
    assembled = sources.assemble(tmp_path, "USD", settings=Settings(assisted_hours=RATES))
    outcomes = assembled.frames["outcomes"]
    assert outcomes["ValueBase"].sum() == pytest.approx(975.0)  # 9.75 hours x 100
    assert (outcomes["Month"] == pd.Timestamp("2026-09-01")).sum() == 1


def test_the_configuration_takes_the_rates_and_keeps_them_in_order(tmp_path):
    path = tmp_path / "boardpack.toml"
    path.write_text('[viva_insights]\nloaded_hourly_rate = 95.0\nloaded_hourly_rate_low = 70.0\nuse_case = "UC-01"\n')
    assert load_config(path).viva_insights == {"loaded_hourly_rate": 95.0, "loaded_hourly_rate_low": 70.0,
                                               "use_case": "UC-01"}
    path.write_text("[viva_insights]\nloaded_hourly_rate = 95.0\nloaded_hourly_rate_high = 90.0\n")
    with pytest.raises(ConfigError, match=r"\[viva_insights\] loaded_hourly_rate_high = 90.0 must be >= "):
        load_config(path)
    path.write_text("[viva_insights]\nloaded_hourly_rate = 0.0\n")
    with pytest.raises(ConfigError, match=r"loaded_hourly_rate = 0.0 must be > 0"):
        load_config(path)
    assert load_config(None).viva_insights == {}  # the shipped configuration: commented out
