"""LiteLLM: `LiteLLM_SpendLogs` rows and `StandardLoggingPayload` objects, in LiteLLM's names.

`litellm` reads SpendLogs rows: one JSON object a line, the JSON array `/spend/logs` returns
(or a `{"data": [...]}` page), a pretty-printed row, or a Postgres CSV export of the table
(`\\copy "LiteLLM_SpendLogs" to ... csv header`). JSON columns (`metadata`, `messages`,
`response`, `proxy_server_request`) may hold JSON values or JSON text; naive times are UTC.
`litellm_payload` reads the `StandardLoggingPayload` LiteLLM's S3, GCS and Pub/Sub loggers
write. The mapping, field by field, is `MAPPING` below (rendered in docs/loaders.md); the
account is the first non-empty of `ACCOUNT_CHAIN`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from workbench.loaders import _opts, _split, _stream
from workbench.loaders._commit import run
from workbench.loaders.bodies import stage_sql
from workbench.loaders.canonical import add_rejects, reader
from workbench.loaders.native import record_columns, stage_chunks

#: a `{"data": [...]}` page of spend-log rows, pretty-printed or on one line as the API returns
#: it (a spend-log row has no `data` list of its own)
PAGE = _split.Rule(records=(("data", "*"),), one_line=True)

Progress = Callable[[int, int], None] | None
SPENDLOGS_COLUMNS = (
    "request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens",
    "completion_tokens", "startTime", "endTime", "request_duration_ms", "completionStartTime",
    "model", "model_id", "model_group", "custom_llm_provider", "api_base", "user", "metadata",
    "cache_hit", "cache_key", "request_tags", "team_id", "organization_id", "end_user",
    "requester_ip_address", "messages", "response", "session_id", "status",
    "mcp_namespaced_tool_name", "agent_id", "proxy_server_request")
PAYLOAD_FIELDS = (
    "id", "trace_id", "call_id", "call_type", "stream", "response_cost", "cost_breakdown",
    "response_cost_failure_debug_info", "status", "status_fields", "custom_llm_provider",
    "total_tokens", "prompt_tokens", "completion_tokens", "startTime", "endTime",
    "completionStartTime", "response_time", "model_map_information", "model", "model_id",
    "model_group", "api_base", "metadata", "cache_hit", "cache_key", "saved_cache_cost",
    "request_tags", "end_user", "requester_ip_address", "messages", "response", "error_str",
    "error_information", "model_parameters", "hidden_params", "guardrail_information",
    "standard_built_in_tools_params")
ACCOUNT_CHAIN = {
    "litellm": ("user", "metadata.user_api_key_user_id", "team_id",
                "metadata.user_api_key_team_id", "api_key", "metadata.user_api_key"),
    "litellm_payload": ("metadata.user_api_key_user_id", "metadata.user_api_key_team_id",
                        "metadata.user_api_key_hash"),
}
# LiteLLM call types -> the API path of the call.
CALL_TYPES = {"completion": "/chat/completions", "acompletion": "/chat/completions",
              "text_completion": "/completions", "atext_completion": "/completions",
              "responses": "/responses", "aresponses": "/responses",
              "anthropic_messages": "/v1/messages", "embedding": "/embeddings",
              "aembedding": "/embeddings", "image_generation": "/images/generations",
              "aimage_generation": "/images/generations", "moderation": "/moderations",
              "amoderation": "/moderations", "transcription": "/audio/transcriptions",
              "atranscription": "/audio/transcriptions", "speech": "/audio/speech",
              "aspeech": "/audio/speech", "rerank": "/rerank", "arerank": "/rerank"}

# canonical column -> where it comes from, per format (rendered in docs/loaders.md).
MAPPING: dict[str, dict[str, str]] = {
    "litellm": {
        "request_id": "`request_id`",
        "ts": "`startTime` (naive: UTC)",
        "latency_ms": "`request_duration_ms`, else `endTime − startTime`",
        "account_id": "first non-empty of " + ", ".join(f"`{f}`" for f in
                                                          ACCOUNT_CHAIN["litellm"]),
        "org_id": "`organization_id`, else `metadata.user_api_key_org_id`",
        "api_key_id": "`api_key` (LiteLLM stores a hash), else `metadata.user_api_key`",
        "end_user_id": "`end_user`, else `metadata.user_api_key_end_user_id`",
        "client_ip, ip_prefix": "`requester_ip_address`, else `metadata.requester_ip_address`",
        "user_agent": "`metadata.user_agent`, else `proxy_server_request.headers.user-agent`",
        "endpoint": "`call_type` as an API path (`acompletion` → `/chat/completions`, …)",
        "conversation_id": "`session_id`",
        "model": "`model`, else `model_group`",
        "status": "`status` `success` → 200; `failure` → "
                  "`metadata.error_information.error_code` when it is an HTTP status, else NULL",
        "input_tokens, output_tokens": "the response's `usage`, else `prompt_tokens`, "
                                       "`completion_tokens` (LiteLLM's `prompt_tokens` "
                                       "include cached tokens)",
        "cache_read_tokens": "`usage.prompt_tokens_details.cached_tokens` or "
                             "`usage.cache_read_input_tokens`, else the same in "
                             "`metadata.usage_object` / `metadata.additional_usage_values`",
        "cache_write_tokens": "`usage.cache_creation_input_tokens`, else the same in "
                              "`metadata.usage_object` / `metadata.additional_usage_values`",
        "request (body)": "`proxy_server_request` when recorded (not `{}`), else "
                          "`{model, messages}`; counts and flags the body does not hold "
                          "(tools, stream, logprobs, n) stay NULL without it",
        "response (body)": "`response` when recorded (not `{}`)",
    },
    "litellm_payload": {
        "request_id": "`id` (the `request_id` of the matching SpendLogs row)",
        "ts": "`startTime` (epoch seconds)",
        "latency_ms": "`(endTime − startTime) × 1000`",
        "account_id": "first non-empty of " + ", ".join(f"`{f}`" for f in
                                                          ACCOUNT_CHAIN["litellm_payload"]),
        "org_id": "`metadata.user_api_key_org_id`",
        "api_key_id": "`metadata.user_api_key_hash`",
        "end_user_id": "`end_user`, else `metadata.user_api_key_end_user_id`",
        "client_ip, ip_prefix": "`requester_ip_address`, else `metadata.requester_ip_address`",
        "user_agent": "`metadata.user_agent`, else "
                      "`metadata.requester_custom_headers.user-agent`",
        "endpoint": "`metadata.user_api_key_request_route`, else `call_type` as an API path",
        "model": "`model`, else `model_group`",
        "status": "`status` `success` → 200; `failure` → `error_information.error_code` when "
                  "it is an HTTP status, else NULL",
        "stream": "`stream`",
        "input_tokens, output_tokens": "the response's `usage`, else `prompt_tokens`, "
                                       "`completion_tokens`",
        "cache_read_tokens, cache_write_tokens, reasoning_tokens":
            "the response's `usage`, else `hidden_params.usage_object` / "
            "`metadata.usage_object`",
        "request (body)": "`model_parameters` (the optional parameters the caller sent) with "
                          "`model` and `messages`",
        "response (body)": "`response` when recorded (not `{}`)",
    },
}


def _nz(x: str) -> str:
    # A fragment that is a non-empty id, else NULL: "" is no id.
    return f"case when wb_s({x}) is not null then {x} end"


def _chain(fields: tuple[str, ...]) -> str:
    return "coalesce(" + ", ".join(_nz(_frag(f)) for f in fields) + ")"


def _frag(dotted: str) -> str:
    head, _, rest = dotted.partition(".")
    base = "m" if head == "metadata" else f'l."{head}"'
    return f"{base}->'$.{rest}'" if rest else base


_UNJSON = ("create or replace temp macro wb_unjson(x) as case when wb_jt(x) = 'VARCHAR' and "
           "left(ltrim(x->>'$'), 1) in ('{', '[') and json_valid(x->>'$') then json(x->>'$') "
           "else x end")
_CALL = ("create or replace temp macro wb_call_path(c) as case c " + " ".join(
    f"when '{k}' then '{v}'" for k, v in CALL_TYPES.items()) + " end")
MACROS = [_UNJSON, _CALL]


_PSR_UA = "psr->'$.headers.\"user-agent\"'"
_HDR_UA = "m->'$.requester_custom_headers.\"user-agent\"'"


def _status(status: str, code: str) -> str:
    return (f"to_json(case wb_v({status}) when 'success' then 200 when 'failure' then "
            f"case when regexp_full_match(wb_v({code}), '[1-5][0-9][0-9]') then "
            f"wb_v({code})::INTEGER end end)")


def spendlogs_env() -> str:
    """The envelope of a SpendLogs row `l` (metadata decoded as `m`)."""
    transform = json.dumps({c: "JSON" for c in SPENDLOGS_COLUMNS})
    known = ", ".join(f"'{c}'" for c in SPENDLOGS_COLUMNS)
    env = f"""struct_pack(
    request_id := l.request_id, timestamp := l."startTime",
    account_id := wb_account({_chain(ACCOUNT_CHAIN['litellm'])}, _raw),
    org_id := coalesce({_nz('l.organization_id')}, {_nz("m->'$.user_api_key_org_id'")}),
    api_key_id := coalesce({_nz('l.api_key')}, {_nz("m->'$.user_api_key'")}),
    end_user_id := coalesce({_nz('l.end_user')}, {_nz("m->'$.user_api_key_end_user_id'")}),
    client_ip := coalesce({_nz('l.requester_ip_address')},
                          {_nz("m->'$.requester_ip_address'")}),
    user_agent := coalesce({_nz("m->'$.user_agent'")}, {_nz(_PSR_UA)}),
    country := NULL::JSON, access_path := NULL::JSON,
    endpoint := to_json(wb_call_path(wb_v(l.call_type))),
    conversation_id := l.session_id,
    model := coalesce({_nz('l.model')}, {_nz('l.model_group')}),
    status := {_status('l.status', "m->'$.error_information.error_code'")},
    latency_ms := coalesce(l.request_duration_ms,
      to_json(epoch_ms(wb_ts(l."endTime", true)) - epoch_ms(wb_ts(l."startTime", true)))),
    input_tokens := l.prompt_tokens, output_tokens := l.completion_tokens,
    cache_read_tokens := coalesce(m->'$.usage_object.prompt_tokens_details.cached_tokens',
      m->'$.usage_object.cache_read_input_tokens',
      m->'$.additional_usage_values.cache_read_input_tokens'),
    cache_write_tokens := coalesce(m->'$.usage_object.cache_creation_input_tokens',
      m->'$.additional_usage_values.cache_creation_input_tokens'),
    reasoning_tokens := m->'$.usage_object.completion_tokens_details.reasoning_tokens',
    stop_reason := NULL::JSON, stream := NULL::JSON,
    request := case when _psr_full then psr
      when wb_jt(msgs) = 'ARRAY' and msgs::VARCHAR <> '[]'
        then json_object('model', l.model, 'messages', msgs)
      when wb_jt(msgs) = 'VARCHAR' then json_object('model', l.model, 'prompt', msgs) end,
    response := case when wb_jt(resp) = 'OBJECT' and resp::VARCHAR <> '{{}}' then resp end)"""
    return f"""
