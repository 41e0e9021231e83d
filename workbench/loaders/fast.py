"""The native loader's fast path: one typed parse of each line, for the records that need no
second look.

`bodies.stage_sql` can say why any record is bad, at the price of parsing the request and the
response again as JSON fragments and checking every field's type. Most real records are plain:
every field has its expected JSON type, no key repeats, the response is not streamed. For
those, `fast_sql` parses the line once with DuckDB's JSON reader and the schema given (the
request and response as `MAP(VARCHAR, JSON)`, which also refuses a key given twice, and the
messages and content blocks the same way), and computes the canonical columns with the same
macros. A record that is not plain in any way (`_fast` false), or that the fast path would
quarantine, is staged again by `bodies.stage_sql`, which gives the reason; so the two paths
agree on every record, and a test holds them to it.
"""

from __future__ import annotations

import json

from workbench.loaders import envelope
from workbench.loaders.bodies import (
    _CHOICE,
    _CHOICE_SETTING,
    _OUTPUT,
    _THINKING,
    _TOOLS,
)

_MAP = "MAP(VARCHAR, JSON)"
# The response is kept as the JSON the API returned (request_content.response) and read as a
# map from that: serialising a parsed map again would cost more than parsing it twice.
_LINE = json.dumps({**{f.name: "JSON" for f in envelope.FIELDS}, "request": _MAP})
_USAGE = json.dumps({
    "input_tokens": "JSON", "output_tokens": "JSON", "prompt_tokens": "JSON",
    "completion_tokens": "JSON", "cache_read_input_tokens": "JSON",
    "cache_creation_input_tokens": "JSON",
    "prompt_tokens_details": {"cached_tokens": "JSON"},
    "input_tokens_details": {"cached_tokens": "JSON"},
    "completion_tokens_details": {"reasoning_tokens": "JSON"},
    "output_tokens_details": {"reasoning_tokens": "JSON"}})
_TEXT = ("request_id", "account_id", "org_id", "api_key_id", "end_user_id", "client_ip",
         "user_agent", "country", "access_path", "endpoint", "conversation_id", "model",
         "stop_reason")
_COUNTS = ("latency_ms", "input_tokens", "output_tokens", "cache_read_tokens",
           "cache_write_tokens", "reasoning_tokens")
_REQ_INTS = ("max_tokens", "max_completion_tokens", "max_output_tokens",
             "max_tokens_to_sample", "top_k", "n", "top_logprobs")
_REQ_TEXT = ("model", "user", "reasoning_effort", "anthropic_version")
_REQ_OBJECTS = ("metadata", "thinking", "reasoning", "logit_bias")
_RESP_TEXT = ("type", "object", "model", "stop_reason", "status", "output_text", "completion")
_USAGE_INTS = ("input_tokens", "output_tokens", "prompt_tokens", "completion_tokens",
               "cache_read_input_tokens", "cache_creation_input_tokens",
               "prompt_tokens_details.cached_tokens", "input_tokens_details.cached_tokens",
               "completion_tokens_details.reasoning_tokens",
               "output_tokens_details.reasoning_tokens")

MACROS = [
    # A fragment of one of the plain kinds, by its first character (NULL: absent).
    "create or replace temp macro wf_is(x, kinds) as "
    "(x is null or list_contains(kinds, left(x::VARCHAR, 1)))",
    "create or replace temp macro wf_count(x) as "
    "(x is null or regexp_full_match(x::VARCHAR, '[0-9]{1,9}'))",
    "create or replace temp macro wf_int(x) as "
    "(x is null or regexp_full_match(x::VARCHAR, '-?[0-9]{1,9}'))",
    "create or replace temp macro wf_num(x) as (x is null or (regexp_full_match(x::VARCHAR, "
    "'-?[0-9]{1,15}(\\.[0-9]{1,15})?') ))",
    "create or replace temp macro wf_bool(x) as (x is null or x::VARCHAR in ('true', 'false'))",
    # A list of JSON objects parsed as maps: NULL elements mean a key given twice or not an
    # object.
    "create or replace temp macro wf_maps_ok(ms) as (ms is not null and "
    "array_length(list_filter(ms, lambda wf_m: wf_m is null)) = 0)",
]


def _plain(kinds: str, x: str) -> str:
    return f"wf_is({x}, [{', '.join(repr(k) for k in kinds)}])"


