"""Model ids as cloud billing exports and gateways carry them, resolved to the price catalog, offline.

Each row: the provider as a FOCUS ProviderName, a genai-prices id or a LiteLLM custom_llm_provider; the model id
as the source writes it (for FOCUS, what `adapters.focus.parse_model` makes of the SKU / meter); the catalog entry
that names the model (`prices.catalog_model`, what `sources.canonical_models` matches against the tier map); and
the entry whose price is charged (`prices.catalog_price_entry`: the host's own entry where the catalog has one).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest
from genai_prices import data_snapshot

from boardpack import prices, sources

UTC = timezone.utc
AT = datetime(2026, 7, 15, 12, tzinfo=UTC)  # midday: some catalog entries have night rates

pytestmark = pytest.mark.usefixtures("no_network")  # conftest: any connection attempt fails

CLAUDE_35_V2_BEDROCK = ("aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0")

# provider, model id, catalog_model, catalog_price_entry (None: the same entry)
CASES = [
    # Bedrock: the catalog lists Claude per inference-profile family; the model is named by Anthropic's entry
    ("AWS", "anthropic.claude-3-5-sonnet-20241022-v2:0", ("anthropic", "claude-3-5-sonnet"), CLAUDE_35_V2_BEDROCK),
    ("AWS", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", ("anthropic", "claude-3-5-sonnet"), CLAUDE_35_V2_BEDROCK),
    ("bedrock", "apac.anthropic.claude-3-5-sonnet-20241022-v2:0", ("anthropic", "claude-3-5-sonnet"),
     CLAUDE_35_V2_BEDROCK),
    ("Amazon Web Services", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0", ("anthropic", "claude-3-7-sonnet-latest"),
     ("aws", "regional.anthropic.claude-3-7-sonnet-20250219-v1:0")),
    ("AWS", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", ("anthropic", "claude-sonnet-4-5"),
     ("aws", "global.anthropic.claude-sonnet-4-5-20250929-v1:0")),
    ("AWS", "us.anthropic.claude-sonnet-4-20250514-v1:0", ("anthropic", "claude-sonnet-4-0"),
     ("aws", "regional.anthropic.claude-sonnet-4-20250514-v1:0")),
    # a geo prefix the catalog does not list for this model: priced as the regional profile
    ("AWS", "global.anthropic.claude-opus-4-1-20250805-v1:0", ("anthropic", "claude-opus-4-1"),
     ("aws", "regional.anthropic.claude-opus-4-1-20250805-v1:0")),
    # FOCUS: parse_model drops Bedrock's vendor prefix from the SKU
    ("AWS", "claude-3-5-sonnet-20241022-v2:0", ("anthropic", "claude-3-5-sonnet"), CLAUDE_35_V2_BEDROCK),
    # ARNs of a cross-region inference profile and of a foundation model; a LiteLLM route
    ("AWS", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
     ("anthropic", "claude-3-5-sonnet"), CLAUDE_35_V2_BEDROCK),
    ("AWS", "arn:aws:bedrock:us-west-2::foundation-model/mistral.mistral-large-2407-v1:0", ("mistral", "mistral-large"),
     None),
    ("bedrock", "bedrock/converse/us.anthropic.claude-3-5-haiku-20241022-v1:0",
     ("anthropic", "claude-3-5-haiku-latest"), ("aws", "regional.anthropic.claude-3-5-haiku-20241022-v1:0")),
    # models only a cloud sells: the cloud's entry names them, as the tier map does
    ("AWS", "meta.llama3-3-70b-instruct-v1:0", ("aws", "meta.llama3-3-70b-instruct-v1:0"), None),
    ("AWS", "us.meta.llama3-2-3b-instruct-v1:0", ("aws", "meta.llama3-2-3b-instruct-v1:0"), None),
    ("AWS", "amazon.nova-pro-v1:0", ("aws", "amazon.nova-pro-v1:0"), None),
    ("AWS", "us.amazon.nova-lite-v1:0", ("aws", "amazon.nova-lite-v1:0"), None),
    ("AWS", "openai.gpt-oss-120b-1:0", ("aws", "openai.gpt-oss-120b-1:0"), None),
    ("AWS", "deepseek.r1-v1:0", ("aws", "deepseek.r1-v1:0"), None),
    # Bedrock models the catalog lists only under their maker: the maker's list price
    ("AWS", "mistral.mistral-large-2407-v1:0", ("mistral", "mistral-large"), None),
    ("AWS", "cohere.command-r-plus-v1:0", ("cohere", "command-r-plus"), None),
    ("AWS", "cohere.command-r-v1:0", ("cohere", "command-r"), None),
    # Vertex AI: resource names, publisher paths, `@` snapshots; Claude priced at Vertex's own entry
    ("Google Cloud", "publishers/google/models/gemini-2.5-pro", ("google", "gemini-2.5-pro"), None),
    ("Google Cloud", "projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001",
     ("google", "gemini-2.0-flash"), None),
    ("vertex_ai", "publishers/anthropic/models/claude-3-5-sonnet-v2@20241022", ("anthropic", "claude-3-5-sonnet"),
     ("google", "claude-3-5-sonnet")),
    ("vertex_ai", "claude-sonnet-4@20250514", ("anthropic", "claude-sonnet-4-0"), ("google", "claude-4-sonnet")),
    ("Google Cloud", "claude-3-5-sonnet-v2", ("anthropic", "claude-3-5-sonnet"), ("google", "claude-3-5-sonnet")),
    ("Google Cloud", "gemini-1.5-pro-002", ("google", "gemini-1.5-pro"), None),
    ("Google Cloud", "mistral-large-2411", ("mistral", "mistral-large"), None),
    # Azure OpenAI meters (as parse_model reads them): MMDD is the snapshot date
    ("Microsoft", "gpt-4o-0513", ("openai", "gpt-4o-2024-05-13"), None),
    ("Microsoft", "gpt-4o-0806", ("openai", "gpt-4o"), None),
    ("Microsoft", "gpt-4o-1120", ("openai", "gpt-4o"), None),
    ("Microsoft", "gpt-4o-0101", ("openai", "gpt-4o"), None),  # no such snapshot: the base model
    ("Microsoft", "gpt-4o-mini-0718", ("openai", "gpt-4o-mini"), None),
    ("Microsoft", "gpt-4.1-mini-0414", ("openai", "gpt-4.1-mini"), None),
    ("Microsoft", "gpt-4.1-0414", ("openai", "gpt-4.1"), None),
    ("Microsoft", "gpt-5-0807", ("openai", "gpt-5"), None),
    ("Microsoft", "o3-mini-0131", ("openai", "o3-mini"), ("azure", "o3-mini")),
    ("Microsoft", "o1-1217", ("openai", "o1"), ("azure", "o1")),
    ("Microsoft", "o3-0416", ("openai", "o3"), ("azure", "o3-2025-04-16")),
    # Azure's spellings: gpt-35, context sizes in the meter
    ("Microsoft", "gpt-35-turbo-0125", ("openai", "gpt-3.5-turbo"), None),
    ("Microsoft", "gpt-35-turbo-1106", ("openai", "gpt-3.5-turbo-1106"), None),
    ("Microsoft", "gpt-35-turbo4k", ("openai", "gpt-3.5-turbo"), None),
    ("Microsoft", "gpt-35-turbo16k", ("openai", "gpt-3.5-turbo-16k"), None),
    ("Microsoft", "gpt-4-8k", ("openai", "gpt-4"), None),
    ("Microsoft", "gpt-4-turbo128k", ("openai", "gpt-4-turbo"), None),
    # Azure deployment names as LiteLLM logs them
    ("azure", "azure/gpt-4o-2024-08-06", ("openai", "gpt-4o"), None),
    ("azure", "gpt-4o-mini", ("openai", "gpt-4o-mini"), None),
    ("azure", "gpt-4o-mini-2024-07-18", ("openai", "gpt-4o-mini"), None),
    ("azure", "gpt-35-turbo", ("openai", "gpt-3.5-turbo"), None),
    ("azure_ai", "phi-4", ("azure", "phi-4"), None),
    ("Microsoft", "mistral-large-2411", ("mistral", "mistral-large"), None),
    ("Microsoft", "deepseek-r1", ("deepseek", "deepseek-reasoner"), None),
    # dated snapshots at the maker
    ("OpenAI", "gpt-4o-2024-08-06", ("openai", "gpt-4o"), None),
    ("OpenAI", "gpt-4o-2024-05-13", ("openai", "gpt-4o-2024-05-13"), None),
    ("Anthropic", "claude-3-5-sonnet-20241022", ("anthropic", "claude-3-5-sonnet"), None),
    ("Anthropic", "claude-sonnet-4-20250514", ("anthropic", "claude-sonnet-4-0"), None),
    ("Google", "gemini-2.0-flash-001", ("google", "gemini-2.0-flash"), None),
    ("OpenAI", "gpt-5.2-20251211", ("openai", "gpt-5.2"), None),
    # Oracle (OCI Generative AI): the catalog has no OCI prices, so the maker's
    ("Oracle", "cohere.command-r-plus", ("cohere", "command-r-plus"), None),
    ("Oracle", "cohere.command-r-plus-08-2024", ("cohere", "command-r-plus"), None),
    ("Oracle", "xai.grok-4", ("x-ai", "grok-4-0709"), None),
    ("Oracle", "google.gemini-2.5-pro", ("google", "gemini-2.5-pro"), None),
]

UNKNOWN = [
    ("AWS", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"),  # opaque id
    ("AWS", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdef123456"),
    ("Google Cloud", "projects/claude-3-opus-lab/locations/us-central1/endpoints/1234567890"),  # not a model name
    ("AWS", "ai21.jamba-1-5-large-v1:0"),
    ("Oracle", "meta.llama-3.3-70b-instruct"),  # no OCI prices and Meta sells no API
    ("Oracle", "openai.gpt-oss-120b"),  # OpenAI sells no gpt-oss API: its catalog entry is a reseller's price
    ("Nobody Inc", "us.anthropic.claude-3-5-sonnet-20241022-v2:0"),  # unknown providers never borrow a price
    # a cloud borrows only the prices of makers it resells (prices.CLOUD_MAKERS)
    ("Google Cloud", "o3"),
    ("AWS", "gpt-4o"),
    ("Oracle", "claude-3-5-sonnet-20241022"),
    ("Microsoft", "gpt-4o-1399"),  # not a month-day
    ("AWS", ""),
    ("Microsoft", None),
]


def entry_prices(provider_id: str, model_id: str, at: datetime) -> tuple[float, float]:
    """(input, output) of one catalog entry, read straight from genai-prices (long-context tiers: the base)."""
    provider = data_snapshot.get_snapshot().find_provider(None, provider_id, None)
    listed = next(m for m in provider.models if m.id == model_id).get_prices(at)
    return tuple(float(getattr(p, "base", p)) for p in (listed.input_mtok, listed.output_mtok))


@pytest.mark.parametrize("provider, model, named, priced", CASES, ids=[f"{p}:{m}" for p, m, _, _ in CASES])
def test_cloud_model_ids_resolve(provider, model, named, priced):
    assert prices.catalog_model(provider, model) == named
    assert prices.catalog_price_entry(provider, model) == (priced or named)
    got = prices.token_prices(provider, model, AT)
    assert got is not None and got["input"] > 0 and got["output"] > 0
    assert (got["input"], got["output"]) == entry_prices(*(priced or named), AT)
    assert prices.token_price(provider, model, AT, "output") == got["output"]


@pytest.mark.parametrize("provider, model", UNKNOWN, ids=[f"{p}:{m}" for p, m in UNKNOWN])
def test_unknown_cloud_ids_are_none_never_zero(provider, model):
    assert prices.catalog_model(provider, model) is None
    assert prices.catalog_price_entry(provider, model) is None
    assert prices.token_prices(provider, model, AT) is None
    assert prices.token_price(provider, model, AT, "input") is None


def test_embedding_meter_resolves_with_an_input_price_only():
    assert prices.catalog_model("Microsoft", "text-embedding-3-large") == ("openai", "text-embedding-3-large")
    assert prices.catalog_price_entry("Microsoft", "text-embedding-3-large") == ("azure", "text-embedding-3-large")
    got = prices.token_prices("Microsoft", "text-embedding-3-large", AT)
    assert got["input"] == 0.13 and got["output"] is None


def test_host_price_wins_over_the_maker_price_where_the_catalog_lists_both():
    # Bedrock lists gpt-5.4 with a regional premium and Mixtral below Mistral's own price
    for raw, host, maker in [("us.openai.gpt-5.4", ("aws", "openai.gpt-5.4"), ("openai", "gpt-5.4")),
                             ("mistral.mixtral-8x7b-instruct-v0:1", ("aws", "mistral.mixtral-8x7b-instruct-v0:1"),
                              ("mistral", "mixtral-8x7b"))]:
        assert prices.catalog_model("AWS", raw) == maker
        assert prices.catalog_price_entry("AWS", raw) == host
        got = prices.token_prices("AWS", raw, AT)
        assert (got["input"], got["output"]) == entry_prices(*host, AT) != entry_prices(*maker, AT)
    # the 2024-05-13 snapshot of gpt-4o is dearer than the later ones: the meter's date is kept
    assert prices.token_prices("Microsoft", "gpt-4o-0513", AT)["input"] == 5.0
    assert prices.token_prices("Microsoft", "gpt-4o-0806", AT)["input"] == 2.5


def test_tier_map_catalog_ids_name_themselves():
    # canonical_models renames through catalog_model: a tier-map row's own ids must resolve to that row
    for row in prices.load_tier_map().itertuples():
        assert prices.catalog_model(row.CatalogProvider, row.CatalogModel) == (row.CatalogProvider, row.CatalogModel)


def test_provider_names_of_clouds_and_gateways():
    for name in ("AWS", "Amazon Web Services", "bedrock", "bedrock_converse"):
        assert prices.catalog_provider_id(name) == "aws", name
    for name in ("Microsoft", "azure", "azure_ai", "Azure OpenAI"):
        assert prices.catalog_provider_id(name) == "azure", name
    for name in ("Google Cloud", "vertex_ai", "gemini"):
        assert prices.catalog_provider_id(name) == "google", name
    assert prices.catalog_provider_id("Oracle") is None  # the catalog lists no OCI prices


def test_canonical_models_renames_cloud_ids_to_the_tier_map():
    tier_map = prices.load_tier_map()
    rows = [("AWS", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),
            ("AWS", "claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),
            ("AWS", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"),
            ("AWS", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
            ("AWS", "openai.gpt-oss-120b-1:0", "gpt-oss-120b"),
            ("AWS", "llama3-3-70b-instruct-v1:0", "llama-3.3-70b"),  # FOCUS form, without the vendor prefix
            ("AWS", "us.meta.llama3-2-3b-instruct-v1:0", "llama-3.2-3b"),
            ("AWS", "amazon.nova-pro-v1:0", "nova-pro"),
            ("AWS", "mistral.mistral-large-2407-v1:0", "mistral-large"),
            ("AWS", "cohere.command-r-plus-v1:0", "command-r-plus"),
            ("Google Cloud", "publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"),
            ("Google Cloud", "claude-3-5-sonnet-v2", "claude-3-5-sonnet"),
            ("Microsoft", "gpt-4o-0806", "gpt-4o"),
            ("Microsoft", "gpt-4o-0513", "gpt-4o-2024-05-13"),
            ("Microsoft", "gpt-4o-mini-0718", "gpt-4o-mini"),
            ("Microsoft", "o3-mini-0131", "o3-mini"),
            ("Microsoft", "gpt-35-turbo-0125", "gpt-3.5-turbo"),
            ("Oracle", "cohere.command-r-plus", "command-r-plus")]
    frame = pd.DataFrame({"ProviderName": [r[0] for r in rows], "x_Model": [r[1] for r in rows]})
    renamed, count = sources.canonical_models(frame, tier_map)
    assert renamed["x_Model"].tolist() == [r[2] for r in rows]
    assert count == len(rows)
    assert set(renamed["x_Model"]) <= set(tier_map["Model"])
