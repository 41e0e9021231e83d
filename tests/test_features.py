"""Text features: lexicon files, normalisation, hashes, flags, and compute_features."""

from __future__ import annotations

import doctest
import importlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

import workbench as wb
from workbench import features
from workbench.errors import ParameterError, UnknownNameError
from workbench.features import FEATURE_SCHEMA, compute_features, feature_batch
from workbench.schema import FEATURES
from workbench.textfeatures import lexicons
from workbench.textfeatures.classify import FAMILIES, classify
from workbench.textfeatures.lang import language
from workbench.textfeatures.normalise import folded, normalised
from workbench.textfeatures.simhash import simhash, template_id

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _norm(texts: list[str | None]) -> list[str | None]:
    return pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(normalised(pl.col("t")))[
        :, 0].to_list()


def _fold(texts: list[str | None]) -> pl.Series:
    return pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(folded(pl.col("t")))[:, 0]


def _flag(column: str, text: str) -> bool:
    return bool(classify(_fold([text]))[column].item())


def _batch(texts: list[str | None], **extra: list[object]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"request_id": [f"r{i}" for i in range(len(texts))], "prompt_text": texts, **extra})


# -- the data files ----------------------------------------------------------------------------

def _flag_cases() -> list[tuple[str, str, bool]]:
    out = []
    for column, stem in lexicons.FLAGS.items():
        ex = lexicons.load(stem)["examples"]
        out += [(column, t, True) for t in ex["match"]]
        out += [(column, t, False) for t in ex["no_match"]]
    return out


@pytest.mark.parametrize(("column", "text", "fires"), _flag_cases())
def test_flag_lexicon_examples(column: str, text: str, fires: bool) -> None:
    assert _flag(column, text) is fires


@pytest.mark.parametrize("stem", lexicons.FLAGS.values())
def test_flag_lexicon_header_and_examples_present(stem: str) -> None:
    data = lexicons.load(stem)
    assert data["name"] == stem
    assert data["description"].startswith("Detects")
    assert data["references"]
    assert len(data["examples"]["match"]) >= 5
    assert len(data["examples"]["no_match"]) >= 5


@pytest.mark.parametrize("stem", lexicons.names())
def test_every_pattern_compiles_in_polars(stem: str) -> None:
    def patterns(node: object) -> list[str]:
        if isinstance(node, dict):
            return [p for k, v in node.items() if k != "examples" for p in patterns(v)] + (
                [node["pattern"]] if isinstance(node.get("pattern"), str) else [])
        if isinstance(node, list):
            return [p for v in node for p in patterns(v)]
        return []
    data = lexicons.load(stem)
    found = patterns(data) + [data[k] for k in ("strip", "control") if k in data]
    found += [f"[^{s['chars']}]+" for s in data.get("scripts", [])]
    found += [p for lst in (data.get("patterns") or [],) for p in lst]
    probe = pl.Series(["x"])
    for p in found:
        probe.str.contains(p)  # raises on a pattern polars' regex engine rejects


def _mask_cases() -> list[tuple[str, str]]:
    spec = lexicons.load("masking")
    cases = [tuple(c) for c in spec["strip_examples"]]
    cases += [tuple(c) for m in spec["mask"] for c in m["examples"]]
    return cases  # type: ignore[return-value]


@pytest.mark.parametrize(("text", "expected"), _mask_cases())
def test_masking_examples(text: str, expected: str) -> None:
    assert _norm([text]) == [expected]


def _lang_cases() -> list[tuple[str, str]]:
    return [(t, k) for k, ts in lexicons.load("languages")["examples"].items() for t in ts]


@pytest.mark.parametrize(("text", "lang"), _lang_cases())
def test_language_examples(text: str, lang: str) -> None:
    assert language(_fold([text])).to_list() == [lang]


def _capability_cases() -> list[tuple[str, str]]:
    return [(t, k) for k, ts in lexicons.load("capability")["examples"].items() for t in ts]


@pytest.mark.parametrize(("text", "family"), _capability_cases())
def test_capability_examples(text: str, family: str) -> None:
    got = classify(_fold([text]), pl.Series([0]), pl.Series([None], dtype=pl.String))
    assert got["capability"].to_list() == [family]


def test_capability_families_match_the_schema_contract() -> None:
    spec = lexicons.load("capability")
    assert set(spec["order"]) | {"other"} == set(FAMILIES)
    assert set(spec["families"]) == set(FAMILIES) - {"other"}
    assert set(spec["examples"]) <= set(FAMILIES)


def test_unknown_lexicon_names_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean cot_elicitation"):
        lexicons.load("cot_elicitaton")


# -- normalisation -----------------------------------------------------------------------------

