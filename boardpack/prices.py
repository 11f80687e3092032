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
