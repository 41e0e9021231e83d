"""Evidence in words: one template per detector and per link kind, each case a line of data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.catalogue import detectors as catalogue_detectors
from workbench.evidence import (
    cohort_words,
    detector_sentence,
    evidence_rank,
    lead_sentences,
    link_sentence,
    templates,
)

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "fixtures" / "evidence"
DETECTORS = [json.loads(line) for line in (CASES / "detectors.jsonl").read_text().splitlines()]
LINKS = [json.loads(line) for line in (CASES / "links.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("case", DETECTORS, ids=[c["detector"] for c in DETECTORS])
def test_each_detector_reads_as_a_sentence(case: dict) -> None:
    assert detector_sentence(case["detector"], case["evidence"]) == case["sentence"]


@pytest.mark.parametrize("case", LINKS, ids=[c["kind"] for c in LINKS])
def test_each_link_kind_reads_as_a_sentence(case: dict) -> None:
    assert link_sentence(case["kind"], "acct-b", case["value"], case["evidence"]) \
        == case["sentence"]


def _link_kinds() -> set[str]:
    from workbench.linking import COHORT_KIND

    files = {p.stem for p in (ROOT / "workbench" / "sql" / "links").glob("*.sql")}
    return files | {COHORT_KIND}


def test_every_catalogued_detector_and_link_kind_has_a_template_and_a_case() -> None:
    detectors = set(catalogue_detectors())
    kinds = _link_kinds()
    assert detectors - set(templates()["detectors"]) == set(), "add a sentence to evidence.toml"
    assert kinds - (set(templates()["links"]) & set(templates()["links_short"])) == set()
    assert detectors - {c["detector"] for c in DETECTORS} == set(), "add a case to detectors.jsonl"
    assert kinds - {c["kind"] for c in LINKS} == set(), "add a case to links.jsonl"
    # and no sentence is left for a detector or kind that is gone (or misspelt)
    assert set(templates()["detectors"]) - detectors == set()
    assert set(templates()["links"]) - kinds == {"link_fallback"}


@pytest.mark.parametrize("name", sorted(catalogue_detectors()))
def test_each_detector_reads_as_its_sentence_on_its_own_findings(name: str) -> None:
    """Every finding a detector writes on its regression fixture fills its template (no
    fallback): a detector whose evidence fields change fails here, not in front of a reader."""
    from test_catalogue import FIXTURES, load_fixture

    import workbench as wb
    from workbench.detectors import run

    case = wb.open()
    load_fixture(case, FIXTURES / name)
    found = run(case, name)
    assert found.height > 0
    for evidence, score in found.select("evidence", "score").iter_rows():
        text = detector_sentence(name, evidence, score)
        assert text.startswith(f"{name}: "), text
        assert "fired with score" not in text, text
        assert "{" not in text, text


def test_a_cohort_is_named_by_its_kind() -> None:
    assert cohort_words("ip_prefix", "203.0.113.0/24") == "on IP prefix 203.0.113.0/24"
    assert cohort_words("community", "cmp-1") == "of linking community cmp-1"
    # a kind the table does not know still reads
    assert cohort_words("moon", "x") == "of cohort moon:x"
    kinds = set(templates()["cohort_kinds"]) - {"cohort_fallback"}
    from workbench.config import RiskConfig

    assert set(RiskConfig.load().cohorts.kinds) <= kinds


def test_missing_evidence_falls_back_to_a_listing_not_an_error() -> None:
    text = detector_sentence("cot_elicitation", {"requests": 5}, score=0.5)
    assert text == "cot_elicitation fired with score 0.50: requests 5."
    assert detector_sentence("unknown_one", "not json", 0.1).startswith("unknown_one fired")
    assert link_sentence("payment", "acct-b", "pf-1") == \
        "pays with the same card as acct-b (fingerprint pf-1)"
    assert link_sentence("new_kind", "acct-b", "v") == "is linked to acct-b by new_kind on v"


def test_a_lead_reads_detectors_then_links_and_says_when_capped() -> None:
    reasons = {"capped": True, "detectors": [{"detector": "cot_elicitation", "score": 0.9,
                                              "evidence": DETECTORS[2]["evidence"]}],
               "campaign": {"campaign_id": "c-1", "links": [
                   {"peer": "acct-b", "kind": "payment", "value": "pf-1"},
                   {"peer": "acct-c", "kind": "sync_shape", "value": "x"}]}}
    lines = lead_sentences("acct-a", json.dumps(reasons))
    assert lines[0].startswith("cot_elicitation: ")
    assert lines[1] == ("acct-a is in campaign c-1: it pays with the same card as acct-b "
                        "(fingerprint pf-1); it sends the same request shapes as acct-c in step.")
    assert lines[2].startswith("Its risk is capped")
    assert lead_sentences("x", "not json") == []


def test_evidence_rank_counts_specific_detectors_then_contribution() -> None:
    strong = {"detectors": [{"detector": "cot_elicitation", "contribution": 0.5},
                            {"detector": "logit_probing", "contribution": 0.4}]}
    generic = {"detectors": [{"detector": "volume_anomaly", "contribution": 0.9},
                             {"detector": "template_repetition", "contribution": 0.9}]}
    assert evidence_rank(strong) == (2, 0.9)
    assert evidence_rank(generic) == (0, 1.8)
    assert evidence_rank(strong) > evidence_rank(generic)
    assert evidence_rank("{}") == (0, 0.0)
