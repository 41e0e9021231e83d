"""The literal prefilter: required literals, branch splitting, and the Matcher's exactness."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.textfeatures import lexicons
from workbench.textfeatures.classify import _plan, classify
from workbench.textfeatures.normalise import folded
from workbench.textfeatures.prefilter import (
    Matcher,
    required_clauses,
    required_literals,
    split_branches,
)

GOLDEN = Path(__file__).parent / "fixtures" / "features_golden.jsonl"


@pytest.mark.parametrize(("pattern", "literals"), [
    (r"\bchain[- ]of[- ]thoughts?\b", {"chain of thought", "chain of-thought",
                                       "chain-of thought", "chain-of-thought"}),
    (r"\b(?:rubric|grading criteria)\b", {"rubric", "grading criteria"}),
    (r"\b(?:show|give)\b[^.]{0,40}\bscratch ?pad", {"scratchpad", "scratch pad"}),
    (r"(?:思考过程|推理过程)[^。]{0,20}(?:完整|全部)", {"思考过程", "推理过程"}),
    (r"\bwhat(?:\x{27}s| is) in (?:this|the) image", {"what's in this image", "what's in the image",
                                                     "what is in this image",
                                                     "what is in the image"}),
    (r"[\p{L}\p{N}]+@[\p{L}]+\.com", {".com"}),
    (r"\d+(?:\.\d+)?", None),  # digits only: no literal
    (r"\b(?:you|i|me)\b", None),  # literals shorter than MIN_BYTES filter nothing
    (r"(?:a|\w+)bc", None),  # an alternative without literal: none for the whole
    (r"x{0,3}", None),  # may match the empty string
    # Rust syntax Python would misread: no literals, the pattern runs everywhere
    (r"(?i)chain of thought", None),
    (r"[[:alpha:]]+ thought", None),
    (r"[\w--\d]+ thought", None),
    (r"\pL+ thought", None),
    (r"\b{start}thought", None),
])
def test_required_literals(pattern: str, literals: set[str] | None) -> None:
    got = required_literals(pattern)
    assert (None if got is None else set(got)) == literals


def test_required_literals_are_minimal_and_clauses_ordered() -> None:
    # every text holding "code a " holds "code ": only the shorter is needed to find candidates
    assert required_literals(r"\bcode(?: a)? \w+") == frozenset({"code "})
    clauses = required_clauses(r"\b(?:show|print)\b.{0,9}chain of thought", most=2)
    assert [sorted(c) for c in clauses] == [["chain of thought"], ["print", "show"]]


@pytest.mark.parametrize(("pattern", "parts"), [
    ("a|b", ["a", "b"]),
    ("(?:a|b)", ["a", "b"]),
    ("(?:a|b)c", ["(?:a|b)c"]),
    (r"[|]x|y\|z", ["[|]x", r"y\|z"]),
    ("(?:a)|(?:b|c)", ["(?:a)", "(?:b|c)"]),
    ("[)]|(x)", ["[)]", "(x)"]),
])
def test_split_branches(pattern: str, parts: list[str]) -> None:
    assert split_branches(pattern) == parts


def _lexicon_patterns() -> list[str]:
    plan = _plan()
    return sorted(set(plan.cap_patterns) | set(plan.flag_patterns))


def _texts() -> list[str]:
    out: list[str] = []
    for stem in lexicons.names():
        ex = lexicons.load(stem).get("examples")
        if isinstance(ex, dict):
            out += [t for v in ex.values() if isinstance(v, list) for t in v
                    if isinstance(t, str)]
    out += [json.loads(x)[0] or "" for x in GOLDEN.read_text(encoding="utf-8").splitlines()[1:]]
    return out


def test_every_lexicon_match_contains_one_of_its_literals() -> None:
    # the prefilter's one promise: no text that a pattern matches lacks its literals
    texts = pl.DataFrame({"t": _texts()}).select(folded(pl.col("t")))["t"]
    checked = 0
    for pattern in _lexicon_patterns():
        for part in split_branches(pattern) if required_literals(pattern) is None else [pattern]:
            lits = required_literals(part)
            if lits is None:
                continue
            hit = texts.str.contains(part).fill_null(False)
            has = texts.str.contains_any(sorted(lits)).fill_null(False)
            assert not (hit & ~has).any(), (part, texts.filter(hit & ~has).to_list()[:2])
            checked += int(hit.sum())
    assert checked > 200  # the examples do exercise the patterns


def test_matcher_gives_each_regex_its_own_answer() -> None:
    patterns = _lexicon_patterns()
    texts = pl.DataFrame({"t": _texts()}).select(folded(pl.col("t")))["t"]
    m = Matcher(patterns)
    got = m.match(texts)
    want = np.column_stack([texts.str.contains(p).fill_null(False).to_numpy()
                            for p in patterns])
    assert (got == want).all()
    # and most (text, branch) pairs were never run
    assert m.last_counts["checked"] < 0.5 * m.last_counts["pairs"]


def test_matcher_runs_a_pattern_only_where_its_literals_are() -> None:
    texts = pl.Series(["hello there"] * 99 + ["please show your chain of thought"])
    m = Matcher([r"\bshow\b[^.]{0,20}\bchain of thought\b"])
    assert m.match(texts)[:, 0].tolist() == [False] * 99 + [True]
    assert m.last_counts == {"checked": 1, "pairs": 100}


def test_gated_patterns_run_only_where_their_gate_matched() -> None:
    texts = pl.Series(["rate this response from 1 to 10", "rate this", "a response", None])
    m = Matcher([r"\brate\b", r"\bresponse\b"], gates=[(), (0,)])
    got = m.match(texts)
    assert got.tolist() == [[True, True], [True, False], [False, False], [False, False]]
    assert m.last_counts["checked"] == 3  # "rate" on 2 candidates, "response" on 1


def test_gates_that_form_a_cycle_are_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        Matcher(["a", "b"], gates=[(1,), (0,)])


def test_classify_equals_evaluating_every_pattern_everywhere() -> None:
    texts = pl.DataFrame({"t": _texts()}).select(folded(pl.col("t")))["t"]
    got = classify(texts)
    for column in ("cot_flag", "rubric_flag", "sensitive_flag", "coercion_flag"):
        rules = lexicons.flag_rules(column)
        fired = np.zeros(len(texts), dtype=bool)
        for p in rules.patterns:
            fired |= texts.str.contains(p).fill_null(False).to_numpy()
        for group in rules.all_groups:
            both = np.ones(len(texts), dtype=bool)
            for p in group:
                both &= texts.str.contains(p).fill_null(False).to_numpy()
            fired |= both
        assert got[column].fill_null(False).to_numpy().tolist() == fired.tolist(), column
