-- kind: tool_schema
-- title: Shared rare tool set
-- description: Links accounts that define the same set of tools (names sorted), when few accounts use that set: one agent harness behind accounts on different access paths and clients. A set used by more than 2 x neighbours + 1 accounts ties each of them to its neighbours accounts on either side of a ring ordered by the MD5 of the account id (the same order for every value), so its pairs grow with its accounts, not their square; a pair of such a group that is not on the ring gets no tool_schema edge.
-- weight: 1 / ln(degree + c) x min(1, requests with the set of the rarer side / full_at)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 100 a tool set used by more accounts is a framework default and links nothing
-- params: full_at DOUBLE 20.0 requests with the set (by each account) for full weight
-- params: min_tools INTEGER 2 sets of fewer tools say too little
-- params: neighbours INTEGER 16 ring neighbours on each side of an account in a group too large to pair in full
with used as (
    select account_id, array_to_string(list_sort(tool_names), ',') as value, count(*) as n
    from requests
    where tool_names is not null and array_length(tool_names) >= $min_tools
      and account_id is not null
    group by account_id, array_to_string(list_sort(tool_names), ',')
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
        'tool_schema' as kind,
        value,
        least(1.0, shared / $full_at) / ln(degree + $c) as weight,
        {'degree': degree, 'requests': shared} as evidence
    from pairs
)
select src, dst, kind, value, weight, evidence from final
