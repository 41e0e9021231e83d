-- kind: ip_prefix_hour
-- title: Same IP prefix in the same hours
-- description: Links accounts seen on the same network prefix within the same clock hours. When more than 2 x neighbours + 1 accounts use the prefix in one hour, each of them is paired, for that hour, with its neighbours accounts on either side of a ring of those accounts ordered by the MD5 of the account id (the same order in every hour), so an hour's pairs grow with its accounts, not their square; the shared hours of a pair then count only the hours in which the two were ring neighbours.
-- weight: 1 / ln(degree + c) x min(1, shared hours / full_at), degree = accounts on the prefix
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 100 a prefix used by more accounts (a NAT, a cloud region) links nothing
-- params: full_at DOUBLE 12.0 shared hours for full weight
-- params: neighbours INTEGER 16 ring neighbours on each side of an account in an hour too crowded to pair in full
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
placed as (
    -- ring_key: the account's place on every ring, by the MD5 of its id
    select account_id, row_number() over (order by md5(account_id), account_id) as ring_key
    from seen
    group by account_id
),
members as (
    select
        s.account_id,
        s.value,
        s.hour,
        d.degree,
        count(*) over (partition by s.value, s.hour) as size,
        row_number() over (partition by s.value, s.hour order by p.ring_key) as pos
    from seen as s
    join degree as d on d.value = s.value
    join placed as p on p.account_id = s.account_id
    where d.degree between 2 and $max_degree
),
steps as (
    -- an hour of up to 2 x neighbours + 1 accounts pairs them all (each pair once, from its
    -- earlier position); a busier one is a ring, each account tied to the next neighbours
    select account_id, value, hour, degree, size, pos,
           unnest(range(1, case when size <= 2 * $neighbours + 1 then size - pos + 1
                                else $neighbours + 1 end)) as step
    from members
    where size >= 2
),
pairs as (
    select
        least(a.account_id, b.account_id) as src,
        greatest(a.account_id, b.account_id) as dst,
        a.value,
        a.degree,
        count(*) as shared_hours
    from steps as a
    join members as b
        on b.value = a.value and b.hour = a.hour
       and b.pos = case when a.size <= 2 * $neighbours + 1 then a.pos + a.step
                        else (a.pos - 1 + a.step) % a.size + 1 end
    group by least(a.account_id, b.account_id), greatest(a.account_id, b.account_id), a.value,
             a.degree
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
