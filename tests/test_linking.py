"""Account linking: the edge files, hub down-weighting, behaviour joining split payments."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from _campaign_world import World, legit, operation

import workbench as wb
from workbench.campaigns import build_campaigns
from workbench.errors import UnknownNameError
from workbench.linking import campaign_id, link_queries, load_config, spark_sql

HOURS = list(range(10, 30))
KINDS = {"payment", "ip_prefix_hour", "sync_activity", "lockstep_template", "system_prompt",
         "signup_burst", "sync_shape", "near_duplicate"}


def members(case: wb.Case) -> dict[str, set[str]]:
    df = case.sql("select campaign_id, list(account_id order by account_id) as ids from leads "
                  "where campaign_id is not null group by 1")
    return {r["campaign_id"]: set(r["ids"]) for r in df.iter_rows(named=True)}


def test_every_kind_has_a_file_with_a_complete_header() -> None:
    assert set(link_queries()) == KINDS
    for kind, q in link_queries().items():
        assert q.title, kind
        assert q.description.startswith("Links"), kind
        assert q.weight, kind


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_link_file_params_match_the_statement(kind: str) -> None:
    q = link_queries()[kind]
    stmt = duckdb.connect().extract_statements(q.sql)
    assert len(stmt) == 1
    assert set(stmt[0].named_parameters) == set(q.params)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_link_file_binds_against_the_schema_and_returns_the_edge_columns(case: wb.Case,
                                                                         kind: str) -> None:
    q = link_queries()[kind]
    df = case.sql(q.sql, **q.bind())
    assert df.columns == ["src", "dst", "kind", "value", "weight", "evidence"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_link_file_transpiles_to_spark(kind: str) -> None:
    spark = spark_sql(kind)
    sqlglot.parse_one(spark, read="spark")  # Spark's own dialect reads it back
    assert "$" not in spark
    assert set(re.findall(r":(\w+)", spark)) == set(link_queries()[kind].params)


def test_unknown_link_kind_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean payment"):
        spark_sql("paymnet")


def test_unknown_link_param_names_the_declared_ones() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean max_degree"):
        link_queries()["payment"].bind({"max_degre": 3})


def test_edges_have_src_below_dst_and_weights_fall_with_degree(case: wb.Case) -> None:
    w = World()
    for acct in ("p1", "p2"):
        w.account(acct, payment="rare")
    for i in range(30):
        w.account(f"q{i:02d}", payment="common")
    w.into(case)
    build_campaigns(case)
    df = case.sql("select * from account_links where kind = 'payment'")
    assert (df["src"] < df["dst"]).all()
    rare = df.filter(df["value"] == "rare")["weight"].max()
    common = df.filter(df["value"] == "common")["weight"].max()
    assert rare > common > 0


def test_a_hub_prefix_does_not_merge_two_campaigns(case: wb.Case) -> None:
    w = World()
    a = operation(w, "a", 6, payments=["payA"], templates=["tA0", "tA1", "tA2", "tA3"],
                  hours=HOURS, ip="10.9.9")
    b = operation(w, "b", 6, payments=["payB"], templates=["tB0", "tB1", "tB2", "tB3"],
                  hours=HOURS, ip="10.9.9")
    legit(w, "nat", 40, ip="10.9.9", hours=HOURS)  # a university NAT shared by everyone
    w.into(case)
    build_campaigns(case)
    assert sorted(members(case).values(), key=min) == [set(a), set(b)]
    # The hub's own edges exist but are too light to tie anyone together.
    hub = case.sql("select max(weight) as w, count(*) as n from account_links "
                   "where kind = 'ip_prefix_hour'")
    assert hub["n"][0] > 0
    cfg = load_config()
    assert hub["w"][0] * cfg["link_weights"]["ip_prefix_hour"] < \
        cfg["campaigns"]["min_pair_weight"]


def test_a_prefix_above_max_degree_links_nothing(case: wb.Case) -> None:
    w = World()
    legit(w, "big", 110, ip="10.1.1", hours=[5])
    w.into(case)
    assert build_campaigns(case)["links"]["ip_prefix_hour"] == 0


def test_a_campaign_split_across_payment_methods_is_joined_by_behaviour(case: wb.Case) -> None:
    w = World()
    c = operation(w, "c", 9, payments=["pc1", "pc2", "pc3"],
                  templates=["tC0", "tC1", "tC2", "tC3"], hours=HOURS)
    legit(w, "u", 20)
    w.into(case)
    build_campaigns(case)
    assert list(members(case).values()) == [set(c)]
    kinds = set(case.sql("select distinct kind from account_links")["kind"])
    assert {"sync_activity", "lockstep_template", "payment"} <= kinds


def test_payment_alone_joins_accounts_without_behaviour(case: wb.Case) -> None:
    w = World()
    ids = [f"x{i}" for i in range(4)]
    for i, acct in enumerate(ids):
        w.account(acct, payment="shared-card")
        w.traffic(acct, [f"own{i}"], [i * 5], prefix=f"192.0.{i}")
        w.finding(acct, "cot_elicitation", 0.8)
    w.into(case)
    build_campaigns(case)
    assert list(members(case).values()) == [set(ids)]


def test_campaign_ids_are_stable_across_reruns_and_insertion_order(case: wb.Case) -> None:
    w = World()
    a = operation(w, "a", 5, payments=["payA"], templates=["t0", "t1", "t2"], hours=HOURS)
    w.into(case)
    build_campaigns(case)
    first = members(case)
    build_campaigns(case)
    assert members(case) == first == {campaign_id(min(a)): set(a)}

    w2 = World(accounts=w.accounts[::-1], requests=w.requests[::-1],
               features=w.features[::-1], findings=w.findings[::-1])
    other = w2.into(wb.open())
    build_campaigns(other)
    assert members(other) == first


def test_every_link_kind_and_weight_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "evaluation.md").read_text()
    for kind in link_queries():
        assert f"| `{kind}` |" in doc, kind
    for kind, weight in load_config()["link_weights"].items():
        assert f"{kind} {weight}" in doc, kind
