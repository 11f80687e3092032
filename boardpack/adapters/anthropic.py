"""Anthropic Admin API cost report and messages usage report pages (JSON) -> spend and usage rows.

Files: `*.json` anywhere under `anthropic/`, each one page (`{"data": [buckets], "has_more", "next_page"}`), a
list of pages or a list of buckets. A result with `amount` is a cost report line
(`GET /v1/organizations/cost_report`); one with token fields is a usage report line
(`GET /v1/organizations/usage_report/messages`).

Units: cost `amount` is a STRING in CENTS (`"123.45"` = $1.2345); bucket times are RFC 3339 with an exclusive
`ending_at`; usage input is already split into disjoint parts (uncached, cache read, cache creation 5m/1h).
A null workspace is the organisation's default workspace. Days the cost report does not cover but the usage
report does are priced at list price as estimates. The cost report has no token counts: a token line takes
the usage count of its day, workspace, model and token type, shared between the lines it covers in proportion
to cost / list price (standard and batch lines, when the usage report is not grouped by service tier); a line
no usage covers is given cost / list price tokens, and named in the notes. Pages fetched twice (overlapping
fetches) count once per bucket, from the later fetch (`refetch`).
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

SOURCE = "anthropic"
PROVIDER = "Anthropic"
SERVICE = "Claude API"
TOKEN_UNIT, MTOK_UNIT = "Tokens", "1000000 Tokens"
DEFAULT_WORKSPACE = "default"

# Cost report token_type -> (token type, price key of prices.token_price)
COST_TOKEN_TYPES = {
    "uncached_input_tokens": ("input", "input"),
    "output_tokens": ("output", "output"),
    "cache_read_input_tokens": ("cached_input", "cached_input"),
    "cache_creation.ephemeral_5m_input_tokens": ("cache_write", "cache_write"),
    "cache_creation.ephemeral_1h_input_tokens": ("cache_write", "cache_write_1h"),
}
# Usage report fields (dotted = nested) -> the cost report's token_type of the same tokens
USAGE_FIELDS = {
    "uncached_input_tokens": "uncached_input_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens": "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens": "cache_creation.ephemeral_1h_input_tokens",
    "output_tokens": "output_tokens",
}
TOKEN_COST_TYPES = {None, "tokens"}  # anything else (web_search, code_execution, ...) is a platform charge


@dataclass
class _Collected:
    """What the files of one folder hold, gathered before rows are built."""

    costs: list = field(default_factory=list)  # spend rows from cost report lines
    usage: list = field(default_factory=list)  # usage records, one per line and raw token type
    covered: set = field(default_factory=set)  # days a cost report page covers (billed or not)
    entries: list = field(default_factory=list)  # every line read (refetch.Entry), before overlaps are resolved
    ends: dict = field(default_factory=dict)  # file -> the end times of its buckets (which fetch is later)


def read(folder: Path, settings: Settings) -> SourceData:
    """All cost and usage report pages under `folder` as spend (billed, or estimated) and usage rows."""
    data, found = SourceData(SOURCE), _Collected()
    for path in files_in(folder, "*.json"):
        data.files.append(path)
        _read_file(path, refetch.relative(path, folder), found, data.fixes)
    _resolve_fetches(found, data)
    _fill_quantities(found.costs, found.usage, data)
    estimates = _estimate_spend(found.usage, found.covered, data)
    data.spend = spend_frame(found.costs + estimates)
    data.usage = usage_frame(_aggregate_usage(found.usage))
    return data


def _read_file(path: Path, name: str, found: _Collected, fixes) -> None:
    """Every line of a file as an entry; `name`: the file's path relative to the source folder."""
    buckets = [_bucket_times(b, path, fixes) + (b.get("results") or [],) for b in _buckets(path)]
    found.ends[name] = [end for _, end, _ in buckets]
    kinds = set()
    for position, (start, end, results) in enumerate(buckets):
        for index, result in enumerate(results):
            kind = _kind(result, path, start, index)
            kinds.add(kind)
            entry = refetch.Entry(name, start, end, kind, result, bucket=position, cost=kind == "cost")
            entry.read = (_cost_row(result, start, end, path, name, entry.fixes) if kind == "cost"
                          else _usage_records(result, start, path, name, index, entry.fixes))
            found.entries.append(entry)
    # A file holds one report's pages: if it is a cost report, its empty buckets are days billed nothing.
    if "cost" in kinds or (not kinds and "cost" in path.name.lower()):
        found.covered.update(start.normalize() for start, _, _ in buckets)


