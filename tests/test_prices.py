"""Price catalog access: effective-dated list prices from the bundled genai-prices data, offline."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from importlib.metadata import version

import pandas as pd
import pytest
from genai_prices import data_snapshot

from boardpack import prices
from boardpack.schema import MODELS_COLUMNS, TIERS

UTC = timezone.utc


pytestmark = pytest.mark.usefixtures("no_network")  # conftest: any connection attempt fails


def catalog_model(provider_id: str, model_id: str):
    provider = data_snapshot.get_snapshot().find_provider(None, provider_id, None)
    return next(m for m in provider.models if m.id == model_id)


def test_catalog_version_pins_installed_package():
    assert prices.CATALOG == "genai-prices"
    assert prices.catalog_version() == f"genai-prices=={version('genai-prices')}"


def test_list_price_matches_genai_prices():
    at = datetime(2025, 3, 1, tzinfo=UTC)
    expected = catalog_model("openai", "gpt-4o").get_prices(at)
    assert prices.list_price("openai", "gpt-4o", at) == (float(expected.input_mtok), float(expected.output_mtok))
    assert prices.list_price("openai", "gpt-4o", at) == (2.5, 10.0)


def test_list_price_is_effective_dated():
    # OpenAI cut o3 from 10/40 to 2/8 per MTok on 2025-06-10.
    assert prices.list_price("openai", "o3", datetime(2025, 6, 1, tzinfo=UTC)) == (10.0, 40.0)
    assert prices.list_price("openai", "o3", datetime(2025, 7, 1, tzinfo=UTC)) == (2.0, 8.0)


def test_naive_datetime_is_utc():
    assert prices.list_price("openai", "o3", datetime(2025, 7, 1)) == prices.list_price(
        "openai", "o3", datetime(2025, 7, 1, tzinfo=UTC))


def test_tiered_price_resolves_to_base_rate():
    # claude-sonnet-4-5 has a long-context tier above 200k tokens; ordinary prompts pay the base rate.
    assert prices.list_price("anthropic", "claude-sonnet-4-5", datetime(2026, 1, 1, tzinfo=UTC)) == (3.0, 15.0)


def test_exact_catalog_id_wins_over_name_matching():
    # "mistral-medium-3-1" is a catalog id that the catalog's own name matcher does not resolve.
    assert prices.list_price("mistral", "mistral-medium-3-1", datetime(2026, 1, 1, tzinfo=UTC)) == (0.4, 2.0)


@pytest.mark.parametrize("provider, model", [("openai", "gpt-does-not-exist"), ("no-such-provider", "gpt-4o")])
def test_price_not_found_names_provider_and_model(provider, model):
    with pytest.raises(prices.PriceNotFound) as err:
        prices.list_price(provider, model, datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(err.value, LookupError)
    assert provider in str(err.value) and model in str(err.value)


def test_list_price_is_cached():
    prices.list_price("openai", "gpt-4o", datetime(2025, 1, 1, tzinfo=UTC))
    hits = prices._list_price_utc.cache_info().hits
    prices.list_price("openai", "gpt-4o", datetime(2025, 1, 1, tzinfo=UTC))
    assert prices._list_price_utc.cache_info().hits == hits + 1


def test_packaged_tier_map():
    tiers = prices.load_tier_map()
    assert list(tiers.columns) == list(prices.TIER_MAP_COLUMNS)
    assert len(tiers) >= 30 and tiers["Model"].is_unique
    assert set(tiers["Tier"]) == set(TIERS)
    assert tiers["OpenWeights"].dtype == bool and tiers["OpenWeights"].any()
    assert (tiers["CatalogProvider"] != "").all() and (tiers["CatalogModel"] != "").all()


def test_every_packaged_model_has_a_price():
    catalog = prices.build_model_catalog(prices.load_tier_map(), datetime(2026, 9, 30, tzinfo=UTC))
    assert catalog[["InputPricePerMTok", "OutputPricePerMTok"]].notna().all().all()
    assert (catalog["InputPricePerMTok"] > 0).all() and (catalog["OutputPricePerMTok"] > 0).all()


def test_build_model_catalog_columns_and_source():
    tiers = prices.load_tier_map()
    at = datetime(2026, 9, 30, tzinfo=UTC)
    catalog = prices.build_model_catalog(tiers[tiers["Model"].isin(["gpt-4o", "llama-3.3-70b"])], at)
    assert list(catalog.columns) == list(MODELS_COLUMNS)
    row = catalog.set_index("Model").loc["gpt-4o"]
    assert (row["InputPricePerMTok"], row["OutputPricePerMTok"]) == (2.5, 10.0)
    assert row["PriceSource"] == f"{prices.catalog_version()} openai/gpt-4o @ 2026-09-30"
    llama = catalog.set_index("Model").loc["llama-3.3-70b"]
    assert bool(llama["OpenWeights"]) and "aws/meta.llama3-3-70b-instruct-v1:0" in llama["PriceSource"]


def test_model_without_catalog_entry_keeps_empty_price():
    tiers = pd.DataFrame([{"Model": "in-house-7b", "Provider": "Northwind", "Family": "In-house", "Tier": "light",
                           "OpenWeights": True, "CatalogProvider": "", "CatalogModel": ""}])
    row = prices.build_model_catalog(tiers, datetime(2026, 9, 30)).iloc[0]
    assert math.isnan(row["InputPricePerMTok"]) and row["PriceSource"] == ""


def test_load_tier_map_from_path_and_rejects_unknown_tier(tmp_path):
    good = tmp_path / "tiers.csv"
    good.write_text("Model,Provider,Family,Tier,OpenWeights,CatalogProvider,CatalogModel\n"
                    "gpt-4o,OpenAI,GPT-4o,standard,TRUE,openai,gpt-4o\n", encoding="utf-8")
    assert prices.load_tier_map(good)["OpenWeights"].tolist() == [True]
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace("standard", "premium"), encoding="utf-8")
    with pytest.raises(ValueError, match="premium"):
        prices.load_tier_map(bad)
