"""From the staging table to the case: quarantine, duplicates, conflicts, inserts.

Every loader fills the temp table `wb_stage` with one row per record read: `_line`, `_seq`
(order), `_raw`, `_bytes`, `_reason`/`_detail` (set when the record is bad) and the target
table's columns. `commit_stage` then sends bad records to `quarantine`, inserts the first
occurrence of each new key, and compares every other occurrence with the row already in the
case: identical is a duplicate, different is a `conflict` in quarantine. So for every file
`read = loaded + quarantined + duplicate` holds by construction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from workbench.schema import REQUEST_CONTENT, Table

# `arrow` fetches a DB-API result on purpose (see there); DuckDB warns about the copy it makes.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning,
                        module=__name__)
RAW_LIMIT = 65_536  # characters of the raw record kept in quarantine.raw
DETAIL_LIMIT = 2_000
LINEAGE = ("load_batch", "source_file", "source_line")


@dataclass
class Counts:
    """Records read, loaded, quarantined and duplicate for one file, and what the summary
    says about them: fields not understood, records with text or tokens, missing accounts."""

    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicate: int = 0
    unknown: dict[str, int] = field(default_factory=dict)
    with_text: int = 0
    with_tokens: int = 0
    no_account: int = 0

    def add(self, other: Counts) -> None:
        self.read += other.read
        self.loaded += other.loaded
        self.quarantined += other.quarantined
        self.duplicate += other.duplicate
        for k, n in other.unknown.items():
            self.unknown[k] = self.unknown.get(k, 0) + n
        self.with_text += other.with_text
        self.with_tokens += other.with_tokens
        self.no_account += other.no_account


def _q(name: str) -> str:
    return f'"{name}"'


class KeySet:
    """The keys of a table that this load has seen: those in the case when the load began and
    those it added. A key is new exactly once, so the table stays unique without an index on
    it: an index on the case's table would slow every insert as the table grows and hold every
    key in the case's memory limit; this one lives in a private in-memory DuckDB for the load."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: Table) -> None:
        self.db = duckdb.connect()
        run(self.db, "create table seen (k VARCHAR PRIMARY KEY)")
        key = _q(table.key[0])
        if _fetch_int(con, f"select count(*) from {_q(table.name)}"):
            old = con.sql(f"select {key} as k from {_q(table.name)}").to_arrow_table()
            self.db.register("wb_old", old)
            run(self.db, "insert into seen select k from wb_old")
            self.db.unregister("wb_old")

    def classify(self, keys: Any) -> Any:
        """`keys` (Arrow: _seq, k) -> Arrow (_seq, _new): the first occurrence of a key never
        seen is new, and is now seen."""
        self.db.register("wb_b", keys)
        run(self.db, "create or replace temp table wb_f as select k, min(_seq) as s "
                     "from wb_b group by k")
        new = self.db.sql("insert into seen select k from wb_f on conflict do nothing "
                          "returning k").to_arrow_table()
        self.db.register("wb_n", new)
        out = self.db.sql("""select b._seq, coalesce(f.s = b._seq and n.k is not null, false)
            as _new from wb_b b left join wb_f f on f.k = b.k left join wb_n n on n.k = b.k
            """).to_arrow_table()
        self.db.unregister("wb_b")
        self.db.unregister("wb_n")
        return out

    def close(self) -> None:
        self.db.close()


def observe(con: duckdb.DuckDBPyConnection, lineage: bool) -> Counts:
    """What the load summary says about the staged records (no rows moved)."""
    cols = {r[0] for r in con.execute("describe select * from wb_stage").fetchall()}
    c = Counts()
    if "_unknown" in cols:
        c.unknown = dict(con.execute("select k, count(*) from (select unnest(_unknown) as k "
                                     "from wb_stage where _reason is null) group by k"
                                     ).fetchall())
    if lineage and {"prompt_text", "input_tokens"} <= cols:
        row = first(con, """select
            count(*) filter (where _reason is null and (prompt_text is not null
                                                        or output_text is not null)),
            count(*) filter (where _reason is null and (input_tokens is not null
                                                        or output_tokens is not null)),
            count(*) filter (where _reason = 'missing_field'
                             and contains(_detail, 'account_id (tried'))
            from wb_stage""") or (0, 0, 0)
        c.with_text, c.with_tokens, c.no_account = (int(x) for x in row)
    return c


