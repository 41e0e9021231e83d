"""The distribution test: MMD on embeddings, calibrated by population-vs-population draws."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.config import RiskConfig
from workbench.distribution import Kernel, embedder, measure_accounts

RULES = RiskConfig.load().distribution


@pytest.fixture(scope="module")
def embed() -> object:
    return embedder(RULES.embedding, RULES.max_tokens)


def test_wordllama_runs_offline_and_is_deterministic(embed: object) -> None:
    pytest.importorskip("wordllama")
    a = embed(["Solve: 12 * 7, step by step.", "write a haiku about rain"])  # type: ignore[operator]
    b = embed(["Solve: 12 * 7, step by step.", "write a haiku about rain"])  # type: ignore[operator]
    assert a.shape == (2, 256)
    assert np.array_equal(a, b)
    assert not np.allclose(a[0], a[1])


def _texts_at_every_cut(seed: int) -> list[str]:
    """Prompts whose first cut falls in a word, a run of spaces, a literal "▁", a blob without
    spaces, CJK, newlines; of every length around the two cuts."""
    import random

    rng = random.Random(seed)
    words = ["the", "quick", "brown", "fox", "▁", "▁▁", "  ", "   ", "\n", "数学", "naïve",
             "x" * 90, "def f(x):", "\t", "—", "a▁b", "😀", "12345"]
    out = []
    for _ in range(400):
        n = rng.choice([5, 50, 120, 200, 400])
        out.append("".join(rng.choice(words) + (" " if rng.random() < 0.8 else "")
                           for _ in range(n)))
    # a word across the first cut (5 characters a token x max_tokens) just after 127 tokens,
    # "the", "that" and "these" one token each: cut in the word, its first token would differ
    edge = []
    for n4 in range(0, 13):
        for n6 in range(0, 6):
            head = " ".join(["the"] * n4 + ["these"] * n6 + ["that"] * (127 - n4 - n6))
            for w in ("internationally", "supercalifragilistic", "x▁▁y"):
                edge.append(f"{head} {w}" + " more" * 80)
            # a space after a literal "▁" is no word start (to the tokenizer both are "▁")
            edge.append(head.removeprefix("that ") + " a▁ " + "b" * 40 + " more" * 80)
    return [*out, *edge, "", " ", "word", " " * 2000, "y" * 2000, "▁" * 700 + " tail"]


def test_the_short_cut_gives_the_tokens_of_the_long_one(embed: object) -> None:
    wordllama = pytest.importorskip("wordllama")
    from pathlib import Path

    import scipy.sparse as sp

    model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                     disable_download=True)
    table = np.asarray(model.embedding, dtype=np.float32)
    tok = model.tokenizer
    tok.no_padding()
    tok.enable_truncation(RULES.max_tokens)
    texts = _texts_at_every_cut(5)
    enc = tok.encode_batch([t[:8 * RULES.max_tokens] for t in texts], add_special_tokens=False)
    lens = np.array([len(e.ids) for e in enc])
    ids = np.array([i for e in enc for i in e.ids], dtype=np.int64)
    counts = sp.csr_matrix((np.ones(len(ids), np.float32), ids,
                            np.concatenate([[0], np.cumsum(lens)])),
                           shape=(len(texts), len(table)))
    want = np.asarray(counts @ table, dtype=np.float32) / np.maximum(lens, 1)[:, None]
    got = embed(texts)  # type: ignore[operator]
    assert np.array_equal(got, want.astype(np.float32))


def test_mmd_is_near_zero_for_the_same_distribution_and_large_for_another() -> None:
    rng = np.random.default_rng(1)
    population = rng.normal(0, 1, (2000, 16)).astype(np.float32)
    kernel = Kernel(population, features=512, seed=0)
    same = kernel.mmd2(kernel.map(rng.normal(0, 1, (64, 16)).astype(np.float32)))
    shifted = kernel.mmd2(kernel.map(rng.normal(1.5, 1, (64, 16)).astype(np.float32)))
    null = kernel.null(64, 200, seed=3)
    assert shifted > np.quantile(null, 0.99) > same - 0.05
    # the null's false-alarm rate at its own 99th percentile is about 1 %
    draws = [kernel.mmd2(kernel.map(rng.normal(0, 1, (64, 16)).astype(np.float32)))
             for _ in range(200)]
    assert np.mean(np.array(draws) > np.quantile(null, 0.99)) < 0.05


def _case_with(prompts: dict[str, list[str]]) -> wb.Case:
    case = wb.open()
    rows = [{"request_id": f"{a}-{i}", "account_id": a, "prompt_text": p,
             "ts": datetime(2026, 2, 1) + timedelta(minutes=i)}
            for a, ps in prompts.items() for i, p in enumerate(ps)]
    with case.connect(write=True) as con:
        con.register("r", pl.DataFrame(rows))
        con.execute("insert into requests by name select * from r")
        con.unregister("r")
    return case


def test_a_one_template_account_stands_out_and_ordinary_ones_do_not() -> None:
    rng = np.random.default_rng(0)
    words = ["garden", "recipe", "travel", "python", "poem", "weather", "history", "music",
             "budget", "email", "movie", "essay"]
    chat = {f"user{i}": [" ".join(rng.choice(words, 6)) for _ in range(40)] for i in range(60)}
    chat["pipeline"] = [f"Extract the invoice total from document {i}." for i in range(40)]
    case = _case_with(chat)
    with case.connect(write=True) as con:
        n = measure_accounts(con, RULES, embedder("hashing"))
    assert n == 61
    tests = case.sql("select * from distribution_tests order by mmd2 desc")
    assert tests["entity_id"][0] == "pipeline"
    assert tests.filter(pl.col("entity_id") == "pipeline")["p_value"][0] < 0.01
    assert tests.filter(pl.col("entity_id") == "pipeline")["percentile"][0] == 1.0
    assert tests["percentile"].is_between(0, 1).all()


def test_samples_are_bounded_per_account() -> None:
    case = _case_with({"busy": [f"question number {i} about cats" for i in range(500)],
                       **{f"u{i}": [f"hello {j} from {i}" for j in range(20)] for i in range(10)}})
    with case.connect(write=True) as con:
        measure_accounts(con, RULES, embedder("hashing"))
    busy = case.sql("select n from distribution_tests where entity_id = 'busy'")["n"][0]
    assert busy == RULES.per_account


def test_a_text_is_embedded_once_per_process(embed: object,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wordllama")
    from workbench import distribution

    texts = [f"prompt number {i} about the memo" for i in range(6)]
    before = dict(distribution.embed_counts)
    first = embed(texts)  # type: ignore[operator]
    again = embed(list(reversed(texts)))  # type: ignore[operator]
    assert np.array_equal(again, first[::-1])
    assert distribution.embed_counts["embedded"] - before["embedded"] == 6
    assert distribution.embed_counts["reused"] - before["reused"] == 6
    # a batch larger than the memo is computed, returned and not kept
    monkeypatch.setattr(distribution, "MEMO_MAX", 3)
    big = [f"another prompt, {i}" for i in range(5)]
    got = embed(big)  # type: ignore[operator]
    n = distribution.embed_counts["embedded"]
    assert np.array_equal(embed(big), got)  # type: ignore[operator]
    assert distribution.embed_counts["embedded"] == n + 5
    assert not np.allclose(got[0], got[1])
