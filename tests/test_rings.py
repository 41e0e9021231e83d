"""Crowded groups are rings: pairs formed grow with a group's accounts, not their square.

Every link kind, and the two coordination detectors, pair the accounts of a shared value (a
card, a prefix-hour, an action) in full only up to `2 x neighbours + 1` of them; a larger group
ties each account to its `neighbours` successors on a ring ordered by the MD5 of the account id.
These tests build one crowded group and one small group, count the pairs formed (edges, or
partners in a detector's evidence), and read DuckDB's profile for the rows each query moves on
a crowd and on a crowd twice its size: linear with the ring, quadratic without it. No clock is
read.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import polars as pl
import pytest
from _campaign_world import World

import workbench as wb
from workbench.catalogue import detectors
from workbench.linking import link_queries

K = 2  # ring neighbours on each side: a group of more than 5 accounts is already a ring
SMALL = 2 * K + 1  # the largest group still paired in full
CROWD = 40
HOURS = [10, 11, 12, 13, 14, 15]
TEMPLATES = ["t0", "t1", "t2", "t3"]
# Work on a crowd twice as large over work on the crowd: ~2 when linear, ~4 when quadratic.
MAX_GROWTH = 2.6


def _simhash(*parts: str) -> int:
    return int.from_bytes(hashlib.md5("|".join(parts).encode()).digest()[:8]) >> 1


def _md5(account: str) -> str:
    return hashlib.md5(account.encode()).hexdigest()


def crowd_world(n: int, small: int = SMALL) -> wb.Case:
    """`n` accounts `c..` and `small` accounts `s..` that share, within their group, every
    value a link kind or coordination detector pairs on: a card, a system prompt, a tool set,
    an IP prefix in the same hours, templates and one request shape in those hours, SimHash
    bands on those days, and sign-up within one minute on one domain."""
    w = World()
    rows: list[dict[str, Any]] = []
    for group, size in (("c", n), ("s", small)):
        for i in range(size):
            acct = f"{group}{i:03d}"
            w.account(acct, payment=f"card-{group}", created_h=i / 3600, domain=f"{group}.example")
            w.traffic(acct, [f"{group}-{t}" for t in TEMPLATES], HOURS, prefix=f"10.0.{group}",
                      system_hash=f"sys-{group}", client=f"bot/{group}",
                      simhashes=[_simhash(group, t) for t in TEMPLATES])
    for r in w.requests:
        rows.append({"request_id": r["request_id"],
                     "tool_names": ["search", "fetch", r["account_id"][0]]})
    case = w.into(wb.open())
    with case.connect(write=True) as con:
        con.register("_tools", pl.DataFrame(rows))
        con.execute("UPDATE requests SET tool_names = t.tool_names FROM _tools AS t "
                    "WHERE t.request_id = requests.request_id")
        con.unregister("_tools")
    return case


# Per kind, the params that make the hand-made groups count (thresholds low enough for a few
# shared hours, degree caps high enough for the crowd).
LINK_PARAMS: dict[str, dict[str, Any]] = {
    "payment": {},
    "system_prompt": {"max_degree": 200},
    "tool_schema": {},
    "ip_prefix_hour": {},
    "signup_burst": {"min_burst": 2},
    "sync_activity": {"min_shared": 3},
    "sync_shape": {"min_shared": 3},
    "lockstep_template": {"min_templates": 3},
    "near_duplicate": {"max_degree": 200, "min_shared": 3},
}


@pytest.fixture(scope="module")
def worlds() -> dict[int, wb.Case]:
    return {n: crowd_world(n) for n in (CROWD, 2 * CROWD)}


def edges(case: wb.Case, kind: str, neighbours: int) -> pl.DataFrame:
    q = link_queries()[kind]
    return case.sql(q.sql, **q.bind({**LINK_PARAMS[kind], "neighbours": neighbours}))


def per_group(df: pl.DataFrame, column: str = "src") -> Counter[str]:
    return Counter(s[0] for s in df[column].to_list())


def work(case: wb.Case, sql: str, params: dict[str, Any]) -> int:
    """Rows through every operator of one query, from DuckDB's profile."""
    with case.connect() as con:
        plan = json.loads(con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql,
                                      params).fetchall()[0][1])
    rows, stack = 0, list(plan["operator"])
    while stack:
        op = stack.pop()
        rows += int(op.get("intermediate_rows") or 0)
        stack.extend(op.get("children", []))
    return rows


