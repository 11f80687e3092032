"""FOCUS 1.0 / 1.1 / 1.2 billing exports (AWS, Azure, GCP, OCI): the AI rows, aggregated, as canonical spend.

Input: every `*.csv`, `*.csv.gz` and `*.parquet` file under the folder (nested folders included). Files are
read by the engine (`Settings.engine`: DuckDB unless `--engine spark`; CSV with every column as text, so dirty
values survive to be judged; Parquet with its own types), filtered to AI rows and aggregated in two steps:
stage 1, on the engine, over the files: only the filter, the charge period (to the day) and the numbers are
parsed per row, with the portable rules below (`ts_kind`, `ts_parse`, `num_kind`...), and text columns are
grouped as they come; stage 2, on DuckDB, over that aggregate: text values are normalised once per distinct
value and fixes counted with the rows they stand for. Only aggregates reach pandas, so memory follows the
number of groups, not the size of the export. When a check fails, the same rules are run row by row by
DuckDB (the macros) on the file concerned to name the first offending line.

Rows kept: those a rule of the AI-spend catalog (`boardpack.ai_catalog`, `Settings.catalog()`) keeps: model APIs
and AI services wherever they are filed, AI seat licences (Business Applications, Developer Tools), GPU capacity
bought as compute. The rule's number travels with the row, and says its kind of spend and, for seats, its
product. Other rows are dropped and counted ("non-AI rows dropped"); their money is kept, per file, day,
provider and service, in `excluded` for the dollar ledger. A usage row with a negative cost or quantity not
marked `ChargeClass` `Correction` is kept as it is and named, by file and line, in a warning check.

Grain of the output: one row per day (rows of a day or less; longer rows keep their own period) x billing
period x account x sub-account x provider x publisher x invoice issuer x service x category x charge category
x frequency x description x pricing category x SKU x units x currency x Tags x file. Costs and quantities are
summed; ListUnitPrice is kept when constant in the group, else ListCost / PricingQuantity.

Lenient normalisation, each counted in `fixes` under the rule's name (counts are values or source rows of the
kept AI rows):
- "literal NULL → null": the text `NULL` (any case) in any column the adapter reads;
- "empty string → null": an empty or blank text value (an empty CSV field is FOCUS's own null, not a fix);
- "timestamp without T/Z → UTC": `2024-09-18 22:00:00`, `2024-09-18 22:00:00 UTC`;
- "timestamp with UTC offset → UTC": `2024-09-18T22:00:00+02:00` (converted);
- "date-only → 00:00 UTC": `2024-09-18`;
- "US date M/D/Y → ISO": `5/1/25`, `5/1/2025` (month first, as in the spec's examples; a first part above 12
  is an error, never silently swapped);
- "number with currency symbol or thousands separators → plain number": `$50,000.00`, `1,234.50`
  (commas are only accepted as thousands separators with a decimal point or a currency symbol);
- "<Column> case → FOCUS value": ChargeCategory, ChargeFrequency, PricingCategory, ServiceCategory in another
  case or spelling (`Usage-based`, `usage`, `usage_based`); "PricingCategory 1.0-preview value → 1.2"
  (`On-Demand` → Standard, `Commitment-Based` → Committed); "BillingCurrency upper-cased";
- "EffectiveCost empty → BilledCost" (and the reverse), when only one of the two is given;
- "ConsumedUnit in 1000s/millions of tokens → Tokens": ConsumedQuantity rescaled to tokens (`1K Tokens`,
  `1M Tokens`, `1000000 Tokens`); "ConsumedQuantity empty → PricingQuantity in tokens" on token rows (times
  Microsoft's x_PricingBlockSize); "ConsumedUnit Units on a token meter → Tokens", and "token quantity in blocks
  of 1,000 or 1,000,000 (read off the list price) → tokens" where a plain count unit (`Units`, `count`) counts
  blocks: the scale at which the price per unit is nearest the model's list price (`_scale_by_price`);
- "x_SkuMeterName read as SkuMeter" (Microsoft's FOCUS 1.0 export); "seat licence named as the AI-spend
  catalog's product";
- "Tags without braces → JSON object": `"k": "v"` (Azure's legacy form) wrapped in `{}`;
- "column name case → FOCUS spelling", "FOCUS 1.3 column name → 1.2 name" (ServiceProviderName →
  ProviderName; HostProviderName → PublisherName when PublisherName is absent): counted once per file.
Extra non-`x_` columns are ignored and named once each in `notes`; columns of 1.1/1.2 absent from a file
(a 1.0 export) are null. Negative costs (credits, adjustments, refunds) are kept as they are.

Not safe to fix, raised as InputError with file, line (CSV) or row (Parquet), column, rule and fix:
a mandatory column absent (ChargePeriodStart, ChargePeriodEnd, EffectiveCost or BilledCost, ProviderName,
ServiceName, BillingCurrency, ChargeCategory), and on a kept row: an empty mandatory value, a cost or quantity
that is not a number, a date that does not parse (or is day-first), an enum value outside FOCUS's list, a
BillingCurrency that is not three letters, a ChargePeriodEnd before ChargePeriodStart, Tags that are not a JSON
object.

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

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .. import ai_catalog
from ..exceptions import ConfigError, InputError
from . import (Settings, SourceData, duckdb_connection, empty_spend, empty_usage, files_in, spend_frame,
               usage_frame)

SOURCE = "focus"
PATTERNS = ("*.csv", "*.csv.gz", "*.parquet")

# Every FOCUS 1.2 column (focus-1.2-columns.csv), for case-insensitive name matching and extra-column notes.
FOCUS_COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
)
# FOCUS 1.3 names -> the 1.2 column they stand for when that column is absent.
ALIASES_13 = {"serviceprovidername": "ProviderName", "hostprovidername": "PublisherName"}

TIME_COLUMNS = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
NUMBER_COLUMNS = ("ConsumedQuantity", "PricingQuantity", "ListUnitPrice", "ListCost", "ContractedCost",
                  "EffectiveCost", "BilledCost")
STRING_COLUMNS = ("BillingAccountId", "SubAccountId", "ProviderName", "PublisherName", "InvoiceIssuerName",
                  "ServiceName", "ServiceCategory", "ChargeCategory", "ChargeFrequency", "ChargeDescription",
                  "PricingCategory", "SkuId", "SkuMeter", "ConsumedUnit", "PricingUnit", "BillingCurrency", "Tags",
                  "ChargeClass", "ResourceId", "x_PricingBlockSize", "x_PricingUnitDescription")
# Microsoft's FOCUS extensions that say how many units a PricingQuantity counts (block pricing: Azure OpenAI
# meters in units of 1K tokens); read as text, once per distinct value. Microsoft's FOCUS 1.0 export names the
# meter x_SkuMeterName (SkuMeter arrived in FOCUS 1.1): it stands in for an absent SkuMeter.
EXTENSION_COLUMNS = ("x_PricingBlockSize", "x_PricingUnitDescription")
METER_ALIAS = "x_skumetername"
USED = TIME_COLUMNS + NUMBER_COLUMNS + STRING_COLUMNS
MANDATORY = ("ChargePeriodStart", "ChargePeriodEnd", "ProviderName", "ServiceName", "BillingCurrency",
             "ChargeCategory")  # plus EffectiveCost or BilledCost

SERVICE_CATEGORIES = ("AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
                      "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
                      "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
                      "Storage", "Web", "Other")
ENUMS = {
    "ChargeCategory": {"usage": "Usage", "purchase": "Purchase", "tax": "Tax", "credit": "Credit",
                       "adjustment": "Adjustment"},
    "ChargeFrequency": {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"},
    "PricingCategory": {"standard": "Standard", "dynamic": "Dynamic", "committed": "Committed", "other": "Other"},
}
PREVIEW_PRICING = {"ondemand": "Standard", "commitmentbased": "Committed"}  # FOCUS 1.0-preview values

# Fix rule names (shown on the data-quality page, prefixed with "focus: ").
FIX_NULL = "literal NULL → null"
FIX_EMPTY = "empty string → null"
FIX_TS = {1: "timestamp without T/Z → UTC", 2: "timestamp with UTC offset → UTC", 3: "date-only → 00:00 UTC",
          4: "US date M/D/Y → ISO"}
FIX_NUMBER = "number with currency symbol or thousands separators → plain number"
FIX_CASE = "{} case → FOCUS value"
FIX_PREVIEW = "PricingCategory 1.0-preview value → 1.2"
FIX_CURRENCY = "BillingCurrency upper-cased"
FIX_EFFECTIVE = "EffectiveCost empty → BilledCost"
FIX_BILLED = "BilledCost empty → EffectiveCost"
FIX_UNIT = "ConsumedUnit in 1000s/millions of tokens → Tokens"
FIX_COUNT_UNIT = "ConsumedUnit Units on a token meter → Tokens"
FIX_BLOCKS = "token quantity in blocks of 1,000 or 1,000,000 (read off the list price) → tokens"
SCALES = (1.0, 1e3, 1e6)
SCALE_TOLERANCE = 4.0  # the unit price must be within 4x of the list price at the chosen scale
FIX_FROM_PRICING = "ConsumedQuantity empty → PricingQuantity in tokens"
FIX_TAGS = "Tags without braces → JSON object"
FIX_COLUMN_CASE = "column name case → FOCUS spelling"
FIX_ALIAS = "FOCUS 1.3 column name → 1.2 name"
FIX_DROPPED = "non-AI rows dropped"
FIX_METER = "x_SkuMeterName read as SkuMeter"
FIX_SEAT_PRODUCT = "seat licence named as the AI-spend catalog's product"

USE_CASE_KEYS = {"use_case", "usecase", "use-case"}
BU_KEYS = {"business_unit", "businessunit", "business-unit", "bu", "cost_center", "costcenter", "cost-center"}
ATTRIBUTION_TAGS = ("project", "application", "app", "team", "product", "workload")

GPU_RE = re.compile(r"(?i)gpu|nvidia|(?<![a-z0-9])(a100|h100|h200|b200|l4|l40s|t4|v100|a10g?)(?![a-z0-9])|"
                    r"(?<![a-z0-9])ml\.(g|p|inf|trn)\d|(?<![a-z0-9])(p3|p4d|p4de|p5|p5e|g4dn|g5|g6|g6e)\.|"
                    r"(?<![a-z0-9])n[cd]\w*_?v\d")
TOKEN_UNIT_RE = re.compile(r"(?i)token")
TOKEN_METER_RE = re.compile(r"(?i)token")  # `Input global Tokens`, AWS Marketplace `InputTokenCount`
SEAT_UNIT_RE = re.compile(r"(?i)user|seat|licen|/\s*month|per month")
# A unit that only counts (how many of what, the meter says): Microsoft's `Units`, `1K`, `1K Units`
COUNT_UNIT_RE = re.compile(r"(?i)\s*(\d[\d,]*\s*[km]?|[km])?\s*(units?|count|each)?\s*")
UNIT_SCALE_RE = re.compile(r"(?i)^\s*(\d[\d,]*)?\s*(k|thousand|m|million|mn)?\s*(tokens?|units?)?\s*$")
MODEL_FAMILY_RE = re.compile(
    r"(?i)(?<![a-z0-9])(gpt|o[1-9]|chatgpt|claude|gemini|gemma|llama|mistral|mixtral|ministral|codestral|pixtral|"
    r"magistral|command|titan|nova|deepseek|grok|phi|qwen|jamba|text-embedding|embed|dall-e|whisper|tts|"
    r"imagen|veo|sonar)(?=[\s\-_.:0-9]|$)")
MODEL_STOP = {"input", "inp", "in", "output", "outp", "out", "prompt", "completion", "completions", "tokens", "token",
              "cached", "cache", "batch", "global", "glbl", "gl", "regional", "rgnl", "regnl", "data", "datazone",
              "dzone", "dz", "for", "per", "usd", "text", "audio", "image", "images", "characters", "chars",
              "requests", "request", "units", "unit", "provisioned", "ptu", "hours", "hour", "the", "and", "on",
              "with", "long", "context", "standard", "priority", "flex", "1k", "1m", "1000", "1000000", "million",
              "amazon", "bedrock", "edition", "marketplace", "azure", "vertex"}
# The model id a resource names: Bedrock foundation models and inference profiles (ARNs), Vertex AI publisher
# models (`.../publishers/google/models/gemini-2.5-pro`); Bedrock marketplace models name it nowhere else.
RESOURCE_MODEL = r"(?:foundation-model|inference-profile|custom-model|provisioned-model|/models)/([^/\s]+)$"
TOKEN_TYPE_RES = (  # first match wins
    ("cache_write", re.compile(r"(?i)cache[\s_-]*(write|creation|writes)|cache[\s_-]*storage")),
    ("cached_input", re.compile(r"(?i)cached|cache[\s_-]*(read|hit)")),
    # AWS Marketplace usage types run the words together: USE1_InputTokenCount
    ("output", re.compile(r"(?i)(?<![a-z])(output|outp|completion|completions|generated|response)(?=token|[^a-z]|$)")),
    ("input", re.compile(r"(?i)(?<![a-z])(input|inp|prompt)(?=token|[^a-z]|$)")),
)

# The rules as DuckDB macros: stage 2 and the row-by-row error search run them on DuckDB.
_MACROS = r"""
CREATE OR REPLACE MACRO fx_nstr(v) AS CASE WHEN v IS NULL THEN NULL WHEN strlen(v) > 12 THEN v
    WHEN trim(v) = '' OR upper(trim(v)) = 'NULL' THEN NULL ELSE v END;
