-- kind: system_prompt
-- title: Shared rare system prompt
-- description: Links accounts that send the same system prompt, when few accounts use it. A prompt used by more than 2 x neighbours + 1 accounts ties each of them to its neighbours accounts on either side of a ring ordered by the MD5 of the account id (the same order for every value), so its pairs grow with its accounts, not their square; a pair of such a group that is not on the ring gets no system_prompt edge.
-- weight: 1 / ln(degree + c) x min(1, shared requests of the rarer side / full_at)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 50 a system prompt used by more accounts is common and links nothing
-- params: full_at DOUBLE 20.0 requests with the prompt (by each account) for full weight
-- params: neighbours INTEGER 16 ring neighbours on each side of an account in a group too large to pair in full
with used as (
    select account_id, system_hash as value, count(*) as n
    from requests
    where system_hash is not null and system_hash <> '' and account_id is not null
    group by account_id, system_hash
),
members as (
    select
        account_id,
        value,
        n,
        count(*) over (partition by value) as degree,
        row_number() over (partition by value order by md5(account_id), account_id) as pos
    from used
),
steps as (
    -- a group of up to 2 x neighbours + 1 accounts is a clique (each pair once, from its
    -- earlier position); a larger one a ring, each account tied to the next neighbours
    select account_id, value, n, degree, pos,
           unnest(range(1, case when degree <= 2 * $neighbours + 1 then degree - pos + 1
                                else $neighbours + 1 end)) as step
    from members
    where degree between 2 and $max_degree
),
pairs as (
    select
        least(a.account_id, b.account_id) as src,
        greatest(a.account_id, b.account_id) as dst,
        a.value,
        a.degree,
        least(a.n, b.n) as shared
    from steps as a
    join members as b
        on b.value = a.value
       and b.pos = case when a.degree <= 2 * $neighbours + 1 then a.pos + a.step
                        else (a.pos - 1 + a.step) % a.degree + 1 end
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
