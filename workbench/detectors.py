"""Run the canned detectors: one (`run`) or all of them, writing `findings` (`detect`).

The catalogue itself (headers, params, validation) lives in `workbench.catalogue`.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.catalogue import LEVELS, Detector, catalogue, detectors, get
from workbench.errors import ParameterError, unknown

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from workbench.case import Case

__all__ = ["LEVEL_RULE", "DetectReport", "catalogue", "detect", "finding_level", "run"]

HIGH_SCORE = 0.8
MID_SCORE = 0.5
LEVEL_RULE = (f"A finding's level is its detector's declared level when score ≥ {HIGH_SCORE}, "
              f"one level lower when {MID_SCORE} ≤ score < {HIGH_SCORE}, and two levels lower "
              f"below {MID_SCORE} (never below informational).")
ENGINES = ("duckdb", "spark")


def finding_level(declared: str, score: float) -> str:
    """The level of one finding, from its detector's declared level and its score.

    Example:
        >>> finding_level("high", 0.9), finding_level("high", 0.6), finding_level("low", 0.1)
        ('high', 'medium', 'informational')
    """
    steps = 0 if score >= HIGH_SCORE else 1 if score >= MID_SCORE else 2
    return LEVELS[max(LEVELS.index(declared) - steps, 0)]


def run(case: Case, name: str, **params: Any) -> pl.DataFrame:
    """Run one detector with its defaults overridden by `params`; return its rows.

    Findings are not written and features are not computed (use `detect` for both).

    Example:
        >>> import workbench as wb
        >>> wb.open().run("logit_probing", min_requests=5).columns[:3]
        ['entity_type', 'entity_id', 'score']
    """
    det = get(name)
    return case.sql(det.sql, **det.bind(params))


@dataclass
class DetectReport:
    """What one `detect()` did: the run id, one row per detector, and the findings written."""

    run_id: str
    runs: pl.DataFrame
    findings: int
    linked: bool = False
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        by = dict(self.runs.group_by("status").len().iter_rows()) if len(self.runs) else {}
        states = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
        return (f"<DetectReport {self.run_id}: {len(self.runs)} detectors ({states}), "
                f"{self.findings} findings{', linked' if self.linked else ''}>")


def _plan(only: list[str] | tuple[str, ...] | str | None,
          params: dict[str, dict[str, Any]] | None) -> list[tuple[Detector, dict[str, Any]]]:
    """Choose the detectors and bind their params; every error is raised before anything runs."""
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


def _precheck(con: duckdb.DuckDBPyConnection, det: Detector) -> tuple[str, str] | None:
    """(status, message) when a detector cannot run meaningfully on this case, else None."""
    def count(q: str) -> int:
        return int(con.execute(q).fetchone()[0])  # type: ignore[index]

    if ("features" in det.requires and count("select count(*) from requests") > 0
            and count("select count(*) from features where prompt_norm is not null") == 0):
        if count("select count(*) from requests where prompt_text is not null") == 0:
            why = "metadata-only logs: no prompt text retained, so no text features"
        else:
            why = "text features not computed; run case.compute_features() first"
        return "no_content", why
    for table in ("accounts", "model_releases"):
        if table in det.requires and count(f"select count(*) from {table}") == 0:
            return "skipped", f"table {table} is empty; load it to run this detector"
    return None


_INSERT = """insert into findings by name
select $wb_run_id as run_id, $wb_detector as detector, $wb_detector_id as detector_id,
       $wb_version as version, $wb_params::json as params, $wb_ran_at as ran_at,
       case when d.score >= $wb_high then $wb_l0 when d.score >= $wb_mid then $wb_l1
            else $wb_l2 end as level,
       d.entity_type, d.entity_id, d.score, to_json(d.evidence) as evidence,
       d.first_seen, d.last_seen