CREATE OR REPLACE MACRO fx_nlit(v) AS CASE WHEN v IS NULL OR strlen(v) > 12 THEN 0 WHEN upper(trim(v)) = 'NULL' THEN 1
    WHEN trim(v) = '' THEN 2 ELSE 0 END;
CREATE OR REPLACE MACRO fx_ts_kind(v) AS CASE
    WHEN v IS NULL THEN NULL
    WHEN substr(v, 5, 1) = '-' AND substr(v, 11, 1) = 'T' AND right(v, 1) = 'Z' THEN 0
    WHEN regexp_full_match(trim(v), '\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?(Z|UTC|GMT))?') THEN 1
    WHEN regexp_full_match(trim(v), '\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)? ?[+-]\d{2}(:?\d{2})?') THEN 2
    WHEN regexp_full_match(trim(v), '\d{4}-\d{2}-\d{2}') THEN 3
    WHEN regexp_full_match(trim(v), '(0?[1-9]|1[0-2])/\d{1,2}/(\d{2}|\d{4})( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?')
        THEN 4
    ELSE 9 END;
CREATE OR REPLACE MACRO fx_ts_parse(v, k) AS CASE
    WHEN k IN (0, 1, 3) THEN coalesce(TRY_CAST(trim(v) AS TIMESTAMP), timezone('UTC', TRY_CAST(trim(v) AS TIMESTAMPTZ)))
    WHEN k = 2 THEN timezone('UTC', TRY_CAST(trim(v) AS TIMESTAMPTZ))
    WHEN k = 4 THEN try_strptime(trim(v), ['%m/%d/%y', '%m/%d/%Y', '%m/%d/%y %H:%M', '%m/%d/%Y %H:%M',
        '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %I:%M %p', '%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %I:%M%p',
        '%m/%d/%Y %I:%M:%S%p'])
    END;
CREATE OR REPLACE MACRO fx_num_kind(v) AS CASE
    WHEN v IS NULL THEN NULL
    WHEN TRY_CAST(v AS DOUBLE) IS NOT NULL THEN CASE WHEN isfinite(TRY_CAST(v AS DOUBLE)) THEN 0 ELSE 9 END
    WHEN regexp_full_match(trim(v),
        '-?(?:[$€£¥]\s*-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\d{1,3}(?:,\d{3})+\.\d+)') THEN 1
    ELSE 9 END;
CREATE OR REPLACE MACRO fx_num_parse(v, k) AS CASE
    WHEN k = 0 THEN TRY_CAST(v AS DOUBLE)
    WHEN k = 1 THEN TRY_CAST(regexp_replace(trim(v), '[$€£¥,\s]', '', 'g') AS DOUBLE)
    END;
CREATE OR REPLACE MACRO fx_key(v) AS lower(regexp_replace(trim(v), '[\s_-]', '', 'g'));
"""


# The same rules as the macros, as SQL both engines run alike (boardpack.engine; stage 1 runs there).
_TS_PLAIN = r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?(Z|UTC|GMT))?"
_TS_OFFSET = r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)? ?[+-]\d{2}(:?\d{2})?"
_TS_US = r"(0?[1-9]|1[0-2])/\d{1,2}/(\d{2}|\d{4})( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?"
_TS_DATE = r"\d{4}-\d{2}-\d{2}"
_MONEY = r"-?(?:[$€£¥]\s*-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\d{1,3}(?:,\d{3})+\.\d+)"


def _full(value: str, pattern: str) -> str:
    return f"regexp_matches({value}, {_lit('^(?:' + pattern + ')$')})"


def nstr(v: str) -> str:
    return (f"CASE WHEN {v} IS NULL THEN NULL WHEN length({v}) > 12 THEN {v} "
            f"WHEN trim({v}) = '' OR upper(trim({v})) = 'NULL' THEN NULL ELSE {v} END")


def nlit(v: str) -> str:
    return (f"CASE WHEN {v} IS NULL OR length({v}) > 12 THEN 0 WHEN upper(trim({v})) = 'NULL' THEN 1 "
            f"WHEN trim({v}) = '' THEN 2 ELSE 0 END")


def ts_kind(v: str) -> str:
    t = f"trim({v})"
    return (f"CASE WHEN {v} IS NULL THEN NULL "
            f"WHEN substr({v}, 5, 1) = '-' AND substr({v}, 11, 1) = 'T' AND right({v}, 1) = 'Z' THEN 0 "
            f"WHEN {_full(t, _TS_PLAIN)} THEN 1 WHEN {_full(t, _TS_OFFSET)} THEN 2 "
            f"WHEN {_full(t, _TS_DATE)} THEN 3 WHEN {_full(t, _TS_US)} THEN 4 ELSE 9 END")


def iso_text(t: str) -> str:
    """Trimmed timestamp text (kinds 0-3) towards ISO 8601: UTC/GMT as Z, no blank before an offset, 'T'
    between date and time (after those, the only blank left is that one)."""
    t = f"regexp_replace(regexp_replace(regexp_replace({t}, ' ?(UTC|GMT)$', 'Z'), ' [+]', '+'), ' -', '-')"
    return f"replace({t}, ' ', 'T')"


def iso_hour(t: str) -> str:
    """A one-digit hour (2025-05-01T9:00) with its leading zero."""
    return f"CASE WHEN substr({t}, 13, 1) = ':' THEN concat(substr({t}, 1, 11), '0', substr({t}, 12)) ELSE {t} END"


def iso_offset(t: str) -> str:
    """An offset as +hh:mm, from +hhmm or +hh (no group references: the engines write them differently)."""
    return (f"CASE WHEN regexp_matches({t}, '[+-]\\d{{4}}$') THEN concat(substr({t}, 1, length({t}) - 2), ':', "
            f"right({t}, 2)) WHEN regexp_matches({t}, '[+-]\\d{{2}}$') THEN concat({t}, ':00') ELSE {t} END")


def _us(t: str) -> str:
    """A US date M/D/Y [h:mm[:ss] [AM|PM]] as ISO text; two-digit years as strptime's %y (69-99: 1900s)."""
    pattern = _lit(r"^(\d{1,2})/(\d{1,2})/(\d{2,4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?")
    part = lambda n: f"regexp_extract({t}, {pattern}, {n})"  # noqa: E731
    year = (f"CASE WHEN length({part(3)}) = 2 THEN CAST(CAST({part(3)} AS INT) + CASE WHEN CAST({part(3)} AS INT) "
            f"< 69 THEN 2000 ELSE 1900 END AS VARCHAR) ELSE {part(3)} END")
    pm = f"regexp_matches({t}, '(?i)p ?m$')"
    am = f"regexp_matches({t}, '(?i)a ?m$')"
    hour = (f"CASE WHEN {part(4)} = '' THEN 0 WHEN {pm} AND CAST({part(4)} AS INT) < 12 THEN CAST({part(4)} AS INT) + 12 "
            f"WHEN {am} AND CAST({part(4)} AS INT) = 12 THEN 0 ELSE CAST({part(4)} AS INT) END")
    minute = f"CASE WHEN {part(5)} = '' THEN '00' ELSE {part(5)} END"
    second = f"CASE WHEN {part(6)} = '' THEN '00' ELSE {part(6)} END"
    return (f"concat({year}, '-', lpad({part(1)}, 2, '0'), '-', lpad({part(2)}, 2, '0'), 'T', "
            f"lpad(CAST({hour} AS VARCHAR), 2, '0'), ':', {minute}, ':', {second})")


