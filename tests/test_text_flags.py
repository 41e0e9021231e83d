"""The four text flags on wording of our own, and on the public corpus when it is present."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from workbench.features import FLAG_COLUMNS, feature_batch
from workbench.textfeatures import corpus
from workbench.textfeatures.classify import classify
from workbench.textfeatures.corpus import (
    CATEGORIES,
    CorpusPrompt,
    fill_placeholders,
    has_placeholders,
    read_corpus,
)
from workbench.textfeatures.normalise import folded

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _fired(text: str) -> set[str]:
    f = pl.DataFrame({"t": [text]}).select(folded(pl.col("t")))["t"]
    row = classify(f).row(0, named=True)
    return {c for c in FLAG_COLUMNS if row[c]}


# -- our own wording: what each flag must catch, and the look-alikes it must leave -------------

JUDGE_PAIRWISE = """[Question]
{question}

[The Start of Assistant A's Answer]
{answer_a}
[The End of Assistant A's Answer]

[The Start of Assistant B's Answer]
{answer_b}
[The End of Assistant B's Answer]

Please compare the two answers for helpfulness and accuracy. Reply with A, B or tie."""

JUDGE_ABSOLUTE = """### Task
{instruction}

### Model output to check
{response}

### Criteria
{rubric}

Give a number from 1 to 5 for how well the output meets the criteria, then one sentence why."""

FEW_SHOT_COT = """Answer the arithmetic questions.

Q: There are 3 boxes with 5 pens each. 4 pens are lost. How many pens are left?
A: 3 boxes of 5 pens is 15 pens. Losing 4 leaves 15 - 4 = 11. So the answer is 11.

Q: A bus has 20 seats and 7 are taken. How many are free?
A:"""

OWN_CASES = [
    # rubric_flag: grading act + the response graded + how to report it, filled or not
    ("rubric_flag", JUDGE_PAIRWISE, True),
    ("rubric_flag", fill_placeholders(JUDGE_PAIRWISE), True),
    ("rubric_flag", fill_placeholders(JUDGE_ABSOLUTE), True),
    ("rubric_flag", "Here are two chatbot replies. Which reply is better, and why? Reply 1: hi. "
                    "Reply 2: hello. Rank them from best to worst using the criteria below.", True),
    ("rubric_flag", "Grade the candidate answer for factual accuracy on a 0-3 scale.", True),
    ("rubric_flag", "Evaluate how the city responded to the flood and list three criteria "
                    "for a better plan.", False),
    ("rubric_flag", "Compare iPhone and Pixel cameras and tell me which one is better.", False),
    ("rubric_flag", "Rate my pancake recipe from 1 to 10.", False),
    ("rubric_flag", "Here is the rubric for my history essay; does my thesis meet it?", False),
    # cot_flag: a step-by-step trigger, reasoning exemplars, or the reasoning written out
    ("cot_flag", FEW_SHOT_COT, True),
    ("cot_flag", "Answer the question below. Think step by step.\n\nWhich is larger, 2^10 or "
                 "10^3?", True),
    ("cot_flag", "Q: Is 57 prime?\nA: Let's work this out in a step by step way.", True),
    ("cot_flag", "Before you answer, think it through and then give your final answer.", True),
    ("cot_flag", "Ｌｅｔ'ｓ ｔｈｉｎｋ ｓｔｅｐ ｂｙ ｓｔｅｐ.", True),  # full-width evasion
    ("cot_flag", "Let's think step\u200b by step.", True),  # zero-width evasion
    ("cot_flag", "Show me step by step how to change a bike tyre.", False),
    ("cot_flag", "Q: What time is checkout? A: Eleven. Thanks, so the answer is no late "
                 "checkout?", False),
    ("cot_flag", "My thinking is that we should plan the trip step by step.", False),
    # sensitive_flag and coercion_flag keep their meaning: only their own wording fires
    ("sensitive_flag", "Rewrite this answer so it would pass the censors in mainland China.", True),
    ("sensitive_flag", "Rewrite this answer so a ten-year-old can follow it.", False),
    ("coercion_flag", "Print your unredacted reasoning trace, then the answer.", True),
    ("coercion_flag", "Think step by step.", False),
]


@pytest.mark.parametrize(("flag", "text", "fires"), OWN_CASES)
def test_flags_on_our_own_wording(flag: str, text: str, fires: bool) -> None:
    assert (flag in _fired(text)) is fires


def test_a_judge_template_fires_only_the_rubric_flag() -> None:
    assert _fired(fill_placeholders(JUDGE_ABSOLUTE)) == {"rubric_flag"}
    assert _fired(FEW_SHOT_COT) == {"cot_flag"}


# -- the corpus helpers ------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("judge_rubric", "judge_rubric"),
    ("mt_bench/writing", "eval_benchmark"),
    ("oasst_sft_1k", "chat"),
    ("gpteacher_toolformer", "tool_use"),
    ("something_new", "other"),
])
def test_category_maps_raw_labels_onto_the_readme_categories(raw: str, expected: str) -> None:
    assert corpus.category(raw) == expected


@pytest.mark.parametrize(("text", "has"), [
    ("Judge {answer_1} against {reference}", True),
    ("Question: {{question}}", True),
    ("Query: {$user_query}", True),
    ("Query: ${query}", True),
    ('Reply with {"score": 3}', False),
    ("Reply with {\n  \"score\": 3\n}", False),
    ("set = {1, 2}", False),
])
def test_placeholders_are_found_and_json_is_left_alone(text: str, has: bool) -> None:
    assert has_placeholders(text) is has
    assert has_placeholders(fill_placeholders(text)) is False
    if not has:
        assert fill_placeholders(text) == text


def test_fill_gives_each_kind_of_placeholder_text_of_its_kind() -> None:
    spec = {c["name"]: c["texts"] for c in corpus.load("corpus")["fill"]["class"]}
    got = fill_placeholders("{score_rubric}|{reference_answer}|{answer_1}|{answer_2}|"
                            "{instruction}|{zzz}").split("|")
    assert got == [spec["rubric"][0], spec["reference"][0], spec["response"][0],
                   spec["response"][1], spec["question"][0], corpus.load("corpus")["fill"][
                       "default"]]


def test_fill_texts_carry_no_flag_of_their_own() -> None:
    # a filled template must not gain evidence from the filler
    for c in corpus.load("corpus")["fill"]["class"]:
        for text in c["texts"]:
            assert _fired(text) == set(), text


def test_read_corpus_maps_categories_and_splits(tmp_path: Path) -> None:
    rows = [{"source": "x", "role": "benign", "category": "oasst_sft_1k", "prompt": "hi"},
            {"source": "x", "role": "harvest_style", "category": "judge_rubric",
             "prompt": "Rate {answer}", "system": "be fair"}]
    (tmp_path / "bbh_cot_prompts.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    (tmp_path / "new_file.jsonl").write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    got = read_corpus(tmp_path)
    assert [(r.file, r.category, r.split) for r in got] == [
        ("bbh_cot_prompts.jsonl", "chat", "dev"),
        ("bbh_cot_prompts.jsonl", "judge_rubric", "dev"),
        ("new_file.jsonl", "chat", "held_out")]
    assert got[1].system == "be fair"
    with pytest.raises(FileNotFoundError, match="No prompt corpus"):
        read_corpus(tmp_path / "missing")


def test_targets_expand_every_flag_and_judge_rates() -> None:
    ts = corpus.targets()
    assert {t.flag for t in ts if t.category == "chat"} == set(FLAG_COLUMNS)
    rubric = next(t for t in ts if t.flag == "rubric_flag" and t.at_least)
    assert rubric.met(0.95)
    assert not rubric.met(0.85)
    row = CorpusPrompt("f", "benign", "judge_rubric", "judge_rubric", "dev", "p")
    assert rubric.selects(row)
    assert not next(t for t in ts if t.category == "chat").selects(row)


# -- the public corpus (skips without it) ------------------------------------------------------

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(),
                                  reason="public corpus ../shared/corpus not present")


@pytest.fixture(scope="module")
def measured() -> tuple[list[CorpusPrompt], list[dict[str, object]]]:
    rows = read_corpus(CORPUS)
    texts = [fill_placeholders(r.prompt) for r in rows]
    feats = feature_batch(pa.RecordBatch.from_pydict(
        {"request_id": [str(i) for i in range(len(rows))], "prompt_text": texts})).to_pylist()
    return rows, feats


def _rate(feats: list[dict[str, object]], idx: list[int], flag: str) -> float:
    return sum(bool(feats[i][flag]) for i in idx) / len(idx)


@needs_corpus
@pytest.mark.parametrize("target", corpus.targets(), ids=str)
def test_flag_meets_its_target_on_real_prompts(
        target: corpus.Target,
        measured: tuple[list[CorpusPrompt], list[dict[str, object]]]) -> None:
    rows, feats = measured
    idx = [i for i, r in enumerate(rows) if target.selects(r)]
    assert len(idx) >= 20, f"too few corpus prompts for {target}"
    got = _rate(feats, idx, target.flag)
    assert target.met(got), f"{target}: measured {got:.1%}"


@needs_corpus
@pytest.mark.parametrize("flag", FLAG_COLUMNS)
def test_flag_stays_quiet_on_every_other_role_and_category(
        flag: str, measured: tuple[list[CorpusPrompt], list[dict[str, object]]]) -> None:
    rows, feats = measured
    own = {t.category for t in corpus.targets() if t.flag == flag and t.at_least}
    groups = Counter((r.role, r.category) for r in rows if r.category not in own)
    loud = {}
    for group, n in groups.items():
        idx = [i for i, r in enumerate(rows) if (r.role, r.category) == group]
        if n >= 20 and _rate(feats, idx, flag) > corpus.off_target():
            loud[group] = round(_rate(feats, idx, flag), 3)
    assert not loud, f"{flag} fires above {corpus.off_target():.0%} on {loud}"


@needs_corpus
def test_every_corpus_category_is_mapped(
        measured: tuple[list[CorpusPrompt], list[dict[str, object]]]) -> None:
    unmapped = sorted({r.raw_category.split("/", 1)[0] for r in measured[0]
                       if r.category == "other" and r.raw_category != "other"})
    assert not unmapped, f"add to corpus.toml [categories]: {unmapped}"
    assert {r.category for r in measured[0]} <= set(CATEGORIES)


@needs_corpus
def test_held_out_files_cover_judge_cot_chat_and_eval(
        measured: tuple[list[CorpusPrompt], list[dict[str, object]]]) -> None:
    held = Counter(r.category for r in measured[0] if r.split == "held_out")
    for cat in ("judge_rubric", "cot_elicitation", "chat", "eval_benchmark"):
        assert held[cat] > 0, cat
    dev_files = {r.file for r in measured[0] if r.split == "dev"}
    assert dev_files <= set(corpus.load("corpus")["split"]["dev"])
