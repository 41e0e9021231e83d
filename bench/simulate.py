"""Benchmark the simulator: requests per second and peak memory as the world grows.

Each size runs in its own process (so peak memory is that run's own); the baseline is DuckDB
reading the same gzip JSONL files back (`read_ndjson_objects`: decompress and split every
record), in the same run.

    .venv/bin/python bench/simulate.py                  # 100k and 1M requests
    .venv/bin/python bench/simulate.py 100000 10000000  # any sizes
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, peak_rss_mb, table, write_section  # noqa: E402

ACCOUNTS, DAYS = 2000, 14


def child(n: int, out: str) -> None:
    from workbench.simulator import simulate

    t0, c0 = time.perf_counter(), time.process_time()
    s = simulate(out, accounts=ACCOUNTS, days=DAYS, seed=0, requests=n)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"requests": s.requests, "secs": secs, "cpu": cpu, "rss": peak_rss_mb(),
                      "campaign_share": s.campaign_requests / s.requests}))


def duckdb_scan(out: str) -> float:
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.sql(f"select count(*) from read_ndjson_objects('{out}/logs/*.jsonl.gz')").fetchall()
    return time.perf_counter() - t0


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as out:
            res = subprocess.run([sys.executable, __file__, "--child", str(n), out],
                                 check=True, capture_output=True, text=True)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            size_mb = sum(p.stat().st_size for p in Path(out, "logs").glob("*.gz")) / 2**20
            scan = duckdb_scan(out)
        rate = r["requests"] / r["secs"]
        rows.append([f"{r['requests']:,}", f"{r['secs']:.1f}", f"{rate:,.0f}",
                     f"{r['cpu']:.1f}", f"{r['requests'] / r['cpu']:,.0f}",
                     f"{r['rss']:.0f}", f"{size_mb:.0f}", f"{scan:.1f}",
                     f"{r['secs'] / scan:.1f}x", f"{r['campaign_share']:.0%}"])
        print(rows[-1], flush=True)
    body = "\n".join([
        "## Simulator (`bench/simulate.py`)", "",
        f"Machine: {machine()}. World: {ACCOUNTS} accounts over {DAYS} days, seed 0, "
        "`requests=N`. Each size runs in its own process; peak RSS is that process's. "
        "Baseline: DuckDB `read_ndjson_objects` reading back the same gzip files in the same "
        "run. Wall-clock on a shared machine: other sessions' load inflates wall times, so the "
        "simulator's own CPU time is given too.", "",
        table(["requests", "seconds", "requests/s", "CPU s", "requests/CPU s", "peak RSS MiB",
               "gzip MiB",
               "DuckDB scan s", "simulate / scan", "campaign share"], rows),
    ])
    write_section("simulate", body)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main([int(x) for x in sys.argv[1:]] or [100_000, 1_000_000])
