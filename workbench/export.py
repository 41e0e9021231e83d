"""A case as hive-partitioned Parquet: export it, query it in place, attach results from Spark.

Layout written by `export_parquet` (and expected from a warehouse export or a Spark run):

    DIR/requests/day=2026-02-03/data_0.parquet        one folder per UTC day of `ts`
    DIR/request_content/day=2026-02-03/data_0.parquet  the day of the request it belongs to
    DIR/features/day=2026-02-03/data_0.parquet         likewise, when features were computed
    DIR/accounts/data_0.parquet                         small tables: one folder, no partitions
    DIR/findings/…, DIR/leads/…, DIR/campaigns/…        derived tables, when present

Every file holds the canonical columns of `workbench.schema` (the `day` partition column lives
only in folder names). `open_parquet` puts DuckDB views over `read_parquet(…,
hive_partitioning=true)` in a case, so a case larger than one disk can stay in object storage
and be queried in place; `attach_results` copies the derived tables a Spark run wrote back into
a local case for the notebooks and widgets.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import CaseError, unknown
from workbench.schema import TABLES

if TYPE_CHECKING:
    import duckdb

    from workbench.case import Case

# Tables partitioned by day, and how each finds its day (requests by its own ts).
DAY_PARTITIONED = ("requests", "request_content", "features")
# What `open_parquet` maps as views by default: the loaded tables. Derived tables stay local
# tables so that features, detectors and linking can still write them.
SOURCE_TABLES = ("requests", "request_content", "accounts", "model_releases", "load_batches",
                 "quarantine")
RESULT_TABLES = ("detector_runs", "findings", "account_links", "leads", "campaigns")
_BY_RUN = ("detector_runs", "findings")  # appended per run; the rest are replaced whole


def export_parquet(case: Case, out: str | os.PathLike[str], *, tables: list[str] | None = None,
                   overwrite: bool = False) -> dict[str, int]:
    """Write a case's tables as Parquet under `out`, the big ones hive-partitioned by day.

    Args:
        case: The case to export.
        out: Target folder (created). A table's folder that already exists is an error unless
            `overwrite=True`, which replaces it.
        tables: Which tables; by default every canonical table that has rows.

    Returns:
        Rows written per table.

    Example:
        >>> import tempfile, workbench as wb
        >>> from workbench.export import export_parquet
        >>> export_parquet(wb.open(), tempfile.mkdtemp(), tables=["accounts"])
        {'accounts': 0}
    """
    root = Path(out)
    names = list(tables) if tables is not None else [
        t for t in TABLES if case.count(t) > 0]
    for name in names:
        if name not in TABLES:
            err = unknown("table", name, TABLES)
            raise err
    written: dict[str, int] = {}
    with case.connect(write=False) as con:
        for name in names:
            target = root / name
            if target.exists():
                if not overwrite:
                    msg = (f"Parquet folder {str(target)!r} already exists; pass "
                           "overwrite=True (--overwrite) to replace it, or export elsewhere.")
                    raise CaseError(msg)
                shutil.rmtree(target)
            target.mkdir(parents=True)
            written[name] = _copy_table(con, name, target)
    case.audit("export_parquet", out=str(root), tables=written)
    return written


def _copy_table(con: duckdb.DuckDBPyConnection, name: str, target: Path) -> int:
    cols = ", ".join(f't."{c}"' for c in TABLES[name].column_names)
    n = int(con.execute(f'select count(*) from "{name}"').fetchall()[0][0])
    if name == "requests":
        query = f"select {cols}, strftime(t.ts, '%Y-%m-%d') as day from requests t"
    elif name in DAY_PARTITIONED:
        # A row whose request is missing keeps its data under day=unknown, never dropped.
        query = (f"select {cols}, coalesce(strftime(r.ts, '%Y-%m-%d'), 'unknown') as day "
                 f'from "{name}" t left join requests r using (request_id)')
    else:
        query = f'select {cols} from "{name}" t'
    if n == 0:
        # COPY with PARTITION_BY writes nothing for no rows; keep the schema in one empty file.
        query = f'select {cols} from "{name}" t'
        con.execute(f"COPY ({query}) TO {_literal(str(target / 'data_0.parquet'))} "
                    "(FORMAT parquet)")
    elif name in DAY_PARTITIONED:
        con.execute(f"COPY ({query}) TO {_literal(str(target))} "
                    "(FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE)")
    else:
        con.execute(f"COPY ({query}) TO {_literal(str(target / 'data_0.parquet'))} "
                    "(FORMAT parquet)")
    return n


def parquet_glob(source: str | os.PathLike[str], table: str) -> str:
    """The glob that reads one table of a Parquet case, local or in object storage.

    Example:
        >>> parquet_glob("s3://bucket/case", "requests")
        's3://bucket/case/requests/**/*.parquet'
    """
    return f"{str(source).rstrip('/')}/{table}/**/*.parquet"


def open_parquet(source: str | os.PathLike[str], path: str | os.PathLike[str] | None = None,
                 *, tables: tuple[str, ...] = SOURCE_TABLES) -> Case:
    """Open a case whose loaded tables are views over Parquet in `source`, queried in place.

    Args:
        source: Folder (or object-storage prefix DuckDB can read) laid out as `export_parquet`
            writes it.
        path: Case file that keeps the views and the derived tables; in memory when None.
        tables: Which tables to map; a table with no files under `source` stays an empty
            local table. `requests` must be present.

    Example:
        >>> import tempfile, workbench as wb
        >>> from workbench.export import export_parquet, open_parquet
        >>> d = tempfile.mkdtemp()
        >>> _ = export_parquet(wb.open(), d, tables=["requests", "accounts"])
        >>> open_parquet(d).sql("select count(*) as n from requests")["n"][0]
        0
    """
    from workbench.case import Case

    for name in tables:
        if name not in TABLES:
            err = unknown("table", name, TABLES)
            raise err
    case = Case(path)
    with case.connect(write=True) as con:
        found = [t for t in tables if _has_files(con, parquet_glob(source, t))]
        if "requests" not in found:
            msg = (f"No Parquet files under {parquet_glob(source, 'requests')!r}. A Parquet case "
                   "needs requests/ (hive-partitioned by day=YYYY-MM-DD); write one with "
                   "workbench.export.export_parquet(case, DIR).")
            raise CaseError(msg)
        for name in found:
            cols = ", ".join(f'"{c}"' for c in TABLES[name].column_names)
            glob = _literal(parquet_glob(source, name))
            con.execute(f'DROP TABLE IF EXISTS "{name}"')
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT {cols} FROM '
                        f"read_parquet({glob}, hive_partitioning = true, union_by_name = true)")
        con.execute("INSERT OR REPLACE INTO workbench_meta VALUES ('parquet_source', $s)",
                    {"s": str(source)})
    return case


def parquet_source(case: Case) -> str | None:
    """The Parquet folder a case was opened over with `open_parquet`, or None."""
    df = case.sql("select value from workbench_meta where key = 'parquet_source'")
    return str(df["value"][0]) if df.height else None


def attach_results(case: Case, source: str | os.PathLike[str], *,
                   tables: tuple[str, ...] = RESULT_TABLES) -> dict[str, int]:
    """Bring derived tables written as Parquet (by a Spark run) into a local case.

    `detector_runs` adds the runs it holds (attaching twice adds nothing); `findings` replaces
    the earlier findings of each detector in those runs, and `account_links`, `leads` and
    `campaigns` replace the case's tables whole, as a local `detect()` does. Columns are cast
    to the canonical types; a missing one is an error.

    Returns:
        Rows attached per table (tables with no files under `source` are left out).
    """
    attached: dict[str, int] = {}
    runs: list[str] = []
    with case.connect(write=True) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            for name in tables:
                glob = parquet_glob(source, name)
                if not _has_files(con, glob):
                    continue
                attached[name] = _attach_one(con, name, glob, runs)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return attached


def _attach_one(con: duckdb.DuckDBPyConnection, name: str, glob: str, runs: list[str]) -> int:
    table = TABLES[name]
    src = f"read_parquet({_literal(glob)}, hive_partitioning = true, union_by_name = true)"
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    missing = [c for c in table.column_names if c not in have]
    if missing:
        msg = (f"{name} Parquet under {glob!r} lacks column(s) {', '.join(missing)}; the "
               f"canonical {name} columns are: {', '.join(table.column_names)}.")
        raise CaseError(msg)
    casts = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in table.columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _attach AS SELECT {casts} FROM {src}")
    if name == "findings":
        # As a local detect(): a detector's earlier findings give way to this run's, also
        # for a detector that found nothing this time (known from the runs attached with it).
        con.execute("DELETE FROM findings WHERE run_id IN (SELECT run_id FROM _attach) "
                    "OR detector IN (SELECT detector FROM _attach) OR detector IN "
                    "(SELECT detector FROM detector_runs WHERE list_contains($runs, run_id))",
                    {"runs": runs})
    elif name in _BY_RUN:
        con.execute(f'DELETE FROM "{name}" WHERE run_id IN (SELECT run_id FROM _attach)')
    else:
        con.execute(f'DELETE FROM "{name}"')
    con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _attach')
    n = int(con.execute("SELECT count(*) FROM _attach").fetchall()[0][0])
    if name == "detector_runs":
        runs += [r[0] for r in con.execute("SELECT DISTINCT run_id FROM _attach").fetchall()]
    con.execute("DROP TABLE _attach")
    return n


def _has_files(con: duckdb.DuckDBPyConnection, glob: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM glob($g)", {"g": glob}).fetchall()[0][0])


def _literal(text: str) -> str:
    """A SQL string literal. Paths come from the investigator, not the logs, but still quoted:
    DuckDB cannot bind a parameter inside CREATE VIEW or COPY … TO."""
    return "'" + text.replace("'", "''") + "'"
