"""Account linking: weighted edges from shared values and behaviour, then communities.

Each kind of edge is one portable SQL file in `workbench/sql/links/`, with `-- key: value`
headers like the detectors, reading only the canonical tables (`requests`, `accounts`,
`features`) and returning `src, dst, kind, value, weight, evidence` with `src < dst`. The same
files transpile to Spark SQL with sqlglot (`spark_sql(kind)`), so a cluster builds the same
edges. A shared value's edges weigh `1 / ln(degree + c)` (FRAUDAR, Hooi et al., KDD 2016) and a
value shared by more than `max_degree` accounts links nothing, so no hub (a university NAT, a
cloud region, a reseller's key) merges unrelated operations.

Pairs are then weighed across kinds (`[link_weights]` in `workbench/data/risk.toml`, read into
`workbench.config.RiskConfig`), weak pairs dropped, and the remaining graph cut into
communities with Louvain (fixed seed). The order of these steps, and of scoring around them,
is `workbench.pipeline`'s to know; they talk through the case's tables and a few temp tables
named in each function's docstring.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.config import weights_table
from workbench.errors import CatalogueError, unknown

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from workbench.config import RiskConfig

LINKS_DIR = Path(__file__).parent / "sql" / "links"
#: The one link kind built from findings, not from a file: see `cohort_links`.
COHORT_KIND = "cohort"
# The pair weight before any threshold: per_kind, per_group, summed (src, dst, weight, kinds).
PAIR_CTES = """per_kind as (
            select src, dst, kind, least(1.0, sum(weight)) as w
            from account_links {where} group by src, dst, kind
        ),
        per_group as (
            select p.src, p.dst, coalesce(g.grp, p.kind) as grp, max(p.w * k.w) as w,
                   list(p.kind) as kinds
            from per_kind as p join _kind_weight as k on k.kind = p.kind
            left join _kind_group as g on g.kind = p.kind
            group by p.src, p.dst, coalesce(g.grp, p.kind)
        ),
        summed as (
            select src, dst, sum(w) as weight, list_sort(flatten(list(kinds))) as kinds
            from per_group group by src, dst
        )
"""
_TYPES = {"DOUBLE": float, "INTEGER": int, "VARCHAR": str}
#: Per kind, the edges and seconds of the last `build_links` call on this process.
last_run: dict[str, dict[str, float]] = {}


@dataclass(frozen=True)
class LinkQuery:
    """One edge-building SQL file: its kind, documentation, declared params and SQL text."""

    kind: str
    title: str
    description: str
    weight: str
    params: dict[str, tuple[str, Any, str]] = field(default_factory=dict)
    sql: str = ""

    def bind(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The declared defaults, with overrides checked against the declared names."""
        values = {name: default for name, (_, default, _) in self.params.items()}
        for name, value in (overrides or {}).items():
            if name not in self.params:
                err = unknown(f"parameter of link kind {self.kind!r}", name, self.params)
                raise err
            values[name] = _TYPES[self.params[name][0]](value)
        return values


def _parse(path: Path) -> LinkQuery:
    head: dict[str, str] = {}
    params: dict[str, tuple[str, Any, str]] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("-- "):
            break
        key, _, value = line[3:].partition(": ")
        if key == "params":
            name, typ, default, doc = (value.split(" ", 3) + [""])[:4]
            if typ not in _TYPES:
                msg = (f"{path.name}: param {name!r} has type {typ!r}; "
                       f"use one of {', '.join(_TYPES)}.")
                raise CatalogueError(msg)
            params[name] = (typ, _TYPES[typ](default), doc)
        else:
            head[key] = value
    missing = [k for k in ("kind", "title", "description", "weight") if k not in head]
    if missing or head.get("kind") != path.stem:
        msg = (f"{path.name}: header needs kind (equal to the file stem), title, description and "
               f"weight; missing or wrong: {', '.join(missing) or 'kind'}.")
        raise CatalogueError(msg)
    return LinkQuery(head["kind"], head["title"], head["description"], head["weight"], params,
                     path.read_text())


