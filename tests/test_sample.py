"""The bundled sample: deterministic bytes, canonical columns, and every pattern the pack must show.

Metrics are recomputed here straight from the docs/metrics.md definitions, independent of the package.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from genai_prices import data_snapshot

from boardpack import prices, sample
from boardpack.schema import COLUMNS, EVIDENCE, SPEND_MODALITIES, STAGES, TABLES, TIER_RANK, TIERS

QUARTERS = ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
TARGET_MULTIPLE = 3.0
FILES = {**{name: f"{name}.csv" for name in TABLES}, "seat_users": "seat_users.csv.gz",
         "seat_apps": "seat_apps.csv.gz",  # each table's file
         "seat_feature_usage": "seat_feature_usage.csv.gz"}  # each table's file
REPORTS = ["2026-07-31", "2026-08-31", "2026-09-30"]  # the seat reports: 2026-Q3's month ends


def _text(path: Path) -> bytes:
    """A table file's CSV bytes, decompressed for .gz."""
    return gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()


def _quarter(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates.str[:10]).dt.to_period("Q").map(lambda p: f"{p.year}-Q{p.quarter}")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    paths = sample.generate(out)
    assert set(paths) == set(TABLES)
    return out


@pytest.fixture(scope="module")
def t(out_dir):
    """The tables as strings (empty string = null), plus numeric views and a quarter column."""
    tables = {name: pd.read_csv(out_dir / FILES[name], dtype=str, keep_default_na=False) for name in TABLES}
    for name in TABLES:
        for col, kind in COLUMNS[name].items():
            if kind == "number":
                tables[name][col] = pd.to_numeric(tables[name][col].replace("", np.nan))
    tables["spend"]["Q"] = _quarter(tables["spend"]["ChargePeriodStart"])
    tables["seats"]["Q"] = _quarter(tables["seats"]["Month"])
    tables["outcomes"]["Q"] = _quarter(tables["outcomes"]["Month"])
    return tables


@pytest.fixture(scope="module")
def tokens(t):
    return t["spend"][t["spend"]["x_SpendModality"] == "api_tokens"]


@pytest.fixture(scope="module")
def by_quarter(t, tokens):
    """Per quarter: spend, token spend, tokens, unit cost, value, multiple, workload fit."""
    spend, outcomes, use_cases, models = t["spend"], t["outcomes"], t["use_cases"], t["models"]
    tier = models.set_index("Model")["Tier"].map(TIER_RANK)
    required = use_cases.set_index("UseCaseId")["RequiredTier"].map(TIER_RANK)
    over = tokens["x_Model"].map(tier) > tokens["x_UseCaseId"].map(required)  # NaN (no use case) -> False
    hard = outcomes[outcomes["Evidence"].isin(["measured", "estimated"])]
    frame = pd.DataFrame({
        "spend": spend.groupby("Q")["EffectiveCost"].sum(),
        "token_spend": tokens.groupby("Q")["EffectiveCost"].sum(),
        "tokens": tokens.groupby("Q")["ConsumedQuantity"].sum(),
        "over_spend": tokens[over].groupby("Q")["EffectiveCost"].sum(),
        "value": hard.groupby("Q")["ValueBase"].sum(),
    }).fillna(0.0)
    frame["unit_cost"] = frame["token_spend"] / frame["tokens"] * 1e6
    frame["multiple"] = frame["value"] / frame["spend"]
    frame["fit"] = 1 - frame["over_spend"] / frame["token_spend"]
    return frame


def quadrants(t, quarter: str) -> pd.Series:
    """docs/metrics.md: retire (retired, still spending), prove (no measured/estimated value), scale, fix."""
    spend = t["spend"][(t["spend"]["Q"] == quarter) & (t["spend"]["x_UseCaseId"] != "")]
    outcomes = t["outcomes"][(t["outcomes"]["Q"] == quarter) & t["outcomes"]["Evidence"].isin(["measured", "estimated"])]
    cost = spend.groupby("x_UseCaseId")["EffectiveCost"].sum()
    value = outcomes.groupby("UseCaseId")["ValueBase"].sum().reindex(cost.index, fill_value=0.0)
    stage = t["use_cases"].set_index("UseCaseId")["Stage"]
    result = {}
    for uc in cost.index:
        if stage[uc] == "retired" and cost[uc] > 0:
            result[uc] = "retire"
        elif value[uc] <= 0:
            result[uc] = "prove"
        elif value[uc] / cost[uc] >= TARGET_MULTIPLE:
            result[uc] = "scale"
        else:
            result[uc] = "fix"
    return pd.Series(result)