from (
{sql}
) as d"""


def _run_one(con: duckdb.DuckDBPyConnection, det: Detector, bound: dict[str, Any],
             run_id: str, ran_at: datetime) -> tuple[str, str, int]:
    import duckdb

    if pre := _precheck(con, det):
        return pre[0], pre[1], 0
    lv = LEVELS.index(det.level)
    meta = {"wb_run_id": run_id, "wb_detector": det.name, "wb_detector_id": det.id,
            "wb_version": det.version, "wb_params": json.dumps(bound), "wb_ran_at": ran_at,
            "wb_high": HIGH_SCORE, "wb_mid": MID_SCORE, "wb_l0": det.level,
            "wb_l1": LEVELS[max(lv - 1, 0)], "wb_l2": LEVELS[max(lv - 2, 0)]}
    try:
        con.execute("delete from findings where detector = $d", {"d": det.name})
        # the detector's text is ours (a catalogue file), never user input
        n = con.execute(_INSERT.format(sql=det.sql), {**bound, **meta}).fetchone()
    except duckdb.Error as exc:
        return "error", f"{type(exc).__name__}: {str(exc).splitlines()[0]}", 0
    return "ok", "", int(n[0]) if n else 0


def detect(case: Case, *, only: list[str] | tuple[str, ...] | str | None = None,
           params: dict[str, dict[str, Any]] | None = None, engine: str = "duckdb",
           link: bool = True, progress: bool = False, **options: Any) -> DetectReport:
    """Compute features, run the detectors, write `detector_runs` and `findings`, then link.

    Each detector's earlier findings are replaced by this run's; `detector_runs` keeps the
    history. A detector that fails is recorded with status `error` and the rest still run.

    Args:
        case: The case to run on (opened for writing).
        only: Names of the detectors to run; default every non-deprecated one.
        params: Overrides per detector, e.g. `{"cot_elicitation": {"min_share": 0.5}}`.
        engine: `duckdb`, or `spark` to dispatch to `workbench.spark.detect`.
        link: Build account links, leads and campaigns afterwards (`workbench.campaigns`).
        progress: Print one line per detector on stderr.
        **options: Engine options, passed to `workbench.spark.detect` (e.g. spark_master);
            the duckdb engine takes none.

    Example:
        >>> import workbench as wb
        >>> wb.open().detect(only=["logit_probing"], link=False).runs["status"].to_list()
        ['ok']
    """
    if engine not in ENGINES:
        err = unknown("engine", engine, ENGINES)
        raise err
    plan = _plan(only, params)
    if engine == "spark":
        from workbench.spark import detect as spark_detect

        return spark_detect(case, only=only, params=params, link=link, progress=progress,
                            **options)
    if options:
        msg = (f"Options {', '.join(sorted(options))} apply only to engine='spark'; the duckdb "
               "engine takes only, params, link and progress.")
        raise ParameterError(msg)
    import polars as pl

    notes: list[str] = []
    try:
        case.compute_features()
    except ModuleNotFoundError as exc:
        if exc.name != "workbench.features":
            raise
        notes.append("workbench.features is not installed: text features not computed")
    run_id = uuid.uuid4().hex[:16]
    ran_at = datetime.now(UTC)
    rows = []
    with case.connect(write=True) as con:
        for det, bound in plan:
            t0 = time.perf_counter()
            status, message, n = _run_one(con, det, bound, run_id, ran_at)
            ms = (time.perf_counter() - t0) * 1000
            rows.append({"run_id": run_id, "detector": det.name, "detector_id": det.id,
                         "version": det.version, "params": json.dumps(bound),
                         "status": status, "message": message, "rows": n,
                         "elapsed_ms": ms, "ran_at": ran_at})
            if progress:
                print(f"{det.name:<28} {status:<10} {n:>7} rows {ms:>9.0f} ms {message}",
                      file=sys.stderr)
        runs = pl.DataFrame(rows, schema_overrides={"rows": pl.Int64,
                                                    "elapsed_ms": pl.Float64})
        con.register("wb_runs", runs)
        con.execute("insert into detector_runs by name select * replace "
                    "(params::json as params) from wb_runs")
        con.unregister("wb_runs")
    linked = False
    if link:
        try:
            from workbench.campaigns import build_campaigns
        except ModuleNotFoundError as exc:
            if exc.name != "workbench.campaigns":
                raise
            notes.append("workbench.campaigns is not installed: no linking done")
        else:
            build_campaigns(case)
            linked = True
    from workbench.rollups import build_rollups  # the trace's actor_requests, after linking
    build_rollups(case)
    return DetectReport(run_id, runs, int(runs["rows"].sum()) if len(runs) else 0, linked, notes)


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
