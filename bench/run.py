"""The whole pipeline at one size, one process per stage, beside DuckDB's own limits.

    python bench/run.py --requests 1e6                  # DuckDB engine
    python bench/run.py --requests 1e6 --engine spark   # the same world through Spark
    python bench/run.py --requests 1e7                  # then the 1M -> 10M scaling ratio
    python bench/run.py --requests 1e6 --traffic real   # every prompt and output distinct
    python bench/run.py --requests 1e6 --traffic real --engine spark

Stages (each a fresh `python bench/run.py --stage NAME` process, so its peak memory is its own;
the peak is the whole process tree's resident memory, sampled every 0.1 s, so Spark's JVM
counts): simulate, load, text features, detect (total and per detector), link and score, open
a trace. Baselines measured in the same run: for load, DuckDB's plain `read_json` of the same
files into a table; for detect and link, one full scan that aggregates every column the
detectors and link queries read (on Spark for the Spark engine). Results are kept, under
version control, in `bench/results/run-<size>-<engine>[-real].json` (the worlds and cases stay
in the ignored `bench/out/`); the `run` section of docs/benchmarks.md is rebuilt from all kept
results, with the targets of issue 13 checked on each DuckDB run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from workbench.export import export_parquet
from workbench.features import compute_features

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, machine, table, write_section  # noqa: E402

OUT = ROOT / "bench" / "out"
#: Kept results: committed, so that every figure in docs/benchmarks.md can be traced to one.
RESULTS = ROOT / "bench" / "results"
MEMORY_LIMIT = "3GB"  # DuckDB's memory_limit for every stage: out-of-core past it
#: Which text the measured case holds: the simulated world's (its prompts repeat), or
#: real-traffic shape (`bench/traffic.py`: every prompt and output distinct, of realistic
#: length), set by --traffic and passed on to each stage's process.
TRAFFIC = {"mode": "simulated"}
#: Issue 13's done-when (set for 10M requests, real-traffic shape).
TARGETS = {"load_ratio": 1.5, "load_peak_mb": 4096.0, "pipeline_s": 600.0,
           "detector_ratio": 10.0, "trace_s": 1.0, "scaling": 11.0}


# -- stages: each runs in its own process and prints one JSON line -------------------------

def _world(work: Path, n: int) -> dict[str, Any]:
    from workbench.simulator import simulate

    world = work / "world"
    if (world / "truth.csv").exists():
        return {"rows": n, "note": "reused"}
    s = simulate(world, accounts=max(300, n // 500), days=14, seed=8, requests=n)
    return {"rows": s.requests}


def case_path(work: Path) -> Path:
    """The case the features, detect, link and trace stages measure."""
    return work / ("case-real.duckdb" if TRAFFIC["mode"] == "real" else "case.duckdb")


def _realise(work: Path, n: int) -> dict[str, Any]:
    """Copy the loaded simulated case with real-traffic text (bench/traffic.py)."""
    from bench.traffic import realise

    return realise(work / "case.duckdb", case_path(work), work / "world" / "truth.csv",
                   memory_limit=MEMORY_LIMIT)


def _load(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb

    world, path = work / "world", work / "case.duckdb"
    path.unlink(missing_ok=True)
    case = wb.open(path)
    r = wb.load(case, sorted((world / "logs").glob("*.jsonl.gz")), accounts=world / "accounts.csv",
                  releases=world / "releases.csv", progress=False)
    return {"rows": int(getattr(r, "loaded", case.count("requests")))}


def _case(work: Path, n: int) -> dict[str, Any]:
    """The loaded case of an earlier DuckDB run of the same size, or a fresh load."""
    import workbench as wb

    path = work / "case.duckdb"
    if path.exists() and wb.open(path, read_only=True).count("requests") > 0:
        return {"rows": wb.open(path, read_only=True).count("requests"), "note": "reused"}
    return _load(work, n)


def _load_baseline(work: Path, n: int) -> dict[str, Any]:
    import duckdb

    path = work / "baseline.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path), config={"memory_limit": MEMORY_LIMIT})
    glob = str(work / "world" / "logs" / "*.jsonl.gz").replace("'", "''")
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_json('{glob}', "
                "format = 'newline_delimited')")
    rows = con.execute("select count(*) from raw").fetchall()[0][0]
    con.close()
    path.unlink()
    return {"rows": int(rows)}


def _features(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb

    case = wb.open(case_path(work))
    return {"rows": compute_features(case), "requests": case.count("requests")}


def read_columns() -> dict[str, list[str]]:
    """Columns of requests and features that any detector or link query reads."""
    import sqlglot
    from sqlglot import exp

    from workbench.catalogue import detectors
    from workbench.linking import link_queries
    from workbench.schema import TABLES

    texts = [d.sql for d in detectors().values()] + [q.sql for q in link_queries().values()]
    names = {c.name for t in texts for c in sqlglot.parse_one(t, read="duckdb")
             .find_all(exp.Column)}
    return {t: [c for c in TABLES[t].column_names if c in names] for t in ("requests", "features")}


def scan_sql(engine: str) -> list[str]:
    """One full scan per table, aggregating every column the detectors read."""
    out = []
    for tbl, cols in read_columns().items():
        aggs = ", ".join(f"sum(hash({c})) as h{i}" for i, c in enumerate(cols))
        out.append(f"select count(*) as n, {aggs} from {tbl}")
    return out if engine else out


def _scan_baseline(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb

    case = wb.open(case_path(work), read_only=True)
    times = {}
    for sql in scan_sql("duckdb"):
        t0 = time.perf_counter()
        case.sql(sql)
        times[sql.split(" from ")[-1]] = time.perf_counter() - t0
    return {"rows": case.count("requests"), "per_table_s": times}


def _detect(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb

    case = wb.open(case_path(work))
    report = wb.detect(case, link=False)
    runs = {r["detector"]: {"s": r["elapsed_ms"] / 1000, "status": r["status"], "rows": r["rows"]}
            for r in report.runs.iter_rows(named=True)}
    steps = {k: v for k, v in report.summary.get("steps", {}).items()
             if not k.startswith("detectors")}
    return {"rows": case.count("requests"), "detectors": runs, "steps": steps}


def _link(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb
    from workbench import linking
    from workbench.pipeline import link

    case = wb.open(case_path(work))
    summary = link(case)
    kinds = {k: {"s": v["seconds"], "rows": int(v["edges"])} for k, v in linking.last_run.items()}
    return {"rows": case.count("requests"), "campaigns": summary["campaigns"],
            "pairs": summary["pairs"], "kinds": kinds}


def _trace(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb

    case = wb.open(case_path(work), read_only=True)
    top = case.sql("select campaign_id, accounts from campaigns order by accounts desc limit 1")
    if not top.height:
        return {"rows": 0, "note": "no campaign found"}
    cid = top["campaign_id"][0]
    t0 = time.perf_counter()
    wb.trace(case, campaign=cid)  # the first open also bundles Vega for offline use, once
    first = time.perf_counter() - t0
    warm = []
    for _ in range(3):
        t0 = time.perf_counter()
        wb.trace(case, campaign=cid)
        warm.append(time.perf_counter() - t0)
    return {"rows": case.count("requests"), "seconds": sorted(warm)[1], "first_s": first,
            "accounts": int(top["accounts"][0])}


def _export(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb

    case = wb.open(work / "case.duckdb", read_only=True)
    written = export_parquet(case, work / "lake", overwrite=True,
                                  tables=["requests", "accounts", "model_releases"])
    return {"rows": written["requests"]}


def _spark_conf() -> dict[str, str]:
    return {"spark.driver.memory": "8g", "spark.sql.shuffle.partitions": "16"}


def _spark_scan_baseline(work: Path, n: int) -> dict[str, Any]:
    from workbench.spark import read_case, session

    spark = session(os.environ.get("WORKBENCH_SPARK_MASTER", "local[*]"), _spark_conf())
    read_case(spark, work / "lake")
    spark.read.parquet(str(work / "spark-results" / "features")).createOrReplaceTempView(
        "features")
    times = {}
    for sql in scan_sql("spark"):
        t0 = time.perf_counter()
        spark.sql(sql).collect()
        times[sql.split(" from ")[-1]] = time.perf_counter() - t0
    spark.stop()
    return {"rows": n, "per_table_s": times}


def _spark_detect(work: Path, n: int) -> dict[str, Any]:
    import workbench as wb

    case = wb.open_parquet(work / "lake")
    t0 = time.perf_counter()
    report = wb.detect(case, engine="spark",
                       spark_master=os.environ.get("WORKBENCH_SPARK_MASTER", "local[*]"),
                       spark_conf=_spark_conf(), out=work / "spark-results")
    total = time.perf_counter() - t0
    runs = {r["detector"]: {"s": r["elapsed_ms"] / 1000, "status": r["status"], "rows": r["rows"]}
            for r in report.runs.iter_rows(named=True)}
    return {"rows": n, "seconds": total, "detectors": runs, "notes": report.notes,
            "campaigns": case.count("campaigns")}


STAGES = {"simulate": _world, "load": _load, "case": _case, "load_baseline": _load_baseline,
          "realise": _realise,
          "features": _features, "scan_baseline": _scan_baseline, "detect": _detect,
          "link": _link, "trace": _trace, "export": _export,
          "spark_detect": _spark_detect, "spark_scan_baseline": _spark_scan_baseline}
PLANS = {"duckdb": ["simulate", "load_baseline", "load", "features", "scan_baseline", "detect",
                    "link", "trace"],
         "spark": ["simulate", "case", "export", "spark_detect", "spark_scan_baseline"],
         # real-traffic shape: the simulated case, its text made distinct, then the same stages
         "duckdb-real": ["simulate", "case", "realise", "features", "scan_baseline", "detect",
                         "link", "trace"],
         "spark-real": ["simulate", "case", "realise", "export", "spark_detect",
                        "spark_scan_baseline"]}


def run_stage(name: str, work: Path, n: int) -> None:
    """Child process: run one stage and print its result as the last line."""
    t0 = time.perf_counter()
    try:
        result = STAGES[name](work, n)
    except ModuleNotFoundError as exc:
        result = {"skipped": f"{exc.name} is not available yet"}
    result.setdefault("seconds", time.perf_counter() - t0)
    print("RESULT " + json.dumps(result))


# -- the orchestrator -----------------------------------------------------------------------

def _tree_rss(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


def stage(name: str, work: Path, n: int) -> dict[str, Any]:
    """Run one stage in a fresh process; return its result with wall time and peak memory."""
    env = {**os.environ, "WORKBENCH_MEMORY_LIMIT": MEMORY_LIMIT, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, __file__, "--stage", name, "--workdir", str(work),
           "--requests", str(n), "--traffic", TRAFFIC["mode"]]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.join()
    lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(err.strip().splitlines()[-5:])
        print(f"stage {name} failed ({proc.returncode}):\n{tail}", file=sys.stderr)
        return {"failed": tail.splitlines()[-1] if tail else f"exit {proc.returncode}",
                "wall": wall, "peak_mb": peak[0]}
    result = json.loads(lines[-1][len("RESULT "):])
    result.update(wall=wall, peak_mb=peak[0])
    print(f"{name:<20} {result.get('seconds', wall):9.1f} s  {peak[0]:8.0f} MiB peak  "
          f"{result.get('skipped', '')}", file=sys.stderr)
    return result


def _fmt(x: float | None, nd: int = 1) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def summarise(res: dict[str, Any]) -> list[list[str]]:
    """Table rows for one run: stage, seconds, rows/s, peak MiB, baseline s, ratio."""
    s = res["stages"]
    rows = []

    def add(label: str, key: str, base: float | None = None, rows_n: int | None = None) -> None:
        if key not in s:
            return
        r = s[key]
        if "skipped" in r or "failed" in r:
            rows.append([label, r.get("skipped") or r.get("failed") or "not run", "", "", "", ""])
            return
        if r.get("note") == "reused":  # its time belongs to the earlier run that made it
            rows.append([f"{label} (reused from an earlier run of this size)", "-", "", "", "",
                         ""])
            return
        sec = float(r["seconds"])
        n = rows_n or int(r.get("rows") or 0)
        rows.append([label, _fmt(sec), _fmt(n / sec, 0) if n and sec else "-",
                     _fmt(r["peak_mb"], 0), _fmt(base), _fmt(sec / base, 2) if base else "-"])

    scan = s.get("scan_baseline") or s.get("spark_scan_baseline") or {}
    scan_s = sum(scan.get("per_table_s", {}).values()) or None
    load_base = s.get("load_baseline", {}).get("seconds")
    add("simulate", "simulate")
    add("real-traffic text (bench/traffic.py: every prompt and output distinct)", "realise")
    add("load baseline: DuckDB read_json", "load_baseline")
    add("load", "load", load_base)
    add("text features", "features")
    add("full scan of every column the detectors read (baseline)",
        "scan_baseline" if "scan_baseline" in s else "spark_scan_baseline")
    add("export to Parquet by day", "export")
    add("detect (all detectors)", "detect", scan_s)
    for det, d in sorted(s.get("detect", s.get("spark_detect", {})).get("detectors", {}).items()):
        rows.append([f"  {det}", _fmt(d["s"], 2), "", "", _fmt(scan_s),
                     _fmt(d["s"] / scan_s, 2) if scan_s else "-"])
    for step, sec in sorted(s.get("detect", {}).get("steps", {}).items()):
        rows.append([f"  step: {step}", _fmt(sec, 2), "", "", _fmt(scan_s),
                     _fmt(sec / scan_s, 2) if scan_s else "-"])
    add("link and score (links, communities, cohort detectors, leads)", "link", scan_s)
    for kind, d in sorted(s.get("link", {}).get("kinds", {}).items()):
        rows.append([f"  link {kind} ({d['rows']:,} edges)", _fmt(d["s"], 2), "", "",
                     _fmt(scan_s), _fmt(d["s"] / scan_s, 2) if scan_s else "-"])
    add("Spark: features, detectors, links, driver scoring", "spark_detect", scan_s)
    tr = s.get("trace", {})
    if tr and "seconds" in tr:
        rows.append([f"open trace of the largest campaign ({tr.get('accounts')} accounts; "
                     f"warm, median of 3; first open {_fmt(tr.get('first_s'), 2)} s)",
                     _fmt(tr["seconds"], 2), "", _fmt(tr["peak_mb"], 0), "", ""])
    return rows


def targets(res: dict[str, Any], small: dict[str, Any] | None) -> list[str]:
    """Issue 13's targets for this run: met, or missed and by how much."""
    s = res["stages"]
    out = []

    def check(what: str, value: float | None, limit: float, unit: str = "") -> None:
        if value is None:
            out.append(f"- {what}: not measured")
        elif value <= limit:
            out.append(f"- {what}: {value:,.2f}{unit} ≤ {limit:g}{unit}: met")
        else:
            out.append(f"- {what}: {value:,.2f}{unit} > {limit:g}{unit}: missed by "
                       f"{value / limit:.2f}×")

    def sec(key: str) -> float | None:
        r = s.get(key, {})
        return float(r["seconds"]) if "seconds" in r and "skipped" not in r else None

    load, base = sec("load"), sec("load_baseline")
    if load and base:
        check("load / plain read_json", load / base, TARGETS["load_ratio"], "×")
        check("load peak memory", s.get("load", {}).get("peak_mb"), TARGETS["load_peak_mb"],
              " MiB")
    else:
        out.append("- load / plain read_json: not in this plan (the case is loaded from the "
                   "simulated files, then its text rewritten); `bench/load.py --shape real` "
                   "measures it, in the load section of this page")
    scan = sum(s.get("scan_baseline", {}).get("per_table_s", {}).values()) or None
    parts = {**{k: v["s"] for k, v in s.get("detect", {}).get("detectors", {}).items()},
             **{f"step: {k}": v for k, v in s.get("detect", {}).get("steps", {}).items()},
             **{f"link {k}": v["s"] for k, v in s.get("link", {}).get("kinds", {}).items()}}
    if scan and parts:
        worst = max(parts.items(), key=lambda kv: kv[1])
        check(f"slowest detector, detect step or link kind ({worst[0]}) / full scan",
              worst[1] / scan, TARGETS["detector_ratio"], "×")
    feat, det, link = sec("features"), sec("detect"), sec("link")
    total = feat + det + link if feat and det and link else None
    check("text features + detect + link"
          + ("" if res["requests"] >= 10_000_000 else " (the target is set for 10M requests)"),
          total, TARGETS["pipeline_s"], " s")
    tr = s.get("trace", {})
    check("warm open of the largest campaign's trace", tr.get("seconds"), TARGETS["trace_s"],
          " s")
    if small:
        b = sum(float(small["stages"].get(k, {}).get("seconds", 0))
                for k in ("features", "detect", "link"))
        ratio_n = res["requests"] / small["requests"]
        check(f"features + detect + link time ratio {small['requests']:,} → "
              f"{res['requests']:,} requests ({ratio_n:.0f}× the data)",
              total / b if total and b else None, TARGETS["scaling"], "×")
    return out


