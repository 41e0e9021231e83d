r"""Compiled loops of the text features over a batch's UTF-8 Arrow buffer.

`simhash`'s tokens and its shingles' majority bits, and `lang`'s letter, script and stopword
counts. numba compiles them on first use (`cache=True` keeps the machine code in
`__pycache__`, so a later process only loads it). They read the Arrow buffers of a batch as
they are: no Python string per prompt or per token. Which characters are in a regex class
(`\p{L}`, a script's `chars`) is asked of the polars regex engine itself, once per code point
(`class_bits`), so these loops and the regexes they replace read every character alike,
whatever Unicode version polars carries (tests/test_textfeatures_fast.py compares them).
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from pathlib import Path

import numba
import numpy as np
import polars as pl

WORD = np.uint8(1)  # [\p{L}\p{N}_]: extends a run
SINGLE = np.uint8(2)  # [\p{Han}\p{Hiragana}\p{Katakana}]: a token of its own where one starts
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@functools.cache
def class_bits(*classes: str) -> np.ndarray:
    """uint32 per code point: bit k set when the polars regex class `classes[k]` holds it.

    Surrogates (never in a valid string) read 0. Asking the regex engine takes about a tenth
    of a second a class, so the table is kept in `__pycache__` beside numba's code, by the
    classes and the polars version (the engine that answered); a table that cannot be read or
    written is computed again.
    """
    if len(classes) > 32:
        msg = "class_bits: at most 32 classes"
        raise ValueError(msg)
    key = hashlib.blake2b(repr((pl.__version__, classes)).encode(), digest_size=8).hexdigest()
    path = Path(__file__).parent / "__pycache__" / f"classes-{key}.npy"
    try:
        table = np.load(path, allow_pickle=False)
        if table.shape == (0x110000,) and table.dtype == np.uint32:
            return table
    except (OSError, ValueError, EOFError):  # missing, damaged or cut short: made again
        pass
    table = _ask(classes)
    try:
        path.parent.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as f:
            np.save(f, table, allow_pickle=False)
        Path(f.name).replace(path)
    except OSError:
        pass
    return table


def _ask(classes: tuple[str, ...]) -> np.ndarray:
    # every code point in one string; a class matches one character, so replacing each match
    # by U+0001 keeps every character in its place (U+0001 itself is asked on its own)
    cps = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)]).astype(np.uint32)
    every = pl.Series([cps.astype("<u4").tobytes().decode("utf-32-le")])
    out = np.zeros(0x110000, dtype=np.uint32)
    for k, cls in enumerate(classes):
        marked = every.str.replace_all(cls, "\x01").item().encode("utf-32-le")
        if len(marked) != 4 * len(cps):
            msg = f"class_bits: {cls!r} matches more than one character"
            raise ValueError(msg)
        hit = np.frombuffer(marked, dtype="<u4") == 1
        hit[1] = bool(pl.Series(["\x01"]).str.contains(f"^(?:{cls})$").item())
        out[cps[hit]] |= np.uint32(1 << k)
    return out


@functools.cache
def classes(word: str, single: str) -> np.ndarray:
    """uint8 per code point: WORD if it is in the regex class `word`, SINGLE if in `single`."""
    return class_bits(word, single).astype(np.uint8)


def buffers(texts: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The UTF-8 bytes, row offsets and validity of a String Series, without copying rows."""
    import pyarrow as pa

    arr = texts.cast(pl.String).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    buf = arr.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None and buf.size else \
        np.zeros(1, dtype=np.uint8)
    return data, offsets, ~texts.is_null().to_numpy()


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


@numba.njit(cache=True, nogil=True)
def _fnv(data: np.ndarray, a: int, b: int) -> np.uint64:  # pragma: no cover - compiled
    h = np.uint64(0xCBF29CE484222325)
    for k in range(a, b):
        h = (h ^ np.uint64(data[k])) * np.uint64(0x100000001B3)
    return h


def word_table(words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An open-addressing table of `words` for `letter_counts`: per slot the FNV-1a hash and
    the word's position in `words` (-1: empty), and the words' bytes (buffer and offsets),
    with which a hash hit is confirmed byte for byte."""
    enc = [w.encode("utf-8") for w in words]
    data = np.frombuffer(b"".join(enc) or b"\0", dtype=np.uint8)
    offs = np.cumsum([0, *(len(e) for e in enc)]).astype(np.int64)
    size = 1 << max(4, (4 * len(enc)).bit_length())  # under a quarter full
    hashes = np.zeros(size, dtype=np.uint64)
    slots = np.full(size, -1, dtype=np.int64)
    for i in range(len(enc)):
        h = _fnv(data, int(offs[i]), int(offs[i + 1]))
        k = int(h) & (size - 1)
        while slots[k] >= 0:
            k = (k + 1) & (size - 1)
        hashes[k], slots[k] = h, i
    return hashes, slots, data, offs


@numba.njit(cache=True, nogil=True)
def letter_counts(data: np.ndarray, offsets: np.ndarray, valid: np.ndarray, table: np.ndarray,
                  max_chars: int, n_classes: int, hashes: np.ndarray, order: np.ndarray,
                  wdata: np.ndarray, woffs: np.ndarray,
                  member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Per row, within its first `max_chars` characters: how many characters each class of
    `table` holds (n x n_classes), and the stopword votes (n x languages): each maximal run of
    class-0 characters (letters) that is one of the words adds the word's row of `member`.
    """
    n = len(offsets) - 1
    counts = np.zeros((n, n_classes), dtype=np.int64)
    votes = np.zeros((n, member.shape[1]), dtype=np.int64)
    for i in range(n):
        if not valid[i]:
            continue
        p = offsets[i]
        chars = 0
        run = -1  # byte where the current run of letters started
        while p < offsets[i + 1] and chars < max_chars:
            c, w = _decode(data, p)
            bits = table[c]
            if bits & 1:
                if run < 0:
                    run = p
            elif run >= 0:
                _vote(data, run, p, hashes, order, wdata, woffs, member, votes, i)
                run = -1
            k = 0
            while bits:
                if bits & 1:
                    counts[i, k] += 1
                bits >>= 1
                k += 1
            p += w
            chars += 1
        if run >= 0:
            _vote(data, run, p, hashes, order, wdata, woffs, member, votes, i)
    return counts, votes


@numba.njit(cache=True, nogil=True)
def _vote(data: np.ndarray, a: int, b: int, hashes: np.ndarray, order: np.ndarray,
          wdata: np.ndarray, woffs: np.ndarray, member: np.ndarray, votes: np.ndarray,
          row: int) -> None:  # pragma: no cover - compiled
    h = _fnv(data, a, b)
    mask = len(hashes) - 1
    k = np.int64(h & np.uint64(mask))
    while order[k] >= 0:
        if hashes[k] == h:
            j = order[k]
            if woffs[j + 1] - woffs[j] == b - a:
                same = True
                for q in range(b - a):
                    if wdata[woffs[j] + q] != data[a + q]:
                        same = False
                        break
                if same:
                    for lang in range(member.shape[1]):
                        votes[row, lang] += member[j, lang]
                    return
        k = (k + 1) & mask
