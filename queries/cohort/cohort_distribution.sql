-- id: 36eac5e1-f73e-466a-baee-6742af8a3309
-- name: cohort_distribution
-- title: A cohort's pooled prompts unlike the population's (calibrated MMD)
-- status: experimental
-- level: medium
-- description: Detects cohorts whose pooled prompt sample (spread over the members) differs from
--   the population more than population-vs-population samples of the same size and more than
--   nearly all other cohorts: an operation whose accounts each mix harvesting with ordinary chat
--   still shifts the group's distribution. Generic: it only adds to other evidence.
-- entity: cohort
-- tags: atlas.aml.t0024.002
-- references: arXiv 2606.05725, distribution-shift detection of distillation traffic with MMD
-- references: Gretton et al., "A Kernel Two-Sample Test", JMLR 2012
-- falsepositives: An enterprise's or a benchmark team's accounts (one template or benchmark)
-- portable: false, reads distribution_tests, which workbench.distribution computes on the case
-- requires: cohorts, features, distribution
-- param: max_p float 0.01 The cohort's MMD must exceed all but this share of population-vs-population draws
-- param: min_percentile float 0.9 ...and that of this share of cohorts with samples of about its size
with tests as (
    select entity_id, n, mmd2, null_q99, p_value, percentile
    from distribution_tests
    where entity_type = 'cohort'
),
members as (
    select c.cohort_id, any_value(c.kind) as kind, any_value(c.value) as value,
           list(c.account_id order by c.account_id) as members,
           min(p.first_seen) as first_seen, max(p.last_seen) as last_seen
    from cohorts as c
    join account_profiles as p using (account_id)
    where p.text_requests > 0
    group by c.cohort_id
),
final as (
    select 'cohort' as entity_type, t.entity_id,
           round((t.percentile - $min_percentile) / (1 - $min_percentile), 4) as score,
           {'kind': m.kind, 'value': m.value, 'sample': t.n, 'mmd2': round(t.mmd2, 5),
            'null_q99': round(t.null_q99, 5), 'p_value': round(t.p_value, 4),
            'percentile': round(t.percentile, 3), 'members': m.members} as evidence,
           m.first_seen, m.last_seen
    from tests as t
    join members as m on m.cohort_id = t.entity_id
    where t.p_value <= $max_p and t.percentile > $min_percentile
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
