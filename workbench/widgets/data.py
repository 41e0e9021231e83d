"""The queries behind each trace panel, aggregated in DuckDB with bound parameters.

Opening a trace reads the actor's requests once from the case (narrow columns joined to their
features) into a private in-memory DuckDB database, then releases the case connection: a
notebook never holds the case file open, and brushing a time window re-aggregates that
in-memory slice instead of rescanning the case. Full texts (prompts, conversations) are fetched
from the case a few request ids at a time, only when a panel shows them.

When the case holds a current `actor_requests` rollup (`workbench.rollups`, written after
detection), the slice, the exact timeline and the population mix are read from it: a few row
groups clustered by actor instead of a scan of `requests` joined to `features`. Without it (a
case detected before the rollup existed, or changed since) the same panels come from
`requests` and `features` directly, only slower; `ActorData.source` says which was used.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb

from workbench.errors import UnknownNameError, did_you_mean
from workbench.rollups import SAMPLE_BUCKETS, fresh
from workbench.widgets.state import FILTER_COLUMNS

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case

# Caps on what is sent to the browser: a campaign of thousands of accounts stays responsive.
TOP_N = 15
MAX_REQUESTS = 100
MAX_MATRIX_ACCOUNTS = 40
DAY_BUCKETS_AFTER = timedelta(days=45)  # longer spans are bucketed per day, not per hour
# Above this many requests (per campaigns.requests) the panels below the timeline are built
# from a deterministic 1-in-k sample of the actor's requests; the timeline stays exact.
MAX_SLICE = 100_000

_HITS = """
select detector, level, entity_id, score, evidence::VARCHAR as evidence, first_seen, last_seen
from findings
where (entity_type = 'account' and entity_id in (select unnest($accounts::VARCHAR[])))
   or (entity_type = 'campaign' and entity_id = $campaign)
   -- a cohort finding reaches the members its evidence names as taking part
   or (entity_type = 'cohort'
       and list_has_any(json_extract_string(evidence, '$.members[*]'), $accounts::VARCHAR[]))
"""

# Filter and sample requests first (materialized), then join only those rows to features:
# letting the optimizer join first costs several times more on a 10M-request case.
_SLICE = f"""
with r as materialized (
  select request_id, ts, account_id, model, access_path, ip_prefix, user_agent, max_tokens,
         temperature, top_p, top_k, n_choices, stream, logprobs, top_logprobs, logit_bias_n,
         thinking_mode, thinking_budget, tool_count, input_tokens, output_tokens,
         reasoning_tokens
  from requests
  where account_id in (select unnest($accounts::VARCHAR[]))
    and hash(request_id) % {SAMPLE_BUCKETS} < $cut
)
select r.*, f.template_id, f.capability, f.cot_flag
from r left join features f on f.request_id = r.request_id
"""

# The UTC hour by integer arithmetic: several times cheaper than date_trunc on TIMESTAMPTZ,
# which goes through the ICU calendar.
HOUR = "make_timestamptz(epoch_us(ts) // 3600000000 * 3600000000)"

_HOURLY = f"""
select {HOUR} as time, model, count(*)::BIGINT as requests from requests
where account_id in (select unnest($accounts::VARCHAR[])) group by all
"""

# The same slice and timeline from the rollup: the integer key prunes row groups by their
# min/max, the id comparison guards against hash collisions.
_ROLLUP_WHERE = {
    "campaign": "campaign_key = $key and campaign_id = $id",
    "account": "account_key = $key and account_id = $id",
}
_ROLLUP_SLICE = """
select request_id, ts, account_id, model, access_path, ip_prefix, user_agent, max_tokens,
       temperature, top_p, top_k, n_choices, stream, logprobs, top_logprobs, logit_bias_n,
       thinking_mode, thinking_budget, tool_count, input_tokens, output_tokens,
       reasoning_tokens, template_id, capability, cot_flag
