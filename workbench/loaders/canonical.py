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


_LINKS: list[Path] = []


def _literal(path: Path) -> Path:
    """A path DuckDB reads as exactly this file: DuckDB expands `*`, `?`, `[` and `{` in the
    names it is given, so a file whose name holds them is read through a symlink with a plain
    name (keeping the `key=value` folders above it, which hive partitioning reads)."""
    if not any(ch in str(path) for ch in "*?[]{}"):
        return path
    import atexit
    import hashlib
    import shutil
    import tempfile

    if not _LINKS:
        _LINKS.append(Path(tempfile.mkdtemp(prefix="wb_literal_")))
        atexit.register(shutil.rmtree, _LINKS[0], True)
    hive: list[str] = []
    for part in reversed(path.resolve().parent.parts):
        if "=" not in part or any(ch in part for ch in "*?[]{}"):
            break
        hive.insert(0, part)
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    folder = _LINKS[0].joinpath(digest, *hive)
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / ("data" + "".join(path.suffixes[-2:]))
    if not link.exists():
        link.symlink_to(path.resolve())
    return link


def reader(path: Path, csv: bool) -> str:
    """A DuckDB table function reading one file with every CSV column as text.
    The path is quoted by us, never formatted from a record."""
    quoted = "'" + str(_literal(path)).replace("'", "''") + "'"
    if not csv:
        return f"read_parquet({quoted}, hive_partitioning = true)"
    comp = {"gzip": "gzip", "zstd": "zstd"}.get(_stream.compression(path) or "", "none")
    return (f"read_csv({quoted}, header = true, all_varchar = true, compression = '{comp}', "
            "hive_partitioning = true, store_rejects = true, rejects_table = 'wb_rej', "
            "rejects_scan = 'wb_rej_scan')")


# canonical type -> strict conversion macro of a value as text (bodies.MACROS).
_STRICT = {"INTEGER": "wb_c_int", "BIGINT": "wb_c_big", "DOUBLE": "wb_c_dbl",
           "BOOLEAN": "wb_c_bool", "TIMESTAMPTZ": "wb_c_ts", "JSON": "wb_c_json"}


def strict(expr: str, typ: str) -> str:
    """SQL converting `expr` to `typ` strictly: no rounding (1.5 is not an integer), no
    out-of-range number, only true/false/t/f/1/0 for a flag, RFC 3339 times (naive: UTC)
    within ±14:00; NULL when it does not convert."""
    macro = _STRICT.get(typ)
    return f"{macro}({expr}::VARCHAR)" if macro else f"try_cast({expr} as {typ})"


def typed_stage(con: duckdb.DuckDBPyConnection, source: str, table: Table, ts_col: str | None,
                required: tuple[str, ...], extra: tuple[str, ...] = ()) -> None:
    """Create `wb_stage` from `source`, converting each column of `table` (plus `extra` content
    columns) strictly (`strict`) and recording why a row is bad. Rows are numbered in file
    order unless `source` brings its own `_line`, `_raw` and `_pre` (a reason found earlier)."""
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
        col = f's."{name}"'
        sel.append(f'{strict(col, typ)} as "{name}"')
        if name != ts_col:
            wrong.append(f"case when {col} is not null and trim({col}::VARCHAR) <> '' and "
                         f"{strict(col, typ)} is null then '{name} ({typ})' end")
    missing = [f"case when trim(coalesce(s.\"{c}\"::VARCHAR, '')) = '' then '{c}' end"
               if c in present else f"'{c}'" for c in required]
    if ts_col in present:
        bad_ts = f's."{ts_col}" is not null and {strict(f"s.{ts_col}", "TIMESTAMPTZ")} is null'
        ts_detail = (f"left('{ts_col} value ' || s.\"{ts_col}\"::VARCHAR, 300) || ' is not an "
                     "RFC 3339 time with an offset within ±14:00 (naive: UTC), years 0001-9999'")
    else:
        bad_ts, ts_detail = "false", "NULL"
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
               when {bad_ts} then {ts_detail}
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
