-- id: 9dce2e78-ba3f-4d9e-8d5b-50160b51c531
-- name: synchronised_activity
-- title: Synchronised activity (after SynchroTrap)
-- status: experimental
-- level: high
-- description: Detects accounts whose sets of (template, hour) actions overlap heavily with other
--   accounts' (Jaccard similarity above a threshold over many shared actions), the trace of one
--   operator load-balancing a job across many accounts.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040, atlas.aml.t0021
-- references: Cao et al., "Uncovering Large Groups of Active Malicious Accounts in Online Social Networks" (SynchroTrap), CCS 2014
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (synchronised traffic across accounts)
-- falsepositives: Education cohorts doing the same assignment in the same class hour (few shared actions, so below min_shared)
-- falsepositives: Several accounts of one customer's fleet running the same job (link them by org before acting)
-- portable: true
-- param: min_shared int 10 Shared (template, hour) actions a pair needs
-- param: min_jaccard float 0.3 Jaccard similarity of two accounts' action sets at or above which they are synchronised
-- param: full_jaccard float 0.6 Jaccard at which the similarity part of the score reaches 1
-- param: full_partners int 5 Synchronised partners at which the group part of the score reaches 1
-- param: max_key_accounts int 200 Actions done by more accounts than this are too common to link on
with actions as (
    -- templates when text features exist; else the model and system prompt (metadata-only logs)
    select distinct r.account_id,
           coalesce(f.template_id, 'meta:' || coalesce(r.model, '?') || ':'
                    || coalesce(r.system_hash, '?')) as action_key,
           date_trunc('hour', r.ts) as hour
    from requests as r
    left join features as f on f.request_id = r.request_id
),
set_size as (
    select account_id, count(*) as actions from actions group by account_id
),
rare as (
    select action_key, hour
    from actions
    group by action_key, hour
    having count(*) >= 2 and count(*) <= $max_key_accounts
),
rare_actions as (
    select a.account_id, a.action_key, a.hour
    from actions as a
    join rare as k on k.action_key = a.action_key and k.hour = a.hour
),
pairs as (
    select a.account_id as src, b.account_id as dst, count(*) as shared,
           min(a.hour) as first_hour, max(a.hour) as last_hour
    from rare_actions as a
    join rare_actions as b
        on b.action_key = a.action_key and b.hour = a.hour and a.account_id < b.account_id
    group by a.account_id, b.account_id
    having count(*) >= $min_shared
),
similar_pairs as (
    select p.*, p.shared * 1.0 / (s1.actions + s2.actions - p.shared) as jaccard
    from pairs as p
    join set_size as s1 on s1.account_id = p.src
    join set_size as s2 on s2.account_id = p.dst
    where p.shared * 1.0 / (s1.actions + s2.actions - p.shared) >= $min_jaccard
),
both_ends as (
    select src as account_id, dst as partner, shared, jaccard, first_hour, last_hour from similar_pairs
    union all
    select dst as account_id, src as partner, shared, jaccard, first_hour, last_hour from similar_pairs
),
per_account as (
    select account_id, count(*) as partners, max(jaccard) as best_jaccard,
           max_by(partner, jaccard) as best_partner, max(shared) as max_shared,
           min(first_hour) as first_seen, max(last_hour) as last_seen
    from both_ends
    group by account_id
),
final as (
    select 'account' as entity_type, p.account_id as entity_id,
           least(1.0, p.best_jaccard / $full_jaccard)
               * (0.5 + 0.5 * least(1.0, p.partners * 1.0 / $full_partners)) as score,
           {'partners': p.partners, 'best_partner': p.best_partner,
            'best_jaccard': round(p.best_jaccard, 3), 'max_shared_actions': p.max_shared,
            'actions': s.actions, 'min_jaccard': $min_jaccard} as evidence,
           p.first_seen, p.last_seen
    from per_account as p
    join set_size as s on s.account_id = p.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