def fast_sql() -> str:
    """The fast staging query over `chunk_in`: the columns of `bodies.stage_sql` plus `_fast`,
    true for the records it stages exactly as the slow path would (the others: redo them)."""
    known = ", ".join(f"'{n}'" for n in envelope.NAMES)
    envelope_ok = " and ".join(
        [_plain('"', f"j.{f}") for f in _TEXT]
        + [f"wf_count(j.{f})" for f in _COUNTS]
        + ["wf_bool(j.stream)", "(wb_status(j.status) is not null or j.status is null)",
           "wb_ts(j.timestamp, false) is not null"])
    request_ok = " and ".join(
        [f"wf_int(rq['{f}'])" for f in _REQ_INTS]
        + [_plain('"', f"rq['{f}']") for f in _REQ_TEXT]
        + [_plain("{", f"rq['{f}']") for f in _REQ_OBJECTS]
        + [f"wf_num(rq['{f}'])" for f in ("temperature", "top_p")]
        + ["wf_bool(rq['stream'])",
           "(rq['logprobs'] is null or rq['logprobs']::VARCHAR in ('true', 'false') or "
           "regexp_full_match(rq['logprobs']::VARCHAR, '[0-9]{1,9}'))",
           _plain('"{', "rq['tool_choice']"), _plain("[", "rq['tools']"),
           _plain("[", "rq['functions']"), _plain('"[', "rq['system']"),
           _plain('"[', "rq['instructions']"), _plain("[", "rq['messages']"),
           _plain('"[', "rq['input']"), _plain('"[', "rq['prompt']"),
           "wf_int(th.budget_tokens)", _plain('"', "json_extract(rq['metadata'], '$.user_id')")])
    usage_ok = " and ".join(f"wf_count(us.{f})" for f in _USAGE_INTS)
    response_ok = " and ".join(
        [_plain('"', f"rm['{f}']") for f in _RESP_TEXT]
        + [_plain("[", f"rm['{f}']") for f in ("content", "choices", "output")]
        + [_plain("{", "rm['usage']"), _plain("{", "rm['incomplete_details']"), usage_ok])
    messages_ok = ("(src is null or (wf_maps_ok(mm) and array_length(list_filter(mm, "
                   "lambda wf_x: not " + _plain('"', "wf_x['role']") + " or not "
                   + _plain('"[', "wf_x['content']") + " or (left(wf_x['content']::VARCHAR, 1) "
                   "= '[' and not wf_maps_ok(try(json_transform(wf_x['content'], "
                   "'[\"MAP(VARCHAR, JSON)\"]')))))) = 0))")
    return f"""
with p as (
  select line as _line, seq as _seq, text as _raw, nbytes as _bytes, utf8_ok, oversize,
    case when utf8_ok and not oversize and wb_object_start(text)
         then try(json_transform(text, '{_LINE}')) end as j
  from chunk_in where not wb_blank(text, ' ')
),
a as (
  select *, case when j is not null then json_keys(_raw) end as _keys,
    j.request as rq,
    case when left(j.response::VARCHAR, 1) = '{{'
         then try(json_transform(j.response, '"{_MAP}"')) end as rm,
    coalesce(j.request['messages'], case when left(j.request['input']::VARCHAR, 1) = '['
             then j.request['input'] end) as src
  from p
),
b as (
  select *,
    case when src is not null then try(json_transform(src, '["{_MAP}"]')) end as mm,
    json_transform(rm['usage'], '{_USAGE}') as us,
    json_transform(rq['thinking'], '{_THINKING}') as th,
    json_transform(rq['tool_choice'], '{_CHOICE_SETTING}') as tc,
    coalesce(rq['tools'], rq['functions']) as tools_j,
    case when left(rm['choices']::VARCHAR, 1) = '[' then
      json_transform(json_extract(rm['choices'], '$[0]'), '{_CHOICE}') end as c0,
    rq is not null and (list_contains(map_keys(rq), 'messages')
                        or list_contains(map_keys(rq), 'input')
                        or list_contains(map_keys(rq), 'prompt')) as _full
  from a
),
c as (
  select *,
    list_transform(mm, lambda wf_m: {{'role': wf_m['role']->>'$',
                                      'content': wf_m['content']}}) as msgs,
    wb_s(wb_account(j.account_id, _raw)) as account_id,
    nullif(j.endpoint->>'$', '') as endpoint
  from b
),
d as (
  select *,
    list_filter(msgs, lambda wf_m: wf_m.role = 'user') as user_msgs,
    case when rq['system'] is not null then wb_text(rq['system'])
         when rq['instructions'] is not null then wb_text(rq['instructions'])
         else nullif(array_to_string(list_transform(list_filter(msgs,
           lambda wf_m: wf_m.role in ('system', 'developer')), lambda wf_m: wb_text(wf_m.content)),
           chr(10)), '') end as _sys,
    coalesce(wb_v(rm['stop_reason']), wb_v(c0.finish_reason),
             case when wb_v(rm['status']) = 'incomplete'
                  then wb_v(json_extract(rm['incomplete_details'], '$.reason')) end,
             wb_v(rm['status']), wb_v(j.stop_reason)) as _stop_raw,
    coalesce(nullif(j.model->>'$', ''), nullif(rq['model']->>'$', ''),
             nullif(rm['model']->>'$', '')) as model,
    case when us.prompt_tokens is not null then wb_cnt(us.prompt_tokens)
         when us.input_tokens is not null then try_cast(wb_cnt(us.input_tokens)::BIGINT
           + coalesce(wb_cnt(us.cache_read_input_tokens), 0)
           + coalesce(wb_cnt(us.cache_creation_input_tokens), 0) as INTEGER)
         else wb_cnt(j.input_tokens) end as input_tokens
  from c
),
f as (
  select *,
    j is not null and wb_dupkey(_keys) is null
      and (not list_contains(_keys, 'request') or rq is not null)
      and (not list_contains(_keys, 'response') or rm is not null)
      and (rm is null or array_length(list_filter(map_keys(rm),
           lambda wf_k: not regexp_full_match(wf_k, '[A-Za-z0-9_]{{1,64}}'))) = 0)
      and {envelope_ok}
      and {request_ok}
      and {response_ok}
      and {messages_ok}
      and nullif(j.request_id->>'$', '') is not null and account_id is not null
      and model is not null
      and (us.input_tokens is null or us.prompt_tokens is not null or input_tokens is not null)
      as _fast
  from d
)
-- _raw is the chunk's own text, set by native.fast_build without a copy.
select _line, _seq, NULL::VARCHAR as _raw, _bytes, NULL::VARCHAR as _reason,
  NULL::VARCHAR as _detail, _fast,
  list_filter(_keys, lambda k: not list_contains([{known}], k)) as _unknown,
  nullif(j.request_id->>'$', '') as request_id,
  wb_ts(j.timestamp, false) as ts,
  account_id,
  nullif(j.org_id->>'$', '') as org_id,
  nullif(j.api_key_id->>'$', '') as api_key_id,
  coalesce(nullif(j.end_user_id->>'$', ''), nullif(rq['user']->>'$', ''),
           wb_s(rq['metadata']->'$.user_id')) as end_user_id,
  nullif(j.conversation_id->>'$', '') as conversation_id,
  nullif(j.client_ip->>'$', '') as client_ip,
  wb_ip_prefix(nullif(j.client_ip->>'$', '')) as ip_prefix,
  nullif(j.user_agent->>'$', '') as user_agent,
  nullif(j.country->>'$', '') as country,
  nullif(j.access_path->>'$', '') as access_path,
  endpoint,
  case when endpoint like '%/messages' or rq['anthropic_version'] is not null
            or rm['type']->>'$' = 'message' or rq['thinking'] is not null
            or rq['system'] is not null
         then 'anthropic'
       when regexp_matches(coalesce(endpoint, ''), 'completions|/responses')
            or rm['object']->>'$' in ('chat.completion', 'text_completion', 'response')
            or rq['input'] is not null or rq['prompt'] is not null
            or rq['reasoning_effort'] is not null or rq['max_completion_tokens'] is not null
            or list_has_any(list_transform(msgs, lambda wf_m: wf_m.role),
                            ['system', 'developer'])
         then 'openai'
       else 'other' end as api_style,
  model,
  try_cast(j.status::VARCHAR as INTEGER) as status,
  try_cast(j.latency_ms::VARCHAR as INTEGER) as latency_ms,
  try_cast(coalesce(rq['max_tokens'], rq['max_completion_tokens'], rq['max_output_tokens'],
                    rq['max_tokens_to_sample'])::VARCHAR as INTEGER) as max_tokens,
  try_cast(rq['temperature']::VARCHAR as DOUBLE) as temperature,
  try_cast(rq['top_p']::VARCHAR as DOUBLE) as top_p,
  try_cast(rq['top_k']::VARCHAR as INTEGER) as top_k,
  coalesce(try_cast(rq['n']::VARCHAR as INTEGER), case when _full then 1 end) as n_choices,
  coalesce(case rq['stream']::VARCHAR when 'true' then true when 'false' then false end,
           case j.stream::VARCHAR when 'true' then true when 'false' then false end,
           case when _full then false end) as stream,
  case when rq['logprobs'] is null then case when _full then false end
       when rq['logprobs']::VARCHAR in ('true', 'false') then rq['logprobs']::VARCHAR = 'true'
       else try_cast(rq['logprobs']::VARCHAR as INTEGER) > 0 end as logprobs,
  coalesce(try_cast(rq['top_logprobs']::VARCHAR as INTEGER),
           case when rq['logprobs']::VARCHAR not in ('true', 'false')
                then try_cast(rq['logprobs']::VARCHAR as INTEGER) end) as top_logprobs,
  case when left(rq['logit_bias']::VARCHAR, 1) = '{{'
         then array_length(json_keys(rq['logit_bias']))
       when _full then 0 end::INTEGER as logit_bias_n,
  coalesce(th.type, wb_s(rq['reasoning_effort']), wb_s(rq['reasoning']->'$.effort'))
    as thinking_mode,
  try_cast(th.budget_tokens::VARCHAR as INTEGER) as thinking_budget,
  case when left(tools_j::VARCHAR, 1) = '[' then json_array_length(tools_j)
       when _full then 0 end::INTEGER as tool_count,
  list_transform(json_transform(tools_j, '{_TOOLS}'),
                 lambda t: coalesce(t.name, t.function.name, t.type)) as tool_names,
  case left(rq['tool_choice']::VARCHAR, 1) when '"' then rq['tool_choice']->>'$'
       when '{{' then coalesce(tc.name, tc.function.name, tc.type) end as tool_choice,
  sha256(_sys) as system_hash,
  case when msgs is not null then array_length(msgs)
       when rq['input'] is not null or rq['prompt'] is not null then 1 end::INTEGER
    as n_messages,
  case when msgs is not null then array_length(user_msgs)
       when rq['input'] is not null or rq['prompt'] is not null then 1 end::INTEGER
    as n_user_turns,
  case when msgs is not null then wb_text(user_msgs[-1].content)
       when left(rq['input']::VARCHAR, 1) = '"' then rq['input']->>'$'
       when left(rq['prompt']::VARCHAR, 1) = '"' then rq['prompt']->>'$'
       when left(rq['prompt']::VARCHAR, 1) = '[' then rq['prompt']->>'$[0]' end as prompt_text,
  length(prompt_text)::INTEGER as prompt_chars,
  case when rm['content'] is not null then wb_text(rm['content'])
       when rm['choices'] is not null then coalesce(wb_text(c0.message.content),
                                                    wb_v(c0.text))
       when left(rm['output_text']::VARCHAR, 1) = '"' then rm['output_text']->>'$'
       when left(rm['completion']::VARCHAR, 1) = '"' then rm['completion']->>'$'
       when rm['output'] is not null then array_to_string(list_transform(list_filter(
         json_transform(rm['output'], '{_OUTPUT}'), lambda o: o.type = 'message'),
         lambda o: wb_text(o.content)), chr(10)) end as output_text,
  length(output_text)::INTEGER as output_chars,
  input_tokens,
  wb_cnt(coalesce(us.output_tokens, us.completion_tokens, j.output_tokens)) as output_tokens,
  wb_cnt(coalesce(us.cache_read_input_tokens, us.prompt_tokens_details.cached_tokens,
                  us.input_tokens_details.cached_tokens, j.cache_read_tokens))
    as cache_read_tokens,
  wb_cnt(coalesce(us.cache_creation_input_tokens, j.cache_write_tokens)) as cache_write_tokens,
  wb_cnt(coalesce(us.completion_tokens_details.reasoning_tokens,
                  us.output_tokens_details.reasoning_tokens, j.reasoning_tokens))
    as reasoning_tokens,
  wb_stop(_stop_raw) as stop_reason,
  _stop_raw as stop_reason_raw,
  _sys as system_prompt,
  coalesce(rq['messages'], rq['input'], rq['prompt']) as messages,
  tools_j as tools,
  case when rm is not null then j.response end as response
from f
"""
