-- kind: signup_burst
-- title: Same sign-up burst
-- description: Links accounts created close together on one sign-up path and email domain, when the burst is large. In a burst of more than 2 x neighbours + 1 accounts (within window_s of an account), each account is tied to its neighbours next sign-ups on that path and domain only, so a burst's pairs grow with its accounts, not their square; in a burst that dense, two accounts with more than neighbours sign-ups between them are not tied.
-- weight: 1 / ln(domain accounts + c), so a burst on a mass-mail domain says little
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: window_s DOUBLE 3600.0 accounts created within this many seconds of each other
-- params: min_burst INTEGER 5 accounts in the window (each side) for a burst
-- params: max_degree INTEGER 500 a burst larger than this links nothing
-- params: neighbours INTEGER 16 later sign-ups an account of a burst too large to pair in full is tied to
with signed as (
    select
        account_id,
        coalesce(email_domain, '') || '|' || coalesce(signup_path, '') as value,
        epoch(created_at) as t
    from accounts
    where created_at is not null and account_id is not null
),
ordered as (
    select
        account_id,
        value,
        t,
        count(*) over (partition by value) as degree,
        -- the accounts of the value created within window_s of this one, itself included
        count(*) over (partition by value order by t
                       range between $window_s preceding and $window_s following) as burst,
        row_number() over (partition by value order by t, account_id) as pos
    from signed
),
steps as (
    -- a burst of up to 2 x neighbours + 1 accounts pairs them all (each of them has at most
    -- burst - 1 later sign-ups in the window); a larger one ties each to its next neighbours
    select account_id, value, t, degree, burst, pos,
           unnest(range(1, case when burst <= 2 * $neighbours + 1 then burst
                                else $neighbours + 1 end)) as step
    from ordered
    where burst between $min_burst and $max_degree
),
pairs as (
    select
        least(a.account_id, b.account_id) as src,
        greatest(a.account_id, b.account_id) as dst,
        a.value,
        a.degree,
        least(a.burst, b.burst) as burst
    from steps as a
    join ordered as b on b.value = a.value and b.pos = a.pos + a.step
    where b.t - a.t <= $window_s and b.burst between $min_burst and $max_degree
),
final as (
    select
        src,
        dst,
        'signup_burst' as kind,
        value,
        1.0 / ln(degree + $c) as weight,
        {'degree': degree, 'burst': burst} as evidence
    from pairs
)
select src, dst, kind, value, weight, evidence from final
