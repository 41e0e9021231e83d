"""A simulated LLM API provider: legitimate customers with planted distillation campaigns.

`simulate(out)` writes one gzip JSONL file of native envelopes per day (`logs/`), plus
`accounts.csv`, `releases.csv` and the ground truth `truth.csv`. The world (accounts, rates,
lifetimes) is decided up front; logs are then generated day by day and written in sorted
blocks, so memory stays flat however many requests are asked for. The same arguments give the
same bytes. See docs/simulator.md for every default and its public source.

`shift=` draws the world's settings from ranges never used while tuning detection
(`workbench.simulator.shift`); `text="corpus"` draws prompts from the shared corpus of real
public prompts (`workbench.simulator.corpus`). Either writes the settings to `world.json`.
"""

from __future__ import annotations

import csv
import gzip
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from workbench.errors import unknown
from workbench.simulator import corpus as _corpus
from workbench.simulator.behave import day_requests
from workbench.simulator.population import build_world
from workbench.simulator.render import envelope
from workbench.simulator.shift import DEFAULT, NAMED, resolve
from workbench.simulator.world import CAMPAIGNS, DAY, LEGIT, World, release_times

__all__ = ["ARCHETYPES", "CAMPAIGN_ARCHETYPES", "LEGIT_ARCHETYPES", "SHIFTS", "TEXT_MODES",
           "SimSummary", "simulate"]

LEGIT_ARCHETYPES = tuple(c[0] for c in LEGIT)
CAMPAIGN_ARCHETYPES = tuple(c[0] for c in CAMPAIGNS)
ARCHETYPES = LEGIT_ARCHETYPES + CAMPAIGN_ARCHETYPES + tuple(f"{c}_evasive"
                                                           for c in CAMPAIGN_ARCHETYPES)
BLOCK = 10_000  # records sorted and written at a time: the bound on what is held in memory
GZIP_LEVEL = 4
SHIFTS = tuple(NAMED)
TEXT_MODES = ("sim", "corpus")


@dataclass(frozen=True)
class SimSummary:
    """What a simulation wrote: counts of requests and accounts, overall and per archetype."""

    out: Path
    requests: int
    accounts: int
    campaign_accounts: int
    days: int
    files: tuple[str, ...]
    requests_per_archetype: dict[str, int] = field(default_factory=dict)
    accounts_per_archetype: dict[str, int] = field(default_factory=dict)
    peak_buffered: int = 0  # most records held in memory at once (the streaming bound)
    shift: str = "default"
    text: str = "sim"

    @property
    def campaign_requests(self) -> int:
        """Requests sent by campaign accounts."""
        return sum(n for a, n in self.requests_per_archetype.items()
                   if a not in LEGIT_ARCHETYPES)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_csvs(world: World, out: Path) -> None:
    with (out / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["account_id", "org_id", "created_at", "payment_fingerprint", "email_domain",
                    "country", "signup_path", "verified"])
        for a in world.actors:
            w.writerow([a.account_id, a.org_id, _iso(world.start + a.created), a.fingerprint,
                        a.email_domain, a.country, a.signup_path, str(a.verified).lower()])
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["account_id", "campaign_id", "archetype"])
        for a in world.actors:
            w.writerow([a.account_id, a.campaign_id, a.archetype])
    with (out / "releases.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["model", "released_at"])
        for model, ts in release_times(world):
            w.writerow([model, _iso(ts)])


def write_day(world: World, day: int, path: Path,
              block: int | None = None) -> tuple[Counter[str], int]:
    """Write one day's logs to `path`; return requests per archetype and the peak buffer.

    Records are rendered into a buffer that is sorted by time and written whenever it holds
    `block` records, so memory is bounded by the block size, not by the day's volume.
    """
    block = block or BLOCK
    epoch = int(world.start + day * DAY)
    day_iso = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")
    counts: Counter[str] = Counter()
    sync: dict[str, list[float]] = {}
    buf: list[tuple[int, str, bytes]] = []
    peak = 0
    dumps = orjson.dumps
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                               compresslevel=GZIP_LEVEL) as gz:
        def flush() -> None:
            buf.sort(key=lambda x: (x[0], x[1]))
            gz.write(b"".join(line for _, _, line in buf))
            buf.clear()

        for actor in world.actors:
            rng = random.Random(f"{world.seed}:{actor.idx}:{day}")
            n = 0
            for r in day_requests(world, actor, day, rng, sync):
                env = envelope(world, actor, r, rng, day_iso, epoch)
                buf.append((r.ms, env["request_id"], dumps(env) + b"\n"))
                n += 1
                if len(buf) >= block:
                    peak = block
                    flush()
            counts[actor.archetype] += n
            peak = max(peak, len(buf))
        flush()
    return counts, peak