# --- files -------------------------------------------------------------------------------------------
def test_generation_is_byte_for_byte_deterministic(tmp_path, out_dir):
    first, second = sample.generate(tmp_path / "a"), sample.generate(tmp_path / "b")
    assert {name: path.name for name, path in first.items()} == FILES
    for name in TABLES:
        assert first[name].read_bytes() == second[name].read_bytes() == (out_dir / FILES[name]).read_bytes()


def test_gzip_header_has_no_time_and_no_name(out_dir):
    """Same rows, same bytes: a gzip header would otherwise carry the time of writing and the file's name."""
    head = (out_dir / FILES["seat_users"]).read_bytes()[:10]
    assert head[:3] == b"\x1f\x8b\x08" and head[3] == 0 and head[4:8] == b"\0\0\0\0"  # flags: no FNAME; mtime 0


def test_another_seed_gives_other_numbers(tmp_path, out_dir):
    other = sample.generate(tmp_path / "s", seed=7)
    assert other["spend"].read_bytes() != (out_dir / "spend.csv").read_bytes()


@pytest.mark.parametrize("name", TABLES)
def test_csv_has_schema_columns_utf8_and_lf(out_dir, name):
    raw = _text(out_dir / FILES[name])
    raw.decode("utf-8")
    assert b"\r" not in raw and raw.endswith(b"\n")
    assert raw.split(b"\n", 1)[0].decode() == ",".join(COLUMNS[name])


def test_value_formats(t):
    spend = t["spend"]
    stamp = re.compile(r"^\d{4}-\d{2}-01T00:00:00Z$")
    for col in ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"):
        assert spend[col].str.match(stamp).all(), col
    start = pd.to_datetime(spend["ChargePeriodStart"])
    assert (pd.to_datetime(spend["ChargePeriodEnd"]) == start + pd.DateOffset(months=1)).all()  # exclusive end
    assert (spend["BillingPeriodEnd"] == spend["ChargePeriodEnd"]).all()
    for name in ("seats", "outcomes"):
        assert t[name]["Month"].str.match(r"^\d{4}-\d{2}-01$").all()
    assert set(t["use_cases"]["Portable"]) == {"true", "false"}
    assert set(t["models"]["OpenWeights"]) == {"true", "false"}
    assert spend["Tags"].map(lambda s: isinstance(json.loads(s), dict)).all()
    money = ["ListCost", "ContractedCost", "EffectiveCost", "BilledCost"]
    assert (spend[money].round(6) == spend[money]).all().all()


# --- shape of the enterprise -------------------------------------------------------------------------
def test_seven_quarters_monthly(t):
    assert sorted(t["spend"]["Q"].unique()) == QUARTERS
    assert t["spend"]["ChargePeriodStart"].nunique() == 21
    assert sorted(t["outcomes"]["Q"].unique()) == QUARTERS


def test_use_case_catalog(t):
    uc = t["use_cases"]
    assert uc["UseCaseId"].is_unique and len(uc) >= 20
    assert uc["BusinessUnit"].nunique() >= 6
    assert set(uc["RequiredTier"]) == set(TIERS)
    assert set(uc["Stage"]) == set(STAGES)
    assert ((uc["Portable"] == "true") == (uc["FallbackProvider"] != "")).all()
    assert (uc["Owner"] != "").all()
    spent = set(t["spend"]["x_UseCaseId"]) - {""}
    assert spent <= set(uc["UseCaseId"]) and set(t["outcomes"]["UseCaseId"]) <= set(uc["UseCaseId"])


