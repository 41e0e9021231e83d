-- kind: sync_shape
-- title: Synchronised client shape
-- description: Links accounts that send requests of the same uncommon shape (model, caps, sampling, thinking, tools, client) in the same hours, by Jaccard similarity; works on metadata-only logs. When more than 2 x neighbours + 1 accounts send one shape in one hour, each is compared, for that hour, with its neighbours accounts on either side of a ring of them ordered by the MD5 of the account id (the same order in every hour), so an hour's pairs grow with its accounts, not their square; a pair whose ring count of shared actions reaches min_shared has its shared actions counted again in full, so its Jaccard is exact, while a pair of crowded hours that is rarely on the ring can go unlinked.
-- weight: Jaccard similarity of the two accounts' (shape, hour) sets
-- params: max_degree INTEGER 100 a shape sent by more accounts is a common client default and links nothing
-- params: min_actions INTEGER 4 actions an account needs before it is compared
-- params: min_shared INTEGER 3 shared actions for a link
-- params: min_jaccard DOUBLE 0.2 Jaccard similarity for a link
-- params: neighbours INTEGER 16 ring neighbours on each side of an account in an hour too crowded to pair in full
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
    -- ring_key: the account's place on every ring, by the MD5 of its id
    select account_id, count(*) as n,
           row_number() over (order by md5(account_id), account_id) as ring_key
    from acts
    group by account_id
),
degree as (
    select shape, count(distinct account_id) as degree
    from acts
    group by shape
),
rare as (
    select a.account_id, a.shape, a.hour, s.ring_key
    from acts as a
    join degree as d on d.shape = a.shape
    join size as s on s.account_id = a.account_id
    where d.degree between 2 and $max_degree and s.n >= $min_actions
),
members as (
    select
        account_id,
        shape,
        hour,
        count(*) over (partition by shape, hour) as crowd,
        row_number() over (partition by shape, hour order by ring_key) as pos
    from rare
),
steps as (
    -- an hour of up to 2 x neighbours + 1 accounts pairs them all (each pair once, from its
    -- earlier position); a more crowded one is a ring, each account tied to the next neighbours
    select account_id, shape, hour, crowd, pos,
           unnest(range(1, case when crowd <= 2 * $neighbours + 1 then crowd - pos + 1
                                else $neighbours + 1 end)) as step
    from members
    where crowd >= 2
),
ring as (
    select least(a.account_id, b.account_id) as src, greatest(a.account_id, b.account_id) as dst,
           count(*) as shared
    from steps as a
    join members as b
        on b.shape = a.shape and b.hour = a.hour
       and b.pos = case when a.crowd <= 2 * $neighbours + 1 then a.pos + a.step
                        else (a.pos - 1 + a.step) % a.crowd + 1 end
    group by least(a.account_id, b.account_id), greatest(a.account_id, b.account_id)
    having count(*) >= $min_shared
),
crowded as (
    -- accounts in some hour too crowded to pair in full: only their pairs can be undercounted
    select distinct account_id from members where crowd > 2 * $neighbours + 1
),
recount as (
    -- those pairs' shared actions counted in full, crowded hours included
    select c.src, c.dst, count(*) as shared
    from (
        select src, dst from ring
        where src in (select account_id from crowded) or dst in (select account_id from crowded)
    ) as c
    join rare as a on a.account_id = c.src
    join rare as b on b.account_id = c.dst and b.shape = a.shape and b.hour = a.hour
    group by c.src, c.dst
),
shared as (
    select g.src, g.dst, coalesce(r.shared, g.shared) as shared
    from ring as g
    left join recount as r on r.src = g.src and r.dst = g.dst
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
