"""Anthropic cost and usage report pages: amounts as strings in cents, RFC 3339 buckets with exclusive ends,
input split into disjoint parts, null workspace = default workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from boardpack.adapters import EXCLUDED_COLUMNS, SOURCE_COLUMNS, USAGE_COLUMNS, Settings, anthropic
from boardpack.exceptions import InputError
from boardpack.schema import SPEND_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "anthropic"
REFETCH = FIXTURES / "refetch"  # two fetches of overlapping days, some amounts revised by the later one
EARLIER, LATER = "cost_report_2026-07-01_to_07-03.json", "cost_report_2026-07-02_to_07-04.json"
SONNET = "claude-3-5-sonnet-20241022"
VENDOR = Path(__file__).parent / "fixtures" / "vendor"


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    folder = tmp_path_factory.mktemp("anthropic")  # the pages of one fetch: not the refetch/ subfolder
    for path in FIXTURES.glob("*.json"):
        shutil.copy(path, folder)
    return anthropic.read(folder, Settings())


def billed(spend: pd.DataFrame) -> pd.DataFrame:
    return spend[~spend["ChargeDescription"].str.startswith("ESTIMATE")]


def sku(spend: pd.DataFrame, value: str) -> pd.Series:
    found = billed(spend)[billed(spend)["SkuId"] == value]
    assert len(found) == 1, value
    return found.iloc[0]


def quarterly(frame: pd.DataFrame) -> dict:
    quarters = frame["ChargePeriodStart"].dt.to_period("Q").astype(str).str.replace("Q", "-Q")
    return frame.groupby(quarters)["EffectiveCost"].sum().round(2).to_dict()


def cost_line(**fields) -> dict:
    return {"currency": "USD", "amount": "100", "workspace_id": "wrkspc_x", "description": None,
            "cost_type": "tokens", "context_window": "0-200k", "model": SONNET, "service_tier": "standard",
            "token_type": "output_tokens", **fields}


def write(folder: Path, name: str, buckets: list, start="2026-07-01T00:00:00Z", end="2026-07-02T00:00:00Z") -> Path:
    path = folder / name
    path.write_text(json.dumps({"data": [{"starting_at": start, "ending_at": end, "results": buckets}],
                                "has_more": False, "next_page": None}))
    return path


def test_frames_have_every_column_in_order(read):
    assert list(read.spend.columns) == list(SPEND_COLUMNS) + list(SOURCE_COLUMNS)
    assert list(read.usage.columns) == list(USAGE_COLUMNS)


def test_amount_is_a_string_in_cents(read):
    # "3000.00" + "3000" + "150" + "375" + "240" + "100" + "46" cents
    assert billed(read.spend)["BilledCost"].sum() == pytest.approx((3000 + 3000 + 150 + 375 + 240 + 100 + 46) / 100)
    assert sku(read.spend, f"{SONNET}:uncached_input_tokens:0-200k")["BilledCost"] == 30.0
    assert set(read.spend["BillingCurrency"]) == {"USD"}


def test_rfc3339_buckets_with_exclusive_end(read):
    r = sku(read.spend, f"{SONNET}:output_tokens:0-200k")
    assert (r["ChargePeriodStart"], r["ChargePeriodEnd"]) == (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-02"))
    assert (r["BillingPeriodStart"], r["BillingPeriodEnd"]) == (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-08-01"))


@pytest.mark.parametrize("raw, token_type", [
    ("uncached_input_tokens", "input"), ("output_tokens", "output"), ("cache_read_input_tokens", "cached_input"),
    ("cache_creation.ephemeral_5m_input_tokens", "cache_write"),
    ("cache_creation.ephemeral_1h_input_tokens", "cache_write"),
])
def test_token_types(read, raw, token_type):
    r = sku(read.spend, f"{SONNET}:{raw}:0-200k")
    assert r["x_TokenType"] == token_type and r["x_Model"] == SONNET and r["x_SpendModality"] == "api_tokens"


def test_workspace_becomes_sub_account_and_attribution_key(read):
    r = sku(read.spend, f"{SONNET}:output_tokens:0-200k")
    assert r["SubAccountId"] == "wrkspc_01A" and r["x_AttributionKey"] == "anthropic.workspace:wrkspc_01A"
    default = sku(read.spend, "claude-3-5-haiku-20241022:output_tokens:0-200k")
    assert pd.isna(default["SubAccountId"]) and default["x_AttributionKey"] == "anthropic.workspace:default"


def test_web_search_is_a_platform_charge(read):
    r = sku(read.spend, "web_search")
    assert r["x_SpendModality"] == "platform" and pd.isna(r["x_TokenType"]) and r["BilledCost"] == 1.0
    assert r["ChargeDescription"] == "Web Search"


def test_quantities_and_list_cost_come_from_the_usage_report(read):
    # the cost report has no token counts: they come from usage of the same day, workspace, model and type
    cases = {  # raw token type: (tokens, USD per MTok of claude-3-5-sonnet)
        "uncached_input_tokens": (10_000_000, 3.0), "output_tokens": (2_000_000, 15.0),
        "cache_read_input_tokens": (5_000_000, 0.3), "cache_creation.ephemeral_5m_input_tokens": (1_000_000, 3.75),
        "cache_creation.ephemeral_1h_input_tokens": (400_000, 6.0),
    }
    for raw, (tokens, price) in cases.items():
        r = sku(read.spend, f"{SONNET}:{raw}:0-200k")
        assert (r["ConsumedQuantity"], r["ListUnitPrice"]) == (tokens, price), raw
        assert r["ListCost"] == pytest.approx(tokens / 1e6 * price), raw
        assert r["ListCost"] == pytest.approx(r["BilledCost"]), raw  # fixture bills at list price
    assert read.fixes["anthropic.quantity_from_usage"] == 6


def test_batch_line_keeps_its_tier_and_is_listed_at_the_catalog_price(read):
    r = sku(read.spend, "claude-3-5-haiku-20241022:output_tokens:0-200k")
    assert r["x_ServiceTier"] == "batch" and r["ConsumedQuantity"] == 230_000
    assert r["BilledCost"] == 0.46  # "46" cents: half of list
    # the catalog has no batch price for claude-3-5-haiku: listed at the standard 4.00 per MTok
    assert r["ListCost"] == pytest.approx(0.23 * 4.0)


def test_usage_parts_are_disjoint_already(read):
    u = read.usage[(read.usage["Day"] == pd.Timestamp("2026-07-01")) & (read.usage["x_Model"] == SONNET)]
    assert dict(zip(u["x_TokenType"], u["Tokens"])) == {
        "input": 10_000_000,  # uncached_input_tokens as reported: nothing subtracted
        "cached_input": 5_000_000, "cache_write": 1_000_000 + 400_000, "output": 2_000_000}
    assert u["Requests"].isna().all()  # the usage report has no request count
    assert set(u["x_AttributionKey"]) == {"anthropic.workspace:wrkspc_01A"}


def test_offset_timestamps_are_utc(read):
    jul2 = read.usage[read.usage["Day"] == pd.Timestamp("2026-07-02")]
    assert jul2["Tokens"].sum() == 5000 + 700  # bucket written as 2026-07-02T00:00:00+00:00


def test_days_without_cost_report_are_estimated_at_list_price(read):
    est = read.spend[read.spend["ChargeDescription"].str.startswith("ESTIMATE")]
    # 2026-07-02 is covered by an empty cost bucket; 2026-07-03 is not
    assert set(est["ChargePeriodStart"]) == {pd.Timestamp("2026-07-03")}
    by_sku = dict(zip(est["SkuId"], est["EffectiveCost"]))
    assert by_sku == pytest.approx({f"{SONNET}:uncached_input_tokens": 1.0 * 3.0, f"{SONNET}:output_tokens": 0.1 * 15.0,
                                    f"{SONNET}:cache_creation.ephemeral_1h_input_tokens": 0.05 * 6.0})
    assert read.fixes["anthropic.spend_estimated_from_usage"] == 3


def test_amount_given_as_a_number_is_still_cents(tmp_path):
    write(tmp_path, "cost.json", [cost_line(amount=250)])
    data = anthropic.read(tmp_path, Settings())
    assert data.spend["BilledCost"].iloc[0] == 2.5
    assert data.fixes["anthropic.amount_not_text"] == 1


def test_timestamp_without_timezone_is_utc_and_counted(tmp_path):
    write(tmp_path, "cost.json", [cost_line()], start="2026-07-01T00:00:00", end="2026-07-02T00:00:00")
    data = anthropic.read(tmp_path, Settings())
    assert data.spend["ChargePeriodStart"].iloc[0] == pd.Timestamp("2026-07-01")
    assert data.fixes["anthropic.timestamp_without_timezone_as_utc"] == 2


def test_cost_lines_not_grouped_by_description(tmp_path):
    write(tmp_path, "cost.json", [cost_line(cost_type=None, token_type=None, model=None, service_tier=None,
                                            context_window=None, amount="1234.5")])
    r = anthropic.read(tmp_path, Settings()).spend.iloc[0]
    assert r["BilledCost"] == pytest.approx(12.345) and r["x_SpendModality"] == "api_tokens"
    assert pd.isna(r["x_Model"]) and pd.isna(r["ConsumedQuantity"])


def test_lines_split_by_context_window_share_the_usage_count_by_cost(tmp_path):
    # two lines for one usage count (split by context window): the catalog has one price for both (long-context
    # prices resolve to the base rate, boardpack.prices), so the count is shared in proportion to cost
    write(tmp_path, "cost.json", [cost_line(context_window="0-200k", amount="300"),
                                  cost_line(context_window="200k-1M", amount="100")])
    write(tmp_path, "usage.json", [{"output_tokens": 1000, "workspace_id": "wrkspc_x", "model": SONNET,
                                    "service_tier": "standard"}])
    data = anthropic.read(tmp_path, Settings())
    assert dict(zip(data.spend["SkuId"], data.spend["ConsumedQuantity"])) == {
        f"{SONNET}:output_tokens:0-200k": 750, f"{SONNET}:output_tokens:200k-1M": 250}
    assert data.usage["Tokens"].sum() == 1000
    assert data.fixes["anthropic.quantity_shared_from_usage"] == 2


HAIKU = "claude-3-5-haiku-20241022"


def test_tiers_that_share_one_usage_count_split_it_by_cost_over_list_price(tmp_path):
    # the usage report grouped by workspace and model (as recommended) does not split by service tier, so the
    # standard and batch lines of one model and token type share its count, each weighed by cost / list price
    # of its tier. USD per MTok of claude-3-5-haiku in the catalog: input 0.80, output 4.00, for batch too (the
    # catalog has no batch price for it): standard input $1.60 / 0.80 = 2.0M, batch input $0.40 / 0.80 = 0.5M,
    # so 3,000,000 tokens split 2.0 : 0.5 -> 2,400,000 and 600,000
    write(tmp_path, "cost.json", [
        cost_line(model=HAIKU, token_type="uncached_input_tokens", amount="160"),
        cost_line(model=HAIKU, token_type="uncached_input_tokens", amount="40", service_tier="batch"),
        cost_line(model=HAIKU, token_type="output_tokens", amount="280")])
    write(tmp_path, "usage.json", [{"uncached_input_tokens": 3_000_000, "output_tokens": 700_000,
                                    "workspace_id": "wrkspc_x", "model": HAIKU, "service_tier": None}])
    data = anthropic.read(tmp_path, Settings())
    got = {(t, k): q for t, k, q in zip(data.spend["x_ServiceTier"], data.spend["x_TokenType"],
                                        data.spend["ConsumedQuantity"])}
    assert got == pytest.approx({("standard", "input"): 2_400_000, ("batch", "input"): 600_000,
                                 ("standard", "output"): 700_000})
    assert sum(got.values()) == data.usage["Tokens"].sum()  # no token lost or made up
    assert data.fixes["anthropic.quantity_shared_from_usage"] == 2 and data.fixes["anthropic.quantity_from_usage"] == 1
    assert any("2 token cost line(s) share a usage count" in n for n in data.notes)


def test_a_token_line_without_usage_gets_tokens_from_cost_at_list_price(tmp_path):
    # no usage report for the day: $15.00 of claude-3-5-sonnet output at 15.00 per MTok is 1,000,000 tokens
    write(tmp_path, "cost.json", [cost_line(amount="1500")])
    data = anthropic.read(tmp_path, Settings())
    r = data.spend.iloc[0]
    assert (r["ConsumedQuantity"], r["ListUnitPrice"]) == (1_000_000, 15.0)
    assert r["ListCost"] == pytest.approx(15.0)
    assert data.fixes["anthropic.quantity_estimated_from_cost"] == 1
    assert any("1 token cost line(s) have no token count in the usage report" in n and SONNET in n
               for n in data.notes)


def test_a_token_line_of_a_model_without_list_price_keeps_no_quantity(tmp_path):
    # neither usage nor a price: nothing to estimate from; the spend contract stops the run on the empty quantity
    write(tmp_path, "cost.json", [cost_line(model="claude-unlisted-9", amount="500")])
    data = anthropic.read(tmp_path, Settings())
    assert data.spend["ConsumedQuantity"].isna().all()
    assert data.fixes["anthropic.quantity_estimated_from_cost"] == 0
    assert any("claude-unlisted-9" in n and "no list price" in n for n in data.notes)


# --- fetches that overlap --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def refetched():
    return anthropic.read(REFETCH, Settings())


def test_a_refetched_bucket_counts_once_at_the_later_amount(refetched):
    spend = billed(refetched.spend)
    # cents: 2026-07-01 from the earlier fetch; 2026-07-02 (fetched twice) and 2026-07-03 from the later one
    assert spend["BilledCost"].sum() == pytest.approx((3000 + 1500 + 1450 + 600 + 100 + 2000) / 100)
    jul2 = spend[spend["ChargePeriodStart"] == pd.Timestamp("2026-07-02")]
    assert sorted(zip(jul2["SkuId"], jul2["BilledCost"])) == [(f"{SONNET}:output_tokens:0-200k", 6.0),
                                                              (f"{SONNET}:uncached_input_tokens:0-200k", 14.5),
                                                              ("web_search", 1.0)]
    assert set(jul2["x_SourceFile"]) == {LATER}
    assert len(spend) == len(refetched.spend)  # no estimates: every day has a cost report


def test_replaced_and_duplicate_dollars_are_excluded_exactly(refetched):
    ex = refetched.excluded
    assert list(ex.columns) == list(EXCLUDED_COLUMNS)
    assert sorted(zip(ex["x_Exclusion"], ex["EffectiveCost"], ex["x_SourceFile"], ex["x_ExcludedBy"])) == [
        ("duplicate", 1.0, EARLIER, LATER), ("duplicate", 6.0, EARLIER, LATER),  # web search, output: unchanged
        ("superseded", 12.0, EARLIER, LATER)]                                     # input: revised to 14.50
    assert set(ex["ChargePeriodStart"]) == {pd.Timestamp("2026-07-02")} and (ex["Rows"] == 1).all()
    assert set(zip(ex["x_Source"], ex["ProviderName"], ex["ServiceName"], ex["BillingCurrency"])) == {
        ("anthropic", "Anthropic", "Claude API", "USD")}
    read = (3000 + 1500 + 1200 + 600 + 100) / 100 + (1450 + 600 + 100 + 2000) / 100
    assert refetched.spend["EffectiveCost"].sum() + ex["EffectiveCost"].sum() == pytest.approx(read)


def test_refetched_usage_counts_tokens_once(refetched):
    u = refetched.usage
    jul2 = u[u["Day"] == pd.Timestamp("2026-07-02")]
    assert dict(zip(jul2["x_TokenType"], jul2["Tokens"])) == {"input": 4_833_333, "output": 400_000}
    assert u["Tokens"].sum() == 11_000_000 + 5_233_333 + 6_666_667
    r = sku(refetched.spend[refetched.spend["ChargePeriodStart"] == pd.Timestamp("2026-07-02")],
            f"{SONNET}:uncached_input_tokens:0-200k")
    assert r["ConsumedQuantity"] == 4_833_333  # from the later usage report only


def test_the_data_quality_page_says_what_a_later_fetch_replaced(refetched):
    assert (f"anthropic: 1 cost result(s) of {EARLIER} replaced by the later fetch {LATER} "
            "(+$2.50: $12.00 read there, $14.50 counted).") in refetched.notes
    assert f"anthropic: 2 cost result(s) of {EARLIER} identical to those of {LATER}: counted once ($7.00 not " \
           "counted again)." in refetched.notes
    assert ("anthropic: 1 usage result(s) of usage_report_messages_2026-07-01_to_07-03.json replaced by the later "
            "fetch usage_report_messages_2026-07-02_to_07-04.json.") in refetched.notes
    assert refetched.fixes["anthropic.superseded_result_replaced"] == 2
    assert refetched.fixes["anthropic.duplicate_result_dropped"] == 2


def test_on_a_tie_the_path_that_sorts_last_counts(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    write(tmp_path / "b", "cost.json", [cost_line(amount="200")])
    write(tmp_path / "a", "cost.json", [cost_line(amount="100")])
    data = anthropic.read(tmp_path, Settings())
    assert list(zip(data.spend["x_SourceFile"], data.spend["BilledCost"])) == [("b/cost.json", 2.0)]
    assert list(zip(data.excluded["x_SourceFile"], data.excluded["x_ExcludedBy"], data.excluded["EffectiveCost"])) == [
        ("a/cost.json", "b/cost.json", 1.0)]


def test_a_null_and_a_missing_group_by_field_are_the_same_bucket(tmp_path):
    # the earlier export dropped the null fields; the later one keeps them: still the same result
    write(tmp_path, "cost_1.json", [{"currency": "USD", "amount": "100", "description": "Web Search",
                                     "cost_type": "web_search"}])
    write(tmp_path, "cost_2.json", [cost_line(amount="150", description="Web Search", cost_type="web_search",
                                              workspace_id=None, context_window=None, model=None, service_tier=None,
                                              token_type=None)])
    data = anthropic.read(tmp_path, Settings())
    assert list(data.spend["BilledCost"]) == [1.5] and list(data.excluded["x_Exclusion"]) == ["superseded"]


def test_a_later_fetch_of_the_same_query_replaces_every_line_of_the_bucket(tmp_path):
    # both fetches have wrkspc_b: the same query, so wrkspc_a, absent from the later one, was revised to nothing
    write(tmp_path, "cost_1.json", [cost_line(workspace_id="wrkspc_a"), cost_line(workspace_id="wrkspc_b")])
    write(tmp_path, "cost_2.json", [cost_line(workspace_id="wrkspc_b", amount="300")])
    data = anthropic.read(tmp_path, Settings())
    assert list(data.spend["BilledCost"]) == [3.0]
    assert list(zip(data.excluded["EffectiveCost"], data.excluded["x_Exclusion"], data.excluded["x_ExcludedBy"])) == [
        (1.0, "superseded", "cost_2.json"), (1.0, "superseded", "cost_2.json")]


def test_exports_per_workspace_of_the_same_day_both_count(tmp_path):
    write(tmp_path, "cost_a.json", [cost_line(workspace_id="wrkspc_a")])
    write(tmp_path, "cost_b.json", [cost_line(workspace_id="wrkspc_b", amount="300")])
    data = anthropic.read(tmp_path, Settings())
    assert sorted(data.spend["BilledCost"]) == [1.0, 3.0] and data.excluded is None


def web_search(amount: str, workspace: str | None = "wrkspc_x") -> dict:
    """A web search line of a cost report grouped by workspace and description, keys in the reference's order."""
    return {"amount": amount, "context_window": None, "cost_type": "web_search", "currency": "USD",
            "description": "Web Search Usage", "model": None, "service_tier": None, "token_type": None,
            "workspace_id": workspace}


