"""`workbench load`, `workbench info` and `workbench sql`: build and query a case database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import duckdb

from workbench.cli import cli
from workbench.errors import CaseError, LoadError, WorkbenchError

_DB = click.option("--db", "db", required=True, type=click.Path(dir_okay=False, path_type=Path),
                   help="Case database file.")


def _existing_case(db: Path) -> Any:
    import workbench as wb

    if not db.exists():
        msg = (f"Case file {str(db)!r} does not exist. "
               f"Create it with `workbench load PATH --db {db}`.")
        raise CaseError(msg)
    return wb.open(db, read_only=True)


@cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_DB
@click.option("--accounts", type=click.Path(path_type=Path), help="Accounts CSV or JSONL.")
@click.option("--releases", type=click.Path(path_type=Path), help="Model releases CSV.")
@click.option("--format", "fmt", default=None,
              help="Force a loader instead of detecting each file's format.")
@click.option("--account-from", "account_from", default=None, metavar="FIELD",
              help="For sources that record no account: take it from FIELD (a dotted field "
                   "path; for OpenTelemetry an attribute name), or give =ACCOUNT_ID.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def load_cmd(paths: tuple[Path, ...], db: Path, accounts: Path | None, releases: Path | None,
             fmt: str | None, account_from: str | None, quiet: bool) -> None:
    """Load log files (globs and folders work) into the case database DB, atomically."""
    import workbench as wb
    from workbench.loaders import _check_format

    if not paths and not accounts and not releases:
        msg = "Nothing to load: give log files, --accounts or --releases."
        raise LoadError(msg)
    if fmt is not None:
        _check_format(fmt)
    from workbench.loaders._opts import Options

    Options(account_from)  # a malformed --account-from fails before the case is touched
    for p in [*paths, accounts, releases]:
        if p is not None and not any(ch in str(p) for ch in "*?[") and not p.exists():
            msg = f"Input {str(p)!r} does not exist. Check the path."
            raise LoadError(msg)
    _not_another_database(db)
    try:
        case = wb.open(db)
    except OSError as exc:
        msg = (f"Cannot create or write the case {str(db)!r}: {exc.strerror or exc}. Give a "
               "--db path in a folder you can write to.")
        raise CaseError(msg) from None
    except duckdb.Error as exc:
        first = " ".join(str(exc).split())[:300]
        msg = (f"Cannot open the case {str(db)!r} for writing: {first}. Give a --db path in a "
               "folder you can write to.")
        raise CaseError(msg) from None
    report = wb.load(case, list(paths), format=fmt, accounts=accounts, releases=releases,
                     account_from=account_from, progress=not quiet)
    click.echo(str(report))


def _not_another_database(db: Path) -> None:
    """Refuse a DuckDB file that holds tables but is not a case: loading into it would turn
    someone's database into a case."""
    if not db.is_file() or db.stat().st_size == 0:
        return
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return  # not DuckDB, or held by a writer: opening the case says which, in one line
    try:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables() union all "
                                           "select view_name from duckdb_views() "
                                           "where not internal").fetchall()}
    finally:
        con.close()
    if names and "workbench_meta" not in names:
        shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        msg = (f"{str(db)!r} is a DuckDB database but not a case (it holds {shown}); loading "
               "would add the case tables to it. Give a new --db path.")
        raise CaseError(msg)


def _fmt(value: Any) -> str:
    from workbench.safe import one_line

    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if hasattr(value, "tzinfo") and hasattr(value, "isoformat"):
        return value.isoformat(sep=" ")  # a TIMESTAMPTZ keeps its zone (+00:00)
    return one_line(value)


@cli.command("info")
@_DB
def info_cmd(db: Path) -> None:
    """Tables, row counts, time span and quarantine summary of a case."""
    print_info(_existing_case(db))


def print_info(case: Any) -> None:
    """Print a case's summary: tables, row counts, time span, quarantine by reason."""
    from workbench.loaders import info

    data = info(case)
    click.echo(f"case: {data['path']}")
    click.echo(f"requests: {data['first_request']} .. {data['last_request']}")
    click.echo(f"load batches: {data['load_batches']} ({data['files_loaded']} files)")
    click.echo("tables:")
    for name, n in data["tables"].items():
        click.echo(f"  {name:<16} {n:>12,}")
    click.echo("quarantine by reason:" if data["quarantine"] else "quarantine: empty")
    for reason, n in data["quarantine"].items():
        click.echo(f"  {reason:<16} {n:>12,}")


@cli.command("sql")
@_DB
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--limit", type=int, default=100, show_default=True,
              help="Rows shown in table format (csv and json print all).")
def sql_cmd(db: Path, query: str, fmt: str, limit: int) -> None:
    """Run one read-only SQL query against the case and print the result."""
    import duckdb

    case = _existing_case(db)
    try:
        df = case.sql(query)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        msg = f"SQL error: {first}"
        raise WorkbenchError(msg) from None
    if fmt == "csv":
        from workbench.safe import frame_csv

        sys.stdout.write(frame_csv(df))
    elif fmt == "json":
        click.echo(json.dumps(df.to_dicts(), default=str, ensure_ascii=False))
    else:
        _table(df.head(limit).rows(), df.columns)
        if df.height > limit:
            click.echo(f"({df.height:,} rows, {limit:,} shown; use --limit or --format csv)")


def _table(rows: list[tuple[Any, ...]], columns: list[str], width: int = 60) -> None:
    # Cells are adversary-written: control and bidi characters are made visible, long ones cut.
    from workbench.safe import one_line

    cells = [[_fmt(v)[:width] for v in r] for r in rows]
    columns = [one_line(c, width) for c in columns]  # `select 1 as "\r..."` names a column
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    click.echo("  ".join("-" * w for w in widths))
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