def ts_parse(iso: str, text: str, k: str) -> str:
    """The timestamp of kind `k`: from the ISO text (kinds 0-3, see `_fast_queries`) or the trimmed text."""
    cast = "CAST(TRY_CAST({} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return f"CASE WHEN {k} IN (0, 1, 2, 3) THEN {cast.format(iso)} WHEN {k} = 4 THEN {cast.format(_us(text))} END"


def num_kind(v: str) -> str:
    d = f"TRY_CAST({v} AS DOUBLE)"
    return (f"CASE WHEN {v} IS NULL THEN NULL WHEN {d} IS NOT NULL THEN "
            f"CASE WHEN {d} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 THEN 0 ELSE 9 END "
            f"WHEN {_full(f'trim({v})', _MONEY)} THEN 1 ELSE 9 END")


def num_parse(v: str, k: str) -> str:
    return (f"CASE WHEN {k} = 0 THEN TRY_CAST({v} AS DOUBLE) "
            f"WHEN {k} = 1 THEN TRY_CAST(regexp_replace(trim({v}), '[$€£¥,\\s]', '', 'g') AS DOUBLE) END")


@dataclass
class _Layout:
    path: Path
    kind: str                           # "csv" or "parquet"
    columns: dict                       # canonical column -> (raw name, DuckDB type)
    extras: list                        # extra non-x_ columns
    renamed: Counter                    # fix rule -> count


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


def _source(layout_or_paths, kind: str) -> str:
    paths = layout_or_paths if isinstance(layout_or_paths, list) else [layout_or_paths]
    listed = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
    if kind == "parquet":
        return f"read_parquet({listed}, union_by_name=true, filename=true)"
    return f"read_csv({listed}, all_varchar=true, header=true, union_by_name=true, filename=true)"


def _layout(con, path: Path) -> _Layout:
    kind = "parquet" if path.name.lower().endswith(".parquet") else "csv"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {_source(path, kind)}").fetchall()
    except duckdb.Error as exc:
        raise InputError(path, f"cannot be read as FOCUS {kind.upper()}: {str(exc).splitlines()[0]}",
                         "export the file again as CSV (comma-separated, header row), CSV.gz or Parquet.") from None
    canonical = {c.lower(): c for c in FOCUS_COLUMNS + EXTENSION_COLUMNS}
    columns, extras, renamed = {}, [], Counter()
    raw = [(name, typ) for name, typ, *_ in described if name != "filename"]
    for name, typ in raw:
        clean = name.strip().lstrip("\ufeff")
        key = clean.lower()
        if key in canonical:
            target = canonical[key]
            if target in columns and columns[target][0] == target:
                continue  # the exact spelling wins over a case variant
            columns[target] = (name, typ)
            if clean != target:
                renamed[FIX_COLUMN_CASE] += 1
        elif key in ALIASES_13 or key.startswith("x_"):
            continue
        else:
            extras.append(clean)
    for name, typ in raw:
        target = ALIASES_13.get(name.strip().lower())
        if target and target not in columns:
            columns[target] = (name, typ)
            renamed[FIX_ALIAS] += 1
        if name.strip().lower() == METER_ALIAS and "SkuMeter" not in columns:
            columns["SkuMeter"] = (name, typ)
            renamed[FIX_METER] += 1
    return _Layout(path, kind, columns, extras, renamed)


def _check_mandatory(layout: _Layout) -> None:
    missing = [c for c in MANDATORY if c not in layout.columns]
    if "EffectiveCost" not in layout.columns and "BilledCost" not in layout.columns:
        missing.append("EffectiveCost")
    if missing:
        raise InputError(
            layout.path, f"mandatory FOCUS column(s) missing: {', '.join(missing)} (rule: FOCUS mandatory columns)",
            "export with the provider's FOCUS export (FOCUS 1.0 or later), which always has these columns; "
            "a renamed header must use the FOCUS names.", column=missing[0])


def _raw_select(layout_group: list[_Layout], numbered: bool = False) -> str:
    """One SELECT over files of one header layout: raw text (`__v`) or typed values (`__t`/`__d`) per column."""
    first = layout_group[0]
    parts = []
    for column in USED:
        raw = first.columns.get(column)
        name, typ = (raw[0], raw[1].upper()) if raw else (None, None)
        ref = _q(name) if name else None
        if column in TIME_COLUMNS:
            if ref is None:
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"NULL::TIMESTAMP AS {_q(column + '__t')}"]
            elif typ.startswith("TIMESTAMP WITH TIME ZONE") or typ == "TIMESTAMPTZ":
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}",
                          f"timezone('UTC', {ref}) AS {_q(column + '__t')}"]
            elif typ.startswith("TIMESTAMP") or typ == "DATE":
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"{ref}::TIMESTAMP AS {_q(column + '__t')}"]
            else:
                parts += [f"{ref}::VARCHAR AS {_q(column + '__v')}", f"NULL::TIMESTAMP AS {_q(column + '__t')}"]
        elif column in NUMBER_COLUMNS:
            if ref is None:
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"NULL::DOUBLE AS {_q(column + '__d')}"]
            elif typ.split("(")[0] in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT",
                                       "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
                parts += [f"NULL::VARCHAR AS {_q(column + '__v')}", f"{ref}::DOUBLE AS {_q(column + '__d')}"]
            else:
                parts += [f"{ref}::VARCHAR AS {_q(column + '__v')}", f"NULL::DOUBLE AS {_q(column + '__d')}"]
        else:
            if ref is None:
                parts.append(f"NULL::VARCHAR AS {_q(column + '__v')}")
            elif typ.startswith(("MAP", "STRUCT", "JSON")) or typ.endswith("[]"):
                parts.append(f"to_json({ref})::VARCHAR AS {_q(column + '__v')}")
            else:
                parts.append(f"{ref}::VARCHAR AS {_q(column + '__v')}")
    parts.append("filename AS __file")
    if numbered:
        parts.append("row_number() OVER () AS __row")
    return f"SELECT {', '.join(parts)} FROM {_source([lay.path for lay in layout_group], first.kind)}"


def _enum_sql(column: str, value: str) -> tuple[str, str]:
    """(normalised value, fix code) SQL for an enum column: code 0 as is, 1 case fixed, 2 preview value, 9 bad."""
    mapping = dict(ENUMS[column])
    if column == "PricingCategory":
        mapping.update(PREVIEW_PRICING)
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
    allowed = ", ".join(_lit(v) for v in ENUMS[column].values())
    norm = f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} IN ({allowed}) THEN {value} " \
           f"ELSE CASE fx_key({value}) {whens} ELSE NULL END END"
    preview = " ".join(f"WHEN {_lit(k)} THEN 2" for k in PREVIEW_PRICING) if column == "PricingCategory" else ""
    code = f"CASE WHEN {value} IS NULL OR {value} IN ({allowed}) THEN 0 " \
           f"ELSE CASE fx_key({value}) {preview} {' '.join(f'WHEN {_lit(k)} THEN 1' for k in ENUMS[column])} " \
           f"ELSE 9 END END"
    return norm, code