select _line, _seq, _raw, _bytes, _utf8, _oversize, _json_ok, _jt,
  list_filter(_keys, lambda k: not list_contains([{known}], k)) as _unknown,
  wb_dupkey(_keys) as _dup, _psr_full as _full,
  case when l is not null then {env} end as e
from (select *, j as l, wb_unjson(j.metadata) as m, wb_unjson(j.proxy_server_request) as psr,
             wb_unjson(j.messages) as msgs, wb_unjson(j.response) as resp,
             wb_full(wb_unjson(j.proxy_server_request)) as _psr_full
      from ({record_columns(transform)}))"""


def payload_env() -> str:
    """The envelope of a StandardLoggingPayload `l` (metadata as `m`)."""
    transform = json.dumps({c: "JSON" for c in PAYLOAD_FIELDS})
    known = ", ".join(f"'{c}'" for c in PAYLOAD_FIELDS)
    env = f"""struct_pack(
    request_id := l.id, timestamp := l."startTime",
    account_id := wb_account({_chain(ACCOUNT_CHAIN['litellm_payload'])}, _raw),
    org_id := {_nz("m->'$.user_api_key_org_id'")},
    api_key_id := {_nz("m->'$.user_api_key_hash'")},
    end_user_id := coalesce({_nz('l.end_user')}, {_nz("m->'$.user_api_key_end_user_id'")}),
    client_ip := coalesce({_nz('l.requester_ip_address')},
                          {_nz("m->'$.requester_ip_address'")}),
    user_agent := coalesce({_nz("m->'$.user_agent'")}, {_nz(_HDR_UA)}),
    country := NULL::JSON, access_path := NULL::JSON,
    endpoint := coalesce({_nz("m->'$.user_api_key_request_route'")},
                         to_json(wb_call_path(wb_v(l.call_type)))),
    conversation_id := NULL::JSON,
    model := coalesce({_nz('l.model')}, {_nz('l.model_group')}),
    status := {_status('l.status', "l.error_information->'$.error_code'")},
    latency_ms := to_json(try_cast(round((wb_dbl(l."endTime") - wb_dbl(l."startTime"))
      * 1000) as BIGINT)),
    input_tokens := l.prompt_tokens, output_tokens := l.completion_tokens,
    cache_read_tokens := coalesce(
      l.hidden_params->'$.usage_object.prompt_tokens_details.cached_tokens',
      l.hidden_params->'$.usage_object.cache_read_input_tokens',
      m->'$.usage_object.prompt_tokens_details.cached_tokens',
      m->'$.usage_object.cache_read_input_tokens'),
    cache_write_tokens := coalesce(l.hidden_params->'$.usage_object.cache_creation_input_tokens',
      m->'$.usage_object.cache_creation_input_tokens'),
    reasoning_tokens := coalesce(
      l.hidden_params->'$.usage_object.completion_tokens_details.reasoning_tokens',
      m->'$.usage_object.completion_tokens_details.reasoning_tokens'),
    stop_reason := NULL::JSON, stream := l.stream,
    request := case when wb_jt(l.model_parameters) = 'OBJECT' or wb_jt(msgs) = 'ARRAY'
      then json_merge_patch(case when wb_jt(l.model_parameters) = 'OBJECT'
                                 then l.model_parameters else '{{}}' end,
                            json_object('model', l.model, 'messages',
                                        case when wb_jt(msgs) = 'ARRAY' then msgs end)) end,
    response := case when wb_jt(resp) = 'OBJECT' and resp::VARCHAR <> '{{}}' then resp end)"""
    return f"""
