-- id: 5f49a4cd-164d-4de5-baab-3d6ce2495160
-- name: cohort_churn
-- title: Ban-and-replace churn in a cohort
-- status: experimental
-- level: high
-- description: Detects cohorts (a linking community, or accounts sharing a payment method, an IP
--   prefix, a client, an org or a sign-up day) whose accounts each work hard for a short part of
--   the cohort's life and are replaced as others stop: many accounts per concurrently active
--   seat, most of them short-lived, born right after another member's last request more often
--   than chance gives (and, more so, in waves).
--   This is how an operation must behave when its accounts are banned ("when one account is
--   banned, a new one takes its place"); it needs no prompt text.
-- entity: cohort
-- tags: atlas.aml.t0021, atlas.aml.t0024.002
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (hydra cluster architectures: when one account is banned, a new one takes its place)
-- references: Google Threat Intelligence, distillation and model extraction report, Feb 2026 (rotating accounts to keep extraction going)
-- falsepositives: A team rotating free-trial accounts by hand (rarely within hours of each other's end)
-- falsepositives: A hackathon's accounts, signed up together and dropped together (no replacement, so no finding)
-- falsepositives: A classroom's accounts that stop at the end of a course (long-lived, so their turnover stays near one)
-- portable: true
-- requires: cohorts
-- param: min_members int 4 Members with traffic a cohort needs
-- param: short_share float 0.3 A member is short-lived when active for less than this share of the cohort's span
-- param: min_turnover float 2.0 Members per concurrently active seat (members x span / summed lifetimes) at which churn starts to count
-- param: full_turnover float 4.0 Turnover at which the churn part of the score reaches 1
-- param: wave_hours int 6 Members born within this many hours of two other members were born in a wave
-- param: replace_hours int 6 A member born within this many hours after another member's last request replaced it
-- param: min_short int 3 Short-lived members a cohort needs
with pop as (
    -- how hard an ordinary account works: the median of requests per active day
    select median(requests * 1.0 / greatest(active_days, 1)) as per_day,
           max(last_seen) as case_end
    from account_profiles
),
m as (
    select c.cohort_id, c.kind, c.value, p.account_id, p.first_seen, p.last_seen, p.requests,
           p.active_days,
           greatest(epoch(p.last_seen) - epoch(p.first_seen), 3600.0) as life_s
    from cohorts as c
    join account_profiles as p using (account_id)
),
span as (
    select cohort_id, count(*) as n, min(first_seen) as c0, max(last_seen) as c1,
           greatest(epoch(max(last_seen)) - epoch(min(first_seen)), 3600.0) as span_s,
           sum(life_s) as life_sum
    from m
    group by cohort_id
    having count(*) >= $min_members
),
member as (
    select m.*, s.n, s.span_s,
           m.life_s < $short_share * s.span_s as short_lived,
           -- a seat works at least as hard as the median customer while it lives
           m.requests * 1.0 / greatest(m.active_days, 1) >= p.per_day as busy,
           count(*) over (partition by m.cohort_id order by epoch(m.first_seen)
                          range between $wave_hours * 3600 preceding
                                    and $wave_hours * 3600 following) - 1 as born_near
    from m
    join span as s using (cohort_id)
    cross join pop as p
),
events as (
    -- births and deaths of one cohort on one clock; a birth after a death sorts after it
    select cohort_id, account_id, epoch(first_seen) as t, 1 as birth from member
    union all
    select cohort_id, account_id, epoch(last_seen) as t, 0 as birth from member
    where last_seen < (select case_end from pop) - interval 1 day
),
ordered as (
    select *, max(case when birth = 0 then t end) over (
               partition by cohort_id order by t, birth
               rows between unbounded preceding and 1 preceding) as last_death
    from events
),
deaths as (
    select cohort_id, t, lead(t) over (partition by cohort_id order by t) as next_t
    from events
    where birth = 0
),
windows as (
    -- how much of the span lies within replace_hours after some death: what chance alone
    -- gives a birth that is unrelated to the deaths
    select cohort_id,
           sum(least($replace_hours * 3600.0, coalesce(next_t - t, $replace_hours * 3600.0)))
               as window_s
    from deaths
    group by cohort_id
),
replaced as (
    select o.cohort_id,
           count(*) filter (where o.birth = 1 and o.t - o.last_death <= $replace_hours * 3600)
               as replacements,
           count(*) filter (where o.birth = 1) as births,
           coalesce(any_value(w.window_s), 0) as window_s
    from ordered as o
    left join windows as w using (cohort_id)
    group by o.cohort_id
),
scored as (
    select s.cohort_id, any_value(mb.kind) as kind, any_value(mb.value) as value, s.n,
           s.c0, s.c1, s.span_s,
           s.n * s.span_s / s.life_sum as turnover,
           avg(case when mb.short_lived and mb.busy then 1.0 else 0.0 end) as short_share,
           count(*) filter (where mb.short_lived and mb.busy) as short_n,
           avg(case when mb.born_near >= 2 then 1.0 else 0.0 end) as wave_share,
           any_value(r.replacements) as replacements, any_value(r.births) as births,
           least(1.0, any_value(r.window_s) / s.span_s) as chance,
           list(mb.account_id order by mb.first_seen, mb.account_id)
               filter (where mb.short_lived and mb.busy) as members
    from span as s
    join member as mb using (cohort_id)
    left join replaced as r using (cohort_id)
    group by s.cohort_id, s.n, s.c0, s.c1, s.span_s, s.life_sum
),
parts as (
    select *,
           least(1.0, greatest(0.0, (turnover - $min_turnover + 1)
                                    / ($full_turnover - $min_turnover + 1))) as churn_part,
           -- replacement beyond chance: births right after a death, minus what uniform births
           -- would give, as a share of births
           greatest(0.0, replacements * 1.0 / greatest(births, 1) - chance) as replace_excess
    from scored
    where turnover >= $min_turnover and short_n >= $min_short
),
final as (
    select 'cohort' as entity_type, cohort_id as entity_id,
           -- replacement beyond chance is the core (a one-off burst of short-lived accounts,
           -- a hackathon, replaces no one); born in waves adds to it
           round(churn_part * least(1.0, short_share / 0.5) * least(1.0, 2 * replace_excess)
                 * (0.5 + 0.5 * wave_share), 4) as score,
           {'kind': kind, 'value': value, 'members_with_traffic': n,
            'turnover': round(turnover, 2), 'short_lived_busy_share': round(short_share, 3),
            'wave_born_share': round(wave_share, 3), 'replacements': replacements,
            'births': births, 'replacement_by_chance': round(chance, 3),
            'span_days': round(span_s / 86400, 1), 'members': members} as evidence,
           c0 as first_seen, c1 as last_seen
    from parts
    where churn_part * replace_excess > 0
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
