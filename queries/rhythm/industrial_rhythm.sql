-- id: e672e0a7-0740-4a89-8062-1da0ea4de76e
-- name: industrial_rhythm
-- title: Industrial rhythm: flat 24/7 activity with machine-regular inter-arrival times
-- status: experimental
-- level: medium
-- description: Detects accounts active evenly around the clock (hour-of-day entropy near its
--   maximum) with inter-arrival times far more regular than human sessions (low coefficient of
--   variation), the signature of scripted, load-balanced harvesting.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (synchronised, load-balanced traffic across accounts)
-- references: Google Threat Intelligence Group, report on adversarial misuse of AI and model extraction, Feb 2026
-- falsepositives: Enterprise batch pipelines and monitoring jobs that run around the clock (hence level medium)
-- falsepositives: Agent products serving users in every time zone
-- portable: true
-- param: min_requests int 200 Minimum requests for an account to be scored
-- param: min_entropy float 0.92 Hour-of-day entropy (normalised to 0..1 over 24 hours) at or above which activity counts as flat
-- param: max_cv float 1.0 Coefficient of variation of inter-arrival times at or below which timing counts as machine-regular
with hours as (
    select account_id, hour(ts) as hod, count(*) as n
    from requests
    group by account_id, hour(ts)
),
entropy as (
    select h.account_id, -sum((h.n * 1.0 / t.total) * ln(h.n * 1.0 / t.total)) / ln(24) as h_norm,
           count(*) as active_hours_of_day
    from hours as h
    join (select account_id, sum(n) as total from hours group by account_id) as t
        on t.account_id = h.account_id
    group by h.account_id
),
gaps as (
    select account_id, ts,
           epoch(ts) - lag(epoch(ts)) over (partition by account_id order by ts) as gap
    from requests
),
timing as (
    select account_id, count(*) as requests, avg(gap) as mean_gap,
           stddev_samp(gap) / nullif(avg(gap), 0) as cv, min(ts) as first_seen,
           max(ts) as last_seen
    from gaps
    group by account_id
),
fired as (
    select t.*, e.h_norm, e.active_hours_of_day
    from timing as t
    join entropy as e on e.account_id = t.account_id
    where t.requests >= $min_requests and e.h_norm >= $min_entropy and t.cv <= $max_cv
),
examples as (
    select account_id, array_slice(array_agg(request_id), 1, 3) as request_ids
    from requests
    where account_id in (select account_id from fired)
    group by account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           0.5 + 0.25 * least(1.0, (f.h_norm - $min_entropy) / (1.0 - $min_entropy))
               + 0.25 * greatest(0.0, 1.0 - f.cv / $max_cv) as score,
           {'requests': f.requests, 'hour_of_day_entropy': round(f.h_norm, 3),
            'active_hours_of_day': f.active_hours_of_day,
            'mean_gap_seconds': round(f.mean_gap, 1), 'gap_cv': round(f.cv, 3),
            'min_entropy': $min_entropy, 'max_cv': $max_cv,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
