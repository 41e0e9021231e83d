"""The runner: run(), detect(), findings and detector_runs, levels, errors, CLI, generated docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from test_catalogue import FIXTURES, load_fixture

import workbench as wb
from workbench.catalogue import detectors, finding_level, markdown
from workbench.cli import _register, cli
from workbench.detectors import run as run_detector
from workbench.errors import ParameterError, UnknownNameError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def quiet_case(case: wb.Case, monkeypatch: pytest.MonkeyPatch) -> wb.Case:
    """An in-memory case whose detect() does not compute features (fixtures carry their own)."""
    from workbench.pipeline import DuckDBEngine

    monkeypatch.setattr(DuckDBEngine, "features", lambda self, case: 0)
    return case


def test_unknown_detector_suggests_closest(case: wb.Case) -> None:
    with pytest.raises(UnknownNameError, match="Did you mean cot_elicitation"):
        run_detector(case, "cot_elicitaton")


@pytest.mark.parametrize(("params", "match"), [
    ({"min_sahre": 0.5}, r"Unknown parameter 'min_sahre'.*Did you mean min_share\?.*Declared: "
                         r"full_hours, full_share, min_flagged, min_novelty, min_requests, "
                         r"min_share"),
    ({"min_share": "lots"}, r"cot_elicitation.min_share must be float, got 'lots'"),
    ({"min_requests": 2.5}, r"min_requests must be int, got 2.5"),
    ({"min_requests": True}, r"min_requests must be int"),
    # NaN compares false everywhere and would silently find nothing; a negative means nothing
    ({"min_share": "nan"}, r"min_share must be a finite number of at least 0, got nan"),
    ({"min_share": float("inf")}, r"min_share must be a finite number of at least 0"),
    ({"min_share": "-inf"}, r"min_share must be a finite number of at least 0"),
    ({"min_requests": "-5"}, r"min_requests must be a finite number of at least 0, got -5"),
])
def test_bad_params_name_the_rule(case: wb.Case, params: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        run_detector(case, "cot_elicitation", **params)


def test_run_returns_fixture_rows_and_params_change_them(case: wb.Case) -> None:
    load_fixture(case, FIXTURES / "cot_elicitation")
    assert set(run_detector(case, "cot_elicitation")["entity_id"]) == {"pos_harvest", "neg_eval"}
    # a string from the CLI is typed by the declared type
    found = run_detector(case, "cot_elicitation", min_requests="80")
    assert set(found["entity_id"]) == {"pos_harvest"}


def test_agentic_harvesting_needs_headless_peers_for_high(case: wb.Case) -> None:
    load_fixture(case, FIXTURES / "agentic_harvesting")
    scores = dict(run_detector(case, "agentic_harvesting").select("entity_id", "score").iter_rows())
    # a, b, c share a /24; c, d and the camouflaged account another; a and d a card: a, c and
    # d have 3 or more headless peers (full_peers), b and the camouflaged account 2; the solo
    # developer none, and one org's two pipelines none either. The camouflaged account's
    # ordinary chat (with a system prompt and end users) does not hide its 60 agent requests.
    assert {k: round(v, 2) for k, v in scores.items()} == {
        "pos_fleet_a": 1.0, "pos_fleet_b": 0.83, "pos_fleet_c": 1.0, "pos_fleet_d": 1.0,
        "pos_camouflaged": 0.83, "neg_solo_dev": 0.5, "neg_pipeline_a": 0.5,
        "neg_pipeline_b": 0.5}
    # metadata-only logs keep no system prompt: the agent product is still excluded by its
    # end users, and nothing else changes
    case.execute("update requests set system_hash = null")
    assert set(run_detector(case, "agentic_harvesting")["entity_id"]) == set(scores)


def test_signup_burst_discounts_a_lone_signup_in_the_window(case: wb.Case) -> None:
    load_fixture(case, FIXTURES / "signup_burst")
    scores = dict(run_detector(case, "signup_burst").select("entity_id", "score").iter_rows())
    # the hydra burst pays with shared cards; the developer in its window pays alone
    assert min(v for k, v in scores.items() if k.startswith("pos_hydra")) >= 0.8
    assert scores["neg_lone_dev"] < 0.5
    undiscounted = run_detector(case, "signup_burst", lone_discount=0.0)
    assert undiscounted.filter(pl.col("entity_id") == "neg_lone_dev")["score"].item() >= 0.8


def test_new_model_pivot_needs_the_busiest_accounts_for_high(case: wb.Case) -> None:
    load_fixture(case, FIXTURES / "new_model_pivot")
    found = run_detector(case, "new_model_pivot", min_volume_rank=0.5).filter(
        pl.col("entity_type") == "account")
    scores = dict(found.select("entity_id", "score").iter_rows())
    # the late pivot is measured from its first use of the new model, not diluted by the hours
    # before it; the adopter below the busiest 1 % is reported, capped one level lower
    assert scores == {"pos_pivot": 1.0, "pos_late_pivot": 1.0, "neg_adopter": 0.75}


@pytest.mark.parametrize(("declared", "score", "level"), [
    ("high", 0.95, "high"), ("high", 0.8, "high"), ("high", 0.79, "medium"),
    ("high", 0.5, "medium"), ("high", 0.49, "low"), ("medium", 1.0, "medium"),
    ("critical", 0.6, "high"), ("low", 0.2, "informational"), ("informational", 0.9,
                                                                "informational"),
])
def test_finding_level_rule(declared: str, score: float, level: str) -> None:
    assert finding_level(declared, score) == level


def test_detect_writes_findings_and_runs(quiet_case: wb.Case) -> None:
    load_fixture(quiet_case, FIXTURES / "cot_elicitation")
    report = wb.detect(quiet_case, only=["cot_elicitation", "logit_probing"], link=False,
                               params={"cot_elicitation": {"full_hours": 1}})
    runs = report.runs.sort("detector")
    assert runs["status"].to_list() == ["ok", "ok"]
    assert runs["rows"].to_list() == [2, 0]
    found = quiet_case.sql("select entity_id, level, params, detector_id, evidence "
                           "from findings order by entity_id")
    # full_hours=1 removes the persistence damping: the burst now reaches high too
    assert found["level"].to_list() == ["high", "high"]
    assert json.loads(found["params"][0])["full_hours"] == 1
    assert found["detector_id"][0] == detectors()["cot_elicitation"].id
    assert json.loads(found["evidence"][0])["flagged"] == 60
    assert quiet_case.count("detector_runs") == 2
    # a second run replaces that detector's findings and appends to the run history; at the
    # default full_hours the one-hour burst scores in proportion to its hours: low
    wb.detect(quiet_case, only="cot_elicitation", link=False)
    assert quiet_case.sql("select level from findings where entity_id = 'neg_eval'")[
        "level"].to_list() == ["low"]
    assert quiet_case.count("findings") == 2
    assert quiet_case.count("detector_runs") == 3


def test_metadata_only_text_detector_reports_no_content(quiet_case: wb.Case) -> None:
    load_fixture(quiet_case, FIXTURES / "industrial_rhythm")  # no prompt text, no features
    report = wb.detect(quiet_case, only=["cot_elicitation", "signup_burst", "industrial_rhythm"],
                               link=False)
    status = dict(zip(report.runs["detector"], report.runs["status"], strict=True))
    assert status == {"cot_elicitation": "no_content", "signup_burst": "skipped",
                      "industrial_rhythm": "ok"}
    message = report.runs.filter(report.runs["detector"] == "cot_elicitation")["message"][0]
    assert "metadata-only" in message


def test_detect_rejects_unknown_names_before_running(quiet_case: wb.Case) -> None:
    with pytest.raises(UnknownNameError, match="Did you mean logit_probing"):
        wb.detect(quiet_case, only=["logit_probng"], link=False)
    with pytest.raises(UnknownNameError, match="Unknown engine 'sparkk'"):
        wb.detect(quiet_case, engine="sparkk")
    assert quiet_case.count("detector_runs") == 0


@pytest.mark.parametrize("name", sorted(detectors()))
def test_lookalikes_never_reach_high(name: str, quiet_case: wb.Case) -> None:
    # fixture entities named neg_* are legitimate look-alikes: they may be reported, never high
    load_fixture(quiet_case, FIXTURES / name)
    det = detectors()[name]
    if "cohorts" in det.requires:
        # the pipeline would rebuild the fixture's cohorts from its (absent) accounts: judge the
        # fixture's own membership, levelled as detect() levels it
        rows = run_detector(quiet_case, name)
        high = [m for ev, s in zip(rows["evidence"], rows["score"], strict=True)
                if finding_level(det.level, s) in ("high", "critical")
                for m in (ev.get("members") or []) if m.startswith("neg")]
        assert high == []
        return
    wb.detect(quiet_case, only=[name], link=False)
    levels = quiet_case.sql("select entity_id, level from findings "
                            "where entity_id like 'neg%' and level in ('high', 'critical')")
    assert levels.is_empty(), levels


def test_cli_detectors_and_detect(tmp_path: Path) -> None:
    _register()
    runner = CliRunner()
    listing = runner.invoke(cli, ["detectors"])
    assert listing.exit_code == 0
    assert "params/logit_probing" in listing.output
    db = tmp_path / "case.duckdb"
    case = wb.open(db)
    load_fixture(case, FIXTURES / "logit_probing")
    ok = runner.invoke(cli, ["detect", "--db", str(db), "--only", "logit_probing", "--no-link",
                             "--quiet", "--param", "logit_probing.min_repeats=2"])
    assert ok.exit_code == 0, ok.output
    # min_repeats=2 lets the look-alike classifier (2 probes per prompt) through as well
    assert "2 findings" in ok.output
    bad = runner.invoke(cli, ["detect", "--db", str(db), "--param", "logit_probing.min_repeat=2"])
    assert bad.exit_code == 2
    assert "Did you mean min_repeats?" in bad.output
    malformed = runner.invoke(cli, ["detect", "--db", str(db), "--param", "min_repeats=2"])
    assert "must read NAME.KEY=VALUE" in malformed.output


def test_docs_detectors_md_is_current() -> None:
    doc = ROOT / "docs" / "detectors.md"
    assert doc.read_text() == markdown(), (
        "docs/detectors.md is stale: python -m workbench.detectors --markdown > docs/detectors.md")


def test_markdown_module_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "workbench.detectors", "--markdown"],
                         capture_output=True, text=True, check=True).stdout
    assert "## reseller_mixing" in out


def test_no_detector_or_profile_query_reads_the_normalised_text() -> None:
    """prompt_norm is a few KB a request on real traffic; template_id (its hash) stands for it.

    Read in a join it is carried through the hash table and spilled: at 10M requests the four
    content detectors that read it took 480 s under a 3 GB memory limit (bench/results).
    """
    import sqlglot
    from sqlglot import exp

    from workbench.cohorts import SQL as COHORT_SQL

    texts = {name: d.sql for name, d in detectors().items()}
    texts |= {p.name: p.read_text() for p in COHORT_SQL.glob("*.sql")}
    readers = sorted(name for name, sql in texts.items()
                     if any(c.name == "prompt_norm" for c in
                            sqlglot.parse_one(sql.replace("{member}", "_member"), read="duckdb")
                            .find_all(exp.Column)))
    assert readers == []
