"""FOCUS adapter: the spec's examples, a dirty multi-cloud export (CSV, CSV.gz, Parquet, 1.0 and 1.3 files) and
the errors that must stop a run. Expected numbers are worked out by hand from the fixture rows (see comments)."""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boardpack.adapters import SOURCE_COLUMNS, Settings, focus
from boardpack.ai_catalog import Catalog, Rule
from boardpack.exceptions import ConfigError, InputError
from boardpack.schema import SPEND_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "focus"
# the spec examples are not AI rows: keep every named service
KEEP_ALL = Settings(ai_catalog=Catalog((Rule("ServiceName", ".", "auto"),), "test: every service"))


def _export(tmp_path: Path) -> Path:
    """The dirty export as a user would have it: the Azure file gzipped, the GCP file as typed Parquet."""
    folder = tmp_path / "focus"
    shutil.copytree(FIXTURES / "export", folder)
    azure = folder / "azure" / "focus-azure.csv"
    with open(azure, "rb") as src, gzip.open(azure.with_suffix(".csv.gz"), "wb") as dst:
        dst.write(src.read())
    azure.unlink()
    gcp = folder / "gcp" / "focus-gcp.csv"
    frame = pd.read_csv(gcp, dtype=str, keep_default_na=False).replace("", None)
    for column in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        frame[column] = pd.to_datetime(frame[column], utc=True)  # Parquet TIMESTAMP WITH TIME ZONE
    for column in ("ConsumedQuantity", "PricingQuantity", "ListUnitPrice", "ListCost", "ContractedCost",
                   "EffectiveCost", "BilledCost"):
        frame[column] = frame[column].astype(float)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), gcp.with_suffix(".parquet"))
    gcp.unlink()
    return folder


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    return focus.read(_export(tmp_path_factory.mktemp("export")), Settings())


def _one(spend: pd.DataFrame, **match) -> pd.Series:
    rows = spend
    for column, value in match.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, f"{match}: {len(rows)} rows"
    return rows.iloc[0]


# --- the FOCUS 1.2 specification's examples --------------------------------------------------------------------

def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", "").strip())


