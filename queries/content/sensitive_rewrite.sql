-- id: 6a268e81-0fe3-47ca-8ed8-f8bd99af6042
-- name: sensitive_rewrite
-- title: Sensitive-topic rewrite share
-- status: experimental
-- level: high
-- description: Detects accounts that repeatedly ask for politically sensitive questions to be rewritten into
--   'safe' alternatives, collecting censorship-aligned training data.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (censorship-safe alternatives to politically sensitive queries)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Content-moderation and policy teams testing their own filters
-- falsepositives: Journalists and researchers studying censorship
-- portable: true
-- requires: features
-- param: min_requests int 20 Minimum requests with text features for an account to be scored
-- param: min_flagged int 10 Minimum flagged requests
-- param: min_share float 0.1 Share of flagged requests at or above which the account is reported
-- param: full_share float 0.3 Share at which the share part of the score reaches 1
-- param: full_hours int 48 Distinct active hours at which persistence is full (a harvest runs round the clock for days; a benchmark run is a burst, and scores in proportion)
with per_account as (
    select r.account_id, count(*) as requests,
           sum(case when f.sensitive_flag then 1 else 0 end) as flagged,
           count(distinct case when f.sensitive_flag then hash(coalesce(r.prompt_text, r.request_id)) end)
               as distinct_flagged,
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
),
examples as (
    select r.account_id, array_slice(array_agg(r.request_id), 1, 3) as request_ids
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.sensitive_flag and r.account_id in (select account_id from fired)
    group by r.account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           least(1.0, f.share / $full_share)
               * least(1.0, f.active_hours * 1.0 / $full_hours) as score,
           {'requests': f.requests, 'flagged': f.flagged, 'share': round(f.share, 3),
            'distinct_flagged': f.distinct_flagged,
            'active_hours': f.active_hours, 'min_share': $min_share,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
