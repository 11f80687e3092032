"""LiteLLM proxy exports: `LiteLLM_SpendLogs` (one row per request) or its daily rollups, as canonical spend.

Input: every `*.csv`, `*.csv.gz` and `*.parquet` file under the folder, recognised by its columns:
- spend logs (`request_id`, `startTime`, `spend`, ...): the preferred input;
- daily rollups (`date`, `spend`, and `team_id` for `LiteLLM_DailyTeamSpend`, `tag` for `LiteLLM_DailyTagSpend`,
  `organization_id` / `user_id` / `end_user_id` / `agent_id` for the others). They describe the same requests as
  the spend logs, so they are read only when no spend log is present, and then only one kind (team first; the
  tag rollup last, because a request with two tags is counted under both). The others are named in `notes`.
Files are read and aggregated by DuckDB (CSV with every column as text); only the aggregate reaches pandas.

Grain: one group per day (UTC, from `startTime`) x provider (`custom_llm_provider`) x model (`model`, else
`model_group`) x team (`team_id`, else metadata `user_api_key_team_id`, else the team alias) x project (metadata
`project_id`) x request tags x file. Each group gives:
- spend rows, one per token type with tokens (input, output, cached_input, cache_write): ConsumedQuantity in
  tokens, EffectiveCost = BilledCost = the group's `spend` (USD) split between the token types in proportion to
  tokens x list price of that type (boardpack.prices, effective-dated at the day; a type the catalog has no price
  for weighs as input) or, for a model the catalog does not know, tokens x weight 1 (input and cache) : 4 (output).
  A group with spend but no tokens (images, audio) gives one row with x_TokenType null;
- usage rows (`USAGE_COLUMNS`): tokens per type and the number of requests.
Tokens: `prompt_tokens` -> input, `completion_tokens` -> output. Cache reads (metadata `usage_object`
`cache_read_input_tokens`, else `prompt_tokens_details.cached_tokens`) -> cached_input and cache writes
(`cache_creation_input_tokens`) -> cache_write; LiteLLM counts both inside `prompt_tokens`, so they are subtracted
from input to keep the types disjoint (fix "cache tokens split from prompt_tokens"; when the cache tokens exceed
prompt_tokens, input is 0: fix "cache tokens above prompt_tokens → input 0").

Mapping: ProviderName / ServiceName from `custom_llm_provider` (openai → OpenAI / OpenAI API, azure → Microsoft /
Azure OpenAI, bedrock → AWS / Amazon Bedrock, vertex_ai → Google Cloud / Vertex AI, ...: the names the cloud FOCUS
exports use, so that the source of truth per provider can pick one of them); unknown values are kept as given.
x_SpendModality `api_tokens` (`self_hosted` for ollama / vLLM style providers). x_Model is the model without a
`provider/` prefix. Attribution: a request tag `use_case:UC-07` / `use_case=UC-07` (also `usecase`, `use-case`,
`uc`) sets x_UseCaseId, `business_unit:` / `bu:` / `cost_center:` sets x_BusinessUnit; x_AttributionKey is
`litellm.project:<metadata project_id>`, else `litellm.team:<team_id or metadata user_api_key_team_id>`, else
`litellm.team:<team alias>`, else `litellm.tag:<first other tag>`, else null. SubAccountId is the team; Tags is
a JSON object of team_id, team_alias, project_id and `tag:<tag>: true` per request tag.

Excluded and counted: failed requests (`status` or metadata `status` = failure) with zero spend
("failed requests with zero spend excluded"); a failed request that cost money is kept. An empty
`custom_llm_provider` is taken from a `provider/` model prefix ("custom_llm_provider empty → from model prefix"). A metadata value that is not JSON is ignored ("metadata not JSON →
ignored"). Not safe, raised as InputError with file, line/row, column and fix: a file that is neither a spend log
nor a rollup, a spend or token count that is not a number, a startTime/date that is empty or does not parse.
Rows per file and rollup kind are in `notes`, with the models whose spend was split 1:4.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .. import prices
from ..engine import _q, query_text
from ..exceptions import InputError
from . import (
    Settings,
    SourceData,
    by_value,
    duckdb_connection,
    spend_frame,
    table_files,
    table_kind,
    table_scan,
    usage_frame,
)
from .refetch import relative

SOURCE = "litellm"
PATTERNS = ("*.csv", "*.csv.gz", "*.parquet")

# custom_llm_provider -> (ProviderName, ServiceName)
PROVIDERS = {
    "openai": ("OpenAI", "OpenAI API"), "text-completion-openai": ("OpenAI", "OpenAI API"),
    "chatgpt": ("OpenAI", "OpenAI API"),
    "azure": ("Microsoft", "Azure OpenAI"), "azure_text": ("Microsoft", "Azure OpenAI"),
    "azure_ai": ("Microsoft", "Azure AI Foundry"),
    "anthropic": ("Anthropic", "Claude API"), "anthropic_text": ("Anthropic", "Claude API"),
    "bedrock": ("AWS", "Amazon Bedrock"), "bedrock_converse": ("AWS", "Amazon Bedrock"),
    "sagemaker": ("AWS", "Amazon SageMaker"), "sagemaker_chat": ("AWS", "Amazon SageMaker"),
    "vertex_ai": ("Google Cloud", "Vertex AI"), "vertex_ai_beta": ("Google Cloud", "Vertex AI"),
    "gemini": ("Google Cloud", "Gemini API"),
    "mistral": ("Mistral AI", "Mistral API"), "codestral": ("Mistral AI", "Mistral API"),
    "cohere": ("Cohere", "Cohere API"), "cohere_chat": ("Cohere", "Cohere API"),
    "groq": ("Groq", "GroqCloud"), "together_ai": ("Together AI", "Together API"),
    "fireworks_ai": ("Fireworks AI", "Fireworks API"), "deepseek": ("DeepSeek", "DeepSeek API"),
    "xai": ("xAI", "xAI API"), "perplexity": ("Perplexity", "Perplexity API"),
    "openrouter": ("OpenRouter", "OpenRouter"), "databricks": ("Databricks", "Databricks Model Serving"),
    "watsonx": ("IBM", "watsonx.ai"), "cerebras": ("Cerebras", "Cerebras Inference"),
    "deepinfra": ("DeepInfra", "DeepInfra"), "huggingface": ("Hugging Face", "Inference Providers"),
    "cloudflare": ("Cloudflare", "Workers AI"), "voyage": ("Voyage AI", "Voyage API"),
}
SELF_HOSTED = {"ollama", "ollama_chat", "hosted_vllm", "vllm", "lm_studio", "llamafile", "triton", "xinference",
               "openai_like", "custom_openai"}
FALLBACK_WEIGHTS = {"input": 1.0, "output": 4.0, "cached_input": 1.0, "cache_write": 1.0}
TOKEN_ORDER = ("input", "output", "cached_input", "cache_write")

USE_CASE_TAG = re.compile(r"(?i)^\s*(?:use[_-]?case|uc)\s*[:=]\s*(.+?)\s*$")
BU_TAG = re.compile(r"(?i)^\s*(?:business[_-]?unit|bu|cost[_-]?cent(?:er|re))\s*[:=]\s*(.+?)\s*$")

# Rollup kinds in order of preference: entity column -> attribution kind.
ROLLUPS = {"team_id": "team", "organization_id": "org", "user_id": "user", "end_user_id": "end_user",
           "agent_id": "agent", "tag": "tag"}

FIX_FAILED = "failed requests with zero spend excluded"
FIX_CACHE = "cache tokens split from prompt_tokens"
FIX_CACHE_CLAMP = "cache tokens above prompt_tokens → input 0"
FIX_METADATA = "metadata not JSON → ignored"
FIX_PROVIDER = "custom_llm_provider empty → from model prefix"


def _describe(con, path: Path) -> dict:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {table_scan([path], table_kind(path))}").fetchall()
    except duckdb.Error as exc:
        raise InputError(path, f"cannot be read: {str(exc).splitlines()[0]}",
                         "export LiteLLM_SpendLogs again as CSV (header row) or Parquet.") from None
    return {name.strip().lstrip("\ufeff").lower(): (name, typ.upper()) for name, typ, *_ in rows if name != "filename"}


# --- SQL ---------------------------------------------------------------------------------------------------

def _text(cols: dict, name: str) -> str:
    """A column as text (NULL when absent or blank); lists, maps and structs as JSON text."""
    if name not in cols:
        return "NULL::VARCHAR"
    raw, typ = cols[name]
    expr = f"to_json({_q(raw)})::VARCHAR" if typ.startswith(("MAP", "STRUCT", "JSON")) or typ.endswith("[]") \
        else f"{_q(raw)}::VARCHAR"
    return f"nullif(trim({expr}), '')"


def _number(cols: dict, name: str) -> tuple[str, str]:
    """(parsed DOUBLE, raw text) of a numeric column."""
    if name not in cols:
        return "NULL::DOUBLE", "NULL::VARCHAR"
    raw, typ = cols[name]
    if typ.split("(")[0] in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT",
                             "HUGEINT", "UBIGINT", "UINTEGER"):
        return f"{_q(raw)}::DOUBLE", "NULL::VARCHAR"
    text = f"nullif(trim({_q(raw)}::VARCHAR), '')"
    return f"TRY_CAST({text} AS DOUBLE)", text


def _time(cols: dict, name: str) -> tuple[str, str]:
    raw, typ = cols[name]
    if typ.startswith("TIMESTAMP WITH TIME ZONE") or typ == "TIMESTAMPTZ":
        return f"timezone('UTC', {_q(raw)})", "NULL::VARCHAR"
    if typ.startswith("TIMESTAMP") or typ == "DATE":
        return f"{_q(raw)}::TIMESTAMP", "NULL::VARCHAR"
    text = f"nullif(trim({_q(raw)}::VARCHAR), '')"
    return f"timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ))", text


# Columns of LiteLLM_SpendLogs the shipped queries read (sql/gateway_requests.sql), by lower-case name.
GATEWAY_COLUMNS = ("request_id", "starttime", "spend", "prompt_tokens", "completion_tokens", "model", "model_group",
                   "custom_llm_provider", "team_id", "status", "request_tags", "metadata")
# The metadata JSON fields the queries read, parsed once per row where the logs are registered
METADATA_FIELDS = {
    "meta_team_id": "$.user_api_key_team_id", "meta_team_alias": "$.user_api_key_team_alias",
    "meta_project_id": "$.project_id", "meta_status": "$.status",
    "meta_cache_read": "$.usage_object.cache_read_input_tokens",
    "meta_cached_tokens": "$.usage_object.prompt_tokens_details.cached_tokens",
    "meta_cache_creation": "$.usage_object.cache_creation_input_tokens",
    "meta_cache_creation_tokens": "$.usage_object.prompt_tokens_details.cache_creation_tokens",
}
# Columns read in the file's own type where it has one (Parquet), else as text the shipped SQL types
GATEWAY_KINDS = {"starttime": "datetime", "spend": "number", "prompt_tokens": "number", "completion_tokens": "number"}


def register_logs(engine, groups: list[tuple[list[Path], dict]]) -> None:
    """Register the spend-log files as the views the shipped queries read: gateway_raw, gateway_requests."""
    for i, (paths, cols) in enumerate(groups):
        mapping = {c: cols[c][0] if c in cols else None for c in GATEWAY_COLUMNS}
        # metadata that is not JSON is read as absent and counted (fix "metadata not JSON → ignored")
        engine.register_files(f"gateway_files_{i}", paths, table_kind(paths[0]), mapping, GATEWAY_KINDS,
                              json_fields={"metadata": METADATA_FIELDS})
    engine.union_view("gateway_raw", [f"gateway_files_{i}" for i in range(len(groups))])
    engine.create_view("gateway_requests", query_text("gateway_requests"))


def _rollup_query(groups: list[tuple[list[Path], dict]], entity: str) -> str:
    selects = []
    for paths, cols in groups:
        day, day_raw = _time(cols, "date")
        spend, spend_raw = _number(cols, "spend")
        nums = {n: _number(cols, n) for n in ("prompt_tokens", "completion_tokens", "cache_read_input_tokens",
                                              "cache_creation_input_tokens", "api_requests")}
        bad = " OR ".join([f"({day_raw} IS NOT NULL AND {day} IS NULL)", f"{day} IS NULL",
                           f"({spend_raw} IS NOT NULL AND {spend} IS NULL)"]
                          + [f"({r} IS NOT NULL AND {v} IS NULL)" for v, r in nums.values()])
        selects.append(f"""