def _query(groups: list[list[_Layout]], settings: Settings, numbered: bool = False) -> tuple[str, list[str]]:
    """Every rule row by row, in one aggregate: the reference for `_fast_queries`, used to locate errors.

    With `numbered`, rows carry `__row` (their position in the file; one file, one thread) for error reports.
    """
    union = "\nUNION ALL BY NAME\n".join(_raw_select(g, numbered) for g in groups)
    row = ", __row" if numbered else ""
    k = "__kept"

    def kept(expr: str) -> str:
        return f"CASE WHEN {k} THEN {expr} END"

    cols = []
    for c in STRING_COLUMNS:
        raw = _q(c + "__v")
        cols.append(f"{kept(f'fx_nstr({raw})')} AS {_q(c)}")
    for c in TIME_COLUMNS + NUMBER_COLUMNS:
        raw = _q(c + "__v")
        cols.append(f"{kept(f'fx_nstr({raw})')} AS {_q(c + '__s')}")
        cols.append(_q(c + ("__t" if c in TIME_COLUMNS else "__d")))
    # null literal / empty string flags over every used column
    null_terms = " + ".join(f"(fx_nlit({_q(c + '__v')}) = 1)::INT" for c in USED)
    empty_terms = " + ".join(f"(fx_nlit({_q(c + '__v')}) = 2)::INT" for c in USED)
    cols.append(f"{kept(null_terms)} AS __fx_null")
    cols.append(f"{kept(empty_terms)} AS __fx_empty")
    layer2 = _layer2(settings, lambda v: f"fx_nstr({v})")
    layer3 = f"SELECT {k}, CASE WHEN NOT {k} THEN __sc END AS __dropped_category, __file{row}, {', '.join(cols)} " \
             "FROM l2"

    # layer 4: parse times and numbers, normalise enums, compute flags
    l4 = [k, "__dropped_category", "__file", "__fx_null", "__fx_empty"] + (["__row"] if numbered else [])
    for c in TIME_COLUMNS:
        s = _q(c + "__s")
        l4.append(f"fx_ts_kind({s}) AS {_q(c + '__k')}")
    for c in NUMBER_COLUMNS:
        s = _q(c + "__s")
        l4.append(f"fx_num_kind({s}) AS {_q(c + '__k')}")
    l4 += [_q(c) for c in STRING_COLUMNS if c not in ENUMS and c not in ("BillingCurrency", "ServiceCategory")]
    l4 += [_q(c + "__s") for c in TIME_COLUMNS + NUMBER_COLUMNS]
    l4 += [_q(c + ("__t" if c in TIME_COLUMNS else "__d")) for c in TIME_COLUMNS + NUMBER_COLUMNS]
    for c in ENUMS:
        norm, code = _enum_sql(c, _q(c))
        l4 += [f"{norm} AS {_q(c)}", f"{code} AS {_q(c + '__fix')}", f"{_q(c)} AS {_q(c + '__raw')}"]
    sc_whens = " ".join(f"WHEN {_lit(v.lower())} THEN {_lit(v)}" for v in SERVICE_CATEGORIES)
    l4.append(f"CASE WHEN ServiceCategory IS NULL THEN NULL ELSE coalesce(CASE lower(trim(ServiceCategory)) "
              f"{sc_whens} END, ServiceCategory) END AS ServiceCategory")
    l4.append("(ServiceCategory IS NOT NULL AND ServiceCategory NOT IN "
              f"({', '.join(_lit(v) for v in SERVICE_CATEGORIES)}) AND lower(trim(ServiceCategory)) IN "
              f"({', '.join(_lit(v.lower()) for v in SERVICE_CATEGORIES)}))::INT AS ServiceCategory__fix")
    l4.append("upper(trim(BillingCurrency)) AS BillingCurrency")
    l4.append("(BillingCurrency IS NOT NULL AND BillingCurrency <> upper(trim(BillingCurrency)))::INT "
              "AS BillingCurrency__fix")
    l4.append("BillingCurrency AS BillingCurrency__raw")

    # layer 5: typed values
    l5 = ["*"]
    for c in TIME_COLUMNS:
        l5.append(f"coalesce({_q(c + '__t')}, fx_ts_parse({_q(c + '__s')}, {_q(c + '__k')})) AS {_q(c + '__ts')}")
    for c in NUMBER_COLUMNS:
        l5.append(f"coalesce({_q(c + '__d')}, fx_num_parse({_q(c + '__s')}, {_q(c + '__k')})) AS {_q(c + '__n')}")

    # layer 6: derived values and the row's error flag
    bad_terms = []
    for c in TIME_COLUMNS:
        bad_terms.append(f"({_q(c + '__s')} IS NOT NULL AND {_q(c + '__ts')} IS NULL)")
    for c in NUMBER_COLUMNS:
        bad_terms.append(f"({_q(c + '__s')} IS NOT NULL AND {_q(c + '__n')} IS NULL)")
    bad_terms += [f"{_q(c + '__fix')} = 9" for c in ENUMS]
    bad_terms += [f"{_q(c)} IS NULL" for c in ("ProviderName", "ServiceName", "ChargeCategory", "BillingCurrency")]
    bad_terms += ["ChargePeriodStart__ts IS NULL", "ChargePeriodEnd__ts IS NULL",
                  "(EffectiveCost__n IS NULL AND BilledCost__n IS NULL)",
                  "NOT regexp_full_match(BillingCurrency, '[A-Z]{3}')",
                  "ChargePeriodEnd__ts < ChargePeriodStart__ts"]
    bad = f"CASE WHEN {k} THEN ({' OR '.join(bad_terms)}) IS NOT FALSE ELSE FALSE END"
    day = "date_trunc('day', ChargePeriodStart__ts)"
    sub_day = f"(ChargePeriodEnd__ts <= {day} + INTERVAL 1 DAY)"
    l6 = ["*", f"{bad} AS __bad",
          f"CASE WHEN {sub_day} THEN {day} ELSE ChargePeriodStart__ts END AS __ps",
          f"CASE WHEN {sub_day} THEN {day} + INTERVAL 1 DAY ELSE ChargePeriodEnd__ts END AS __pe",
          "coalesce(EffectiveCost__n, BilledCost__n) AS __eff", "coalesce(BilledCost__n, EffectiveCost__n) AS __billed",
          "(EffectiveCost__n IS NULL AND BilledCost__n IS NOT NULL)::INT AS __fx_eff",
          "(BilledCost__n IS NULL AND EffectiveCost__n IS NOT NULL)::INT AS __fx_billed"]

    keys = ["BillingPeriodStart__ts", "BillingPeriodEnd__ts", "__ps", "__pe", "BillingAccountId", "SubAccountId",
            "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory", "ChargeCategory",
            "ChargeFrequency", "ChargeDescription", "PricingCategory", "SkuId", "SkuMeter", "ConsumedUnit",
            "PricingUnit", "BillingCurrency", "Tags"]
    group_keys = [k, "__dropped_category", "__file"] + keys
    aggs = ["count(*) AS __rows", "sum(__bad::INT) AS __bad",
            "sum(ConsumedQuantity__n) AS ConsumedQuantity", "sum(PricingQuantity__n) AS PricingQuantity",
            "sum(ListCost__n) AS ListCost", "sum(ContractedCost__n) AS ContractedCost",
            "sum(__eff) AS EffectiveCost", "sum(__billed) AS BilledCost",
            "CASE WHEN count(ListUnitPrice__n) = 0 THEN NULL "
            "WHEN min(ListUnitPrice__n) = max(ListUnitPrice__n) THEN min(ListUnitPrice__n) "
            "ELSE sum(ListCost__n) / nullif(sum(PricingQuantity__n), 0) END AS ListUnitPrice",
            "sum(__fx_null) AS __fx_null", "sum(__fx_empty) AS __fx_empty",
            "sum(__fx_eff) AS __fx_eff", "sum(__fx_billed) AS __fx_billed"]
    for code in FIX_TS:
        terms = " + ".join(f"({_q(c + '__k')} IS NOT DISTINCT FROM {code})::INT" for c in TIME_COLUMNS)
        aggs.append(f"sum({terms}) AS __fx_ts{code}")
    aggs.append("sum(" + " + ".join(f"({_q(c + '__k')} IS NOT DISTINCT FROM 1)::INT" for c in NUMBER_COLUMNS)
                + ") AS __fx_num")
    for c in ENUMS:
        aggs.append(f"sum(({_q(c + '__fix')} IS NOT DISTINCT FROM 1)::INT) AS {_q('__fx_case_' + c)}")
    aggs.append("sum((PricingCategory__fix IS NOT DISTINCT FROM 2)::INT) AS __fx_preview")
    aggs.append("sum(ServiceCategory__fix) AS __fx_case_ServiceCategory")
    aggs.append("sum(BillingCurrency__fix) AS __fx_currency")
    select_keys = [f"{key} AS {_q(key.replace('__ts', ''))}" if key.endswith("__ts") else key for key in group_keys]
    sql = f"""
WITH src AS ({union}),
l2 AS ({layer2}),
l3 AS ({layer3}),
l4 AS (SELECT {', '.join(l4)} FROM l3),
l5 AS (SELECT {', '.join(l5)} FROM l4),
l6 AS (SELECT {', '.join(l6)} FROM l5)
SELECT {', '.join(select_keys)}, {', '.join(aggs)}
FROM l6 GROUP BY {', '.join(group_keys)}
"""
    return sql, [k] + keys


