"""OpenAI organization Costs API and Usage API pages (JSON) -> spend and usage rows.

Files: `*.json` anywhere under `openai/`, each one page (`{"object": "page", "data": [buckets]}`), a list of
pages, or a list of buckets. What a result holds is read from its `object`:
`organization.costs.result` (billed cost, per day and project / line item) or
`organization.usage.completions.result` / `organization.usage.embeddings.result` (token volumes).

Units: `amount.value` is in dollars (not cents) with a lower-case currency; bucket times are Unix seconds
with an exclusive end; usage `input_tokens` INCLUDES cached and cache-write tokens, so they are split out.
Days the Costs API does not cover but the Usage API does are priced at list price as estimates.
Token cost lines without `quantity` take the usage count of their day, project, model and token type, shared
between the lines it covers in proportion to cost / list price (batch and standard lines when the usage is not
grouped by batch); a line no usage covers is given cost / list price tokens, and named in the notes.
Pages fetched twice (overlapping fetches) count once per bucket, from the later fetch (`refetch`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from .. import prices
from ..exceptions import InputError
from . import (
    Settings,
    SourceData,
    files_in,
    note_estimates,
    page_buckets,
    quantities,
    refetch,
    spend_frame,
    usage_frame,
)

SOURCE = "openai"
PROVIDER = "OpenAI"
SERVICE = "OpenAI API"
COST = "organization.costs.result"
COMPLETIONS = "organization.usage.completions.result"
EMBEDDINGS = "organization.usage.embeddings.result"
TOKEN_UNIT, MTOK_UNIT = "Tokens", "1000000 Tokens"

# Line-item kinds (after ", ") -> token type; longest first so "cached input" wins over "input".
LINE_ITEM_KINDS = (("cached input", "cached_input"), ("cache read", "cached_input"),
                   ("cache write", "cache_write"), ("cached write", "cache_write"),
                   ("input", "input"), ("output", "output"))
# Qualifiers whose tokens the catalog's text-token price does not cover: no ListCost for them.
UNPRICED_QUALIFIERS = ("audio", "image", "video")
QUANTITY_TOKENS = {"tokens": 1, "1000_tokens": 1000}
SERVICE_TIERS = {"default": "standard", "auto": "standard"}  # OpenAI's names -> the pack's


@dataclass
class _Collected:
    """What the files of one folder hold, gathered before rows are built."""

    costs: list = field(default_factory=list)  # spend rows from cost results
    usage: list = field(default_factory=list)  # usage records, one per result and token type
    covered: set = field(default_factory=set)  # days a costs page covers (billed or not)
    entries: list = field(default_factory=list)  # every result read (refetch.Entry), before overlaps are resolved
    ends: dict = field(default_factory=dict)  # file -> the end times of its buckets (which fetch is later)
    skipped: dict = field(default_factory=lambda: defaultdict(int))  # result kinds that are not tokens


def read(folder: Path, settings: Settings) -> SourceData:
    """All Costs and Usage API pages under `folder` as spend (billed, or estimated) and usage rows."""
    data, found = SourceData(SOURCE), _Collected()
    for path in files_in(folder, "*.json"):
        data.files.append(path)
        _read_file(path, refetch.relative(path, folder), found, data.fixes)
    _resolve_fetches(found, data)
    data.notes += [f"openai: {n} {kind} result(s) skipped: not token usage or cost."
                   for kind, n in sorted(found.skipped.items())]
    usage_rows = _aggregate_usage(found.usage)
    _fill_quantities(found.costs, usage_rows, data)
    estimates = _estimate_spend(usage_rows, found.covered, data)
    data.spend = spend_frame(found.costs + estimates)
    data.usage = usage_frame(usage_rows)
    return data


def _read_file(path: Path, name: str, found: _Collected, fixes) -> None:
    """Every result of a file as an entry; `name`: the file's path relative to the source folder."""
    buckets = _results(path, fixes)
    found.ends[name] = [end for _, end, _ in buckets]
    kinds = set()
    for position, start, end, index, result in ((n, *r) for n, b in enumerate(buckets) for r in b[2]):
        kind = _kind(result, path, start, index, fixes)
        kinds.add(kind)
        entry = refetch.Entry(name, start, end, kind, result, bucket=position, cost=kind == COST)
        if kind == COST:
            entry.read = _cost_row(result, start, end, path, name, entry.fixes)
        elif kind in (COMPLETIONS, EMBEDDINGS):
            entry.read = [{**r, "x_SourceFile": name} for r in _usage_records(result, start, path, index, entry.fixes)]
        found.entries.append(entry)
    # A file holds one endpoint's pages: if it is a costs file, its empty buckets are days billed nothing.
    if COST in kinds or (not kinds and "cost" in path.name.lower()):
        found.covered.update(start.normalize() for start, _, _ in buckets)


