"""Who the accounts are: identity, sign-up, payment, network and habits of each archetype.

`build_world` decides everything that spans days up front (accounts, their sizes, rates,
lifetimes, ban waves and replacements, the model release), so each day of logs can then be
generated on its own from the world and the seed. `make(archetype, n, ...)` returns n actors.
Legitimate look-alikes deliberately share some campaign traits (cloud addresses, shared payment
methods, fixed templates, bursts, new accounts from one domain) so that no single signal
separates them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime

from workbench.errors import ParameterError
from workbench.simulator import text
from workbench.simulator.world import (
    CAMPAIGNS,
    CLOUDS,
    DAY,
    FREE_MAIL,
    HYDRA_WAVE_SHARE,
    LANG_OF,
    LEGIT,
    REQUESTS_PER_ACCOUNT_DAY,
    RESELLERS,
    THROWAWAY,
    Actor,
    World,
    day_factor,
    group_ips,
    hydra_waves,
    minimum_accounts,
    new_id,
    office_ips,
    pick_country,
    replacements,
    sizes_of,
)

UNIVERSITIES = ("northfield.edu", "lakeshore-univ.edu", "tu-weststadt.de", "ku-minato.ac.jp",
                "univ-sudbourg.fr", "riverbend.ac.uk", "uniandes-sur.edu.co", "kotabaru.ac.id")
COMPANY_WORDS = ("nord", "lumi", "acme", "blue", "fern", "orbit", "quill", "delta", "tandem",
                 "pixel", "cedar", "harbor", "vector", "kite", "maple", "zenith", "atlas", "civic")
TLDS = (".io", ".com", ".ai", ".dev", ".co", ".de", ".app", ".tech")
MODEL_PREF = (("lumen-2-mini", 0.4), ("lumen-2", 0.45), ("lumen-2.5-think", 0.15))


def _company(rng: random.Random) -> str:
    return rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS) + rng.choice(TLDS)


def _ua(rng: random.Random, style: str, generic: float = 0.2) -> str:
    uas = text.campaign("user_agents")
    if rng.random() < generic:
        return str(rng.choice(uas["generic"]))
    return str(rng.choice(uas["anthropic" if style == "anthropic" else "openai"]))


def _style(rng: random.Random, anthropic: float = 0.55, responses: float = 0.08) -> str:
    r = rng.random()
    return "anthropic" if r < anthropic else ("responses" if r < anthropic + responses
                                              else "openai")


def _base(rng: random.Random, arch: str, camp: str, world: World, *, created: float,
          fingerprint: str | None = None, org: str | None = None, email: str | None = None,
          signup: str = "self_serve", verified: bool = False,
          country: tuple[str, float] | None = None) -> Actor:
    code, tz = country or pick_country(rng)
    horizon = world.days * DAY
    return Actor(
        idx=0, account_id=new_id(rng, "acct_"), org_id=org or new_id(rng, "org_"),
        archetype=arch, campaign_id=camp, created=created,
        fingerprint=fingerprint or new_id(rng, "pf_"),
        email_domain=email or rng.choice(FREE_MAIL), country=code, signup_path=signup,
        verified=verified, tz=tz, active_from=max(0.0, created), active_to=float(horizon),
        keys=[new_id(rng, "key_") for _ in range(rng.randint(1, 2))],
    )


def _adopt(rng: random.Random, world: World, mean_days: float = 10.0) -> dict[str, float]:
    return {"adopt": world.release_at + rng.expovariate(1 / (mean_days * DAY)),
            "new_share": rng.uniform(0.3, 1.0)}


def _models(rng: random.Random) -> list[str]:
    first = rng.choices([m for m, _ in MODEL_PREF], [w for _, w in MODEL_PREF])[0]
    rest = [m for m, _ in MODEL_PREF if m != first]
    return [first, *rng.sample(rest, k=rng.randint(0, 1))]


def _old(rng: random.Random, mean_days: float = 300.0) -> float:
    return -max(1.0, rng.expovariate(1 / mean_days)) * DAY


def individual_dev(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out = []
    for _ in range(n):
        in_window = rng.random() < 0.05
        created = rng.uniform(0, world.days * DAY * 0.8) if in_window else _old(rng)
        company = rng.random() < 0.3
        a = _base(rng, arch, "", world, created=created,
                  email=_company(rng) if company else None, verified=rng.random() < 0.3)
        a.weight = rng.lognormvariate(0, 1.2)
        a.style = _style(rng)
        a.ua = _ua(rng, a.style)
        a.ips = office_ips(rng)
        a.paths = ["direct"]
        a.lang = LANG_OF.get(a.country, "en") if rng.random() < 0.35 else "en"
        a.extra = {"pattern": "human", "profile": rng.choice(("office", "evening", "night")),
                   "models": _models(rng), "think": rng.random() < 0.15, **_adopt(rng, world)}
        out.append(a)
    return out


def startup_backend(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out: list[Actor] = []
    systems = text.campaign("startup_systems")
    while len(out) < n:
        org, pf, email = new_id(rng, "org_"), new_id(rng, "pf_"), _company(rng)
        country = pick_country(rng)
        system = rng.choice(systems)
        style = _style(rng, 0.6, 0.05)
        ips = group_ips(rng, 1, 3)  # app backends run in the cloud
        signup = rng.choice(("startup_program", "self_serve"))
        created = _old(rng, 200)
        for env, weight in (("prod", rng.lognormvariate(0, 0.8)), ("staging", 0.05)):
            if env == "staging" and (rng.random() > 0.25 or len(out) >= n):
                continue
            a = _base(rng, arch, "", world, created=created, fingerprint=pf, org=org,
                      email=email, signup=signup, verified=rng.random() < 0.7, country=country)
            a.weight, a.style, a.ips, a.paths = weight, style, ips, ["direct"]
            a.ua = _ua(rng, style, 0.1)
            a.lang = LANG_OF.get(a.country, "en") if rng.random() < 0.3 else "en"
            a.extra = {"pattern": "human", "profile": "app", "system": system,
                       "end_users": rng.randint(200, 5000), "models": _models(rng)[:1],
                       **_adopt(rng, world, 14)}
            out.append(a)
    return out


def enterprise_batch(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out: list[Actor] = []
    templates = text.campaign("enterprise_templates")
    while len(out) < n:
        org, pf, email = new_id(rng, "org_"), new_id(rng, "pf_"), _company(rng)
        country = pick_country(rng)
        for _ in range(min(2, n - len(out))):
            a = _base(rng, arch, "", world, created=_old(rng, 500), fingerprint=pf, org=org,
                      email=email, signup="enterprise", verified=True, country=country)
            a.weight = rng.uniform(0.6, 1.4)
            a.style = rng.choice(("anthropic", "openai"))
            a.ua = rng.choice(("python-httpx/0.28.1", "anthropic-python/0.49.0",
                               "OpenAI/Python 1.76.0", "okhttp/4.12.0"))
            a.ips = group_ips(rng, 1, 2)
            a.paths = ["direct"]
            a.extra = {"pattern": "batch", "template": rng.choice(templates),
                       "cron": sorted(rng.sample(range(24), k=3)),
                       "models": [rng.choice(("lumen-2-mini", "lumen-2"))],
                       "max_tokens": rng.choice((64, 256, 512)), "adopt": math.inf}
            out.append(a)
    return out


def eval_runner(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out = []
    for _ in range(n):
        a = _base(rng, arch, "", world, created=_old(rng, 200), email=_company(rng),
                  signup=rng.choice(("self_serve", "startup_program")), verified=True)
        a.style = rng.choice(("anthropic", "openai"))
        a.ua = rng.choice(("python-httpx/0.28.1", "OpenAI/Python 1.82.1",
                           "anthropic-python/0.52.1", "lm-eval-harness/0.4.8"))
        a.ips, a.paths = group_ips(rng, 1, 4), ["direct"]
        a.extra = {"pattern": "burst", "suite": rng.choice(sorted(text.campaign("eval_suites"))),
                   "models": [m for m, _ in MODEL_PREF], "adopt": world.release_at
                   + rng.uniform(3600, 30 * 3600), "new_share": 0.6, "burst_p": 0.35}
        out.append(a)
    return out


def education_cohort(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out: list[Actor] = []
    n_cohorts = max(1, round(n / 25))
    for c in range(n_cohorts):
        size = n // n_cohorts + (1 if c < n % n_cohorts else 0)
        domain = rng.choice(UNIVERSITIES)
        grant = new_id(rng, "pf_")  # the university's sponsored-credit billing
        country = pick_country(rng)
        campus = group_ips(rng, 1, 6)
        day0 = rng.uniform(-6, max(-5.0, world.days / 3 - 3)) * DAY
        style = rng.choice(("anthropic", "openai"))
        ua = _ua(rng, style, 0.0)
        deadline = rng.randrange(world.days)
        for _ in range(size):
            created = day0 + rng.uniform(0, 3 * DAY)
            a = _base(rng, arch, "", world, created=created, fingerprint=grant,
                      email=domain, signup="education", country=country)
            a.weight, a.style, a.ua = rng.lognormvariate(0, 0.6), style, ua
            a.ips = [rng.choice(campus), *office_ips(rng)[:1]]
            a.paths = ["direct"]
            a.extra = {"pattern": "human", "profile": "evening", "homework": True,
                       "deadline": deadline, "models": ["lumen-2-mini"],
                       **_adopt(rng, world, 30)}
            out.append(a)
    return out


def agent_product(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out = []
    for _ in range(n):
        a = _base(rng, arch, "", world, created=_old(rng, 150), email=_company(rng),
                  signup=rng.choice(("startup_program", "self_serve")), verified=True)
        a.weight, a.style = rng.lognormvariate(0, 0.7), rng.choice(("anthropic", "openai"))
        a.ua, a.ips, a.paths = _ua(rng, a.style, 0.3), group_ips(rng, 1, 3), ["direct"]
        tools = rng.choice(("support_bot", "assistant", "crm_agent"))
        a.extra = {"pattern": "human", "profile": "app", "tools": tools, "tool_p": 0.92,
                   "system": f"You are the {tools.replace('_', ' ')} of {a.email_domain}. "
                             "Use the tools; never guess order data.",
                   "end_users": rng.randint(100, 3000), "models": _models(rng)[:1],
                   **_adopt(rng, world, 7)}
        out.append(a)
    return out


def reseller_customer(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out: list[Actor] = []
    per = max(1, n // len(RESELLERS))
    for r, path in enumerate(RESELLERS):
        count = per if r < len(RESELLERS) - 1 else n - len(out)
        org, pf = new_id(rng, "org_"), new_id(rng, "pf_")
        email = path.split(":")[1] + ".io"
        ips = group_ips(rng, 1, 4)
        for _ in range(count):
            a = _base(rng, arch, "", world, created=_old(rng, 250), fingerprint=pf, org=org,
                      email=email, signup="reseller", verified=True)
            a.weight, a.style = rng.lognormvariate(0, 0.8), rng.choice(("openai", "anthropic"))
            a.ua = rng.choice(("litellm/1.67.0", "python-httpx/0.28.1", "Go-http-client/2.0"))
            a.ips, a.paths = ips, [path]
            a.extra = {"pattern": "human", "profile": "global", "end_users": rng.randint(50, 800),
                       "models": _models(rng), "multilingual": 0.3, **_adopt(rng, world, 5)}
            out.append(a)
    return out


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
            created = _old(rng, 120) - 10 * DAY
        else:
            created = created_burst + rng.uniform(0, 4 * 3600) * (1 + i // 10)
        a = _base(rng, arch, camp, world, created=created,
                  fingerprint=None if evasive else cards[i % len(cards)],
                  email=_company(rng) if evasive and rng.random() < 0.5 else rng.choice(email),
                  verified=rng.random() < (0.5 if evasive else 0.15))
        a.style = style if style != "mixed" else _style(rng, 0.5, 0.1)
        a.ua = ua if ua and not evasive else _ua(rng, a.style, 0.4)
        a.ips = [] if evasive else ips  # evasive: a fresh residential address per request
        a.paths = [paths[i % len(paths)]]
        a.signup_path = {"cloud": "cloud_marketplace", "reseller": "reseller"}.get(
            a.paths[0].split(":")[0], "self_serve")
        a.weight = rng.uniform(0.3, 0.8) if evasive else rng.uniform(0.8, 1.2)
        a.extra = {"pattern": "human" if evasive else pattern, "profile": "office",
                   "models": ["lumen-2.5-think", "lumen-2"], **_adopt(rng, world, 3)}
        if i == 0 and arch.startswith("agentic"):  # one account probes the investigator's tools
            a.ua += " " + text.campaign("payloads")[rng.randrange(3)]
        out.append(a)
    return out


def campaigns(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    base = arch.removesuffix("_evasive")
    burst = -rng.uniform(20, 60) * DAY
    if base == "reasoning_harvester":
        return _campaign(rng, n, world, arch, share_cards=8, email=FREE_MAIL + THROWAWAY,
                         paths=["direct"], style="anthropic", ua="python-httpx/0.27.0",
                         pattern="sync", prefixes=2, created_burst=burst)
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
        out = _campaign(rng, n, world, arch, share_cards=2, email=(_company(rng),),
                        paths=["direct"], style="anthropic", ua="anthropic-typescript/0.39.0",
                        pattern="steady", prefixes=3, created_burst=burst)
        lag = rng.uniform(2, 20) * 3600
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
    ips = group_ips(rng, 6, 6)  # the proxy's exit nodes
    live = _hydra_batch(rng, n, world, arch, ips)
    out = list(live)
    for wave in waves:
        k = max(2, math.ceil(n * HYDRA_WAVE_SHARE))
        banned = sorted(live, key=lambda a: a.created)[:k]
        for a in banned:
            a.active_to = wave
            live.remove(a)
        burst = wave + rng.uniform(600, 3 * 3600)
        fresh = _hydra_batch(rng, len(banned), world, arch, ips, created=burst)
        for a in fresh:
            a.active_from = a.created + rng.uniform(300, 3600)
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
        a = _base(rng, arch, f"camp-{arch}-1", world, created=start + rng.uniform(0, 1800),
                  fingerprint=None if evasive else cards[i % len(cards)],
                  email=rng.choice(THROWAWAY + FREE_MAIL))
        a.style = _style(rng, 0.5, 0.0)
        a.ua = _ua(rng, a.style, 0.5)
        a.ips = [] if evasive else ips
        a.paths = [rng.choice(("direct", "direct", CLOUDS[0], CLOUDS[1]))]
        a.weight = rng.uniform(0.3, 0.7) if evasive else rng.uniform(0.8, 1.2)
        a.extra = {"pattern": "human" if evasive else "steady", "profile": "global",
                   "end_users": 2000, "genuine": 0.4, "models": ["lumen-2", "lumen-2.5-think"],
                   **_adopt(rng, world, 2)}
        out.append(a)
    if created is None and out:
        out[0].ua += " " + text.campaign("payloads")[3]
    return out


MAKERS: dict[str, Callable[[random.Random, int, World, str], list[Actor]]] = {
    "individual_dev": individual_dev, "startup_backend": startup_backend,
    "enterprise_batch": enterprise_batch, "eval_runner": eval_runner,
    "education_cohort": education_cohort, "agent_product": agent_product,
    "reseller_customer": reseller_customer,
}


def make(arch: str, n: int, rng: random.Random, world: World, waves: list[float]) -> list[Actor]:
    """Create the n accounts of one archetype (hydra: n initial plus its replacements)."""
    if arch in MAKERS:
        return MAKERS[arch](rng, n, world, arch)
    if arch.removesuffix("_evasive") == "hydra_network":
        return hydra(rng, n, world, arch, waves)
    return campaigns(rng, n, world, arch)


def build_world(accounts: int, days: int, seed: int, requests: int | None, evasive: bool,
                start: str, metadata_only: bool) -> World:
    """Decide every account, its archetype, lifetime and daily rate."""
    least = minimum_accounts(evasive, days)
    if accounts < least:
        msg = (f"accounts={accounts} is too small: a world needs at least {least} accounts to "
               f"hold every archetype{' and its evasive variant' if evasive else ''}. "
               f"Use --accounts {least} or more.")
        raise ParameterError(msg)
    if days < 1:
        msg = f"days={days} is not allowed: a world spans at least 1 day. Use --days 1 or more."
        raise ParameterError(msg)
    if requests is not None and requests < 1:
        msg = f"requests={requests} is not allowed: give a positive number or leave it out."
        raise ParameterError(msg)
    try:
        t0 = datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp()
    except ValueError:
        msg = f"start={start!r} is not a date: give it as YYYY-MM-DD, e.g. 2026-01-05."
        raise ParameterError(msg) from None
    rng = random.Random(f"world:{seed}")
    sizes, volume = sizes_of(accounts, evasive)
    release = (days // 2) * DAY + 16 * 3600 if days >= 2 else 12 * 3600
    waves = hydra_waves(days)
    n_repl = sum(replacements(sizes[h], days) for h in ("hydra_network",
                                                           "hydra_network_evasive") if h in sizes)
    sizes["individual_dev"] = accounts - sum(sizes.values()) - n_repl
    world = World(seed, t0, days, [], float(release), metadata_only)
    for name in [c[0] for c in LEGIT] + [c[0] for c in CAMPAIGNS]:
        for arch in (name, f"{name}_evasive"):
            if arch in sizes:
                actors = make(arch, sizes[arch], rng, world, waves)
                world.groups[arch] = actors
                world.actors.extend(actors)
    for i, actor in enumerate(world.actors):
        actor.idx = i
    for actors in world.groups.values():
        for pos, actor in enumerate(actors):
            actor.extra["pos"] = pos
    total = requests if requests is not None else accounts * days * REQUESTS_PER_ACCOUNT_DAY
    for arch, actors in world.groups.items():
        days_active = [sum(day_factor(world, a, d) * max(0.0, min(a.active_to, (d + 1) * DAY)
                                                         - max(a.active_from, d * DAY)) / DAY
                           for d in range(days)) for a in actors]
        denom = sum(a.weight * d for a, d in zip(actors, days_active, strict=True)) or 1.0
        for a in actors:
            a.rate = volume[arch] * total * a.weight / denom
    return world
