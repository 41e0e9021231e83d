"""The case: one DuckDB file holding the logs in the canonical schema, and how to query it.

This is the data layer: connections, `sql`, `execute`, the schema and locking. It imports
nothing of the investigation; loaders, features, detectors, linking and scoring take a `Case`
and work through `connect()` (see docs/architecture.md). Writers get their turn before new
readers (`workbench.locks`), every query is written to the case's access log
(`workbench.audit`), and a case file and its companions are created mode 0600: they hold
other people's data.

DuckDB lets one process write a file or several processes read it, not both at once. A case
opened `read_only=True` (what notebooks use) therefore opens a connection per query and
releases it at once, so an open notebook never blocks a scheduled load for long; a writer
that meets a held lock retries for a bounded time, then fails with one clear line.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

import workbench.audit as audit
import workbench.locks as locks
from workbench.errors import CaseError, CaseLockedError, ParameterError, unknown
from workbench.schema import TABLES

if TYPE_CHECKING:
    import polars as pl

SCHEMA_VERSION = "1"
DEFAULT_LOCK_TIMEOUT = float(os.environ.get("WORKBENCH_LOCK_TIMEOUT", "30"))
_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "lock on file")
_NOT_DB_MARKERS = ("not a valid DuckDB database", "The file is not a valid", "Magic bytes")
# What a read-only case runs: queries. COPY … TO, EXPORT, ATTACH and friends write files.
_READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN", "PRAGMA")


def _settings() -> dict[str, Any]:
    """Connection settings: UTC everywhere, bounded memory, spill to disk when needed."""
    cfg: dict[str, Any] = {}
    if mem := os.environ.get("WORKBENCH_MEMORY_LIMIT"):
        cfg["memory_limit"] = mem
    if threads := os.environ.get("WORKBENCH_THREADS"):
        cfg["threads"] = int(threads)
    return cfg


class Case:
    """A case database. Create with `workbench.open()`.

    Example:
        >>> import workbench as wb
        >>> case = wb.open()
        >>> case.sql("select count(*) as n from requests")["n"][0]
        0
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self._con: duckdb.DuckDBPyConnection | None = None
        if self.path is None:
            if read_only:
                msg = "An in-memory case cannot be read-only: give a case file path."
                raise CaseError(msg)
            self._con = _prepare(duckdb.connect(":memory:", config=_settings()))
            ensure_schema(self._con)
        elif read_only:
            if not self.path.exists():
                msg = (f"Case file {str(self.path)!r} does not exist. "
                       "Create it with `workbench load`.")
                raise CaseError(msg)
            with self.connect() as con:
                check_case(con, self.path)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists()
            with self.connect(write=True) as con:
                ensure_schema(con)
            if fresh:
                _private(self.path)

    def __repr__(self) -> str:
        where = str(self.path) if self.path else ":memory:"
        return f"<Case {where}{' read-only' if self.read_only else ''}>"

    # -- connections -----------------------------------------------------------------------

    @contextlib.contextmanager
    def connect(self, write: bool = False, *,
                despite_read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work, released when the block ends.

        In memory, a cursor on the one shared database. On a file, a fresh connection that
        retries a held lock for up to `lock_timeout` seconds; a writer holds the turnstile
        (`workbench.locks`) meanwhile, so new readers wait for it instead of starving it.
        `despite_read_only` is for the one writer a read-only case allows: an investigator's
        note (`workbench.notes`).
        """
        if self._con is not None:
            cur = self._con.cursor()
            try:
                yield cur
            finally:
                cur.close()
            return
        assert self.path is not None
        if write and self.read_only and not despite_read_only:
            msg = (f"Case {str(self.path)!r} is open read-only; open it with "
                   "wb.open(path) to write.")
            raise CaseError(msg)
        if write:
            with locks.writer_turn(self.path, self.lock_timeout):
                con = connect_file(self.path, read_only=False, timeout=self.lock_timeout)
                try:
                    yield con
                finally:
                    con.close()
            return
        locks.reader_pass(self.path, self.lock_timeout)
        con = connect_file(self.path, read_only=True, timeout=self.lock_timeout)
        try:
            yield con
        finally:
            con.close()

    def audit(self, action: str, **detail: Any) -> None:
        """Write one entry to the case's access log (see `workbench.audit`)."""
        audit.record(self.path, action, **detail)

    def close(self) -> None:
        """Release the in-memory database (file cases hold nothing between calls)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    # -- querying --------------------------------------------------------------------------

    def sql(self, query: str, **params: Any) -> pl.DataFrame:
        """Run one query and return a polars DataFrame. Values are bound as `$name`, never
        formatted into the SQL text.

        Example:
            >>> import workbench as wb
            >>> wb.open().sql("select $who as who", who="<script>")["who"][0]
            '<script>'
        """
        import polars as pl

        with self.connect(write=not self.read_only and self.path is not None) as con:
            _check_params(con, query, params)
            if self.read_only:
                _check_read_only(con, query, self.path)
            self.audit("sql", query=query, params=sorted(params))
            rel = con.sql(query, params=params or None)
            if rel is None:  # a statement with no result set
                return pl.DataFrame()
            return rel.pl()

    def execute(self, query: str, **params: Any) -> None:
        """Run a statement that changes the case (values bound as `$name`)."""
        with self.connect(write=True) as con:
            _check_params(con, query, params)
            self.audit("execute", query=query, params=sorted(params))
            con.execute(query, params or None)

    def tables(self) -> list[str]:
        """Names of the tables in the case."""
        df = self.sql("select table_name from duckdb_tables() order by 1")
        return list(df["table_name"])

    def count(self, table: str) -> int:
        """Row count of one canonical table."""
        if table not in TABLES:
            err = unknown("table", table, TABLES)
            raise err
        return int(self.sql(f'select count(*) as n from "{table}"')["n"][0])


def _prepare(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # TimeZone needs ICU, which is only loaded once a connection exists.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # a library never draws on the terminal
    return con


def _check_params(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any]) -> None:
    """Name the declared parameters when the caller's do not match them."""
    try:
        stmts = con.extract_statements(query)
    except duckdb.Error:
        return  # let execute() report the syntax error itself
    if not stmts:
        msg = "Empty query: give one SQL statement."
        raise ParameterError(msg)
    declared = set(stmts[-1].named_parameters)
    given = set(params)
    if declared != given:
        missing, extra = sorted(declared - given), sorted(given - declared)
        parts = []
        if missing:
            parts.append(f"missing {', '.join('$' + m for m in missing)}")
        if extra:
            parts.append(f"not in the query: {', '.join(extra)}")
        msg = (f"Query parameters do not match ({'; '.join(parts)}). The query declares: "
               f"{', '.join('$' + d for d in sorted(declared)) or 'none'}.")
        raise ParameterError(msg)


def _check_read_only(con: duckdb.DuckDBPyConnection, query: str, path: Path | None) -> None:
    """A read-only case runs queries only: COPY … TO or EXPORT would write files."""
    try:
        stmts = con.extract_statements(query)
    except duckdb.Error:
        return  # the query's own syntax error is reported when it runs
    for st in stmts:
        kind = str(st.type).rsplit(".", 1)[-1].upper()
        if kind not in _READ_ONLY_STATEMENTS:
            msg = (f"Case {str(path)!r} is open read-only, and a {kind} statement may write; "
                   "only queries (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN) run on it. Open it "
                   "with wb.open(path) to change it, or export with workbench's own commands.")
            raise CaseError(msg)


def _private(path: Path) -> None:
    """Mode 0600 for a case file we created (and its write-ahead log, when there is one)."""
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(OSError):
            if p.exists():
                p.chmod(0o600)


def connect_file(path: Path, *, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open a case file, retrying a held lock for up to `timeout` seconds.

    `Case.connect` is the usual way in; this is for the one writer that bypasses a read-only
    case's guard on purpose (`workbench.notes`: an investigator's note on a read-only case).
    """
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            return _prepare(duckdb.connect(str(path), read_only=read_only, config=_settings()))
        except duckdb.Error as exc:
            text = str(exc)
            if any(m in text for m in _NOT_DB_MARKERS):
                msg = f"{str(path)!r} is not a case database (not a DuckDB file)."
                raise CaseError(msg) from None
            if not any(m in text for m in _LOCK_MARKERS):
                raise
            if time.monotonic() >= deadline:
                who = locks.holder(text)
                msg = (f"Case {str(path)!r} is locked by another process"
                       f"{f' ({who})' if who else ''} that has it open"
                       f"{'' if read_only else ' (a writer needs it to itself)'}; gave up after "
                       f"{timeout:g}s. Wait for that load or detect to finish, or close the "
                       "notebook that opened it for writing, then try again.")
                raise CaseLockedError(msg) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every canonical table that is missing, and stamp the schema version."""
    con.execute("CREATE TABLE IF NOT EXISTS workbench_meta "
                "(key VARCHAR PRIMARY KEY, value VARCHAR)")
    for table in TABLES.values():
        con.execute(table.ddl())
    con.execute("INSERT OR IGNORE INTO workbench_meta VALUES ('schema_version', $v)",
                {"v": SCHEMA_VERSION})


def check_case(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Fail clearly when a DuckDB file is not a workbench case."""
    # A Parquet-backed case (workbench.export.open_parquet) holds `requests` as a view.
    names = {r[0] for r in con.execute("select table_name from duckdb_tables() union all "
                                       "select view_name from duckdb_views()").fetchall()}
    if "workbench_meta" not in names or "requests" not in names:
        msg = (f"{str(path)!r} is a DuckDB file but not a case database (no workbench_meta or "
               "requests table). Create a case with `workbench load PATH --db CASE`.")
        raise CaseError(msg)


def open(path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
         lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Case:
    """Open or create a case file; with no path, an in-memory case.

    Example:
        >>> import workbench as wb
        >>> wb.open()
        <Case :memory:>
    """
    return Case(path, read_only=read_only, lock_timeout=lock_timeout)
