"""The SQL of the adapter: stage 1 over the files (on the engine), stage 2 over its aggregate (on DuckDB),
and `_query`, every rule row by row, the reference that `diagnose` runs on one file to name a bad line."""

from __future__ import annotations

import duckdb
import pandas as pd

from ... import ai_catalog
from ...engine import _lit, _q
from ...exceptions import ConfigError
from .. import Settings
from .layout import _Layout, _raw_select, register
from .rules import (
    ISO_STEPS,
    NEGATIVE,
    _enum_sql,
    _resource_model_sql,
    currency_sql,
    nlit,
    nstr,
    num_kind,
    num_parse,
    service_category_sql,
    ts_kind,
    ts_parse,
)
from .spec import ENUMS, FIX_TS, MANDATORY_VALUES, NUMBER_COLUMNS, STRING_COLUMNS, TIME_COLUMNS, USED


def _iso_layers(columns) -> list[list[str]]:
    """Timestamp text (`<column>__s`, of kind `<column>__k`) towards ISO, one of `rules.ISO_STEPS` a layer: each
    step reads the column the last one wrote, so no expression is written out (and evaluated) several times."""
    layers, last = [], "__s"
    for name, step in ISO_STEPS:
        layers.append(["*"] + [f"{step(_q(c + last), _q(c + '__k'))} AS {_q(c + name)}" for c in columns])
        last = name
    return layers


def _time(c: str) -> str:
    """A time column's timestamp: the file's own (`__t`), else its text parsed after `_iso_layers`."""
    return f"coalesce({_q(c + '__t')}, {ts_parse(_q(c + '__iso'), _q(c + '__t0'), _q(c + '__k'))})"


def _typed(times) -> list[str]:
    """Every row with its times (`__ts`, after `_iso_layers`) and numbers (`__n`) typed."""
    return (["*"] + [f"{_time(c)} AS {_q(c + '__ts')}" for c in times]
            + [f"coalesce({_q(c + '__d')}, {num_parse(_q(c + '__s'), _q(c + '__k'))}) AS {_q(c + '__n')}"
               for c in NUMBER_COLUMNS])


def _layers(layers: list[list[str]], source: str, prefix: str) -> tuple[str, str]:
    """Select lists as CTEs `<prefix>0`, `<prefix>1`... over `source`: their text (each ending `,\n`) and the
    last one's name."""
    text, last = "", source
    for n, layer in enumerate(layers):
        text += f"{prefix}{n} AS (SELECT {', '.join(layer)} FROM {last}),\n"
        last = f"{prefix}{n}"
    return text, last


def _named(sql: tuple[str, str], column: str) -> list[str]:
    """A (value, fix flag) rule pair as select items `<column>` and `<column>__fix`."""
    return [f"{sql[0]} AS {_q(column)}", f"{sql[1]} AS {_q(column + '__fix')}"]


def _row_checks(times) -> list[str]:
    """What makes a row bad once its times and numbers are parsed: a value that does not parse, no charge
    period or cost, a period that ends before it starts (`diagnose._raise_for` names which)."""
    return ([f"({_q(c + '__s')} IS NOT NULL AND {_q(c + '__ts')} IS NULL)" for c in times]
            + [f"({_q(c + '__s')} IS NOT NULL AND {_q(c + '__n')} IS NULL)" for c in NUMBER_COLUMNS]
            + ["ChargePeriodStart__ts IS NULL", "ChargePeriodEnd__ts IS NULL",
               "(EffectiveCost__n IS NULL AND BilledCost__n IS NULL)", "ChargePeriodEnd__ts < ChargePeriodStart__ts"])


def _value_checks() -> list[str]:
    """What makes a row bad once its text is normalised: a value outside FOCUS's list, an empty mandatory value,
    a currency that is not three letters."""
    return ([f"{_q(c + '__fix')} = 9" for c in ENUMS] + [f"{_q(c)} IS NULL" for c in MANDATORY_VALUES]
            + ["NOT regexp_full_match(BillingCurrency, '[A-Z]{3}')"])


# A charge of a day or less counts on its day; a cost given only as EffectiveCost or BilledCost stands for both.
_DAY = "date_trunc('day', ChargePeriodStart__ts)"
_SUB_DAY = f"(ChargePeriodEnd__ts <= {_DAY} + INTERVAL 1 DAY)"
_PERIOD_AND_COST = [f"CASE WHEN {_SUB_DAY} THEN {_DAY} ELSE ChargePeriodStart__ts END AS __ps",
                    f"CASE WHEN {_SUB_DAY} THEN {_DAY} + INTERVAL 1 DAY ELSE ChargePeriodEnd__ts END AS __pe",
                    "coalesce(EffectiveCost__n, BilledCost__n) AS __eff",
                    "coalesce(BilledCost__n, EffectiveCost__n) AS __billed"]