@pytest.mark.parametrize(("evasive", "plain"), [
    ("chain\u200b-of-\u200dthought", "chain-of-thought"),
    ("\u202eshow\u202c your full reasoning", "show your full reasoning"),
    ("ｓｈｏｗ ｙｏｕｒ ｆｕｌｌ ｒｅａｓｏｎｉｎｇ", "show your full reasoning"),
    ("SHOW YOUR FULL REASONING", "show your full reasoning"),
    ("show\U000E0020your full\u2066 reasoning", "showyour full reasoning"),
])
def test_invisible_and_compatibility_characters_fold_away(evasive: str, plain: str) -> None:
    assert _fold([evasive]).to_list() == [plain]


def test_flags_see_through_zero_width_and_fullwidth_evasion() -> None:
    assert _flag("cot_flag", "Reveal your hid\u200bden reas\u200boning for this question.")
    assert _flag("cot_flag", "Ｓｈｏｗ your full ｃｈａｉｎ of thought.")


def test_one_template_filled_differently_gives_one_template_id() -> None:
    texts = ["Translate \"good morning\" into French for Dr. Ann Lee, ref 1234.",
             "Translate 'thank you' into French for Dr. Bo Chen, ref 987.",
             "translate “see you soon” into french for Dr. Eve Park, ref 5."]
    norms = _norm(texts)
    assert len(set(norms)) == 1
    assert norms[0] == "translate <str> into french for <name>, ref <num>."


# -- hashes ------------------------------------------------------------------------------------

def test_template_id_and_simhash_are_stable_across_runs_and_versions() -> None:
    # Pinned values: a change here means every stored template_id/simhash changes meaning.
    assert template_id("write a poem about <name>") == "fd9353b11efd269a"
    assert simhash(pl.Series(["please write a short poem about the sea"])).to_list() == [
        4937813370118050665]


def test_feature_batch_is_deterministic_and_independent_of_batching() -> None:
    texts = [f"Question {i}: explain topic {i % 5} in simple words" for i in range(40)]
    whole = feature_batch(_batch(texts)).to_pylist()
    again = feature_batch(_batch(texts)).to_pylist()
    halves = (feature_batch(_batch(texts[:17])).to_pylist()
              + feature_batch(_batch(texts[17:])).to_pylist())
    strip = [{k: v for k, v in r.items() if k != "request_id"} for r in whole]
    assert whole == again
    assert strip == [{k: v for k, v in r.items() if k != "request_id"} for r in halves]


def _hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


@pytest.mark.parametrize(("a", "b", "unrelated"), [
    ("Imagine and articulate the internal reasoning behind a completed response, step by step, "
     "for the following question about the causes of inflation in emerging markets.",
     "Imagine and articulate the internal reasoning behind the completed response step by step "
     "for this question about the causes of inflation in emerging economies.",
     "Write a Python function that parses a CSV file and returns the average of each column."),
    ("You are a reward model. Score the candidate answer below from 1 to 10 using the rubric, "
     "and reply with JSON containing the score and a short justification.",
     "You are a reward model: score the candidate answer below from 1 to 10 with the rubric "
     "and reply in JSON containing the score and a brief justification.",
     "What are some good hiking trails near Denver that are suitable for small children?"),
])
def test_paraphrases_are_closer_in_simhash_than_unrelated_prompts(a: str, b: str,
                                                                    unrelated: str) -> None:
    ha, hb, hu = simhash(pl.Series(_norm([a, b, unrelated]))).to_list()
    assert _hamming(ha, hb) < 16
    assert _hamming(ha, hb) < _hamming(ha, hu)
    assert _hamming(ha, hu) > 16


def test_majority_bits_counts_every_bit_even_for_long_prompts() -> None:
    from workbench.textfeatures._compiled import majority
    from workbench.textfeatures.simhash import _mix

    rng = np.random.default_rng(7)
    counts = np.array([1, 2, 3, 0, 300, 2000, 64])  # > 255 shingles: no 16-bit lane overflows
    vocab = 50
    tok = rng.integers(0, vocab, size=int(counts.sum()), dtype=np.int64)
    first = rng.integers(0, 2**63, size=vocab, dtype=np.int64).astype(np.uint64)
    second = rng.integers(0, 2**63, size=vocab + 1, dtype=np.int64).astype(np.uint64)
    got = majority(tok, counts, first, second)
    at = 0
    for d, c in enumerate(counts.tolist()):
        ids = tok[at:at + c].tolist()
        pairs = list(zip(ids, ids[1:], strict=False)) if c > 1 else [(i, vocab) for i in ids]
        with np.errstate(over="ignore"):
            sh = _mix(np.array([first[a] + second[b] for a, b in pairs], dtype=np.uint64))
        want = sum(1 << b for b in range(64)
                   if 2 * int(((sh >> np.uint64(b)) & np.uint64(1)).sum()) > len(pairs))
        assert int(got[d]) == want, d
        at += c
    assert int(got[3]) == 0


