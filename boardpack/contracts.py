"""Data contracts: Great Expectations suites in `data_contracts/`, run as a gate before any metric.

Every expectation carries `meta.severity`: `critical` stops the run, `warning` renders the pack stamped
PROVISIONAL. Coverage and freshness of the quarter are a contract too (`coverage.json`), checked on a
one-row frame that `coverage()` computes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from . import project
from .exceptions import ConfigError, ContractError
from .ingest import Tables
from .quarters import Quarter

SEVERITIES = ("critical", "warning")
SAMPLES = 5
LINE = "__line"  # an engine view's row numbers (Engine.register_files(numbered=True))
UNIQUE = "expect_column_values_to_be_unique"  # counted by the engine in `validate_view`, at every size
# Tables a raw data folder may not have yet, and the source folder(s) that would hold each (`missing_tables`)
RAW_FOLDERS = {"use_cases": ("use_cases",), "outcomes": ("outcomes",), "seats": ("m365_copilot", "github_copilot")}
# Coverage figures that mean nothing without a table: its absence is reported once, not again as coverage
COVERAGE_OF = {"outcomes": ("outcome_months", "use_cases_with_outcomes_share"), "seats": ("seat_months",)}


@dataclass
class Contract:
    name: str
    path: Path
    version: str
    raw: dict[str, Any]
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
    rows: list[Any] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)
    observed: object = None
    row_label: str = "line"
    error: str | None = None


@dataclass
class GateResult:
    quarter: str
    checks: list[Check]
    coverage: dict[str, Any]

    @property
    def critical(self) -> list[Check]:
        return [c for c in self.checks if not c.success and c.severity == "critical"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.success and c.severity == "warning"]

    @property
    def status(self) -> str:
        return "STOP" if self.critical else "PROVISIONAL" if self.warnings else "FINAL"

    def to_dict(self) -> dict[str, Any]:
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
    name = Path(c.source).name
    # A raw folder's tables are assembled from several sources: the folder's name alone would not say which.
    where = (name if c.table in name else f"{c.table} ({name})") + (f", column {c.column}" if c.column else "")
    lines = [f"[{c.severity.upper()}] {where}: {c.rule}", f"   expectation: {c.expectation}"]
    if c.error:
        lines.append(f"   could not be checked: {c.error}")
    if c.unexpected_count:
        of = f" of {c.element_count:,}" if c.element_count else ""
        lines.append(f"   failing: {c.unexpected_count:,}{of} rows")
    if c.rows:
        pairs = ", ".join(f"{c.row_label} {r}: {shown(v)}" for r, v in zip(c.rows[:SAMPLES], c.samples[:SAMPLES]))
        lines.append(f"   sample: {pairs}")
    elif c.samples:
        lines.append(f"   sample values: {', '.join(shown(v) for v in c.samples[:SAMPLES])}")
    elif c.observed is not None and not c.success:
        lines.append(f"   observed: {c.observed}")
    lines.append(f"   how to fix: {c.hint}")
    return "\n".join(lines)


def shown(value: Any) -> str:
    """A sample value as the reports print it: an empty value as (empty), not nan."""
    if value is None or (isinstance(value, float) and value != value):
        return "(empty)"
    return repr(value)


def __getattr__(name: str) -> Path:
    # CONTRACTS_DIR was a constant of the checkout; now the project's folder (boardpack/project.py), looked up when asked
    if name == "CONTRACTS_DIR":
        return project.contracts_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_contracts(folder: Path | None = None) -> dict[str, Contract]:
    """Load every suite (of `folder`, default the project's data_contracts/); refuse one that GX would silently
    shorten or that lacks a severity."""
    _quiet_gx()
    import great_expectations as gx

    contracts = {}
    for path in sorted(Path(folder or project.contracts_dir()).glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        try:
            suite = gx.ExpectationSuite(**raw)
        except Exception as err:
            raise ConfigError(f"{path}: not a valid expectation suite ({err}).") from None
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


def coverage(tables: Tables, quarter: Quarter) -> dict[str, Any]:
    """Coverage and freshness of one quarter, as the coverage contract checks them."""
    spend, outcomes, seats, use_cases = (tables[t] for t in ("spend", "outcomes", "seats", "use_cases"))
    sq = spend[quarter.contains(spend["ChargePeriodStart"])]
    oq = outcomes[quarter.contains(outcomes["Month"])]
    total = sq["EffectiveCost"].sum()
    attributed = sq.loc[sq["x_UseCaseId"].notna(), "EffectiveCost"].sum()
    live = set(sq["x_UseCaseId"].dropna()) - set(use_cases.loc[use_cases["Stage"] == "retired", "UseCaseId"])
    with_outcomes = live & set(oq["UseCaseId"])
    months: Callable[[pd.Series], int] = lambda s: int(s.dt.to_period("M").nunique())  # noqa: E731
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
    missing = missing_tables(tables, quarter, contracts)
    for name, frame in tables.frames.items():
        if name in tables.checked:
            continue
        if name in missing:
            checks.append(missing[name])
            continue
        contract = _as_assembled(contracts[name], tables)
        if "use_cases" in missing:  # no register to check ids against: its absence is the one problem reported
            contract = _without(contract, lambda e: e["kwargs"].get("value_set") == {"$PARAMETER": "use_case_ids"})
        checks += _validate(context, contract, frame, params, name, str(tables.sources[name]),
                            tables.row_label(name), tables.unparsed.get(name, {}))
    cov = {}
    if not [c for c in checks if not c.success and c.severity == "critical"]:
        cov = coverage(tables, quarter)
        frame = pd.DataFrame([{k: v for k, v in cov.items() if not isinstance(v, list)}])
        unmeasured = {column for name in missing for column in COVERAGE_OF.get(name, ())}
        checks += _validate(context, _without(contracts["coverage"], lambda e: e["kwargs"].get("column") in unmeasured),
                            frame, params, "coverage", f"coverage of {quarter}", "row", {})
    result = GateResult(str(quarter), checks, cov)
    if result.critical:
        raise ContractError(result.report())
    return result


def missing_tables(tables: Tables, quarter: Quarter, contracts: dict[str, Contract]) -> dict[str, Check]:
    """Tables a raw data folder read no rows for, each with the one check that stands for its suite.

    A first folder of vendor exports rarely has a use-case register or an outcome ledger yet (README, "Bring
    your vendors' exports"): the pack renders without them, stamped PROVISIONAL by the contract's
    `meta.if_missing` severity, and the metrics say which numbers have no basis. A folder of canonical tables
    keeps the contract's own row-count rule.
    """
    if tables.report is None:
        return {}
    found = {}
    for name, folders in RAW_FOLDERS.items():
        if name not in tables.frames or len(tables[name]) or name in tables.checked:
            continue
        source = Path(tables.sources[name])
        root = source.parent if source.name in folders and source.is_dir() else source
        present = [f for f in folders if (root / f).is_dir()]
        row_count = next(e for e in contracts[name].raw["expectations"]
                         if e["type"] == "expect_table_row_count_to_be_between")
        meta = {**row_count["meta"], **row_count["meta"].get("if_missing", {})}
        where = " or ".join(f"{f}/" for f in folders)
        rule = (f"the {name} table has at least one row: "
                + (f"no rows in the {where} folder" if present else f"there is no {where} folder"))
        success = False
        if name == "seats":  # only products charged per seat need a seat report
            spend = tables["spend"]
            charged = spend.loc[quarter.contains(spend["ChargePeriodStart"])
                                & (spend["x_SpendModality"] == "seat_licence"), "EffectiveCost"].sum()
            success = not charged
        found[name] = Check(table=name, source=str(root / folders[0]) if len(folders) == 1 else str(root),
                            expectation=row_count["type"], column=None, severity=meta["severity"], success=success,
                            rule=rule, hint=meta.get("hint", ""), unexpected_count=None, element_count=0,
                            observed=0, row_label="row")
    return found


def _without(contract: Contract, drop: Callable[[dict[str, Any]], Any]) -> Contract:
    """The contract without the expectations `drop` picks; the same object when it picks none."""
    kept = [e for e in contract.raw["expectations"] if not drop(e)]
    if len(kept) == len(contract.raw["expectations"]):
        return contract
    import great_expectations as gx

    raw = {**contract.raw, "expectations": kept}
    return Contract(contract.name, contract.path, contract.version, raw, gx.ExpectationSuite(**raw))


def _as_assembled(contract: Contract, tables: Tables) -> Contract:
    """A raw folder's tables are assembled from aggregates of the exports: expectations marked
    `meta.checked_in_source` were run by the adapters on the exports' own lines, where a failure can name
    them, and are left out here."""
    if tables.report is None:
        return contract
    return _without(contract, lambda e: e.get("meta", {}).get("checked_in_source"))


def gate_params(tables: Tables, currency: str) -> dict[str, Any]:
    """The values of the suites' $PARAMETERs: ids the other tables define, the reporting currency."""
    return {"use_case_ids": _ids(tables["use_cases"], "UseCaseId"), "model_ids": _ids(tables["models"], "Model"),
            "currencies": [currency]}


def validate_view(engine: Any, name: str, view: str, table: str, source: str, params: dict[str, Any] | None = None,
                  expensive_check_rows: int = 5_000_000, unparsed: dict[str, Any] | None = None,
                  contracts: dict[str, Contract] | None = None,
                  row_label: str = "row") -> tuple[list[Check], list[str], int]:
    """Run the suite `name` on a view of an engine (DuckDB or Spark), where the rows stay: (checks, notes,
    rows of the view).

    Uniqueness of a column is counted by the engine (`duplicates`) at every size: a log exported twice
    doubles the spend whatever its length, and one count of distinct values costs a fraction of GX's
    expectation (10M gateway rows on DuckDB: 2.8 s against 7.1 s, and 5.8 s against 21.9 s when there are
    duplicates; benchmarks/README.md). Other expectations with meta.cost "expensive" are left out
    above `expensive_check_rows` rows; the notes name them, for the data-quality page. A view with a
    `__line` column on an engine that numbers lines (`Engine.numbers_lines`) has failures name their lines
    (`row_label`: line or row); elsewhere failures carry counts and sample values. `unparsed`: column ->
    (count, sample values, their lines) of text that did not parse.
    """
    contract = (contracts or load_contracts())[name]
    rows = engine.count(view)
    counted = [e for e in contract.raw["expectations"] if e["type"] == UNIQUE]
    keep = [e for e in contract.raw["expectations"] if e not in counted
            and (rows <= expensive_check_rows or e.get("meta", {}).get("cost") != "expensive")]
    skipped = [f"{table}: not checked on {rows:,} rows (over [engine] expensive_check_rows = "
               f"{expensive_check_rows:,}): {rule_text(e['type'], e['kwargs'], params or {})}"
               + (f" ({e['kwargs']['column']})" if e["kwargs"].get("column") else "")
               for e in contract.raw["expectations"] if e not in keep and e not in counted]
    columns = set(engine.frame(f"SELECT * FROM {view} LIMIT 0").columns)
    lines = LINE if LINE in columns and engine.numbers_lines else None
    checks = _validate_batch(engine, view, contract, keep, columns - {LINE}, params, table, source, unparsed, rows,
                             lines, row_label if lines else "row") if keep else []
    for check in checks:  # a passing column check had no failing rows among all of them
        if check.success and check.expectation.startswith("expect_column_values") and check.unexpected_count is None:
            check.unexpected_count, check.element_count = 0, rows
    for e in counted:
        column, meta = e["kwargs"]["column"], e.get("meta", {})
        extra, samples = duplicates(engine, view, column) if column in columns else (None, [])
        checks.append(Check(table=table, source=source, expectation=e["type"], column=column, severity=meta["severity"],
                            success=extra == 0, rule=rule_text(e["type"], e["kwargs"], params or {}),
                            hint=meta.get("hint", ""), unexpected_count=extra, element_count=rows, samples=samples,
                            row_label="row", error=None if column in columns else f"no column {column} in the input"))
    return checks, skipped, rows


def _validate_batch(engine: Any, view: str, contract: Contract, keep: list[dict[str, Any]], columns: set[str],
                    params: dict[str, Any] | None, table: str, source: str, unparsed: dict[str, Any] | None, rows: int,
                    lines: str | None, row_label: str) -> list[Check]:
    """The expectations `keep` of `contract` run by GX on the view, in the engine; failures name the rows'
    `lines` column when there is one."""
    import great_expectations as gx

    batch = engine.validation_batch(_gx_context(), view)
    # Pass/fail first: one bundled query per column on the engine. Counts and samples cost a scan per
    # expectation (a CSV parse each time on DuckDB, a job each on Spark), so only failures pay for them.
    # GX returns results grouped by column, not in suite order: each expectation carries its place in meta.
    numbered = [{**e, "meta": {**e.get("meta", {}), "order": i}} for i, e in enumerate(keep)]

    def run(expectations: list[dict[str, Any]], result_format: str) -> dict[int, Any]:
        suite = gx.ExpectationSuite(**{**contract.raw, "expectations": expectations})
        options: dict[str, Any] = {"result_format": result_format}
        if lines and result_format != "BOOLEAN_ONLY":  # GX fetches at most partial_unexpected_count of them
            options |= {"unexpected_index_column_names": [lines], "partial_unexpected_count": SAMPLES,
                        "return_unexpected_index_query": False}
        found = batch.validate(suite, result_format=options, expectation_parameters=params or {})
        return {r.expectation_config.meta["order"]: r for r in found.results}

    results = run(numbered, "BOOLEAN_ONLY")
    failed = [numbered[i] for i, r in sorted(results.items()) if not r.success]
    if failed:
        results.update(run(failed, "SUMMARY"))
    in_order = [results[i] for i in range(len(numbered))]
    return _checks(SimpleNamespace(results=in_order), contract, columns, params or {}, table, source, row_label,
                   dict(unparsed or {}), rows, lines)


def duplicates(engine: Any, view: str, column: str) -> tuple[int, list[Any]]:
    """(rows whose value of `column` repeats an earlier row's, the first SAMPLES repeated values in order) of a
    view: one count on the engine; the values only when there are repeats. Empty values are not compared."""
    col = '"' + column.replace('"', '""') + '"'
    extra = int(engine.frame(f"SELECT count({col}) - count(DISTINCT {col}) AS n FROM {view}")["n"].iloc[0])
    if not extra:
        return 0, []
    found = engine.frame(f"SELECT {col} AS v FROM {view} WHERE {col} IS NOT NULL GROUP BY {col} "
                         f"HAVING count(*) > 1 ORDER BY {col} LIMIT {SAMPLES}")
    return extra, list(found["v"])


def _ids(frame: pd.DataFrame, column: str) -> list[str]:
    return sorted(frame[column].dropna().astype(str).unique()) if column in frame else []


def _quiet_gx() -> None:
    from .engine import keep_pyspark_from_exiting

    keep_pyspark_from_exiting()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _gx_context() -> Any:
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def _validate(ctx: Any, contract: Contract, frame: pd.DataFrame, params: dict[str, Any], table: str, source: str,
              row_label: str, unparsed: dict[str, Any]) -> list[Check]:
    batch = (ctx.data_sources.add_pandas(f"src_{table}").add_dataframe_asset(table)
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    result = batch.validate(contract.suite, result_format={"result_format": "COMPLETE"},
                            expectation_parameters=params)
    return _checks(result, contract, set(frame.columns), params, table, source, row_label, unparsed, len(frame))


def _checks(result: Any, contract: Contract, columns: set[str], params: dict[str, Any], table: str, source: str,
            row_label: str, unparsed: dict[str, Any], n_rows: int, lines: str | None = None) -> list[Check]:
    """A GX validation result in the words of the report. `unparsed` maps a column to the values that did
    not parse: {row: text}, or (count, [texts], [their lines]) on an engine. `lines`: the column of an
    engine's view that numbers its rows (GX gives it back per failing row)."""
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
                      rows=_rows(res, lines), samples=list((res.get("partial_unexpected_list") or [])[:SAMPLES]),
                      observed=res.get("observed_value"), row_label=row_label, error=error)
        if cfg.type == "expect_table_row_count_to_be_between":
            check.rule = f"the {table} table has at least one row"
        if cfg.type == "expect_table_columns_to_match_set" and missing:
            check.rule = f"required column(s) missing: {', '.join(sorted(missing))}"
            check.column = ", ".join(sorted(missing))
        if cfg.type == "expect_column_values_to_be_in_type_list" and column in unparsed:
            bad = unparsed[column]
            if isinstance(bad, tuple):
                count, check.rows, check.samples = bad[0], list(bad[2])[:SAMPLES], list(bad[1])[:SAMPLES]
            else:
                count, check.rows, check.samples = len(bad), list(bad)[:SAMPLES], list(bad.values())[:SAMPLES]
            check.success, check.unexpected_count, check.element_count = False, count, n_rows
        if error and check.success is False and not check.unexpected_count:
            check.hint = check.hint or "check the column's values."
        checks.append(check)
    return checks


def _rows(res: dict[str, Any], lines: str | None) -> list[int]:
    """The rows of the failing values GX gave: pandas' index, or the `lines` column of an engine's view,
    in the order of the values (a row of a pair check is its first column's value)."""
    if not lines:
        return [int(i) for i in (res.get("unexpected_index_list") or [])[:SAMPLES]]
    return [int(r[lines]) for r in (res.get("partial_unexpected_index_list") or [])[:SAMPLES]]


def rule_text(kind: str, kw: dict[str, Any], params: dict[str, Any]) -> str:
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


def condition_text(condition: Any) -> str:
    """A GX row condition as the user reads it: ChargeCategory == "Usage"."""
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        return f'{condition["column"]["name"]} {condition["operator"]} {json.dumps(condition["parameter"])}'
    return str(condition)


def _jsonable(obj: Any) -> Any:
    """Make GX observed values (numpy, timestamps) safe for json.dump."""
    return json.loads(json.dumps(obj, default=str))
