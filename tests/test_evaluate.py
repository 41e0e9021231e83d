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
from workbench.evaluate import evaluate, match_campaigns, score

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
    assert by_id["op-a"]["coverage"] == 1.0
    assert by_id["op-a"]["purity"] == 1.0
    assert by_id["op-a"]["recovered"] is True
    assert by_id["op-b"]["coverage"] == 0.75
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
    assert "recovered as one (coverage and purity >= 0.9): 1 of 2" in res.output
    assert json.loads(out.read_text())["levels"]["high"]["tp"] == 7

    res = runner.invoke(cli, ["leads", "--db", db, "--min-level", "hihg"])
    assert res.exit_code != 0
    assert "hihg" in res.output


# -- the measures on hand-made truth and lead tables ------------------------------------------


def _truth(spec: dict[str, tuple[str | None, str, int]]) -> dict[str, tuple[str | None, str]]:
    """{prefix: (campaign or None, archetype, n)} -> n accounts prefix0..prefixN-1."""
    return {f"{p}{i}": (c, arch) for p, (c, arch, n) in spec.items() for i in range(n)}


def _leads(groups: dict[str | None, list[str]],
           level: str = "high") -> dict[str, tuple[str | None, float, str]]:
    return {a: (cid, 0.8, level) for cid, accts in groups.items() for a in accts}


OPS = {"a": ("op-a", "reasoning_harvester", 10), "b": ("op-b", "agentic_harvester", 4),
       "u": (None, "individual_dev", 6)}
A = [f"a{i}" for i in range(10)]
B = [f"b{i}" for i in range(4)]


@pytest.mark.parametrize(("groups", "want"), [
    # found as one, nothing else in it
    ({"cmp-1": A}, {"found": "cmp-1", "coverage": 1.0, "purity": 1.0, "in": 1, "ok": True}),
    # 9 of 10 accounts: coverage exactly at the bar counts
    ({"cmp-1": A[:9]}, {"found": "cmp-1", "coverage": 0.9, "purity": 1.0, "in": 1, "ok": True}),
    # 8 of 10: below the bar
    ({"cmp-1": A[:8]}, {"found": "cmp-1", "coverage": 0.8, "purity": 1.0, "in": 1, "ok": False}),
    # one legitimate account among 10: purity 10/11 is above 0.9
    ({"cmp-1": [*A, "u0"]}, {"found": "cmp-1", "coverage": 1.0, "purity": 0.9091, "in": 1,
                             "ok": True}),
    # two legitimate accounts: purity 10/12
    ({"cmp-1": [*A, "u0", "u1"]}, {"found": "cmp-1", "coverage": 1.0, "purity": 0.8333,
                                   "in": 1, "ok": False}),
    # split in two found campaigns: the larger part is the match
    ({"cmp-1": A[:6], "cmp-2": A[6:]}, {"found": "cmp-1", "coverage": 0.6, "purity": 1.0,
                                        "in": 2, "ok": False}),
    # an even split: the purer part wins the tie
    ({"cmp-1": [*A[:5], "u0"], "cmp-2": A[5:]}, {"found": "cmp-2", "coverage": 0.5,
                                                 "purity": 1.0, "in": 2, "ok": False}),
    # flagged accounts outside any campaign do not make a campaign
    ({None: A}, {"found": None, "coverage": 0.0, "purity": 0.0, "in": 0, "ok": False}),
    # nothing found at all
    ({}, {"found": None, "coverage": 0.0, "purity": 0.0, "in": 0, "ok": False}),
])
def test_coverage_and_purity(groups: dict[str | None, list[str]], want: dict[str, object]) -> None:
    match = {c["campaign_id"]: c for c in match_campaigns(_truth(OPS), _leads(groups))}["op-a"]
    got = {"found": match["found_campaign"], "coverage": match["coverage"],
           "purity": match["purity"], "in": match["found_in"], "ok": match["recovered"]}
    assert got == want


def test_two_operations_merged_into_one_found_campaign() -> None:
    match = {c["campaign_id"]: c for c in match_campaigns(_truth(OPS), _leads({"cmp-1": A + B}))}
    assert match["op-a"]["merged_with"] == ["op-b"]
    assert match["op-b"]["merged_with"] == ["op-a"]
    assert (match["op-a"]["coverage"], match["op-a"]["purity"]) == (1.0, round(10 / 14, 4))
    assert (match["op-b"]["coverage"], match["op-b"]["purity"]) == (1.0, round(4 / 14, 4))
    assert not match["op-a"]["recovered"]
    assert not match["op-b"]["recovered"]


