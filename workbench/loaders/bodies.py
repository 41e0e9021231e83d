"""Request and response bodies to canonical columns, in SQL: Anthropic Messages and OpenAI Chat
Completions, Completions and Responses.

The formats that carry API bodies (the native envelope, LiteLLM spend logs) first turn each
record into an *envelope* `e`: a struct whose fields are JSON fragments (see `ENVELOPE`), with
the request body in `e.request` and the response body in `e.response`. `stage_sql(env)` then
parses each record once with `json_transform`, validates it and selects the canonical
`requests` and `request_content` columns plus `_reason`/`_detail` for quarantine. All JSON work
happens inside DuckDB; no record is parsed in Python.
"""

from __future__ import annotations

import json

import duckdb

from workbench.loaders._commit import run

# Fields of the envelope, every one a JSON fragment so that wrong types can be reported.
ENVELOPE_FIELDS = ("request_id", "timestamp", "account_id", "org_id", "api_key_id",
                   "end_user_id", "client_ip", "user_agent", "country", "access_path", "endpoint",
                   "model", "status", "latency_ms", "input_tokens", "output_tokens", "request",
                   "response")
ENVELOPE = json.dumps({f: "JSON" for f in ENVELOPE_FIELDS})
_REQ = json.dumps({f: "JSON" for f in (
    "model", "messages", "system", "max_tokens", "max_completion_tokens", "max_output_tokens",
    "temperature", "top_p", "top_k", "n", "stream", "logprobs", "top_logprobs", "logit_bias",
    "thinking", "reasoning_effort", "reasoning", "tools", "tool_choice", "metadata", "user",
    "prompt", "input", "instructions", "anthropic_version")})
_RESP = json.dumps({f: "JSON" for f in (
    "type", "object", "content", "choices", "output", "output_text", "stop_reason", "status",
    "incomplete_details", "usage")})
_USAGE = json.dumps({
    "input_tokens": "JSON", "output_tokens": "JSON", "prompt_tokens": "JSON",
    "completion_tokens": "JSON", "cache_read_input_tokens": "JSON",
    "prompt_tokens_details": {"cached_tokens": "JSON"},
    "input_tokens_details": {"cached_tokens": "JSON"},
    "completion_tokens_details": {"reasoning_tokens": "JSON"},
    "output_tokens_details": {"reasoning_tokens": "JSON"}})
_CHOICE = json.dumps({"message": {"content": "JSON"}, "text": "JSON", "finish_reason": "VARCHAR"})
_MSGS = json.dumps([{"role": "VARCHAR", "content": "JSON"}])
_TOOLS = json.dumps([{"name": "VARCHAR", "type": "VARCHAR", "function": {"name": "VARCHAR"}}])
_CHOICE_SETTING = json.dumps({"type": "VARCHAR", "name": "VARCHAR",
                              "function": {"name": "VARCHAR"}})
_THINKING = json.dumps({"type": "VARCHAR", "budget_tokens": "JSON"})
_OUTPUT = json.dumps([{"type": "VARCHAR", "content": "JSON"}])