# The columns the AI-spend catalog reads, null-normalised once per row in layer 2 under these names.
MATCH_ALIASES = {"ServiceCategory": "__sc", "ServiceName": "__sn", "SkuId": "__sku", "SkuMeter": "__meter",
                 "ChargeDescription": "__desc", "ProviderName": "__prov", "PublisherName": "__pub"}


def _layer2(settings: Settings, normalise) -> str:
    """Layer 2: every row with the catalog rule it matches (`__rule`, 0 for none) and whether it is kept.

    `normalise` is the null-normalising rule as SQL (the portable `nstr` or the `fx_nstr` macro)."""
    catalog = settings.catalog()
    inner = ", ".join(f"{normalise(c + '__v')} AS {alias}" for c, alias in MATCH_ALIASES.items())
    rule = ai_catalog.rule_sql(catalog, MATCH_ALIASES, _lit)
    return (f"SELECT *, {ai_catalog.kept_sql(catalog, '__rule')} AS __kept FROM "
            f"(SELECT *, {rule} AS __rule FROM (SELECT *, {inner} FROM src))")


PER_ROW_TIMES = ("ChargePeriodStart", "ChargePeriodEnd")
# Parsed on every row, AI or not: the dollar ledger accounts for the dropped rows' money by day.
LEDGER_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost", "BilledCost")
GROUPED_TIMES = ("BillingPeriodStart", "BillingPeriodEnd")


def _fast_queries(settings: Settings) -> tuple[str, str]:
    """The happy path in two aggregates, each row touched once.

    Stage 1 (over the files, registered as view `focus_raw` by `register`): per row only the AI filter, the
    charge period (to the day) and the numbers are parsed; text columns are grouped as they come. It runs on
    the engine (DuckDB or Spark), so it is written with the portable rules above, not the macros. Stage 2
    (over stage 1, a few thousand rows, on DuckDB): text values are normalised once per distinct value, fixes
    are counted with the rows they stand for, and groups that become equal (`usage` and `Usage`) are merged.
    `_query` is the same logic row by row with the macros, used on DuckDB to locate errors.
    """
    # the registered names back to this module's: __v text, __t / __d the file's own timestamp / number
    renamed = ["__file"] + [f"{_q(c)} AS {_q(c + '__v')}" for c in STRING_COLUMNS]
    renamed += [f"{_q(c + '__text')} AS {_q(c + '__v')}, {_q(c)} AS {_q(c + ('__t' if c in TIME_COLUMNS else '__d'))}"
                for c in TIME_COLUMNS + NUMBER_COLUMNS]
    union = f"SELECT {', '.join(renamed)} FROM focus_raw"
    k = "__kept"

    def kept(expr: str) -> str:
        return f"CASE WHEN {k} THEN {expr} END"

    # Rows dropped as not AI keep what the dollar ledger shows of them: service, provider, currency, day, cost.
    row_cols = [k, "__rule", f"CASE WHEN NOT {k} THEN __sc END AS __dropped_category", "__file",
                f"CASE WHEN NOT {k} THEN __sn END AS __dropped_service",
                f"CASE WHEN NOT {k} THEN __prov END AS __dropped_provider",
                f"CASE WHEN NOT {k} THEN upper(trim({nstr('BillingCurrency__v')})) END AS __dropped_currency"]
    # a ResourceId is grouped as the model id it names, if any: resources are many, models few
    row_cols += [f"{kept(_resource_model_sql(_q(c + '__v')) if c == 'ResourceId' else _q(c + '__v'))} "
                 f"AS {_q(c + '__v')}" for c in STRING_COLUMNS]
    for c in GROUPED_TIMES:
        row_cols += [f"{kept(_q(c + '__v'))} AS {_q(c + '__v')}", f"{kept(_q(c + '__t'))} AS {_q(c + '__t')}"]
    for c in PER_ROW_TIMES + NUMBER_COLUMNS:
        raw = _q(c + "__v")
        text = nstr(raw) if c in LEDGER_COLUMNS else kept(nstr(raw))
        row_cols += [f"{text} AS {_q(c + '__s')}", f"{kept(nlit(raw))} AS {_q(c + '__nl')}",
                     _q(c + ("__t" if c in TIME_COLUMNS else "__d"))]
    parsed = ["*"]
    for c in PER_ROW_TIMES:
        parsed.append(f"{ts_kind(_q(c + '__s'))} AS {_q(c + '__k')}")
    for c in NUMBER_COLUMNS:
        parsed.append(f"{num_kind(_q(c + '__s'))} AS {_q(c + '__k')}")
    # timestamp text towards ISO one step a layer: each step reads the column the last one wrote, so no
    # expression is written out (and evaluated) several times over
    steps = [("__t0", lambda c: f"trim({_q(c + '__s')})"), ("__t1", lambda c: iso_text(_q(c + "__t0"))),
             ("__t2", lambda c: iso_hour(_q(c + "__t1"))),
             ("__iso", lambda c: f"CASE WHEN {_q(c + '__k')} = 2 THEN {iso_offset(_q(c + '__t2'))} "
                                 f"ELSE {_q(c + '__t2')} END")]
    iso_layers = [["*"] + [f"{make(c)} AS {_q(c + name)}" for c in PER_ROW_TIMES] for name, make in steps]
    typed = ["*"]
    for c in PER_ROW_TIMES:
        typed.append(f"coalesce({_q(c + '__t')}, {ts_parse(_q(c + '__iso'), _q(c + '__t0'), _q(c + '__k'))}) "
                     f"AS {_q(c + '__ts')}")
    for c in NUMBER_COLUMNS:
        typed.append(f"coalesce({_q(c + '__d')}, {num_parse(_q(c + '__s'), _q(c + '__k'))}) AS {_q(c + '__n')}")
    day = "date_trunc('day', ChargePeriodStart__ts)"
    sub_day = f"(ChargePeriodEnd__ts <= {day} + INTERVAL 1 DAY)"
    bad1 = " OR ".join([f"({_q(c + '__s')} IS NOT NULL AND {_q(c + '__ts')} IS NULL)" for c in PER_ROW_TIMES]
                       + [f"({_q(c + '__s')} IS NOT NULL AND {_q(c + '__n')} IS NULL)" for c in NUMBER_COLUMNS]
                       + ["ChargePeriodStart__ts IS NULL", "ChargePeriodEnd__ts IS NULL",
                          "(EffectiveCost__n IS NULL AND BilledCost__n IS NULL)",
                          "ChargePeriodEnd__ts < ChargePeriodStart__ts"])
    derived = ["*", f"CASE WHEN {k} THEN coalesce({bad1}, TRUE) ELSE FALSE END AS __bad",
               f"CASE WHEN {sub_day} THEN {day} ELSE ChargePeriodStart__ts END AS __ps",
               f"CASE WHEN {sub_day} THEN {day} + INTERVAL 1 DAY ELSE ChargePeriodEnd__ts END AS __pe",
               "coalesce(EffectiveCost__n, BilledCost__n) AS __eff", "coalesce(BilledCost__n, EffectiveCost__n) AS __billed"]
    keys1 = [k, "__rule", "__dropped_category", "__dropped_service", "__dropped_provider", "__dropped_currency",
             "__file", "__ps", "__pe"] + [_q(c + "__v") for c in STRING_COLUMNS] + \
        [_q(c + s) for c in GROUPED_TIMES for s in ("__v", "__t")]
    aggs1 = ["count(*) AS __rows", "sum(CAST(__bad AS INT)) AS __bad",
             "sum(ConsumedQuantity__n) AS ConsumedQuantity", "sum(PricingQuantity__n) AS PricingQuantity",
             "sum(ListCost__n) AS ListCost", "sum(ContractedCost__n) AS ContractedCost",
             "sum(__eff) AS EffectiveCost", "sum(__billed) AS BilledCost",
             "min(ListUnitPrice__n) AS __lup_min", "max(ListUnitPrice__n) AS __lup_max",
             "count(ListUnitPrice__n) AS __lup_n",
             "sum(CASE WHEN ListUnitPrice__n IS NOT NULL THEN ListCost__n END) AS __lup_cost",
             "sum(CASE WHEN ListUnitPrice__n IS NOT NULL THEN PricingQuantity__n END) AS __lup_qty",
             f"sum(CASE WHEN {k} AND EffectiveCost__n IS NULL AND BilledCost__n IS NOT NULL THEN 1 ELSE 0 END) "
             "AS __fx_eff",
             f"sum(CASE WHEN {k} AND BilledCost__n IS NULL AND EffectiveCost__n IS NOT NULL THEN 1 ELSE 0 END) "
             "AS __fx_billed",
             f"sum(CASE WHEN NOT {k} AND __eff IS NULL THEN 1 ELSE 0 END) AS __dropped_unreadable",
             f"sum(CASE WHEN {k} AND lower(trim(coalesce(ChargeCategory__v, ''))) = 'usage' AND ({NEGATIVE}) "
             "AND lower(trim(coalesce(ChargeClass__v, ''))) <> 'correction' THEN 1 ELSE 0 END) AS __negative_usage",
             "sum(" + " + ".join(f"CASE WHEN {_q(c + '__nl')} = 1 THEN 1 ELSE 0 END" for c in PER_ROW_TIMES + NUMBER_COLUMNS)
             + ") AS __fx_null1",
             "sum(" + " + ".join(f"CASE WHEN {_q(c + '__nl')} = 2 THEN 1 ELSE 0 END" for c in PER_ROW_TIMES + NUMBER_COLUMNS)
             + ") AS __fx_empty1",
             "sum(" + " + ".join(f"CASE WHEN {k} AND {_q(c + '__k')} = 1 THEN 1 ELSE 0 END" for c in NUMBER_COLUMNS)
             + ") AS __fx_num"]
    for code in FIX_TS:
        aggs1.append("sum(" + " + ".join(f"CASE WHEN {k} AND {_q(c + '__k')} = {code} THEN 1 ELSE 0 END"
                                         for c in PER_ROW_TIMES) + f") AS __fx_ts{code}")
    stage1 = f"""
WITH src AS ({union}),
l2 AS ({_layer2(settings, nstr)}),
l3 AS (SELECT {', '.join(row_cols)} FROM l2),
l4 AS (SELECT {', '.join(parsed)} FROM l3),
{''.join(f"i{n} AS (SELECT {', '.join(layer)} FROM {'l4' if n == 0 else f'i{n - 1}'}),{chr(10)}"
         for n, layer in enumerate(iso_layers))}l5 AS (SELECT {', '.join(typed)} FROM i{len(iso_layers) - 1}),
l6 AS (SELECT {', '.join(derived)} FROM l5)
SELECT {', '.join(keys1)}, {', '.join(aggs1)} FROM l6 GROUP BY {', '.join(keys1)}"""

    # stage 2: over the stage-1 table `s1`, weights are __rows
    w = "__rows"
    norm = ["*"]
    for c in STRING_COLUMNS:
        norm.append(f"fx_nstr({_q(c + '__v')}) AS {_q(c + '__n0')}")
    nulls = " + ".join(f"(fx_nlit({_q(c + '__v')}) = 1)::INT" for c in STRING_COLUMNS + GROUPED_TIMES)
    empties = " + ".join(f"(fx_nlit({_q(c + '__v')}) = 2)::INT" for c in STRING_COLUMNS + GROUPED_TIMES)
    norm += [f"({nulls}) * {w} AS __fx_null2", f"({empties}) * {w} AS __fx_empty2"]
    for c in GROUPED_TIMES:
        raw = _q(c + "__v")
        norm += [f"fx_nstr({raw}) AS {_q(c + '__s')}", f"fx_ts_kind(fx_nstr({raw})) AS {_q(c + '__k')}"]
    n2 = ["*"]
    for c in GROUPED_TIMES:
        n2.append(f"coalesce({_q(c + '__t')}, fx_ts_parse({_q(c + '__s')}, {_q(c + '__k')})) AS {_q(c)}")
    for c in STRING_COLUMNS:
        src_col = _q(c + "__n0")
        if c in ENUMS:
            norm_sql, code = _enum_sql(c, src_col)
            n2 += [f"{norm_sql} AS {_q(c)}", f"{code} AS {_q(c + '__fix')}", f"{src_col} AS {_q(c + '__raw')}"]
        elif c == "ServiceCategory":
            whens = " ".join(f"WHEN {_lit(v.lower())} THEN {_lit(v)}" for v in SERVICE_CATEGORIES)
            n2.append(f"CASE WHEN {src_col} IS NULL THEN NULL ELSE coalesce(CASE lower(trim({src_col})) {whens} END, "
                      f"{src_col}) END AS ServiceCategory")
            n2.append(f"({src_col} IS NOT NULL AND {src_col} NOT IN ({', '.join(_lit(v) for v in SERVICE_CATEGORIES)})"
                      f" AND lower(trim({src_col})) IN ({', '.join(_lit(v.lower()) for v in SERVICE_CATEGORIES)}))::INT"
                      " AS ServiceCategory__fix")
        elif c == "BillingCurrency":
            n2 += [f"upper(trim({src_col})) AS BillingCurrency",
                   f"({src_col} IS NOT NULL AND {src_col} <> upper(trim({src_col})))::INT AS BillingCurrency__fix"]
        else:
            n2.append(f"{src_col} AS {_q(c)}")
    bad2 = " OR ".join([f"({_q(c + '__s')} IS NOT NULL AND {_q(c)} IS NULL)" for c in GROUPED_TIMES]
                       + [f"{_q(c + '__fix')} = 9" for c in ENUMS]
                       + [f"{_q(c)} IS NULL" for c in ("ProviderName", "ServiceName", "ChargeCategory", "BillingCurrency")]
                       + ["NOT regexp_full_match(BillingCurrency, '[A-Z]{3}')"])
    keys2 = [k, "__rule", "__dropped_category", "__dropped_service", "__dropped_provider", "__dropped_currency",
             "__file", "__ps", "__pe", "BillingPeriodStart", "BillingPeriodEnd", *[_q(c) for c in STRING_COLUMNS]]
    aggs2 = [f"sum({w}) AS __rows", f"sum(__bad + CASE WHEN {k} AND ({bad2}) IS NOT FALSE THEN {w} ELSE 0 END) AS __bad",
             *[f"sum({c}) AS {c}" for c in ("ConsumedQuantity", "PricingQuantity", "ListCost", "ContractedCost",
                                            "EffectiveCost", "BilledCost")],
             "CASE WHEN sum(__lup_n) = 0 THEN NULL WHEN min(__lup_min) = max(__lup_max) THEN min(__lup_min) "
             "ELSE sum(__lup_cost) / nullif(sum(__lup_qty), 0) END AS ListUnitPrice",
             "sum(__fx_null1 + __fx_null2) AS __fx_null", "sum(__fx_empty1 + __fx_empty2) AS __fx_empty",
             "sum(__fx_eff) AS __fx_eff", "sum(__fx_billed) AS __fx_billed", "sum(__fx_num) AS __fx_num",
             "sum(__dropped_unreadable) AS __dropped_unreadable", "sum(__negative_usage) AS __negative_usage"]
    for code in FIX_TS:
        grouped = " + ".join(f"({_q(c + '__k')} IS NOT DISTINCT FROM {code})::INT" for c in GROUPED_TIMES)
        aggs2.append(f"sum(__fx_ts{code} + ({grouped}) * {w}) AS __fx_ts{code}")
    for c in ENUMS:
        aggs2.append(f"sum(({_q(c + '__fix')} IS NOT DISTINCT FROM 1)::INT * {w}) AS {_q('__fx_case_' + c)}")
    aggs2.append(f"sum((PricingCategory__fix IS NOT DISTINCT FROM 2)::INT * {w}) AS __fx_preview")
    aggs2.append(f"sum(ServiceCategory__fix * {w}) AS __fx_case_ServiceCategory")
    aggs2.append(f"sum(BillingCurrency__fix * {w}) AS __fx_currency")
    stage2 = f"""
WITH a AS (SELECT {', '.join(norm)} FROM s1),
b AS (SELECT {', '.join(n2)} FROM a)
SELECT {', '.join(keys2)}, {', '.join(aggs2)} FROM b GROUP BY {', '.join(keys2)}"""
    return stage1, stage2


