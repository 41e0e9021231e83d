"""Who the accounts are: identity, sign-up, payment, network and habits of each archetype.

`build_world` decides everything that spans days up front (accounts, their sizes, rates,
lifetimes, ban waves and replacements, the model release), so each day of logs can then be
generated on its own from the world and the seed. `make(archetype, n, ...)` returns n actors
(the campaign operations live in `operations`). Legitimate look-alikes deliberately share some
campaign traits (cloud addresses, shared payment methods, fixed templates, bursts, new accounts
from one domain) so that no single signal separates them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime

from workbench.errors import ParameterError
from workbench.simulator import text
from workbench.simulator.identity import (
    MODEL_PREF,
    adoption,
    api_style,
    company,
    long_ago,
    model_mix,
    new_actor,
    user_agent,
)
from workbench.simulator.operations import campaigns, hydra, share_cards
from workbench.simulator.shift import DEFAULT, Shift
from workbench.simulator.world import (
    CAMPAIGNS,
    DAY,
    LANG_OF,
    LEGIT,
    REQUESTS_PER_ACCOUNT_DAY,
    RESELLERS,
    Actor,
    World,
    campaign_accounts,
    day_factor,
    group_ips,
    hydra_waves,
    minimum_accounts,
    new_id,
    office_ips,
    pick_country,
)

UNIVERSITIES = ("northfield.edu", "lakeshore-univ.edu", "tu-weststadt.de", "ku-minato.ac.jp",
                "univ-sudbourg.fr", "riverbend.ac.uk", "uniandes-sur.edu.co", "kotabaru.ac.id")


def individual_dev(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out = []
    for _ in range(n):
        in_window = rng.random() < 0.05
        created = rng.uniform(0, world.days * DAY * 0.8) if in_window else long_ago(rng)
        business = rng.random() < 0.3
        a = new_actor(rng, arch, "", world, created=created,
                      email=company(rng) if business else None, verified=rng.random() < 0.3)
        a.weight = rng.lognormvariate(0, 1.2)
        a.style = api_style(rng)
        a.ua = user_agent(rng, a.style)
        a.ips = office_ips(rng)
        a.paths = ["direct"]
        a.lang = LANG_OF.get(a.country, "en") if rng.random() < 0.35 else "en"
        a.extra = {"pattern": "human", "profile": rng.choice(("office", "evening", "night")),
                   "models": model_mix(rng), "think": rng.random() < 0.15, **adoption(rng, world)}
        out.append(a)
    return out


def startup_backend(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out: list[Actor] = []
    systems = text.campaign("startup_systems")
    while len(out) < n:
        org, pf, email = new_id(rng, "org_"), new_id(rng, "pf_"), company(rng)
        country = pick_country(rng)
        system = rng.choice(systems)
        style = api_style(rng, 0.6, 0.05)
        ips = group_ips(rng, 1, 3)  # app backends run in the cloud
        signup = rng.choice(("startup_program", "self_serve"))
        created = long_ago(rng, 200)
        for env, weight in (("prod", rng.lognormvariate(0, 0.8)), ("staging", 0.05)):
            if env == "staging" and (rng.random() > 0.25 or len(out) >= n):
                continue
            a = new_actor(rng, arch, "", world, created=created, fingerprint=pf, org=org,
                      email=email, signup=signup, verified=rng.random() < 0.7, country=country)
            a.weight, a.style, a.ips, a.paths = weight, style, ips, ["direct"]
            a.ua = user_agent(rng, style, 0.1)
            a.lang = LANG_OF.get(a.country, "en") if rng.random() < 0.3 else "en"
            a.extra = {"pattern": "human", "profile": "app", "system": system,
                       "end_users": rng.randint(200, 5000), "models": model_mix(rng)[:1],
                       **adoption(rng, world, 14)}
            out.append(a)
    return out


def enterprise_batch(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out: list[Actor] = []
    templates = text.campaign("enterprise_templates")
    while len(out) < n:
        org, pf, email = new_id(rng, "org_"), new_id(rng, "pf_"), company(rng)
        country = pick_country(rng)
        judge = world.shift.judge_pipelines and rng.random() < world.shift.judge_pipelines
        for _ in range(min(2, n - len(out))):
            a = new_actor(rng, arch, "", world, created=long_ago(rng, 500), fingerprint=pf, org=org,
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
            if judge:  # an LLM-as-judge QA pipeline: rubric-graded replies, templated
                a.extra.update(template=rng.choice(text.shifted("judge_pipeline_templates")),
                               judge=True, max_tokens=rng.choice((128, 256)))
            out.append(a)
    return out


def eval_runner(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out = []
    for _ in range(n):
        a = new_actor(rng, arch, "", world, created=long_ago(rng, 200), email=company(rng),
                  signup=rng.choice(("self_serve", "startup_program")), verified=True)
        a.style = rng.choice(("anthropic", "openai"))
        a.ua = rng.choice(("python-httpx/0.28.1", "OpenAI/Python 1.82.1",
                           "anthropic-python/0.52.1", "lm-eval-harness/0.4.8"))
        a.ips, a.paths = group_ips(rng, 1, 4), ["direct"]
        a.extra = {"pattern": "burst", "suite": rng.choice(sorted(text.campaign("eval_suites"))),
                   "models": [m for m, _ in MODEL_PREF], "adopt": world.release_at
                   + rng.uniform(3600, 30 * 3600), "new_share": 0.6,
                   "burst_p": world.shift.eval_burst_p}
        if world.shift.eval_judge and rng.random() < world.shift.eval_judge:
            a.extra["suite"] = rng.choice(sorted(text.shifted("eval_judge_suites")))
            a.extra["judge_suite"] = True
        out.append(a)
    return out


def education_cohort(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out: list[Actor] = []
    n_cohorts = max(1, round(n / world.shift.cohort_size))
    for c in range(n_cohorts):
        size = n // n_cohorts + (1 if c < n % n_cohorts else 0)
        domain = rng.choice(UNIVERSITIES)
        grant = new_id(rng, "pf_")  # the university's sponsored-credit billing
        country = pick_country(rng)
        campus = group_ips(rng, 1, 6)
        day0 = rng.uniform(-6, max(-5.0, world.days / 3 - 3)) * DAY
        style = rng.choice(("anthropic", "openai"))
        ua = user_agent(rng, style, 0.0)
        deadline = rng.randrange(world.days)
        for _ in range(size):
            created = day0 + rng.uniform(0, world.shift.cohort_signup_hours * 3600)
            a = new_actor(rng, arch, "", world, created=created, fingerprint=grant,
                      email=domain, signup="education", country=country)
            a.weight, a.style, a.ua = rng.lognormvariate(0, 0.6), style, ua
            a.ips = [rng.choice(campus), *office_ips(rng)[:1]]
            a.paths = ["direct"]
            a.extra = {"pattern": "human", "profile": "evening", "homework": True,
                       "deadline": deadline, "models": ["lumen-2-mini"],
                       **adoption(rng, world, 30)}
            out.append(a)
    return out


def agent_product(rng: random.Random, n: int, world: World, arch: str) -> list[Actor]:
    out = []
    for _ in range(n):
        a = new_actor(rng, arch, "", world, created=long_ago(rng, 150), email=company(rng),
                  signup=rng.choice(("startup_program", "self_serve")), verified=True)
        a.weight, a.style = rng.lognormvariate(0, 0.7), rng.choice(("anthropic", "openai"))
        a.ua, a.ips, a.paths = user_agent(rng, a.style, 0.3), group_ips(rng, 1, 3), ["direct"]
        tools = rng.choice(("support_bot", "assistant", "crm_agent"))
        a.extra = {"pattern": "human", "profile": "app", "tools": tools, "tool_p": 0.92,
                   "system": f"You are the {tools.replace('_', ' ')} of {a.email_domain}. "
                             "Use the tools; never guess order data.",
                   "end_users": rng.randint(100, 3000), "models": model_mix(rng)[:1],
                   **adoption(rng, world, 7)}
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
            a = new_actor(rng, arch, "", world, created=long_ago(rng, 250), fingerprint=pf, org=org,
                      email=email, signup="reseller", verified=True)
            a.weight, a.style = rng.lognormvariate(0, 0.8), rng.choice(("openai", "anthropic"))
            a.ua = rng.choice(("litellm/1.67.0", "python-httpx/0.28.1", "Go-http-client/2.0"))
            a.ips, a.paths = ips, [path]
            a.extra = {"pattern": "human", "profile": "global", "end_users": rng.randint(50, 800),
                       "models": model_mix(rng), "multilingual": 0.3, **adoption(rng, world, 5)}
            out.append(a)
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
                start: str, metadata_only: bool, shift: Shift = DEFAULT,
                corpus: object = None) -> World:
    """Decide every account, its archetype, lifetime and daily rate."""
    least = minimum_accounts(evasive, days, shift, seed)
    if accounts < least:
        what = f"{shift.name} world" if shift is not DEFAULT else "world"
        msg = (f"accounts={accounts} is too small: a {what} of {days} days needs at least "
               f"{least} accounts to hold every archetype"
               f"{' and its evasive variant' if evasive else ''}. Use --accounts {least} or more.")
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
    sizes, volume, n_repl = campaign_accounts(accounts, evasive, days, shift, seed)
    world = World(seed, t0, days, [], float(release_time(days, shift)), metadata_only,
                  shift=shift, corpus=corpus)
    waves = hydra_waves(days, shift.hydra_wave_days)
    sizes["individual_dev"] = accounts - sum(sizes.values()) - n_repl
    for name in [c[0] for c in LEGIT] + [c[0] for c in CAMPAIGNS]:
        for arch in (name, f"{name}_evasive"):
            if arch in sizes:
                actors = make(arch, sizes[arch], rng, world, waves)
                world.groups[arch] = actors
                world.actors.extend(actors)
    share_cards(world)
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


def release_time(days: int, shift: Shift = DEFAULT) -> float:
    """Seconds from the window start to the new model's release: 16:00 UTC on day `days // 2`
    (a shifted world: on the day at its `release_frac` of the window); 12:00 on a one-day world.

    Example:
        >>> release_time(14) / DAY
        7.666666666666667
    """
    if days < 2:
        return 12 * 3600
    if shift.release_frac is None:
        return (days // 2) * DAY + 16 * 3600
    day = min(days - 1, max(1, round(shift.release_frac * days)))
    return day * DAY + 16 * 3600