MACROS = [
    # The JSON type of a fragment from its first character, without parsing it: fragments come
    # from json_transform / to_json / json(), which write minified JSON. Same names as json_type.
    "create or replace temp macro wb_jt(x) as case left(x::VARCHAR, 1) "
    "when '{' then 'OBJECT' when '[' then 'ARRAY' when '\"' then 'VARCHAR' when 'n' then 'NULL' "
    "when 't' then 'BOOLEAN' when 'f' then 'BOOLEAN' when '' then NULL "
    "else case when regexp_matches(x::VARCHAR, '[.eE]') then 'DOUBLE' "
    "when left(x::VARCHAR, 1) = '-' then 'BIGINT' else 'UBIGINT' end end",
    # The text of a scalar fragment (a string unescaped, a number or boolean as written).
    "create or replace temp macro wb_v(x) as case left(x::VARCHAR, 1) "
    "when '\"' then x->>'$' when '{' then NULL when '[' then NULL when 'n' then NULL "
    "else x::VARCHAR end",
    # A scalar JSON fragment as text; objects and arrays are a wrong type (NULL here).
    "create or replace temp macro wb_s(x) as wb_v(x)",
    # True when a present, non-null value failed to convert to its column's type.
    "create or replace temp macro wb_bad(x, v) as "
    "(x is not null and x::VARCHAR <> 'null' and v is null)",
    "create or replace temp macro wb_int(x) as try_cast(wb_v(x) as INTEGER)",
    "create or replace temp macro wb_dbl(x) as try_cast(wb_v(x) as DOUBLE)",
    "create or replace temp macro wb_bool(x) as "
    "case x::VARCHAR when 'true' then true when 'false' then false end",
    # Text of a message content: a string, or the text blocks of a block list joined by \n.
    "create or replace temp macro wb_text(c) as case wb_jt(c) "
    "when 'VARCHAR' then c->>'$' "
    "when 'ARRAY' then array_to_string(list_transform(list_filter(json_transform(c, "
    "'[{\"type\":\"VARCHAR\",\"text\":\"VARCHAR\"}]'), lambda b: b.type in "
    "('text', 'input_text', 'output_text') and b.text is not null), lambda b: b.text), chr(10)) "
    "end",
    # /24 for IPv4 (also IPv4-mapped IPv6), /48 for IPv6; NULL when not an address.
    "create or replace temp macro wb_ip_prefix(ip) as case "
    "when regexp_matches(ip, '^(::ffff:)?\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$') then "
    "regexp_extract(ip, '(\\d{1,3}\\.\\d{1,3}\\.\\d{1,3})\\.\\d{1,3}$', 1) || '.0/24' "
    "when regexp_matches(ip, '^[0-9A-Fa-f:]+(%.*)?$') and ip like '%:%' then "
    "array_to_string(list_transform((case when ip like '%::%' then "
    "list_concat(list_filter(string_split(split_part(split_part(ip, '%', 1), '::', 1), ':'), "
    "lambda h: h <> ''), ['0', '0', '0']) "
    "else string_split(ip, ':') end)[1:3], "
    "lambda h: coalesce(nullif(ltrim(lower(h), '0'), ''), '0')), ':') || '::/48' end",
    # Timestamp: RFC 3339 text with an offset (or any text when naive_ok), or epoch s / ms.
    "create or replace temp macro wb_ts(x, naive_ok) as case "
    "when wb_jt(x) in ('UBIGINT', 'BIGINT', 'DOUBLE') then try(to_timestamp(case when "
    "abs(x::VARCHAR::DOUBLE) >= 1e11 then x::VARCHAR::DOUBLE / 1000 else x::VARCHAR::DOUBLE end)) "
    "when wb_jt(x) = 'VARCHAR' and (naive_ok or regexp_matches(x->>'$', "
    "'\\d[T ]\\d.*([zZ]|[+-]\\d\\d(:?\\d\\d)?)$')) then try_cast(x->>'$' as TIMESTAMPTZ) end",
]


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temp macros the staging SQL uses on this connection."""
    for m in MACROS:
        run(con, m)


_INT_FIELDS = {  # canonical column -> JSON fragment expression
    "status": "e.status", "latency_ms": "e.latency_ms",
    "max_tokens": "coalesce(q.max_tokens, q.max_completion_tokens, q.max_output_tokens)",
    "top_k": "q.top_k", "top_logprobs": "q.top_logprobs",
    "thinking_budget": "th.budget_tokens",
    "input_tokens": "coalesce(u.input_tokens, u.prompt_tokens, e.input_tokens)",
    "output_tokens": "coalesce(u.output_tokens, u.completion_tokens, e.output_tokens)",
    "cache_read_tokens": "coalesce(u.cache_read_input_tokens, "
                         "u.prompt_tokens_details.cached_tokens, "
                         "u.input_tokens_details.cached_tokens)",
    "reasoning_tokens": "coalesce(u.completion_tokens_details.reasoning_tokens, "
                        "u.output_tokens_details.reasoning_tokens)",
}
_DBL_FIELDS = {"temperature": "q.temperature", "top_p": "q.top_p"}
_STR_FIELDS = ("request_id", "account_id", "org_id", "api_key_id", "end_user_id", "client_ip",
               "user_agent", "country", "access_path", "endpoint", "model")
REQUIRED = ("request_id", "timestamp", "account_id", "model")


def stage_sql(env: str, naive_ts: bool = False) -> str:
    """SQL selecting staged rows from `env`, a query with columns
    `_line, _seq, _raw, _bytes, _utf8, _json_ok, _jt, e` (e: struct of ENVELOPE fragments)."""
    ints = ",\n    ".join(f"{v} as j_{k}" for k, v in _INT_FIELDS.items())
    dbls = ",\n    ".join(f"{v} as j_{k}" for k, v in _DBL_FIELDS.items())
    wrong = [f"case when wb_jt(e.{f}) in ('OBJECT', 'ARRAY') then '{f} (text)' end"
             for f in _STR_FIELDS]
    wrong += [f"case when wb_bad(j_{k}, wb_int(j_{k})) then '{k} (integer)' end"
              for k in _INT_FIELDS]
    wrong += [f"case when wb_bad(j_{k}, wb_dbl(j_{k})) then '{k} (number)' end"
              for k in _DBL_FIELDS]
    wrong += [f"case when e.{f} is not null and wb_jt(e.{f}) not in ('OBJECT', 'NULL') "
              f"then '{f} (object)' end" for f in ("request", "response")]
    wrong += ["case when wb_bad(q.stream, wb_bool(q.stream)) then 'stream (boolean)' end",
              "case when wb_bad(q.n, wb_int(q.n)) then 'n (integer)' end"]
    missing = [f"case when coalesce(e.{f}->>'$', '') = '' then '{f}' end"
               for f in REQUIRED if f != "model"]
    missing.append("case when coalesce(e.model->>'$', q.model->>'$', '') = '' then 'model' end")
    return f"""
