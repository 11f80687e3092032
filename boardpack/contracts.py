"""Data contracts: Great Expectations suites in `data_contracts/`, run as a gate before any metric.

Every expectation carries `meta.severity`: `critical` stops the run, `warning` renders the pack stamped
PROVISIONAL. Coverage and freshness of the quarter are a contract too (`coverage.json`), checked on a
one-row frame that `coverage()` computes.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from .config import ROOT
from .exceptions import ConfigError, ContractError
from .ingest import Tables
from .quarters import Quarter

CONTRACTS_DIR = ROOT / "data_contracts"
SEVERITIES = ("critical", "warning")
SAMPLES = 5


@dataclass
class Contract:
    name: str
    path: Path
    version: str
    raw: dict
    suite: object  # great_expectations.ExpectationSuite


@dataclass
class Check:
    """One expectation's outcome, in the words the report uses."""

    table: str
    source: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    rule: str
    hint: str
    unexpected_count: int | None = None
    element_count: int | None = None
    rows: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    observed: object = None
    row_label: str = "line"
    error: str | None = None


@dataclass
class GateResult:
    quarter: str
    checks: list[Check]
    coverage: dict

    @property
    def critical(self) -> list[Check]:
        return [c for c in self.checks if not c.success and c.severity == "critical"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.success and c.severity == "warning"]

    @property
    def status(self) -> str:
        return "STOP" if self.critical else "PROVISIONAL" if self.warnings else "FINAL"

    def to_dict(self) -> dict:
        return {"quarter": self.quarter, "status": self.status, "coverage": self.coverage,
                "summary": {"checks": len(self.checks), "passed": sum(c.success for c in self.checks),
                            "critical_failed": len(self.critical), "warnings_failed": len(self.warnings)},
                "checks": [_jsonable(asdict(c)) for c in self.checks]}

    def report(self) -> str:
        """The human report of failed checks: file, column, rule, failing count, samples, fix."""
        failed = self.critical + self.warnings
        if not failed:
            return f"Data contracts: all {len(self.checks)} checks passed."
        head = (f"Data contract failed: {len(self.critical)} critical problem(s); no pack was rendered."
                if self.critical else
                f"Data contracts: {len(self.warnings)} warning(s); the pack is stamped PROVISIONAL.")
        return "\n\n".join([head] + [f"{i}. {describe(c)}" for i, c in enumerate(failed, 1)])


def describe(c: Check) -> str:
    where = Path(c.source).name + (f", column {c.column}" if c.column else "")
    lines = [f"[{c.severity.upper()}] {where}: {c.rule}", f"   expectation: {c.expectation}"]
    if c.error:
        lines.append(f"   could not be checked: {c.error}")
    if c.unexpected_count:
        of = f" of {c.element_count:,}" if c.element_count else ""
        lines.append(f"   failing: {c.unexpected_count:,}{of} rows")
    if c.rows:
        pairs = ", ".join(f"{c.row_label} {r}: {v!r}" for r, v in zip(c.rows[:SAMPLES], c.samples[:SAMPLES]))
        lines.append(f"   sample: {pairs}")
    elif c.samples:
        lines.append(f"   sample values: {', '.join(repr(v) for v in c.samples[:SAMPLES])}")
    elif c.observed is not None and not c.success:
        lines.append(f"   observed: {c.observed}")
    lines.append(f"   how to fix: {c.hint}")
    return "\n".join(lines)


