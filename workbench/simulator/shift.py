"""Shifted worlds: the simulator's settings drawn from ranges never used while tuning detection.

Detection was tuned on the default world, so figures on it say little about a world built
differently. A `Shift` holds every setting a shift can move; `DEFAULT` is the world detection was
tuned on (same bytes for a seed as before shifts existed). `resolve(shift, seed)` turns a name
(`shift-a`, `shift-b`, `shift-c`, `shift-all`) or an integer into concrete settings: each
dimension the shift moves is drawn once per world, from its shifted range, with a generator
seeded by the shift and the world's seed. docs/simulator.md has both ranges of every dimension
side by side, and the public reports each shifted range follows.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from workbench.errors import UnknownNameError, unknown

__all__ = ["DEFAULT", "DIMENSIONS", "NAMED", "Shift", "resolve"]

# Each dimension a shift can move, with its meaning (ranges: docs/simulator.md).
DIMENSIONS: Mapping[str, str] = MappingProxyType({
    "campaign_accounts": "accounts per campaign, as a share of all accounts",
    "campaign_volume": "requests per campaign, as a share of all requests",
    "rate_spread": "how unevenly a campaign's volume is spread over its accounts",
    "hydra_lifetime": "how long one hydra account lives before it is banned",
    "hydra_waves": "days between the hydra network's ban waves",
    "hydra_replacement": "how fast banned hydra accounts are replaced and start sending",
    "hydra_infra": "how loosely hydra accounts share exits, cards and clients",
    "camouflage": "share of a campaign account's traffic that is ordinary chat",
    "access_paths": "how each operation spreads over direct, cloud and reseller access",
    "shared_payment": "payment methods shared by two distinct operations",
    "harvest_mix": "judge/rubric and censorship-safe rewrite shares of two operations",
    "release": "when in the window the new model is released",
    "pivot_lag": "hours from the release to the pivot harvester's move",
    "wording": "the phrase banks campaign prompts are worded from",
    "lookalikes": "legitimate look-alikes: judge pipelines, eval suites, cohorts, gateways",
})
NAMED: Mapping[str, tuple[str, ...]] = MappingProxyType({
    # The ban-and-replace churn of a hydra reseller network.
    "shift-a": ("campaign_accounts", "rate_spread", "hydra_lifetime", "hydra_waves",
                "hydra_replacement", "hydra_infra"),
    # Operations spread out and mixed in: paths, camouflage, shared cards, judge traffic.
    "shift-b": ("campaign_volume", "camouflage", "access_paths", "shared_payment",
                "harvest_mix"),
    # Other wording, another release calendar, and harder legitimate look-alikes.
    "shift-c": ("release", "pivot_lag", "wording", "lookalikes"),
    "shift-all": tuple(DIMENSIONS),
})
CAMPAIGNS = ("reasoning_harvester", "agentic_harvester", "pivot_harvester", "hydra_network",
             "logit_prober", "trace_coercion")


@dataclass(frozen=True)
class Shift:
    """The concrete settings of one world. The defaults are the world detection was tuned on.

    Example:
        >>> DEFAULT.hydra_wave_days, DEFAULT.moves("camouflage")
        (3.0, False)
    """

    name: str = "default"
    dims: tuple[str, ...] = ()
    # Sizes and volumes: factors on an archetype's share of accounts / of requests.
    size_scale: Mapping[str, float] = field(default_factory=dict)
    volume_scale: Mapping[str, float] = field(default_factory=dict)
    rate_sigma: float = 0.0  # 0: campaign accounts weigh uniform(0.8, 1.2); else lognormal
    # Hydra network. `hydra_lifetime` None: each wave bans the oldest quarter of live accounts.
    hydra_lifetime: tuple[float, float] | None = None  # days, per account
    hydra_wave_days: float = 3.0
    hydra_replace_lag: tuple[float, float] = (600.0, 3 * 3600.0)  # seconds after the wave
    hydra_start_lag: tuple[float, float] = (300.0, 3600.0)  # seconds from sign-up to traffic
    hydra_prefixes: int = 6  # exit /24s of the proxy
    hydra_prefixes_each: int = 0  # /24s one account uses (0: all of them)
    hydra_card_share: int = 3  # accounts per prepaid card
    hydra_card_reuse: float = 0.0  # share of a fresh batch's cards reused from earlier batches
    hydra_ua_rotation: int = 0  # client fingerprints one account rotates through (0: one)
    # Camouflage: archetype -> share of its requests that are ordinary chat. The default hydra
    # network's 40 % of genuine sessions is its own mechanism (prompts.Hydra).
    camouflage: Mapping[str, float] = field(default_factory=dict)
    # Access paths: archetype -> (direct, cloud, reseller) shares; empty: the default paths.
    path_mix: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    shared_cards: int = 0  # cards of the reasoning operation some agentic accounts also use
    rubric_share: float | None = None  # reasoning harvester's judge/rubric share of traffic
    hydra_censor: float = 0.0  # hydra network's censorship-safe rewrite share of traffic
    release_frac: float | None = None  # None: day days // 2, 16:00 UTC
    pivot_lag_hours: tuple[float, float] = (2.0, 20.0)
    wording: str = "default"
    judge_pipelines: float = 0.0  # share of enterprise pipelines grading answers by rubric
    eval_judge: float = 0.0  # share of evaluation runners running judge and CoT suites
    eval_burst_p: float = 0.35  # share of days an evaluation runner runs its suite
    cohort_size: int = 25
    cohort_signup_hours: float = 72.0  # a cohort's accounts are created within this window

    def moves(self, dim: str) -> bool:
        """Whether this shift draws `dim` from its shifted range."""
        return dim in self.dims

    def describe(self) -> dict[str, object]:
        """The settings as plain data (written to the world's `world.json`)."""
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = dict(value) if isinstance(value, Mapping) else value
        return out


DEFAULT = Shift()


def resolve(shift: str | int | None, seed: int) -> Shift:
    """The concrete settings of a shift for a world seed (`None` or "default": the default world).

    A name moves its dimensions (`NAMED`); an integer moves every dimension, drawn from its own
    seed (the world seed does not enter), so `shift=7` is one fixed world family.

    Example:
        >>> s = resolve("shift-a", seed=1)
        >>> 1.0 <= s.hydra_lifetime[0] and s.hydra_lifetime[1] <= 3.0, s.moves("wording")
        (True, False)
        >>> resolve("shift-a", seed=1) == s, resolve(None, 1) is DEFAULT
        (True, True)
    """
    if shift is None or shift == "default":
        return DEFAULT
    if isinstance(shift, int) or (isinstance(shift, str) and shift.lstrip("-").isdigit()):
        number = int(shift)
        return _draw(f"shift:{number}", tuple(DIMENSIONS), random.Random(f"shift:{number}"))
    if shift not in NAMED:
        err = unknown("shift", str(shift), [*NAMED, "default"])
        msg = f"{err} An integer draws every dimension from its own seed."
        raise UnknownNameError(msg)
    return _draw(shift, NAMED[shift], random.Random(f"shift:{shift}:{seed}"))


def _draw(name: str, dims: tuple[str, ...], rng: random.Random) -> Shift:
    """Draw every moved dimension in the fixed order of DIMENSIONS (stable whatever the name)."""
    s = Shift(name=name, dims=dims)
    size: dict[str, float] = {}
    volume: dict[str, float] = {}
    for dim in DIMENSIONS:
        if dim not in dims:
            continue
        if dim == "campaign_accounts":
            # 12-20 % of accounts in campaigns instead of 4-5 % (the held-back world: 21 %).
            # A hydra network whose accounts churn grows by its replacements instead.
            churn = "hydra_lifetime" in dims
            for arch in CAMPAIGNS:
                lo, hi = (1.0, 1.5) if arch == "hydra_network" and churn else (2.5, 4.0)
                size[arch] = round(rng.uniform(lo, hi), 3)
        elif dim == "campaign_volume":
            for arch in CAMPAIGNS:
                volume[arch] = round(rng.uniform(0.4, 0.7), 3)
        elif dim == "rate_spread":
            s = replace(s, rate_sigma=round(rng.uniform(0.8, 1.2), 3))
        elif dim == "hydra_lifetime":
            s = replace(s, hydra_lifetime=(1.0, 3.0))
        elif dim == "hydra_waves":
            s = replace(s, hydra_wave_days=round(rng.uniform(0.5, 1.5), 3))
        elif dim == "hydra_replacement":
            s = replace(s, hydra_replace_lag=(0.0, 600.0), hydra_start_lag=(60.0, 300.0))
        elif dim == "hydra_infra":
            s = replace(s, hydra_prefixes=rng.randint(12, 20), hydra_prefixes_each=
                        rng.randint(2, 3), hydra_card_share=rng.randint(1, 2),
                        hydra_card_reuse=round(rng.uniform(0.2, 0.4), 3),
                        hydra_ua_rotation=rng.randint(2, 3))
        elif dim == "camouflage":
            camo = {a: round(rng.uniform(0.3, 0.7), 3) for a in CAMPAIGNS
                    if a not in ("logit_prober", "hydra_network")}
            camo["hydra_network"] = round(rng.uniform(0.5, 0.7), 3)
            s = replace(s, camouflage=camo)
        elif dim == "access_paths":
            mix: dict[str, tuple[float, float, float]] = {}
            for arch in CAMPAIGNS:
                if arch == "logit_prober":
                    continue
                d, c, r = (rng.uniform(0.2, 1.0) for _ in range(3))
                mix[arch] = (round(d / (d + c + r), 3), round(c / (d + c + r), 3),
                             round(r / (d + c + r), 3))
            s = replace(s, path_mix=mix)
        elif dim == "shared_payment":
            s = replace(s, shared_cards=rng.randint(3, 6))
        elif dim == "harvest_mix":
            s = replace(s, rubric_share=round(rng.uniform(0.18, 0.22), 3),
                        hydra_censor=round(rng.uniform(0.04, 0.06), 3))
        elif dim == "release":
            early = rng.random() < 0.5
            s = replace(s, release_frac=round(rng.uniform(0.15, 0.3) if early
                                              else rng.uniform(0.7, 0.85), 3))
        elif dim == "pivot_lag":
            s = replace(s, pivot_lag_hours=(20.0, 40.0))
        elif dim == "wording":
            s = replace(s, wording="alt")
        elif dim == "lookalikes":
            heavy = round(rng.uniform(1.3, 1.8), 3)
            volume.update(enterprise_batch=heavy, eval_runner=heavy)
            s = replace(s, judge_pipelines=round(rng.uniform(0.4, 0.6), 3), eval_judge=0.5,
                        eval_burst_p=round(rng.uniform(0.6, 0.8), 3),
                        cohort_size=rng.randint(40, 80),
                        cohort_signup_hours=round(rng.uniform(2.0, 6.0), 2))
    return replace(s, size_scale=size, volume_scale=volume)
