"""The same detectors and linking on Apache Spark, for cases that outgrow one machine.

`SparkEngine` is the second engine behind `workbench.pipeline`'s `Engine` interface;
`wb.detect(case, engine="spark")` runs the catalogue where the data lives:

1. reads the canonical tables as Parquet, hive-partitioned by day (`workbench.export`);
2. computes the text features on Spark with the very function the DuckDB path uses,
   `workbench.features.feature_batch`, through `mapInArrow`, and copies them into the case;
3. runs every portable detector from its `queries/` file, transpiled by sqlglot from DuckDB to
   Spark SQL, values bound as named parameter markers (`:name`, `spark.sql(q, args=…)`);
   a detector marked `portable: false` is recorded as skipped with its reason;
4. builds the account graph's edges on Spark from `workbench/sql/links/*.sql`.

Each result is written as Parquet under `out` and read into the local case; the pipeline then
cuts the edges into communities and scores leads on the case with the code the DuckDB engine
uses (`workbench.linking`, `workbench.scoring`), so both engines give the same campaigns.

The master is `local[*]` by default; any Spark master URL, or Spark Connect (`sc://host`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.catalogue import HIGH_SCORE, MID_SCORE, level_steps
from workbench.errors import MissingDependencyError, ParameterError
from workbench.schema import TABLES
from workbench.spark.parquet import insert_from_parquet, replace_from_parquet, write_arrow
from workbench.spark.transpile import to_spark

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import DataFrame, SparkSession

    from workbench.case import Case
    from workbench.config import RiskConfig

__all__ = ["SparkEngine", "session", "to_spark"]

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


class SparkEngine:
    """The Spark engine behind `workbench.pipeline`'s `Engine` interface.

    Features, detectors and edges run on the cluster over the case as Parquet; what they
    produce (features, staged findings, edges) is written as Parquet under `out` and read into
    the local case, where scoring runs as for the DuckDB engine.

    Args:
        spark_master: Master URL; default `$WORKBENCH_SPARK_MASTER` or `local[*]`.
        spark_conf: Spark settings passed through (they override the workbench's defaults).
        parquet: The case as Parquet (hive-partitioned by day). Default: the folder the case was
            opened over (`open_parquet`), else a temporary export of the case.
        out: Where Spark writes its results as Parquet (kept); default a temporary folder.
        spark: An existing session to use instead of starting one.
        cache: Keep requests and features cached on the executors across detectors.
    """

    name = "spark"

    def __init__(self, *, spark_master: str | None = None,
                 spark_conf: dict[str, str] | None = None,
                 parquet: str | os.PathLike[str] | None = None,
                 out: str | os.PathLike[str] | None = None, spark: SparkSession | None = None,
                 cache: bool = True) -> None:
        self.master = spark_master or os.environ.get("WORKBENCH_SPARK_MASTER", "local[*]")
        self.conf = spark_conf
        self.parquet = parquet
        self.out = Path(out) if out else None
        self.spark = spark
        self.cache = cache
        self.notes: list[str] = []
        self._tmp: Path | None = None
        self.results = Path()

    def __enter__(self) -> SparkEngine:
        self._tmp = Path(tempfile.mkdtemp(prefix="workbench-spark-"))
        self.results = self.out or self._tmp / "results"
        if self.results.exists():
            shutil.rmtree(self.results)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _session(self) -> SparkSession:
        if self.spark is None:
            self.spark = session(self.master, self.conf)
        return self.spark

    def features(self, case: Case) -> int:
        """Register the case's tables on Spark, compute features there, copy them into the case."""
        from workbench.export import export_parquet, parquet_source

        assert self._tmp is not None, "use the engine as a context manager"
        source = self.parquet or parquet_source(case)
        if source is None:
            t0 = time.perf_counter()
            source = self._tmp / "case"
            export_parquet(case, source, tables=[t for t in (*INPUT_TABLES, "request_content")
                                                 if case.count(t) > 0 or t == "requests"])
            self.notes.append(f"exported the case to Parquet in {time.perf_counter() - t0:.1f}s")
        spark = self._session()
        t0 = time.perf_counter()
        frames = read_case(spark, source)
        if self.cache:
            # Every detector reads requests and features: keep them in executor memory
            # (spilling to disk past it) instead of decoding the Parquet once per detector.
            frames["requests"].cache().createOrReplaceTempView("requests")
        folder = self.results / "features"
        features_frame(frames["requests"]).write.mode("overwrite").parquet(str(folder))
        written = spark.read.parquet(str(folder))
        (written.cache() if self.cache else written).createOrReplaceTempView("features")
        self.notes.append(f"features on Spark in {time.perf_counter() - t0:.1f}s")
        with case.connect(write=True) as con:
            n = replace_from_parquet(con, "features", str(folder / "*.parquet"),
                                     unsigned=("simhash",))
        return n

    def detect(self, con: duckdb.DuckDBPyConnection, plan: list[Any], run: Any,
               progress: bool) -> Any:
        """Run every portable detector on Spark; stage its findings on `con`."""
        from workbench.detectors import STAGE, create_stage, run_row, runs_frame, stage_one

        spark = self._session()
        counts = _table_counts(spark)
        create_stage(con)
        rows = []
        for det, bound in plan:
            t1 = time.perf_counter()
            if "distribution" in det.requires:
                # reads distribution_tests, which the pipeline computes on the case itself
                status, message, n = stage_one(con, det, bound, run)
                rows.append(run_row(run, det, bound, status, message, n, t1, progress))
                continue
            status, message, n = _precheck(det, counts)
            if status == "":
                l0, l1, l2 = level_steps(det.level)
                meta = {"run_id": run.id, "detector": det.name, "detector_id": det.id,
                        "version": det.version, "params": json.dumps(bound),
                        "ran_at": run.at.replace(tzinfo=None), "high": HIGH_SCORE,
                        "mid": MID_SCORE, "l0": l0, "l1": l1, "l2": l2}
                try:
                    # Findings are small (one row per entity): one job brings them to the driver.
                    table = _finding_frame(spark, to_spark(det.sql), check_params(bound),
                                           meta).toArrow()
                    path = self.results / "findings" / f"{det.name}.parquet"
                    write_arrow(table, path)
                    insert_from_parquet(con, "findings", str(path), into=STAGE)
                    status, message, n = "ok", "", table.num_rows
                except Exception as exc:  # noqa: BLE001 - one failing detector must not stop the rest
                    status, message = "error", f"{type(exc).__name__}: {_first_line(exc)}"
            rows.append(run_row(run, det, bound, status, message, n, t1, progress))
        runs = runs_frame(rows)
        (self.results / "detector_runs").mkdir(parents=True, exist_ok=True)
        runs.write_parquet(self.results / "detector_runs" / f"{run.id}.parquet")
        return runs

    def links(self, con: duckdb.DuckDBPyConnection, config: RiskConfig) -> dict[str, int]:
        """Build the edges on Spark; replace `account_links` with them through `con`."""
        from workbench.spark.link import link_on_spark

        t0 = time.perf_counter()
        counts = link_on_spark(self._session(), self.results, config)
        self.notes.append(f"edges on Spark in {time.perf_counter() - t0:.1f}s: {counts}")
        con.execute("DELETE FROM account_links")
        glob = str(self.results / "account_links" / "*.parquet")
        if counts:
            insert_from_parquet(con, "account_links", glob)
        return counts


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
