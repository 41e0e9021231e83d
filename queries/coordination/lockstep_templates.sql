-- id: dd82203b-840e-430c-8e22-c9d7fe77b320
-- name: lockstep_templates
-- title: Lockstep template use (after CopyCatch)
-- status: experimental
-- level: high
-- description: Detects accounts that start using the same rare templates as other accounts within
--   a few minutes of them, template after template, as accounts fed from one task queue do.
--   When more than 2 x neighbours + 1 accounts first use a template within two delta_minutes
--   slots, each account is compared with its neighbours on either side of a ring ordered by the
--   MD5 of the account id (the same order for every template), so the work grows with the
--   accounts, not their square; a pair the ring compares on min_templates templates is then
--   counted in full. What this can hide: in crowded starts, a lockstep pair that is rarely on
--   the ring, and partners beyond those compared.
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
-- param: neighbours int 16 Ring neighbours on either side of an account in a start too crowded to pair in full
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
placed as (
    -- ring_key: the account's place on every ring, by the MD5 of its id
    select account_id, row_number() over (order by md5(account_id), account_id) as ring_key
    from candidates
    group by account_id
),
spans as (
    -- span u holds the first uses in slot u or u + 1 (slots of delta_minutes): every pair of
    -- first uses within delta_minutes of each other meets in a span
    select distinct c.account_id, c.template_id, c.first_ts, c.first_epoch, p.ring_key,
           floor(c.first_epoch / ($delta_minutes * 60)) - t.o as span
    from candidates as c
    join placed as p on p.account_id = c.account_id,
    range(2) as t(o)
),
members as (
    select
        account_id,
        template_id,
        first_ts,
        first_epoch,
        span,
        count(*) over (partition by template_id, span) as crowd,
        row_number() over (partition by template_id, span order by ring_key) as pos
    from spans
),
steps as (
    -- a span of up to 2 x neighbours + 1 accounts pairs them all (each pair once, from its
    -- earlier position); a more crowded one is a ring, each account tied to the next neighbours
    select account_id, template_id, first_ts, first_epoch, span, crowd, pos,
           unnest(range(1, case when crowd <= 2 * $neighbours + 1 then crowd - pos + 1
                                else $neighbours + 1 end)) as step
    from members
    where crowd >= 2
),
compared as (
    -- a pair in lockstep on one template (met in one or both of the spans that hold it)
    select distinct least(a.account_id, b.account_id) as src,
           greatest(a.account_id, b.account_id) as dst, a.template_id,
           least(a.first_ts, b.first_ts) as first_ts, greatest(a.first_ts, b.first_ts) as last_ts
    from steps as a
    join members as b
        on b.template_id = a.template_id and b.span = a.span
       and b.pos = case when a.crowd <= 2 * $neighbours + 1 then a.pos + a.step
                        else (a.pos - 1 + a.step) % a.crowd + 1 end
    where abs(a.first_epoch - b.first_epoch) <= $delta_minutes * 60
),
ring as (
    select src, dst, count(*) as templates, min(first_ts) as first_seen,
           max(last_ts) as last_seen
    from compared
    group by src, dst
    having count(*) >= $min_templates
),
crowded as (
    -- accounts in some start too crowded to pair in full: only their pairs can be undercounted
    select distinct account_id from members where crowd > 2 * $neighbours + 1
),
recount as (
    -- those pairs' lockstep templates counted in full, crowded starts included
    select c.src, c.dst, count(*) as templates,
           min(least(a.first_ts, b.first_ts)) as first_seen,
           max(greatest(a.first_ts, b.first_ts)) as last_seen
    from (
        select src, dst from ring
        where src in (select account_id from crowded) or dst in (select account_id from crowded)
    ) as c
    join candidates as a on a.account_id = c.src
    join candidates as b on b.account_id = c.dst and b.template_id = a.template_id
    where abs(a.first_epoch - b.first_epoch) <= $delta_minutes * 60
    group by c.src, c.dst
),
pairs as (
    select g.src, g.dst, coalesce(r.templates, g.templates) as templates,
           coalesce(r.first_seen, g.first_seen) as first_seen,
           coalesce(r.last_seen, g.last_seen) as last_seen
    from ring as g
    left join recount as r on r.src = g.src and r.dst = g.dst
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
