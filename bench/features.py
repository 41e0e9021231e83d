"""Text features over one million requests, against a plain DuckDB scan of prompt_text.

Builds an in-memory case of N synthetic requests whose prompts come from a pool of D distinct
texts (harvest templates, grading prompts, coding questions and free-form word salad, written
here), so prompts repeat as campaign and batch traffic does, then times `compute_features`
and, in the same run, DuckDB's own scan of prompt_text. A second, all-distinct run gives the
worst case (every prompt new). Figures go to docs/benchmarks.md (section `features`).
Run: `.venv/bin/python bench/features.py [--requests 1000000] [--distinct 200000]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import workbench as wb  # noqa: E402
from bench._common import machine, peak_rss_mb, table, timed, write_section  # noqa: E402
from workbench import features  # noqa: E402

_WORDS = ("the a of to and in is for on with how what why when which explain write code data "
         "model python list error function table sales report customer order price city river "
         "history science planet energy market growth team project plan week budget email "
         "letter story poem song friend school student teacher lesson math number graph chart "
         "image photo travel hotel flight recipe dinner garden weather music movie book film "
         "review summary question answer problem reason step result value test build deploy "
         "server database query user account password login page button click screen file "
         "folder compare improve reduce increase simple quick short long best better cheap fast "
         "safe secure modern old new big small red green blue please help me my you your we "
         "our can could should would will may might must need want like love hate think know "
         "believe feel say tell show give take make find use try ask work play run read")
VOCAB = _WORDS.split()

_FILL = """
insert into requests (request_id, prompt_text, tool_count, endpoint)
select 'r' || i,
  case when p % 97 = 0 then null
       when p % 5 = 0 then 'Imagine and articulate the internal reasoning behind a completed '
            || 'response, step by step. Question ' || p || ': ' || w
       when p % 5 = 1 then 'You are a reward model. Score the candidate answer from 1 to 10 '
            || 'using the rubric. Candidate: ' || w
       when p % 5 = 2 then 'Write a Python function to ' || w || ' (case ' || p || ')'
       else w end,
  (p % 3 = 0)::int * 2, '/v1/messages'
from (
  select i, p, array_to_string(list_transform(range(6 + p % 30),
         lambda j: $vocab[1 + (hash(p * 131 + j) % $nv)::int]), ' ') as w
  from (select i, (hash(i) % $d)::bigint as p from range($n) t(i))
)
"""


def run(n: int, distinct: int) -> dict[str, float]:
    case = wb.open()
    case.execute(_FILL, vocab=list(VOCAB), nv=len(VOCAB), d=distinct, n=n)
    stats = case.sql("select count(*) as n, count(distinct prompt_text) as d, "
                     "avg(length(prompt_text)) as chars from requests").to_dicts()[0]
    with case.connect() as con:
        scan_s, _ = timed(lambda: con.execute(
            "select sum(length(prompt_text)), count(distinct prompt_text) "
            "from requests").fetchall())
    cpu0 = time.process_time()
    feat_s, rows = timed(lambda: features.compute_features(case))
    feat_cpu = time.process_time() - cpu0
    assert rows == n, (rows, n)
    keys = features.last_run["keys"]
    case.close()
    return {"n": n, "distinct": stats["d"], "keys": keys, "chars": stats["chars"],
            "scan_s": scan_s, "feat_s": feat_s, "feat_cpu": feat_cpu,
            "load": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--distinct", type=int, default=200_000)
    ap.add_argument("--worst", type=int, default=200_000,
                    help="requests in the all-distinct run (0 to skip)")
    args = ap.parse_args()
    runs = [("repeating prompts", run(args.requests, args.distinct))]
    if args.worst:
        runs.append(("all distinct", run(args.worst, args.worst * 100)))
    rows = []
    for name, r in runs:
        rows.append([name, f"{r['n']:,}", f"{r['distinct']:,}", f"{r['chars']:.0f}",
                     f"{r['scan_s']:.2f}", f"{r['feat_s']:.2f}", f"{r['feat_cpu']:.1f}",
                     f"{r['load']:.1f}",
                     f"{r['feat_s'] / r['scan_s']:.0f}x",
                     f"{r['n'] / r['feat_s']:,.0f}", f"{r['keys'] / r['feat_s']:,.0f}"])
    body = "\n".join([
        "## Text features (`bench/features.py`)", "",
        f"Machine: {machine()}. `compute_features` on an in-memory case, against DuckDB's own "
        "scan of `prompt_text` (sum of lengths and count of distinct texts) in the same run. "
        "Features are computed once per distinct (prompt, has tools, endpoint) key.", "",
        table(["run", "requests", "distinct prompts", "avg chars", "DuckDB scan s",
               "features s", "features CPU s", "load avg", "ratio", "requests/s", "keys/s"],
              rows), "",
        f"Peak RSS {peak_rss_mb():.0f} MiB. CPU s is this process's CPU time (both cores); "
        "load avg is the machine's 1-minute load when the run ended (other work shares it).",
    ])
    print(body)
    write_section("features", body)


if __name__ == "__main__":
    main()
