"""The native JSONL envelope: one JSON object a line holding an API request and response.

Required: `request_id`, `timestamp` (RFC 3339 with an offset, or epoch seconds or milliseconds),
`account_id`, and `model` (or `request.model`). `request` and `response` hold an Anthropic
Messages or OpenAI Chat Completions / Completions / Responses body; either may be absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from workbench.loaders import _stream
from workbench.loaders._commit import clear_stage, run, set_stage
from workbench.loaders.bodies import ENVELOPE, install_macros, stage_sql

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
      from chunk_in where starts_with(text, '{{') or trim(text) <> '')"""


def scratch(macros: Iterable[str] = ()) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB for building one chunk's stage outside the load's transaction.

    Temp tables replaced inside one long transaction keep every old version until it ends, so
    staging in the case connection would hold the whole file in memory; here each chunk's stage
    is freed when the next one replaces it.
    """
    s = duckdb.connect()
    run(s, "SET preserve_insertion_order = true")
    install_macros(s)
    for m in macros:
        run(s, m)
    return s


def staged_lines(con: duckdb.DuckDBPyConnection, path: Path, sql: str,
                 on_progress: Progress = None, *,
                 build: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                 macros: Iterable[str] = ()) -> Iterator[None]:
    """Stage each chunk of lines and hand it to `con` as `wb_stage`; yield after each.

    The stage is built on a scratch connection by `sql` (which reads `chunk_in`), or by
    `build(scratch)` when given, and registered on `con` as an Arrow table. A file that cannot
    be decompressed to its end stages one `unreadable` record."""
    def make(s: duckdb.DuckDBPyConnection) -> None:
        if build is not None:
            build(s)
        else:
            run(s, f"create or replace temp table wb_stage as {sql}")

    def hand_over(s: duckdb.DuckDBPyConnection, staged: Any = None) -> None:
        run(con, "drop table if exists wb_stage")
        set_stage(staged if staged is not None
                  else s.sql("select * from wb_stage").to_arrow_table())

    s = scratch(macros)
    try:
        try:
            for tbl in _stream.prefetch(_stream.chunks(path, on_progress)):
                s.register("chunk_in", tbl)
                # Straight to Arrow when there is one query: a temp table in between would
                # materialise every staged column once more.
                staged = None
                if build is None:
                    staged = s.sql(sql).to_arrow_table()
                else:
                    make(s)
                s.unregister("chunk_in")
                hand_over(s, staged)
                yield
                clear_stage()
        except OSError as exc:
            s.register("chunk_in", _stream.SCHEMA.empty_table())
            make(s)
            s.unregister("chunk_in")
            run(s, "insert into wb_stage (_line, _seq, _raw, _bytes, _reason, _detail) "
                   "values (null, null, '', 0, 'unreadable', $d)", {"d": str(exc)})
            hand_over(s)
            yield
    finally:
        clear_stage()
        s.close()


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None
          ) -> Iterator[None]:
    """Stage a native JSONL file chunk by chunk into `wb_stage`.

    Example:
        >>> import workbench as wb, tempfile, pathlib, json
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
        >>> _ = p.write_text(json.dumps({"request_id": "r1", "timestamp": 1767225600,
        ...     "account_id": "a1", "model": "m"}) + "\\n")
        >>> wb.load(wb.open(), [p], progress=False).loaded
        1
    """
    yield from staged_lines(con, path, stage_sql(lines_env(ENVELOPE)), on_progress)