def test_portable_share_of_spend(t):
    spend = t["spend"]
    portable_ids = set(t["use_cases"].query("Portable == 'true'")["UseCaseId"])
    share = spend[spend["x_UseCaseId"].isin(portable_ids)].groupby("Q")["EffectiveCost"].sum() / spend.groupby("Q")[
        "EffectiveCost"].sum()
    assert share.between(0.40, 0.55).all(), share


def test_all_spend_modalities_present(t):
    assert set(t["spend"]["x_SpendModality"]) == set(SPEND_MODALITIES)
    assert (t["spend"]["ServiceCategory"] == "AI and Machine Learning").all()
    assert (t["spend"]["BillingCurrency"] == "USD").all()


# --- per-token spend ---------------------------------------------------------------------------------
def test_token_rows_are_focus_shaped(tokens):
    assert len(tokens) > 0
    assert set(tokens["x_TokenType"]) == {"input", "output"}
    assert (tokens["ChargeCategory"] == "Usage").all() and (tokens["ChargeFrequency"] == "Usage-Based").all()
    assert (tokens["ConsumedUnit"] == "Tokens").all() and (tokens["PricingUnit"] == "1000000 Tokens").all()
    assert np.allclose(tokens["PricingQuantity"], tokens["ConsumedQuantity"] / 1e6, rtol=0, atol=1e-9)
    assert np.allclose(tokens["ListCost"], tokens["PricingQuantity"] * tokens["ListUnitPrice"], rtol=0, atol=1e-5)
    assert (tokens["SkuId"] == tokens["x_Model"] + ":" + tokens["x_TokenType"]).all()
    assert (tokens["EffectiveCost"] <= tokens["ListCost"]).all()
    assert (tokens["BilledCost"] == tokens["EffectiveCost"]).all()
    tags = tokens["Tags"].map(json.loads)
    attributed = tokens["x_UseCaseId"] != ""
    assert (tags[attributed].map(lambda d: d.get("use_case")) == tokens.loc[attributed, "x_UseCaseId"]).all()
    assert (tags.map(lambda d: d.get("business_unit")) == tokens["x_BusinessUnit"]).all()


def test_pricing_categories(tokens):
    cats = tokens.groupby("ProviderName")["PricingCategory"].unique()
    committed = [p for p, c in cats.items() if list(c) == ["Committed"]]
    assert len(committed) == 1 and all(list(c) == ["Standard"] for p, c in cats.items() if p not in committed)
    rows = tokens[tokens["ProviderName"] == committed[0]]
    discount = 1 - rows["EffectiveCost"].sum() / rows["ListCost"].sum()
    assert 0.10 <= discount <= 0.20


def test_at_least_five_token_providers_and_open_weights(t, tokens):
    assert tokens["ProviderName"].nunique() >= 5
    open_models = set(t["models"].query("OpenWeights == 'true'")["Model"])
    assert tokens["x_Model"].isin(open_models).any()


def test_list_unit_price_is_genai_prices_at_charge_period_start(tokens):
    tiers = prices.load_tier_map().set_index("Model")
    snapshot = data_snapshot.get_snapshot()
    keys = tokens[["x_Model", "x_TokenType", "ChargePeriodStart", "ListUnitPrice"]].drop_duplicates()
    assert keys.groupby(["x_Model", "x_TokenType", "ChargePeriodStart"]).size().max() == 1
    for model, token_type, start, unit_price in keys.itertuples(index=False):
        provider = snapshot.find_provider(None, tiers.loc[model, "CatalogProvider"], None)
        info = next(m for m in provider.models if m.id == tiers.loc[model, "CatalogModel"])
        at = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + sample.PRICE_HOUR
        catalog = info.get_prices(at)
        price = catalog.input_mtok if token_type == "input" else catalog.output_mtok
        assert unit_price == float(getattr(price, "base", price)), (model, token_type, start)


def test_effective_dated_price_change_shows_in_spend(tokens):
    o3 = tokens[(tokens["SkuId"] == "o3:input")].groupby("ChargePeriodStart")["ListUnitPrice"].max()
    assert o3["2025-06-01T00:00:00Z"] == 10.0 and o3["2025-07-01T00:00:00Z"] == 2.0


