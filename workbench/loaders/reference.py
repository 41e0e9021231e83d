"""Reference tables: account records (CSV or JSONL) and model releases (CSV).

Same rules as the logs: a bad record goes to quarantine with its line and reason, an identical
repeat of an account already loaded is a duplicate, a different one is a conflict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from workbench.loaders import _stream
from workbench.loaders.canonical import add_rejects, reader, typed_stage
from workbench.schema import ACCOUNTS, MODEL_RELEASES

Progress = Callable[[int, int], None] | None
_SPEC = {"accounts": (ACCOUNTS, "created_at", ("account_id",)),
         "releases": (MODEL_RELEASES, "released_at", ("model", "released_at"))}


def _json_source(kind: str) -> str:
    table = _SPEC[kind][0]
    struct = json.dumps({c.name: "JSON" for c in table.columns})
    # JSON fragments as text: strings unquoted, anything else as its JSON text.
    cols = ", ".join(f"case when json_type(j.{c.name}) = 'NULL' then NULL "
                     f"else coalesce(j.{c.name}->>'$', j.{c.name}::VARCHAR) end as {c.name}"
                     for c in table.columns)
    return f"""(select _line, _raw, _pre, _pre_detail, {cols} from (
        select line as _line, text as _raw,
          case when not utf8_ok then 'not_utf8'
               when not json_valid(text) or json_type(text) <> 'OBJECT' then 'malformed_json'
               end as _pre,
          case when not utf8_ok then 'line is not valid UTF-8'
               else 'line is not a valid JSON object' end as _pre_detail,
          case when utf8_ok and json_valid(text) and json_type(text) = 'OBJECT'
               then json_transform(text, '{struct}') end as j
        from chunk_in where not wb_blank(text, ' ')))"""


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None, *,
          kind: str = "accounts") -> Iterator[None]:
    """Stage an accounts (CSV or JSONL) or releases (CSV or JSONL) file into `wb_stage`."""
    table, ts_col, required = _SPEC[kind]
    if _stream.head_text(path, 4096).lstrip("\ufeff \t\r\n").startswith("{"):
        # Build the stage per chunk of lines, reusing the typed conversion.
        src = _json_source(kind)
        for tbl in _stream.chunks(path, on_progress):
            con.register("chunk_in", tbl)
            try:
                typed_stage(con, src, table, ts_col, required)
            finally:
                con.unregister("chunk_in")
            yield
        return


    typed_stage(con, reader(path, csv=True), table, ts_col, required)
    add_rejects(con)
    yield
