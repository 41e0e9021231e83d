"""Stable hashes of normalised prompts: `template_id` and a 64-bit SimHash.

Both are defined on `prompt_norm` only and use BLAKE2b, never Python's salted `hash()`, so any
engine running `feature_batch` with this package gives the same values.

SimHash (Charikar 2002): tokens are `<placeholder>` tokens, single CJK characters, or runs of
letters/digits, from the first `MAX_CHARS` characters. Each pair of consecutive tokens (a word
2-shingle; the single token when a prompt has one) hashes to 64 bits; bit j of the SimHash is
1 when more than half of the prompt's shingles have bit j set. Prompts that share most
shingles, such as paraphrases of one template, differ in few bits (small Hamming distance);
unrelated prompts differ in about 32. An empty token list gives 0.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

MAX_CHARS = 2000
_SINGLE = r"[\p{Han}\p{Hiragana}\p{Katakana}]"
_WORD = r"[\p{L}\p{N}_]"
TOKEN = rf"<[a-z]+>|{_SINGLE}|{_WORD}+"
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_K = np.uint64(0x9E3779B97F4A7C15)
_CACHE: dict[str, int] = {}


def template_id(norm: str) -> str:
    """16 hex digits of BLAKE2b over the UTF-8 normalised prompt.

    Example:
        >>> template_id("write a poem about <name>")
        'fd9353b11efd269a'
    """
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()


def template_ids(norm: pl.Series) -> pl.Series:
    """`template_id` of each normalised prompt (String); NULL stays NULL.

    Hashes the UTF-8 bytes straight out of the Arrow buffer: no Python string per prompt.

    Example:
        >>> import polars as pl
        >>> template_ids(pl.Series(["write a poem about <name>", None])).to_list()
        ['fd9353b11efd269a', None]
    """
    from workbench.textfeatures._compiled import buffers

    data, offsets, _ = buffers(norm)
    view = memoryview(data.data)
    blake = hashlib.blake2b
    ends = offsets.tolist()
    out = [blake(view[a:b], digest_size=8).hexdigest()
           for a, b in zip(ends[:-1], ends[1:], strict=True)]
    return pl.Series("template_id", out, dtype=pl.String).scatter(
        np.flatnonzero(norm.is_null().to_numpy()), None)


def _token_hash(tok: str) -> int:
    h = _CACHE.get(tok)
    if h is None:
        if len(_CACHE) > 1_000_000:
            _CACHE.clear()
        h = int.from_bytes(hashlib.blake2b(tok.encode("utf-8"), digest_size=8).digest(), "little")
        _CACHE[tok] = h
    return h


def _mix(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: spreads every input bit over the 64 output bits
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def simhash(norm: pl.Series) -> pl.Series:
    """64-bit SimHash (UInt64) of each normalised prompt; NULL stays NULL.

    Tokens are cut and shingles counted by compiled loops over the batch's UTF-8 buffer
    (`_compiled`); each distinct token of the batch is hashed once, here.

    Example:
        >>> import polars as pl
        >>> a, b, c = simhash(pl.Series(["please write a short poem about the sea",
        ...                              "please write a short poem about the ocean",
        ...                              "how do i sort a list in rust"])).to_list()
        >>> bin(a ^ b).count("1") < bin(a ^ c).count("1")
        True
    """
    from workbench.textfeatures import _compiled as kernel

    n = len(norm)
    data, offsets, valid = kernel.buffers(norm)
    table = kernel.classes(_WORD, _SINGLE)
    tok_bytes, tok_starts, counts = kernel.tokens(data, offsets, valid, table, MAX_CHARS)
    out = np.zeros(n, dtype=np.uint64)
    if len(tok_starts) > 1:
        flat = pa.LargeStringArray.from_buffers(len(tok_starts) - 1, pa.py_buffer(tok_starts),
                                                pa.py_buffer(tok_bytes))
        enc = pc.dictionary_encode(flat)
        hashes = np.array([_token_hash(t) for t in enc.dictionary.to_pylist()], dtype=np.uint64)
        # shingle i of a prompt mixes (h_i * K + mix(h_next ^ K)): both terms are per distinct
        # token, so they are computed on the dictionary; the last entry of `second` is the
        # zero token a one-token prompt pairs with
        with np.errstate(over="ignore"):
            first = hashes * _K
            second = _mix(np.append(hashes, np.uint64(0)) ^ _K)
        out = kernel.majority(enc.indices.to_numpy().astype(np.int64), counts, first, second)
    return pl.Series("simhash", out, dtype=pl.UInt64).scatter(
        np.flatnonzero(~valid), None)
