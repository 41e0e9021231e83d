"""The evaluation's worlds: named specs, each simulated, loaded and detected once, cached on disk.

A world name is one or more parts joined by `+`: `normal`, `evasive`, `metadata-only`,
`real-text` (prompts from the shared corpus) and the shifted worlds (`shift-a`, `shift-b`,
`shift-c`, `shift-all`), e.g. `shift-all+metadata-only`. `build()` simulates the world into
`bench/out/cache/worlds/` and loads and detects it into `bench/out/cache/cases/`, keyed by the
world, the seed, the sizes and a fingerprint of the code (the simulator's for the logs, the
whole package and the detectors for the case), so a rerun after a detection change reuses the
logs and a rerun with no change reuses the detected case (and, next to it, the sensitivity
sweep's steps already measured on it: `_sweep`). Stale entries of the same world and seed are
removed when a new one is written; `--quick` runs keep their own folder, `cache/quick/`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "out" / "cache"
# The protocol's worlds, in the order the tables list them.
WORLDS = ("normal", "evasive", "metadata-only", "shift-a", "shift-b", "shift-c", "shift-all",
          "shift-all+metadata-only", "real-text", "shift-all+real-text")
PARTS: dict[str, dict[str, Any]] = {
    "normal": {}, "evasive": {"evasive": True}, "metadata-only": {"metadata_only": True},
    "real-text": {"text": "corpus"},
    **{name: {"shift": name} for name in ("shift-a", "shift-b", "shift-c", "shift-all")},
}


def spec(world: str) -> dict[str, Any]:
    """The `simulate()` arguments of a world name."""
    out: dict[str, Any] = {}
    for part in world.split("+"):
        if part not in PARTS:
            known = ", ".join(PARTS)
            msg = f"Unknown world part {part!r} in {world!r}; parts are {known}, joined by '+'."
            raise SystemExit(msg)
        out.update(PARTS[part])
    return out


def needs_corpus(world: str) -> bool:
    return spec(world).get("text") == "corpus"


@functools.cache
def corpus_root() -> Path | None:
    """The shared corpus folder, or None when it is absent (real-text worlds are skipped)."""
    from workbench.errors import ParameterError
    from workbench.simulator.corpus import locate

    try:
        return locate()
    except ParameterError:
        return None


def _digest(paths: list[Path], extra: str = "") -> str:
    h = hashlib.sha1(extra.encode())
    for p in sorted(paths):
        h.update(p.name.encode() if not p.is_relative_to(ROOT) else
                 str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def _code(*folders: str, without: tuple[str, ...] = ()) -> list[Path]:
    return [p for f in folders for p in (ROOT / f).rglob("*")
            if p.is_file() and p.suffix in (".py", ".sql", ".json", ".toml")
            and "__pycache__" not in p.parts
            and not str(p.relative_to(ROOT)).startswith(without)]


# Real-text code: only worlds with text="corpus" ever run it, so only their logs depend on it.
CORPUS_CODE = ("workbench/simulator/corpus.py", "workbench/simulator/data/corpus_pools.json")
# What a detected case cannot depend on: the simulator (its output is keyed apart) and the
# presentation layer, which the import contracts keep from being imported by detection.
NOT_DETECTION = ("workbench/simulator", "workbench/evaluate.py", "workbench/widgets",
                 "workbench/handover", "workbench/cli", "workbench/magic.py")


@functools.cache
def fingerprints(real_text: bool = False) -> tuple[str, str]:
    """(simulator code, detection code: the package but the simulator and presentation, and
    the detectors) digests."""
    sim = _code("workbench/simulator", without=() if real_text else CORPUS_CODE)
    return _digest(sim), _digest(_code("workbench", "queries", without=NOT_DETECTION))


@dataclass
class Built:
    """One world on disk: its logs, its detected case, and what building it took."""

    world: str
    seed: int
    out: Path
    case: Path
    seconds: dict[str, float]
    requests: int
    cached: bool

    @property
    def truth(self) -> Path:
        return self.out / "truth.csv"


def _fresh(folder: Path, stem: str, keep: Path) -> None:
    """Remove other cache entries of the same world and seed (older code or sizes)."""
    for old in folder.glob(f"{stem}-*"):
        if not old.name.startswith(keep.stem):
            shutil.rmtree(old) if old.is_dir() else old.unlink()


def where(world: str, seed: int, accounts: int, days: int, requests: int,
          cache: Path = CACHE) -> tuple[dict[str, object], Path, Path]:
    """The `simulate()` arguments, the logs folder and the case file of a world."""
    args = {**spec(world), "accounts": accounts, "days": days, "requests": requests,
            "seed": seed}
    sim_fp, all_fp = fingerprints(needs_corpus(world))
    corpus = ""
    if needs_corpus(world):
        root = corpus_root()
        corpus = _digest(sorted(root.glob("*.jsonl"))) if root else ""
    stem = f"{world}-{seed}"
    wkey = hashlib.sha1(json.dumps([args, sim_fp, corpus], sort_keys=True).encode()
                        ).hexdigest()[:12]
    ckey = hashlib.sha1(f"{wkey}:{all_fp}".encode()).hexdigest()[:12]
    return args, cache / "worlds" / f"{stem}-{wkey}", cache / "cases" / f"{stem}-{ckey}.duckdb"


def build(world: str, seed: int, accounts: int, days: int, requests: int,
          cache: Path = CACHE) -> Built:
    """Simulate (or reuse) a world, load and detect it (or reuse the case); return where."""
    import workbench as wb
    from workbench.simulator import simulate

    args, out, case_path = where(world, seed, accounts, days, requests, cache)
    stem = f"{world}-{seed}"
    done = case_path.with_suffix(".json")
    if done.exists() and case_path.exists():
        meta = json.loads(done.read_text())
        return Built(world, seed, out, case_path, meta["seconds"], meta["requests"], True)
    seconds: dict[str, float] = {}
    if not (out / ".done").exists():
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        simulate(out, **args)
        seconds["simulate"] = round(time.perf_counter() - t0, 1)
        (out / ".done").write_text("")
        _fresh(out.parent, stem, out)
    case_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (case_path, case_path.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    case = wb.open(case_path)
    try:
        t0 = time.perf_counter()
        wb.load(case, sorted((out / "logs").glob("*.jsonl.gz")), accounts=out / "accounts.csv",
                releases=out / "releases.csv", progress=False)
        seconds["load"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        report = wb.detect(case)
        seconds["detect"] = round(time.perf_counter() - t0, 1)
        seconds["link"] = float(report.summary.get("seconds", 0.0))
        n = case.count("requests")
    finally:
        case.close()
    done.write_text(json.dumps({"seconds": seconds, "requests": n}))
    _fresh(case_path.parent, stem, case_path)
    return Built(world, seed, out, case_path, seconds, n, False)


def copy_case(src: Path, dst: Path) -> Path:
    """A working copy of a cached case (sweep steps change findings, links and leads)."""
    for p in (dst, dst.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    return dst
