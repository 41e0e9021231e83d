"""Language of a prompt from script shares and stopword votes (data/lexicons/languages.toml)."""

from __future__ import annotations

import functools
import re

import numpy as np
import polars as pl

from workbench.textfeatures.lexicons import load


@functools.cache
def _vote_patterns() -> tuple[str, ...]:
    # One pattern per language matching ` word ` on the text with every run of non-letters
    # replaced by two spaces: consecutive tokens each keep a space of their own, so
    # non-overlapping matches count every whole-word hit (the tokens are the runs of \p{L}).
    spec = load("languages")
    return tuple(" (?:" + "|".join(re.escape(w) for w in sorted(set(words))) + ") "
                 for words in spec["stopwords"].values())


def _count(text: pl.Expr, chars: str) -> pl.Expr:  # deleting the rest beats counting matches
    return text.str.replace_all(f"[^{chars}]+", "").str.len_chars()


def language(folded: pl.Series) -> pl.Series:
    """ISO 639-1 code of each folded prompt, `und` when unsure, NULL for NULL.

    Script counts run only on prompts with non-ASCII characters (an ASCII prompt has only
    Latin letters); stopword votes run only on prompts that are mainly Latin.

    Example:
        >>> import polars as pl
        >>> language(pl.Series(["¿cómo está el perro de mi vecino?", "ok", None])).to_list()
        ['es', 'und', None]
    """
    spec = load("languages")
    langs = list(spec["stopwords"])
    scripts = spec["scripts"]
    n = len(folded)
    text = pl.col("text")
    df = pl.DataFrame({"text": folded.cast(pl.String).str.slice(0, spec["max_chars"])})
    # tokens (runs of letters) each padded by spaces: what the votes read; letters = the rest
    spaced = (" " + text.str.replace_all(r"\P{L}+", "  ") + " ").alias("spaced")
    df = df.with_columns(spaced).with_columns(
        (pl.col("spaced").str.len_chars() - pl.col("spaced").str.count_matches(" ", literal=True))
        .alias("letters"))
    letters = df["letters"].fill_null(0).to_numpy()
    latin = letters.copy()
    shares = np.zeros((n, len(scripts)), dtype=np.int64)
    marked = np.zeros((n, len(scripts)), dtype=bool)
    wide = np.flatnonzero((df["text"].str.len_bytes() != df["text"].str.len_chars())
                          .fill_null(False).to_numpy())
    if len(wide):
        sub = df[wide].select(
            _count(text, spec["latin"]["chars"]).alias("latin"),
            *[_count(text, s["chars"]).alias(f"s{i}") for i, s in enumerate(scripts)],
            *[text.str.contains(s["markers"]).alias(f"m{i}")
              for i, s in enumerate(scripts) if "markers" in s])
        latin[wide] = sub["latin"].to_numpy()
        for i, s in enumerate(scripts):
            shares[wide, i] = sub[f"s{i}"].to_numpy()
            if "markers" in s:
                marked[wide, i] = sub[f"m{i}"].to_numpy()
    # the first script reaching its share decides (markers pick the variant)
    out = np.full(n, "und", dtype=object)
    decided = np.zeros(n, dtype=bool)
    for i, s in enumerate(scripts):
        hit = ~decided & (shares[:, i] >= letters * s["min_share"])
        name = np.where(marked[:, i], s.get("marker_lang", s["lang"]), s["lang"])
        out[hit] = name[hit]
        decided |= hit
    # otherwise, a mainly Latin prompt is decided by stopword votes
    voting = np.flatnonzero(~decided & (latin >= letters * spec["latin_min_share"])
                            & (letters >= spec["min_letters"]))
    if len(voting):
        votes = df[voting].select(
            pl.col("spaced").str.count_matches(p).alias(str(i))
            for i, p in enumerate(_vote_patterns())).to_numpy()
        ranked = np.sort(votes, axis=1)
        best, second = ranked[:, -1], ranked[:, -2] if votes.shape[1] > 1 else 0
        win = (best >= spec["min_hits"]) & (best > second * spec["margin"])
        out[voting[win]] = np.array(langs, dtype=object)[votes[win].argmax(axis=1)]
    out[letters < spec["min_letters"]] = "und"
    out[df["text"].is_null().to_numpy()] = None
    return pl.Series("lang", out.tolist(), dtype=pl.String)
