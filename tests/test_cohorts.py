"""Cohorts: who is grouped with whom, what a cohort finding reaches, and how a lead names it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import polars as pl
import pytest

import workbench as wb
from workbench.cohorts import build_cohorts, build_profiles
from workbench.config import RiskConfig

T0 = datetime(2026, 2, 1)


def _requests(case: wb.Case, rows: list[dict]) -> None:
    frame = pl.DataFrame(rows)
    with case.connect(write=True) as con:
        con.register("r", frame)
        con.execute("insert into requests by name select * replace (ts::TIMESTAMPTZ as ts) "
                    "from r")
        con.unregister("r")


def _accounts(case: wb.Case, rows: list[dict]) -> None:
    with case.connect(write=True) as con:
        con.register("a", pl.DataFrame(rows))
        con.execute("insert into accounts by name select * from a")
        con.unregister("a")


def _traffic(account: str, n: int, prefix: str = "10.0.0.0/24") -> list[dict]:
    return [{"request_id": f"{account}-{i}", "account_id": account, "ip_prefix": prefix,
             "ts": T0 + timedelta(minutes=i), "user_agent": "sdk/1", "access_path": "direct"}
            for i in range(n)]


def _judged(con: duckdb.DuckDBPyConnection, cohort: str, score: float,
            evidence: dict) -> None:
    """A cohort_harvest finding on `cohort`, as a run of the detector would write it."""
    con.execute("""insert into findings (run_id, detector, ran_at, level, entity_type,
                   entity_id, score, evidence)
                   values ('r1', 'cohort_harvest', now(), 'high', 'cohort', $c, $s, $e)""",
                {"c": cohort, "s": score, "e": json.dumps(evidence)})


def _members(case: wb.Case, kind: str) -> dict[str, set[str]]:
    df = case.sql("select cohort_id, account_id from cohorts where kind = $k", k=kind)
    out: dict[str, set[str]] = {}
    for cid, acct in df.iter_rows():
        out.setdefault(cid, set()).add(acct)
    return out


def test_shared_values_make_cohorts_within_size_bounds(case: wb.Case) -> None:
    rows = [r for i in range(4) for r in _traffic(f"card{i}", 5)]
    _requests(case, rows)
    _accounts(case, [{"account_id": f"card{i}", "payment_fingerprint": "pf_1"} for i in range(4)]
              + [{"account_id": "lone", "payment_fingerprint": "pf_2"}])
    cfg = RiskConfig.load()
    with case.connect(write=True) as con:
        build_profiles(con)
        build_cohorts(con, cfg)
    assert _members(case, "payment") == {"payment:pf_1": {f"card{i}" for i in range(4)}}
    # a hub larger than max_accounts ties nothing
    with case.connect(write=True) as con:
        build_cohorts(con, cfg.replace("cohorts.max_accounts", 3))
    assert _members(case, "payment") == {}


def test_a_prefix_counts_only_where_it_carries_a_real_share(case: wb.Case) -> None:
    rows = []
    for i in range(3):
        rows += _traffic(f"home{i}", 40, "10.0.0.0/24")
    rows += _traffic("visitor", 100, "192.168.1.0/24")
    rows += [{**r, "request_id": r["request_id"] + "x", "ip_prefix": "10.0.0.0/24"}
             for r in _traffic("visitor", 2)]  # two requests through the shared prefix
    _requests(case, rows)
    with case.connect(write=True) as con:
        build_profiles(con)
        build_cohorts(con, RiskConfig.load())
    assert _members(case, "ip_prefix") == {"ip_prefix:10.0.0.0/24": {"home0", "home1", "home2"}}


def test_a_seat_of_a_few_requests_is_in_the_prefix_it_sent_them_from(case: wb.Case) -> None:
    # a hydra seat lives for one or two requests, all through the proxy's exits: it is in
    # their cohorts as a full-time member is; a large account's two stray requests are not
    rows = [r for i in range(3) for r in _traffic(f"seat{i}", 20, "10.0.0.0/24")]
    rows += _traffic("one", 1, "10.0.0.0/24")
    rows += _traffic("two", 1, "10.0.0.0/24") + [
        {**r, "request_id": "two-b", "ip_prefix": "10.9.9.0/24"} for r in _traffic("two", 1)]
    rows += _traffic("big", 60, "192.168.1.0/24") + [
        {**r, "request_id": r["request_id"] + "x", "ip_prefix": "10.0.0.0/24"}
        for r in _traffic("big", 2)]
    _requests(case, rows)
    with case.connect(write=True) as con:
        build_profiles(con)
        build_cohorts(con, RiskConfig.load())
    assert _members(case, "ip_prefix")["ip_prefix:10.0.0.0/24"] == {
        "seat0", "seat1", "seat2", "one", "two"}


def test_a_cohort_judged_as_one_group_is_one_campaign_at_the_link_bar(case: wb.Case) -> None:
    # the members of a cohort finding at link_min_score or above are tied into one campaign,
    # even when the finding is a modest one (nothing else ties these accounts)
    seats = [f"seat{i:02d}" for i in range(12)]
    _requests(case, [r for a in seats for r in _traffic(a, 2, f"10.0.{a[-2:]}.0/24")])
    bar = RiskConfig.load().cohorts.link_min_score
    with case.connect(write=True) as con:
        _judged(con, "ip_prefix:10.1.0.0/24", bar + 0.05,
                {"kind": "ip_prefix", "value": "10.1.0.0/24", "members": seats})
    wb.link(case)
    leads = wb.leads(case)
    assert set(leads["account_id"]) == set(seats)
    assert leads["campaign_id"].n_unique() == 1
    assert leads["campaign_id"][0] is not None


def test_a_cards_cohort_is_not_tied_twice(case: wb.Case) -> None:
    # the card ties its members already (link kind payment); an exit prefix's cohort ties anew
    from workbench.linking import cohort_links
    groups = {"payment:pf_x": ["m1", "m2", "m3", "m4"],
              "ip_prefix:10.0.0.0/24": ["p1", "p2", "p3", "p4"]}
    _requests(case, [r for g in groups.values() for a in g for r in _traffic(a, 3)])
    with case.connect(write=True) as con:
        for cohort, members in groups.items():
            _judged(con, cohort, 0.9, {"members": members})
        cohort_links(con, RiskConfig.load())
        values = {v for (v,) in con.execute(
            "select distinct value from account_links where kind = 'cohort'").fetchall()}
    assert values == {"ip_prefix:10.0.0.0/24"}


def test_linking_communities_are_cohorts(case: wb.Case) -> None:
    _requests(case, [r for a in ("a", "b", "c") for r in _traffic(a, 3)])
    with case.connect(write=True) as con:
        build_profiles(con)
        con.execute("create temp table _member as select * from (values ('a', 'cmp-x'), "
                    "('b', 'cmp-x'), ('c', 'cmp-x')) t(account_id, campaign_id)")
        build_cohorts(con, RiskConfig.load())
    assert _members(case, "community") == {"community:cmp-x": {"a", "b", "c"}}


def test_a_cohort_finding_reaches_the_members_it_names_and_the_lead_names_it(
        case: wb.Case) -> None:
    _requests(case, [r for a in ("m1", "m2", "m3", "bystander") for r in _traffic(a, 3)])
    with case.connect(write=True) as con:
        _judged(con, "payment:pf_x", 1.0,
                {"kind": "payment", "value": "pf_x", "members": ["m1", "m2", "m3"]})
    wb.link(case)
    leads = wb.leads(case)
    assert set(leads["account_id"]) == {"m1", "m2", "m3"}
    reasons = json.loads(leads["reasons"][0])
    assert reasons["detectors"][0]["via"] == "cohort:payment:pf_x"
    assert reasons["specific_risk"] == pytest.approx(0.9)  # cohort_harvest is specific
