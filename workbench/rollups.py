"""Data computed ahead for the trace: `actor_requests`, the requests clustered by actor.

Opening a trace reads one actor's requests (a campaign's member accounts, or one account).
In `requests`, which loads in time order, those rows are spread over every row group, so the
read is a full scan of `account_id` plus a join to `features` however small the actor. After
detection and linking, `build_rollups` writes `actor_requests`: the narrow request columns
the trace panels read, joined once to their text features and to the account's campaign,
physically sorted by (campaign, account, time). An integer hash of the campaign and of the
account leads the sort order, so DuckDB's per-row-group min/max (zone maps) turn a campaign's
or an account's read into the few row groups that hold it.

The rollup records what it was built from (row counts of `requests` and `features`, a
checksum of campaign membership in `leads`, and the DuckDB version that computed the hashes)
in `workbench_meta`. `fresh()` compares that with the case as it is now; a case detected
before the rollup existed, or changed since (new loads, relinking), is read the slower way.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from workbench.case import Case

__all__ = ["META_KEY", "SAMPLE_BUCKETS", "build_rollups", "fresh"]

META_KEY = "rollup:actor_requests"
# sample_key = hash(request_id) % SAMPLE_BUCKETS; a 1-in-k sample keeps sample_key < B // k.
SAMPLE_BUCKETS = 4096

_FINGERPRINT = """
select (select count(*) from requests) as requests,
       (select count(*) from features) as features,
       (select coalesce(bit_xor(hash(account_id, coalesce(campaign_id, ''))), 0)::VARCHAR
        from leads) as leads,
       version() as duckdb
"""

# The columns the trace panels read (workbench.widgets.data), plus the clustering keys.
_BUILD = f"""
insert into actor_requests by name
select case when l.campaign_id is not null then hash(l.campaign_id) end as campaign_key,
       l.campaign_id, hash(r.account_id) as account_key, r.account_id, r.ts, r.request_id,
       (hash(r.request_id) % {SAMPLE_BUCKETS})::SMALLINT as sample_key,
       r.model, r.access_path, r.ip_prefix, r.user_agent, r.max_tokens, r.temperature, r.top_p,
       r.top_k, r.n_choices, r.stream, r.logprobs, r.top_logprobs, r.logit_bias_n,
       r.thinking_mode, r.thinking_budget, r.tool_count, r.input_tokens, r.output_tokens,
       r.reasoning_tokens, f.template_id, f.capability, f.cot_flag
from requests r
left join features f on f.request_id = r.request_id
left join leads l on l.account_id = r.account_id
order by campaign_key nulls last, l.campaign_id, account_key, r.account_id, r.ts, r.request_id
"""

_POPULATION = ("select coalesce(capability, 'unknown') as capability, count(*) as n "
               "from features group by 1 order by 1")


def _fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.sql(_FINGERPRINT).fetchall()[0]
    return {"requests": int(row[0]), "features": int(row[1]), "leads": str(row[2]),
            "duckdb": str(row[3])}


def fresh(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The rollup's record when `actor_requests` is current for this case, else None.

    Cheap: three counts over metadata and a checksum over `leads` (one row per account).
    The record carries `population`, the case-wide capability counts, as [capability, n] pairs.
    """
    import duckdb

    try:
        rows = con.sql("select value from workbench_meta where key = $k",
                       params={"k": META_KEY}).fetchall()
        has_table = con.sql("select count(*) from duckdb_tables() "
                            "where table_name = 'actor_requests'").fetchall()[0][0]
    except duckdb.Error:  # an odd or foreign case is read the slow way
        return None
    if not rows or not has_table:
        return None
    record: dict[str, Any] = json.loads(rows[0][0])
    built = {k: record.get(k) for k in ("requests", "features", "leads", "duckdb")}
    return record if built == _fingerprint(con) else None


def build_rollups(case: Case, *, force: bool = False) -> int:
    """Write `actor_requests` (skipped when already current) and return its row count.

    Called at the end of `workbench.pipeline.detect()`, after linking, because campaign
    membership comes from `leads`. Safe to call again: the table is rebuilt only when the
    requests, features or leads it was built from have changed, or when `force` is set.

    Example:
        >>> import workbench as wb
        >>> build_rollups(wb.open())
        0
    """
    from workbench.schema import TABLES

    with case.connect(write=True) as con:
        if not force and (record := fresh(con)) is not None:
            return int(record["requests"])
        con.execute("BEGIN TRANSACTION")
        try:
            # Drop and recreate rather than delete: the new rows must fill fresh row groups
            # in sort order, or the zone maps would not prune.
            con.execute("DROP TABLE IF EXISTS actor_requests")
            con.execute(TABLES["actor_requests"].ddl())
            con.execute(_BUILD)
            record = _fingerprint(con)
            record["population"] = [list(r) for r in con.sql(_POPULATION).fetchall()]
            con.execute("INSERT OR REPLACE INTO workbench_meta VALUES ($k, $v)",
                        {"k": META_KEY, "v": json.dumps(record)})
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return int(record["requests"])
