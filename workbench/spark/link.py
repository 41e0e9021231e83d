"""Account linking for the Spark engine: edges on the cluster, communities on the driver.

The edges come from the same `workbench/sql/links/*.sql` files the DuckDB path runs, transpiled
by `workbench.spark.transpile.to_spark`. The edge list is small next to the requests (one row
per linked pair and shared value), so the driver cuts it into communities and scores leads with
the DuckDB path's own code (`workbench.linking.pair_weights` and `communities`,
`workbench.scoring.detector_hits` and `write_leads`) over DuckDB views of the case's Parquet.
Its limit: the driver must hold the pair graph (networkx, about 1 KB per pair) and read the
narrow request columns scoring needs (account, key, prefix, time, model, tokens) once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.spark.transpile import to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def link_on_spark(spark: SparkSession, results: Path,
                  cfg: dict[str, Any] | None = None) -> dict[str, int]:
    """Write `account_links` as Parquet under `results`, built on Spark; return edges per kind."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import StringType

    from workbench.linking import _overrides, link_queries, load_config
    from workbench.spark import write_arrow

    cfg = cfg or load_config()
    weights = cfg.get("link_weights", {})
    overrides = _overrides(cfg)
    target = results / "account_links"
    counts: dict[str, int] = {}
    for kind, q in link_queries().items():
        if weights.get(kind, 0) <= 0:
            continue  # as in the DuckDB path: a kind weighted 0 changes no pair
        df = spark.sql(to_spark(q.sql.rstrip().rstrip(";")), args=q.bind(overrides.get(kind)))
        ev = df["evidence"] if isinstance(df.schema["evidence"].dataType, StringType) else (
            F.to_json(df["evidence"]))
        df = df.where(df["weight"] > 0).select(
            df["src"].cast("string"), df["dst"].cast("string"), df["kind"].cast("string"),
            df["value"].cast("string"), df["weight"].cast("double"), ev.alias("evidence"))
        # The edge list goes to the driver anyway (communities run there): one job per kind.
        table = df.toArrow()
        write_arrow(table, target / f"{kind}.parquet")
        counts[kind] = table.num_rows
    return counts


def score_on_driver(source: str | os.PathLike[str], results: Path,
                    cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """Communities and leads from Spark's edges and findings; writes leads/ and campaigns/."""

    from workbench.campaigns import campaigns_from_links
    from workbench.export import _literal, attach_results, open_parquet
    from workbench.linking import load_config
    from workbench.scoring import detector_hits

    cfg = cfg or load_config()
    driver = open_parquet(source)
    with driver.connect(write=True) as con:
        con.execute("DROP TABLE IF EXISTS features")
        glob = _literal(str(results / "features" / "*.parquet"))
        con.execute(f"CREATE VIEW features AS SELECT * FROM read_parquet({glob})")
    attach_results(driver, results, tables=("detector_runs", "findings", "account_links"))
    with driver.connect(write=True) as con:
        detector_hits(con, cfg)
        # The edges were built on Spark; everything after them is build_campaigns' own code.
        pairs, _, _ = campaigns_from_links(con, cfg)
        for table in ("leads", "campaigns"):
            folder = results / table
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY {table} TO {_literal(str(folder / 'data_0.parquet'))} "
                        "(FORMAT parquet)")
        n = int(con.execute("select count(*) from campaigns").fetchall()[0][0])
    driver.close()
    return {"pairs": pairs.height, "campaigns": n}
