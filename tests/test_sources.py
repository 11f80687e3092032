"""Raw source folders: attribution, source of truth, currencies, reconciliation, and a pack built from all sources."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pypdf import PdfReader

from boardpack import sources
from boardpack.exceptions import ContractError

from . import mixed_sources
from .conftest import run_cli


def spend(**cols):
    n = len(next(iter(cols.values())))
    base = {"ProviderName": ["OpenAI"] * n, "x_SpendModality": ["api_tokens"] * n, "x_UseCaseId": [None] * n,
            "x_BusinessUnit": [None] * n, "x_AttributionKey": [None] * n, "EffectiveCost": [1.0] * n,
            "x_Source": ["openai"] * n, "BillingCurrency": ["USD"] * n, "x_SourceFile": ["f.json"] * n,
            "ChargePeriodStart": [pd.Timestamp("2026-07-01")] * n}
    for money in sources.MONEY:
        base.setdefault(money, [1.0] * n)
    return pd.DataFrame({**base, **cols})


def test_attribution_exact_and_glob_and_unmapped_kept():
    frame = spend(x_AttributionKey=["openai.project:a", "litellm.team:cs-1", "litellm.team:x", None],
                  x_UseCaseId=[None, None, None, "UC-9"], EffectiveCost=[1.0, 2.0, 4.0, 8.0])
    mapping = pd.DataFrame({"Key": ["openai.project:a", "litellm.team:cs-*"], "UseCaseId": ["UC-1", "UC-2"],
                            "BusinessUnit": ["Ops", None]})
    out = sources.attribute(frame, mapping)
    assert list(out["x_UseCaseId"].fillna("-")) == ["UC-1", "UC-2", "-", "UC-9"]   # the source's own use case wins
    left = sources.unmapped(out)
    assert left.to_dict(orient="records") == [{"x_AttributionKey": "litellm.team:x", "cost": 4.0}]
    assert out["EffectiveCost"].sum() == 15.0                                 # nothing dropped


JULY, AUGUST = pd.Timestamp("2026-07-01"), pd.Timestamp("2026-08-01")


def test_source_of_truth_is_per_provider_modality_and_month():
    frame = spend(ProviderName=["OpenAI", "OpenAI", "Microsoft", "Microsoft", "OpenAI"],
                  x_Source=["openai", "litellm", "focus", "m365_copilot", "litellm"],
                  x_SpendModality=["api_tokens", "api_tokens", "api_tokens", "seat_licence", "api_tokens"],
                  ServiceName=["OpenAI API", "OpenAI API", "Azure OpenAI", "Microsoft 365 Copilot", "OpenAI API"],
                  ChargePeriodStart=[JULY, JULY, JULY, JULY, AUGUST])
    truth = sources.choose_truth(frame, {})
    assert truth == {("OpenAI", "api_tokens", JULY, ""): "openai", ("Microsoft", "api_tokens", JULY, ""): "focus",
                     ("", "seat_licence", JULY, "Microsoft 365 Copilot"): "m365_copilot",
                     # August: only the gateway reports OpenAI, so its spend counts
                     ("OpenAI", "api_tokens", AUGUST, ""): "litellm"}
    assert sources.choose_truth(frame, {"OpenAI": "litellm"})[("OpenAI", "api_tokens", JULY, "")] == "litellm"
    counted, shadow = sources.split_by_truth(frame, truth)
    assert list(counted["x_Source"]) == ["openai", "focus", "m365_copilot", "litellm"]
    assert list(shadow["x_Source"]) == ["litellm"] and list(shadow["x_SupersededBy"]) == ["openai"]
    assert sources.truth_report(truth)["OpenAI · api tokens"] == "openai (2026-07); litellm (2026-08)"


def test_an_invoice_supersedes_the_seat_report_estimate_of_the_same_product_family():
    # GitHub Copilot billed through Azure (provider Microsoft) and the seat report's estimate (provider GitHub)
    frame = spend(ProviderName=["Microsoft", "GitHub", "GitHub"], x_Source=["focus", "github_copilot", "github_copilot"],
                  x_SpendModality=["seat_licence"] * 3,
                  ServiceName=["GitHub Copilot Business", "GitHub Copilot Business", "GitHub Copilot Enterprise"],
                  EffectiveCost=[1900.0, 1900.0, 390.0], ChargePeriodStart=[JULY] * 3)
    counted, shadow = sources.split_by_truth(frame, sources.choose_truth(frame, {}))
    assert list(counted["x_Source"]) == ["focus"] and shadow["EffectiveCost"].sum() == 2290.0


def test_provider_names_are_spelled_as_the_cloud_exports_spell_them():
    (out,), renamed = sources.canonical_providers(spend(ProviderName=["Amazon Web Services", "azure", "AWS", None]))
    assert list(out["ProviderName"].fillna("-")) == ["AWS", "Microsoft", "AWS", "-"] and renamed == 2


def test_currency_conversion_uses_the_rate_in_force_and_refuses_a_missing_one():
    frame = spend(BillingCurrency=["eur", "EUR", "USD"], EffectiveCost=[100.0, 100.0, 5.0],
                  ChargePeriodStart=[pd.Timestamp("2026-06-30"), pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-01")])
    fx = pd.DataFrame({"Currency": ["EUR", "EUR"], "Rate": [1.08, 1.10],
                       "Date": [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-07-01")]})
    out, used = sources.convert(frame, fx, "USD")
    assert list(out["EffectiveCost"]) == pytest.approx([108.0, 110.0, 5.0])
    assert set(out["BillingCurrency"]) == {"USD"} and {u["rate"] for u in used} == {1.08, 1.10}
    with pytest.raises(ContractError, match=r"(?s)spend in GBP .* no exchange rate to USD.*fx_rates.csv"):
        sources.convert(spend(BillingCurrency=["GBP"]), fx, "USD")


def test_reconciliation_by_hand():
    counted = spend(EffectiveCost=[97.0], ChargePeriodStart=[pd.Timestamp("2026-07-10")])
    shadow = spend(EffectiveCost=[40.0], x_Source=["litellm"], ChargePeriodStart=[pd.Timestamp("2026-07-10")])
    usage = pd.DataFrame({"Day": [pd.Timestamp("2026-07-10")], "ProviderName": ["OpenAI"], "x_Model": ["gpt-4o"],
                          "x_TokenType": ["input"], "Tokens": [40e6], "x_Source": ["openai"]})
    negotiated = pd.DataFrame({"Provider": ["OpenAI"], "Model": ["gpt-4o"], "TokenType": ["input"],
                               "PricePerMTok": [2.5], "ValidFrom": [pd.Timestamp("2026-01-01")]})
    row = sources.reconcile(counted, shadow, usage, negotiated).iloc[0]
    # 40M tokens x $2.50 = $100 at the price in force; billed $97: variance -$3, -3%
    assert (row["billed"], row["usage_cost"], row["variance"]) == pytest.approx((97.0, 100.0, -3.0))
    assert row["variance_share"] == pytest.approx(-0.03) and row["other_sources"] == 40.0


@pytest.fixture(scope="module")
def mixed_pack(tmp_path_factory):
    data = tmp_path_factory.mktemp("raw")
    expect = mixed_sources.write(data)
    reports = tmp_path_factory.mktemp("reports")
    proc = run_cli("build", "--data", str(data), "--reports", str(reports), "--quarter", "2026-Q3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return reports / "2026-Q3", expect


def test_a_pack_builds_from_a_folder_mixing_every_source(mixed_pack):
    pack, expect = mixed_pack
    m = json.loads((pack / "metrics.json").read_text())
    q = "2026-Q3"
    seats = 40 * 30.0 * 3 + 10 * 19.0 * 3          # M365 and GitHub seats at list price, three months
    # Each provider counted once: the LiteLLM copy of the OpenAI traffic is not in the spend.
    total = expect["openai"][q] + expect["anthropic"][q] + expect["mistral"][q] + expect["azure_usd"][q] \
        + expect["aws"][q] + seats
    assert m["spend"] == pytest.approx(total, abs=0.01)
    providers = {p["provider"]: p["spend"] for p in m["providers"]}
    assert providers["OpenAI"] == pytest.approx(expect["openai"][q], abs=0.01)
    assert providers["Anthropic"] == pytest.approx(expect["anthropic"][q], abs=0.01)   # cents / 100
    assert set(providers) >= {"OpenAI", "Anthropic", "Mistral AI", "Microsoft", "AWS", "GitHub"}
    seat_products = {s["product"] for s in m["seats"]}
    assert seat_products == {"Microsoft 365 Copilot", "GitHub Copilot Business"}


def test_mixed_pack_reports_sources_fixes_and_reconciliation(mixed_pack):
    pack, _ = mixed_pack
    report = json.loads((pack / "sources.json").read_text())
    assert report["truth"]["OpenAI · api tokens"] == "openai" and report["shadow_rows"] > 0
    assert any("NULL" in rule for rule in report["fixes"]) and any("without T/Z" in rule for rule in report["fixes"])
    assert [u["x_AttributionKey"] for u in report["unmapped"]] == ["openai.project:proj_sandbox"]
    openai_july = next(r for r in report["reconciliation"] if r["ProviderName"] == "OpenAI" and r["Month"] == "2026-07")
    assert openai_july["variance"] == pytest.approx(openai_july["billed"] - openai_july["usage_cost"])
    quality = (pack / "data-quality.html").read_text()
    assert "What was normalised" in quality and "literal NULL" in quality
    text = "\n".join(p.extract_text() for p in PdfReader(pack / "board-pack.pdf").pages)
    assert "Sources and reconciliation" in text and "EUR" in text
    manifest = json.loads((pack / "manifest.json").read_text())
    assert len(manifest["inputs"]) >= 25 and all(len(i["sha256"]) == 64 for i in manifest["inputs"])


def test_every_json_file_of_the_mixed_pack_is_strict(mixed_pack):
    def refuse(constant):  # json.loads accepts NaN and Infinity by default; JSON has neither
        raise ValueError(f"{path.name}: {constant} is not JSON")

    found = sorted(mixed_pack[0].rglob("*.json"))
    assert "sources.json" in {p.name for p in found}
    for path in found:
        json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_configured_seat_price_replaces_the_list_price(tmp_path):
    from boardpack.ingest import load_tables

    mixed_sources.write(tmp_path)
    tables = load_tables(tmp_path, "USD", {}, seat_prices={"Microsoft 365 Copilot": 25.0})
    spend = tables["spend"]
    m365 = spend[(spend["ServiceName"] == "Microsoft 365 Copilot") & (spend["ChargePeriodStart"] == "2026-07-01")]
    assert m365["EffectiveCost"].sum() == pytest.approx(40 * 25.0)       # 40 licensed users that month
