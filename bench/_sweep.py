"""Sensitivity: precision and recall at level high and above as each setting moves by ±50 %.

Two kinds of setting: every numeric knob of risk.toml (`RiskConfig.knobs()`, changed with
`RiskConfig.replace` and re-linked with `wb.link(case, config=...)`, detectors not rerun), and
every int or float parameter a detector declares in its `-- param:` header (only that detector
rerun, on a fresh copy of the cached case, and the case relinked: `rerun`).
A move that costs more than `CLIFF` recall or precision is a cliff: the figure depends on that
one value, a sign it was fitted to the worlds it was tuned on. Each step's result is kept next
to the cached case (`<case>.sweep.json`), so an interrupted or repeated sweep on the same case
and code resumes instead of starting again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _worlds import Built, copy_case

FACTORS = (0.5, 1.5)
CLIFF = 0.1
# Knobs that are not thresholds or weights of detection: moving them measures nothing.
SKIP = {"campaigns.seed": "Louvain's random seed", "campaigns.top_detectors": "reasons only",
        "campaigns.top_links": "reasons only"}


@dataclass(frozen=True)
class Setting:
    """One setting to move: a risk.toml knob or a detector parameter."""

    kind: str  # "risk" or "detector"
    key: str  # section.key, or detector.param
    default: float
    integer: bool

    def moved(self, factor: float) -> float | int:
        value = self.default * factor
        return max(1, round(value)) if self.integer and self.default >= 1 else (
            round(value) if self.integer else round(value, 6))


def settings(only: list[str] | None = None) -> list[Setting]:
    """Every setting the sweep moves (or those whose key contains one of `only`)."""
    from workbench.catalogue import detectors
    from workbench.config import RiskConfig

    cfg = RiskConfig.load()
    # a knob held as an integer (a count, hours) moves to integers, in any section
    ints = {f"{section}.{k}" for section, values in cfg.to_dict().items()
            for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}
    out = [Setting("risk", k, v, k in ints) for k, v in sorted(cfg.knobs().items())
           if k not in SKIP and v != 0]
    for name, det in sorted(detectors().items()):
        for p in det.params:
            if p.type in ("int", "float"):
                out.append(Setting("detector", f"{name}.{p.name}", float(p.default),
                                   p.type == "int"))
    if only:
        out = [s for s in out if any(o in s.key for o in only)]
    return out


def _high(case: Any, truth: dict[str, tuple[str | None, str]]) -> tuple[float, float]:
    from workbench.evaluate import score

    rows = case.sql("select account_id, campaign_id, risk, level from leads").rows()
    high = score(truth, {a: (c, float(r), lv) for a, c, r, lv in rows})["levels"]["high"]
    return high["precision"], high["recall"]


def rerun(case: Any, name: str, params: dict[str, Any], cfg: Any) -> None:
    """Rerun one detector with changed params and relink as a full run would.

    `wb.detect(case, only=[name])` links with the cohort phase of the chosen detectors only,
    so rerunning an account-phase detector that way drops every `cohort` edge and changes the
    campaigns whatever the params (on normal-1001, 18 campaigns became 19 at the defaults). An
    account-phase detector is rerun without linking and the case relinked with `wb.link`, which
    reruns every cohort detector; a cohort detector runs in the link phase, its peers' findings
    of the full run staying in place (they read the same communities, so a rerun would give
    them again).
    """
    import workbench as wb
    from workbench import detectors

    chosen = detectors.plan([name], {name: params})
    if detectors.split(chosen)[1]:
        wb.detect(case, only=[name], params={name: params}, config=cfg)
    else:
        wb.detect(case, only=[name], params={name: params}, config=cfg, link=False)
        wb.link(case, config=cfg)


def controls(chosen: list[Setting]) -> list[str]:
    """The steps rerun at the defaults, which must give the baseline back: relinking (for the
    risk settings), and one account-phase and one cohort-phase detector (for the detectors')."""
    from workbench import detectors

    out = ["link"] if any(s.kind == "risk" for s in chosen) else []
    names = sorted({s.key.split(".", 1)[0] for s in chosen if s.kind == "detector"})
    for phase in (0, 1):
        out += [n for n in names if detectors.split(detectors.plan([n], None))[phase]][:1]
    return out


def sweep_world(built: Built, chosen: list[Setting], work: Path,
                say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Every move of every setting on one cached world; one row per (setting, factor)."""
    import workbench as wb
    from workbench.config import RiskConfig
    from workbench.evaluate import read_truth

    truth = read_truth(built.truth)
    work.mkdir(parents=True, exist_ok=True)
    master = wb.open(built.case, read_only=True)
    base_p, base_r = _high(master, truth)
    master.close()
    cfg = RiskConfig.load()
    rows: list[dict[str, Any]] = []
    stem = f"{built.world}-{built.seed}"
    # Steps already measured on this very case (same world, sizes and code) are not rerun.
    memo_path = built.case.with_suffix(".sweep.json")
    memo: dict[str, dict[str, Any]] = (json.loads(memo_path.read_text())
                                       if memo_path.exists() else {})

    def record(s: Setting, factor: float, value: float, case: Any, t0: float,
               error: str = "") -> None:
        p, r = _high(case, truth) if case is not None else (float("nan"), float("nan"))
        row = {"world": built.world, "seed": built.seed, "kind": s.kind, "key": s.key,
               "default": s.default, "factor": factor, "value": value,
               "precision": p, "recall": r, "base_precision": base_p,
               "base_recall": base_r, "d_precision": round(p - base_p, 4),
               "d_recall": round(r - base_r, 4), "error": error,
               "seconds": round(time.perf_counter() - t0, 2)}
        rows.append(row)
        memo[f"{s.key}|{factor}|{value}"] = row
        tmp = memo_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(memo))
        tmp.replace(memo_path)

    def done(s: Setting) -> bool:
        hits = [memo.get(f"{s.key}|{f}|{s.moved(f)}") for f in FACTORS]
        if all(hits):
            rows.extend(h for h in hits if h)
            return True
        return False

    def show(s: Setting) -> None:
        say(f"  {stem} {s.key}: " + ", ".join(
            f"x{r['factor']} P {r['precision']:.3f} R {r['recall']:.3f}" for r in rows[-2:]))

    for control in controls(chosen):
        key = f"control.{control}"
        if key in memo:
            rows.append(memo[key])
            continue
        t0 = time.perf_counter()
        case = wb.open(copy_case(built.case, work / f"{stem}-step.duckdb"))
        try:
            if control == "link":
                wb.link(case, config=cfg)
            else:
                rerun(case, control, {}, cfg)
            p, r = _high(case, truth)
        finally:
            case.close()
        memo[key] = {"world": built.world, "seed": built.seed, "kind": "control", "key": key,
                     "precision": p, "recall": r, "base_precision": base_p,
                     "base_recall": base_r, "seconds": round(time.perf_counter() - t0, 2)}
        rows.append(memo[key])
        say(f"  {stem} {key}: P {p:.3f} R {r:.3f} (baseline P {base_p:.3f} R {base_r:.3f})")
    todo = [x for x in chosen if x.kind == "risk" and not done(x)]
    if todo:
        linked = wb.open(copy_case(built.case, work / f"{stem}-link.duckdb"))
        try:
            for s in todo:
                for factor in FACTORS:
                    t0, value = time.perf_counter(), s.moved(factor)
                    try:
                        wb.link(linked, config=cfg.replace(s.key, value))
                    except Exception as exc:  # noqa: BLE001 - a rejected value is a result
                        record(s, factor, value, None, t0, f"{type(exc).__name__}: {exc}")
                        continue
                    record(s, factor, value, linked, t0)
                show(s)
        finally:
            linked.close()
    for s in (x for x in chosen if x.kind == "detector" and not done(x)):
        name, param = s.key.split(".", 1)
        for factor in FACTORS:
            t0, value = time.perf_counter(), s.moved(factor)
            case = wb.open(copy_case(built.case, work / f"{stem}-step.duckdb"))
            try:
                rerun(case, name, {param: value}, cfg)
                record(s, factor, value, case, t0)
            except Exception as exc:  # noqa: BLE001 - a rejected value is a result too
                record(s, factor, value, None, t0, f"{type(exc).__name__}: {exc}")
            finally:
                case.close()
        show(s)
    for p in work.glob(f"{stem}-*.duckdb*"):
        p.unlink()
    order = {(x.key, f): i for i, (x, f) in enumerate((x, f) for x in chosen for f in FACTORS)}
    return sorted(rows, key=lambda r: order.get((r["key"], r.get("factor")), -1))


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per setting: the worst change of recall and of precision over worlds at each factor,
    and the cliffs (world, factor, what dropped by how much)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["kind"] == "control":
            continue
        s = out.setdefault(r["key"], {"kind": r["kind"], "default": r["default"], "moves": {},
                                      "cliffs": [], "errors": []})
        m = s["moves"].setdefault(r["factor"], {"value": r["value"], "d_recall": 0.0,
                                                "d_precision": 0.0, "gain_recall": 0.0})
        if r["error"]:
            s["errors"].append(f"{r['world']} x{r['factor']}: {r['error']}")
            continue
        m["d_recall"] = min(m["d_recall"], r["d_recall"])
        m["d_precision"] = min(m["d_precision"], r["d_precision"])
        m["gain_recall"] = max(m["gain_recall"], r["d_recall"])
        for what in ("recall", "precision"):
            if r[f"d_{what}"] < -CLIFF:
                s["cliffs"].append(f"{r['world']} x{r['factor']}: {what} "
                                   f"{r[f'base_{what}']:.3f} -> {r[what]:.3f}")
    return out
