-- id: 18c744f8-332c-48aa-984b-34b0dfc29b84
-- name: cohort_consensus
-- title: A cohort whose members harvest alike
-- status: experimental
-- level: medium
-- description: Detects cohorts of shared control (a card, an exit prefix, a sign-up burst, an
--   org, a linking community) most of whose members carry the same harvesting-specific finding
--   of their own (logit probing, chain-of-thought elicitation, trace coercion, ...): accounts
--   that share a card or an exit and each harvest the same way are one operation, however thin
--   the links between them. It adds no evidence to its members' own; it ties them together.
-- entity: cohort
-- tags: atlas.aml.t0024.002, atlas.aml.t0021
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (synchronised accounts with shared payment methods)
-- falsepositives: Two unrelated harvesters behind one large exit (the cohort's size bound and the majority rule keep most such pairs apart)
-- portable: true
-- requires: cohorts
-- param: min_members int 3 Members of the cohort that carry the finding
-- param: min_share float 0.5 Share of the cohort's members with traffic that carry it
-- param: min_score float 0.5 Score of a member's own finding that counts
with latest as (
    select detector, arg_max(run_id, ran_at) as run_id from findings group by detector
),
flagged as (
    select f.entity_id as account_id, f.detector, max(f.score) as score
    from findings as f
    join latest as l using (detector, run_id)
    where f.entity_type = 'account' and f.score >= $min_score
      and f.detector in ('cot_elicitation', 'sensitive_rewrite', 'reasoning_coercion',
                         'logit_probing', 'new_model_pivot', 'output_harvesting',
                         'agentic_harvesting', 'industrial_rhythm')
    group by f.entity_id, f.detector
),
m as (
    select c.cohort_id, c.kind, c.value, c.account_id
    from cohorts as c
    join account_profiles as p using (account_id)
    where c.kind in ('community', 'org', 'payment', 'ip_prefix', 'signup')
),
sizes as (
    select cohort_id, any_value(kind) as kind, any_value(value) as value, count(*) as n
    from m group by cohort_id
),
agree as (
    select m.cohort_id, f.detector, count(*) as k, avg(f.score) as mean_score,
           list(m.account_id order by m.account_id) as members
    from m join flagged as f using (account_id)
    group by m.cohort_id, f.detector
),
best as (
    select a.*, s.kind, s.value, s.n
    from agree as a join sizes as s using (cohort_id)
    where a.k >= $min_members and a.k >= $min_share * s.n
    qualify row_number() over (partition by a.cohort_id order by a.k desc, a.detector) = 1
),
seen as (
    select b.cohort_id, min(p.first_seen) as first_seen, max(p.last_seen) as last_seen
    from best as b, unnest(b.members) as u(account_id)
    join account_profiles as p on p.account_id = u.account_id
    group by b.cohort_id
),
final as (
    select 'cohort' as entity_type, b.cohort_id as entity_id,
           round(least(1.0, b.k * 1.0 / b.n / 0.8) * b.mean_score, 4) as score,
           {'kind': b.kind, 'value': b.value, 'members_with_traffic': b.n,
            'detector': b.detector, 'members_with_it': b.k,
            'mean_score': round(b.mean_score, 3), 'members': b.members} as evidence,
           s.first_seen, s.last_seen
    from best as b
    join seen as s using (cohort_id)
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