with env as ({env}),
b as (
  select *,
    case when e.request is not null and wb_jt(e.request) = 'OBJECT'
         then json_transform(e.request, '{_REQ}') end as q,
    case when e.response is not null and wb_jt(e.response) = 'OBJECT'
         then json_transform(e.response, '{_RESP}') end as r
  from env
),
c as (
  select *,
    json_transform(r.usage, '{_USAGE}') as u,
    json_transform(json_extract(r.choices, '$[0]'), '{_CHOICE}') as c0,
    json_transform(coalesce(q.messages, case when wb_jt(q.input) = 'ARRAY' then q.input end),
                   '{_MSGS}') as msgs,
    json_transform(q.thinking, '{_THINKING}') as th,
    json_transform(q.tool_choice, '{_CHOICE_SETTING}') as tc,
    wb_s(e.endpoint) as endpoint
  from b
),
d as (
  select *,
    {ints},
    {dbls},
    wb_ts(e.timestamp, {str(naive_ts).lower()}) as ts,
    list_filter(msgs, lambda m: m.role = 'user') as user_msgs,
    case wb_jt(q.logprobs) when 'BOOLEAN' then (q.logprobs->>'$')::BOOLEAN
      when 'UBIGINT' then (q.logprobs->>'$')::BIGINT > 0 end as j_logprobs,
    case when wb_jt(q.logprobs) = 'UBIGINT' then q.logprobs end as j_logprobs_n,
    case when q.system is not null then wb_text(q.system)
         when q.instructions is not null then wb_text(q.instructions)
         else nullif(array_to_string(list_transform(list_filter(msgs,
           lambda m: m.role in ('system', 'developer')), lambda m: wb_text(m.content)), chr(10)),
           '') end as _sys
  from c
),
v as (
  select *,
    case when not _utf8 then 'not_utf8'
         when not _json_ok or _jt <> 'OBJECT' then 'malformed_json'
         when concat_ws(', ', {', '.join(missing)}) <> '' then 'missing_field'
         when ts is null then 'bad_timestamp'
         when concat_ws(', ', {', '.join(wrong)}) <> '' then 'wrong_type'
    end as _reason
  from d
)
select _line, _seq, _raw, _bytes, _reason,
  case _reason
    when 'not_utf8' then 'line is not valid UTF-8 (bytes shown as \\xNN escapes)'
    when 'malformed_json' then case when _json_ok then 'line is JSON but not an object'
                                    else 'line is not valid JSON' end
    when 'missing_field' then 'missing required field(s): ' || concat_ws(', ', {', '.join(missing)})
    when 'bad_timestamp' then 'timestamp ' || left(e.timestamp::VARCHAR, 200) ||
      ' is not RFC 3339 with an offset, nor epoch seconds or milliseconds'
    when 'wrong_type' then 'wrong type for: ' || concat_ws(', ', {', '.join(wrong)})
  end as _detail,
  wb_s(e.request_id) as request_id,
  ts,
  wb_s(e.account_id) as account_id,
  wb_s(e.org_id) as org_id,
  wb_s(e.api_key_id) as api_key_id,
  coalesce(wb_s(e.end_user_id), wb_s(q.user), q.metadata->>'$.user_id') as end_user_id,
  wb_s(e.client_ip) as client_ip,
  wb_ip_prefix(wb_s(e.client_ip)) as ip_prefix,
  wb_s(e.user_agent) as user_agent,
  wb_s(e.country) as country,
  wb_s(e.access_path) as access_path,
  endpoint,
  case when endpoint like '%/messages' or q.anthropic_version is not null
            or r.type->>'$' = 'message' or q.thinking is not null or q.system is not null
         then 'anthropic'
       when regexp_matches(coalesce(endpoint, ''), 'completions|/responses')
            or r.object->>'$' in ('chat.completion', 'text_completion', 'response')
            or q.input is not null or q.prompt is not null or q.reasoning_effort is not null
            or q.max_completion_tokens is not null
            or list_has_any(list_transform(msgs, lambda m: m.role), ['system', 'developer'])
         then 'openai'
       else 'other' end as api_style,
  coalesce(wb_s(e.model), wb_s(q.model)) as model,
  wb_int(j_status) as status,
  wb_int(j_latency_ms) as latency_ms,
  wb_int(j_max_tokens) as max_tokens,
  wb_dbl(j_temperature) as temperature,
  wb_dbl(j_top_p) as top_p,
  wb_int(j_top_k) as top_k,
  case when q is not null then coalesce(wb_int(q.n), 1) end as n_choices,
  case when q is not null then coalesce(wb_bool(q.stream), false) end as stream,
  case when q is not null then coalesce(j_logprobs, false) end as logprobs,
  coalesce(wb_int(j_top_logprobs), wb_int(j_logprobs_n)) as top_logprobs,
  case when wb_jt(q.logit_bias) = 'OBJECT' then array_length(json_keys(q.logit_bias))
       when q is not null then 0 end::INTEGER as logit_bias_n,
  coalesce(th.type, wb_s(q.reasoning_effort), q.reasoning->>'$.effort') as thinking_mode,
  wb_int(j_thinking_budget) as thinking_budget,
  case when wb_jt(q.tools) = 'ARRAY' then json_array_length(q.tools)
       when q is not null then 0 end::INTEGER as tool_count,
  list_transform(json_transform(q.tools, '{_TOOLS}'),
                 lambda t: coalesce(t.name, t.function.name, t.type)) as tool_names,
  case wb_jt(q.tool_choice) when 'VARCHAR' then q.tool_choice->>'$'
       when 'OBJECT' then coalesce(tc.name, tc.function.name, tc.type) end as tool_choice,
  sha256(_sys) as system_hash,
  case when msgs is not null then array_length(msgs)
       when q.input is not null or q.prompt is not null then 1 end::INTEGER as n_messages,
  case when msgs is not null then array_length(user_msgs)
       when q.input is not null or q.prompt is not null then 1 end::INTEGER as n_user_turns,
  case when msgs is not null then wb_text(user_msgs[-1].content)
       when wb_jt(q.input) = 'VARCHAR' then q.input->>'$'
       when wb_jt(q.prompt) = 'VARCHAR' then q.prompt->>'$'
       when wb_jt(q.prompt) = 'ARRAY' then q.prompt->>'$[0]' end as prompt_text,
  length(prompt_text)::INTEGER as prompt_chars,
  case when r.content is not null then wb_text(r.content)
       when r.choices is not null then coalesce(wb_text(c0.message.content), c0.text->>'$')
       when wb_jt(r.output_text) = 'VARCHAR' then r.output_text->>'$'
       when r.output is not null then array_to_string(list_transform(list_filter(
         json_transform(r.output, '{_OUTPUT}'), lambda o: o.type = 'message'),
         lambda o: wb_text(o.content)), chr(10)) end as output_text,
  length(output_text)::INTEGER as output_chars,
  wb_int(j_input_tokens) as input_tokens,
  wb_int(j_output_tokens) as output_tokens,
  wb_int(j_cache_read_tokens) as cache_read_tokens,
  wb_int(j_reasoning_tokens) as reasoning_tokens,
  coalesce(r.stop_reason->>'$', c0.finish_reason, r.incomplete_details->>'$.reason',
           r.status->>'$') as stop_reason,
  _sys as system_prompt,
  coalesce(q.messages, q.input, q.prompt) as messages,
  q.tools as tools,
  e.response as response
from v
"""
