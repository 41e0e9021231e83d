"""The native envelope: one JSON object a record holding an API request and response.

Field by field in `envelope.py` (and docs/loaders.md). One record a line, one pretty-printed
document, several documents, or a top-level array, plain or compressed. Required:
`request_id`, `timestamp`, `account_id` (or `--account-from`), `model` (or `request.model`,
or `response.model`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from workbench.loaders import _opts, _split, _stream, envelope
from workbench.loaders._commit import arrow, clear_stage, run, set_stage
from workbench.loaders.bodies import install_macros, stage_sql

Progress = Callable[[int, int], None] | None


def record_columns(transform: str) -> str:
    """The first columns of every JSON envelope query over `chunk_in`: one row per non-blank
    record, `j` parsed once by `json_transform` with `transform` (NULL when the record is not
    a JSON object), `_keys` its top-level keys; `_seq` orders the records (`_stream.numbered`)."""
    return f"""
select *,
  j is not null or (_utf8 and not _oversize and json_valid(_raw)) as _json_ok,
  case when j is not null then 'OBJECT'
       when _utf8 and not _oversize and json_valid(_raw) then json_type(_raw) end as _jt,
  case when j is not null then json_keys(_raw) end as _keys
from (select line as _line, seq as _seq, text as _raw, nbytes as _bytes, utf8_ok as _utf8,
             oversize as _oversize,
             case when utf8_ok and not oversize and wb_object_start(text)
                  then try(json_transform(text, '{transform}')) end as j
      from chunk_in where not wb_blank(text, ' '))"""


def envelope_sql() -> str:
    """The native envelope query: `e` is the record itself, the account from `account_id`
    unless --account-from names another field."""
    known = ", ".join(f"'{n}'" for n in envelope.NAMES)
    fields = ", ".join(
        f"{n} := wb_account(j.account_id, _raw)" if n == "account_id" else f"{n} := j.{n}"
        for n in envelope.NAMES)
    return f"""
select _line, _seq, _raw, _bytes, _utf8, _oversize, _json_ok, _jt,
  list_filter(_keys, lambda k: not list_contains([{known}], k)) as _unknown,
  coalesce(wb_dupkey(_keys), wb_dupkey(json_keys(j.request)),
           wb_dupkey(json_keys(j.response)),
           wb_dup_msgs(coalesce(j.request->'$.messages', j.request->'$.input'))) as _dup,
  wb_full(j.request) as _full,
  case when j is not null then struct_pack({fields}) end as e
from ({record_columns(envelope.STRUCT)})"""


def scratch(opts: _opts.Options | None = None, macros: Iterable[str] = ()
            ) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB for building one chunk's stage outside the load's transaction.

    Temp tables replaced inside one long transaction keep every old version until it ends, so
    staging in the case connection would hold the whole file in memory; here each chunk's stage
    is freed when the next one replaces it.
    """
    s = duckdb.connect()
    # Half the cores: the load's own connection compresses and writes on the others meanwhile.
    run(s, f"SET threads = {max(1, (os.cpu_count() or 2) // 2)}")
    run(s, "SET TimeZone = 'UTC'")
    run(s, "SET preserve_insertion_order = true")
    run(s, "SET enable_progress_bar = false")
    install_macros(s)
    for m in [*_opts.MACROS, *macros]:
        run(s, m)
    (opts or _opts.Options()).apply(s)
    return s


