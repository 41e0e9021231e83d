"""Prompt normalisation as polars expressions, driven by data/lexicons/masking.toml.

Two texts come out of one prompt: the *folded* text (NFKC, invisible controls removed, case
folded, whitespace collapsed) that flags, capability and language read, and the *normalised*
text (`prompt_norm`) that also has code, URLs, e-mail addresses, names, quoted strings and
numbers replaced by placeholders, so that one template filled with different values gives one
`template_id`.
"""

from __future__ import annotations

import polars as pl

from workbench.textfeatures.lexicons import load

# Python's str.casefold() differs from Unicode lower-casing in a few letters that matter here.
_FOLD_FROM = ["ß", "ẞ", "ς"]
_FOLD_TO = ["ss", "ss", "σ"]


def _base(text: pl.Expr) -> pl.Expr:
    spec = load("masking")
    return (text.str.normalize("NFKC")
            .str.replace_all(spec["strip"], "")
            .str.replace_all(spec["control"], " "))


def _fold(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_many(_FOLD_FROM, _FOLD_TO)


def _squash(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(r"\s+", " ").str.strip_chars(" ")


def folded(text: pl.Expr) -> pl.Expr:
    """NFKC, controls removed, case folded, curly apostrophes straightened, spaces collapsed.

    Example:
        >>> import polars as pl
        >>> pl.select(folded(pl.lit("Ｓhow\\u200b  YOUR’s"))).item()
        "show your's"
    """
    return _squash(_fold(_base(text)).str.replace_all("[’ʼ]", "'"))


def normalised(text: pl.Expr) -> pl.Expr:
    """The masked, folded prompt stored as `features.prompt_norm`.

    Example:
        >>> import polars as pl
        >>> pl.select(normalised(pl.lit("Email bob@x.org about Ada Lovelace's 3 notes"))).item()
        'email <email> about <name> <num> notes'
    """
    masks = load("masking")["mask"]
    out = _base(text)
    for m in masks:
        if m["stage"] == "cased":
            out = out.str.replace_all(m["pattern"], m["replace"])
    out = _fold(out)
    for m in masks:
        if m["stage"] == "folded":
            out = out.str.replace_all(m["pattern"], m["replace"])
    return _squash(out)
