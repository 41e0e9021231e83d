"""Text features, computed once per request and stored in the `features` table.

`feature_batch` is the one implementation: a pure function from an Arrow batch of requests to
an Arrow batch of feature rows, which DuckDB (here) and Spark (`mapInArrow`) both call.
`compute_features` runs it over the distinct (prompt, has-tools, endpoint) keys of the requests
that have no features yet, streaming Arrow batches out of DuckDB and back in, and joins the
results back to every request by key. What each feature means is in docs/features.md.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from workbench.errors import ParameterError
from workbench.schema import FEATURES
from workbench.textfeatures.classify import classify
from workbench.textfeatures.lang import language
from workbench.textfeatures.normalise import base_series, folded_from_base, normalised_from_base
from workbench.textfeatures.simhash import simhash, template_ids

if TYPE_CHECKING:
    from workbench.case import Case

BATCH_SIZE = 20_000
WORKERS = min(2, os.cpu_count() or 1)
_ARROW_TYPES = {"VARCHAR": pa.string(), "UBIGINT": pa.uint64(), "BOOLEAN": pa.bool_()}
FEATURE_SCHEMA = pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in FEATURES.columns])
FLAG_COLUMNS = ("cot_flag", "rubric_flag", "sensitive_flag", "coercion_flag")

#: Work counts of the last `compute_features` call: requests written, distinct keys computed,
#: batches passed through `feature_batch`.
last_run: dict[str, int] = {"rows": 0, "keys": 0, "batches": 0}


def feature_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Features of a batch of requests: the pure function shared by DuckDB and Spark.

    Args:
        batch: columns `request_id` and `prompt_text`, optionally `tool_count` and `endpoint`
            (used by the capability classifier); other columns are ignored.

    Returns:
        A batch with exactly the `features` columns (FEATURE_SCHEMA), one row per input row in
        the same order. A NULL prompt_text gives NULL text features, flags and capability.

    Example:
        >>> import pyarrow as pa
        >>> out = feature_batch(pa.RecordBatch.from_pydict({
        ...     "request_id": ["r1", "r2"],
        ...     "prompt_text": ["Show your full chain of thought: what is 12 * 7?", None]}))
        >>> out.column("prompt_norm").to_pylist()
        ['show your full chain of thought: what is <num> * <num>?', None]
        >>> out.column("cot_flag").to_pylist(), out.column("capability").to_pylist()
        ([True, None], ['maths', None])
    """
    names = set(batch.schema.names)
    missing = sorted({"request_id", "prompt_text"} - names)
    if missing:
        msg = (f"feature_batch needs columns request_id and prompt_text; missing "
               f"{', '.join(missing)}. Got: {', '.join(batch.schema.names) or 'none'}.")
        raise ParameterError(msg)
    df = pl.from_arrow(pa.Table.from_batches([batch]))
    assert isinstance(df, pl.DataFrame)
    df = df.select(
        pl.col("request_id").cast(pl.String),
        pl.col("prompt_text").cast(pl.String),
        (pl.col("tool_count") if "tool_count" in names else pl.lit(None)).cast(pl.Int64)
        .alias("tool_count"),
        (pl.col("endpoint") if "endpoint" in names else pl.lit(None)).cast(pl.String)
        .alias("endpoint"),
    )
    texts = pl.DataFrame({"_base": base_series(df["prompt_text"])}).select(
        folded_from_base(pl.col("_base")).alias("folded"),
        normalised_from_base(pl.col("_base")).alias("prompt_norm"))
    fold, norm = texts["folded"], texts["prompt_norm"]
    tids = template_ids(norm)
    df = pl.DataFrame([df["request_id"], norm, tids, simhash(norm), language(fold)]).hstack(
        classify(fold, df["tool_count"], df["endpoint"]))
    table = df.select(FEATURE_SCHEMA.names).to_arrow().cast(FEATURE_SCHEMA)
    return table.combine_chunks().to_batches()[0] if table.num_rows else \
        pa.RecordBatch.from_pylist([], schema=FEATURE_SCHEMA)


