"""The investigation in order: features → detectors → links → scores → rollups.

This is the one module that knows the order of the steps and composes them; each step lives
in its own module over the case (`workbench.features`, `workbench.detectors`,
`workbench.linking`, `workbench.scoring`, `workbench.rollups`), and loading
(`workbench.loaders`) comes before all of them. The heavy scans (features, detectors, edges)
run on an engine: `DuckDBEngine` here, or `workbench.spark.SparkEngine` on a cluster, both
behind the `Engine` interface. Scoring reads only small tables (findings, links, accounts) and
runs on the case's DuckDB whatever the engine, so both engines give the same leads.

A run never leaves half of itself in the case: the detectors' findings are staged on the run's
connection, then one transaction replaces the findings, links, leads and campaigns. Killed
before that commit, the case keeps the previous run whole.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import workbench.cohorts as cohorts
import workbench.detectors as detectors
import workbench.distribution as distribution
import workbench.linking as linking
import workbench.rollups as rollups
import workbench.scoring as scoring
from workbench.config import RiskConfig
from workbench.errors import ParameterError, unknown
from workbench.features import compute_features

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from workbench.case import Case

__all__ = ["ENGINES", "DetectReport", "DuckDBEngine", "Engine", "detect", "get_engine", "link"]

ENGINES = ("duckdb", "spark")


class Engine(Protocol):
    """Where the scans run. An engine is a context manager: entering starts it (a Spark
    session, an export of the case to Parquet), leaving releases what it started."""

    name: str
    notes: list[str]

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...

    def features(self, case: Case) -> int:
        """Compute text features for the case's requests; return rows written."""
        ...

    def detect(self, con: duckdb.DuckDBPyConnection, plan: detectors.Plan, run: detectors.Run,
               progress: bool) -> pl.DataFrame:
        """Stage every planned detector's findings in `detectors.STAGE` on `con` (nothing
        committed) and return one `detector_runs` row per detector."""
        ...

    def links(self, con: duckdb.DuckDBPyConnection, config: RiskConfig) -> dict[str, int]:
        """Replace `account_links` through `con` (inside the run's transaction); edges per kind."""
        ...


class DuckDBEngine:
    """The case's own DuckDB: every step runs where the data is."""

    name = "duckdb"

    def __init__(self, **options: Any) -> None:
        if options:
            msg = (f"Options {', '.join(sorted(options))} apply only to engine='spark'; the "
                   "duckdb engine takes only, params, link, progress and config.")
            raise ParameterError(msg)
        self.notes: list[str] = []

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def features(self, case: Case) -> int:
        return compute_features(case)

    def detect(self, con: duckdb.DuckDBPyConnection, plan: detectors.Plan, run: detectors.Run,
               progress: bool) -> pl.DataFrame:
        return detectors.stage(con, plan, run, progress)

    def links(self, con: duckdb.DuckDBPyConnection, config: RiskConfig) -> dict[str, int]:
        return linking.build_links(con, config)


def get_engine(name: str, **options: Any) -> Engine:
    """The engine called `name`, configured with its options.

    Example:
        >>> get_engine("duckdb").name
        'duckdb'
    """
    if name == "duckdb":
        return DuckDBEngine(**options)
    if name == "spark":
        from workbench.spark import SparkEngine

        return SparkEngine(**options)
    err = unknown("engine", name, ENGINES)
    raise err


@dataclass
class DetectReport:
    """What one `detect()` did: the run id, one row per detector, and the findings written."""

    run_id: str
    runs: pl.DataFrame
    findings: int
    linked: bool = False
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        by = dict(self.runs.group_by("status").len().iter_rows()) if len(self.runs) else {}
        states = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
        return (f"<DetectReport {self.run_id}: {len(self.runs)} detectors ({states}), "
                f"{self.findings} findings{', linked' if self.linked else ''}>")


def _config(config: RiskConfig | str | Path | None) -> RiskConfig:
    return config if isinstance(config, RiskConfig) else RiskConfig.load(config)


