"""`workbench report` and `workbench indicators`: what an investigation hands over."""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli import cli

_DB = click.option("--db", "db", required=True, type=click.Path(dir_okay=False, path_type=Path),
                   help="Case database file.")
_CAMPAIGN = click.option("--campaign", required=True, help="Campaign id (see `workbench "
                                                           "campaigns`).")


@cli.command("report")
@_DB
@_CAMPAIGN
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, e.g. report.html.")
@click.option("--format", "fmt", default="html", show_default=True,
              type=click.Choice(["html", "md"]), help="Self-contained HTML or Markdown.")
def report_cmd(db: Path, campaign: str, out: Path, fmt: str) -> None:
    """Write the evidence report of one campaign."""
    import workbench as wb

    case = wb.open(db, read_only=True)
    wb.report(case, campaign, out=out, format=fmt)
    click.echo(f"Wrote {out} ({fmt}).")


@cli.command("indicators")
@_DB
@_CAMPAIGN
@click.option("--format", "fmt", default="json", show_default=True,
              type=click.Choice(["csv", "json", "stix"]),
              help="CSV, JSON or a STIX 2.1 bundle.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write; standard output when absent.")
def indicators_cmd(db: Path, campaign: str, fmt: str, out: Path | None) -> None:
    """Export the indicators of one campaign: accounts, orgs, keys, payment, IPs, agents."""
    import workbench as wb

    case = wb.open(db, read_only=True)
    text = wb.indicators(case, campaign, format=fmt)
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out} ({fmt}).", err=True)
