"""Prompt normalisation as polars expressions, driven by data/lexicons/masking.toml.

Two texts come out of one prompt: the *folded* text (NFKC, invisible controls removed, case
folded, whitespace collapsed) that flags, capability and language read, and the *normalised*
text (`prompt_norm`) that also has code, URLs, e-mail addresses, names, quoted strings and
numbers replaced by placeholders, so that one template filled with different values gives one
`template_id`.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import polars as pl

from workbench.textfeatures.lexicons import load
from workbench.textfeatures.prefilter import required_literals

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


# a mask's literal check costs about a tenth of its replacement: worth it unless nearly every
# prompt holds one
_MOST = 0.8


@functools.cache
def _mask_literals(pattern: str) -> str | None:
    # a regex alternation of literals one of which every match holds (regex literal search
    # was measured several times cheaper than `contains_any`); None when there are none
    lits = required_literals(pattern, min_bytes=1)
    return "|".join(re.escape(x) for x in sorted(lits)) if lits and " " not in lits else None


def _masked(text: pl.Series, mask: dict[str, str]) -> pl.Series:
    lits = _mask_literals(mask["pattern"])
    rows = text.str.contains(lits).fill_null(False).arg_true() if lits is not None else None
    if rows is None or len(rows) > _MOST * len(text):
        return text.str.replace_all(mask["pattern"], mask["replace"])
    if not len(rows):
        return text
    return text.clone().scatter(
        rows, text.gather(rows).str.replace_all(mask["pattern"], mask["replace"]))


def normalised_series(based: pl.Series) -> pl.Series:
    """`normalised_from_base` of a Series, each mask run only on the prompts it can match.

    A mask's regex runs where the text holds one of the literals that every match of it holds
    (`prefilter.required_literals`); elsewhere it would replace nothing.

    Example:
        >>> import polars as pl
        >>> normalised_series(pl.Series(["Mail bob@x.org", "Hi 2 Ada Lovelace", None])).to_list()
        ['mail <email>', 'hi <num> <name>', None]
    """
    masks = load("masking")["mask"]
    out = based.cast(pl.String)
    for m in masks:
        if m["stage"] == "cased":
            out = _masked(out, m)
    out = pl.select(_fold(pl.lit(out))).to_series()
    for m in masks:
        if m["stage"] == "folded":
            out = _masked(out, m)
    return pl.select(_squash(pl.lit(out))).to_series().alias(based.name)
