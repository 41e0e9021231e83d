"""When each account sends on one day: the timing patterns, over `prompts` (what it asks).

`day_requests(world, actor, day, rng, sync)` yields `Req` records in no particular order; the
writer sorts them. Timing patterns: `human` sessions on the customer's local clock, `batch`
cron jobs, `burst` evaluation runs, `steady` round-the-clock agent loops, `sync` one scheduler
load-balancing over many accounts, `sweep` logit-bias sweeps.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from workbench.simulator import prompts, text
from workbench.simulator.prompts import Req
from workbench.simulator.world import DAY, Actor, World, day_factor

# Relative activity by local hour 0..23.
PROFILES = {
    "office": [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 19, 18, 14, 17, 18, 17, 14, 10, 6, 4, 3, 2, 2, 1],
    "evening": [4, 2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 8, 8, 8, 9, 10, 12, 15, 18, 20, 19, 14, 8],
    "night": [12, 10, 8, 5, 3, 2, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 11, 13, 15, 17, 18, 17, 15],
    "app": [3, 2, 1, 1, 1, 2, 4, 7, 9, 10, 11, 12, 13, 12, 12, 12, 12, 13, 14, 15, 15, 13, 9, 5],
    "global": [8, 8, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 12, 12, 12, 12, 11, 11, 11, 10, 10, 9, 9,
               8],
    "flat": [1] * 24,
}
CUM = {k: [sum(v[: i + 1]) for i in range(24)] for k, v in PROFILES.items()}
REPLIES = ("Sure, here is a first version.", "I'll start by reading the relevant file.",
           "Here's what I found.", "Done. The tests pass now.", "Let me check that.",
           "Good question: it depends on the input size.")
PAYLOAD_P = 0.02  # share of campaign prompts carrying a payload aimed at the investigator's tools


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (normal approximation above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _clock(rng: random.Random, profile: str, tz: float) -> float:
    """Seconds into the UTC day for one event on the customer's local clock."""
    cum = CUM[profile]
    x = rng.random() * cum[-1]
    hour = next(i for i, c in enumerate(cum) if c >= x)
    return ((hour - tz) % 24) * 3600 + rng.random() * 3600


def day_requests(world: World, actor: Actor, day: int, rng: random.Random,
                 sync: dict[str, list[float]]) -> Iterator[Req]:
    """Every request one account sends on day `day` (0-based) of the window."""
    lo, hi = day * DAY, (day + 1) * DAY
    start, end = max(lo, actor.active_from), min(hi, actor.active_to)
    if end <= start:
        return
    ex = actor.extra
    pattern = ex["pattern"]
    lam = actor.rate * day_factor(world, actor, day) * (end - start) / DAY
    camo = ex.get("camouflage", 0.0)  # a shifted world's ordinary chat beside the harvesting
    chat: list[list[float]] = []
    if camo:
        chat = _sessions(rng, poisson(rng, lam * camo), actor)
        lam *= 1.0 - camo
    if pattern == "sync":
        times = _sync_times(world, actor, day, sync)
    elif pattern == "burst":
        times = _burst(rng, actor, lam, ex["burst_p"])
    elif pattern == "batch":
        times = _batch(rng, actor, poisson(rng, lam))
    elif pattern == "sweep":
        times = _sweep(rng, poisson(rng, lam))
    elif pattern == "steady":
        times = _loops(rng, poisson(rng, lam), actor)
    else:
        times = _sessions(rng, poisson(rng, lam), actor)
    harvest = prompts.maker(actor)
    everyday = prompts.Maker() if chat else harvest
    for i, session in enumerate(chat + times):
        make = everyday if i < len(chat) else harvest
        history: list[str] = []  # earlier turns, rebuilt (not mutated) as the session grows
        state = make.start(rng, actor, world, lo + session[0])
        for t in session:
            t_abs = lo + t
            if not (start <= t_abs < end):
                continue
            r = make.next(rng, actor, world, state, t_abs)
            r.ms = int(t * 1000)
            if make.multi_turn:
                r.history = history[-6:]
                history = [*history, r.prompt[:400], rng.choice(REPLIES)]
            if actor.campaign_id and rng.random() < PAYLOAD_P:
                r.prompt += " " + rng.choice(text.campaign("payloads"))
            yield r


