"""OpenAI Costs and Usage API pages: dollars with a lower-case currency, Unix-second buckets with exclusive
ends, input_tokens that include cached tokens, and list-price estimates for days without costs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from boardpack.adapters import EXCLUDED_COLUMNS, SOURCE_COLUMNS, USAGE_COLUMNS, Settings, openai
from boardpack.exceptions import InputError
from boardpack.schema import SPEND_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "openai"
REFETCH = FIXTURES / "refetch"  # two fetches of overlapping days, some amounts revised by the later one
EARLIER, LATER = "costs_2026-07-01_to_07-03.json", "costs_2026-07-02_to_07-05.json"
JUL1, JUL2, JUL3 = 1782864000, 1782950400, 1783036800  # 2026-07-01/02/03 00:00 UTC in Unix seconds
DAY = 86400


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openai")  # the pages of one fetch: not the refetch/ subfolder
    for path in FIXTURES.glob("*.json"):
        shutil.copy(path, folder)
    return openai.read(folder, Settings())


def page(*buckets) -> dict:
    return {"object": "page", "has_more": False, "next_page": None, "data": list(buckets)}


def bucket(start: int, *results, end: int | None = None) -> dict:
    return {"object": "bucket", "start_time": start, "end_time": end if end is not None else start + DAY,
            "results": list(results)}


def usage_result(**fields) -> dict:
    return {"object": "organization.usage.completions.result", "input_tokens": 0, "output_tokens": 0,
            "num_model_requests": 1, "project_id": "proj_x", "model": "gpt-4o", **fields}


def write(folder: Path, name: str, doc) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


def row(spend: pd.DataFrame, sku: str) -> pd.Series:
    found = spend[spend["SkuId"] == sku]
    assert len(found) == 1, sku
    return found.iloc[0]


# --- frames ----------------------------------------------------------------------------------------------

def test_frames_have_every_column_in_order(read):
    assert list(read.spend.columns) == list(SPEND_COLUMNS) + list(SOURCE_COLUMNS)
    assert list(read.usage.columns) == list(USAGE_COLUMNS)
    assert str(read.spend["ChargePeriodStart"].dtype) == "datetime64[us]"
    assert [f.name for f in read.files] == sorted(p.name for p in FIXTURES.glob("*.json"))


# --- costs -----------------------------------------------------------------------------------------------

def test_amount_is_dollars_and_currency_is_upper_cased(read):
    billed = read.spend[~read.spend["ChargeDescription"].str.startswith("ESTIMATE")]
    # 2.5 + "0.625" (a string) + 10.0 + 0.3 + 0.02 dollars, not cents
    assert billed["BilledCost"].sum() == pytest.approx(13.445)
    assert (billed["EffectiveCost"] == billed["BilledCost"]).all()
    assert set(billed["BillingCurrency"]) == {"USD"}
    assert read.fixes["openai.currency_upper_cased"] == 5


def test_bucket_unix_seconds_become_utc_days_with_exclusive_end(read):
    r = row(read.spend, "gpt-4o-2024-08-06, input")
    assert r["ChargePeriodStart"] == pd.Timestamp("2026-07-01")
    assert r["ChargePeriodEnd"] == pd.Timestamp("2026-07-02")  # end_time is exclusive: the next midnight
    assert (r["BillingPeriodStart"], r["BillingPeriodEnd"]) == (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-08-01"))


def test_project_becomes_sub_account_and_attribution_key(read):
    r = row(read.spend, "gpt-4o-2024-08-06, output")
    assert r["SubAccountId"] == "proj_alpha"
    assert r["x_AttributionKey"] == "openai.project:proj_alpha"
    assert pd.isna(r["x_UseCaseId"])  # attribution is the map's job
    assert (r["ProviderName"], r["ServiceName"], r["x_Source"]) == ("OpenAI", "OpenAI API", "openai")


def test_line_item_gives_model_and_token_type(read):
    types = {sku: t for sku, t in zip(read.spend["SkuId"], read.spend["x_TokenType"])}
    assert types["gpt-4o-2024-08-06, input"] == "input"
    assert types["gpt-4o-2024-08-06, cached input"] == "cached_input"
    assert types["gpt-4o-2024-08-06, output"] == "output"
    assert row(read.spend, "gpt-4o-2024-08-06, input")["x_Model"] == "gpt-4o-2024-08-06"


def test_quantity_in_1000_tokens_becomes_tokens_with_list_cost(read):
    r = row(read.spend, "gpt-4o-2024-08-06, input")
    assert r["ConsumedQuantity"] == 1000 * 1000  # quantity 1000 in unit 1000_tokens
    assert r["ConsumedUnit"] == "Tokens"
    assert r["ListUnitPrice"] == 2.5  # gpt-4o input, USD per MTok
    assert r["ListCost"] == pytest.approx(1.0 * 2.5)
    assert r["PricingQuantity"] == 1.0 and r["PricingUnit"] == "1000000 Tokens"
    assert read.fixes["openai.quantity_1000_tokens_to_tokens"] == 1
    out = row(read.spend, "gpt-4o-2024-08-06, output")
    assert out["ConsumedQuantity"] == 1_000_000 and out["ListCost"] == pytest.approx(10.0)


def test_cost_line_without_quantity_takes_the_usage_token_count(read):
    cached = row(read.spend, "gpt-4o-2024-08-06, cached input")
    assert cached["ConsumedQuantity"] == 500_000  # input_cached_tokens of the same day, project and model
    assert cached["ListUnitPrice"] == 1.25
    assert cached["ListCost"] == pytest.approx(0.5 * 1.25)
    assert read.fixes["openai.quantity_from_usage"] == 2  # the cached input and the embeddings line


def test_non_token_line_item_is_a_platform_charge(read):
    r = row(read.spend, "web search tool calls")
    assert r["x_SpendModality"] == "platform"
    assert pd.isna(r["x_Model"]) and pd.isna(r["x_TokenType"]) and pd.isna(r["ListCost"])
    assert (r["ConsumedQuantity"], r["ConsumedUnit"]) == (30, "images")


# --- usage -----------------------------------------------------------------------------------------------

def usage_of(read, day: str, model: str) -> dict:
    u = read.usage[(read.usage["Day"] == pd.Timestamp(day)) & (read.usage["x_Model"] == model)]
    return dict(zip(u["x_TokenType"], u["Tokens"]))


def test_input_tokens_include_cached_tokens_so_they_are_split(read):
    # input_tokens 1,500,000 of which 500,000 cached -> 1,000,000 uncached input
    assert usage_of(read, "2026-07-01", "gpt-4o-2024-08-06") == {"input": 1_000_000, "cached_input": 500_000,
                                                                 "output": 1_000_000}
    # 2,000,000 input including 400,000 cached and 100,000 cache-write tokens
    assert usage_of(read, "2026-07-03", "gpt-4o-mini-2024-07-18") == {
        "input": 2_000_000 - 400_000 - 100_000, "cached_input": 400_000, "cache_write": 100_000, "output": 300_000}
    assert read.fixes["openai.cached_tokens_split_from_input"] == 2


def test_usage_total_equals_the_api_totals(read):
    # no token is lost or counted twice by the split: API input_tokens + output_tokens per day
    jul1 = read.usage[read.usage["Day"] == pd.Timestamp("2026-07-01")]
    assert jul1["Tokens"].sum() == 1_500_000 + 1_000_000 + 1_000_000  # completions + embeddings


def test_requests_are_counted_once_per_result(read):
    u = read.usage[read.usage["x_Model"] == "gpt-4o-2024-08-06"]
    assert u["Requests"].sum() == 100 + 1


def test_embeddings_are_input_tokens_and_other_kinds_are_skipped_with_a_note(read):
    assert usage_of(read, "2026-07-01", "text-embedding-3-small") == {"input": 1_000_000}
    assert any("organization.usage.images.result" in n for n in read.notes)


def test_batch_and_service_tier(read):
    tiers = dict(zip(read.usage["x_Model"], read.usage["x_ServiceTier"]))
    assert tiers["gpt-4o-2024-08-06"] == "standard"  # batch: false
    assert tiers["gpt-4o-mini-2024-07-18"] == "standard"  # service_tier "default"
    assert pd.isna(tiers["mystery-model-x"])  # neither grouped: unknown


# --- estimates -------------------------------------------------------------------------------------------

def test_days_without_costs_are_priced_at_list_price_as_estimates(read):
    est = read.spend[read.spend["ChargeDescription"].str.startswith("ESTIMATE")]
    # 2026-07-02 is covered by an empty costs bucket (billed nothing): only 2026-07-03 is estimated
    assert set(est["ChargePeriodStart"]) == {pd.Timestamp("2026-07-03")}
    assert set(est["ChargePeriodEnd"]) == {pd.Timestamp("2026-07-04")}
    # gpt-4o-mini list prices: input 0.15, cached 0.075, output 0.60 per MTok; no cache-write price -> input price
    by_type = dict(zip(est["x_TokenType"], est["EffectiveCost"]))
    assert by_type == pytest.approx({"input": 1.5 * 0.15, "cached_input": 0.4 * 0.075, "cache_write": 0.1 * 0.15,
                                     "output": 0.3 * 0.60})
    assert est["EffectiveCost"].sum() == pytest.approx(0.225 + 0.03 + 0.015 + 0.18)
    assert (est["ListCost"] == est["EffectiveCost"]).all()
    assert set(est["x_AttributionKey"]) == {"openai.project:proj_beta"}
    assert read.fixes["openai.spend_estimated_from_usage"] == 4
    assert any("ESTIMATES" in n for n in read.notes)


def test_unknown_model_is_never_priced_at_zero(read):
    assert "mystery-model-x" not in set(read.spend["x_Model"].dropna())
    assert any("mystery-model-x" in n and "no list price" in n for n in read.notes)
    assert not (read.spend["EffectiveCost"] == 0).any()


def test_usage_only_folder_is_all_estimates_and_batch_uses_the_batch_price(tmp_path):
    nov2 = 1793577600  # 2026-11-02: the catalog's o3 batch price (half) is in force
    write(tmp_path, "usage.json", page(bucket(nov2, usage_result(model="o3", input_tokens=1_000_000, batch=True),
                                              usage_result(model="o3", input_tokens=1_000_000, batch=False))))
    data = openai.read(tmp_path, Settings())
    costs = dict(zip(data.spend["x_ServiceTier"], data.spend["EffectiveCost"]))
    assert costs == pytest.approx({"batch": 1.0, "standard": 2.0})  # USD per MTok: 1 batch, 2 standard


NOV2 = 1793577600  # 2026-11-02: the catalog's o3 batch prices (half) are in force


def test_batch_and_standard_lines_share_a_usage_count_by_cost_over_list_price(tmp_path):
    # usage grouped by project and model (as recommended), not by batch: both o3 output lines share its count.
    # o3 output list price: 8.00 per MTok, batch 4.00. $8.00 / 8.00 = 1.0M and $2.00 / 4.00 = 0.5M, so
    # 1,200,000 tokens split 1.0 : 0.5 -> 800,000 and 400,000 (in proportion to cost: 960,000 and 240,000)
    write(tmp_path, "costs.json", page(bucket(NOV2, cost(8.0, line_item="o3-2025-04-16, output"),
                                              cost(2.0, line_item="o3-2025-04-16, batch output"))))
    write(tmp_path, "usage.json", page(bucket(NOV2, usage_result(model="o3-2025-04-16", output_tokens=1_200_000,
                                                                 project_id="proj_x"))))
    data = openai.read(tmp_path, Settings())
    s = data.spend.set_index("SkuId")
    assert s.loc["o3-2025-04-16, output", "ConsumedQuantity"] == pytest.approx(800_000)
    assert s.loc["o3-2025-04-16, batch output", "ConsumedQuantity"] == pytest.approx(400_000)
    assert s.loc["o3-2025-04-16, batch output", "ListCost"] == pytest.approx(0.4 * 4.0)
    assert data.fixes["openai.quantity_shared_from_usage"] == 2


def test_a_line_without_quantity_shares_what_the_usage_leaves_to_it(tmp_path):
    # two lines of one key, split by API key; one has its quantity: the other takes the rest of the usage count
    write(tmp_path, "costs.json", page(bucket(JUL1, cost(4.0, line_item="gpt-4o-2024-08-06, output", api_key_id="k1",
                                                         quantity=300_000, quantity_unit="tokens"),
                                              cost(2.0, line_item="gpt-4o-2024-08-06, output", api_key_id="k2"))))
    write(tmp_path, "usage.json", page(bucket(JUL1, usage_result(model="gpt-4o-2024-08-06", output_tokens=500_000,
                                                                 project_id="proj_x"))))
    data = openai.read(tmp_path, Settings())
    assert sorted(data.spend["ConsumedQuantity"]) == [200_000, 300_000]


def test_a_token_line_without_quantity_or_usage_gets_tokens_from_cost_at_list_price(tmp_path):
    # $5.00 of gpt-4o output at 10.00 per MTok is 500,000 tokens
    write(tmp_path, "costs.json", page(bucket(JUL1, cost(5.0, line_item="gpt-4o-2024-08-06, output"))))
    data = openai.read(tmp_path, Settings())
    r = data.spend.iloc[0]
    assert (r["ConsumedQuantity"], r["ListUnitPrice"]) == (500_000, 10.0) and r["ListCost"] == pytest.approx(5.0)
    assert data.fixes["openai.quantity_estimated_from_cost"] == 1
    assert any("1 token cost line(s) have no token count in the usage" in n and "gpt-4o-2024-08-06" in n
               for n in data.notes)


def test_a_token_line_of_a_model_without_list_price_keeps_no_quantity(tmp_path):
    write(tmp_path, "costs.json", page(bucket(JUL1, cost(5.0, line_item="mystery-model-x, output"))))
    data = openai.read(tmp_path, Settings())
    assert data.spend["ConsumedQuantity"].isna().all() and data.fixes["openai.quantity_estimated_from_cost"] == 0
    assert any("mystery-model-x" in n and "no list price" in n for n in data.notes)


# --- parsing details -------------------------------------------------------------------------------------

@pytest.mark.parametrize("line_item, expected", [
    ("gpt-4o-2024-08-06, input", ("gpt-4o-2024-08-06", "input", None, "")),
    ("gpt-4o-2024-08-06, cached input", ("gpt-4o-2024-08-06", "cached_input", None, "")),
    ("gpt-4o-mini, batch output", ("gpt-4o-mini", "output", "batch", "")),
    ("gpt-4o-mini, input (batch)", ("gpt-4o-mini", "input", "batch", "")),
    ("gpt-4o-audio-preview, audio input", ("gpt-4o-audio-preview", "input", None, "audio")),
    ("gpt-4o", ("gpt-4o", None, None, "")),
    ("web search tool calls", (None, None, None, "")),
    (None, (None, None, None, "")),
])
def test_parse_line_item(line_item, expected):
    assert openai.parse_line_item(line_item) == expected


def test_millisecond_and_text_timestamps_are_tolerated_and_counted(tmp_path):
    result = {"object": "organization.costs.result", "amount": {"value": 1.0, "currency": "usd"}, "line_item": None}
    write(tmp_path, "costs.json", page({"start_time": JUL1 * 1000, "end_time": str(JUL2), "results": [result]}))
    data = openai.read(tmp_path, Settings())
    assert data.spend["ChargePeriodStart"].iloc[0] == pd.Timestamp("2026-07-01")
    assert data.spend["ChargePeriodEnd"].iloc[0] == pd.Timestamp("2026-07-02")
    assert data.fixes["openai.unix_milliseconds"] == 1 and data.fixes["openai.unix_time_as_text"] == 1


def test_the_same_page_saved_twice_is_counted_once(tmp_path):
    shutil.copy(FIXTURES / "costs_2026-07.json", tmp_path / "costs_a.json")
    shutil.copy(FIXTURES / "costs_2026-07.json", tmp_path / "costs_b.json")
    data = openai.read(tmp_path, Settings())
    assert data.spend["BilledCost"].sum() == pytest.approx(13.445)
    assert data.fixes["openai.duplicate_result_dropped"] == 5
    # the copy read but not counted is in the ledger: costs_a.json is excluded as a duplicate of costs_b.json
    assert set(zip(data.excluded["x_SourceFile"], data.excluded["x_Exclusion"], data.excluded["x_ExcludedBy"])) == {
        ("costs_a.json", "duplicate", "costs_b.json")}
    assert data.excluded["EffectiveCost"].sum() == pytest.approx(13.445) and len(data.excluded) == 5
    assert any("5 cost result(s) of costs_a.json identical to those of costs_b.json: counted once ($13.45" in n
               for n in data.notes)


# --- fetches that overlap --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def refetched():
    return openai.read(REFETCH, Settings())


def test_a_refetched_bucket_counts_once_at_the_later_amount(refetched):
    spend = refetched.spend
    # 2026-07-01 from the earlier fetch only; 2026-07-02 (fetched twice) and the later days from the later one
    assert spend["BilledCost"].sum() == pytest.approx((2.5 + 10.0) + (1.5 + 4.0 + 0.3 + 0.1) + 3.0 + 5.0)
    jul2 = spend[spend["ChargePeriodStart"] == pd.Timestamp("2026-07-02")]
    assert sorted(zip(jul2["SubAccountId"], jul2["SkuId"], jul2["BilledCost"])) == [
        ("proj_alpha", "gpt-4o-2024-08-06, input", 1.5), ("proj_alpha", "gpt-4o-2024-08-06, output", 4.0),
        ("proj_alpha", "web search tool calls", 0.1), ("proj_beta", "gpt-4o-2024-08-06, output", 0.3)]
    assert set(jul2["x_SourceFile"]) == {LATER}
    assert not spend["ChargeDescription"].str.startswith("ESTIMATE").any()


def test_replaced_and_duplicate_dollars_are_excluded_exactly(refetched):
    ex = refetched.excluded
    assert list(ex.columns) == list(EXCLUDED_COLUMNS)
    assert sorted(zip(ex["x_Exclusion"], ex["EffectiveCost"], ex["x_SourceFile"], ex["x_ExcludedBy"])) == [
        ("duplicate", 4.0, EARLIER, LATER),     # output of proj_alpha: the same 4.00 in both fetches
        ("superseded", 0.8, EARLIER, LATER),    # proj_beta output: revised to 0.30
        ("superseded", 1.2, EARLIER, LATER)]    # proj_alpha input: revised to 1.50
    assert set(ex["ChargePeriodStart"]) == {pd.Timestamp("2026-07-02")} and (ex["Rows"] == 1).all()
    assert set(zip(ex["x_Source"], ex["ProviderName"], ex["ServiceName"], ex["BillingCurrency"])) == {
        ("openai", "OpenAI", "OpenAI API", "USD")}
    # the dollar ledger balances: every dollar of both files is counted or excluded
    read = (2.5 + 10.0 + 1.2 + 4.0 + 0.8) + (1.5 + 4.0 + 0.3 + 0.1 + 3.0 + 5.0)
    assert refetched.spend["EffectiveCost"].sum() + ex["EffectiveCost"].sum() == pytest.approx(read)


def test_refetched_usage_counts_tokens_once(refetched):
    u = refetched.usage
    jul2 = u[u["Day"] == pd.Timestamp("2026-07-02")]
    assert dict(zip(jul2["x_TokenType"], jul2["Tokens"])) == {"input": 500_000, "output": 50_000}  # not 900,000
    assert jul2["Requests"].sum() == 5
    assert u["Tokens"].sum() == 1_100_000 + 550_000 + 660_000 + 770_000
    # the cost line without quantity takes the later usage's count
    assert row(refetched.spend[refetched.spend["ChargePeriodStart"] == pd.Timestamp("2026-07-02")],
               "gpt-4o-2024-08-06, input")["ConsumedQuantity"] == 500_000


def test_the_data_quality_page_says_what_a_later_fetch_replaced(refetched):
    assert (f"openai: 2 cost result(s) of {EARLIER} replaced by the later fetch {LATER} "
            "(-$0.20: $2.00 read there, $1.80 counted).") in refetched.notes
    assert f"openai: 1 cost result(s) of {EARLIER} identical to those of {LATER}: counted once ($4.00 not counted " \
           "again)." in refetched.notes
    assert ("openai: 1 usage result(s) of usage_completions_2026-07-01_to_07-03.json replaced by the later fetch "
            "usage_completions_2026-07-02_to_07-05.json.") in refetched.notes
    assert refetched.fixes["openai.superseded_result_replaced"] == 3
    assert refetched.fixes["openai.duplicate_result_dropped"] == 1


def test_the_later_fetch_is_the_one_that_reaches_further_whatever_its_name(tmp_path):
    shutil.copy(REFETCH / EARLIER, tmp_path / "z_first.json")
    shutil.copy(REFETCH / LATER, tmp_path / "a_second.json")
    data = openai.read(tmp_path, Settings())
    jul2 = data.spend[data.spend["ChargePeriodStart"] == pd.Timestamp("2026-07-02")]
    assert set(jul2["x_SourceFile"]) == {"a_second.json"} and jul2["BilledCost"].sum() == pytest.approx(5.9)
    assert set(data.excluded["x_SourceFile"]) == {"z_first.json"}


def cost(value: float, **fields) -> dict:
    return {"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"},
            "line_item": "gpt-4o, output", "project_id": "proj_x", **fields}


def test_on_a_tie_the_path_that_sorts_last_counts(tmp_path):
    write(tmp_path / "refetch", "costs.json", page(bucket(JUL1, cost(2.0))))
    write(tmp_path / "2026-07", "costs.json", page(bucket(JUL1, cost(1.0))))
    data = openai.read(tmp_path, Settings())
    assert list(zip(data.spend["x_SourceFile"], data.spend["BilledCost"])) == [("refetch/costs.json", 2.0)]
    assert list(zip(data.excluded["x_SourceFile"], data.excluded["x_Exclusion"], data.excluded["x_ExcludedBy"],
                    data.excluded["EffectiveCost"])) == [("2026-07/costs.json", "superseded", "refetch/costs.json", 1.0)]


def test_a_later_fetch_of_the_same_query_replaces_the_whole_bucket(tmp_path):
    # one bucket, fetched twice, grouped by API key too: the fetches share key_b, so they are the same query and
    # key_a, absent from the later fetch, was revised to nothing
    write(tmp_path, "a.json", page(bucket(JUL1, cost(1.0, api_key_id="key_a"), cost(2.0, api_key_id="key_b"))))
    write(tmp_path, "b.json", page(bucket(JUL1, cost(3.0, api_key_id="key_b"))))
    data = openai.read(tmp_path, Settings())
    assert list(data.spend["BilledCost"]) == [3.0]
    assert sorted(zip(data.excluded["EffectiveCost"], data.excluded["x_Exclusion"], data.excluded["x_ExcludedBy"])) == [
        (1.0, "superseded", "b.json"), (2.0, "superseded", "b.json")]


def test_fetches_of_one_bucket_with_disjoint_results_both_count(tmp_path):
    # the same day fetched per API key (api_key_ids=key_a, then key_b): nothing in common, nothing replaced
    write(tmp_path, "a.json", page(bucket(JUL1, cost(1.0, api_key_id="key_a"))))
    write(tmp_path, "b.json", page(bucket(JUL1, cost(3.0, api_key_id="key_b"))))
    data = openai.read(tmp_path, Settings())
    assert sorted(data.spend["BilledCost"]) == [1.0, 3.0] and data.excluded is None


REVISED = FIXTURES / "refetch_revised_away"  # the later fetch of the same query no longer has the web search lines
FIRST, SECOND = "costs_2026-07-01_fetched-2026-07-02.json", "costs_2026-07-01_fetched-2026-07-04.json"


def test_results_the_later_fetch_no_longer_has_are_superseded():
    data = openai.read(REVISED, Settings())
    # every result of 1 and 2 July comes from the later fetch, the lines it dropped included
    assert set(data.spend["x_SourceFile"]) == {SECOND}
    assert data.spend["BilledCost"].sum() == pytest.approx((2.1 + 1.0) + (1.3 + 0.7) + 0.9)
    ex = data.excluded
    assert sorted(zip(ex["x_Exclusion"], ex["EffectiveCost"], ex["ChargePeriodStart"].dt.day, ex["x_SourceFile"],
                      ex["x_ExcludedBy"])) == [
        ("duplicate", 1.0, 1, FIRST, SECOND),     # proj_beta output: the same 1.00 in both fetches
        ("superseded", 0.2, 2, FIRST, SECOND),    # web search: revised to nothing
        ("superseded", 0.4, 2, FIRST, SECOND),    # proj_alpha input: revised to 1.30
        ("superseded", 0.5, 1, FIRST, SECOND),    # web search: revised to nothing
        ("superseded", 2.0, 1, FIRST, SECOND)]    # proj_alpha input: revised to 2.10
    read = (2.0 + 0.5 + 1.0 + 0.4 + 0.2) + (2.1 + 1.0 + 1.3 + 0.7 + 0.9)
    assert data.spend["EffectiveCost"].sum() + ex["EffectiveCost"].sum() == pytest.approx(read)
    assert (f"openai: 2 cost result(s) of {FIRST} replaced by the later fetch {SECOND} "
            "(+$1.00: $2.40 read there, $3.40 counted).") in data.notes
    assert (f"openai: 2 cost result(s) of {FIRST} are not in the later fetch {SECOND} of the same bucket(s): "
            "revised to nothing, superseded ($0.70 not counted).") in data.notes
    assert f"openai: 1 cost result(s) of {FIRST} identical to those of {SECOND}: counted once ($1.00 not counted " \
           "again)." in data.notes
    assert data.fixes["openai.superseded_result_replaced"] == 4 and data.fixes["openai.duplicate_result_dropped"] == 1


PER_PROJECT = FIXTURES / "per_project"  # the same days exported once per project (project_ids=proj_alpha, proj_beta)


def test_exports_per_project_of_the_same_days_both_count():
    data = openai.read(PER_PROJECT, Settings())
    assert data.excluded is None
    assert not any("replaced" in n or "identical" in n or "not in the later fetch" in n for n in data.notes)
    by_project = data.spend.groupby("SubAccountId")["BilledCost"].sum().to_dict()
    assert by_project == pytest.approx({"proj_alpha": 2.0 + 4.0 + 1.0, "proj_beta": 0.5 + 0.25 + 1.0})
    assert data.usage["Tokens"].sum() == (800_000 + 400_000 + 400_000) + (200_000 + 100_000 + 100_000)
    assert data.usage["Requests"].sum() == 8 + 4 + 2 + 1


def test_a_later_export_of_one_project_replaces_only_that_projects_results(tmp_path):
    for path in PER_PROJECT.glob("costs_*.json"):
        shutil.copy(path, tmp_path)
    write(tmp_path, "costs_proj_alpha_2026-07-01_to_07-04.json", page(
        bucket(JUL1, cost(2.2, line_item="gpt-4o-2024-08-06, input", project_id="proj_alpha")),
        bucket(JUL2, cost(1.1, line_item="gpt-4o-2024-08-06, input", project_id="proj_alpha")),
        bucket(JUL3, cost(0.6, line_item="gpt-4o-2024-08-06, input", project_id="proj_alpha"))))
    data = openai.read(tmp_path, Settings())
    by_project = data.spend.groupby("SubAccountId")["BilledCost"].sum().to_dict()
    assert by_project == pytest.approx({"proj_alpha": 2.2 + 1.1 + 0.6, "proj_beta": 0.5 + 0.25 + 1.0})
    assert set(data.excluded["x_SourceFile"]) == {"costs_proj_alpha_2026-07-01_to_07-03.json"}
    assert data.excluded["EffectiveCost"].sum() == pytest.approx(2.0 + 4.0 + 1.0)  # the output line: revised away


VENDOR = Path(__file__).parent / "fixtures" / "vendor"


def quarterly(frame: pd.DataFrame) -> dict:
    quarters = frame["ChargePeriodStart"].dt.to_period("Q").astype(str).str.replace("Q", "-Q")
    return frame.groupby(quarters)["EffectiveCost"].sum().round(2).to_dict()


def test_vendor_refetch_counts_the_later_fetch_of_july_as_a_whole():
    # July fetched on 2 July and again on 9 July: the 9 July fetch replaces 1 and 2 July, lines it dropped included
    expected = json.loads((VENDOR / "expected.json").read_text())["openai_refetch"]
    data = openai.read(VENDOR / "openai_refetch" / "openai", Settings())
    assert quarterly(data.spend) == {q: expected[q]["counted"] for q in ("2026-Q2", "2026-Q3")}
    assert quarterly(data.excluded) == {"2026-Q3": expected["2026-Q3"]["superseded"]}
    assert set(data.excluded["x_ExcludedBy"]) == {"costs_2026-07-01_fetched-2026-07-09.json"}


def test_without_overlap_nothing_is_excluded(read):
    assert read.excluded is None or read.excluded.empty


def test_result_without_object_is_recognised_by_its_fields(tmp_path):
    write(tmp_path, "export.json", page(bucket(JUL1, {"amount": {"value": 0.5, "currency": "usd"}}),
                                        bucket(JUL1, {"input_tokens": 10, "output_tokens": 5, "model": "gpt-4o"})))
    data = openai.read(tmp_path, Settings())
    assert data.spend["BilledCost"].sum() == 0.5 and data.usage["Tokens"].sum() == 15
    assert data.fixes["openai.result_object_inferred"] == 2


@pytest.mark.parametrize("line_item, modality", [
    (None, "api_tokens"),  # costs not grouped by line item: a project's API total
    ("gpt-4o", "api_tokens"), ("gpt-4o, output", "api_tokens"),
    ("gpt-4o, web search", "platform"), ("file search storage", "platform"),
])
def test_spend_modality_of_line_items(tmp_path, line_item, modality):
    write(tmp_path, "costs.json", page(bucket(JUL1, {"object": "organization.costs.result", "line_item": line_item,
                                                     "amount": {"value": 1.0, "currency": "usd"}})))
    assert openai.read(tmp_path, Settings()).spend["x_SpendModality"].iloc[0] == modality


def test_negative_amount_is_a_credit(tmp_path):
    write(tmp_path, "costs.json", page(bucket(JUL1, {"object": "organization.costs.result", "line_item": None,
                                                     "amount": {"value": -5.0, "currency": "usd"}})))
    r = openai.read(tmp_path, Settings()).spend.iloc[0]
    assert (r["ChargeCategory"], r["BilledCost"]) == ("Credit", -5.0)


def test_non_usd_costs_keep_their_currency_and_get_no_usd_list_cost(tmp_path):
    write(tmp_path, "costs.json", page(bucket(JUL1, {"object": "organization.costs.result",
                                                     "amount": {"value": 3.0, "currency": "eur"},
                                                     "line_item": "gpt-4o, output", "quantity": 100,
                                                     "quantity_unit": "tokens"})))
    r = openai.read(tmp_path, Settings()).spend.iloc[0]
    assert r["BillingCurrency"] == "EUR" and r["BilledCost"] == 3.0
    assert pd.isna(r["ListCost"])


def test_costs_only_folder_has_an_empty_usage_frame(tmp_path):
    shutil.copy(FIXTURES / "costs_2026-07.json", tmp_path)
    data = openai.read(tmp_path, Settings())
    assert data.usage.empty and list(data.usage.columns) == list(USAGE_COLUMNS)
    assert len(data.spend) == 5


# --- errors ----------------------------------------------------------------------------------------------

def test_cached_tokens_above_input_tokens_are_refused(tmp_path):
    path = write(tmp_path, "usage.json", page(bucket(JUL1, usage_result(input_tokens=100, input_cached_tokens=150))))
    with pytest.raises(InputError) as e:
        openai.read(tmp_path, Settings())
    assert e.value.path == str(path) and e.value.column == "input_cached_tokens"
    assert "exceed input_tokens" in str(e.value)


def test_negative_tokens_are_refused(tmp_path):
    write(tmp_path, "usage.json", page(bucket(JUL1, usage_result(output_tokens=-5))))
    with pytest.raises(InputError, match="output_tokens"):
        openai.read(tmp_path, Settings())


def test_not_json_is_refused(tmp_path):
    (tmp_path / "costs.json").write_text("start_time,amount\n1,2\n")
    with pytest.raises(InputError, match="not a JSON file"):
        openai.read(tmp_path, Settings())


def test_json_that_is_not_a_page_is_refused(tmp_path):
    write(tmp_path, "other.json", {"hello": "world"})
    with pytest.raises(InputError, match="no `data` list"):
        openai.read(tmp_path, Settings())


def test_rfc3339_bucket_time_is_refused_with_the_field_named(tmp_path):
    write(tmp_path, "costs.json", page({"start_time": "2026-07-01T00:00:00Z", "end_time": JUL2, "results": []}))
    with pytest.raises(InputError) as e:
        openai.read(tmp_path, Settings())
    assert e.value.column == "start_time" and "Unix time" in str(e.value)


def test_bucket_ending_before_it_starts_is_refused(tmp_path):
    write(tmp_path, "costs.json", page(bucket(JUL2, end=JUL1)))
    with pytest.raises(InputError, match="exclusive"):
        openai.read(tmp_path, Settings())


def test_amount_that_is_not_a_number_is_refused(tmp_path):
    write(tmp_path, "costs.json", page(bucket(JUL1, {"object": "organization.costs.result",
                                                     "amount": {"value": "1,5", "currency": "usd"}})))
    with pytest.raises(InputError) as e:
        openai.read(tmp_path, Settings())
    assert e.value.column == "amount.value"


def test_quantity_that_is_not_a_number_is_refused(tmp_path):
    write(tmp_path, "costs.json", page(bucket(JUL1, {"object": "organization.costs.result", "line_item": "gpt-4o, input",
                                                     "amount": {"value": 1.0, "currency": "usd"},
                                                     "quantity": "1k", "quantity_unit": "tokens"})))
    with pytest.raises(InputError) as e:
        openai.read(tmp_path, Settings())
    assert e.value.column == "quantity" and e.value.path == str(tmp_path / "costs.json")
