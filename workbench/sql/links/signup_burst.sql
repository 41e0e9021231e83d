-- kind: signup_burst
-- title: Same sign-up burst
-- description: Links accounts created close together on one sign-up path and email domain, when the burst is large.
-- weight: 1 / ln(domain accounts + c), so a burst on a mass-mail domain says little
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: window_s DOUBLE 3600.0 accounts created within this many seconds of each other
-- params: min_burst INTEGER 5 accounts in the window (each side) for a burst
-- params: max_degree INTEGER 500 a burst larger than this links nothing
with signed as (
    select
        account_id,
        coalesce(email_domain, '') || '|' || coalesce(signup_path, '') as value,
        epoch(created_at) as t
    from accounts
    where created_at is not null
),
domain_size as (
    select value, count(*) as degree
    from signed
    group by value
),
near as (
    select a.account_id as src, b.account_id as dst, a.value
    from signed as a
    join signed as b
        on a.value = b.value and a.account_id <> b.account_id and abs(a.t - b.t) <= $window_s
),
burst as (
    select src as account_id, count(*) + 1 as burst
    from near
    group by src
),
pairs as (
    select n.src, n.dst, n.value, d.degree, bs.burst as src_burst, bd.burst as dst_burst
    from near as n
    join burst as bs on bs.account_id = n.src
    join burst as bd on bd.account_id = n.dst
    join domain_size as d on d.value = n.value
    where n.src < n.dst
        and bs.burst >= $min_burst and bd.burst >= $min_burst
        and bs.burst <= $max_degree and bd.burst <= $max_degree
),
final as (
    select
        src,
        dst,
        'signup_burst' as kind,
        value,
        1.0 / ln(degree + $c) as weight,
        {'degree': degree, 'burst': least(src_burst, dst_burst)} as evidence
    from pairs
)
select src, dst, kind, value, weight, evidence from final
