"""Shared fixtures: an empty in-memory case, and one small simulated world built once per session.

The world is the project's own simulator output, loaded into a case file and run through
`detect()`; tests that only read it share it, tests that write make their own copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench as wb

WORLD = {"accounts": 300, "days": 6, "seed": 11}


@pytest.fixture
def case() -> Iterator[wb.Case]:
    """An empty in-memory case."""
    c = wb.open()
    yield c
    c.close()


@pytest.fixture
def planted() -> Iterator[wb.Case]:
    """The hand-made report case (tests/fixtures/report_case.sql): one planted campaign with
    adversarial text in ids, prompts, user agents and evidence, and two legitimate accounts."""
    c = wb.open()
    with c.connect(write=True) as con:
        con.execute((Path(__file__).parent / "fixtures" / "report_case.sql").read_text())
    yield c
    c.close()


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated provider world on disk (logs/, accounts.csv, releases.csv, truth.csv)."""
    from workbench.simulator import simulate

    out = tmp_path_factory.mktemp("world")
    simulate(out, **WORLD)
    return out


@pytest.fixture(scope="session")
def world_case(world_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> wb.Case:
    """The small world loaded into a case file, features computed and detectors run."""
    path = tmp_path_factory.mktemp("case") / "world.duckdb"
    c = wb.open(path)
    wb.load(c, sorted((world_dir / "logs").glob("*.jsonl.gz")), accounts=world_dir / "accounts.csv",
           releases=world_dir / "releases.csv", progress=False)
    wb.detect(c)
    return c
