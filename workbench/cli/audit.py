"""`workbench audit`: the case's access log, who ran which query or export, and when."""

from __future__ import annotations

import json
from pathlib import Path

import click

from workbench.cli import cli


@cli.command("audit")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Case database file.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--limit", type=click.IntRange(min=0), default=0,
              help="Only the last N entries (0: all).")
def audit_cmd(db: Path, fmt: str, limit: int) -> None:
    """Show the case's access log: every query, load, detect and export, with who and when."""
    from workbench.audit import audit_path, read
    from workbench.errors import CaseError
    from workbench.safe import visible

    if not db.exists():
        msg = f"Case file {str(db)!r} does not exist."
        raise CaseError(msg)
    entries = read(db)
    if limit:
        entries = entries[-limit:]
    if fmt == "json":
        click.echo(json.dumps(entries, ensure_ascii=False))
        return
    if not entries:
        click.echo(f"No access log at {audit_path(db)} yet.")
        return
    for e in entries:
        detail = {k: v for k, v in e.items() if k not in ("ts", "user", "pid", "action")}
        text = json.dumps(detail, ensure_ascii=False, default=str)
        # queries and names may quote adversary-written ids: shown escaped, one line each
        click.echo(f"{e.get('ts', '')}  {visible(str(e.get('user', '')))}  "
                   f"{visible(str(e.get('action', '')))}  {visible(text)[:300]}")
