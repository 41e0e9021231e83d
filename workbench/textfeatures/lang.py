"""Language of a prompt from script shares and stopword votes (data/lexicons/languages.toml)."""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from workbench.textfeatures.lexicons import load


@functools.cache
def _votes() -> tuple[list[str], np.ndarray]:
    # Each stopword as ` word `, matched on the text with every run of non-letters replaced by
    # two spaces: consecutive tokens each keep a space of their own, so the non-overlapping
    # matches of one Aho-Corasick pass are exactly the tokens that are stopwords (a stopword
    # is a run of letters). Returns the padded words and their (words x languages) membership.
    spec = load("languages")
    langs = list(spec["stopwords"])
    words = sorted({w for ws in spec["stopwords"].values() for w in ws})
    member = np.zeros((len(words), len(langs)), dtype=np.int64)
    for j, lang in enumerate(langs):
        for w in set(spec["stopwords"][lang]):
            member[words.index(w), j] = 1
    return [f" {w} " for w in words], member


def _count(text: pl.Expr, chars: str) -> pl.Expr:  # deleting the rest beats counting matches
    return text.str.replace_all(f"[^{chars}]+", "").str.len_chars()


def language(folded: pl.Series) -> pl.Series:
    """ISO 639-1 code of each folded prompt, `und` when unsure, NULL for NULL.

    Script counts run only on prompts with non-ASCII characters (an ASCII prompt has only
    Latin letters), and per script only where the letters of all the scripts together could
    reach a share; stopword votes run only on prompts that are mainly Latin.

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
        every = "".join(sc["chars"] for sc in scripts)
        sub = df[wide].select(_count(text, spec["latin"]["chars"]).alias("latin"),
                              _count(text, every).alias("any"))
        latin[wide] = sub["latin"].to_numpy()
        # a script decides only at min_share of the letters; its characters are among `any`
        low = min(sc["min_share"] for sc in scripts)
        some = wide[sub["any"].to_numpy() >= letters[wide] * low]
        if len(some):
            per = df[some].select(
                *[_count(text, sc["chars"]).alias(f"s{i}") for i, sc in enumerate(scripts)],
                *[text.str.contains(sc["markers"]).alias(f"m{i}")
                  for i, sc in enumerate(scripts) if "markers" in sc])
            for i, sc in enumerate(scripts):
                shares[some, i] = per[f"s{i}"].to_numpy()
                if "markers" in sc:
                    marked[some, i] = per[f"m{i}"].to_numpy()
    # the first script reaching its share decides (markers pick the variant)
    out = np.full(n, "und", dtype=object)
    decided = np.zeros(n, dtype=bool)
    for i, sc in enumerate(scripts):
        hit = ~decided & (shares[:, i] >= letters * sc["min_share"])
        name = np.where(marked[:, i], sc.get("marker_lang", sc["lang"]), sc["lang"])
        out[hit] = name[hit]
        decided |= hit
    # otherwise, a mainly Latin prompt is decided by stopword votes
    voting = np.flatnonzero(~decided & (latin >= letters * spec["latin_min_share"])
                            & (letters >= spec["min_letters"]))
    if len(voting):
        words, member = _votes()
        found = (df[voting].select(pl.col("spaced").str.extract_many(words).alias("w"))
                 .with_row_index("row").explode("w").drop_nulls())
        votes = np.zeros((len(voting), len(langs)), dtype=np.int64)
        if found.height:
            ids = found["w"].cast(pl.Enum(words)).to_physical().cast(pl.Int64).to_numpy()
            np.add.at(votes, found["row"].cast(pl.Int64).to_numpy(), member[ids])
        ranked = np.sort(votes, axis=1)
        best, second = ranked[:, -1], ranked[:, -2] if votes.shape[1] > 1 else 0
        win = (best >= spec["min_hits"]) & (best > second * spec["margin"])
        out[voting[win]] = np.array(langs, dtype=object)[votes[win].argmax(axis=1)]
    out[letters < spec["min_letters"]] = "und"
    out[df["text"].is_null().to_numpy()] = None
    return pl.Series("lang", out.tolist(), dtype=pl.String)
