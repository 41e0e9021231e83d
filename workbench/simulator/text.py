"""Prompt and answer text for the simulated world, composed from the phrase banks in data/.

Templates are compiled once into literal/slot parts, so filling one costs a few random
choices and a join. Every function takes the caller's `random.Random`, which keeps the world
reproducible from its seed.
"""

from __future__ import annotations

import functools
import json
import random
import string
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
Parts = tuple[tuple[str, str | None], ...]


@functools.cache
def bank(name: str) -> dict[str, Any]:
    """Load a phrase bank from data/<name>.json (cached).

    Example:
        >>> "coding" in bank("families")["families"]
        True
    """
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@functools.cache
def _compile(template: str) -> Parts:
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        parts.append((literal, field or None))
    return tuple(parts)


def fill(template: str, slots: dict[str, list[str]], rng: random.Random,
         fixed: dict[str, str] | None = None) -> str:
    """Fill `{slot}` placeholders with random choices from `slots` (or `fixed` values).

    Example:
        >>> fill("Hi {who}!", {"who": ["Ann"]}, random.Random(0))
        'Hi Ann!'
    """
    out = []
    for literal, field in _compile(template):
        out.append(literal)
        if field is not None:
            if fixed and field in fixed:
                out.append(fixed[field])
            else:
                out.append(rng.choice(slots[field]))
    return "".join(out)


@functools.cache
def _families() -> tuple[list[str], list[float]]:
    fams = bank("families")["families"]
    return list(fams), [float(f["weight"]) for f in fams.values()]


def family(rng: random.Random, only: list[str] | None = None) -> str:
    """Pick a task family by its weight (optionally among `only`)."""
    names, weights = _families()
    if only:
        pairs = [(n, w) for n, w in zip(names, weights, strict=True) if n in only]
        names, weights = [p[0] for p in pairs], [p[1] for p in pairs]
    return rng.choices(names, weights)[0]


def prompt(rng: random.Random, fam: str | None = None, lang: str = "en") -> str:
    """One everyday user prompt from a task family, with varied openers and closers.

    Example:
        >>> len(prompt(random.Random(1), "coding")) > 10
        True
    """
    b = bank("families")
    if lang != "en":
        ml = b["multilingual"]
        return fill(rng.choice(ml[lang]), ml["slots"], rng)
    fam = fam or family(rng)
    spec = b["families"][fam]
    core = fill(rng.choice(spec["templates"]), spec["slots"], rng)
    text = rng.choice(b["openers"]) + core + rng.choice(b["closers"])
    if rng.random() < 0.15:
        text = text.lower()
    return text


def languages() -> list[str]:
    """Languages of the everyday multilingual prompts."""
    return sorted(k for k in bank("families")["multilingual"] if len(k) == 2)


def answer(rng: random.Random, fam: str = "chat", steps: int = 0, length: int = 3) -> str:
    """A plausible model answer: opener, sentences, optional code and numbered steps."""
    a = bank("families")["answers"]
    out = [rng.choice(a["openers"])]
    if steps:
        out += [f"Step {i + 1}: {rng.choice(a['steps'])}" for i in range(steps)]
    out += rng.sample(a["sentences"], k=min(length, len(a["sentences"])))
    if fam in ("coding", "data") and rng.random() < 0.7:
        out.append(rng.choice(a["code"]))
    out.append(rng.choice(a["closers"]))
    return "\n\n".join(s for s in out if s)


def campaign(key: str, wording: str = "default") -> Any:
    """A list or table of campaign wording from data/campaigns.json.

    With `wording="alt"` (a shifted world's `wording` dimension) the key's other wording from
    data/shifted.json, written separately and never used in tuning, where it has one.

    Example:
        >>> campaign("cot_wrappers") != campaign("cot_wrappers", "alt")
        True
    """
    if wording == "alt":
        alt = bank("shifted")["wording"]
        if key in alt:
            return alt[key]
    return bank("campaigns")[key]


def shifted(key: str) -> Any:
    """Wording and clients only shifted worlds use (data/shifted.json): judge pipelines,
    judge suites, per-path clients.

    Example:
        >>> "direct" in shifted("path_user_agents")
        True
    """
    return bank("shifted")[key]


def paraphrase_cot(rng: random.Random, question: str,
                   parts: dict[str, list[str]] | None = None) -> str:
    """An evasive chain-of-thought request: composed from parts, never one fixed template."""
    p = parts or campaign("cot_paraphrase_parts")
    ask = f"{rng.choice(p['lead'])} {rng.choice(p['verb'])} {rng.choice(p['object'])}?"
    ask += rng.choice(p["tail"])
    return f"{question}\n\n{ask}" if rng.random() < 0.5 else f"{ask}\n{question}"


def reasoning(rng: random.Random, lang: str, n: int) -> str:
    """Reasoning lines in `lang`, as a coerced trace would show them."""
    lines = campaign("reasoning_lines").get(lang) or campaign("reasoning_lines")["en"]
    return "\n".join(rng.choice(lines) for _ in range(n))
