-- kind: lockstep_template
-- title: Lockstep template use (CopyCatch)
-- description: Links accounts that hit the same rare templates in the same or adjacent window_s slots (Beutel et al., WWW 2013).
-- weight: min(1, distinct shared templates / full_at) / ln(mean template degree + c)
-- params: c DOUBLE 5.0 FRAUDAR's constant in 1 / ln(degree + c)
-- params: window_s DOUBLE 600.0 width of the lockstep window in seconds
-- params: max_degree INTEGER 300 a template used by more accounts is common and links nothing
-- params: min_templates INTEGER 3 distinct templates hit in lockstep for a link
-- params: full_at DOUBLE 10.0 distinct lockstep templates for full weight
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
rare as (
    select h.account_id, h.template_id, h.slot, d.degree
    from hits as h
    join degree as d on d.template_id = h.template_id
    where d.degree between 2 and $max_degree
),
together as (
    select distinct a.account_id as src, b.account_id as dst, a.template_id, a.degree
    from rare as a
    join rare as b
        on a.template_id = b.template_id and a.account_id < b.account_id
        and b.slot between a.slot - 1 and a.slot + 1
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
