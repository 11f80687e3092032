"""List prices from the genai-prices catalog, offline, and the model catalog built from it.

Only the catalog bundled in the installed genai-prices wheel is read: nothing here calls
`UpdatePrices` or touches the network, so a pack is reproducible from `catalog_version()`.
Prices are USD per million tokens. Long-context tiered prices resolve to their base rate
(the rate below the first threshold), which is what ordinary prompts pay.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from .schema import MODELS_COLUMNS, TIERS

CATALOG = "genai-prices"
TIER_MAP_FILE = "model_tiers.csv"
TIER_MAP_COLUMNS = ("Model", "Provider", "Family", "Tier", "OpenWeights", "CatalogProvider", "CatalogModel")


class PriceNotFound(LookupError):
    """The catalog has no input/output token price for this provider and model."""


def catalog_version() -> str:
    """The installed catalog as a pin, e.g. `genai-prices==0.2.3`."""
    return f"{CATALOG}=={version(CATALOG)}"


def _utc(at: datetime) -> datetime:
    """Naive datetimes are taken as UTC (as genai-prices does)."""
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _per_mtok(price) -> float | None:
    """A catalog price as a float; tiered prices give their base rate."""
    if price is None:
        return None
    return float(getattr(price, "base", price))


@lru_cache(maxsize=None)
def _model_info(catalog_provider: str, catalog_model: str):
    """The catalog entry: an exact model id first, else the catalog's own name matching."""
    from genai_prices import data_snapshot  # imported lazily: the data module is large

    snapshot = data_snapshot.get_snapshot()
    try:
        provider = snapshot.find_provider(None, catalog_provider, None)
    except LookupError:
        raise PriceNotFound(f"{CATALOG} has no provider '{catalog_provider}' (model '{catalog_model}').") from None
    model = next((m for m in provider.models if m.id == catalog_model), None)
    model = model or provider.find_model(catalog_model, all_providers=snapshot.providers)
    if model is None:
        raise PriceNotFound(
            f"{CATALOG} has no model '{catalog_model}' for provider '{catalog_provider}'. "
            f"Fix CatalogProvider/CatalogModel in the model tier map."
        )
    return model


@lru_cache(maxsize=4096)
def _list_price_utc(catalog_provider: str, catalog_model: str, at: datetime) -> tuple[float, float]:
    prices = _model_info(catalog_provider, catalog_model).get_prices(at)
    inp, out = _per_mtok(prices.input_mtok), _per_mtok(prices.output_mtok)
    if inp is None or out is None:
        raise PriceNotFound(
            f"{CATALOG} has no input/output token price for '{catalog_provider}/{catalog_model}' at {at:%Y-%m-%d %H:%M}Z."
        )
    return inp, out


def list_price(catalog_provider: str, catalog_model: str, at: datetime) -> tuple[float, float]:
    """(input, output) list price in USD per million tokens in force at `at` (effective-dated)."""
    return _list_price_utc(catalog_provider, catalog_model, _utc(at))


def load_tier_map(path: str | Path | None = None) -> pd.DataFrame:
    """The model tier map: the packaged default, or a user's csv with the same columns."""
    source = Path(path) if path else resources.files("boardpack") / "data" / TIER_MAP_FILE
    with source.open("r", encoding="utf-8") as fh:
        tiers = pd.read_csv(fh, dtype=str, keep_default_na=False)
    missing = [c for c in TIER_MAP_COLUMNS if c not in tiers.columns]
    if missing:
        raise ValueError(f"{source}: tier map lacks columns {missing}")
    bad = sorted(set(tiers["Tier"]) - set(TIERS))
    if bad:
        raise ValueError(f"{source}: unknown Tier values {bad}; use one of {TIERS}")
    tiers["OpenWeights"] = tiers["OpenWeights"].str.strip().str.lower().map({"true": True, "false": False})
    if tiers["OpenWeights"].isna().any():
        raise ValueError(f"{source}: OpenWeights must be true or false")
    tiers["OpenWeights"] = tiers["OpenWeights"].astype(bool)
    return tiers[list(TIER_MAP_COLUMNS)]


