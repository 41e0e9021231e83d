-- id: c29fedd5-96fa-42d7-94fb-d3440c90dadc
-- name: cohort_harvest
-- title: Harvesting prompts pooled over a cohort
-- status: experimental
-- level: high
-- description: Detects cohorts of shared control (a linking community, an org, a card, an exit
--   prefix, a sign-up burst) whose pooled traffic carries harvesting prompts (chain-of-thought
--   elicitation, trace coercion, sensitive rewrites; grading rubrics are counted but do not
--   qualify, as every LLM-as-judge pipeline sends them) far more often than the population's,
--   tested as a binomial excess over the population's rate, persistently, when most members
--   take part: an operation that keeps every account below the per-account thresholds, or
--   mixes ordinary chat in as camouflage, still shows as a group.
-- entity: cohort
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (hydra networks mixing distillation traffic with unrelated requests)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: A classroom whose homework asks for worked solutions (a modest excess; homework prompts rarely ask for the reasoning itself)
-- falsepositives: An evaluation team's accounts running chain-of-thought suites (benchmarks repeat; their prompts are few)
-- portable: true
-- requires: cohorts, features
-- param: min_members int 3 Members that send prompts a cohort needs
-- param: min_flagged int 20 Harvesting requests the cohort must hold
-- param: min_z float 5.0 Binomial z-score of the excess over the population's rate (many cohorts are tested, so the bar is high)
-- param: min_lift float 3.0 The cohort's share must be at least this multiple of the population's
-- param: full_share float 0.3 Pooled harvesting share at which the share part of the score reaches 1
-- param: min_participation float 0.5 Share of the members with prompts that must each send harvesting prompts at twice the population's rate or more
-- param: full_hours int 24 Mean active hours per member at which persistence is full (a benchmark team's runs are bursts)
-- param: trim_share float 0.25 The most flagged accounts (this share) are left out of the population's rate (campaign accounts can be a fifth of all)
with ranked as (
    select account_id, text_requests, cot_n + sensitive_n + coercion_n as harvest_n,
           percent_rank() over (order by (cot_n + sensitive_n + coercion_n) * 1.0
                                         / greatest(text_requests, 1)) as share_rank
    from account_profiles
    where text_requests > 0
),
pop as (
    -- the population's rate, the most flagged accounts left out so that the harvesters being
    -- looked for do not raise the bar they are measured against
    select greatest(sum(harvest_n) * 1.0 / greatest(sum(text_requests), 1), 0.001) as p0
    from ranked
    where share_rank <= 1 - $trim_share
),
m as (
    select c.cohort_id, c.kind, c.value, p.account_id, p.text_requests,
           p.cot_n + p.sensitive_n + p.coercion_n as harvest_n, p.harvest_distinct,
           p.active_hours,
           p.cot_n, p.rubric_n, p.sensitive_n, p.coercion_n, p.first_seen, p.last_seen
    from cohorts as c
    join account_profiles as p using (account_id)
    -- cohorts of shared control: many teams run one public harness or SDK (a client or tool
    -- set), and pooling their benchmark prompts says nothing about any of them
    where p.text_requests > 0 and c.kind in ('community', 'org', 'payment', 'ip_prefix', 'signup')
),
pooled as (
    select m.cohort_id, any_value(m.kind) as kind, any_value(m.value) as value,
           count(*) as members, sum(m.text_requests) as n, sum(m.harvest_n) as k,
           sum(m.harvest_distinct) as k_distinct, avg(m.active_hours) as hours,
           sum(m.cot_n) as cot, sum(m.rubric_n) as rubric, sum(m.sensitive_n) as sensitive,
           sum(m.coercion_n) as coercion, min(m.first_seen) as first_seen,
           max(m.last_seen) as last_seen, any_value(p.p0) as p0,
           count(*) filter (where m.harvest_n > 0
                              and m.harvest_n >= 2 * p.p0 * m.text_requests) as taking_part,
           list(m.account_id order by m.account_id)
               filter (where m.harvest_n > 0 and m.harvest_n >= 2 * p.p0 * m.text_requests)
               as members_taking_part
    from m
    cross join pop as p
    group by m.cohort_id
    having count(*) >= $min_members
),
tested as (
    select *, k * 1.0 / n as share,
           (k - n * p0) / sqrt(n * p0 * (1 - p0)) as z
    from pooled
    where k >= $min_flagged
),
final as (
    select 'cohort' as entity_type, cohort_id as entity_id,
           round(least(1.0, (share - p0) / greatest($full_share - p0, 0.01))
                 * least(1.0, taking_part * 1.0 / members / 0.8)
                 * least(1.0, hours / $full_hours), 4) as score,
           {'kind': kind, 'value': value, 'members_with_prompts': members,
            'requests_with_prompts': n, 'harvesting_requests': k, 'share': round(share, 4),
            'population_share': round(p0, 4), 'lift': round(share / p0, 1), 'z': round(z, 1),
            'cot': cot, 'rubric': rubric, 'sensitive': sensitive, 'coercion': coercion,
            'distinct_harvesting_prompts': k_distinct, 'mean_active_hours': round(hours, 1),
            'taking_part': taking_part, 'members': members_taking_part} as evidence,
           first_seen, last_seen
    from tested
    where z >= $min_z and share >= $min_lift * p0
      and taking_part >= greatest(3, $min_participation * members)
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
