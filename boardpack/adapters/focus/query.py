"""The SQL of the adapter: stage 1 over the files (on the engine), stage 2 over its aggregate (on DuckDB),
and `_query`, every rule row by row, the reference that `diagnose` runs on one file to name a bad line."""

from __future__ import annotations

import duckdb
import pandas as pd

from ... import ai_catalog
from ...exceptions import ConfigError
from .. import Settings
from .layout import _Layout, _raw_select, register
from .rules import (NEGATIVE, _enum_sql, _lit, _q, _resource_model_sql, iso_hour, iso_offset, iso_text, nlit, nstr,
                    num_kind, num_parse, ts_kind, ts_parse)
from .spec import ENUMS, FIX_TS, NUMBER_COLUMNS, SERVICE_CATEGORIES, STRING_COLUMNS, TIME_COLUMNS, USED


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