def _resolve_fetches(found: _Collected, data: SourceData) -> None:
    """The lines that count (a bucket fetched twice: the later fetch's); the others to the ledger and notes."""
    for entry in refetch.resolve(found.entries, found.ends):
        data.fixes.update(entry.fixes)
        if entry.cost:
            found.costs.append(entry.read)
        else:
            found.usage += entry.read
    refetch.report(data, found.entries)


# --- reading pages ---------------------------------------------------------------------------------------

def _buckets(path: Path) -> list[dict]:
    return page_buckets(path, "not an Anthropic report page: no `data` list of buckets",
                        "export the response of GET /v1/organizations/cost_report or usage_report/messages.")


def _bucket_times(bucket: dict, path: Path, fixes) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = _rfc3339(bucket.get("starting_at"), path, "starting_at", fixes)
    if bucket.get("ending_at") is None:
        fixes["anthropic.ending_at_inferred_1d"] += 1  # 1d is the default (and the cost report's only) width
        return start, start + pd.Timedelta(days=1)
    end = _rfc3339(bucket["ending_at"], path, "ending_at", fixes)
    if end <= start:
        raise InputError(path, f"bucket ending {end} does not end after it starts ({start})",
                         "ending_at is exclusive and must be later than starting_at.", column="ending_at")
    return start, end


def _rfc3339(value, path: Path, field: str, fixes) -> pd.Timestamp:
    """RFC 3339 text -> tz-naive UTC. Unix numbers are refused: they belong to other exports (OpenAI)."""
    if not isinstance(value, str):
        raise InputError(path, f"bucket {field} {value!r} is not an RFC 3339 timestamp",
                         "Anthropic reports give times as text such as 2026-07-01T00:00:00Z; export the page "
                         "unchanged.",
                         column=field)
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise InputError(path, f"bucket {field} {value!r} is not an RFC 3339 timestamp",
                         "use times such as 2026-07-01T00:00:00Z.", column=field) from None
    if stamp.tzinfo is None:
        fixes["anthropic.timestamp_without_timezone_as_utc"] += 1
        return stamp
    return stamp.tz_convert("UTC").tz_localize(None)


def _kind(result, path: Path, start, index: int) -> str:
    if isinstance(result, dict) and "amount" in result:
        return "cost"
    if isinstance(result, dict) and any(f in result for f in ("uncached_input_tokens", "output_tokens",
                                                              "cache_read_input_tokens")):
        return "usage"
    raise InputError(path, f"result {index} of the bucket starting {start} is neither a cost line (amount) nor a "
                     "usage line (token counts)", "export the cost_report or usage_report/messages response unchanged.")


def _workspace(result: dict) -> tuple[str | None, str]:
    """(SubAccountId, attribution key): a null workspace_id is the default workspace."""
    workspace = result.get("workspace_id")
    return workspace, f"anthropic.workspace:{workspace or DEFAULT_WORKSPACE}"


# --- costs -----------------------------------------------------------------------------------------------

def _cents(value, path: Path, start, fixes) -> Decimal:
    """The cost report's amount: a decimal STRING in cents -> dollars as Decimal."""
    if not isinstance(value, str):
        fixes["anthropic.amount_not_text"] += 1  # still cents: the report has one unit
    try:
        return Decimal(str(value).strip()) / 100
    except (InvalidOperation, ValueError):
        raise InputError(path, f"amount {value!r} in the bucket starting {start} is not a decimal number",
                         "amount is a decimal string in cents, e.g. \"123.45\"; export the page unchanged.",
                         column="amount") from None


