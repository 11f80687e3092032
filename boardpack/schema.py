"""The canonical tables: their columns, types and allowed values.

This is the one place that names columns. Adapters emit these, contracts check them, metrics read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the annotation only: empty_table imports pandas when it makes a table
    import pandas as pd

TABLES = ("spend", "seats", "outcomes", "use_cases", "models", "seat_users", "seat_apps", "seat_feature_usage")
# Tables a data folder may leave out: the pack then says which file would fill what they feed.
OPTIONAL_TABLES = ("seat_users", "seat_apps", "seat_feature_usage")

# FOCUS 1.2 columns the pack relies on, then the boardpack `x_` extensions.
SPEND_COLUMNS = {
    "BillingPeriodStart": "datetime",
    "BillingPeriodEnd": "datetime",
    "ChargePeriodStart": "datetime",
    "ChargePeriodEnd": "datetime",  # exclusive, as in FOCUS
    "BillingAccountId": "string",
    "SubAccountId": "string",
    "ProviderName": "string",
    "PublisherName": "string",
    "InvoiceIssuerName": "string",
    "ServiceName": "string",
    "ServiceCategory": "string",
    "ChargeCategory": "string",
    "ChargeFrequency": "string",
    "ChargeDescription": "string",
    "PricingCategory": "string",
    "SkuId": "string",
    "ConsumedQuantity": "number",
    "ConsumedUnit": "string",
    "PricingQuantity": "number",
    "PricingUnit": "string",
    "ListUnitPrice": "number",
    "ListCost": "number",
    "ContractedCost": "number",
    "EffectiveCost": "number",
    "BilledCost": "number",
    "BillingCurrency": "string",
    "Tags": "string",  # JSON object, FOCUS Key-Value Format
    "x_UseCaseId": "string",
    "x_BusinessUnit": "string",
    "x_Model": "string",
    "x_TokenType": "string",
    "x_SpendModality": "string",
}

SEATS_COLUMNS = {
    "ProviderName": "string",
    "Product": "string",  # equals ServiceName of the product's seat_licence spend rows
    "Month": "datetime",  # first day of the month
    "BusinessUnit": "string",
    "LicensedSeats": "number",
    "ActiveUsers": "number",
}

OUTCOMES_COLUMNS = {
    "UseCaseId": "string",
    "Month": "datetime",
    "OutcomeType": "string",
    "Quantity": "number",
    "Unit": "string",
    "ValueLow": "number",
    "ValueBase": "number",
    "ValueHigh": "number",
    "Evidence": "string",
    "Method": "string",
    "Owner": "string",
}

USE_CASES_COLUMNS = {
    "UseCaseId": "string",
    "Name": "string",
    "BusinessUnit": "string",
    "Owner": "string",
    "Stage": "string",
    "RequiredTier": "string",
    "Portable": "boolean",
    "FallbackProvider": "string",
}

MODELS_COLUMNS = {
    "Model": "string",
    "Provider": "string",
    "Family": "string",
    "Tier": "string",
    "OpenWeights": "boolean",
    "InputPricePerMTok": "number",
    "OutputPricePerMTok": "number",
    "PriceSource": "string",
}

# One row per seat per seat report (snapshot): who holds a licence and when they last used it. The seat
# reports' own users, from Microsoft 365 Copilot usage reports (Graph or admin center) and GitHub Copilot seat
# lists; what reclaimable seats, the adoption funnel and value per seat are computed from (docs/metrics.md).
SEAT_USERS_COLUMNS = {
    "ProviderName": "string",
    "Product": "string",  # equals Product of the seats table (Microsoft 365 Copilot, GitHub Copilot Business, ...)
    "SeatId": "string",  # the id the report gives: user principal name or its hash (lower case), GitHub user:<login>
    "Anonymised": "boolean",  # true when SeatId is the hash that a report with concealed user names shows
    "BusinessUnit": "string",
    "ReportDate": "datetime",  # the day the report describes (Graph Report Refresh Date; GitHub fetch day)
    "AssignedDate": "datetime",  # when the seat was assigned, where the report says (GitHub created_at); else empty
    "LastActivityDate": "datetime",  # the user's last activity with the product; empty: none recorded
}

# One row per seat, report and app the seat's holder has used: the per-app last-activity dates of the Microsoft 365
# Copilot usage report (Graph v1/v2, admin-center export), long form, only where the report gives a date. What the
# breadth of use is computed from (docs/metrics.md, "Breadth of use"); a report without per-app columns gives none.
SEAT_APPS_COLUMNS = {
    "ProviderName": "string",
    "Product": "string",  # as in seat_users
    "SeatId": "string",  # as in seat_users: the same seat in the same report
    "ReportDate": "datetime",  # as in seat_users
    "App": "string",  # one of M365_APPS
    "LastActivityDate": "datetime",  # the holder's last activity with Copilot in this app
}
# The apps of breadth of use, in the order the pack lists them. Copilot Chat is the latest of the report's Copilot
# Chat columns (v1's one; v2's and the admin export's work and web).
M365_APPS = ("Teams", "Outlook", "Word", "Excel", "PowerPoint", "OneNote", "Loop", "Copilot Chat")

# One row per day x feature x (organisation, or one user): what GitHub's Copilot metrics say of who used which
# feature, from the legacy metrics API (`GET /orgs/{org}/copilot/metrics`) or the usage-metrics reports
# (organization-1-day / -28-day, users-1-day / -28-day NDJSON); README, "GitHub Copilot: breadth of use". Empty
# numbers: the report does not give them, never 0.
SEAT_FEATURE_USAGE_COLUMNS = {
    "ProviderName": "string",
    "Day": "datetime",
    "SeatId": "string",  # user:<login> (lower case) as in seat_users; empty on an organisation's totals
    "Feature": "string",  # code_completion, ide_chat, chat_panel_agent_mode, agent_edit, cli, code_review, ...
    "EngagedUsers": "number",  # users who used the feature that day (1 on a user's row); empty: not given
    "Interactions": "number",  # prompts or chats sent
    "Suggestions": "number",  # code suggestions shown (legacy) or code generations (usage-metrics reports)
    "Acceptances": "number",  # suggestions accepted
    "LinesSuggested": "number",
    "LinesAccepted": "number",
    "Report": "string",  # metrics_api (legacy, organisation), totals_report (organisation), users_report (users)
}

COLUMNS = {
    "spend": SPEND_COLUMNS,
    "seats": SEATS_COLUMNS,
    "outcomes": OUTCOMES_COLUMNS,
    "use_cases": USE_CASES_COLUMNS,
    "models": MODELS_COLUMNS,
    "seat_users": SEAT_USERS_COLUMNS,
    "seat_apps": SEAT_APPS_COLUMNS,
    "seat_feature_usage": SEAT_FEATURE_USAGE_COLUMNS,
}

# The pandas type of each kind of column, for a table with no rows: its columns keep the types the contracts check.
EMPTY_DTYPES = {"string": "str", "number": "float64", "datetime": "datetime64[us]", "boolean": "bool"}


def empty_table(columns: dict[str, str]) -> pd.DataFrame:
    """A frame with no rows and every column of `columns`, typed."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=EMPTY_DTYPES[t]) for c, t in columns.items()})


