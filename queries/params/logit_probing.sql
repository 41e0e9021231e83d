-- id: 6eccb2d4-1c45-4f28-a7a0-83f8b29431b7
-- name: logit_probing
-- title: Logit probing: logit_bias sweeps with logprobs on tiny outputs
-- status: experimental
-- level: high
-- description: Detects accounts that send the same prompt over and over with logprobs requested,
--   a logit_bias over many tokens and max_tokens of 1 or 2, varying the bias: the query pattern of
--   attacks that recover a model's logits, hidden dimension or final layer.
-- entity: account
-- tags: atlas.aml.t0024.002, atlas.aml.t0040
-- references: Carlini et al., "Stealing Part of a Production Language Model", ICML 2024
-- references: Finlayson, Ren and Swayamdipta, "Logits of API-Protected LLMs Leak Proprietary Information", 2024
-- falsepositives: Classification pipelines that restrict output to label tokens with logit_bias and read logprobs (they vary the prompt, not the bias, so their repeats per prompt stay low)
-- falsepositives: Calibration research
-- portable: true
-- param: min_requests int 50 Minimum probing requests (logprobs, logit_bias, max_tokens at most max_tokens)
-- param: max_tokens int 2 Largest max_tokens that counts as a probe
-- param: min_share float 0.5 Share of the account's requests that are probes
-- param: min_repeats float 5.0 Probes per distinct prompt at or above which the prompt is being swept
-- param: full_repeats float 20.0 Probes per prompt at which the sweep part of the score reaches 1
with per_request as (
    select account_id, request_id, ts, logit_bias_n,
           case when coalesce(logprobs, false) and coalesce(logit_bias_n, 0) > 0
                 and max_tokens <= $max_tokens then 1 else 0 end as probe,
           -- the prompt's identity from metadata alone: same length and same billed input
           coalesce(cast(input_tokens as varchar), '?') || ':'
               || coalesce(cast(prompt_chars as varchar), '?') as prompt_key
    from requests
),
per_account as (
    select account_id, count(*) as requests, sum(probe) as probes,
           count(distinct case when probe = 1 then prompt_key end) as prompts,
           count(distinct case when probe = 1 then logit_bias_n end) as bias_sizes,
           max(case when probe = 1 then logit_bias_n end) as max_bias_tokens,
           min(ts) as first_seen, max(ts) as last_seen
    from per_request
    group by account_id
),
fired as (
    select *, probes * 1.0 / requests as share, probes * 1.0 / prompts as repeats
    from per_account
    where probes >= $min_requests and probes * 1.0 / requests >= $min_share
      and probes * 1.0 / prompts >= $min_repeats
),
examples as (
    select account_id, array_slice(array_agg(request_id), 1, 3) as request_ids
    from per_request
    where probe = 1 and account_id in (select account_id from fired)
    group by account_id
),
final as (
    select 'account' as entity_type, f.account_id as entity_id,
           f.share * (0.5 + 0.5 * least(1.0, f.repeats / $full_repeats)) as score,
           {'requests': f.requests, 'probes': f.probes, 'probe_share': round(f.share, 3),
            'distinct_prompts': f.prompts, 'probes_per_prompt': round(f.repeats, 1),
            'bias_set_sizes': f.bias_sizes, 'max_bias_tokens': f.max_bias_tokens,
            'min_repeats': $min_repeats, 'example_request_ids': e.request_ids} as evidence,
           f.first_seen, f.last_seen
    from fired as f
    left join examples as e on e.account_id = f.account_id
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