SELECT filename AS __file, date_trunc('day', {day}) AS day, {_text(cols, "custom_llm_provider")} AS provider,
  coalesce({_text(cols, "model")}, {_text(cols, "model_group")}) AS model, {_text(cols, entity)} AS entity,
  coalesce({spend}, 0) AS spend, coalesce({nums["prompt_tokens"][0]}, 0) AS pt,
  coalesce({nums["completion_tokens"][0]}, 0) AS ct, coalesce({nums["cache_read_input_tokens"][0]}, 0) AS cr,
  coalesce({nums["cache_creation_input_tokens"][0]}, 0) AS cw, coalesce({nums["api_requests"][0]}, 0) AS req,
  ({bad}) IS NOT FALSE AS __bad
FROM {table_scan(paths, table_kind(paths[0]))}""")
    union = "\nUNION ALL BY NAME\n".join(selects)
    return f"""
WITH r AS ({union})
SELECT CASE WHEN __bad THEN NULL ELSE day END AS day, CASE WHEN __bad THEN NULL ELSE provider END AS provider,
  CASE WHEN __bad THEN NULL ELSE model END AS model, CASE WHEN __bad THEN NULL ELSE entity END AS entity,
  __file, FALSE AS __failed, __bad, sum(req) AS requests, sum(spend) AS spend,
  sum(greatest(pt - cr - cw, 0)) AS input, sum(ct) AS output, sum(cr) AS cached_input, sum(cw) AS cache_write,
  sum((cr + cw > 0)::INT) AS fx_cache, sum((pt - cr - cw < 0)::INT) AS fx_clamp, 0 AS fx_meta
