"""A deterministic sample enterprise, "Northwind Group", as the seven canonical tables.

The sample exercises every page of the pack: 7 quarters (2025-Q1..2026-Q3) of token, seat, GPU and
platform spend over 8 business units and 22 use cases, with all four value quadrants, over-provisioned
models, unattributed spend and the Jevons pattern (unit cost falls, usage and the bill rise).
Token list prices come from the genai-prices catalog in force at each ChargePeriodStart. The seat reports
of the last quarter (`seat_users`) list every seat holder at each month end, matching the seats table exactly;
the Microsoft 365 Copilot holders of the last report have their per-app last activity (`seat_apps`).
Same seed, same bytes: numpy's seeded generator, fixed rounding, sorted rows.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import prices
from .schema import ACTIVE_DAYS, COLUMNS

COMPANY = "Northwind Group"
SEED = 20260930
# Prices are looked up at midday UTC: at midnight the catalog gives DeepSeek's off-peak night rate.
PRICE_HOUR = pd.Timedelta(hours=12)

# ---------------------------------------------------------------------------------------------
# The use-case catalog (the `use_cases` table as written).
# id, name, business unit, owner, stage, required tier, portable, fallback provider
USE_CASES = [
    ("UC-01", "Copilot for knowledge work", "Group IT", "Priya Raman", "production", "standard", False, ""),
    ("UC-02", "Developer productivity", "Engineering", "Tom Becker", "production", "standard", False, ""),
    ("UC-03", "Customer service agent assist", "Customer Service", "Maria Lopez", "production", "standard", True, "Anthropic"),
    ("UC-04", "Ticket triage and routing", "Customer Service", "Maria Lopez", "production", "light", True, "Google Cloud"),
    ("UC-05", "Invoice data capture", "Finance", "Daniel Okafor", "production", "light", True, "OpenAI"),
    ("UC-06", "Financial close commentary", "Finance", "Daniel Okafor", "production", "frontier", False, ""),
    ("UC-07", "Contract review", "Legal", "Sophie Martin", "production", "frontier", True, "Anthropic"),
    ("UC-08", "Marketing content generation", "Sales & Marketing", "Lena Fischer", "production", "standard", True, "Google Cloud"),
    ("UC-09", "Lead qualification", "Sales & Marketing", "Lena Fischer", "pilot", "light", True, "OpenAI"),
    ("UC-10", "Enterprise knowledge search", "Group IT", "Priya Raman", "production", "standard", True, "AWS"),
    ("UC-11", "HR policy assistant", "HR", "Aisha Khan", "production", "light", True, "Google Cloud"),
    ("UC-12", "Code review assistant", "Engineering", "Tom Becker", "production", "standard", True, "OpenAI"),
    ("UC-13", "Test generation", "Engineering", "Tom Becker", "pilot", "standard", True, "Mistral AI"),
    ("UC-14", "Supplier risk monitoring", "Operations", "Jonas Berg", "production", "standard", True, "OpenAI"),
    ("UC-15", "Demand planning narratives", "Operations", "Jonas Berg", "pilot", "standard", False, ""),
    ("UC-16", "Legal research assistant", "Legal", "Sophie Martin", "production", "frontier", False, ""),
    ("UC-17", "Meeting notes and actions", "Operations", "Jonas Berg", "production", "light", True, "Anthropic"),
    ("UC-18", "Translation and localisation", "Sales & Marketing", "Lena Fischer", "production", "light", True, "Google Cloud"),
    ("UC-19", "Legacy FAQ chatbot", "Customer Service", "Maria Lopez", "retired", "light", False, ""),
    ("UC-20", "Document extraction v1", "Operations", "Jonas Berg", "retired", "standard", True, "Mistral AI"),
    ("UC-21", "Fraud alert explanations", "Finance", "Daniel Okafor", "pilot", "standard", True, "OpenAI"),
    ("UC-22", "Candidate screening assistant", "HR", "Aisha Khan", "pilot", "standard", False, ""),
]

# ---------------------------------------------------------------------------------------------
# Token demand per API use case: first month, million tokens in that month, monthly growth, output share.
# Growth of 6-13% a month gives the 30-50% a quarter seen in enterprise usage; retired use cases decay.
TOKEN_DEMAND = {
    "UC-03": ("2025-01", 40_000, 0.100, 0.25),
    "UC-04": ("2025-01", 25_000, 0.110, 0.10),
    "UC-05": ("2025-01", 8_000, 0.090, 0.15),
    "UC-06": ("2025-01", 1_500, 0.060, 0.30),
    "UC-07": ("2025-01", 20_000, 0.090, 0.10),
    "UC-08": ("2025-01", 10_000, 0.100, 0.35),
    "UC-09": ("2025-10", 6_000, 0.120, 0.20),
    "UC-10": ("2025-04", 5_000, 0.110, 0.20),
    "UC-11": ("2025-01", 15_000, 0.090, 0.20),
    "UC-12": ("2025-01", 15_000, 0.100, 0.20),
    "UC-13": ("2025-04", 10_000, 0.130, 0.30),
    "UC-14": ("2025-01", 6_000, 0.080, 0.20),
    "UC-15": ("2025-07", 3_000, 0.100, 0.30),
    "UC-16": ("2025-01", 1_000, 0.080, 0.30),
    "UC-17": ("2025-01", 10_000, 0.090, 0.20),
    "UC-18": ("2025-01", 20_000, 0.120, 0.50),
    "UC-19": ("2025-01", 8_000, -0.050, 0.20),
    "UC-20": ("2025-01", 10_000, -0.040, 0.30),
    "UC-21": ("2025-10", 8_000, 0.120, 0.25),
    "UC-22": ("2026-01", 3_000, 0.120, 0.25),
    "": ("2025-01", 8_000, 0.070, 0.25),  # the AI sandbox: experiments no use case owns
}

# Model mix per use case: from a month on, the share of tokens on each model. Teams migrate to newer,
# cheaper models over time (the price effect); some light/standard work sits on frontier models.
MODEL_MIX = {
    "UC-03": [("2025-01", {"gpt-4o": 1.0}), ("2025-05", {"gpt-4.1": 1.0}), ("2025-11", {"gpt-4.1": 0.6, "gpt-5-mini": 0.3, "gpt-5": 0.1}),
              ("2026-02", {"gpt-5-mini": 0.85, "gpt-5": 0.15}), ("2026-06", {"gpt-5-mini": 0.8, "gpt-5-nano": 0.2})],
    "UC-04": [("2025-01", {"gpt-4o": 1.0}), ("2025-07", {"gpt-4o-mini": 0.8, "gpt-4o": 0.2}), ("2026-04", {"gpt-4.1-nano": 0.85, "gpt-5-mini": 0.15})],
    "UC-05": [("2025-01", {"claude-3-5-sonnet": 1.0}), ("2025-11", {"claude-haiku-4-5": 0.6, "claude-sonnet-4-5": 0.4})],
    "UC-06": [("2025-01", {"claude-3-opus": 1.0}), ("2025-08", {"claude-opus-4-1": 1.0}), ("2025-12", {"claude-opus-4-5": 1.0})],
    "UC-07": [("2025-01", {"gemini-1.5-pro": 1.0}), ("2025-07", {"gemini-2.5-pro": 1.0}), ("2025-12", {"gemini-3-pro-preview": 1.0}),
              ("2026-04", {"gemini-3-pro-preview": 0.5, "gemini-2.5-pro": 0.5})],
    "UC-08": [("2025-01", {"gpt-4o": 1.0}), ("2025-09", {"gpt-5": 1.0}), ("2026-02", {"gpt-5.2": 0.3, "gpt-5-mini": 0.7}), ("2026-07", {"gpt-5.2": 0.2, "gpt-5-mini": 0.8})],
    "UC-09": [("2025-10", {"mistral-small-3.2": 0.7, "ministral-8b": 0.3})],
    "UC-10": [("2025-04", {"llama-3.3-70b": 1.0}), ("2026-01", {"llama-4-maverick": 1.0})],  # Bedrock overflow
    "UC-11": [("2025-01", {"gpt-4o-mini": 1.0}), ("2025-06", {"gpt-4.1-mini": 1.0}), ("2025-10", {"gpt-5-nano": 1.0})],
    "UC-12": [("2025-01", {"claude-3-5-sonnet": 1.0}), ("2025-06", {"claude-sonnet-4": 1.0}), ("2025-10", {"claude-sonnet-4-5": 0.8, "deepseek-chat": 0.2}),
              ("2026-01", {"claude-sonnet-4-5": 0.5, "deepseek-chat": 0.5}), ("2026-07", {"claude-sonnet-4-5": 0.3, "deepseek-chat": 0.7})],
    "UC-13": [("2025-04", {"deepseek-chat": 1.0})],
    "UC-14": [("2025-01", {"mistral-large": 1.0}), ("2025-06", {"mistral-medium-3": 1.0})],
    "UC-15": [("2025-07", {"o3": 1.0})],
    "UC-16": [("2025-01", {"o1": 1.0}), ("2025-06", {"o3": 1.0}), ("2026-01", {"gpt-5.2": 1.0})],
    "UC-17": [("2025-01", {"gpt-4o": 1.0}), ("2025-10", {"gpt-5": 0.6, "gpt-4.1-mini": 0.4}),
              ("2026-04", {"gpt-5": 0.5, "gpt-5-nano": 0.5})],
    "UC-18": [("2025-01", {"deepseek-chat": 1.0}), ("2026-01", {"gemini-2.5-flash-lite": 0.6, "deepseek-chat": 0.4})],
    "UC-19": [("2025-01", {"gpt-4o": 1.0})],
    "UC-20": [("2025-01", {"llama-3.3-70b": 1.0})],
    "UC-21": [("2025-10", {"gemini-2.5-flash": 1.0})],
    "UC-22": [("2026-01", {"claude-opus-4-5": 1.0})],
    "": [("2025-01", {"gpt-4o": 0.5, "claude-3-5-sonnet": 0.5}), ("2025-09", {"gpt-5": 0.4, "claude-sonnet-4-5": 0.3, "gemini-2.5-flash": 0.3})],
}

# Who bills each model publisher's API, and the discount off list in force from a month on.
# Anthropic is on an enterprise commitment renegotiated twice (10%, then 15%, then 22% off list), and
# OpenAI grants a volume discount from 2026-04: the same SKUs get cheaper, which is the bridge's price effect.
API_PROVIDERS = {
    "OpenAI": ("OpenAI", "OpenAI API", "Standard", [("2025-01", 0.0), ("2026-04", 0.05)]),
    "Anthropic": ("Anthropic", "Claude API", "Committed", [("2025-01", 0.10), ("2025-07", 0.15), ("2026-07", 0.22)]),
    "Google": ("Google Cloud", "Vertex AI", "Standard", [("2025-01", 0.0)]),
    "Mistral AI": ("Mistral AI", "Mistral La Plateforme", "Standard", [("2025-01", 0.0)]),
    "DeepSeek": ("DeepSeek", "DeepSeek API", "Standard", [("2025-01", 0.0)]),
    "Meta": ("AWS", "Amazon Bedrock", "Standard", [("2025-01", 0.0)]),  # open-weight Llama through Bedrock
}

# ---------------------------------------------------------------------------------------------
# Seat products: provider, product (= ServiceName), use case, list and effective USD per seat-month,
# licensed seats in the first and last month, active share in the first and last month, BU split.
SEAT_PRODUCTS = [
    ("Microsoft", "Microsoft 365 Copilot", "UC-01", 30.0, 27.0, (20_000, 32_000), (0.46, 0.64),
     {"Customer Service": 0.16, "Engineering": 0.09, "Finance": 0.12, "Group IT": 0.08, "HR": 0.06,
      "Legal": 0.04, "Operations": 0.25, "Sales & Marketing": 0.20}),
    ("GitHub", "GitHub Copilot Business", "UC-02", 19.0, 19.0, (1_500, 2_600), (0.78, 0.82),
     {"Engineering": 0.82, "Group IT": 0.13, "Operations": 0.05}),
    # last, so that the products above keep their random draws
    ("GitHub", "GitHub Copilot Enterprise", "UC-02", 39.0, 39.0, (200, 400), (0.84, 0.88),
     {"Engineering": 0.8, "Group IT": 0.2}),
]

# Self-hosted inference for knowledge search: reserved H100s at CoreWeave (GPU count from a month on).
GPU = {"use_case": "UC-10", "model": "llama-3.3-70b", "list_per_gpu_hour": 6.16, "committed_per_gpu_hour": 3.70,
       "gpus": [("2025-04", 16), ("2025-10", 24), ("2026-04", 32)]}

# The LLM gateway every API call goes through: a flat monthly platform fee, owned by no use case.
PLATFORM = {"provider": "BerriAI", "service": "LiteLLM Enterprise", "monthly_fee": 25_000.0, "project": "llm-gateway"}
SANDBOX_PROJECT = "ai-sandbox"  # token spend with no use case: Group IT's experimentation account

# ---------------------------------------------------------------------------------------------
# Outcome ledger. Per use case: value multiple (value / spend) in its first and in the last month,
# evidence grade from a month on, and outcome types (name, unit, USD per unit, share of value, method).
# `prove` use cases only carry business-case (`assumed`) rows or none; retired ones keep a trickle.
OUTCOMES = {
    "UC-01": ((1.4, 2.1), [("2025-01", "assumed"), ("2025-04", "estimated")],
              [("Employee hours saved", "hours", 62.0, 1.0, "Quarterly Copilot user survey x loaded hourly rate")]),
    "UC-02": ((3.8, 5.5), [("2025-01", "estimated"), ("2025-07", "measured")],
              [("Developer hours saved", "hours", 85.0, 1.0, "Cycle-time telemetry vs matched non-users")]),
    "UC-03": ((2.5, 4.6), [("2025-01", "estimated"), ("2025-04", "measured")],
              [("Handle time saved", "hours", 38.0, 0.7, "A/B test vs control queue; contact-centre system of record"),
               ("Tickets deflected", "tickets", 12.0, 0.3, "Deflection rate from ticketing system")]),
    "UC-04": ((3.0, 6.0), [("2025-01", "measured")],
              [("Tickets routed without rework", "tickets", 1.8, 1.0, "Re-route rate before/after, ticketing system")]),
    "UC-05": ((2.5, 5.0), [("2025-01", "measured")],
              [("Invoices processed touchless", "invoices", 7.5, 1.0, "Touchless rate from ERP accounts-payable log")]),
    "UC-06": ((1.2, 2.3), [("2025-01", "estimated")],
              [("Analyst hours saved", "hours", 95.0, 1.0, "Time study on two close cycles x loaded rate")]),
    "UC-07": ((3.2, 4.4), [("2025-01", "estimated"), ("2025-07", "measured")],
              [("Contracts reviewed", "contracts", 310.0, 1.0, "Matter-management system: review hours per contract vs baseline")]),
    "UC-08": ((1.5, 2.4), [("2025-01", "estimated")],
              [("Content assets produced", "assets", 180.0, 1.0, "Agency-rate equivalent of assets shipped, sampled")]),
    "UC-09": ((4.0, 4.0), [("2025-10", "assumed")], [("Leads qualified", "leads", 45.0, 1.0, "")]),
    "UC-10": ((1.5, 3.6), [("2025-04", "assumed"), ("2025-10", "estimated")],
              [("Search time saved", "hours", 62.0, 1.0, "Sampled search sessions x time saved per session")]),
    "UC-11": ((3.5, 9.0), [("2025-01", "measured")],
              [("HR cases deflected", "cases", 18.0, 1.0, "Case volume in HR service desk vs forecast")]),
    "UC-12": ((1.4, 2.4), [("2025-01", "estimated"), ("2025-10", "measured")],
              [("Defects caught before release", "defects", 650.0, 1.0, "Defect escape rate from issue tracker vs baseline")]),
    "UC-13": ((2.0, 3.9), [("2025-04", "assumed"), ("2025-10", "estimated")],
              [("Tests generated and merged", "tests", 40.0, 1.0, "Merged generated tests x engineer minutes per test")]),
    "UC-14": ((1.3, 2.2), [("2025-01", "estimated")],
              [("Supplier risk alerts actioned", "alerts", 900.0, 1.0, "Procurement estimate of avoided disruption per alert")]),
    "UC-15": ((5.0, 5.0), [("2025-07", "assumed")], [("Planner hours saved", "hours", 70.0, 1.0, "")]),
    "UC-16": ((2.6, 4.2), [("2025-01", "estimated")],
              [("Research hours saved", "hours", 160.0, 1.0, "Lawyer time sheets, sampled matters vs baseline")]),
    "UC-17": ((1.6, 1.9), [("2025-01", "estimated")],
              [("Meeting follow-up hours saved", "hours", 62.0, 1.0, "Pulse survey of meeting owners x loaded rate")]),
    "UC-18": ((6.0, 9.0), [("2025-01", "measured")],
              [("Words translated", "thousand words", 100.0, 1.0, "Agency invoices avoided, localisation system of record")]),
    "UC-19": ((0.8, 0.3), [("2025-01", "measured")],
              [("Tickets deflected", "tickets", 12.0, 1.0, "Deflection rate from ticketing system")]),
    "UC-22": ((3.5, 3.5), [("2026-01", "assumed")], [("Screening hours saved", "hours", 55.0, 1.0, "")]),
    # UC-20 (retired) and UC-21 (pilot) have no outcome rows at all.
}

# ValueLow / ValueHigh as a share of ValueBase: the weaker the evidence, the wider the range.
EVIDENCE_RANGE = {"measured": (0.90, 1.10), "estimated": (0.70, 1.35), "assumed": (0.50, 1.80)}

# ---------------------------------------------------------------------------------------------
# Seat reports (the `seat_users` table): every seat holder at each month end of the sample's last quarter, as the
# Microsoft 365 Copilot usage report with concealed names and the GitHub Copilot seat list give them. Users are
# simulated month by month from the first month, following the seats table, so that idle spells and assignment
# days have a history behind them; only the last SEAT_REPORTS months are written.
SEAT_REPORTS = 3
# When each product's first seats were assigned (its general availability): the seats of the sample's first
# month were assigned between then and that month's end. GitHub reports the day; Graph does not.
SEATS_SINCE = {"Microsoft 365 Copilot": "2023-11-01", "GitHub Copilot Business": "2023-03-01",
               "GitHub Copilot Enterprise": "2024-06-01"}
# Active in a report: LastActivityDate > ReportDate - ACTIVE_DAYS, i.e. ReportDate-29 .. ReportDate inclusive: the
# rule of adapters/m365.py (`last > refresh - period days`) for the 30-day report period.
NEVER_ACTIVE = 0.04  # seat holders who never use the product, whatever the month
MONTHLY_NOISE = 0.35  # month-to-month swing of a user's engagement: who drops out of, or back into, activity
ONBOARDING = 2.0  # engagement bonus in a seat's first month: new holders try the product, many then lapse
IDLE_DAYS_BEYOND = 70.0  # the first month's idle users: mean days idle beyond the 30 (exponential)
WEEKEND_WORK = 0.2  # share of weekend activity left on the weekend; the rest falls on the Friday (or Monday)
FIRST_NAMES = ("aisha", "alex", "ana", "arjun", "ben", "carlos", "chen", "chloe", "daniel", "david", "elena", "emma",
               "fatima", "felix", "grace", "hannah", "hiro", "ines", "ivan", "jack", "james", "jonas", "julia", "kai",
               "karim", "laura", "lena", "leo", "li", "lucas", "maria", "mark", "mei", "mia", "nadia", "noah",
               "olga", "omar", "paul", "priya", "rahul", "sara", "sofia", "sam", "tom", "wei", "yusuf", "zoe")
LAST_NAMES = ("ahmed", "andersen", "becker", "berg", "costa", "dubois", "fischer", "garcia", "gupta", "hansen",
              "ito", "jensen", "kim", "kowalski", "lee", "lopez", "martin", "meyer", "moreau", "murphy", "nguyen",
              "novak", "okafor", "olsen", "patel", "petrov", "quinn", "raman", "rossi", "sato", "schmidt", "silva",
              "singh", "smith", "tanaka", "torres", "vance", "wagner", "walsh", "wang", "weber", "wilson", "wong",
              "yilmaz", "young", "zhang")

# Independent random streams, so changing one part of the sample leaves the others' draws alone.
STREAM = {"tokens": 1, "seats": 2, "outcomes": 3, "seat_users": 4, "seat_apps": 5, "feature_usage": 6}
# Per-app activity (the `seat_apps` table) of the Microsoft 365 Copilot seats in the quarter's last report only (what
# breadth of use reads; one report keeps the file small): the chance that a seat holder uses Copilot in each app,
# Teams, Outlook and Copilot Chat common, OneNote and Loop rare. The app of the holder's last activity is drawn
# with these weights and gets the overall LastActivityDate; each other app is used with its chance, on a day
# before that (APP_DAYS_BACK on average), so that the overall date is the latest of the per-app ones.
APP_USE = {"Teams": 0.62, "Outlook": 0.48, "Word": 0.34, "Excel": 0.21, "PowerPoint": 0.17, "OneNote": 0.05,
           "Loop": 0.03, "Copilot Chat": 0.57}
APP_DAYS_BACK = 14.0


# ---------------------------------------------------------------------------------------------
def months_between(first_month: str, last_month: str) -> list[pd.Timestamp]:
    """First day of each month from first_month to last_month inclusive."""
    return list(pd.date_range(pd.Timestamp(first_month + "-01"), pd.Timestamp(last_month + "-01"), freq="MS"))


def _month_start(month: str) -> pd.Timestamp:
    return pd.Timestamp(month + "-01")


def _schedule_at(schedule: list[tuple[str, object]], month: pd.Timestamp):
    """The value of a (from-month, value) schedule in force in `month`, or None before it starts."""
    current = None
    for start, value in schedule:
        if _month_start(start) <= month:
            current = value
    return current


def _months_since(start: str, month: pd.Timestamp) -> int:
    s = _month_start(start)
    return (month.year - s.year) * 12 + month.month - s.month


def _use_case_bu() -> dict[str, str]:
    return {uc[0]: uc[2] for uc in USE_CASES}


def _charge_period(month: pd.Timestamp) -> dict:
    """FOCUS period columns for a monthly charge; ends are exclusive (first instant of next month)."""
    start, end = month, month + pd.DateOffset(months=1)
    return {"BillingPeriodStart": start, "BillingPeriodEnd": end, "ChargePeriodStart": start, "ChargePeriodEnd": end}


def _tags(use_case: str, project: str, business_unit: str) -> str:
    """FOCUS Tags: a compact JSON object; spend no use case owns carries its project instead."""
    tags = {"use_case": use_case} if use_case else {"project": project}
    return json.dumps({**tags, "business_unit": business_unit}, separators=(",", ":"))


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).replace("--", "-").strip("-")


def _spend_row(month, *, provider, publisher, service, category, frequency, pricing, sku, description,
               consumed, consumed_unit, pricing_qty, pricing_unit, list_price, list_cost, contracted, effective,
               use_case, bu, model, token_type, modality, project="") -> dict:
    return {
        **_charge_period(month),
        "BillingAccountId": f"{_slug(provider)}-northwind", "SubAccountId": f"nw-{_slug(project or bu)}",
        "ProviderName": provider, "PublisherName": publisher, "InvoiceIssuerName": provider,
        "ServiceName": service, "ServiceCategory": "AI and Machine Learning",
        "ChargeCategory": category, "ChargeFrequency": frequency, "ChargeDescription": description,
        "PricingCategory": pricing, "SkuId": sku,
        "ConsumedQuantity": consumed, "ConsumedUnit": consumed_unit,
        "PricingQuantity": pricing_qty, "PricingUnit": pricing_unit, "ListUnitPrice": list_price,
        "ListCost": round(list_cost, 6), "ContractedCost": round(contracted, 6),
        "EffectiveCost": round(effective, 6), "BilledCost": round(effective, 6), "BillingCurrency": "USD",
        "Tags": _tags(use_case, project, bu), "x_UseCaseId": use_case, "x_BusinessUnit": bu, "x_Model": model,
        "x_TokenType": token_type, "x_SpendModality": modality,
    }


# ---------------------------------------------------------------------------------------------
def _token_rows(rng: np.random.Generator, months: list[pd.Timestamp], tiers: pd.DataFrame) -> list[dict]:
    """Per-token API spend at month x use case x model x token type, priced at genai-prices list price."""
    bu_of = _use_case_bu()
    rows = []
    for month in months:
        for uc in sorted(TOKEN_DEMAND):
            start, base_mtok, growth, out_share = TOKEN_DEMAND[uc]
            mix = _schedule_at(MODEL_MIX[uc], month)
            if mix is None:
                continue
            # Multiplicative noise so months are not a perfect curve (one draw per use case-month).
            mtok = base_mtok * (1 + growth) ** _months_since(start, month) * rng.lognormal(0.0, 0.05)
            for model in sorted(mix):
                tier = tiers.loc[model]
                provider, service, pricing, discounts = API_PROVIDERS[tier["Provider"]]
                discount = _schedule_at(discounts, month)
                in_price, out_price = prices.list_price(tier["CatalogProvider"], tier["CatalogModel"], (month + PRICE_HOUR).to_pydatetime())
                total_tokens = mtok * mix[model] * 1e6
                for token_type, share, unit_price in (("input", 1 - out_share, in_price), ("output", out_share, out_price)):
                    tokens = int(round(total_tokens * share))
                    qty = tokens / 1e6
                    list_cost = qty * unit_price
                    bu = bu_of.get(uc, "Group IT")
                    rows.append(_spend_row(
                        month, provider=provider, publisher=tier["Provider"], service=service, category="Usage",
                        frequency="Usage-Based", pricing=pricing, sku=f"{model}:{token_type}",
                        description=f"{model} {token_type} tokens", consumed=tokens, consumed_unit="Tokens",
                        pricing_qty=qty, pricing_unit="1000000 Tokens", list_price=unit_price, list_cost=list_cost,
                        contracted=list_cost, effective=list_cost * (1 - discount), use_case=uc, bu=bu,
                        model=model, token_type=token_type, modality="api_tokens",
                        project="" if uc else SANDBOX_PROJECT))
    return rows


def _split_seats(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Integer seats per business unit summing to `total` (largest remainder)."""
    names = sorted(weights)
    raw = np.array([total * weights[n] for n in names])
    seats = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - seats), kind="stable")[: total - seats.sum()]:
        seats[i] += 1
    return dict(zip(names, seats.tolist()))


