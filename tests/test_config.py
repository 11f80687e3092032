"""The configuration is checked against its schema: typos name the nearest valid key, values out of bounds
are refused, every message names the file; and every JSON file a pack writes is strict JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from boardpack.config import DEFAULT_CONFIG, Config, Engine, Scenario, load_config
from boardpack.engine import EngineSettings
from boardpack.exceptions import ConfigError
from boardpack.forecast import SCENARIO_KEYS
from boardpack.steps import write_json


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "boardpack.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    path = config(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    message = str(e.value)
    assert str(path) in message  # every message names the file
    return message


# --- the shipped configuration ---------------------------------------------------------------------------

def test_the_shipped_configuration_loads_in_the_shape_the_code_uses():
    cfg = load_config(DEFAULT_CONFIG)
    assert isinstance(cfg, Config) and cfg.path == str(DEFAULT_CONFIG)
    assert (cfg.company, cfg.currency, cfg.paper) == ("Northwind Group", "USD", "A4")
    assert cfg.targets == {"value_multiple": 3.0, "workload_fit": 0.80, "portable_spend_share": 0.50}
    assert all(isinstance(v, float) for v in cfg.targets.values())
    assert cfg.reference_models == {"light": "gpt-4.1-nano", "standard": "gpt-4.1", "frontier": "gpt-5"}
    assert cfg.scenarios["price_cut"] == {"label": "Vendors cut token prices by 25%", "price_change": -0.25}
    assert set(cfg.scenarios) == {"usage_surge", "price_cut", "right_sizing"}
    assert cfg.engine == EngineSettings()
    assert cfg.truth == {"OpenAI": "openai", "Anthropic": "anthropic"}
    assert cfg.seat_prices["Microsoft 365 Copilot"] == 30.0
    assert cfg.branding["primary_colour"] == "#1f3a5f"


def test_the_schema_follows_the_forecast_and_the_engine_settings():
    assert set(Scenario.model_fields) == {"label", *SCENARIO_KEYS}
    assert set(Engine.model_fields) == set(EngineSettings.__dataclass_fields__)


def test_an_empty_configuration_takes_the_defaults(tmp_path):
    cfg = load_config(config(tmp_path, ""))
    assert cfg.targets == {"value_multiple": 3.0, "workload_fit": 0.80, "portable_spend_share": 0.50}
    assert (cfg.currency, cfg.scenarios, cfg.engine) == ("USD", {}, EngineSettings())


def test_a_partial_section_keeps_the_other_defaults(tmp_path):
    cfg = load_config(config(tmp_path, '[targets]\nworkload_fit = 1\n[company]\ncurrency = "eur"\n'
                                       '[engine]\nexpensive_check_rows = 10\nspark_conf = { "spark.x" = "1" }\n'))
    assert cfg.targets == {"value_multiple": 3.0, "workload_fit": 1.0, "portable_spend_share": 0.50}
    assert cfg.currency == "EUR"
    assert (cfg.engine.expensive_check_rows, cfg.engine.spark_conf) == (10, {"spark.x": "1"})


# --- typos -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, where, nearest", [
    ('[company]\ncurrancy = "EUR"\n', "[company] currancy", "currency"),
    ("[target]\nvalue_multiple = 4.0\n", "[target]", "[targets]"),
    ("[targets]\nworkload_fitt = 0.9\n", "[targets] workload_fitt", "workload_fit"),
    ('[branding]\nprimary_color = "#123456"\n', "[branding] primary_color", "primary_colour"),
    ("[scenarios.surge]\nusage_grwth = 0.1\n", "[scenarios.surge] usage_grwth", "usage_growth"),
    ("[engine]\nexpensive_check_row = 10\n", "[engine] expensive_check_row", "expensive_check_rows"),
    ('[reference_models]\nstandrd = "gpt-4.1"\n', "[reference_models] standrd", "standard"),
    ('[sources]\nthruth = { "OpenAI" = "openai" }\n', "[sources] thruth", "truth"),
    ('currency = "EUR"\n', "currency", "[company] currency"),  # a key written above every section
])
def test_an_unknown_key_or_section_names_the_nearest_valid_one(tmp_path, text, where, nearest):
    message = refused(tmp_path, text)
    assert where in message and f"did you mean {nearest}?" in message


def test_an_unknown_key_without_a_near_one_lists_the_valid_keys(tmp_path):
    message = refused(tmp_path, "[targets]\nzzz = 1\n")
    assert "[targets] zzz" in message and "value_multiple, workload_fit, portable_spend_share" in message


def test_every_problem_is_reported_at_once(tmp_path):
    message = refused(tmp_path, '[company]\ncurrancy = "EUR"\n[targets]\nworkload_fit = 80\n')
    assert "currancy" in message and "workload_fit" in message


# --- bounds ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, where, rule", [
    ("[targets]\nworkload_fit = 80\n", "[targets] workload_fit", "write 0.8"),  # 80 meant 80%, not 8000%
    ("[targets]\nportable_spend_share = 50\n", "[targets] portable_spend_share", "write 0.5"),
    ("[targets]\nportable_spend_share = 0\n", "[targets] portable_spend_share", "(0, 1]"),
    ("[targets]\nworkload_fit = 1.2\n", "[targets] workload_fit", "(0, 1]"),
    ("[targets]\nvalue_multiple = 0\n", "[targets] value_multiple", "> 0"),
    ("[targets]\nvalue_multiple = -3\n", "[targets] value_multiple", "> 0"),
    ('[targets]\nvalue_multiple = "3x"\n', "[targets] value_multiple", "number"),
    ("[scenarios.crash]\nusage_growth = -1\n", "[scenarios.crash] usage_growth", "> -1"),
    ("[scenarios.free]\nprice_change = -1.5\n", "[scenarios.free] price_change", ">= -1"),
    ("[scenarios.s]\nretiering_adopted = 1.5\n", "[scenarios.s] retiering_adopted", "[0, 1]"),
    ("[scenarios.s]\nidle_seats_reallocated = -0.1\n", "[scenarios.s] idle_seats_reallocated", "[0, 1]"),
    ("[scenarios.s]\nidle_seats_reallocated = 0.5\nseats_reclaimed = 1\n", "[scenarios.s] seats_reclaimed",
     "the same idle seats"),
    ('[scenarios.s]\nusage_growth = "10%"\n', "[scenarios.s] usage_growth", "0.10 = 10%"),
    ("[scenarios]\nusage_growth = 0.1\n", "[scenarios] usage_growth", "a table of its own"),
    ('[company]\npaper = "A5"\n', "[company] paper", "A4 or Letter"),
    ('[company]\ncurrency = "dollars"\n', "[company] currency", "ISO 4217"),
    ('[branding]\nprimary_colour = "navy"\n', "[branding] primary_colour", "#1f3a5f"),
    ('[branding]\nlogo = "missing.svg"\n', "[branding] logo", "relative to the config file"),
    ('[engine]\nname = "polars"\n', "[engine] name", "duckdb, spark"),
    ("[engine]\nexpensive_check_rows = -1\n", "[engine] expensive_check_rows", ">= 0"),
    ("[engine]\nspark_conf = 3\n", "[engine] spark_conf", "table"),
    ('[sources]\nseat_prices = { "Copilot" = -30 }\n', "[sources] seat_prices.Copilot", ">= 0"),
    ("[seats]\nreclaim_days = [90, 30]\n", "[seats] reclaim_days", "ascending"),
    ("[seats]\nreclaim_days = [0, 30]\n", "[seats] reclaim_days", "each >= 1"),
    ("[seats]\nreclaim_days = 90\n", "[seats] reclaim_days", "list"),
    ("[seats]\nheadline_share = 0\n", "[seats] headline_share", "(0, 1]"),
    ("[seats]\nengaged_months = 4\n", "[seats] engaged_months", "1, 2 or 3"),
    ("targets = 3\n", "targets", "table"),
])
def test_values_out_of_bounds_are_refused(tmp_path, text, where, rule):
    message = refused(tmp_path, text)
    assert where in message and rule in message


@pytest.mark.parametrize("text", [
    "[targets]\nworkload_fit = 1.0\nportable_spend_share = 0.01\nvalue_multiple = 0.5\n",
    "[scenarios.free]\nprice_change = -1\n",  # free tokens: zero spend, never negative
    "[seats]\nreclaim_days = [1]\nheadline_share = 1\n",
    "[scenarios.s]\nusage_growth = -0.99\nretiering_adopted = 0\nidle_seats_reallocated = 1\n",
])
def test_values_on_the_bounds_are_accepted(tmp_path, text):
    load_config(config(tmp_path, text))


def test_missing_and_malformed_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    assert "not valid TOML" in refused(tmp_path, "[targets\n")


# --- strict JSON -----------------------------------------------------------------------------------------

def strict(text: str):
    """json.loads that refuses NaN and infinities (which Python writes by default and JSON does not have)."""
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_write_json_writes_null_for_nan_and_infinities(tmp_path):
    path = write_json({"a": float("nan"), "b": [np.float64("inf"), -math.inf, 1.5], "c": pd.NaT, "d": pd.NA,
                       "e": {"f": np.nan, "g": pd.Timestamp("2026-07-01")}, "h": (np.int64(2), np.bool_(True))},
                      tmp_path / "x.json")
    assert strict(path.read_text()) == {"a": None, "b": [None, None, 1.5], "c": None, "d": None,
                                        "e": {"f": None, "g": "2026-07-01T00:00:00"}, "h": [2, True]}


def test_every_json_file_of_the_sample_pack_is_strict(sample_pack):
    pack, _ = sample_pack
    found = sorted(pack.rglob("*.json"))
    assert {p.name for p in found} >= {"metrics.json", "manifest.json", "validation.json", "provenance.json"}
    for path in found:
        strict(path.read_text(encoding="utf-8"))


def test_the_send_log_refuses_a_number_json_does_not_have(tmp_path):
    from boardpack import mail

    log = tmp_path / "send-log.jsonl"
    mail.append_log(log, {"recipient": "a@example.com", "attempts": 1})
    with pytest.raises(ValueError):
        mail.append_log(log, {"recipient": "b@example.com", "attempts": float("nan")})
    assert [strict(line) for line in log.read_text().splitlines()] == [{"recipient": "a@example.com", "attempts": 1}]
