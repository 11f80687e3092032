"""What FOCUS says, as the adapter reads it: the source name and file patterns, the FOCUS 1.2 columns (and
the 1.3 and Microsoft names that stand for them), the columns read by kind, the allowed values, and the
names of the fixes the adapter counts (shown on the data-quality page)."""

from __future__ import annotations

SOURCE = "focus"
PATTERNS = ("*.csv", "*.csv.gz", "*.parquet")

# Every FOCUS 1.2 column (focus-1.2-columns.csv), for case-insensitive name matching and extra-column notes.
FOCUS_COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
)
# FOCUS 1.3 names -> the 1.2 column they stand for when that column is absent.
ALIASES_13 = {"serviceprovidername": "ProviderName", "hostprovidername": "PublisherName"}

TIME_COLUMNS = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
NUMBER_COLUMNS = ("ConsumedQuantity", "PricingQuantity", "ListUnitPrice", "ListCost", "ContractedCost",
                  "EffectiveCost", "BilledCost")
STRING_COLUMNS = ("BillingAccountId", "SubAccountId", "ProviderName", "PublisherName", "InvoiceIssuerName",
                  "ServiceName", "ServiceCategory", "ChargeCategory", "ChargeFrequency", "ChargeDescription",
                  "PricingCategory", "SkuId", "SkuMeter", "ConsumedUnit", "PricingUnit", "BillingCurrency", "Tags",
                  "ChargeClass", "ResourceId", "x_PricingBlockSize", "x_PricingUnitDescription")
# Microsoft's FOCUS extensions that say how many units a PricingQuantity counts (block pricing: Azure OpenAI
# meters in units of 1K tokens); read as text, once per distinct value. Microsoft's FOCUS 1.0 export names the
# meter x_SkuMeterName (SkuMeter arrived in FOCUS 1.1): it stands in for an absent SkuMeter.
EXTENSION_COLUMNS = ("x_PricingBlockSize", "x_PricingUnitDescription")
METER_ALIAS = "x_skumetername"
USED = TIME_COLUMNS + NUMBER_COLUMNS + STRING_COLUMNS
MANDATORY = ("ChargePeriodStart", "ChargePeriodEnd", "ProviderName", "ServiceName", "BillingCurrency",
             "ChargeCategory")  # plus EffectiveCost or BilledCost
# The text columns a kept row must have a value in, in the order a row's errors are named.
MANDATORY_VALUES = ("ProviderName", "ServiceName", "ChargeCategory", "BillingCurrency")

SERVICE_CATEGORIES = ("AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
                      "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
                      "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
                      "Storage", "Web", "Other")
ENUMS = {
    "ChargeCategory": {"usage": "Usage", "purchase": "Purchase", "tax": "Tax", "credit": "Credit",
                       "adjustment": "Adjustment"},
    "ChargeFrequency": {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"},
    "PricingCategory": {"standard": "Standard", "dynamic": "Dynamic", "committed": "Committed", "other": "Other"},
}
PREVIEW_PRICING = {"ondemand": "Standard", "commitmentbased": "Committed"}  # FOCUS 1.0-preview values

# Fix rule names (shown on the data-quality page, prefixed with "focus: ").
FIX_NULL = "literal NULL → null"
FIX_EMPTY = "empty string → null"
FIX_TS = {1: "timestamp without T/Z → UTC", 2: "timestamp with UTC offset → UTC", 3: "date-only → 00:00 UTC",
          4: "US date M/D/Y → ISO"}
FIX_NUMBER = "number with currency symbol or thousands separators → plain number"
FIX_CASE = "{} case → FOCUS value"
FIX_PREVIEW = "PricingCategory 1.0-preview value → 1.2"
FIX_CURRENCY = "BillingCurrency upper-cased"
FIX_EFFECTIVE = "EffectiveCost empty → BilledCost"
FIX_BILLED = "BilledCost empty → EffectiveCost"
FIX_UNIT = "ConsumedUnit in 1000s/millions of tokens → Tokens"
FIX_COUNT_UNIT = "ConsumedUnit Units on a token meter → Tokens"
FIX_BLOCKS = "token quantity in blocks of 1,000 or 1,000,000 (read off the list price) → tokens"
FIX_FROM_PRICING = "ConsumedQuantity empty → PricingQuantity in tokens"
FIX_TAGS = "Tags without braces → JSON object"
FIX_COLUMN_CASE = "column name case → FOCUS spelling"
FIX_ALIAS = "FOCUS 1.3 column name → 1.2 name"
FIX_DROPPED = "non-AI rows dropped"
FIX_METER = "x_SkuMeterName read as SkuMeter"
FIX_SEAT_PRODUCT = "seat licence named as the AI-spend catalog's product"
