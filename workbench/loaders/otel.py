"""OpenTelemetry GenAI spans from an OTLP/JSON trace export: one span, one request.

An OTLP/JSON file holds `ExportTraceServiceRequest` objects, one per line as the collector's file
exporter writes them, or one pretty-printed document: `resourceSpans[] -> resource.attributes`
and `scopeSpans[] -> spans[]`, each span with `traceId`, `spanId`, `startTimeUnixNano`,
`endTimeUnixNano`, `status` and `attributes`, a list of `{key, value}` where `value` is an OTLP
AnyValue (`stringValue`, `intValue` (a decimal string), `doubleValue`, `boolValue`,
`arrayValue.values`, `kvlistValue`). Span attributes win over resource attributes of the same
name. The attribute to column mapping is in `docs/loaders.md` and in `_ATTRS` below; the text
columns come from `gen_ai.input.messages`, `gen_ai.output.messages`,
`gen_ai.system_instructions` and `gen_ai.tool.definitions` (JSON text, or an OTLP array).

Required, as for every format: a request id (`gen_ai.response.id`, else `traceId:spanId`), the
span start time, an account (`account.id` or `enduser.account.id`, span or resource) and a
model (`gen_ai.request.model`, else `gen_ai.response.model`). Lines that are not UTF-8, not
JSON, or not an OTLP trace export are quarantined whole with their line number; a pretty-printed
document that is not valid JSON is quarantined as one `malformed_json` record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from workbench.loaders import _stream
from workbench.loaders._commit import run
from workbench.loaders.canonical import typed_stage
from workbench.loaders.native import staged_lines
from workbench.schema import REQUESTS

Progress = Callable[[int, int], None] | None

# canonical column -> attribute names tried in order (span attributes, then resource ones).
_ATTRS: dict[str, tuple[str, ...]] = {
    "account_id": ("account.id", "enduser.account.id"),
    "org_id": ("organization.id", "org.id"),
    "api_key_id": ("api_key.id",),
    "end_user_id": ("enduser.id", "user.id"),
    "client_ip": ("client.address",),
    "user_agent": ("user_agent.original",),
    "country": ("client.geo.country.iso_code", "geo.country.iso_code"),
    "access_path": ("access_path",),
    "endpoint": ("url.path", "http.route"),
    "max_tokens": ("gen_ai.request.max_tokens",),
    "temperature": ("gen_ai.request.temperature",),
    "top_p": ("gen_ai.request.top_p",),
    "top_k": ("gen_ai.request.top_k",),
    "n_choices": ("gen_ai.request.choice.count",),
    "input_tokens": ("gen_ai.usage.input_tokens",),
    "output_tokens": ("gen_ai.usage.output_tokens",),
    "cache_read_tokens": ("gen_ai.usage.cache_read.input_tokens",),
}
_OTHER = ("gen_ai.response.id", "gen_ai.request.model", "gen_ai.response.model",
          "gen_ai.provider.name", "gen_ai.system", "gen_ai.operation.name",
          "gen_ai.response.finish_reasons", "gen_ai.input.messages", "gen_ai.output.messages",
          "gen_ai.system_instructions", "gen_ai.tool.definitions", "gen_ai.conversation.id",
          "http.response.status_code", "server.address")

_REQUIRED = ("request_id", "ts", "account_id", "model")
_EXTRA = ("system_prompt", "messages", "tools", "response")
_DOC = json.dumps({"resourceSpans": [{"resource": {"attributes": [
    {"key": "VARCHAR", "value": "JSON"}]}, "scopeSpans": [{"spans": ["JSON"]}]}]})
_SPAN = json.dumps({"traceId": "VARCHAR", "spanId": "VARCHAR", "name": "VARCHAR",
                    "startTimeUnixNano": "VARCHAR", "endTimeUnixNano": "VARCHAR",
                    "status": {"code": "VARCHAR"},
                    "attributes": [{"key": "VARCHAR", "value": "JSON"}]})
_MSGS = json.dumps([{"role": "VARCHAR", "content": "JSON",
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
    f"json_extract(v, '$.arrayValue'), '{_ARRAY}').values, []), lambda x: coalesce("
    "json_extract(x, '$.stringValue'), to_json(try_cast(json_extract_string(x, '$.intValue') "
    "as BIGINT)), json_extract(x, '$.doubleValue'), json_extract(x, '$.boolValue'), x))) "
    "else wb_av1(v) end",
    # The first value of attribute k in a span's attributes, else the resource's.
    "create or replace temp macro wb_attr(sa, ra, k) as wb_av(coalesce("
    "list_filter(sa, lambda a: a.key = k)[1].value, "
    "list_filter(ra, lambda a: a.key = k)[1].value))",
    # A fragment as text for try_cast: scalars as their value, objects and arrays as JSON text
    # (so that a wrong type fails the cast and is reported).
    "create or replace temp macro wb_otxt(f) as case when left(f::VARCHAR, 1) in ('{', '[') "
    "then f::VARCHAR else wb_v(f) end",
    # JSON held by an attribute: a string holding JSON text, or a structured (array) value.
    "create or replace temp macro wb_ojson(f) as case when left(f::VARCHAR, 1) = '\"' "
    "then f->>'$' when f is not null then f::VARCHAR end",
    # Text of semantic-convention parts (type text) or of a plain content string.
    "create or replace temp macro wb_parts_text(p) as nullif(array_to_string(list_transform("
    "list_filter(p, lambda x: x.type = 'text'), "
    "lambda x: json_extract_string(x.content, '$')), chr(10)), '')",
]


def _scan(source: str) -> str:
    """Rows `(_line, _raw, _pre, _pre_detail, sa, ra)`: one per span, or one per bad line.

    `source` has columns `line, text, utf8_ok` (one OTLP document each)."""
    return f"""
