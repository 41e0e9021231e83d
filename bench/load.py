"""Load throughput of the native loader next to DuckDB's own read_json of the same file.

Builds a file of N native-envelope records (default 1,000,000) by cycling the records of a small
simulated world with fresh request ids, then, each in a fresh subprocess so peak memory is
per-step: (1) the baseline `CREATE TABLE raw AS SELECT * FROM read_json(file)` into a case-sized
DuckDB file, and (2) `workbench.load(workbench.open(case), file)`. Writes the figures to
docs/benchmarks.md.

    .venv/bin/python bench/load.py [--records N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402

BASELINE = """
import sys, time, resource, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
path = sys.argv[1].replace("'", "''")  # our own temp file, quoted as a literal
con.execute(f"CREATE TABLE raw AS SELECT * FROM read_json('{path}', "
            "format = 'newline_delimited')").fetchall()
n = con.execute("select count(*) from raw").fetchall()[0][0]
u = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, n, u.ru_maxrss / 1024, u.ru_utime + u.ru_stime)
"""
LOADER = """
import sys, time, resource, workbench as wb
case = wb.open(sys.argv[2])
t = time.perf_counter()
r = wb.load(case, [sys.argv[1]], progress=False)
u = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, r.loaded, u.ru_maxrss / 1024, r.quarantined, u.ru_utime + u.ru_stime)
"""
_ID = re.compile(rb'"request_id": ?"[^"]*"')


def build(out: Path, records: int) -> None:
    """Write `records` native lines by cycling a small simulated world with fresh ids."""
    from workbench.loaders._stream import chunks
    from workbench.simulator import simulate

    world = out / "world"
    simulate(world, accounts=300, days=3, seed=7)
    seed_lines: list[bytes] = []
    for f in sorted((world / "logs").glob("*.jsonl.gz")):
        for tbl in chunks(f):
            seed_lines += [s.encode() for s in tbl.column("text").to_pylist() if s.strip()]
    with (out / "logs.jsonl").open("wb") as fh:
        for i in range(records):
            line = seed_lines[i % len(seed_lines)]
            fh.write(_ID.sub(b'"request_id": "bench_%d"' % i, line, count=1) + b"\n")


def run(script: str, *args: str) -> list[float]:
    res = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         check=True)
    return [float(x) for x in res.stdout.strip().splitlines()[-1].split()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="Work folder to keep (default: temp).")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_load_"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    build(work, args.records)
    src = work / "logs.jsonl"
    size_mb = src.stat().st_size / 2**20
    print(f"built {args.records:,} records, {size_mb:,.0f} MiB in {time.perf_counter() - t0:.0f}s")
    for p in (work / "raw.duckdb", work / "case.duckdb"):
        p.unlink(missing_ok=True)
    raw_s, raw_n, raw_mb, raw_cpu = run(BASELINE, str(src), str(work / "raw.duckdb"))
    load_s, loaded, load_mb, quarantined, load_cpu = run(LOADER, str(src),
                                                         str(work / "case.duckdb"))
    load_avg = os.getloadavg()[0]
    print(f"read_json {raw_s:.1f}s ({raw_cpu:.1f} CPU s, {raw_n:,.0f} rows, {raw_mb:.0f} MiB "
          f"peak); load {load_s:.1f}s ({load_cpu:.1f} CPU s, {loaded:,.0f} loaded, "
          f"{quarantined:.0f} quarantined, {load_mb:.0f} MiB peak); ratio {load_s / raw_s:.2f} "
          f"(CPU {load_cpu / raw_cpu:.2f}); load avg {load_avg:.1f}")
    rows = [
        ["DuckDB `CREATE TABLE … AS SELECT * FROM read_json(…)` (baseline)", f"{raw_s:.1f}",
         f"{raw_n / raw_s:,.0f}", f"{size_mb / raw_s:.1f}", f"{raw_mb:,.0f}", "1.00",
         f"{raw_cpu:.1f}", "1.00"],
        ["`workbench load` (native loader, validated, deduplicated, atomic)", f"{load_s:.1f}",
         f"{loaded / load_s:,.0f}", f"{size_mb / load_s:.1f}", f"{load_mb:,.0f}",
         f"{load_s / raw_s:.2f}", f"{load_cpu:.1f}", f"{load_cpu / raw_cpu:.2f}"],
    ]
    body = "\n".join([
        "## Load (`bench/load.py`)", "",
        f"{args.records:,} native-envelope records ({size_mb:,.0f} MiB uncompressed JSONL, cycled "
        f"from a simulated world with fresh request ids), loaded into an empty case file; each "
        f"step in its own process. Machine: {machine()}.", "",
        table(["step", "seconds", "records/s", "MiB/s", "peak RSS MiB", "time ÷ baseline",
               "CPU s", "CPU ÷ baseline"], rows),
        "", f"Target: at most 2× the baseline and under 2 GB peak. Quarantined: "
        f"{quarantined:.0f}. CPU s is each step's own CPU time (both cores); the machine's "
        f"1-minute load average when the run ended was {load_avg:.1f} (other sessions share "
        "it), so wall times are inflated and the CPU ratio is the steadier figure.",
    ])
    write_section("load", body)


if __name__ == "__main__":
    main()
