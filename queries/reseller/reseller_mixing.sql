-- id: 24e091cd-9721-4644-8677-e33a7528e6a1
-- name: reseller_mixing
-- title: Reseller or proxy mixing harvesting traffic with genuine customers
-- status: experimental
-- level: high
-- description: Detects organisations that serve many end users or system prompts (a reseller,
--   gateway or proxy) of which a subset sends harvesting traffic: chain-of-thought elicitation,
--   rubric grading, reasoning-trace coercion, sensitive-topic rewrites or logit probing.
-- entity: org
-- tags: atlas.aml.t0024.002, atlas.aml.t0040, atlas.aml.t0008
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (hydra proxy networks mixing distillation with genuine customer traffic)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Genuine resellers one of whose customers runs step-by-step evaluations (needs min_flagged and min_share)
-- portable: true
-- param: min_end_users int 20 End users (or system prompts) an org must serve to count as a reseller
-- param: min_harvest_users int 2 End users with harvesting requests an org needs to be reported
-- param: min_flagged int 20 Harvesting requests an org needs to be reported
-- param: min_share float 0.05 Share of the org's requests that carry harvesting signals
-- param: full_share float 0.3 Share at which the score reaches 1
with per_request as (
    select r.org_id, r.request_id, r.ts,
           coalesce(r.end_user_id, 'system:' || r.system_hash, 'account:' || r.account_id) as user_key,
           case when coalesce(f.cot_flag, false) or coalesce(f.rubric_flag, false)
                  or coalesce(f.coercion_flag, false) or coalesce(f.sensitive_flag, false)
                  or (coalesce(r.logprobs, false) and coalesce(r.logit_bias_n, 0) > 0)
                then 1 else 0 end as harvest
    from requests as r
    left join features as f on f.request_id = r.request_id
    where r.org_id is not null
),
per_user as (
    select org_id, user_key, count(*) as requests, sum(harvest) as harvest_requests
    from per_request
    group by org_id, user_key
),
per_org as (
    select org_id, count(*) as end_users, sum(requests) as requests,
           sum(case when harvest_requests > 0 then 1 else 0 end) as harvest_users,
           sum(harvest_requests) as harvest_requests
    from per_user
    group by org_id
),
fired as (
    select *, harvest_requests * 1.0 / requests as share
    from per_org
    where end_users >= $min_end_users and harvest_users >= $min_harvest_users
      and harvest_requests >= $min_flagged and harvest_requests * 1.0 / requests >= $min_share
),
span as (
    select org_id, min(ts) as first_seen, max(ts) as last_seen,
           array_slice(array_agg(case when harvest = 1 then request_id end), 1, 3) as request_ids
    from per_request
    where org_id in (select org_id from fired)
    group by org_id
),
final as (
    select 'org' as entity_type, f.org_id as entity_id,
           least(1.0, f.share / $full_share) as score,
           {'end_users': f.end_users, 'requests': f.requests,
            'harvesting_end_users': f.harvest_users, 'harvesting_requests': f.harvest_requests,
            'harvesting_share_of_requests': round(f.share, 3),
            'min_end_users': $min_end_users, 'example_request_ids': s.request_ids} as evidence,
           s.first_seen, s.last_seen
    from fired as f
    join span as s on s.org_id = f.org_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