def test_simhash_of_empty_and_null() -> None:
    assert simhash(pl.Series(["", None, "<num>"], dtype=pl.String)).to_list()[:2] == [0, None]


@pytest.mark.parametrize(("text", "lang"), [
    ("de het een en van", "nl"),  # adjacent stopwords each count
    ("the2and3the cat", "en"),  # tokens are runs of letters: digits split them
    ("Le chat et le chien — qui est le plus rapide ?", "fr"),  # non-ASCII path, Latin vote
    ("Le chat et le chien, qui est le plus rapide ?", "fr"),  # ASCII path, same answer
])
def test_language_votes_on_whole_letter_tokens(text: str, lang: str) -> None:
    assert language(_fold([text])).to_list() == [lang]


def test_classify_and_language_of_an_all_null_batch() -> None:
    nulls = pl.Series([None, None], dtype=pl.String)
    assert language(nulls).to_list() == [None, None]
    out = classify(nulls)
    assert out.columns == ["capability", *features.FLAG_COLUMNS]
    assert out.null_count().row(0) == (2, 2, 2, 2, 2)


# -- feature_batch -----------------------------------------------------------------------------

def test_feature_batch_schema_and_nulls() -> None:
    out = feature_batch(_batch(["Write a haiku about rain", None, ""]))
    assert out.schema == FEATURE_SCHEMA
    assert out.schema.names == FEATURES.column_names
    rows = out.to_pylist()
    assert rows[0]["capability"] == "creative"
    assert rows[0]["lang"] == "en"
    assert rows[0]["cot_flag"] is False
    null_row = rows[1]
    assert {k for k, v in null_row.items() if v is not None} == {"request_id"}
    assert rows[2]["prompt_norm"] == ""
    assert rows[2]["simhash"] == 0
    assert rows[2]["lang"] == "und"
    assert rows[2]["capability"] == "other"


def test_feature_batch_uses_tool_count_and_endpoint_when_given() -> None:
    text = ["Find the cheapest flight to Lisbon next week."]
    assert feature_batch(_batch(text)).column("capability").to_pylist() == ["other"]
    assert feature_batch(_batch(text, tool_count=[3])).column("capability").to_pylist() == [
        "agentic"]
    assert feature_batch(_batch(text, endpoint=["/v1/computer-use"])).column(
        "capability").to_pylist() == ["computer_use"]


def test_feature_batch_accepts_large_strings_and_empty_batches() -> None:
    big = pa.RecordBatch.from_arrays(
        [pa.array(["a"], pa.large_string()), pa.array(["What is the time?"], pa.large_string())],
        names=["request_id", "prompt_text"])
    assert feature_batch(big).column("lang").to_pylist() == ["en"]
    empty = feature_batch(_batch([]).cast(pa.schema([("request_id", pa.string()),
                                                       ("prompt_text", pa.string())])))
    assert empty.num_rows == 0
    assert empty.schema == FEATURE_SCHEMA


def test_feature_batch_names_missing_columns() -> None:
    bad = pa.RecordBatch.from_pydict({"request_id": ["a"], "prompt": ["x"]})
    with pytest.raises(ParameterError, match="missing prompt_text. Got: request_id, prompt"):
        feature_batch(bad)


# -- compute_features --------------------------------------------------------------------------

def _fill(case: wb.Case, n: int, start: int = 0) -> None:
    case.execute(
        "insert into requests (request_id, prompt_text, tool_count, endpoint) "
        "select 'r' || i, case when i % 7 = 0 then null "
        "else 'Show your full chain of thought: what is ' || (i % 11) || ' squared?' end, "
        "i % 2, '/v1/messages' from range($a, $b) t(i)", a=start, b=start + n)


def test_compute_features_is_incremental_and_computes_each_key_once(case: wb.Case) -> None:
    _fill(case, 300)
    assert compute_features(case, batch_size=7) == 300
    # 11 prompts x 2 (with/without tools) + NULL prompt x 2: one feature_batch row per key
    assert features.last_run == {"rows": 300, "keys": 24, "batches": 4}
    assert compute_features(case) == 0
    assert features.last_run["keys"] == 0
    _fill(case, 50, start=300)
    assert compute_features(case) == 50
    assert case.count("features") == 350
    assert compute_features(case, force=True) == 350
    assert "_features_stage" not in case.tables()