select _line, _seq, _raw, _bytes, _utf8, _oversize, _json_ok, _jt,
  list_filter(_keys, lambda k: not list_contains([{known}], k)) as _unknown,
  wb_dupkey(_keys) as _dup,
  wb_jt(l.model_parameters) = 'OBJECT' and wb_jt(msgs) = 'ARRAY' as _full,
  case when l is not null then {env} end as e
from (select *, j as l, wb_unjson(j.metadata) as m, wb_unjson(j.messages) as msgs,
             wb_unjson(j.response) as resp
      from ({record_columns(transform)}))"""


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None,
          opts: _opts.Options | None = None, *, kind: str = "litellm") -> Iterator[None]:
    """Stage a LiteLLM file (SpendLogs JSON or CSV, or StandardLoggingPayload JSON)."""
    opts = opts or _opts.Options()
    hint = opts.hint(", ".join(ACCOUNT_CHAIN[kind]))
    env = spendlogs_env() if kind == "litellm" else payload_env()
    sql = stage_sql(env, naive_ts=True, account_hint=hint)
    head = _stream.head_text(path, 4096).lstrip(" \t\r\n")
    if kind != "litellm" or head.startswith(("{", "[")):
        yield from stage_chunks(con, _split.read(path, PAGE, on_progress), sql, opts,
                                macros=MACROS)
        return
    # CSV: DuckDB reads it; each row becomes a JSON object of its text fields.
    for m in MACROS:
        run(con, m)
    run(con, f"""create or replace temp table wb_csv as
        select row_number() over () as line, to_json(t)::VARCHAR as text,
               strlen(to_json(t)::VARCHAR)::BIGINT as nbytes, true as utf8_ok,
               false as oversize
        from {reader(path, csv=True)} t""")
    run(con, "create or replace temp view chunk_in as select *, line as seq from wb_csv")
    run(con, f"create or replace temp table wb_stage as {sql}")
    add_rejects(con)
    run(con, "drop view chunk_in")
    run(con, "drop table wb_csv")
    yield
