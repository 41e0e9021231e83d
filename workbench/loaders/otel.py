"""OpenTelemetry spans of model calls from an OTLP/JSON trace export: one span, one request.

Three attribute conventions are read, each mapped field by field in `ATTRS` and the message
rules below (rendered in docs/loaders.md): the current GenAI semantic conventions
(`gen_ai.input.messages`, `gen_ai.usage.input_tokens`, …), the older OpenLLMetry attributes
(`gen_ai.prompt.N.content`, `gen_ai.usage.prompt_tokens`, `llm.usage.total_tokens`, …) and
OpenInference (`llm.model_name`, `llm.token_count.prompt`, `llm.input_messages.N.message.role`,
…). Where two conventions name the same thing, the first in that order wins.

An OTLP/JSON file holds `ExportTraceServiceRequest` objects, one per line as the collector's
file exporter writes them, or pretty-printed (any size: the spans are cut out streaming, each
with its resource and scope): `resourceSpans[] -> resource.attributes` and
`scopeSpans[] -> spans[]`, each span with `traceId`, `spanId`, `startTimeUnixNano`,
`endTimeUnixNano`, `status` and `attributes` (`{key, value}` with an OTLP AnyValue). A span
attribute wins over a resource attribute of the same name.

A span that is not a model call (no `gen_ai.*` or `llm.*` attribute, or an agent, tool or chain
span) is quarantined as `not_model_call`. Required, as for every format: a request id
(`gen_ai.response.id`, else `traceId:spanId`), the start time, an account (`ATTRS['account_id']`
or `--account-from ATTRIBUTE`) and a model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from workbench.loaders import _opts, _split
from workbench.loaders.bodies import too_large_detail
from workbench.loaders.native import stage_chunks

Progress = Callable[[int, int], None] | None

# canonical column -> attribute names tried in order: GenAI semconv, OpenLLMetry, OpenInference
# (`ip.X` is field X of the JSON text in `llm.invocation_parameters`).
ATTRS: dict[str, tuple[str, ...]] = {
    "request_id": ("gen_ai.response.id",),
    "account_id": ("account.id", "enduser.account.id"),
    "org_id": ("organization.id", "org.id"),
    "api_key_id": ("api_key.id",),
    "end_user_id": ("enduser.id", "user.id", "llm.user"),
    "conversation_id": ("gen_ai.conversation.id", "session.id"),
    "client_ip": ("client.address",),
    "user_agent": ("user_agent.original",),
    "country": ("client.geo.country.iso_code", "geo.country.iso_code"),
    "access_path": ("access_path",),
    "endpoint": ("url.path", "http.route"),
    "model": ("gen_ai.request.model", "gen_ai.response.model", "llm.request.model_name",
              "llm.model_name", "llm.response.model_name", "ip.model"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "status": ("http.response.status_code",),
    "max_tokens": ("gen_ai.request.max_tokens", "ip.max_tokens", "ip.max_completion_tokens",
                   "ip.max_output_tokens"),
    "temperature": ("gen_ai.request.temperature", "ip.temperature"),
    "top_p": ("gen_ai.request.top_p", "ip.top_p"),
    "top_k": ("gen_ai.request.top_k", "llm.top_k", "ip.top_k"),
    "n_choices": ("gen_ai.request.choice.count", "ip.n"),
    "stream": ("llm.is_streaming", "ip.stream"),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                     "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                      "llm.token_count.completion"),
    "cache_read_tokens": ("gen_ai.usage.cache_read.input_tokens",
                          "gen_ai.usage.cache_read_input_tokens",
                          "llm.token_count.prompt_details.cache_read"),
    "cache_write_tokens": ("gen_ai.usage.cache_creation.input_tokens",
                           "gen_ai.usage.cache_creation_input_tokens",
                           "llm.token_count.prompt_details.cache_write"),
    "reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens",
                         "llm.token_count.completion_details.reasoning"),
    "finish": ("gen_ai.response.finish_reasons", "gen_ai.completion.0.finish_reason",
               "llm.response.finish_reason", "llm.response.stop_reason", "llm.finish_reason"),
}
# Indexed (flattened) message attributes: prefix -> convention.
INDEXED = {"gen_ai.prompt": "OpenLLMetry input messages (`.role`, `.content`)",
           "gen_ai.completion": "OpenLLMetry output messages (`.role`, `.content`, "
                                "`.finish_reason`)",
           "llm.request.functions": "OpenLLMetry tool definitions (`.name`)",
           "llm.input_messages": "OpenInference input messages (`.message.role`, "
                                 "`.message.content`, `.message.contents.M.message_content.text`)",
           "llm.output_messages": "OpenInference output messages (same fields)",
           "llm.tools": "OpenInference tool definitions (`.tool.name`, `.tool.json_schema`)"}
JSON_ATTRS = {"gen_ai.input.messages": "semconv input messages "
                                       "`[{role, parts: [{type, content}]}]`",
              "gen_ai.output.messages": "semconv output messages (with `finish_reason`)",
              "gen_ai.system_instructions": "semconv system prompt (parts, or a string)",
              "gen_ai.tool.definitions": "semconv tool definitions (`name` or `function.name`)",
              "llm.invocation_parameters": "OpenInference request parameters (JSON text)"}
# Attributes understood but with no column: never reported as ignored.
KNOWN_UNMAPPED = (
    "gen_ai.operation.name", "gen_ai.output.type", "gen_ai.request.seed",
    "gen_ai.request.stop_sequences", "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty", "gen_ai.request.encoding_formats", "gen_ai.agent.",
    "gen_ai.openai.", "gen_ai.token.type", "gen_ai.usage.total_tokens", "llm.request.type",
    "llm.usage.total_tokens", "llm.token_count.total", "llm.headers", "llm.frequency_penalty",
    "llm.presence_penalty", "llm.chat.stop_sequences", "llm.cost.", "openinference.",
    "input.value", "input.mime_type", "output.value", "output.mime_type", "server.", "http.",
    "url.", "network.", "net.", "error.", "traceloop.", "otel.", "telemetry.", "metadata",
    "tag.tags")
_NOT_CALL_OPS = ("execute_tool", "invoke_agent", "create_agent")
_NOT_CALL_KINDS = ("CHAIN", "TOOL", "AGENT", "RETRIEVER", "RERANKER", "GUARDRAIL", "EVALUATOR",
                   "PROMPT")

_DOC = json.dumps({"resourceSpans": [{"resource": {"attributes": [
    {"key": "VARCHAR", "value": "JSON"}]}, "scopeSpans": [{"spans": ["JSON"]}]}]})
_SPAN = json.dumps({"traceId": "VARCHAR", "spanId": "VARCHAR", "name": "VARCHAR",
                    "startTimeUnixNano": "JSON", "endTimeUnixNano": "JSON",
                    "status": {"code": "JSON"},
                    "attributes": [{"key": "VARCHAR", "value": "JSON"}]})
_MSGS = json.dumps([{"role": "VARCHAR", "content": "JSON", "finish_reason": "VARCHAR",
                     "parts": [{"type": "VARCHAR", "content": "JSON"}]}])
_PARTS = json.dumps([{"type": "VARCHAR", "content": "JSON"}])
_TOOLS = json.dumps([{"name": "VARCHAR", "type": "VARCHAR", "function": {"name": "VARCHAR"}}])
_ARRAY = json.dumps({"values": ["JSON"]})

MACROS = [
    # An OTLP AnyValue as a plain JSON fragment (intValue is a decimal string in OTLP/JSON).
    "create or replace temp macro wb_av1(v) as case "
    "when v is null then NULL "
    "when json_exists(v, '$.stringValue') then v->'$.stringValue' "
    "when json_exists(v, '$.intValue') then coalesce(to_json(try_cast(v->>'$.intValue' as "
    "BIGINT)), v->'$.intValue') "
    "when json_exists(v, '$.doubleValue') then v->'$.doubleValue' "
    "when json_exists(v, '$.boolValue') then v->'$.boolValue' "
    "else v end",
    "create or replace temp macro wb_av(v) as case "
    "when json_exists(v, '$.arrayValue') then to_json(list_transform(coalesce(json_transform("
    f"json_extract(v, '$.arrayValue'), '{_ARRAY}').values, []), lambda x: wb_av1(x))) "
    "else wb_av1(v) end",
    # A span's attributes then its resource's, as [{k, v}] with v a plain JSON fragment.
    "create or replace temp macro wb_attrs(sa, ra) as list_transform(list_concat("
    "coalesce(sa, []), coalesce(ra, [])), lambda a: {'k': a.key, 'v': wb_av(a.value)})",
    # The first value of attribute k (so a span attribute wins over the resource's).
    "create or replace temp macro wb_get(al, k) as list_filter(al, lambda x: x.k = k)[1].v",
    # JSON held by an attribute: a string holding JSON text, or a structured (array) value.
    "create or replace temp macro wb_ojson(f) as case when left(f::VARCHAR, 1) = '\"' "
    "then case when json_valid(f->>'$') then (f->>'$')::JSON end "
    "when f is not null then f end",
    # Text of semantic-convention parts (type text), or of a plain content string.
    "create or replace temp macro wb_parts_text(p) as nullif(array_to_string(list_transform("
    "list_filter(p, lambda x: x.type = 'text'), "
    "lambda x: json_extract_string(x.content, '$')), chr(10)), '')",
    # Indexed attributes `<prefix>.<i>.<field>` of a span as [{i, f, v}], in index order.
    "create or replace temp macro wb_indexed(al, prefix) as list_sort(list_transform("
    "list_filter(al, lambda a: starts_with(a.k, prefix || '.') and regexp_matches("
    "a.k[length(prefix) + 2:], '^[0-9]{1,6}\\.')), lambda a: {'i': split_part("
    "a.k[length(prefix) + 2:], '.', 1)::INTEGER, 'f': a.k[length(prefix) + 3 + length("
    "split_part(a.k[length(prefix) + 2:], '.', 1)):], 'v': a.v}))",
    "create or replace temp macro wb_ix_get(xs, i, f) as "
    "list_filter(xs, lambda x: x.i = i and x.f = f)[1].v",
    "create or replace temp macro wb_ix_idx(xs) as list_sort(list_distinct("
    "list_transform(xs, lambda x: x.i)))",
    # The text of one flattened message's content: a string (OpenLLMetry writes a block list
    # as its JSON text), or OpenInference `message.contents.M.message_content.text` parts.
    "create or replace temp macro wb_ix_text(xs, i, f) as coalesce(case when "
    "left(ltrim(wb_v(wb_ix_get(xs, i, f))), 2) = '[{' and json_valid(wb_v(wb_ix_get(xs, i, f)))"
    " then wb_text(wb_v(wb_ix_get(xs, i, f))::JSON) else wb_v(wb_ix_get(xs, i, f)) end, "
    "nullif(array_to_string(list_transform(list_filter(xs, lambda x: x.i = i and "
    "regexp_matches(x.f, '^message\\.contents\\.[0-9]+\\.message_content\\.text$')), "
    "lambda x: wb_v(x.v)), chr(10)), ''))",
    # Flattened messages as [{role, text}].
    "create or replace temp macro wb_ix_msgs(xs, role_f, content_f) as case when "
    "array_length(xs) > 0 then list_transform(wb_ix_idx(xs), lambda i: {'role': "
    "wb_v(wb_ix_get(xs, i, role_f)), 'text': wb_ix_text(xs, i, content_f)}) end",
]


def _scan(source: str) -> str:
    """Rows `(_line, _seq, _raw, _bytes, _pre, _pre_detail, ra, sp)`: one per span, or per bad
    record; `_seq` numbers them in file order (the spans of one line among themselves).

    `source` has the columns of `_stream.NUMBERED` (one OTLP export request a row)."""
    return f"""
