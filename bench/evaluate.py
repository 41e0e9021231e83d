"""Evaluate leads and campaigns on simulated worlds from fixed seeds; write docs/evaluation.md.

    .venv/bin/python bench/evaluate.py                # the evaluation seeds, writes the doc
    .venv/bin/python bench/evaluate.py --dev 1 2 3    # development seeds: prints, writes nothing

The evaluation seeds below are never used while tuning `workbench/data/risk.toml`; tuning uses
development seeds 1-99 only (`--dev`). Each world is simulated, loaded, run through every
detector, linked, and scored against its truth.csv.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, table  # noqa: E402

import workbench as wb  # noqa: E402
from workbench.config import RiskConfig  # noqa: E402
from workbench.evaluate import evaluate  # noqa: E402
from workbench.pipeline import link  # noqa: E402

EVAL_SEEDS = (1001, 1002, 1003)
MODES = {"normal": {}, "evasive": {"evasive": True}, "metadata-only": {"metadata_only": True}}
DOC = ROOT / "docs" / "evaluation.md"
START, END = "<!-- evaluation:results -->", "<!-- /evaluation:results -->"
LEGIT_FP_LIMIT = 0.01


def run_world(mode: str, seed: int, accounts: int, days: int) -> dict[str, Any]:
    """Simulate, load, detect, link and evaluate one world."""
    from workbench.simulator import simulate

    with tempfile.TemporaryDirectory(prefix="wb-eval-") as tmp:
        out = Path(tmp) / "world"
        simulate(out, accounts=accounts, days=days, seed=seed, **MODES[mode])
        case = wb.open(Path(tmp) / "case.duckdb")
        wb.load(case, sorted((out / "logs").glob("*.jsonl.gz")), accounts=out / "accounts.csv",
                  releases=out / "releases.csv", progress=False)
        t0 = time.perf_counter()
        wb.detect(case, link=False)
        t_detect = time.perf_counter() - t0
        summary = link(case)
        result = evaluate(case, out / "truth.csv")
        result["requests"] = case.count("requests")
        result["link_summary"] = summary
        result["seconds"] = {"detect": round(t_detect, 1), "link": summary["seconds"]}
    result["mode"], result["seed"] = mode, seed
    return result


def _evasive_recall(r: dict[str, Any], level: str = "high") -> float | None:
    arch = {k: v for k, v in r["recall_by_archetype"].items() if k.endswith("_evasive")}
    n = sum(v["accounts"] for v in arch.values())
    return round(sum(v[level] * v["accounts"] for v in arch.values()) / n, 4) if n else None


def _worst_fp(r: dict[str, Any], level: str = "high") -> tuple[str, float]:
    worst = max(r["false_positives"].items(), key=lambda kv: (kv[1][level], kv[0]))
    return worst[0], worst[1][level]


def summary_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for r in results:
        hi = r["levels"]["high"]
        arch, fp = _worst_fp(r)
        ev = _evasive_recall(r)
        rows.append([r["mode"], r["seed"], r["requests"], r["accounts"], r["planted_accounts"],
                     f"{hi['precision']:.3f}", f"{hi['recall']:.3f}",
                     "–" if ev is None else f"{ev:.3f}", f"{r['average_precision']:.3f}",
                     f"{r['campaigns_recovered']}/{r['campaigns_planted']}",
                     f"{fp:.4f} ({arch})", f"{r['seconds']['link']:.1f}"])
    return rows


def archetype_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    """Recall at high+ per planted archetype and mode, pooled over seeds."""
    pooled: dict[tuple[str, str], list[float]] = {}
    for r in results:
        for arch, v in r["recall_by_archetype"].items():
            acc = pooled.setdefault((r["mode"], arch), [0.0, 0.0])
            acc[0] += v["high"] * v["accounts"]
            acc[1] += v["accounts"]
    return [[mode, arch, int(n), f"{hit / n:.3f}"] for (mode, arch), (hit, n)
            in sorted(pooled.items())]


def campaign_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for r in results:
        for c in r["campaigns"]:
            if not c["recovered"]:
                rows.append([r["mode"], r["seed"], c["campaign_id"], c["archetype"],
                             c["accounts"], f"{c['recall']:.2f}", f"{c['purity']:.2f}",
                             c["found_in"]])
    return rows


def fp_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    pooled: dict[str, list[float]] = {}
    for r in results:
        for arch, v in r["false_positives"].items():
            acc = pooled.setdefault(arch, [0.0, 0.0, 0.0])
            acc[0] += v["high"] * v["accounts"]
            acc[1] += v["medium"] * v["accounts"]
            acc[2] += v["accounts"]
    return [[arch, int(n), f"{hi / n:.4f}", f"{med / n:.4f}"]
            for arch, (hi, med, n) in sorted(pooled.items())]


def render(results: list[dict[str, Any]], accounts: int, days: int) -> str:
    cfg = RiskConfig.load()
    seeds = sorted({r["seed"] for r in results})
    out = [f"Worlds of {accounts} accounts x {days} days, seeds {', '.join(map(str, seeds))}"
           f"; {machine()}. Levels: " + ", ".join(f"{k} >= {v}" for k, v in
                                                  cfg.levels.items()) + ".", "",
           "### Per world (account level, at level high and above)", "",
           table(["mode", "seed", "requests", "accounts", "planted", "precision", "recall",
                  "evasive recall", "avg precision", "campaigns recovered",
                  "worst legit FP rate", "link s"], summary_rows(results)), "",
           "### Recall at high+ by planted archetype (pooled over seeds)", "",
           table(["mode", "archetype", "accounts", "recall"], archetype_rows(results)), "",
           "### False-positive rate by legitimate archetype (pooled over all worlds)", "",
           table(["archetype", "accounts", "FP rate high+", "FP rate medium+"],
                 fp_rows(results)), "",
           "### Planted campaigns not recovered (recall or purity below 0.90)", ""]
    missed = campaign_rows(results)
    out.append(table(["mode", "seed", "campaign", "archetype", "accounts", "recall", "purity",
                      "found campaigns"], missed) if missed else "None: every planted campaign "
               "was recovered as one found campaign with recall and purity >= 0.90.")
    return "\n".join(out)


def write_doc(body: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Evaluation\n\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    DOC.write_text(f"{before}{START}\n{body.rstrip()}\n{END}{after}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev", type=int, nargs="*", default=None,
                    help="development seeds (1-99): print only, do not write the doc")
    ap.add_argument("--modes", nargs="*", default=list(MODES), choices=list(MODES))
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--n-seeds", type=int, default=len(EVAL_SEEDS),
                    help="use only the first N evaluation seeds (the doc says which ran)")
    ap.add_argument("--json", type=Path, default=None, help="write every result to this file")
    args = ap.parse_args()
    seeds = tuple(args.dev) if args.dev is not None else EVAL_SEEDS[:args.n_seeds]
    if args.dev is not None and any(s >= 100 or s < 1 for s in seeds):
        ap.error("development seeds are 1-99; the evaluation seeds are kept apart")
    results = []
    for mode in args.modes:
        for seed in seeds:
            r = run_world(mode, seed, args.accounts, args.days)
            results.append(r)
            print(table(["mode", "seed", "requests", "accounts", "planted", "precision",
                         "recall", "evasive recall", "avg precision", "campaigns recovered",
                         "worst legit FP rate", "link s"], summary_rows([r])), flush=True)
    body = render(results, args.accounts, args.days)
    print(body)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    if args.dev is None and args.modes == list(MODES):
        write_doc(body)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
