"""`workbench leads`, `workbench campaigns` and `workbench evaluate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workbench.cli import cli
from workbench.config import LEAD_LEVELS as LEVELS

if TYPE_CHECKING:
    import polars as pl

_DB = click.option("--db", "db", required=True, type=click.Path(dir_okay=False, path_type=Path),
                   help="Case database file.")
_FORMAT = click.option("--format", "fmt", default="table", show_default=True,
                       type=click.Choice(["table", "csv", "json"]), help="Output format.")
_LIMIT = click.option("--limit", type=click.IntRange(min=0), default=0,
                      help="Show at most this many rows (0: all).")


def _render(df: pl.DataFrame, fmt: str) -> str:
    import polars as pl

    from workbench.safe import frame_csv, one_line

    if fmt == "json":
        rows = df.to_dicts()
        for row in rows:
            if isinstance(row.get("reasons"), str):
                row["reasons"] = json.loads(row["reasons"])
        return json.dumps(rows, default=str, indent=1)
    if fmt == "csv":
        # Account ids are the adversary's: every field quoted and guarded against formulas.
        return frame_csv(df.with_columns(pl.col(c).cast(pl.String)
                                         for c, t in df.schema.items() if t == pl.Object))
    # Table: adversary-influenced ids with control and invisible characters labelled, so no
    # CR or escape sequence reaches the terminal raw.
    shown = df.with_columns(
        [pl.col(c).map_elements(one_line, return_dtype=pl.String)
         for c, t in df.schema.items() if t == pl.String]
        + [pl.col(c).list.eval(pl.element().map_elements(one_line, return_dtype=pl.String))
           for c, t in df.schema.items() if isinstance(t, pl.List) and t.inner == pl.String])
    with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=160,
                   fmt_table_cell_list_len=5):
        return str(shown)


def _top(reasons: str) -> str:
    parsed: dict[str, Any] = json.loads(reasons)
    return ", ".join(f"{d['detector']} {d['score']:.2f}" for d in parsed.get("detectors", []))


@cli.command("leads")
@_DB
@click.option("--min-level", type=click.Choice(LEVELS), default=None,
              help="Only leads at this level or above.")
@_FORMAT
@_LIMIT
def leads_cmd(db: Path, min_level: str | None, fmt: str, limit: int) -> None:
    """Accounts ranked by risk, with the detectors and links behind each."""
    import polars as pl

    import workbench as wb

    df = with_evidence(wb.leads(wb.open(db, read_only=True), min_level=min_level))
    if limit:
        df = df.head(limit)
    if fmt == "table":
        df = df.with_columns(pl.col("reasons").map_elements(_top, return_dtype=pl.String)
                             .alias("top_detectors")).drop("reasons")
    _echo(_render(df, fmt))


def with_evidence(df: pl.DataFrame) -> pl.DataFrame:
    """Leads with their evidence tie-break, ordered by risk as shown (two decimals), then by
    the detectors specific to harvesting behind each, then by summed contribution."""
    import polars as pl

    from workbench.evidence import evidence_rank

    ranks = [evidence_rank(r) for r in df["reasons"].to_list()]
    out = df.with_columns(specific=pl.Series([n for n, _ in ranks], dtype=pl.Int64),
                          evidence=pl.Series([round(e, 3) for _, e in ranks], dtype=pl.Float64))
    return (out.with_columns(shown=pl.col("risk").round(2))
            .sort(["shown", "specific", "evidence", "account_id"],
                  descending=[True, True, True, False], nulls_last=True)
            .drop("shown"))


def _echo(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


@cli.command("campaigns")
@_DB
@_FORMAT
@_LIMIT
def campaigns_cmd(db: Path, fmt: str, limit: int) -> None:
    """Campaigns found by linking accounts, riskiest first."""
    import workbench as wb

    df = wb.campaigns(wb.open(db, read_only=True))
    _echo(_render(df.head(limit) if limit else df, fmt))


@cli.command("evaluate")
@_DB
@click.option("--truth", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="truth.csv written by `workbench simulate`.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the full result as JSON to this file.")
def evaluate_cmd(db: Path, truth: Path, json_out: Path | None) -> None:
    """Precision, recall and campaign recovery of the case's leads against ground truth."""
    import workbench as wb
    from workbench.evaluate import evaluate, format_report

    result = evaluate(wb.open(db, read_only=True), truth)
    click.echo(format_report(result))
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=1), encoding="utf-8")
        click.echo(f"Wrote {json_out}.", err=True)
