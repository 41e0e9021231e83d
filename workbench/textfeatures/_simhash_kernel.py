"""Compiled loops of `simhash`: tokens cut from UTF-8 bytes, and the shingles' majority bits.

numba compiles both on first use (`cache=True` keeps the machine code in `__pycache__`, so a
later process only loads it). They read the Arrow buffers of a batch as they are: no Python
string per prompt or per token. What a token is comes from `simhash.TOKEN` as the polars regex
engine reads it: `classes()` asks that engine about every code point once, so the tokens here
are the regex's tokens whatever Unicode version polars carries (tests/test_textfeatures_fast.py
checks the two on every code point and on real prompts).
"""

from __future__ import annotations

import functools

import numba
import numpy as np
import polars as pl

WORD = np.uint8(1)  # [\p{L}\p{N}_]: extends a run
SINGLE = np.uint8(2)  # [\p{Han}\p{Hiragana}\p{Katakana}]: a token of its own where one starts
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@functools.cache
def classes(word: str, single: str) -> np.ndarray:
    """uint8 per code point: WORD if it is in the regex class `word`, SINGLE if in `single`.

    Surrogates (never in a valid string) read 0.
    """
    cps = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)]).astype(np.uint32)
    chars = pl.Series(np.frombuffer(cps.tobytes(), dtype="<U1"), dtype=pl.String)
    out = np.zeros(0x110000, dtype=np.uint8)
    for bit, cls in ((WORD, word), (SINGLE, single)):
        hit = chars.str.contains(f"^{cls}$").to_numpy()
        out[cps[hit]] |= bit
    return out


@numba.njit(cache=True, nogil=True)
def _decode(data: np.ndarray, p: int) -> tuple[int, int]:  # pragma: no cover - compiled
    b = data[p]
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (data[p + 1] & 0x3F), 2
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((data[p + 1] & 0x3F) << 6) | (data[p + 2] & 0x3F), 3
    return (((b & 0x07) << 18) | ((data[p + 1] & 0x3F) << 12) | ((data[p + 2] & 0x3F) << 6)
            | (data[p + 3] & 0x3F)), 4


@numba.njit(cache=True, nogil=True)
def tokens(data: np.ndarray, offsets: np.ndarray, valid: np.ndarray, table: np.ndarray,
           max_chars: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Token bytes of every row, one after another, with their offsets and each row's count.

    A token is `<` letters a-z `>`, else one SINGLE character, else a run of WORD characters,
    leftmost first (the regex `simhash.TOKEN`), within the row's first `max_chars` characters.
    """
    n = len(offsets) - 1
    counts = np.zeros(n, dtype=np.int64)
    out = np.empty(max(offsets[n] - offsets[0], 1), dtype=np.uint8)
    starts = np.empty(max(offsets[n] - offsets[0], 1) + 1, dtype=np.int64)
    nb = 0
    nt = 0
    for i in range(n):
        if not valid[i]:
            continue
        # the row cut to its first max_chars characters, as str.slice(0, max_chars)
        end = offsets[i]
        chars = 0
        while end < offsets[i + 1] and chars < max_chars:
            end += 1
            while end < offsets[i + 1] and (data[end] & 0xC0) == 0x80:
                end += 1
            chars += 1
        p = offsets[i]
        while p < end:
            c, w = _decode(data, p)
            t = p
            if c == 60:  # "<" letters ">"
                q = p + 1
                while q < end and 97 <= data[q] <= 122:
                    q += 1
                if q > p + 1 and q < end and data[q] == 62:
                    t = q + 1
            if t == p and table[c] & 2:
                t = p + w
            elif t == p and table[c] & 1:
                t = p + w
                while t < end:
                    c2, w2 = _decode(data, t)
                    if not table[c2] & 1:
                        break
                    t += w2
            if t == p:
                p += w
                continue
            starts[nt] = nb
            for k in range(p, t):
                out[nb] = data[k]
                nb += 1
            nt += 1
            counts[i] += 1
            p = t
    starts[nt] = nb
    return out[:nb], starts[:nt + 1], counts


@numba.njit(cache=True, nogil=True)
def _mix(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def majority(tok: np.ndarray, counts: np.ndarray, first: np.ndarray,
             second: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Per row, bit j set when more than half of its shingles' hashes have bit j set.

    Shingle i of a row mixes first[tok_i] + second[tok_(i+1)]; a row of one token pairs it with
    the last entry of `second` (the zero token). Four bit positions are counted at once, in the
    16-bit lanes of one uint64 (a row has at most max_chars shingles: no lane overflows).
    """
    n = len(counts)
    out = np.zeros(n, dtype=np.uint64)
    lanes = np.uint64(0x0001000100010001)
    lane = np.uint64(0xFFFF)
    zero = len(second) - 1
    acc = np.zeros(16, dtype=np.uint64)
    at = 0
    for i in range(n):
        k = counts[i]
        if k == 0:
            continue
        acc[:] = 0
        shingles = k - 1 if k > 1 else 1
        for s in range(shingles):
            nxt = tok[at + s + 1] if k > 1 else zero
            h = _mix(first[tok[at + s]] + second[nxt])
            for q in range(16):
                acc[q] += (h >> np.uint64(q)) & lanes
        bits = np.uint64(0)
        for q in range(16):
            for j in range(4):
                ones = (acc[q] >> np.uint64(16 * j)) & lane
                if np.uint64(2) * ones > np.uint64(shingles):
                    bits |= np.uint64(1) << np.uint64(q + 16 * j)
        out[i] = bits
        at += k
    return out
