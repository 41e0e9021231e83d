"""Run the canned detectors: one (`run`), or a plan of them staged and then committed.

The catalogue itself (headers, params, validation, levels) lives in `workbench.catalogue`.
Running the whole investigation (features, then these, then linking and scoring) is
`workbench.pipeline.detect`; this module only knows detectors and `findings`.

A run is two steps so that the case never holds half of one: `stage` runs each detector into a
temporary table on the caller's connection (a detector that fails is recorded with status
`error`, the rest still run), and `commit`, inside the caller's transaction, replaces the earlier
findings of the detectors that ran and records the run in `detector_runs`.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.catalogue import HIGH_SCORE, MID_SCORE, Detector, detectors, get, level_steps
from workbench.errors import CatalogueError, ParameterError, unknown

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from workbench.case import Case

__all__ = ["STAGE", "Run", "commit", "plan", "run", "runs_frame", "split", "stage"]

#: The temporary table (on the running connection) that holds a run's findings until commit.
STAGE = "_findings_stage"
Plan = list[tuple[Detector, dict[str, Any]]]


@dataclass(frozen=True)
class Run:
    """One run of the catalogue: its id and the time every finding of it is stamped with."""

    id: str
    at: datetime

    @classmethod
    def new(cls) -> Run:
        return cls(uuid.uuid4().hex[:16], datetime.now(UTC))


def run(case: Case, name: str, **params: Any) -> pl.DataFrame:
    """Run one detector with its defaults overridden by `params`; return its rows.

    Findings are not written and features are not computed (use `wb.detect` for both).

    Example:
        >>> import workbench as wb
        >>> run(wb.open(), "logit_probing", min_requests=5).columns[:3]
        ['entity_type', 'entity_id', 'score']
    """
    det = get(name)
    return case.sql(det.sql, **det.bind(params))


def plan(only: list[str] | tuple[str, ...] | str | None,
         params: dict[str, dict[str, Any]] | None) -> Plan:
    """Choose the detectors and bind their params; every error is raised before anything runs.

    Example:
        >>> [d.name for d, _ in plan("logit_probing", {"logit_probing": {"min_requests": 5}})]
        ['logit_probing']
    """
    found = detectors()
    if isinstance(only, str):
        only = [only]
    names = list(only) if only else [n for n, d in found.items()
                                     if d.header["status"] != "deprecated"]
    for n in [*names, *(params or {})]:
        if n not in found:
            err = unknown("detector", n, found)
            raise err
    for n, given in (params or {}).items():
        if not isinstance(given, dict):
            msg = (f"params[{n!r}] must be a dict of parameter values, got {given!r}; e.g. "
                   f"params={{{n!r}: {found[n].defaults()!r}}}.")
            raise ParameterError(msg)
    return [(found[n], found[n].bind((params or {}).get(n, {}))) for n in names]


def split(chosen: Plan) -> tuple[Plan, Plan]:
    """(account-phase detectors, cohort-phase detectors): the second need linking first."""
    return ([(d, b) for d, b in chosen if "cohorts" not in d.requires],
            [(d, b) for d, b in chosen if "cohorts" in d.requires])


def precheck(con: duckdb.DuckDBPyConnection, det: Detector) -> tuple[str, str] | None:
    """(status, message) when a detector cannot run meaningfully on this case, else None."""
    def count(q: str) -> int:
        return int(con.execute(q).fetchone()[0])  # type: ignore[index]

    if ("features" in det.requires and count("select count(*) from requests") > 0
            and count("select count(*) from features where prompt_norm is not null") == 0):
        if count("select count(*) from requests where prompt_text is not null") == 0:
            why = "metadata-only logs: no prompt text retained, so no text features"
        else:
            why = "text features not computed; run wb.features.compute_features(case) first"
        return "no_content", why
    for table in ("accounts", "model_releases", "cohorts"):
        if table in det.requires and count(f"select count(*) from {table}") == 0:
            return "skipped", f"table {table} is empty; load it to run this detector"
    if "distribution" in det.requires and count("select count(*) from distribution_tests") == 0:
        return "skipped", "no prompt samples large enough for the distribution test"
    return None


_INSERT = """insert into {stage} by name
select $wb_run_id as run_id, $wb_detector as detector, $wb_detector_id as detector_id,
       $wb_version as version, $wb_params::json as params, $wb_ran_at as ran_at,
       case when d.score >= $wb_high then $wb_l0 when d.score >= $wb_mid then $wb_l1
            else $wb_l2 end as level,
       d.entity_type, d.entity_id, d.score, to_json(d.evidence) as evidence,
       d.first_seen, d.last_seen
