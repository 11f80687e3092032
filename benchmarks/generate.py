"""Synthetic inputs for the ingest benchmark: LiteLLM spend logs and whole-account FOCUS rows at a chosen size.

    python benchmarks/generate.py --rows 1000000 --out benchmarks/out/data/1000000

writes `litellm/LiteLLM_SpendLogs.parquet`, `litellm-csv/LiteLLM_SpendLogs.csv`, `focus/focus.parquet` and
`focus-csv/focus.csv` under the output folder. Rows are made and written in chunks (`--chunk`, default 500,000),
so memory stays flat whatever the size; the same seed and size give the same files.

The data looks like the real exports: spend logs over a quarter for 12 models on 6 providers and 40 teams
(each team on 4 of the models, with its own request tags), metadata JSON (cache token details on a quarter of
the requests) and 1% failures; FOCUS rows from a whole-account export where 30% of the rows are AI (Bedrock,
Azure OpenAI, Vertex AI token SKUs, SageMaker GPU hours) and the rest compute, storage, databases and
networking, with Tags JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

START = np.datetime64("2025-04-01T00:00:00", "s")
QUARTER_SECONDS = 91 * 86400

MODELS = [  # (custom_llm_provider, model, input $/MTok, output $/MTok)
    ("openai", "gpt-4o", 2.5, 10.0), ("openai", "gpt-4o-mini", 0.15, 0.6), ("openai", "o3-mini", 1.1, 4.4),
    ("anthropic", "claude-3-5-sonnet-20241022", 3.0, 15.0), ("anthropic", "claude-3-5-haiku-20241022", 0.8, 4.0),
    ("azure", "gpt-4o", 2.5, 10.0), ("azure", "gpt-4o-mini", 0.15, 0.6),
    ("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", 3.0, 15.0),
    ("vertex_ai", "gemini-1.5-pro", 1.25, 5.0), ("gemini", "gemini-2.0-flash", 0.1, 0.4),
    ("mistral", "mistral-large-latest", 2.0, 6.0), ("openai", "acme-finetune-x", 1.0, 4.0),
]
TEAMS = [f"team-{i:02d}" for i in range(40)]
TAGS = ['["use_case:UC-01"]', '["use_case:UC-02","env:prod"]', '["feature:search"]', "[]", "[]", '["bu:Finance"]',
        '["use_case:UC-07"]', '["env:dev"]']

FOCUS_SKUS = [  # (ProviderName, ServiceCategory, ServiceName, SkuId, SkuMeter/description, unit, price per unit)
    ("AWS", "AI and Machine Learning", "Amazon Bedrock", "SKU-CL35-IN", "Claude 3.5 Sonnet input tokens", "Tokens", 3e-6),
    ("AWS", "AI and Machine Learning", "Amazon Bedrock", "SKU-CL35-OUT", "Claude 3.5 Sonnet output tokens", "Tokens", 15e-6),
    ("AWS", "AI and Machine Learning", "Amazon SageMaker", "SKU-MLG5", "ml.g5.2xlarge hosting", "Hours", 1.515),
    ("Microsoft", "AI and Machine Learning", "Azure OpenAI", "DZH318Z0BQ4L", "gpt-4o-0806-Inp-glbl Tokens", "1K Tokens", 0.0025),
    ("Microsoft", "AI and Machine Learning", "Azure OpenAI", "DZH318Z0BQ4M", "gpt-4o-0806-Outp-glbl Tokens", "1K Tokens", 0.01),
    ("Google Cloud", "AI and Machine Learning", "Vertex AI", "F1A2-B3C4", "Gemini 1.5 Pro Input Text tokens", "Tokens", 1.25e-6),
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", "SKU-M7I", "m7i.large on demand", "Hours", 0.1008),
    ("AWS", "Storage", "Amazon Simple Storage Service", "SKU-S3", "S3 standard storage", "GB-Month", 0.023),
    ("AWS", "Networking", "Amazon Virtual Private Cloud", "SKU-NAT", "NAT gateway hours", "Hours", 0.045),
    ("Microsoft", "Compute", "Virtual Machines", "DZH318Z0BP04", "D4s v5", "Hours", 0.192),
    ("Microsoft", "Databases", "Azure SQL Database", "DZH318Z0BQ01", "vCore hours", "Hours", 0.5),
    ("Google Cloud", "Compute", "Compute Engine", "E5F6-0002", "N2 instance core", "Hours", 0.031),
    ("Google Cloud", "Storage", "Cloud Storage", "E5F6-0001", "Standard Storage US", "GiBy.mo", 0.02),
    ("Google Cloud", "Analytics", "BigQuery", "E5F6-0003", "Analysis", "TiBy", 6.25),
]
AI_SHARE = 0.30
FOCUS_TAGS = ['{"project":"alpha","use_case":"UC-01"}', '{"project":"beta","cost_center":"CC-100"}',
              '{"team":"search"}', "{}", '{"user:project":"gamma"}', '{"env":"prod"}']


def _choice(rng, pool: list, n: int, p=None) -> pa.Array:
    """n values drawn from a pool, built as a dictionary array (fast) and decoded to plain strings."""
    idx = rng.choice(len(pool), size=n, p=p)
    return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(pool)).cast(pa.string())


def _timestamps(rng, n: int, hourly: bool = False) -> np.ndarray:
    seconds = rng.integers(0, QUARTER_SECONDS, size=n)
    if hourly:
        seconds = seconds // 3600 * 3600
    return START + seconds.astype("timedelta64[s]")


def litellm_chunk(rng, first: int, n: int) -> pa.Table:
    # Each team runs its own application: 4 of the 12 models and one set of request tags.
    team = rng.integers(0, len(TEAMS), size=n)
    model = (team * 5 + rng.integers(0, 4, size=n)) % len(MODELS)
    prompt = rng.integers(50, 8000, size=n)
    completion = rng.integers(10, 1500, size=n)
    cached = np.where(rng.random(n) < 0.25, prompt // 2, 0)
    price_in = np.array([m[2] for m in MODELS])[model]
    price_out = np.array([m[3] for m in MODELS])[model]
    spend = ((prompt - cached) * price_in + cached * price_in / 2 + completion * price_out) / 1e6
    failed = rng.random(n) < 0.01
    spend = np.where(failed, 0.0, spend)
    start = _timestamps(rng, n)
    # metadata: team id/alias and, for cached requests, the usage details with the cached token count
    plain = pa.array([json.dumps({"user_api_key_team_id": t, "user_api_key_team_alias": t.upper(),
                                  "user_api_key_alias": f"key-{i % 7}"}) for i, t in enumerate(TEAMS)])
    head = pa.array([json.dumps({"user_api_key_team_id": t, "user_api_key_team_alias": t.upper()})[:-1]
                     + ', "usage_object": {"prompt_tokens_details": {"cached_tokens": ' for t in TEAMS])
    teams = pa.array(team)
    with_cache = pc.binary_join_element_wise(head.take(teams), pc.cast(pa.array(cached), pa.string()),
                                             pa.scalar("}}}"), "")
    metadata = pc.if_else(pa.array(cached > 0), with_cache, plain.take(teams))
    ids = pc.binary_join_element_wise(pa.scalar("req-"), pc.cast(pa.array(np.arange(first, first + n)), pa.string()), "")
    return pa.table({
        "request_id": ids,
        "call_type": _choice(rng, ["acompletion", "completion", "aembedding"], n, p=[0.8, 0.15, 0.05]),
        "api_key": _choice(rng, [f"{i:064x}" for i in range(25)], n),
        "spend": spend,
        "total_tokens": prompt + completion, "prompt_tokens": prompt, "completion_tokens": completion,
        "startTime": pa.array(start, pa.timestamp("ms")),
        "endTime": pa.array(start + rng.integers(1, 30, size=n).astype("timedelta64[s]"), pa.timestamp("ms")),
        "model": pa.array([MODELS[i][1] for i in range(len(MODELS))]).take(pa.array(model)),
        "model_group": pa.array([MODELS[i][1].split("/")[-1] for i in range(len(MODELS))]).take(pa.array(model)),
        "custom_llm_provider": pa.array([MODELS[i][0] for i in range(len(MODELS))]).take(pa.array(model)),
        "user": _choice(rng, [f"user-{i}" for i in range(300)], n),
        "metadata": metadata,
        "cache_hit": _choice(rng, ["False", "True"], n, p=[0.97, 0.03]),
        "request_tags": pa.array(TAGS).take(pa.array(team % len(TAGS))),
        "team_id": pa.array(TEAMS).take(pa.array(team)),
        "status": pc.if_else(pa.array(failed), pa.scalar("failure"), pa.scalar("success")),
    })


def focus_chunk(rng, first: int, n: int) -> pa.Table:
    ai = [i for i, s in enumerate(FOCUS_SKUS) if s[1] == "AI and Machine Learning"]
    other = [i for i in range(len(FOCUS_SKUS)) if i not in ai]
    p = np.array([AI_SHARE / len(ai) if i in ai else (1 - AI_SHARE) / len(other) for i in range(len(FOCUS_SKUS))])
    sku = rng.choice(len(FOCUS_SKUS), size=n, p=p)

    def col(k):
        return pa.array([s[k] for s in FOCUS_SKUS]).take(pa.array(sku))

    unit = np.array([s[5] for s in FOCUS_SKUS])[sku]
    price = np.array([s[6] for s in FOCUS_SKUS])[sku]
    qty = np.where(np.char.find(unit.astype(str), "Tokens") >= 0, rng.integers(1_000, 2_000_000, size=n),
                   rng.integers(1, 24, size=n)).astype(float)
    qty = np.where(unit == "1K Tokens", np.round(qty / 1000, 3), qty)
    cost = np.round(qty * price, 10)
    credit = rng.random(n) < 0.002
    cost = np.where(credit, -np.abs(cost), cost)
    start = _timestamps(rng, n, hourly=True)
    month = start.astype("datetime64[M]")
    return pa.table({
        "BillingAccountId": col(0), "BillingAccountName": _choice(rng, ["Acme"], n),
        "BillingCurrency": _choice(rng, ["USD"], n),
        "BillingPeriodStart": pa.array(month.astype("datetime64[s]"), pa.timestamp("s", tz="UTC")),
        "BillingPeriodEnd": pa.array((month + 1).astype("datetime64[s]"), pa.timestamp("s", tz="UTC")),
        "ChargePeriodStart": pa.array(start, pa.timestamp("s", tz="UTC")),
        "ChargePeriodEnd": pa.array(start + np.timedelta64(3600, "s"), pa.timestamp("s", tz="UTC")),
        "ChargeCategory": pc.if_else(pa.array(credit), pa.scalar("Credit"), pa.scalar("Usage")),
        "ChargeDescription": col(4),
        "ChargeFrequency": pc.if_else(pa.array(credit), pa.scalar("One-Time"), pa.scalar("Usage-Based")),
        "PricingCategory": pc.if_else(pa.array(credit), pa.scalar(None, pa.string()), pa.scalar("Standard")),
        "ProviderName": col(0), "PublisherName": col(0), "InvoiceIssuerName": col(0),
        "ServiceCategory": col(1), "ServiceName": col(2), "SkuId": col(3), "SkuMeter": col(4),
        "SkuPriceId": pc.binary_join_element_wise(col(3), pa.scalar("-OD"), ""),
        "ConsumedQuantity": qty, "ConsumedUnit": pa.array(unit), "PricingQuantity": qty,
        "PricingUnit": pa.array(unit), "ListUnitPrice": price, "ListCost": np.abs(cost), "ContractedCost": cost,
        "EffectiveCost": cost, "BilledCost": cost,
        "SubAccountId": _choice(rng, [f"sub-{i}" for i in range(12)], n),
        "RegionId": _choice(rng, ["us-east-1", "eu-west-1", "westeurope", "us-central1"], n),
        "ResourceId": pc.binary_join_element_wise(pa.scalar("res-"), pc.cast(
            pa.array(rng.integers(0, 50_000, size=n)), pa.string()), ""),
        "Tags": _choice(rng, FOCUS_TAGS, n),
    })


def generate(rows: int, out: Path, chunk: int = 500_000, seed: int = 7, formats=("parquet", "csv"),
             kinds=("litellm", "focus")) -> dict[str, Path]:
    made = {}
    for kind in kinds:
        make = litellm_chunk if kind == "litellm" else focus_chunk
        name = "LiteLLM_SpendLogs" if kind == "litellm" else "focus"
        writers, paths = {}, {}
        for fmt in formats:
            folder = out / (kind if fmt == "parquet" else f"{kind}-csv")
            folder.mkdir(parents=True, exist_ok=True)
            paths[fmt] = folder / f"{name}.{fmt}"
        try:
            for index, first in enumerate(range(0, rows, chunk)):
                rng = np.random.default_rng([seed, index, 0 if kind == "litellm" else 1])
                table = make(rng, first, min(chunk, rows - first))
                for fmt, path in paths.items():
                    if fmt not in writers:
                        writers[fmt] = (pq.ParquetWriter(path, table.schema) if fmt == "parquet"
                                        else pacsv.CSVWriter(path, table.schema))
                    writers[fmt].write_table(table)
        finally:
            for writer in writers.values():
                writer.close()
        made.update({f"{kind}-{fmt}": path for fmt, path in paths.items()})
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--kinds", default="litellm,focus")
    args = parser.parse_args()
    made = generate(args.rows, args.out, args.chunk, args.seed, tuple(args.formats.split(",")),
                    tuple(args.kinds.split(",")))
    for name, path in made.items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
