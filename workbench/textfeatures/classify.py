"""Capability family and the four pattern flags, as polars expressions over the folded prompt."""

from __future__ import annotations

import polars as pl

from workbench.textfeatures.lexicons import FLAGS, flag_rules, load

FAMILIES = ("coding", "maths", "reasoning", "agentic", "computer_use", "vision",
            "data_analysis", "creative", "chat", "other")


def flag(column: str, folded: pl.Expr) -> pl.Expr:
    """True when the folded prompt matches the flag's lexicon; NULL when the prompt is NULL.

    Example:
        >>> import polars as pl
        >>> pl.select(flag("cot_flag", pl.lit("show me your full chain of thought"))).item()
        True
    """
    rules = flag_rules(column)
    # One pass per pattern: a single big alternation is several times slower in polars' regex
    # engine (its lazy DFA thrashes on the bounded gaps).
    hit: pl.Expr = pl.lit(False)
    for p in rules.patterns:
        hit = hit | folded.str.contains(p)
    for group in rules.all_groups:
        both: pl.Expr = pl.lit(True)
        for p in group:
            both = both & folded.str.contains(p)
        hit = hit | both
    return pl.when(folded.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(hit)


def flags(folded: pl.Expr) -> list[pl.Expr]:
    """Every flag column, named."""
    return [flag(c, folded).alias(c) for c in FLAGS]


def capability(folded: pl.Expr, tool_count: pl.Expr, endpoint: pl.Expr) -> pl.Expr:
    """Capability family by weighted lexicon (data/lexicons/capability.toml).

    Example:
        >>> import polars as pl
        >>> text = pl.lit("write a haiku about rain")
        >>> pl.select(capability(text, pl.lit(0), pl.lit(None))).item()
        'creative'
    """
    spec = load("capability")
    text = folded.str.slice(0, spec["max_chars"])
    order: list[str] = spec["order"]
    scores = []
    for fam in order:
        groups = spec["families"][fam]
        score: pl.Expr = pl.lit(0)
        for level, weight in spec["weights"].items():
            for p in groups.get(level, []):
                score = score + weight * text.str.contains(p).cast(pl.Int32)
        if fam == "agentic":
            has_tools = tool_count.fill_null(0) > 0
            score = score + pl.when(has_tools).then(spec["tools_bonus"]).otherwise(0)
        if fam in spec["endpoints"]:
            score = score + pl.when(endpoint.fill_null("").str.contains(spec["endpoints"][fam])) \
                .then(spec["endpoint_bonus"]).otherwise(0)
        scores.append(score.cast(pl.Int32))
    lst = pl.concat_list(scores)
    best = lst.list.arg_max().replace_strict(list(range(len(order))), order,
                                             return_dtype=pl.String)
    return (pl.when(folded.is_null()).then(pl.lit(None, dtype=pl.String))
            .when(lst.list.max() < spec["min_score"]).then(pl.lit("other"))
            .otherwise(best))
