"""Metrics against small fixtures whose expected numbers are worked out by hand in each test."""

from __future__ import annotations

import pandas as pd
import pytest

from boardpack import metrics as m
from boardpack.quarters import Quarter

Q2, Q3 = Quarter(2026, 2), Quarter(2026, 3)
REF = {"light": "mini", "standard": "mid", "frontier": "big"}


def spend_row(month, cost, use_case=None, modality="api_tokens", model=None, token_type=None, tokens=None,
              provider="OpenAI", frequency="Usage-Based", pricing="Standard", service="API", bu="Finance"):
    return {"ChargePeriodStart": pd.Timestamp(month), "EffectiveCost": cost, "x_UseCaseId": use_case,
            "x_SpendModality": modality, "x_Model": model, "x_TokenType": token_type, "ConsumedQuantity": tokens,
            "ProviderName": provider, "ChargeFrequency": frequency, "PricingCategory": pricing,
            "ServiceName": service, "x_BusinessUnit": bu}


@pytest.fixture
def tables():
    use_cases = pd.DataFrame([
        # id, stage, required tier, portable
        {"UseCaseId": "A", "Name": "Triage", "BusinessUnit": "Ops", "Owner": "a", "Stage": "production",
         "RequiredTier": "light", "Portable": True, "FallbackProvider": "Anthropic"},
        {"UseCaseId": "B", "Name": "Research", "BusinessUnit": "R&D", "Owner": "b", "Stage": "production",
         "RequiredTier": "frontier", "Portable": False, "FallbackProvider": None},
        {"UseCaseId": "C", "Name": "Old bot", "BusinessUnit": "Ops", "Owner": "c", "Stage": "retired",
         "RequiredTier": "standard", "Portable": False, "FallbackProvider": None},
        {"UseCaseId": "D", "Name": "Pilot", "BusinessUnit": "HR", "Owner": "d", "Stage": "pilot",
         "RequiredTier": "standard", "Portable": False, "FallbackProvider": None},
    ])
    models = pd.DataFrame([
        {"Model": "big", "Provider": "OpenAI", "Family": "x", "Tier": "frontier", "OpenWeights": False,
         "InputPricePerMTok": 10.0, "OutputPricePerMTok": 40.0, "PriceSource": "t"},
        {"Model": "mid", "Provider": "OpenAI", "Family": "x", "Tier": "standard", "OpenWeights": False,
         "InputPricePerMTok": 2.0, "OutputPricePerMTok": 8.0, "PriceSource": "t"},
        {"Model": "mini", "Provider": "OpenAI", "Family": "x", "Tier": "light", "OpenWeights": False,
         "InputPricePerMTok": 0.5, "OutputPricePerMTok": 2.0, "PriceSource": "t"},
        {"Model": "llama", "Provider": "Meta", "Family": "l", "Tier": "standard", "OpenWeights": True,
         "InputPricePerMTok": 1.0, "OutputPricePerMTok": 1.0, "PriceSource": "t"},
    ])
    spend = pd.DataFrame([
        # Q3: use case A (light) runs on the frontier model: over-provisioned.
        spend_row("2026-07-01", 100.0, "A", model="big", token_type="input", tokens=10e6),       # 10/MTok
        spend_row("2026-07-01", 200.0, "A", model="big", token_type="output", tokens=5e6),       # 40/MTok
        spend_row("2026-08-01", 300.0, "B", model="big", token_type="input", tokens=30e6),
        spend_row("2026-08-01", 50.0, "C", model="llama", token_type="input", tokens=50e6, provider="Meta"),
        spend_row("2026-09-01", 150.0, "D", model="mini", token_type="input", tokens=300e6),
        spend_row("2026-09-01", 100.0, None, model="mid", token_type="input", tokens=50e6),     # unattributed
        spend_row("2026-09-01", 600.0, "A", modality="seat_licence", provider="Microsoft",
                  frequency="Recurring", pricing="Committed", service="Copilot"),
        # Q2: for the bridge and `previous`.
        spend_row("2026-04-01", 200.0, "A", model="big", token_type="input", tokens=20e6),
        spend_row("2026-05-01", 100.0, "B", model="mid", token_type="input", tokens=50e6),
    ])
    outcomes = pd.DataFrame([
        {"UseCaseId": "A", "Month": pd.Timestamp("2026-07-01"), "Evidence": "measured",
         "ValueLow": 1000.0, "ValueBase": 1500.0, "ValueHigh": 2000.0},
        {"UseCaseId": "A", "Month": pd.Timestamp("2026-08-01"), "Evidence": "estimated",
         "ValueLow": 300.0, "ValueBase": 500.0, "ValueHigh": 900.0},
        {"UseCaseId": "B", "Month": pd.Timestamp("2026-08-01"), "Evidence": "measured",
         "ValueLow": 400.0, "ValueBase": 600.0, "ValueHigh": 700.0},
        {"UseCaseId": "D", "Month": pd.Timestamp("2026-09-01"), "Evidence": "assumed",
         "ValueLow": 0.0, "ValueBase": 5000.0, "ValueHigh": 8000.0},
        {"UseCaseId": "B", "Month": pd.Timestamp("2026-05-01"), "Evidence": "measured",
         "ValueLow": 100.0, "ValueBase": 200.0, "ValueHigh": 300.0},
    ])
    seats = pd.DataFrame([
        {"ProviderName": "Microsoft", "Product": "Copilot", "Month": pd.Timestamp("2026-09-01"),
         "BusinessUnit": "Finance", "LicensedSeats": 100.0, "ActiveUsers": 60.0},
    ])
    return {"spend": spend, "outcomes": outcomes, "use_cases": use_cases, "models": models, "seats": seats}


