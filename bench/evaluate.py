"""The generalisation protocol: leads and campaigns scored on worlds never used for tuning.

    .venv/bin/python bench/evaluate.py                   # the protocol; writes docs/evaluation.md
    .venv/bin/python bench/evaluate.py --quick           # small worlds, one seed: prints only
    .venv/bin/python bench/evaluate.py --dev 1 2 3       # development seeds: prints only
    .venv/bin/python bench/evaluate.py --fresh --no-sweep  # seeds 2001-2003: prints only
    .venv/bin/python bench/evaluate.py --worlds shift-b --no-sweep --n-seeds 1

Every world of `_worlds.WORLDS` (the default world, its evasive and metadata-only modes, the
shifted worlds, and real-text worlds when the shared corpus is present) on the evaluation seeds
below, at about the size of the world kept back (2,500 accounts over 21 days, ~4 requests an
account-day); then the sensitivity sweep of `_sweep` on the first seed of `--sweep-worlds`, on
smaller worlds (`SWEEP_SIZES`: it relinks the case ~400 times a world).
The evaluation seeds are never used while tuning; tuning uses development seeds 1-99 (`--dev`).
Worlds and detected cases are cached in bench/out/cache (see `_worlds`); `--jobs 2` builds and
sweeps two worlds at a time.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, table  # noqa: E402
from _sweep import CLIFF, FACTORS, settings, summarise, sweep_world  # noqa: E402
from _worlds import CACHE, WORLDS, build, corpus_root, needs_corpus  # noqa: E402

EVAL_SEEDS = (1001, 1002, 1003)
# A second set, for a round whose changes were prompted by what the evaluation seeds showed:
# once a fix answers an evaluation-seed finding those seeds are no longer blind to it, and
# `--fresh` measures the same protocol on seeds nobody has looked at (print only).
FRESH_SEEDS = (2001, 2002, 2003)
DOC = ROOT / "docs" / "evaluation.md"
START, END = "<!-- evaluation:results -->", "<!-- /evaluation:results -->"
SIZES = {"accounts": 2500, "days": 21, "per_day": 4}
QUICK = {"accounts": 800, "days": 14, "per_day": 4}
# The sweep moves ~200 settings twice and relinks the case at every step (~20 s at the
# protocol's size here): ~400 steps a world is affordable on a 2-core machine only on smaller
# worlds, so it runs on worlds of its own size, on the first evaluation seed.
SWEEP_SIZES = {"accounts": 800, "days": 14, "per_day": 4}
SWEEP_WORLDS = ("normal", "shift-all+real-text")
# Issue 16's targets, at level high and above.
TARGET_P, TARGET_R, META_P, META_R, FP_MAX, RECOVER = 0.97, 0.95, 0.90, 0.85, 0.005, 0.9


def run_world(world: str, seed: int, accounts: int, days: int, requests: int,
              cache: Path = CACHE) -> dict[str, Any]:
    """Build (or reuse) one world and score it against its truth."""
    import workbench as wb
    from workbench.evaluate import evaluate

    built = build(world, seed, accounts, days, requests, cache)
    case = wb.open(built.case, read_only=True)
    try:
        result = evaluate(case, built.truth)
        result["campaigns_found"] = case.count("campaigns")
    finally:
        case.close()
    result.update(world=world, seed=seed, requests=built.requests, seconds=built.seconds,
                  cached=built.cached, case=str(built.case), out=str(built.out))
    return result


def run_sweep(world: str, seed: int, accounts: int, days: int, requests: int,
              only: list[str] | None, cache: Path = CACHE) -> list[dict[str, Any]]:
    built = build(world, seed, accounts, days, requests, cache)
    print(f"sweep {world} {seed}: {built.requests:,} requests, case {built.case.name}",
          flush=True)
    return sweep_world(built, settings(only), cache / "work",
                       say=lambda line: print(line, flush=True))


# -- tables ------------------------------------------------------------------------------


def _pool(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        out.setdefault(r["world"], []).append(r)
    return out


def _prf(rs: list[dict[str, Any]], level: str) -> tuple[float, float, float]:
    tp = sum(r["levels"][level]["tp"] for r in rs)
    fp = sum(r["levels"][level]["fp"] for r in rs)
    fn = sum(r["levels"][level]["fn"] for r in rs)
    p = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    return p, rec, (2 * p * rec / (p + rec) if p + rec else 0.0)


def _worst_fp(rs: list[dict[str, Any]]) -> tuple[str, float]:
    rates = _fp_rates(rs)
    arch = max(rates, key=lambda a: (rates[a][0], a))
    return arch, rates[arch][0]


def _fp_rates(rs: list[dict[str, Any]]) -> dict[str, tuple[float, float, int]]:
    """Legitimate archetype -> (FP rate high+, FP rate medium+, accounts), pooled."""
    acc: dict[str, list[float]] = {}
    for r in rs:
        for arch, v in r["false_positives"].items():
            a = acc.setdefault(arch, [0.0, 0.0, 0.0])
            a[0] += v["high_n"]
            a[1] += v["medium_n"]
            a[2] += v["accounts"]
    return {k: (h / n, m / n, int(n)) for k, (h, m, n) in acc.items()}


def world_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for r in results:
        hi = r["levels"]["high"]
        arch, fp = _worst_fp([r])
        rows.append([r["world"], r["seed"], f"{r['requests']:,}", r["accounts"],
                     r["planted_accounts"], f"{hi['precision']:.3f}", f"{hi['recall']:.3f}",
                     f"{hi['f1']:.3f}", f"{r['average_precision']:.3f}",
                     f"{r['campaigns_recovered']}/{r['campaigns_planted']}",
                     f"{fp:.4f} ({arch})"])
    return rows


def level_rows(pooled: dict[str, list[dict[str, Any]]]) -> list[list[Any]]:
    rows = []
    for world, rs in pooled.items():
        cells = []
        for level in ("low", "medium", "high", "critical"):
            p, rec, f = _prf(rs, level)
            cells.append(f"{p:.3f} / {rec:.3f} / {f:.3f}")
        rows.append([world, *cells])
    return rows


def target_rows(pooled: dict[str, list[dict[str, Any]]]) -> list[list[Any]]:
    rows = []
    for world, rs in pooled.items():
        p, rec, _ = _prf(rs, "high")
        meta = "metadata-only" in world
        want_p, want_r = (META_P, META_R) if meta else (TARGET_P, TARGET_R)
        arch, fp = _worst_fp(rs)
        rec_n = sum(r["campaigns_recovered"] for r in rs)
        planted = sum(r["campaigns_planted"] for r in rs)
        rows.append([world, f"{p:.3f} (>= {want_p})", f"{rec:.3f} (>= {want_r})",
                     f"{rec_n}/{planted}", f"{fp:.4f} {arch} (<= {FP_MAX})",
                     "yes" if p >= want_p and rec >= want_r and rec_n == planted
                     and fp <= FP_MAX else "no"])
    return rows


def archetype_rows(pooled: dict[str, list[dict[str, Any]]]) -> tuple[list[str], list[list[Any]]]:
    """Planted archetype x world: recall at high+ (medium+ in brackets), pooled over seeds."""
    worlds = list(pooled)
    archs = sorted({a for rs in pooled.values() for r in rs for a in r["recall_by_archetype"]})
    rows = []
    for arch in archs:
        cells = []
        for w in worlds:
            hit_h = hit_m = n = 0.0
            for r in pooled[w]:
                v = r["recall_by_archetype"].get(arch)
                if v:
                    hit_h += v["high"] * v["accounts"]
                    hit_m += v["medium"] * v["accounts"]
                    n += v["accounts"]
            cells.append(f"{hit_h / n:.2f} ({hit_m / n:.2f}) n={int(n)}" if n else "–")
        rows.append([arch, *cells])
    return ["archetype", *worlds], rows


def campaign_rows(pooled: dict[str, list[dict[str, Any]]]) -> list[list[Any]]:
    rows = []
    for world, rs in pooled.items():
        by: dict[str, list[dict[str, Any]]] = {}
        for r in rs:
            for c in r["campaigns"]:
                by.setdefault(c["archetype"], []).append(c)
        for arch, cs in sorted(by.items()):
            merged = sorted({m.removeprefix("camp-").removesuffix("-1") for c in cs
                             for m in c["merged_with"]})
            rows.append([world, arch, round(sum(c["accounts"] for c in cs) / len(cs)),
                         f"{sum(c['coverage'] for c in cs) / len(cs):.2f}",
                         f"{sum(c['purity'] for c in cs) / len(cs):.2f}",
                         f"{max(c['found_in'] for c in cs)}",
                         f"{sum(c['recovered'] for c in cs)}/{len(cs)}",
                         ", ".join(merged) or "–"])
    return rows


def fp_rows(pooled: dict[str, list[dict[str, Any]]]) -> tuple[list[str], list[list[Any]]]:
    worlds = list(pooled)
    rates = {w: _fp_rates(rs) for w, rs in pooled.items()}
    archs = sorted({a for r in rates.values() for a in r})
    rows = []
    for arch in archs:
        cells = [f"{rates[w][arch][0]:.4f} ({rates[w][arch][1]:.3f})" if arch in rates[w]
                 else "–" for w in worlds]
        rows.append([arch, *cells])
    return ["legitimate archetype", *worlds], rows


def detector_rows(pooled: dict[str, list[dict[str, Any]]]) -> tuple[list[str], list[list[Any]]]:
    """Detector x world: campaign / legitimate accounts its findings reach (summed over seeds)."""
    worlds = list(pooled)
    dets = sorted({d for rs in pooled.values() for r in rs for d in r["detectors"]})
    rows = []
    for d in dets:
        cells = []
        for w in worlds:
            c = sum(r["detectors"].get(d, {}).get("campaign", 0) for r in pooled[w])
            n = sum(r["detectors"].get(d, {}).get("legit", 0) for r in pooled[w])
            cells.append(f"{c} / {n}")
        rows.append([d, *cells])
    return ["detector", *worlds], rows


def reach_rows(pooled: dict[str, list[dict[str, Any]]],
               specific: tuple[str, ...]) -> list[list[Any]]:
    """World x archetype: the detectors whose findings reach its accounts (summed over seeds);
    every planted archetype, and the legitimate ones a harvesting-specific detector reaches."""
    rows = []
    for world, rs in pooled.items():
        accounts: dict[str, int] = {}
        planted: set[str] = set()
        for r in rs:
            for arch, v in r["recall_by_archetype"].items():
                accounts[arch] = accounts.get(arch, 0) + v["accounts"]
                planted.add(arch)
            for arch, v in r["false_positives"].items():
                accounts[arch] = accounts.get(arch, 0) + v["accounts"]
        reach: dict[str, dict[str, int]] = {}
        for r in rs:
            for det, d in r["detectors"].items():
                for arch, n in d["by_archetype"].items():
                    reach.setdefault(arch, {})
                    reach[arch][det] = reach[arch].get(det, 0) + n
        for arch in sorted(accounts, key=lambda a: (a not in planted, a)):
            got = reach.get(arch, {})
            if arch not in planted and not any(d in specific for d in got):
                continue
            cells = ", ".join(f"{'**' + d + '**' if d in specific else d} {n}"
                              for d, n in sorted(got.items(), key=lambda kv: (-kv[1], kv[0])))
            rows.append([world, arch + ("" if arch in planted else " (legit)"), accounts[arch],
                         cells or "none"])
    return rows


def sweep_rows(rows: list[dict[str, Any]]) -> tuple[list[list[Any]], list[str], list[str]]:
    """Settings that move anything, the cliffs, and the settings that move nothing."""
    summary = summarise(rows)
    moved, cliffs, still = [], [], []
    for key, s in sorted(summary.items(), key=lambda kv: (kv[1]["kind"], kv[0])):
        cells = []
        biggest = 0.0
        for factor in FACTORS:
            m = s["moves"].get(factor)
            if m is None:
                cells.append("–")
                continue
            biggest = max(biggest, -m["d_recall"], -m["d_precision"], m["gain_recall"])
            cells.append(f"{m['value']:g}: R {m['d_recall']:+.3f} (best {m['gain_recall']:+.3f}), "
                         f"P {m['d_precision']:+.3f}")
        if s["errors"]:
            cells.append("error: " + "; ".join(s["errors"])[:120])
        flag = "yes" if s["cliffs"] else ""
        if biggest >= 0.01 or s["cliffs"] or s["errors"]:
            moved.append([key, f"{s['default']:g}", *cells[:2], flag])
        else:
            still.append(key)
        cliffs += [f"`{key}`: {c}" for c in s["cliffs"]]
    return moved, cliffs, still


def render(results: list[dict[str, Any]], sweep: list[dict[str, Any]], sizes: dict[str, int],
           command: str, skipped: list[str], sweep_sizes: dict[str, int] | None = None) -> str:
    from workbench.config import RiskConfig

    cfg = RiskConfig.load()
    pooled = _pool(results)
    seeds = sorted({r["seed"] for r in results})
    out = [f"Printed by `{command}` on {machine()}. Worlds of {sizes['accounts']} accounts over "
           f"{sizes['days']} days, about {sizes['requests']:,} requests each; seeds "
           f"{', '.join(map(str, seeds))}. Levels: "
           + ", ".join(f"{k} >= {v}" for k, v in cfg.levels.items()) + "."]
    if skipped:
        out.append(f"Not run: {', '.join(skipped)} (no corpus at $WORKBENCH_CORPUS or "
                   "../shared/corpus).")
    out += ["", "### Against the targets (pooled over seeds, level high and above)", "",
            table(["world", "precision", "recall", "campaigns recovered as one",
                   "worst legitimate FP rate", "met"], target_rows(pooled)), "",
            "### Per world and seed (level high and above)", "",
            table(["world", "seed", "requests", "accounts", "planted", "precision", "recall",
                   "F1", "avg precision", "recovered", "worst legit FP rate (archetype)"],
                  world_rows(results)), "",
            "### Precision / recall / F1 at each level and above (pooled over seeds)", "",
            table(["world", "low+", "medium+", "high+", "critical+"], level_rows(pooled)), "",
            "### Recall by planted archetype: high+ (medium+), pooled over seeds", ""]
    head, rows = archetype_rows(pooled)
    out += [table(head, rows), "",
            "### Planted campaigns: best-matching found campaign (mean over seeds)", "",
            "Coverage: share of the planted campaign's accounts in its best match; purity: "
            "share of the best match's accounts that belong to it; recovered as one at both "
            f">= {RECOVER}. `split` is the most found campaigns one planted campaign was spread "
            "over; `merged with` the other operations found in the same campaign.", "",
            table(["world", "archetype", "accounts", "coverage", "purity", "split",
                   "recovered", "merged with"], campaign_rows(pooled)), "",
            "### False-positive rate by legitimate archetype: high+ (medium+), pooled", ""]
    head, rows = fp_rows(pooled)
    out += [table(head, rows), "",
            "### Accounts each detector reaches: campaign / legitimate (summed over seeds)", ""]
    head, rows = detector_rows(pooled)
    out += [table(head, rows), "",
            "### Which detectors reach each archetype's accounts (summed over seeds)", "",
            "Accounts reached, per detector, in bold the harvesting-specific ones (`[gate] "
            "specific`: without one of them, or a campaign tie to accounts that have one, an "
            "account stays below high). Every planted archetype, and the legitimate archetypes "
            "a specific detector reaches.", "",
            table(["world", "archetype", "accounts", "reached by"],
                  reach_rows(pooled, tuple(cfg.gate.specific)))]
    if sweep:
        moved, cliffs, still = sweep_rows(sweep)
        sworlds = sorted({f"{r['world']} {r['seed']}" for r in sweep})
        base = sorted({(r["world"], r["base_precision"], r["base_recall"]) for r in sweep})
        ss = sweep_sizes or sizes
        checks = [r for r in sweep if r["kind"] == "control"]
        out += ["", f"### Sensitivity: each setting at x{FACTORS[0]} and x{FACTORS[1]}", "",
                f"On {', '.join(sworlds)}, worlds of {ss['accounts']} accounts over "
                f"{ss['days']} days, about {ss['requests']:,} requests (baselines: " + "; ".join(
                    f"{w} P {p:.3f} R {r:.3f}" for w, p, r in base) + "). Controls, rerun at "
                "the defaults, must give the baseline back: " + "; ".join(
                    f"{r['world']} {r['key'].removeprefix('control.')} P {r['precision']:.3f} "
                    f"R {r['recall']:.3f}" for r in checks) + ". Each cell: the moved "
                "value, the worst change of recall over those worlds (and the best), and the "
                f"worst change of precision, at high+. A cliff costs more than {CLIFF} recall "
                "or precision in some world.", "",
                table(["setting", "default", f"x{FACTORS[0]}", f"x{FACTORS[1]}", "cliff"], moved)
                if moved else "No setting moves recall or precision by 0.01 or more.", ""]
        out += ["Cliffs (`levels.*` move the bar the figures are read at, so theirs say how "
                "close the risks sit to it rather than that a weight was fitted):", ""]
        out += [f"- {c}" for c in cliffs] or ["- none"]
        out += ["", f"Settings that moved neither by 0.01 anywhere ({len(still)}): "
                + ", ".join(f"`{k}`" for k in still) + "."]
    return "\n".join(out)


def write_doc(body: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Evaluation\n\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    DOC.write_text(f"{before}{START}\n{body.rstrip()}\n{END}{after}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fresh", action="store_true",
                    help=f"the second evaluation seeds {FRESH_SEEDS}: print only")
    ap.add_argument("--dev", type=int, nargs="*", default=None,
                    help="development seeds (1-99): print only, do not write the doc")
    ap.add_argument("--worlds", nargs="*", default=list(WORLDS))
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK['accounts']} accounts x {QUICK['days']} days, one seed, "
                         "sweep on normal and shift-all: prints only")
    ap.add_argument("--accounts", type=int, default=None)
    ap.add_argument("--days", type=int, default=None)
    ap.add_argument("--requests", type=int, default=None,
                    help="requests per world [default: accounts x days x 4]")
    ap.add_argument("--n-seeds", type=int, default=None,
                    help="use only the first N evaluation seeds")
    ap.add_argument("--sweep-worlds", nargs="*", default=None)
    ap.add_argument("--sweep-only", nargs="*", default=None,
                    help="sweep only settings whose key contains one of these")
    ap.add_argument("--sweep-accounts", type=int, default=None,
                    help=f"accounts of the sweep's worlds [default: {SWEEP_SIZES['accounts']}]")
    ap.add_argument("--sweep-days", type=int, default=None,
                    help=f"days of the sweep's worlds [default: {SWEEP_SIZES['days']}]")
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--jobs", type=int, default=1, help="worlds built or swept at a time")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "evaluation.json",
                    help="write every result here")
    args = ap.parse_args()
    base = QUICK if args.quick else SIZES
    accounts, days = args.accounts or base["accounts"], args.days or base["days"]
    requests = args.requests or accounts * days * base["per_day"]
    sbase = QUICK if args.quick else SWEEP_SIZES
    s_accounts, s_days = args.sweep_accounts or sbase["accounts"], args.sweep_days or sbase["days"]
    s_requests = s_accounts * s_days * sbase["per_day"]
    pool = FRESH_SEEDS if args.fresh else EVAL_SEEDS
    seeds = tuple(args.dev) if args.dev is not None else pool[
        :args.n_seeds or (1 if args.quick else len(pool))]
    if args.dev is not None and any(s >= 100 or s < 1 for s in seeds):
        ap.error("development seeds are 1-99; the evaluation seeds are kept apart")
    worlds = [w for w in args.worlds if not needs_corpus(w) or corpus_root()]
    skipped = [w for w in args.worlds if w not in worlds]
    sweep_worlds = [w for w in (args.sweep_worlds if args.sweep_worlds is not None else
                                (["normal", "shift-all"] if args.quick else SWEEP_WORLDS))
                    if not needs_corpus(w) or corpus_root()]
    jobs = [(w, s) for w in worlds for s in seeds]
    cache = CACHE / "quick" if args.quick else CACHE  # a quick run does not evict the protocol's
    # nor do the sweep's smaller worlds (a cache entry evicts the same world and seed's others)
    sweep_cache = cache if args.quick else CACHE / "sweep"
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_world, *zip(*[(w, s, accounts, days, requests, cache)
                                                  for w, s in jobs], strict=True))) if jobs else []
        for r in results:
            print(table(["world", "seed", "requests", "accounts", "planted", "precision",
                         "recall", "F1", "avg precision", "recovered", "worst legit FP"],
                        world_rows([r])).splitlines()[-1], flush=True)
        sweep: list[dict[str, Any]] = []
        if not args.no_sweep and sweep_worlds:
            for rows in pool.map(run_sweep, sweep_worlds, [seeds[0]] * len(sweep_worlds),
                                 [s_accounts] * len(sweep_worlds), [s_days] * len(sweep_worlds),
                                 [s_requests] * len(sweep_worlds),
                                 [args.sweep_only] * len(sweep_worlds),
                                 [sweep_cache] * len(sweep_worlds)):
                sweep += rows
    command = "bench/evaluate.py " + shlex.join(sys.argv[1:])
    body = render(results, sweep, {"accounts": accounts, "days": days, "requests": requests},
                  command.strip(), skipped,
                  {"accounts": s_accounts, "days": s_days, "requests": s_requests})
    print(body)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"results": results, "sweep": sweep}, indent=1,
                                    default=str))
    full = (args.dev is None and not args.quick and args.worlds == list(WORLDS)
            and seeds == EVAL_SEEDS and base is SIZES and not args.accounts and not args.days
            and not args.requests and not args.no_sweep)  # a narrowed sweep says so: `command`
    if full:
        write_doc(body)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