def cost_page(*results) -> dict:
    return {"data": [{"ending_at": "2026-04-02T00:00:00Z", "results": list(results),
                      "starting_at": "2026-04-01T00:00:00Z"}], "has_more": False, "next_page": None}


def test_equal_lines_in_one_bucket_are_distinct_charges(tmp_path):
    # grouped by workspace and description, the web searches made with two models are two lines that differ in
    # nothing shown (model is null on them): one page, so neither is a copy of the other
    (tmp_path / "cost_report_2026-04.json").write_text(json.dumps(cost_page(
        web_search("12"), cost_line(amount="500"), web_search("12"), web_search("3", workspace=None),
        web_search("3", workspace=None))))
    data = anthropic.read(tmp_path, Settings())
    assert data.spend["BilledCost"].sum() == pytest.approx((12 + 500 + 12 + 3 + 3) / 100) and len(data.spend) == 5
    assert data.excluded is None and data.fixes["anthropic.duplicate_result_dropped"] == 0


def test_a_page_with_equal_lines_saved_twice_counts_once(tmp_path):
    doc = cost_page(web_search("12"), web_search("12"), web_search("40"))
    (tmp_path / "cost_report_2026-04.json").write_text(json.dumps(doc))
    (tmp_path / "cost_report_2026-04 (1).json").write_text(json.dumps(doc))  # saved again from the browser
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "cost_report_2026-04.json").write_text(json.dumps([doc, doc]))  # twice in one file
    data = anthropic.read(tmp_path, Settings())
    assert sorted(data.spend["BilledCost"]) == [0.12, 0.12, 0.4]
    # counted from cost_report_2026-04.json (on a tie the path that sorts last); the other copy and both pages of
    # again/ are duplicates: three copies of the page's three lines
    assert set(data.excluded["x_Exclusion"]) == {"duplicate"} and len(data.excluded) == 3 * 3
    assert data.excluded["EffectiveCost"].sum() == pytest.approx(3 * 0.64)


