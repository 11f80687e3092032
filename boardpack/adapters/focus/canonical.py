"""The stage-2 aggregate as canonical spend and usage rows: fixes and notes counted, dropped money for the
ledger, attribution from Tags, modality, model, token type and token units.

Mapping to the `x_` columns:
- x_SpendModality: the catalog rule's, or for rules that say `auto`: `api_tokens` when ConsumedUnit or
  PricingUnit mentions tokens, or the meter does and the unit is a plain count (except Purchase rows: prepaid
  tokens are amortised into the usage rows, so the purchase is `platform`), `self_hosted` for ServiceCategory
  Compute or GPU SKUs, else `platform`. A seat product's metered use that is not per user is `platform`;
- x_Model from a ResourceId that names a model (Bedrock ARNs, Vertex publisher models), else parsed from
  SkuId / SkuMeter / ChargeDescription on token rows (`gpt-4o`, `Claude 3.5 Sonnet`, `gpt 4o 0513`); x_TokenType
  from the same text (`... input tokens`, `Inp`, `cached`, `InputTokenCount`...); when not recognisable they stay
  null and the SKUs are named in `notes`;
- x_UseCaseId / x_BusinessUnit from Tags keys `use_case`/`usecase`/`use-case` and `business_unit`/`bu`/
  `cost_center` (case-insensitive, provider prefixes such as `user:` ignored);
- x_AttributionKey `focus.tag:<key>=<value>` for the first of the tags project, application, app, team,
  product, workload; else `focus.subaccount:<SubAccountId>`; else `focus.account:<BillingAccountId>`.
`usage` holds the token volumes of Usage token rows whose model and token type are known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import Settings, SourceData, by_value, empty_usage, spend_frame, usage_frame
from ..refetch import relative
from .parsing import (
    COUNT_UNIT_RE,
    GPU_RE,
    SEAT_UNIT_RE,
    TOKEN_METER_RE,
    TOKEN_UNIT_RE,
    _attribution,
    _block_size,
    _parse_tags,
    _unit_scale,
    parse_model,
    parse_token_type,
)
from .spec import (
    ENUMS,
    FIX_BILLED,
    FIX_BLOCKS,
    FIX_CASE,
    FIX_COUNT_UNIT,
    FIX_CURRENCY,
    FIX_DROPPED,
    FIX_EFFECTIVE,
    FIX_EMPTY,
    FIX_FROM_PRICING,
    FIX_NULL,
    FIX_NUMBER,
    FIX_PREVIEW,
    FIX_SEAT_PRODUCT,
    FIX_TAGS,
    FIX_TS,
    FIX_UNIT,
    SOURCE,
)

SCALES = (1.0, 1e3, 1e6)
SCALE_TOLERANCE = 4.0  # the unit price must be within 4x of the list price at the chosen scale


def _finish(out: SourceData, agg: pd.DataFrame, folder: Path, settings: Settings) -> SourceData:
    kept = agg[agg["__kept"].fillna(False).astype(bool)].copy()
    dropped = agg[~agg["__kept"].fillna(False).astype(bool)]
    n_kept, n_dropped = int(kept["__rows"].sum()), int(dropped["__rows"].sum())
    out.notes.append(f"{n_kept} AI rows kept, {n_dropped} other rows dropped, from {len(out.files)} file(s)")
    if n_dropped:
        out.fixes[FIX_DROPPED] += n_dropped
        by_cat = dropped.groupby(dropped["__dropped_category"].fillna("(no ServiceCategory)"))["__rows"].sum()
        out.notes.append("dropped by ServiceCategory: " + ", ".join(
            f"{cat} {int(n)}" for cat, n in by_cat.sort_values(ascending=False).items()))
    out.excluded = _dropped_money(dropped, folder)
    unreadable = int(dropped["__dropped_unreadable"].fillna(0).sum()) if len(dropped) else 0
    if unreadable:
        out.notes.append(f"{unreadable} non-AI row(s) have no readable cost or charge date: their money cannot be "
                         "shown in the dollar ledger (they are not AI spend by the AI-spend catalog).")
    counts = {FIX_NULL: "__fx_null", FIX_EMPTY: "__fx_empty", FIX_EFFECTIVE: "__fx_eff", FIX_BILLED: "__fx_billed",
              FIX_NUMBER: "__fx_num", FIX_PREVIEW: "__fx_preview", FIX_CURRENCY: "__fx_currency",
              **{FIX_TS[code]: f"__fx_ts{code}" for code in FIX_TS},
              **{FIX_CASE.format(c): f"__fx_case_{c}" for c in (*ENUMS, "ServiceCategory")}}
    for rule, column in counts.items():
        n = int(kept[column].fillna(0).sum())
        if n:
            out.fixes[rule] += n
    if kept.empty:
        return out

    # Everything below works once per distinct value and maps back: the aggregate can have many rows.
    kept["x_SourceFile"] = by_value(kept["__file"], lambda f: relative(Path(f), folder))
    # Tags -> JSON object, attribution (unreadable Tags were raised by read())
    tag_info = by_value(kept["Tags"], lambda t: None if t is None else _parse_tags(t))
    fixed = tag_info.map(lambda i: bool(i and i["fixed"]))
    if fixed.any():
        out.fixes[FIX_TAGS] += int(kept.loc[fixed, "__rows"].sum())
    kept["Tags"] = tag_info.map(lambda i: i["json"] if i else None)
    combo = kept["Tags"].fillna("") + "\x1f" + kept["SubAccountId"].fillna("") + "\x1f" + \
        kept["BillingAccountId"].fillna("")
    info_by_json = {i["json"]: i for i in tag_info if i}
    attribution = by_value(combo, lambda c: _attribution(info_by_json.get(c.split("\x1f")[0]),
                                                         c.split("\x1f")[1] or None, c.split("\x1f")[2] or None))
    kept["x_UseCaseId"] = attribution.map(lambda a: a[0])
    kept["x_BusinessUnit"] = attribution.map(lambda a: a[1])
    kept["x_AttributionKey"] = attribution.map(lambda a: a[2])

    # modality (the catalog's, or read off the charge when the rule says auto), model, token type, token units
    text = (kept["SkuId"].fillna("") + " | " + kept["SkuMeter"].fillna("") + " | "
            + kept["ChargeDescription"].fillna(""))
    units = kept["ConsumedUnit"].fillna("") + " " + kept["PricingUnit"].fillna("")
    meter = (kept["SkuMeter"].fillna("") + " " + kept["x_PricingUnitDescription"].fillna("") + " "
             + kept["ChargeDescription"].fillna(""))
    # Token rows: a token unit, or a meter priced in tokens whose unit is a plain count (Microsoft writes Azure
    # OpenAI meters as `Units` in blocks of 1K), except purchases (prepaid tokens are amortised into usage rows).
    is_tokens = (by_value(units, lambda u: bool(TOKEN_UNIT_RE.search(u))).astype(bool)
                 | (by_value(meter, lambda m: bool(TOKEN_METER_RE.search(m))).astype(bool)
                    & by_value(kept["ConsumedUnit"].fillna("") + "\x1f" + kept["PricingUnit"].fillna(""),
                               lambda u: all(COUNT_UNIT_RE.fullmatch(p) for p in u.split("\x1f"))).astype(bool))) & (
        kept["ChargeCategory"] != "Purchase")
    is_gpu = (kept["ServiceCategory"] == "Compute") | by_value(text, lambda t: bool(GPU_RE.search(t))).astype(bool)
    auto = np.where(is_tokens, "api_tokens", np.where(is_gpu, "self_hosted", "platform"))
    rules = kept["__rule"].astype(int).map(lambda n: settings.catalog().rule(n))
    said = rules.map(lambda r: r.modality if r is not None else "auto")
    # A seat product's metered use (pay-as-you-go messages, premium requests) is not a seat; seats billed as
    # metered usage per user and month (GitHub Copilot on an Azure invoice) are.
    per_seat = by_value(units, lambda u: bool(SEAT_UNIT_RE.search(u))).astype(bool)
    metered_seat = (said == "seat_licence") & (kept["ChargeFrequency"] == "Usage-Based") & ~per_seat
    kept["x_SpendModality"] = np.where((said == "auto") | metered_seat, auto, said)
    kept.loc[metered_seat & (kept["x_SpendModality"] == "self_hosted"), "x_SpendModality"] = "platform"
    is_tokens = is_tokens & (kept["x_SpendModality"] == "api_tokens")
    seats = kept["x_SpendModality"] == "seat_licence"
    product = rules.map(lambda r: r.product if r is not None else "")
    renamed = seats & (product != "") & (kept["ServiceName"] != product)
    if renamed.any():  # seat utilisation joins a seat charge to its seats by product name
        out.fixes[FIX_SEAT_PRODUCT] += int(kept.loc[renamed, "__rows"].sum())
        kept.loc[renamed, "ServiceName"] = product[renamed]
    named = kept["ResourceId"]  # the model id its ResourceId names (stage 1 keeps no more of it)
    kept["x_Model"] = named.where(named.notna(), by_value(text, parse_model)).where(is_tokens, None)
    kept["x_TokenType"] = by_value(text, parse_token_type).where(is_tokens, None)
    scale = by_value(kept["ConsumedUnit"], _unit_scale).astype(float)
    scaled = is_tokens & scale.notna() & (scale != 1)
    if scaled.any():
        out.fixes[FIX_UNIT] += int(kept.loc[scaled, "__rows"].sum())
        kept.loc[scaled, "ConsumedQuantity"] = kept.loc[scaled, "ConsumedQuantity"] * scale[scaled]
        kept.loc[scaled, "ConsumedUnit"] = "Tokens"
    counted_units = is_tokens & kept["ConsumedQuantity"].notna() & by_value(
        kept["ConsumedUnit"].fillna(""), lambda u: bool(u.strip()) and bool(COUNT_UNIT_RE.fullmatch(u))
        and "token" not in u.lower() and _unit_scale(u) in (None, 1)).astype(bool)
    if counted_units.any():
        # A plain count unit does not say whether it counts tokens or blocks of them (Microsoft's FOCUS 1.0
        # rows count 1K blocks as `Units`, its 1.2 export tokens): the price per unit says which.
        factor = _scale_by_price(kept[counted_units], out)
        blocks = counted_units & factor.reindex(kept.index).fillna(1).ne(1)
        if blocks.any():
            out.fixes[FIX_BLOCKS] += int(kept.loc[blocks, "__rows"].sum())
            kept.loc[blocks, "ConsumedQuantity"] = kept.loc[blocks, "ConsumedQuantity"] * factor[blocks[blocks].index]
        out.fixes[FIX_COUNT_UNIT] += int(kept.loc[counted_units, "__rows"].sum())
        kept.loc[counted_units, "ConsumedUnit"] = "Tokens"
    block = kept["x_PricingBlockSize"].map(_block_size).astype(float)
    pricing_scale = by_value(kept["PricingUnit"], _unit_scale).astype(float)
    described = kept["x_PricingUnitDescription"].map(_unit_scale).astype(float)
    # Microsoft's PricingQuantity counts blocks (usage / x_PricingBlockSize) of a plain `Units` PricingUnit
    pricing_scale = block.where(block.notna() & pricing_scale.fillna(1).eq(1), pricing_scale.fillna(described))
    from_pricing = is_tokens & kept["ConsumedQuantity"].isna() & kept["PricingQuantity"].notna() & \
        pricing_scale.notna()
    if from_pricing.any():
        out.fixes[FIX_FROM_PRICING] += int(kept.loc[from_pricing, "__rows"].sum())
        kept.loc[from_pricing, "ConsumedQuantity"] = kept.loc[from_pricing, "PricingQuantity"] * \
            pricing_scale[from_pricing]
        kept.loc[from_pricing, "ConsumedUnit"] = "Tokens"
    unknown = kept[is_tokens & (kept["x_Model"].isna() | kept["x_TokenType"].isna())]
    if len(unknown):
        skus = unknown.groupby(unknown["SkuId"].fillna("(no SkuId)"))["EffectiveCost"].sum().sort_values(
            ascending=False)
        out.notes.append(f"token rows whose model or token type is not recognisable ({int(unknown['__rows'].sum())} "
                         "source rows; x_Model/x_TokenType left null): " + ", ".join(
                             f"{s} ({c:,.2f})" for s, c in skus.head(10).items()))

    kept = kept.rename(columns={"__ps": "ChargePeriodStart", "__pe": "ChargePeriodEnd"}).sort_values(
        ["ChargePeriodStart", "ProviderName", "ServiceName", "SkuId", "ChargeCategory", "x_SourceFile",
         "EffectiveCost"], na_position="first", kind="stable", ignore_index=True)
    kept["x_Source"] = SOURCE
    kept["x_ServiceTier"] = None
    # spend_frame takes the columns as a mapping here (a list of row dicts would be slow for large aggregates)
    out.spend = spend_frame({c: kept[c] for c in kept.columns if not c.startswith("__") and c != "SkuMeter"})
    out.usage = _usage(kept)
    return out


def _usage(kept: pd.DataFrame) -> pd.DataFrame:
    tokens = kept[(kept["x_SpendModality"] == "api_tokens") & kept["x_Model"].notna() & kept["x_TokenType"].notna()
                  & (kept["ChargeCategory"] == "Usage") & kept["ConsumedQuantity"].notna()]
    if tokens.empty:
        return empty_usage()
    tokens = tokens.assign(Day=pd.to_datetime(tokens["ChargePeriodStart"]).dt.floor("D"),
                           key=tokens["x_AttributionKey"].fillna(""))
    grouped = tokens.groupby(["Day", "ProviderName", "x_Model", "x_TokenType", "key"], as_index=False)[
        "ConsumedQuantity"].sum()
    return usage_frame({"Day": grouped["Day"], "ProviderName": grouped["ProviderName"], "x_Model": grouped["x_Model"],
                        "x_TokenType": grouped["x_TokenType"], "Tokens": grouped["ConsumedQuantity"],
                        "Requests": pd.Series(float("nan"), index=grouped.index),
                        "x_AttributionKey": grouped["key"].replace("", None), "x_ServiceTier": None,
                        "x_Source": SOURCE})


def _dropped_money(dropped: pd.DataFrame, folder: Path):
    """The money of the rows dropped as not AI, per file, day, provider, service and currency (the ledger's)."""
    from .. import excluded_frame

    money = dropped[dropped["EffectiveCost"].notna() & dropped["__ps"].notna()] if len(dropped) else dropped
    if money.empty:
        return None
    return excluded_frame({
        "x_Source": SOURCE, "x_SourceFile": by_value(money["__file"], lambda f: relative(Path(f), folder)),
        "ChargePeriodStart": money["__ps"], "BillingCurrency": money["__dropped_currency"],
        "EffectiveCost": money["EffectiveCost"], "ProviderName": money["__dropped_provider"],
        "ServiceName": money["__dropped_service"], "ServiceCategory": money["__dropped_category"],
        "x_Exclusion": "not_ai", "x_ExcludedBy": None, "Rows": money["__rows"]})


def _scale_by_price(rows: pd.DataFrame, out: SourceData) -> pd.Series:
    """Tokens per unit of token rows whose unit is a plain count: the scale (1, 1,000 or 1,000,000) at which
    their price per unit is nearest the list price of their model and token type, per model, token type and
    unit; 1 where the catalog has no price or no scale comes within SCALE_TOLERANCE (named in the notes)."""
    from ... import prices

    factor = pd.Series(1.0, index=rows.index)
    keys = ["ProviderName", "x_Model", "x_TokenType", "ConsumedUnit"]
    for key, g in rows.groupby(keys, dropna=False):
        provider, model, token_type, unit = key
        qty = float(g["ConsumedQuantity"].sum())
        list_cost = float(g["ListCost"].sum(min_count=1)) if g["ListCost"].notna().any() else 0.0
        cost = list_cost if list_cost > 0 else float(g["EffectiveCost"].sum())
        day = pd.Timestamp(g["__ps"].min()) + pd.Timedelta(hours=12)  # the first day, at midday
        listed = prices.token_price(provider, model, day.to_pydatetime(), token_type) if \
            isinstance(model, str) and isinstance(token_type, str) else None
        if not listed or qty <= 0 or cost <= 0:
            out.notes.append(f"{model} {token_type} tokens counted in '{unit}' as single tokens: no list price to "
                             "confirm the unit against.")
            continue
        per_million = cost / qty * 1e6
        best = min(SCALES, key=lambda s: abs(np.log(per_million / s / listed)))
        if abs(np.log(per_million / best / listed)) > np.log(SCALE_TOLERANCE):
            out.notes.append(f"{model} {token_type}: {per_million:,.4f} per million '{unit}' is far from the list "
                             f"price of {listed:,.4f} per million tokens at any scale; counted as single tokens.")
            continue
        factor[g.index] = best
    return factor
