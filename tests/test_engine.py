"""One set of queries, two engines: every shipped query gives the same rows on DuckDB and on Spark.

The Spark tests share one local[1] session (conftest `spark`) and skip when pyspark is not installed;
`make test` installs it, so CI runs them.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boardpack import engine as eng
from boardpack import large
from boardpack.adapters import Settings, litellm
from boardpack.exceptions import InputError
from boardpack.schema import SPEND_COLUMNS

from .conftest import SAMPLE

LOG_HEADER = ("request_id,startTime,spend,prompt_tokens,completion_tokens,model,model_group,custom_llm_provider,"
              "team_id,status,request_tags,metadata")
# Every trap the typed query must treat alike on both engines: zones, bare dates, fractions, blanks, bad
# numbers, broken and nested JSON, cache tokens above prompt_tokens, failures with and without spend.
LOG_ROWS = [
    'r1,2025-05-01T12:00:00Z,0.5,1000,200,gpt-4o,gpt-4o,openai,team-a,success,"[""use_case:UC-01""]",'
    '"{""usage_object"":{""prompt_tokens_details"":{""cached_tokens"":400}}}"',
    'r2,2025-05-01 23:30:00+02:00,0.25,500,100,openai/gpt-4o-mini,,,,success,[],'
    '"{""user_api_key_team_id"":""team-b"",""user_api_key_team_alias"":""B""}"',
    "r3,2025-05-02,0,50,0,claude-3-5-sonnet,,anthropic,team-a,failure,,not json",
    'r4,2025-05-02T01:02:03.5,1.5,2000,300,claude-3-5-sonnet,,anthropic,,success,"[""bu:Finance""]",'
    '"{""usage_object"":{""cache_read_input_tokens"":3000,""cache_creation_input_tokens"":100},""project_id"":""p1""}"',
    "r5,2025-05-02T05:00:00-05:00,0.1,abc,10,gpt-4o,,openai,team-a,,,",
    "r6,,0.2,10,10,gpt-4o,,openai,team-a,,,",
    'r7,2025-05-03T00:00:00Z,,,,gemini-2.0-flash,,gemini,team-c,SUCCESS,,"{""status"":""failure""}"',
    "r8, 2025-05-03T10:00:00Z , 0.75 , 700 , 70 ,gpt-4o,,openai,team-a,success,,",
    'r9,2025-05-03T11:00:00Z,0,5,5,gpt-4o,,openai,team-a,success,,"[1,2]"',  # JSON, not an object: not broken
    "r10,2025-05-03T12:00:00Z,0,5,5,gpt-4o,,openai,team-a,success,,{}",
]


def _logs(folder, name="LiteLLM_SpendLogs.csv", rows=LOG_ROWS):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([LOG_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _logs_parquet(folder):
    """The good rows as a typed Parquet file: native timestamps and numbers, metadata as a struct."""
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table({
        "request_id": ["p1", "p2", "p3"],
        "startTime": pa.array(pd.to_datetime(["2025-05-01 12:00:00.250", "2025-05-01 23:59:59", "2025-05-02"], format="ISO8601"),
                              pa.timestamp("ms")),
        "spend": [0.5, 0.0, 2.25], "prompt_tokens": pa.array([1000, 10, 4000], pa.int64()),
        "completion_tokens": pa.array([200, 0, 100], pa.int64()),
        "model": ["gpt-4o", "gpt-4o", "claude-3-5-sonnet"], "model_group": [None, None, None],
        "custom_llm_provider": ["openai", "openai", "anthropic"], "team_id": ["team-a", None, "team-b"],
        "status": ["success", "failure", "success"], "request_tags": [["use_case:UC-01"], [], ["env:prod"]],
        "metadata": [{"usage_object": {"cache_read_input_tokens": 500}}, {"usage_object": None},
                     {"usage_object": {"cache_read_input_tokens": 100}}],
    })
    path = folder / "LiteLLM_SpendLogs.parquet"
    pq.write_table(table, path)
    return path


def _spend_csv(path, rows: list[dict]):
    columns = list(SPEND_COLUMNS) + list(dict.fromkeys(k for row in rows for k in row if k not in SPEND_COLUMNS))
    frame = pd.DataFrame([{c: row.get(c, "") for c in columns} for row in rows])
    frame.to_csv(path, index=False)
    return path


HOURLY = [  # three hours of one SKU on one day roll up to one row; a second day and a null use case stay apart
    {"BillingPeriodStart": "2025-05-01", "BillingPeriodEnd": "2025-06-01", "ChargePeriodStart": f"2025-05-01T{h:02d}:00:00Z",
     "ChargePeriodEnd": f"2025-05-01T{h + 1:02d}:00:00Z", "ProviderName": "AWS", "ServiceName": "Amazon Bedrock",
     "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "PricingCategory": "Standard", "SkuId": "sku-1",
     "ConsumedQuantity": str(1000 * (h + 1)), "ConsumedUnit": "Tokens", "ListUnitPrice": "0.003",
     "ListCost": str(3 * (h + 1)), "EffectiveCost": str(2.5 * (h + 1)), "BilledCost": str(2.5 * (h + 1)),
     "BillingCurrency": "USD", "x_UseCaseId": uc, "x_Model": "claude-3-5-sonnet", "x_TokenType": "input",
     "x_SpendModality": "api_tokens", "Tags": '{"team":"a"}'}
    for h in range(3) for uc in ("UC-01", "")
] + [
    {"BillingPeriodStart": "2025-05-01", "BillingPeriodEnd": "2025-06-01", "ChargePeriodStart": "2025-05-02 09:00:00+02:00",
     "ChargePeriodEnd": "2025-05-02T08:00:00Z", "ProviderName": "AWS", "ServiceName": "Amazon Bedrock",
     "ChargeCategory": "Usage", "SkuId": "sku-1", "ConsumedQuantity": "10", "EffectiveCost": "0.1",
     "BilledCost": "0.1", "BillingCurrency": "USD", "x_SpendModality": "api_tokens"},
]


# --- helpers ----------------------------------------------------------------------------------------------------

def _plain(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).as_unit("us").to_pydatetime()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, np.floating, int, float)):
        return float(value)
    return value


def assert_same_rows(duck: pd.DataFrame, spark: pd.DataFrame, sort: bool = False):
    """Same columns in the same order, same rows; numbers equal to 1e-9 relative."""
    assert list(duck.columns) == list(spark.columns)
    assert len(duck) == len(spark) and len(duck) > 0
    a = [tuple(_plain(v) for v in row) for row in duck.astype(object).itertuples(index=False)]
    b = [tuple(_plain(v) for v in row) for row in spark.astype(object).itertuples(index=False)]
    if sort:
        a, b = sorted(a, key=repr), sorted(b, key=repr)
    for ra, rb in zip(a, b):
        for column, x, y in zip(duck.columns, ra, rb):
            if isinstance(x, float) and isinstance(y, float):
                assert x == pytest.approx(y, rel=1e-9, abs=1e-12), (column, ra, rb)
            else:
                assert x == y, (column, ra, rb)


def _both(spark, register) -> tuple[eng.Engine, eng.Engine]:
    duck, spk = eng.DuckDBEngine(), eng.SparkEngine(session=spark)
    for engine in (duck, spk):
        register(engine)
    return duck, spk


def _run_both(spark, register, query: str, sort=False):
    duck, spk = _both(spark, register)
    try:
        expected = duck.frame(query) if " " in query else duck.run(query)
        got = spk.frame(query) if " " in query else spk.run(query)
    finally:
        duck.close(), spk.close()
    assert_same_rows(expected, got, sort=sort)
    return expected


def _register_logs(path):
    def register(engine):
        cols = {name.lower(): (name, "VARCHAR") for name in LOG_HEADER.split(",")}
        litellm.register_logs(engine, [([path], cols)])
    return register


# --- parity of every shipped query ------------------------------------------------------------------------------

PARITY = {}  # query name -> the test that proves it; a new .sql file without a parity test fails below


def covers(*names):
    def mark(fn):
        for name in names:
            PARITY[name] = fn.__name__
        return fn
    return mark


def test_every_shipped_query_has_a_parity_test():
    assert set(eng.shipped_queries()) == set(PARITY), "add a DuckDB-vs-Spark parity test for each query in boardpack/sql"


@pytest.mark.spark
@covers("gateway_requests")
def test_gateway_requests_same_on_both_engines(spark, tmp_path):
    rows = _run_both(spark, _register_logs(_logs(tmp_path / "litellm")), "SELECT * FROM gateway_requests", sort=True)
    by_id = rows.set_index("request_id")
    # the traps were really there: zones applied, broken JSON dropped and counted, a bad number kept as text
    assert by_id.loc["r2", "started_at"] == pd.Timestamp("2025-05-01 21:30:00")
    assert by_id.loc["r5", "started_at"] == pd.Timestamp("2025-05-02 10:00:00")
    assert by_id.loc["r3", "metadata_bad"] == 1 and by_id.loc["r1", "cache_read"] == 400
    assert pd.isna(by_id.loc["r5", "prompt_tokens"]) and by_id.loc["r5", "prompt_tokens_raw"] == "abc"
    assert by_id.loc["r7", "status"] == "success" and by_id.loc["r8", "spend"] == 0.75
    assert by_id.loc["r9", "metadata_bad"] == 0 and by_id.loc["r10", "metadata_bad"] == 0


@pytest.mark.spark
@covers("gateway_daily")
def test_gateway_daily_same_on_both_engines(spark, tmp_path):
    rows = _run_both(spark, _register_logs(_logs(tmp_path / "litellm")), "gateway_daily")
    good = rows[~rows["__bad"].astype(bool) & ~rows["__failed"].astype(bool)]
    assert rows["__bad"].astype(bool).sum() == 1  # r5 (bad number) and r6 (no time) share one group
    assert rows.loc[rows["__bad"].astype(bool), "requests"].sum() == 2
    assert rows.loc[rows["__failed"].astype(bool), "requests"].sum() == 1  # r3: failure with zero spend
    assert good["spend"].sum() == pytest.approx(0.5 + 0.25 + 1.5 + 0.75)
    assert good["fx_clamp"].sum() == 1 and good["fx_meta"].sum() == 0


@pytest.mark.spark
def test_gateway_queries_same_on_both_engines_from_typed_parquet(spark, tmp_path):
    path = _logs_parquet(tmp_path / "litellm")

    def register(engine):
        cols = {name.lower(): (name, "?") for name in pq.read_schema(path).names}
        litellm.register_logs(engine, [([path], cols)])
    rows = _run_both(spark, register, "gateway_daily")
    assert rows["requests"].sum() == 3 and rows["cached_input"].sum() == 600
    assert rows.loc[rows["__failed"].astype(bool), "requests"].sum() == 1


@pytest.mark.spark
@covers("spend_daily")
def test_spend_daily_same_on_both_engines(spark, tmp_path):
    path = _spend_csv(tmp_path / "spend.csv", HOURLY)

    def register(engine):
        engine.register_files("spend_text", [path], "csv", {c: c for c in SPEND_COLUMNS}, SPEND_COLUMNS)
        engine.create_view("spend_rows", eng.typed_select("spend_text", SPEND_COLUMNS))
    rows = _run_both(spark, register, "spend_daily")
    assert len(rows) == 3  # 6 hourly rows -> 2 (with and without a use case), plus the next day's row
    attributed = rows[rows["x_UseCaseId"] == "UC-01"].iloc[0]
    assert attributed["ConsumedQuantity"] == 6000 and attributed["EffectiveCost"] == pytest.approx(15.0)
    assert attributed["ChargePeriodStart"] == pd.Timestamp("2025-05-01 00:00")
    assert attributed["ChargePeriodEnd"] == pd.Timestamp("2025-05-01 03:00") and attributed["source_rows"] == 3
    assert rows["ChargePeriodStart"].iloc[-1] == pd.Timestamp("2025-05-02 07:00")  # +02:00 applied


@pytest.mark.spark
def test_typing_and_unparsed_counts_same_on_both_engines(spark, tmp_path):
    bad = [dict(HOURLY[0], EffectiveCost="12,5", ChargePeriodStart="2025-13-01"), dict(HOURLY[1], ListCost="$3")]
    path = _spend_csv(tmp_path / "spend.csv", HOURLY + bad)

    def register(engine):
        engine.register_files("spend_text", [path], "csv", {c: c for c in SPEND_COLUMNS}, SPEND_COLUMNS)
    counts = _run_both(spark, register, eng.unparsed_select("spend_text", SPEND_COLUMNS))
    assert counts.iloc[0][["EffectiveCost", "ChargePeriodStart", "ListCost"]].tolist() == [1, 1, 1]
    assert counts.iloc[0].drop(["EffectiveCost", "ChargePeriodStart", "ListCost"]).sum() == 0
    _run_both(spark, register, eng.typed_select("spend_text", SPEND_COLUMNS) + " ORDER BY \"ChargePeriodStart\" "
              "NULLS LAST, \"x_UseCaseId\" NULLS LAST, \"ListCost\" NULLS LAST")


# --- the adapter and the contracts on Spark ---------------------------------------------------------------------

@pytest.mark.spark
def test_litellm_adapter_gives_the_same_spend_on_spark(spark, tmp_path):
    folder = tmp_path / "litellm"
    _logs(folder, rows=[r for r in LOG_ROWS if not r.startswith(("r5", "r6"))])
    on_duck = litellm.read(folder, Settings())
    with eng.SparkEngine(session=spark) as spk:
        on_spark = litellm.read(folder, Settings(engine=spk))
    pd.testing.assert_frame_equal(on_duck.spend, on_spark.spend, check_dtype=False)
    pd.testing.assert_frame_equal(on_duck.usage, on_spark.usage, check_dtype=False)
    assert on_duck.fixes == on_spark.fixes and len(on_duck.spend)
    assert [c.success for c in on_duck.checks] == [c.success for c in on_spark.checks] and on_spark.checks


@pytest.mark.spark
def test_spend_contract_on_spark_names_column_count_and_values(spark, tmp_path):
    rows = HOURLY + [dict(HOURLY[0], EffectiveCost="-4", BilledCost="-4"), dict(HOURLY[1], ListCost="$3")]
    path = _spend_csv(tmp_path / "spend.csv", rows)
    params = {"use_case_ids": ["UC-01"], "model_ids": ["claude-3-5-sonnet"], "currencies": ["USD"]}
    with eng.SparkEngine(session=spark) as spk:
        got = large.read_spend(spk, path, params, 5_000_000)
    rolled, checks, read = got.rollup, got.checks, got.rows
    assert read == len(rows)
    failed = {(c.column, c.expectation): c for c in checks if not c.success}
    negative = failed[("EffectiveCost", "expect_column_values_to_be_between")]
    # a negative usage cost is a correction to check (a warning), not a stop
    assert negative.severity == "warning" and negative.unexpected_count == 1 and negative.samples == [-4.0]
    money = failed[("ListCost", "expect_column_values_to_be_in_type_list")]
    assert money.severity == "critical" and money.unexpected_count == 1 and money.samples == ["$3"]
    assert money.element_count == len(rows)
    assert money.observed == "StringType"  # the column stayed text on Spark, so GX itself saw it fail
    assert rolled.empty  # a critical failure: nothing is rolled up


def test_the_spend_table_on_the_engine_gives_the_numbers_of_a_pandas_read(tmp_path):
    """Every spend table, whatever its size, is read, typed and rolled up on the engine: its rollup is the one
    pandas makes of the same file, read as text and typed row by row (ingest.coerce)."""
    from boardpack import steps
    from boardpack.ingest import coerce, read_raw
    from boardpack.schema import SPEND_COLUMNS

    steps.validate(None, SAMPLE, None, tmp_path / "engine")
    by_pandas = large.rollup_pandas(coerce(read_raw(SAMPLE / "spend.csv"), SPEND_COLUMNS)[0])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "engine" / "tables" / "spend.parquet"),
                                  by_pandas.reset_index(drop=True))
    checks = json.loads((tmp_path / "engine" / "validation.json").read_text())["checks"]
    spend = [c for c in checks if c["table"] == "spend"]
    # checked in DuckDB through GX's SQL datasource; a failure there names the file's lines
    assert spend and all(c["success"] and c["row_label"] == "line" for c in spend)
    inputs = {i["table"]: i for i in json.loads((tmp_path / "engine" / "provenance.json").read_text())["inputs"]}
    assert inputs["spend"]["rows"] == len((SAMPLE / "spend.csv").read_text().splitlines()) - 1  # read, not rolled up


def test_spend_failures_on_duckdb_name_the_lines_of_the_file(tmp_path):
    """The same bad rows as the Spark test: on DuckDB each failure names its line (header = line 1)."""
    rows = HOURLY + [dict(HOURLY[0], EffectiveCost="-4", BilledCost="-4"), dict(HOURLY[1], ListCost="$3")]
    path = _spend_csv(tmp_path / "spend.csv", rows)
    params = {"use_case_ids": ["UC-01"], "model_ids": ["claude-3-5-sonnet"], "currencies": ["USD"]}
    with eng.DuckDBEngine() as duck:
        got = large.read_spend(duck, path, params, 5_000_000)
    failed = {(c.column, c.expectation): c for c in got.checks if not c.success}
    negative = failed[("EffectiveCost", "expect_column_values_to_be_between")]
    assert (negative.rows, negative.samples, negative.row_label) == ([len(HOURLY) + 2], [-4.0], "line")
    money = failed[("ListCost", "expect_column_values_to_be_in_type_list")]
    assert (money.rows, money.samples, money.unexpected_count) == ([len(HOURLY) + 3], ["$3"], 1)
    assert got.rollup.empty  # a critical failure: nothing is rolled up


def test_a_short_line_near_the_top_of_a_spend_file_is_refused_not_skipped(tmp_path):
    """DuckDB's CSV sniffer, given rows of unequal length near the top, decides the data starts lower down and
    skips the rows above it without a word (read_csv with header=true then returned no rows at all). The spend
    table is read strictly: the bad line is named and nothing is dropped."""
    path = _spend_csv(tmp_path / "spend.csv", HOURLY)
    lines = path.read_text().splitlines()
    lines[2] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    with eng.DuckDBEngine() as duck, pytest.raises(InputError) as e:
        large.read_spend(duck, path, {"use_case_ids": [], "model_ids": [], "currencies": ["USD"]}, 5_000_000)
    assert e.value.line == 3 and "malformed CSV" in str(e.value) and "fields where the header has" in str(e.value)


@pytest.mark.parametrize("on", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_exact_repeats_of_spend_rows_count_once_on_every_engine(on, tmp_path, request):
    """The same export appended to itself: each repeated row counts once, its money is kept for the ledger as
    superseded, and a warning says how many; a row that differs in any column, even one the pack does not
    read, is a charge of its own."""
    extra = [dict(r, Note="a") for r in HOURLY[:3]]
    rows = extra + extra[:2] + [dict(HOURLY[0], Note="b")]  # two repeats; the last differs only in Note
    path = _spend_csv(tmp_path / "spend.csv", rows)
    params = {"use_case_ids": ["UC-01"], "model_ids": ["claude-3-5-sonnet"], "currencies": ["USD"]}
    engine = eng.DuckDBEngine() if on == "duckdb" else eng.SparkEngine(session=request.getfixturevalue("spark"))
    with engine:
        got = large.read_spend(engine, path, params, 5_000_000)
    repeated = next(c for c in got.checks if c.expectation == "expect_compound_columns_to_be_unique")
    assert (repeated.severity, repeated.success, repeated.unexpected_count) == ("warning", False, 2)
    if on == "duckdb":
        assert repeated.rows == [5, 6] and repeated.samples == ["repeats line 2", "repeats line 3"]
    once = sum(float(r["EffectiveCost"]) for r in extra) + float(HOURLY[0]["EffectiveCost"])
    assert got.rollup["EffectiveCost"].sum() == pytest.approx(once)
    assert got.excluded["EffectiveCost"].sum() == pytest.approx(sum(float(r["EffectiveCost"]) for r in extra[:2]))
    assert got.rows == len(rows) and int(got.excluded["Rows"].sum()) == 2


def test_gateway_contract_stops_a_negative_spend_on_duckdb(tmp_path):
    folder = tmp_path / "litellm"
    _logs(folder, rows=[LOG_ROWS[0], LOG_ROWS[0].replace("r1,", "r9,").replace(",0.5,", ",-0.5,", 1)])
    out = litellm.read(folder, Settings())
    failed = [c for c in out.checks if not c.success]
    assert [(c.column, c.severity, c.unexpected_count, c.samples) for c in failed] == [("spend", "critical", 1, [-0.5])]
    assert "values >= 0" in failed[0].rule and "LiteLLM_SpendLogs.csv" in failed[0].source


def test_duplicate_request_ids_are_found_at_every_size(tmp_path):
    """A log exported twice doubles the spend: uniqueness of request_id is checked however many rows there are
    (one count on the engine), even where every expectation marked expensive would be skipped."""
    from boardpack import contracts

    folder = tmp_path / "litellm"
    rows = [r for r in LOG_ROWS if not r.startswith(("r5", "r6"))]
    log = _logs(folder, rows=rows + [r for r in rows if r.startswith(("r1,", "r8,"))])  # r1 and r8 exported twice
    out = litellm.read(folder, Settings(expensive_check_rows=0))
    unique = next(c for c in out.checks if c.expectation == "expect_column_values_to_be_unique")
    assert (unique.success, unique.severity, unique.column) == (False, "warning", "request_id")
    assert (unique.unexpected_count, unique.element_count, unique.samples) == (2, 10, ["r1", "r8"])
    assert unique.rule == "no duplicate values" and "exported twice" in unique.hint
    report = contracts.describe(unique)
    assert log.name in report and "failing: 2 of 10 rows" in report and "'r1', 'r8'" in report
    assert not [n for n in out.notes if "not checked" in n]
    _logs(tmp_path / "clean", rows=rows)
    clean = litellm.read(tmp_path / "clean", Settings(expensive_check_rows=0))
    assert next(c for c in clean.checks if c.expectation == "expect_column_values_to_be_unique").success


@pytest.mark.spark
def test_duplicate_count_same_on_both_engines(spark, tmp_path):
    from boardpack import contracts

    rows = [r for r in LOG_ROWS if not r.startswith(("r5", "r6"))]
    path = _logs(tmp_path / "litellm", rows=rows + rows[:3] + rows[:1])  # r1 three times, r2 and r3 twice
    duck, spk = _both(spark, _register_logs(path))
    try:
        found = [contracts.duplicates(engine, "gateway_requests", "request_id") for engine in (duck, spk)]
    finally:
        duck.close(), spk.close()
    assert found[0] == found[1] == (4, ["r1", "r2", "r3"])


# --- clear errors when Spark cannot start -----------------------------------------------------------------------

def test_missing_pyspark_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(eng.EngineError, match=r"(?s)needs pyspark.*make venv ENGINE=spark"):
        eng.spark_session(eng.EngineSettings(name="spark"))


def test_missing_java_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(eng.EngineError, match=r"(?s)Java 17.*openjdk-17-jre-headless"):
        eng.check_java()


def test_old_java_is_refused(monkeypatch, tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_392"\' >&2\n')
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(eng.EngineError, match="is Java 8"):
        eng.check_java()


def test_unknown_engine_is_refused():
    with pytest.raises(eng.EngineError, match="duckdb, spark"):
        eng.open_engine(eng.EngineSettings(name="presto"))


@pytest.mark.spark
def test_raw_folder_on_spark_gives_the_duckdb_numbers(spark, tmp_path):
    """A folder of vendor exports (gateway log included) through the Spark engine: the same metrics."""
    from boardpack import steps

    from . import mixed_sources

    data = tmp_path / "data"
    mixed_sources.write(data)
    steps.validate("2026-Q3", data, None, tmp_path / "duck")
    steps.validate("2026-Q3", data, None, tmp_path / "spark", engine="spark")  # joins the session fixture
    assert steps.compute(tmp_path / "spark", None) == steps.compute(tmp_path / "duck", None)
    sources = json.loads((tmp_path / "spark" / "sources.json").read_text())["sources"]
    assert sources["focus"]["spend_rows"] and sources["litellm"]["spend_rows"]  # both large sources on Spark
    gateway = [c for c in json.loads((tmp_path / "spark" / "validation.json").read_text())["checks"]
               if c["table"] == "gateway_logs"]
    assert gateway and all(c["success"] for c in gateway)


def test_a_negative_gateway_spend_stops_the_run_naming_the_file(tmp_path):
    from boardpack import steps
    from boardpack.exceptions import ContractError

    from . import mixed_sources

    data = tmp_path / "data"
    mixed_sources.write(data)
    log = next((data / "litellm").glob("*.csv"))
    with log.open(newline="") as f:
        rows = list(csv.reader(f))
    rows.append(list(rows[1]))
    rows[-1][rows[0].index("spend")] = "-2.5"
    with log.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    with pytest.raises(ContractError) as stop:
        steps.validate("2026-Q3", data, None, tmp_path / "out")
    report = str(stop.value)
    assert "[CRITICAL]" in report and log.name in report and "spend" in report and "failing: 1 of" in report
    assert not (tmp_path / "out" / "metrics.json").exists()


# --- FOCUS: stage 1 of the adapter on both engines --------------------------------------------------------------

def _focus_groups(folder):
    from collections import defaultdict

    from boardpack.adapters import files_in, focus

    con = eng.DuckDBEngine()
    try:
        layouts = [focus._layout(con.con, f) for f in files_in(folder, *focus.PATTERNS)]
    finally:
        con.close()
    grouped = defaultdict(list)
    for layout in layouts:
        grouped[(layout.kind, tuple(sorted(layout.columns.items())))].append(layout)
    return list(grouped.values())


@pytest.mark.spark
@pytest.mark.parametrize("export", ["dirty", "spec-examples"])
def test_focus_stage_one_same_on_both_engines(spark, tmp_path, export):
    """The FOCUS rules that run on every row (US dates, offsets, `$1,234.50`, NULL strings, the AI filter)
    give the same stage-1 aggregate on DuckDB and on Spark, CSV, CSV.gz and typed Parquet alike."""
    from boardpack.adapters import focus

    from .test_adapter_focus import FIXTURES, KEEP_ALL, _export

    folder = _export(tmp_path) if export == "dirty" else FIXTURES / export
    settings = Settings() if export == "dirty" else KEEP_ALL
    groups = _focus_groups(folder)
    stage1, _ = focus._fast_queries(settings)
    sort = " ORDER BY " + ", ".join(f"{c} NULLS LAST" for c in ("__file", "__ps", "__pe", '"ServiceName__v"',
                                                                  '"SkuId__v"', '"ChargeCategory__v"', '"Tags__v"',
                                                                  "EffectiveCost", "__rows"))
    rows = _run_both(spark, lambda engine: focus.register(engine, groups), stage1 + sort, sort=True)
    assert rows["__rows"].sum() > 0 and rows["__kept"].astype(bool).any()


@pytest.mark.spark
def test_focus_adapter_gives_the_same_spend_on_spark(spark, tmp_path):
    from boardpack.adapters import focus

    from .test_adapter_focus import _export

    folder = _export(tmp_path)
    on_duck = focus.read(folder, Settings())
    with eng.SparkEngine(session=spark) as spk:
        on_spark = focus.read(folder, Settings(engine=spk))
    pd.testing.assert_frame_equal(on_duck.spend, on_spark.spend, check_dtype=False)
    pd.testing.assert_frame_equal(on_duck.usage, on_spark.usage, check_dtype=False)
    assert on_duck.fixes == on_spark.fixes and sum(on_duck.fixes.values()) > 10


FOCUS_HEADER = ("BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeFrequency,PricingCategory,"
                "ProviderName,ServiceCategory,ServiceName,SkuId,EffectiveCost,BilledCost,Tags")
FOCUS_ODD = [  # the lenient rules the spec fixtures do not reach: US dates, money text, offsets without colon
    'usd,5/1/25,5/2/25,Usage,Usage-Based,Standard,OpenAI,AI and Machine Learning,OpenAI API,gpt-4o:input,'
    '"$1,234.50","$1,234.50",{}',
    'USD,05/01/2025 1:30 PM,05/01/2025 2:30 PM,usage,usage-based,standard,OpenAI,AI and Machine Learning,OpenAI API,'
    'gpt-4o:output,"1,000.25","1,000.25",{}',
    "USD,2025-05-03 9:00:00 UTC,2025-05-03 10:00:00 UTC,Usage,Usage-Based,Standard,OpenAI,AI and Machine Learning,"
    "OpenAI API,gpt-4o:input,12.5,12.5,{}",
    "USD,2025-05-04T10:00:00+0200,2025-05-04T11:00:00+02,Usage,Usage-Based,Standard,OpenAI,AI and Machine Learning,"
    "OpenAI API,gpt-4o:input, 3 ,3,{}",
    "USD,2025-05-05 23:00:00 -05:00,2025-05-06 00:00:00 -05:00,Usage,Usage-Based,Standard,OpenAI,"
    "AI and Machine Learning,OpenAI API,gpt-4o:input,NULL,4,{}",
    "USD,12/31/99 12:00 AM,1/1/2000,Usage,Usage-Based,Standard,OpenAI,AI and Machine Learning,OpenAI API,"
    "gpt-4o:input,5,5,{}",
]


@pytest.mark.spark
def test_focus_lenient_rules_same_on_spark(spark, tmp_path):
    from boardpack.adapters import focus

    folder = tmp_path / "focus"
    folder.mkdir()
    (folder / "odd.csv").write_text("\n".join([FOCUS_HEADER, *FOCUS_ODD]) + "\n", encoding="utf-8")
    on_duck = focus.read(folder, Settings())
    with eng.SparkEngine(session=spark) as spk:
        on_spark = focus.read(folder, Settings(engine=spk))
    pd.testing.assert_frame_equal(on_duck.spend, on_spark.spend, check_dtype=False)
    assert on_duck.fixes == on_spark.fixes
    for rule in (focus.FIX_TS[4], focus.FIX_NUMBER, focus.FIX_TS[2], focus.FIX_TS[1], focus.FIX_NULL):
        assert on_spark.fixes[rule] > 0, rule
    # to the day in UTC: 10:00+0200 is the 4th, 23:00-05:00 the 6th, 12/31/99 12:00 AM is 1999
    assert set(on_spark.spend["ChargePeriodStart"]) == {pd.Timestamp(d) for d in (
        "1999-12-31", "2025-05-01", "2025-05-03", "2025-05-04", "2025-05-06")}
    assert on_spark.spend["EffectiveCost"].sum() == pytest.approx(1234.50 + 1000.25 + 12.5 + 3 + 4 + 5)


@pytest.mark.spark
@pytest.mark.parametrize("case", ["bad_cost", "bad_date", "day_first", "bad_enum", "bad_currency", "bad_tags"])
def test_focus_errors_are_the_same_on_spark(spark, case):
    from boardpack.adapters import focus
    from boardpack.exceptions import InputError

    from .test_adapter_focus import FIXTURES

    errors = []
    for settings in (Settings(), None):
        with pytest.raises(InputError) as err:
            if settings is None:
                with eng.SparkEngine(session=spark) as spk:
                    focus.read(FIXTURES / "errors" / case, Settings(engine=spk))
            else:
                focus.read(FIXTURES / "errors" / case, settings)
        errors.append((err.value.line, err.value.column, err.value.problem))
    assert errors[0] == errors[1]
