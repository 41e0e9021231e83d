-- kind: ip_prefix_hour
-- title: Same IP prefix in the same hours
-- description: Links accounts seen on the same network prefix within the same clock hours.
-- weight: 1 / ln(degree + c) x min(1, shared hours / full_at), degree = accounts on the prefix
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 100 a prefix used by more accounts (a NAT, a cloud region) links nothing
-- params: full_at DOUBLE 12.0 shared hours for full weight
with seen as (
    select distinct account_id, ip_prefix as value, floor(epoch(ts) / 3600) as hour
    from requests
    where ip_prefix is not null and ip_prefix <> '' and account_id is not null
),
degree as (
    select value, count(distinct account_id) as degree
    from seen
    group by value
),
rare as (
    select s.account_id, s.value, s.hour, d.degree
    from seen as s
    join degree as d on d.value = s.value
    where d.degree between 2 and $max_degree
),
pairs as (
    select a.account_id as src, b.account_id as dst, a.value, a.degree, count(*) as shared_hours
    from rare as a
    join rare as b on a.value = b.value and a.hour = b.hour and a.account_id < b.account_id
    group by a.account_id, b.account_id, a.value, a.degree
),
final as (
    select
        src,
        dst,
        'ip_prefix_hour' as kind,
        value,
        least(1.0, shared_hours / $full_at) / ln(degree + $c) as weight,
        {'degree': degree, 'shared_hours': shared_hours} as evidence
    from pairs
)
select src, dst, kind, value, weight, evidence from final