def test_unattributed_token_spend_and_platform_fee(t, tokens):
    share = tokens[tokens["x_UseCaseId"] == ""].groupby("Q")["EffectiveCost"].sum() / tokens.groupby("Q")[
        "EffectiveCost"].sum()
    assert share.between(0.04, 0.08).all(), share
    platform = t["spend"][t["spend"]["x_SpendModality"] == "platform"]
    assert platform["ChargePeriodStart"].nunique() == 21 and (platform["x_UseCaseId"] == "").all()
    assert (platform["ChargeFrequency"] == "Recurring").all() and (platform["ChargeCategory"] == "Purchase").all()


# --- seats and GPUs ----------------------------------------------------------------------------------
def test_seats_tens_of_thousands_with_partial_use(t):
    seats = t["seats"]
    assert (seats["ActiveUsers"] <= seats["LicensedSeats"]).all()
    monthly = seats.groupby(["Product", "Month"])[["LicensedSeats", "ActiveUsers"]].sum()
    m365, github = monthly.loc["Microsoft 365 Copilot"], monthly.loc["GitHub Copilot Business"]
    assert m365["LicensedSeats"].iloc[0] == 20_000 and m365["LicensedSeats"].iloc[-1] == 32_000
    assert m365["LicensedSeats"].is_monotonic_increasing
    assert (m365["ActiveUsers"] / m365["LicensedSeats"]).between(0.45, 0.70).all()
    assert github["LicensedSeats"].between(1_500, 2_600).all()
    assert (github["ActiveUsers"] / github["LicensedSeats"]).between(0.75, 0.85).all()
    assert seats.groupby("Product")["BusinessUnit"].nunique()["Microsoft 365 Copilot"] >= 6


def test_seat_spend_matches_seat_counts(t):
    rows = t["spend"][t["spend"]["x_SpendModality"] == "seat_licence"]
    assert set(rows["ServiceName"]) == set(t["seats"]["Product"])
    assert (rows["ConsumedUnit"] == "Seats").all() and (rows["ChargeCategory"] == "Purchase").all()
    assert (rows["ChargeFrequency"] == "Recurring").all()
    seats = t["seats"].assign(ChargePeriodStart=t["seats"]["Month"] + "T00:00:00Z")
    joined = rows.merge(seats, left_on=["ServiceName", "ChargePeriodStart", "x_BusinessUnit"],
                        right_on=["Product", "ChargePeriodStart", "BusinessUnit"], validate="one_to_one")
    assert len(joined) == len(rows) == len(seats)
    assert (joined["ConsumedQuantity"] == joined["LicensedSeats"]).all()
    price = rows.groupby("ServiceName")["ListUnitPrice"].unique()
    assert list(price["Microsoft 365 Copilot"]) == [30.0] and list(price["GitHub Copilot Business"]) == [19.0]
    assert list(price["GitHub Copilot Enterprise"]) == [39.0]
    m365 = rows[rows["ServiceName"] == "Microsoft 365 Copilot"]
    assert (m365["EffectiveCost"] < m365["ListCost"]).all()
    owner = rows.groupby("ServiceName")["x_UseCaseId"].unique()
    # one use case per product; GitHub's two plans serve the same one (UC-02), each in its share of the spend
    assert all(len(ids) == 1 for ids in owner)
    assert owner.map(lambda ids: ids[0]).drop(["GitHub Copilot Enterprise"]).is_unique


def test_self_hosted_gpu_line(t):
    gpu = t["spend"][t["spend"]["x_SpendModality"] == "self_hosted"]
    assert len(gpu) > 0 and (gpu["x_UseCaseId"] != "").all()
    assert (gpu["ConsumedUnit"] == "Hours").all() and (gpu["PricingCategory"] == "Committed").all()
    assert (gpu["ChargeFrequency"] == "Recurring").all()
    open_models = set(t["models"].query("OpenWeights == 'true'")["Model"])
    assert gpu["x_Model"].isin(open_models).all()


