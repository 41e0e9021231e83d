-- id: 42bc3071-37d8-482a-88d8-53337d61fef9
-- name: output_harvesting
-- title: Output harvesting parameters
-- status: experimental
-- level: high
-- description: Detects accounts whose request parameters are set to extract as much output as
--   possible: max_tokens at the model's cap with outputs filling it, one fixed sampling setting,
--   several completions per request (n > 1), and the thinking budget at its maximum.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (maximising reasoning output per request)
-- references: OpenAI, report on distillation of its models by competitors, Feb 2026
-- falsepositives: Long-form generation products that always ask for the maximum output
-- falsepositives: Evaluation runners with fixed sampling (they cross one signal, not three)
-- portable: true
-- param: min_requests int 50 Minimum requests for an account to be scored
-- param: cap_ratio float 0.95 A request is at the cap when max_tokens (or thinking_budget) is at least this share of the largest seen for its model
-- param: min_cap_fill_share float 0.3 Share of requests at the cap whose output filled it (stop reason max_tokens or length)
-- param: min_fixed_share float 0.95 Share of requests with the account's single most common (temperature, top_p, max_tokens)
-- param: min_multi_n_share float 0.2 Share of requests asking for n > 1 completions
-- param: min_thinking_max_share float 0.5 Share of requests with the thinking budget at the cap
-- param: min_signals int 2 Signals an account must cross to be reported (score = signals / 3, capped at 1)
with caps as (
    select model, max(max_tokens) as token_cap, max(thinking_budget) as thinking_cap
    from requests
    group by model
),
flags as (
    select r.account_id, r.request_id, r.ts, r.temperature, r.top_p, r.max_tokens,
           case when r.max_tokens >= $cap_ratio * c.token_cap
                 and r.stop_reason in ('max_tokens', 'length') then 1 else 0 end as cap_fill,
           case when coalesce(r.n_choices, 1) > 1 then 1 else 0 end as multi_n,
           case when c.thinking_cap > 0
                 and r.thinking_budget >= $cap_ratio * c.thinking_cap then 1 else 0 end as think_max
    from requests as r
    join caps as c on c.model = r.model
),
settings as (
    select account_id, count(*) as n
    from flags
    group by account_id, temperature, top_p, max_tokens
),
per_account as (
    select account_id, count(*) as requests, sum(cap_fill) * 1.0 / count(*) as cap_fill_share,
           sum(multi_n) * 1.0 / count(*) as multi_n_share,
           sum(think_max) * 1.0 / count(*) as thinking_max_share,
           min(ts) as first_seen, max(ts) as last_seen
    from flags
    group by account_id
),
signals as (
    select a.*, s.top_setting * 1.0 / a.requests as fixed_share,
           case when a.cap_fill_share >= $min_cap_fill_share then 1 else 0 end
           + case when s.top_setting * 1.0 / a.requests >= $min_fixed_share then 1 else 0 end
           + case when a.multi_n_share >= $min_multi_n_share then 1 else 0 end
           + case when a.thinking_max_share >= $min_thinking_max_share then 1 else 0 end
           as crossed
    from per_account as a
    join (select account_id, max(n) as top_setting from settings group by account_id) as s
        on s.account_id = a.account_id
    where a.requests >= $min_requests
),
fired as (
    select * from signals where crossed >= $min_signals
),
examples as (
    select account_id, array_slice(array_agg(request_id), 1, 3) as request_ids
    from flags
    where cap_fill + multi_n + think_max > 0 and account_id in (select account_id from fired)
    group by account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           least(1.0, f.crossed / 3.0) as score,
           {'requests': f.requests, 'signals_crossed': f.crossed,
            'cap_fill_share': round(f.cap_fill_share, 3), 'fixed_setting_share': round(f.fixed_share, 3),
            'multi_n_share': round(f.multi_n_share, 3),
            'thinking_max_share': round(f.thinking_max_share, 3),
            'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
