-- id: d33f2f56-73c9-4ceb-986c-ecde791ffeb3
-- name: agentic_harvesting
-- title: Headless agent fleet harvesting agentic and tool-use capability
-- status: experimental
-- level: high
-- description: Detects accounts that drive tool-using agent loops at volume with no product
--   around them (no end users declared, no system prompt on their tool-using requests), scored
--   up to high when headless accounts of other organisations share their IP prefixes or payment
--   fingerprints, as the accounts of one operation spread over direct, cloud and reseller paths
--   do. Volume is counted, not a share: ordinary chat sent beside the agent loops as
--   camouflage does not dilute it.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040, atlas.aml.t0021
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (hundreds of accounts over several access paths targeting agentic reasoning, tool use, coding and computer use)
-- references: Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016 (shared values discounted when common)
-- falsepositives: A developer running their own coding agent straight on the API (alone, so scored at most 0.5: medium)
-- falsepositives: An agent product's staging account run without its system prompt or end users (its card and addresses are shared only with the product's own accounts, which are not headless: medium)
-- portable: true
-- param: min_tool_requests int 50 Requests carrying tool definitions an account must send to be scored
-- param: max_end_user_share float 0.05 Share of its tool-using requests declaring an end user at or below which the account serves no one
-- param: max_system_share float 0.05 Share of its tool-using requests with a system prompt at or below which there is no product prompt (ignored when the case holds no system prompts: metadata-only logs)
-- param: full_peers int 3 Headless accounts of other organisations sharing an IP prefix or payment fingerprint at which the score reaches 1
-- param: max_value_accounts int 200 IP prefixes and payment fingerprints used by more accounts than this are too common to link on
with per_account as (
    select account_id, count(*) as requests,
           sum(case when coalesce(tool_count, 0) > 0 then 1 else 0 end) as tool_requests,
           sum(case when coalesce(tool_count, 0) > 0 and end_user_id is not null then 1 else 0
               end) as end_user_requests,
           sum(case when coalesce(tool_count, 0) > 0 and system_hash is not null then 1 else 0
               end) as system_requests,
           sum(case when system_hash is not null then 1 else 0 end) as any_system,
           coalesce(max(org_id), account_id) as org_id, min(access_path) as access_path,
           min(ts) as first_seen, max(ts) as last_seen
    from requests
    group by account_id
),
retained as (
    -- metadata-only logs carry no system prompt for anyone: the system test is then void
    select coalesce(sum(any_system), 0) > 0 as has_system from per_account
),
headless as (
    select p.*
    from per_account as p
    cross join retained as k
    where p.tool_requests >= $min_tool_requests
      and p.end_user_requests * 1.0 / p.tool_requests <= $max_end_user_share
      and (not k.has_system or p.system_requests * 1.0 / p.tool_requests <= $max_system_share)
),
shared_values as (
    select distinct account_id, 'ip_prefix:' || ip_prefix as value
    from requests
    where ip_prefix is not null
    union
    select account_id, 'payment:' || payment_fingerprint as value
    from accounts
    where payment_fingerprint is not null
),
value_degree as (
    select value, count(*) as accounts from shared_values group by value
),
links as (
    -- headless accounts meeting headless accounts of other organisations on a value that is
    -- not common (one company's own agent pipelines share a card and addresses by design)
    select h.account_id, o.account_id as peer, v.value, hp.access_path as peer_path
    from headless as h
    join shared_values as v on v.account_id = h.account_id
    join value_degree as d on d.value = v.value and d.accounts <= $max_value_accounts
    join shared_values as o on o.value = v.value and o.account_id <> h.account_id
    join headless as hp on hp.account_id = o.account_id and hp.org_id <> h.org_id
),
peers as (
    select account_id, count(distinct peer) as peers, count(distinct peer_path) as peer_paths,
           min(value) as example_value, count(distinct value) as shared_values
    from links
    group by account_id
),
examples as (
    select r.account_id, array_slice(array_agg(r.request_id order by r.ts), 1, 3) as request_ids
    from requests as r
    join headless as h on h.account_id = r.account_id
    where coalesce(r.tool_count, 0) > 0
    group by r.account_id
),
final as (
    select 'account' as entity_type, h.account_id as entity_id,
           0.5 + 0.5 * least(1.0, coalesce(p.peers, 0) * 1.0 / $full_peers) as score,
           {'requests': h.requests, 'tool_requests': h.tool_requests,
            'tool_share': round(h.tool_requests * 1.0 / h.requests, 3),
            'end_user_share': round(h.end_user_requests * 1.0 / h.tool_requests, 3),
            'system_prompt_share': round(h.system_requests * 1.0 / h.tool_requests, 3),
            'system_prompts_retained': k.has_system, 'access_path': h.access_path,
            'headless_peers': coalesce(p.peers, 0),
            'peer_access_paths': coalesce(p.peer_paths, 0),
            'shared_values': coalesce(p.shared_values, 0), 'example_shared_value': p.example_value,
            'full_peers': $full_peers, 'example_request_ids': e.request_ids} as evidence,
           h.first_seen, h.last_seen
    from headless as h
    cross join retained as k
    left join peers as p on p.account_id = h.account_id
    left join examples as e on e.account_id = h.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