def _sessions(rng: random.Random, n: int, actor: Actor) -> list[list[float]]:
    """Human sessions: multi-turn, turns a lognormal minute or two apart."""
    out, left = [], n
    mean = 2.0 if actor.extra.get("homework") else 3.0
    while left > 0:
        turns = min(left, 1 + int(rng.expovariate(1 / (mean - 1))))
        t = _clock(rng, actor.extra.get("profile", "app"), actor.tz)
        times = [t]
        for _ in range(turns - 1):
            t += 8 + rng.lognormvariate(4.0, 0.9)  # read, think, type: median ~1 minute
            times.append(t)
        out.append(times)
        left -= turns
    return out


def _loops(rng: random.Random, n: int, actor: Actor) -> list[list[float]]:
    """Agent loops around the clock: a task, then tool calls seconds apart."""
    out, left = [], n
    while left > 0:
        turns = min(left, rng.randint(1, 8) if actor.extra.get("tools") else 1)
        t = rng.random() * DAY
        times = [t]
        for _ in range(turns - 1):
            t += 2 + rng.expovariate(1 / 8)
            times.append(t)
        out.append(times)
        left -= turns
    return out


def _batch(rng: random.Random, actor: Actor, n: int) -> list[list[float]]:
    """Cron jobs at fixed local hours, requests back to back."""
    crons = actor.extra["cron"]
    out = []
    for i, hour in enumerate(crons):
        k = n // len(crons) + (1 if i < n % len(crons) else 0)
        t = ((hour - actor.tz) % 24) * 3600 + rng.uniform(0, 120)
        for _ in range(k):
            t += 0.2 + rng.expovariate(1 / 1.2)
            out.append([t % DAY])
    return out


def _burst(rng: random.Random, actor: Actor, lam: float, p: float) -> list[list[float]]:
    """Evaluation runs: on some days, a whole benchmark in an hour with 8-way concurrency."""
    if rng.random() >= p:
        return []
    n = poisson(rng, lam / p)
    t = _clock(rng, "office", actor.tz)
    out = []
    for i in range(n):
        if i % 8 == 0:
            t += rng.expovariate(1 / 3.0)
        out.append([(t + rng.random() * 2) % DAY])
    return out


def _sweep(rng: random.Random, n: int) -> list[list[float]]:
    """Logit-bias sweeps: one session per sweep, requests a fraction of a second apart."""
    out, left = [], n
    while left > 0:
        k = min(left, rng.randint(40, 120))
        t = rng.random() * DAY
        times = []
        for _ in range(k):
            t += 0.1 + rng.expovariate(1 / 0.6)
            times.append(t % DAY)
        out.append(times)
        left -= k
    return out


def _sync_times(world: World, actor: Actor, day: int,
                sync: dict[str, list[float]]) -> list[list[float]]:
    """One scheduler's ticks dealt round-robin to all of an operation's accounts."""
    group = world.groups[actor.archetype]
    key = f"{actor.campaign_id}:{day}"
    if key not in sync:
        crng = random.Random(f"sync:{world.seed}:{key}")
        total = poisson(crng, sum(a.rate * (1.0 - a.extra.get("camouflage", 0.0))
                                  for a in group))
        gap = DAY / max(1, total)
        sync[key] = [min(DAY - 0.001, (i + 0.5 + crng.uniform(-0.2, 0.2)) * gap)
                     for i in range(total)]
    pos = actor.extra["pos"]
    return [[t] for t in sync[key][pos::len(group)]]
