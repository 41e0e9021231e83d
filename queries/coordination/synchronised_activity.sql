-- id: 9dce2e78-ba3f-4d9e-8d5b-50160b51c531
-- name: synchronised_activity
-- title: Synchronised activity (after SynchroTrap)
-- status: experimental
-- level: high
-- description: Detects accounts whose sets of (template, hour) or (request shape, hour) actions
--   overlap heavily with other accounts' (Jaccard similarity above a threshold over many shared
--   actions), the trace of one operator load-balancing a job across many accounts. The request
--   shape (endpoint, model, output cap, sampling, thinking, tools, streaming) is the action that
--   still works on metadata-only logs and when every prompt is a new question in one wrapper.
--   In an action done by more than 2 x neighbours + 1 accounts, each account is compared with
--   its neighbours on either side of a ring ordered by the MD5 of the account id (the same order
--   for every action), so the work grows with the accounts, not their square; a pair the ring
--   compares often enough is then counted in full. What this can hide: in crowded actions, a
--   synchronised pair that is rarely on the ring, and partners beyond those compared.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040, atlas.aml.t0021
-- references: Cao et al., "Uncovering Large Groups of Active Malicious Accounts in Online Social Networks" (SynchroTrap), CCS 2014
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (synchronised traffic across accounts)
-- falsepositives: Education cohorts doing the same assignment in the same class hour (few shared actions, so below min_shared)
-- falsepositives: Customers on one SDK's default settings in the same hours (a shape pair needs min_shape_shared hours in common and the Jaccard bar)
-- falsepositives: Several accounts of one customer's fleet running the same job (link them by org before acting)
-- portable: true
-- param: min_shared int 10 Shared (template, hour) actions a pair needs
-- param: min_shape_shared int 48 Shared (request shape, hour) actions a pair needs: a shape is coarser than a template, so it takes days of lockstep, not a class hour
-- param: min_jaccard float 0.3 Jaccard similarity of two accounts' action sets at or above which they are synchronised
-- param: full_jaccard float 0.6 Jaccard of template actions at which the similarity part of the score reaches 1
-- param: full_shape_jaccard float 0.35 Jaccard of request-shape actions at which the similarity part reaches 1 (one job spreads over more shapes than templates)
-- param: full_partners int 5 Synchronised partners at which the group part of the score reaches 1
-- param: max_key_accounts int 200 Actions done by more accounts than this are too common to link on
-- param: neighbours int 16 Ring neighbours on either side of an account in an action too crowded to pair in full
with shaped as (
    select r.request_id, r.account_id, date_trunc('hour', r.ts) as hour,
           concat_ws('|', coalesce(r.endpoint, '-'), coalesce(r.model, '-'),
                     coalesce(cast(r.max_tokens as varchar), '-'),
                     coalesce(cast(r.temperature as varchar), '-'),
                     coalesce(cast(r.top_p as varchar), '-'),
                     coalesce(cast(r.top_k as varchar), '-'),
                     coalesce(cast(r.n_choices as varchar), '-'),
                     coalesce(r.thinking_mode, '-'),
                     coalesce(cast(r.thinking_budget as varchar), '-'),
                     coalesce(cast(r.tool_count as varchar), '-'),
                     coalesce(r.tool_choice, '-'),
                     coalesce(cast(r.stream as varchar), '-')) as shape
    from requests as r
),
actions as (
    -- two families of action, compared separately: the prompt template (needs text) and the
    -- request's shape (always there). Never the model alone: every customer of a model shares it
    -- every hour, which made whole customer segments look synchronised on metadata-only logs.
    select distinct s.account_id, 'template' as family, f.template_id as action_key, s.hour
    from shaped as s
    join features as f on f.request_id = s.request_id
    where f.template_id is not null
    union all
    select distinct account_id, 'request_shape' as family, shape as action_key, hour
    from shaped
),
set_size as (
    select account_id, family, count(*) as actions from actions group by account_id, family
),
placed as (
    -- ring_key: the account's place on every ring, by the MD5 of its id
    select account_id, row_number() over (order by md5(account_id), account_id) as ring_key
    from set_size
    group by account_id
),
rare as (
    select family, action_key, hour, count(*) as crowd
    from actions
    group by family, action_key, hour
    having count(*) >= 2 and count(*) <= $max_key_accounts
),
rare_actions as (
    select a.account_id, a.family, a.action_key, a.hour, k.crowd, p.ring_key
    from actions as a
    join rare as k on k.family = a.family and k.action_key = a.action_key and k.hour = a.hour
    join placed as p on p.account_id = a.account_id
),
members as (
    select
        account_id,
        family,
        action_key,
        hour,
        crowd,
        row_number() over (partition by family, action_key, hour order by ring_key) as pos
    from rare_actions
),
steps as (
    -- an action of up to 2 x neighbours + 1 accounts pairs them all (each pair once, from its
    -- earlier position); a more crowded one is a ring, each account tied to the next neighbours
    select account_id, family, action_key, hour, crowd, pos,
           unnest(range(1, case when crowd <= 2 * $neighbours + 1 then crowd - pos + 1
                                else $neighbours + 1 end)) as step
    from members
),
ring as (
    select least(a.account_id, b.account_id) as src, greatest(a.account_id, b.account_id) as dst,
           a.family, count(*) as shared, min(a.hour) as first_hour, max(a.hour) as last_hour
    from steps as a
    join members as b
        on b.family = a.family and b.action_key = a.action_key and b.hour = a.hour
       and b.pos = case when a.crowd <= 2 * $neighbours + 1 then a.pos + a.step
                        else (a.pos - 1 + a.step) % a.crowd + 1 end
    group by least(a.account_id, b.account_id), greatest(a.account_id, b.account_id), a.family
    having count(*) >= case when a.family = 'template' then $min_shared else $min_shape_shared end
),
crowded as (
    -- accounts in some action too crowded to pair in full: only their pairs can be undercounted
    select distinct account_id, family from rare_actions where crowd > 2 * $neighbours + 1
),
recount as (
    -- those pairs' shared actions counted in full, crowded actions included
    select c.src, c.dst, c.family, count(*) as shared, min(a.hour) as first_hour,
           max(a.hour) as last_hour
    from (
        select g.src, g.dst, g.family from ring as g
        where exists (select 1 from crowded as w where w.account_id = g.src and w.family = g.family)
           or exists (select 1 from crowded as w where w.account_id = g.dst and w.family = g.family)
    ) as c
    join rare_actions as a on a.account_id = c.src and a.family = c.family
    join rare_actions as b
        on b.account_id = c.dst and b.family = c.family and b.action_key = a.action_key
       and b.hour = a.hour
    group by c.src, c.dst, c.family
),
pairs as (
    select g.src, g.dst, g.family, coalesce(r.shared, g.shared) as shared,
           coalesce(r.first_hour, g.first_hour) as first_hour,
           coalesce(r.last_hour, g.last_hour) as last_hour
    from ring as g
    left join recount as r on r.src = g.src and r.dst = g.dst and r.family = g.family
),
similar_pairs as (
    select p.*, p.shared * 1.0 / (s1.actions + s2.actions - p.shared) as jaccard,
           case when p.family = 'template' then $full_jaccard else $full_shape_jaccard end
               as full_at
    from pairs as p
    join set_size as s1 on s1.account_id = p.src and s1.family = p.family
    join set_size as s2 on s2.account_id = p.dst and s2.family = p.family
    where p.shared * 1.0 / (s1.actions + s2.actions - p.shared) >= $min_jaccard
),
both_ends as (
    select src as account_id, dst as partner, family, shared, jaccard,
           least(1.0, jaccard / full_at) as strength, first_hour, last_hour
    from similar_pairs
    union all
    select dst as account_id, src as partner, family, shared, jaccard,
           least(1.0, jaccard / full_at) as strength, first_hour, last_hour
    from similar_pairs
),
per_account as (
    select account_id, count(distinct partner) as partners, max(strength) as best_strength,
           max_by(partner, strength) as best_partner, max_by(family, strength) as best_key,
           max_by(jaccard, strength) as best_jaccard, max(shared) as max_shared,
           count(distinct case when family = 'template' then partner end) as template_partners,
           count(distinct case when family = 'request_shape' then partner end) as shape_partners,
           min(first_hour) as first_seen, max(last_hour) as last_seen
    from both_ends
    group by account_id
),
final as (
    select 'account' as entity_type, p.account_id as entity_id,
           p.best_strength * (0.5 + 0.5 * least(1.0, p.partners * 1.0 / $full_partners)) as score,
           {'partners': p.partners, 'best_partner': p.best_partner, 'key': p.best_key,
            'best_jaccard': round(p.best_jaccard, 3), 'max_shared_actions': p.max_shared,
            'template_partners': p.template_partners, 'shape_partners': p.shape_partners,
            'template_actions': coalesce(t.actions, 0), 'shape_actions': coalesce(h.actions, 0),
            'min_jaccard': $min_jaccard} as evidence,
           p.first_seen, p.last_seen
    from per_account as p
    left join set_size as t on t.account_id = p.account_id and t.family = 'template'
    left join set_size as h on h.account_id = p.account_id and h.family = 'request_shape'
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