MONTH = 1_000_000_000  # requests in a large provider's month, for the read-off


def per_core(res: dict[str, Any]) -> list[str]:
    """Core-seconds per request of the stages that scale with traffic, and a month's worth."""
    cores = int(res.get("cores") or res["machine"].split()[0])
    s = res["stages"]
    keys = ("detect", "link") if res["engine"] == "duckdb" else ("spark_detect",)
    if not all("seconds" in s.get(k, {}) and "skipped" not in s[k] for k in keys):
        return []
    secs = sum(float(s[k]["seconds"]) for k in keys)
    cost = secs * cores / res["requests"]
    label = "detect + link" if res["engine"] == "duckdb" else "features + detect + link on Spark"
    return [f"Per-core cost of {label}: {cost * 1e6:,.0f} core-µs per request "
            f"({secs:,.1f} s × {cores} cores ÷ {res['requests']:,} requests); at that cost a "
            f"month of {MONTH:,} requests takes {cost * MONTH / 3600:,.0f} core-hours "
            f"(e.g. {cost * MONTH / 3600 / 24:,.1f} cores for one day)."]


def _reruns(res: dict[str, Any]) -> str:
    """The docs' note of which stages were measured again later, and at which commit."""
    by: dict[str, list[tuple[str, str]]] = {}
    for name, st in res["stages"].items():
        if isinstance(st.get("rerun"), dict):
            by.setdefault(str(st["rerun"].get("commit")), []).append(
                (name, str(st["rerun"].get("when"))))
    return "".join(f" Stages {', '.join(n for n, _ in v)} rerun on the same case at commit {c} "
                   f"(from {min(w for _, w in v)}, `bench/run.py --rerun`)."
                   for c, v in sorted(by.items()))


