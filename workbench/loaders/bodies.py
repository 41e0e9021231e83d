"""Request and response bodies to canonical columns, in SQL: Anthropic Messages and OpenAI Chat
Completions, Completions and Responses, plain or streamed.

The formats that carry API bodies (the native envelope, LiteLLM, batch files) first turn each
record into an *envelope* `e` (see `envelope.py`): a struct whose fields are JSON fragments,
the request body in `e.request` and the response in `e.response`. `stage_sql(env)` then parses
the bodies once each with `json_transform`, validates every field and selects the canonical
`requests` and `request_content` columns plus `_reason`/`_detail` for quarantine. All JSON
work happens inside DuckDB; no record is parsed in Python.

Values are never invented: a count or flag the source does not record is NULL, and the API
defaults (one choice, not streamed, no tools, no logprobs) are used only when the record holds
the request body as it was sent (`_full`).
"""

from __future__ import annotations

import json

import duckdb

from workbench.loaders import _stream, streaming
from workbench.loaders._commit import run

_REQ = json.dumps({f: "JSON" for f in (
    "model", "messages", "system", "max_tokens", "max_completion_tokens", "max_output_tokens",
    "max_tokens_to_sample", "temperature", "top_p", "top_k", "n", "stream", "logprobs",
    "top_logprobs", "logit_bias", "thinking", "reasoning_effort", "reasoning", "tools",
    "functions", "tool_choice", "metadata", "user", "prompt", "input", "instructions",
    "anthropic_version")})
_RESP = json.dumps({
    "type": "JSON", "object": "JSON", "model": "JSON", "content": "JSON", "choices": "JSON",
    "output": "JSON", "output_text": "JSON", "stop_reason": "JSON", "status": "JSON",
    "incomplete_details": {"reason": "JSON"}, "completion": "JSON",
    "usage": {"input_tokens": "JSON", "output_tokens": "JSON", "prompt_tokens": "JSON",
              "completion_tokens": "JSON", "cache_read_input_tokens": "JSON",
              "cache_creation_input_tokens": "JSON",
              "prompt_tokens_details": {"cached_tokens": "JSON"},
              "input_tokens_details": {"cached_tokens": "JSON"},
              "completion_tokens_details": {"reasoning_tokens": "JSON"},
              "output_tokens_details": {"reasoning_tokens": "JSON"}}})
_CHOICE = json.dumps({"message": {"content": "JSON"}, "text": "JSON", "finish_reason": "JSON"})
_MSGS = json.dumps([{"role": "VARCHAR", "content": "JSON"}])
_TOOLS = json.dumps([{"name": "VARCHAR", "type": "VARCHAR", "function": {"name": "VARCHAR"}}])
_CHOICE_SETTING = json.dumps({"type": "VARCHAR", "name": "VARCHAR",
                              "function": {"name": "VARCHAR"}})
_THINKING = json.dumps({"type": "VARCHAR", "budget_tokens": "JSON"})
_OUTPUT = json.dumps([{"type": "VARCHAR", "content": "JSON"}])
_BLOCKS = json.dumps([{"type": "VARCHAR", "text": "JSON"}])

# The stop-reason vocabulary: canonical word <- the words sources use (compared lower-case).
STOP_REASONS: dict[str, tuple[str, ...]] = {
    "end_turn": ("end_turn", "stop", "completed", "eos", "eos_token", "end", "finish_reason_stop"),
    "max_tokens": ("max_tokens", "length", "max_output_tokens", "model_length",
                   "model_context_window_exceeded", "max_tokens_reached"),
    "stop_sequence": ("stop_sequence",),
    "tool_use": ("tool_use", "tool_calls", "function_call", "tool_call"),
    "content_filter": ("content_filter", "refusal", "safety", "recitation", "blocklist",
                       "prohibited_content", "spii", "guardrail_intervened"),
    "pause_turn": ("pause_turn",),
    "error": ("error", "errored", "failed", "failure", "incomplete"),
    "not_run": ("expired", "canceled", "cancelled"),
}