def test_every_link_kind_and_coordination_detector_declares_neighbours() -> None:
    assert set(LINK_PARAMS) == set(link_queries())
    for kind, q in link_queries().items():
        assert "neighbours" in q.params, kind
        assert "neighbours" in q.description, kind
    for name in ("synchronised_activity", "lockstep_templates"):
        assert "neighbours" in detectors()[name].defaults(), name


@pytest.mark.parametrize("kind", sorted(LINK_PARAMS))
def test_a_small_group_is_paired_in_full_and_a_crowd_on_a_ring(worlds: dict[int, wb.Case],
                                                                kind: str) -> None:
    df = edges(worlds[CROWD], kind, K)
    pairs = per_group(df)
    assert pairs["s"] == SMALL * (SMALL - 1) // 2  # all pairs of the small group
    # the crowd: each account tied to K successors, so K pairs per account, where the full
    # group would have CROWD * (CROWD - 1) / 2
    degree = Counter(df.filter(pl.col("src").str.starts_with("c"))["src"].to_list()
                     + df.filter(pl.col("dst").str.starts_with("c"))["dst"].to_list())
    if kind == "signup_burst":  # a chain in sign-up order: the last K have fewer successors
        assert pairs["c"] == K * CROWD - K * (K + 1) // 2
        assert max(degree.values()) == 2 * K
    else:  # a ring: every account has K successors and K predecessors
        assert pairs["c"] == K * CROWD
        assert set(degree.values()) == {2 * K}
    assert df.filter(pl.col("src").str.slice(0, 1) != pl.col("dst").str.slice(0, 1)).is_empty()


@pytest.mark.parametrize("kind", sorted(LINK_PARAMS))
def test_a_crowd_keeps_the_full_groups_weights(worlds: dict[int, wb.Case], kind: str) -> None:
    ring = edges(worlds[CROWD], kind, K)
    full = edges(worlds[CROWD], kind, CROWD)  # neighbours past the crowd: the full group
    assert per_group(full)["c"] == CROWD * (CROWD - 1) // 2
    joined = ring.join(full, on=["src", "dst", "value"], how="left", suffix="_full")
    assert joined["weight_full"].null_count() == 0  # every ring pair is a pair of the group
    assert (joined["weight"] - joined["weight_full"]).abs().max() < 1e-12


@pytest.mark.parametrize("kind", sorted(LINK_PARAMS))
def test_link_work_grows_linearly_with_a_crowd_only_with_the_ring(worlds: dict[int, wb.Case],
                                                                 kind: str) -> None:
    q = link_queries()[kind]
    growth = {}
    for neighbours in (K, 10 * CROWD):
        params = q.bind({**LINK_PARAMS[kind], "neighbours": neighbours})
        small, big = (work(worlds[n], q.sql, params) for n in (CROWD, 2 * CROWD))
        growth[neighbours] = big / small
    assert growth[K] <= MAX_GROWTH, growth
    assert growth[10 * CROWD] > MAX_GROWTH, growth  # the full group: quadratic, so it shows


def lockstep_world(n: int) -> wb.Case:
    """`n` accounts that start the same templates within a minute of each other."""
    w = World()
    for i in range(n):
        acct = f"c{i:03d}"
        w.account(acct, payment=f"card-{acct}")
        for j in range(12):
            w.traffic(acct, [f"lock-{j}"], [j], minute=(i % 2))
    return w.into(wb.open())


def sync_world(n: int) -> wb.Case:
    """`n` accounts acting on the same templates in the same hours, for many hours."""
    w = World()
    for i in range(n):
        acct = f"c{i:03d}"
        w.account(acct, payment=f"card-{acct}")
        w.traffic(acct, ["a", "b"], list(range(12)), client=f"own/{acct}")
    return w.into(wb.open())


COORDINATION = {
    "synchronised_activity": (sync_world, {"full_partners": 2 * K}),
    "lockstep_templates": (lockstep_world, {"full_templates": 12, "full_partners": 2 * K}),
}


