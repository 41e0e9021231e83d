"""Load throughput of the native loader next to DuckDB's own read_json of the same file, and
the peak memory of a large pretty-printed OTLP load.

Default mode: builds a file of N native-envelope records (default 1,000,000) by cycling the
records of a small simulated world with fresh request ids, then, each in a fresh subprocess so
peak memory is per-step: (1) the baseline `CREATE TABLE raw AS SELECT * FROM read_json(file)`
into a case-sized DuckDB file, and (2) `workbench.load(workbench.open(case), file)`. Writes
section "load" of docs/benchmarks.md.

`--otlp-gb G`: builds one pretty-printed OTLP/JSON document of about G GB (one resource, one
scope, spans with GenAI attributes and messages of a few hundred characters each) and loads it
with `workbench load` into a case file under the default memory limit, in a subprocess whose
peak resident memory is reported. Writes section "load_otlp".

    .venv/bin/python bench/load.py [--records N] [--shape real|repeat] [--keep DIR] [--no-write]
    .venv/bin/python bench/load.py --otlp-gb 1
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
from _common import ROOT, machine, table, write_section  # noqa: E402

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


CORPUS = ROOT.parent / "shared" / "corpus"
SHAPES = {"real": "real-traffic shape: every prompt and output distinct, 2,000-4,000 characters",
          "repeat": "the world's own prompts and outputs, repeating"}


def _text_pool(size: int = 32 << 20) -> str:
    """A long text to cut distinct prompts and outputs from: the real prompt corpus when it is
    there (../shared/corpus), else seeded words."""
    import json
    import random

    parts: list[str] = []
    if CORPUS.is_dir():
        for f in sorted(CORPUS.glob("*.jsonl")):
            for line in f.read_text().split("\n"):  # not splitlines: prompts hold U+2028
                if line.strip():
                    parts.append(str(json.loads(line).get("prompt", "")))
    rng = random.Random(11)
    words = " ".join(parts).split() or [f"w{i}" for i in range(20000)]
    out, n = [], 0
    while n < size:
        w = rng.choice(words)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


def build(out: Path, records: int, shape: str = "real") -> None:
    """Write `records` native lines by cycling a small simulated world with fresh ids. In the
    real-traffic shape every prompt and every output is distinct and 2,000-4,000 characters
    long (as provider logs keep them); in the `repeat` shape the world's own texts repeat."""
    import json
    import random

    from workbench.loaders._stream import chunks
    from workbench.simulator import simulate

    world = out / "world"
    simulate(world, accounts=300, days=3, seed=7)
    seed_lines: list[bytes] = []
    for f in sorted((world / "logs").glob("*.jsonl.gz")):
        for tbl in chunks(f):
            seed_lines += [s.encode() for s in tbl.column("text").to_pylist() if s.strip()]
    if shape == "repeat":
        with (out / "logs.jsonl").open("wb") as fh:
            for i in range(records):
                line = seed_lines[i % len(seed_lines)]
                fh.write(_ID.sub(b'"request_id": "bench_%d"' % i, line, count=1) + b"\n")
        return
    seeds = [json.loads(x) for x in seed_lines]
    pool = _text_pool()
    rng = random.Random(5)

    def text(i: int) -> str:
        n = rng.randint(2000, 4000)
        at = rng.randrange(len(pool) - n)
        return f"[{i}] " + pool[at:at + n]

    with (out / "logs.jsonl").open("w") as fh:
        for i in range(records):
            r = json.loads(json.dumps(seeds[i % len(seeds)]))
            r["request_id"] = f"bench_{i}"
            msgs = (r.get("request") or {}).get("messages")
            if msgs:
                msgs[-1]["content"] = text(i)
            resp = r.get("response") or {}
            for b in resp.get("content") or []:
                if b.get("type") == "text":
                    b["text"] = text(i)
            for c in resp.get("choices") or []:
                if isinstance(c.get("message"), dict):
                    c["message"]["content"] = text(i)
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")


OTLP_LOADER = """
import sys, time, resource, workbench as wb
case = wb.open(sys.argv[2])
t = time.perf_counter()
r = wb.load(case, [sys.argv[1]], progress=False)
u = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, r.read, r.loaded, r.quarantined, u.ru_maxrss / 1024,
      u.ru_utime + u.ru_stime)
"""


