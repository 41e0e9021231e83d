"""Every detector, link kind and pipeline step, and the text features, over ~1M simulated requests.

Simulates a world sized to ~N requests (cached in --dir), loads it into a case file, then in
one run times: a plain DuckDB scan that aggregates every requests/features column the detectors
read (the baseline), `compute_features(force=True)`, and each detector as run by `detect()`
(elapsed_ms from detector_runs), each link kind (`linking.last_run`) and each other step of
`wb.detect` (`summary['steps']`). Targets: features plus detect in at most 60 s (issue 4); no
detector, link kind or step above 10x the scan (issues 13, 16).
Figures go to docs/benchmarks.md (section `detect`).
Run: `.venv/bin/python bench/detect.py [--requests 1000000] [--dir /tmp/wb-bench-detect]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import workbench as wb  # noqa: E402
from bench._common import machine, peak_rss_mb, table, timed, write_section  # noqa: E402
from workbench import linking  # noqa: E402
from workbench.features import compute_features  # noqa: E402

# One pass over every column any detector reads (requests joined to features).
SCAN = """
select count(*) as n, count(distinct r.account_id) as accounts,
       sum(hash(r.request_id, r.org_id, r.end_user_id, r.ip_prefix, r.user_agent, r.endpoint,
                r.api_style, r.model, r.system_hash, r.stop_reason)) as h,
       min(r.ts), max(r.ts), sum(r.max_tokens), sum(r.temperature), sum(r.top_p),
       sum(r.n_choices), sum(case when r.logprobs then 1 else 0 end), sum(r.logit_bias_n),
       sum(r.thinking_budget), sum(r.tool_count), sum(r.n_user_turns), sum(r.input_tokens),
       sum(r.output_tokens), sum(r.prompt_chars),
       sum(hash(f.template_id, f.capability, f.lang)),
       sum(case when f.cot_flag or f.rubric_flag or f.sensitive_flag or f.coercion_flag
                then 1 else 0 end)
from requests as r left join features as f on f.request_id = r.request_id
"""


def build(directory: Path, requests: int, seed: int) -> Path:
    from workbench.simulator import simulate

    db = directory / "case.duckdb"
    if db.exists():
        return db
    if not (directory / "truth.csv").exists():
        simulate(directory, accounts=max(2000, requests // 150), days=14, seed=seed,
                 requests=requests)
    case = wb.open(db)
    wb.load(case, sorted((directory / "logs").glob("*.jsonl.gz")),
            accounts=directory / "accounts.csv", releases=directory / "releases.csv",
            progress=False)
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "wb-bench-detect")
    args = ap.parse_args()
    db = build(args.dir, args.requests, args.seed)
    case = wb.open(db)
    n = case.count("requests")
    t_features, _ = timed(lambda: compute_features(case, force=True))
    t_scan, _ = timed(lambda: case.sql(SCAN))
    t0 = time.perf_counter()
    report = wb.detect(case)
    t_detect = time.perf_counter() - t0
    steps = report.summary.get("steps", {})
    runs = report.runs.sort("elapsed_ms", descending=True)
    rows = [[r["detector"], r["status"], r["rows"], f"{r['elapsed_ms'] / 1000:.2f}",
             f"{r['elapsed_ms'] / 1000 / t_scan:.1f}"] for r in runs.iter_rows(named=True)]
    for kind, v in sorted(linking.last_run.items(), key=lambda kv: -kv[1]["seconds"]):
        rows.append([f"link `{kind}`", "ok", int(v["edges"]), f"{v['seconds']:.2f}",
                     f"{v['seconds'] / t_scan:.1f}"])
    for name in ("distribution (accounts)", "cohort profiles", "cohorts",
                 "distribution (cohorts)", "cohort links", "scores and communities", "leads",
                 "rollups"):
        if name in steps:
            rows.append([name, "", "", f"{steps[name]:.2f}", f"{steps[name] / t_scan:.1f}"])
    rows.append(["text features (compute_features, force)", "", "", f"{t_features:.2f}",
                 f"{t_features / t_scan:.1f}"])
    rows.append(["**detect (every detector, links, cohorts, leads, rollups)**", "",
                 int(report.findings), f"{t_detect:.2f}", f"{t_detect / t_scan:.1f}"])
    worst = max((float(r[4]) for r in rows[:-2]), default=0.0)
    total = t_features + t_detect
    body = "\n".join([
        "## Detectors, links and text features (`bench/detect.py`)", "",
        f"{n:,} simulated requests (seed {args.seed}); {machine()}. Baseline: one DuckDB scan "
        f"of requests joined to features aggregating every column the detectors read: "
        f"**{t_scan:.2f} s**. Ratio = time / baseline. Each detector (account and cohort "
        f"phase), each link kind, and each other step of `wb.detect` is its own row. "
        f"Command: `.venv/bin/python bench/detect.py --requests {args.requests}`.", "",
        table(["step", "status", "rows", "seconds", "× scan"], rows), "",
        f"Slowest single detector, link kind or step: **{worst:.1f}× the scan** (target "
        f"≤ 10×: {'met' if worst <= 10 else 'NOT met'}). Features + detect: **{total:.1f} s** "
        f"(target ≤ 60 s: {'met' if total <= 60 else 'NOT met'}). "
        f"Peak RSS {peak_rss_mb():.0f} MiB.",
    ])
    print(body)
    write_section("detect", body)


if __name__ == "__main__":
    main()