def q(tables, quarter):
    return (m.in_quarter(tables["spend"], "ChargePeriodStart", quarter),
            m.in_quarter(tables["outcomes"], "Month", quarter))


def test_value_multiple(tables):
    spend, outcomes = q(tables, Q3)
    v = m.value_metrics(spend, outcomes)
    # spend = 100+200+300+50+150+100+600 = 1500
    assert v["spend"] == pytest.approx(1500.0)
    # value = measured + estimated base = 1500 + 500 + 600 = 2600; assumed 5000 kept apart
    assert v["value"] == pytest.approx(2600.0)
    assert v["assumed_value"] == pytest.approx(5000.0)
    # low = measured lows only = 1000 + 400; high = all highs = 2000 + 900 + 700 + 8000
    assert v["value_low"] == pytest.approx(1400.0)
    assert v["value_high"] == pytest.approx(11600.0)
    assert v["value_multiple"] == pytest.approx(2600 / 1500)
    # unattributed: no use case (100) + use case C without outcome rows (50); D has an (assumed) row
    assert v["unattributed_spend_share"] == pytest.approx(150 / 1500)


def test_use_case_quadrants(tables):
    spend, outcomes = q(tables, Q3)
    t = m.use_case_table(spend, outcomes, tables["use_cases"], target=3.0).set_index("use_case")
    # A: value 2000 on spend 900 -> 2.22x < 3 -> fix; B: 600 on 300 -> 2x -> fix
    assert t.at["A", "multiple"] == pytest.approx(2000 / 900)
    assert t.at["A", "quadrant"] == "fix"
    assert t.at["C", "quadrant"] == "retire"          # retired, still spending
    assert t.at["D", "quadrant"] == "prove"           # only assumed value
    assert t.at["D", "evidence"] == "assumed"
    assert m.use_case_table(spend, outcomes, tables["use_cases"], target=2.0).set_index("use_case").at["A", "quadrant"] == "scale"


def test_workload_fit_and_retiering(tables):
    spend, _ = q(tables, Q3)
    w = m.workload_fit(spend, tables["use_cases"], tables["models"], REF)
    # token spend = 100+200+300+50+150+100 = 900; A on frontier for a light need: 300 over-provisioned
    assert w["token_spend"] == pytest.approx(900.0)
    assert w["overprovisioned_spend"] == pytest.approx(300.0)
    assert w["workload_fit"] == pytest.approx(1 - 300 / 900)
    # re-priced on `mini`: 10 MTok input x 0.5 + 5 MTok output x 2.0 = 15 -> savings 300 - 15
    assert w["retiering_savings"] == pytest.approx(285.0)
    table = m.retiering_table(spend, tables["use_cases"], tables["models"], REF)
    assert table["savings"].sum() == pytest.approx(285.0)


def test_seat_utilisation(tables):
    spend, _ = q(tables, Q3)
    seats = m.in_quarter(tables["seats"], "Month", Q3)
    s = m.seat_utilisation(seats, spend).set_index("product")
    assert s.at["Copilot", "utilisation"] == pytest.approx(0.6)
    # 40% of 100 seats idle, on 600 of seat cost
    assert s.at["Copilot", "idle_seat_cost"] == pytest.approx(240.0)


