"""Batch files: OpenAI Batch input and output files, Anthropic Message Batch requests and
results.

An output line (OpenAI `{id, custom_id, response: {status_code, request_id, body}, error}`;
Anthropic `{custom_id, result: {type: succeeded|errored|expired|canceled, message|error}}`)
is one request. Its request body comes from the input line with the same `custom_id` when the
input file is loaded in the same `load` (OpenAI `{custom_id, method, url, body}`; Anthropic
`{custom_id, params}`, or the `{"requests": [...]}` document sent to create the batch).

Input lines are held until every file of the load is read: one joined to an output line counts
as loaded in its own file's batch (the request row's `source_file` is the output file); one
with no output line in the load is quarantined (`missing_field`), since an input line alone
records neither the time nor the response. A `custom_id` given twice across the inputs of one
load is ambiguous and the later line is a `conflict`.

Batch files record no account: give `--account-from =ACCOUNT_ID` (the batch's owner) or a
field. Anthropic results record no time either, so their `ts` is NULL; OpenAI outputs take
it from `response.body.created`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from workbench.loaders import _opts, _split, envelope
from workbench.loaders._commit import DETAIL_LIMIT, RAW_LIMIT, arrow, first, run
from workbench.loaders.bodies import stage_sql, too_large_detail
from workbench.loaders.native import record_columns, scratch, stage_chunks

Progress = Callable[[int, int], None] | None
PROVIDER = {"openai_batch_input": "openai", "openai_batch_output": "openai",
            "anthropic_batch_input": "anthropic", "anthropic_batch": "anthropic"}
INPUTS = ("openai_batch_input", "anthropic_batch_input")
RULES = {"anthropic_batch_input": _split.Rule(records=(("requests", "*"),), one_line=True),
         "openai_batch_input": _split.DEFAULT, "openai_batch_output": _split.DEFAULT,
         "anthropic_batch": _split.DEFAULT}
_IN = json.dumps({"custom_id": "JSON", "method": "JSON", "url": "JSON", "body": "JSON",
                  "params": "JSON"})
_OPENAI_OUT = json.dumps({"id": "JSON", "custom_id": "JSON", "error": "JSON",
                          "response": {"status_code": "JSON", "request_id": "JSON",
                                       "body": "JSON"}})
_ANTHROPIC_OUT = json.dumps({"custom_id": "JSON", "result": {
    "type": "JSON", "message": "JSON", "error": "JSON"}})
KNOWN = {"openai_batch_input": ("custom_id", "method", "url", "body"),
         "anthropic_batch_input": ("custom_id", "params"),
         "openai_batch_output": ("id", "custom_id", "response", "error"),
         "anthropic_batch": ("custom_id", "result")}
# canonical column -> where it comes from, per output format (rendered in docs/loaders.md).
MAPPING: dict[str, dict[str, str]] = {
    "openai_batch_output": {
        "request_id": "`response.request_id`, else `id` (`batch_req_…`)",
        "ts": "`response.body.created` (epoch seconds); NULL for an error line",
        "account_id": "none recorded: `--account-from =ACCOUNT_ID` (the batch's owner) or a "
                      "field",
        "status": "`response.status_code`",
        "endpoint": "the input line's `url`",
        "model": "the input body's `model`, else `response.body.model`",
        "stop_reason": "the response's `finish_reason`; for an `error` line: `not_run` when "
                       "`error.code` says expired or cancelled, else `error` (raw: the code)",
        "request (body)": "the input line's `body`, joined on `custom_id`",
        "response (body)": "`response.body`",
    },
    "anthropic_batch": {
        "request_id": "`result.message.id`, else `custom_id`",
        "ts": "none recorded: NULL",
        "account_id": "none recorded: `--account-from =ACCOUNT_ID` or a field",
        "status": "`succeeded` → 200; `errored` → the HTTP status of `error.error.type` "
                  "(`invalid_request_error` → 400, `rate_limit_error` → 429, …); "
                  "`expired`, `canceled` → NULL",
        "endpoint": "`/v1/messages`",
        "model": "the input `params.model`, else `result.message.model`",
        "stop_reason": "`result.message.stop_reason`; `errored` → `error`; `expired`, "
                       "`canceled` → `not_run` (raw: the result type)",
        "request (body)": "the input line's `params`, joined on `custom_id`",
        "response (body)": "`result.message`, or `result.error` when errored",
    },
}
# Anthropic error types -> the HTTP status the API returns with them.
_ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401,
                 "billing_error": 402, "permission_error": 403, "not_found_error": 404,
                 "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
                 "timeout_error": 504, "overloaded_error": 529}


@dataclass
class Held:
    """An input file whose lines wait for their output lines."""

    path: str
    fmt: str
    batch_id: int
    lines: int = 0


@dataclass
class Registry:
    """The input lines of one load, on a private DuckDB that also stages the output files."""

    con: duckdb.DuckDBPyConnection | None = None
    held: list[Held] = field(default_factory=list)

    def db(self, opts: _opts.Options) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            self.con = scratch(opts)
            run(self.con, """create table wb_batch_inputs (provider VARCHAR, custom_id VARCHAR,
                batch_id INTEGER, file VARCHAR, line BIGINT, raw VARCHAR, nbytes BIGINT,
                url VARCHAR, body JSON, used BOOLEAN)""")
        return self.con

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def _input_sql(fmt: str) -> str:
    known = ", ".join(f"'{k}'" for k in KNOWN[fmt])
    body = "j.body" if fmt == "openai_batch_input" else "j.params"
    return f"""