from actor_requests where {where} and sample_key < $cut
"""
_ROLLUP_HOURLY = f"""
select {HOUR} as time, model, count(*)::BIGINT as requests
from actor_requests where {{where}} group by all
"""
_EMPTY_HOURLY = ("select null::TIMESTAMPTZ as time, null::VARCHAR as model, "
                 "0::BIGINT as requests limit 0")
_POPULATION = ("select coalesce(capability, 'unknown') as capability, count(*) as n "
               "from features group by 1")


def resolve_accounts(con: duckdb.DuckDBPyConnection, entity_type: str,
                     entity_id: str) -> list[str]:
    """Member accounts of an actor: the account itself, or a campaign's accounts from `leads`.

    Raises UnknownNameError naming the closest known id when the actor is not in the case.
    """
    def rows(sql: str, **params: Any) -> list[Any]:
        return [r[0] for r in con.sql(sql, params=params or None).fetchall()]

    if entity_type == "account":
        found = rows("select count(*) from accounts where account_id = $a union all "
                     "select count(*) from (select 1 from requests where account_id = $a "
                     "limit 1)", a=entity_id)
        if sum(found) == 0:
            near = rows("select account_id from accounts order by "
                        "jaro_winkler_similarity(account_id, $a) desc limit 5", a=entity_id)
            msg = f"Unknown account {entity_id!r}.{did_you_mean(entity_id, near)}"
            raise UnknownNameError(msg)
        return [entity_id]
    members = rows("select account_id from leads where campaign_id = $c order by risk desc, "
                   "account_id", c=entity_id)
    if not members:
        known = rows("select campaign_id from campaigns")
        hint = did_you_mean(entity_id, known)
        listing = f" Known: {', '.join(sorted(known)[:20])}." if known and not hint else ""
        msg = (f"Unknown campaign {entity_id!r} (no accounts in leads carry it).{hint}{listing}")
        raise UnknownNameError(msg)
    return members


class ActorData:
    """The actor's requests held in memory, and one method per trace panel.

    Every method takes the current window and filters; window bounds and filter values are
    bound parameters, filter column names come only from `FILTER_COLUMNS`.
    """

    def __init__(self, case: Case, entity_type: str, entity_id: str) -> None:
        self.case = case
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.db = duckdb.connect(":memory:")
        self.db.sql("SET TimeZone = 'UTC'")
        # One case connection for everything the trace needs up front, released at once.
        with case.connect() as con:
            self.accounts = resolve_accounts(con, entity_type, entity_id)
            self.sample = 1
            if entity_type == "campaign":
                known = con.sql("select requests from campaigns where campaign_id = $c",
                                params={"c": entity_id}).fetchall()
                if known and known[0][0]:
                    self.sample = max(1, -(-int(known[0][0]) // MAX_SLICE))
            rollup = fresh(con)
            #: Where the slice came from: "actor_requests" (the rollup) or "requests".
            self.source = "requests" if rollup is None else "actor_requests"
            for table, sql, params in (
                *self._slice_queries(con, rollup),
                ("hits", _HITS, {"accounts": self.accounts, "campaign": entity_id
                                 if entity_type == "campaign" else None}),
                ("releases", "select model, released_at from model_releases", {}),
                ("links", self._links_sql(), {"a": self.accounts}),
            ):
                arrow = con.sql(sql, params=params or None).arrow()
                self.db.register("incoming", arrow)
                self.db.sql(f"create table {table} as select * from incoming")
                self.db.unregister("incoming")
            # The prompts the first screen shows, on this same connection (opening another
            # costs more than the lookup).
            self._prompts: dict[str, str | None] = {}
            self.prefetch(con=con)
        if rollup is not None:
            self.db.sql("create table population (capability VARCHAR, n BIGINT)")
            self.db.executemany("insert into population values (?, ?)", rollup["population"])
        if self.sample == 1:
            self.db.sql(f"insert into hourly select {HOUR}, model, count(*) "
                        "from actor group by all")
        span = self.db.sql("select min(time), max(time) + interval 1 hour, sum(requests) "
                           "from hourly").fetchall()[0]
        self.first_seen: datetime | None = span[0]
        self.last_seen: datetime | None = span[1]
        self.n_requests: int = int(span[2] or 0)

    def _slice_queries(self, con: duckdb.DuckDBPyConnection, rollup: dict[str, Any] | None
                       ) -> list[tuple[str, str, dict[str, Any]]]:
        """(table, query, params) for the slice, the exact timeline and the population."""
        sampled = self.sample > 1
        # Both paths keep the same 1-in-k sample: requests whose hash(request_id) % B < B / k.
        cut = -(-SAMPLE_BUCKETS // self.sample)
        if rollup is None:
            return [("actor", _SLICE, {"accounts": self.accounts, "cut": cut}),
                    ("hourly", _HOURLY if sampled else _EMPTY_HOURLY,
                     {"accounts": self.accounts} if sampled else {}),
                    ("population", _POPULATION, {})]
        key = con.sql("select hash($id)", params={"id": self.entity_id}).fetchall()[0][0]
        actor = {"key": key, "id": self.entity_id}
        where = _ROLLUP_WHERE[self.entity_type]
        return [("actor", _ROLLUP_SLICE.format(where=where),
                 {**actor, "cut": cut}),
                ("hourly", _ROLLUP_HOURLY.format(where=where) if sampled else _EMPTY_HOURLY,
                 actor if sampled else {})]

    def _links_sql(self) -> str:
        where = ("src in (select unnest($a::VARCHAR[])) and dst in (select unnest($a::VARCHAR[]))"
                 if self.entity_type == "campaign" else "src = $a[1] or dst = $a[1]")
        return ("select src, dst, kind, value, weight, evidence::VARCHAR as evidence "
                f"from account_links where {where} order by weight desc, src, dst, kind "
                "limit 2000")

    def close(self) -> None:
        """Free the in-memory slice."""
        self.db.close()

    # -- helpers -----------------------------------------------------------------------------

    def _q(self, sql: str, **params: Any) -> pl.DataFrame:
        return self.db.sql(sql, params=params or None).pl()

    def _where(self, window: tuple[datetime, datetime] | None,
               filters: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = ["true"]
        params: dict[str, Any] = {}
        if window is not None:
            clauses.append("ts >= $w0 and ts < $w1")
            params.update(w0=window[0], w1=window[1])
        for i, (col, value) in enumerate(sorted((filters or {}).items())):
            if col not in FILTER_COLUMNS:
                msg = f"Unknown filter column {col!r}.{did_you_mean(col, FILTER_COLUMNS)}"
                raise UnknownNameError(msg)
            if isinstance(value, list | tuple):
                clauses.append(f'"{col}" in (select unnest($f{i}::VARCHAR[]))')
                params[f"f{i}"] = [str(v) for v in value]
            else:
                clauses.append(f'"{col}" = $f{i}')
                params[f"f{i}"] = str(value)
        return " and ".join(clauses), params

    @property
    def bucket(self) -> str:
        """'hour' or 'day': the timeline's bucket, coarser for long spans."""
        if self.first_seen and self.last_seen and \
                self.last_seen - self.first_seen > DAY_BUCKETS_AFTER:
            return "day"
        return "hour"

    # -- panels ------------------------------------------------------------------------------

    def timeline(self) -> pl.DataFrame:
        """Requests per bucket by model over the actor's whole span (the brush lives here)."""
        return self._q(f"select date_trunc('{self.bucket}', time) as time, model, "
                       "sum(requests)::BIGINT as requests from hourly group by all order by 1, 2")

    def releases(self) -> pl.DataFrame:
        """Model releases within a week either side of the actor's span."""
        if self.first_seen is None or self.last_seen is None:
            return self._q("select model, released_at from releases limit 0")
        return self._q("select model, released_at from releases where released_at between $a "
                       "and $b order by released_at",
                       a=self.first_seen - timedelta(days=7), b=self.last_seen + timedelta(days=7))

    def volume(self, window: Any = None, filters: Any = None) -> dict[str, Any]:
        """Requests, accounts, tokens and time span in the window."""
        where, p = self._where(window, filters)
        row = self._q(
            "select count(*)::BIGINT as requests, count(distinct account_id)::BIGINT as accounts,"
            " coalesce(sum(input_tokens), 0)::BIGINT as input_tokens,"
            " coalesce(sum(output_tokens), 0)::BIGINT as output_tokens,"
            " coalesce(sum(reasoning_tokens), 0)::BIGINT as reasoning_tokens,"
            " count(distinct model)::BIGINT as models, min(ts) as first_seen, max(ts) as last_seen"
            f" from actor where {where}", **p)
        return row.row(0, named=True)

    def capability_mix(self, window: Any = None, filters: Any = None) -> pl.DataFrame:
        """Share of requests per capability for the actor and for the whole case."""
        import polars as pl

        where, p = self._where(window, filters)
        mine = self._q("select coalesce(capability, 'unknown') as capability, count(*) as n "
                       f"from actor where {where} group by 1", **p)
        pop = self.population_mix()
        frames = []
        for group, df in (("actor", mine), ("population", pop)):
            total = df["n"].sum() or 1
            frames.append(df.with_columns(share=pl.col("n") / total, group=pl.lit(group))
                          .select("capability", "group", "share", pl.col("n").cast(pl.Int64)))
        return pl.concat(frames).sort("capability", "group")

    def population_mix(self) -> pl.DataFrame:
        """Capability counts over every request of the case (read once, when the trace opens)."""
        return self._q("select * from population")

    def fingerprint(self, window: Any = None, filters: Any = None) -> pl.DataFrame:
        """The most common combinations of request parameters, with their share."""
        where, p = self._where(window, filters)
        return self._q(
            "select max_tokens, temperature, top_p, top_k, n_choices, thinking_mode, "
            "thinking_budget, tool_count > 0 as tools, logprobs, top_logprobs, "
            "coalesce(logit_bias_n, 0) > 0 as logit_bias, count(*)::BIGINT as requests, "
            "round(count(*) / sum(count(*)) over (), 3) as share "
            f"from actor where {where} group by all order by requests desc limit {TOP_N}", **p)

    def prefetch(self, window: Any = None, filters: Any = None,
                 con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Fetch, in one case query, the prompts the templates and requests panels will show."""
        where, p = self._where(window, filters)
        ids = self._q(
            "(select min_by(request_id, ts) as id from actor "
            f"where {where} and template_id is not null group by template_id "
            f"order by count(*) desc, template_id limit {TOP_N}) union all "
            f"(select request_id from actor where {where} order by ts, request_id "
            f"limit {MAX_REQUESTS})", **p)["id"].to_list()
        self.prompts(ids, con=con)

    def templates(self, window: Any = None, filters: Any = None) -> pl.DataFrame:
        """Top prompt templates with counts, accounts reached and one example prompt each."""
        import polars as pl

        where, p = self._where(window, filters)
        top = self._q(
            "select template_id, count(*)::BIGINT as requests, "
            "count(distinct account_id)::BIGINT as accounts, any_value(capability) as capability,"
            " bool_or(cot_flag) as cot, min_by(request_id, ts) as example_request "
            f"from actor where {where} and template_id is not null "
            f"group by 1 order by requests desc, template_id limit {TOP_N}", **p)
        prompts = self.prompts(top["example_request"].to_list())
        return top.with_columns(example_prompt=pl.Series(
            [prompts.get(r) for r in top["example_request"].to_list()], dtype=pl.String))

    def access(self, window: Any = None, filters: Any = None) -> dict[str, pl.DataFrame]:
        """Access paths, IP prefixes and user agents, with requests and accounts for each."""
        where, p = self._where(window, filters)
        out = {}
        for col in ("access_path", "ip_prefix", "user_agent"):
            out[col] = self._q(
                f'select "{col}" as value, count(*)::BIGINT as requests, '
                "count(distinct account_id)::BIGINT as accounts "
                f"from actor where {where} group by 1 order by requests desc limit {TOP_N}", **p)
        return out

    def accounts_table(self, window: Any = None, filters: Any = None) -> pl.DataFrame:
        """The busiest member accounts in the window."""
        where, p = self._where(window, filters)
        return self._q(
            "select account_id, count(*)::BIGINT as requests, "
            "sum(coalesce(output_tokens, 0))::BIGINT as output_tokens, min(ts) as first_seen, "
            f"max(ts) as last_seen from actor where {where} group by 1 "
            f"order by requests desc, account_id limit {TOP_N}", **p)

    def detectors(self, window: Any = None) -> pl.DataFrame:
        """Detectors that fired on the actor's accounts (or on the campaign), with evidence."""
        w0, w1 = window if window is not None else (None, None)
        return self._q(
            "select detector, any_value(level) as level, "
            "count(distinct entity_id)::BIGINT as entities, max(score) as max_score, "
            "min(first_seen) as first_seen, max(last_seen) as last_seen, "
            "arg_max(evidence, score) as evidence from hits "
            "where ($w0::TIMESTAMPTZ is null or last_seen is null or last_seen >= $w0) "
            "and ($w1::TIMESTAMPTZ is null or first_seen is null or first_seen < $w1) "
            "group by detector order by max_score desc, detector", w0=w0, w1=w1)

    def evidence_requests(self, evidence: str | None) -> list[str]:
        """Request ids of this actor that a finding's evidence names (for drill-down)."""
        strings: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, str):
                strings.append(node)
            elif isinstance(node, dict):
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        try:
            walk(json.loads(evidence or "null"))
        except ValueError:
            return []
        if not strings:
            return []
        df = self._q("select request_id from actor where request_id in "
                     "(select unnest($ids::VARCHAR[])) order by ts", ids=strings)
        return df["request_id"].to_list()

    def links(self) -> pl.DataFrame:
        """Edges of the account graph that touch the actor, strongest first (at most 2,000)."""
        return self._q("select * from links order by weight desc, src, dst, kind")

    def requests(self, window: Any = None, filters: Any = None,
                 limit: int = MAX_REQUESTS) -> pl.DataFrame:
        """Individual requests in the window (earliest first, capped), with a prompt excerpt."""
        import polars as pl

        where, p = self._where(window, filters)
        df = self._q(
            "select request_id, ts, account_id, model, capability, template_id, max_tokens, "
            f"output_tokens from actor where {where} order by ts, request_id limit {int(limit)}",
            **p)
        prompts = self.prompts(df["request_id"].to_list())
        return df.with_columns(prompt=pl.Series(
            [prompts.get(r) for r in df["request_id"].to_list()], dtype=pl.String))

    def prompts(self, request_ids: list[str],
                con: duckdb.DuckDBPyConnection | None = None) -> dict[str, str | None]:
        """Prompt text of a few requests, fetched from the case once and cached.

        The lookup is bounded by the requests' time span too, so DuckDB skips row groups
        outside it (logs load in time order). `con` is an open case connection to reuse.
        """
        missing = [r for r in dict.fromkeys(request_ids)
                   if r is not None and r not in self._prompts]
        if missing:
            lo, hi = self.db.sql("select min(ts), max(ts) from actor where request_id in "
                                 "(select unnest($ids::VARCHAR[]))",
                                 params={"ids": missing}).fetchall()[0]
            query = ("select request_id, prompt_text from requests where ts between $lo and $hi "
                     "and request_id in (select unnest($ids::VARCHAR[]))")
            df = (self.case.sql(query, ids=missing, lo=lo, hi=hi) if con is None else
                  con.sql(query, params={"ids": missing, "lo": lo, "hi": hi}).pl())
            self._prompts.update(zip(df["request_id"].to_list(), df["prompt_text"].to_list(),
                                     strict=True))
            self._prompts.update({r: None for r in missing if r not in self._prompts})
        return {r: self._prompts.get(r) for r in request_ids}

    def conversation(self, request_id: str) -> dict[str, Any]:
        """Everything logged about one request: metadata, prompt, output and full content."""
        df = self.case.sql(
            "select r.*, c.system_prompt, c.messages::VARCHAR as messages, "
            "c.tools::VARCHAR as tools, c.response::VARCHAR as response from requests r "
            "left join request_content c on c.request_id = r.request_id "
            "where r.request_id = $rid", rid=request_id)
        if df.height == 0:
            msg = f"Unknown request {request_id!r}: it is not in this case."
            raise UnknownNameError(msg)
        return df.row(0, named=True)
