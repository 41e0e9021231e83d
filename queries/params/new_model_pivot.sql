-- id: c1879427-ea22-4777-941f-d1002c1d837d
-- name: new_model_pivot
-- title: New-model pivot within 24 hours of a release
-- status: experimental
-- level: high
-- description: Detects accounts and orgs among the busiest active before a model's release that,
--   within the hours after its release, move a large share of their traffic to the new model and
--   keep it there round the clock, far faster than the population's drift toward it. The share is
--   measured over window_hours from the entity's first use of the new model, so a pivot late in the
--   release day is measured as fully as an early one. A product that serves end users (and moves
--   them to the new model at once) keeps only part of its score.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (a campaign redirected nearly half its traffic to a new model within 24 hours of release)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Early adopters and busy products that switch on release day (reported only among the busiest 5 % before the release and at most medium unless among the busiest 1 %; they must also keep the new model busy for min_active_hours)
-- falsepositives: Evaluation runners benchmarking the new model (a burst covers few hours)
-- portable: true
-- requires: model_releases
-- param: window_hours int 24 The first use of the new model must fall within this many hours of its release; the share is measured over this many hours from that first use
-- param: before_hours int 168 Hours before the release in which the entity must already be active
-- param: min_requests int 100 Minimum requests of the entity in the measured window
-- param: min_share float 0.3 Share of the measured window's traffic on the new model at or above which the entity is reported
-- param: min_lift float 3.0 The entity's share must be at least this multiple of the median existing account's share in the window_hours after the release
-- param: min_active_hours int 12 Distinct hours of the measured window with traffic on the new model (a benchmark burst has few)
-- param: min_volume_rank float 0.95 Cumulative rank (cume_dist) of the entity's traffic before the release among entities of its kind active then, at or above which it is reported (the busiest 5 %)
-- param: full_volume_rank float 0.99 Rank at or above which the score can reach 1 (the busiest 1 %); below it the score is capped at 0.75 (one level lower)
-- param: full_share float 0.4 Share at which the score reaches 1
-- param: product_end_users float 0.2 Share of the measured window's requests declaring an end user at or above which the entity is a product serving users (a harvester serves no one)
-- param: product_discount float 0.5 Share of the score kept for such a product: an app that upgrades its users to the new model at once is no harvester
with windowed as (
    -- from a week before each release to twice the window after it (a late pivot's own window)
    select r.account_id, r.org_id, r.request_id, r.ts, r.end_user_id, m.model as new_model,
           m.released_at,
           case when epoch(r.ts) >= epoch(m.released_at) then 1 else 0 end as after,
           case when r.model = m.model then 1 else 0 end as on_new
    from requests as r
    join model_releases as m
        on epoch(r.ts) >= epoch(m.released_at) - $before_hours * 3600
       and epoch(r.ts) < epoch(m.released_at) + 2 * $window_hours * 3600
),
keyed as (
    select 'account' as entity_type, account_id as entity_id, * from windowed
    union all
    select 'org' as entity_type, org_id as entity_id, * from windowed where org_id is not null
),
onset as (
    -- when the entity first used the new model, if within window_hours of its release
    select entity_type, entity_id, new_model, min(released_at) as released_at,
           sum(1 - after) as before_requests,
           min(case when after * on_new = 1 then ts end) as onset_ts
    from keyed
    group by entity_type, entity_id, new_model
),
ranked as (
    -- how busy the entity was before the release, among entities of its type active then
    select o.*, cume_dist() over (partition by o.entity_type, o.new_model
                                  order by o.before_requests) as volume_rank
    from onset as o
    where o.before_requests > 0
),
moved as (
    select * from ranked
    where onset_ts is not null
      and epoch(onset_ts) < epoch(released_at) + $window_hours * 3600
),
per_entity as (
    -- traffic in the window_hours from the entity's first use of the new model
    select m.entity_type, m.entity_id, m.new_model, m.released_at, m.onset_ts, m.volume_rank,
           m.before_requests, count(*) as after_requests, sum(k.on_new) as new_requests,
           count(k.end_user_id) as end_user_requests,
           count(distinct case when k.on_new = 1 then date_trunc('hour', k.ts) end)
               as new_model_hours,
           min(k.ts) as first_seen, max(k.ts) as last_seen
    from moved as m
    join keyed as k
        on k.entity_type = m.entity_type and k.entity_id = m.entity_id
       and k.new_model = m.new_model
       and epoch(k.ts) >= epoch(m.onset_ts)
       and epoch(k.ts) < epoch(m.onset_ts) + $window_hours * 3600
    group by m.entity_type, m.entity_id, m.new_model, m.released_at, m.onset_ts, m.volume_rank,
             m.before_requests
),
population as (
    -- the typical existing account's drift: median share in the window after the release
    select new_model, median(new_requests * 1.0 / after_requests) as pop_share
    from (
        select entity_id, new_model, sum(after) as after_requests, sum(after * on_new) as new_requests
        from keyed
        where entity_type = 'account'
          and epoch(ts) < epoch(released_at) + $window_hours * 3600
        group by entity_id, new_model
        having sum(1 - after) > 0 and sum(after) > 0
    ) as p
    group by new_model
),
fired as (
    select e.*, e.new_requests * 1.0 / e.after_requests as share, p.pop_share
    from per_entity as e
    join population as p on p.new_model = e.new_model
    where e.after_requests >= $min_requests
      and e.new_requests * 1.0 / e.after_requests >= $min_share
      and e.new_requests * 1.0 / e.after_requests >= $min_lift * p.pop_share
      and e.new_model_hours >= $min_active_hours
      and e.volume_rank >= $min_volume_rank
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
    select f.entity_type, f.entity_id,
           least(1.0, f.share / $full_share)
               * case when f.volume_rank >= $full_volume_rank then 1.0 else 0.75 end
               * case when f.end_user_requests >= $product_end_users * f.after_requests
                      then $product_discount else 1.0 end as score,
           {'model': f.new_model, 'released_at': f.released_at,
            'first_use_of_new_model': f.onset_ts,
            'hours_to_first_use': round((epoch(f.onset_ts) - epoch(f.released_at)) / 3600.0, 1),
            'requests_before': f.before_requests, 'requests_after': f.after_requests,
            'requests_on_new_model': f.new_requests, 'share_on_new_model': round(f.share, 3),
            'population_share': round(f.pop_share, 3), 'hours_on_new_model': f.new_model_hours,
            'end_user_share': round(f.end_user_requests * 1.0 / f.after_requests, 3),
            'volume_rank_before': round(f.volume_rank, 3),
            'full_volume_rank': $full_volume_rank, 'window_hours': $window_hours,
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    join best as b on b.entity_type = f.entity_type and b.entity_id = f.entity_id
        and b.share = f.share
    left join examples as e on f.entity_type = 'account' and e.account_id = f.entity_id
        and e.new_model = f.new_model
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
