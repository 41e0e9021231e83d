-- kind: payment
-- title: Shared payment fingerprint
-- description: Links accounts that pay with the same card or bank fingerprint.
-- weight: 1 / ln(degree + c), degree = accounts sharing the fingerprint (FRAUDAR-style)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: max_degree INTEGER 200 a fingerprint shared by more accounts is a hub and links nothing
with paid as (
    select account_id, payment_fingerprint as value
    from accounts
    where payment_fingerprint is not null and payment_fingerprint <> ''
),
degree as (
    select value, count(distinct account_id) as degree
    from paid
    group by value
),
pairs as (
    select a.account_id as src, b.account_id as dst, a.value, d.degree
    from paid as a
    join paid as b on a.value = b.value and a.account_id < b.account_id
    join degree as d on d.value = a.value
    where d.degree <= $max_degree
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