with l as (
  select line as _line, seq, text as _txt, nbytes, utf8_ok, oversize,
    case when utf8_ok and not oversize
              and wb_object_start(text)
         then try(json_transform(text, '{_DOC}')) end as d
  from {source} where not wb_blank(text, chr(32) || chr(9) || chr(13) || chr(10))
),
bad as (
  select _line, seq, _txt as _raw, nbytes as _bytes,
    case when not utf8_ok then 'not_utf8' when oversize then 'too_large'
         else 'malformed_json' end as _pre,
    case when not utf8_ok then 'line is not valid UTF-8 (bytes shown as \\xNN escapes)'
         when oversize then {too_large_detail().replace('_bytes', 'nbytes')}
         when d is null then 'not a valid JSON object'
         else 'no resourceSpans list: not an OTLP/JSON trace export' end as _pre_detail
  from l where d is null or d.resourceSpans is null
),
rs as (select _line, seq, unnest(d.resourceSpans) as r,
             generate_subscripts(d.resourceSpans, 1) as i
      from l where d.resourceSpans is not null),
ss as (select _line, seq, i, r.resource.attributes as ra, unnest(r.scopeSpans) as s,
              generate_subscripts(r.scopeSpans, 1) as j from rs),
sp as (select _line, seq, i, j, ra, unnest(s.spans) as span,
              generate_subscripts(s.spans, 1) as k from ss),
