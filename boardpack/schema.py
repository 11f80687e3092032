"""The five canonical tables: their columns, types and allowed values.

This is the one place that names columns. Adapters emit these, contracts check them, metrics read them.
"""

from __future__ import annotations

TABLES = ("spend", "seats", "outcomes", "use_cases", "models")

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

COLUMNS = {
    "spend": SPEND_COLUMNS,
    "seats": SEATS_COLUMNS,
    "outcomes": OUTCOMES_COLUMNS,
    "use_cases": USE_CASES_COLUMNS,
    "models": MODELS_COLUMNS,
}

# Allowed values, shared by contracts, the sample generator and the metrics.
TIERS = ("light", "standard", "frontier")  # ascending capability (and price)
TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
EVIDENCE = ("measured", "estimated", "assumed")
STAGES = ("pilot", "production", "retired")
SPEND_MODALITIES = ("api_tokens", "seat_licence", "self_hosted", "platform")
TOKEN_TYPES = ("input", "output", "cached_input", "cache_write")
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_FREQUENCIES = ("One-Time", "Recurring", "Usage-Based")
PRICING_CATEGORIES = ("Standard", "Dynamic", "Committed", "Other")
