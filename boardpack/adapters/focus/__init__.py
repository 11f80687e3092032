"""FOCUS 1.0 / 1.1 / 1.2 billing exports (AWS, Azure, GCP, OCI): the AI rows, aggregated, as canonical spend.

Input: every `*.csv`, `*.csv.gz` and `*.parquet` file under the folder (nested folders included). Files are
read by the engine (`Settings.engine`: DuckDB unless `--engine spark`; CSV with every column as text, so dirty
values survive to be judged; Parquet with its own types), filtered to AI rows and aggregated in two steps:
stage 1, on the engine, over the files: only the filter, the charge period (to the day) and the numbers are
parsed per row, with the portable rules (`rules.py`: `ts_kind`, `ts_parse`, `num_kind`...), and text columns are
grouped as they come; stage 2, on DuckDB, over that aggregate: text values are normalised once per distinct
value and fixes counted with the rows they stand for. Only aggregates reach pandas, so memory follows the
number of groups, not the size of the export. When a check fails, the same rules are run row by row by
DuckDB (`diagnose.py`) on the file concerned to name the first offending line.

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
object (`diagnose.py` names them).

The mapping to the `x_` columns and the `usage` table: `canonical.py`.

Modules, one concern each: `spec` (what FOCUS says: columns, allowed values; the fix names), `rules` (the
normalisation rules as SQL, written once), `layout` (a file's header and how it is read), `query` (stages 1 and
2, and the row-by-row reference), `diagnose` (naming the offending file, line and column), `canonical` (the
aggregate as canonical spend and usage rows), `parsing` (model, token type, units and tags read off text).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .. import Settings, SourceData, duckdb_connection, table_files
from .canonical import _finish
from .diagnose import _bad_tags, _diagnose, _negative_usage
from .layout import _check_mandatory, _layout, _note_columns, register
from .parsing import _parse_tags, parse_model, parse_token_type
from .query import _check_patterns, _fast_queries, _on_engine, _s1_types
from .spec import *  # noqa: F401,F403 - the FOCUS names (columns, fix names) stay `focus.X` for their users
from .spec import PATTERNS, SOURCE

__all__ = ["read", "register", "parse_model", "parse_token_type", "SOURCE", "PATTERNS"]


def read(folder: Path, settings: Settings) -> SourceData:
    """Every FOCUS file under `folder`: headers read and checked, stage 1 on the engine, stage 2 on DuckDB, the
    first broken rule raised with its line, then the aggregate as canonical rows."""
    folder = Path(folder)
    out = table_files(folder, SOURCE, PATTERNS, "FOCUS file")
    if not out.files:
        return out
    con = duckdb_connection()
    try:
        _check_patterns(con, settings)
        layouts = [_layout(con, f) for f in out.files]
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