with l as (
  select line as _line, text as _txt, utf8_ok,
    case when utf8_ok and starts_with(ltrim(text, chr(32) || chr(9) || chr(13) || chr(10)), '{{')
         then try(json_transform(text, '{_DOC}')) end as d
  from {source} where trim(text, chr(32) || chr(9) || chr(13) || chr(10)) <> ''
),
bad as (
  select _line, _txt as _raw,
    case when not utf8_ok then 'not_utf8' else 'malformed_json' end as _pre,
    case when not utf8_ok then 'line is not valid UTF-8 (bytes shown as \\xNN escapes)'
         when d is null then 'not a valid JSON object'
         else 'no resourceSpans list: not an OTLP/JSON trace export' end as _pre_detail
  from l where d is null or d.resourceSpans is null
),
rs as (select _line, unnest(d.resourceSpans) as r from l where d.resourceSpans is not null),
ss as (select _line, r.resource.attributes as ra, unnest(r.scopeSpans) as s from rs),
sp as (select _line, ra, unnest(s.spans) as span from ss)
select _line, span::VARCHAR as _raw, NULL as _pre, NULL as _pre_detail, ra,
       json_transform(span, '{_SPAN}') as sp
from sp
union all by name
select _line, _raw, _pre, _pre_detail, NULL as ra, NULL as sp from bad
"""


def _columns() -> str:
    """SQL over `_scan` rows producing the canonical columns as text (typed by typed_stage)."""
    def a(name: str) -> str:
        return f"wb_attr(sp.attributes, ra, '{name}')"

    cols = [f"wb_otxt({a(names[0])}) as \"{col}\"" if len(names) == 1 else
            f"wb_otxt(coalesce({', '.join(a(n) for n in names)})) as \"{col}\""
            for col, names in _ATTRS.items() if col != "n_choices"]
    return f"""
