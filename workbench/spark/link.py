"""Account linking for the Spark engine: the edges, built on the cluster.

The edges come from the same `workbench/sql/links/*.sql` files the DuckDB engine runs,
transpiled by `workbench.spark.transpile.to_spark`. The edge list is small next to the requests
(one row per linked pair and shared value), so it is written as Parquet and read into the local
case, where `workbench.pipeline` cuts it into communities and scores leads with the DuckDB
engine's own code. The limit: the driver must hold the pair graph (networkx, about 1 KB per
pair).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbench.linking import active_kinds
from workbench.spark.parquet import write_arrow
from workbench.spark.transpile import to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from workbench.config import RiskConfig


def link_on_spark(spark: SparkSession, results: Path, config: RiskConfig) -> dict[str, int]:
    """Write `account_links` as Parquet under `results`, built on Spark; return edges per kind."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import StringType

    target = results / "account_links"
    counts: dict[str, int] = {}
    for kind, (q, bound) in active_kinds(config).items():
        df = spark.sql(to_spark(q.sql.rstrip().rstrip(";")), args=bound)
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
