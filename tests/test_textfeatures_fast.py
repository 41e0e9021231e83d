"""The fast paths of the text features give exactly what the straightforward ones give.

Each shortcut (NFKC skipped where no character can change, masks run only where their literals
are, SimHash's shingle terms computed per distinct token) is checked against the plain
computation on adversarial Unicode and seeded random text and, where a shortcut rests on a
character table, on every code point.
"""

from __future__ import annotations

import hashlib
import random

import polars as pl
import pytest

from workbench.textfeatures import normalise, simhash
from workbench.textfeatures.lexicons import load
from workbench.textfeatures.normalise import base, base_series, normalised_from_base

# Each one a way for NFKC, `strip` or `control` to change a text, or to look as if it might.
ADVERSARIAL = [
    "plain ascii, nothing to do",
    "",
    "e\u0301 decomposed acute", "\u0301 a mark with nothing before it", "a\u0328\u0301 two marks",
    "a\u0301\u0328 two marks out of canonical order",
    "\u1100\u1161\u11a8 hangul jamo L V T", "\uac00\u11a8 syllable then trailing jamo",
    "\u0b47\u0b3e two oriya starters that compose", "\u0f73 tibetan with a mark decomposition",
    "ｶﾞ half-width kana and voicing mark", "ｶ\uff9e", "Ｆｕｌｌｗｉｄｔｈ", "ﬁne ligature",
    "\u212a kelvin \u212b angstrom \u2126 ohm", "\uf900 a CJK compatibility ideograph",
    "pass\u200bword", "abc\u202edcba\u202c", "tag\U000e0041\U000e0042s", "\ufeffbom",
    "emoji\ufe0f variation", "bell\u0007 nul\u0000 del\u007f c1\u0085", "tab\tnew\nline",
    "curly ’quotes’ “and” — dashes … café naïve straße ΣΟΦΟΣ", "中文 日本語 한국어 русский",
    "\U00030000 plane three \U0010fffd plane sixteen \ue000 private",
    "\u0378 unassigned in the BMP", "\U0001fae8 a recent emoji", "x\u0345\u0301 iota subscript",
    "\u00a0no-break\u2009thin\u3000ideographic spaces", "½ ² ① ㍿ ℌ",
]

_POOL = [chr(c) for c in (*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x300, 0x370),
                          *range(0x1100, 0x1200), *range(0x2000, 0x2070), 0x3000, 0xAC00,
                          0xAC01, *range(0xFE00, 0xFE10), *range(0xFF00, 0xFFA0), 0x0B3E,
                          0x0B47, 0x0F71, 0x0F72, 0x0F73, 0x200B, 0x202E, 0xE0041)]


def _random_texts(n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_POOL) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def _plain_base(texts: list[str | None]) -> list[str | None]:
    return pl.select(base(pl.lit(pl.Series(texts, dtype=pl.String)))).to_series().to_list()


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_base_series_equals_base_on_adversarial_text(text: str) -> None:
    assert base_series(pl.Series([text])).to_list() == _plain_base([text])


def test_base_series_equals_base_on_random_text_and_nulls() -> None:
    texts: list[str | None] = [*_random_texts(5000), None, *ADVERSARIAL]
    series = pl.Series(texts, dtype=pl.String)
    assert base_series(series).to_list() == _plain_base(texts)
    assert series.to_list() == texts  # the input is left as it was