def render() -> str:
    """The `run` section of docs/benchmarks.md from every kept result."""
    kept = sorted(RESULTS.glob("run-*.json"))
    results = [json.loads(p.read_text()) for p in kept]
    parts = ["## Whole pipeline (`bench/run.py`)", "",
             "One process per stage; peak memory is the stage's whole process tree (Spark's JVM "
             "included). Baselines are measured in the same run: DuckDB's plain `read_json` of "
             "the same files for load, and one full scan aggregating (`sum(hash(col))`) every "
             "column of `requests` and `features` that a detector or link query reads, for "
             f"detect and link. DuckDB memory_limit {MEMORY_LIMIT} in every stage.", ""]
    by = {(r["requests"], r["engine"], r.get("traffic", "simulated")): r for r in results}
    for r in sorted(results, key=lambda r: (r["requests"], r["engine"],
                                            r.get("traffic", "simulated"))):
        traffic = r.get("traffic", "simulated")
        shape = ("real-traffic shape (every prompt and output distinct, of realistic length; "
                 "`--traffic real`)" if traffic == "real" else
                 "the simulated world's text (its prompts repeat)")
        parts += [f"### {r['requests']:,} requests, engine {r['engine']}"
                  + (", real-traffic shape" if traffic == "real" else ""), "",
                  f"Machine: {r['machine']}. Run {r['when']}"
                  + (f" at commit {r['commit']}" if r.get("commit") else "")
                  + f". Text: {shape}." + _reruns(r), "",
                  table(["stage", "seconds", "rows/s", "peak MiB", "baseline s", "× baseline"],
                        summarise(r)), ""]
        parts += [*per_core(r), ""]
        if r["engine"] == "duckdb":
            small = by.get((r["requests"] // 10, "duckdb", traffic))
            parts += ["Targets of issue 13 (set for 10M requests, real-traffic shape):", "",
                      *targets(r, small), ""]
    return "\n".join(parts)


def _commit() -> str | None:
    """The commit the measured code is at (`+` when the tree has changes), or None."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "workbench", "queries"],
                               cwd=ROOT, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty.strip() else "")


def rerun(kept: Path, names: list[str], work: Path, n: int, *, write: bool) -> None:
    """Run `names` again on `work` (the kept run's case, as it is) and replace their results.

    For measuring a change to the later stages without redoing hours of simulate, load and
    features: each rerun stage records the commit and time it was measured at, and the docs
    say which stages were rerun.
    """
    if not kept.exists():
        msg = f"bench: no kept result {kept.name} to rerun stages of; run it whole"
        raise SystemExit(msg)
    unknown_stages = sorted(set(names) - set(STAGES))
    if unknown_stages:
        msg = (f"bench: unknown stage(s) {', '.join(unknown_stages)}; "
               f"choose from {', '.join(sorted(STAGES))}")
        raise SystemExit(msg)
    res = json.loads(kept.read_text())
    for name in names:
        out = stage(name, work, n)
        out["rerun"] = {"commit": _commit(),
                        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        res["stages"][name] = out
    kept.write_text(json.dumps(res, indent=1) + "\n")
    print(table(["stage", "seconds", "rows/s", "peak MiB", "baseline s", "× baseline"],
                summarise(res)))
    if write:
        write_section("run", render())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=float, default=1e6)
    ap.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--stage", choices=sorted(STAGES))
    ap.add_argument("--traffic", choices=("simulated", "real"), default="simulated",
                    help="real: every prompt and output distinct, of realistic length")
    ap.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    ap.add_argument("--render", action="store_true", help="only rebuild the docs section")
    ap.add_argument("--rerun", metavar="STAGES",
                    help="comma-separated stages to run again on the kept run's workdir; their "
                         "results replace the kept ones, each stamped with its own commit")
    args = ap.parse_args()
    n = int(args.requests)
    TRAFFIC["mode"] = args.traffic
    work = args.workdir or OUT / f"world-{n}"
    if args.stage:
        run_stage(args.stage, work, n)
        return
    if args.render:
        write_section("run", render())
        return
    work.mkdir(parents=True, exist_ok=True)
    suffix = "-real" if args.traffic == "real" else ""
    kept = RESULTS / f"run-{n}-{args.engine}{suffix}.json"
    if args.rerun:
        rerun(kept, args.rerun.split(","), work, n, write=not args.no_write)
        return
    plan = f"{args.engine}-real" if args.traffic == "real" else args.engine
    res: dict[str, Any] = {"requests": n, "engine": args.engine, "traffic": args.traffic,
                           "machine": machine(),
                           "cores": os.cpu_count(),
                           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                           "commit": _commit(), "stages": {}}
    for name in PLANS[plan]:
        res["stages"][name] = stage(name, work, n)
        if "failed" in res["stages"][name] and name in ("simulate", "load", "case", "realise"):
            break
    RESULTS.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(res, indent=1) + "\n")
    print(table(["stage", "seconds", "rows/s", "peak MiB", "baseline s", "× baseline"],
                summarise(res)))
    if not args.no_write:
        write_section("run", render())


if __name__ == "__main__":
    main()