def _stop_macro() -> str:
    cases = " ".join(f"when lower(x) in ({', '.join(repr(w) for w in words)}) then '{canon}'"
                     for canon, words in STOP_REASONS.items())
    return (f"create or replace temp macro wb_stop(x) as case when x is null or x = '' then NULL "
            f"{cases} else 'other' end")


MACROS = [
    # The JSON type of a fragment from its first character, without parsing it: fragments come
    # from json_transform / to_json / json(), which write minified JSON.
    "create or replace temp macro wb_jt(x) as case when x is null then NULL "
    "else case left(x::VARCHAR, 1) "
    "when '{' then 'OBJECT' when '[' then 'ARRAY' when '\"' then 'VARCHAR' when 'n' then 'NULL' "
    "when 't' then 'BOOLEAN' when 'f' then 'BOOLEAN' when '' then NULL "
    "else case when contains(x::VARCHAR, '.') or contains(x::VARCHAR, 'e') "
    "or contains(x::VARCHAR, 'E') then 'DOUBLE' else 'BIGINT' end end end",
    # The text of a scalar fragment (a string unescaped, a number or boolean as written).
    "create or replace temp macro wb_v(x) as case left(x::VARCHAR, 1) "
    "when '\"' then x->>'$' when '{' then NULL when '[' then NULL when 'n' then NULL "
    "else x::VARCHAR end",
    # An id: a scalar as text, the empty string as NULL (an empty id is no id).
    "create or replace temp macro wb_s(x) as nullif(wb_v(x), '')",
    # A line holding nothing but blanks (trimming a long line whole costs a copy of it).
    "create or replace temp macro wb_blank(t, chars) as case when length(t) < 256 then "
    "trim(t, chars) = '' when trim(left(t, 256), chars) <> '' then false "
    "else trim(t, chars) = '' end",
    # Whether a record starts, after blanks, with `{`.
    "create or replace temp macro wb_object_start(t) as (starts_with(t, '{') or "
    "starts_with(ltrim(left(t, 4096), chr(32) || chr(9) || chr(13) || chr(10)), '{'))",
    # A request body as it was sent: an object holding its conversation (messages, input or
    # prompt). A gateway that keeps only metadata drops those, and then the API defaults
    # (one choice, no tools, not streamed) cannot be assumed.
    "create or replace temp macro wb_full(q) as coalesce(left(q::VARCHAR, 1) = '{' and "
    "(json_exists(q, '$.messages') or json_exists(q, '$.input') or "
    "json_exists(q, '$.prompt')), false)",
    # True when a field is absent, null or the empty string (a wrong type is not absent).
    "create or replace temp macro wb_absent(x) as "
    "(x is null or x::VARCHAR = 'null' or x::VARCHAR = '\"\"')",
    # True when a present, non-null value failed to convert to its column's type.
    "create or replace temp macro wb_bad(x, v) as "
    "(x is not null and x::VARCHAR <> 'null' and v is null)",
    # Integers: a JSON integer, an integral number (1500.0) or a string of digits; never a
    # fraction rounded (1.5 is a wrong type), never out of range.
    "create or replace temp macro wb_big(x) as case "
    "when regexp_full_match(x::VARCHAR, '-?[0-9]{1,19}') then try_cast(x::VARCHAR as BIGINT) "
    "when regexp_full_match(x::VARCHAR, '\"-?[0-9]{1,19}\"|-?[0-9]{1,19}\\.0+') "
    "then try_cast(regexp_extract(x::VARCHAR, '-?[0-9]+') as BIGINT) end",
    "create or replace temp macro wb_int(x) as try_cast(wb_big(x) as INTEGER)",
    # A count: an integer that is not negative.
    "create or replace temp macro wb_cnt(x) as "
    "try_cast(nullif(greatest(wb_big(x), -1), -1) as INTEGER)",
    "create or replace temp macro wb_dbl(x) as case when regexp_full_match(x::VARCHAR, "
    "'\"?-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?\"?') then case when isfinite(try_cast("
    "trim(x::VARCHAR, '\"') as DOUBLE)) then try_cast(trim(x::VARCHAR, '\"') as DOUBLE) end end",
    "create or replace temp macro wb_bool(x) as "
    "case x::VARCHAR when 'true' then true when 'false' then false end",
    # HTTP status: an integer from 100 to 599.
    "create or replace temp macro wb_status(x) as "
    "case when wb_int(x) between 100 and 599 then wb_int(x) end",
    # Text of a message content: a string, or the text blocks of a block list joined by \n.
    "create or replace temp macro wb_text(c) as case left(c::VARCHAR, 1) "
    "when '\"' then c->>'$' "
    f"when '[' then array_to_string(list_transform(list_filter(json_transform(c, '{_BLOCKS}'),"
    " lambda b: b.type in ('text', 'input_text', 'output_text') and "
    "left(b.text::VARCHAR, 1) = '\"'),"
    " lambda b: b.text->>'$'), chr(10)) end",
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
    # Timestamps as text: RFC 3339 with an offset within ±14:00 (or naive, taken as UTC, when
    # naive_ok), year 0001-9999.
    "create or replace temp macro wb_tstext(s, naive_ok) as case "
    "when regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}"
    "(\\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)') and "
    "(upper(right(s, 1)) = 'Z' or coalesce(try_cast(regexp_extract(s, "
    "'[+-]([0-9]{2})(:?([0-9]{2}))?$', 1) as INTEGER) * 60 + coalesce(try_cast(regexp_extract("
    "s, '[+-]([0-9]{2})(:?([0-9]{2}))?$', 3) as INTEGER), 0), 9999) <= 840 and coalesce("
    "try_cast(regexp_extract(s, '[+-]([0-9]{2})(:?([0-9]{2}))?$', 3) as INTEGER), 0) < 60)"
    " then try_cast(s as TIMESTAMPTZ) "
    "when naive_ok and regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}"
    "(:[0-9]{2}(\\.[0-9]{1,9})?)?') then try_cast(s || '+00:00' as TIMESTAMPTZ) end",
    # Strict conversions of text (CSV cells, JSON text fields) for typed columns.
    "create or replace temp macro wb_c_big(x) as case when regexp_full_match(trim(x), "
    "'-?[0-9]{1,19}(\\.0+)?') then try_cast(split_part(trim(x), '.', 1) as BIGINT) end",
    "create or replace temp macro wb_c_int(x) as try_cast(wb_c_big(x) as INTEGER)",
    "create or replace temp macro wb_c_dbl(x) as case when regexp_full_match(trim(x), "
    "'-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?') and isfinite(try_cast(trim(x) as DOUBLE)) "
    "then try_cast(trim(x) as DOUBLE) end",
    "create or replace temp macro wb_c_bool(x) as case lower(trim(x)) when 'true' then true "
    "when 't' then true when '1' then true when 'false' then false when 'f' then false "
    "when '0' then false end",
    "create or replace temp macro wb_c_ts(x) as wb_tstext(trim(x), true)",
    "create or replace temp macro wb_c_json(x) as case when json_valid(x) then x::JSON end",
    # Epoch seconds, or milliseconds from 10^11 on; years 1970-9999.
    "create or replace temp macro wb_epoch(v) as case "
    "when v is null or not isfinite(v) then NULL "
    "when abs(v) >= 1e11 then case when v / 1000 between 0 and 253402300799 "
    "then try(to_timestamp(v / 1000)) end "
    "when v between 0 and 253402300799 then try(to_timestamp(v)) end",
    "create or replace temp macro wb_ts(x, naive_ok) as case "
    "when wb_jt(x) in ('BIGINT', 'DOUBLE') then wb_epoch(try_cast(x::VARCHAR as DOUBLE)) "
    "when wb_jt(x) = 'VARCHAR' then wb_tstext(x->>'$', naive_ok) end",
    # The first key repeated in an object's key list, else NULL.
    "create or replace temp macro wb_dupkey(k) as case when array_length(k) > "
    "array_length(list_distinct(k)) then list_filter(k, lambda dk_x, dk_i: "
    "list_position(k, dk_x) < dk_i)[1] end",
    # A key repeated in a message or in one of its content blocks (where the text is read).
    "create or replace temp macro wb_dup_msgs(m) as case when left(m::VARCHAR, 1) = '[' then "
    "list_filter(list_transform(flatten(list_transform(json_transform(m, '[\"JSON\"]'), "
    "lambda dm_m: list_concat([dm_m], case when left(json_extract(dm_m, '$.content')::VARCHAR, "
    "1) = '[' then json_transform(json_extract(dm_m, '$.content'), '[\"JSON\"]') else [] "
    "end))), lambda dm_o: case when left(dm_o::VARCHAR, 1) = '{' then "
    "wb_dupkey(json_keys(dm_o)) end), lambda dm_d: dm_d is not null)[1] end",
    _stop_macro(),
]


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temp macros the staging SQL uses on this connection."""
    for m in MACROS + streaming.MACROS:
        run(con, m)


# canonical column -> (JSON fragment expression, converter macro, type named in wrong_type)
_INT_FIELDS: dict[str, tuple[str, str, str]] = {
    "status": ("e.status", "wb_status", "HTTP status 100-599"),
    "latency_ms": ("e.latency_ms", "wb_cnt", "integer >= 0"),
    # Request parameters are what the caller sent, valid or not: any integer.
    "max_tokens": ("coalesce(q.max_tokens, q.max_completion_tokens, q.max_output_tokens, "
                   "q.max_tokens_to_sample)", "wb_int", "integer"),
    "top_k": ("q.top_k", "wb_int", "integer"),
    "n_choices": ("q.n", "wb_int", "integer"),
    "top_logprobs": ("q.top_logprobs", "wb_int", "integer"),
    "thinking_budget": ("th.budget_tokens", "wb_int", "integer"),
    # What the provider measured cannot be negative.
    "output_tokens": ("coalesce(u.output_tokens, u.completion_tokens, e.output_tokens)",
                      "wb_cnt", "integer >= 0"),
    "cache_read_tokens": ("coalesce(u.cache_read_input_tokens, "
                          "u.prompt_tokens_details.cached_tokens, "
                          "u.input_tokens_details.cached_tokens, e.cache_read_tokens)",
                          "wb_cnt", "integer >= 0"),
    "cache_write_tokens": ("coalesce(u.cache_creation_input_tokens, e.cache_write_tokens)",
                           "wb_cnt", "integer >= 0"),
    "reasoning_tokens": ("coalesce(u.completion_tokens_details.reasoning_tokens, "
                         "u.output_tokens_details.reasoning_tokens, e.reasoning_tokens)",
                         "wb_cnt", "integer >= 0"),
}
_DBL_FIELDS = {"temperature": "q.temperature", "top_p": "q.top_p"}
_STR_FIELDS = ("request_id", "account_id", "org_id", "api_key_id", "end_user_id", "client_ip",
               "user_agent", "country", "access_path", "endpoint", "conversation_id", "model")
REQUIRED = ("request_id", "timestamp", "account_id", "model")


def too_large_detail() -> str:
    """SQL for the detail of a `too_large` record (its size is in `_bytes`)."""
    return (f"'record is ' || format('{{:,}}', _bytes) || ' bytes, over the limit of "
            f"{_stream.MAX_RECORD_BYTES:,} bytes (WORKBENCH_MAX_RECORD_BYTES); raw keeps its "
            f"head'")


def stage_sql(env: str, *, naive_ts: bool = False, required: tuple[str, ...] = REQUIRED,
              account_hint: str = "account_id") -> str:
    """SQL selecting staged rows from `env`, a query with columns `_line, _seq, _raw, _bytes,
    _utf8, _oversize, _json_ok, _jt, _unknown, _dup, _full, e` (`e`: the envelope struct,
    `_full`: e.request is the whole request as sent, `_unknown`: field names not understood,
    `_dup`: a key given twice). `account_hint` names the fields tried for the account."""
    ints = ",\n    ".join(f"{v[0]} as j_{k}" for k, v in _INT_FIELDS.items())
    dbls = ",\n    ".join(f"{v} as j_{k}" for k, v in _DBL_FIELDS.items())
    wrong = [f"case when wb_jt(e.{f}) in ('OBJECT', 'ARRAY') then '{f} (text)' end"
             for f in _STR_FIELDS]
    wrong += [f"case when wb_bad(j_{k}, c_{k}) then '{k} ({what})' end"
              for k, (_, _, what) in _INT_FIELDS.items()]
    wrong += [f"case when wb_bad(j_{k}, c_{k}) then '{k} (number)' end"
              for k in _DBL_FIELDS]
    conv = ",\n    ".join([f"{c}(j_{k}) as c_{k}" for k, (_, c, _) in _INT_FIELDS.items()]
                          + [f"wb_dbl(j_{k}) as c_{k}" for k in _DBL_FIELDS])
    wrong += [f"case when e.{f} is not null and wb_jt(e.{f}) not in ('OBJECT', 'NULL') "
              f"then '{f} (object)' end" for f in ("request",)]
    wrong += ["case when e.response is not null and wb_jt(e.response) not in "
              "('OBJECT', 'NULL', 'VARCHAR', 'ARRAY') then 'response (object)' end",
              "case when wb_bad(j_input_tokens, j_input_n) then 'input_tokens (integer >= 0)' "
              "end",
              "case when wb_bad(q.stream, c_qstream) then 'stream (boolean)' end",
              "case when wb_bad(e.stream, c_estream) then 'stream (boolean)' end",
              "case when q.logprobs is not null and q.logprobs::VARCHAR <> 'null' and "
              "j_logprobs is null then 'logprobs (boolean or integer >= 0)' end",
              "case when e.stop_reason is not null and wb_jt(e.stop_reason) not in "
              "('VARCHAR', 'NULL') then 'stop_reason (text)' end"]
    checks = {
        "request_id": "case when wb_absent(e.request_id) then 'request_id' end",
        "timestamp": "case when e.timestamp is null or e.timestamp::VARCHAR = 'null' "
                     "then 'timestamp' end",
        "account_id": f"case when wb_absent(e.account_id) then 'account_id (tried "
                      f"{account_hint}; give --account-from FIELD, or --account-from =ID "
                      f"for one account)' end",
        "model": "case when wb_absent(e.model) and wb_absent(q.model) and wb_absent(r.model) "
                 "then 'model' end",
    }
    missing = [checks[f] for f in required]
    ts_check = "ts is null" if "timestamp" in required else \
        "ts is null and e.timestamp is not null and e.timestamp::VARCHAR <> 'null'"
    return f"""