# --- seat reports (seat_users) -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def su(t):
    """seat_users with a Month (the seats table's key), a flag for active and the days since last activity."""
    su = t["seat_users"].copy()
    su["Month"] = su["ReportDate"].str[:8] + "01"
    last, report = pd.to_datetime(su["LastActivityDate"].replace("", None)), pd.to_datetime(su["ReportDate"])
    su["idle_days"] = (report - last).dt.days  # NaN: never active
    # active as adapters/m365.py counts it: last > report - 30 days, i.e. ReportDate-29 .. ReportDate
    su["active"] = last > report - pd.Timedelta(days=30)
    return su


def test_seat_users_are_month_end_reports_of_the_last_quarter(su):
    assert sorted(su["ReportDate"].unique()) == REPORTS
    date = r"^\d{4}-\d{2}-\d{2}$"
    assert su["LastActivityDate"].str.match(date + "|^$").all() and su["AssignedDate"].str.match(date + "|^$").all()
    assert (su["LastActivityDate"].replace("", "0000") <= su["ReportDate"]).all()
    assert set(su["Anonymised"]) == {"true", "false"}
    assert not su.duplicated(["Product", "ReportDate", "SeatId"]).any()


def test_seat_users_count_exactly_the_seats_table(t, su):
    """Per report month, product and business unit: rows = LicensedSeats, active rows = ActiveUsers."""
    counts = su.groupby(["ProviderName", "Product", "Month", "BusinessUnit"]).agg(
        rows=("SeatId", "size"), active=("active", "sum")).reset_index()
    seats = t["seats"][t["seats"]["Month"].isin(counts["Month"])]
    joined = seats.merge(counts, on=["ProviderName", "Product", "Month", "BusinessUnit"], how="outer",
                         validate="one_to_one", indicator=True)
    assert (joined["_merge"] == "both").all() and len(joined) == 3 * 13  # 3 months x (8 + 3 + 2) business units
    assert (joined["rows"] == joined["LicensedSeats"]).all() and (joined["active"] == joined["ActiveUsers"]).all()
    total = su.groupby(["Product", "ReportDate"]).size()
    assert list(total["Microsoft 365 Copilot"]) == [30_800, 31_400, 32_000]
    assert list(total["GitHub Copilot Business"]) == [2_500, 2_500, 2_600]
    assert list(total["GitHub Copilot Enterprise"]) == [400, 400, 400]


@pytest.mark.parametrize("product, newcomers", [("Microsoft 365 Copilot", [600, 600]),
                                                ("GitHub Copilot Business", [0, 100])])
def test_seat_users_keep_their_ids_and_business_unit_across_reports(su, product, newcomers):
    rows = su[su["Product"] == product]
    jul, aug, sep = (set(rows.loc[rows["ReportDate"] == r, "SeatId"]) for r in REPORTS)
    assert jul <= aug <= sep  # seats only grow in 2026-Q3: every holder stays
    assert [len(aug - jul), len(sep - aug)] == newcomers  # newcomers first appear later: tenure starts there
    assert (rows.groupby("SeatId")["BusinessUnit"].nunique() == 1).all()


def test_last_activity_never_moves_back_and_idle_users_keep_theirs(su):
    rows = su.sort_values("ReportDate", kind="stable")
    last, before = rows["LastActivityDate"], rows.groupby(["Product", "SeatId"])["LastActivityDate"].shift()
    used = before.notna() & (before != "")  # a last activity in the user's previous report
    assert (last[used] >= before[used]).all()
    idle_after_use = used & ~rows["active"]
    assert idle_after_use.sum() > 1_000 and (last[idle_after_use] == before[idle_after_use]).all()


def test_idle_spells_are_skewed_and_never_active_is_a_few_percent(su):
    last = su[su["ReportDate"] == "2026-09-30"]
    for product, rows in last.groupby("Product"):
        never = (rows["LastActivityDate"] == "").mean()
        assert 0.02 <= never <= 0.08, (product, never)
        idle = rows["idle_days"]
        spells = [idle.between(30, 59).sum(), idle.between(60, 89).sum(), (idle >= 90).sum()]
        assert min(spells) > 0.01 * len(rows), (product, spells)
        # a core of daily users (last active on the report day or the day before) and a tail over the month
        assert (idle <= 1).sum() > 0.3 * rows["active"].sum() and idle.between(14, 29).sum() > 0, product


