"""The Spark engine finds what the DuckDB engine finds, on the same small simulated world.

Spark runs in local mode (local[2], four shuffle partitions, no UI, driver on loopback). The
world is the session's `world_case`, already run through DuckDB; it is exported as Parquet and
run through Spark into a separate Parquet-backed case, so the shared case is left untouched.

Tolerance: scores and risks agree within SCORE_TOLERANCE (both engines compute in IEEE doubles,
but may sum in a different order).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import workbench as wb
from workbench.catalogue import catalogue
from workbench.export import export_parquet
from workbench.spark.transpile import to_spark

SCORE_TOLERANCE = 1e-6
CONF = {"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "2"}


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from workbench.spark import session

    s = session("local[2]", CONF)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def both(world_case: wb.Case, spark: Any,
         tmp_path_factory: pytest.TempPathFactory) -> tuple[wb.Case, wb.Case, Any]:
    """(the DuckDB-run world, the same world run on Spark, Spark's DetectReport)."""
    root = tmp_path_factory.mktemp("spark")
    export_parquet(world_case, root / "lake", tables=["requests", "accounts", "model_releases"])
    on_spark = wb.open_parquet(root / "lake")
    report = wb.detect(on_spark, engine="spark", spark=spark, out=root / "results")
    return world_case, on_spark, report


def _findings(case: wb.Case) -> pl.DataFrame:
    return case.sql("""
        with latest as (select detector, arg_max(run_id, ran_at) as run_id
                        from detector_runs group by detector)
        select f.detector, f.entity_type, f.entity_id, f.score, f.level
        from findings as f join latest using (detector, run_id)
        order by all""")


@pytest.mark.spark
def test_every_detector_ran_on_spark(both: tuple[wb.Case, wb.Case, Any]) -> None:
    _, _, report = both
    statuses = dict(zip(report.runs["detector"], report.runs["status"], strict=True))
    assert set(statuses) == set(catalogue().filter(
        pl.col("status") != "deprecated")["name"])
    errors = report.runs.filter(pl.col("status") == "error")
    assert errors.height == 0, errors.select("detector", "message").rows()


@pytest.mark.spark
def test_same_entities_per_detector_and_scores(both: tuple[wb.Case, wb.Case, Any]) -> None:
    local, on_spark, _ = both
    a, b = _findings(local), _findings(on_spark)
    assert a.height > 0
    for det in sorted(set(a["detector"]) | set(b["detector"])):
        ea = a.filter(pl.col("detector") == det)
        eb = b.filter(pl.col("detector") == det)
        assert ea["entity_id"].to_list() == eb["entity_id"].to_list(), det
        diff = (ea["score"] - eb["score"]).abs().max()
        assert diff is None or float(diff) <= SCORE_TOLERANCE, (det, diff)  # type: ignore[arg-type]
        assert ea["level"].to_list() == eb["level"].to_list(), det


@pytest.mark.spark
def test_same_links_campaigns_and_leads(both: tuple[wb.Case, wb.Case, Any]) -> None:
    local, on_spark, _ = both
    links = "select src, dst, kind, value from account_links order by all"
    assert local.sql(links).equals(on_spark.sql(links))
    camps = "select campaign_id, accounts, requests, tokens from campaigns order by all"
    assert local.sql(camps).height > 0
    assert local.sql(camps).equals(on_spark.sql(camps))
    q = "select account_id, campaign_id, level, risk from leads order by account_id"
    la, lb = local.sql(q), on_spark.sql(q)
    assert la.select("account_id", "campaign_id", "level").equals(
        lb.select("account_id", "campaign_id", "level"))
    assert float((la["risk"] - lb["risk"]).abs().max()) <= SCORE_TOLERANCE  # type: ignore[arg-type]


def test_non_portable_detector_is_skipped_with_its_reason() -> None:
    from workbench.catalogue import detectors
    from workbench.spark import _precheck

    det = next(iter(detectors().values()))
    header = {**det.header, "portable": False, "portable_note": "uses DuckDB's fts extension"}
    counts = {"requests": 10, "accounts": 1, "model_releases": 1, "features": 10, "prompts": 10}
    assert _precheck(dataclasses.replace(det, header=header), counts) == (
        "skipped", "not portable to Spark: uses DuckDB's fts extension", 0)
    assert _precheck(det, counts) == ("", "", 0)


@pytest.mark.parametrize(("duckdb_sql", "spark_sql"), [
    ("select epoch(ts) from requests", "SELECT UNIX_MICROS(ts) / 1000000.0 FROM requests"),
    ("select x from t where n >= $min_n", "SELECT x FROM t WHERE n >= :min_n"),
    ("select list_slice(l, 2, $k) from t", "SELECT SLICE(l, 2, (:k - (2) + 1)) FROM t"),
    ("select a, b from s, range(4) as t(b)",
     "SELECT a, b FROM s LATERAL VIEW EXPLODE(SEQUENCE(0, 3)) t AS b"),
])
def test_transpile_fixes_dialect_gaps(duckdb_sql: str, spark_sql: str) -> None:
    assert to_spark(duckdb_sql) == spark_sql


@pytest.mark.spark
@pytest.mark.parametrize(("duckdb_sql", "expected"), [
    ("select list(v order by k desc) as r from (values (1, 'a'), (3, 'c'), (2, 'b')) t(k, v)",
     [["c", "b", "a"]]),
    ("select round(entropy(h), 6) as r from (values (1), (1), (2), (3)) t(h)", [1.5]),
    ("select epoch(timestamp '2026-01-01 00:00:00.5') as r", [1767225600.5]),
    ("select sum(b) as r from (values (1), (2)) s(a), range(4) as t(b)", [12]),
])
def test_transpiled_sql_gives_duckdbs_answer(spark: Any, duckdb_sql: str,
                                             expected: list[Any]) -> None:
    import duckdb

    assert [r[0] for r in duckdb.sql(duckdb_sql).fetchall()] == expected
    assert [r["r"] for r in spark.sql(to_spark(duckdb_sql)).collect()] == expected


@pytest.mark.spark
def test_bound_values_are_never_formatted_into_sql(spark: Any) -> None:
    hostile = "x' or 1=1 --"
    rows = spark.sql(to_spark("select count(*) as n from (values ('a'), ('b')) t(v) "
                              "where v = $who"), args={"who": hostile}).collect()
    assert rows[0]["n"] == 0


def test_missing_parquet_case_is_a_clear_error(tmp_path: Path) -> None:
    from workbench.errors import CaseError

    with pytest.raises(CaseError, match="No Parquet files under"):
        wb.open_parquet(tmp_path)