def test_spec_examples_parse(tmp_path):
    """Every SaaS example of the spec parses: US dates (5/1/25) and amounts like "$50,000.00 " are normalised
    and counted; the totals match an independent reading of the same CSVs with the csv module."""
    result = focus.read(FIXTURES / "spec-examples", KEEP_ALL)
    effective = billed = 0.0
    kept = dropped = us_dates = formatted = 0
    for path in sorted((FIXTURES / "spec-examples").rglob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if not row.get("ServiceName"):
                    dropped += 1
                    continue
                kept += 1
                effective += _money(row["EffectiveCost"])
                billed += _money(row["BilledCost"])
                us_dates += sum(1 for c in focus.TIME_COLUMNS if "/" in (row.get(c) or ""))
                formatted += sum(1 for c in ("ListUnitPrice", "ListCost", "ContractedCost", "EffectiveCost",
                                             "BilledCost") if any(x in (row.get(c) or "") for x in "$,"))
    assert kept == 54 and dropped == 2  # 56 data rows in 15 files; 2 purchase rows name no service
    assert result.spend["EffectiveCost"].sum() == pytest.approx(effective) == pytest.approx(153_940.0)
    assert result.spend["BilledCost"].sum() == pytest.approx(billed) == pytest.approx(502_200.0)
    assert result.fixes["US date M/D/Y → ISO"] == us_dates == 216
    # 7 rows of simple_agreements x 5 money columns read (ListUnitPrice, ListCost, ContractedCost, EffectiveCost,
    # BilledCost); ContractedUnitPrice is not read
    assert result.fixes["number with currency symbol or thousands separators → plain number"] == formatted == 35
    assert result.fixes["non-AI rows dropped"] == 2
    # simple_saas_agreements_c: three monthly usage rows "$10,100.00 ", "$13,000.00 ", "$12,700.00 " from 4/1/25
    c = result.spend[result.spend["x_SourceFile"] == "simple_agreements/simple_saas_agreements_c.csv"]
    assert c["EffectiveCost"].tolist() == [10_100.0, 13_000.0, 12_700.0]
    assert c["ChargePeriodStart"].tolist() == [pd.Timestamp(f"2025-0{m}-01") for m in (4, 5, 6)]
    assert c["ChargePeriodEnd"].tolist() == [pd.Timestamp(f"2025-0{m}-01") for m in (5, 6, 7)]
    assert result.spend["ChargePeriodStart"].min() == pd.Timestamp("2025-04-01")  # never year 0005
    assert result.spend["ChargePeriodEnd"].max() == pd.Timestamp("2026-04-01")


def test_spec_commitment_example_lacks_mandatory_columns():
    with pytest.raises(InputError) as err:
        focus.read(FIXTURES / "spec-examples-commitment", KEEP_ALL)
    assert err.value.column == "ProviderName"
    assert "ProviderName, ServiceName, BillingCurrency" in str(err.value) and "How to fix" in str(err.value)


# --- a dirty export from four clouds ---------------------------------------------------------------------------

def test_frames_follow_the_contract(dirty):
    assert list(dirty.spend.columns) == list(SPEND_COLUMNS) + list(SOURCE_COLUMNS)
    for column in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        assert str(dirty.spend[column].dtype) == "datetime64[us]"
    assert (dirty.spend["x_Source"] == "focus").all()
    assert set(dirty.spend["x_SpendModality"]) <= {"api_tokens", "self_hosted", "platform"}
    assert dirty.spend["BillingCurrency"].isin(["USD", "EUR"]).all()
    assert sorted(dirty.spend["x_SourceFile"].unique()) == [
        "aws/2025-05/focus-00001.csv", "azure/focus-azure.csv.gz", "gcp/focus-gcp.parquet", "oci/focus-1.0.csv",
        "other/focus-1.3.csv"]


def test_rows_kept_dropped_and_totals(dirty):
    # 21 data rows in 5 files; dropped: EC2, S3, Azure VM, Cloud Storage (the GCE A100 GPU is AI capacity)
    assert "17 AI rows kept, 4 other rows dropped, from 5 file(s)" in dirty.notes
    assert dirty.fixes["non-AI rows dropped"] == 4
    assert "dropped by ServiceCategory: Compute 2, Storage 2" in dirty.notes
    assert len(dirty.spend) == 16  # the two Bedrock input hours of 2025-05-01 make one day row
    by_currency = dirty.spend.groupby("BillingCurrency")["EffectiveCost"].sum()
    assert by_currency["EUR"] == pytest.approx(5 + 1 + 0.625 - 0.5)
    # AWS 3 + 3 + 1.5 + 36.36 - 1.25; GCP 5 + 5 + 0.8 + 70.416 (GPU); OCI 7.5 - 2.5; OpenAI (1.3 file) 1.5 + 0.6
    assert by_currency["USD"] == pytest.approx(42.61 + 10.8 + 70.416 + 5.0 + 2.1)
    assert dirty.spend["BilledCost"].sum() == pytest.approx(6.125 + 60.51 + 70.416)


def test_every_fix_is_counted(dirty):
    assert dict(dirty.fixes) == {
        "non-AI rows dropped": 4,
        "literal NULL → null": 4,               # Azure: ListUnitPrice, ContractedCost, Tags ("null"), SkuId
        "timestamp without T/Z → UTC": 4,       # Azure rows 1 and 3: ChargePeriodStart and ChargePeriodEnd
        "timestamp with UTC offset → UTC": 2,   # Azure row 2: +02:00
        "date-only → 00:00 UTC": 4,             # Azure row 1 billing period, row 5 charge period
        "ChargeCategory case → FOCUS value": 3,  # usage, USAGE, adjustment
        "ChargeFrequency case → FOCUS value": 3,  # Usage-based, usage-based, one-time
        "PricingCategory case → FOCUS value": 1,  # standard
        "PricingCategory 1.0-preview value → 1.2": 1,  # OCI On-Demand
        "BillingCurrency upper-cased": 1,       # eur
        "ConsumedUnit in 1000s/millions of tokens → Tokens": 3,  # Azure "1K Tokens"
        "Tags without braces → JSON object": 1,
        "FOCUS 1.3 column name → 1.2 name": 2,  # ServiceProviderName, HostProviderName
    }
    assert "extra column ignored: ResourceGroupName (1 file)" in dirty.notes
    assert not any("x_CostCenter" in note for note in dirty.notes)
    assert "column SkuMeter absent from 2 files: read as null" in dirty.notes  # the 1.0 and 1.3 files


def test_azure_dirty_rows_normalised(dirty):
    inp = _one(dirty.spend, SkuId="DZH318Z0BQ4L")
    assert inp["ChargePeriodStart"] == pd.Timestamp("2025-05-02") and inp["ChargePeriodEnd"] == pd.Timestamp("2025-05-03")
    assert inp["BillingPeriodStart"] == pd.Timestamp("2025-05-01")
    assert (inp["ChargeCategory"], inp["ChargeFrequency"], inp["PricingCategory"]) == ("Usage", "Usage-Based", "Standard")
    assert inp["BillingCurrency"] == "EUR"
    assert inp["ConsumedQuantity"] == 2_000_000 and inp["ConsumedUnit"] == "Tokens"  # 2000 x "1K Tokens"
    assert inp["PricingQuantity"] == 2000 and inp["PricingUnit"] == "1K Tokens"  # pricing units stay as billed
    assert (inp["x_Model"], inp["x_TokenType"], inp["x_SpendModality"]) == ("gpt-4o-0806", "input", "api_tokens")
    assert inp["Tags"] == '{"project":"beta","cost_center":"CC-100"}'
    assert (inp["x_BusinessUnit"], inp["x_AttributionKey"]) == ("CC-100", "focus.tag:project=beta")
    out = _one(dirty.spend, SkuId="DZH318Z0BQ4M")  # 2025-05-02T02:00:00+02:00 is midnight UTC
    assert out["ChargePeriodStart"] == pd.Timestamp("2025-05-02") and out["x_TokenType"] == "output"
    assert pd.isna(out["ListUnitPrice"]) and pd.isna(out["ContractedCost"])  # literal NULL
    cached = _one(dirty.spend, SkuId="DZH318Z0BQ4N")
    assert cached["x_TokenType"] == "cached_input" and pd.isna(cached["Tags"])
    assert cached["x_AttributionKey"] == "focus.subaccount:sub-1"
    adjustment = _one(dirty.spend, ChargeCategory="Adjustment")
    assert adjustment["EffectiveCost"] == -0.5 and pd.isna(adjustment["SkuId"])
    assert adjustment["ChargeFrequency"] == "One-Time"
    assert adjustment["ChargePeriodEnd"] == pd.Timestamp("2025-06-01")  # a month-long row keeps its period


def test_aws_rows_aggregate_to_the_day(dirty):
    inp = _one(dirty.spend, SkuId="SKU-CL35-IN")  # hours 00-01 and 01-02: 1,000,000 + 500,000 tokens
    assert inp["ConsumedQuantity"] == 1_500_000 and inp["EffectiveCost"] == 4.5 and inp["ListCost"] == 4.5
    assert inp["ListUnitPrice"] == 3 and inp["PricingQuantity"] == 1.5
    assert (inp["ChargePeriodStart"], inp["ChargePeriodEnd"]) == (pd.Timestamp("2025-05-01"), pd.Timestamp("2025-05-02"))
    assert (inp["x_Model"], inp["x_TokenType"]) == ("claude-3-5-sonnet", "input")
    assert (inp["x_UseCaseId"], inp["x_AttributionKey"]) == ("UC-01", "focus.tag:project=alpha")  # "user:" prefix
    assert inp["PublisherName"] == "Anthropic"
    credit = _one(dirty.spend, ProviderName="AWS", ChargeCategory="Credit")
    assert credit["EffectiveCost"] == -1.25 and credit["x_SpendModality"] == "platform"
    gpu = _one(dirty.spend, ServiceName="Amazon SageMaker")
    assert gpu["x_SpendModality"] == "self_hosted" and gpu["EffectiveCost"] == 36.36
    assert gpu["x_AttributionKey"] == "focus.tag:team=search"


def test_parquet_pattern_1_0_and_1_3_files(dirty):
    vertex = dirty.spend[dirty.spend["ServiceName"] == "Vertex AI"]
    assert vertex["EffectiveCost"].sum() == 10.0 and set(vertex["x_Model"]) == {"gemini-1.5-pro"}
    assert set(vertex["x_UseCaseId"]) == {"UC-02"} and set(vertex["x_BusinessUnit"]) == {"Research"}
    gemini_api = _one(dirty.spend, ServiceName="Gemini API")  # ServiceCategory Other, kept by the pattern
    assert gemini_api["ServiceCategory"] == "Other" and gemini_api["x_Model"] == "gemini-2.0-flash"
    oci = _one(dirty.spend, ProviderName="Oracle", ChargeCategory="Usage")
    assert oci["PricingCategory"] == "Standard" and oci["x_SpendModality"] == "platform"  # not a token unit
    assert pd.isna(oci["ChargeDescription"]) is False and pd.isna(oci["ListUnitPrice"]) is False
    openai = dirty.spend[dirty.spend["ProviderName"] == "OpenAI"]  # from ServiceProviderName / HostProviderName
    assert set(openai["PublisherName"]) == {"OpenAI"} and set(openai["x_Model"]) == {"gpt-4o-mini"}
    assert sorted(openai["x_TokenType"]) == ["input", "output"]


def test_usage_rows(dirty):
    usage = dirty.usage
    assert len(usage) == 10 and (usage["x_Source"] == "focus").all()
    assert usage["Tokens"].sum() == 1_500_000 + 200_000 + 2_000_000 + 100_000 + 500_000 + 4_000_000 + 1_000_000 \
        + 2_000_000 + 10_000_000 + 1_000_000
    row = _one(usage, ProviderName="Microsoft", x_TokenType="input")
    assert row["Day"] == pd.Timestamp("2025-05-02") and row["x_Model"] == "gpt-4o-0806"


def test_gpu_compute_kept_by_the_catalog(dirty):
    gpu = _one(dirty.spend, ServiceName="Compute Engine")
    assert gpu["x_SpendModality"] == "self_hosted" and gpu["EffectiveCost"] == pytest.approx(70.416)


def test_dropped_money_is_kept_for_the_ledger(dirty):
    # EC2 m7i 10, S3, Azure VM, Cloud Storage: the non-AI rows' money by file, day and service
    dropped = dirty.excluded
    assert set(dropped["x_Exclusion"]) == {"not_ai"} and dropped["Rows"].sum() == 4
    assert set(dropped["ServiceName"]) >= {"Amazon Elastic Compute Cloud"}
    ec2 = _one(dropped, ServiceName="Amazon Elastic Compute Cloud")
    assert ec2["EffectiveCost"] == 10 and ec2["x_SourceFile"] == "aws/2025-05/focus-00001.csv"


# --- errors ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case, line, column, words", [
    ("bad_cost", 3, "EffectiveCost", ["'12,5' is not a number", "plain decimal numbers"]),
    ("bad_date", 2, "ChargePeriodStart", ["'2025-02-30T00:00:00Z' is not a date/time", "ISO 8601"]),
    ("day_first", 4, "ChargePeriodStart", ["'25/05/2025' is not a month-first date"]),
    ("bad_enum", 3, "ChargeCategory", ["'Refund' is not a FOCUS value", "Usage, Purchase, Tax, Credit, Adjustment"]),
    ("bad_currency", 3, "BillingCurrency", ["'US Dollar' is not an ISO 4217 code"]),
    ("bad_tags", 3, "Tags", ["'project=alpha' is not a JSON object"]),
    ("missing_column", None, "BillingCurrency", ["mandatory FOCUS column(s) missing: BillingCurrency"]),
])
def test_unsafe_values_stop_with_a_clear_error(case, line, column, words):
    with pytest.raises(InputError) as err:
        focus.read(FIXTURES / "errors" / case, Settings())
    assert err.value.line == line and err.value.column == column
    assert err.value.path.endswith(f"{case}/focus.csv")
    for word in words + ["How to fix"]:
        assert word in str(err.value)


