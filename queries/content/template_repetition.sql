-- id: cf1f773a-1ffc-4da3-8258-558615b01bc6
-- name: template_repetition
-- title: Template repetition and low prompt diversity
-- status: experimental
-- level: medium
-- description: Detects accounts whose single-turn prompts come from very few templates (low
--   distinct-template ratio or one dominant template), as when a task list is pushed through one
--   wrapper to harvest outputs.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (the same prompt structures repeated at scale)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Enterprise batch pipelines running one fixed extraction or classification template (the hardest look-alike, hence level medium)
-- falsepositives: Evaluation runners replaying a benchmark
-- portable: true
-- requires: features
-- param: min_requests int 100 Minimum requests with text features for an account to be scored
-- param: max_distinct_ratio float 0.05 Distinct templates per request at or below which diversity counts as low
-- param: min_top_share float 0.5 Share of the most used template at or above which one template dominates
-- param: min_single_turn float 0.8 Minimum share of single-turn requests
with per_template as (
    select r.account_id, f.template_id, count(*) as n,
           sum(case when coalesce(r.n_user_turns, 1) <= 1 then 1 else 0 end) as single_turn,
           min(r.ts) as first_seen, max(r.ts) as last_seen
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.template_id is not null
    group by r.account_id, f.template_id
),
per_account as (
    select account_id, sum(n) as requests, count(*) as templates, max(n) as top_n,
           sum(single_turn) as single_turn, min(first_seen) as first_seen,
           max(last_seen) as last_seen
    from per_template
    group by account_id
),
shares as (
    select *, templates * 1.0 / requests as distinct_ratio, top_n * 1.0 / requests as top_share,
           single_turn * 1.0 / requests as single_turn_share
    from per_account
    where requests >= $min_requests
),
fired as (
    select * from shares
    where (distinct_ratio <= $max_distinct_ratio or top_share >= $min_top_share)
      and single_turn_share >= $min_single_turn
),
examples as (
    select account_id, array_slice(array_agg(request_id), 1, 3) as request_ids
    from requests
    where account_id in (select account_id from fired)
    group by account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           least(1.0, greatest(f.top_share, 1.0 - f.distinct_ratio) * f.single_turn_share) as score,
           {'requests': f.requests, 'templates': f.templates,
            'distinct_ratio': round(f.distinct_ratio, 4), 'top_template_share': round(f.top_share, 3),
            'single_turn_share': round(f.single_turn_share, 3),
            'max_distinct_ratio': $max_distinct_ratio, 'min_top_share': $min_top_share,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