@cache
def link_queries() -> dict[str, LinkQuery]:
    """Every edge-building query, by kind.

    Example:
        >>> sorted(link_queries())[:2]
        ['ip_prefix_hour', 'lockstep_template']
    """
    return {p.stem: _parse(p) for p in sorted(LINKS_DIR.glob("*.sql"))}


def markdown() -> str:
    """docs/links.md, generated from the headers of `workbench/sql/links/*.sql`.

    Example:
        >>> markdown().startswith("# Link kinds")
        True
    """
    out = ["# Link kinds", "",
           "Generated by `python -m workbench.linking --markdown > docs/links.md` from the "
           "headers of `workbench/sql/links/<kind>.sql`; a test keeps it current. Each kind "
           "writes edges `src, dst, kind, value, weight, evidence` into `account_links`; "
           "`[link_weights]` in `workbench/data/risk.toml` weighs the kinds, and the kind "
           f"`{COHORT_KIND}` is built from cohort findings (`cohort_links`), not from a file. "
           "Where a description names a ring, a value shared by too many accounts ties each "
           "only to its neighbours, and the description says what that can hide.", "",
           "| kind | title | weight |", "|---|---|---|"]
    queries = link_queries()
    out += [f"| [`{k}`](#{k}) | {q.title} | {q.weight} |" for k, q in queries.items()]
    for k, q in queries.items():
        out += ["", f"## {k}", "", f"**{q.title}** · `sql/links/{k}.sql`", "", q.description,
                "", f"Weight: {q.weight}.", ""]
        if q.params:
            out += ["| param | type | default | meaning |", "|---|---|---|---|"]
            out += [f"| `{n}` | {t} | {d} | {doc} |" for n, (t, d, doc) in q.params.items()]
    return "\n".join(out).rstrip() + "\n"


def _main(argv: list[str] | None = None) -> None:
    """`python -m workbench.linking --markdown` prints docs/links.md."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args != ["--markdown"]:
        print("usage: python -m workbench.linking --markdown > docs/links.md", file=sys.stderr)
        raise SystemExit(2)
    sys.stdout.write(markdown())


def spark_sql(kind: str) -> str:
    """The edge query of one kind in Spark SQL (parameters as `:name`).

    Example:
        >>> "1.0 / LN(degree + :c)" in spark_sql("payment")
        True
    """
    import sqlglot

    queries = link_queries()
    if kind not in queries:
        err = unknown("link kind", kind, queries)
        raise err
    return sqlglot.transpile(queries[kind].sql, read="duckdb", write="spark")[0]


def overrides(config: RiskConfig) -> dict[str, dict[str, Any]]:
    """`[link_params]` as {kind: {param: value}}, every kind checked against the link files."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in config.link_params.items():
        kind, _, name = key.partition(".")
        if kind not in link_queries():
            err = unknown("link kind", kind, link_queries())
            raise err
        out.setdefault(kind, {})[name] = value
    return out


def active_kinds(config: RiskConfig) -> dict[str, tuple[LinkQuery, dict[str, Any]]]:
    """The link kinds that can change a pair (weight above 0), each with its bound params.

    Both engines build exactly these; an unknown kind in `[link_weights]` is an error.
    """
    queries = link_queries()
    for kind in config.link_weights:
        if kind not in queries and kind != COHORT_KIND:
            err = unknown("link kind in [link_weights]", kind, [*queries, COHORT_KIND])
            raise err
    given = overrides(config)
    # a kind weighted 0 would not change any pair: skip its cost
    return {kind: (q, q.bind(given.get(kind))) for kind, q in queries.items()
            if config.link_weights.get(kind, 0) > 0}


