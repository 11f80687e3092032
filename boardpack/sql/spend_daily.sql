-- Canonical spend rows (view spend_rows, typed as schema.SPEND_COLUMNS) rolled up to one row per day of
-- ChargePeriodStart and every other column: hourly or per-request rows become daily, quantities and costs
-- are summed, and nothing the metrics read is lost (they sum these columns by the same keys).
-- The charge period of a group runs from its first start to its last end.
SELECT
  BillingPeriodStart, BillingPeriodEnd,
  min(ChargePeriodStart) AS ChargePeriodStart, max(ChargePeriodEnd) AS ChargePeriodEnd,
  BillingAccountId, SubAccountId, ProviderName, PublisherName, InvoiceIssuerName, ServiceName, ServiceCategory,
  ChargeCategory, ChargeFrequency, ChargeDescription, PricingCategory, SkuId,
  sum(ConsumedQuantity) AS ConsumedQuantity, ConsumedUnit, sum(PricingQuantity) AS PricingQuantity, PricingUnit,
  ListUnitPrice, sum(ListCost) AS ListCost, sum(ContractedCost) AS ContractedCost,
  sum(EffectiveCost) AS EffectiveCost, sum(BilledCost) AS BilledCost, BillingCurrency, Tags,
  x_UseCaseId, x_BusinessUnit, x_Model, x_TokenType, x_SpendModality,
  count(*) AS source_rows
FROM spend_rows
GROUP BY date_trunc('day', ChargePeriodStart), BillingPeriodStart, BillingPeriodEnd, BillingAccountId,
  SubAccountId, ProviderName, PublisherName, InvoiceIssuerName, ServiceName, ServiceCategory, ChargeCategory,
  ChargeFrequency, ChargeDescription, PricingCategory, SkuId, ConsumedUnit, PricingUnit, ListUnitPrice,
  BillingCurrency, Tags, x_UseCaseId, x_BusinessUnit, x_Model, x_TokenType, x_SpendModality
ORDER BY ChargePeriodStart, ProviderName NULLS LAST, ServiceName NULLS LAST, SkuId NULLS LAST,
  x_UseCaseId NULLS LAST, x_BusinessUnit NULLS LAST, x_Model NULLS LAST, x_TokenType NULLS LAST,
  ChargeCategory NULLS LAST, SubAccountId NULLS LAST, ChargeDescription NULLS LAST, Tags NULLS LAST,
  ChargePeriodEnd, EffectiveCost