def test_flexibility(tables):
    spend, _ = q(tables, Q3)
    f = m.flexibility(spend, tables["use_cases"], tables["models"])
    # portable = use case A only: 100 + 200 + 600 = 900 of 1500
    assert f["portable_spend_share"] == pytest.approx(900 / 1500)
    # providers: OpenAI 850, Microsoft 600, Meta 50 -> shares in percent squared
    expected_hhi = (850 / 15) ** 2 + (600 / 15) ** 2 + (50 / 15) ** 2
    assert f["hhi"] == pytest.approx(expected_hhi)
    assert f["top_provider"] == "OpenAI" and f["top_provider_share"] == pytest.approx(850 / 1500)
    # usage-based and not committed: all token rows (900); seats are recurring and committed
    assert f["consumption_share"] == pytest.approx(900 / 1500)
    # open weights: llama 50 of 900 token spend
    assert f["open_weight_share"] == pytest.approx(50 / 900)


def test_jevons_bridge_by_hand(tables):
    prev, cur = (m.in_quarter(tables["spend"], "ChargePeriodStart", x) for x in (Q2, Q3))
    b = m.jevons_bridge(prev, cur)
    # Q2: big:input 200 on 20M (u=10/M), mid:input 100 on 50M (u=2/M): cost0 = 300, V0 = 70M, u0_avg = 300/70 per M
    # Q3 SKUs: big:input 400 on 40M (u=10), big:output 200 on 5M (u=40, new), llama:input 50 on 50M (u=1, new),
    #          mini:input 150 on 300M (u=0.5, new), mid:input 100 on 50M (u=2): cost1 = 900, V1 = 445M
    u0_avg = 300 / 70
    volume = (445 - 70) * u0_avg
    # mix: new SKUs take u0 = u1
    mix = (40 * 10 + 5 * 40 + 50 * 1 + 300 * 0.5 + 50 * 2) - 445 * u0_avg
    price = 0.0  # the SKUs that existed kept their unit cost
    assert b["volume"] == pytest.approx(round(volume, 2))
    assert b["mix"] == pytest.approx(round(mix, 2))
    assert b["price"] == pytest.approx(price, abs=0.01)
    assert round(b["volume"] + b["mix"] + b["price"], 2) == round(900 - 300, 2)


def test_jevons_bridge_price_effect():
    def rows(cost_in, tok_in):
        return pd.DataFrame([spend_row("2026-07-01", cost_in, "A", model="big", token_type="input", tokens=tok_in)])
    b = m.jevons_bridge(rows(100.0, 10e6), rows(90.0, 20e6))
    # one SKU: u0 = 10/M, u1 = 4.5/M; volume = 10M x 10/M = 100; mix = 0; price = 20M x (4.5 - 10)/M = -110
    assert (b["volume"], b["mix"], b["price"]) == (100.0, 0.0, -110.0)


def test_bridge_sums_to_the_cent_on_awkward_numbers():
    import numpy as np
    rng = np.random.default_rng(7)
    def frame(n):
        return pd.DataFrame([spend_row("2026-07-01", float(rng.uniform(0.01, 9999.99)), "A",
                                       model=f"m{i % 7}", token_type=("input", "output")[i % 2],
                                       tokens=float(rng.integers(1, 10**9))) for i in range(n)])
    b = m.jevons_bridge(frame(40), frame(55))
    total = round(b["volume"] + b["mix"] + b["price"], 2)
    assert total == round(b["token_spend"] - b["previous_token_spend"], 2)
    assert abs(b["price"] - b["price_unrounded"]) <= 0.011


def test_rag():
    assert m.rag(3.0, 3.0) == "green"
    assert m.rag(2.75, 3.0) == "amber"   # within 10%
    assert m.rag(2.69, 3.0) == "red"
    assert m.rag(None, 3.0) == "red"


def test_quarter_metrics_keys(tables):
    out = m.quarter_metrics(tables, Q3, {"value_multiple": 3.0, "workload_fit": 0.8, "portable_spend_share": 0.5},
                            REF, "USD", "FINAL")
    for key in m.HEADLINE_KEYS + ("quarter", "currency", "status", "bridge", "previous", "use_cases"):
        assert key in out
    assert out["previous"]["quarter"] == "2026-Q2"
    assert out["previous"]["spend"] == pytest.approx(300.0)
    assert set(out["bridge"]) >= {"volume", "mix", "price", "previous_token_spend", "token_spend"}


# --- quarters without a basis for some metrics (issue 10, item 1) -----------------------------------------------

TARGETS = {"value_multiple": 3.0, "workload_fit": 0.8, "portable_spend_share": 0.5}
SCENARIOS = {"usage_surge": {"label": "Usage grows", "usage_growth": 0.10},
             "price_cut": {"label": "Prices fall", "price_change": -0.25},
             "right_sizing": {"label": "Right-size", "retiering_adopted": 0.5, "idle_seats_reallocated": 0.5}}


