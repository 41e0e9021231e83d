-- kind: lockstep_template
-- title: Lockstep template use (CopyCatch)
-- description: Links accounts that hit the same rare templates in the same or adjacent window_s slots (Beutel et al., WWW 2013). When more than 2 x neighbours + 1 accounts hit one template in two adjacent slots, each is paired, for those slots, with its neighbours accounts on either side of a ring of them ordered by the MD5 of the account id (the same order for every template), so their pairs grow with the accounts, not their square; a pair of such crowded slots that is not on the ring does not count that template.
-- weight: min(1, distinct shared templates / full_at) / ln(mean template degree + c)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: window_s DOUBLE 600.0 width of the lockstep window in seconds
-- params: max_degree INTEGER 300 a template used by more accounts is common and links nothing
-- params: min_templates INTEGER 3 distinct templates hit in lockstep for a link
-- params: full_at DOUBLE 10.0 distinct lockstep templates for full weight
-- params: neighbours INTEGER 16 ring neighbours on each side of an account in slots too crowded to pair in full
with hits as (
    select distinct r.account_id, f.template_id, floor(epoch(r.ts) / $window_s) as slot
    from requests as r
    join features as f on f.request_id = r.request_id
    where f.template_id is not null and r.account_id is not null
),
degree as (
    select template_id, count(distinct account_id) as degree
    from hits
    group by template_id
),
placed as (
    -- ring_key: the account's place on every ring, by the MD5 of its id
    select account_id, row_number() over (order by md5(account_id), account_id) as ring_key
    from hits
    group by account_id
),
spans as (
    -- span u holds the accounts that hit the template in slot u or u + 1: every pair within one
    -- slot of each other meets in a span, and no other pair does
    select distinct h.account_id, h.template_id, d.degree, p.ring_key, h.slot - t.o as span
    from hits as h
    join degree as d on d.template_id = h.template_id
    join placed as p on p.account_id = h.account_id,
    range(2) as t(o)
    where d.degree between 2 and $max_degree
),
members as (
    select
        account_id,
        template_id,
        degree,
        span,
        count(*) over (partition by template_id, span) as crowd,
        row_number() over (partition by template_id, span order by ring_key) as pos
    from spans
),
steps as (
    -- a span of up to 2 x neighbours + 1 accounts pairs them all (each pair once, from its
    -- earlier position); a more crowded one is a ring, each account tied to the next neighbours
    select account_id, template_id, degree, span, crowd, pos,
           unnest(range(1, case when crowd <= 2 * $neighbours + 1 then crowd - pos + 1
                                else $neighbours + 1 end)) as step
    from members
    where crowd >= 2
),
together as (
    select distinct
        least(a.account_id, b.account_id) as src,
        greatest(a.account_id, b.account_id) as dst,
        a.template_id,
        a.degree
    from steps as a
    join members as b
        on b.template_id = a.template_id and b.span = a.span
       and b.pos = case when a.crowd <= 2 * $neighbours + 1 then a.pos + a.step
                        else (a.pos - 1 + a.step) % a.crowd + 1 end
),
pairs as (
    select src, dst, count(*) as templates, avg(degree) as mean_degree, min(template_id) as example
    from together
    group by src, dst
),
final as (
    select
        src,
        dst,
        'lockstep_template' as kind,
        example as value,
        least(1.0, templates / $full_at) / ln(mean_degree + $c) as weight,
        {'templates': templates, 'mean_degree': mean_degree} as evidence
    from pairs
    where templates >= $min_templates
)
select src, dst, kind, value, weight, evidence from final
