-- kind: near_duplicate
-- title: Near-duplicate prompts in the same days (SimHash bands)
-- description: Links accounts whose prompts share rare 16-bit bands of their 64-bit SimHash on the same days, so paraphrased copies of one task set still link (locality-sensitive hashing by banding); a band value seen by many accounts that day links nothing. Should max_degree be raised above 2 x neighbours + 1, a crowded band value compares each account with its neighbours accounts on either side of a ring ordered by the MD5 of the account id, and a pair whose ring count reaches min_shared is counted again in full.
-- weight: min(1, shared band-days / full_at) / ln(mean band degree + c), the pair needing min_shared band-days and a Jaccard of at least min_jaccard
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: window_s DOUBLE 86400.0 width of the time slot in which shared bands count
-- params: max_degree INTEGER 8 a band value used by more accounts in one slot is common and links nothing
-- params: min_shared INTEGER 6 shared (band, slot) keys for a link
-- params: min_jaccard DOUBLE 0.02 Jaccard similarity of the two accounts' (band, slot) key sets for a link
-- params: full_at DOUBLE 30.0 shared keys for full weight
-- params: neighbours INTEGER 16 ring neighbours on each side of an account in a band value too crowded to pair in full
with sig as (
    select r.account_id, f.simhash, floor(epoch(r.ts) / $window_s) as slot
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.simhash is not null and r.account_id is not null
),
keys as (
    select distinct account_id, b as band, (simhash >> (16 * b)) & 65535 as code, slot
    from sig, range(4) as t(b)
),
size as (
    -- ring_key: the account's place on every ring, by the MD5 of its id
    select account_id, count(*) as n,
           row_number() over (order by md5(account_id), account_id) as ring_key
    from keys
    group by account_id
),
degree as (
    select band, code, slot, count(*) as degree
    from keys
    group by band, code, slot
),
rare as (
    select k.account_id, k.band, k.code, k.slot, d.degree, s.ring_key
    from keys as k
    join degree as d on d.band = k.band and d.code = k.code and d.slot = k.slot
    join size as s on s.account_id = k.account_id
    where d.degree between 2 and $max_degree
),
members as (
    select
        account_id,
        band,
        code,
        slot,
        degree,
        row_number() over (partition by band, code, slot order by ring_key) as pos
    from rare
),
steps as (
    -- a band value of up to 2 x neighbours + 1 accounts pairs them all (each pair once, from
    -- its earlier position); a more crowded one is a ring, each account tied to the next ones
    select account_id, band, code, slot, degree, pos,
           unnest(range(1, case when degree <= 2 * $neighbours + 1 then degree - pos + 1
                                else $neighbours + 1 end)) as step
    from members
),
ring as (
    select least(a.account_id, b.account_id) as src, greatest(a.account_id, b.account_id) as dst,
           count(*) as shared, avg(a.degree) as degree
    from steps as a
    join members as b
        on b.band = a.band and b.code = a.code and b.slot = a.slot
       and b.pos = case when a.degree <= 2 * $neighbours + 1 then a.pos + a.step
                        else (a.pos - 1 + a.step) % a.degree + 1 end
    group by least(a.account_id, b.account_id), greatest(a.account_id, b.account_id)
    having count(*) >= $min_shared
),
crowded as (
    -- accounts in some band value too crowded to pair in full: only their pairs can be
    -- undercounted
    select distinct account_id from members where degree > 2 * $neighbours + 1
),
recount as (
    -- those pairs' shared keys counted in full, crowded band values included
    select c.src, c.dst, count(*) as shared, avg(a.degree) as degree
    from (
        select src, dst from ring
        where src in (select account_id from crowded) or dst in (select account_id from crowded)
    ) as c
    join rare as a on a.account_id = c.src
    join rare as b
        on b.account_id = c.dst and b.band = a.band and b.code = a.code and b.slot = a.slot
    group by c.src, c.dst
),
shared as (
    select g.src, g.dst, coalesce(r.shared, g.shared) as shared,
           coalesce(r.degree, g.degree) as degree
    from ring as g
    left join recount as r on r.src = g.src and r.dst = g.dst
),
scored as (
    select
        sh.src,
        sh.dst,
        sh.shared,
        sh.degree,
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
        'near_duplicate' as kind,
        'simhash band x day' as value,
        least(1.0, shared / $full_at) / ln(degree + $c) as weight,
        {'shared_keys': shared, 'mean_degree': degree, 'jaccard': jaccard} as evidence
    from scored
    where jaccard >= $min_jaccard
)
select src, dst, kind, value, weight, evidence from final
