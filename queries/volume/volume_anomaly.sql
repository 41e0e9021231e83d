-- id: 8863988f-012a-483d-9899-1b6f49af03db
-- name: volume_anomaly
-- title: Volume anomaly against peers
-- status: experimental
-- level: medium
-- description: Detects accounts whose requests or tokens per active day sit far above those of
--   peer accounts of similar age and sign-up path, by a robust z-score (median and MAD).
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (millions of exchanges through thousands of fraudulent accounts)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- references: Rousseeuw and Croux, "Alternatives to the median absolute deviation", JASA 1993
-- falsepositives: Enterprise batch pipelines and other heavy but genuine customers (this is why the level is medium)
-- falsepositives: A new product launch by a genuine customer
-- portable: true
-- param: min_z float 6.0 Robust z-score at which an account is reported (score 0.5 there, 1.0 at twice it)
-- param: min_requests int 100 Minimum requests for an account to be scored
-- param: min_peers int 5 Peer groups smaller than this are replaced by the whole population
with daily as (
    select account_id, cast(ts as date) as day, count(*) as n,
           sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as tokens,
           min(ts) as first_seen, max(ts) as last_seen
    from requests
    group by account_id, cast(ts as date)
),
per_account as (
    select account_id, avg(n) as req_per_day, avg(tokens) as tok_per_day, count(*) as days,
           sum(n) as requests, min(first_seen) as first_seen, max(last_seen) as last_seen
    from daily
    group by account_id
),
peers as (
    select p.*,
           coalesce(a.signup_path, 'unknown') || ':' || case
               when a.created_at is null then 'age_unknown'
               when date_diff('day', a.created_at, p.first_seen) < 7 then 'age_lt_7d'
               when date_diff('day', a.created_at, p.first_seen) < 30 then 'age_lt_30d'
               when date_diff('day', a.created_at, p.first_seen) < 180 then 'age_lt_180d'
               else 'age_180d_plus' end as peer_group
    from per_account as p
    left join accounts as a on a.account_id = p.account_id
),
membership as (
    select account_id, peer_group as grp, req_per_day, tok_per_day from peers
    union all
    select account_id, 'all' as grp, req_per_day, tok_per_day from peers
),
medians as (
    select grp, count(*) as members, median(req_per_day) as med_req,
           median(tok_per_day) as med_tok
    from membership
    group by grp
),
mads as (
    select m.grp, median(abs(m.req_per_day - d.med_req)) as mad_req,
           median(abs(m.tok_per_day - d.med_tok)) as mad_tok
    from membership as m
    join medians as d on d.grp = m.grp
    group by m.grp
),
stats as (
    select d.grp, d.members, d.med_req, d.med_tok,
           greatest(1.4826 * s.mad_req, 0.5 * d.med_req, 1.0) as scale_req,
           greatest(1.4826 * s.mad_tok, 0.5 * d.med_tok, 1.0) as scale_tok
    from medians as d
    join mads as s on s.grp = d.grp
),
scored as (
    select p.*, s.grp, s.members, s.med_req, s.med_tok,
           (p.req_per_day - s.med_req) / s.scale_req as z_req,
           (p.tok_per_day - s.med_tok) / s.scale_tok as z_tok
    from peers as p
    join medians as g on g.grp = p.peer_group
    join stats as s on s.grp = case when g.members >= $min_peers then p.peer_group else 'all' end
    where p.requests >= $min_requests
),
fired as (
    select *, greatest(z_req, z_tok) as z from scored where greatest(z_req, z_tok) >= $min_z
),
examples as (
    select account_id, array_slice(array_agg(request_id), 1, 3) as request_ids
    from requests
    where account_id in (select account_id from fired)
    group by account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           least(1.0, f.z / (2 * $min_z)) as score,
           {'requests': f.requests, 'active_days': f.days,
            'requests_per_day': round(f.req_per_day, 1), 'tokens_per_day': round(f.tok_per_day, 1),
            'peer_group': f.grp, 'peers': f.members,
            'peer_median_requests_per_day': f.med_req, 'peer_median_tokens_per_day': f.med_tok,
            'z_requests': round(f.z_req, 2), 'z_tokens': round(f.z_tok, 2), 'min_z': $min_z,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
