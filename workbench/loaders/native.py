"""The native JSONL envelope: one JSON object a line holding an API request and response.

Required: `request_id`, `timestamp` (RFC 3339 with an offset, or epoch seconds or milliseconds),
`account_id`, and `model` (or `request.model`). `request` and `response` hold an Anthropic
Messages or OpenAI Chat Completions / Completions / Responses body; either may be absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from workbench.loaders import _stream
from workbench.loaders._commit import run
from workbench.loaders.bodies import ENVELOPE, stage_sql

Progress = Callable[[int, int], None] | None


def lines_env(transform: str) -> str:
    """The envelope query over `chunk_in`: one row per non-blank line, `e` parsed once.

    A line is parsed by one `try(json_transform(...))`; only lines where that fails (not an
    object, not JSON) are looked at again to say why, so a clean file is parsed once here.
    """
    return f"""
select _line, _seq, _raw, _bytes, _utf8,
  e is not null or (_utf8 and json_valid(_raw)) as _json_ok,
  case when e is not null then 'OBJECT' when _utf8 and json_valid(_raw) then json_type(_raw)
  end as _jt, e
from (select line as _line, line as _seq, text as _raw, nbytes as _bytes, utf8_ok as _utf8,
             case when utf8_ok and starts_with(ltrim(text, chr(32) || chr(9) || chr(13)), '{{')
                  then try(json_transform(text, '{transform}')) end as e
      from chunk_in where trim(text) <> '')"""


def staged_lines(con: duckdb.DuckDBPyConnection, path: Path, sql: str,
                 on_progress: Progress = None) -> Iterator[None]:
    """Fill `wb_stage` from each chunk of lines with `sql` (which reads `chunk_in`); yield after
    each. A file that cannot be decompressed to its end stages one `unreadable` record."""
    try:
        for tbl in _stream.chunks(path, on_progress):
            con.register("chunk_in", tbl)
            try:
                run(con, f"create or replace temp table wb_stage as {sql}")
            finally:
                con.unregister("chunk_in")
            yield
    except OSError as exc:
        con.register("chunk_in", _stream.SCHEMA.empty_table())
        try:
            run(con, f"create or replace temp table wb_stage as {sql}")
        finally:
            con.unregister("chunk_in")
        run(con, "insert into wb_stage (_line, _seq, _raw, _bytes, _reason, _detail) "
                    "values (null, null, '', 0, 'unreadable', $d)", {"d": str(exc)})
        yield


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None
          ) -> Iterator[None]:
    """Stage a native JSONL file chunk by chunk into `wb_stage`.

    Example:
        >>> import workbench as wb, tempfile, pathlib, json
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
        >>> _ = p.write_text(json.dumps({"request_id": "r1", "timestamp": 1767225600,
        ...     "account_id": "a1", "model": "m"}) + "\\n")
        >>> wb.open().load([p], progress=False).loaded
        1
    """
    yield from staged_lines(con, path, stage_sql(lines_env(ENVELOPE)), on_progress)