select *,
  case when not _utf8 then 'not_utf8' when _oversize then 'too_large'
       when not _json_ok or _jt <> 'OBJECT' then 'malformed_json'
       when wb_dupkey(_keys) is not null then 'duplicate_key'
       when wb_s(j.custom_id) is null then 'missing_field'
       when wb_jt({body}) <> 'OBJECT' then 'wrong_type' end as _reason,
  case when not _utf8 then 'line is not valid UTF-8 (bytes shown as \\xNN escapes)'
       when _oversize then {too_large_detail()}
       when not _json_ok or _jt <> 'OBJECT' then 'record is not a valid JSON object'
       when wb_dupkey(_keys) is not null then 'key ' || wb_dupkey(_keys) || ' appears twice'
       when wb_s(j.custom_id) is null then 'missing required field(s): custom_id'
       when wb_jt({body}) <> 'OBJECT' then 'wrong type for: {body[2:]} (object)' end as _detail,
  wb_s(j.custom_id) as custom_id, wb_s(j.url) as url, {body} as body,
  list_filter(_keys, lambda k: not list_contains([{known}], k)) as _unknown
from ({record_columns(_IN)})"""


def stage_input(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress,
                opts: _opts.Options, registry: Registry, fmt: str, batch_id: int
                ) -> Iterator[None]:
    """Hold an input file's good lines in the registry; stage its bad lines for quarantine."""
    db = registry.db(opts)
    held = Held(str(path), fmt, batch_id)
    registry.held.append(held)
    provider = PROVIDER[fmt]

    def build(s: duckdb.DuckDBPyConnection, _chunk: object) -> object:
        run(s, f"create or replace temp table wb_in as {_input_sql(fmt)}")
        # A custom_id seen before in this load (this file or another) is ambiguous.
        run(s, """create or replace temp table wb_in2 as
            select i.*, b.file as _prev_file, b.line as _prev_line,
                   row_number() over (partition by i.custom_id order by i._seq) as _rn
            from wb_in i left join wb_batch_inputs b
              on b.provider = $p and b.custom_id = i.custom_id""", {"p": provider})
        run(s, """insert into wb_batch_inputs select $p, custom_id, $b, $f, _line, _raw, _bytes,
            url, body, false from wb_in2 where _reason is null and _prev_file is null
            and _rn = 1""", {"p": provider, "b": batch_id, "f": str(path)})
        held.lines += int((first(s, "select count(*) from wb_in2 where _reason is null and "
                                    "_prev_file is null and _rn = 1") or (0,))[0])
        return s.sql("""select _line, _seq, _raw, _bytes,
            coalesce(_reason, 'conflict') as _reason,
            coalesce(_detail, 'custom_id ' || custom_id || ' was already given' ||
              coalesce(' in ' || _prev_file || ' line ' || _prev_line, ' earlier in this file')
              || ': load one batch''s input with its output at a time') as _detail, _unknown
            from wb_in2 where _reason is not null or _prev_file is not null or _rn > 1
            order by _seq""").to_arrow_table()

    yield from stage_chunks(con, _split.read(path, RULES[fmt], on_progress), "", opts,
                            build=build, scratch_con=db)


