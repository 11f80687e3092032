-- Gateway request rows (LiteLLM_SpendLogs), typed. Reads view gateway_raw (engine.register_files), one
-- row per request:
--   __file;
--   starttime, spend, prompt_tokens, completion_tokens: the file's own TIMESTAMP or DOUBLE, and their
--     text in *__text where the file has text (CSV);
--   request_id, model, model_group, custom_llm_provider, team_id, status, request_tags: text;
--   the metadata JSON's fields as text: meta_team_id, meta_team_alias, meta_project_id, meta_status,
--     meta_cache_read, meta_cached_tokens, meta_cache_creation, meta_cache_creation_tokens;
--   metadata_bad: 1 where metadata was not JSON.
-- Text that does not parse becomes NULL; the text stays beside it (*_raw), so that a row with a present
-- but unparsed value can be told from an empty one, and named.
SELECT
  __file, request_id,
  coalesce(starttime, CAST(TRY_CAST(starttime__text AS TIMESTAMPTZ) AS TIMESTAMP)) AS started_at,
  starttime__text AS started_at_raw,
  coalesce(spend, TRY_CAST(spend__text AS DOUBLE)) AS spend, spend__text AS spend_raw,
  coalesce(prompt_tokens, TRY_CAST(prompt_tokens__text AS DOUBLE)) AS prompt_tokens,
  prompt_tokens__text AS prompt_tokens_raw,
  coalesce(completion_tokens, TRY_CAST(completion_tokens__text AS DOUBLE)) AS completion_tokens,
  completion_tokens__text AS completion_tokens_raw,
  model, model_group, custom_llm_provider AS provider,
  coalesce(team_id, meta_team_id) AS team,
  meta_team_alias AS team_alias,
  meta_project_id AS project,
  request_tags AS tags,
  lower(coalesce(status, meta_status, '')) AS status,
  -- LiteLLM counts cache reads and writes inside prompt_tokens; Anthropic-style fields first, OpenAI's after
  coalesce(TRY_CAST(meta_cache_read AS DOUBLE), TRY_CAST(meta_cached_tokens AS DOUBLE), 0) AS cache_read,
  coalesce(TRY_CAST(meta_cache_creation AS DOUBLE), TRY_CAST(meta_cache_creation_tokens AS DOUBLE), 0) AS cache_write,
  metadata_bad
FROM gateway_raw
