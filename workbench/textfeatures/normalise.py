"""Prompt normalisation as polars expressions, driven by data/lexicons/masking.toml.

Two texts come out of one prompt: the *folded* text (NFKC, invisible controls removed, case
folded, whitespace collapsed) that flags, capability and language read, and the *normalised*
text (`prompt_norm`) that also has code, URLs, e-mail addresses, names, quoted strings and
numbers replaced by placeholders, so that one template filled with different values gives one
`template_id`.
"""

from __future__ import annotations

import functools
import unicodedata

import polars as pl

from workbench.textfeatures.lexicons import load

# Python's str.casefold() differs from Unicode lower-casing in a few letters that matter here.
_FOLD_FROM = ["ß", "ẞ", "ς"]
_FOLD_TO = ["ss", "ss", "σ"]


def base(text: pl.Expr) -> pl.Expr:
    """NFKC with format characters deleted and control characters made spaces: the common
    first step of `folded` and `normalised`, which `feature_batch` computes once for both."""
    spec = load("masking")
    return (text.str.normalize("NFKC")
            .str.replace_all(spec["strip"], "")
            .str.replace_all(spec["control"], " "))


# Planes 3 and up (rare ideographs, private use, unassigned) are taken as "may change": it
# keeps the scan of the code points below to a tenth of a second.
_SCANNED = 0x30000
# Hangul vowel and trailing jamo compose with a preceding syllable, algorithmically (they are
# not in the decomposition table)
_HANGUL_SECOND = ((0x1161, 0x1175), (0x11A8, 0x11C2))


@functools.cache
def _changing() -> str:
    """A regex class of every character that NFKC, `strip` or `control` may change in a text.

    NFKC leaves a text alone when none of its characters is in NFKC's quick-check set "No" or
    "Maybe" and none has a non-zero combining class (UAX #15, "Detecting Normalization
    Forms"). This is a superset of those, read from Python's own Unicode tables: characters
    NFKC maps to something else, combining marks, the second character of every canonical
    pair (what may compose with the character before it), the Hangul jamo that compose, and
    every character Python's tables leave unassigned (so a newer Unicode in polars is
    answered by NFKC itself). tests/test_textfeatures_fast.py checks it on every code point.
    """
    spec = load("masking")
    cps: set[int] = set()
    for lo, hi in _HANGUL_SECOND:
        cps.update(range(lo, hi + 1))
    for c in range(0xA0, _SCANNED):  # ASCII: NFKC leaves it alone and composes nothing
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        if unicodedata.combining(ch) or unicodedata.category(ch) == "Cn":
            cps.add(c)
        d = unicodedata.decomposition(ch)
        if d:
            if unicodedata.normalize("NFKC", ch) != ch:
                cps.add(c)
            parts = d.split()
            if not d.startswith("<") and len(parts) == 2:
                cps.add(int(parts[1], 16))
    ranges: list[list[int]] = []
    for c in sorted(cps):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    ranges.append([_SCANNED, 0x10FFFF])
    cls = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}"
                  for a, b in ranges)
    return f"{spec['strip']}|{spec['control']}|[{cls}]"


def base_series(text: pl.Series) -> pl.Series:
    """`base` of a Series, computed only on the prompts holding a character it may change.

    Most prompts, even with curly quotes, dashes or accented letters, hold none: they are
    their own `base`.

    Example:
        >>> import polars as pl
        >>> base_series(pl.Series(["ﬁne\\u200b", "a\\x07b", "café’s"])).to_list()
        ['fine', 'a b', 'café’s']
    """
    text = text.cast(pl.String)
    todo = text.str.contains(_changing()).fill_null(False).arg_true()
    if not len(todo):
        return text
    return text.clone().scatter(todo, pl.select(base(pl.lit(text.gather(todo)))).to_series())


def _fold(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_many(_FOLD_FROM, _FOLD_TO)


def _squash(text: pl.Expr) -> pl.Expr:
    # `\s+` -> " ", without rewriting the single spaces that are nearly every match
    return text.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars(" ")


def folded(text: pl.Expr) -> pl.Expr:
    """NFKC, controls removed, case folded, curly apostrophes straightened, spaces collapsed.

    Example:
        >>> import polars as pl
        >>> pl.select(folded(pl.lit("Ｓhow\\u200b  YOUR’s"))).item()
        "show your's"
    """
    return folded_from_base(base(text))


def folded_from_base(based: pl.Expr) -> pl.Expr:
    """`folded` of a text that already went through `base`."""
    return _squash(_fold(based).str.replace_all("[’ʼ]", "'"))


def normalised(text: pl.Expr) -> pl.Expr:
    """The masked, folded prompt stored as `features.prompt_norm`.

    Example:
        >>> import polars as pl
        >>> pl.select(normalised(pl.lit("Email bob@x.org about Ada Lovelace's 3 notes"))).item()
        'email <email> about <name> <num> notes'
    """
    return normalised_from_base(base(text))


def normalised_from_base(based: pl.Expr) -> pl.Expr:
    """`normalised` of a text that already went through `base`."""
    masks = load("masking")["mask"]
    out = based
    for m in masks:
        if m["stage"] == "cased":
            out = out.str.replace_all(m["pattern"], m["replace"])
    out = _fold(out)
    for m in masks:
        if m["stage"] == "folded":
            out = out.str.replace_all(m["pattern"], m["replace"])
    return _squash(out)
