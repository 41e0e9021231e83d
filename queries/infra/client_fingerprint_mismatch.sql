-- id: 037f92b6-99e5-40ca-97e8-0edb5b9d819a
-- name: client_fingerprint_mismatch
-- title: Client fingerprint mismatch
-- status: experimental
-- level: medium
-- description: Detects accounts whose declared client (SDK user agent) is inconsistent with the
--   shape of their requests: an Anthropic SDK sending OpenAI-style calls or the reverse, or
--   Anthropic-style calls carrying OpenAI-only parameters (n, logit_bias, logprobs).
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (traffic disguised behind varied clients and access paths)
-- references: Google Threat Intelligence Group, report on adversarial misuse of AI and model extraction, Feb 2026
-- falsepositives: Gateways and proxies that translate between API styles but forward the caller's user agent
-- portable: true
-- param: min_requests int 20 Minimum requests for an account to be scored
-- param: min_share float 0.5 Share of mismatched requests at or above which the account is reported
with per_request as (
    select account_id, request_id, ts, user_agent,
           case
               when (lower(user_agent) like '%anthropic%' or lower(user_agent) like '%claude%')
                    and (api_style = 'openai' or endpoint like '%/chat/completions%') then 1
               when (lower(user_agent) like 'openai/%' or lower(user_agent) like '%openai-python%'
                     or lower(user_agent) like '%openai-node%')
                    and (api_style = 'anthropic' or endpoint like '%/v1/messages%') then 1
               when api_style = 'anthropic'
                    and (coalesce(n_choices, 1) > 1 or coalesce(logit_bias_n, 0) > 0
                         or coalesce(logprobs, false)) then 1
               else 0 end as mismatch
    from requests
),
per_account as (
    select account_id, count(*) as requests, sum(mismatch) as mismatched,
           count(distinct user_agent) as user_agents, min(ts) as first_seen, max(ts) as last_seen
    from per_request
    group by account_id
),
fired as (
    select *, mismatched * 1.0 / requests as share
    from per_account
    where requests >= $min_requests and mismatched * 1.0 / requests >= $min_share
),
examples as (
    select account_id, array_slice(array_agg(request_id), 1, 3) as request_ids,
           max(user_agent) as user_agent
    from per_request
    where mismatch = 1 and account_id in (select account_id from fired)
    group by account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id, f.share as score,
           {'requests': f.requests, 'mismatched': f.mismatched, 'share': round(f.share, 3),
            'user_agents': f.user_agents, 'example_user_agent': e.user_agent,
            'min_share': $min_share, 'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
