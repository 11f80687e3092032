"""LiteLLM adapter: spend logs (CSV, CSV.gz, Parquet, several files), daily rollups, the token split and the cost
split, attribution, and the errors. List prices used by hand below (genai-prices, May-June 2025, USD per MTok):
gpt-4o input 2.5 / output 10 / cached 1.25; claude-3-5-sonnet input 3 / output 15 / cache read 0.3 / write 3.75."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boardpack.adapters import SOURCE_COLUMNS, USAGE_COLUMNS, Settings, litellm
from boardpack.exceptions import InputError
from boardpack.schema import SPEND_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "litellm"
MAY_TOTAL = 0.0125 + 0.0375 + 0.0303 + 0.00875 + 0.001 + 0.8 + 0.0125 + 0.04 + 0.00125  # req-05 excluded


@pytest.fixture(scope="module")
def logs():
    return litellm.read(FIXTURES / "spend_logs", Settings())


def _rows(frame: pd.DataFrame, **match) -> pd.DataFrame:
    for column, value in match.items():
        frame = frame[frame[column] == value]
    return frame


def _cost(frame: pd.DataFrame, **match) -> dict:
    rows = _rows(frame, **match)
    return {t: round(c, 10) for t, c in zip(rows["x_TokenType"], rows["EffectiveCost"])}


def test_frames_follow_the_contract(logs):
    assert list(logs.spend.columns) == list(SPEND_COLUMNS) + list(SOURCE_COLUMNS)
    assert list(logs.usage.columns) == list(USAGE_COLUMNS)
    assert str(logs.spend["ChargePeriodStart"].dtype) == "datetime64[us]"
    assert (logs.spend["BillingCurrency"] == "USD").all() and (logs.spend["x_Source"] == "litellm").all()
    assert (logs.spend["EffectiveCost"] == logs.spend["BilledCost"]).all()
    assert (logs.spend["ChargePeriodEnd"] - logs.spend["ChargePeriodStart"] == pd.Timedelta(days=1)).all()
    assert set(logs.spend["x_TokenType"].dropna()) <= {"input", "output", "cached_input", "cache_write"}


def test_totals_fixes_and_notes(logs):
    assert logs.spend["EffectiveCost"].sum() == pytest.approx(MAY_TOTAL) == pytest.approx(0.9438)
    assert dict(logs.fixes) == {"failed requests with zero spend excluded": 1,  # req-05 (req-06 cost money)
                                "cache tokens split from prompt_tokens": 2,  # req-03, req-04
                                "metadata not JSON → ignored": 1}  # req-10
    assert "9 requests, 1 file(s), spend logs" in logs.notes
    assert any("OpenAI/acme-finetune-x" in n and "1:4" in n for n in logs.notes)


def test_cost_split_by_list_price(logs):
    # req-01 + req-02 (same day, team, tags): 4000 in x 2.5 + 4000 out x 10 -> 0.05 split 1:4
    assert _cost(logs.spend, ProviderName="OpenAI", x_Model="gpt-4o", x_UseCaseId="UC-01") == {
        "input": 0.01, "output": 0.04}
    # req-03 Anthropic: prompt 10000 includes 6000 cache reads and 2000 cache writes -> input 2000;
    # weights 2000x3 + 1000x15 + 6000x0.3 + 2000x3.75 = 30300 for 0.0303
    claude = _rows(logs.spend, ProviderName="Anthropic")
    assert dict(zip(claude["x_TokenType"], claude["ConsumedQuantity"])) == {
        "input": 2000, "output": 1000, "cached_input": 6000, "cache_write": 2000}
    assert _cost(logs.spend, ProviderName="Anthropic") == {"input": 0.006, "output": 0.015, "cached_input": 0.0018,
                                                          "cache_write": 0.0075}
    # req-04: OpenAI prompt 2000 with 1000 cached -> 1000 x 2.5 + 1000 x 1.25 + 500 x 10 = 8750 for 0.00875
    assert _cost(logs.spend, x_AttributionKey="litellm.project:proj-9") == {
        "input": 0.0025, "cached_input": 0.00125, "output": 0.005}
    # req-07: a model the catalog lacks -> 1:4 -> 1000 x 1 + 1000 x 4 = 5000 for 0.8
    assert _cost(logs.spend, x_Model="acme-finetune-x") == {"input": 0.16, "output": 0.64}
    # req-06 failed but charged 0.001: kept, all on its 100 input tokens
    assert _cost(logs.spend, ChargePeriodStart=pd.Timestamp("2025-05-02"), x_AttributionKey="litellm.team:team-a") \
        == {"input": 0.001}
    # req-09 image generation: spend without tokens -> one row without token type
    image = _rows(logs.spend, x_Model="dall-e-3")
    assert len(image) == 1 and pd.isna(image["x_TokenType"].iloc[0]) and image["EffectiveCost"].iloc[0] == 0.04


def test_providers_models_and_times(logs):
    azure = _rows(logs.spend, ProviderName="Microsoft")
    assert set(azure["ServiceName"]) == {"Azure OpenAI"} and set(azure["x_Model"]) == {"gpt-4o"}  # "azure/" dropped
    assert set(azure["SkuId"]) == {"azure/gpt-4o"}
    assert set(_rows(logs.spend, ProviderName="Anthropic")["ServiceName"]) == {"Claude API"}
    # req-02 "2025-05-01 14:30:00.123" (no zone: UTC) and req-04 "2025-05-02T08:00:00+02:00" (06:00 UTC)
    assert _rows(logs.spend, x_UseCaseId="UC-01")["ChargePeriodStart"].unique().tolist() == [pd.Timestamp("2025-05-01")]
    assert _rows(logs.spend, x_AttributionKey="litellm.project:proj-9")["ChargePeriodStart"].iloc[0] == pd.Timestamp(
        "2025-05-02")
    assert logs.spend["BillingPeriodStart"].unique().tolist() == [pd.Timestamp("2025-05-01")]
    assert logs.spend["BillingPeriodEnd"].unique().tolist() == [pd.Timestamp("2025-06-01")]


def test_attribution(logs):
    uc01 = _rows(logs.spend, x_UseCaseId="UC-01")
    assert set(uc01["x_AttributionKey"]) == {"litellm.team:team-a"} and set(uc01["SubAccountId"]) == {"team-a"}
    assert set(_rows(logs.spend, x_Model="acme-finetune-x")["x_UseCaseId"]) == {"UC-07"}  # tag "uc=UC-07"
    claude = _rows(logs.spend, ProviderName="Anthropic")  # team from metadata user_api_key_team_id
    assert set(claude["x_AttributionKey"]) == {"litellm.team:team-b"}
    assert set(claude["Tags"]) == {'{"team_id":"team-b","team_alias":"Support"}'}
    proj = _rows(logs.spend, x_AttributionKey="litellm.project:proj-9")
    assert set(proj["x_BusinessUnit"]) == {"Finance"} and proj["x_UseCaseId"].isna().all()
    assert set(proj["Tags"]) == {'{"team_id":"team-a","project_id":"proj-9","tag:bu:Finance":true,'
                                 '"tag:feature:search":true}'}


def test_usage_rows(logs):
    usage = logs.usage
    assert (usage["x_Source"] == "litellm").all()
    assert usage["Tokens"].sum() == 4000 + 4000 + 2000 + 1000 + 6000 + 2000 + 1000 + 1000 + 500 + 100 + 1000 + 1000 \
        + 1000 + 1000 + 100 + 100
    row = _rows(usage, ProviderName="OpenAI", x_Model="gpt-4o", x_TokenType="input",
                Day=pd.Timestamp("2025-05-01")).iloc[0]
    assert row["Tokens"] == 4000 and row["Requests"] == 2 and row["x_AttributionKey"] == "litellm.team:team-a"


def test_several_files_csv_gz_and_parquet(tmp_path):
    folder = tmp_path / "litellm"
    (folder / "2025-05").mkdir(parents=True)
    source = FIXTURES / "spend_logs" / "LiteLLM_SpendLogs-2025-05.csv"
    with open(source, "rb") as src, gzip.open(folder / "2025-05" / "LiteLLM_SpendLogs.csv.gz", "wb") as dst:
        dst.write(src.read())
    june = pa.table({
        "request_id": ["j-1", "j-2"], "call_type": ["acompletion"] * 2, "api_key": ["k"] * 2,
        "spend": [0.0125, 0.025], "total_tokens": [2000, 4000], "prompt_tokens": [1000, 2000],
        "completion_tokens": [1000, 2000],
        "startTime": pa.array(pd.to_datetime(["2025-06-01 10:00", "2025-06-01 11:00"]), pa.timestamp("ms")),
        "model": ["gpt-4o", "gpt-4o"], "model_group": ["gpt-4o", "gpt-4o"], "custom_llm_provider": ["openai", "azure"],
        "metadata": ["{}", "{}"], "request_tags": pa.array([["use_case:UC-01"], []], pa.list_(pa.string())),
        "team_id": ["team-a", "team-a"], "status": ["success", "success"]})
    pq.write_table(june, folder / "LiteLLM_SpendLogs-2025-06.parquet")
    result = litellm.read(folder, Settings())
    assert result.spend["EffectiveCost"].sum() == pytest.approx(MAY_TOTAL + 0.0375)
    assert "11 requests, 2 file(s), spend logs" in result.notes
    june_rows = result.spend[result.spend["ChargePeriodStart"] == pd.Timestamp("2025-06-01")]
    assert _cost(june_rows, ProviderName="OpenAI") == {"input": 0.0025, "output": 0.01}
    assert _cost(june_rows, ProviderName="Microsoft") == {"input": 0.005, "output": 0.02}
    assert set(_rows(june_rows, ProviderName="OpenAI")["x_UseCaseId"]) == {"UC-01"}  # list<string> tags
    assert set(result.spend["x_SourceFile"]) == {"2025-05/LiteLLM_SpendLogs.csv.gz", "LiteLLM_SpendLogs-2025-06.parquet"}


def test_team_rollup_and_tag_rollup_ignored():
    result = litellm.read(FIXTURES / "rollups", Settings())
    assert "1 daily rollup file(s) by tag ignored: the rollup by team_id holds the same spend" in result.notes
    assert result.spend["EffectiveCost"].sum() == pytest.approx(0.05 + 0.0303 + 0.0045)
    assert _cost(result.spend, SubAccountId="team-a") == {"input": 0.01, "output": 0.04}
    assert _cost(result.spend, SubAccountId="team-b") == {"input": 0.006, "output": 0.015, "cached_input": 0.0018,
                                                          "cache_write": 0.0075}
    bedrock = _rows(result.spend, ProviderName="AWS")  # 1000 x 3 + 100 x 15 = 4500 for 0.0045
    assert _cost(bedrock) == {"input": 0.003, "output": 0.0015}
    assert set(bedrock["ServiceName"]) == {"Amazon Bedrock"}
    assert set(bedrock["x_AttributionKey"]) == {"litellm.team:team-c"}
    assert result.usage["Requests"].max() == 3 and result.fixes == {"cache tokens split from prompt_tokens": 1}


def test_tag_rollup_alone_warns_of_double_counting(tmp_path):
    shutil.copy(FIXTURES / "rollups" / "LiteLLM_DailyTagSpend.csv", tmp_path)
    result = litellm.read(tmp_path, Settings())
    assert any("counts once per tag" in n for n in result.notes)
    assert set(_rows(result.spend, x_UseCaseId="UC-01")["EffectiveCost"].round(10)) == {0.01, 0.04}
    assert set(result.spend["x_AttributionKey"].dropna()) == {"litellm.tag:feature:search"}


def test_spend_logs_win_over_rollups(tmp_path):
    shutil.copytree(FIXTURES / "spend_logs", tmp_path / "litellm")
    shutil.copy(FIXTURES / "rollups" / "LiteLLM_DailyTeamSpend.csv", tmp_path / "litellm")
    result = litellm.read(tmp_path / "litellm", Settings())
    assert result.spend["EffectiveCost"].sum() == pytest.approx(MAY_TOTAL)
    assert any("by team_id ignored: the spend logs hold the same requests" in n for n in result.notes)


@pytest.mark.parametrize("case, line, column, words", [
    ("bad_spend", 3, "spend", ["'0.01 USD' is not a number"]),
    ("bad_time", 2, "startTime", ["'yesterday' is not a date/time"]),
    ("bad_rollup_date", 3, "date", ["'May 2nd' is not a date"]),
    ("not_litellm", None, None, ["not a LiteLLM export"]),
])
def test_errors(case, line, column, words):
    with pytest.raises(InputError) as err:
        litellm.read(FIXTURES / "errors" / case, Settings())
    assert err.value.line == line and err.value.column == column
    for word in words + ["How to fix"]:
        assert word in str(err.value)


def test_empty_folder(tmp_path):
    result = litellm.read(tmp_path, Settings())
    assert result.spend.empty and result.usage.empty
