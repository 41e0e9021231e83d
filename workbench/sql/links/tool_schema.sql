-- kind: tool_schema
-- title: Shared rare tool set
-- description: Links accounts that define the same set of tools (names sorted), when few accounts use that set: one agent harness behind accounts on different access paths and clients.
-- weight: 1 / ln(degree + c) x min(1, requests with the set of the rarer side / full_at)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 100 a tool set used by more accounts is a framework default and links nothing
-- params: full_at DOUBLE 20.0 requests with the set (by each account) for full weight
-- params: min_tools INTEGER 2 sets of fewer tools say too little
with used as (
    select account_id, array_to_string(list_sort(tool_names), ',') as value, count(*) as n
    from requests
    where tool_names is not null and array_length(tool_names) >= $min_tools
      and account_id is not null
    group by account_id, array_to_string(list_sort(tool_names), ',')
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
        'tool_schema' as kind,
        value,
        least(1.0, shared / $full_at) / ln(degree + $c) as weight,
        {'degree': degree, 'requests': shared} as evidence
    from pairs
)
select src, dst, kind, value, weight, evidence from final