u as (
  select _line, seq, i, j, k, span::VARCHAR as _raw, strlen(span::VARCHAR) as _bytes,
         NULL as _pre, NULL as _pre_detail, ra, json_transform(span, '{_SPAN}') as sp
  from sp
  union all by name
  select _line, seq, NULL as i, NULL as j, NULL as k, _raw, _bytes, _pre, _pre_detail,
         NULL as ra, NULL as sp from bad
)
-- Each span its own place: the duplicate check takes the first of a request_id by `_seq`.
select row_number() over (order by seq, i, j, k) as _seq,
       * exclude (seq, i, j, k) from u
"""


def _attr(name: str) -> str:
    if name.startswith("ip."):
        return f"json_extract(ip, '$.{name[3:]}')"
    return f"wb_get(al, '{name}')"


def _first(col: str) -> str:
    names = ATTRS[col]
    return _attr(names[0]) if len(names) == 1 else \
        "coalesce(" + ", ".join(_attr(n) for n in names) + ")"


def _known_sql() -> str:
    exact = {n for names in ATTRS.values() for n in names if not n.startswith("ip.")}
    exact |= set(JSON_ATTRS)
    prefixes = [p + "." for p in INDEXED] + [p for p in KNOWN_UNMAPPED if p.endswith(".")]
    exact |= {p for p in KNOWN_UNMAPPED if not p.endswith(".")}
    ex = ", ".join(f"'{n}'" for n in sorted(exact))
    pre = " or ".join(f"starts_with(k, '{p}')" for p in sorted(prefixes))
    return f"list_contains([{ex}], k) or {pre}"


def stage_sql(source: str, account_hint: str) -> str:
    """Staged rows (canonical columns, `_reason`, `_detail`) from OTLP records in `source`."""
    def cnt(col: str) -> str:
        return f"wb_int(f_{col})" if col in ("max_tokens", "top_k", "n_choices") else \
            f"wb_cnt(f_{col})"

    params = ("max_tokens", "top_k", "n_choices")  # what the caller sent: any integer
    int_cols = (*params, "input_tokens", "output_tokens", "cache_read_tokens",
                "cache_write_tokens", "reasoning_tokens")
    frags = ",\n    ".join(f"{_first(c)} as f_{c}" for c in (
        *int_cols, "temperature", "top_p", "stream", "status", "finish", "provider", "model",
        "request_id"))
    texts = ",\n  ".join(
        f"wb_s({_first(c)}) as {c}" for c in (
            "org_id", "api_key_id", "end_user_id", "conversation_id", "client_ip",
            "user_agent", "country", "access_path", "endpoint"))
    wrong = [f"case when wb_bad(f_{c}, {cnt(c)}) then '{c} (integer"
             f"{'' if c in params else ' >= 0'})' end" for c in int_cols]
    wrong += [f"case when wb_bad(f_{c}, wb_dbl(f_{c})) then '{c} (number)' end"
              for c in ("temperature", "top_p")]
    wrong += ["case when wb_bad(f_stream, wb_bool(f_stream)) then 'stream (boolean)' end",
              "case when wb_bad(f_status, wb_status(f_status)) "
              "then 'status (HTTP status 100-599)' end"]
    account = ("case when getvariable('wb_acct_mode') = 'path' then wb_get(al, "
               "getvariable('wb_acct_attr')) when getvariable('wb_acct_mode') = 'literal' then "
               f"to_json(getvariable('wb_acct_value')) else {_first('account_id')} end")
    not_call = ", ".join(f"'{x}'" for x in _NOT_CALL_OPS + _NOT_CALL_KINDS)
    return f"""
