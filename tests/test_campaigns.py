"""Risk rules, leads and campaigns tables, and their reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _campaign_world import World, legit, operation

import workbench as wb
from workbench.config import DEFAULT_PATH, RiskConfig
from workbench.errors import UnknownNameError
from workbench.pipeline import link
from workbench.results import campaigns, leads
from workbench.scoring import LEVELS, level_of

HOURS = list(range(10, 30))
CFG = RiskConfig.load()


def risk_of(case: wb.Case, account: str) -> float:
    return float(case.sql("select risk from leads where account_id = $a", a=account)["risk"][0])


def lone(w: World, acct: str) -> None:
    w.account(acct, payment=f"pay_{acct}")
    w.traffic(acct, [f"own_{acct}"], [1], prefix=f"192.0.{acct}")


def test_base_risk_is_a_noisy_or_of_weighted_detector_scores(case: wb.Case) -> None:
    w = World()
    lone(w, "n1")
    w.finding("n1", "probe_high", 0.5, level="high")
    w.finding("n1", "probe_medium", 0.5, level="medium")
    w.into(case)
    link(case)
    hi, med = CFG.detector_levels["high"], CFG.detector_levels["medium"]
    assert risk_of(case, "n1") == pytest.approx(1 - (1 - hi * 0.5) * (1 - med * 0.5))


def test_the_strongest_finding_of_the_latest_run_counts(case: wb.Case) -> None:
    w = World()
    lone(w, "n1")
    w.finding("n1", "cot_elicitation", 0.99, run_id="old", ran_h=10)
    w.finding("n1", "cot_elicitation", 0.4, run_id="new", ran_h=20)
    w.finding("n1", "cot_elicitation", 0.6, run_id="new", ran_h=20)
    w.into(case)
    link(case)
    assert risk_of(case, "n1") == pytest.approx(CFG.detector_levels["high"] * 0.6)


def test_findings_on_other_entities_reach_their_accounts_damped(case: wb.Case) -> None:
    w = World()
    lone(w, "k1")
    w.finding("pay_k1", "infra_probe", 1.0, entity_type="payment_fingerprint")
    w.finding("key_k1", "reseller_mixing", 1.0, entity_type="api_key", level="critical")
    w.finding("x", "odd", 1.0, entity_type="user_agent")
    w.into(case)
    summary = link(case)
    share, lv = CFG.entity_share, CFG.detector_levels
    reseller = CFG.detector_weights["reseller_mixing"]  # specific: named weight, not level
    expected = 1 - (1 - lv["high"] * share["payment_fingerprint"]) * (1 - reseller
                                                                      * share["api_key"])
    assert risk_of(case, "k1") == pytest.approx(expected)
    assert summary["unmapped_entity_types"] == {"user_agent": 1}


def test_detector_weight_override_and_custom_config(case: wb.Case, tmp_path: Path) -> None:
    w = World()
    lone(w, "n1")
    w.finding("n1", "probe_x", 1.0, level="high")
    w.into(case)
    cfg = tmp_path / "risk.toml"
    cfg.write_text(DEFAULT_PATH.read_text().replace("[detector_weights]",
                                              "[detector_weights]\nprobe_x = 0.5"))
    link(case, config=cfg)
    assert risk_of(case, "n1") == pytest.approx(0.5)


@pytest.mark.parametrize(("risk", "level"), [
    (0.95, "critical"), (CFG.levels["critical"], "critical"), (0.8, "high"),
    (CFG.levels["high"], "high"), (0.5, "medium"), (0.2, "low"), (0.01, None),
])
def test_levels_follow_the_documented_thresholds(risk: float, level: str | None) -> None:
    assert level_of(CFG, risk) == level


def test_stored_levels_agree_with_level_of(case: wb.Case) -> None:
    w = World()
    for i, score in enumerate((0.2, 0.5, 0.8, 1.0)):
        lone(w, f"s{i}")
        w.finding(f"s{i}", "cot_elicitation", score, level="critical")
    w.into(case)
    link(case)
    for row in leads(case).iter_rows(named=True):
        assert row["level"] == level_of(CFG, row["risk"])


def test_campaign_strength_lifts_weak_members_but_not_a_benign_group(case: wb.Case) -> None:
    w = World()
    ops = operation(w, "a", 6, payments=["payA"], templates=["t0", "t1", "t2", "t3"],
                    hours=HOURS)
    w.findings = [f for f in w.findings if f["entity_id"] != "a05"]
    w.finding("a05", "cot_elicitation", 0.3)
    # A benign cohort in lockstep (a class doing the same homework), one member noisy.
    cohort = operation(w, "e", 6, payments=[None], templates=["h0", "h1", "h2", "h3"],
                       hours=HOURS, score=0)
    w.finding("e00", "cot_elicitation", 0.5)
    w.into(case)
    link(case)
    base = CFG.detector_levels["high"] * 0.3
    assert risk_of(case, "a05") > base + 0.2
    reasons = json.loads(case.sql("select reasons from leads where account_id = 'a05'")
                         ["reasons"][0])
    assert reasons["base_risk"] == pytest.approx(base)
    assert reasons["campaign"]["campaign_id"] is not None
    assert {lk["peer"] for lk in reasons["campaign"]["links"]} <= set(ops)
    # The cohort is linked but too weak to be a campaign: no lift, no campaign id.
    assert case.sql("select count(*) as n from leads where account_id in $ids "
                    "and campaign_id is not null", ids=cohort)["n"][0] == 0
    assert risk_of(case, "e00") == pytest.approx(CFG.detector_levels["high"] * 0.5)
    assert campaigns(case)["accounts"].to_list() == [6]


def test_reasons_name_top_detectors_with_evidence(case: wb.Case) -> None:
    w = World()
    lone(w, "r1")
    for det, score in (("a_det", 0.2), ("b_det", 0.9), ("c_det", 0.5), ("d_det", 0.7)):
        w.finding("r1", det, score, evidence={"why": det, "<b>": "adversary text"})
    w.into(case)
    link(case)
    reasons = json.loads(leads(case)["reasons"][0])
    top = reasons["detectors"]
    assert [d["detector"] for d in top] == ["b_det", "d_det", "c_det"]
    assert top[0]["evidence"] == {"why": "b_det", "<b>": "adversary text"}
    assert top[0]["via"] == "account:r1"
    assert reasons["campaign"] is None


def test_campaigns_table_summarises_members(case: wb.Case) -> None:
    w = World()
    ids = operation(w, "a", 4, payments=["payA"], templates=["t0", "t1", "t2"], hours=HOURS)
    legit(w, "u", 5)
    w.into(case)
    link(case)
    row = campaigns(case).row(0, named=True)
    assert row["accounts"] == 4
    assert row["requests"] == 4 * 3 * len(HOURS)
    assert row["tokens"] == row["requests"] * 500
    assert row["access_paths"] == ["direct"]
    assert row["models"] == ["model-a"]
    assert row["capabilities"] == ["coding"]
    assert row["top_detectors"] == ["cot_elicitation"]
    assert row["level"] == level_of(CFG, row["risk"])
    assert set(leads(case).filter(leads(case)["campaign_id"] == row["campaign_id"])
               ["account_id"]) == set(ids)


def test_rebuild_replaces_and_a_failed_build_changes_nothing(case: wb.Case,
                                                             tmp_path: Path) -> None:
    w = World()
    operation(w, "a", 4, payments=["payA"], templates=["t0", "t1", "t2"], hours=HOURS)
    w.into(case)
    link(case)
    link(case)
    before = (leads(case), campaigns(case), case.count("account_links"))
    assert before[0].height == 4
    assert before[1].height == 1
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_PATH.read_text().replace("signup_burst = ", "signup_brust = "))
    with pytest.raises(UnknownNameError, match="Did you mean signup_burst"):
        link(case, config=bad)
    assert leads(case).equals(before[0])
    assert campaigns(case).equals(before[1])
    assert case.count("account_links") == before[2]


def test_leads_filter_by_level_and_reject_unknown_levels(case: wb.Case) -> None:
    w = World()
    for i, score in enumerate((0.2, 0.5, 0.8, 1.0)):
        lone(w, f"s{i}")
        w.finding(f"s{i}", "cot_elicitation", score, level="critical")
    w.into(case)
    link(case)
    all_leads = leads(case)
    assert all_leads["risk"].to_list() == sorted(all_leads["risk"].to_list(), reverse=True)
    for lv in LEVELS:
        got = set(leads(case, min_level=lv)["level"])
        assert got <= set(LEVELS[LEVELS.index(lv):])
    assert set(leads(case, min_level="high")["account_id"]) == {"s2", "s3"}
    assert wb.leads(case, min_level="critical")["account_id"].to_list() == ["s3"]
    with pytest.raises(UnknownNameError, match="Unknown level 'hihg'. Did you mean high"):
        leads(case, min_level="hihg")


@pytest.mark.slow
def test_simulated_world_gives_explained_leads_and_stable_campaigns(world_case: wb.Case,
                                                                   world_dir: Path) -> None:
    from workbench.evaluate import evaluate
    from workbench.linking import campaign_id

    found = campaigns(world_case)
    assert found.height > 0
    df = world_case.sql("select campaign_id, count(*) as n, min(account_id) as first "
                        "from leads where campaign_id is not null group by 1")
    for row in df.iter_rows(named=True):
        assert row["campaign_id"] == campaign_id(row["first"])
        assert found.filter(found["campaign_id"] == row["campaign_id"])["accounts"][0] == row["n"]
    top = json.loads(leads(world_case, min_level="high")["reasons"][0])
    assert top["detectors"]
    assert top["detectors"][0]["evidence"] is not None
    result = evaluate(world_case, world_dir / "truth.csv")
    # Far above the ~5 % a random ranking would score: the ranking carries the signal.
    assert result["average_precision"] > 0.5
    assert result["campaigns_recovered"] >= 1