def _check_patterns(con, settings: Settings) -> None:
    """Every catalog pattern must compile for DuckDB (RE2) as well as Python: they run in SQL."""
    for rule in settings.catalog().rules:
        for p in (rule.pattern, rule.provider):
            if not p:
                continue
            try:
                con.execute(f"SELECT regexp_matches('', {_lit('(?i)(?:' + p + ')')})").fetchall()
            except duckdb.Error as exc:
                raise ConfigError(f"{rule.origin}: the pattern {p!r} is not a valid regular expression for DuckDB "
                                  f"(RE2): {str(exc).splitlines()[0]}. Use RE2 syntax (no look-arounds).") from None


def read(folder: Path, settings: Settings) -> SourceData:
    folder = Path(folder)
    files = files_in(folder, *PATTERNS)
    out = SourceData(SOURCE, files=files, spend=empty_spend(), usage=empty_usage())
    if not files:
        out.notes.append(f"no FOCUS file (*.csv, *.csv.gz, *.parquet) under {folder}")
        return out
    con = duckdb_connection()
    try:
        con.execute(_MACROS)
        _check_patterns(con, settings)
        layouts = [_layout(con, f) for f in files]
        for layout in layouts:
            _check_mandatory(layout)
            out.fixes.update(layout.renamed)
        _note_columns(out, layouts, folder)
        grouped = defaultdict(list)
        for layout in layouts:
            grouped[(layout.kind, tuple(sorted(layout.columns.items())))].append(layout)
        stage1, stage2 = _fast_queries(settings)
        s1 = _on_engine(settings, list(grouped.values()), stage1)
        con.register("s1_frame", s1)
        con.execute(f"CREATE TEMP TABLE s1 AS SELECT {_s1_types()} FROM s1_frame")
        agg = con.execute(stage2).df()
        if agg["__bad"].sum() > 0:
            _diagnose(con, agg, layouts, settings)
        kept_tags = agg.loc[agg["__kept"].fillna(False).astype(bool), ["Tags", "__file"]].dropna()
        for tags, path in kept_tags.drop_duplicates("Tags").itertuples(index=False):
            if _parse_tags(tags) is None:
                _bad_tags(con, next(lay for lay in layouts if str(lay.path) == path), tags, settings)
        out.checks += _negative_usage(con, agg, layouts, settings, folder)
    finally:
        con.close()
    return _finish(out, agg, folder, settings)


