-- id: dd82203b-840e-430c-8e22-c9d7fe77b320
-- name: lockstep_templates
-- title: Lockstep template use (after CopyCatch)
-- status: experimental
-- level: high
-- description: Detects accounts that start using the same rare templates as other accounts within
--   a few minutes of them, template after template, as accounts fed from one task queue do.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040, atlas.aml.t0021
-- references: Beutel et al., "CopyCatch: Stopping Group Attacks by Spotting Lockstep Behavior in Social Networks", WWW 2013
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026
-- falsepositives: Education cohorts starting the same assignments together (few templates in lockstep, below min_templates)
-- falsepositives: One customer's worker fleet sharing a queue (link by org before acting)
-- portable: true
-- requires: features
-- param: delta_minutes int 10 Two first uses of a template within this many minutes are in lockstep
-- param: min_templates int 10 Templates a pair must share in lockstep
-- param: full_templates int 20 Lockstep templates at which the size part of the score reaches 1
-- param: full_partners int 5 Lockstep partners at which the group part of the score reaches 1
-- param: max_template_accounts int 200 Templates used by more accounts than this are too common to link on
with first_use as (
    select r.account_id, f.template_id, min(r.ts) as first_ts, min(epoch(r.ts)) as first_epoch
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.template_id is not null
    group by r.account_id, f.template_id
),
rare as (
    select template_id
    from first_use
    group by template_id
    having count(*) >= 2 and count(*) <= $max_template_accounts
),
candidates as (
    select u.* from first_use as u join rare as t on t.template_id = u.template_id
),
pairs as (
    select a.account_id as src, b.account_id as dst, count(*) as templates,
           min(least(a.first_ts, b.first_ts)) as first_seen,
           max(greatest(a.first_ts, b.first_ts)) as last_seen
    from candidates as a
    join candidates as b
        on b.template_id = a.template_id and a.account_id < b.account_id
       and abs(a.first_epoch - b.first_epoch) <= $delta_minutes * 60
    group by a.account_id, b.account_id
    having count(*) >= $min_templates
),
both_ends as (
    select src as account_id, dst as partner, templates, first_seen, last_seen from pairs
    union all
    select dst as account_id, src as partner, templates, first_seen, last_seen from pairs
),
per_account as (
    select account_id, count(*) as partners, max(templates) as best_templates,
           max_by(partner, templates) as best_partner, min(first_seen) as first_seen,
           max(last_seen) as last_seen
    from both_ends
    group by account_id
),
final as (
    select 'account' as entity_type, account_id as entity_id,
           least(1.0, best_templates * 1.0 / $full_templates)
               * (0.5 + 0.5 * least(1.0, partners * 1.0 / $full_partners)) as score,
           {'partners': partners, 'best_partner': best_partner,
            'lockstep_templates': best_templates, 'delta_minutes': $delta_minutes,
            'min_templates': $min_templates} as evidence,
           first_seen, last_seen
    from per_account
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
