"""The simulated provider's actors and time: accounts, their sizes and lifetimes, the calendar.

The ground floor of the simulator: `Actor` and `World`, ids and addresses, how busy an actor
is on a given day (`day_factor`), and the world's sizing rules. `population.build_world`
decides every account over it; `prompts` (what each request asks) and `behave` (when it is
sent) stand on both. The defaults below are documented, with their public sources, in
docs/simulator.md.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.simulator.shift import DEFAULT, Shift

DAY = 86400
REQUESTS_PER_ACCOUNT_DAY = 10  # default total volume: accounts * days * this

# (name, share of accounts, minimum accounts, share of requests). individual_dev takes the
# remaining accounts. Campaign accounts are ~4-5% of accounts and ~38% of requests.
LEGIT: tuple[tuple[str, float, int, float], ...] = (
    ("individual_dev", 0.0, 0, 0.10),
    ("startup_backend", 0.06, 3, 0.14),
    ("enterprise_batch", 0.005, 2, 0.15),
    ("eval_runner", 0.01, 2, 0.05),
    ("education_cohort", 0.06, 8, 0.04),
    ("agent_product", 0.03, 3, 0.08),
    ("reseller_customer", 0.03, 3, 0.06),
)
CAMPAIGNS: tuple[tuple[str, float, int, float], ...] = (
    ("reasoning_harvester", 0.010, 4, 0.09),
    ("agentic_harvester", 0.015, 6, 0.08),
    ("pivot_harvester", 0.0025, 2, 0.09),
    ("hydra_network", 0.008, 4, 0.06),
    ("logit_prober", 0.001, 2, 0.03),
    ("trace_coercion", 0.003, 2, 0.03),
)
CAMPAIGN_NAMES = frozenset(c[0] for c in CAMPAIGNS)
EVASIVE_ACCOUNTS = 0.6  # evasive variant size, relative to its archetype
EVASIVE_VOLUME = 0.35  # evasive variant volume, relative to its archetype
HYDRA_WAVE_DAYS = 3.0  # a ban wave every 3 days, the first 1.5 days in
HYDRA_WAVE_SHARE = 0.25  # each wave bans a quarter of the live hydra accounts
EDU_COHORT = 25  # accounts per education cohort (about)
MODELS = (("lumen-2-mini", "2025-03-04T16:00:00Z"), ("lumen-2", "2025-06-10T16:00:00Z"),
          ("lumen-2.5-think", "2025-10-14T16:00:00Z"))
NEW_MODEL = "lumen-3"
RESELLERS = ("reseller:routewise", "reseller:tokenhub", "reseller:apibridge")
CLOUDS = ("cloud:aws", "cloud:gcp", "cloud:azure")
COUNTRIES = (("US", -6, 30), ("GB", 0, 7), ("DE", 1, 6), ("FR", 1, 4), ("IN", 5.5, 9),
             ("JP", 9, 5), ("BR", -3, 5), ("CA", -5, 4), ("SG", 8, 3), ("KR", 9, 4),
             ("AU", 10, 3), ("NL", 1, 2), ("ES", 1, 3), ("MX", -6, 3), ("ID", 7, 3),
             ("PL", 1, 2), ("TR", 3, 2), ("VN", 7, 2), ("IT", 1, 2), ("NG", 1, 1))
LANG_OF = {"DE": "de", "FR": "fr", "JP": "ja", "BR": "pt", "KR": "ko", "ES": "es", "MX": "es",
           "ID": "id", "IN": "hi", "TR": "tr", "IT": "it", "PL": "ru"}
FREE_MAIL = ("gmail.com", "outlook.com", "proton.me", "yahoo.com", "icloud.com", "web.de",
             "naver.com", "yahoo.co.jp", "gmx.net", "hotmail.com")
THROWAWAY = ("mailbox-relay.net", "quickinbox.xyz", "tempmail.cc", "inboxnow.top")

# Relative weekend activity by daily profile (a weekday is 1; busy office days 1.25).
WEEKEND = {"office": 0.375, "batch": 0.3, "evening": 1.1, "night": 1.1, "app": 1.05,
           "global": 0.95, "flat": 1.0}


@dataclass(slots=True, eq=False)
class Actor:
    """One billing account and how it behaves."""

    idx: int
    account_id: str
    org_id: str
    archetype: str
    campaign_id: str
    created: float  # seconds since the window start (negative: before it)
    fingerprint: str
    email_domain: str
    country: str
    signup_path: str
    verified: bool
    tz: float
    active_from: float = 0.0
    active_to: float = 0.0
    weight: float = 1.0
    rate: float = 0.0  # expected requests per active day
    style: str = "anthropic"
    ua: str = ""
    ips: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    lang: str = "en"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def evasive(self) -> bool:
        return self.archetype.endswith("_evasive")

    @property
    def base(self) -> str:
        return self.archetype.removesuffix("_evasive")


@dataclass
class World:
    """Everything needed to generate any day of logs."""

    seed: int
    start: float  # epoch seconds of the window start (UTC midnight)
    days: int
    actors: list[Actor]
    release_at: float  # seconds since start when NEW_MODEL became available
    metadata_only: bool = False
    groups: dict[str, list[Actor]] = field(default_factory=dict)
    shift: Shift = DEFAULT
    corpus: Any = None  # a simulator.corpus.Corpus in real-text mode


def _id(rng: random.Random, prefix: str, n: int = 12) -> str:
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))


def _ipv4(rng: random.Random, firsts: tuple[int, ...]) -> str:
    return f"{rng.choice(firsts)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _prefix_hosts(rng: random.Random, prefix: str, n: int) -> list[str]:
    return [f"{prefix}.{rng.randrange(2, 250)}" for _ in range(n)]


def residential(rng: random.Random) -> str:
    """A random residential-looking address (IPv6 one time in five)."""
    if rng.random() < 0.2:
        a, b, c = rng.randrange(65536), rng.randrange(65536), rng.randrange(1, 9999)
        return f"2001:db8:{a:x}:{b:x}::{c:x}"
    return _ipv4(rng, (24, 49, 58, 73, 86, 92, 109, 115, 177, 189, 201, 212, 223))


def _hosting_prefix(rng: random.Random) -> str:
    first = rng.choice((3, 18, 34, 35, 45, 104, 138, 159, 167, 185))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}"


def _country(rng: random.Random) -> tuple[str, float]:
    code, tz, _ = rng.choices(COUNTRIES, [c[2] for c in COUNTRIES])[0]
    return code, float(tz)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def sizes_of(n_accounts: int, evasive: bool,
             shift: Shift = DEFAULT) -> tuple[dict[str, int], dict[str, float]]:
    """Accounts and volume share per archetype (hydra counted without its replacements)."""
    sizes: dict[str, int] = {}
    volume: dict[str, float] = {}
    for name, share, least, vol in LEGIT[1:] + CAMPAIGNS:
        if name in shift.size_scale:
            share *= shift.size_scale[name]
        if name in shift.volume_scale:
            vol *= shift.volume_scale[name]
        sizes[name] = max(least, round(share * n_accounts))
        volume[name] = vol
        if evasive and name in CAMPAIGN_NAMES:
            sizes[f"{name}_evasive"] = max(3, round(share * n_accounts * EVASIVE_ACCOUNTS))
            volume[f"{name}_evasive"] = vol * EVASIVE_VOLUME
    volume["individual_dev"] = LEGIT[0][3]
    total = sum(volume.values())
    return sizes, {k: v / total for k, v in volume.items()}


def hydra_waves(days: int, every: float = HYDRA_WAVE_DAYS) -> list[float]:
    """Ban-wave times (seconds since the start): every `every` days, the first halfway in."""
    waves, t = [], every / 2
    while t < days - 0.25:
        waves.append(t * DAY)
        t += every
    return waves


@dataclass(frozen=True, slots=True)
class Slot:
    """One hydra account in a churning network: born at a wave (or before the window), banned
    at the first wave after its lifetime ends (`banned` is None if it outlives the window)."""

    wave: int  # -1: the initial pool; else the index of the wave that replaced its predecessor
    banned: float | None


def hydra_plan(live: int, days: int, shift: Shift, key: str) -> list[Slot]:
    """The churn of a network of `live` accounts whose each lives `shift.hydra_lifetime` days.

    Each account is banned at the first ban wave after its lifetime ends and replaced at that
    wave by a fresh one, so the live pool keeps its size and fresh accounts are born in waves.
    Drawn from its own generator (`key`), so sizing and population agree on the count.
    """
    assert shift.hydra_lifetime is not None
    rng = random.Random(f"hydra-plan:{key}")
    lo, hi = shift.hydra_lifetime
    waves = hydra_waves(days, shift.hydra_wave_days)
    # (wave index, dies at): the initial pool's accounts are part-way through their lives.
    alive = [(-1, rng.uniform(lo, hi) * DAY * rng.uniform(0.1, 1.0)) for _ in range(live)]
    out: list[Slot] = []
    for w, t in enumerate(waves):
        keep = []
        for born, dies in alive:
            if dies <= t:
                out.append(Slot(born, t))
                keep.append((w, t + rng.uniform(lo, hi) * DAY))
            else:
                keep.append((born, dies))
        alive = keep
    out += [Slot(born, None) for born, _ in alive]
    return out


def replacements(live: int, days: int, shift: Shift = DEFAULT, key: str = "") -> int:
    """Fresh hydra accounts over the window: each wave replaces a share, at least two."""
    if shift.hydra_lifetime is not None:
        return len(hydra_plan(live, days, shift, key)) - live
    waves = hydra_waves(days, shift.hydra_wave_days)
    return len(waves) * max(2, math.ceil(live * HYDRA_WAVE_SHARE))


def campaign_accounts(n_accounts: int, evasive: bool, days: int, shift: Shift,
                      seed: int) -> tuple[dict[str, int], dict[str, float], int]:
    """Sizes, volume shares and hydra replacements of a world (individuals not yet counted)."""
    sizes, volume = sizes_of(n_accounts, evasive, shift)
    repl = sum(replacements(sizes[h], days, shift, f"{seed}:{h}")
               for h in ("hydra_network", "hydra_network_evasive") if h in sizes)
    return sizes, volume, repl


def minimum_accounts(evasive: bool = False, days: int = 14, shift: Shift = DEFAULT,
                     seed: int = 0) -> int:
    """The smallest world that still holds every archetype (with room for individuals).

    Example:
        >>> 50 < minimum_accounts() < 150
        True
    """
    sizes, _, repl = campaign_accounts(0, evasive, days, shift, seed)
    least = sum(sizes.values()) + repl + 20
    if shift is DEFAULT:
        return least
    # Shifted shares grow with the world, and so does a churning network's replacements.
    n = least
    while True:
        sizes, _, repl = campaign_accounts(n, evasive, days, shift, seed)
        if n - sum(sizes.values()) - repl >= 20:
            return n
        n += max(1, (sum(sizes.values()) + repl + 20 - n) // 2)


def day_factor(world: World, actor: Actor, day: int) -> float:
    """How busy this account is on `day` relative to its average day (weekends, deadlines)."""
    ex = actor.extra
    pattern, profile = ex["pattern"], ex.get("profile", "flat")
    if pattern in ("steady", "sync", "sweep"):
        return 1.0
    weekday = (int(world.start // DAY) + 3 + day) % 7  # 1970-01-01 was a Thursday
    busy = profile == "office" or pattern == "batch"
    if weekday >= 5:
        factor = WEEKEND.get("batch" if pattern == "batch" else profile, 1.0)
    else:
        factor = 1.25 if busy else 1.0
    if ex.get("homework"):
        factor *= 3.0 if day == ex["deadline"] else (1.8 if day == ex["deadline"] - 1 else 0.7)
    return factor


def group_ips(rng: random.Random, n_prefixes: int, hosts: int) -> list[str]:
    """Addresses from a few hosting-provider /24s, shared by one operator's accounts."""
    out: list[str] = []
    for _ in range(n_prefixes):
        out += _prefix_hosts(rng, _hosting_prefix(rng), hosts)
    return out


def office_ips(rng: random.Random) -> list[str]:
    """One office or home network: a /24 with a few hosts, sometimes an IPv6 too."""
    prefix = ".".join(_ipv4(rng, (24, 49, 73, 86, 92, 109, 177, 201, 212)).split(".")[:3])
    ips = _prefix_hosts(rng, prefix, rng.randint(1, 3))
    if rng.random() < 0.15:
        ips.append(f"2001:db8:{rng.randrange(65536):x}:{rng.randrange(65536):x}::"
                   f"{rng.randrange(1, 99):x}")
    return ips


def new_id(rng: random.Random, prefix: str) -> str:
    """A provider-style opaque id."""
    return _id(rng, prefix)


def pick_country(rng: random.Random) -> tuple[str, float]:
    """A country and its UTC offset, weighted like a global API customer base."""
    return _country(rng)


def release_times(world: World) -> list[tuple[str, float]]:
    """(model, epoch seconds) of every model, including the one released in the window."""
    return [(m, _ts(t)) for m, t in MODELS] + [(NEW_MODEL, world.start + world.release_at)]