def test_vendor_anthropic_only_counts_every_line():
    # amounts as the generator wrote them (tests/fixtures/vendor/expected.json): nothing is a duplicate
    expected = json.loads((VENDOR / "expected.json").read_text())["anthropic_only"]
    data = anthropic.read(VENDOR / "anthropic_only" / "anthropic", Settings())
    assert quarterly(data.spend) == {q: expected[q]["counted"] for q in ("2026-Q2", "2026-Q3")}
    assert data.excluded is None


def test_vendor_anthropic_only_gives_every_token_line_its_share_of_the_usage():
    # batch lines (tier not in the usage report) included: every token line has a quantity and no token is lost
    data = anthropic.read(VENDOR / "anthropic_only" / "anthropic", Settings())
    tokens = data.spend[data.spend["x_SpendModality"] == "api_tokens"]
    assert tokens["ConsumedQuantity"].notna().all() and (tokens["ConsumedQuantity"] > 0).all()
    assert tokens["ConsumedQuantity"].sum() == pytest.approx(data.usage["Tokens"].sum())
    assert data.fixes["anthropic.quantity_estimated_from_cost"] == 0


def test_unix_seconds_are_refused(tmp_path):
    path = tmp_path / "cost.json"
    path.write_text(json.dumps({"data": [{"starting_at": 1782864000, "ending_at": 1782950400, "results": []}]}))
    with pytest.raises(InputError) as e:
        anthropic.read(tmp_path, Settings())
    assert e.value.column == "starting_at" and "RFC 3339" in str(e.value)


def test_amount_that_is_not_a_decimal_is_refused(tmp_path):
    write(tmp_path, "cost.json", [cost_line(amount="12,50")])
    with pytest.raises(InputError) as e:
        anthropic.read(tmp_path, Settings())
    assert e.value.column == "amount" and "cents" in str(e.value)


def test_unknown_token_type_is_refused(tmp_path):
    write(tmp_path, "cost.json", [cost_line(token_type="thinking_tokens")])
    with pytest.raises(InputError, match="thinking_tokens"):
        anthropic.read(tmp_path, Settings())


def test_negative_usage_is_refused(tmp_path):
    write(tmp_path, "usage.json", [{"uncached_input_tokens": -1, "output_tokens": 5, "model": SONNET}])
    with pytest.raises(InputError, match="uncached_input_tokens"):
        anthropic.read(tmp_path, Settings())


def test_result_of_unknown_shape_is_refused(tmp_path):
    write(tmp_path, "other.json", [{"foo": 1}])
    with pytest.raises(InputError, match="neither a cost line"):
        anthropic.read(tmp_path, Settings())