def _cost_row(result: dict, start, end, path: Path, name: str, fixes) -> dict:
    """One cost report line as a FOCUS row."""
    dollars = _cents(result["amount"], path, start, fixes)
    currency = str(result.get("currency") or "USD").strip()
    if currency != currency.upper():
        fixes["anthropic.currency_upper_cased"] += 1
    raw_type, cost_type, model = result.get("token_type"), result.get("cost_type"), result.get("model")
    if raw_type is not None and raw_type not in COST_TOKEN_TYPES:
        raise InputError(path, f"unknown token_type {raw_type!r} in the bucket starting {start}",
                         f"expected one of {sorted(COST_TOKEN_TYPES)}; tell the maintainers about the new type.",
                         column="token_type")
    is_tokens = cost_type in TOKEN_COST_TYPES
    workspace, key = _workspace(result)
    tier, window = result.get("service_tier"), result.get("context_window")
    sku = ":".join(str(p) for p in (model, raw_type or cost_type, window) if p)
    month = start.to_period("M").to_timestamp()
    return {
        "ChargePeriodStart": start, "ChargePeriodEnd": end,
        "BillingPeriodStart": month, "BillingPeriodEnd": month + pd.DateOffset(months=1),
        "SubAccountId": workspace, "ProviderName": PROVIDER, "PublisherName": PROVIDER,
        "InvoiceIssuerName": PROVIDER, "ServiceName": SERVICE, "ServiceCategory": "AI and Machine Learning",
        "ChargeCategory": "Credit" if dollars < 0 else "Usage", "ChargeFrequency": "Usage-Based",
        "ChargeDescription": result.get("description") or " ".join(p for p in (model, raw_type or cost_type) if p)
        or "Claude API costs",
        "PricingCategory": "Standard", "SkuId": sku or None,
        "BilledCost": float(dollars), "EffectiveCost": float(dollars), "ContractedCost": float(dollars),
        "BillingCurrency": currency.upper(), "x_Model": model,
        "x_TokenType": COST_TOKEN_TYPES[raw_type][0] if raw_type else None,
        "x_SpendModality": "api_tokens" if is_tokens else "platform", "x_ServiceTier": tier,
        "x_AttributionKey": key, "x_Source": SOURCE, "x_SourceFile": name, "_raw_type": raw_type,
    }


def _list_price(row: dict) -> float | None:
    """The catalog's USD price per MTok of a token line's model, token type and service tier, if any."""
    if not row["x_Model"] or not row["_raw_type"] or row["BillingCurrency"] != "USD":
        return None
    return prices.token_price(PROVIDER, row["x_Model"], row["ChargePeriodStart"],
                              COST_TOKEN_TYPES[row["_raw_type"]][1], row["x_ServiceTier"])


def _set_tokens(row: dict, tokens: float) -> None:
    """Token quantity and, where the catalog prices this model and token type in USD, the list cost."""
    row.update(ConsumedQuantity=tokens, ConsumedUnit=TOKEN_UNIT, PricingQuantity=tokens / 1e6, PricingUnit=MTOK_UNIT)
    price = _list_price(row)
    if price is not None:
        row.update(ListUnitPrice=price, ListCost=tokens / 1e6 * price)


# --- usage -----------------------------------------------------------------------------------------------

def _field(result: dict, dotted: str):
    value = result
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _usage_records(result: dict, start, path: Path, name: str, index: int, fixes) -> list[dict]:
    """A usage line as one record per raw token type (the parts are disjoint already: no subtraction)."""
    counts = {raw: _field(result, f) for f, raw in USAGE_FIELDS.items()}
    if counts["cache_creation.ephemeral_5m_input_tokens"] is None and result.get("cache_creation_input_tokens"):
        fixes["anthropic.flat_cache_creation_as_5m"] += 1  # older exports: one flat count, the 5-minute cache
        counts["cache_creation.ephemeral_5m_input_tokens"] = result["cache_creation_input_tokens"]
    _, key = _workspace(result)
    out = []
    for raw, value in counts.items():
        value = value or 0
        if not isinstance(value, (int, float)) or value < 0:
            raise InputError(path, f"result {index} of the bucket starting {start}: {raw} {value!r} is not a "
                             "non-negative count", "keep token counts as the API returns them.", column=raw)
        if value:
            out.append({"Day": start.normalize(), "x_Model": result.get("model"), "raw_type": raw,
                        "x_TokenType": COST_TOKEN_TYPES[raw][0], "Tokens": float(value), "x_AttributionKey": key,
                        "x_ServiceTier": result.get("service_tier"), "x_SourceFile": name})
    return out


def _aggregate_usage(records: list[dict]) -> list[dict]:
    """One row per day x model x token type x workspace x service tier (5m and 1h cache writes merged)."""
    if not records:
        return []
    keys = ["Day", "x_Model", "x_TokenType", "x_AttributionKey", "x_ServiceTier"]
    frame = pd.DataFrame(records).groupby(keys, dropna=False, as_index=False)["Tokens"].sum()
    frame = frame.astype(object).where(frame.notna(), None)
    # The usage report has no request count: Requests stays null.
    return [{**r, "Requests": None, "ProviderName": PROVIDER, "x_Source": SOURCE} for r in frame.to_dict("records")]


def _usage_tiers(tier: str | None) -> tuple:
    """The usage service tiers whose count a cost line of `tier` takes: its own, else the count of every tier
    (null: the usage report not grouped by service tier, as the recommended query is not)."""
    return (tier, None) if tier else (None, "standard")