with env as ({env}),
a as (
  select *,
    case when wb_jt(e.request) = 'OBJECT' then json_transform(e.request, '{_REQ}') end as q,
    wb_jt(e.response) in ('VARCHAR', 'ARRAY') as _streamed,
    case wb_jt(e.response) when 'VARCHAR' then wb_sse(e.response->>'$')
      when 'ARRAY' then e.response end as _ev
  from env
),
b as (
  select *,
    case when wb_jt(e.response) = 'OBJECT' then e.response
         when _ev is not null then wb_stream_body(_ev) end as rj
  from a
),
c as (
  select *,
    case when wb_jt(rj) = 'OBJECT' then json_transform(rj, '{_RESP}') end as r,
    json_transform(coalesce(q.messages, case when wb_jt(q.input) = 'ARRAY' then q.input end),
                   '{_MSGS}') as msgs,
    json_transform(q.thinking, '{_THINKING}') as th,
    json_transform(q.tool_choice, '{_CHOICE_SETTING}') as tc,
    coalesce(q.tools, q.functions) as tools_j,
    wb_s(e.endpoint) as endpoint
  from b
),
d as (
  select *,
    r.usage as u,
    case when wb_jt(r.choices) = 'ARRAY' then
      json_transform(json_extract(r.choices, '$[0]'), '{_CHOICE}') end as c0,
    list_filter(msgs, lambda m: m.role = 'user') as user_msgs
  from c
),
f as (
  select *,
    {ints},
    {dbls},
    coalesce(u.prompt_tokens, u.input_tokens, e.input_tokens) as j_input_tokens,
    case when u.prompt_tokens is not null then wb_cnt(u.prompt_tokens)
         when u.input_tokens is not null then try_cast(wb_cnt(u.input_tokens)::BIGINT
           + coalesce(wb_cnt(u.cache_read_input_tokens), 0)
           + coalesce(wb_cnt(u.cache_creation_input_tokens), 0) as INTEGER)
         else wb_cnt(e.input_tokens) end as j_input_n,
    wb_ts(e.timestamp, {str(naive_ts).lower()}) as ts,
    case wb_jt(q.logprobs) when 'BOOLEAN' then (q.logprobs::VARCHAR = 'true')
      when 'BIGINT' then wb_cnt(q.logprobs) > 0
      when 'NULL' then case when _full then false end
      else case when q.logprobs is null and _full then false end end as j_logprobs,
    case when wb_jt(q.logprobs) = 'BIGINT' then q.logprobs end as j_logprobs_n,
    case when q.system is not null then wb_text(q.system)
         when q.instructions is not null then wb_text(q.instructions)
         else nullif(array_to_string(list_transform(list_filter(msgs,
           lambda m: m.role in ('system', 'developer')), lambda m: wb_text(m.content)), chr(10)),
           '') end as _sys,
    coalesce(wb_v(r.stop_reason), wb_v(c0.finish_reason),
             case when wb_v(r.status) = 'incomplete' then wb_v(r.incomplete_details.reason) end,
             wb_v(r.status), wb_v(e.stop_reason)) as _stop_raw
  from d
),
n as (
  select *,
    {conv},
    wb_bool(q.stream) as c_qstream, wb_bool(e.stream) as c_estream
  from f
),
v as (
  select *,
    concat_ws(', ', {', '.join(missing)}) as _missing,
    concat_ws(', ', {', '.join(wrong)}) as _wrong
  from n
),
w as (
  select *,
    case when not _utf8 then 'not_utf8'
         when _oversize then 'too_large'
         when not _json_ok or _jt <> 'OBJECT' then 'malformed_json'
         when _dup is not null then 'duplicate_key'
         when _missing <> '' then 'missing_field'
         when {ts_check} then 'bad_timestamp'
         when _wrong <> '' then 'wrong_type'
    end as _reason
  from v
)
select _line, _seq, _raw, _bytes, _reason,
  case _reason
    when 'not_utf8' then 'line is not valid UTF-8 (bytes shown as \\xNN escapes)'
    when 'too_large' then {too_large_detail()}
    when 'malformed_json' then case when _json_ok then 'record is JSON but not an object'
                                    else 'record is not valid JSON' end
    when 'duplicate_key' then 'key ' || _dup || ' appears twice in one object: the record is '
      || 'ambiguous (readers disagree on which value counts)'
    when 'missing_field' then 'missing required field(s): ' || _missing
    when 'bad_timestamp' then 'timestamp ' || left(e.timestamp::VARCHAR, 200) ||
      ' is not RFC 3339 with an offset within ±14:00, nor epoch seconds or milliseconds, '
      || 'in years 1970-9999'
    when 'wrong_type' then 'wrong type for: ' || _wrong
  end as _detail,
  _unknown,
  wb_s(e.request_id) as request_id,
  ts,
  wb_s(e.account_id) as account_id,
  wb_s(e.org_id) as org_id,
  wb_s(e.api_key_id) as api_key_id,
  coalesce(wb_s(e.end_user_id), wb_s(q.user), wb_s(q.metadata->'$.user_id')) as end_user_id,
  wb_s(e.conversation_id) as conversation_id,
  wb_s(e.client_ip) as client_ip,
  wb_ip_prefix(wb_s(e.client_ip)) as ip_prefix,
  wb_s(e.user_agent) as user_agent,
  wb_s(e.country) as country,
  wb_s(e.access_path) as access_path,
  endpoint,
  case when endpoint like '%/messages' or q.anthropic_version is not null
            or wb_v(r.type) = 'message' or q.thinking is not null or q.system is not null
         then 'anthropic'
       when regexp_matches(coalesce(endpoint, ''), 'completions|/responses')
            or wb_v(r.object) in ('chat.completion', 'text_completion', 'response')
            or q.input is not null or q.prompt is not null or q.reasoning_effort is not null
            or q.max_completion_tokens is not null
            or list_has_any(list_transform(msgs, lambda m: m.role), ['system', 'developer'])
         then 'openai'
       else 'other' end as api_style,
  coalesce(wb_s(e.model), wb_s(q.model), wb_s(r.model)) as model,
  c_status as status,
  c_latency_ms as latency_ms,
  c_max_tokens as max_tokens,
  c_temperature as temperature,
  c_top_p as top_p,
  c_top_k as top_k,
  coalesce(c_n_choices, case when _full then 1 end) as n_choices,
  coalesce(case when _streamed then true end, c_qstream, c_estream,
           case when _full then false end) as stream,
  j_logprobs as logprobs,
  coalesce(c_top_logprobs, wb_int(j_logprobs_n)) as top_logprobs,
  case when wb_jt(q.logit_bias) = 'OBJECT' then array_length(json_keys(q.logit_bias))
       when _full then 0 end::INTEGER as logit_bias_n,
  coalesce(th.type, wb_s(q.reasoning_effort), wb_s(q.reasoning->'$.effort')) as thinking_mode,
  c_thinking_budget as thinking_budget,
  case when wb_jt(tools_j) = 'ARRAY' then json_array_length(tools_j)
       when _full then 0 end::INTEGER as tool_count,
  list_transform(json_transform(tools_j, '{_TOOLS}'),
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
       when r.choices is not null then coalesce(wb_text(c0.message.content), wb_v(c0.text))
       when wb_jt(r.output_text) = 'VARCHAR' then r.output_text->>'$'
       when wb_jt(r.completion) = 'VARCHAR' then r.completion->>'$'
       when r.output is not null then array_to_string(list_transform(list_filter(
         json_transform(r.output, '{_OUTPUT}'), lambda o: o.type = 'message'),
         lambda o: wb_text(o.content)), chr(10)) end as output_text,
  length(output_text)::INTEGER as output_chars,
  j_input_n as input_tokens,
  c_output_tokens as output_tokens,
  c_cache_read_tokens as cache_read_tokens,
  c_cache_write_tokens as cache_write_tokens,
  c_reasoning_tokens as reasoning_tokens,
  wb_stop(_stop_raw) as stop_reason,
  _stop_raw as stop_reason_raw,
  _sys as system_prompt,
  coalesce(q.messages, q.input, q.prompt) as messages,
  tools_j as tools,
  rj as response
from w
"""