def build_model_catalog(tier_map: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """The `models` table: each tier-map row with its list prices at `at` and where they came from.

    Rows without a CatalogModel keep empty prices and PriceSource; a CatalogModel the catalog
    does not know raises PriceNotFound.
    """
    day = f"{_utc(at):%Y-%m-%d}"
    rows = []
    for rec in tier_map.to_dict("records"):
        provider, model = rec.get("CatalogProvider", ""), rec.get("CatalogModel", "")
        if provider and model:
            inp, out = list_price(provider, model, at)
            source = f"{catalog_version()} {provider}/{model} @ {day}"
        else:
            inp, out, source = float("nan"), float("nan"), ""
        rows.append({**rec, "InputPricePerMTok": inp, "OutputPricePerMTok": out, "PriceSource": source})
    return pd.DataFrame(rows, columns=list(MODELS_COLUMNS))


# --- Token prices by token type, for raw model names as vendors report them ----------------------------

TOKEN_PRICE_KEYS = {  # our token type -> genai-prices price key
    "input": "input_mtok",
    "output": "output_mtok",
    "cached_input": "cache_read_mtok",
    "cache_write": "cache_write_mtok",  # 5-minute cache writes: Anthropic's default and OpenAI's only kind
}
EXTRA_PRICE_KEYS = {"cache_write_5m": "cache_write_5m_mtok", "cache_write_1h": "cache_write_1h_mtok"}
# genai-prices charges a token kind without its own price at its parent's price (cache kinds at input).
_PRICE_FALLBACK = {"cached_input": "input", "cache_write": "cache_write_5m", "cache_write_5m": "input",
                   "cache_write_1h": "cache_write"}

# Display names and billing names that genai-prices' own provider matching does not resolve.
PROVIDER_ALIASES = {
    "microsoft": "azure",
    "azure openai": "azure",
    "amazon web services": "aws",
    "google cloud": "google",
    "google cloud platform": "google",
}

# Service tiers that are the catalog's standard price (no price context).
_STANDARD_TIERS = {"", "standard", "default", "auto", "on_demand", "on-demand"}


def catalog_provider_id(provider: str) -> str | None:
    """The genai-prices provider id for a display name ("OpenAI"), billing name or id; None if unknown."""
    from genai_prices import data_snapshot
    from genai_prices.data_snapshot import find_provider_by_id

    if not isinstance(provider, str):
        return None
    name = provider.strip().lower()
    found = find_provider_by_id(data_snapshot.get_snapshot().providers, PROVIDER_ALIASES.get(name, name))
    return found.id if found else None


@lru_cache(maxsize=4096)
def _catalog_entry(provider: str, model: str):
    """(provider id, ModelInfo) for a raw model name through genai-prices' matching; None when unknown."""
    from genai_prices import data_snapshot

    provider_id = catalog_provider_id(provider)
    if provider_id is None or not isinstance(model, str) or not model.strip():
        return None  # also a null model (NaN) of a frame row
    snapshot = data_snapshot.get_snapshot()
    # Vendors' display names ("GPT-4o mini") differ from API ids ("gpt-4o-mini") only by spaces.
    for ref in dict.fromkeys((model.strip(), "-".join(model.strip().split()))):
        try:
            _, info = snapshot.find_provider_model(ref, None, provider_id, None)
        except LookupError:
            continue
        return provider_id, info
    return None


def catalog_model(provider: str, model: str) -> tuple[str, str] | None:
    """(genai-prices provider id, model id) that a raw model name resolves to, e.g.
    ("OpenAI", "gpt-4o-2024-08-06") -> ("openai", "gpt-4o"); None when the catalog lacks it."""
    entry = _catalog_entry(provider, model)
    return (entry[0], entry[1].id) if entry else None


def _price_context(service_tier: str | None) -> dict | None:
    """genai-prices' request context for a service tier: batch is a processing mode there."""
    tier = (service_tier or "").strip().lower()
    if tier in _STANDARD_TIERS:
        return None
    if tier == "batch":
        return {"processing": "batch"}
    return {"service_tier": tier}


@lru_cache(maxsize=16384)
def _token_prices_utc(provider: str, model: str, at: datetime, service_tier: str | None) -> dict | None:
    entry = _catalog_entry(provider, model)
    if entry is None:
        return None
    in_force = entry[1].get_prices(at, _price_context(service_tier))
    keys = {**TOKEN_PRICE_KEYS, **EXTRA_PRICE_KEYS}
    return {name: _per_mtok(getattr(in_force, key, None)) for name, key in keys.items()}


def token_prices(provider: str, model: str, at: datetime, service_tier: str | None = None) -> dict[str, float] | None:
    """List prices in USD per million tokens for input, output, cached_input and cache_write in force at `at`.

    `model` may be a raw vendor name ("claude-3-5-sonnet-20241022"); `provider` a display name or a
    genai-prices id. A price the catalog lacks is None; an unknown provider or model gives None (never 0).
    `service_tier` "batch" (or "flex", "priority") selects the catalog's variant where it has one in force
    at `at`; otherwise the standard price applies.
    """
    found = _token_prices_utc(provider, model, _utc(at), service_tier)
    return None if found is None else {name: found[name] for name in TOKEN_PRICE_KEYS}


def token_price(provider: str, model: str, at: datetime, token_type: str,
                service_tier: str | None = None) -> float | None:
    """The list price in USD per million tokens that one token type is charged at, or None if unknown.

    `token_type` is one of `TOKEN_PRICE_KEYS` or "cache_write_1h". As in genai-prices' own calculation,
    a cache kind the catalog has no price for is charged at its parent's price (in the end the input price).
    """
    found = _token_prices_utc(provider, model, _utc(at), service_tier)
    if found is None:
        return None
    while found.get(token_type) is None and token_type in _PRICE_FALLBACK:
        token_type = _PRICE_FALLBACK[token_type]
    return found.get(token_type)