_SUMS = ["sum(ConsumedQuantity__n) AS ConsumedQuantity", "sum(PricingQuantity__n) AS PricingQuantity",
         "sum(ListCost__n) AS ListCost", "sum(ContractedCost__n) AS ContractedCost", "sum(__eff) AS EffectiveCost",
         "sum(__billed) AS BilledCost"]


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
        cols.append(f"{kept(nstr(raw))} AS {_q(c)}")
    for c in TIME_COLUMNS + NUMBER_COLUMNS:
        raw = _q(c + "__v")
        cols.append(f"{kept(nstr(raw))} AS {_q(c + '__s')}")
        cols.append(_q(c + ("__t" if c in TIME_COLUMNS else "__d")))
    # null literal / empty string flags over every used column
    null_terms = " + ".join(f"({nlit(_q(c + '__v'))} = 1)::INT" for c in USED)
    empty_terms = " + ".join(f"({nlit(_q(c + '__v'))} = 2)::INT" for c in USED)
    cols.append(f"{kept(null_terms)} AS __fx_null")
    cols.append(f"{kept(empty_terms)} AS __fx_empty")
    layer2 = _layer2(settings)
    layer3 = f"SELECT {k}, CASE WHEN NOT {k} THEN __sc END AS __dropped_category, __file{row}, {', '.join(cols)} " \
             "FROM l2"

    # layer 4: parse times and numbers, normalise enums, compute flags
    l4 = [k, "__dropped_category", "__file", "__fx_null", "__fx_empty"] + (["__row"] if numbered else [])
    for c in TIME_COLUMNS:
        s = _q(c + "__s")
        l4.append(f"{ts_kind(s)} AS {_q(c + '__k')}")
    for c in NUMBER_COLUMNS:
        s = _q(c + "__s")
        l4.append(f"{num_kind(s)} AS {_q(c + '__k')}")
    l4 += [_q(c) for c in STRING_COLUMNS if c not in ENUMS and c not in ("BillingCurrency", "ServiceCategory")]
    l4 += [_q(c + "__s") for c in TIME_COLUMNS + NUMBER_COLUMNS]
    l4 += [_q(c + ("__t" if c in TIME_COLUMNS else "__d")) for c in TIME_COLUMNS + NUMBER_COLUMNS]
    for c in ENUMS:
        norm, code = _enum_sql(c, _q(c))
        l4 += [f"{norm} AS {_q(c)}", f"{code} AS {_q(c + '__fix')}", f"{_q(c)} AS {_q(c + '__raw')}"]
    l4 += _named(service_category_sql("ServiceCategory"), "ServiceCategory")
    l4 += _named(currency_sql("BillingCurrency"), "BillingCurrency")
    l4.append("BillingCurrency AS BillingCurrency__raw")

    # timestamp text towards ISO, then layer 5: typed values
    iso, last = _layers(_iso_layers(TIME_COLUMNS), "l4", "i")
    l5 = _typed(TIME_COLUMNS)

    # layer 6: derived values and the row's error flag
    bad = f"CASE WHEN {k} THEN ({' OR '.join(_row_checks(TIME_COLUMNS) + _value_checks())}) IS NOT FALSE ELSE FALSE END"
    l6 = ["*", f"{bad} AS __bad", *_PERIOD_AND_COST,
          "(EffectiveCost__n IS NULL AND BilledCost__n IS NOT NULL)::INT AS __fx_eff",
          "(BilledCost__n IS NULL AND EffectiveCost__n IS NOT NULL)::INT AS __fx_billed"]

    keys = ["BillingPeriodStart__ts", "BillingPeriodEnd__ts", "__ps", "__pe", "BillingAccountId", "SubAccountId",
            "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory", "ChargeCategory",
            "ChargeFrequency", "ChargeDescription", "PricingCategory", "SkuId", "SkuMeter", "ConsumedUnit",
            "PricingUnit", "BillingCurrency", "Tags"]
    group_keys = [k, "__dropped_category", "__file"] + keys
    aggs = ["count(*) AS __rows", "sum(__bad::INT) AS __bad", *_SUMS,
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
{iso}l5 AS (SELECT {', '.join(l5)} FROM {last}),
l6 AS (SELECT {', '.join(l6)} FROM l5)
SELECT {', '.join(select_keys)}, {', '.join(aggs)}
FROM l6 GROUP BY {', '.join(group_keys)}
"""
    return sql, [k] + keys


# The columns the AI-spend catalog reads, null-normalised once per row in layer 2 under these names.
MATCH_ALIASES = {"ServiceCategory": "__sc", "ServiceName": "__sn", "SkuId": "__sku", "SkuMeter": "__meter",
                 "ChargeDescription": "__desc", "ProviderName": "__prov", "PublisherName": "__pub"}


def _layer2(settings: Settings) -> str:
    """Layer 2: every row with the catalog rule it matches (`__rule`, 0 for none) and whether it is kept."""
    catalog = settings.catalog()
    inner = ", ".join(f"{nstr(c + '__v')} AS {alias}" for c, alias in MATCH_ALIASES.items())
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
    the engine (DuckDB or Spark). Stage 2 (over stage 1, a few thousand rows, on DuckDB): text values are
    normalised once per distinct value, fixes are counted with the rows they stand for, and groups that become
    equal (`usage` and `Usage`) are merged. `_query` is the same logic row by row, used on DuckDB to locate
    errors. All three judge a value with the same rules (`rules.py`).
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
    iso, last = _layers(_iso_layers(PER_ROW_TIMES), "l4", "i")
    typed = _typed(PER_ROW_TIMES)
    derived = ["*", f"CASE WHEN {k} THEN coalesce({' OR '.join(_row_checks(PER_ROW_TIMES))}, TRUE) ELSE FALSE END "
               "AS __bad", *_PERIOD_AND_COST]
    keys1 = [k, "__rule", "__dropped_category", "__dropped_service", "__dropped_provider", "__dropped_currency",
             "__file", "__ps", "__pe"] + [_q(c + "__v") for c in STRING_COLUMNS] + \
        [_q(c + s) for c in GROUPED_TIMES for s in ("__v", "__t")]
    aggs1 = ["count(*) AS __rows", "sum(CAST(__bad AS INT)) AS __bad", *_SUMS,
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
l2 AS ({_layer2(settings)}),
l3 AS (SELECT {', '.join(row_cols)} FROM l2),
l4 AS (SELECT {', '.join(parsed)} FROM l3),
{iso}l5 AS (SELECT {', '.join(typed)} FROM {last}),
l6 AS (SELECT {', '.join(derived)} FROM l5)
SELECT {', '.join(keys1)}, {', '.join(aggs1)} FROM l6 GROUP BY {', '.join(keys1)}"""

    # stage 2: over the stage-1 table `s1`, weights are __rows
    w = "__rows"
    norm = ["*"]
    for c in STRING_COLUMNS:
        norm.append(f"{nstr(_q(c + '__v'))} AS {_q(c + '__n0')}")
    nulls = " + ".join(f"({nlit(_q(c + '__v'))} = 1)::INT" for c in STRING_COLUMNS + GROUPED_TIMES)
    empties = " + ".join(f"({nlit(_q(c + '__v'))} = 2)::INT" for c in STRING_COLUMNS + GROUPED_TIMES)
    norm += [f"({nulls}) * {w} AS __fx_null2", f"({empties}) * {w} AS __fx_empty2"]
    norm += [f"{nstr(_q(c + '__v'))} AS {_q(c + '__s')}" for c in GROUPED_TIMES]
    kinds = ["*"] + [f"{ts_kind(_q(c + '__s'))} AS {_q(c + '__k')}" for c in GROUPED_TIMES]
    iso2, last2 = _layers(_iso_layers(GROUPED_TIMES), "ak", "ai")
    n2 = ["*"] + [f"{_time(c)} AS {_q(c)}" for c in GROUPED_TIMES]
    for c in STRING_COLUMNS:
        src_col = _q(c + "__n0")
        if c in ENUMS:
            norm_sql, code = _enum_sql(c, src_col)
            n2 += [f"{norm_sql} AS {_q(c)}", f"{code} AS {_q(c + '__fix')}", f"{src_col} AS {_q(c + '__raw')}"]
        elif c == "ServiceCategory":
            n2 += _named(service_category_sql(src_col), c)
        elif c == "BillingCurrency":
            n2 += _named(currency_sql(src_col), c)
        else:
            n2.append(f"{src_col} AS {_q(c)}")
    bad2 = " OR ".join([f"({_q(c + '__s')} IS NOT NULL AND {_q(c)} IS NULL)" for c in GROUPED_TIMES]
                       + _value_checks())
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
ak AS (SELECT {', '.join(kinds)} FROM a),
{iso2}b AS (SELECT {', '.join(n2)} FROM {last2})
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


def _on_engine(settings: Settings, groups: list[list[_Layout]], stage1: str) -> pd.DataFrame:
    """Stage 1 over every row, on the configured engine (a private DuckDB session unless Settings.engine)."""
    from ...engine import DuckDBEngine

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
