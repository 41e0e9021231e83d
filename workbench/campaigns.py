"""From findings to campaigns: link accounts, find communities, score risk, rank leads.

`build_campaigns(case)` reads `findings` (the latest run of each detector), `requests`,
`accounts` and `features`, and replaces `account_links`, `leads` and `campaigns` in one
transaction. Edges come from `workbench.linking`, risk from `workbench.scoring`; weights and
thresholds from `workbench/data/risk.toml`. `leads()` and `campaigns()` read the results.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import unknown
from workbench.linking import attach, build_links, communities, load_config, pair_weights
from workbench.scoring import LEVELS, detector_hits, write_leads

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from workbench.case import Case


def build_campaigns(case: Case, config: str | Path | None = None) -> dict[str, Any]:
    """Link accounts, cut the graph into campaigns and write `leads` and `campaigns`.

    Returns summary counts: links per kind, graph pairs, campaigns, leads per level, and
    finding entity types that reach no account.

    Example:
        >>> import workbench as wb
        >>> build_campaigns(wb.open())["campaigns"]
        0
    """

    cfg = load_config(Path(config) if config else None)
    t0 = time.perf_counter()
    with case.connect(write=True) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            unmapped = detector_hits(con, cfg)
            links = build_links(con, cfg)
            pairs, member, attached = campaigns_from_links(con, cfg)
            levels = dict(con.sql("select level, count(*) from leads group by 1").fetchall())
            n_campaigns = con.sql("select count(*) from campaigns").fetchall()[0][0]
            for tmp in ("_hits", "_base", "_member", "_pairs", "_strength", "_tie", "_risk",
                        "_kind_weight", "_kind_group", "_level_weight", "_detector_weight",
                        "_share"):
                con.execute(f"DROP TABLE IF EXISTS {tmp}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return {
        "links": links,
        "pairs": pairs.height,
        "communities": len(set(member.values())),
        "attached": attached,
        "campaigns": int(n_campaigns),
        "leads": {lv: int(levels.get(lv, 0)) for lv in LEVELS},
        "unmapped_entity_types": unmapped,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def campaigns_from_links(con: duckdb.DuckDBPyConnection, cfg: dict[str, Any]
                         ) -> tuple[pl.DataFrame, dict[str, str], int]:
    """Every step after the edges exist: pair weights, communities, attachment, leads.

    Shared by `build_campaigns` and the Spark path (whose edges are built on the cluster), so
    both engines turn the same `account_links` and `_hits` into the same leads and campaigns.
    Returns the weighted pairs, the community of each account and how many were attached.
    """
    import polars as pl

    pairs = pair_weights(con, cfg)
    member = communities(pairs, cfg)
    member_df = pl.DataFrame({"account_id": list(member), "campaign_id": list(member.values())},
                             schema={"account_id": pl.String, "campaign_id": pl.String})
    con.register("_member_df", member_df)
    con.register("_pairs_df", pairs.select("src", "dst", "weight"))
    con.execute("CREATE OR REPLACE TEMP TABLE _member AS SELECT * FROM _member_df")
    con.execute("CREATE OR REPLACE TEMP TABLE _pairs AS SELECT * FROM _pairs_df")
    con.unregister("_member_df")
    con.unregister("_pairs_df")
    attached = attach(con, cfg)
    con.execute("DELETE FROM leads")
    con.execute("DELETE FROM campaigns")
    write_leads(con, cfg)
    return pairs, member, attached


def _check_level(min_level: str | None) -> str | None:
    if min_level is not None and min_level not in LEVELS:
        err = unknown("level", min_level, LEVELS)
        raise err
    return min_level


def leads(case: Case, min_level: str | None = None) -> pl.DataFrame:
    """Leads ordered by risk (highest first), optionally only those at `min_level` or above.

    Example:
        >>> import workbench as wb
        >>> leads(wb.open(), min_level="high").columns
        ['account_id', 'campaign_id', 'risk', 'level', 'reasons']
    """
    _check_level(min_level)
    wanted = list(LEVELS[LEVELS.index(min_level):]) if min_level else list(LEVELS)
    return case.sql("select * from leads where list_contains($levels, level) "
                    "order by risk desc, account_id", levels=wanted)


def campaigns(case: Case) -> pl.DataFrame:
    """Campaigns ordered by risk (highest first), then by size.

    Example:
        >>> import workbench as wb
        >>> campaigns(wb.open()).height
        0
    """
    return case.sql("select * from campaigns order by risk desc, accounts desc, campaign_id")
