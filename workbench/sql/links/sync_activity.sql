-- kind: sync_activity
-- title: Synchronised activity (SynchroTrap)
-- description: Links accounts whose (template, hour) action sets overlap, by Jaccard similarity (Cao et al., CCS 2014).
-- weight: Jaccard similarity of the two accounts' (template, hour) sets
-- params: max_degree INTEGER 300 a template used by more accounts is common and links nothing
-- params: min_actions INTEGER 4 actions an account needs before it is compared
-- params: min_shared INTEGER 3 shared actions for a link
-- params: min_jaccard DOUBLE 0.1 Jaccard similarity for a link
with acts as (
    select distinct r.account_id, f.template_id, floor(epoch(r.ts) / 3600) as hour
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.template_id is not null and r.account_id is not null
),
size as (
    select account_id, count(*) as n
    from acts
    group by account_id
),
degree as (
    select template_id, count(distinct account_id) as degree
    from acts
    group by template_id
),
rare as (
    select a.account_id, a.template_id, a.hour
    from acts as a
    join degree as d on d.template_id = a.template_id
    join size as s on s.account_id = a.account_id
    where d.degree between 2 and $max_degree and s.n >= $min_actions
),
shared as (
    select a.account_id as src, b.account_id as dst, count(*) as shared
    from rare as a
    join rare as b
        on a.template_id = b.template_id and a.hour = b.hour and a.account_id < b.account_id
    group by a.account_id, b.account_id
),
scored as (
    select
        sh.src,
        sh.dst,
        sh.shared,
        sa.n as src_actions,
        sb.n as dst_actions,
        sh.shared / cast(sa.n + sb.n - sh.shared as double) as jaccard
    from shared as sh
    join size as sa on sa.account_id = sh.src
    join size as sb on sb.account_id = sh.dst
    where sh.shared >= $min_shared
),
final as (
    select
        src,
        dst,
        'sync_activity' as kind,
        'template x hour' as value,
        jaccard as weight,
        {'jaccard': jaccard, 'shared_actions': shared, 'src_actions': src_actions,
         'dst_actions': dst_actions} as evidence
    from scored
    where jaccard >= $min_jaccard
)
select src, dst, kind, value, weight, evidence from final
