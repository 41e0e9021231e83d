-- id: ab29b17a-3e0f-4a4d-a8de-7e6bfadbddbe
-- name: cohort_reasoning_output
-- title: Long reasoning outputs pooled over a cohort
-- status: experimental
-- level: high
-- description: Detects cohorts whose pooled traffic asks for long reasoning outputs (extended
--   thinking or a reasoning effort, thinking budgets or max_tokens of 8,000 and more, reasoning
--   tokens returned, outputs longer than nine in ten of the case's) far more often than the
--   population, persistently and with most members
--   taking part: harvesting reasoning needs the longest traces the model gives, hour after hour.
--   It needs no prompt text, so it works on metadata-only logs.
-- entity: cohort
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (maximising reasoning output per request)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: A research team's accounts running long-reasoning workloads all day
-- falsepositives: Evaluation runners testing reasoning models (bursts: their persistence is low)
-- portable: true
-- requires: cohorts
-- param: min_members int 3 Members with traffic a cohort needs
-- param: min_requests int 50 Requests the cohort must hold
-- param: min_z float 5.0 Binomial z-score of the excess over the population's rate
-- param: min_lift float 2.0 The cohort's share must be at least this multiple of the population's (the same bar as each member's part; at 3 a population asking for long reasoning in a third of its requests would hide every cohort, and reasoning models make that share grow)
-- param: min_share float 0.5 Pooled share of long-reasoning requests at or above which the cohort is reported
-- param: min_participation float 0.5 Share of the members that must each ask for long reasoning at twice the population's rate or more
-- param: member_share float 0.5 A member takes part when its own share is at least this fraction of the cohort's pooled share (and twice the population's): a few heavy members can carry a pool, and a common client's bystanders must not ride on it
-- param: full_hours int 24 Mean active hours per member at which persistence is full (benchmark bursts have few)
-- param: trim_share float 0.25 The accounts asking most often (this share) are left out of the population's rate (campaign accounts can be a fifth of all)
with ranked as (
    select account_id, requests, greatest(thinking_n, long_output_n) as long_n,
           percent_rank() over (order by greatest(thinking_n, long_output_n) * 1.0 / requests)
               as share_rank
    from account_profiles
    where requests > 0
),
pop as (
    select greatest(sum(long_n) * 1.0 / greatest(sum(requests), 1), 0.001) as p0
    from ranked
    where share_rank <= 1 - $trim_share
),
m as (
    select *,
           long_n > 0 and long_n >= greatest(2 * p0, $member_share * cohort_share) * requests
               as takes_part
    from (
        select c.cohort_id, c.kind, c.value, p.account_id, p.requests, p.active_hours,
               greatest(p.thinking_n, p.long_output_n) as long_n, p.reasoning_tokens,
               p.output_tokens, p.first_seen, p.last_seen, pop.p0,
               sum(greatest(p.thinking_n, p.long_output_n)) over (partition by c.cohort_id)
                   * 1.0 / sum(p.requests) over (partition by c.cohort_id) as cohort_share
        from cohorts as c
        join account_profiles as p using (account_id)
        cross join pop
        where p.requests > 0
    )
),
pooled as (
    select cohort_id, any_value(kind) as kind, any_value(value) as value,
           count(*) as members, sum(requests) as n, sum(long_n) as k,
           avg(active_hours) as hours, sum(reasoning_tokens) as reasoning_tokens,
           sum(output_tokens) as output_tokens, min(first_seen) as first_seen,
           max(last_seen) as last_seen, any_value(p0) as p0,
           count(*) filter (where takes_part) as taking_part,
           list(account_id order by account_id) filter (where takes_part) as part
    from m
    group by cohort_id
    having count(*) >= $min_members and sum(requests) >= $min_requests
),
tested as (
    select *, k * 1.0 / n as share, (k - n * p0) / sqrt(n * p0 * (1 - p0)) as z
    from pooled
),
final as (
    select 'cohort' as entity_type, cohort_id as entity_id,
           round(least(1.0, share) * least(1.0, hours / $full_hours)
                 * least(1.0, taking_part * 1.0 / members / 0.8), 4) as score,
           {'kind': kind, 'value': value, 'members_with_traffic': members, 'requests': n,
            'long_reasoning_requests': k, 'share': round(share, 4),
            'population_share': round(p0, 4), 'lift': round(share / p0, 1), 'z': round(z, 1),
            'mean_active_hours': round(hours, 1), 'reasoning_tokens': reasoning_tokens,
            'output_tokens': output_tokens, 'taking_part': taking_part, 'members': part}
               as evidence,
           first_seen, last_seen
    from tested
    where z >= $min_z and share >= $min_lift * p0 and share >= $min_share
      and taking_part >= greatest(3, $min_participation * members)
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
