"""The steps the notebooks call: validate the inputs of a quarter, then compute its metrics.

Each step reads from and writes to an output folder, so that a notebook can be re-run on its own.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import contracts, large, ledger, metrics, metrics_json, provenance
from .config import load_config
from .engine import open_engine
from .exceptions import ConfigError, ContractError, NoDataError
from .ingest import load_tables
from .quality import render_quality
from .quarters import Quarter, latest_complete_quarter, quarters_in
from .schema import TABLES

TIME_COLUMNS = {"spend": "ChargePeriodStart", "seats": "Month", "outcomes": "Month", "seat_users": "ReportDate",
                "seat_apps": "ReportDate", "seat_feature_usage": "Day"}


def write_json(obj, path: Path) -> Path:
    """`obj` as strict JSON: NaN and infinities, which JSON does not have, are written as null."""
    path.write_text(json_text(obj), encoding="utf-8")
    return path


def json_text(obj) -> str:
    """The text `write_json` writes."""
    def default(o):
        if isinstance(o, (np.integer,)):
            return int(o)
        if isinstance(o, (np.bool_,)):
            return bool(o)
        if isinstance(o, (pd.Timestamp,)):
            return o.isoformat()
        return str(o)
    # allow_nan=False: a non-finite number that _finite missed fails here instead of writing a bare NaN
    return json.dumps(_finite(obj), indent=2, default=default, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(obj):
    """`obj` with every NaN, infinity, NaT and pd.NA replaced by None (json.dumps never calls `default` on
    a float, so they cannot be caught there)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if obj is pd.NaT or obj is pd.NA:
        return None
    return obj


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def resolve_quarter(spend: pd.DataFrame, requested: str | None, source: Path) -> Quarter | None:
    """The quarter to report: the one asked for, or the latest complete one in the spend data."""
    starts = spend.get("ChargePeriodStart")
    if starts is None or starts.dtype.kind != "M":
        return Quarter.parse(requested) if requested else None  # the gate will name the unreadable column
    available = quarters_in(starts)
    if not requested:
        return latest_complete_quarter(starts)
    quarter = Quarter.parse(requested)
    if quarter not in available:
        span = f"{available[0]} to {available[-1]}" if available else "no quarter at all"
        raise NoDataError(f"{source}: no spend rows in {quarter}; the data covers {span}.\n"
                          f"  How to fix: pick a quarter the data covers (QUARTER={available[-1] if available else 'YYYY-Qn'}) "
                          f"or add the quarter's spend to {source.name}.")
    return quarter