def test_bad_values_in_dropped_rows_do_not_matter():
    result = focus.read(FIXTURES / "errors" / "bad_value_in_dropped_row", Settings())
    assert len(result.spend) == 1 and result.fixes == {"non-AI rows dropped": 1}


def test_parquet_error_names_the_row(tmp_path):
    rows = [{"ChargePeriodStart": "2025-05-01T00:00:00Z", "ChargePeriodEnd": "2025-05-02T00:00:00Z",
             "ChargeCategory": "Usage", "ProviderName": "OpenAI", "ServiceName": "OpenAI API",
             "ServiceCategory": "AI and Machine Learning", "BillingCurrency": "USD", "EffectiveCost": cost}
            for cost in ("1.0", "2.0", "two")]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "export.parquet")
    with pytest.raises(InputError) as err:
        focus.read(tmp_path, Settings())
    assert err.value.line is None and "(row 3)" in str(err.value) and err.value.column == "EffectiveCost"


def test_invalid_pattern_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        focus.read(FIXTURES / "errors" / "bad_cost",
                   Settings(ai_catalog=Catalog((Rule("ServiceName", "(?<=x)a", "auto"),), "test: look-behind")))


def test_empty_folder(tmp_path):
    result = focus.read(tmp_path, Settings())
    assert result.spend.empty and result.usage.empty and list(result.spend.columns) == list(SPEND_COLUMNS) + list(
        SOURCE_COLUMNS)


