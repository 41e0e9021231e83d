"""`workbench demo`: the main job on the embedded default, a simulated provider world.

Simulates a world with planted distillation campaigns, loads it into a fresh case, runs every
detector, links accounts into campaigns and prints the case summary, the campaigns and the top
leads, with the commands to go on from there.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click

from workbench.cli import cli

DEMO_WORLD = {"accounts": 1500, "days": 14, "seed": 7}


@cli.command()
@click.option("--dir", "directory", default="demo", show_default=True, type=click.Path(),
              help="Folder for the simulated world and the case file.")
@click.option("--accounts", default=DEMO_WORLD["accounts"], show_default=True)
@click.option("--days", default=DEMO_WORLD["days"], show_default=True)
@click.option("--seed", default=DEMO_WORLD["seed"], show_default=True)
@click.option("--evasive", is_flag=True, help="Plant the evasive variants too.")
def demo(directory: str, accounts: int, days: int, seed: int, evasive: bool) -> None:
    """Simulate a provider world, load it, detect, and show campaigns and leads."""
    import workbench as wb
    from workbench.simulator import simulate

    root = Path(directory)
    world, case_path = root / "world", root / "case.duckdb"
    t0 = time.perf_counter()
    if world.exists():
        shutil.rmtree(world)
    click.echo(f"1/4 simulating {accounts} accounts over {days} days (seed {seed}) -> {world}")
    summary = simulate(world, accounts=accounts, days=days, seed=seed, evasive=evasive)
    click.echo(f"    {summary.requests:,} requests written")

    for stale in (case_path, case_path.with_name(case_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    click.echo(f"2/4 loading into {case_path}")
    case = wb.open(case_path)
    wb.load(case, sorted((world / "logs").glob("*.jsonl.gz")), accounts=world / "accounts.csv",
              releases=world / "releases.csv", progress=True)

    click.echo("3/4 computing text features, running detectors, linking accounts")
    wb.detect(case)

    click.echo(f"4/4 done in {time.perf_counter() - t0:.0f}s\n")
    from workbench.cli.case import print_info

    print_info(case)
    import polars as pl

    camps = wb.campaigns(case)
    _show("Campaigns", camps.select(
        "campaign_id", "accounts", "requests", pl.col("risk").round(3), "level",
        pl.col("top_detectors").list.head(3).list.join(", ")).head(10))
    _show("Top leads", wb.leads(case, min_level="high").select(
        "account_id", "campaign_id", "risk", "level").head(10))
    click.echo(
        "\nNext:\n"
        f"  make lab                                   # triage and trace in JupyterLab\n"
        f"  .venv/bin/workbench leads --db {case_path} --min-level high\n"
        f"  .venv/bin/workbench evaluate --db {case_path} --truth {world / 'truth.csv'}\n"
        f"  .venv/bin/workbench report --db {case_path} --campaign "
        f"{camps['campaign_id'][0] if camps.height else 'ID'} --out {root / 'report.html'}"
    )


def _show(title: str, frame: object) -> None:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    click.echo(f"\n{title} ({frame.height} shown)")
    with pl.Config(tbl_rows=20, tbl_cols=10, fmt_str_lengths=40, tbl_hide_dataframe_shape=True):
        click.echo(str(frame))
