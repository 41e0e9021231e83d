"""Identity helpers shared by the legitimate and campaign populations: ids, clients, models.

Each takes the caller's `random.Random` and draws in a fixed order, so a world stays
reproducible from its seed.
"""

from __future__ import annotations

import random

from workbench.simulator import text
from workbench.simulator.world import DAY, FREE_MAIL, Actor, World, new_id, pick_country

COMPANY_WORDS = ("nord", "lumi", "acme", "blue", "fern", "orbit", "quill", "delta", "tandem",
                 "pixel", "cedar", "harbor", "vector", "kite", "maple", "zenith", "atlas", "civic")
TLDS = (".io", ".com", ".ai", ".dev", ".co", ".de", ".app", ".tech")
MODEL_PREF = (("lumen-2-mini", 0.4), ("lumen-2", 0.45), ("lumen-2.5-think", 0.15))


def company(rng: random.Random) -> str:
    """A made-up company e-mail domain."""
    return rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS) + rng.choice(TLDS)


def user_agent(rng: random.Random, style: str, generic: float = 0.2) -> str:
    """An SDK user agent matching the API style (a generic HTTP client `generic` of the time)."""
    uas = text.campaign("user_agents")
    if rng.random() < generic:
        return str(rng.choice(uas["generic"]))
    return str(rng.choice(uas["anthropic" if style == "anthropic" else "openai"]))


def api_style(rng: random.Random, anthropic: float = 0.55, responses: float = 0.08) -> str:
    """Anthropic Messages, OpenAI Chat Completions or OpenAI Responses."""
    r = rng.random()
    return "anthropic" if r < anthropic else ("responses" if r < anthropic + responses
                                              else "openai")


def new_actor(rng: random.Random, arch: str, camp: str, world: World, *, created: float,
              fingerprint: str | None = None, org: str | None = None, email: str | None = None,
              signup: str = "self_serve", verified: bool = False,
              country: tuple[str, float] | None = None) -> Actor:
    """A fresh account of `arch` (campaign `camp`, or "" for a legitimate one)."""
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


def adoption(rng: random.Random, world: World, mean_days: float = 10.0) -> dict[str, float]:
    """When the account moves to the new model (exponential delay) and how much of its traffic."""
    return {"adopt": world.release_at + rng.expovariate(1 / (mean_days * DAY)),
            "new_share": rng.uniform(0.3, 1.0)}


def model_mix(rng: random.Random) -> list[str]:
    """The account's usual models, its favourite first."""
    first = rng.choices([m for m, _ in MODEL_PREF], [w for _, w in MODEL_PREF])[0]
    rest = [m for m, _ in MODEL_PREF if m != first]
    return [first, *rng.sample(rest, k=rng.randint(0, 1))]


def long_ago(rng: random.Random, mean_days: float = 300.0) -> float:
    """A creation time before the window (seconds since its start, negative)."""
    return -max(1.0, rng.expovariate(1 / mean_days)) * DAY