def register(engine, groups: list[list[_Layout]]) -> None:
    """The FOCUS files as view `focus_raw` of `engine`: every used column as read (no trim: the rules count
    blanks and `NULL` strings as fixes), times and numbers also in the file's own type where it has one."""
    kinds = {**{c: "datetime" for c in TIME_COLUMNS}, **{c: "number" for c in NUMBER_COLUMNS}}
    for i, group in enumerate(groups):
        columns = {c: group[0].columns[c][0] if c in group[0].columns else None for c in USED}
        engine.register_files(f"focus_files_{i}", [lay.path for lay in group], group[0].kind, columns, kinds,
                              raw_text=True)
    engine.union_view("focus_raw", [f"focus_files_{i}" for i in range(len(groups))])


def _on_engine(settings: Settings, groups: list[list[_Layout]], stage1: str) -> pd.DataFrame:
    """Stage 1 over every row, on the configured engine (a private DuckDB session unless Settings.engine)."""
    from ..engine import DuckDBEngine

    engine = settings.engine or DuckDBEngine()
    try:
        register(engine, groups)
        return engine.frame(stage1)
    finally:
        if settings.engine is None:
            engine.close()


def _s1_types() -> str:
    """Stage 1's columns with their SQL types, whatever pandas made of an all-empty column on the way."""
    text = ["__dropped_category", "__dropped_service", "__dropped_provider", "__dropped_currency", "__file"] + \
        [c + "__v" for c in STRING_COLUMNS + GROUPED_TIMES]
    times = ["__ps", "__pe"] + [c + "__t" for c in GROUPED_TIMES]
    casts = [f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in text] + \
        [f"CAST({_q(c)} AS TIMESTAMP) AS {_q(c)}" for c in times] + ["CAST(__rule AS INTEGER) AS __rule"]
    return f"* REPLACE ({', '.join(casts)})"


def _note_columns(out: SourceData, layouts: list[_Layout], folder: Path) -> None:
    extras = Counter(c for lay in layouts for c in dict.fromkeys(lay.extras))
    for column, n in sorted(extras.items()):
        out.notes.append(f"extra column ignored: {column} ({n} file{'s' if n > 1 else ''})")
    absent = Counter(c for lay in layouts for c in USED if c not in lay.columns and c not in EXTENSION_COLUMNS)
    for column, n in sorted(absent.items()):
        out.notes.append(f"column {column} absent from {n} file{'s' if n > 1 else ''}: read as null")


# --- errors ---------------------------------------------------------------------------------------------------

def _diagnose(con, agg: pd.DataFrame, layouts: list[_Layout], settings: Settings) -> None:
    """Find the first offending row of the first file with a problem and raise its InputError."""
    bad_files = agg.loc[agg["__bad"] > 0, "__file"].dropna().unique().tolist()
    by_path = {str(lay.path): lay for lay in layouts}
    layout = by_path.get(bad_files[0]) if bad_files else layouts[0]
    con.execute("SET threads = 1")
    sql, _ = _query([[layout]], settings, numbered=True)
    # the same layers, row by row, numbered in file order (one thread keeps the order)
    layers = sql[: sql.rindex("SELECT")]
    row = con.execute(layers + "SELECT * FROM l6 WHERE __bad ORDER BY __row LIMIT 1").df()
    if row.empty:  # pragma: no cover - the aggregate saw a bad row, so this file has one
        raise InputError(layout.path, "a row failed the FOCUS checks", "check the file against FOCUS 1.2.")
    _raise_for(layout, row.iloc[0].to_dict())


# A usage row whose money or quantity is below zero: a correction, unless the export says it is one.
NEGATIVE = "__eff < 0 OR __billed < 0 OR ListCost__n < 0 OR ConsumedQuantity__n < 0"
NEGATIVE_RULE = 'values >= 0 where ChargeCategory == "Usage" and ChargeClass is not "Correction"'
NEGATIVE_HINT = ("a negative usage cost is a correction of an earlier charge (FOCUS 1.1 and later mark corrections "
                 "ChargeClass Correction): check these lines are corrections. They are counted as they are, and "
                 "the pack is PROVISIONAL until they are marked or explained.")


def _negative_usage(con, agg: pd.DataFrame, layouts: list[_Layout], settings: Settings, folder: Path) -> list:
    """A warning per file with negative usage costs not marked as corrections, naming the file's own lines."""
    from ..contracts import Check

    files = agg.loc[agg["__negative_usage"].fillna(0) > 0].groupby("__file")["__negative_usage"].sum()
    checks = []
    for path, count in files.items():
        layout = next(lay for lay in layouts if str(lay.path) == path)
        con.execute("SET threads = 1")
        sql, _ = _query([[layout]], settings, numbered=True)
        rows = con.execute(sql[: sql.rindex("SELECT")] + "SELECT __row, __eff FROM l6 WHERE __kept AND "
                           f"ChargeCategory = 'Usage' AND ({NEGATIVE}) AND "
                           "lower(trim(coalesce(ChargeClass, ''))) <> 'correction' ORDER BY __row LIMIT 5").fetchall()
        csv = layout.kind == "csv"
        checks.append(Check(
            table="spend", source=_relative(Path(path), folder), expectation="expect_column_values_to_be_between",
            column=layout.columns.get("EffectiveCost", ("EffectiveCost",))[0], severity="warning", success=False,
            rule=NEGATIVE_RULE, hint=NEGATIVE_HINT, unexpected_count=int(count),
            rows=[int(r) + 1 if csv else int(r) for r, _ in rows], samples=[float(v) for _, v in rows],
            row_label="line" if csv else "row"))
    return checks


def _bad_tags(con, layout: _Layout, tags: str, settings: Settings) -> None:
    con.execute("SET threads = 1")
    sql, _ = _query([[layout]], settings, numbered=True)
    found = con.execute(sql[: sql.rindex("SELECT")] + "SELECT min(__row) FROM l6 WHERE __kept AND Tags = ?",
                        [tags]).fetchone()[0]
    n = int(found or 0)
    line = n + 1 if layout.kind == "csv" and n else None
    raise InputError(layout.path, f"Tags value {tags[:120]!r} is not a JSON object (rule: Tags key-value format)"
                     + ("" if line or not n else f" (row {n})"),
                     'write Tags as a JSON object, e.g. {"project": "alpha", "env": "prod"}.', line=line,
                     column=layout.columns.get("Tags", ("Tags",))[0])


def _raise_for(layout: _Layout, r: dict) -> None:
    n = int(r["__row"])
    line = n + 1 if layout.kind == "csv" else None
    where = "" if line else f" (row {n})"

    def raw(column):
        return layout.columns.get(column, (column,))[0]

    def fail(column, problem, hint):
        raise InputError(layout.path, problem + where, hint, line=line, column=raw(column))

    for c in TIME_COLUMNS:
        if r.get(c + "__s") is not None and pd.isna(r.get(c + "__ts")):
            value = r[c + "__s"]
            if r.get(c + "__k") == 9 and re.fullmatch(r"\s*\d{1,2}/\d{1,2}/\d{2,4}.*", str(value)):
                fail(c, f"{c} value {value!r} is not a month-first date (rule: dates)",
                     "write dates as ISO 8601 UTC, e.g. 2025-05-01T00:00:00Z (day-first dates are ambiguous).")
            fail(c, f"{c} value {value!r} is not a date/time (rule: dates)",
                 "write dates as ISO 8601 UTC, e.g. 2025-05-01T00:00:00Z, and check the value exists.")
    for c in NUMBER_COLUMNS:
        if r.get(c + "__s") is not None and pd.isna(r.get(c + "__n")):
            fail(c, f"{c} value {r[c + '__s']!r} is not a number (rule: numbers)",
                 "write plain decimal numbers such as 1234.56 or -12.5 (E-notation allowed); re-export the file.")
    for c in ENUMS:
        if r.get(c + "__fix") == 9:
            fail(c, f"{c} value {r[c + '__raw']!r} is not a FOCUS value (rule: allowed values)",
                 f"use one of {', '.join(ENUMS[c].values())}.")
    for c in ("ChargePeriodStart", "ChargePeriodEnd"):
        if pd.isna(r.get(c + "__ts")):
            fail(c, f"{c} is empty on an AI row (rule: mandatory value)", f"every row needs a {c}.")
    if pd.isna(r.get("EffectiveCost__n")) and pd.isna(r.get("BilledCost__n")):
        fail("EffectiveCost", "EffectiveCost and BilledCost are both empty on an AI row (rule: mandatory value)",
             "every row needs its cost in EffectiveCost (and BilledCost).")
    for c in ("ProviderName", "ServiceName", "ChargeCategory", "BillingCurrency"):
        if r.get(c) is None or (isinstance(r.get(c), float) and pd.isna(r.get(c))):
            fail(c, f"{c} is empty on an AI row (rule: mandatory value)", f"every row needs a {c}.")
    if not re.fullmatch(r"[A-Z]{3}", str(r.get("BillingCurrency"))):
        fail("BillingCurrency", f"BillingCurrency value {r.get('BillingCurrency__raw')!r} is not an ISO 4217 code "
             "(rule: currency)", "write the billing currency as three letters, e.g. USD or EUR.")
    if r.get("ChargePeriodEnd__ts") < r.get("ChargePeriodStart__ts"):
        fail("ChargePeriodEnd", f"ChargePeriodEnd {r['ChargePeriodEnd__ts']} is before ChargePeriodStart "
             f"{r['ChargePeriodStart__ts']} (rule: period order)", "ChargePeriodEnd is the exclusive end of the "
             "charge period and must be after its start.")
    raise InputError(layout.path, "a row failed the FOCUS checks" + where, "check the row against FOCUS 1.2.",
                     line=line)


