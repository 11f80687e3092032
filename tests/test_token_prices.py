"""Token prices by token type: raw vendor model names, effective dates, batch and flex variants, offline."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from genai_prices import data_snapshot

from boardpack import prices

UTC = timezone.utc


pytestmark = pytest.mark.usefixtures("no_network")  # conftest: any connection attempt fails


def catalog(provider_id: str, model_id: str, at: datetime, context=None):
    provider = data_snapshot.get_snapshot().find_provider(None, provider_id, None)
    return next(m for m in provider.models if m.id == model_id).get_prices(at, context)


def test_raw_openai_model_name_resolves_through_catalog_matching():
    at = datetime(2025, 3, 1, tzinfo=UTC)
    got = prices.token_prices("OpenAI", "gpt-4o-2024-08-06", at)
    assert got == {"input": 2.5, "output": 10.0, "cached_input": 1.25, "cache_write": None}
    expected = catalog("openai", "gpt-4o", at)
    assert got["input"] == float(expected.input_mtok) and got["cached_input"] == float(expected.cache_read_mtok)


def test_raw_anthropic_model_name_has_all_four_prices():
    got = prices.token_prices("Anthropic", "claude-3-5-sonnet-20241022", datetime(2025, 3, 1, tzinfo=UTC))
    assert got == {"input": 3.0, "output": 15.0, "cached_input": 0.3, "cache_write": 3.75}


def test_provider_display_name_and_catalog_id_agree():
    at = datetime(2025, 3, 1, tzinfo=UTC)
    assert prices.token_prices("OpenAI", "gpt-4o", at) == prices.token_prices("openai", "gpt-4o", at)
    assert prices.catalog_provider_id("Mistral AI") == "mistral"
    assert prices.catalog_provider_id("Microsoft") == "azure"
    assert prices.catalog_provider_id("Nobody Inc") is None


def test_prices_are_effective_dated():
    # OpenAI cut o3 from 10/40 to 2/8 per MTok on 2025-06-10.
    before = prices.token_prices("OpenAI", "o3", datetime(2025, 6, 1, tzinfo=UTC))
    after = prices.token_prices("OpenAI", "o3", datetime(2025, 7, 1, tzinfo=UTC))
    assert (before["input"], before["output"]) == (10.0, 40.0)
    assert (after["input"], after["output"]) == (2.0, 8.0)


def test_naive_datetime_is_utc():
    assert prices.token_prices("OpenAI", "o3", datetime(2025, 7, 1)) == prices.token_prices(
        "OpenAI", "o3", datetime(2025, 7, 1, tzinfo=UTC))


def test_batch_and_flex_use_the_catalog_variant_in_force():
    at = datetime(2026, 11, 1, tzinfo=UTC)
    standard = prices.token_prices("OpenAI", "o3", at)
    batch = prices.token_prices("OpenAI", "o3", at, service_tier="batch")
    flex = prices.token_prices("OpenAI", "o3", at, service_tier="flex")
    assert (standard["input"], standard["output"]) == (2.0, 8.0)
    assert (batch["input"], batch["output"]) == (1.0, 4.0)  # half price
    assert batch["input"] == float(catalog("openai", "o3", at, {"processing": "batch"}).input_mtok)
    assert (flex["input"], flex["cached_input"], flex["output"]) == (1.0, 0.25, 4.0)
    # "default"/"standard" tiers are the standard price
    assert prices.token_prices("OpenAI", "o3", at, service_tier="default") == standard
    # the catalog dates its batch variant from 2026-10-14: before that, batch is listed at the standard price
    assert prices.token_prices("OpenAI", "o3", datetime(2026, 7, 1, tzinfo=UTC), "batch")["input"] == 2.0


def test_tiered_prices_resolve_to_base_rate():
    got = prices.token_prices("Anthropic", "claude-sonnet-4-5-20250929", datetime(2025, 11, 1, tzinfo=UTC))
    assert got == {"input": 3.0, "output": 15.0, "cached_input": 0.3, "cache_write": 3.75}


def test_unknown_model_or_provider_is_none_never_zero():
    at = datetime(2025, 3, 1, tzinfo=UTC)
    assert prices.token_prices("OpenAI", "no-such-model-9000", at) is None
    assert prices.token_prices("Nobody Inc", "gpt-4o", at) is None
    assert prices.token_prices("OpenAI", "", at) is None
    assert prices.token_prices("OpenAI", float("nan"), at) is None  # a null model of a frame row
    assert prices.token_prices(None, "gpt-4o", at) is None
    assert prices.token_price("OpenAI", "no-such-model-9000", at, "input") is None


def test_catalog_price_missing_for_a_token_type_is_none():
    # embeddings have an input price only
    got = prices.token_prices("OpenAI", "text-embedding-3-small", datetime(2025, 3, 1, tzinfo=UTC))
    assert got == {"input": 0.02, "output": None, "cached_input": None, "cache_write": None}


def test_token_price_charges_cache_kinds_without_a_price_at_their_parent():
    at = datetime(2025, 3, 1, tzinfo=UTC)
    # OpenAI has no cache-write price: genai-prices charges those tokens at the input price
    assert prices.token_price("OpenAI", "gpt-4o", at, "cache_write") == 2.5
    assert prices.token_price("OpenAI", "gpt-4o", at, "cached_input") == 1.25
    assert prices.token_price("Anthropic", "claude-3-5-sonnet", at, "cache_write_1h") == 6.0
    assert prices.token_price("Anthropic", "claude-3-5-sonnet", at, "cache_write") == 3.75
    assert prices.token_price("OpenAI", "text-embedding-3-small", at, "output") is None


def test_catalog_model_names_the_entry_a_raw_name_resolves_to():
    assert prices.catalog_model("OpenAI", "gpt-4o-2024-08-06") == ("openai", "gpt-4o")
    assert prices.catalog_model("OpenAI", "GPT-4o mini") == ("openai", "gpt-4o-mini")  # display name
    assert prices.catalog_model("Anthropic", "claude-3-5-sonnet-20241022") == ("anthropic", "claude-3-5-sonnet")
    assert prices.catalog_model("OpenAI", "web search tool calls") is None


def test_lookups_are_cached():
    at = datetime(2025, 3, 2, tzinfo=UTC)
    prices.token_prices("OpenAI", "gpt-4o-mini-2024-07-18", at)
    hits = prices._token_prices_utc.cache_info().hits
    prices.token_prices("OpenAI", "gpt-4o-mini-2024-07-18", at)
    assert prices._token_prices_utc.cache_info().hits == hits + 1


def test_result_is_a_copy_callers_cannot_corrupt_the_cache():
    at = datetime(2025, 3, 3, tzinfo=UTC)
    first = prices.token_prices("OpenAI", "gpt-4o", at)
    first["input"] = 0.0
    assert prices.token_prices("OpenAI", "gpt-4o", at)["input"] == 2.5