FROM r GROUP BY ALL
"""


# --- read ----------------------------------------------------------------------------------------------------

def read(folder: Path, settings: Settings) -> SourceData:
    folder = Path(folder)
    out = table_files(folder, SOURCE, PATTERNS, "LiteLLM export")
    files = out.files
    if not files:
        return out
    con = duckdb_connection()  # headers and daily rollups are small: always DuckDB
    try:
        logs, rollups = [], {}
        for path in files:
            cols = _describe(con, path)
            if {"request_id", "starttime", "spend"} <= cols.keys():
                logs.append((path, cols))
            elif {"date", "spend"} <= cols.keys() and any(e in cols for e in ROLLUPS):
                entity = next(e for e in ROLLUPS if e in cols)
                rollups.setdefault(entity, []).append((path, cols))
            else:
                raise InputError(path, "not a LiteLLM export: it has neither the LiteLLM_SpendLogs columns "
                                 "(request_id, startTime, spend) nor a daily rollup's (date, spend, team_id/tag/...)",
                                 "export the LiteLLM_SpendLogs table (or LiteLLM_DailyTeamSpend) with its header row; "
                                 "move other files out of litellm/.")
        if logs:
            for entity, found in rollups.items():
                out.notes.append(f"{len(found)} daily rollup file(s) by {entity} ignored: the spend logs hold the "
                                 "same requests")
            agg = _read_logs(out, _by_layout(logs), settings)
            entity = None
        else:
            entity = next(e for e in ROLLUPS if e in rollups)
            for other, found in rollups.items():
                if other != entity:
                    out.notes.append(f"{len(found)} daily rollup file(s) by {other} ignored: the rollup by {entity} "
                                     "holds the same spend")
            if entity == "tag":
                out.notes.append("spend read from the daily tag rollup: a request with several tags counts once per "
                                 "tag there; export LiteLLM_SpendLogs or LiteLLM_DailyTeamSpend to avoid that")
            groups = _by_layout(rollups[entity])
            agg = con.execute(_rollup_query(groups, entity)).df()
            if agg["__bad"].any():
                _diagnose_rollup(con, agg, groups, entity)
    finally:
        con.close()
    return _finish(out, agg, folder, entity)


def _by_layout(found: list[tuple[Path, dict]]) -> list[tuple[list[Path], dict]]:
    groups: dict = {}
    for path, cols in found:
        key = (table_kind(path), tuple(sorted(cols.items())))
        groups.setdefault(key, ([], cols))[0].append(path)
    return list(groups.values())


# --- errors --------------------------------------------------------------------------------------------------

def _first_bad(con, agg: pd.DataFrame, groups) -> tuple[list[Path], dict, Path]:
    bad_file = agg.loc[agg["__bad"].astype(bool), "__file"].iloc[0]
    for paths, cols in groups:
        for p in paths:
            if str(p) == bad_file:
                return [p], cols, p
    return groups[0][0][:1], groups[0][1], groups[0][0][0]  # pragma: no cover


def _where(path: Path, n: int) -> tuple[int | None, str]:
    return (n + 1, "") if table_kind(path) == "csv" else (None, f" (row {n})")


def _read_logs(out: SourceData, groups, settings: Settings) -> pd.DataFrame:
    """Validate the spend logs against data_contracts/gateway_logs.json and aggregate them per day, on the
    configured engine (DuckDB unless Settings.engine says otherwise)."""
    from .. import contracts
    from ..engine import DuckDBEngine

    engine = settings.engine or DuckDBEngine()
    try:
        register_logs(engine, groups)
        source = ", ".join(str(p) for paths, _ in groups for p in paths)
        checks, skipped, _ = contracts.validate_view(engine, "gateway_logs", "gateway_requests", "gateway_logs", source,
                                                  expensive_check_rows=settings.expensive_check_rows)
        out.checks += checks
        out.notes += skipped
        agg = engine.run("gateway_daily")
    finally:
        if settings.engine is None:
            engine.close()
    if agg["__bad"].astype(bool).any():
        _diagnose_logs(agg, groups)
    return agg


def _diagnose_logs(agg, groups) -> None:
    """Name the first row of the first file with a value that does not parse: file, line or row, column."""
    from ..engine import DuckDBEngine

    bad_file = agg.loc[agg["__bad"].astype(bool), "__file"].iloc[0]
    paths, cols = next(([p], c) for ps, c in groups for p in ps if str(p) == bad_file or
                       bad_file.endswith(str(p)))
    path = paths[0]
    with DuckDBEngine() as duck:
        duck.con.execute("SET threads = 1")  # row_number() OVER () in file order
        duck.register_files("gateway_files", paths, table_kind(path),
                            {c: cols[c][0] if c in cols else None for c in GATEWAY_COLUMNS}, GATEWAY_KINDS,
                            json_fields={"metadata": METADATA_FIELDS})
        # The same typed query as the aggregation, with __file standing for the row number here.
        duck.create_view("gateway_raw", "SELECT CAST(row_number() OVER () AS VARCHAR) AS __file, * EXCLUDE (__file) "
                                        "FROM gateway_files")
        r = duck.frame(f"SELECT * FROM ({query_text('gateway_requests')}) WHERE started_at IS NULL "
                       "OR (spend_raw IS NOT NULL AND spend IS NULL) "
                       "OR (prompt_tokens_raw IS NOT NULL AND prompt_tokens IS NULL) "
                       "OR (completion_tokens_raw IS NOT NULL AND completion_tokens IS NULL) "
                       "ORDER BY CAST(__file AS BIGINT) LIMIT 1").iloc[0].to_dict()
    line, where = _where(path, int(r["__file"]))

    def fail(column, problem, hint):
        raise InputError(path, problem + where, hint, line=line, column=cols.get(column, (column,))[0])

    if pd.isna(r["started_at"]):
        fail("starttime", f"startTime value {r['started_at_raw']!r} is not a date/time (rule: dates)",
             "write startTime as ISO 8601, e.g. 2025-05-01T12:00:00Z (UTC when no zone is given).")
    for name in ("spend", "prompt_tokens", "completion_tokens"):
        if r[name + "_raw"] is not None and pd.isna(r[name]):
            fail(name, f"{name} value {r[name + '_raw']!r} is not a number (rule: numbers)",
                 f"write {name} as a plain number (spend in USD, e.g. 0.00123; tokens as integers).")
    raise InputError(path, "a row failed the LiteLLM checks" + where, "check the export.", line=line)


def _diagnose_rollup(con, agg, groups, entity) -> None:
    paths, cols, path = _first_bad(con, agg, groups)
    con.execute("SET threads = 1")
    day, day_raw = _time(cols, "date")
    checks = [("date", day_raw, day)] + [(n, *reversed(_number(cols, n))) for n in (
        "spend", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
        "api_requests") if n in cols]
    select = ", ".join(f"{raw} AS {_q(n + '__raw')}, {val} AS {_q(n)}" for n, raw, val in checks)
    rows = con.execute(f"SELECT row_number() OVER () AS __row, {select} FROM {table_scan(paths, table_kind(path))}").df()
    for r in rows.to_dict("records"):
        for n, _, _ in checks:
            if pd.isna(r[n]):
                line, where = _where(path, int(r["__row"]))
                raise InputError(path, f"{n} value {r[n + '__raw']!r} is not "
                                 f"{'a date' if n == 'date' else 'a number'}{where} (rule: "
                                 f"{'dates' if n == 'date' else 'numbers'})",
                                 "write date as YYYY-MM-DD and amounts/tokens as plain numbers.", line=line,
                                 column=cols.get(n, (n,))[0])
    raise InputError(path, "a row failed the LiteLLM checks", "check the export.")  # pragma: no cover


# --- aggregate -> canonical rows -------------------------------------------------------------------------------

def _finish(out: SourceData, agg: pd.DataFrame, folder: Path, entity: str | None) -> SourceData:
    failed = agg[agg["__failed"].astype(bool)]
    if len(failed):
        out.fixes[FIX_FAILED] += int(failed["requests"].sum())
    g = agg[~agg["__failed"].astype(bool)].reset_index(drop=True)
    for column in ("provider", "model", "team", "team_alias", "team_alias_any", "project", "tags", "entity", "__file"):
        if column in g:  # plain objects, None for nulls: an all-null column must still join as text
            g[column] = g[column].astype(object).where(g[column].notna(), None)
    for rule, column in ((FIX_CACHE, "fx_cache"), (FIX_CACHE_CLAMP, "fx_clamp"), (FIX_METADATA, "fx_meta")):
        n = int(g[column].sum()) if len(g) else 0
        if n:
            out.fixes[rule] += n
    out.notes.append(f"{int(g['requests'].sum()) if len(g) else 0} requests, "
                     f"{len(out.files)} file(s), {'spend logs' if entity is None else 'daily rollup by ' + entity}")
    if g.empty:
        return out
    # Everything below works once per distinct value (or combination) and maps back: groups can be many.
    prefix = by_value(g["model"], lambda m: m.split("/", 1)[0] if isinstance(m, str) and "/" in m else None)
    inferred = g["provider"].isna() & prefix.notna()
    if inferred.any():
        out.fixes[FIX_PROVIDER] += int(g.loc[inferred, "requests"].sum())
    code = g["provider"].where(g["provider"].notna(), prefix)
    g["code"] = code
    g["ProviderName"] = by_value(code, lambda c: PROVIDERS.get((c or "").lower(), (c or "unknown", None))[0])
    g["ServiceName"] = by_value(code, lambda c: PROVIDERS.get((c or "").lower(),
                                                              (None, f"{c or 'unknown'} via LiteLLM"))[1])
    g["x_Model"] = by_value(g["model"].fillna("") + "\x1f" + code.fillna(""),
                            lambda v: _model(v.split("\x1f")[0] or None, v.split("\x1f")[1] or None))
    g["x_SourceFile"] = by_value(g["__file"], lambda f: relative(Path(f), folder))
    if entity is None:
        combo = (g["tags"].fillna("") + "\x1f" + g["team"].fillna("") + "\x1f"
                 + g["team_alias"].fillna(g["team_alias_any"]).fillna("") + "\x1f" + g["project"].fillna(""))
        attributed = by_value(combo, lambda v: _attribution_logs(*[x or None for x in v.split("\x1f")]))
        g["SubAccountId"] = g["team"]
    else:
        attributed = by_value(g["entity"], lambda v: _attribution_rollup(v, entity))
        g["SubAccountId"] = g["entity"] if entity == "team_id" else None
    for i, column in enumerate(("x_UseCaseId", "x_BusinessUnit", "x_AttributionKey", "Tags")):
        g[column] = attributed.map(lambda a, i=i: a[i])
    g["day"] = pd.to_datetime(g["day"])

    # cost split: weight per token type from list prices in force on the day, else 1:4
    weights, priced = _weights(g)
    tokens = g[list(TOKEN_ORDER)].astype(float).to_numpy()
    weighted = tokens * weights
    total = weighted.sum(axis=1)
    spend = g["spend"].astype(float).to_numpy()
    unpriced = g.loc[~priced & (tokens.sum(axis=1) > 0), ["ProviderName", "x_Model"]].drop_duplicates()
    if len(unpriced):
        out.notes.append("spend split 1:4 (input:output) for models the price catalog lacks: " + ", ".join(
            sorted(f"{p}/{m}" for p, m in unpriced.itertuples(index=False))))

    month = g["day"].dt.to_period("M").dt.to_timestamp()
    base = pd.DataFrame({
        "BillingPeriodStart": month, "BillingPeriodEnd": month + pd.offsets.MonthBegin(1),
        "ChargePeriodStart": g["day"], "ChargePeriodEnd": g["day"] + pd.Timedelta(days=1),
        "SubAccountId": g["SubAccountId"], "ProviderName": g["ProviderName"], "PublisherName": g["ProviderName"],
        "InvoiceIssuerName": g["ProviderName"], "ServiceName": g["ServiceName"],
        "ServiceCategory": "AI and Machine Learning", "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
        "PricingCategory": "Standard", "SkuId": g["model"], "BillingCurrency": "USD", "Tags": g["Tags"],
        "x_UseCaseId": g["x_UseCaseId"], "x_BusinessUnit": g["x_BusinessUnit"], "x_Model": g["x_Model"],
        "x_SpendModality": by_value(code, lambda c: "self_hosted" if (c or "").lower() in SELF_HOSTED
                                    else "api_tokens"),
        "x_Source": SOURCE, "x_SourceFile": g["x_SourceFile"], "x_AttributionKey": g["x_AttributionKey"],
        "x_ServiceTier": None, "__requests": g["requests"].astype(float),
    })
    parts = []
    for j, t in enumerate(TOKEN_ORDER):
        has = tokens[:, j] > 0
        share = np.divide(weighted[:, j], total, out=np.zeros_like(total), where=total > 0)
        part = base[has].assign(x_TokenType=t, ConsumedQuantity=tokens[has, j], ConsumedUnit="Tokens",
                                PricingQuantity=tokens[has, j], PricingUnit="Tokens",
                                EffectiveCost=(spend * share)[has], BilledCost=(spend * share)[has],
                                ChargeDescription=np.where(priced[has], f"LiteLLM spend, {t.replace('_', ' ')} tokens "
                                                           "(list-price split)",
                                                           f"LiteLLM spend, {t.replace('_', ' ')} tokens (1:4 split)"))
        parts.append(part)
    none = (total <= 0) & ((spend != 0) | (tokens.sum(axis=1) == 0))
    if none.any():
        parts.append(base[none].assign(x_TokenType=None, ConsumedQuantity=0.0, ConsumedUnit="Tokens",
                                       EffectiveCost=spend[none], BilledCost=spend[none],
                                       ChargeDescription="LiteLLM spend without token counts"))
    rows = pd.concat(parts, ignore_index=True).sort_values(
        ["ChargePeriodStart", "ProviderName", "x_Model", "x_AttributionKey", "x_TokenType"], na_position="first",
        kind="stable", ignore_index=True)
    # spend_frame / usage_frame take the columns as a mapping here (row dicts would be slow for large aggregates)
    out.spend = spend_frame({c: rows[c] for c in rows.columns if not c.startswith("__")})
    tokens_rows = rows[rows["x_TokenType"].notna()]
    if len(tokens_rows):
        usage = tokens_rows.assign(key=tokens_rows["x_AttributionKey"].fillna("")).groupby(
            ["ChargePeriodStart", "ProviderName", "x_Model", "x_TokenType", "key"], as_index=False, dropna=False)[
            ["ConsumedQuantity", "__requests"]].sum()
        out.usage = usage_frame({"Day": usage["ChargePeriodStart"], "ProviderName": usage["ProviderName"],
                                 "x_Model": usage["x_Model"], "x_TokenType": usage["x_TokenType"],
                                 "Tokens": usage["ConsumedQuantity"], "Requests": usage["__requests"],
                                 "x_AttributionKey": usage["key"].replace("", None), "x_ServiceTier": None,
                                 "x_Source": SOURCE})
    return out


def _weights(g: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the weight of each token type (TOKEN_ORDER columns) and whether list prices were found."""
    key = g["ProviderName"].astype(str) + "\x1f" + g["x_Model"].fillna("").astype(str) + "\x1f" + \
        g["day"].dt.strftime("%Y-%m-%d")

    def lookup(k):
        provider, model, day = k.split("\x1f")
        found = None
        if model:
            try:
                found = prices.token_prices(provider, model, pd.Timestamp(day).to_pydatetime())
            except Exception:  # noqa: BLE001 - an unreadable catalog entry is treated as an unknown model
                found = None
        if found and found.get("input") and found.get("output"):
            return tuple(found.get(t) if found.get(t) is not None else found["input"] for t in TOKEN_ORDER), True
        return tuple(FALLBACK_WEIGHTS[t] for t in TOKEN_ORDER), False

    found = by_value(key, lookup)
    return np.array([f[0] for f in found], dtype=float).reshape(len(g), len(TOKEN_ORDER)), \
        np.array([f[1] for f in found], dtype=bool)