# --- parsing helpers -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, model, token_type", [
    ("gpt-4o-0806-Inp-glbl Tokens", "gpt-4o-0806", "input"),
    ("gpt-4o-mini:output", "gpt-4o-mini", "output"),
    ("SKU | | $3.00 per million input tokens for Claude 3 Haiku", "claude-3-haiku", "input"),
    ("anthropic.claude-3-5-sonnet-20240620-v1:0 | | cache write", "claude-3-5-sonnet-20240620-v1:0", "cache_write"),
    ("Gemini 2.5 Flash Lite cached input text tokens", "gemini-2.5-flash-lite", "cached_input"),
    ("o3-mini completion", "o3-mini", "output"),
    ("ABC | text-embedding-3-large-Tokens | ", "text-embedding-3-large", None),
    ("VXY2846KMCYILPQP | USE1-MP:USE1_OutputTokenCount-Units | Claude 3.5 Sonnet v2 (Amazon Bedrock Edition) "
     "USE1_OutputTokenCount", "claude-3-5-sonnet-v2", "output"),
    ("DZH318Z0BQ4L | gpt 4o 0513 Input global Tokens | ", "gpt-4o-0513", "input"),
    ("DZH318Z0BQ4M | gpt 4o 0806 cached Input glbl Tokens | ", "gpt-4o-0806", "cached_input"),
    ("ABC123 | | Provisioned throughput units", None, None),
])
def test_model_and_token_type_from_sku_text(text, model, token_type):
    assert focus.parse_model(text) == model
    assert focus.parse_token_type(text) == token_type