def build_links(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> dict[str, int]:
    """Replace `account_links` with the edges of every kind; return edges per kind.

    `last_run` keeps, per kind, the edges written and the seconds its query took (for the
    benchmarks, which compare each kind with a full scan).
    """
    kinds = active_kinds(config)
    con.execute("DELETE FROM account_links")
    counts: dict[str, int] = {}
    last_run.clear()
    for kind, (q, bound) in kinds.items():
        body = q.sql.rstrip().rstrip(";")
        t0 = time.perf_counter()
        con.execute("INSERT INTO account_links SELECT src, dst, kind, value, weight, "
                    f"to_json(evidence) FROM ({body}) WHERE weight > 0", bound)
        counts[kind] = int(con.fetchall()[0][0])
        last_run[kind] = {"edges": counts[kind], "seconds": time.perf_counter() - t0}
    return counts


def pair_weights(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> pl.DataFrame:
    """Pairs whose combined weight reaches `min_pair_weight`: src, dst, weight, kinds.

    Combined weight = sum over kinds of kind weight x min(1, sum of that kind's edge weights),
    except that the kinds of one `[link_groups]` group (several views of the same evidence,
    such as shared content) count once, by their strongest. Then `[pair_bonus] bonus` is added
    when one of the pair's kinds or groups outside `[pair_bonus] exclude` weighs at least
    `floor` and both accounts score at least `min_score` on the same detector of
    `[gate] specific` (read from the `_hits` temp table of `scoring.detector_hits` when it
    exists); the kind list then ends with `shared_detector`.
    """
    weights_table(con, "_kind_weight", "kind", config.link_weights)
    con.execute("CREATE OR REPLACE TEMP TABLE _kind_group (kind VARCHAR, grp VARCHAR)")
    rows = [{"k": k, "g": g} for g, kinds in config.link_groups.items() for k in kinds]
    if rows:
        con.executemany("INSERT INTO _kind_group VALUES ($k, $g)", rows)
    bonus = config.pair_bonus
    has_hits = bool(con.sql("select count(*) from duckdb_tables() "
                            "where table_name = '_hits' and temporary").fetchall()[0][0])
    hits = ("select account_id, detector, score from _hits" if has_hits else
            "select ''::VARCHAR as account_id, ''::VARCHAR as detector, 0.0 as score limit 0")
    return con.sql(f"""
        with {PAIR_CTES.format(where='')},
        strong as (
            select account_id, detector from ({hits})
            where score >= $bonus_score and list_contains($specific, detector)
        ),
        corroborated as (
            select distinct s.src, s.dst
            from summed as s
            join strong as a on a.account_id = s.src
            join strong as b on b.account_id = s.dst and b.detector = a.detector
            where exists (
                select 1 from per_group as g
                where g.src = s.src and g.dst = s.dst and g.w >= $bonus_floor
                    and not list_contains($bonus_exclude, g.grp)
            )
        )
        select s.src, s.dst,
               s.weight + case when c.src is null then 0 else $bonus end as weight,
               case when c.src is null then s.kinds
                    else list_append(s.kinds, 'shared_detector') end as kinds
        from summed as s left join corroborated as c on c.src = s.src and c.dst = s.dst
        where s.weight + case when c.src is null then 0 else $bonus end >= $threshold
        order by s.src, s.dst
    """, params={"threshold": config.campaigns.min_pair_weight,
                  "bonus": bonus.bonus, "bonus_floor": bonus.floor,
                  "bonus_exclude": list(bonus.exclude), "bonus_score": bonus.min_score,
                  "specific": list(config.gate.specific)}).pl()


def communities(pairs: pl.DataFrame, config: RiskConfig) -> dict[str, str]:
    """Cut the pair graph into communities with Louvain; map account -> campaign id.

    Only communities of at least `min_accounts` accounts get an id. The id is
    `cmp-` + the first 12 hex digits of SHA-1 of the community's smallest account id, so the
    same accounts give the same id on every rerun and in every case.

    Example:
        >>> import polars as pl
        >>> from workbench.config import RiskConfig
        >>> pairs = pl.DataFrame({"src": ["a", "b"], "dst": ["b", "c"], "weight": [1.0, 1.0]})
        >>> sorted(set(communities(pairs, RiskConfig.load()).values()))
        ['cmp-86f7e437faa5']
    """
    import networkx as nx

    camp = config.campaigns
    graph = nx.Graph()
    graph.add_weighted_edges_from(pairs.select("src", "dst", "weight").iter_rows())
    out: dict[str, str] = {}
    for component in nx.connected_components(graph):
        sub = graph.subgraph(sorted(component))
        parts = ([set(component)] if len(component) <= 2 else nx.community.louvain_communities(
            sub, weight="weight", resolution=camp.resolution, seed=camp.seed))
        for part in parts:
            if len(part) < camp.min_accounts:
                continue
            cid = campaign_id(min(part))
            out.update(dict.fromkeys(part, cid))
    return out


def campaign_id(smallest_account: str) -> str:
    """Stable campaign id from the smallest member account id.

    Example:
        >>> campaign_id("acct_0001")
        'cmp-3ded74d06ede'
    """
    return "cmp-" + hashlib.sha1(smallest_account.encode()).hexdigest()[:12]


_COHORT_LINKS = """
INSERT INTO account_links
with latest as (
    select detector, arg_max(run_id, ran_at) as run_id from findings group by detector
),
judged as (
    -- the cohorts a cohort detector found acting as one group, with the members taking part
    select f.detector, f.entity_id as cohort_id, f.score,
           json_extract_string(f.evidence, '$.members[*]') as members
    from findings as f
    join latest as l using (detector, run_id)
    where f.entity_type = 'cohort' and f.score >= $min_score
      and list_contains($detectors, f.detector)
      and list_contains($kinds, split_part(f.entity_id, ':', 1))
),
ranked as (
    select j.detector, j.cohort_id, j.score, m.account_id,
           row_number() over (partition by j.detector, j.cohort_id
                              order by hash(m.account_id), m.account_id) - 1 as pos,
           count(*) over (partition by j.detector, j.cohort_id) as n
    from judged as j, unnest(j.members) as m(account_id)
),
ring as (
    -- each member tied to the next `neighbours` members round the cohort (all of them in a
    -- small one): the group holds together with a number of edges linear in its size
    select a.detector, a.cohort_id, a.score, a.n, a.account_id as a_id, b.account_id as b_id
    from ranked as a
    join ranked as b
        on b.detector = a.detector and b.cohort_id = a.cohort_id and b.pos <> a.pos
       and ((b.pos - a.pos + a.n) % a.n) between 1 and $neighbours
),
final as (
    select least(a_id, b_id) as src, greatest(a_id, b_id) as dst, 'cohort' as kind,
           min(cohort_id) as value, max(score) as weight,
           to_json({'detectors': list(distinct detector order by detector),
                    'cohort': min(cohort_id), 'members': arg_min(n, cohort_id)}) as evidence
    from ring
    group by least(a_id, b_id), greatest(a_id, b_id)
)
select src, dst, kind, value, weight, evidence from final
"""


def cohort_links(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> int:
    """Tie the members of each cohort that a cohort detector judged to act as one group.

    An operation whose accounts are each too weak to be linked pair by pair (short-lived
    seats replaced in waves, spread over many exits and cards) is one group by the cohort
    detectors' judgement: that judgement becomes edges of kind `cohort` (weight: the finding's
    score; each member tied to `[cohorts] neighbours` others round the cohort, so the edges
    grow with the cohort's size, not its square), and the communities are cut again with them.
    Only cohorts of `[cohorts] link_kinds` tie: a tool set or a client is public, and two
    operations may run the same harness; a card's members are tied by the card already (link
    kind `payment`). Returns the edges added.
    """
    rules = config.cohorts
    con.execute("DELETE FROM account_links WHERE kind = $k", {"k": COHORT_KIND})
    if config.link_weights.get(COHORT_KIND, 0) <= 0 or not rules.link_detectors:
        return 0
    row = con.execute(_COHORT_LINKS, {"min_score": rules.link_min_score,
                                      "detectors": list(rules.link_detectors),
                                      "kinds": list(rules.link_kinds),
                                      "neighbours": rules.neighbours}).fetchone()
    return int(row[0]) if row else 0


def merge_communities(con: duckdb.DuckDBPyConnection, member: dict[str, str],
                      config: RiskConfig) -> dict[str, str]:
    """Join communities that shared control ties hold together; return the new membership.

    Louvain cuts a large, sparse operation (a hydra network's waves of short-lived seats,
    each tied to the seats alive with it) into pieces. Two communities are one operation when
    the edges between them that speak of common control (every kind but the `[link_groups]
    content` kinds: two operations harvesting one public task bank or running one harness
    share content, not control), weighed by their kind weights, sum to at least
    `[campaigns] merge_tie` per account of the smaller community. A few shared cards between
    two operations of dozens of accounts each stay far below that.

    Example:
        >>> import workbench as wb
        >>> from workbench.config import RiskConfig
        >>> with wb.open().connect() as con:
        ...     merge_communities(con, {"a": "cmp-1", "b": "cmp-2"}, RiskConfig.load())
        {'a': 'cmp-1', 'b': 'cmp-2'}
    """
    import polars as pl

    threshold = config.campaigns.merge_tie
    if threshold <= 0 or len(set(member.values())) < 2:
        return member
    content = [k for g in config.link_groups.values() for k in g]
    weights_table(con, "_kind_weight", "kind", config.link_weights)
    frame = pl.DataFrame({"account_id": list(member), "community": list(member.values())},
                         schema={"account_id": pl.String, "community": pl.String})
    con.register("_merge_member", frame)
    try:
        rows = con.execute("""
            with sizes as (
                select community, count(*) as n from _merge_member group by community
            ),
            per_kind as (
                select l.src, l.dst, l.kind, least(1.0, sum(l.weight)) as w
                from account_links as l
                join _merge_member as a on a.account_id = l.src
                join _merge_member as b on b.account_id = l.dst
                where a.community <> b.community and not list_contains($content, l.kind)
                group by l.src, l.dst, l.kind
            ),
            control as (
                -- a pair's weight from the control kinds alone; a pair too light to be an
                -- edge on its own (a campus NAT's, say) ties nothing, however many there are
                select p.src, p.dst, sum(p.w * coalesce(k.w, 0)) as w
                from per_kind as p left join _kind_weight as k on k.kind = p.kind
                group by p.src, p.dst
                having sum(p.w * coalesce(k.w, 0)) >= $min_pair
            ),
            ties as (
                select least(a.community, b.community) as c1,
                       greatest(a.community, b.community) as c2, sum(c.w) as w
                from control as c
                join _merge_member as a on a.account_id = c.src
                join _merge_member as b on b.account_id = c.dst
                group by 1, 2
            )
            select t.c1, t.c2
            from ties as t
            join sizes as s1 on s1.community = t.c1
            join sizes as s2 on s2.community = t.c2
            where t.w >= $threshold * least(s1.n, s2.n)
        """, {"content": content, "threshold": threshold,
              "min_pair": config.campaigns.min_pair_weight}).fetchall()
    finally:
        con.unregister("_merge_member")
    if not rows:
        return member
    parent = {c: c for c in set(member.values())}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for c1, c2 in rows:
        parent[find(c1)] = find(c2)
    groups: dict[str, list[str]] = {}
    for account, c in member.items():
        groups.setdefault(find(c), []).append(account)
    return {a: campaign_id(min(accts)) for accts in groups.values() for a in accts}


def write_membership(con: duckdb.DuckDBPyConnection, member: dict[str, str],
                     pairs: pl.DataFrame) -> None:
    """Temp tables `_member` (account_id, campaign_id) and `_pairs` (src, dst, weight)."""
    import polars as pl

    member_df = pl.DataFrame({"account_id": list(member), "campaign_id": list(member.values())},
                             schema={"account_id": pl.String, "campaign_id": pl.String})
    con.register("_member_df", member_df)
    con.register("_pairs_df", pairs.select("src", "dst", "weight"))
    con.execute("CREATE OR REPLACE TEMP TABLE _member AS SELECT * FROM _member_df")
    con.execute("CREATE OR REPLACE TEMP TABLE _pairs AS SELECT * FROM _pairs_df")
    con.unregister("_member_df")
    con.unregister("_pairs_df")


def attach(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> int:
    """Attach weak communities and lone accounts to the larger campaign they are tied to.

    A unit (a community of `_member`, or an account in none) too weak to be a campaign (median
    base risk below `[campaigns] min_risk`) joins the larger campaign (median base risk at or
    above it) to which its summed pair weight, below-threshold pairs included, averages at least
    `[campaigns] attach` per unit member and holds at least `attach_share` of the unit's link
    weight: a burst of replacement accounts sharing a prefix-hour or two with each of twenty
    members of an operation is tied to it though no single pair is, while an account behind a
    NAT shared by many is tied to everyone a little. Only the kinds in `attach_kinds` count (a
    sign-up burst shared with bystanders must not pull them in). A unit with evidence of its
    own stays its own campaign. The pairs joining them go into `_pairs` (they count in the
    tie). Needs `_kind_weight`/`_kind_group` from `pair_weights`, `_base` from
    `scoring.detector_hits`, and the `_member` and `_pairs` temp tables. Returns the number of
    accounts that moved.
    """
    camp = config.campaigns
    threshold = camp.attach
    if threshold <= 0:
        return 0
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _attach_pairs AS
        with {PAIR_CTES.format(where='where list_contains($kinds, kind)')},
        ends as (
            select src as a, dst as b, weight from summed
            union all select dst, src, weight from summed
        ),
        unit as (
            select e.a as account_id, coalesce(m.campaign_id, e.a) as unit_id
            from (select distinct a from ends) as e left join _member as m on m.account_id = e.a
        ),
        unit_size as (
            select u.unit_id, count(*) as n, median(coalesce(b.base, 0)) as strength
            from unit as u left join _base as b using (account_id) group by u.unit_id
        ),
        camp_size as (
            select m.campaign_id, count(*) as n, median(coalesce(b.base, 0)) as strength
            from _member as m left join _base as b using (account_id) group by m.campaign_id
        ),
        cand as (
            select u.unit_id, m.campaign_id, sum(e.weight) / any_value(us.n) as w
            from ends as e
            join unit as u on u.account_id = e.a
            join unit_size as us on us.unit_id = u.unit_id
            join _member as m on m.account_id = e.b
            join camp_size as cs on cs.campaign_id = m.campaign_id
            where m.campaign_id <> u.unit_id and cs.n > us.n
                and us.strength < $min_risk and cs.strength >= $min_risk
            group by u.unit_id, m.campaign_id
        ),
        total as (
            select u.unit_id, sum(e.weight) / any_value(us.n) as w
            from ends as e
            join unit as u on u.account_id = e.a
            join unit_size as us on us.unit_id = u.unit_id
            join unit as v on v.account_id = e.b
            where v.unit_id <> u.unit_id
            group by u.unit_id
        ),
        best as (
            select c.unit_id, arg_max(c.campaign_id, c.w) as campaign_id, max(c.w) as w
            from cand as c join total as t using (unit_id)
            group by c.unit_id
            having max(c.w) >= $threshold and max(c.w) >= $share * any_value(t.w)
        )
        select least(e.a, e.b) as src, greatest(e.a, e.b) as dst, e.weight,
               u.account_id, b.campaign_id
        from best as b
        join unit as u on u.unit_id = b.unit_id
        join ends as e on e.a = u.account_id
        join _member as m on m.account_id = e.b and m.campaign_id = b.campaign_id
    """, {"threshold": threshold, "min_risk": camp.min_risk, "kinds": list(camp.attach_kinds),
          "share": camp.attach_share})
    n = con.sql("select count(distinct account_id) from _attach_pairs").fetchall()[0][0]
    con.execute("DELETE FROM _member WHERE account_id IN (SELECT account_id FROM _attach_pairs)")
    con.execute("INSERT INTO _member SELECT DISTINCT account_id, campaign_id FROM _attach_pairs")
    con.execute("INSERT INTO _pairs SELECT src, dst, weight FROM _attach_pairs")
    con.execute("DROP TABLE _attach_pairs")
    return int(n)


if __name__ == "__main__":
    _main()