def simulate(out: str | Path, *, accounts: int = 2000, days: int = 14, seed: int = 0,
             requests: int | None = None, evasive: bool = False, metadata_only: bool = False,
             start: str = "2026-01-05", shift: str | int | None = None,
             text: str = "sim") -> SimSummary:
    """Write a simulated provider world with planted distillation campaigns to `out`.

    Args:
        out: Folder to write `logs/YYYY-MM-DD.jsonl.gz`, `accounts.csv`, `releases.csv`
            and `truth.csv` into (created if missing; earlier day files there are replaced).
        accounts: Number of billing accounts, campaign accounts included.
        days: Length of the window in days, starting at `start` (UTC midnight).
        seed: Same seed and arguments, same bytes.
        requests: Total requests to aim for; by default `accounts * days * 10`.
        evasive: Add an evasive variant of each campaign archetype.
        metadata_only: Leave out prompts, system prompts and response content.
        start: First day of the window, YYYY-MM-DD.
        shift: A shifted world (`shift-a`, `shift-b`, `shift-c`, `shift-all`, or an integer
            that draws every dimension from its own seed): settings from ranges never used in
            tuning (docs/simulator.md). None: the default world.
        text: `sim` (the project's phrase banks) or `corpus` (real public prompts read at run
            time from `$WORKBENCH_CORPUS` or `../shared/corpus`).

    Returns:
        A SimSummary with the counts written.

    Example:
        >>> import tempfile
        >>> s = simulate(tempfile.mkdtemp(), accounts=200, days=2, seed=1, requests=2000)
        >>> s.accounts, s.campaign_accounts > 0, 1500 < s.requests < 2500
        (200, True, True)
    """
    if text not in TEXT_MODES:
        err = unknown("text mode", text, TEXT_MODES)
        raise err
    settings = resolve(shift, seed)
    prompts = _corpus.load() if text == "corpus" else None
    world = build_world(accounts, days, seed, requests, evasive, start, metadata_only,
                        settings, prompts)
    out = Path(out)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].jsonl.gz"):
        old.unlink()
    _write_csvs(world, out)
    if settings is not DEFAULT or prompts is not None:
        about = {"seed": seed, "text": text, "shift": settings.describe(),
                 "corpus": str(prompts.root) if prompts else None}
        (out / "world.json").write_bytes(orjson.dumps(about, option=orjson.OPT_INDENT_2
                                                      | orjson.OPT_SORT_KEYS) + b"\n")
    elif (out / "world.json").exists():
        (out / "world.json").unlink()
    total: Counter[str] = Counter()
    files, peak = [], 0
    for day in range(days):
        name = datetime.fromtimestamp(world.start + day * DAY, UTC).strftime("%Y-%m-%d")
        path = logs / f"{name}.jsonl.gz"
        counts, day_peak = write_day(world, day, path)
        total.update(counts)
        peak = max(peak, day_peak)
        files.append(str(path.relative_to(out)))
    per_acc = Counter(a.archetype for a in world.actors)
    return SimSummary(
        out=out, requests=sum(total.values()), accounts=len(world.actors),
        campaign_accounts=sum(1 for a in world.actors if a.campaign_id), days=days,
        files=tuple(files), requests_per_archetype=dict(sorted(total.items())),
        accounts_per_archetype=dict(sorted(per_acc.items())), peak_buffered=peak,
        shift=settings.name, text=text)
