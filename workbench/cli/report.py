"""`workbench report` and `workbench indicators`: what an investigation hands over."""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli import cli

_DB = click.option("--db", "db", required=True, type=click.Path(dir_okay=False, path_type=Path),
                   help="Case database file.")
_CAMPAIGN = click.option("--campaign", required=True, help="Campaign id (see `workbench "
                                                           "campaigns`).")
_REDACT = click.option("--redact", is_flag=True,
                       help="Replace e-mails, IPs and payment fingerprints with keyed hashes "
                            "(HMAC-SHA256), for sharing between providers.")
_REDACT_KEY = click.option("--redact-key", envvar="WORKBENCH_REDACT_KEY", default=None,
                           help="Key of the hashes (implies --redact); default: the case's own "
                                "key, kept in the case. Also read from WORKBENCH_REDACT_KEY.")


def _redact(redact: bool, key: str | None) -> bool | str:
    return key if key else redact


@cli.command("report")
@_DB
@_CAMPAIGN
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, e.g. report.html.")
@click.option("--format", "fmt", default="html", show_default=True,
              type=click.Choice(["html", "md"]), help="Self-contained HTML or Markdown.")
@_REDACT
@_REDACT_KEY
def report_cmd(db: Path, campaign: str, out: Path, fmt: str, redact: bool,
               redact_key: str | None) -> None:
    """Write the evidence report of one campaign (readable by you only: mode 0600)."""
    import workbench as wb

    case = wb.open(db, read_only=True)
    wb.report(case, campaign, out=out, format=fmt, redact=_redact(redact, redact_key))
    click.echo(f"Wrote {out} ({fmt}).")


@cli.command("indicators")
@_DB
@_CAMPAIGN
@click.option("--format", "fmt", default="json", show_default=True,
              type=click.Choice(["csv", "json", "stix"]),
              help="CSV, JSON or a STIX 2.1 bundle.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (mode 0600); standard output when absent.")
@_REDACT
@_REDACT_KEY
def indicators_cmd(db: Path, campaign: str, fmt: str, out: Path | None, redact: bool,
                   redact_key: str | None) -> None:
    """Export the indicators of one campaign: accounts, orgs, keys, payment, IPs, agents."""
    import workbench as wb
    from workbench.privacy import write_private

    case = wb.open(db, read_only=True)
    text = wb.indicators(case, campaign, format=fmt, redact=_redact(redact, redact_key))
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_private(out, text)
        click.echo(f"Wrote {out} ({fmt}).", err=True)


@cli.command("pivot")
@_DB
@click.option("--kind", required=True,
              help="ip_prefix, payment_fingerprint, user_agent, email_domain, org, template, "
                   "system_prompt, api_key, client_ip or account (indicator types work too).")
@click.option("--value", required=True, help="The value, as the report or indicators show it.")
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "json"]), help="Output format.")
def pivot_cmd(db: Path, kind: str, value: str, fmt: str) -> None:
    """Every account and campaign that used one value, with first and last use (internal:
    it names accounts outside the campaign, so it is not for hand-over)."""
    import workbench as wb
    from workbench.cli.campaigns import _echo, _render
    from workbench.pivot import pivot, pivot_summary

    case = wb.open(db, read_only=True)
    df = pivot(case, kind, value)
    if fmt == "table":
        s = pivot_summary(case, kind, value)
        from workbench.safe import one_line

        click.echo(f"{s['kind']} {one_line(value, 80)}: {s['accounts']:,} accounts in "
                   f"{len(s['campaigns']):,} campaigns ({s['outside_any_campaign']:,} in none), "
                   f"{s['requests']:,} requests, first {s['first_seen']}, last {s['last_seen']}")
    _echo(_render(df, fmt))
