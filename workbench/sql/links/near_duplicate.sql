-- kind: near_duplicate
-- title: Near-duplicate prompts in the same days (SimHash bands)
-- description: Links accounts whose prompts share rare 16-bit bands of their 64-bit SimHash on the same days, so paraphrased copies of one task set still link (locality-sensitive hashing by banding); a band value seen by many accounts that day links nothing.
-- weight: min(1, shared band-days / full_at) / ln(mean band degree + c), the pair needing min_shared band-days and a Jaccard of at least min_jaccard
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: window_s DOUBLE 86400.0 width of the time slot in which shared bands count
-- params: max_degree INTEGER 8 a band value used by more accounts in one slot is common and links nothing
-- params: min_shared INTEGER 6 shared (band, slot) keys for a link
-- params: min_jaccard DOUBLE 0.02 Jaccard similarity of the two accounts' (band, slot) key sets for a link
-- params: full_at DOUBLE 30.0 shared keys for full weight
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
    select account_id, count(*) as n
    from keys
    group by account_id
),
degree as (
    select band, code, slot, count(*) as degree
    from keys
    group by band, code, slot
),
rare as (
    select k.account_id, k.band, k.code, k.slot, d.degree
    from keys as k
    join degree as d on d.band = k.band and d.code = k.code and d.slot = k.slot
    where d.degree between 2 and $max_degree
),
shared as (
    select a.account_id as src, b.account_id as dst, count(*) as shared, avg(a.degree) as degree
    from rare as a
    join rare as b
        on a.band = b.band and a.code = b.code and a.slot = b.slot
        and a.account_id < b.account_id
    group by a.account_id, b.account_id
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
