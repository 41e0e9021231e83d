-- kind: system_prompt
-- title: Shared rare system prompt
-- description: Links accounts that send the same system prompt, when few accounts use it.
-- weight: 1 / ln(degree + c) x min(1, shared requests of the rarer side / full_at)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 50 a system prompt used by more accounts is common and links nothing
-- params: full_at DOUBLE 20.0 requests with the prompt (by each account) for full weight
with used as (
    select account_id, system_hash as value, count(*) as n
    from requests
    where system_hash is not null and system_hash <> '' and account_id is not null
    group by account_id, system_hash
),
degree as (
    select value, count(*) as degree
    from used
    group by value
),
pairs as (
    select
        a.account_id as src,
        b.account_id as dst,
        a.value,
        d.degree,
        least(a.n, b.n) as shared
    from used as a
    join used as b on a.value = b.value and a.account_id < b.account_id
    join degree as d on d.value = a.value
    where d.degree <= $max_degree
),
final as (
    select
        src,
        dst,
        'system_prompt' as kind,
        value,
        least(1.0, shared / $full_at) / ln(degree + $c) as weight,
        {'degree': degree, 'requests': shared} as evidence
    from pairs
)
select src, dst, kind, value, weight, evidence from final