def build_otlp(path: Path, gigabytes: float) -> int:
    """Write one pretty-printed OTLP export of about `gigabytes` GB; return its span count."""
    import json
    import random

    rng = random.Random(7)
    words = [f"w{i}" for i in range(5000)]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "gateway"}},
                               {"key": "account.id", "value": {"stringValue": "acct_bench"}}]}
    target = int(gigabytes * 2**30)
    n = 0
    with path.open("w") as fh:
        head = json.dumps({"resource": resource, "scope": {"name": "bench"}}, indent=2)
        fh.write('{\n  "resourceSpans": [\n    {\n      "resource": ' +
                 json.dumps(resource, indent=2).replace("\n", "\n      ") +
                 ',\n      "scopeSpans": [\n        {\n          "scope": {"name": "bench"},'
                 '\n          "spans": [\n')
        del head
        while fh.tell() < target:
            text = " ".join(rng.choice(words) for _ in range(60))
            msgs = json.dumps([{"role": "user", "parts": [{"type": "text", "content": text}]}])
            outs = json.dumps([{"role": "assistant", "parts": [{"type": "text",
                                "content": text[::-1]}], "finish_reason": "stop"}])
            start = 1770000000000000000 + n * 1000000
            span = {"traceId": f"{n:032x}", "spanId": f"{n:016x}", "name": "chat m",
                    "kind": 3, "startTimeUnixNano": str(start),
                    "endTimeUnixNano": str(start + 500000000), "status": {},
                    "attributes": [
                        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                        {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                        {"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
                        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "60"}},
                        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "60"}},
                        {"key": "gen_ai.input.messages", "value": {"stringValue": msgs}},
                        {"key": "gen_ai.output.messages", "value": {"stringValue": outs}}]}
            body = json.dumps(span, indent=2).replace("\n", "\n            ")
            fh.write((",\n" if n else "") + "            " + body)
            n += 1
        fh.write("\n          ]\n        }\n      ]\n    }\n  ]\n}\n")
    return n


def otlp_main(gigabytes: float, keep: Path | None, *, write: bool = True) -> None:
    work = keep or Path(tempfile.mkdtemp(prefix="bench_otlp_"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "spans.json"
    t0 = time.perf_counter()
    spans = build_otlp(src, gigabytes)
    size_mb = src.stat().st_size / 2**20
    print(f"built {spans:,} spans, {size_mb:,.0f} MiB in {time.perf_counter() - t0:.0f}s")
    case = work / "case.duckdb"
    case.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_MEMORY_LIMIT"}
    res = subprocess.run([sys.executable, "-c", OTLP_LOADER, str(src), str(case)],
                         capture_output=True, text=True, check=True, env=env)
    secs, read, loaded, quarantined, peak, cpu = (
        float(x) for x in res.stdout.strip().splitlines()[-1].split())
    print(f"load {secs:.1f}s ({cpu:.1f} CPU s), read {read:,.0f}, loaded {loaded:,.0f}, "
          f"quarantined {quarantined:.0f}, peak RSS {peak:,.0f} MiB")
    body = "\n".join([
        "## Load: pretty-printed OTLP (`bench/load.py --otlp-gb "
        f"{gigabytes:g}`)", "",
        f"One pretty-printed OTLP/JSON export of {size_mb:,.0f} MiB (one resource, one scope, "
        f"{spans:,} GenAI spans with input and output messages), loaded with `workbench load` "
        "into an empty case file under the default memory limit (1 GB for the case "
        f"connection), in its own process. Machine: {machine()}.", "",
        table(["spans read", "loaded", "quarantined", "seconds", "CPU s", "peak RSS MiB"],
              [[f"{read:,.0f}", f"{loaded:,.0f}", f"{quarantined:.0f}", f"{secs:.1f}",
                f"{cpu:.1f}", f"{peak:,.0f}"]]),
        "", "Target: peak memory under 2 GB. The document is never read whole: it is cut into "
        "spans while it streams (`workbench/loaders/_split.py`).",
    ])
    if write:
        write_section("load_otlp", body)
    if keep is None:
        src.unlink()
        case.unlink(missing_ok=True)


def run(script: str, *args: str) -> list[float]:
    res = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         check=True)
    return [float(x) for x in res.stdout.strip().splitlines()[-1].split()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--shape", choices=["real", "repeat"], default="real",
                    help="real: distinct prompts and outputs of 2-4k characters (default); "
                         "repeat: the simulated world's own texts, cycled.")
    ap.add_argument("--keep", type=Path, default=None, help="Work folder to keep (default: temp).")
    ap.add_argument("--otlp-gb", type=float, default=None,
                    help="Instead: load one pretty-printed OTLP file of this many GB.")
    ap.add_argument("--no-write", action="store_true",
                    help="print only: do not touch docs/benchmarks.md (for trial runs)")
    args = ap.parse_args()
    if args.otlp_gb:
        otlp_main(args.otlp_gb, args.keep, write=not args.no_write)
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_load_"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    src = work / "logs.jsonl"
    stamp = work / "logs.stamp"
    wanted = f"{args.records} {args.shape}"
    if not (src.exists() and stamp.exists() and stamp.read_text() == wanted):
        build(work, args.records, args.shape)
        stamp.write_text(wanted)
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
        f"from a simulated world with fresh request ids; {SHAPES[args.shape]}), loaded into an "
        f"empty case file; each step in its own process (`bench/load.py --records "
        f"{args.records} --shape {args.shape}`). Machine: {machine()}.", "",
        table(["step", "seconds", "records/s", "MiB/s", "peak RSS MiB", "time ÷ baseline",
               "CPU s", "CPU ÷ baseline"], rows),
        "", f"Target (issue 13): at most 1.5× the baseline, peak memory at most 4 GB. Quarantined: "
        f"{quarantined:.0f}. CPU s is each step's own CPU time (both cores); the machine's "
        f"1-minute load average when the run ended was {load_avg:.1f} (other sessions share "
        "it), so wall times are inflated and the CPU ratio is the steadier figure.",
    ])
    if not args.no_write:
        write_section("load", body)


if __name__ == "__main__":
    main()