# Allowed values, shared by contracts, the sample generator and the metrics.
TIERS = ("light", "standard", "frontier")  # ascending capability (and price)
TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
EVIDENCE = ("measured", "estimated", "assumed")
STAGES = ("pilot", "production", "retired")
# A seat is active in a seat report when its holder used it in the 30 days up to the report: the window of
# GitHub's seat list and of Microsoft's D30 report, which the adapters, the sample and the metrics share.
ACTIVE_DAYS = 30
# The defaults of [seats] enterprise_only_features: what a GitHub Copilot Enterprise seat gives that a Business
# seat does not, as the usage reports name it (docs/metrics.md, "Enterprise seats that Business would serve"):
# the features that draw on premium requests, of which Enterprise has the larger allowance.
ENTERPRISE_ONLY_FEATURES = ["chat_panel_agent_mode", "chat_panel_plan_mode", "chat_panel_custom_mode", "agent_edit",
                            "cli", "code_review"]
# The defaults of the configuration's [seats] (docs/metrics.md): days without use that make a seat reclaimable;
# the share of a year's AI spend at which the longest threshold's saving heads the executive summary; monthly
# reports of a quarter a seat is active in to count as engaged; the features that make an Enterprise seat worth its
# price.
SEAT_RULES: dict[str, Any] = {"reclaim_days": [30, 60, 90], "headline_share": 0.01, "engaged_months": 3,
              "enterprise_only_features": ENTERPRISE_ONLY_FEATURES}
SPEND_MODALITIES = ("api_tokens", "seat_licence", "self_hosted", "platform")
TOKEN_TYPES = ("input", "output", "cached_input", "cache_write")
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_FREQUENCIES = ("One-Time", "Recurring", "Usage-Based")
PRICING_CATEGORIES = ("Standard", "Dynamic", "Committed", "Other")

# How the breadth metric groups features (docs/metrics.md, "GitHub Copilot: breadth of use"); a feature may count
# in two groups (agent mode is a chat panel mode). The legacy API's names first, then the usage-metrics reports'.
FEATURE_GROUPS = {
    "completions": ("code_completion",),
    "chat": ("ide_chat", "dotcom_chat", "chat_panel_ask_mode", "chat_panel_edit_mode", "chat_panel_agent_mode",
             "chat_panel_plan_mode", "chat_panel_custom_mode", "chat_panel_unknown_mode", "chat_inline"),
    "agent": ("chat_panel_agent_mode", "agent_edit"),
    "cli": ("cli",),
    "code_review": ("code_review",),
}
GITHUB_PLANS = {"enterprise": "GitHub Copilot Enterprise", "business": "GitHub Copilot Business"}
