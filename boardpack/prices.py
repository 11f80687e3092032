"""List prices from the genai-prices catalog, offline, and the model catalog built from it.

Only the catalog bundled in the installed genai-prices wheel is read: nothing here calls
`UpdatePrices` or touches the network, so a pack is reproducible from `catalog_version()`.
Prices are USD per million tokens. Long-context tiered prices resolve to their base rate
(the rate below the first threshold), which is what ordinary prompts pay.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
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

# Display names and billing names that genai-prices' own provider matching does not resolve (it already takes
# "AWS", "Amazon Web Services", "bedrock", "Google Cloud", "vertex_ai" and "gemini" through `provider_match`).
PROVIDER_ALIASES = {
    "microsoft": "azure",
    "azure openai": "azure",
    "azure_ai": "azure",  # LiteLLM's route to Azure AI Foundry
    "azure_text": "azure",
    "amazon web services": "aws",
    "google cloud": "google",
    "google cloud platform": "google",
    "oracle cloud infrastructure": "oracle",
    "oci": "oracle",
}

# Clouds that host other makers' models, and the makers whose models each resells (with the catalog's own
# `fallback_model_providers` of the cloud). A model the catalog does not list under the cloud is priced at its
# maker's entry, as genai-prices itself does for azure and google, but only for a maker the cloud resells: a
# Google Cloud line naming "o3" is not an OpenAI price. The cloud's own entry wins where there is one, since a
# cloud's list price can differ from the maker's.
CLOUD_MAKERS = {
    "aws": {"anthropic", "cohere", "deepseek", "minimax", "mistral", "moonshotai"},
    "azure": {"cohere", "mistral"},
    "google": {"deepseek", "mistral", "moonshotai"},
    "oracle": {"cohere", "google", "x-ai"},
}
CLOUD_HOSTS = set(CLOUD_MAKERS)
# Clouds without a provider in the catalog (genai-prices 0.2.3 lists no OCI prices): makers' prices only.
HOSTS_WITHOUT_CATALOG = {"oracle"}

# Maker entries that must not name a cloud-hosted model: the maker publishes the weights but sells no API for
# them, so the catalog's maker entry is a reseller's price and the cloud's own entry names the model, as
# model_tiers.csv does for gpt-oss.
NOT_SOLD_BY_MAKER = {"openai": ("gpt-oss",)}

# Service tiers that are the catalog's standard price (no price context).
_STANDARD_TIERS = {"", "standard", "default", "auto", "on_demand", "on-demand"}

# Resource names whose last path segment is the model (Bedrock ARNs, Vertex AI resource names): the rest is an
# account, project or region, which must never be matched as a model name.
_RESOURCE_NAME = re.compile(r"^(arn:|projects/|publishers/)")
# Bedrock inference-profile geographies (`us.anthropic.claude-...`), which the catalog lists for some models
# only, and `regional.`, the catalog's own prefix for its entries of the geography profiles.
_BEDROCK_GEO = re.compile(r"^(us-gov|us|eu|apac|jp|au|ca|in|global|regional)\.(?=[a-z])")
# Bedrock and OCI write the maker before the model: `anthropic.claude-...`, `cohere.command-r-plus`.
_VENDOR = re.compile(r"^([a-z][a-z0-9]*)\.(?=[a-z])")
# Bedrock's model version (`-v2:0`, `-1:0`, `:0`), and without a colon (`-v1`) only after a vendor prefix.
_BEDROCK_VERSION = re.compile(r"(-v\d+|-\d{1,2})?:\d+$")
_BEDROCK_VERSION_NO_COLON = re.compile(r"-v\d+$")
# Azure OpenAI meters name the snapshot by month and day: `gpt-4o-0513` is gpt-4o-2024-05-13.
_MMDD = re.compile(r"^(?P<base>.+)-(?P<mm>0[1-9]|1[0-2])(?P<dd>0[1-9]|[12]\d|3[01])$")
_FIRST_SNAPSHOT_YEAR = 2023  # the first dated OpenAI snapshots (gpt-4-0613)
# Azure OpenAI meters carry the context size: `gpt-35-turbo16k`, `gpt-4-turbo128k`, `gpt-4-8k`.
_CONTEXT_SIZE = re.compile(r"-?(\d+)k$")


def catalog_provider_id(provider: str) -> str | None:
    """The genai-prices provider id for a display name ("OpenAI"), billing name or id; None if unknown."""
    from genai_prices import data_snapshot
    from genai_prices.data_snapshot import find_provider_by_id

    if not isinstance(provider, str):
        return None
    name = provider.strip().lower()
    found = find_provider_by_id(data_snapshot.get_snapshot().providers, PROVIDER_ALIASES.get(name, name))
    return found.id if found else None


def _host_id(provider) -> str | None:
    """The catalog provider id of the host, or its HOSTS_WITHOUT_CATALOG name; None if unknown."""
    if not isinstance(provider, str):
        return None
    name = provider.strip().lower()
    name = PROVIDER_ALIASES.get(name, name)
    return name if name in HOSTS_WITHOUT_CATALOG else catalog_provider_id(name)


def _path_forms(ref: str) -> list[str]:
    """`azure/gpt-4o`, `bedrock/converse/<id>`, ARNs and Vertex resource names: the model is the last segment."""
    if "/" not in ref:
        return [ref]
    last = ref.rsplit("/", 1)[1]
    # Some catalog ids are paths (OpenRouter's `mistralai/...`, `accounts/fireworks/...`), so a path is looked up
    # as written first; a resource name never is a model id.
    return [last] if _RESOURCE_NAME.match(ref) else [ref, last]


def _bedrock_geo_forms(ref: str) -> list[str]:
    """A Bedrock profile id, then without its geography (priced as the regional profile) for geographies the
    catalog does not list for that model."""
    bare = _BEDROCK_GEO.sub("", ref, count=1)
    return [ref, bare] if bare != ref else [ref]


def _azure_forms(ref: str) -> tuple[list[str], list[str]]:
    """Azure OpenAI's spellings of an OpenAI id: (the same model, the model without the meter's context size).

    `gpt-35-turbo-1106` is gpt-3.5-turbo-1106; `gpt-35-turbo16k` is gpt-3.5-turbo-16k (its own entry) and
    `gpt-4-turbo128k` is gpt-4-turbo (the model's only context size).
    """
    if not ref.startswith("gpt"):
        return [ref], []
    forms = [ref, "gpt-3.5" + ref[len("gpt-35"):]] if re.match(r"gpt-35(?=-|$)", ref) else [ref]
    same, reduced = [], []
    for form in forms:
        size = _CONTEXT_SIZE.search(form)
        same += [form, f"{form[:size.start()]}-{size[1]}k"] if size else [form]
        reduced += [form[:size.start()]] if size else []
    return same, reduced


def _snapshot_forms(ref: str) -> tuple[list[str], list[str]]:
    """An MMDD snapshot suffix: (the dated ids the catalog may list, the base model as the last resort).

    The year is not in the meter; only a catalog id of that snapshot matches, so each year is tried.
    """
    m = _MMDD.match(ref)
    if not m:
        return [], []
    dated = []
    for year in range(_FIRST_SNAPSHOT_YEAR, date.today().year + 2):
        try:
            dated.append(f"{m['base']}-{date(year, int(m['mm']), int(m['dd'])):%Y-%m-%d}")
        except ValueError:  # 29 February of a common year
            continue
    return (dated, [m["base"]]) if dated else ([], [])


def _model_refs(model: str) -> tuple[str, ...]:
    """The ids to look a raw model id up by, in order: as written, then renamed, then reduced to its base."""
    raw = model.strip().lower()
    # Vendors' display names ("GPT-4o mini") differ from API ids ("gpt-4o-mini") only by spaces.
    same = list(dict.fromkeys((raw, "-".join(raw.split()))))
    same = [form for ref in same for form in _path_forms(ref)]
    same = [form for ref in same for form in _bedrock_geo_forms(ref)]
    dated, reduced = [], []
    for ref in list(same):
        azure_same, azure_reduced = _azure_forms(ref)
        same += azure_same
        reduced += azure_reduced
    for ref in list(same):
        snapshot_dated, snapshot_base = _snapshot_forms(ref)
        dated += snapshot_dated
        reduced += snapshot_base
    return tuple(dict.fromkeys(same + dated + reduced))


def _maker_ref(ref: str) -> tuple[str | None, str]:
    """(vendor, model id) of a Bedrock or OCI id without geography, vendor prefix and version; else (None, ref)."""
    ref = _BEDROCK_GEO.sub("", ref, count=1)
    vendor = _VENDOR.match(ref)
    if vendor:
        ref = _BEDROCK_VERSION_NO_COLON.sub("", _BEDROCK_VERSION.sub("", ref[vendor.end():]))
        return vendor[1], ref
    return None, _BEDROCK_VERSION.sub("", ref)


def _sold_by_maker(provider_id: str, info) -> bool:
    return not info.id.startswith(NOT_SOLD_BY_MAKER.get(provider_id, ()))


def _owner(snapshot, provider, info) -> str:
    """The provider whose entry `info` is: genai-prices answers azure's OpenAI models with OpenAI's entries."""
    from genai_prices.data_snapshot import find_provider_by_id

    for pid in (provider.id, *(provider.fallback_model_providers or ())):
        owner = find_provider_by_id(snapshot.providers, pid)
        if owner and any(m is info for m in owner.models):
            return owner.id
    return provider.id


def _hosted_entry(snapshot, host: str, refs: tuple[str, ...]):
    """(provider id, ModelInfo) of the first ref the catalog resolves for the host, with its own matching."""
    if host in HOSTS_WITHOUT_CATALOG:
        return None
    # An exact catalog id first, as in _model_info: some ids (mistral-medium-3-1) are not matched by their entry.
    own = snapshot.find_provider(None, host, None)
    exact = next((m for m in own.models if m.id.lower() == refs[0]), None)
    if exact is not None:
        return host, exact
    for ref in refs:
        try:
            provider, info = snapshot.find_provider_model(ref, None, host, None)
        except LookupError:
            continue
        return _owner(snapshot, provider, info), info
    return None


def _maker_entry(snapshot, host: str, refs: tuple[str, ...], resold_only: bool):
    """(provider id, ModelInfo) of the model's maker for a cloud-hosted id: the maker named by the id's vendor
    prefix, else the cloud's fallback providers, else the provider whose `model_match` claims the id.

    `resold_only`: only a maker the cloud resells (CLOUD_MAKERS, the cloud's fallbacks), for an id the catalog
    does not list under the cloud; an id it does list is the cloud's, whoever made it.
    """
    from genai_prices.data_snapshot import find_provider_by_id

    cloud = find_provider_by_id(snapshot.providers, host) if host not in HOSTS_WITHOUT_CATALOG else None
    fallback_ids = tuple(cloud and cloud.fallback_model_providers or ())
    fallbacks = [find_provider_by_id(snapshot.providers, p) for p in fallback_ids]
    resold = CLOUD_MAKERS[host] | set(fallback_ids)
    for ref in refs:
        vendor, bare = _maker_ref(ref)
        makers = [find_provider_by_id(snapshot.providers, vendor) if vendor else None, *fallbacks]
        try:
            makers.append(snapshot.find_provider(bare, None, None))
        except LookupError:
            pass
        for maker in makers:
            if maker is None or maker.id == host or (resold_only and maker.id not in resold):
                continue
            info = maker.find_model(bare)  # without all_providers: the maker's own entries only
            if info is not None and _sold_by_maker(maker.id, info):
                return maker.id, info
    return None


@lru_cache(maxsize=4096)
def _resolve(provider: str, model: str):
    """((provider id, model id) that names the model, (provider id, ModelInfo) whose price is charged), or None.

    The host's own entry is priced where the catalog has one; a cloud-hosted model is named by its maker's
    entry, so that Bedrock's Claude and Anthropic's Claude are one model in the tier map.
    """
    from genai_prices import data_snapshot

    host = _host_id(provider)
    if host is None or not isinstance(model, str) or not model.strip():
        return None  # also a null model (NaN) of a frame row
    snapshot = data_snapshot.get_snapshot()
    refs = _model_refs(model)
    hosted = _hosted_entry(snapshot, host, refs)
    maker = _maker_entry(snapshot, host, refs, resold_only=hosted is None) if host in CLOUD_HOSTS else None
    named, priced = maker or hosted, hosted or maker
    if named is None:
        return None
    return (named[0], named[1].id), priced


def catalog_model(provider: str, model: str) -> tuple[str, str] | None:
    """(genai-prices provider id, model id) that a raw model name resolves to, e.g.
    ("OpenAI", "gpt-4o-2024-08-06") -> ("openai", "gpt-4o"); None when the catalog lacks it.

    A model a cloud hosts is named by its maker's entry ("AWS", "us.anthropic.claude-3-5-sonnet-20241022-v2:0")
    -> ("anthropic", "claude-3-5-sonnet"); a model only clouds sell by the cloud's entry
    ("AWS", "meta.llama3-3-70b-instruct-v1:0") -> ("aws", "meta.llama3-3-70b-instruct-v1:0").
    """
    found = _resolve(provider, model)
    return found[0] if found else None


def catalog_price_entry(provider: str, model: str) -> tuple[str, str] | None:
    """(genai-prices provider id, model id) whose price `token_prices` charges for a raw model name: the host's
    own entry where the catalog has one (Bedrock's Claude), else the maker's; None when the catalog lacks it."""
    found = _resolve(provider, model)
    return (found[1][0], found[1][1].id) if found else None


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
    found = _resolve(provider, model)
    if found is None:
        return None
    in_force = found[1][1].get_prices(at, _price_context(service_tier))
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