def test_characters_outside_the_changing_class_are_left_alone_by_nfkc() -> None:
    # every code point NFKC may change is in the class; NFKC leaves each of the others, and
    # any pair of them, as it is (in polars' own Unicode tables, newer than Python's)
    every = pl.Series([chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    stable = every.filter(~every.str.contains(normalise._changing())).to_list()
    assert {"a", "é", "’", "中"} <= set(stable)
    singles = pl.Series(stable)
    assert (singles.str.normalize("NFKC") == singles).all()
    rng = random.Random(5)
    pairs = pl.Series(["".join(rng.choices(stable, k=3)) for _ in range(200_000)])
    assert (pairs.str.normalize("NFKC") == pairs).all()


_FRAGMENTS = ["```", "~~~", "`", "``x``", "http://", "https://a.b/c?d=1", "ftp://", "www.", "www",
              "@", "bob@x.org", "@jdoe", " Mr", "Mr. ", "Dr ", "Prof", " Ada Lovelace", " Marie",
              "\"", "“", "”", "«", "»", "「", "」", "『", "』", "‘", "’", "'", " '", "' ", "(", "=",
              "\n", " ", "  ", "\t", "12", "3.5", "1,000", "a", "Z", "é", "É", "ß", "ς", "中",
              "<num>", "<", ">", "x", "hello", "World", ",", ";", ":"]


def _fragment_texts(n: int, seed: int = 4) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(0, 30))) for _ in range(n)]


def test_normalised_series_equals_the_expression_on_every_mask_boundary() -> None:
    texts: list[str | None] = [*_fragment_texts(20_000), *ADVERSARIAL, None,
                               *[ex[0] for m in load("masking")["mask"] for ex in m["examples"]]]
    based = base_series(pl.Series(texts, dtype=pl.String))
    want = pl.select(normalised_from_base(pl.lit(based))).to_series().to_list()
    assert normalise.normalised_series(based).to_list() == want
    # every mask both runs somewhere and is skipped somewhere, so both paths are checked
    for m in load("masking")["mask"]:
        hits = based.str.contains(m["pattern"]).mean()
        assert 0 < hits < 1, m["name"]


def _mix64(x: int) -> int:
    m = (1 << 64) - 1
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


def _plain_simhash(norm: str) -> int:
    """SimHash as simhash.py's docstring defines it, one prompt at a time in Python."""
    toks = pl.Series([norm[:simhash.MAX_CHARS]]).str.extract_all(simhash.TOKEN)[0].to_list()
    hs = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
          for t in toks]
    pairs = list(zip(hs, hs[1:], strict=False)) if len(hs) > 1 else [(h, 0) for h in hs]
    k = 0x9E3779B97F4A7C15
    shingles = [_mix64((a * k + _mix64(b ^ k)) & ((1 << 64) - 1)) for a, b in pairs]
    return sum(1 << j for j in range(64)
               if 2 * sum(s >> j & 1 for s in shingles) > len(shingles))


def test_simhash_equals_the_plain_definition() -> None:
    texts = [*_fragment_texts(300, seed=6), *ADVERSARIAL, "one", "", "<num>",
             "word " * 1500]  # past MAX_CHARS
    norm = normalise.normalised_series(base_series(pl.Series(texts)))
    got = simhash.simhash(pl.Series([*norm.to_list(), None])).to_list()
    assert got == [*(_plain_simhash(t) for t in norm.to_list()), None]


