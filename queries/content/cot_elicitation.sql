-- id: 4a226446-f253-4d64-8c04-63e0b250e972
-- name: cot_elicitation
-- title: Chain-of-thought elicitation share
-- status: experimental
-- level: high
-- description: Detects accounts a large share of whose prompts ask the model to articulate its internal
--   reasoning step by step behind a completed answer, harvesting reasoning traces as training data.
--   The flagged prompts must be mostly new items: what it leaves unseen is a harvester asking each
--   item ten times or more (best-of-n sampling), whose long outputs cohort_reasoning_output still sees.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (prompts asking to imagine and articulate the internal reasoning behind a completed response)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Evaluation runners with step-by-step benchmark prompts (a rerun of a fixed suite asks the same items again, held by min_novelty; a one-off run is a burst, damped by persistence)
-- falsepositives: Tutoring and education products that ask for worked solutions
-- portable: true
-- requires: features
-- param: min_requests int 20 Minimum requests with text features for an account to be scored
-- param: min_flagged int 10 Minimum flagged requests
-- param: min_share float 0.3 Share of flagged requests at or above which the account is reported
-- param: full_share float 0.6 Share at which the share part of the score reaches 1
-- param: full_hours int 48 Distinct active hours at which persistence is full (a harvest runs round the clock for days; a benchmark run is a burst, and scores in proportion)
-- param: min_novelty float 0.1 Distinct items (template_id, the hash of prompt_norm, which masks names and numbers) per flagged request at or above which the account is reported: a benchmark rerun asks its fixed items again, a harvest needs new ones
with per_account as (
    select r.account_id, count(*) as requests,
           sum(case when f.cot_flag then 1 else 0 end) as flagged,
           count(distinct case when f.cot_flag then hash(coalesce(r.prompt_text, r.request_id)) end)
               as distinct_flagged,
           count(distinct case when f.cot_flag then f.template_id end) as distinct_items,
           count(distinct date_trunc('hour', r.ts)) as active_hours,
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
      and distinct_items >= $min_novelty * flagged
),
examples as (
    select r.account_id, array_slice(array_agg(r.request_id), 1, 3) as request_ids
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.cot_flag and r.account_id in (select account_id from fired)
    group by r.account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           least(1.0, f.share / $full_share)
               * least(1.0, f.active_hours * 1.0 / $full_hours) as score,
           {'requests': f.requests, 'flagged': f.flagged, 'share': round(f.share, 3),
            'distinct_flagged': f.distinct_flagged, 'distinct_items': f.distinct_items,
            'novelty': round(f.distinct_items * 1.0 / f.flagged, 3),
            'active_hours': f.active_hours, 'min_share': $min_share,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