def _seat_tables(rng: np.random.Generator, months: list[pd.Timestamp]) -> tuple[list[dict], list[dict]]:
    """Seat counts (product x month x BU) and the matching seat_licence spend rows."""
    seats, spend = [], []
    span = max(len(months) - 1, 1)
    for provider, product, uc, list_price, eff_price, (s0, s1), (a0, a1), weights in SEAT_PRODUCTS:
        for i, month in enumerate(months):
            # Licences are bought in blocks of 100; adoption ramps but never reaches everyone.
            licensed = int(round((s0 + (s1 - s0) * i / span) / 100) * 100)
            active_share = a0 + (a1 - a0) * i / span
            for bu, n in _split_seats(licensed, weights).items():
                # Business units differ a little around the ramp, within 3 points of its range.
                share = float(np.clip(active_share + rng.normal(0.0, 0.025), min(a0, a1) - 0.03, max(a0, a1) + 0.03))
                seats.append({"ProviderName": provider, "Product": product, "Month": month, "BusinessUnit": bu,
                              "LicensedSeats": n, "ActiveUsers": int(round(n * share))})
                spend.append(_spend_row(
                    month, provider=provider, publisher=provider, service=product, category="Purchase",
                    frequency="Recurring", pricing="Standard", sku=f"{_slug(product)}:seat",
                    description=f"{product} seat licence, monthly", consumed=n, consumed_unit="Seats",
                    pricing_qty=n, pricing_unit="Seats", list_price=list_price, list_cost=n * list_price,
                    contracted=n * eff_price, effective=n * eff_price, use_case=uc, bu=bu, model="",
                    token_type="", modality="seat_licence"))
    return seats, spend