def _output_env(fmt: str) -> str:
    provider = PROVIDER[fmt]
    known = ", ".join(f"'{k}'" for k in KNOWN[fmt])
    if fmt == "openai_batch_output":
        transform = _OPENAI_OUT
        code = "j.error->>'$.code'"
        env = envelope.pack({
            "request_id": "coalesce(case when wb_s(j.response.request_id) is not null then "
                          "j.response.request_id end, case when wb_s(j.id) is not null then "
                          "j.id end, j.custom_id)",
            "timestamp": "json_extract(j.response.body, '$.created')",
            "account_id": "wb_account(NULL::JSON, _raw)",
            "status": "j.response.status_code",
            "endpoint": "to_json(i.url)",
            "stop_reason": f"case when wb_jt(j.error) = 'OBJECT' then to_json(case when "
                           f"contains({code}, 'expired') then 'expired' when contains({code}, "
                           f"'cancel') then 'cancelled' else 'error' end) end",
            "request": "i.body",
            "response": "case when wb_jt(j.response.body) = 'OBJECT' then j.response.body end"})
    else:
        transform = _ANTHROPIC_OUT
        status = " ".join(f"when '{t}' then {n}" for t, n in _ERROR_STATUS.items())
        env = envelope.pack({
            "request_id": "coalesce(case when wb_s(json_extract(j.result.message, '$.id')) is "
                          "not null then json_extract(j.result.message, '$.id') end, "
                          "j.custom_id)",
            "account_id": "wb_account(NULL::JSON, _raw)",
            "status": f"to_json(case wb_v(j.result.type) when 'succeeded' then 200 when "
                      f"'errored' then case coalesce(j.result.error->>'$.error.type', "
                      f"j.result.error->>'$.type') {status} end end)",
            "endpoint": "to_json('/v1/messages')",
            "stop_reason": "case when wb_v(j.result.type) <> 'succeeded' then j.result.type end",
            "request": "i.body",
            "response": "case when wb_v(j.result.type) = 'succeeded' then j.result.message "
                        "when wb_v(j.result.type) = 'errored' then j.result.error end"})
    return f"""
select _line, _seq, _raw, _bytes, _utf8, _oversize, _json_ok, _jt,
  list_filter(_keys, lambda k: not list_contains([{known}], k)) as _unknown,
  wb_dupkey(_keys) as _dup,
  wb_full(i.body) as _full,
  case when j is not null then {env} end as e
from ({record_columns(transform)}) r
left join wb_batch_inputs i on i.provider = '{provider}' and i.custom_id = wb_s(r.j.custom_id)
order by _seq"""


def stage_output(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress,
                 opts: _opts.Options, registry: Registry, fmt: str) -> Iterator[None]:
    """Stage an output / results file, each line joined to its held input line."""
    db = registry.db(opts)
    required = ("request_id", "account_id")
    sql = stage_sql(_output_env(fmt), required=required,
                    account_hint=opts.hint("nothing (batch files record no account)"))
    provider = PROVIDER[fmt]

    def build(s: duckdb.DuckDBPyConnection, _chunk: object) -> object:
        staged = arrow(s, sql)
        run(s, """update wb_batch_inputs set used = true where provider = $p and custom_id in
            (select wb_s(json_extract(text, '$.custom_id')) from chunk_in
             where utf8_ok and not oversize and json_valid(text) and json_type(text) = 'OBJECT')
            """, {"p": provider})
        return staged

    yield from stage_chunks(con, _split.read(path, RULES[fmt], on_progress), sql, opts,
                            build=build, scratch_con=db)


def finish(con: duckdb.DuckDBPyConnection, registry: Registry) -> dict[int, tuple[int, int]]:
    """After every file: quarantine the held input lines no output line used, in their own
    file's batch. Returns batch_id -> (lines joined, lines quarantined)."""
    out: dict[int, tuple[int, int]] = {}
    if registry.con is None:
        return out
    db = registry.con
    for h in registry.held:
        rows = db.execute("""select line, raw, nbytes, custom_id from wb_batch_inputs
            where batch_id = $b and not used order by line""", {"b": h.batch_id}).fetchall()
        for line, raw, nbytes, cid in rows:
            detail = (f"no output line with custom_id {cid} in this load: an input line "
                      "records neither the time nor the response; load the batch's output "
                      "(and error) file together with its input file")
            run(con, "insert into quarantine values ($b, $f, $l, 'missing_field', $d, $r, $n)",
                {"b": h.batch_id, "f": h.path, "l": line, "d": detail[:DETAIL_LIMIT],
                 "r": raw[:RAW_LIMIT], "n": nbytes})
        out[h.batch_id] = (h.lines - len(rows), len(rows))
    return out
