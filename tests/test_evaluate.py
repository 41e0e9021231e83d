"""Evaluation against ground truth, and the leads / campaigns / evaluate commands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from _campaign_world import World, legit, operation
from click.testing import CliRunner

import workbench as wb
from workbench.cli import _register, cli
from workbench.errors import LoadError
from workbench.evaluate import evaluate

HOURS = list(range(10, 30))


def write_truth(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account_id", "campaign_id", "archetype"])
        w.writerows(rows)
    return path


@pytest.fixture
def scored(tmp_path: Path) -> tuple[wb.Case, Path]:
    """Two planted operations (one with a missed member), legit accounts, one false positive."""
    w = World()
    a = operation(w, "a", 4, payments=["payA"], templates=["t0", "t1", "t2"], hours=HOURS)
    b = operation(w, "b", 4, payments=["payB"], templates=["u0", "u1", "u2"], hours=HOURS)
    w.findings = [f for f in w.findings if f["entity_id"] != "b03"]
    w.accounts = [x for x in w.accounts if x["account_id"] != "b03"]  # b03 never linked
    w.requests = [x for x in w.requests if x["account_id"] != "b03"]
    u = legit(w, "u", 6)
    w.finding("u000", "logit_probing", 1.0, level="critical")  # one false positive
    case = w.into(wb.open(tmp_path / "case.duckdb"))
    from workbench.pipeline import link
    link(case)
    truth = [(x, "op-a", "reasoning_harvester") for x in a]
    truth += [(x, "op-b", "logit_prober") for x in b]
    truth += [(x, "", "education_cohort" if x < "u003" else "individual") for x in u]
    return case, write_truth(tmp_path / "truth.csv", truth)


def test_account_level_precision_recall_and_f1(scored: tuple[wb.Case, Path]) -> None:
    case, truth = scored
    r = evaluate(case, truth)
    high = r["levels"]["high"]
    assert (high["tp"], high["fp"], high["fn"]) == (7, 1, 1)
    assert high["precision"] == pytest.approx(7 / 8, abs=1e-4)
    assert high["recall"] == pytest.approx(7 / 8, abs=1e-4)
    assert high["f1"] == pytest.approx(7 / 8, abs=1e-4)
    assert r["accounts"] == 14
    assert r["planted_accounts"] == 8


def test_average_precision_over_the_risk_ranking(scored: tuple[wb.Case, Path]) -> None:
    case, truth = scored
    ranking = case.sql("select account_id from leads order by risk desc, account_id")
    ranked = ranking["account_id"].to_list()
    positives = {x for x in ranked if not x.startswith("u")} | {"b03"}
    hits, total = 0, 0.0
    for k, x in enumerate(ranked, 1):
        if x in positives:
            hits += 1
            total += hits / k
    assert evaluate(case, truth)["average_precision"] == pytest.approx(total / 8, abs=1e-4)
    assert evaluate(case, truth)["average_precision"] < 1.0  # the missed b03 costs


def test_per_campaign_recall_purity_and_fp_by_archetype(scored: tuple[wb.Case, Path]) -> None:
    case, truth = scored
    r = evaluate(case, truth)
    by_id = {c["campaign_id"]: c for c in r["campaigns"]}
    assert by_id["op-a"]["recall"] == 1.0
    assert by_id["op-a"]["purity"] == 1.0
    assert by_id["op-a"]["recovered"] is True
    assert by_id["op-b"]["recall"] == 0.75
    assert by_id["op-b"]["recovered"] is False
    assert r["campaigns_recovered"] == 1
    assert r["false_positives"]["education_cohort"]["high"] == pytest.approx(1 / 3, abs=1e-4)
    assert r["false_positives"]["individual"]["high"] == 0.0
    assert r["recall_by_archetype"]["logit_prober"]["high"] == 0.75


@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"),
    ("account_id,archetype\na1,x\n", r"lacks column\(s\) campaign_id"),
])
def test_bad_truth_files_are_clear_errors(tmp_path: Path, content: str | None,
                                          message: str) -> None:
    path = tmp_path / "truth.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LoadError, match=message):
        evaluate(wb.open(), path)


def test_cli_leads_campaigns_and_evaluate(scored: tuple[wb.Case, Path], tmp_path: Path) -> None:
    case, truth = scored
    _register()
    runner = CliRunner()
    db = str(case.path)
    res = runner.invoke(cli, ["leads", "--db", db, "--min-level", "high", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {r["level"] for r in rows} <= {"high", "critical"}
    assert len(rows) == 8
    assert rows[0]["reasons"]["detectors"][0]["detector"]

    res = runner.invoke(cli, ["leads", "--db", db, "--format", "csv", "--limit", "2"])
    assert res.exit_code == 0
    rows = list(csv.reader(io.StringIO(res.output)))
    assert rows[0][:2] == ["account_id", "campaign_id"]
    assert len(rows) == 3

    res = runner.invoke(cli, ["campaigns", "--db", db])
    assert res.exit_code == 0
    assert "cmp-" in res.output

    out = tmp_path / "eval.json"
    res = runner.invoke(cli, ["evaluate", "--db", db, "--truth", str(truth), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "planted campaigns recovered: 1 of 2" in res.output
    assert json.loads(out.read_text())["levels"]["high"]["tp"] == 7

    res = runner.invoke(cli, ["leads", "--db", db, "--min-level", "hihg"])
    assert res.exit_code != 0
    assert "hihg" in res.output