class Steps(dict[str, float]):
    """Seconds per pipeline step, summed over repeats (the benchmarks compare each with a scan)."""

    @contextlib.contextmanager
    def time(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - t0


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def detect(case: Case, *, only: list[str] | tuple[str, ...] | str | None = None,
           params: dict[str, dict[str, Any]] | None = None, engine: str = "duckdb",
           link: bool = True, progress: bool = False,
           config: RiskConfig | str | Path | None = None, **options: Any) -> DetectReport:
    """Run the investigation on a loaded case: features, every detector, links, scores, rollups.

    Each detector's earlier findings are replaced by this run's; `detector_runs` keeps the
    history. A detector that fails is recorded with status `error` and the rest still run.

    Args:
        case: The case to run on (opened for writing).
        only: Names of the detectors to run; default every non-deprecated one.
        params: Overrides per detector, e.g. `{"cot_elicitation": {"min_share": 0.5}}`.
        engine: `duckdb`, or `spark` (`workbench.spark.SparkEngine`) for cases beyond one machine.
        link: Build account links, leads and campaigns afterwards.
        progress: Print one line per detector on stderr.
        config: The risk configuration (a `RiskConfig` or a risk.toml path); default the shipped.
        **options: Engine options (Spark: spark_master, spark_conf, parquet, out, spark, cache);
            the duckdb engine takes none.

    Example:
        >>> import workbench as wb
        >>> wb.detect(wb.open(), only=["logit_probing"], link=False).runs["status"].to_list()
        ['ok']
    """
    chosen = detectors.plan(only, params)  # unknown names and bad params fail before any work
    account_plan, cohort_plan = detectors.split(chosen)
    if link and not cohort_plan:
        # the cohorts follow the communities this run rebuilds: judge them again, as `link`
        # does, or the cohort edges would be lost with the old communities
        cohort_plan = detectors.split(detectors.plan(None, None))[1]
    cfg = _config(config)
    eng = get_engine(engine, **options)
    run = detectors.Run.new()
    summary: dict[str, Any] = {}
    steps = Steps()
    with eng:
        with steps.time("features"):
            eng.features(case)
        with case.connect(write=True) as con:
            if _needs(account_plan, "distribution"):
                # derived like the features: recomputed in place, outside the run's transaction
                with steps.time("distribution (accounts)"):
                    distribution.measure_accounts(con, cfg.distribution)
            with steps.time("detectors (accounts)"):
                runs = eng.detect(con, account_plan, run, progress)
            with _transaction(con):
                written = detectors.commit(con, runs)
                if link:
                    summary = _link_and_score(con, eng, cfg, cohort_plan, run, progress, steps)
                    written += summary.pop("cohort_findings")
                    runs = _concat(runs, summary.pop("cohort_runs"))
                elif cohort_plan:  # no communities: the cohorts of shared values only
                    cohort_runs, n = _cohort_phase(con, cfg, cohort_plan, run, progress,
                                                   steps)[:2]
                    written += n
                    runs = _concat(runs, cohort_runs)
    with steps.time("rollups"):
        rollups.build_rollups(case)  # the trace's actor_requests, from the new leads
    summary["steps"] = {k: round(v, 3) for k, v in steps.items()}
    case.audit("detect", run_id=run.id, engine=engine, detectors=len(chosen), linked=link,
               findings=written)
    return DetectReport(run.id, runs, written, link, eng.notes, summary)


def _cohort_phase(con: duckdb.DuckDBPyConnection, config: RiskConfig, plan: detectors.Plan,
                  run: detectors.Run, progress: bool,
                  steps: Steps | None = None) -> tuple[pl.DataFrame, int, int]:
    """Profiles, cohorts (with linking's `_member` when it exists), their distribution tests,
    then the cohort detectors: (their runs, findings written, cohorts)."""
    steps = Steps() if steps is None else steps
    with steps.time("cohort profiles"):
        cohorts.build_profiles(con)
    with steps.time("cohorts"):
        n_cohorts = cohorts.build_cohorts(con, config)
    if _needs(plan, "distribution"):
        with steps.time("distribution (cohorts)"):
            distribution.measure_cohorts(con, config.distribution)
    # inside the transaction: a failing cohort detector rolls the whole run back
    with steps.time("detectors (cohorts)"):
        runs = detectors.stage(con, plan, run, progress, strict=True)
    return runs, detectors.commit(con, runs), n_cohorts


def _needs(plan: detectors.Plan, requirement: str) -> bool:
    return any(requirement in det.requires for det, _ in plan)


def _concat(a: pl.DataFrame, b: pl.DataFrame | None) -> pl.DataFrame:
    import polars as pl

    return a if b is None or not len(b) else pl.concat([a, b], how="vertical_relaxed")


def link(case: Case, config: RiskConfig | str | Path | None = None) -> dict[str, Any]:
    """Rebuild links, leads and campaigns from the current findings, in one transaction.

    For a changed risk configuration: the detectors are not rerun. Returns summary counts:
    links per kind, graph pairs, communities, attached accounts, campaigns, leads per level,
    and finding entity types that reach no account.

    Example:
        >>> import workbench as wb
        >>> link(wb.open())["campaigns"]
        0
    """
    cfg = _config(config)
    _, cohort_plan = detectors.split(detectors.plan(None, None))
    with case.connect(write=True) as con, _transaction(con):
        summary = _link_and_score(con, DuckDBEngine(), cfg, cohort_plan, detectors.Run.new())
    rollups.build_rollups(case)
    case.audit("link", config=cfg.source, campaigns=summary["campaigns"])
    summary.pop("cohort_runs")
    summary.pop("cohort_findings")
    return summary


def _link_and_score(con: duckdb.DuckDBPyConnection, eng: Engine, config: RiskConfig,
                    cohort_plan: detectors.Plan, run: detectors.Run,
                    progress: bool = False, steps: Steps | None = None) -> dict[str, Any]:
    """Edges (on the engine), then hits, pairs, communities, attachment, the cohort detectors
    over the communities and other shared values, and leads (all on the case)."""
    t0 = time.perf_counter()
    steps = Steps() if steps is None else steps
    with steps.time("links"):
        links = eng.links(con, config)
    with steps.time("scores and communities"):
        # the cohort detectors are judged again below, over this run's communities: what an
        # earlier run of them found must not shape those communities
        rejudged = [d.name for d, _ in cohort_plan]
        unmapped = scoring.detector_hits(con, config, leave_out=rejudged)  # _hits, _base
        pairs = linking.pair_weights(con, config)         # reads _hits for the pair bonus
        member = linking.communities(pairs, config)
        linking.write_membership(con, member, pairs)       # _member, _pairs
        attached = linking.attach(con, config)             # reads _base
    cohort_runs, cohort_findings, n_cohorts, cohort_edges = None, 0, 0, 0
    if cohort_plan:
        cohort_runs, cohort_findings, n_cohorts = _cohort_phase(con, config, cohort_plan, run,
                                                                progress, steps)
        with steps.time("cohort links"):
            unmapped = scoring.detector_hits(con, config)  # again, with the cohort findings
            cohort_edges = linking.cohort_links(con, config)
        if cohort_edges:  # the groups the cohort detectors found hold their members together
            with steps.time("scores and communities"):
                pairs = linking.pair_weights(con, config)
                member = linking.communities(pairs, config)
    with steps.time("scores and communities"):
        member = linking.merge_communities(con, member, config)  # one operation, one campaign
        linking.write_membership(con, member, pairs)
        attached = linking.attach(con, config)
    links[linking.COHORT_KIND] = cohort_edges
    with steps.time("leads"):
        scoring.write_leads(con, config)
    levels = dict(con.sql("select level, count(*) from leads group by 1").fetchall())
    n_campaigns = con.sql("select count(*) from campaigns").fetchall()[0][0]
    for tmp in scoring.TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
    return {
        "links": links,
        "pairs": pairs.height,
        "communities": len(set(member.values())),
        "attached": attached,
        "cohorts": n_cohorts,
        "campaigns": int(n_campaigns),
        "leads": {lv: int(levels.get(lv, 0)) for lv in scoring.LEVELS},
        "unmapped_entity_types": unmapped,
        "seconds": round(time.perf_counter() - t0, 3),
        "cohort_runs": cohort_runs,
        "cohort_findings": cohort_findings,
    }
