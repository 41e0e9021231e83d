"""`workbench simulate`: write a simulated provider world with planted distillation campaigns."""

from __future__ import annotations

import time
from pathlib import Path

import click

from workbench.cli import cli


@cli.command("simulate")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write logs/, accounts.csv, releases.csv and truth.csv into.")
@click.option("--accounts", default=2000, show_default=True, help="Billing accounts in total.")
@click.option("--days", default=14, show_default=True, help="Days of logs, one file per day.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same bytes.")
@click.option("--requests", "requests", type=int, default=None,
              help="Total requests to aim for [default: accounts x days x 10].")
@click.option("--start", default="2026-01-05", show_default=True,
              help="First day of the window (YYYY-MM-DD, UTC).")
@click.option("--evasive", is_flag=True, help="Add an evasive variant of each campaign.")
@click.option("--metadata-only", is_flag=True,
              help="Leave out prompts, system prompts and response content.")
@click.option("--shift", default=None, metavar="NAME|SEED",
              help="A shifted world (shift-a, shift-b, shift-c, shift-all, or an integer seed): "
                   "settings drawn from ranges never used in tuning (docs/simulator.md).")
@click.option("--text", "text_mode", default="sim", show_default=True,
              help="sim: the project's phrase banks; corpus: real public prompts read from "
                   "$WORKBENCH_CORPUS or ../shared/corpus.")
def simulate_cmd(out: Path, accounts: int, days: int, seed: int, requests: int | None,
                 start: str, evasive: bool, metadata_only: bool, shift: str | None,
                 text_mode: str) -> None:
    """Simulate an LLM API provider's logs with planted distillation campaigns and truth."""
    from workbench.simulator import simulate

    t0 = time.perf_counter()
    s = simulate(out, accounts=accounts, days=days, seed=seed, requests=requests,
                 evasive=evasive, metadata_only=metadata_only, start=start, shift=shift,
                 text=text_mode)
    secs = time.perf_counter() - t0
    kinds = [k for k in (s.shift if s.shift != "default" else "",
                         "real-text" if s.text == "corpus" else "") if k]
    click.echo(f"Wrote {s.requests:,} requests from {s.accounts:,} accounts "
               f"({s.campaign_accounts} in campaigns, {s.campaign_requests:,} requests) "
               f"over {s.days} days to {out} in {secs:.1f} s"
               f"{' (' + ', '.join(kinds) + ')' if kinds else ''}.")
    click.echo(f"Ground truth: {out / 'truth.csv'}. Load with: workbench load "
               f"'{out / 'logs'}/*.jsonl.gz' --accounts {out / 'accounts.csv'} "
               f"--releases {out / 'releases.csv'} --db CASE")
