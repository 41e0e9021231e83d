"""Text features on real-traffic shape, against a DuckDB scan of the same prompt text.

Builds an in-memory case of N requests whose prompts are all distinct passages of real wording
and realistic length, then times `compute_features` and, in the same run and on the same
`prompt_text` column, DuckDB's own scans. Figures go to docs/benchmarks.md (section
`features`).

Prompts: a text stream is made of the public prompt corpus (../shared/corpus, or
$WORKBENCH_CORPUS) when present, plus the simulator's own prompts (English, and 500 in each
other language it writes, so that about one prompt in eight is not English), shuffled; without
the corpus the stream is the simulator's alone. Each request takes a window of
the stream that starts at a word boundary, with a length drawn log-normally (median 1,200
characters, 5 % over 4,000, at most 6,000), so nearly every prompt is distinct, as in provider
logs, and judge templates, chain-of-thought exemplars, code and chat mix as they do there.

Baselines (each the fastest of three, on a fresh cursor): `sum(length(prompt_text))` reads
every byte and does the least work a scan can; `count(distinct prompt_text)` also hashes and
groups every text, which `compute_features` must do to compute each distinct key once;
`sum(hash(md5(prompt_text)))` hashes every byte with a cryptographic hash, the cost of touching
each prompt's content once. The ratio in the table is against `sum(length)`, the strictest.

Run: `.venv/bin/python bench/features.py [--requests 100000 1000000] [--no-write]`.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import workbench as wb  # noqa: E402
from bench._common import machine, peak_rss_mb, table, timed, write_section  # noqa: E402
from workbench import features  # noqa: E402

CORPUS = Path(os.environ.get("WORKBENCH_CORPUS", ROOT.parent / "shared" / "corpus"))
MEDIAN_CHARS, SIGMA, MAX_CHARS = 1200, 0.7, 6000
CHUNK = 100_000
BASELINES = {
    "sum(length)": "select sum(length(prompt_text)) from requests",
    "count(distinct)": "select count(distinct prompt_text) from requests",
    "md5": "select sum(hash(md5(prompt_text))) from requests",
}


def stream(seed: int = 7) -> tuple[str, str]:
    """The text the prompts are cut from, and where it came from."""
    from workbench.simulate import text

    rng = random.Random(seed)
    # about one prompt in eight in another language than English, as in a global provider's
    # logs; the corpus, when present, is the English bulk
    parts = [text.prompt(rng, text.family(rng), lang) for lang in text.languages()
             for _ in range(500)]
    english = 8000
    source = "the simulator's prompts"
    if CORPUS.is_dir():
        from workbench.textfeatures.corpus import read_corpus

        parts += [r.prompt for r in read_corpus(CORPUS)]
        source = f"the public corpus ({CORPUS.name}) and the simulator's prompts"
    else:
        english = 40000
    parts += [text.prompt(rng, text.family(rng), "en") for _ in range(english)]
    rng.shuffle(parts)
    return "\n\n".join(parts), source


def prompts(text: str, n: int, seed: int = 11) -> pa.Array:
    """n windows of `text`, each starting after whitespace, log-normal lengths."""
    rng = np.random.default_rng(seed)
    arr = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    starts = np.flatnonzero(np.isin(arr, [32, 10])) + 1
    starts = starts[starts < len(text) - MAX_CHARS]
    lens = np.clip(rng.lognormal(np.log(MEDIAN_CHARS), SIGMA, n), 20, MAX_CHARS).astype(np.int64)
    at = starts[rng.integers(0, len(starts), n)]
    return pa.array([text[a:a + k] for a, k in zip(at.tolist(), lens.tolist(), strict=True)],
                    pa.large_string())


def build(n: int, text: str) -> wb.Case:
    """An in-memory case with n requests cut from `text` (a third with tools defined)."""
    case = wb.open()
    with case.connect(write=True) as con:
        for lo in range(0, n, CHUNK):
            k = min(CHUNK, n - lo)
            chunk = pa.table({"i": pa.array(np.arange(lo, lo + k)),
                              "prompt_text": prompts(text, k, seed=11 + lo)})
            con.register("_chunk", chunk)
            con.execute("insert into requests (request_id, prompt_text, tool_count, endpoint) "
                        "select 'r' || i, prompt_text, (i % 3 = 0)::int * 2, '/v1/messages' "
                        "from _chunk")
            con.unregister("_chunk")
    return case


def run(n: int, text: str) -> dict[str, float]:
    """One measured run at n requests."""
    case = build(n, text)
    stats = case.sql("select count(*) as n, count(distinct prompt_text) as d, "
                     "avg(length(prompt_text)) as chars, sum(strlen(prompt_text)) as bytes "
                     "from requests").to_dicts()[0]
    base: dict[str, float] = {}
    with case.connect() as con:
        for name, query in BASELINES.items():
            base[name] = min(timed(lambda q=query: con.cursor().execute(q).fetchall())[0]
                             for _ in range(3))
    cpu0 = time.process_time()
    feat_s, rows = timed(lambda: features.compute_features(case))
    feat_cpu = time.process_time() - cpu0
    assert rows == n, (rows, n)
    out = {"n": n, "distinct": stats["d"], "chars": stats["chars"], "mb": stats["bytes"] / 2**20,
           "feat_s": feat_s, "feat_cpu": feat_cpu, "load": os.getloadavg()[0],
           "keys": features.last_run["keys"], "batches": features.last_run["batches"]}
    out.update({f"base:{k}": v for k, v in base.items()})
    case.close()
    return out


def render(runs: list[dict[str, float]], source: str) -> str:
    """The docs/benchmarks.md section."""
    rows = []
    for r in runs:
        rows.append([f"{r['n']:,}", f"{r['distinct']:,}", f"{r['chars']:.0f}", f"{r['mb']:,.0f}",
                     *(f"{r['base:' + k]:.2f}" for k in BASELINES),
                     f"{r['feat_s']:.2f}", f"{r['feat_cpu']:.1f}", f"{r['load']:.1f}",
                     f"**{r['feat_s'] / r['base:sum(length)']:.1f}x**",
                     f"{r['feat_s'] / r['base:count(distinct)']:.1f}x",
                     f"{r['feat_s'] / r['base:md5']:.1f}x",
                     f"{r['keys'] / r['feat_s']:,.0f}"])
    return "\n".join([
        "## Text features (`bench/features.py`)", "",
        f"Machine: {machine()}. Real-traffic shape: every prompt a distinct window of real "
        f"wording ({source}), log-normal length (median {MEDIAN_CHARS:,} characters, at most "
        f"{MAX_CHARS:,}). `compute_features` on an in-memory case against DuckDB scans of the "
        "same `prompt_text` column in the same run (fastest of three each). Target (issue 13): "
        "features ≤ 10× the scan, all distinct. Command: `.venv/bin/python bench/features.py`.",
        "",
        table(["requests", "distinct prompts", "avg chars", "text MiB",
               *(f"scan `{k}` s" for k in BASELINES), "features s", "features CPU s",
               "load avg", "ratio to `sum(length)`", "to `count(distinct)`", "to `md5`",
               "keys/s"], rows), "",
        "The ratio that counts is to `sum(length(prompt_text))`: it reads every byte and does "
        "the least a scan can. `count(distinct prompt_text)` hashes and groups every text, as "
        "computing each distinct key once must; `md5` hashes every byte. CPU s is this "
        "process's CPU time (both cores); load avg is the machine's 1-minute load when the run "
        f"ended (other work shares it). Peak RSS {peak_rss_mb():,.0f} MiB.",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--no-write", action="store_true", help="print, do not touch docs")
    args = ap.parse_args()
    text, source = stream()
    runs = [run(n, text) for n in args.requests]
    body = render(runs, source)
    print(body)
    if not args.no_write:
        write_section("features", body)


if __name__ == "__main__":
    main()