def stage_chunks(con: duckdb.DuckDBPyConnection, tables: Iterator[pa.Table], sql: str,
                 opts: _opts.Options | None = None, *,
                 build: Callable[[duckdb.DuckDBPyConnection, pa.Table], Any] | None = None,
                 macros: Iterable[str] = (),
                 scratch_con: duckdb.DuckDBPyConnection | None = None) -> Iterator[None]:
    """Stage each chunk of records and hand it to `con` as `wb_stage`; yield after each.

    The stage is built on a scratch connection by `sql` (which reads `chunk_in`, the chunk
    numbered by `_stream.numbered`), or by `build(scratch, chunk)` (which returns an Arrow
    table) when given. Reading, staging and the caller's inserts overlap: the records are read
    in one background thread and staged in another while the caller commits the previous chunk
    (DuckDB releases the GIL). A file that cannot be decompressed to its end stages, last, one
    `unreadable` record. `scratch_con`, when given, is used (and left open) instead of a fresh
    scratch connection."""
    def staged() -> Iterator[pa.Table]:
        s = scratch_con if scratch_con is not None else scratch(opts, macros)
        shape = None
        try:
            try:
                for tbl in _stream.prefetch(_stream.numbered(tables)):
                    s.register("chunk_in", tbl)
                    out = build(s, tbl) if build is not None else arrow(s, sql)
                    s.unregister("chunk_in")
                    shape = out.schema
                    yield out
            except OSError as exc:
                if shape is None:  # nothing staged yet: stage an empty chunk for the columns
                    empty = _stream.NUMBERED.empty_table()
                    s.register("chunk_in", empty)
                    shape = (build(s, empty) if build is not None
                             else arrow(s, sql)).schema
                    s.unregister("chunk_in")
                row: dict[str, list[Any]] = {n: [None] for n in shape.names}
                row.update(_raw=[""], _bytes=[0], _reason=["unreadable"], _detail=[str(exc)])
                yield pa.Table.from_pydict(row, schema=shape)
        finally:
            if scratch_con is None:
                s.close()

    try:
        for out in _stream.prefetch(staged()):
            run(con, "drop table if exists wb_stage")
            set_stage(out)
            yield
            clear_stage()
    finally:
        clear_stage()


def fast_build(opts: _opts.Options) -> Callable[[duckdb.DuckDBPyConnection, pa.Table], pa.Table]:
    """Stage a chunk by the fast path (`fast.py`), and the records it leaves by the slow one."""
    import pyarrow.compute as pc

    from workbench.loaders import fast

    slow = stage_sql(envelope_sql(), account_hint=opts.hint("account_id"))
    quick = fast.fast_sql()
    shapes: list[pa.Schema] = []

    def build(s: duckdb.DuckDBPyConnection, tbl: pa.Table) -> pa.Table:
        if not shapes:
            s.register("chunk_in", _stream.NUMBERED.empty_table())
            shapes.append(arrow(s, slow).schema)
            s.register("chunk_in", tbl)
        shape = shapes[0]
        if SLOW_ONLY:
            return arrow(s, slow).cast(shape)
        f = arrow(s, quick)
        # The fast query leaves `_raw` out (copying every line back out of DuckDB costs as
        # much as a column of text): it is the chunk's own `text`, in order, taken without a
        # copy when no record was left out, else without the blank ones (wb_blank's rule; by
        # position, the fast query keeping the chunk's order).
        raw = tbl.column("text")
        if f.num_rows != tbl.num_rows:
            raw = raw.filter(pc.not_equal(pc.utf8_trim(raw, characters=" "), ""))
        if len(raw) != f.num_rows:  # the two blank rules disagree: never pair text by guess
            msg = f"fast path: {f.num_rows} staged records but {len(raw)} non-blank lines"
            raise RuntimeError(msg)
        f = f.set_column(f.schema.get_field_index("_raw"), "_raw", raw)
        ok = pc.fill_null(f.column("_fast"), False)
        if pc.all(ok).as_py():
            return f.select(shape.names).cast(shape)  # every record plain: no filtered copy
        good = f.filter(ok).select(shape.names).cast(shape)
        # By `seq`, not `line`: the records of one line that were plain are staged already.
        rest = tbl.filter(pc.is_in(tbl.column("seq"),
                                   value_set=f.filter(pc.invert(ok)).column("_seq")))
        s.register("chunk_in", rest)
        redone = arrow(s, slow).cast(shape)
        return pa.concat_tables([good, redone])

    return build


SLOW_ONLY = False  # tests set it to hold the fast path to the slow path's results


def stage(con: duckdb.DuckDBPyConnection, path: Path, on_progress: Progress = None,
          opts: _opts.Options | None = None) -> Iterator[None]:
    """Stage a native envelope file chunk by chunk into `wb_stage`.

    Example:
        >>> import workbench as wb, tempfile, pathlib, json
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
        >>> _ = p.write_text(json.dumps({"request_id": "r1", "timestamp": 1767225600,
        ...     "account_id": "a1", "model": "m"}) + "\\n")
        >>> wb.load(wb.open(), [p], progress=False).loaded
        1
    """
    from workbench.loaders import fast

    opts = opts or _opts.Options()
    yield from stage_chunks(con, _split.read(path, on_progress=on_progress), "", opts,
                            build=fast_build(opts), macros=fast.MACROS)