with s as (select row_number() over () as _seq, * from ({{scan}})),
f as (
  select *,
    {a('gen_ai.response.id')} as f_resp_id,
    coalesce({a('gen_ai.request.model')}, {a('gen_ai.response.model')}) as f_model,
    coalesce({a('gen_ai.provider.name')}, {a('gen_ai.system')}) as f_provider,
    {a('gen_ai.response.finish_reasons')} as f_finish,
    wb_ojson({a('gen_ai.input.messages')}) as f_in,
    wb_ojson({a('gen_ai.output.messages')}) as f_out,
    wb_ojson({a('gen_ai.system_instructions')}) as f_sys,
    wb_ojson({a('gen_ai.tool.definitions')}) as f_tools,
    {a('http.response.status_code')} as f_status,
    {a('gen_ai.request.choice.count')} as f_n,
    try_cast(sp.startTimeUnixNano as HUGEINT) as f_start,
    try_cast(sp.endTimeUnixNano as HUGEINT) as f_end
  from s
),
g as (
  select *,
    try(json_transform(f_in, '{_MSGS}')) as msgs,
    try(json_transform(f_out, '{_MSGS}')) as outs,
    case when json_valid(f_sys) and left(ltrim(f_sys), 1) = '[' then
      wb_parts_text(try(json_transform(f_sys, '{_PARTS}'))) else f_sys end as sys_text,
    try(json_transform(f_tools, '{_TOOLS}')) as tools_l
  from f
),
h as (
  select *, list_filter(msgs, lambda m: m.role = 'user') as user_msgs from g
)
select _line, _seq, _raw, _pre, _pre_detail,
  coalesce(wb_v(f_resp_id), sp.traceId || ':' || sp.spanId) as request_id,
  case when f_start is not null and f_start > 0
         then strftime(make_timestamp((f_start // 1000)::BIGINT), '%Y-%m-%d %H:%M:%S.%f') || '+00'
       else sp.startTimeUnixNano end as ts,
  {', '.join(cols)},
  wb_ip_prefix(wb_v({a('client.address')})) as ip_prefix,
  case lower(coalesce(wb_v(f_provider), ''))
    when 'anthropic' then 'anthropic' when 'openai' then 'openai'
    when 'azure.ai.openai' then 'openai' else 'other' end as api_style,
  wb_v(f_model) as model,
  coalesce(wb_otxt(f_status), case when sp.status.code in ('2', 'STATUS_CODE_ERROR') then '500'
                                   when sp is not null then '200' end) as status,
  case when f_end >= f_start then ((f_end - f_start) // 1000000)::VARCHAR end as latency_ms,
  coalesce(wb_otxt(f_n), case when sp is not null then '1' end) as n_choices,
  case when tools_l is not null then array_length(tools_l)
       when sp is not null then 0 end as tool_count,
  list_transform(tools_l, lambda t: coalesce(t.name, t.function.name, t.type)) as tool_names,
  sha256(sys_text) as system_hash,
  array_length(msgs) as n_messages,
  array_length(user_msgs) as n_user_turns,
  coalesce(wb_parts_text(user_msgs[-1].parts), wb_v(user_msgs[-1].content)) as prompt_text,
  length(prompt_text) as prompt_chars,
  coalesce(wb_parts_text(outs[1].parts), wb_v(outs[1].content)) as output_text,
  length(output_text) as output_chars,
  case when left(f_finish::VARCHAR, 1) = '[' then wb_v(f_finish->'$[0]')
       else wb_v(f_finish) end as stop_reason,
  sys_text as system_prompt,
  f_in as messages,
  f_tools as tools,
  f_out as response
from h
"""


def _whole_file_source(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """A pretty-printed export: DuckDB reads its JSON documents (not Python). Returns the
    source table, or None after staging one `malformed_json` record when it cannot."""
    comp = {"gzip": "gzip", "zstd": "zstd"}.get(_stream.compression(path) or "", "none")
    quoted = "'" + str(path).replace("'", "''") + "'"  # our own path, quoted as a literal
    read = (f"read_json_objects({quoted}, format = 'unstructured', compression = '{comp}', "
            "maximum_object_size = 1073741824)")
    try:  # check on a scratch connection: an error would abort the load's transaction
        with duckdb.connect() as scratch:
            scratch.execute(f"select count(*) from {read}").fetchall()
    except duckdb.Error as exc:
        con.register("chunk_in", _stream.SCHEMA.empty_table())
        try:
            typed_stage(con, "(" + _columns().replace("{scan}", _scan("chunk_in")) + ")",
                        REQUESTS, "ts", _REQUIRED, extra=_EXTRA)
        finally:
            con.unregister("chunk_in")
        detail = "file is not valid JSON: " + str(exc).splitlines()[0][:500]
        run(con, "insert into wb_stage (_line, _seq, _raw, _bytes, _reason, _detail) "
                 "values (1, 1, $raw, $n, 'malformed_json', $d)",
            {"raw": _stream.head_text(path, 65536), "n": path.stat().st_size, "d": detail})
        return None
    run(con, f"""create or replace temp table wb_otel_docs as
        select row_number() over () as line, json::VARCHAR as text, true as utf8_ok
        from {read}""")
    return "wb_otel_docs"


def _first_line_is_document(path: Path) -> bool:
    head = _stream.head_text(path).lstrip("\ufeff \t\r\n")
    first_line = head.split("\n", 1)[0].strip()
    try:
        return isinstance(json.loads(first_line), dict)
    except ValueError:
        return "\n" not in head  # a single line longer than the head: treat as line-delimited


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None
          ) -> Iterator[None]:
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
    for m in MACROS:
        run(con, m)
    sql = _columns()
    required, extra = _REQUIRED, _EXTRA
    if not _first_line_is_document(path):
        src = _whole_file_source(con, path)
        if src is not None:
            typed_stage(con, "(" + sql.replace("{scan}", _scan(src)) + ")", REQUESTS, "ts",
                        required, extra=extra)
            run(con, "drop table wb_otel_docs")
        yield
        return
    query = "(" + sql.replace("{scan}", _scan("chunk_in")) + ")"
    yield from staged_lines(
        con, path, "", on_progress, macros=MACROS,
        build=lambda s: typed_stage(s, query, REQUESTS, "ts", required, extra=extra))
