-- id: 262b5c82-99dd-4a86-a08c-63b56d686eb4
-- name: shared_infrastructure
-- title: Shared infrastructure across organisations, weighted by rarity
-- status: experimental
-- level: medium
-- description: Detects accounts that share a payment fingerprint, IP prefix or user agent with
--   accounts of other organisations, each shared value weighted up with the number of
--   organisations behind it and discarded when it is common (a university NAT, a cloud region, a
--   stock SDK user agent).
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0021, atlas.aml.t0008
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (shared payment methods and coordinated infrastructure across fraudulent accounts)
-- references: Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016
-- falsepositives: Accounts behind one corporate or campus NAT (discounted when the prefix is common)
-- falsepositives: Agencies paying for several client organisations with one card
-- portable: true
-- param: full_degree int 10 Organisations sharing a value at which its weight is full
-- param: max_common_share float 0.05 Values shared by more than this share of all organisations are ignored as common
-- param: payment_weight float 1.0 Weight of a shared payment fingerprint
-- param: ip_weight float 0.6 Weight of a shared IP prefix
-- param: ua_weight float 0.3 Weight of a shared user agent
-- param: min_score float 0.35 Score at or above which an account is reported
with acct as (
    select account_id, coalesce(max(org_id), account_id) as org_id,
           min(ts) as first_seen, max(ts) as last_seen
    from requests
    group by account_id
),
shared as (
    select 'payment' as kind, a.payment_fingerprint as value, a.account_id,
           coalesce(a.org_id, a.account_id) as org_id
    from accounts as a
    where a.payment_fingerprint is not null
    union all
    select distinct 'ip_prefix' as kind, ip_prefix as value, account_id,
           coalesce(org_id, account_id) as org_id
    from requests
    where ip_prefix is not null
    union all
    select distinct 'user_agent' as kind, user_agent as value, account_id,
           coalesce(org_id, account_id) as org_id
    from requests
    where user_agent is not null
),
degree as (
    select kind, value, count(distinct org_id) as orgs, count(distinct account_id) as accounts
    from shared
    group by kind, value
),
total as (
    select count(distinct coalesce(org_id, account_id)) as orgs from shared
),
weighted as (
    select d.kind, d.value, d.orgs, d.accounts,
           case d.kind when 'payment' then $payment_weight when 'ip_prefix' then $ip_weight
                else $ua_weight end
               * least(1.0, ln(d.orgs) / ln($full_degree)) as weight
    from degree as d
    cross join total as t
    where d.orgs >= 2 and d.orgs <= $max_common_share * t.orgs
),
per_kind as (
    select s.account_id, w.kind, max(w.weight) as weight, max_by(w.value, w.weight) as value,
           max_by(w.orgs, w.weight) as orgs
    from shared as s
    join weighted as w on w.kind = s.kind and w.value = s.value
    group by s.account_id, w.kind
),
per_account as (
    select account_id,
           coalesce(max(case when kind = 'payment' then weight end), 0) as w_payment,
           coalesce(max(case when kind = 'ip_prefix' then weight end), 0) as w_ip,
           coalesce(max(case when kind = 'user_agent' then weight end), 0) as w_ua,
           max(case when kind = 'payment' then value end) as payment_fingerprint,
           max(case when kind = 'payment' then orgs end) as payment_orgs,
           max(case when kind = 'ip_prefix' then value end) as ip_prefix,
           max(case when kind = 'ip_prefix' then orgs end) as ip_prefix_orgs,
           max(case when kind = 'user_agent' then value end) as user_agent,
           max(case when kind = 'user_agent' then orgs end) as user_agent_orgs
    from per_kind
    group by account_id
),
fired as (
    select p.*, 1.0 - (1.0 - p.w_payment) * (1.0 - p.w_ip) * (1.0 - p.w_ua) as score,
           c.first_seen, c.last_seen
    from per_account as p
    join acct as c on c.account_id = p.account_id
    where 1.0 - (1.0 - p.w_payment) * (1.0 - p.w_ip) * (1.0 - p.w_ua) >= $min_score
),
final as (
    select 'account' as entity_type, account_id as entity_id, least(1.0, score) as score,
           {'payment_fingerprint': payment_fingerprint, 'payment_orgs': payment_orgs,
            'ip_prefix': ip_prefix, 'ip_prefix_orgs': ip_prefix_orgs,
            'user_agent': user_agent, 'user_agent_orgs': user_agent_orgs,
            'weights': {'payment': round(w_payment, 3), 'ip_prefix': round(w_ip, 3),
                        'user_agent': round(w_ua, 3)},
            'full_degree': $full_degree} as evidence,
           first_seen, last_seen
    from fired
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