@pytest.mark.parametrize("name", sorted(COORDINATION))
def test_coordination_detector_compares_a_crowd_on_a_ring(name: str) -> None:
    build, params = COORDINATION[name]
    det = detectors()[name]
    for neighbours, partners in ((K, 2 * K), (CROWD, CROWD - 1)):
        case = build(CROWD)
        rows = case.sql(det.sql, **det.bind({**params, "neighbours": neighbours}))
        assert rows.height == CROWD, neighbours
        found = {json.loads(e)["partners"] if isinstance(e, str) else e["partners"]
                 for e in rows["evidence"].to_list()}
        assert found == {partners}, neighbours
        # partners beyond full_partners add nothing: the crowd scores as the full group does
        assert rows["score"].min() == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(COORDINATION))
def test_coordination_work_grows_linearly_with_a_crowd(name: str) -> None:
    build, params = COORDINATION[name]
    det = detectors()[name]
    small, big = build(CROWD), build(2 * CROWD)
    growth = {}
    for neighbours in (K, 10 * CROWD):
        bound = det.bind({**params, "neighbours": neighbours})
        growth[neighbours] = work(big, det.sql, bound) / work(small, det.sql, bound)
    assert growth[K] <= MAX_GROWTH, growth
    assert growth[10 * CROWD] > MAX_GROWTH, growth


def test_a_pair_undercounted_on_the_ring_is_counted_again_in_full() -> None:
    """Two accounts that always act together, in hours crowded by strangers who come and go,
    are ring neighbours only in some hours; their Jaccard is still the exact one."""
    w = World()
    hours = list(range(12))
    for acct in ("p0", "p1"):
        w.account(acct, payment=f"card-{acct}")
        w.traffic(acct, ["shared"], hours, client=f"own/{acct}")
    crowds = {}
    for h in hours:
        crowds[h] = [f"x{h:02d}{i}" for i in range(8)]  # a different crowd each hour
        for acct in crowds[h]:
            w.account(acct, payment=f"card-{acct}")
            w.traffic(acct, ["shared"], [h], client=f"own/{acct}")
            w.traffic(acct, [f"own-{acct}-{j}" for j in range(3)], [h + 20], client=f"own/{acct}")
    case = w.into(wb.open())
    k = 3

    def apart(h: int) -> int:  # ring distance of p0 and p1 among the hour's accounts
        ring = sorted(["p0", "p1", *crowds[h]], key=_md5)
        d = abs(ring.index("p0") - ring.index("p1"))
        return min(d, len(ring) - d)

    missed = [h for h in hours if apart(h) > k]
    assert 0 < len(missed) < len(hours) - 3  # on the ring in most hours, not in all
    q = link_queries()["sync_activity"]
    for neighbours in (k, 100):
        df = case.sql(q.sql, **q.bind({"neighbours": neighbours}))
        pair = df.filter((pl.col("src") == "p0") & (pl.col("dst") == "p1"))
        assert pair["weight"].to_list() == [1.0], neighbours  # 12 shared of 12 each


def test_ring_order_is_the_md5_of_the_account_id() -> None:
    """The ring is the same in every group, and on every engine: MD5 of the id, not DuckDB's
    own hash."""
    case = crowd_world(12, small=0)
    q = link_queries()["payment"]
    df = case.sql(q.sql, **q.bind({"neighbours": 1}))
    order = sorted((f"c{i:03d}" for i in range(12)), key=_md5)
    ring = {tuple(sorted((order[i], order[(i + 1) % 12]))) for i in range(12)}
    assert set(zip(df["src"], df["dst"], strict=True)) == ring


def test_signup_burst_ties_each_account_of_a_large_burst_to_its_next_signups() -> None:
    w = World()
    for i in range(10):
        w.account(f"a{i}", created_h=i / 60)  # one a minute
    case = w.into(wb.open())
    q = link_queries()["signup_burst"]
    df = case.sql(q.sql, **q.bind({"neighbours": 2, "min_burst": 2}))
    got = set(zip(df["src"], df["dst"], strict=True))
    assert got == {(f"a{i}", f"a{j}") for i in range(10) for j in (i + 1, i + 2) if j < 10}