def _gpu_rows(months: list[pd.Timestamp]) -> list[dict]:
    """Reserved GPU-hours for self-hosted open-weight inference (committed, billed monthly)."""
    bu = _use_case_bu()[GPU["use_case"]]
    rows = []
    for month in months:
        gpus = _schedule_at(GPU["gpus"], month)
        if not gpus:
            continue
        hours = gpus * 24 * month.days_in_month
        rows.append(_spend_row(
            month, provider="CoreWeave", publisher="CoreWeave", service="CoreWeave GPU Compute", category="Usage",
            frequency="Recurring", pricing="Committed", sku="gpu-h100-sxm:hour",
            description=f"{gpus} x H100 reserved, {GPU['model']} inference", consumed=hours,
            consumed_unit="Hours", pricing_qty=hours, pricing_unit="Hours", list_price=GPU["list_per_gpu_hour"],
            list_cost=hours * GPU["list_per_gpu_hour"], contracted=hours * GPU["committed_per_gpu_hour"],
            effective=hours * GPU["committed_per_gpu_hour"], use_case=GPU["use_case"], bu=bu, model=GPU["model"],
            token_type="", modality="self_hosted"))
    return rows


def _platform_rows(months: list[pd.Timestamp]) -> list[dict]:
    """The gateway's monthly fee: real AI spend that no use case owns."""
    fee = PLATFORM["monthly_fee"]
    return [_spend_row(
        month, provider=PLATFORM["provider"], publisher=PLATFORM["provider"], service=PLATFORM["service"],
        category="Purchase", frequency="Recurring", pricing="Standard", sku=f"{_slug(PLATFORM['service'])}:month",
        description="LLM gateway platform fee, monthly", consumed=1, consumed_unit="Months", pricing_qty=1,
        pricing_unit="Months", list_price=fee, list_cost=fee, contracted=fee, effective=fee, use_case="",
        bu="Group IT", model="", token_type="", modality="platform", project=PLATFORM["project"]) for month in months]