# One row per distinct (prompt, has tools, endpoint) of the requests without features, with the
# ids of its requests: the results join back on the integer key and `unnest(ids)`, never on
# the prompt text a second time.
_KEYS = """
create or replace temp table _features_keys as
select row_number() over () as key, prompt_text, has_tools, endpoint, ids
from (
  select r.prompt_text, coalesce(r.tool_count, 0) > 0 as has_tools, r.endpoint,
         list(r.request_id) as ids
  from requests r
  where not exists (select 1 from features f where f.request_id = r.request_id)
  group by all
)
"""

_WRITE = """
insert into features
select unnest(k.ids) as request_id, s.prompt_norm, s.template_id, s.simhash, s.lang,
       s.capability, s.cot_flag, s.rubric_flag, s.sensitive_flag, s.coercion_flag
from _features_keys k
join _features_stage s on s.request_id = k.key::varchar
"""


def compute_features(case: Case, force: bool = False, *, batch_size: int = BATCH_SIZE,
                     workers: int | None = None) -> int:
    """Compute and store features for every request that has none yet; return rows written.

    Incremental and idempotent: a second call with nothing new writes 0 rows. With
    `force=True` every request's features are deleted and recomputed (after a lexicon change).
    Each distinct (prompt_text, has tools, endpoint) key is computed once, however many
    requests repeat it; prompts stream through `feature_batch` in Arrow batches of
    `batch_size`, `workers` batches at a time (default: both cores, `WORKERS`).

    Example:
        >>> import workbench as wb
        >>> case = wb.open()
        >>> case.execute("insert into requests (request_id, prompt_text) values "
        ...              "('a', 'Hi there'), ('b', 'Hi there'), ('c', NULL)")
        >>> compute_features(case), compute_features(case)
        (3, 0)
    """
    stats = {"rows": 0, "keys": 0, "batches": 0}
    with case.connect(write=True) as con:
        if force:  # drop and recreate: far cheaper than deleting row by row from the index
            con.execute("drop table if exists features")
            con.execute(FEATURES.ddl())
        con.execute("drop table if exists _features_stage")
        con.execute(_KEYS)
        stats["keys"] = _scalar(con, "select count(*) from _features_keys")
        if stats["keys"]:
            # no key or index on the stage: each key is written once, and an index would be
            # maintained on every insert for nothing
            con.execute("create table _features_stage as select * from features limit 0")
            writer = con.cursor()
            try:
                reader = con.sql("select key::varchar as request_id, prompt_text, "
                                 "has_tools::int as tool_count, endpoint "
                                 "from _features_keys").to_arrow_reader(batch_size)
                for out in _pmap(reader, workers):
                    writer.register("_features_batch", out)
                    writer.execute("insert into _features_stage select * from _features_batch")
                    writer.unregister("_features_batch")
                    stats["batches"] += 1
            finally:
                writer.close()
            stats["rows"] = _scalar(con, _WRITE)
            con.execute("drop table if exists _features_stage")
        con.execute("drop table if exists _features_keys")
    last_run.update(stats)
    return stats["rows"]


def _pmap(batches: Iterable[pa.RecordBatch], workers: int | None) -> Iterator[pa.RecordBatch]:
    """`feature_batch` over the batches, results in order, up to `workers` batches at a time.

    Threads, not processes: polars and numpy release the GIL, so two batches in flight keep both
    cores busy while one runs its Python-level steps; a spawned process pool was measured to
    cost about 1 CPU-second per worker to start (imports, regex compilation) for no gain.
    """
    workers = WORKERS if workers is None else workers
    if workers <= 1:
        yield from map(feature_batch, batches)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="features") as ex:
        pending: deque[Future[pa.RecordBatch]] = deque()
        for batch in batches:
            pending.append(ex.submit(feature_batch, batch))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _scalar(con: Any, query: str) -> int:
    row = con.execute(query).fetchone()
    return int(row[0]) if row else 0
