"""Source adapters: each reads one kind of export and emits canonical rows.

A raw data folder has one subfolder per source (`focus/`, `openai/`, `anthropic/`, `litellm/`,
`m365_copilot/`, `github_copilot/`, `outcomes/`, `use_cases/`). Each adapter module exposes

    read(folder: Path, settings: Settings) -> SourceData

and knows nothing of the others. `boardpack.sources` runs the adapters of the subfolders present, then
attributes spend to use cases, picks the source of truth per provider (no double counting), converts
currencies and reconciles billed cost against usage priced at list price.

Contract for every adapter:
- `spend`: FOCUS-shaped rows with every column of `schema.SPEND_COLUMNS` (missing values as null) plus
  `SOURCE_COLUMNS`. Timestamps are tz-naive UTC `datetime64`; ChargePeriodEnd is exclusive. Money stays
  in the row's BillingCurrency (upper-case ISO 4217); conversion happens later. Token rows have
  x_SpendModality `api_tokens`, x_Model, x_TokenType (`TOKEN_TYPES`), ConsumedQuantity in tokens.
  x_UseCaseId / x_BusinessUnit are filled only when the source names them outright (a `use_case` tag);
  otherwise x_AttributionKey carries what the source knows (e.g. `openai.project:proj_abc`) and the
  attribution map decides.
- `usage`: token volumes for reconciliation, `USAGE_COLUMNS`, one row per day x provider x model x token
  type x attribution key (empty frame when the source has none).
- `seats`, `outcomes`, `use_cases`, `seat_users`: canonical tables (`schema`) or None. A seat report's adapter
  gives both `seats` (counts per month) and `seat_users` (its users, one row per user per report kept);
  `seat_apps`: the per-app last activity of those users where the report gives it (m365 only), or None.
- `excluded`: money the source read but does not count (`EXCLUDED_COLUMNS`, built with `excluded_frame`),
  one row per file x day x service x reason: rows dropped as not AI (`not_ai`), a bucket replaced by a
  later fetch of it (`superseded`, `x_ExcludedBy` naming the file that won), the same result saved twice
  (`duplicate`). With `spend` it makes the dollar ledger (`boardpack.ledger`): every dollar read is counted
  or excluded, visibly.
- `fixes`: how many values were normalised, per rule (shown on the data-quality page).
- Anything that cannot be read safely raises `boardpack.exceptions.InputError` naming file, line/row,
  column, the rule and how to fix it.
- Files are listed with `files_in`, which sniffs each one before the adapter parses any (`boardpack.sniff`:
  NUL bytes, another format under the name, HTML error pages, a pipe or a broken link...) and leaves out a
  table whose bytes equal another's; `sources.run_adapters` puts what it left out in the notes, the checks
  and the dollar ledger.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..schema import SPEND_COLUMNS, empty_table

SOURCES = ("focus", "openai", "anthropic", "litellm", "m365_copilot", "github_copilot", "outcomes", "use_cases",
           "viva_insights")

# Extra columns every adapter adds to its spend rows; dropped before the canonical table is published.
SOURCE_COLUMNS = {
    "x_Source": "string",          # adapter name, e.g. "openai"
    "x_SourceFile": "string",      # file name the row came from
    "x_AttributionKey": "string",  # "<source>.<kind>:<value>", e.g. "litellm.team:team-42"; null if none
    "x_ServiceTier": "string",     # standard, batch, flex, priority... where the source says
    "x_Basis": "string",           # "estimated" for money no file bills (seats x list price...); else billed
}

USAGE_COLUMNS = {
    "Day": "datetime",
    "ProviderName": "string",
    "x_Model": "string",
    "x_TokenType": "string",
    "Tokens": "number",
    "Requests": "number",
    "x_AttributionKey": "string",
    "x_ServiceTier": "string",
    "x_Source": "string",
}

# Money read but not counted (see `SourceData.excluded`), for the dollar ledger.
EXCLUDED_COLUMNS = {
    "x_Source": "string",
    "x_SourceFile": "string",
    "ChargePeriodStart": "datetime",
    "BillingCurrency": "string",
    "EffectiveCost": "number",      # in BillingCurrency, as read
    "ProviderName": "string",
    "ServiceName": "string",
    "ServiceCategory": "string",
    "x_Exclusion": "string",        # not_ai, superseded, duplicate
    "x_ExcludedBy": "string",       # what replaced it: a file or a source; null for not_ai
    "Rows": "number",               # input rows (or results) it stands for
}
EXCLUSIONS = ("not_ai", "superseded", "duplicate")

# Token types beyond input/output that raw sources report separately.
TOKEN_TYPES = ("input", "output", "cached_input", "cache_write")


@dataclass(frozen=True)
class Settings:
    """What adapters may need from the configuration."""

    # Which charges of a bill are AI spend, and of which kind: a boardpack.ai_catalog.Catalog; None: the
    # shipped catalog (boardpack/data/ai_spend_catalog.csv)
    ai_catalog: object = None
    # Seat products: list price per seat and month when the source carries no price
    seat_prices: dict = field(default_factory=lambda: {"Microsoft 365 Copilot": 30.0, "GitHub Copilot Business": 19.0,
                                                        "GitHub Copilot Enterprise": 39.0})
    # Where large inputs (gateway logs) are read, validated and aggregated: a boardpack.engine.Engine, or
    # None for a private embedded DuckDB session
    engine: object = None
    expensive_check_rows: int = 5_000_000  # see boardpack.engine.EngineSettings
    # The attribution map of the raw folder (`reference/attribution.csv`: Key, UseCaseId, BusinessUnit), for
    # sources that attribute inside the adapter (seat reports: user or team keys -> business unit); None: empty
    attribution: object = None
    # The HR seat roster of the raw folder (`reference/hr_roster.csv`, read by sources.read_roster): seat id (lower
    # case) -> BusinessUnit, for seat reports without a department; None: no roster
    roster: object = None
    # The configuration's [viva_insights] (loaded_hourly_rate, its low and high, use_case, owner): how Copilot
    # assisted hours of a Viva Insights person query are valued (adapters/viva.py); None: not configured
    assisted_hours: dict | None = None


    def catalog(self):
        """The AI-spend catalog in force."""
        from .. import ai_catalog

        return self.ai_catalog if self.ai_catalog is not None else ai_catalog.shipped()


def business_units(keys, mapping) -> dict:
    """Key -> BusinessUnit of the attribution map (exact keys first, then the first matching glob); keys the
    map does not name, or names without a business unit, are left out."""
    import fnmatch

    if mapping is None or len(mapping) == 0:
        return {}
    found = {}
    exact = {k: bu for k, bu in zip(mapping["Key"], mapping["BusinessUnit"]) if not re.search(r"[*?\[]", k)}
    globs = [(k, bu) for k, bu in zip(mapping["Key"], mapping["BusinessUnit"]) if re.search(r"[*?\[]", k)]
    for key in dict.fromkeys(k for k in keys if isinstance(k, str)):
        bu = exact[key] if key in exact else next((b for g, b in globs if fnmatch.fnmatchcase(key, g)), None)
        if isinstance(bu, str) and bu:
            found[key] = bu
    return found


@dataclass
class SourceData:
    name: str
    files: list[Path] = field(default_factory=list)
    spend: pd.DataFrame | None = None
    usage: pd.DataFrame | None = None
    seats: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    use_cases: pd.DataFrame | None = None
    seat_users: pd.DataFrame | None = None
    seat_apps: pd.DataFrame | None = None  # per-app last activity of seat_users' seats (m365)
    seat_feature_usage: pd.DataFrame | None = None  # GitHub Copilot's metrics by feature (schema.SEAT_FEATURE_USAGE_COLUMNS)
    fixes: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    checks: list = field(default_factory=list)  # contracts.Check of the source's own contract (gateway logs)
    excluded: pd.DataFrame | None = None  # money read but not counted (EXCLUDED_COLUMNS); None: nothing


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return empty_table(columns)


def _typed(rows: list[dict] | dict[str, list], columns: dict[str, str]) -> pd.DataFrame:
    """Rows (dicts with any subset of `columns`, or a dict of column lists, which is faster for large
    aggregates) as a frame with every column, in order, typed."""
    if not len(rows):
        return _empty(columns)
    data = pd.DataFrame(rows)
    out = pd.DataFrame({c: data[c] if c in data else pd.Series([None] * len(data)) for c in columns})
    for column, kind in columns.items():
        if kind == "number":
            out[column] = pd.to_numeric(out[column], errors="raise").astype(float)
        elif kind == "datetime":
            out[column] = pd.to_datetime(out[column], utc=True).dt.tz_localize(None).astype("datetime64[us]")
    return out


def empty_spend() -> pd.DataFrame:
    return _empty({**SPEND_COLUMNS, **SOURCE_COLUMNS})


def empty_usage() -> pd.DataFrame:
    return _empty(USAGE_COLUMNS)


def excluded_frame(rows: list[dict] | dict[str, list]) -> pd.DataFrame:
    """Money read but not counted, as a frame with every `EXCLUDED_COLUMNS` column, in order."""
    return _typed(rows, EXCLUDED_COLUMNS)


def spend_frame(rows: list[dict]) -> pd.DataFrame:
    """Spend rows as a frame with every spend and source column, in order."""
    return _typed(rows, {**SPEND_COLUMNS, **SOURCE_COLUMNS})


def usage_frame(rows: list[dict]) -> pd.DataFrame:
    """Usage rows as a frame with every usage column, in order."""
    return _typed(rows, USAGE_COLUMNS)


def duckdb_connection(database: str | None = None):
    """A DuckDB connection in UTC without a progress bar (which a notebook kernel refuses without ipywidgets)."""
    import duckdb

    con = duckdb.connect(database or ":memory:")
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass
    return con


def note_estimates(data: SourceData, estimated: int, unpriced: dict[str, float], missing: str) -> None:
    """Say which spend rows are usage x list price estimates, and which usage could not be priced at all."""
    from .. import prices

    if estimated:
        data.fixes[f"{data.name}.spend_estimated_from_usage"] += estimated
        data.notes.append(f"{data.name}: {estimated} spend row(s) are ESTIMATES (usage x list price, "
                          f"{prices.catalog_version()}) for days without {missing} data.")
    for model, tokens in sorted(unpriced.items()):
        data.notes.append(f"{data.name}: {tokens:,.0f} tokens of '{model}' have no list price in "
                          f"{prices.catalog_version()}; not estimated (never priced at zero).")


def page_buckets(path: Path, refusal: str, how: str) -> list[dict]:
    """The buckets of a vendor API export: one page per file, a JSON list of pages, or a list of buckets.

    `refusal` and `how` say what the file should have been when it is none of these.
    """
    import json

    from .. import sniff
    from ..exceptions import InputError

    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as e:
        # the decoder's offset is right, but says no line: find it again, with the line
        raise sniff.bad_utf8(path) or InputError(path, f"not UTF-8 text ({e.reason})", "save the file as UTF-8.") \
            from None
    except json.JSONDecodeError as e:
        raise InputError(path, f"not a JSON file ({e})",
                         "save the API response body as it came, one page per file or a JSON list of pages.",
                         line=e.lineno) from None
    buckets = []
    for item in doc if isinstance(doc, list) else [doc]:
        if isinstance(item, dict) and isinstance(item.get("data"), list):
            buckets += item["data"]
        elif isinstance(item, dict) and "results" in item:
            buckets.append(item)
        else:
            raise InputError(path, refusal, how)
    return buckets


def seat_spend_rows(seats: pd.DataFrame, price: float, *, provider: str, source: str, key: str,
                    files: dict) -> list[dict]:
    """Monthly seat-licence charges at an assumed list price (seats x price); `files`: month -> file names.

    Shared by the Microsoft 365 and GitHub adapters: neither seat report carries prices.
    """
    rows = []
    for s in seats.to_dict("records"):
        start = pd.Timestamp(s["Month"])
        end = start + pd.DateOffset(months=1)
        n, product = float(s["LicensedSeats"]), s["Product"]
        slug = re.sub(r"[^a-z0-9]+", "-", product.lower()).strip("-")
        rows.append({
            "BillingPeriodStart": start, "BillingPeriodEnd": end, "ChargePeriodStart": start, "ChargePeriodEnd": end,
            "ProviderName": provider, "PublisherName": provider, "InvoiceIssuerName": provider,
            "ServiceName": product, "ServiceCategory": "AI and Machine Learning", "ChargeCategory": "Purchase",
            "ChargeFrequency": "Recurring", "PricingCategory": "Standard", "SkuId": f"{slug}:seat",
            "ChargeDescription": f"{product} seat licence, monthly: {n:.0f} seats x {price:.2f} USD list price "
                                 "(assumed; no invoice source)",
            "ConsumedQuantity": n, "ConsumedUnit": "Seats", "PricingQuantity": n, "PricingUnit": "Seats",
            "ListUnitPrice": price, "ListCost": n * price, "ContractedCost": n * price, "EffectiveCost": n * price,
            "BilledCost": n * price, "BillingCurrency": "USD", "x_BusinessUnit": s["BusinessUnit"],
            "x_Basis": "estimated",
            "x_SpendModality": "seat_licence", "x_AttributionKey": f"{key}:{product}", "x_Source": source,
            "x_SourceFile": files.get(start),
        })
    return rows


# A date as the seat and analytics reports write it, YYYY-MM-DD, perhaps followed by a time (m365, viva).
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def files_in(folder: Path, *patterns: str, delimiters: str | None = None) -> list[Path]:
    """Files of a source folder matching any pattern, sorted, each sniffed (`boardpack.sniff.check`) before an
    adapter parses it; of tables with the same bytes, one is read (`sniff.distinct`).

    Hidden files and Office lock files (`~$name`) are skipped, and so are folders: Spark writes a Parquet table
    as a folder of part files, which match on their own. A pipe, a link to nothing or a link loop is refused,
    not skipped: it stands where an export should be. `delimiters`: "," when the adapter's reader needs commas;
    None when it finds the delimiter itself.
    """
    from .. import sniff

    found = sorted({p for pattern in patterns for p in folder.rglob(pattern)
                    if not p.name.startswith((".", "~$")) and not p.is_dir()})
    for path in found:
        sniff.check(path, delimiters)
    return sniff.distinct(found)[0]


def table_files(folder: Path, source: str, patterns: tuple, what: str) -> SourceData:
    """The start of a tabular export's read: its files (`files_in`) in a SourceData with empty spend and usage,
    and a note naming the patterns when there is none."""
    files = files_in(folder, *patterns)
    out = SourceData(source, files=files, spend=empty_spend(), usage=empty_usage())
    if not files:
        out.notes.append(f"no {what} ({', '.join(patterns)}) under {folder}")
    return out


def by_value(series: pd.Series, fn) -> pd.Series:
    """fn applied once per distinct value of the series (None for nulls), mapped back to every row: adapters
    work on aggregates whose text columns repeat a few values many times."""
    values = series.astype(object).where(series.notna(), None)
    table = {v: fn(v) for v in dict.fromkeys(values)}
    return pd.Series([table[v] for v in values], index=series.index, dtype=object)


def table_kind(path: Path) -> str:
    """How DuckDB reads an export file: "parquet" or "csv" (plain or gzipped)."""
    return "parquet" if path.name.lower().endswith(".parquet") else "csv"


def table_scan(paths: list[Path], kind: str) -> str:
    """DuckDB's scan of export files of one kind, with their file name: CSV every column as text, so that dirty
    values survive to be judged by the adapter's rules."""
    from ..engine import _lit

    listed = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
    if kind == "parquet":
        return f"read_parquet({listed}, union_by_name=true, filename=true)"
    return f"read_csv({listed}, all_varchar=true, header=true, union_by_name=true, filename=true)"
