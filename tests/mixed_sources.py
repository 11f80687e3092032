"""A raw data folder that mixes every source, for 2026-Q2 and 2026-Q3, with the numbers it should give.

Contoso's AI spend arrives as the vendors export it:
- OpenAI Costs and Usage API pages (daily buckets; dollars; lowercase currency; input includes cached);
- Anthropic cost and usage reports (amounts in cents, as strings; RFC 3339);
- a LiteLLM gateway log that ALSO carries part of the OpenAI traffic (must not be counted twice) and is
  the only source of the Mistral spend;
- an Azure FOCUS export billed in EUR, dirty (NULL strings, timestamps without T/Z, mixed-case enums, a
  non-AI row, a credit) and an AWS FOCUS export with Bedrock (open-weight Llama) and a GPU line;
- Microsoft 365 Copilot usage reports (Graph v1) and GitHub Copilot seat snapshots;
- the analysts' use-case register and outcome ledger;
- reference files: attribution map, FX rates, negotiated prices.
`write(folder)` writes it all and returns what the pack must show.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

MONTHS = [datetime(2026, m, 1, tzinfo=timezone.utc) for m in range(4, 10)]
EUR_RATES = [("2026-01-01", 1.08), ("2026-07-01", 1.10)]


def _days(month: datetime) -> list[datetime]:
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [month + timedelta(days=i) for i in range((nxt - month).days)]


def _q(month: datetime) -> str:
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _openai(folder: Path, expect: dict) -> None:
    # proj_support (UC-01) on gpt-4o, proj_triage (UC-02) on gpt-4o-mini, proj_sandbox unmapped.
    lines = [("proj_support", "gpt-4o-2024-08-06", "input", 2_000_000, 2.50),
             ("proj_support", "gpt-4o-2024-08-06", "output", 400_000, 10.00),
             ("proj_triage", "gpt-4o-mini-2024-07-18", "input", 5_000_000, 0.15),
             ("proj_triage", "gpt-4o-mini-2024-07-18", "output", 1_000_000, 0.60),
             ("proj_sandbox", "gpt-4o-2024-08-06", "input", 100_000, 2.50)]
    for month in MONTHS:
        cost_buckets, usage_buckets = [], []
        for i, day in enumerate(_days(month)):
            start, end = int(day.timestamp()), int((day + timedelta(days=1)).timestamp())
            grow = 1 + 0.01 * (MONTHS.index(month) * 30 + i)  # usage grows through the half-year
            costs, usage = [], {}
            for project, model, kind, tokens, price in lines:
                n = round(tokens * grow)
                amount = round(n / 1e6 * price * 0.97, 6)  # billed 3% under list: the variance to reconcile
                costs.append({"object": "organization.costs.result", "amount": {"value": amount, "currency": "usd"},
                              "line_item": f"{model}, {kind}", "project_id": project})
                expect["openai"][_q(month)] = expect["openai"].get(_q(month), 0.0) + amount
                u = usage.setdefault((project, model), {"object": "organization.usage.completions.result",
                                                        "input_tokens": 0, "output_tokens": 0,
                                                        "input_cached_tokens": 0, "num_model_requests": 100,
                                                        "project_id": project, "model": model})
                u["input_tokens" if kind == "input" else "output_tokens"] += n
            cost_buckets.append({"object": "bucket", "start_time": start, "end_time": end, "results": costs})
            usage_buckets.append({"object": "bucket", "start_time": start, "end_time": end,
                                  "results": list(usage.values())})
        for name, buckets in (("costs", cost_buckets), ("usage_completions", usage_buckets)):
            path = folder / "openai" / f"{name}_{month:%Y-%m}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"object": "page", "has_more": False, "next_page": None, "data": buckets}))


def _anthropic(folder: Path, expect: dict) -> None:
    for month in MONTHS:
        costs, usage = [], []
        for day in _days(month):
            start, end = day.strftime("%Y-%m-%dT%H:%M:%SZ"), (day + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            parts = [("uncached_input_tokens", "1500.00"), ("output_tokens", "2250.50"), ("cache_read_input_tokens", "30.25")]
            costs.append({"starting_at": start, "ending_at": end, "results": [
                {"currency": "USD", "amount": cents, "workspace_id": "wrk_legal", "cost_type": "tokens",
                 "description": f"Claude Sonnet 4 Usage - {t}", "model": "claude-sonnet-4-20250514",
                 "service_tier": "standard", "token_type": t, "context_window": "0-200k"} for t, cents in parts]})
            expect["anthropic"][_q(month)] = expect["anthropic"].get(_q(month), 0.0) + sum(float(c) for _, c in parts) / 100
            usage.append({"starting_at": start, "ending_at": end, "results": [
                {"uncached_input_tokens": 5_000_000, "cache_read_input_tokens": 1_000_000,
                 "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                 "output_tokens": 1_500_000, "server_tool_use": {"web_search_requests": 0},
                 "model": "claude-sonnet-4-20250514", "workspace_id": "wrk_legal", "api_key_id": None,
                 "service_tier": "standard", "context_window": "0-200k"}]})
        for name, data in (("cost_report", costs), ("usage_report_messages", usage)):
            path = folder / "anthropic" / f"{name}_{month:%Y-%m}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"data": data, "has_more": False, "next_page": None}))


def _litellm(folder: Path, expect: dict) -> None:
    header = ["request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
              "startTime", "endTime", "model", "model_id", "model_group", "custom_llm_provider", "api_base", "user",
              "metadata", "cache_hit", "cache_key", "request_tags", "team_id", "end_user", "status"]
    rows, n = [], 0
    for month in MONTHS:
        for day in _days(month):
            t = day.strftime("%Y-%m-%dT10:00:00Z")
            n += 1  # the same OpenAI traffic the Costs API bills: reconciles, never counted
            rows.append([f"req-{n}", "acompletion", "hash1", 40.0, 1_200_000, 1_000_000, 200_000, t, t, "gpt-4o",
                         "m1", "gpt-4o", "openai", "", "svc", "{}", "False", "", '["use_case:UC-01"]', "team-support",
                         "", "success"])
            n += 1  # Mistral only goes through the gateway: counted from here
            rows.append([f"req-{n}", "acompletion", "hash2", 12.5, 3_000_000, 2_500_000, 500_000, t, t, "mistral-large-latest",
                         "m2", "mistral-large", "mistral", "", "svc", "{}", "False", "", '["use_case:UC-04"]',
                         "team-marketing", "", "success"])
            expect["mistral"][_q(month)] = expect["mistral"].get(_q(month), 0.0) + 12.5
    _write_csv(folder / "litellm" / "LiteLLM_SpendLogs.csv", header, rows)


FOCUS_HEADER = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                "ChargePeriodEnd", "ChargeCategory", "ChargeDescription", "ChargeFrequency", "PricingCategory",
                "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceCategory", "ServiceName", "SkuId",
                "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "ListUnitPrice", "ListCost",
                "ContractedCost", "EffectiveCost", "BilledCost", "SubAccountId", "Tags", "ResourceGroupName"]


def _focus(folder: Path, expect: dict) -> None:
    azure, aws = [], []
    for month in MONTHS:
        nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        b0, b1 = month.strftime("%Y-%m-%d %H:%M:%S"), nxt.strftime("%Y-%m-%d %H:%M:%S")  # no T, no Z: dirty
        eur = 800.0
        azure.append(["EA-1", "EUR", b0, b1, b0, b1, "usage", "gpt-4o input tokens", "Usage-based", "standard",
                      "Microsoft", "Microsoft", "Microsoft", "AI and Machine Learning", "Azure OpenAI", "gpt-4o-input",
                      "320000000", "Tokens", "320", "1M Tokens", "2.5", eur, eur, eur, eur, "sub-ai",
                      '{"use_case": "UC-05", "business_unit": "Finance"}', "rg-ai"])
        azure.append(["EA-1", "EUR", b0, b1, b0, b1, "Usage", "D4s v5", "Usage-Based", "Standard", "Microsoft",
                      "Microsoft", "Microsoft", "Compute", "Virtual Machines", "vm-d4s", "720", "Hours", "720", "Hours",
                      "0.2", "144", "144", "144", "144", "sub-web", "NULL", "rg-web"])  # not AI: filtered out
        rate = EUR_RATES[0][1] if month.month < 7 else EUR_RATES[1][1]
        expect["azure_usd"][_q(month)] = expect["azure_usd"].get(_q(month), 0.0) + eur * rate
        aws.append(["AWS-1", "USD", b0, b1, b0, b1, "Usage", "Llama 3.3 70B input tokens", "Usage-Based", "Standard",
                    "AWS", "Meta", "AWS", "AI and Machine Learning", "Amazon Bedrock", "meta.llama3-3-70b-instruct-v1:0-input",
                    "400000000", "Tokens", "400", "1M Tokens", "0.72", "288", "288", "288", "288", "acct-search",
                    '{"project": "search"}', "NULL"])
        aws.append(["AWS-1", "USD", b0, b1, b0, b1, "Usage", "p5.48xlarge reserved GPU hours", "Recurring", "Committed",
                    "AWS", "AWS", "AWS", "Compute", "Amazon SageMaker", "ml.p5.48xlarge", "720", "Hours", "720", "Hours",
                    "98.32", "70790.4", "42000", "42000", "42000", "acct-search", '{"project": "search"}', "NULL"])
        expect["aws"][_q(month)] = expect["aws"].get(_q(month), 0.0) + 288 + 42000
    # A credit on the Azure bill: negative cost is legitimate on a Credit row.
    azure.append(["EA-1", "EUR", "2026-08-01", "2026-09-01", "2026-08-15", "2026-08-16", "Credit", "Promotional credit",
                  "One-Time", "NULL", "Microsoft", "Microsoft", "Microsoft", "AI and Machine Learning", "Azure OpenAI",
                  "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "0", "0", "-100", "-100", "sub-ai",
                  '{"use_case": "UC-05"}', "rg-ai"])
    expect["azure_usd"]["2026-Q3"] -= 100 * EUR_RATES[1][1]
    _write_csv(folder / "focus" / "azure" / "focus-2026.csv", FOCUS_HEADER, azure)
    _write_csv(folder / "focus" / "aws" / "focus-2026.csv", FOCUS_HEADER, aws)


def _seats(folder: Path, expect: dict) -> None:
    header = ["Report Refresh Date", "User Principal Name", "Display Name", "Last Activity Date",
              "Copilot Chat Last Activity Date", "Microsoft Teams Copilot Last Activity Date", "Word Copilot Last Activity Date",
              "Excel Copilot Last Activity Date", "PowerPoint Copilot Last Activity Date", "Outlook Copilot Last Activity Date",
              "OneNote Copilot Last Activity Date", "Loop Copilot Last Activity Date", "Report Period", "Department"]
    for month in MONTHS:
        end = _days(month)[-1]
        rows = []
        for i in range(40):
            active = i % 5 < 3  # 60% active
            last = (end - timedelta(days=3)).strftime("%Y-%m-%d") if active else ""
            rows.append([end.strftime("%Y-%m-%d"), f"user{i}@contoso.com", f"User {i}", last, last, "", "", "", "", "", "",
                         "", "30", "Finance" if i < 20 else "Legal"])
        _write_csv(folder / "m365_copilot" / f"copilot_usage_{month:%Y-%m}.csv", header, rows)
        seats = [{"created_at": "2025-01-01T00:00:00Z", "updated_at": end.strftime("%Y-%m-%dT00:00:00Z"),
                  "pending_cancellation_date": None,
                  "last_activity_at": (end - timedelta(days=2)).strftime("%Y-%m-%dT12:00:00Z") if i < 8 else None,
                  "last_activity_editor": "vscode", "plan_type": "business",
                  "assignee": {"login": f"dev{i}", "id": i, "type": "User"},
                  "assigning_team": {"id": 1, "name": "Engineering", "slug": "engineering"}} for i in range(10)]
        path = folder / "github_copilot" / f"seats_{month:%Y-%m}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fetched_at": end.strftime("%Y-%m-%dT23:00:00Z"), "total_seats": 10, "seats": seats}))


def _catalogs(folder: Path) -> None:
    _write_csv(folder / "use_cases" / "use_cases.csv",
               ["Use case id", "Name", "Business unit", "Owner", "Stage", "Required tier", "Portable", "Fallback provider"],
               [["UC-01", "Customer support assistant", "Customer Service", "Ana", "production", "standard", "yes", "Anthropic"],
                ["UC-02", "Ticket triage", "Customer Service", "Ana", "production", "light", "yes", "Google Cloud"],
                ["UC-03", "Contract review", "Legal", "Lee", "production", "frontier", "no", ""],
                ["UC-04", "Marketing copy", "Marketing", "Max", "pilot", "light", "yes", "OpenAI"],
                ["UC-05", "Finance close notes", "Finance", "Fay", "production", "standard", "no", ""],
                ["UC-06", "Enterprise search", "Group IT", "Ian", "production", "standard", "yes", "AWS"],
                ["UC-07", "Copilot for knowledge work", "Group IT", "Ian", "production", "standard", "no", ""],
                ["UC-08", "Developer productivity", "Engineering", "Eve", "production", "standard", "no", ""]])
    rows = []
    for month in MONTHS:
        for uc, base, grade in (("UC-01", 30000, "measured"), ("UC-02", 20000, "measured"), ("UC-03", 60000, "estimated"),
                                ("UC-05", 9000, "estimated"), ("UC-06", 150000, "measured"), ("UC-07", 2000, "assumed"),
                                ("UC-08", 9000, "estimated"), ("UC-04", 500, "assumed")):
            rows.append([uc, month.strftime("%Y-%m"), "hours saved", base / 50, "hours", base * 0.7, base, base * 1.3,
                         grade, "time study" if grade == "measured" else "survey" if grade == "estimated" else "business case",
                         "Finance team"])
    _write_csv(folder / "outcomes" / "outcomes.csv",
               ["Use case ID", "Month", "Outcome type", "Quantity", "Unit", "Value (low)", "Value (base)", "Value (high)",
                "Evidence grade", "Method", "Owner"], rows)
    ref = folder / "reference"
    _write_csv(ref / "attribution.csv", ["Key", "UseCaseId", "BusinessUnit"],
               [["openai.project:proj_support", "UC-01", "Customer Service"],
                ["openai.project:proj_triage", "UC-02", "Customer Service"],
                ["anthropic.workspace:wrk_legal", "UC-03", "Legal"],
                ["focus.tag:project=search", "UC-06", "Group IT"],
                ["m365_copilot.product:*", "UC-07", ""],
                ["github_copilot.product:*", "UC-08", "Engineering"]])
    _write_csv(ref / "fx_rates.csv", ["Currency", "Rate", "Date"], [["EUR", r, d] for d, r in EUR_RATES])
    _write_csv(ref / "negotiated_prices.csv", ["Provider", "Model", "TokenType", "PricePerMTok", "ValidFrom"],
               [["OpenAI", "gpt-4o", "input", "2.25", "2026-04-01"]])


def write(folder: Path) -> dict:
    """Write the mixed raw folder; return the expected spend per source and quarter."""
    expect = {k: {} for k in ("openai", "anthropic", "mistral", "azure_usd", "aws")}
    for part in (_openai, _anthropic, _litellm, _focus, _seats):
        part(folder, expect)
    _catalogs(folder)
    return expect