def _resolve_fetches(found: _Collected, data: SourceData) -> None:
    """The results that count (a bucket fetched twice: the later fetch's); the others to the ledger and notes."""
    for entry in refetch.resolve(found.entries, found.ends):
        data.fixes.update(entry.fixes)
        if entry.kind == COST:
            found.costs.append(entry.read)
        elif entry.kind in (COMPLETIONS, EMBEDDINGS):
            found.usage += entry.read
        else:
            found.skipped[entry.kind] += 1
    refetch.report(data, found.entries)


# --- reading pages ---------------------------------------------------------------------------------------

def _buckets(path: Path) -> list[dict]:
    return page_buckets(path, "not an OpenAI usage or costs page: no `data` list of buckets",
                        "export the response of GET /v1/organization/costs or /v1/organization/usage/completions.")


def _results(path: Path, fixes) -> list[tuple[pd.Timestamp, pd.Timestamp, list]]:
    """(start, end, [(start, end, result index, result)...]) for every bucket of a file."""
    out = []
    for bucket in _buckets(path):
        start = _unix(bucket.get("start_time"), path, "start_time", fixes)
        if bucket.get("end_time") is None:
            fixes["openai.end_time_inferred_1d"] += 1  # 1d is the default (and the Costs API's only) width
            end = start + pd.Timedelta(days=1)
        else:
            end = _unix(bucket["end_time"], path, "end_time", fixes)
        if end <= start:
            raise InputError(path, f"bucket ending {end} does not end after it starts ({start})",
                             "end_time is exclusive and must be later than start_time.", column="end_time")
        out.append((start, end, [(start, end, i, r) for i, r in enumerate(bucket.get("results") or [])]))
    return out


def _unix(value, path: Path, field: str, fixes) -> pd.Timestamp:
    """Unix seconds -> tz-naive UTC timestamp; milliseconds and numeric strings are tolerated and counted."""
    if isinstance(value, str):
        fixes["openai.unix_time_as_text"] += 1
        try:
            value = float(value)
        except ValueError:
            value = None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InputError(path, f"bucket {field} {value!r} is not a Unix time in seconds",
                         "keep start_time/end_time as the API returns them (integer seconds).", column=field)
    if value > 1e11:  # seconds this large are past year 5000: the value is in milliseconds
        fixes["openai.unix_milliseconds"] += 1
        value = value / 1000
    return pd.Timestamp(int(value), unit="s")


def _kind(result: dict, path: Path, start, index: int, fixes) -> str:
    """The result's `object`, or the kind its fields show when an export dropped it."""
    if not isinstance(result, dict):
        raise InputError(path, f"result {index} of the bucket starting {start} is not an object",
                         "keep the API response as it came.")
    if result.get("object"):
        return result["object"]
    fixes["openai.result_object_inferred"] += 1
    if "amount" in result:
        return COST
    if "input_tokens" in result:
        return COMPLETIONS if "output_tokens" in result else EMBEDDINGS
    raise InputError(path, f"result {index} of the bucket starting {start} has no `object` and no amount or "
                     "input_tokens", "keep the `object` field of every result.", column="object")


# --- costs -----------------------------------------------------------------------------------------------