def validate(quarter: str | None, data_dir: str | Path, config: str | Path | None, output_dir: str | Path,
             engine: str | None = None):
    """Load and check every input; write validation.json, provenance.json, data-quality.html and tables/.

    `engine` (duckdb or spark; default: the configuration's [engine] name) is where large inputs are read,
    checked and aggregated. Raises ContractError (critical failure), NoDataError or InputError before
    anything is computed.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config(config)
    settings = replace(cfg.engine, name=engine) if engine else cfg.engine
    quarter_end = Quarter.parse(quarter).end - pd.Timedelta(days=1) if quarter else None
    with open_engine(settings) as eng:
        engine_info = eng.describe()
        tables = load_tables(data_dir, cfg.currency, cfg.truth, quarter_end, cfg.seat_prices, engine=eng,
                             expensive_check_rows=settings.expensive_check_rows, assisted_hours=cfg.viva_insights)
        suites = contracts.load_contracts()  # after the inputs: a file refused for its first bytes waits for no GX
        if "spend" in tables.checked:  # a spend table is left to the engine: read, check, roll up there
            read = large.read_spend(eng, tables.sources["spend"], contracts.gate_params(tables, cfg.currency),
                                    settings.expensive_check_rows, suites)
            tables.frames["spend"], tables.checks = read.rollup, tables.checks + read.checks
            tables.notes += read.notes
            tables.input_rows["spend"], tables.excluded = read.rows, read.excluded
    if any(not c.success and c.severity == "critical" for c in tables.checks):
        raise ContractError(contracts.GateResult(quarter or "", tables.checks, {}).report())
    q = resolve_quarter(tables["spend"], quarter, tables.sources["spend"])
    gate = contracts.run_gate(tables, q, cfg.currency, suites)
    if "spend" not in tables.checked:  # a raw folder's assembled spend: the same daily rollup as the engine's
        tables.input_rows.setdefault("spend", len(tables["spend"]))
        tables.frames["spend"] = large.rollup_pandas(tables["spend"])
    book = tables.ledger if tables.ledger is not None else \
        ledger.from_table(tables["spend"], tables.sources["spend"], tables.excluded)
    published = tables["spend"][tables["spend"]["ChargePeriodStart"] < q.end]
    ledger.check_pack(book, published, sorted(set(ledger.quarter_of(published["ChargePeriodStart"]))
                                              | {x for x in book["quarter"] if x <= str(q)}))
    prov = provenance.collect(tables, suites, cfg, {"quarter": str(q), "requested_quarter": quarter,
                                                    "data_dir": str(Path(data_dir).resolve()),
                                                    "config": cfg.path, "engine": settings.name,
                                                    "engine_detail": engine_info})
    results = gate.to_dict() | {"engine": {**engine_info, "not_checked": tables.notes,
                                           "pyspark_imported": sys.modules.get("pyspark") is not None}}
    write_json(results, out / "validation.json")
    write_json(prov, out / "provenance.json")
    if tables.report is not None:
        write_json(tables.report, out / "sources.json")
    write_json({"currency": cfg.currency, "balanced": True, "tolerance": ledger.CENT,
                **ledger.summary(book, tables.excluded), "rows": ledger.records(book)}, out / "ledger.json")
    render_quality(results, prov, cfg.company, out / "data-quality.html", tables.report,
                   _read_json(out / "ledger.json"))
    (out / "tables").mkdir(exist_ok=True)
    for name in TABLES:
        frame = tables[name]
        if name in TIME_COLUMNS:  # history up to the end of the quarter: the pack's trends need it
            frame = frame[frame[TIME_COLUMNS[name]] < q.end]
        frame.reset_index(drop=True).to_parquet(out / "tables" / f"{name}.parquet", index=False)
    return gate


def read_tables(output_dir: str | Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(Path(output_dir) / "tables" / f"{name}.parquet") for name in TABLES}


def compute(output_dir: str | Path, config: str | Path | None) -> dict:
    """Compute the quarter's metrics from the validated tables; write metrics.json."""
    out = Path(output_dir)
    cfg = load_config(config)
    validation = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    tables = read_tables(out)
    reference = _reference_models(cfg, tables["models"])
    quarter = Quarter.parse(validation["quarter"])
    reclaim, downgrade = metrics.seat_lists(tables, quarter, cfg.seats)  # made once: metrics.json and tables/
    result = metrics.quarter_metrics(tables, quarter, cfg.targets, reference, cfg.currency, validation["status"],
                                     cfg.scenarios, cfg.seats, reclaim, downgrade)
    metrics_json.write(result, out)
    # the lists for IT, tables/*.parquet and so exports/reclaim.csv and downgrade.csv (README, "Reclaimable seats",
    # "GitHub Copilot: breadth of use"); only when the quarter gives a basis for them
    if result["reclaim"] is not None:
        reclaim.to_parquet(out / "tables" / "reclaim.parquet", index=False)
    if downgrade is not None:
        downgrade.to_parquet(out / "tables" / "downgrade.parquet", index=False)
    return result


def _reference_models(cfg, models: pd.DataFrame) -> dict:
    """The configured reference model per tier; where none is configured, the cheapest model of the tier."""
    reference = {}
    for tier in ("light", "standard", "frontier"):
        wanted = cfg.reference_models.get(tier)
        in_tier = models[models["Tier"] == tier]
        if wanted and wanted not in set(models["Model"]):
            raise ConfigError(f"{cfg.path}: [reference_models] {tier} = {wanted!r} is not in the models table; "
                              f"use one of {sorted(in_tier['Model']) or sorted(models['Model'])}.")
        if wanted and wanted not in set(in_tier["Model"]):
            actual = models.loc[models["Model"] == wanted, "Tier"].iloc[0]
            raise ConfigError(f"{cfg.path}: [reference_models] {tier} = {wanted!r} is a {actual} model; the "
                              f"reference of a tier must belong to it: use one of {sorted(in_tier['Model'])}.")
        if wanted:
            reference[tier] = wanted
        elif not in_tier.empty:
            blended = in_tier["InputPricePerMTok"] * 0.75 + in_tier["OutputPricePerMTok"] * 0.25
            reference[tier] = in_tier.loc[blended.idxmin(), "Model"]
    return reference