def _outcome_rows(rng: np.random.Generator, spend: pd.DataFrame, last_month: pd.Timestamp) -> list[dict]:
    """Outcome ledger: value tracks each use case's monthly spend times a multiple that matures over time."""
    owner = {uc[0]: uc[3] for uc in USE_CASES}
    monthly = spend[spend["x_UseCaseId"] != ""].groupby(["x_UseCaseId", "ChargePeriodStart"])["EffectiveCost"].sum()
    rows = []
    for uc in sorted(OUTCOMES):
        (m0, m1), evidence_schedule, outcome_types = OUTCOMES[uc]
        if uc not in monthly.index.get_level_values(0):
            continue
        uc_spend = monthly.loc[uc]
        first = uc_spend.index.min()
        span = max((last_month.year - first.year) * 12 + last_month.month - first.month, 1)
        for month, cost in uc_spend.items():
            evidence = _schedule_at(evidence_schedule, month)
            if evidence is None:
                continue
            progress = ((month.year - first.year) * 12 + month.month - first.month) / span
            target_value = cost * (m0 + (m1 - m0) * progress) * rng.lognormal(0.0, 0.06)
            low, high = EVIDENCE_RANGE[evidence]
            for name, unit, usd_per_unit, share, method in outcome_types:
                if evidence == "assumed":  # before measurement starts, the number is the business case
                    method = "Business case assumption; not yet measured"
                # Quantity is the observable; value is quantity x unit value, so the two always agree.
                quantity = max(int(round(target_value * share / usd_per_unit)), 1)
                base = round(quantity * usd_per_unit, 2)
                rows.append({"UseCaseId": uc, "Month": month, "OutcomeType": name, "Quantity": quantity,
                             "Unit": unit, "ValueLow": round(base * low, 2), "ValueBase": base,
                             "ValueHigh": round(base * high, 2), "Evidence": evidence, "Method": method,
                             "Owner": owner[uc]})
    return rows