def parse_line_item(line_item: str | None) -> tuple[str | None, str | None, str | None, str]:
    """(model, token type, service tier, qualifier) of a line item such as "gpt-4o-2024-08-06, cached input".

    "batch" anywhere in the kind marks the batch tier; "audio"/"image" qualifiers are kept so that text-token
    list prices are not applied to them. A line item without a kind is a model only if the catalog knows it.
    """
    if not line_item or not str(line_item).strip():
        return None, None, None, ""
    text = str(line_item).strip()
    left, sep, kind = text.rpartition(",")
    if not sep:
        known = prices.catalog_model(PROVIDER, text) is not None
        return (text if known else None), None, None, ""
    kind = kind.strip().lower().replace("(", " ").replace(")", " ")
    tier = "batch" if "batch" in kind.split() else None
    token_type = next((t for k, t in LINE_ITEM_KINDS if k in kind), None)
    qualifier = next((q for q in UNPRICED_QUALIFIERS if q in kind.split()), "")
    model = left.strip() if token_type or prices.catalog_model(PROVIDER, left.strip()) else None
    return model, token_type, tier, qualifier


def _modality(line_item: str | None, model: str | None, token_type: str | None) -> str:
    """Token lines, model-only lines and ungrouped totals are API token spend; tools and storage are platform."""
    if not line_item or token_type:
        return "api_tokens"
    return "api_tokens" if model and "," not in line_item else "platform"  # "gpt-4o, web search" is a tool


