-- id: c1879427-ea22-4777-941f-d1002c1d837d
-- name: new_model_pivot
-- title: New-model pivot within 24 hours of a release
-- status: experimental
-- level: high
-- description: Detects accounts and orgs, active before a model's release, that move a large
--   share of their traffic to the new model within the hours after its release, far faster than
--   the population's drift toward it.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (a campaign redirected nearly half its traffic to a new model within 24 hours of release)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Early adopters and model-comparison products that switch on release day (they need min_requests in the window to score)
-- falsepositives: Evaluation runners benchmarking the new model
-- portable: true
-- requires: model_releases
-- param: window_hours int 24 Hours after the release that are compared
-- param: before_hours int 168 Hours before the release in which the entity must already be active
-- param: min_requests int 100 Minimum requests of the entity in the window after the release
-- param: min_share float 0.3 Share of the window's traffic on the new model at or above which the entity is reported
-- param: min_lift float 3.0 The entity's share must be at least this multiple of the median existing account's
-- param: min_active_hours int 12 Distinct hours of the window with traffic on the new model (a benchmark burst has few)
-- param: full_share float 0.4 Share at which the score reaches 1
with windowed as (
    select r.account_id, r.org_id, r.request_id, r.ts, m.model as new_model, m.released_at,
           case when epoch(r.ts) >= epoch(m.released_at) then 1 else 0 end as after,
           case when r.model = m.model then 1 else 0 end as on_new
    from requests as r
    join model_releases as m
        on epoch(r.ts) >= epoch(m.released_at) - $before_hours * 3600
       and epoch(r.ts) < epoch(m.released_at) + $window_hours * 3600
),
keyed as (
    select 'account' as entity_type, account_id as entity_id, * from windowed
    union all
    select 'org' as entity_type, org_id as entity_id, * from windowed where org_id is not null
),
per_entity as (
    select entity_type, entity_id, new_model, min(released_at) as released_at,
           sum(1 - after) as before_requests, sum(after) as after_requests,
           sum(after * on_new) as new_requests,
           count(distinct case when after * on_new = 1 then date_trunc('hour', ts) end)
               as new_model_hours,
           min(case when after = 1 then ts end) as first_seen, max(ts) as last_seen
    from keyed
    group by entity_type, entity_id, new_model
),
population as (
    -- the typical existing account's drift: median share among accounts active before
    select new_model, median(new_requests * 1.0 / after_requests) as pop_share
    from per_entity
    where entity_type = 'account' and before_requests > 0 and after_requests > 0
    group by new_model
),
fired as (
    select e.*, e.new_requests * 1.0 / e.after_requests as share, p.pop_share
    from per_entity as e
    join population as p on p.new_model = e.new_model
    where e.before_requests > 0 and e.after_requests >= $min_requests
      and e.new_requests * 1.0 / e.after_requests >= $min_share
      and e.new_requests * 1.0 / e.after_requests >= $min_lift * p.pop_share
      and e.new_model_hours >= $min_active_hours
),
best as (
    select entity_type, entity_id, max(share) as share from fired group by entity_type, entity_id
),
examples as (
    select w.account_id, w.new_model, array_slice(array_agg(w.request_id), 1, 3) as request_ids
    from windowed as w
    where w.after = 1 and w.on_new = 1
      and w.account_id in (select entity_id from fired where entity_type = 'account')
    group by w.account_id, w.new_model
),
final as (
    select f.entity_type, f.entity_id, least(1.0, f.share / $full_share) as score,
           {'model': f.new_model, 'released_at': f.released_at,
            'requests_before': f.before_requests, 'requests_after': f.after_requests,
            'requests_on_new_model': f.new_requests, 'share_on_new_model': round(f.share, 3),
            'population_share': round(f.pop_share, 3), 'hours_on_new_model': f.new_model_hours, 'window_hours': $window_hours,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    join best as b on b.entity_type = f.entity_type and b.entity_id = f.entity_id
        and b.share = f.share
    left join examples as e on f.entity_type = 'account' and e.account_id = f.entity_id
        and e.new_model = f.new_model
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