def test_negative_usage_is_a_warning_naming_the_files_own_lines(tmp_path):
    # Cloud exports carry negative usage rows as corrections (FOCUS 1.0 has no ChargeClass to say so; 1.1+ do).
    header = ["BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass",
              "ProviderName", "ServiceName", "ServiceCategory", "BillingCurrency", "EffectiveCost", "BilledCost"]
    rows = [["2026-07-01", "2026-07-02", "2026-07-03", "Usage", "", "AWS", "Amazon Bedrock", "AI and Machine Learning",
             "USD", "10", "10"],
            ["2026-07-01", "2026-07-02", "2026-07-03", "Usage", "", "AWS", "Amazon Bedrock", "AI and Machine Learning",
             "USD", "-3", "-3"],                                     # line 3: unexplained
            ["2026-07-01", "2026-07-02", "2026-07-03", "Usage", "Correction", "AWS", "Amazon Bedrock",
             "AI and Machine Learning", "USD", "-1", "-1"],          # line 4: marked as a correction
            ["2026-07-01", "2026-07-05", "2026-07-06", "Usage", "", "AWS", "Amazon EC2", "Compute", "USD", "-7", "-7"],
            ["2026-07-01", "2026-07-02", "2026-07-03", "Usage", "", "AWS", "Amazon Bedrock", "AI and Machine Learning",
             "USD", "5", "5"]]
    with open(tmp_path / "export.csv", "w", newline="") as f:
        csv.writer(f).writerows([header] + rows)
    result = focus.read(tmp_path, Settings())
    assert result.spend["EffectiveCost"].sum() == pytest.approx(11.0)    # counted as they are
    [check] = result.checks
    assert (check.severity, check.success, check.unexpected_count) == ("warning", False, 1)
    assert check.rows == [3] and check.samples == [-3.0] and check.row_label == "line"
    assert check.source == "export.csv" and check.column == "EffectiveCost"
    assert result.excluded["EffectiveCost"].sum() == -7.0                # the EC2 correction is not AI


