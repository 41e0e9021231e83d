-- kind: sync_shape
-- title: Synchronised client shape
-- description: Links accounts that send requests of the same uncommon shape (model, caps, sampling, thinking, tools, client) in the same hours, by Jaccard similarity; works on metadata-only logs.
-- weight: Jaccard similarity of the two accounts' (shape, hour) sets
-- params: max_degree INTEGER 100 a shape sent by more accounts is a common client default and links nothing
-- params: min_actions INTEGER 4 actions an account needs before it is compared
-- params: min_shared INTEGER 3 shared actions for a link
-- params: min_jaccard DOUBLE 0.2 Jaccard similarity for a link
with acts as (
    select distinct
        account_id,
        hash(model, endpoint, max_tokens, temperature, top_p, top_k, n_choices, logprobs,
             top_logprobs, thinking_mode, thinking_budget, tool_count, tool_choice, user_agent)
            as shape,
        floor(epoch(ts) / 3600) as hour
    from requests
    where account_id is not null
),
size as (
    select account_id, count(*) as n
    from acts
    group by account_id
),
degree as (
    select shape, count(distinct account_id) as degree
    from acts
    group by shape
),
rare as (
    select a.account_id, a.shape, a.hour
    from acts as a
    join degree as d on d.shape = a.shape
    join size as s on s.account_id = a.account_id
    where d.degree between 2 and $max_degree and s.n >= $min_actions
),
shared as (
    select a.account_id as src, b.account_id as dst, count(*) as shared
    from rare as a
    join rare as b on a.shape = b.shape and a.hour = b.hour and a.account_id < b.account_id
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
        'sync_shape' as kind,
        'shape x hour' as value,
        jaccard as weight,
        {'jaccard': jaccard, 'shared_actions': shared, 'src_actions': src_actions,
         'dst_actions': dst_actions} as evidence
    from scored
    where jaccard >= $min_jaccard
)
select src, dst, kind, value, weight, evidence from final