with s as ({_scan(source)}),
a0 as (
  select *, wb_attrs(sp.attributes, ra) as al,
    list_transform(sp.attributes, lambda x: x.key) as _akeys
  from s
),
a as (
  select *, wb_ojson({_attr('llm.invocation_parameters')}) as ip from a0
),
f as (
  select *,
    {frags},
    {account} as f_account,
    try_cast(wb_v(sp.startTimeUnixNano) as HUGEINT) as f_start,
    try_cast(wb_v(sp.endTimeUnixNano) as HUGEINT) as f_end,
    wb_ojson({_attr('gen_ai.input.messages')}) as f_in,
    wb_ojson({_attr('gen_ai.output.messages')}) as f_out,
    wb_ojson({_attr('gen_ai.system_instructions')}) as f_sys,
    wb_ojson({_attr('gen_ai.tool.definitions')}) as f_tools,
    wb_indexed(al, 'gen_ai.prompt') as ol_in,
    wb_indexed(al, 'gen_ai.completion') as ol_out,
    wb_indexed(al, 'llm.request.functions') as ol_tools,
    wb_indexed(al, 'llm.input_messages') as oi_in,
    wb_indexed(al, 'llm.output_messages') as oi_out,
    wb_indexed(al, 'llm.tools') as oi_tools,
    coalesce(wb_v({_attr('gen_ai.operation.name')}),
             upper(wb_v({_attr('openinference.span.kind')}))) as _op,
    {_attr('error.type')} as f_error
  from a
),
g as (
  select *,
    case when wb_jt(f_in) = 'ARRAY' then list_transform(try(json_transform(f_in, '{_MSGS}')),
      lambda m: {{'role': m.role, 'text': coalesce(wb_parts_text(m.parts), wb_v(m.content))}})
    end as sc_in,
    case when wb_jt(f_out) = 'ARRAY' then try(json_transform(f_out, '{_MSGS}')) end as sc_out,
    case when wb_jt(f_sys) = 'ARRAY' then wb_parts_text(try(json_transform(f_sys, '{_PARTS}')))
         when wb_jt(f_sys) = 'VARCHAR' then f_sys->>'$'
         when f_sys is null then wb_v({_attr('gen_ai.system_instructions')}) end as sc_sys,
    case when wb_jt(f_tools) = 'ARRAY' then list_transform(try(json_transform(f_tools,
      '{_TOOLS}')), lambda t: coalesce(t.name, t.function.name, t.type)) end as sc_tools
  from f
),
h as (
  select *,
    coalesce(sc_in, wb_ix_msgs(ol_in, 'role', 'content'),
             wb_ix_msgs(oi_in, 'message.role', 'message.content')) as msgs,
    coalesce(wb_ix_msgs(ol_out, 'role', 'content'),
             wb_ix_msgs(oi_out, 'message.role', 'message.content')) as ix_out,
    coalesce(sc_tools,
      case when array_length(ol_tools) > 0 then list_transform(list_filter(ol_tools,
        lambda x: x.f = 'name'), lambda x: wb_v(x.v)) end,
      case when array_length(oi_tools) > 0 then list_transform(wb_ix_idx(oi_tools),
        lambda i: coalesce(wb_v(wb_ix_get(oi_tools, i, 'tool.name')),
          json_extract_string(wb_v(wb_ix_get(oi_tools, i, 'tool.json_schema')),
                              '$.function.name'),
          json_extract_string(wb_v(wb_ix_get(oi_tools, i, 'tool.json_schema')), '$.name')))
      end) as tool_list,
    array_length(list_filter(_akeys, lambda k: starts_with(k, 'gen_ai.')
                                               or starts_with(k, 'llm.'))) > 0
      and coalesce(_op, '') not in ({not_call}) as _is_call
  from g
),
k as (
  select *,
    coalesce(sc_sys, nullif(array_to_string(list_transform(list_filter(msgs,
      lambda m: m.role in ('system', 'developer')), lambda m: m.text), chr(10)), '')) as _sys,
    list_filter(msgs, lambda m: m.role in ('user', 'human')) as user_msgs,
    coalesce(wb_parts_text(sc_out[1].parts), wb_v(sc_out[1].content), ix_out[1].text)
      as _output,
    coalesce(case when left(f_finish::VARCHAR, 1) = '[' then wb_v(f_finish->'$[0]')
                  else wb_v(f_finish) end, sc_out[1].finish_reason) as _stop_raw,
    case when f_start between 1 and 253402300799999999999
         then make_timestamp((f_start // 1000)::BIGINT)::TIMESTAMPTZ end as ts,
    coalesce(wb_s(f_request_id), sp.traceId || ':' || sp.spanId) as request_id,
    wb_s(f_account) as account_id,
    wb_s(f_model) as model,
    list_filter(_akeys, lambda k: not ({_known_sql()})) as _unknown
  from h
),
v as (
  select *,
    concat_ws(', ',
      case when request_id is null or request_id = ':' then 'request_id' end,
      case when sp.startTimeUnixNano is null then 'startTimeUnixNano' end,
      case when account_id is null then 'account_id (tried span and resource attributes '
        || '{account_hint}; give --account-from ATTRIBUTE, e.g. --account-from enduser.id, '
        || 'or --account-from =ID for one account)' end,
      case when model is null then 'model' end) as _missing,
    concat_ws(', ', {', '.join(wrong)}) as _wrong
  from k
),
w as (
  select *,
    case when _pre is not null then _pre
         when not _is_call then 'not_model_call'
         when _missing <> '' then 'missing_field'
         when ts is null then 'bad_timestamp'
         when _wrong <> '' then 'wrong_type' end as _reason
  from v
)
select _line, _seq, _raw, _bytes, _reason,
  case _reason
    when 'not_model_call' then 'span ' || coalesce(sp.name, '?') || ' is not a model call ('
      || coalesce('operation ' || _op, 'no gen_ai.* or llm.* attribute') || ')'
    when 'missing_field' then 'missing required field(s): ' || _missing
    when 'bad_timestamp' then 'startTimeUnixNano ' || left(sp.startTimeUnixNano::VARCHAR, 100)
      || ' is not a time in years 1970-9999'
    when 'wrong_type' then 'wrong type for: ' || _wrong
    else _pre_detail end as _detail,
  _unknown,
  request_id, ts, account_id,
  {texts},
  wb_ip_prefix(wb_s({_attr('client.address')})) as ip_prefix,
  case lower(coalesce(wb_v(f_provider), ''))
    when 'anthropic' then 'anthropic' when 'openai' then 'openai'
    when 'azure.ai.openai' then 'openai' when 'azure' then 'openai' else 'other' end
    as api_style,
  model,
  coalesce(wb_status(f_status), case when regexp_full_match(wb_v(f_error), '[1-5][0-9][0-9]')
    then wb_v(f_error)::INTEGER end) as status,
  case when f_end >= f_start then try_cast((f_end - f_start) // 1000000 as INTEGER) end
    as latency_ms,
  {cnt('max_tokens')} as max_tokens,
  wb_dbl(f_temperature) as temperature,
  wb_dbl(f_top_p) as top_p,
  {cnt('top_k')} as top_k,
  coalesce({cnt('n_choices')}, case when _op in ('chat', 'text_completion',
    'generate_content') and f_in is not null then 1 end) as n_choices,
  wb_bool(f_stream) as stream,
  NULL::BOOLEAN as logprobs, NULL::INTEGER as top_logprobs, NULL::INTEGER as logit_bias_n,
  NULL::VARCHAR as thinking_mode, NULL::INTEGER as thinking_budget,
  array_length(tool_list)::INTEGER as tool_count,
  tool_list as tool_names,
  NULL::VARCHAR as tool_choice,
  sha256(_sys) as system_hash,
  array_length(msgs)::INTEGER as n_messages,
  array_length(user_msgs)::INTEGER as n_user_turns,
  user_msgs[-1].text as prompt_text,
  length(prompt_text)::INTEGER as prompt_chars,
  _output as output_text,
  length(_output)::INTEGER as output_chars,
  {cnt('input_tokens')} as input_tokens,
  {cnt('output_tokens')} as output_tokens,
  {cnt('cache_read_tokens')} as cache_read_tokens,
  {cnt('cache_write_tokens')} as cache_write_tokens,
  {cnt('reasoning_tokens')} as reasoning_tokens,
  wb_stop(coalesce(_stop_raw, case when sp.status.code::VARCHAR in ('2', '"STATUS_CODE_ERROR"')
                                   then 'error' end)) as stop_reason,
  _stop_raw as stop_reason_raw,
  _sys as system_prompt,
  coalesce(f_in, case when msgs is not null then to_json(msgs) end) as messages,
  coalesce(f_tools,
    case when array_length(ol_tools) > 0 then to_json(list_transform(wb_ix_idx(ol_tools),
      lambda i: {{'name': wb_v(wb_ix_get(ol_tools, i, 'name')),
                  'description': wb_v(wb_ix_get(ol_tools, i, 'description')),
                  'parameters': wb_ojson(wb_ix_get(ol_tools, i, 'parameters'))}})) end,
    case when array_length(oi_tools) > 0 then to_json(list_transform(wb_ix_idx(oi_tools),
      lambda i: coalesce(wb_ojson(wb_ix_get(oi_tools, i, 'tool.json_schema')),
                         to_json({{'name': wb_v(wb_ix_get(oi_tools, i, 'tool.name'))}})))) end)
    as tools,
  coalesce(f_out, case when ix_out is not null then to_json(ix_out) end) as response
from w
"""


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None,
          opts: _opts.Options | None = None) -> Iterator[None]:
    """Stage an OTLP/JSON trace export into `wb_stage`, one row per span.

    Example:
        >>> import workbench as wb, tempfile, pathlib, json
        >>> span = {"traceId": "t1", "spanId": "s1", "startTimeUnixNano": "1767225600000000000",
        ...     "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
        ...                    {"key": "account.id", "value": {"stringValue": "a1"}}]}
        >>> doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.json"
        >>> _ = p.write_text(json.dumps(doc) + "\\n")
        >>> wb.load(wb.open(), [p], progress=False).loaded
        1
    """
    opts = opts or _opts.Options()
    hint = opts.hint(", ".join(ATTRS["account_id"]))
    sql = stage_sql("chunk_in", hint)
    yield from stage_chunks(con, _split.read(path, _split.OTLP, on_progress), sql, opts,
                            macros=MACROS)