def _model(model, code) -> str | None:
    if not isinstance(model, str) or not model.strip():
        return None
    model = model.strip()
    if "/" in model:
        head, rest = model.split("/", 1)
        if head.lower() in PROVIDERS or head.lower() in SELF_HOSTED or (code and head.lower() == code.lower()):
            model = rest
    return model


def _tags(text) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = [t for t in re.split(r"[,;]", text.strip("{}[]")) if t.strip()]  # Postgres array / plain list
    if isinstance(value, str):
        value = [value]
    if isinstance(value, dict):
        value = [f"{k}:{v}" for k, v in value.items()]
    if not isinstance(value, list):
        return []
    return [str(t).strip().strip('"') for t in value if t is not None and str(t).strip()]


def _attribution_logs(tags_text, team, team_alias, project) -> tuple:
    """(x_UseCaseId, x_BusinessUnit, x_AttributionKey, Tags JSON) of a spend-log group."""
    tags = _tags(tags_text)
    use_case = next((m.group(1) for t in tags if (m := USE_CASE_TAG.match(t))), None)
    bu = next((m.group(1) for t in tags if (m := BU_TAG.match(t))), None)
    other = [t for t in tags if not USE_CASE_TAG.match(t) and not BU_TAG.match(t)]
    key = (f"litellm.project:{project}" if _ok(project) else f"litellm.team:{team}" if _ok(team)
           else f"litellm.team:{team_alias}" if _ok(team_alias) else f"litellm.tag:{other[0]}" if other else None)
    tag_obj = {name: value for name, value in (("team_id", team), ("team_alias", team_alias), ("project_id", project))
               if _ok(value)}
    for t in tags:
        tag_obj[f"tag:{t}"] = True
    return use_case, bu, key, json.dumps(tag_obj, ensure_ascii=False, separators=(",", ":")) if tag_obj else None


def _attribution_rollup(value, entity: str) -> tuple:
    if not _ok(value):
        return None, None, None, None
    kind = ROLLUPS[entity]
    tags = json.dumps({entity: value}, ensure_ascii=False, separators=(",", ":"))
    if kind == "tag":
        if m := USE_CASE_TAG.match(value):
            return m.group(1), None, None, tags
        if m := BU_TAG.match(value):
            return None, m.group(1), None, tags
    return None, None, f"litellm.{kind}:{value}", tags


def _ok(value) -> bool:
    return isinstance(value, str) and bool(value.strip())
