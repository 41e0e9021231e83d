"""`workbench detectors` (the catalogue) and `workbench detect` (run them, write findings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from workbench.cli import cli
from workbench.errors import ParameterError


def parse_params(items: tuple[str, ...] | list[str]) -> dict[str, dict[str, Any]]:
    """Turn `NAME.KEY=VALUE` strings into `{name: {key: value}}` (values typed later).

    Example:
        >>> parse_params(["cot_elicitation.min_share=0.5"])
        {'cot_elicitation': {'min_share': '0.5'}}
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, sep, value = item.partition("=")
        name, dot, key = head.partition(".")
        if not sep or not dot or not name or not key:
            msg = (f"--param {item!r} must read NAME.KEY=VALUE, e.g. "
                   "--param cot_elicitation.min_share=0.5.")
            raise ParameterError(msg)
        out.setdefault(name.strip(), {})[key.strip()] = value.strip()
    return out


@cli.command("detectors")
@click.option("--all", "show_all", is_flag=True, help="Include deprecated detectors.")
def detectors_cmd(show_all: bool) -> None:
    """List the detector catalogue: name, level, entity and title."""
    from workbench.catalogue import catalogue

    cat = catalogue()
    for row in cat.iter_rows(named=True):
        if row["status"] == "deprecated" and not show_all:
            continue
        params = ", ".join(f"{p['name']}={p['default']}" for p in row["params"])
        click.echo(f"{row['area'] + '/' + row['name']:<40} {row['level']:<9} "
                   f"{row['entity']:<8} {row['title']}")
        if params:
            click.echo(f"{'':<40} params: {params}")


@cli.command("detect")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Case database file.")
@click.option("--only", multiple=True, metavar="NAME", help="Run only this detector (repeat).")
@click.option("--param", "param", multiple=True, metavar="NAME.KEY=VALUE",
              help="Override a detector parameter (repeat).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb",
              show_default=True, help="Engine that runs the detectors.")
@click.option("--no-link", is_flag=True, help="Do not build links, leads and campaigns.")
@click.option("--quiet", is_flag=True, help="No per-detector progress lines.")
@click.option("--spark-master", default=None, metavar="URL",
              help="Spark master for --engine spark: local[*] (default), spark://…, sc://….")
@click.option("--spark-conf", multiple=True, metavar="KEY=VALUE",
              help="Spark setting for --engine spark (repeat).")
@click.option("--parquet", type=click.Path(path_type=Path), default=None,
              help="The case as Parquet by day for --engine spark (default: exported).")
def detect_cmd(db: Path, only: tuple[str, ...], param: tuple[str, ...], engine: str,
               no_link: bool, quiet: bool, spark_master: str | None,
               spark_conf: tuple[str, ...], parquet: Path | None) -> None:
    """Compute features, run the detectors and write findings (then link accounts)."""
    import workbench as wb
    from workbench.errors import CaseError

    params = parse_params(param)
    if not db.exists():
        msg = f"Case file {str(db)!r} does not exist. Create it with `workbench load`."
        raise CaseError(msg)
    options: dict[str, Any] = {}
    if engine == "spark":
        from workbench.spark import parse_conf

        options = {"spark_master": spark_master, "spark_conf": parse_conf(spark_conf),
                   "parquet": parquet}
    elif spark_master or spark_conf or parquet:
        msg = "--spark-master, --spark-conf and --parquet apply only with --engine spark."
        raise CaseError(msg)
    report = wb.detect(wb.open(db), only=list(only) or None, params=params or None, engine=engine,
                                link=not no_link, progress=not quiet, **options)
    click.echo(repr(report))
    for note in getattr(report, "notes", []):
        click.echo(f"note: {note}")
