-- id: d9ab0465-072e-4be0-b11b-c35b516cb96d
-- name: reasoning_coercion
-- title: Multilingual reasoning-trace coercion
-- status: experimental
-- level: high
-- description: Detects accounts whose structured prompts coerce the model into emitting its full
--   reasoning trace, in the language of the input, across many languages.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040, atlas.aml.t0054
-- references: Google Threat Intelligence Group, report on adversarial misuse of AI and model extraction (reasoning-trace coercion in many languages), Feb 2026
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026
-- falsepositives: Translation and localisation teams testing reasoning output in many languages
-- falsepositives: Interpretability researchers asking for full reasoning
-- portable: true
-- requires: features
-- param: min_requests int 20 Minimum requests with text features for an account to be scored
-- param: min_flagged int 10 Minimum coercion-flagged requests
-- param: min_share float 0.3 Share of coercion-flagged requests at or above which the account is reported
-- param: full_share float 0.6 Share at which the share part of the score reaches 1
-- param: full_langs int 4 Distinct languages among flagged prompts at which the language part of the score reaches 1
with per_account as (
    select r.account_id, count(*) as requests,
           sum(case when f.coercion_flag then 1 else 0 end) as flagged,
           count(distinct case when f.coercion_flag then hash(coalesce(r.prompt_text, r.request_id)) end)
               as distinct_flagged,
           count(distinct case when f.coercion_flag and f.lang <> 'und' then f.lang end) as langs,
           min(r.ts) as first_seen, max(r.ts) as last_seen
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.template_id is not null
    group by r.account_id
),
fired as (
    select *, flagged * 1.0 / requests as share
    from per_account
    where requests >= $min_requests and flagged >= $min_flagged
      and flagged * 1.0 / requests >= $min_share
),
examples as (
    select r.account_id, array_slice(array_agg(r.request_id), 1, 3) as request_ids
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.coercion_flag and r.account_id in (select account_id from fired)
    group by r.account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           least(1.0, f.share / $full_share)
               * (0.6 + 0.4 * least(1.0, greatest(f.langs - 1, 0) * 1.0 / ($full_langs - 1)))
               as score,
           {'requests': f.requests, 'flagged': f.flagged, 'share': round(f.share, 3),
            'distinct_flagged': f.distinct_flagged,
            'languages': f.langs, 'min_share': $min_share,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
