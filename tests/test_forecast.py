"""The forecast model, its backtest and the scenarios, against numbers worked out by hand."""

from __future__ import annotations

import pytest

from boardpack import forecast as f


def test_growth_of_a_doubling_series_is_100_percent():
    assert f.growth_rate([100.0, 200.0, 400.0]) == pytest.approx(1.0)
    assert f.fit_level([100.0, 200.0, 400.0], 1.0) == pytest.approx(400.0)


def test_projection_of_two_quarters_by_hand():
    # 100 then 200: the line through their logs doubles every quarter; next quarters 400, 800, 1600, 3200
    out = f.project({"api_tokens": [100.0, 200.0]})
    assert out["total"] == pytest.approx([400.0, 800.0, 1600.0, 3200.0])


def test_backtest_holds_each_quarter_out():
    # Fitted on [100, 200] the model says 400 for the third quarter; it was 300: error +100, 33.3%.
    tests = f.backtest({"api_tokens": [100.0, 200.0, 300.0]}, ["Q1", "Q2", "Q3"], holdout=1)
    assert tests == [{"quarter": "Q3", "actual": 300.0, "forecast": pytest.approx(400.0),
                      "error": pytest.approx(100.0), "abs_pct_error": pytest.approx(1 / 3)}]


def test_flat_series_forecasts_itself_with_zero_backtest_error():
    series = {"seat_licence": [50.0] * 6, "platform": [10.0] * 6}
    result = f.forecast([{"quarter": f"2025-Q{i}"} for i in (1, 2, 3, 4)] + [{"quarter": "2026-Q1"}, {"quarter": "2026-Q2"}],
                        series, 0.0, 0.0, {})
    assert result["base"] == pytest.approx([60.0] * 4)
    assert result["mape"] == pytest.approx(0.0)
    assert result["quarters"] == ["2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2"]


def test_scenarios_change_the_token_part_and_take_off_savings():
    base = {"total": [1000.0, 1000.0], "parts": {"api_tokens": {"forecast": [600.0, 600.0]}}}
    grow = f.scenario(base, {"usage_growth": 0.10}, retiering_savings=0, idle_seat_cost=0)
    # token part 600 x 1.1 = 660 in the first quarter, 600 x 1.21 = 726 in the second
    assert grow == pytest.approx([1060.0, 1126.0])
    cheaper = f.scenario(base, {"price_change": -0.25}, 0, 0)
    assert cheaper == pytest.approx([850.0, 850.0])
    saved = f.scenario(base, {"retiering_adopted": 0.5, "idle_seats_reallocated": 1.0}, retiering_savings=100,
                       idle_seat_cost=40)
    assert saved == pytest.approx([910.0, 910.0])
    with pytest.raises(ValueError, match="unknown scenario"):
        f.scenario(base, {"discount": 0.1}, 0, 0)


def test_too_short_a_history_gives_no_forecast():
    result = f.forecast([{"quarter": "2025-Q1"}, {"quarter": "2025-Q2"}], {"api_tokens": [100.0, 200.0]}, 0.0, 0.0,
                        {"cut": {"price_change": -0.5}})
    assert result["insufficient"] and result["base"] == [] and result["scenarios"] == {}
    assert result["history_quarters"] == 2 and result["min_history"] == f.MIN_HISTORY


def test_a_zero_quarter_keeps_the_positions_of_the_others():
    # [100, 0, 400]: the positive quarters sit at positions 0 and 2; log 400 - log 100 = 2 log 2 over two
    # quarters, so the line doubles every quarter (100%), not quadruples (re-indexed as if adjacent: 300%).
    assert f.growth_rate([100.0, 0.0, 400.0]) == pytest.approx(1.0)
    # the line's end at the last quarter (position 2) is 400; the next quarters 800, 1600...
    assert f.fit_level([100.0, 0.0, 400.0], 1.0) == pytest.approx(400.0)
    assert f.project({"platform": [100.0, 0.0, 400.0]}, horizon=2)["total"] == pytest.approx([800.0, 1600.0])


def test_a_zero_last_quarter_projects_from_the_last_quarter_not_the_last_positive_one():
    # [100, 200, 0]: fitted on positions 0 and 1 (doubling), the line at position 2 is 400; the forecast of
    # the next quarter is 800 (re-indexed, the level would be 200 and the next quarter 400, one quarter late).
    assert f.growth_rate([100.0, 200.0, 0.0]) == pytest.approx(1.0)
    assert f.fit_level([100.0, 200.0, 0.0], 1.0) == pytest.approx(400.0)
