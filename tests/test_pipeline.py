"""The pipeline: one call runs every step in order, and a run never leaves half of itself."""

from __future__ import annotations

import dataclasses
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench import detectors as detectors_module
from workbench.catalogue import detectors
from workbench.errors import CatalogueError, ParameterError, UnknownNameError
from workbench.pipeline import ENGINES, get_engine

STATE = ("select (select count(*) from findings) as findings, "
         "(select count(distinct run_id) from findings) as runs, "
         "(select count(*) from detector_runs) as detector_runs, "
         "(select count(*) from leads) as leads, "
         "(select coalesce(sum(hash(account_id, level, risk)), 0) from leads) as leads_hash, "
         "(select count(*) from account_links) as links")


@pytest.fixture
def copy(world_case: wb.Case, tmp_path: Path) -> Path:
    """A copy of the session's detected world, to run the pipeline on again."""
    assert world_case.path is not None
    target = tmp_path / "case.duckdb"
    shutil.copy(world_case.path, target)
    return target


def test_engines_are_named_and_unknown_ones_suggested() -> None:
    assert ENGINES == ("duckdb", "spark")
    assert get_engine("duckdb").name == "duckdb"
    with pytest.raises(UnknownNameError, match="Did you mean spark"):
        get_engine("sparc")
    with pytest.raises(ParameterError, match="apply only to engine='spark'"):
        get_engine("duckdb", spark_master="local[2]")


def test_a_run_reports_every_phase(copy: Path) -> None:
    report = wb.detect(wb.open(copy))
    names = set(report.runs["detector"])
    assert {"cohort_churn", "cohort_harvest", "cot_elicitation"} <= names
    assert report.summary["cohorts"] > 0
    assert report.summary["campaigns"] > 0
    assert report.linked
    assert len(set(report.runs["run_id"])) == 1


def test_rerunning_one_detector_keeps_the_cohort_evidence(copy: Path) -> None:
    case = wb.open(copy)
    links = "select count(*) from account_links where kind = 'cohort'"
    full = case.sql(links).item()
    assert full > 0  # the small world has cohorts judged to act as one group
    report = wb.detect(case, only=["cot_elicitation"])
    # the communities are rebuilt, so the cohorts over them are judged again, as wb.link does
    assert {"cot_elicitation", "cohort_churn", "cohort_harvest"} <= set(report.runs["detector"])
    assert case.sql(links).item() == full


def test_an_earlier_runs_cohort_findings_do_not_shape_the_communities(
        copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The communities are built before the cohort detectors judge the cohorts over them. On a
    # case detected before, the cohort findings of that earlier run are still in `findings`
    # then; read into the first hits, they would shape this run's communities, and detecting
    # again would not give what detecting once gave.
    from workbench import linking

    case = wb.open(copy)
    cohort_detectors = {d.name for d, _ in detectors_module.split(detectors_module.plan(
        None, None))[1]}
    earlier = set(case.sql("select distinct detector from findings")["detector"])
    assert cohort_detectors & earlier  # the copy holds an earlier run's cohort findings
    seen: list[set[str]] = []
    original = linking.pair_weights

    def spy(con: Any, config: Any) -> Any:
        seen.append({r[0] for r in con.sql("select distinct detector from _hits").fetchall()})
        return original(con, config)

    monkeypatch.setattr(linking, "pair_weights", spy)
    wb.detect(case)
    assert seen[0]  # the account detectors' hits are there
    assert not seen[0] & cohort_detectors
    assert any(s & cohort_detectors for s in seen[1:])  # and this run's, once judged


def test_a_failing_cohort_detector_rolls_the_run_back(copy: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    case = wb.open(copy)
    before = case.sql(STATE).row(0)
    found = dict(detectors())
    template = found["cohort_churn"]
    broken = dataclasses.replace(
        template, header={**template.header, "name": "cohort_broken"}, params=(),
        sql="with final as (select 'cohort' as entity_type, 'x' as entity_id, "
            "error('boom')::DOUBLE as score, NULL::JSON as evidence, NULL::TIMESTAMPTZ as "
            "first_seen, NULL::TIMESTAMPTZ as last_seen) select * from final")
    found["cohort_broken"] = broken
    monkeypatch.setattr(detectors_module, "detectors", lambda root=None: found)
    with pytest.raises(CatalogueError, match="cohort_broken failed .* rolled back"):
        wb.detect(case)
    assert case.sql(STATE).row(0) == before


def test_killed_mid_run_the_case_keeps_the_previous_run_whole(copy: Path) -> None:
    before = wb.open(copy, read_only=True).sql(STATE).row(0)
    script = textwrap.dedent(f"""
        import os, signal, sys
        import workbench as wb
        from workbench import scoring
        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        scoring.write_leads = die      # the last step before the commit
        wb.detect(wb.open({str(copy)!r}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=600)
    assert out.returncode == -signal.SIGKILL
    after = wb.open(copy, read_only=True).sql(STATE).row(0)
    assert after == before
