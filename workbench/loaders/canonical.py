"""Canonical CSV or Parquet: a warehouse export whose columns already carry the canonical names.

Each file (a glob or a hive-partitioned folder is expanded into files first) is read by
DuckDB's own reader, every column is converted to its canonical type with `try_cast`, and a
value that does not convert sends its record to quarantine as `wrong_type` (`bad_timestamp`
for `ts`). Columns the file lacks are NULL; columns the canonical schema lacks are ignored.
For CSV, `source_line` is the data record number (1 = first record after the header); rows
the CSV reader rejects (not UTF-8, wrong number of columns) are quarantined with the line the
reader reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from workbench.loaders import _stream
from workbench.loaders._commit import LINEAGE, run
from workbench.schema import REQUEST_CONTENT, REQUESTS, Table

Progress = Callable[[int, int], None] | None
_REJECT_REASON = ("case when max(error_type) = 'INVALID ENCODING' then 'not_utf8' "
                  "else 'malformed_csv' end")


def reader(path: Path, csv: bool) -> str:
    """A DuckDB table function reading one file with every CSV column as text.
    The path is quoted by us, never formatted from a record."""
    quoted = "'" + str(path).replace("'", "''") + "'"
    if not csv:
        return f"read_parquet({quoted}, hive_partitioning = true)"
    comp = {"gzip": "gzip", "zstd": "zstd"}.get(_stream.compression(path) or "", "none")
    return (f"read_csv({quoted}, header = true, all_varchar = true, compression = '{comp}', "
            "hive_partitioning = true, store_rejects = true, rejects_table = 'wb_rej', "
            "rejects_scan = 'wb_rej_scan')")


def typed_stage(con: duckdb.DuckDBPyConnection, source: str, table: Table, ts_col: str | None,
                required: tuple[str, ...], extra: tuple[str, ...] = ()) -> None:
    """Create `wb_stage` from `source`, converting each column of `table` (plus `extra` content
    columns) with try_cast and recording why a row is bad. Rows are numbered in file order
    unless `source` brings its own `_line`, `_raw` and `_pre` (a reason found earlier)."""
    present = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
    numbered = "_line" in present
    seq = "_seq" if "_seq" in present else "_line"  # several records may share a line
    pre = "_pre" if "_pre" in present else "NULL"
    pre_detail = "_pre_detail" if "_pre" in present else "NULL"
    wanted = [(c.name, c.type) for c in table.columns if c.name not in LINEAGE]
    wanted += [(c.name, c.type) for c in REQUEST_CONTENT.columns if c.name in extra]
    sel, wrong = [], []
    for name, typ in wanted:
        if name not in present:
            sel.append(f'NULL::{typ} as "{name}"')
            continue
        sel.append(f'try_cast(s."{name}" as {typ}) as "{name}"')
        if name != ts_col:
            wrong.append(f"case when s.\"{name}\" is not null and try_cast(s.\"{name}\" as {typ})"
                         f" is null then '{name} ({typ})' end")
    missing = [f"case when coalesce(s.\"{c}\"::VARCHAR, '') = '' then '{c}' end"
               if c in present else f"'{c}'" for c in required]
    bad_ts = (f"s.\"{ts_col}\" is not null and try_cast(s.\"{ts_col}\" as TIMESTAMPTZ) is null"
              if ts_col in present else "false")
    numbered_src = source if numbered else (
        f"(select *, row_number() over () as _line, to_json(t)::VARCHAR as _raw from {source} t)")
    miss = f"concat_ws(', ', {', '.join(missing)})"
    wr = f"concat_ws(', ', {', '.join(wrong) or 'NULL'})"
    run(con, f"""create or replace temp table wb_stage as
        select _line, {seq} as _seq, _raw, strlen(_raw)::BIGINT as _bytes,
          case when {pre} is not null then {pre}
               when {miss} <> '' then 'missing_field' when {bad_ts} then 'bad_timestamp'
               when {wr} <> '' then 'wrong_type' end as _reason,
          case when {pre} is not null then {pre_detail}
               when {miss} <> '' then 'missing required field(s): ' || {miss}
               when {bad_ts} then left({ts_col!r} || ' value ' || s."{ts_col or ''}"::VARCHAR, 300)
                 || ' is not a timestamp'
               when {wr} <> '' then 'wrong type for: ' || {wr} end as _detail,
          {', '.join(sel)}
        from {numbered_src} s""")


def add_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Append the rows the CSV reader rejected to `wb_stage`, one per bad line."""
    run(con, f"""insert into wb_stage (_line, _seq, _raw, _bytes, _reason, _detail)
        select line, line, any_value(csv_line), strlen(any_value(csv_line)), {_REJECT_REASON},
               left(string_agg(distinct error_message, '; '), 500)
        from wb_rej group by line""")
    run(con, "drop table if exists wb_rej")
    run(con, "drop table if exists wb_rej_scan")


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None,
          opts: object = None) -> Iterator[None]:
    """Stage one canonical CSV or Parquet file into `wb_stage` (one chunk: DuckDB streams it)."""
    with path.open("rb") as f:
        csv = f.read(4) != b"PAR1"
    typed_stage(con, reader(path, csv), REQUESTS, "ts", ("request_id", "ts", "account_id", "model"),
                extra=("system_prompt", "messages", "tools", "response"))
    if csv:
        add_rejects(con)
    yield
