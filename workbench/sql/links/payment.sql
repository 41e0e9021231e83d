-- kind: payment
-- title: Shared payment fingerprint
-- description: Links accounts that pay with the same card or bank fingerprint. A fingerprint shared by more than 2 x neighbours + 1 accounts ties each of them to its neighbours accounts on either side of a ring ordered by the MD5 of the account id (the same order for every value), so its pairs grow with its accounts, not their square; a pair of such a group that is not on the ring gets no payment edge.
-- weight: 1 / ln(degree + c), degree = accounts sharing the fingerprint (FRAUDAR-style)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 200 a fingerprint shared by more accounts is a hub and links nothing
-- params: neighbours INTEGER 16 ring neighbours on each side of an account in a group too large to pair in full
with paid as (
    select distinct account_id, payment_fingerprint as value
    from accounts
    where payment_fingerprint is not null and payment_fingerprint <> ''
      and account_id is not null
),
members as (
    select
        account_id,
        value,
        count(*) over (partition by value) as degree,
        row_number() over (partition by value order by md5(account_id), account_id) as pos
    from paid
),
steps as (
    -- a group of up to 2 x neighbours + 1 accounts is a clique (each pair once, from its
    -- earlier position); a larger one a ring, each account tied to the next neighbours
    select account_id, value, degree, pos,
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
        a.degree
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
        'payment' as kind,
        value,
        1.0 / ln(degree + $c) as weight,
        {'degree': degree} as evidence
    from pairs
)
select src, dst, kind, value, weight, evidence from final
