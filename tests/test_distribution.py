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