def _recent_activity(rng: np.random.Generator, engagement: np.ndarray, report: np.datetime64) -> np.ndarray:
    """A last activity day inside the active window for every user: the keener, the nearer the report date."""
    # Truncated geometric days before the report: a core of daily users (p near 0.9), a tail spread over the month.
    p = 0.03 + 0.9 / (1 + np.exp(-2.5 * (engagement - 0.8)))
    u = rng.random(len(engagement))
    days = np.floor(np.log1p(-u * (1 - (1 - p) ** ACTIVE_DAYS)) / np.log1p(-p)).astype(int)
    day = report - np.minimum(days, ACTIVE_DAYS - 1)
    weekday = (day.astype(int) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    friday = day - np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0))
    monday = day + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    moved = np.where(friday > report - ACTIVE_DAYS, friday, monday)  # Monday when the Friday left the window
    return np.where(rng.random(len(engagement)) < WEEKEND_WORK, day, moved)


def _bu_seat_users(rng: np.random.Generator, history: pd.DataFrame, since: str, reports: int) -> pd.DataFrame:
    """One business unit's seat holders in its last `reports` month-end reports (Serial: joining order, stable),
    as many as its LicensedSeats and as many active as its ActiveUsers; `history`: its seats rows by Month."""
    nat = np.datetime64("NaT", "D")
    first = np.datetime64((history.index[0] + pd.offsets.MonthEnd(0)).date(), "D")
    n, start = int(history["LicensedSeats"].iloc[0]), np.datetime64(since, "D")
    assigned = np.sort(start + np.floor(rng.random(n) * ((first - start).astype(int) + 1)).astype(int))
    engagement, never = rng.normal(size=n), rng.random(n) < NEVER_ACTIVE
    last, roster, frames, previous = np.full(n, nat), np.ones(n, bool), [], None
    for i, month in enumerate(history.index):
        report = np.datetime64((month + pd.offsets.MonthEnd(0)).date(), "D")
        licensed, active_users = (int(history.loc[month, c]) for c in ("LicensedSeats", "ActiveUsers"))
        change = licensed - int(roster.sum())
        if change > 0:  # new seats, assigned since the last report
            new = np.sort(previous + 1 + np.floor(rng.random(change) * (report - previous).astype(int)).astype(int))
            assigned = np.concatenate([assigned, new])
            engagement = np.concatenate([engagement, rng.normal(size=change)])
            never = np.concatenate([never, rng.random(change) < NEVER_ACTIVE])
            last, roster = np.concatenate([last, np.full(change, nat)]), np.concatenate([roster, np.ones(change, bool)])
            n += change
        elif change < 0:  # fewer seats: the longest idle are reclaimed (the never active first)
            held = np.flatnonzero(roster)
            idle = np.where(np.isnat(last), np.datetime64("1970-01-01", "D"), last)[held]
            roster[held[np.lexsort((held, idle))[:-change]]] = False
        # This month's actives: the most engaged after a monthly swing and the newly assigned trying it out; the
        # never-active are never picked.
        fresh = ONBOARDING * (assigned > (report - ACTIVE_DAYS if previous is None else previous))
        score = np.where(roster & ~never, engagement + fresh + MONTHLY_NOISE * rng.normal(size=n), -np.inf)
        if active_users > np.isfinite(score).sum():
            raise ValueError(f"{active_users} active users but {np.isfinite(score).sum()} seats that can be active")
        active = np.zeros(n, bool)
        active[np.argsort(-score, kind="stable")[:active_users]] = True
        last = np.where(active, np.maximum(_recent_activity(rng, engagement, report), assigned), last)
        if previous is None:  # idle in the first month: last active 30+ days back, not before the assignment
            room = (report - ACTIVE_DAYS - assigned).astype(int)
            beyond = rng.exponential(IDLE_DAYS_BEYOND, n)
            beyond = np.where(beyond > room, rng.random(n) * room, beyond).astype(int)
            past = roster & ~active & ~never & (room >= 0)  # seats assigned in the last 30 days: no use yet
            last = np.where(past, report - ACTIVE_DAYS - beyond, last)
        previous = report
        if i < len(history) - reports:
            continue
        # An idle user keeps an earlier month's last activity, which must fall before this window. It does
        # from March to December; a February report's window reaches back into January.
        if not np.array_equal((last > report - ACTIVE_DAYS)[roster], active[roster]):
            raise ValueError(f"an earlier month's activity falls in the active window of the {report} report")
        held = np.flatnonzero(roster)
        frames.append(pd.DataFrame({"Serial": held, "ReportDate": pd.Timestamp(report),
                                    "AssignedDate": assigned[held], "LastActivityDate": last[held]}))
    return pd.concat(frames, ignore_index=True)