from (
{sql}
) as d"""


def stage_one(con: duckdb.DuckDBPyConnection, det: Detector, bound: dict[str, Any],
               run: Run) -> tuple[str, str, int]:
    import duckdb

    if pre := precheck(con, det):
        return pre[0], pre[1], 0
    l0, l1, l2 = level_steps(det.level)
    meta = {"wb_run_id": run.id, "wb_detector": det.name, "wb_detector_id": det.id,
            "wb_version": det.version, "wb_params": json.dumps(bound), "wb_ran_at": run.at,
            "wb_high": HIGH_SCORE, "wb_mid": MID_SCORE, "wb_l0": l0, "wb_l1": l1, "wb_l2": l2}
    try:
        # the detector's text is ours (a catalogue file), never user input
        n = con.execute(_INSERT.format(stage=STAGE, sql=det.sql), {**bound, **meta}).fetchone()
    except duckdb.Error as exc:
        return "error", f"{type(exc).__name__}: {str(exc).splitlines()[0]}", 0
    return "ok", "", int(n[0]) if n else 0


def create_stage(con: duckdb.DuckDBPyConnection) -> None:
    """An empty staging table with the columns of `findings` (temporary, this connection only)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM findings LIMIT 0")


def stage(con: duckdb.DuckDBPyConnection, chosen: Plan, run: Run, progress: bool = False, *,
          strict: bool = False) -> pl.DataFrame:
    """Run every planned detector into the staging table; return one `detector_runs` row each.

    Nothing in the case changes: `commit` makes the run visible. With `strict` (inside a
    transaction, where one failed statement aborts everything after it), a detector that fails
    raises `CatalogueError` naming it instead of being recorded with status `error`.
    """
    create_stage(con)
    rows = []
    for det, bound in chosen:
        t0 = time.perf_counter()
        status, message, n = stage_one(con, det, bound, run)
        if strict and status == "error":
            msg = (f"Detector {det.name} failed inside the run's transaction, so the run was "
                   f"rolled back and the case keeps its previous results: {message}")
            raise CatalogueError(msg)
        rows.append(run_row(run, det, bound, status, message, n, t0, progress))
    return runs_frame(rows)


def run_row(run: Run, det: Detector, bound: dict[str, Any], status: str, message: str, n: int,
            started: float, progress: bool) -> dict[str, Any]:
    """One `detector_runs` row (and its progress line on stderr when asked)."""
    ms = (time.perf_counter() - started) * 1000
    if progress:
        print(f"{det.name:<28} {status:<10} {n:>7} rows {ms:>9.0f} ms {message}", file=sys.stderr)
    return {"run_id": run.id, "detector": det.name, "detector_id": det.id,
            "version": det.version, "params": json.dumps(bound), "status": status,
            "message": message, "rows": n, "elapsed_ms": ms, "ran_at": run.at}


def runs_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """`detector_runs` rows as a DataFrame with the table's types."""
    import polars as pl

    schema: dict[str, Any] = {"run_id": pl.String, "detector": pl.String, "detector_id": pl.String,
              "version": pl.String, "params": pl.String, "status": pl.String,
              "message": pl.String, "rows": pl.Int64, "elapsed_ms": pl.Float64,
              "ran_at": pl.Datetime("us", "UTC")}
    return pl.DataFrame(rows, schema=schema)


def commit(con: duckdb.DuckDBPyConnection, runs: pl.DataFrame) -> int:
    """Make a staged run visible; call inside the caller's transaction. Returns findings written.

    A detector that ran (status ok or error) loses its earlier findings to this run's; one that
    was skipped (no content, a missing table) keeps them.
    """
    ran = [str(d) for d, s in zip(runs["detector"], runs["status"], strict=True)
           if s in ("ok", "error")]
    con.execute("DELETE FROM findings WHERE list_contains($ran, detector)", {"ran": ran})
    n = con.execute(f"INSERT INTO findings BY NAME SELECT * FROM {STAGE}").fetchone()
    con.register("wb_runs", runs)
    con.execute("insert into detector_runs by name select * replace "
                "(params::json as params) from wb_runs")
    con.unregister("wb_runs")
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return int(n[0]) if n else 0


def main(argv: list[str] | None = None) -> None:
    """`python -m workbench.detectors --markdown` prints docs/detectors.md."""
    from workbench.catalogue import markdown

    args = sys.argv[1:] if argv is None else argv
    if args != ["--markdown"]:
        print("usage: python -m workbench.detectors --markdown > docs/detectors.md",
              file=sys.stderr)
        raise SystemExit(2)
    sys.stdout.write(markdown())


if __name__ == "__main__":
    main()