def _focus_csv(folder: Path, rows: list[dict]) -> None:
    header = ["BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ProviderName",
              "ServiceName", "ServiceCategory", "BillingCurrency", "EffectiveCost"]
    base = {"ChargeCategory": "Usage", "ProviderName": "OpenAI", "ServiceName": "OpenAI API",
            "ServiceCategory": "AI and Machine Learning", "BillingCurrency": "USD"}
    with open(folder / "export.csv", "w", newline="") as f:
        csv.writer(f).writerows([header] + [[{**base, **row}.get(c, "") for c in header] for row in rows])


def test_a_timestamp_reads_the_same_in_every_column_and_in_the_error_search(tmp_path):
    # One rule for every time column: a US date with a two-digit year and seconds is 2025, not year 25, in
    # BillingPeriodStart as in ChargePeriodStart; `...00:00UTC` (no blank) is a timestamp in UTC everywhere.
    _focus_csv(tmp_path, [{"BillingPeriodStart": "5/1/25 10:00:00", "ChargePeriodStart": "2025-05-01 00:00:00UTC",
                           "ChargePeriodEnd": "5/2/25 00:00:00", "EffectiveCost": "4.5"}])
    result = focus.read(tmp_path, Settings())
    row = _one(result.spend, ServiceName="OpenAI API")
    assert row["BillingPeriodStart"] == pd.Timestamp("2025-05-01 10:00")
    assert row["ChargePeriodStart"] == pd.Timestamp("2025-05-01") and row["EffectiveCost"] == 4.5
    # BillingPeriodStart and ChargePeriodEnd: US dates; ChargePeriodStart: without T/Z
    assert result.fixes[focus.FIX_TS[4]] == 2 and result.fixes[focus.FIX_TS[1]] == 1


def test_the_error_names_the_bad_line_not_a_line_stage_one_read(tmp_path):
    # line 2 parses (stage 1 reads `UTC` without a blank); the error search must agree and name line 3
    _focus_csv(tmp_path, [{"BillingPeriodStart": "2025-05-01", "ChargePeriodStart": "2025-05-01 00:00:00UTC",
                           "ChargePeriodEnd": "2025-05-02T00:00:00Z", "EffectiveCost": "1"},
                          {"BillingPeriodStart": "2025-05-01", "ChargePeriodStart": "2025-05-01T00:00:00Z",
                           "ChargePeriodEnd": "2025-05-02T00:00:00Z", "EffectiveCost": "two"}])
    with pytest.raises(InputError) as err:
        focus.read(tmp_path, Settings())
    assert err.value.line == 3 and err.value.column == "EffectiveCost" and "'two' is not a number" in str(err.value)
