-- The per-account totals cohort detectors pool: one pass over requests joined to features.
-- Written into account_profiles by workbench.cohorts.build_profiles.
with long_cut as (
    -- a long output, whatever the settings asked for: beyond nine in ten of the case's outputs
    select coalesce(quantile_disc(output_tokens, 0.9), 1e18) as p90
    from requests where output_tokens is not null
),
r as (
    select r.account_id, r.ts, r.access_path, r.user_agent, r.tool_count, r.thinking_mode,
           r.end_user_id, r.system_hash,
           case when coalesce(array_length(r.tool_names), 0) >= 2
                then array_to_string(list_sort(r.tool_names), ',') end as tool_set,
           r.thinking_budget, r.max_tokens, r.input_tokens, r.output_tokens, r.reasoning_tokens,
           coalesce(r.output_tokens, 0) >= (select p90 from long_cut) as long_output,
           f.template_id is not null as has_text, f.template_id, f.capability,
           hash(coalesce(r.prompt_text, r.request_id)) as prompt_hash,
           coalesce(f.cot_flag, false) as cot, coalesce(f.rubric_flag, false) as rubric,
           coalesce(f.sensitive_flag, false) as sensitive,
           coalesce(f.coercion_flag, false) as coercion
    from requests as r
    left join features as f on f.request_id = r.request_id
    where r.account_id is not null
),
final as (
    select
        account_id,
        count(*) as requests,
        min(ts) as first_seen,
        max(ts) as last_seen,
        count(distinct date_trunc('day', ts)) as active_days,
        count(distinct date_trunc('hour', ts)) as active_hours,
        count(*) filter (where has_text) as text_requests,
        count(*) filter (where has_text and (cot or rubric or sensitive or coercion)) as harvest_n,
        count(distinct prompt_hash) filter (where has_text and (cot or sensitive or coercion))
            as harvest_distinct,
        count(*) filter (where cot) as cot_n,
        count(*) filter (where rubric) as rubric_n,
        count(*) filter (where sensitive) as sensitive_n,
        count(*) filter (where coercion) as coercion_n,
        count(distinct template_id) as templates,
        count(distinct capability) as capabilities,
        count(*) filter (where coalesce(tool_count, 0) > 0) as tool_n,
        count(*) filter (where coalesce(tool_count, 0) > 0 and end_user_id is null
                           and system_hash is null) as headless_tool_n,
        count(*) filter (where thinking_mode is not null
                           and lower(thinking_mode) not in ('disabled', 'none', 'off', 'minimal')
                        ) as thinking_n,
        count(*) filter (where coalesce(max_tokens, 0) >= 8000
                           or coalesce(thinking_budget, 0) >= 8000
                           or coalesce(reasoning_tokens, 0) > 0 or long_output)
            as long_output_n,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens,
        coalesce(sum(reasoning_tokens), 0) as reasoning_tokens,
        mode(access_path) as access_path,
        mode(user_agent) as user_agent,
        mode(tool_set) as tool_set
    from r
    group by account_id
)
select * from final
