-- id: ca863575-461a-40bd-ab43-61a31100a2ab
-- name: capability_concentration
-- title: Capability concentration against the population's mix
-- status: experimental
-- level: medium
-- description: Detects accounts whose mix of capability families (coding, agentic, computer use,
--   data analysis, …) diverges sharply from the population's (Kullback-Leibler divergence), with
--   tool use raising the score, as when one capability is being harvested.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (campaigns targeting agentic reasoning, tool use, coding and computer use)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Agent products and single-purpose apps whose traffic is all one capability (hence level medium)
-- falsepositives: Enterprise pipelines doing only data extraction
-- portable: true
-- requires: features
-- param: min_requests int 50 Minimum requests with a capability for an account to be scored
-- param: min_kl float 0.8 KL divergence (nats) from the population's mix at or above which the account is reported
with labelled as (
    select r.account_id, r.request_id, r.ts, f.capability,
           case when coalesce(r.tool_count, 0) > 0 then 1 else 0 end as tools
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.capability is not null
),
population as (
    select capability, count(*) * 1.0 / (select count(*) from labelled) as q
    from labelled
    group by capability
),
per_cap as (
    select account_id, capability, count(*) as n from labelled group by account_id, capability
),
per_account as (
    select account_id, count(*) as requests, sum(tools) as tool_requests,
           min(ts) as first_seen, max(ts) as last_seen
    from labelled
    group by account_id
),
divergence as (
    select c.account_id, sum((c.n * 1.0 / a.requests) * ln((c.n * 1.0 / a.requests) / p.q)) as kl,
           max_by(c.capability, c.n) as top_capability, max(c.n) * 1.0 / max(a.requests) as top_share
    from per_cap as c
    join per_account as a on a.account_id = c.account_id
    join population as p on p.capability = c.capability
    group by c.account_id
),
fired as (
    select a.*, d.kl, d.top_capability, d.top_share, a.tool_requests * 1.0 / a.requests as tool_share
    from per_account as a
    join divergence as d on d.account_id = a.account_id
    where a.requests >= $min_requests and d.kl >= $min_kl
),
examples as (
    select account_id, array_slice(array_agg(request_id), 1, 3) as request_ids
    from labelled
    where account_id in (select account_id from fired)
    group by account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           least(1.0, f.kl / (2 * $min_kl)) * (0.5 + 0.5 * f.tool_share) as score,
           {'requests': f.requests, 'kl_divergence': round(f.kl, 3),
            'top_capability': f.top_capability, 'top_capability_share': round(f.top_share, 3),
            'tool_use_share': round(f.tool_share, 3), 'min_kl': $min_kl,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