def _fill_quantities(costs: list[dict], usage: list[dict], data: SourceData) -> None:
    """Token cost lines take their token count from the usage report (day, workspace, model, token type, tier):
    the cost report carries no quantities. Lines that share one count split it; lines without one are estimated
    from their cost at list price; only lines without a list price stay empty."""
    totals: dict[tuple, float] = defaultdict(float)
    for u in usage:
        totals[(u["Day"], u["x_AttributionKey"], u["x_Model"], u["raw_type"], u["x_ServiceTier"])] += u["Tokens"]
    pools = defaultdict(list)
    for row in costs:
        if row["_raw_type"] and row["x_Model"]:
            base = (row["ChargePeriodStart"].normalize(), row["x_AttributionKey"], row["x_Model"], row["_raw_type"])
            pool = next((base + (t,) for t in _usage_tiers(row["x_ServiceTier"]) if base + (t,) in totals), None)
            if pool:
                pools[pool].append(row)
    quantities.fill(pools, totals, data, _list_price, _set_tokens,
                    "share a usage count with other lines of the same day, workspace, model and token type "
                    "(service tiers or context windows the usage report does not split)")
    quantities.estimate(costs, data, _list_price, _set_tokens, "usage report",
                        lambda r: r["x_Model"] or "(no model: cost report not grouped by description)")


def _estimate_spend(usage: list[dict], covered: set, data: SourceData) -> list[dict]:
    """Usage on days no cost page covers, priced at list price (effective-dated) and marked as estimates."""
    if not usage:
        return []
    keys = ["Day", "x_Model", "raw_type", "x_AttributionKey", "x_ServiceTier"]
    frame = pd.DataFrame(usage)
    frame = frame[~frame["Day"].isin(covered)]
    if frame.empty:
        return []
    grouped = frame.groupby(keys, dropna=False, as_index=False).agg(
        Tokens=("Tokens", "sum"), x_SourceFile=("x_SourceFile", lambda f: ", ".join(sorted(set(f)))))
    grouped = grouped.astype(object).where(grouped.notna(), None)
    rows, unpriced = [], defaultdict(float)
    for u in grouped.to_dict("records"):
        price_key = COST_TOKEN_TYPES[u["raw_type"]][1]
        price = (prices.token_price(PROVIDER, u["x_Model"], u["Day"], price_key, u["x_ServiceTier"])
                 if u["x_Model"] else None)
        if price is None:
            unpriced[u["x_Model"] or "(no model: usage not grouped by model)"] += u["Tokens"]
        else:
            rows.append(_estimate_row(u, price))
    note_estimates(data, len(rows), unpriced, "cost report")
    return rows


def _estimate_row(u: dict, price: float) -> dict:
    cost = u["Tokens"] / 1e6 * price
    day, month = u["Day"], u["Day"].to_period("M").to_timestamp()
    workspace = u["x_AttributionKey"].removeprefix("anthropic.workspace:")
    return {
        "ChargePeriodStart": day, "ChargePeriodEnd": day + pd.Timedelta(days=1),
        "BillingPeriodStart": month, "BillingPeriodEnd": month + pd.DateOffset(months=1),
        "SubAccountId": None if workspace == DEFAULT_WORKSPACE else workspace,
        "ProviderName": PROVIDER, "PublisherName": PROVIDER, "InvoiceIssuerName": PROVIDER, "ServiceName": SERVICE,
        "ServiceCategory": "AI and Machine Learning", "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
        "ChargeDescription": f"ESTIMATE: {u['x_Model']} {u['raw_type']} at list price ({prices.catalog_version()}); "
                             "no cost report data for this day",
        "PricingCategory": "Standard", "SkuId": f"{u['x_Model']}:{u['raw_type']}",
        "ConsumedQuantity": u["Tokens"], "ConsumedUnit": TOKEN_UNIT, "PricingQuantity": u["Tokens"] / 1e6,
        "PricingUnit": MTOK_UNIT, "ListUnitPrice": price, "ListCost": cost, "ContractedCost": cost,
        "EffectiveCost": cost, "BilledCost": cost, "BillingCurrency": "USD", "x_Model": u["x_Model"],
        "x_TokenType": COST_TOKEN_TYPES[u["raw_type"]][0], "x_SpendModality": "api_tokens",
        "x_ServiceTier": u["x_ServiceTier"], "x_AttributionKey": u["x_AttributionKey"], "x_Source": SOURCE,
        "x_SourceFile": u["x_SourceFile"], "x_Basis": "estimated",
    }
