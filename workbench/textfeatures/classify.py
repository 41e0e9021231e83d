"""Capability family and the four pattern flags of a batch of folded prompts.

Every pattern of capability.toml and of the four flag files goes through one `Matcher`
(prefilter.py): one Aho-Corasick pass over the batch finds, for each pattern, the prompts that
hold a literal it needs, and the pattern's regex runs on those prompts only. The scores, ties
and any/all logic are then numpy over the resulting boolean matrix. (Combining a concern's
patterns into one big alternation was measured slower: the lazy DFA thrashes on the bounded
gaps such as `{0,40}`.)
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.textfeatures.lexicons import FLAGS, flag_rules, load
from workbench.textfeatures.prefilter import Matcher, required_clauses

FAMILIES = ("coding", "maths", "reasoning", "agentic", "computer_use", "vision",
            "data_analysis", "creative", "chat", "other")


@dataclass(frozen=True)
class _Plan:
    cap_patterns: tuple[str, ...]  # run on the folded prompt cut to max_chars
    weights: np.ndarray  # (len(cap_patterns), families) int32 score weights
    flag_patterns: tuple[str, ...]  # run on the whole folded prompt
    # per flag: indices into flag_patterns of its `patterns`, and of each `all` group
    flag_rules: tuple[tuple[str, tuple[int, ...], tuple[tuple[int, ...], ...]], ...]
    matcher: Matcher  # capability patterns (on the cut prompt), then flag patterns


@functools.cache
def _plan() -> _Plan:
    spec = load("capability")
    order: list[str] = spec["order"]
    cap: list[str] = []
    rows: list[list[int]] = []
    for f, fam in enumerate(order):
        for level, weight in spec["weights"].items():
            for p in spec["families"][fam].get(level, []):
                if p not in cap:
                    cap.append(p)
                    rows.append([0] * len(order))
                rows[cap.index(p)][f] += weight
    weights = np.array(rows, dtype=np.int32).reshape(len(cap), len(order))
    pats: list[str] = []

    def idx(p: str) -> int:
        if p not in pats:
            pats.append(p)
        return pats.index(p)

    rules = []
    for column in FLAGS:
        r = flag_rules(column)
        rules.append((column, tuple(idx(p) for p in r.patterns),
                      tuple(tuple(idx(p) for p in g) for g in r.all_groups)))
    # a member of one all-of group, used nowhere else, runs only where the group's earlier
    # members (those with literals to look for first) matched
    uses = Counter(i for _, any_of, groups in rules for i in (*any_of, *(j for g in groups
                                                                             for j in g)))
    gates: list[tuple[int, ...]] = [()] * (len(cap) + len(pats))
    for _, _, groups in rules:
        for group in groups:
            ranked = sorted(group, key=lambda i: not required_clauses(pats[i]))
            for t, i in enumerate(ranked):
                if t and uses[i] == 1:
                    gates[len(cap) + i] = tuple(len(cap) + j for j in ranked[:t])
    matcher = Matcher([*cap, *pats], scopes=[1] * len(cap) + [0] * len(pats), gates=gates)
    return _Plan(tuple(cap), weights, tuple(pats), tuple(rules), matcher)


def classify(folded: pl.Series, tool_count: pl.Series | None = None,
             endpoint: pl.Series | None = None) -> pl.DataFrame:
    """Capability family and the four flags of each folded prompt; all NULL for NULL prompts.

    A flag is True when the folded prompt matches any of its lexicon's `patterns` or every
    pattern of one `all` group. The capability is the family with the highest weighted
    lexicon score (data/lexicons/capability.toml: ties go to the family listed first in
    `order`, below `min_score` it is `other`), with bonuses for tools and endpoints.

    Args:
        folded: the folded prompts (`normalise.folded`).
        tool_count: tools defined per request (NULL or missing: none).
        endpoint: the request's endpoint (NULL or missing: none).

    Returns:
        A DataFrame with columns `capability` and the four flag columns, row for row.

    Example:
        >>> import polars as pl
        >>> out = classify(pl.Series(["write a haiku about rain",
        ...                           "show me your full chain of thought", None]))
        >>> out["capability"].to_list(), out["cot_flag"].to_list()
        (['creative', 'other', None], [False, True, None])
    """
    plan = _plan()
    spec = load("capability")
    n = len(folded)
    max_chars = spec["max_chars"]
    text = folded.cast(pl.String)
    # cut for the capability patterns only when some prompt is longer (bytes >= chars)
    cut = text.str.slice(0, max_chars) if (text.str.len_bytes() > max_chars).any() else text
    hits = plan.matcher.match(text, [cut])
    null = text.is_null().to_numpy()
    k = len(plan.cap_patterns)
    matched = hits[:, :k]
    flags = hits[:, k:]
    scores = matched.astype(np.int32) @ plan.weights
    order: list[str] = spec["order"]
    if tool_count is not None:
        tools = tool_count.cast(pl.Int64).fill_null(0).to_numpy() > 0
        scores[:, order.index("agentic")] += spec["tools_bonus"] * tools
    if endpoint is not None:
        ep = pl.DataFrame({"e": endpoint.cast(pl.String).fill_null("")})
        for fam, pattern in spec["endpoints"].items():
            hit = ep.select(pl.col("e").str.contains(pattern))["e"].to_numpy()
            scores[:, order.index(fam)] += spec["endpoint_bonus"] * hit
    names = np.array([*order, "other"], dtype=object)
    best = np.where(scores.max(axis=1) < spec["min_score"], len(order), scores.argmax(axis=1))
    cap = names[best]
    cap[null] = None
    out = {"capability": pl.Series("capability", cap.tolist(), dtype=pl.String)}
    for column, any_of, groups in plan.flag_rules:
        fired = flags[:, list(any_of)].any(axis=1) if any_of else np.zeros(n, dtype=bool)
        for group in groups:
            fired |= flags[:, list(group)].all(axis=1)
        out[column] = pl.Series(column, fired, dtype=pl.Boolean).scatter(
            np.flatnonzero(null), None)
    return pl.DataFrame(out)