def commit_stage(con: duckdb.DuckDBPyConnection, target: Table, batch_id: int,
                 source_file: str, keys: KeySet | None = None) -> Counts:
    """Move `wb_stage` into `target` (and request_content for requests); return the counts.
    `keys` tells which keys are new (a table without a primary key needs it)."""
    seen = observe(con, target.name == "requests")
    counts = _commit(con, target, batch_id, source_file, keys)
    counts.unknown, counts.with_text = seen.unknown, seen.with_text
    counts.with_tokens, counts.no_account = seen.with_tokens, seen.no_account
    return counts


def _commit(con: duckdb.DuckDBPyConnection, target: Table, batch_id: int,
            source_file: str, keys: KeySet | None) -> Counts:
    key = target.key[0]
    lineage = target.name == "requests"
    cols = [c for c in target.column_names if c not in LINEAGE]
    content = [c for c in REQUEST_CONTENT.column_names if c != key] if lineage else []
    p = {"batch": batch_id, "file": source_file}
    one = _fetch_int

    read = one(con, "select count(*) from wb_stage")
    bad = one(con, "select count(*) from wb_stage where _reason is not null")
    run(con, f"""insert into quarantine select $batch, $file, _line, _reason,
        left(_detail, {DETAIL_LIMIT}), left(_raw, {RAW_LIMIT}), _bytes
        from wb_stage where _reason is not null""", p)
    if read == bad:  # nothing to insert (a stage of bad records only may lack the columns)
        return Counts(read=read, quarantined=bad)
    # Classify by key only (a narrow table): the first occurrence of a key not yet in the case
    # is new; everything else is compared below. The wide staged rows are read once more, by
    # the inserts, through a semi-join on _seq.
    if keys is not None:
        good = con.sql(f"select _seq, {_q(key)}::VARCHAR as k from wb_stage "
                       "where _reason is null").to_arrow_table()
        # Offered like `wb_stage` (see set_stage); a temp table of that name left by an earlier
        # commit on this connection would take precedence, so it goes first.
        run(con, "drop table if exists wb_cls")
        globals()["wb_cls"] = keys.classify(good)
    else:
        globals().pop("wb_cls", None)
        run(con, f"""create or replace temp table wb_cls as
            select s._seq, s._rn = 1 and t.{_q(key)} is null as _new
            from (select _seq, {_q(key)}, row_number() over (partition by {_q(key)}
                  order by _seq) as _rn from wb_stage where _reason is null) s
            left join {_q(target.name)} t on t.{_q(key)} = s.{_q(key)}""")
    loaded = one(con, "select count(*) from wb_cls where _new")
    new_rows = "from wb_stage where _reason is null"
    if loaded != read - bad:  # some keys seen before: insert only the first of each new key
        new_rows += " and _seq in (select _seq from wb_cls where _new)"
    sel = ", ".join(_q(c) for c in cols)
    if lineage:
        run(con, f"""insert into {_q(target.name)} ({sel}, load_batch, source_file,
            source_line) select {sel}, $batch, $file, _line {new_rows}""", p)
        csel = ", ".join(_q(c) for c in content)
        run(con, f"""insert into request_content ({_q(key)}, {csel})
            select {_q(key)}, {csel} {new_rows}
            and ({' or '.join(f'{_q(c)} is not null' for c in content)})""")
    else:
        run(con, f"insert into {_q(target.name)} ({sel}) select {sel} {new_rows}")
    if loaded == read - bad:  # nothing seen before: no duplicates or conflicts to sort out
        globals().pop("wb_cls", None)
        return Counts(read=read, loaded=loaded, quarantined=bad, duplicate=0)

    diffs = [f"case when c.{_q(x)} is distinct from t.{_q(x)} then '{x}' end" for x in cols]
    diffs += [f"case when c.{_q(x)} is distinct from k.{_q(x)} then '{x}' end"
              for x in content]
    join_content = f"left join request_content k on k.{_q(key)} = c.{_q(key)}" if lineage else ""
    where_from = ("' from ' || coalesce(t.source_file, '?') || ' line ' || "
                  "coalesce(t.source_line::VARCHAR, '?')") if lineage else "''"
    run(con, f"""create or replace temp table wb_cmp as
        select c._line, c._raw, c._bytes, c.{_q(key)} as _key,
               concat_ws(', ', {', '.join(diffs)}) as _diff, {where_from} as _where
        from (select s.* from wb_stage s join wb_cls w using (_seq)
              where s._reason is null and not w._new) c
        join {_q(target.name)} t on t.{_q(key)} = c.{_q(key)} {join_content}""")
    run(con, f"""insert into quarantine select $batch, $file, _line, 'conflict',
        left('{key} ' || _key || ' was already loaded' || _where ||
             ' with different content; differing fields: ' || _diff, {DETAIL_LIMIT}),
        left(_raw, {RAW_LIMIT}), _bytes from wb_cmp where _diff <> ''""", p)
    conflicts = one(con, "select count(*) from wb_cmp where _diff <> ''")
    dup = one(con, "select count(*) from wb_cmp where _diff = ''")
    globals().pop("wb_cls", None)
    return Counts(read=read, loaded=loaded, quarantined=bad + conflicts, duplicate=dup)


