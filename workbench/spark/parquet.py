"""Parquet in and out of the Spark engine: Arrow tables the driver writes, read into a case."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.schema import TABLES

if TYPE_CHECKING:
    import duckdb


def insert_from_parquet(con: duckdb.DuckDBPyConnection, table: str, glob: str, *,
                        into: str | None = None, unsigned: tuple[str, ...] = ()) -> int:
    """Insert Parquet rows into `into` (default `table`), cast to `table`'s canonical types.

    Spark has no unsigned integers: a column in `unsigned` travelled as a signed 64-bit integer
    with the same bits, and is reinterpreted, not cast.
    """
    cols = []
    for c in TABLES[table].columns:
        if c.name in unsigned:
            cols.append(f'CASE WHEN "{c.name}" < 0 THEN ("{c.name}"::HUGEINT + '
                        f'18446744073709551616)::UBIGINT ELSE "{c.name}"::UBIGINT END '
                        f'AS "{c.name}"')
        else:
            cols.append(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"')
    literal = "'" + glob.replace("'", "''") + "'"  # our own path, quoted: COPY cannot bind
    row = con.execute(f'INSERT INTO "{into or table}" BY NAME SELECT {", ".join(cols)} '
                      f"FROM read_parquet({literal})").fetchone()
    return int(row[0]) if row else 0


def replace_from_parquet(con: duckdb.DuckDBPyConnection, table: str, glob: str, *,
                         unsigned: tuple[str, ...] = ()) -> int:
    """Replace a table's rows with Parquet's, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f'DELETE FROM "{table}"')
        n = insert_from_parquet(con, table, glob, unsigned=unsigned)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return n


def write_arrow(table: Any, path: Path) -> None:
    """Write an Arrow table to one Parquet file, creating its folder."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
