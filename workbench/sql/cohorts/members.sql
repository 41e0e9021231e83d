-- Cohort membership: accounts tied by one shared value, and the linking's communities (the
-- temp table _member of workbench.linking, when it exists; else an empty stand-in). A cohort
-- keeps between $min_accounts and $max_accounts member accounts that sent requests: smaller
-- is no group, larger is a hub (a campus NAT, a cloud region, a stock SDK) that ties nothing.
with active as (
    select account_id, access_path, user_agent, tool_set, requests from account_profiles
),
prefix_use as (
    -- an account belongs to a prefix's cohort when a real share of its traffic came from it:
    -- $prefix_share of its requests, and 3 of them or half, whichever is fewer (a hydra seat
    -- that lives for two requests sent all its traffic through the proxy's exits; a floor of
    -- 3 left it out of every prefix cohort, the one group it can be seen in)
    select r.account_id, r.ip_prefix, count(*) as n
    from requests as r
    where r.ip_prefix is not null and r.ip_prefix <> ''
    group by r.account_id, r.ip_prefix
),
tied as (
    select 'community' as kind, m.campaign_id as value, m.account_id from {member} as m
    union all
    select 'org', a.org_id, a.account_id from accounts as a
    where a.org_id is not null and a.org_id <> ''
    union all
    select 'payment', a.payment_fingerprint, a.account_id from accounts as a
    where a.payment_fingerprint is not null and a.payment_fingerprint <> ''
    union all
    -- a sign-up burst: one path and email domain within $signup_hours (a whole day of one
    -- free-mail domain's sign-ups would be a crowd of strangers)
    select 'signup', coalesce(a.signup_path, '?') || '|' || coalesce(a.email_domain, '?') || '|'
               || strftime(time_bucket(to_hours($signup_hours), a.created_at),
                           '%Y-%m-%dT%H:%M'), a.account_id
    from accounts as a
    where a.created_at is not null
    union all
    select 'ip_prefix', p.ip_prefix, p.account_id
    from prefix_use as p join active as a using (account_id)
    where p.n >= greatest(least(3, ceil(a.requests / 2)), $prefix_share * a.requests)
    union all
    select 'client', coalesce(access_path, '?') || '|' || coalesce(user_agent, '?'), account_id
    from active
    union all
    -- one agent harness: the same set of tools, whatever path or client carries it
    select 'tools', tool_set, account_id from active where tool_set is not null
),
members as (
    select distinct t.kind, t.value, t.account_id
    from tied as t join active as a using (account_id)
    where list_contains($kinds, t.kind)
),
sized as (
    select kind, value, count(*) as members from members group by kind, value
    having count(*) between $min_accounts and $max_accounts
),
final as (
    select m.kind || ':' || m.value as cohort_id, m.kind, m.value, m.account_id,
           s.members::INTEGER as members
    from members as m join sized as s using (kind, value)
)
select cohort_id, kind, value, account_id, members from final
