"""Account linking: the edge files, hub down-weighting, behaviour joining split payments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from _campaign_world import World, legit, operation

import workbench as wb
from workbench.config import RiskConfig
from workbench.errors import UnknownNameError
from workbench.linking import campaign_id, link_queries, spark_sql
from workbench.pipeline import link

HOURS = list(range(10, 30))
KINDS = {"payment", "ip_prefix_hour", "sync_activity", "lockstep_template", "system_prompt",
         "signup_burst", "sync_shape", "near_duplicate", "tool_schema"}


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
    link(case)
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
    link(case)
    assert sorted(members(case).values(), key=min) == [set(a), set(b)]
    # The hub's own edges exist but are too light to tie anyone together.
    hub = case.sql("select max(weight) as w, count(*) as n from account_links "
                   "where kind = 'ip_prefix_hour'")
    assert hub["n"][0] > 0
    cfg = RiskConfig.load()
    assert hub["w"][0] * cfg.link_weights["ip_prefix_hour"] < \
        cfg.campaigns.min_pair_weight


def test_a_prefix_above_max_degree_links_nothing(case: wb.Case) -> None:
    w = World()
    legit(w, "big", 110, ip="10.1.1", hours=[5])
    w.into(case)
    assert link(case)["links"]["ip_prefix_hour"] == 0


def test_a_campaign_split_across_payment_methods_is_joined_by_behaviour(case: wb.Case) -> None:
    w = World()
    c = operation(w, "c", 9, payments=["pc1", "pc2", "pc3"],
                  templates=["tC0", "tC1", "tC2", "tC3"], hours=HOURS)
    legit(w, "u", 20)
    w.into(case)
    link(case)
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
    link(case)
    assert list(members(case).values()) == [set(ids)]


def test_campaign_ids_are_stable_across_reruns_and_insertion_order(case: wb.Case) -> None:
    w = World()
    a = operation(w, "a", 5, payments=["payA"], templates=["t0", "t1", "t2"], hours=HOURS)
    w.into(case)
    link(case)
    first = members(case)
    link(case)
    assert members(case) == first == {campaign_id(min(a)): set(a)}

    w2 = World(accounts=w.accounts[::-1], requests=w.requests[::-1],
               features=w.features[::-1], findings=w.findings[::-1])
    other = w2.into(wb.open())
    link(other)
    assert members(other) == first


def test_every_link_kind_and_weight_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "evaluation.md").read_text()
    for kind in link_queries():
        assert f"| `{kind}` |" in doc, kind
    for kind, weight in RiskConfig.load().link_weights.items():
        assert f"{kind} {weight}" in doc, kind


def test_paraphrases_link_by_simhash_bands_and_strangers_do_not(case: wb.Case) -> None:
    w = World()
    base = [0x1234_5678_9ABC_DEF0 + 0x0001_0003_0005_0007 * i for i in range(8)]
    w.account("p0", payment="pay_p0")
    w.account("p1", payment="pay_p1")
    w.account("s0", payment="pay_s0")
    # p1 paraphrases p0: other templates, SimHashes one bit apart (3 of 4 bands equal).
    w.traffic("p0", [f"orig{i}" for i in range(8)], [1, 2], prefix="192.0.1", simhashes=base)
    w.traffic("p1", [f"para{i}" for i in range(8)], [3, 4], prefix="192.0.2",
              simhashes=[h ^ 0b100 for h in base])
    w.traffic("s0", [f"own{i}" for i in range(8)], [1, 2], prefix="192.0.3",
              simhashes=[h ^ 0x0101_0101_0101_0101 for h in base])  # every band differs
    w.into(case)
    link(case)
    df = case.sql("select src, dst, weight from account_links where kind = 'near_duplicate'")
    assert df.select("src", "dst").rows() == [("p0", "p1")]
    assert df["weight"][0] > 0


def test_weak_replacement_accounts_attach_to_their_operation(case: wb.Case) -> None:
    w = World()
    op = operation(w, "h", 8, payments=["payH"], templates=["tH0", "tH1", "tH2"], hours=HOURS,
                   ip="10.7.7")
    for acct in ("r0", "r1"):  # fresh accounts: no findings, own card, the operation's exits
        w.account(acct, payment="pay_fresh")
        w.traffic(acct, [f"own_{acct}"], HOURS[-6:], prefix="10.7.7")
    legit(w, "u", 5)
    w.into(case)
    summary = link(case)
    assert summary["attached"] == 2
    groups = sorted(members(case).values(), key=min)
    assert groups == [set(op) | {"r0", "r1"}]


def test_generic_detectors_alone_stay_below_high(case: wb.Case) -> None:
    w = World()
    for acct in ("g1", "s1"):
        w.account(acct, payment=f"pay_{acct}")
        w.traffic(acct, [f"own_{acct}"], [1], prefix=f"192.0.{acct}")
    for det in ("volume_anomaly", "template_repetition", "client_fingerprint_mismatch",
                "shared_infrastructure", "signup_burst"):
        w.finding("g1", det, 1.0)
    w.finding("g1", "some_critical_probe", 1.0, level="critical")
    w.finding("s1", "cot_elicitation", 0.9)
    w.into(case)
    link(case)
    rows = {r["account_id"]: r for r in case.sql("select * from leads").iter_rows(named=True)}
    assert rows["g1"]["risk"] == pytest.approx(RiskConfig.load().gate.cap)
    assert rows["g1"]["level"] == "medium"
    assert json.loads(rows["g1"]["reasons"])["capped"] is True
    assert rows["s1"]["level"] in ("high", "critical")
    assert json.loads(rows["s1"]["reasons"])["capped"] is False


def test_two_probers_with_one_weak_shared_link_are_one_campaign(case: wb.Case) -> None:
    w = World()
    for acct, det in (("l0", "logit_probing"), ("l1", "logit_probing"),
                      ("m0", "logit_probing"), ("m1", "cot_elicitation")):
        w.account(acct, payment=f"pay_{acct}")
        w.finding(acct, det, 1.0)
    w.traffic("l0", ["q0"], [1, 2, 3], prefix="10.5.5")
    w.traffic("l1", ["q1"], [1, 2, 3], prefix="10.5.5")
    w.traffic("m0", ["q2"], [1, 2, 3], prefix="10.6.6")  # as weak a link, but no shared
    w.traffic("m1", ["q3"], [1, 2, 3], prefix="10.6.6")  # detector: not a campaign
    w.into(case)
    link(case)
    assert list(members(case).values()) == [{"l0", "l1"}]
    pair = case.sql("select weight from account_links where src = 'l0' and dst = 'l1'")
    cfg = RiskConfig.load()
    assert pair["weight"].sum() * cfg.link_weights["ip_prefix_hour"] < \
        cfg.campaigns.min_pair_weight
