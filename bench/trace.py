"""Time to open the trace of the largest campaign on 1M- and 10M-request cases.

The cases are synthetic, generated in DuckDB SQL (the simulator is built for realism, not for
ten million rows in a minute): 20,000 accounts over 30 days, requests in time order as logs
load, one campaign of 2,000 accounts making a tenth of the requests, features for every
request, findings, links, leads and campaigns. Each case is opened read-only, as a notebook
does. Above `MAX_SLICE` requests the panels below the timeline use a 1-in-k sample (the
timeline stays exact); the table says which k was used. After building, the script writes the
`actor_requests` rollup (`workbench.rollups.build_rollups`, as `detect()` does after linking)
and times it; the trace reads the campaign through it. The fallback the trace takes when the
rollup is absent or stale (a scan of `requests` joined to `features`) is timed once too.

Figures: a plain DuckDB `count(*)` of requests and a full scan of `requests.account_id` on a
fresh connection (the baselines), then `wb.trace(case, campaign=...)` built end to end
(queries, charts, tables, widgets): the first open in the process, which also bundles Vega
for offline use once, and the warm open (median of 5), plus re-aggregating every panel for a
brushed one-day window. Usage: `python bench/trace.py [--sizes 1000000,10000000]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import workbench as wb  # noqa: E402
from bench._common import ROOT, machine, peak_rss_mb, table, write_section  # noqa: E402

OUT = ROOT / "bench" / "out"
ACCOUNTS, CAMPAIGN_ACCOUNTS, DAYS = 20_000, 2_000, 30

BUILD = """
insert into accounts by name
select 'acct-' || range as account_id, 'org-' || (range // 5) as org_id,
       timestamptz '2024-12-01 00:00:00+00' as created_at,
       case when range < {camp} then 'pay-shared-' || (range % 40) else 'pay-' || range end
         as payment_fingerprint, 'example.com' as email_domain, 'US' as country,
       'self_serve' as signup_path, range >= {camp} as verified
from range({accounts});

insert into model_releases by name
select * from (values ('model-a', timestamptz '2024-12-01 00:00:00+00'),
                      ('model-b', timestamptz '2025-01-15 00:00:00+00')) t(model, released_at);

insert into requests by name
select 'req-' || range as request_id,
       timestamptz '2025-01-01 00:00:00+00' + to_seconds((range * {days} * 86400 // {n})::BIGINT)
         as ts,
       'acct-' || case when range % 10 = 0 then (hash(range, 1) % {camp})
                       else {camp} + hash(range, 1) % ({accounts} - {camp}) end as account_id,
       'org-x' as org_id, 'key-' || (range % 50000) as api_key_id,
       '10.' || (range % 200) || '.0.0/24' as ip_prefix,
       'python-httpx/0.' || (range % 30) as user_agent,
       case when range % 7 = 0 then 'reseller:r' || (range % 5) else 'direct' end as access_path,
       case when range % 3 = 0 then 'model-b' else 'model-a' end as model,
       200 as status, case when range % 10 = 0 then 8192 else 1024 end as max_tokens,
       (range % 5) / 5.0 as temperature, range % 10 = 0 as logprobs,
       case when range % 10 = 0 then 'enabled' else 'disabled' end as thinking_mode,
       (range % 3)::INTEGER as tool_count, 0 as logit_bias_n, 1 as n_choices,
       'prompt ' || (range % 1000) || ' please explain' as prompt_text,
       (100 + range % 900)::INTEGER as input_tokens, (50 + range % 2000)::INTEGER
         as output_tokens, (range % 400)::INTEGER as reasoning_tokens
from range({n});

insert into features by name
select 'req-' || range as request_id, 'tpl-' || (range % 1000) as template_id,
       ['coding', 'maths', 'reasoning', 'chat', 'creative'][1 + range % 5] as capability,
       range % 10 = 0 as cot_flag
from range({n});

insert into leads by name
select 'acct-' || range as account_id, case when range < {camp} then 'camp-big' end
         as campaign_id, case when range < {camp} then 0.9 else 0.1 end as risk,
       case when range < {camp} then 'high' else 'low' end as level
from range({accounts});

insert into campaigns by name
select 'camp-big' as campaign_id, {camp} as accounts,
       (select count(*) from requests r join leads l using (account_id)
        where l.campaign_id = 'camp-big') as requests, 0 as tokens,
       'critical' as level, 0.95 as risk;

insert into account_links by name
select 'acct-' || range as src, 'acct-' || (range + 40) as dst, 'payment' as kind,
       'pay-shared-' || (range % 40) as value, 0.8 as weight
from range({camp} - 40);

insert into findings by name
select 'run-1' as run_id, 'cot_elicitation' as detector, 'high' as level,
       'account' as entity_type, 'acct-' || range as entity_id, 0.9 as score,
       json_object('examples', ['req-' || (range * 10)]) as evidence,
       timestamptz '2025-01-01 00:00:00+00' as first_seen,
       timestamptz '2025-01-31 00:00:00+00' as last_seen
from range({camp});
"""


def rollup(path: Path) -> float:
    """Write the trace rollup afresh, as detect() does after linking; seconds taken."""
    from workbench.rollups import build_rollups

    t0 = time.perf_counter()
    build_rollups(wb.open(path), force=True)
    return time.perf_counter() - t0


def build(n: int) -> Path:
    """Make (or reuse) a synthetic case with n requests."""
    path = OUT / f"trace_{n}.duckdb"
    if path.exists():
        con = duckdb.connect(str(path), read_only=True)
        have = con.sql("select count(*) from requests").fetchall()[0][0]
        con.close()
        if have == n:
            return path
        path.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    wb.open(path)
    con = duckdb.connect(str(path))
    con.execute(BUILD.format(n=n, accounts=ACCOUNTS, camp=CAMPAIGN_ACCOUNTS, days=DAYS))
    con.execute("checkpoint")
    con.close()
    return path


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(path: Path) -> dict[str, float]:
    """Baselines and trace timings on one case file."""
    def scan(sql: str) -> None:
        con = duckdb.connect(str(path), read_only=True)
        con.sql(sql).fetchall()
        con.close()

    count = min(_time(lambda: scan("select count(*) from requests")) for _ in range(3))
    column = min(_time(lambda: scan("select count(distinct account_id) from requests"))
                 for _ in range(3))
    case = wb.open(path, read_only=True)
    first = _time(lambda: wb.trace(case, campaign="camp-big"))
    warm = [_time(lambda: wb.trace(case, campaign="camp-big")) for _ in range(5)]
    t = wb.trace(case, campaign="camp-big")
    brush = _time(lambda: t.state.set_window("2025-01-10T00:00:00+00:00",
                                             "2025-01-11T00:00:00+00:00"))
    assert t.data is not None
    assert t.data.source == "actor_requests", "the rollup was not used"
    from workbench.widgets import data

    real = data.fresh
    data.fresh = lambda con: None  # type: ignore[assignment]  # as on a case without it
    try:
        fallback = _time(lambda: wb.trace(case, campaign="camp-big"))
    finally:
        data.fresh = real
    return {"count": count, "column": column, "first": first, "warm": statistics.median(warm),
            "brush": brush, "campaign_requests": t.data.n_requests, "sample": t.data.sample,
            "fallback": fallback}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    args = parser.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        t0 = time.perf_counter()
        path = build(n)
        print(f"case {n:,}: ready in {time.perf_counter() - t0:.1f}s", flush=True)
        built = rollup(path)
        print(f"case {n:,}: rollup {built:.1f}s", flush=True)
        m = measure(path)
        print(m, flush=True)
        rows.append([f"{n:,}", f"{m['campaign_requests']:,}", f"{m['count'] * 1000:.1f}",
                     f"{m['column'] * 1000:.0f}", f"{m['warm']:.2f}",
                     f"{m['warm'] / m['column']:.1f}×", f"{m['first']:.2f}",
                     f"{m['brush']:.2f}", f"1 in {m['sample']}", f"{m['fallback']:.2f}",
                     f"{built:.1f}"])
    body = "\n".join([
        "## Trace open (`bench/trace.py`)", "",
        f"Machine: {machine()}. Synthetic read-only cases: {ACCOUNTS:,} accounts over {DAYS} "
        f"days; the traced campaign has {CAMPAIGN_ACCOUNTS:,} accounts and a tenth of the "
        "requests. Baselines on a fresh connection: `count(*)` of requests, and "
        "`count(distinct account_id)` (a full scan of the column the trace filters on). "
        "Warm open = `wb.trace(case, campaign=...)` end to end, median of 5; first open also "
        "bundles Vega for offline charts once per process; brush = re-aggregating every "
        "panel for a one-day window. Targets: warm open ≤ 1 s at 1M, ≤ 2 s at 10M. The "
        "trace reads the campaign from the `actor_requests` rollup (sorted by campaign, "
        "account, time, so zone maps prune it to the campaign's row groups); `no rollup s` is "
        "one open on the fallback path (scan of `requests` joined to `features`), and "
        "`rollup build s` the one-off cost of writing the rollup after detection.", "",
        table(["requests", "campaign requests", "count(*) ms", "account_id scan ms",
               "trace open s (warm)", "open / scan", "first open s", "brush s",
               "panel sample", "no rollup s", "rollup build s"], rows), "",
        f"Peak RSS {peak_rss_mb():.0f} MiB."])
    write_section("trace", body)
    print(body)


if __name__ == "__main__":
    main()