def _token_texts(n: int, seed: int) -> list[str]:
    """Random strings over the characters where a token starts, runs or stops: placeholders
    whole and broken, CJK and kana (single-character tokens, also inside a Latin run), the
    Katakana middle dot, marks, digits of other scripts, astral letters, punctuation."""
    rng = random.Random(seed)
    parts = ["<num>", "<name>", "<", ">", "<a", "b>", "<NUM>", "<>", " ", "  ", "\n", "_",
             "abc", "É", "ß", "中", "文", "ひ", "カ", "・", "ー", "々", "⺀", "\u0301", "٣", "५",
             "\U00020000", "\U0001d400", "😀", "-", ".", "x9", "한", "\u00a0", "\t"]
    return ["".join(rng.choice(parts) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def test_simhash_tokens_are_the_token_regexs_tokens() -> None:
    from workbench.textfeatures import _compiled as kernel

    texts = [*_token_texts(3000, seed=3), *ADVERSARIAL, "é" * 2500 + " tail"]
    series = pl.Series(texts)
    arr = series.to_arrow().cast("large_string")
    import numpy as np

    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[:len(texts) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    table = kernel.classes(simhash._WORD, simhash._SINGLE)
    out, starts, counts = kernel.tokens(data, offsets, np.ones(len(texts), bool), table,
                                        simhash.MAX_CHARS)
    got = [bytes(out[a:b]).decode() for a, b in zip(starts[:-1], starts[1:], strict=True)]
    want = series.str.slice(0, simhash.MAX_CHARS).str.extract_all(simhash.TOKEN).to_list()
    assert counts.tolist() == [len(w) for w in want]
    assert got == [t for w in want for t in w]


def test_the_token_classes_are_the_regexs_on_every_code_point() -> None:
    from workbench.textfeatures import _compiled as kernel

    table = kernel.classes(simhash._WORD, simhash._SINGLE)
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    sample = cps[::97] + list(range(0x3000, 0x3100)) + list(range(0x2E80, 0x2F00))
    chars = pl.Series([chr(c) for c in sample])
    for bit, cls in ((kernel.WORD, simhash._WORD), (kernel.SINGLE, simhash._SINGLE)):
        want = chars.str.contains(f"^{cls}$").to_list()
        assert [bool(table[c] & bit) for c in sample] == want


def _plain_language_counts(texts: pl.Series) -> tuple[list[list[int]], list[list[int]]]:
    """What `_compiled.letter_counts` counts, by polars regexes on each prompt's first
    characters: the characters of each class, and each language's stopword tokens (whole
    runs of letters)."""
    from workbench.textfeatures import lang

    spec = load("languages")
    cut = texts.str.slice(0, spec["max_chars"])
    counts = [cut.str.count_matches(c).fill_null(0).to_list() for c in lang._classes()]
    runs = cut.str.extract_all(r"\p{L}+").to_list()
    votes = [[sum(t in set(ws) for t in (r or [])) for ws in spec["stopwords"].values()]
             for r in runs]
    return [list(row) for row in zip(*counts, strict=True)], votes


def test_language_counts_are_the_regexs_counts() -> None:
    import numpy as np

    from workbench.textfeatures import _compiled, lang

    spec = load("languages")
    texts = pl.Series([*ADVERSARIAL, *_token_texts(2000, seed=8), *_fragment_texts(300, seed=9),
                       "de het een en van", "the2and3the cat", "¿cómo está el perro?",
                       "é" * 700 + " the", None, ""])
    data, offsets, valid = _compiled.buffers(texts)
    (hashes, slots, wdata, woffs), member = lang._words()
    classes = lang._classes()
    counts, votes = _compiled.letter_counts(
        data, offsets, valid, _compiled.class_bits(*classes), spec["max_chars"], len(classes),
        hashes, slots, wdata, woffs, member)
    want_counts, want_votes = _plain_language_counts(texts)
    assert counts.tolist() == want_counts
    assert votes.tolist() == want_votes
    assert np.asarray(want_votes).sum() > 0
    assert np.asarray(want_counts)[:, 4:].sum() > 0


def test_a_class_table_kept_on_disk_is_read_back_or_made_again(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    import numpy as np

    from workbench.textfeatures import _compiled

    want = _compiled._ask((r"\p{L}", "[0-9]"))
    folder = tmp_path / "pkg"
    (folder / "__pycache__").mkdir(parents=True)
    monkeypatch.setattr(_compiled, "__file__", str(folder / "_compiled.py"))
    for damage in (None, b"not a table", b""):
        _compiled.class_bits.cache_clear()
        kept = list((folder / "__pycache__").glob("classes-*.npy"))
        if damage is not None:
            Path(kept[0]).write_bytes(damage)
        assert np.array_equal(_compiled.class_bits(r"\p{L}", "[0-9]"), want)
        assert len(list((folder / "__pycache__").glob("classes-*.npy"))) == 1
    _compiled.class_bits.cache_clear()