# --- aggregate -> canonical rows --------------------------------------------------------------------------------

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
    kept["x_SourceFile"] = _by_value(kept["__file"], lambda f: _relative(Path(f), folder))
    # Tags -> JSON object, attribution (unreadable Tags were raised by read())
    tag_info = _by_value(kept["Tags"], lambda t: None if t is None else _parse_tags(t))
    fixed = tag_info.map(lambda i: bool(i and i["fixed"]))
    if fixed.any():
        out.fixes[FIX_TAGS] += int(kept.loc[fixed, "__rows"].sum())
    kept["Tags"] = tag_info.map(lambda i: i["json"] if i else None)
    combo = kept["Tags"].fillna("") + "\x1f" + kept["SubAccountId"].fillna("") + "\x1f" + \
        kept["BillingAccountId"].fillna("")
    info_by_json = {i["json"]: i for i in tag_info if i}
    attribution = _by_value(combo, lambda c: _attribution(info_by_json.get(c.split("\x1f")[0]),
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
    is_tokens = (_by_value(units, lambda u: bool(TOKEN_UNIT_RE.search(u))).astype(bool)
                 | (_by_value(meter, lambda m: bool(TOKEN_METER_RE.search(m))).astype(bool)
                    & _by_value(kept["ConsumedUnit"].fillna("") + "\x1f" + kept["PricingUnit"].fillna(""),
                                lambda u: all(COUNT_UNIT_RE.fullmatch(p) for p in u.split("\x1f"))).astype(bool))) & (
        kept["ChargeCategory"] != "Purchase")
    is_gpu = (kept["ServiceCategory"] == "Compute") | _by_value(text, lambda t: bool(GPU_RE.search(t))).astype(bool)
    auto = np.where(is_tokens, "api_tokens", np.where(is_gpu, "self_hosted", "platform"))
    rules = kept["__rule"].astype(int).map(lambda n: settings.catalog().rule(n))
    said = rules.map(lambda r: r.modality if r is not None else "auto")
    # A seat product's metered use (pay-as-you-go messages, premium requests) is not a seat; seats billed as
    # metered usage per user and month (GitHub Copilot on an Azure invoice) are.
    per_seat = _by_value(units, lambda u: bool(SEAT_UNIT_RE.search(u))).astype(bool)
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
    kept["x_Model"] = named.where(named.notna(), _by_value(text, parse_model)).where(is_tokens, None)
    kept["x_TokenType"] = _by_value(text, parse_token_type).where(is_tokens, None)
    scale = _by_value(kept["ConsumedUnit"], _unit_scale).astype(float)
    scaled = is_tokens & scale.notna() & (scale != 1)
    if scaled.any():
        out.fixes[FIX_UNIT] += int(kept.loc[scaled, "__rows"].sum())
        kept.loc[scaled, "ConsumedQuantity"] = kept.loc[scaled, "ConsumedQuantity"] * scale[scaled]
        kept.loc[scaled, "ConsumedUnit"] = "Tokens"
    counted_units = is_tokens & kept["ConsumedQuantity"].notna() & _by_value(
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
    pricing_scale = _by_value(kept["PricingUnit"], _unit_scale).astype(float)
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


def _by_value(series: pd.Series, fn) -> pd.Series:
    """fn applied once per distinct value of the series (None for nulls), mapped back to every row."""
    values = series.astype(object).where(series.notna(), None)
    table = {v: fn(v) for v in dict.fromkeys(values)}
    return pd.Series([table[v] for v in values], index=series.index, dtype=object)


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


# --- parsing helpers (pure functions, tested directly) ----------------------------------------------------------

def _norm_key(key: str) -> str:
    """A tag key without provider prefix (`user:`, `scheme/`), lower case, spaces as underscores."""
    return re.split(r"[:/]", str(key))[-1].strip().lower().replace(" ", "_")


def _parse_tags(text: str) -> dict | None:
    """{'json': canonical JSON text, 'tags': {normalised key: value}, 'fixed': bool}, or None if not an object."""
    fixed = False
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        try:
            value, fixed = json.loads("{" + text + "}"), True
        except (json.JSONDecodeError, TypeError):
            return None
    if not isinstance(value, dict):
        return None
    tags = {}
    for key, v in value.items():
        tags.setdefault(_norm_key(key), v)
    return {"json": text if not fixed else json.dumps(value, ensure_ascii=False, separators=(",", ":")),
            "tags": tags, "fixed": fixed}


def _attribution(info: dict | None, sub_account, account) -> tuple:
    tags = (info or {}).get("tags", {})

    def first(keys):
        for key in tags:
            if key in keys and tags[key] not in (None, "", True, False):
                return str(tags[key])
        return None

    use_case, bu = first(USE_CASE_KEYS), first(BU_KEYS)
    key = None
    for name in ATTRIBUTION_TAGS:
        if tags.get(name) not in (None, "", True, False):
            key = f"focus.tag:{name}={tags[name]}"
            break
    if key is None and isinstance(sub_account, str) and sub_account:
        key = f"focus.subaccount:{sub_account}"
    if key is None and isinstance(account, str) and account:
        key = f"focus.account:{account}"
    return use_case, bu, key


def _unit_scale(unit) -> float | None:
    """Tokens per unit of a token row: 1 for `Tokens` or `Units`, 1000 for `1K Tokens`/`1000 Tokens`/`1K`,
    1e6 for `1M Tokens`; None for anything else (and for an empty unit)."""
    if not isinstance(unit, str) or not unit.strip():
        return None
    m = UNIT_SCALE_RE.match(unit)
    if not m:
        return None
    number = float(m.group(1).replace(",", "")) if m.group(1) else 1.0
    suffix = (m.group(2) or "").lower()
    return number * {"": 1, "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6}[suffix]


def _block_size(value) -> float | None:
    """x_PricingBlockSize as a number of units per priced block (None when absent, unreadable or not > 0)."""
    try:
        size = float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None
    return size if size > 0 else None


def _dropped_money(dropped: pd.DataFrame, folder: Path):
    """The money of the rows dropped as not AI, per file, day, provider, service and currency (the ledger's)."""
    from . import excluded_frame

    money = dropped[dropped["EffectiveCost"].notna() & dropped["__ps"].notna()] if len(dropped) else dropped
    if money.empty:
        return None
    return excluded_frame({
        "x_Source": SOURCE, "x_SourceFile": _by_value(money["__file"], lambda f: _relative(Path(f), folder)),
        "ChargePeriodStart": money["__ps"], "BillingCurrency": money["__dropped_currency"],
        "EffectiveCost": money["EffectiveCost"], "ProviderName": money["__dropped_provider"],
        "ServiceName": money["__dropped_service"], "ServiceCategory": money["__dropped_category"],
        "x_Exclusion": "not_ai", "x_ExcludedBy": None, "Rows": money["__rows"]})


def _scale_by_price(rows: pd.DataFrame, out: SourceData) -> pd.Series:
    """Tokens per unit of token rows whose unit is a plain count: the scale (1, 1,000 or 1,000,000) at which
    their price per unit is nearest the list price of their model and token type, per model, token type and
    unit; 1 where the catalog has no price or no scale comes within SCALE_TOLERANCE (named in the notes)."""
    from .. import prices

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


def _resource_model_sql(v: str) -> str:
    """The model id a ResourceId names (`arn:...:inference-profile/us.anthropic...`), null when it names none."""
    return f"nullif(regexp_extract(trim({v}), {_lit(RESOURCE_MODEL)}, 1), '')"


def parse_model(text: str) -> str | None:
    """The model named in a SKU/meter/description text, lower case with hyphens; None when none is recognisable.

    `gpt-4o-0806-Inp-glbl Tokens` -> `gpt-4o-0806`; `Claude 3.5 Sonnet input tokens` -> `claude-3.5-sonnet`;
    `anthropic.claude-3-5-sonnet-20240620-v1:0` -> `claude-3-5-sonnet-20240620-v1:0`.
    """
    if not isinstance(text, str):
        return None
    for part in text.split("|"):
        part = re.sub(r"(?i):(?=(input|output|in|out|prompt|completion|cached|cache)(?![a-z]))", " ", part)
        m = MODEL_FAMILY_RE.search(part)
        if not m:
            continue
        # "text" is a stop word (Gemini "... text tokens") except in the family name text-embedding itself
        family = m.group(1).lower()
        words = family.split("-") if family == "text-embedding" else []
        for word in re.split(r"[\s\-_/,()]+", part[m.end() if words else m.start():]):
            w = word.strip().lower()
            if not w:
                continue
            if w in MODEL_STOP or w.startswith("$") or not re.fullmatch(r"[a-z0-9.:]+", w):
                break
            words.append(w)
        if words:
            model = "-".join(words).strip(".:")
            if model.startswith("claude"):  # Anthropic's ids write versions with hyphens: claude-3-5-sonnet
                model = re.sub(r"(\d)\.(\d)", r"\1-\2", model)
            return model
    return None


def parse_token_type(text: str) -> str | None:
    """input / output / cached_input / cache_write named in a SKU/meter/description text, else None."""
    if not isinstance(text, str):
        return None
    for token_type, pattern in TOKEN_TYPE_RES:
        if pattern.search(text):
            return token_type
    return None
