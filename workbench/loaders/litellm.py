"""LiteLLM proxy `LiteLLM_SpendLogs` exports, JSON lines or CSV, in LiteLLM's own column names.

Each row is mapped onto the native envelope and then parsed by the shared body SQL:
`request_id`; `startTime` (naive times are taken as UTC); `user` (else `team_id`) as the account;
`team_id` as the org; `api_key` (LiteLLM stores a hash, never the key) as the key id;
`end_user`; `requester_ip_address`; `model`; `prompt_tokens` / `completion_tokens`; latency
from `endTime - startTime`; `status` `success`/`failure` as HTTP 200/500; the request body from
`proxy_server_request` when present, else `{model, messages}`; `response` as the body returned.
`messages`, `response` and `metadata` may be JSON values or JSON text (as in CSV exports).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from workbench.loaders import _stream
from workbench.loaders._commit import run
from workbench.loaders.bodies import stage_sql
from workbench.loaders.canonical import add_rejects, reader
from workbench.loaders.native import staged_lines

Progress = Callable[[int, int], None] | None
_COLS = ("request_id", "startTime", "endTime", "user", "team_id", "api_key", "end_user",
         "requester_ip_address", "model", "prompt_tokens", "completion_tokens", "status",
         "messages", "response", "proxy_server_request", "metadata")
_STRUCT = json.dumps({c: "JSON" for c in _COLS})


def _j(x: str) -> str:
    # A field that holds JSON text (CSV exports) becomes the JSON value it spells.
    return (f"(case when json_type({x}) = 'VARCHAR' and json_valid({x}->>'$') "
            f"then json({x}->>'$') else {x} end)")


ENV = f"""
select _line, _seq, _raw, _bytes, _utf8, _json_ok, _jt,
  case when l is not null then struct_pack(
    request_id := l.request_id, timestamp := l.startTime,
    account_id := coalesce(to_json(nullif(l."user"->>'$', '')), l.team_id),
    org_id := l.team_id, api_key_id := l.api_key, end_user_id := l.end_user,
    client_ip := l.requester_ip_address, user_agent := NULL::JSON, country := NULL::JSON,
    access_path := NULL::JSON, endpoint := NULL::JSON, model := l.model,
    status := to_json(case l.status->>'$' when 'success' then 200 when 'failure' then 500 end),
    latency_ms := to_json(epoch_ms(try_cast(l.endTime->>'$' as TIMESTAMPTZ))
                          - epoch_ms(try_cast(l.startTime->>'$' as TIMESTAMPTZ))),
    input_tokens := l.prompt_tokens, output_tokens := l.completion_tokens,
    request := coalesce(case when json_type({_j('l.proxy_server_request')}) = 'OBJECT'
                             then {_j('l.proxy_server_request')} end,
                        json_object('model', l.model, 'messages', {_j('l.messages')})),
    response := case when json_type({_j('l.response')}) = 'OBJECT' then {_j('l.response')} end
  ) end as e
from (select *, case when _jt = 'OBJECT' then json_transform(_raw, '{_STRUCT}') end as l
      from (select *, case when _json_ok then json_type(_raw) end as _jt
            from (select line as _line, line as _seq, text as _raw, nbytes as _bytes,
                         utf8_ok as _utf8, utf8_ok and json_valid(text) as _json_ok
                  from chunk_in where trim(text) <> '')))"""


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None
          ) -> Iterator[None]:
    """Stage a LiteLLM spend-log export (JSON lines or CSV) into `wb_stage`."""
    sql = stage_sql(ENV, naive_ts=True)
    if _stream.head_text(path, 4096).lstrip("\ufeff \t\r\n").startswith("{"):
        yield from staged_lines(con, path, sql, on_progress)
        return
    # CSV: DuckDB reads it; each row becomes a JSON object of its text fields.
    run(con, f"""create or replace temp table wb_csv as
        select row_number() over () as line, to_json(t)::VARCHAR as text,
               strlen(to_json(t)::VARCHAR)::BIGINT as nbytes, true as utf8_ok
        from {reader(path, csv=True)} t""")
    run(con, "create or replace temp view chunk_in as select * from wb_csv")
    run(con, f"create or replace temp table wb_stage as {sql}")
    add_rejects(con)
    run(con, "drop view chunk_in")
    yield
