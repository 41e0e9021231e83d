"""The same detectors and linking on Apache Spark, for cases that outgrow one machine.

`detect(case, engine="spark")` (via `workbench.detectors.detect`) runs the catalogue where the
data lives:

1. reads the canonical tables as Parquet, hive-partitioned by day (`workbench.export`);
2. computes the text features on Spark with the very function the DuckDB path uses,
   `workbench.features.feature_batch`, through `mapInArrow`;
3. runs every portable detector from its `queries/` file, transpiled by sqlglot from DuckDB to
   Spark SQL, values bound as named parameter markers (`:name`, `spark.sql(q, args=…)`);
   a detector marked `portable: false` is recorded as skipped with its reason;
4. builds the account graph's edges on Spark from `workbench/sql/links/*.sql`;
5. on the driver, cuts the edge list into communities and scores leads with the same code as
   the DuckDB path (`workbench.linking`, `workbench.scoring`), over DuckDB views of the same
   Parquet; then writes `findings`, `account_links`, `leads`, `campaigns` and
   `detector_runs` as Parquet and attaches them to the local case.

The master is `local[*]` by default; any Spark master URL, or Spark Connect (`sc://host`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import MissingDependencyError, ParameterError
from workbench.schema import TABLES
from workbench.spark.transpile import to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from workbench.case import Case
    from workbench.detectors import DetectReport

__all__ = ["detect", "session", "to_spark"]

INSTALL = ("pip install 'pyspark>=4.0' 'pandas>=2.2,<3' (or `pip install -e '.[dev]'`), and a "
           "Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)")
# Settings every session gets (the caller's spark_conf wins). UTC like the DuckDB case;
# ANSI mode off so that division by zero gives NULL as in DuckDB instead of failing a query.
SQL_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.shuffle.partitions": "8",
}
# Only for a session this process starts itself: no UI, driver bound to loopback.
LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.showConsoleProgress": "false",
}
INPUT_TABLES = ("requests", "accounts", "model_releases")
SPARK_TYPES = {"VARCHAR": "string", "TIMESTAMPTZ": "timestamp", "INTEGER": "int",
               "BIGINT": "bigint", "DOUBLE": "double", "BOOLEAN": "boolean",
               "UBIGINT": "bigint", "VARCHAR[]": "array<string>", "JSON": "string"}


def session(master: str = "local[*]", conf: dict[str, str] | None = None) -> SparkSession:
    """Start (or reuse) a Spark session: a master URL, `local[N]`, or Spark Connect `sc://…`.

    Example:
        >>> spark = session("local[1]", {"spark.sql.shuffle.partitions": "2"})  # doctest: +SKIP
    """
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:
        msg = f"The Spark engine needs PySpark: {INSTALL}."
        raise MissingDependencyError(msg) from None
    settings = {**SQL_DEFAULTS, **(conf or {})}
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
            msg = f"The Spark engine needs Java on PATH (or JAVA_HOME): {INSTALL}."
            raise MissingDependencyError(msg)
        # Executors must run this interpreter: it has pyarrow and the workbench installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = SparkSession.builder.master(master).appName("workbench")
        settings = {**LOCAL_DEFAULTS, **settings}
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def read_case(spark: SparkSession, source: str | os.PathLike[str]) -> dict[str, DataFrame]:
    """Register the canonical input tables of a Parquet case as temp views; return them."""
    from workbench.export import parquet_glob

    frames: dict[str, DataFrame] = {}
    for name in INPUT_TABLES:
        folder = str(source).rstrip("/") + "/" + name
        if name != "requests" and not _exists(spark, parquet_glob(source, name)):
            df = spark.createDataFrame([], _ddl(name))
        else:
            df = (spark.read.option("basePath", folder).option("recursiveFileLookup", "false")
                  .parquet(folder).select(*[f"`{c}`" for c in TABLES[name].column_names]))
        df.createOrReplaceTempView(name)
        frames[name] = df
    return frames


def _exists(spark: SparkSession, glob: str) -> bool:
    import duckdb

    if "://" not in glob:
        found = duckdb.execute("select count(*) from glob($g)", {"g": glob}).fetchall()
        return bool(found[0][0])
    return True  # object storage: let Spark report a missing folder itself


def _ddl(table: str, overrides: dict[str, str] | None = None) -> str:
    cols = TABLES[table].columns
    return ", ".join(f"`{c.name}` {(overrides or {}).get(c.name, SPARK_TYPES[c.type])}"
                     for c in cols)


def features_frame(requests: DataFrame) -> DataFrame:
    """Text features on Spark through `workbench.features.feature_batch` and `mapInArrow`.

    As in the DuckDB path, each distinct (prompt_text, has tools, endpoint) key is computed
    once and joined back to its requests. The function is the one `compute_features` calls;
    SimHash (UBIGINT there) travels as a signed 64-bit integer with the same bits.
    """
    from pyspark.sql import functions as F  # noqa: N812

    names = TABLES["features"].column_names
    keys = ["prompt_text", "tool_count", "endpoint"]
    ddl = _ddl("features") + ", `prompt_text` string, `tool_count` int, `endpoint` string"

    def run(batches: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        from workbench.features import feature_batch

        for batch in batches:
            out = feature_batch(batch)
            cols = []
            for name in names:
                col = out.column(out.schema.get_field_index(name))
                if pa.types.is_unsigned_integer(col.type):
                    col = pc.cast(col, pa.int64(), safe=False)
                cols.append(col)
            cols += [batch.column(batch.schema.get_field_index(k)) for k in keys]
            yield pa.RecordBatch.from_arrays(cols, names=[*names, *keys])

    has_tools = (F.coalesce(requests["tool_count"], F.lit(0)) > 0).cast("int")
    distinct = (requests.select("prompt_text", has_tools.alias("tool_count"), "endpoint")
                .distinct().select(F.lit("").alias("request_id"), *keys))
    feats = distinct.mapInArrow(run, ddl).drop("request_id")
    r = requests.select("request_id", "prompt_text", has_tools.alias("tool_count"), "endpoint")
    cond = [r["prompt_text"].eqNullSafe(feats["prompt_text"]),
            r["tool_count"] == feats["tool_count"], r["endpoint"].eqNullSafe(feats["endpoint"])]
    return r.join(feats, cond, "inner").select(r["request_id"],
                                               *[feats[c] for c in names[1:]])


def _finding_frame(spark: SparkSession, sql: str, bound: dict[str, Any],
                   meta: dict[str, Any]) -> DataFrame:
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import StringType

    df = spark.sql(sql, args=bound)
    ev = df["evidence"] if isinstance(df.schema["evidence"].dataType, StringType) else (
        F.to_json(df["evidence"]))
    level = (F.when(df["score"] >= meta["high"], meta["l0"])
             .when(df["score"] >= meta["mid"], meta["l1"]).otherwise(meta["l2"]))
    return df.select(
        F.lit(meta["run_id"]).alias("run_id"), F.lit(meta["detector"]).alias("detector"),
        F.lit(meta["detector_id"]).alias("detector_id"), F.lit(meta["version"]).alias("version"),
        F.lit(meta["params"]).alias("params"), F.lit(meta["ran_at"]).cast("timestamp")
        .alias("ran_at"), level.alias("level"), df["entity_type"].cast("string"),
        df["entity_id"].cast("string"), df["score"].cast("double"), ev.alias("evidence"),
        df["first_seen"].cast("timestamp"), df["last_seen"].cast("timestamp"))


def detect(case: Case, *, only: list[str] | tuple[str, ...] | str | None = None,
           params: dict[str, dict[str, Any]] | None = None, link: bool = True,
           progress: bool = False, spark_master: str | None = None,
           spark_conf: dict[str, str] | None = None, parquet: str | os.PathLike[str] | None = None,
           out: str | os.PathLike[str] | None = None, spark: SparkSession | None = None,
           cache: bool = True) -> DetectReport:
    """Run the catalogue on Spark and attach its results to `case`; see the module docstring.

    Args:
        case: The local case that receives findings, links, leads and campaigns.
        only, params, link, progress: As for `workbench.detectors.detect`.
        spark_master: Master URL; default `$WORKBENCH_SPARK_MASTER` or `local[*]`.
        spark_conf: Spark settings passed through (they override the workbench's defaults).
        parquet: The case as Parquet (hive-partitioned by day). Default: the folder the case was
            opened over (`open_parquet`), else a temporary export of the case.
        out: Where Spark writes the results as Parquet (kept); default a temporary folder.
        spark: An existing session to use instead of starting one.
        cache: Keep requests and features cached on the executors across detectors.

    Returns:
        The same `DetectReport` as the DuckDB engine, with per-phase timings in `notes`.
    """
    from workbench.detectors import DetectReport, _plan
    from workbench.export import attach_results, export_parquet, parquet_source

    plan = _plan(only, params)  # unknown names and bad params fail before Spark starts
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="workbench-spark-"))
    try:
        source = parquet or parquet_source(case)
        if source is None:
            t0 = time.perf_counter()
            source = tmp / "case"
            export_parquet(case, source, tables=[t for t in (*INPUT_TABLES, "request_content")
                                                 if case.count(t) > 0 or t == "requests"])
            notes.append(f"exported the case to Parquet in {time.perf_counter() - t0:.1f}s")
        results = Path(out) if out else tmp / "results"
        if results.exists():
            shutil.rmtree(results)
        master = spark_master or os.environ.get("WORKBENCH_SPARK_MASTER", "local[*]")
        spark = spark or session(master, spark_conf)
        runs = _run_on_spark(spark, source, results, plan, link, progress, notes, cache)
        attach_results(case, results)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = int(runs["rows"].sum()) if len(runs) else 0
    return DetectReport(str(runs["run_id"][0]) if len(runs) else "", runs, n, link, notes)


def _run_on_spark(spark: SparkSession, source: str | os.PathLike[str], results: Path,
                  plan: list[Any], link: bool, progress: bool, notes: list[str],
                  cache: bool = True) -> Any:
    import polars as pl

    from workbench.catalogue import LEVELS
    from workbench.detectors import HIGH_SCORE, MID_SCORE

    t0 = time.perf_counter()
    frames = read_case(spark, source)
    if cache:
        # Every detector reads requests and features: keep them in executor memory (spilling
        # to disk past it) instead of decoding the Parquet once per detector.
        frames["requests"].cache().createOrReplaceTempView("requests")
    feats = features_frame(frames["requests"])
    feats.write.mode("overwrite").parquet(str(results / "features"))
    written = spark.read.parquet(str(results / "features"))
    (written.cache() if cache else written).createOrReplaceTempView("features")
    notes.append(f"features on Spark in {time.perf_counter() - t0:.1f}s")
    counts = _table_counts(spark)
    run_id = uuid.uuid4().hex[:16]
    ran_at = datetime.now(UTC)
    rows = []
    for det, bound in plan:
        t1 = time.perf_counter()
        status, message, n = _precheck(det, counts)
        if status == "":
            lv = LEVELS.index(det.level)
            meta = {"run_id": run_id, "detector": det.name, "detector_id": det.id,
                    "version": det.version, "params": json.dumps(bound),
                    "ran_at": ran_at.replace(tzinfo=None), "high": HIGH_SCORE, "mid": MID_SCORE,
                    "l0": det.level, "l1": LEVELS[max(lv - 1, 0)], "l2": LEVELS[max(lv - 2, 0)]}
            try:
                # Findings are small (one row per entity): one job brings them to the driver.
                table = _finding_frame(spark, to_spark(det.sql), check_params(bound),
                                       meta).toArrow()
                write_arrow(table, results / "findings" / f"{det.name}.parquet")
                status, message, n = "ok", "", table.num_rows
            except Exception as exc:  # noqa: BLE001 - one failing detector must not stop the rest
                status, message = "error", f"{type(exc).__name__}: {_first_line(exc)}"
        ms = (time.perf_counter() - t1) * 1000
        rows.append({"run_id": run_id, "detector": det.name, "detector_id": det.id,
                     "version": det.version, "params": json.dumps(bound), "status": status,
                     "message": message, "rows": n, "elapsed_ms": ms, "ran_at": ran_at})
        if progress:
            print(f"{det.name:<28} {status:<10} {n:>7} rows {ms:>9.0f} ms {message}",
                  file=sys.stderr)
    runs = pl.DataFrame(rows, schema_overrides={"rows": pl.Int64, "elapsed_ms": pl.Float64,
                                                "ran_at": pl.Datetime("us", "UTC")})
    (results / "detector_runs").mkdir(parents=True, exist_ok=True)
    runs.write_parquet(results / "detector_runs" / f"{run_id}.parquet")
    if link:
        from workbench.spark.link import link_on_spark, score_on_driver

        t2 = time.perf_counter()
        counts_by_kind = link_on_spark(spark, results)
        notes.append(f"edges on Spark in {time.perf_counter() - t2:.1f}s: {counts_by_kind}")
        t3 = time.perf_counter()
        summary = score_on_driver(source, results)
        notes.append(f"communities and scores on the driver in {time.perf_counter() - t3:.1f}s: "
                     f"{summary['campaigns']} campaigns")
    return runs


def write_arrow(table: Any, path: Path) -> None:
    """Write an Arrow table to one Parquet file, creating its folder."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _table_counts(spark: SparkSession) -> dict[str, int]:
    q = ("select (select count(*) from requests) as requests, "
         "(select count(*) from accounts) as accounts, "
         "(select count(*) from model_releases) as model_releases, "
         "(select count(*) from features where prompt_norm is not null) as features, "
         "(select count(*) from requests where prompt_text is not null) as prompts")
    row = spark.sql(q).collect()[0]
    return {k: int(row[k]) for k in row.asDict()}


def _precheck(det: Any, counts: dict[str, int]) -> tuple[str, str, int]:
    """As the DuckDB runner's precheck, plus the portability rule: ("", "", 0) means run it."""
    if not det.header["portable"]:
        return "skipped", f"not portable to Spark: {det.header['portable_note']}", 0
    if "features" in det.requires and counts["requests"] > 0 and counts["features"] == 0:
        if counts["prompts"] == 0:
            return "no_content", ("metadata-only logs: no prompt text retained, so no text "
                                  "features"), 0
        return "no_content", "text features empty on Spark", 0
    for table in ("accounts", "model_releases"):
        if table in det.requires and counts[table] == 0:
            return "skipped", f"table {table} is empty; load it to run this detector", 0
    return "", "", 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def parse_conf(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (from --spark-conf) as a dict; a malformed one is a clear error.

    Example:
        >>> parse_conf(["spark.executor.memory=4g"])
        {'spark.executor.memory': '4g'}
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            msg = (f"Spark setting {item!r} is not KEY=VALUE; write e.g. "
                   "--spark-conf spark.executor.memory=4g.")
            raise ParameterError(msg)
        out[key.strip()] = value.strip()
    return out


def check_params(bound: dict[str, Any]) -> dict[str, Any]:
    """Spark binds only plain literals; anything else is a clear error, never formatted in."""
    for key, value in bound.items():
        if not isinstance(value, str | int | float | bool) and value is not None:
            msg = (f"Parameter {key!r}={value!r} cannot be bound on Spark; give a str, int, "
                   "float or bool.")
            raise ParameterError(msg)
    return bound
