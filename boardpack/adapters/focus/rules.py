"""The normalisation rules as SQL, each written once: nulls written as text, timestamps, numbers, enum
spellings, the model a ResourceId names, negative usage. Each builder takes column SQL and returns an
expression in the subset both engines run alike (boardpack.engine): stage 1 runs them on DuckDB or Spark,
stage 2 and the row-by-row error search on DuckDB; so a value is judged the same way in all three."""

from __future__ import annotations

from ...engine import _lit
from .spec import ENUMS, PREVIEW_PRICING, SERVICE_CATEGORIES

# The model id a resource names: Bedrock foundation models and inference profiles (ARNs), Vertex AI publisher
# models (`.../publishers/google/models/gemini-2.5-pro`); Bedrock marketplace models name it nowhere else.
RESOURCE_MODEL = r"(?:foundation-model|inference-profile|custom-model|provisioned-model|/models)/([^/\s]+)$"

# Timestamp and number shapes (kinds 1-4 of `ts_kind`, kind 1 of `num_kind`).
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
    """The timestamp of kind `k`: from the ISO text (kinds 0-3, made by `ISO_STEPS`) or the trimmed text."""
    cast = "CAST(TRY_CAST({} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return f"CASE WHEN {k} IN (0, 1, 2, 3) THEN {cast.format(iso)} WHEN {k} = 4 THEN {cast.format(_us(text))} END"


ISO_STEPS = (  # (column suffix, step): one step a layer, each reading the column the last one wrote
    ("__t0", lambda t, k: f"trim({t})"),
    ("__t1", lambda t, k: iso_text(t)),
    ("__t2", lambda t, k: iso_hour(t)),
    ("__iso", lambda t, k: f"CASE WHEN {k} = 2 THEN {iso_offset(t)} ELSE {t} END"),
)


def num_kind(v: str) -> str:
    d = f"TRY_CAST({v} AS DOUBLE)"
    return (f"CASE WHEN {v} IS NULL THEN NULL WHEN {d} IS NOT NULL THEN "
            f"CASE WHEN {d} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308 THEN 0 ELSE 9 END "
            f"WHEN {_full(f'trim({v})', _MONEY)} THEN 1 ELSE 9 END")


def num_parse(v: str, k: str) -> str:
    return (f"CASE WHEN {k} = 0 THEN TRY_CAST({v} AS DOUBLE) "
            f"WHEN {k} = 1 THEN TRY_CAST(regexp_replace(trim({v}), '[$€£¥,\\s]', '', 'g') AS DOUBLE) END")


def key(v: str) -> str:
    """An enum spelling reduced to compare: lower case, no blanks, hyphens or underscores (`Usage-Based`)."""
    return f"lower(regexp_replace(trim({v}), '[\\s_-]', '', 'g'))"


def _enum_sql(column: str, value: str) -> tuple[str, str]:
    """(normalised value, fix code) SQL for an enum column: code 0 as is, 1 case fixed, 2 preview value, 9 bad."""
    mapping = dict(ENUMS[column])
    if column == "PricingCategory":
        mapping.update(PREVIEW_PRICING)
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
    allowed = ", ".join(_lit(v) for v in ENUMS[column].values())
    norm = f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} IN ({allowed}) THEN {value} " \
           f"ELSE CASE {key(value)} {whens} ELSE NULL END END"
    preview = " ".join(f"WHEN {_lit(k)} THEN 2" for k in PREVIEW_PRICING) if column == "PricingCategory" else ""
    code = f"CASE WHEN {value} IS NULL OR {value} IN ({allowed}) THEN 0 " \
           f"ELSE CASE {key(value)} {preview} {' '.join(f'WHEN {_lit(k)} THEN 1' for k in ENUMS[column])} " \
           f"ELSE 9 END END"
    return norm, code


def service_category_sql(v: str) -> tuple[str, str]:
    """(FOCUS spelling, 1 when the case was fixed) SQL for ServiceCategory; an unknown category stays as it is."""
    whens = " ".join(f"WHEN {_lit(c.lower())} THEN {_lit(c)}" for c in SERVICE_CATEGORIES)
    norm = f"CASE WHEN {v} IS NULL THEN NULL ELSE coalesce(CASE lower(trim({v})) {whens} END, {v}) END"
    fix = (f"CAST(({v} IS NOT NULL AND {v} NOT IN ({', '.join(_lit(c) for c in SERVICE_CATEGORIES)}) "
           f"AND lower(trim({v})) IN ({', '.join(_lit(c.lower()) for c in SERVICE_CATEGORIES)})) AS INT)")
    return norm, fix


def currency_sql(v: str) -> tuple[str, str]:
    """(BillingCurrency upper-cased, 1 when that changed it) SQL."""
    return f"upper(trim({v}))", f"CAST(({v} IS NOT NULL AND {v} <> upper(trim({v}))) AS INT)"


def _resource_model_sql(v: str) -> str:
    """The model id a ResourceId names (`arn:...:inference-profile/us.anthropic...`), null when it names none."""
    return f"nullif(regexp_extract(trim({v}), {_lit(RESOURCE_MODEL)}, 1), '')"


# A usage row whose money or quantity is below zero: a correction, unless the export says it is one.
NEGATIVE = "__eff < 0 OR __billed < 0 OR ListCost__n < 0 OR ConsumedQuantity__n < 0"