def _money(value, path: Path, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InputError(path, f"{field} {value!r} is not a number", "keep amount.value as the API returns it.",
                         column=field) from None


def _cost_row(result: dict, start, end, path: Path, name: str, fixes) -> dict:
    """One Costs API result as a FOCUS row; amount.value is dollars, currency upper-cased."""
    amount = result.get("amount") or {}
    if amount.get("value") is None:
        raise InputError(path, f"a cost result of {start:%Y-%m-%d} has no amount.value",
                         "export the costs endpoint response unchanged.", column="amount.value")
    value = _money(amount["value"], path, "amount.value")
    currency = str(amount.get("currency") or "").strip()
    if not currency:
        fixes["openai.currency_assumed_usd"] += 1  # OpenAI bills in USD only
        currency = "usd"
    if currency != currency.upper():
        fixes["openai.currency_upper_cased"] += 1
    model, token_type, tier, qualifier = parse_line_item(result.get("line_item"))
    project = result.get("project_id")
    row = {
        **_periods(start, end), "BillingAccountId": result.get("organization_id"), "SubAccountId": project,
        "ProviderName": PROVIDER, "PublisherName": PROVIDER, "InvoiceIssuerName": PROVIDER,
        "ServiceName": SERVICE, "ServiceCategory": "AI and Machine Learning",
        "ChargeCategory": "Credit" if value < 0 else "Usage", "ChargeFrequency": "Usage-Based",
        "ChargeDescription": result.get("line_item") or "OpenAI API costs", "PricingCategory": "Standard",
        "SkuId": result.get("line_item"), "BilledCost": float(value), "EffectiveCost": float(value),
        "ContractedCost": float(value), "BillingCurrency": currency.upper(),
        "x_Model": model, "x_TokenType": token_type, "x_ServiceTier": tier,
        "x_SpendModality": _modality(result.get("line_item"), model, token_type),
        "x_AttributionKey": f"openai.project:{project}" if project else None,
        "x_Source": SOURCE, "x_SourceFile": name, "_qualifier": qualifier,
    }
    _set_quantity(row, result, path, fixes)
    return row


def _set_quantity(row: dict, result: dict, path: Path, fixes) -> None:
    """quantity/quantity_unit -> ConsumedQuantity/Unit; token units become tokens (1000_tokens x 1000)."""
    quantity, unit = result.get("quantity"), result.get("quantity_unit")
    if quantity is None:
        return
    if not isinstance(quantity, (int, float)) or isinstance(quantity, bool) or quantity < 0:
        raise InputError(path, f"quantity {quantity!r} of line item {row['SkuId']!r} on "
                         f"{row['ChargePeriodStart']:%Y-%m-%d} is not a non-negative number",
                         "export the costs endpoint response unchanged.", column="quantity")
    if unit in QUANTITY_TOKENS and row["x_SpendModality"] == "api_tokens":
        if QUANTITY_TOKENS[unit] != 1:
            fixes["openai.quantity_1000_tokens_to_tokens"] += 1
        _set_tokens(row, float(quantity) * QUANTITY_TOKENS[unit])
    else:
        row["ConsumedQuantity"], row["ConsumedUnit"] = float(quantity), unit


def _list_price(row: dict) -> float | None:
    """The catalog's USD price per MTok of a text-token line's model, token type and tier, if any."""
    if not row["x_Model"] or not row["x_TokenType"] or row.get("_qualifier") or row["BillingCurrency"] != "USD":
        return None
    return prices.token_price(PROVIDER, row["x_Model"], row["ChargePeriodStart"], row["x_TokenType"],
                              row["x_ServiceTier"])


def _set_tokens(row: dict, tokens: float) -> None:
    """Token quantity and, where the catalog prices this model and token type in USD, the list cost."""
    row.update(ConsumedQuantity=tokens, ConsumedUnit=TOKEN_UNIT, PricingQuantity=tokens / 1e6, PricingUnit=MTOK_UNIT)
    price = _list_price(row)
    if price is not None:
        row.update(ListUnitPrice=price, ListCost=tokens / 1e6 * price)


def _periods(start, end) -> dict:
    """Charge period = the bucket; billing period = its calendar month (OpenAI invoices monthly)."""
    month = start.to_period("M").to_timestamp()
    return {"ChargePeriodStart": start, "ChargePeriodEnd": end,
            "BillingPeriodStart": month, "BillingPeriodEnd": month + pd.DateOffset(months=1)}


# --- usage -----------------------------------------------------------------------------------------------

def _count(result: dict, field: str, path: Path, start) -> int:
    value = result.get(field) or 0
    if not isinstance(value, (int, float)) or value < 0:
        raise InputError(path, f"{field} {value!r} in the bucket starting {start} is not a non-negative count",
                         "keep token counts as the API returns them.", column=field)
    return int(value)


def _usage_records(result: dict, start, path: Path, index: int, fixes) -> list[dict]:
    """A usage result split into disjoint token types: input_tokens INCLUDES cached and cache-write tokens."""
    total = _count(result, "input_tokens", path, start)
    cached = _count(result, "input_cached_tokens", path, start)
    written = _count(result, "input_cache_write_tokens", path, start)
    if cached + written > total:
        raise InputError(path, f"result {index} of the bucket starting {start}: cached ({cached}) plus cache-write "
                         f"({written}) tokens exceed input_tokens ({total})",
                         "input_tokens must include the cached tokens; export the usage endpoint unchanged.",
                         column="input_cached_tokens")
    if cached or written:
        fixes["openai.cached_tokens_split_from_input"] += 1
    parts = {"input": total - cached - written, "cached_input": cached, "cache_write": written,
             "output": _count(result, "output_tokens", path, start)}
    tier = "batch" if result.get("batch") else SERVICE_TIERS.get(result.get("service_tier"), result.get("service_tier"))
    if result.get("batch") is False and tier is None:
        tier = "standard"
    project = result.get("project_id")
    base = {"Day": start.normalize(), "x_Model": result.get("model"), "x_ServiceTier": tier,
            "x_AttributionKey": f"openai.project:{project}" if project else None}
    requests = _count(result, "num_model_requests", path, start)
    # The request count rides on the input row only, so that summing over token types counts requests once.
    return [{**base, "x_TokenType": t, "Tokens": n, "Requests": requests if t == "input" else 0}
            for t, n in parts.items() if n or t == "input"]


def _aggregate_usage(records: list[dict]) -> list[dict]:
    """One row per day x model x token type x attribution key x service tier."""
    if not records:
        return []
    keys = ["Day", "x_Model", "x_TokenType", "x_AttributionKey", "x_ServiceTier"]
    frame = pd.DataFrame(records).groupby(keys, dropna=False, as_index=False).agg(
        Tokens=("Tokens", "sum"), Requests=("Requests", "sum"),
        x_SourceFile=("x_SourceFile", lambda files: ", ".join(sorted(set(files)))))
    frame = frame.astype(object).where(frame.notna(), None)
    return [{**r, "ProviderName": PROVIDER, "x_Source": SOURCE} for r in frame.to_dict("records")]


def _batch(tier: str | None) -> str | None:
    """A usage or cost tier as the line items tell it: batch or standard (any other tier); None: not grouped."""
    return None if tier is None else "batch" if tier == "batch" else "standard"


def _fill_quantities(costs: list[dict], usage_rows: list[dict], data: SourceData) -> None:
    """Token cost lines without `quantity` take their token count from the usage of the same day, project,
    model, token type and batch or not (a cost line without a project: the usage of all projects; usage not
    grouped by batch: the count of both). Lines that share one count split what their quantities leave of it;
    lines without one are estimated from their cost at list price; only lines without a list price stay empty."""
    totals: dict[tuple, float] = defaultdict(float)
    for u in usage_rows:
        for key in (u["x_AttributionKey"], None) if u["x_AttributionKey"] else (None,):
            totals[(u["Day"], key, u["x_Model"], u["x_TokenType"], _batch(u["x_ServiceTier"]))] += u["Tokens"]
    pools = defaultdict(list)
    for row in costs:
        if row["x_Model"] and row["x_TokenType"]:
            base = (row["ChargePeriodStart"].normalize(), row["x_AttributionKey"], row["x_Model"], row["x_TokenType"])
            tiers = (_batch(row["x_ServiceTier"] or "standard"), None)  # line items name the batch tier only
            pool = next((base + (t,) for t in tiers if base + (t,) in totals), None)
            if pool:
                pools[pool].append(row)
    quantities.fill(pools, totals, data, _list_price, _set_tokens,
                    "without quantity share a usage count with other lines of the same day, project, model and "
                    "token type (batch and standard lines when the usage is not grouped by batch; lines split by "
                    "API key)")
    quantities.estimate(costs, data, _list_price, _set_tokens, "usage pages",
                        lambda r: r["SkuId"] or "(no line item: costs not grouped by line_item)")


def _estimate_spend(usage_rows: list[dict], covered: set, data: SourceData) -> list[dict]:
    """Usage on days no cost page covers, priced at list price (effective-dated) and marked as estimates."""
    rows, unpriced = [], defaultdict(float)
    for u in usage_rows:
        if u["Day"] in covered:
            continue
        price = prices.token_price(PROVIDER, u["x_Model"], u["Day"], u["x_TokenType"], u["x_ServiceTier"]) \
            if u["x_Model"] else None
        if price is None:
            unpriced[u["x_Model"] or "(no model: usage not grouped by model)"] += u["Tokens"]
            continue
        rows.append(_estimate_row(u, price))
    note_estimates(data, len(rows), unpriced, "Costs API")
    return rows


def _estimate_row(u: dict, price: float) -> dict:
    cost = u["Tokens"] / 1e6 * price
    day = u["Day"]
    description = (f"ESTIMATE: {u['x_Model']} {u['x_TokenType']} tokens at list price ({prices.catalog_version()}); "
                   "no Costs API data for this day")
    project = (u["x_AttributionKey"] or "").removeprefix("openai.project:") or None
    return {
        **_periods(day, day + pd.Timedelta(days=1)), "SubAccountId": project,
        "ProviderName": PROVIDER, "PublisherName": PROVIDER, "InvoiceIssuerName": PROVIDER, "ServiceName": SERVICE,
        "ServiceCategory": "AI and Machine Learning", "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
        "ChargeDescription": description, "PricingCategory": "Standard",
        "SkuId": f"{u['x_Model']}:{u['x_TokenType']}", "ConsumedQuantity": u["Tokens"], "ConsumedUnit": TOKEN_UNIT,
        "PricingQuantity": u["Tokens"] / 1e6, "PricingUnit": MTOK_UNIT, "ListUnitPrice": price, "ListCost": cost,
        "ContractedCost": cost, "EffectiveCost": cost, "BilledCost": cost, "BillingCurrency": "USD",
        "x_Model": u["x_Model"], "x_TokenType": u["x_TokenType"], "x_SpendModality": "api_tokens",
        "x_ServiceTier": u["x_ServiceTier"], "x_AttributionKey": u["x_AttributionKey"], "x_Source": SOURCE,
        "x_SourceFile": u["x_SourceFile"], "x_Basis": "estimated",
    }