def no_token_tables(tables, outcomes: bool = True, use_cases: bool = True) -> dict:
    """Seats and GPUs only, from 2026-Q1 to Q3 (enough history for a forecast); optionally no outcome ledger
    and no use-case register, as a raw folder without use_cases/ and outcomes/ gives them."""
    rows = []
    for month in pd.date_range("2026-01-01", "2026-09-01", freq="MS"):
        rows.append(spend_row(month, 600.0 + 10 * month.month, "A", modality="seat_licence", provider="Microsoft",
                              frequency="Recurring", pricing="Committed", service="Copilot"))
        rows.append(spend_row(month, 1000.0 + 50 * month.month, "B", modality="self_hosted", provider="AWS",
                              service="EC2"))
    seats = pd.DataFrame([{"ProviderName": "Microsoft", "Product": "Copilot", "Month": month, "BusinessUnit": "Finance",
                           "LicensedSeats": 100.0, "ActiveUsers": 60.0}
                          for month in pd.date_range("2026-01-01", "2026-09-01", freq="MS")])
    out = dict(tables, spend=pd.DataFrame(rows), seats=seats)
    if not outcomes:
        out["outcomes"] = tables["outcomes"].iloc[0:0]
    if not use_cases:
        out["use_cases"] = tables["use_cases"].iloc[0:0]
        out["spend"] = out["spend"].assign(x_UseCaseId=None)
    return out


def test_a_quarter_without_token_spend_has_no_token_metrics_and_says_why(tables):
    out = m.quarter_metrics(no_token_tables(tables), Q3, TARGETS, REF, "USD", "FINAL", SCENARIOS)
    assert out["token_spend"] == 0 and out["tokens"] == 0 and out["retiering_savings"] == 0
    for key in ("workload_fit", "open_weight_share", "unit_cost_per_mtok"):
        assert out[key] is None and out["no_basis"][key] == "no token spend this quarter", key
    assert out["rag"]["workload_fit"] is None  # neither on track nor off it
    assert out["bridge"] is None and out["no_basis"]["bridge"] == "no token spend this quarter or last"
    assert out["retiering"] == [] and out["idle_seat_cost"] == pytest.approx(0.4 * (600 + 70 + 600 + 80 + 600 + 90))
    # the forecast projects seats and GPUs; the token scenarios have nothing to act on
    fc = out["forecast"]
    assert set(fc["parts"]) == {"seat_licence", "self_hosted"} and "api_tokens" not in fc["growth"]
    assert fc["scenarios"]["usage_surge"]["spend"] == pytest.approx(fc["base"])
    assert fc["scenarios"]["price_cut"]["spend"] == pytest.approx(fc["base"])
    assert out["value_multiple"] == pytest.approx(out["value"] / out["spend"])  # outcomes are there


def test_a_quarter_without_outcomes_or_use_cases_has_no_multiple_and_no_portable_share(tables):
    out = m.quarter_metrics(no_token_tables(tables, outcomes=False, use_cases=False), Q3, TARGETS, REF, "USD",
                            "PROVISIONAL", SCENARIOS)
    assert out["value"] == 0 and out["value_multiple"] is None
    assert out["no_basis"]["value_multiple"] == "no outcomes recorded"
    assert out["portable_spend_share"] is None and out["no_basis"]["portable_spend_share"] == "no use-case register"
    assert out["rag"]["value_multiple"] is None and out["rag"]["portable_spend_share"] is None
    assert out["unattributed_spend"] == pytest.approx(out["spend"]) and out["unattributed_spend_share"] == 1
    assert out["use_cases"] == [] and out["assumptions"] == []
    assert all(h["value_multiple"] is None for h in out["history"])


def test_the_bridge_when_token_spend_stops(tables):
    spend = pd.concat([no_token_tables(tables)["spend"],
                       pd.DataFrame([spend_row("2026-05-01", 300.0, "A", model="big", token_type="input", tokens=30e6)])])
    out = m.quarter_metrics(dict(no_token_tables(tables), spend=spend), Q3, TARGETS, REF, "USD", "FINAL")
    b = out["bridge"]
    assert (b["previous_token_spend"], b["token_spend"], b["volume"], b["mix"], b["price"]) == (300.0, 0.0, -300.0, 0.0, 0.0)
    assert b["unit_cost_per_mtok"] is None and b["previous_unit_cost_per_mtok"] == pytest.approx(10.0)
    assert out["previous"]["workload_fit"] == pytest.approx(1 - 300 / 300)  # Q2: frontier model for a light need
