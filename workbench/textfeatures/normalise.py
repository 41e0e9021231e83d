"""Prompt normalisation as polars expressions, driven by data/lexicons/masking.toml.

Two texts come out of one prompt: the *folded* text (NFKC, invisible controls removed, case
folded, whitespace collapsed) that flags, capability and language read, and the *normalised*
text (`prompt_norm`) that also has code, URLs, e-mail addresses, names, quoted strings and
numbers replaced by placeholders, so that one template filled with different values gives one
`template_id`.
"""

from __future__ import annotations

import functools

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


@functools.cache
def _ascii_needs_only_control() -> bool:
    # NFKC leaves ASCII alone; if no ASCII character is in `strip` either, an ASCII prompt
    # needs only the control-character step
    ascii_chars = pl.Series([chr(i) for i in range(128)])
    return not ascii_chars.str.contains(load("masking")["strip"]).any()


def base_series(text: pl.Series) -> pl.Series:
    """`base` of a Series, skipping NFKC and `strip` on ASCII-only prompts (most of them).

    Example:
        >>> import polars as pl
        >>> base_series(pl.Series(["ﬁne\\u200b", "a\\x07b"])).to_list()
        ['fine', 'a b']
    """
    text = text.cast(pl.String)
    if not _ascii_needs_only_control():
        return pl.select(base(pl.lit(text))).to_series()
    out = pl.select(pl.lit(text).str.replace_all(load("masking")["control"], " ")).to_series()
    wide = (text.str.len_bytes() != text.str.len_chars()).fill_null(False).arg_true()
    if len(wide):
        out = out.scatter(wide, pl.select(base(pl.lit(text.gather(wide)))).to_series())
    return out.alias(text.name)


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
