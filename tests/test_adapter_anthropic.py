"""Anthropic cost and usage report pages: amounts as strings in cents, RFC 3339 buckets with exclusive ends,
input split into disjoint parts, null workspace = default workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from boardpack.adapters import SOURCE_COLUMNS, USAGE_COLUMNS, Settings, anthropic
from boardpack.exceptions import InputError
from boardpack.schema import SPEND_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "anthropic"
SONNET = "claude-3-5-sonnet-20241022"


@pytest.fixture(scope="module")
def read():
    return anthropic.read(FIXTURES, Settings())


def billed(spend: pd.DataFrame) -> pd.DataFrame:
    return spend[~spend["ChargeDescription"].str.startswith("ESTIMATE")]


def sku(spend: pd.DataFrame, value: str) -> pd.Series:
    found = billed(spend)[billed(spend)["SkuId"] == value]
    assert len(found) == 1, value
    return found.iloc[0]


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


def test_split_cost_lines_do_not_share_one_usage_count(tmp_path):
    # two lines for one key (e.g. split by context window): the usage count cannot be given to either
    write(tmp_path, "cost.json", [cost_line(context_window="0-200k"), cost_line(context_window="200k-1M")])
    write(tmp_path, "usage.json", [{"output_tokens": 1000, "workspace_id": "wrkspc_x", "model": SONNET,
                                    "service_tier": "standard"}])
    data = anthropic.read(tmp_path, Settings())
    assert data.spend["ConsumedQuantity"].isna().all()
    assert data.usage["Tokens"].sum() == 1000


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