def set_stage(table: Any) -> None:
    """Offer an Arrow table as `wb_stage` to the statements `run` and `first` execute.

    DuckDB's Python replacement scan resolves `wb_stage` from this module's globals (the frame
    that calls `execute`). Registering the table instead (`con.register`) would leave a view in
    the catalog that keeps every chunk's table alive until the load's transaction ends; a
    replacement scan holds it only while a statement runs. A real table named `wb_stage` (the
    CSV and Parquet loaders make one) takes precedence, so callers drop it first.

    Example:
        >>> import duckdb, pyarrow as pa
        >>> set_stage(pa.table({"a": [1, 2]}))
        >>> first(duckdb.connect(), "select count(*) from wb_stage")
        (2,)
        >>> clear_stage()
    """
    globals()["wb_stage"] = table


def staged_row_bytes() -> int | None:
    """Average bytes a row of the Arrow table offered as `wb_stage` (None: none offered)."""
    table = globals().get("wb_stage")
    if table is None or not getattr(table, "num_rows", 0):
        return None
    return int(table.nbytes // table.num_rows)


def clear_stage() -> None:
    """Withdraw the table offered by `set_stage`."""
    globals().pop("wb_stage", None)


def run(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None) -> None:
    """Execute one statement and consume its result (DuckDB 2 requires it before the next)."""
    con.execute(query, params).fetchall()


def arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """The whole result of a query as an Arrow table, the query bound and planned once.

    A relation (`con.sql(query).to_arrow_table()`) binds and plans its query once to make the
    relation and again to run it: for a staging query (hundreds of expressions once its macros
    are expanded) that costs about a third of a CPU second a chunk, more than the copy of the
    rows that DuckDB warns a DB-API result makes (the warning is silenced for this module).

    Example:
        >>> import duckdb
        >>> arrow(duckdb.connect(), "select 1 as a").to_pydict()
        {'a': [1]}
    """
    return con.execute(query).to_arrow_table()


def first(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None
          ) -> tuple[Any, ...] | None:
    """First row of a query, with the whole result consumed."""
    rows = con.execute(query, params).fetchall()
    return rows[0] if rows else None


def _fetch_int(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = first(con, query)
    return int(row[0]) if row else 0
