"""Work counts that must not grow: a guard against a stage quietly turning quadratic.

The pipeline runs on a simulated world of about 50,000 requests and on its first half by time
(same accounts, half the traffic). For every detector and every link query, DuckDB's own
profile (`EXPLAIN (ANALYZE, FORMAT JSON)`) gives the number of scans of each table and the rows
that flowed through every operator. A linear query does about twice the work on twice the
data; a quadratic one (an unbounded self-join, a per-row subquery) about four times. No clock
is read: only counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.features import compute_features

REQUESTS = 50_000
# Scans of `requests` one detector or link query may make. Most need one or two; three is the
# most any needs today (e.g. per-hour and per-gap statistics joined back together).
MAX_REQUEST_SCANS = 3
# Work on the whole world over work on its first half: ~2 when linear, ~4 when quadratic.
MAX_GROWTH = 2.6


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> wb.Case:
    from workbench.simulator import simulate

    root = tmp_path_factory.mktemp("scale")
    world = root / "world"
    simulate(world, accounts=300, days=6, seed=23, requests=REQUESTS)
    case = wb.open(root / "full.duckdb")
    wb.load(case, sorted((world / "logs").glob("*.jsonl.gz")), accounts=world / "accounts.csv",
              releases=world / "releases.csv", progress=False)
    return case


@pytest.fixture(scope="module")
def features_runs(full: wb.Case) -> list[dict[str, int]]:
    from workbench import features

    runs = []
    for _ in range(2):
        compute_features(full)
        runs.append(dict(features.last_run))
    return runs


@pytest.fixture(scope="module")
def half(full: wb.Case, features_runs: list[dict[str, int]]) -> wb.Case:
    """The first half (by time) of the same world, with the same accounts and features."""
    assert full.path is not None
    case = wb.open()
    with case.connect(write=True) as con:
        con.execute(f"ATTACH '{full.path}' AS src (READ_ONLY)")
        con.execute("insert into requests select * from src.requests where ts < "
                    "(select min(ts) + (max(ts) - min(ts)) / 2 from src.requests)")
        con.execute("insert into features select f.* from src.features as f "
                    "semi join requests as r using (request_id)")
        for table in ("accounts", "model_releases"):
            con.execute(f"insert into {table} select * from src.{table}")
        con.execute("DETACH src")
    return case


def profile(case: wb.Case, sql: str, params: dict[str, Any]) -> tuple[dict[str, int], int]:
    """(scans per table, rows through all operators) of one query, from DuckDB's profile."""
    with case.connect() as con:
        plan = json.loads(con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql,
                                      params).fetchall()[0][1])
    scans: dict[str, int] = {}
    rows = 0
    stack = list(plan["operator"])
    while stack:
        op = stack.pop()
        rows += int(op.get("intermediate_rows") or 0)
        if op.get("type") == "TABLE_SCAN":
            table = str(op["extra_info"].get("Table", "")).rsplit(".", 1)[-1]
            scans[table] = scans.get(table, 0) + 1
        stack.extend(op.get("children", []))
    return scans, rows


def _queries() -> list[tuple[str, str, dict[str, Any]]]:
    from workbench.catalogue import detectors
    from workbench.linking import link_queries

    out = [(name, d.sql, d.defaults()) for name, d in sorted(detectors().items())
           if d.header["status"] != "deprecated"]
    out += [(f"link:{k}", q.sql.rstrip().rstrip(";"), q.bind())
            for k, q in sorted(link_queries().items())]
    return out


def test_world_is_the_size_the_guard_assumes(full: wb.Case, half: wb.Case) -> None:
    n = full.count("requests")
    assert 0.8 * REQUESTS <= n <= 1.2 * REQUESTS
    assert 0.35 * n <= half.count("requests") <= 0.65 * n


def test_text_features_are_computed_once(full: wb.Case,
                                         features_runs: list[dict[str, int]]) -> None:
    first, second = features_runs
    assert first["rows"] == full.count("requests")
    distinct = full.sql("select count(*) as n from (select distinct prompt_text, "
                        "coalesce(tool_count, 0) > 0, endpoint from requests)")["n"][0]
    assert first["keys"] == distinct < first["rows"]  # each distinct prompt key once
    assert second == {"rows": 0, "keys": 0, "batches": 0}


@pytest.mark.parametrize("item", _queries(), ids=lambda q: q[0])
def test_requests_are_scanned_a_bounded_number_of_times(
        full: wb.Case, features_runs: list[dict[str, int]],
        item: tuple[str, str, dict[str, Any]]) -> None:
    name, sql, params = item
    scans, _ = profile(full, sql, params)
    assert scans.get("requests", 0) <= MAX_REQUEST_SCANS, (name, scans)
    assert scans.get("features", 0) <= MAX_REQUEST_SCANS, (name, scans)


@pytest.mark.parametrize("item", _queries(), ids=lambda q: q[0])
def test_work_grows_linearly_with_traffic(full: wb.Case, half: wb.Case,
                                          item: tuple[str, str, dict[str, Any]]) -> None:
    name, sql, params = item
    _, work_full = profile(full, sql, params)
    _, work_half = profile(half, sql, params)
    assert work_full <= MAX_GROWTH * max(work_half, 1), (name, work_full, work_half)


def test_profile_counts_a_self_join_as_quadratic(tmp_path: Path) -> None:
    """The guard itself: a query that is quadratic in its input must exceed MAX_GROWTH."""
    small, big = wb.open(), wb.open()
    for case, n in ((small, 500), (big, 1000)):
        case.execute("insert into requests (request_id, account_id) "
                     "select 'r' || i, 'a' || (i % 2) from range($n) t(i)", n=n)
    sql = "select count(*) from requests a join requests b using (account_id)"
    scans, work_small = profile(small, sql, {})
    _, work_big = profile(big, sql, {})
    assert scans == {"requests": 2}
    assert work_big > MAX_GROWTH * work_small