def _logins(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    """Plausible GitHub logins, unique in the organisation (a number added on a clash); `taken` is updated."""
    first, last = rng.integers(len(FIRST_NAMES), size=count), rng.integers(len(LAST_NAMES), size=count)
    style, number = rng.integers(5, size=count), rng.integers(2, 100, size=count)
    logins = []
    for i, j, s, k in zip(first, last, style, number):
        given, family, k = FIRST_NAMES[i], LAST_NAMES[j], int(k)
        login = base = (f"{given}{family}", f"{given}-{family}", f"{given[0]}{family}", f"{given}{family[0]}{k}",
                        f"{family}-{given}")[s]
        while login in taken:
            login, k = f"{base}{k}", k + 1
        taken.add(login)
        logins.append(login)
    return logins


def _seat_user_rows(rng: np.random.Generator, seats: list[dict]) -> pd.DataFrame:
    """The last SEAT_REPORTS months' seat reports: one row per seat holder per month-end report."""
    counts = pd.DataFrame(seats).set_index(["Product", "BusinessUnit", "Month"]).sort_index()
    frames, logins = [], set()  # a login names one person in the organisation, whatever their plan
    for provider, product, *_, weights in SEAT_PRODUCTS:
        github, taken = provider == "GitHub", logins if provider == "GitHub" else set()
        for bu in sorted(weights):
            users = _bu_seat_users(rng, counts.loc[(product, bu)], SEATS_SINCE[product], SEAT_REPORTS)
            serials = np.unique(users["Serial"])
            if github:  # the seat list names the user, and says when the seat was assigned
                ids = dict(zip(serials, ("user:" + login for login in _logins(rng, len(serials), taken))))
            else:  # concealed names: the report shows a hash of the user principal name (md5 of a stable one here)
                ids = {k: hashlib.md5(f"{_slug(bu)}.{k:05d}@northwind-group.example".encode()).hexdigest()
                       for k in serials}
                users["AssignedDate"] = pd.NaT
            frames.append(users.assign(ProviderName=provider, Product=product, SeatId=users["Serial"].map(ids),
                                       Anonymised=not github, BusinessUnit=bu))
    return pd.concat(frames, ignore_index=True)[list(COLUMNS["seat_users"])]


def _seat_app_rows(rng: np.random.Generator, seat_users: pd.DataFrame) -> pd.DataFrame:
    """The per-app last activity of the Microsoft 365 Copilot seats of the last report that were ever used (APP_USE)."""
    m365 = seat_users[(seat_users["Product"] == "Microsoft 365 Copilot") & seat_users["LastActivityDate"].notna()]
    users = m365[m365["ReportDate"] == m365["ReportDate"].max()].sort_values("SeatId").reset_index(drop=True)
    apps, weights = list(APP_USE), np.array(list(APP_USE.values()))
    last = users["LastActivityDate"].to_numpy("datetime64[D]")
    primary = rng.choice(len(apps), size=len(users), p=weights / weights.sum())
    frames = []
    for k, app in enumerate(apps):
        back = np.floor(rng.exponential(APP_DAYS_BACK, len(users))).astype(int)
        used = (primary == k) | (rng.random(len(users)) < APP_USE[app])
        day = np.where(primary == k, last, last - back)
        frames.append(pd.DataFrame({"ProviderName": users["ProviderName"], "Product": users["Product"],
                                    "SeatId": users["SeatId"], "ReportDate": users["ReportDate"], "App": app,
                                    "LastActivityDate": pd.to_datetime(day)})[used])
    return pd.concat(frames, ignore_index=True)[list(COLUMNS["seat_apps"])]


# ---------------------------------------------------------------------------------------------
# GitHub Copilot's metrics by feature (`seat_feature_usage`) for the sample's last quarter: the organisation report
# of every day (organization-1-day) and the users report of its last 28 days (users-28-day/latest, fetched at the
# quarter's end). Each GitHub seat holder's days of use are drawn to agree with the seat reports: a use on every
# report's LastActivityDate that falls in the quarter, none after it up to that report, none before the assignment.
USE_ON_WEEKDAYS = (2.0, 2.5)  # Beta parameters of a holder's chance of using Copilot on a working day
USE_ON_WEEKENDS = 0.1  # that chance, times this, on a Saturday or Sunday
USERS_REPORT_DAYS = 28
# The share of each plan's holders who work with agents, the CLI and code review (Enterprise's premium requests);
# the others use completions and ask-mode chat, which Business gives.
AGENTIC = {"GitHub Copilot Business": 0.25, "GitHub Copilot Enterprise": 0.55}


def _feature_usage_rows(rng: np.random.Generator, seat_users: pd.DataFrame) -> pd.DataFrame:
    """The GitHub seat holders' Copilot metrics by day and feature: organisation totals and users-report rows."""
    gh = seat_users[seat_users["ProviderName"] == "GitHub"].sort_values(["Product", "SeatId", "ReportDate"])
    end = gh["ReportDate"].max()
    days = pd.date_range(end.to_period("Q").start_time, end, freq="D")
    holders = gh.drop_duplicates(["Product", "SeatId"])[["Product", "SeatId", "AssignedDate"]].reset_index(drop=True)
    index = {key: i for i, key in enumerate(zip(holders["Product"], holders["SeatId"]))}
    n, d = len(holders), len(days)
    day = days.values.astype("datetime64[D]")
    allowed = day[None, :] >= holders["AssignedDate"].values.astype("datetime64[D]")[:, None]
    forced = np.zeros((n, d), bool)
    last_listed = np.full(n, day[0] - 1)
    for rec in gh.itertuples(index=False):  # each report: a use on its last activity, none after it up to the report
        u, report = index[(rec.Product, rec.SeatId)], np.datetime64(rec.ReportDate.date(), "D")
        last = np.datetime64(rec.LastActivityDate.date(), "D") if pd.notna(rec.LastActivityDate) else day[0] - 1
        allowed[u] &= ~((day > last) & (day <= report))
        forced[u] |= day == last
        last_listed[u] = max(last_listed[u], report)
    allowed &= day[None, :] <= last_listed[:, None]  # a seat given back is not used after its last report
    weekend = (pd.DatetimeIndex(days).dayofweek >= 5)[None, :]
    chance = rng.beta(*USE_ON_WEEKDAYS, n)[:, None] * np.where(weekend, USE_ON_WEEKENDS, 1.0)
    used = forced | (allowed & (rng.random((n, d)) < chance))
    agentic = rng.random(n) < holders["Product"].map(AGENTIC).values
    propensity = {"chat_panel_ask_mode": rng.uniform(0.2, 0.7, n),
                  "chat_panel_agent_mode": np.where(agentic, rng.uniform(0.2, 0.6, n), 0.0),
                  "cli": np.where(agentic, 0.15, 0.0), "code_review": np.where(agentic, 0.08, 0.0)}
    features = {f: used & (rng.random((n, d)) < p[:, None]) for f, p in propensity.items()}
    features["code_completion"] = used & ((rng.random((n, d)) < 0.9) | ~np.logical_or.reduce(list(features.values())))
    features["agent_edit"] = features["chat_panel_agent_mode"]
    accept = rng.uniform(0.22, 0.36, n)[:, None]
    counts = {}  # feature -> (Interactions, Suggestions, Acceptances, LinesSuggested, LinesAccepted) per user x day
    gen = 1 + rng.poisson(24, (n, d))
    acc = rng.binomial(gen, np.broadcast_to(accept, (n, d)))
    counts["code_completion"] = (np.zeros((n, d), int), gen, acc, gen + rng.poisson(gen * 0.3), acc + rng.poisson(acc * 0.5))
    for feature, (mean, rate, lines) in {"chat_panel_ask_mode": (4, 0.35, 4), "chat_panel_agent_mode": (3, 0.5, 6)}.items():
        asked = 1 + rng.poisson(mean, (n, d))
        made = asked + rng.poisson(asked)
        taken = rng.binomial(made, rate)
        counts[feature] = (asked, made, taken, made * lines, taken * lines)
    edits = 1 + rng.poisson(5, (n, d))
    counts["agent_edit"] = (np.zeros((n, d), int), edits, np.zeros((n, d), int), np.zeros((n, d), int), edits * 12)
    prompts = 1 + rng.poisson(3, (n, d))
    value_columns = ["Interactions", "Suggestions", "Acceptances", "LinesSuggested", "LinesAccepted"]
    org, users = [], []
    first_user_day = len(days) - USERS_REPORT_DAYS
    for feature in ("code_completion", "chat_panel_ask_mode", "chat_panel_agent_mode", "agent_edit", "cli",
                    "code_review"):
        mask = features[feature]
        if feature in counts:
            sums = {c: (v * mask).sum(axis=0) for c, v in zip(value_columns, counts[feature])}
            org.append(pd.DataFrame({"Day": days, "Feature": feature, **sums})[mask.any(axis=0)])
        else:  # the report gives the CLI's and code review's users a day, and the CLI's prompts; left out when none
            extra = {"Interactions": (prompts * mask).sum(axis=0)} if feature == "cli" else {}
            org.append(pd.DataFrame({"Day": days, "Feature": feature, "EngagedUsers": mask.sum(axis=0), **extra})
                       [mask.any(axis=0)])
        u, t = np.nonzero(mask[:, first_user_day:])
        t = t + first_user_day
        values = ({c: v[u, t] for c, v in zip(value_columns, counts[feature])} if feature in counts
                  else {"Interactions": prompts[u, t]} if feature == "cli" else {})
        users.append(pd.DataFrame({"Day": days[t], "SeatId": holders["SeatId"].values[u], "Feature": feature,
                                   "EngagedUsers": 1, **values}))
    org.append(pd.DataFrame({"Day": days, "Feature": "any", "EngagedUsers": used.sum(axis=0)}))
    out = pd.concat([pd.concat(org).assign(Report="totals_report"), pd.concat(users).assign(Report="users_report")],
                    ignore_index=True).assign(ProviderName="GitHub")
    return out.reindex(columns=list(COLUMNS["seat_feature_usage"]))


def _use_case_rows() -> list[dict]:
    cols = list(COLUMNS["use_cases"])
    return [dict(zip(cols, uc)) for uc in USE_CASES]


# ---------------------------------------------------------------------------------------------
def _fmt(value) -> str:
    """One text form per value: true/false, ISO dates, plain decimals without trailing zeros, '' for null."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    return str(value)


def _write(rows: list[dict] | pd.DataFrame, table: str, path: Path, sort_by: list[str]) -> Path:
    """Write one canonical table as CSV (gzip for .gz): schema columns in order, sorted rows, fixed text forms."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS[table])) if isinstance(rows, list) else rows
    frame = frame.sort_values(sort_by, kind="mergesort").reset_index(drop=True)
    for col, kind in COLUMNS[table].items():
        if kind == "datetime":
            fmt = "%Y-%m-%dT%H:%M:%SZ" if table == "spend" else "%Y-%m-%d"
            frame[col] = ["" if pd.isna(ts) else ts.strftime(fmt) for ts in frame[col]]
        else:
            frame[col] = [_fmt(v) for v in frame[col]]
    if path.name.endswith(".gz"):  # mtime 0 and no file name in the header: the same rows give the same bytes
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        return path
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def generate(out_dir: Path, seed: int = SEED, first_month: str = "2025-01", last_month: str = "2026-09") -> dict[str, Path]:
    """Write the Northwind Group sample (spend, seats, outcomes, use_cases, models, seat_users, seat_apps,
    seat_feature_usage) into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    months = months_between(first_month, last_month)
    tiers = prices.load_tier_map().set_index("Model", drop=False)

    def stream(name: str) -> np.random.Generator:
        return np.random.default_rng([seed, STREAM[name]])

    seats, seat_spend = _seat_tables(stream("seats"), months)
    spend = pd.DataFrame(
        _token_rows(stream("tokens"), months, tiers) + seat_spend + _gpu_rows(months) + _platform_rows(months),
        columns=list(COLUMNS["spend"]))
    outcomes = _outcome_rows(stream("outcomes"), spend, months[-1])

    # The model catalog lists every model the spend uses, priced at the end of the last month.
    last_day = (months[-1] + pd.offsets.MonthEnd(0) + PRICE_HOUR).to_pydatetime().replace(tzinfo=timezone.utc)
    used = sorted(set(spend["x_Model"]) - {""})
    models = prices.build_model_catalog(tiers.loc[used].reset_index(drop=True), last_day)

    seat_users = _seat_user_rows(stream("seat_users"), seats)
    spend_keys = ["ChargePeriodStart", "x_SpendModality", "ProviderName", "ServiceName", "x_UseCaseId",
                  "x_BusinessUnit", "x_Model", "x_TokenType"]
    return {
        "spend": _write(spend, "spend", out_dir / "spend.csv", spend_keys),
        "seats": _write(seats, "seats", out_dir / "seats.csv", ["Product", "Month", "BusinessUnit"]),
        "outcomes": _write(outcomes, "outcomes", out_dir / "outcomes.csv", ["UseCaseId", "Month", "OutcomeType"]),
        "use_cases": _write(_use_case_rows(), "use_cases", out_dir / "use_cases.csv", ["UseCaseId"]),
        "models": _write(models, "models", out_dir / "models.csv", ["Model"]),
        # A user's reports on consecutive lines: gzip then stores each id once, half the size of report order.
        "seat_users": _write(seat_users, "seat_users", out_dir / "seat_users.csv.gz",
                             ["Product", "BusinessUnit", "SeatId", "ReportDate"]),
        "seat_apps": _write(_seat_app_rows(stream("seat_apps"), seat_users), "seat_apps", out_dir / "seat_apps.csv.gz",
                            ["Product", "SeatId", "ReportDate", "App"]),
        "seat_feature_usage": _write(_feature_usage_rows(stream("feature_usage"), seat_users), "seat_feature_usage",
                                     out_dir / "seat_feature_usage.csv.gz", ["Day", "Report", "SeatId", "Feature"]),
    }
