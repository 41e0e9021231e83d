"""Who the campaign accounts are: the six operations of the public reports, and their variants.

`campaigns(rng, n, world, arch)` makes the accounts of one operation, `hydra(...)` the proxy
reseller's account pool with its ban waves and replacements. Shifted worlds
(`workbench.simulator.shift`) move sizes, lifetimes, paths, clients and cards here; the default
world draws exactly what it drew before shifts existed.
"""

from __future__ import annotations

import math
import random

from workbench.simulator import text
from workbench.simulator.identity import (
    adoption,
    api_style,
    company,
    long_ago,
    new_actor,
    user_agent,
)
from workbench.simulator.world import (
    CLOUDS,
    DAY,
    FREE_MAIL,
    HYDRA_WAVE_SHARE,
    RESELLERS,
    THROWAWAY,
    Actor,
    World,
    group_ips,
    hydra_plan,
    hydra_waves,
    new_id,
)


def _campaign(rng: random.Random, n: int, world: World, arch: str, *, share_cards: int,
              email: tuple[str, ...], paths: list[str], style: str, ua: str | None,
              pattern: str, prefixes: int, created_burst: float | None) -> list[Actor]:
    """Accounts of one operation; evasive variants get distinct cards, residential IPs."""
    evasive = arch.endswith("_evasive")
    camp = f"camp-{arch}-1"
    cards = [new_id(rng, "pf_") for _ in range(max(1, math.ceil(n / share_cards)))]
    ips = group_ips(rng, prefixes, 6)
    out = []
    for i in range(n):
        if evasive or created_burst is None:
            created = long_ago(rng, 120) - 10 * DAY
        else:
            created = created_burst + rng.uniform(0, 4 * 3600) * (1 + i // 10)
        a = new_actor(rng, arch, camp, world, created=created,
                      fingerprint=None if evasive else cards[i % len(cards)],
                      email=company(rng) if evasive and rng.random() < 0.5 else rng.choice(email),
                      verified=rng.random() < (0.5 if evasive else 0.15))
        a.style = style if style != "mixed" else api_style(rng, 0.5, 0.1)
        a.ua = ua if ua and not evasive else user_agent(rng, a.style, 0.4)
        a.ips = [] if evasive else ips  # evasive: a fresh residential address per request
        a.paths = [paths[i % len(paths)]]
        a.signup_path = {"cloud": "cloud_marketplace", "reseller": "reseller"}.get(
            a.paths[0].split(":")[0], "self_serve")
        a.weight = rng.uniform(0.3, 0.8) if evasive else _weight(rng, world)
        a.extra = {"pattern": "human" if evasive else pattern, "profile": "office",
                   "models": ["lumen-2.5-think", "lumen-2"], **adoption(rng, world, 3)}
        if i == 0 and arch.startswith("agentic"):  # one account probes the investigator's tools
            a.ua += " " + text.campaign("payloads")[rng.randrange(3)]
        out.append(a)
    base = arch.removesuffix("_evasive")
    if base in world.shift.camouflage:
        for a in out:
            a.extra["camouflage"] = world.shift.camouflage[base]
    if base in world.shift.path_mix:
        _spread_paths(rng, out, world.shift.path_mix[base], ua)
    return out


def _weight(rng: random.Random, world: World) -> float:
    """A campaign account's share of its operation's volume (heavy-tailed when shifted)."""
    sigma = world.shift.rate_sigma
    return rng.lognormvariate(0, sigma) if sigma else rng.uniform(0.8, 1.2)


def _spread_paths(rng: random.Random, actors: list[Actor], mix: tuple[float, float, float],
                  ua: str | None) -> None:
    """Spread an operation over direct, cloud-marketplace and reseller access, in `mix`
    shares, each path with its own client (one SDK per path, as one operator's tooling would
    be: the operation's own client direct, the marketplace SDK through a cloud, the gateway's
    client through a reseller). Evasive accounts keep their varied clients."""
    n = len(actors)
    raw = [m * n for m in mix]
    counts = [int(x) for x in raw]
    for i in sorted(range(3), key=lambda i: raw[i] - counts[i], reverse=True)[: n - sum(counts)]:
        counts[i] += 1
    clouds, resellers = rng.sample(CLOUDS, k=len(CLOUDS)), rng.sample(RESELLERS, k=2)
    paths = (["direct"] * counts[0] + [clouds[i % 2] for i in range(counts[1])]
             + [resellers[i % 2] for i in range(counts[2])])
    rng.shuffle(paths)
    clients = text.shifted("path_user_agents")
    per_path = {p: rng.choice(clients[p if p.startswith("cloud:") else p.split(":")[0]])
                for p in sorted(set(paths))}
    if ua:
        per_path["direct"] = ua
    for a, path in zip(actors, paths, strict=True):
        a.paths = [path]
        a.signup_path = {"cloud": "cloud_marketplace", "reseller": "reseller"}.get(
            path.split(":")[0], "self_serve")
        if not a.evasive:  # keep a payload appended to the client (they all start with '<')
            a.ua = per_path[path] + (a.ua[a.ua.find(" <"):] if " <" in a.ua else "")


def campaigns(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    base = arch.removesuffix("_evasive")
    burst = -rng.uniform(20, 60) * DAY
    if base == "reasoning_harvester":
        out = _campaign(rng, n, world, arch, share_cards=8, email=FREE_MAIL + THROWAWAY,
                        paths=["direct"], style="anthropic", ua="python-httpx/0.27.0",
                        pattern="sync", prefixes=2, created_burst=burst)
        rubric = world.shift.rubric_share
        if rubric is not None:  # judge/rubric a set share of all traffic, no rewrites
            for a in out:
                harvest = 1.0 - a.extra.get("camouflage", 0.0)
                a.extra["mix"] = (1.0 - min(1.0, rubric / harvest), 1.0)
        return out
    if base == "agentic_harvester":
        paths = ["direct", "direct", CLOUDS[0], CLOUDS[1], RESELLERS[0], "direct", CLOUDS[2],
                 RESELLERS[1]]
        out = _campaign(rng, n, world, arch, share_cards=4, email=FREE_MAIL,
                        paths=paths, style="mixed", ua=None, pattern="steady", prefixes=8,
                        created_burst=None)
        for a in out:
            a.extra["tools"] = rng.choice(("coding_agent", "data_agent", "computer_use",
                                           "orchestrator"))
            a.extra["tool_p"] = 0.85
        return out
    if base == "pivot_harvester":
        out = _campaign(rng, n, world, arch, share_cards=2, email=(company(rng),),
                        paths=["direct"], style="anthropic", ua="anthropic-typescript/0.39.0",
                        pattern="steady", prefixes=3, created_burst=burst)
        lag = rng.uniform(*world.shift.pivot_lag_hours) * 3600
        for i, a in enumerate(out):
            a.verified = True
            a.extra.update(tools="orchestrator" if i % 2 else "coding_agent", tool_p=0.95,
                           models=["lumen-2"], adopt=world.release_at + lag, new_share=0.5)
        return out
    if base == "logit_prober":
        return _campaign(rng, n, world, arch, share_cards=1, email=THROWAWAY, paths=["direct"],
                         style="openai", ua="OpenAI/Python 1.76.0", pattern="sweep",
                         prefixes=1, created_burst=burst)
    if base == "trace_coercion":
        out = _campaign(rng, n, world, arch, share_cards=2, email=FREE_MAIL + THROWAWAY,
                        paths=["direct", CLOUDS[0]], style="mixed", ua="python-requests/2.32.3",
                        pattern="steady", prefixes=2, created_burst=burst)
        langs = sorted(text.campaign("coercion_questions"))
        for a in out:
            a.extra["langs"] = rng.sample(langs, k=min(len(langs), rng.randint(3, 6)))
        return out
    msg = f"no population for archetype {arch!r}"
    raise AssertionError(msg)


def hydra(rng: random.Random, n: int, world: World, arch: str,
          waves: list[float]) -> list[Actor]:
    """A proxy reseller's account pool: ban waves answered by bursts of fresh accounts."""
    if world.shift.hydra_lifetime is not None:
        return _hydra_churn(rng, n, world, arch)
    ips = group_ips(rng, 6, 6)  # the proxy's exit nodes
    live = _hydra_batch(rng, n, world, arch, ips)
    out = list(live)
    for wave in waves:
        k = max(2, math.ceil(n * HYDRA_WAVE_SHARE))
        banned = sorted(live, key=lambda a: a.created)[:k]
        for a in banned:
            a.active_to = wave
            live.remove(a)
        burst = wave + rng.uniform(*world.shift.hydra_replace_lag)
        fresh = _hydra_batch(rng, len(banned), world, arch, ips, created=burst)
        for a in fresh:
            a.active_from = a.created + rng.uniform(*world.shift.hydra_start_lag)
        live += fresh
        out += fresh
    return out


def _hydra_batch(rng: random.Random, n: int, world: World, arch: str, ips: list[str],
                 created: float | None = None) -> list[Actor]:
    evasive = arch.endswith("_evasive")
    cards = [new_id(rng, "pf_") for _ in range(max(1, math.ceil(n / 3)))]
    out = []
    start = created if created is not None else -rng.uniform(1, 10) * DAY
    for i in range(n):
        a = new_actor(rng, arch, f"camp-{arch}-1", world, created=start + rng.uniform(0, 1800),
                      fingerprint=None if evasive else cards[i % len(cards)],
                      email=rng.choice(THROWAWAY + FREE_MAIL))
        a.style = api_style(rng, 0.5, 0.0)
        a.ua = user_agent(rng, a.style, 0.5)
        a.ips = [] if evasive else ips
        a.paths = [rng.choice(("direct", "direct", CLOUDS[0], CLOUDS[1]))]
        a.weight = rng.uniform(0.3, 0.7) if evasive else _weight(rng, world)
        a.extra = {"pattern": "human" if evasive else "steady", "profile": "global",
                   "end_users": 2000, "genuine": 0.4, "models": ["lumen-2", "lumen-2.5-think"],
                   **adoption(rng, world, 2)}
        _hydra_shift(rng, world, a)
        out.append(a)
    if created is None and out:
        out[0].ua += " " + text.campaign("payloads")[3]
    return out


def _hydra_shift(rng: random.Random, world: World, a: Actor) -> None:
    """The shifted settings of one hydra account (nothing drawn in the default world)."""
    sh = world.shift
    if "hydra_network" in sh.camouflage:
        a.extra["genuine"] = sh.camouflage["hydra_network"]
    if sh.hydra_censor:  # rewrites at their own share, none inside the reasoning requests
        a.extra["censor"] = sh.hydra_censor
        a.extra["mix"] = (0.7, 1.0)
    if "hydra_network" in sh.path_mix:
        mix = sh.path_mix["hydra_network"]
        kind = rng.choices(("direct", "cloud", "reseller"), mix)[0]
        a.paths = [kind if kind == "direct" else rng.choice(CLOUDS if kind == "cloud"
                                                             else RESELLERS)]
        a.signup_path = {"cloud": "cloud_marketplace", "reseller": "reseller"}.get(
            kind, "self_serve")
    if sh.hydra_ua_rotation and not a.evasive:
        a.extra["uas"] = [a.ua] + [user_agent(rng, a.style, 0.5)
                                   for _ in range(sh.hydra_ua_rotation - 1)]


def _hydra_churn(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    """A hydra network whose accounts each live a few days: at every ban wave the accounts
    whose time is up are banned, and as many fresh ones are created right after, so accounts
    are born in waves as others stop. Exits, cards and clients are shared loosely: each account
    uses a few of the proxy's exit /24s, cards are shared by one or two accounts and some are
    reused from earlier batches, and each account rotates through a few client fingerprints."""
    sh = world.shift
    evasive = arch.endswith("_evasive")
    plan = hydra_plan(n, world.days, sh, f"{world.seed}:{arch}")
    waves = hydra_waves(world.days, sh.hydra_wave_days)
    exits = [group_ips(rng, 1, 6) for _ in range(sh.hydra_prefixes)]
    each = sh.hydra_prefixes_each or len(exits)
    horizon = float(world.days * DAY)
    by_wave: dict[int, list[float | None]] = {}
    for slot in plan:
        by_wave.setdefault(slot.wave, []).append(slot.banned)
    used: list[str] = []
    out: list[Actor] = []
    for w in sorted(by_wave):
        ends = by_wave[w]
        cards = [new_id(rng, "pf_") for _ in range(max(1, math.ceil(len(ends) /
                                                                sh.hydra_card_share)))]
        if used:
            cards = [rng.choice(used) if rng.random() < sh.hydra_card_reuse else c
                     for c in cards]
        used += cards
        for i, end in enumerate(ends):
            if w < 0:
                created = -rng.uniform(1, 10) * DAY + rng.uniform(0, 1800)
                active = 0.0
            else:
                created = waves[w] + rng.uniform(*sh.hydra_replace_lag)
                active = created + rng.uniform(*sh.hydra_start_lag)
            a = new_actor(rng, arch, f"camp-{arch}-1", world, created=created,
                          fingerprint=None if evasive else cards[i % len(cards)],
                          email=rng.choice(THROWAWAY + FREE_MAIL))
            a.active_from, a.active_to = active, end if end is not None else horizon
            a.style = api_style(rng, 0.5, 0.0)
            a.ua = user_agent(rng, a.style, 0.5)
            a.ips = [] if evasive else [ip for p in rng.sample(exits, k=min(each, len(exits)))
                                        for ip in p]
            a.paths = [rng.choice(("direct", "direct", CLOUDS[0], CLOUDS[1]))]
            a.weight = rng.uniform(0.3, 0.7) if evasive else _weight(rng, world)
            a.extra = {"pattern": "human" if evasive else "steady", "profile": "global",
                       "end_users": 2000, "genuine": 0.4,
                       "models": ["lumen-2", "lumen-2.5-think"], **adoption(rng, world, 2)}
            _hydra_shift(rng, world, a)
            out.append(a)
    if out:
        out[0].ua += " " + text.campaign("payloads")[3]
        if "uas" in out[0].extra:
            out[0].extra["uas"][0] = out[0].ua
    return out


def share_cards(world: World) -> None:
    """Let a few agentic-harvester accounts pay with cards of the reasoning harvester (two
    operations buying from one card seller): they stay two campaigns in the truth."""
    k = world.shift.shared_cards
    agentic, reasoning = (world.groups.get("agentic_harvester", []),
                          world.groups.get("reasoning_harvester", []))
    if not k or not agentic or not reasoning:
        return
    rng = random.Random(f"shared-cards:{world.seed}")
    cards = sorted({a.fingerprint for a in reasoning})
    k = min(k, len(cards), len(agentic))
    for a, card in zip(rng.sample(agentic, k), rng.sample(cards, k), strict=True):
        a.fingerprint = card