def test_m365_seat_ids_are_the_anonymised_hash(su):
    m365 = su[su["Product"] == "Microsoft 365 Copilot"]
    assert m365["SeatId"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert (m365["Anonymised"] == "true").all() and (m365["AssignedDate"] == "").all()
    assert (m365["ProviderName"] == "Microsoft").all()


def test_github_seats_name_the_user_and_their_assignment(su):
    gh = su[su["Product"] == "GitHub Copilot Business"]
    assert gh["SeatId"].str.fullmatch(r"user:[a-z0-9]+(-[a-z0-9]+)*").all()
    assert (gh["Anonymised"] == "false").all() and (gh["ProviderName"] == "GitHub").all()
    assert (gh["AssignedDate"] != "").all() and (gh.groupby("SeatId")["AssignedDate"].nunique() == 1).all()
    first_report = gh.groupby("SeatId")["ReportDate"].transform("min")
    assert (gh["AssignedDate"] <= first_report).all()
    before = first_report.map(lambda r: REPORTS[REPORTS.index(r) - 1] if r != REPORTS[0] else "")
    assert (before != "").any() and (gh["AssignedDate"] > before).all()  # after the report before the first listing
    used = gh["LastActivityDate"] != ""
    assert (gh.loc[used, "LastActivityDate"] >= gh.loc[used, "AssignedDate"]).all()


def test_falling_seats_reclaim_the_longest_idle():
    """A business unit that gives seats back (not in the sample) loses idle users, and still counts exactly."""
    months = pd.date_range("2026-03-01", periods=4, freq="MS")
    history = pd.DataFrame({"LicensedSeats": [100, 120, 110, 110], "ActiveUsers": [50, 70, 60, 65]}, index=months)
    users = sample._bu_seat_users(np.random.default_rng(1), history, "2025-01-01", reports=4)
    users["active"] = users["LastActivityDate"] > users["ReportDate"] - pd.Timedelta(days=30)
    by_month = users.groupby("ReportDate").agg(rows=("Serial", "size"), active=("active", "sum"))
    assert list(by_month["rows"]) == [100, 120, 110, 110] and list(by_month["active"]) == [50, 70, 60, 65]
    april, may = (users[users["ReportDate"] == pd.Timestamp(d)] for d in ("2026-04-30", "2026-05-31"))
    gone = april[~april["Serial"].isin(may["Serial"])]
    assert len(gone) == 10 and not gone["active"].any()


# --- outcomes and the three metrics ------------------------------------------------------------------
def test_outcome_ledger(t):
    oc = t["outcomes"]
    assert set(oc["Evidence"]) == set(EVIDENCE)
    assert (oc["ValueLow"] <= oc["ValueBase"]).all() and (oc["ValueBase"] <= oc["ValueHigh"]).all()
    assert (oc["ValueLow"] < oc["ValueHigh"]).all()
    assert (oc["Quantity"] > 0).all() and (oc[["Unit", "Method", "Owner", "OutcomeType"]] != "").all().all()
    assert not oc.duplicated(["UseCaseId", "Month", "OutcomeType"]).any()


def test_value_multiple_in_last_quarters(by_quarter):
    assert by_quarter.loc[["2026-Q2", "2026-Q3"], "multiple"].between(2.0, 4.0).all()


def test_workload_fit(by_quarter):
    assert by_quarter["fit"].between(0.60, 0.85).all(), by_quarter["fit"]


def test_jevons_unit_cost_falls_while_spend_and_volume_rise(by_quarter):
    assert list(by_quarter.index) == QUARTERS
    assert (by_quarter["unit_cost"].diff().dropna() < 0).all()
    assert (by_quarter["spend"].diff().dropna() > 0).all()
    growth = by_quarter["tokens"].pct_change().dropna()
    assert growth.between(0.30, 0.50).all(), growth


@pytest.mark.parametrize("quarter", ["2026-Q2", "2026-Q3"])
def test_all_four_quadrants_present(t, quarter):
    assert set(quadrants(t, quarter)) == {"scale", "fix", "prove", "retire"}


def test_prove_use_cases_include_assumed_only_and_no_outcome_rows(t):
    prove = quadrants(t, "2026-Q3")
    prove = set(prove[prove == "prove"].index)
    ledger = t["outcomes"][t["outcomes"]["Q"] == "2026-Q3"]
    with_rows = set(ledger["UseCaseId"])
    assert prove & with_rows and prove - with_rows
    assert set(ledger[ledger["UseCaseId"].isin(prove)]["Evidence"]) == {"assumed"}


# --- model catalog -----------------------------------------------------------------------------------
def test_models_cover_spend_and_carry_list_prices(t):
    models = t["models"].set_index("Model")
    used = set(t["spend"]["x_Model"]) - {""}
    assert set(models.index) == used
    at = datetime(2026, 9, 30, 12, tzinfo=timezone.utc)  # sample.PRICE_HOUR
    tiers = prices.load_tier_map().set_index("Model")
    for model, row in models.iterrows():
        expected = prices.list_price(tiers.loc[model, "CatalogProvider"], tiers.loc[model, "CatalogModel"], at)
        assert (row["InputPricePerMTok"], row["OutputPricePerMTok"]) == expected
        assert row["PriceSource"].startswith(prices.catalog_version()) and row["PriceSource"].endswith("@ 2026-09-30")


def test_bundled_sample_is_what_the_generator_makes(tmp_path):
    """data/sample is committed so a fresh clone needs no generation; it must not drift from the code.

    A .gz file is compared decompressed: another zlib build (zlib-ng) may deflate the same rows to other bytes."""
    root = Path(__file__).resolve().parent.parent
    paths = sample.generate(tmp_path)
    assert sorted(p.name for p in (root / "data" / "sample").iterdir()) == sorted(FILES.values())
    for table, path in paths.items():
        assert _text(path) == _text(root / "data" / "sample" / path.name), table
    assert (root / "data" / "sample" / FILES["seat_users"]).stat().st_size <= 2_500_000
    assert (root / "data" / "sample" / FILES["seat_apps"]).stat().st_size <= 1_250_000


# --- GitHub Copilot metrics by feature (seat_feature_usage) ---------------------------------------------
def test_copilot_metrics_agree_with_the_seat_lists(t):
    """The users report's days of use fall on or before each holder's last activity in the 30 September seat list,
    and its last day is that activity when it falls in the report's 28 days; a login names one person."""
    use, su = t["seat_feature_usage"], t["seat_users"]
    users = use[use["SeatId"] != ""]
    assert set(users["Report"]) == {"users_report"} and set(use.loc[use["SeatId"] == "", "Report"]) == {"totals_report"}
    assert sorted(users["Day"].unique())[0] == "2026-09-03" and users["Day"].max() == "2026-09-30"
    september = su[(su["ReportDate"] == "2026-09-30") & (su["ProviderName"] == "GitHub")].set_index("SeatId")
    last_use = users.groupby("SeatId")["Day"].max()
    assert set(last_use.index) <= set(september.index)
    last = september["LastActivityDate"]
    assert (last_use <= last.reindex(last_use.index)).all()
    recent = last[last >= "2026-09-03"]
    assert (last_use.reindex(recent.index) == recent).all()
    github = su[su["ProviderName"] == "GitHub"]
    plans = github.groupby("Product")["SeatId"].agg(set)
    assert not plans["GitHub Copilot Business"] & plans["GitHub Copilot Enterprise"]
    # each day's organisation total of active users is at least the users report's users that day
    org = use[(use["SeatId"] == "") & (use["Feature"] == "any")].set_index("Day")["EngagedUsers"]
    per_day = users.groupby("Day")["SeatId"].nunique()
    assert (org.reindex(per_day.index) >= per_day).all()
