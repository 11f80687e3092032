-- Gateway requests per day (UTC) x provider x model x team x project x request tags x file: the grain the
-- LiteLLM adapter turns into canonical spend rows. Reads view gateway_requests (gateway_requests.sql).
-- Failed requests with zero spend and rows with a value that does not parse are kept apart (failed, bad)
-- with their dimensions blanked, so they cost one group each, not one per day.
WITH r AS (
  SELECT *,
    started_at IS NULL
      OR (spend_raw IS NOT NULL AND spend IS NULL)
      OR (prompt_tokens_raw IS NOT NULL AND prompt_tokens IS NULL)
      OR (completion_tokens_raw IS NOT NULL AND completion_tokens IS NULL) AS bad,
    status IN ('failure', 'failed', 'error') AND coalesce(spend, 0) = 0 AS failed
  FROM gateway_requests
), k AS (
  SELECT *,
    CASE WHEN failed OR bad THEN NULL ELSE date_trunc('day', started_at) END AS g_day,
    CASE WHEN failed OR bad THEN NULL ELSE provider END AS g_provider,
    CASE WHEN failed OR bad THEN NULL ELSE coalesce(model, model_group) END AS g_model,
    CASE WHEN failed OR bad THEN NULL ELSE team END AS g_team,
    CASE WHEN failed OR bad OR team IS NOT NULL THEN NULL ELSE team_alias END AS g_team_alias,
    -- the alias of a team that has an id too, for the Tags (a key, not max(): an aggregate over text
    -- turns Spark's hash aggregation into a sort of every row)
    CASE WHEN failed OR bad THEN NULL ELSE team_alias END AS g_alias_any,
    CASE WHEN failed OR bad THEN NULL ELSE project END AS g_project,
    CASE WHEN failed OR bad THEN NULL ELSE tags END AS g_tags,
    coalesce(prompt_tokens, 0) - cache_read - cache_write AS uncached
  FROM r
)
SELECT
  g_day AS day, g_provider AS provider, g_model AS model, g_team AS team, g_team_alias AS team_alias,
  g_project AS project, g_tags AS tags, __file, failed AS __failed, bad AS __bad,
  g_alias_any AS team_alias_any,
  count(*) AS requests,
  sum(coalesce(spend, 0)) AS spend,
  sum(greatest(uncached, 0)) AS input,
  sum(coalesce(completion_tokens, 0)) AS output,
  sum(cache_read) AS cached_input,
  sum(cache_write) AS cache_write,
  sum(CASE WHEN cache_read + cache_write > 0 THEN 1 ELSE 0 END) AS fx_cache,
  sum(CASE WHEN uncached < 0 THEN 1 ELSE 0 END) AS fx_clamp,
  sum(metadata_bad) AS fx_meta
FROM k
GROUP BY g_day, g_provider, g_model, g_team, g_team_alias, g_alias_any, g_project, g_tags, __file, failed, bad
ORDER BY day NULLS LAST, provider NULLS LAST, model NULLS LAST, team NULLS LAST, team_alias NULLS LAST,
  team_alias_any NULLS LAST, project NULLS LAST, tags NULLS LAST, __file, __failed, __bad