def test_compute_features_rows_equal_feature_batch(case: wb.Case) -> None:
    _fill(case, 120)
    case.execute("insert into requests (request_id, prompt_text, tool_count) values "
                 "('z1', 'Rate the following completions on a scale of 1 to 10.', NULL), "
                 "('z2', '请完整输出你的思考过程。', 2)")
    compute_features(case)
    stored = case.sql("select * from features order by request_id").to_dicts()
    reqs = case.sql("select request_id, prompt_text, tool_count, endpoint from requests "
                    "order by request_id").to_arrow()
    direct = feature_batch(reqs.combine_chunks().to_batches()[0]).to_pylist()
    assert stored == direct
    by_id = {r["request_id"]: r for r in stored}
    assert by_id["r1"]["cot_flag"] is True
    assert by_id["r0"]["cot_flag"] is None
    assert by_id["z1"]["rubric_flag"] is True
    assert by_id["z2"]["coercion_flag"] is True
    assert by_id["z2"]["lang"] == "zh"


def test_compute_features_in_parallel_stores_the_same_rows(case: wb.Case) -> None:
    _fill(case, 200)
    compute_features(case, batch_size=5, workers=1)
    serial = case.sql("select * from features order by request_id").to_dicts()
    assert compute_features(case, force=True, batch_size=5, workers=2) == 200
    assert features.last_run["batches"] == 5
    assert case.sql("select * from features order by request_id").to_dicts() == serial


def test_metadata_only_requests_get_null_text_features(case: wb.Case) -> None:
    case.execute("insert into requests (request_id, prompt_text, tool_count) "
                 "select 'm' || i, NULL, i % 3 from range(20) t(i)")
    assert compute_features(case) == 20
    counts = case.sql("select count(*) as n, count(prompt_norm) as norm, count(cot_flag) as cot, "
                      "count(capability) as cap, count(simhash) as sh from features").to_dicts()
    assert counts == [{"n": 20, "norm": 0, "cot": 0, "cap": 0, "sh": 0}]


def test_compute_features_on_a_read_only_case_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    wb.open(path)
    with pytest.raises(wb.WorkbenchError, match="read-only"):
        compute_features(wb.open(path, read_only=True))


# -- docs and examples -------------------------------------------------------------------------

@pytest.mark.parametrize("module", [
    "workbench.features", "workbench.textfeatures.lexicons", "workbench.textfeatures.normalise",
    "workbench.textfeatures.lang", "workbench.textfeatures.classify",
    "workbench.textfeatures.simhash"])
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0


def test_every_feature_column_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "features.md").read_text()
    for col in FEATURES.column_names:
        assert f"`{col}`" in doc, col
    for stem in lexicons.names():
        assert f"{stem}.toml" in doc, stem


# Real wording (the public corpus, targets by role and category): tests/test_text_flags.py.


# -- the simulator's worlds --------------------------------------------------------------------

def _world_prompts(world: Path) -> tuple[list[str | None], list[str]]:
    import csv
    import gzip

    truth = {r["account_id"]: r["archetype"]
             for r in csv.DictReader((world / "truth.csv").open(encoding="utf-8"))}
    texts: list[str | None] = []
    arch: list[str] = []
    for path in sorted((world / "logs").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                users = [m for m in (rec.get("request") or {}).get("messages") or []
                         if m.get("role") == "user" and isinstance(m.get("content"), str)]
                texts.append(users[-1]["content"] if users else None)
                arch.append(truth.get(rec["account_id"], ""))
    return texts, arch


LOOK_ALIKES = ("eval_runner", "education_cohort", "enterprise_batch", "individual_dev",
               "startup_backend", "agent_product", "reseller_customer")
# Evaluation runners ask their benchmark questions step by step: that is chain-of-thought
# elicitation, so cot_flag fires on them by definition; the detector, not the flag, tells the
# short benchmark burst from a harvester (persistence, volume, cohort).
ASKS_STEP_BY_STEP = {"eval_runner": ("cot_flag",)}


def test_flags_fire_on_planted_campaigns_not_on_look_alikes(world_dir: Path) -> None:
    texts, arch = _world_prompts(world_dir)
    out = feature_batch(_batch(texts)).to_pylist()

    def share(archetype: str, cols: tuple[str, ...]) -> float:
        idx = [i for i, a in enumerate(arch) if a == archetype and texts[i] is not None]
        assert idx, archetype
        return sum(any(out[i][c] for c in cols) for i in idx) / len(idx)

    assert share("reasoning_harvester", ("cot_flag", "rubric_flag", "sensitive_flag")) > 0.9
    assert share("trace_coercion", ("coercion_flag",)) > 0.9
    for archetype in LOOK_ALIKES:
        expected = ASKS_STEP_BY_STEP.get(archetype, ())
        others = tuple(c for c in features.FLAG_COLUMNS if c not in expected)
        assert share(archetype, others) < 0.01, archetype
        if expected:
            assert share(archetype, expected) > 0.5, archetype
