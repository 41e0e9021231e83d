-- id: 3dc43bf4-2aa1-4cb2-bec4-b6a3c08d5383
-- name: prompt_distribution
-- title: Prompt distribution unlike the population's (calibrated MMD)
-- status: experimental
-- level: medium
-- description: Detects accounts whose sampled prompts differ from the case's population more
--   than population-vs-population samples of the same size do (MMD of sentence embeddings,
--   after arXiv 2606.05725), and more than nearly all other accounts with samples of that size.
--   Generic: one-template pipelines and benchmark runners differ most of all, so it only adds
--   to other evidence.
-- entity: account
-- tags: atlas.aml.t0024.002
-- references: arXiv 2606.05725, distribution-shift detection of distillation traffic with MMD
-- references: Gretton et al., "A Kernel Two-Sample Test", JMLR 2012
-- falsepositives: Enterprise batch pipelines and evaluation runners (one template or benchmark: the most unusual distributions of all)
-- falsepositives: Single-purpose products (a translation or support bot)
-- portable: false, reads distribution_tests, which workbench.distribution computes on the case
-- requires: features, distribution
-- param: max_p float 0.01 The account's MMD must exceed all but this share of population-vs-population draws
-- param: min_percentile float 0.9 ...and that of this share of accounts with samples of about its size
with tests as (
    select entity_id, n, mmd2, null_q99, p_value, percentile
    from distribution_tests
    where entity_type = 'account'
),
seen as (
    select account_id, min(ts) as first_seen, max(ts) as last_seen
    from requests
    where account_id in (select entity_id from tests)
    group by account_id
),
final as (
    select 'account' as entity_type, t.entity_id,
           round((t.percentile - $min_percentile) / (1 - $min_percentile), 4) as score,
           {'sample': t.n, 'mmd2': round(t.mmd2, 5), 'null_q99': round(t.null_q99, 5),
            'p_value': round(t.p_value, 4), 'percentile': round(t.percentile, 3)} as evidence,
           s.first_seen, s.last_seen
    from tests as t
    left join seen as s on s.account_id = t.entity_id
    where t.p_value <= $max_p and t.percentile > $min_percentile
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
