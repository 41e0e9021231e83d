"""Language of a prompt from script shares and stopword votes (data/lexicons/languages.toml)."""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from workbench.textfeatures.lexicons import load


@functools.cache
def _words() -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The stopwords' lookup table for `_compiled.letter_counts`, and their (words x
    languages) membership. A stopword votes where it is a whole run of letters."""
    from workbench.textfeatures import _compiled

    spec = load("languages")
    langs = list(spec["stopwords"])
    words = sorted({w for ws in spec["stopwords"].values() for w in ws})
    member = np.zeros((len(words), len(langs)), dtype=np.int64)
    for j, lang in enumerate(langs):
        for w in set(spec["stopwords"][lang]):
            member[words.index(w), j] = 1
    return _compiled.word_table(words), member


def _classes() -> list[str]:
    # the classes `letter_counts` counts: letters (whose runs are the tokens), non-ASCII,
    # Latin, any script's characters, then each script's
    spec = load("languages")
    scripts = spec["scripts"]
    every = "".join(sc["chars"] for sc in scripts)
    return [r"\p{L}", r"[^\x00-\x7f]", f"[{spec['latin']['chars']}]", f"[{every}]",
            *(f"[{sc['chars']}]" for sc in scripts)]


def language(folded: pl.Series) -> pl.Series:
    """ISO 639-1 code of each folded prompt, `und` when unsure, NULL for NULL.

    On each prompt's first `max_chars` characters, one compiled pass
    (`_compiled.letter_counts`) counts its letters, its Latin letters and each script's
    characters, and the stopword votes of its runs of letters. A script decides when its
    characters reach their share of the letters (markers pick the variant); otherwise a mainly
    Latin prompt is decided by the votes.

    Example:
        >>> import polars as pl
        >>> language(pl.Series(["¿cómo está el perro de mi vecino?", "ok", None])).to_list()
        ['es', 'und', None]
    """
    from workbench.textfeatures import _compiled

    spec = load("languages")
    langs = list(spec["stopwords"])
    scripts = spec["scripts"]
    n = len(folded)
    classes = _classes()
    data, offsets, valid = _compiled.buffers(folded)
    (hashes, order, wdata, woffs), member = _words()
    counts, votes_all = _compiled.letter_counts(
        data, offsets, valid, _compiled.class_bits(*classes), spec["max_chars"], len(classes),
        hashes, order, wdata, woffs, member)
    letters = counts[:, 0]
    wide = counts[:, 1] > 0  # an ASCII prompt has only Latin letters
    latin = np.where(wide, counts[:, 2], letters)
    shares = np.zeros((n, len(scripts)), dtype=np.int64)
    marked = np.zeros((n, len(scripts)), dtype=bool)
    # a script decides only at min_share of the letters; its characters are among `any`
    low = min(sc["min_share"] for sc in scripts)
    some = np.flatnonzero(wide & (counts[:, 3] >= letters * low))
    if len(some):
        shares[some] = counts[some, 4:]
        cut = folded.cast(pl.String).gather(some).str.slice(0, spec["max_chars"])
        for i, sc in enumerate(scripts):
            if "markers" in sc:
                marked[some, i] = cut.str.contains(sc["markers"]).fill_null(False).to_numpy()
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
        votes = votes_all[voting]
        ranked = np.sort(votes, axis=1)
        best, second = ranked[:, -1], ranked[:, -2] if votes.shape[1] > 1 else 0
        win = (best >= spec["min_hits"]) & (best > second * spec["margin"])
        out[voting[win]] = np.array(langs, dtype=object)[votes[win].argmax(axis=1)]
    out[letters < spec["min_letters"]] = "und"
    out[~valid] = None
    return pl.Series("lang", out.tolist(), dtype=pl.String)