def test_no_planted_campaign_and_no_leads() -> None:
    legit_only = _truth({"u": (None, "individual_dev", 5)})
    r = score(legit_only, {})
    assert r["campaigns"] == []
    assert r["campaigns_planted"] == r["campaigns_recovered"] == 0
    assert r["levels"]["high"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                                   "tp": 0, "fp": 0, "fn": 0}
    r = score(legit_only, _leads({None: ["u0"]}))
    assert r["levels"]["high"]["precision"] == 0.0
    assert r["false_positives"]["individual_dev"]["high"] == 0.2
    assert r["false_positives"]["individual_dev"]["high_n"] == 1


def test_levels_and_false_positive_rates_per_archetype() -> None:
    truth = _truth({**OPS, "e": (None, "enterprise_batch", 2)})
    found = {**_leads({"cmp-1": A[:5]}, "critical"), **_leads({"cmp-1": A[5:]}, "medium"),
             **_leads({None: ["e0"]}, "high"), **_leads({None: ["u0", "u1"]}, "low")}
    r = score(truth, found)
    assert (r["levels"]["high"]["tp"], r["levels"]["high"]["fp"],
            r["levels"]["high"]["fn"]) == (5, 1, 9)
    assert r["levels"]["medium"]["recall"] == round(10 / 14, 4)
    assert r["levels"]["low"]["fp"] == 3
    assert r["false_positives"]["enterprise_batch"]["high"] == 0.5
    assert r["false_positives"]["individual_dev"]["high"] == 0.0
    assert r["false_positives"]["individual_dev"]["low"] == round(2 / 6, 4)
    assert r["recall_by_archetype"]["reasoning_harvester"]["high"] == 0.5
    assert r["recall_by_archetype"]["agentic_harvester"]["low"] == 0.0


def test_detector_fires_on_campaign_and_legit_accounts() -> None:
    reach = {"cot_elicitation": {*A[:3], "u0", "not-in-truth"}, "rubric_grading": set()}
    fires = score(_truth(OPS), {}, reach=reach)["detectors"]
    assert fires["cot_elicitation"] == {"campaign": 3, "legit": 1, "by_archetype": {
        "individual_dev": 1, "reasoning_harvester": 3}}
    assert fires["rubric_grading"] == {"campaign": 0, "legit": 0, "by_archetype": {}}


def test_evaluate_reads_detector_reach_from_the_case(scored: tuple[wb.Case, Path]) -> None:
    case, truth = scored
    fires = evaluate(case, truth)["detectors"]
    assert fires["logit_probing"]["legit"] == 1  # the one planted false positive, u000
    assert fires["logit_probing"]["by_archetype"]["education_cohort"] == 1
    assert sum(d["campaign"] for d in fires.values()) >= 7


def test_evaluate_reach_follows_a_cohort_findings_members(scored: tuple[wb.Case, Path]) -> None:
    case, truth = scored
    w = World()  # a cohort finding reaches the members its evidence lists, as scoring maps it
    w.finding("payment:payB", "cohort_probe", 0.8, entity_type="cohort",
              evidence={"members": ["b00", "b01", "u001"]})
    w.into(case)
    fires = evaluate(case, truth)["detectors"]["cohort_probe"]
    assert fires["by_archetype"] == {"logit_prober": 2, "education_cohort": 1}


def test_the_sweep_moves_every_knob_to_a_value_the_config_takes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a knob held as an integer (a count of accounts, hours) moves to integers, or the sweep
    # measures a rejected value instead of the setting
    from workbench.config import RiskConfig

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    from _sweep import FACTORS, settings

    cfg = RiskConfig.load()
    risk = [s for s in settings() if s.kind == "risk"]
    assert {"cohorts.neighbours", "cohorts.prefix_share", "campaigns.min_accounts"} <= {
        s.key for s in risk}
    for s in risk:
        for factor in FACTORS:
            cfg.replace(s.key, s.moved(factor))  # raises ParameterError on a rejected value
