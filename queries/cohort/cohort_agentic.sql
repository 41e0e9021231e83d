-- id: 2e0aeacd-5abf-4f66-a576-55f08e5effcc
-- name: cohort_agentic
-- title: Headless agent loops pooled over a cohort of organisations
-- status: experimental
-- level: high
-- description: Detects cohorts (one agent harness's tool set, a shared exit, card or client, a
--   linking community) whose members, belonging to several organisations, together drive
--   tool-using agent loops at volume with no product around them (no end user declared, no
--   system prompt on those requests), most members taking part: an operation that spreads its
--   agentic harvesting over many thin accounts and access paths, with ordinary chat beside it,
--   still needs the volume as a group. One company's own agent fleet is one organisation.
-- entity: cohort
-- tags: atlas.aml.t0024.002, atlas.aml.t0040, atlas.aml.t0021
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (hundreds of accounts over several access paths targeting agentic reasoning, tool use, coding and computer use)
-- falsepositives: Developers of several small companies running the same open-source coding agent on the API (each with its own card and exits; few share more than the tool set)
-- portable: true
-- requires: cohorts
-- param: min_members int 3 Members with traffic a cohort needs
-- param: min_orgs int 3 Organisations the members must belong to
-- param: min_headless int 200 Headless tool-using requests the cohort must send together
-- param: min_participation float 0.5 Share of the members that must each send headless tool-using requests, at least min_member_share of their traffic
-- param: min_member_share float 0.2 A member takes part when this share of its requests are headless tool-using ones
-- param: full_headless int 1000 Pooled headless requests at which the volume part of the score reaches 1
with m as (
    select c.cohort_id, c.kind, c.value, p.account_id, p.requests, p.tool_n,
           p.headless_tool_n, coalesce(a.org_id, p.account_id) as org_id, p.access_path,
           p.first_seen, p.last_seen
    from cohorts as c
    join account_profiles as p using (account_id)
    left join accounts as a using (account_id)
    where p.requests > 0
),
pooled as (
    select cohort_id, any_value(kind) as kind, any_value(value) as value,
           count(*) as members, count(distinct org_id) as orgs,
           count(distinct access_path) as access_paths, sum(requests) as requests,
           sum(tool_n) as tool_requests, sum(headless_tool_n) as headless,
           min(first_seen) as first_seen, max(last_seen) as last_seen,
           count(*) filter (where headless_tool_n > 0
                              and headless_tool_n >= $min_member_share * requests) as taking_part,
           list(account_id order by account_id)
               filter (where headless_tool_n > 0
                         and headless_tool_n >= $min_member_share * requests) as part
    from m
    group by cohort_id
    having count(*) >= $min_members
),
final as (
    select 'cohort' as entity_type, cohort_id as entity_id,
           -- most members taking part, then volume and organisations beyond the minimum
           round(least(1.0, taking_part * 1.0 / members / 0.8)
                 * (0.5 + 0.25 * least(1.0, headless * 1.0 / $full_headless)
                        + 0.25 * least(1.0, orgs * 1.0 / (2 * $min_orgs))), 4) as score,
           {'kind': kind, 'value': value, 'members_with_traffic': members, 'orgs': orgs,
            'access_paths': access_paths, 'requests': requests, 'tool_requests': tool_requests,
            'headless_tool_requests': headless,
            'headless_share': round(headless * 1.0 / requests, 3), 'taking_part': taking_part,
            'members': part} as evidence,
           first_seen, last_seen
    from pooled
    where orgs >= $min_orgs and headless >= $min_headless
      and taking_part >= greatest(3, $min_participation * members)
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