def load_contracts(folder: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """Load every suite; refuse one that GX would silently shorten or that lacks a severity."""
    _quiet_gx()
    import great_expectations as gx

    contracts = {}
    for path in sorted(Path(folder).glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        try:
            suite = gx.ExpectationSuite(**raw)
        except Exception as e:
            raise ConfigError(f"{path}: not a valid expectation suite ({e}).")
        # GX drops an expectation of unknown type with only a log line: count them back.
        if len(suite.expectations) != len(raw["expectations"]):
            known = {e.expectation_type for e in suite.expectations}
            lost = [e["type"] for e in raw["expectations"] if e["type"] not in known]
            raise ConfigError(f"{path}: Great Expectations does not know {lost}; fix the expectation type.")
        for e in raw["expectations"]:
            if e.get("meta", {}).get("severity") not in SEVERITIES:
                raise ConfigError(f"{path}: {e['type']} on {e['kwargs'].get('column')} needs meta.severity "
                                  f"'critical' or 'warning'.")
        version = raw.get("meta", {}).get("contract_version")
        if not version:
            raise ConfigError(f"{path}: meta.contract_version is missing.")
        contracts[path.stem] = Contract(path.stem, path, version, raw, suite)
    return contracts


def coverage(tables: Tables, quarter: Quarter) -> dict:
    """Coverage and freshness of one quarter, as the coverage contract checks them."""
    spend, outcomes, seats, use_cases = (tables[t] for t in ("spend", "outcomes", "seats", "use_cases"))
    sq = spend[quarter.contains(spend["ChargePeriodStart"])]
    oq = outcomes[quarter.contains(outcomes["Month"])]
    total = sq["EffectiveCost"].sum()
    attributed = sq.loc[sq["x_UseCaseId"].notna(), "EffectiveCost"].sum()
    live = set(sq["x_UseCaseId"].dropna()) - set(use_cases.loc[use_cases["Stage"] == "retired", "UseCaseId"])
    with_outcomes = live & set(oq["UseCaseId"])
    months = lambda s: int(s.dt.to_period("M").nunique())  # noqa: E731
    return {
        "spend_months": months(sq["ChargePeriodStart"]),
        "attributed_spend_share": float(attributed / total) if total else 0.0,
        "use_cases_with_outcomes_share": len(with_outcomes) / len(live) if live else 1.0,
        "live_use_cases": len(live),
        "live_use_cases_without_outcomes": sorted(live - with_outcomes),
        "outcome_months": months(oq["Month"]),
        "seat_months": months(seats.loc[quarter.contains(seats["Month"]), "Month"]),
    }


def run_gate(tables: Tables, quarter: Quarter, currency: str, contracts: dict[str, Contract] | None = None) -> GateResult:
    """Validate every table, then the quarter's coverage. Raise ContractError on a critical failure."""
    contracts = contracts or load_contracts()
    params = gate_params(tables, currency)
    context = _gx_context()
    checks = list(tables.checks)  # inputs an engine checked before they became tables
    for name, frame in tables.frames.items():
        if name in tables.checked:
            continue
        checks += _validate(context, contracts[name], frame, params, name, str(tables.sources[name]),
                            tables.row_label(name), tables.unparsed.get(name, {}))
    cov = {}
    if not [c for c in checks if not c.success and c.severity == "critical"]:
        cov = coverage(tables, quarter)
        frame = pd.DataFrame([{k: v for k, v in cov.items() if not isinstance(v, list)}])
        checks += _validate(context, contracts["coverage"], frame, params, "coverage",
                            f"coverage of {quarter}", "row", {})
    result = GateResult(str(quarter), checks, cov)
    if result.critical:
        raise ContractError(result.report())
    return result


def gate_params(tables: Tables, currency: str) -> dict:
    """The values of the suites' $PARAMETERs: ids the other tables define, the reporting currency."""
    return {"use_case_ids": _ids(tables["use_cases"], "UseCaseId"), "model_ids": _ids(tables["models"], "Model"),
            "currencies": [currency]}


def validate_view(engine, name: str, view: str, table: str, source: str, params: dict | None = None,
                  expensive_check_rows: int = 5_000_000, unparsed: dict | None = None,
                  contracts: dict[str, Contract] | None = None) -> tuple[list[Check], list[str], int]:
    """Run the suite `name` on a view of an engine (DuckDB or Spark), where the rows stay: (checks, notes,
    rows of the view).

    Expectations with meta.cost "expensive" are left out above `expensive_check_rows` rows; the notes
    name them, for the data-quality page. Rows are not numbered in an engine: failures carry
    counts and sample values. `unparsed`: column -> (count, sample values) of text that did not parse.
    """
    contract = (contracts or load_contracts())[name]
    rows = engine.count(view)
    keep = [e for e in contract.raw["expectations"]
            if rows <= expensive_check_rows or e.get("meta", {}).get("cost") != "expensive"]
    skipped = [f"{table}: not checked on {rows:,} rows (over [engine] expensive_check_rows = "
               f"{expensive_check_rows:,}): {rule_text(e['type'], e['kwargs'], params or {})}"
               + (f" ({e['kwargs']['column']})" if e["kwargs"].get("column") else "")
               for e in contract.raw["expectations"] if e not in keep]
    import great_expectations as gx

    batch = engine.validation_batch(_gx_context(), view)
    # Pass/fail first: one bundled query per column on the engine. Counts and samples cost a scan per
    # expectation (a CSV parse each time on DuckDB, a job each on Spark), so only failures pay for them.
    # GX returns results grouped by column, not in suite order: each expectation carries its place in meta.
    numbered = [{**e, "meta": {**e.get("meta", {}), "order": i}} for i, e in enumerate(keep)]

    def run(expectations, result_format):
        suite = gx.ExpectationSuite(**{**contract.raw, "expectations": expectations})
        found = batch.validate(suite, result_format={"result_format": result_format},
                               expectation_parameters=params or {})
        return {r.expectation_config.meta["order"]: r for r in found.results}

    results = run(numbered, "BOOLEAN_ONLY")
    failed = [numbered[i] for i, r in sorted(results.items()) if not r.success]
    if failed:
        results.update(run(failed, "SUMMARY"))
    results = [results[i] for i in range(len(numbered))]
    columns = set(engine.frame(f"SELECT * FROM {view} LIMIT 0").columns)
    checks = _checks(SimpleNamespace(results=results), contract, columns, params or {}, table, source, "row",
                     dict(unparsed or {}), rows)
    for check in checks:  # a passing column check had no failing rows among all of them
        if check.success and check.expectation.startswith("expect_column_values") and check.unexpected_count is None:
            check.unexpected_count, check.element_count = 0, rows
    return checks, skipped, rows


def _ids(frame: pd.DataFrame, column: str) -> list:
    return sorted(frame[column].dropna().astype(str).unique()) if column in frame else []


def _quiet_gx() -> None:
    from .engine import keep_pyspark_from_exiting

    keep_pyspark_from_exiting()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _gx_context():
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def _validate(ctx, contract: Contract, frame: pd.DataFrame, params: dict, table: str, source: str,
              row_label: str, unparsed: dict) -> list[Check]:
    batch = (ctx.data_sources.add_pandas(f"src_{table}").add_dataframe_asset(table)
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    result = batch.validate(contract.suite, result_format={"result_format": "COMPLETE"},
                            expectation_parameters=params)
    return _checks(result, contract, set(frame.columns), params, table, source, row_label, unparsed, len(frame))


def _checks(result, contract: Contract, columns: set, params: dict, table: str, source: str, row_label: str,
            unparsed: dict, n_rows: int) -> list[Check]:
    """A GX validation result in the words of the report. `unparsed` maps a column to the values that did
    not parse: {row: text}, or (count, [texts]) where rows have no numbers (an engine's table)."""
    required = [e["kwargs"]["column_set"] for e in contract.raw["expectations"]
                if e["type"] == "expect_table_columns_to_match_set"]
    missing = set(required[0] if required else []) - columns
    checks = []
    for r in result.results:
        cfg = r.expectation_config
        kwargs, meta = cfg.kwargs, cfg.meta or {}
        column = kwargs.get("column") or kwargs.get("column_A")
        res = r.result or {}
        error = None
        if r.exception_info and r.exception_info.get("raised_exception"):
            error = str(r.exception_info.get("exception_message", "")).splitlines()[0][:200]
        involved = {kwargs.get(k) for k in ("column", "column_A", "column_B")} | set(kwargs.get("column_list", []))
        if (involved & missing) or (involved & set(unparsed) and cfg.type != "expect_column_values_to_be_in_type_list"):
            # Already reported by the column-set or type check: one problem, one entry.
            continue
        check = Check(table=table, source=source, expectation=cfg.type, column=column, severity=meta["severity"],
                      success=bool(r.success), rule=rule_text(cfg.type, kwargs, params), hint=meta.get("hint", ""),
                      unexpected_count=res.get("unexpected_count"), element_count=res.get("element_count"),
                      rows=[int(i) for i in (res.get("unexpected_index_list") or [])[:SAMPLES]],
                      samples=list((res.get("partial_unexpected_list") or [])[:SAMPLES]),
                      observed=res.get("observed_value"), row_label=row_label, error=error)
        if cfg.type == "expect_table_columns_to_match_set" and missing:
            check.rule = f"required column(s) missing: {', '.join(sorted(missing))}"
            check.column = ", ".join(sorted(missing))
        if cfg.type == "expect_column_values_to_be_in_type_list" and column in unparsed:
            bad = unparsed[column]
            if isinstance(bad, tuple):
                count, check.rows, check.samples = bad[0], [], list(bad[1])[:SAMPLES]
            else:
                count, check.rows, check.samples = len(bad), list(bad)[:SAMPLES], list(bad.values())[:SAMPLES]
            check.success, check.unexpected_count, check.element_count = False, count, n_rows
        if error and check.success is False and not check.unexpected_count:
            check.hint = check.hint or "check the column's values."
        checks.append(check)
    return checks


def rule_text(kind: str, kw: dict, params: dict) -> str:
    """An expectation in plain words."""
    cond = f" where {condition_text(kw['row_condition'])}" if kw.get("row_condition") else ""
    value_set = kw.get("value_set")
    if isinstance(value_set, dict) and "$PARAMETER" in value_set:
        name = value_set["$PARAMETER"]
        value_set = {"use_case_ids": "the ids of use_cases", "model_ids": "the models of models",
                     "currencies": f"the reporting currency {params.get('currencies')}"}.get(name, name)
    elif isinstance(value_set, list):
        value_set = ", ".join(map(str, value_set))
    lo, hi = kw.get("min_value"), kw.get("max_value")
    texts = {
        "expect_table_columns_to_match_set": "required columns present",
        "expect_table_row_count_to_be_between": "at least one row",
        # the pandas spellings; the lists also name Spark's and SQL's for the same types
        "expect_column_values_to_be_in_type_list":
            f"values of type {' or '.join(t for t in kw.get('type_list', []) if t == t.lower())}",
        "expect_column_values_to_not_be_null": f"no empty values{cond}",
        "expect_column_values_to_be_in_set": f"values in {value_set}{cond}",
        "expect_column_values_to_be_between": (
            f"values between {lo} and {hi}{cond}" if lo is not None and hi is not None
            else f"values >= {lo}{cond}" if lo is not None else f"values <= {hi}{cond}"),
        "expect_column_pair_values_a_to_be_greater_than_b":
            f"{kw.get('column_A')} {'>=' if kw.get('or_equal') else '>'} {kw.get('column_B')}{cond}",
        "expect_compound_columns_to_be_unique": f"one row per {', '.join(kw.get('column_list', []))}",
        "expect_column_values_to_be_unique": "no duplicate values",
        "expect_column_values_to_match_regex": f"values matching {kw.get('regex')}",
    }
    return texts.get(kind, kind.replace("expect_", "").replace("_", " "))


def condition_text(condition) -> str:
    """A GX row condition as the user reads it: ChargeCategory == "Usage"."""
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        return f'{condition["column"]["name"]} {condition["operator"]} {json.dumps(condition["parameter"])}'
    return str(condition)


def _jsonable(obj):
    """Make GX observed values (numpy, timestamps) safe for json.dump."""
    return json.loads(json.dumps(obj, default=str))
