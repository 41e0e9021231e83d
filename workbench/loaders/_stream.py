"""Streaming input: open plain, .gz or .zst files and hand out lines in Arrow chunks.

A file is never read whole into Python memory: it is decompressed in blocks, split on newlines
and passed to DuckDB a chunk at a time as an Arrow table of (line, text, nbytes, utf8_ok).
Lines that are not valid UTF-8 keep a visible, escaped copy of their bytes so that quarantine
can show them; DuckDB then does all the JSON work.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import numpy as np
import pyarrow as pa

BLOCK = 8 << 20
CHUNK_ROWS = int(os.environ.get("WORKBENCH_LOAD_CHUNK_ROWS", "20000"))
CHUNK_BYTES = 32 << 20
T = TypeVar("T")
SCHEMA = pa.schema([("line", pa.int64()), ("text", pa.string()), ("nbytes", pa.int64()),
                    ("utf8_ok", pa.bool_())])


def compression(path: Path) -> str | None:
    """'gzip', 'zstd' or None, from the file's magic bytes (not its name)."""
    with path.open("rb") as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


class _Gunzip(io.RawIOBase):
    """Streaming gunzip that hands out every byte it could decompress before damage, and
    handles multi-member files (gzip.GzipFile raises before returning a truncated tail)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._z = zlib.decompressobj(wbits=31)
        self._buf = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = size if size and size > 0 else 1 << 62
        while len(self._buf) < want and not self._done:
            block = self._raw.read(1 << 20)
            if not block:
                self._done = True
                break
            while block:
                self._buf += self._z.decompress(block)
                block = b""
                if self._z.eof and self._z.unused_data:
                    block = self._z.unused_data
                    self._z = zlib.decompressobj(wbits=31)
        out, self._buf = self._buf[:want], self._buf[want:]
        if not out and self._done and not self._z.eof:
            msg = "compressed file is truncated"
            raise EOFError(msg)
        return out


def open_bytes(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """(decompressed stream, underlying raw file): the raw file's position drives progress."""
    raw = path.open("rb")
    kind = compression(path)
    if kind == "gzip":
        return cast(IO[bytes], _Gunzip(raw)), raw
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 20), raw
    return raw, raw


def head_text(path: Path, limit: int = 64 << 10) -> str:
    """The first `limit` decompressed bytes as text (for format detection)."""
    stream, raw = open_bytes(path)
    data = b""
    try:
        while len(data) < limit:
            piece = stream.read(min(8192, limit - len(data)))
            if not piece:
                break
            data += piece
    except (OSError, EOFError, ValueError):
        pass  # a damaged file: detect from what could be read; the load reports the damage
    finally:
        stream.close()
        raw.close()
    return data.decode("utf-8", errors="replace")


def sha256(path: Path) -> str:
    """SHA-256 of the file's bytes as stored, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def _table(first_line: int, lines: list[bytes]) -> pa.Table:
    arr = pa.array(lines, pa.binary())
    n = len(lines)
    try:
        text = arr.cast(pa.string())
        ok = pa.array([True] * n, pa.bool_())
    except pa.ArrowInvalid:
        decoded, flags = [], []
        for b in lines:
            try:
                decoded.append(b.decode("utf-8"))
                flags.append(True)
            except UnicodeDecodeError:
                # Keep the bytes visible (\xff) so the quarantined record can be inspected.
                decoded.append(b.decode("utf-8", errors="backslashreplace"))
                flags.append(False)
        text, ok = pa.array(decoded, pa.string()), pa.array(flags, pa.bool_())
    nbytes = pa.compute.binary_length(arr).cast(pa.int64())
    line = pa.array(range(first_line, first_line + n), pa.int64())
    return pa.Table.from_arrays([line, text, nbytes, ok], schema=SCHEMA)


def _tables(first_line: int, buf: bytes) -> Iterator[pa.Table]:
    """Tables of at most CHUNK_ROWS lines from `buf`, complete lines each ending in a newline.

    The lines are cut out with numpy (newline positions, a trailing CR dropped) and the Arrow
    array is built straight from the buffer, without a Python object per line."""
    a = np.frombuffer(buf, np.uint8)
    nl = np.flatnonzero(a == 10)
    n = len(nl)
    starts = np.zeros(n, np.int64)
    starts[1:] = nl[:-1] + 1
    cr = (nl > starts) & (a[nl - 1] == 13)
    keep = np.ones(len(a), np.bool_)
    keep[nl] = False
    keep[nl[cr] - 1] = False
    data = a[keep]
    removed = np.arange(n, dtype=np.int64)  # bytes dropped before each line start
    removed[1:] += np.cumsum(cr)[:-1]
    off = np.empty(n + 1, np.int64)
    off[:n] = starts - removed
    off[n] = len(data)
    for i in range(0, n, CHUNK_ROWS):
        j = min(i + CHUNK_ROWS, n)
        if off[j] - off[i] >= 2**31:  # too big for 32-bit offsets: one Python object a line
            lines = [data[off[k]:off[k + 1]].tobytes() for k in range(i, j)]
            yield _table(first_line + i, lines)
            continue
        offsets = pa.py_buffer((off[i:j + 1] - off[i]).astype(np.int32))
        arr = pa.Array.from_buffers(pa.binary(), j - i,
                                    [None, offsets, pa.py_buffer(data[off[i]:off[j]])])
        try:
            text = arr.cast(pa.string())
        except pa.ArrowInvalid:
            yield _table(first_line + i, arr.to_pylist())
            continue
        yield pa.Table.from_arrays([
            pa.array(np.arange(first_line + i, first_line + j, dtype=np.int64)), text,
            pa.array(np.diff(off[i:j + 1])), pa.array(np.ones(j - i, np.bool_))],
            schema=SCHEMA)


def chunks(path: Path, on_progress: Callable[[int, int], None] | None = None
           ) -> Iterator[pa.Table]:
    """Yield the file's lines (1-based numbers, newline and trailing CR removed) in chunks.

    A decompression error ends the stream with OSError after every complete line read before it.
    `on_progress(bytes_done, lines_done)` is called after each chunk.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
        >>> _ = p.write_bytes(b'{"a": 1}\\r\\n\\xff\\n')
        >>> t = next(chunks(p))
        >>> t.column("utf8_ok").to_pylist(), t.column("nbytes").to_pylist()
        ([True, False], [8, 1])
    """
    import pyarrow.compute  # noqa: F401  (binds pa.compute)

    stream, raw = open_bytes(path)
    line_no = 1
    pending: list[bytes] = []  # blocks of complete lines, each ending in a newline
    pending_lines = 0
    pending_bytes = 0
    tail = b""
    error: Exception | None = None

    def flush() -> Iterator[pa.Table]:
        nonlocal line_no, pending, pending_lines, pending_bytes
        buf = b"".join(pending)
        pending, pending_lines, pending_bytes = [], 0, 0
        for tbl in _tables(line_no, buf):
            line_no += tbl.num_rows
            yield tbl
            if on_progress:
                on_progress(raw.tell(), line_no - 1)

    try:
        while True:
            try:
                block = stream.read(BLOCK)
            except (OSError, EOFError, ValueError) as exc:  # truncated or corrupt compression
                error = exc
                break
            if not block:
                break
            block = tail + block
            cut = block.rfind(b"\n") + 1
            tail = block[cut:]
            if cut:
                n = block.count(b"\n", 0, cut)
                pending.append(block[:cut])
                pending_lines += n
                pending_bytes += cut - n  # line bytes, newlines not counted
            if pending_lines >= CHUNK_ROWS or pending_bytes >= CHUNK_BYTES:
                yield from flush()
        if tail:
            pending.append(tail + b"\n")
        if pending:
            yield from flush()
    finally:
        stream.close()
        raw.close()
    if error is not None:
        msg = f"cannot decompress past line {line_no - 1}: {error}"
        raise OSError(msg)


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield from `items`, computing the next item in a background thread meanwhile.

    Splitting lines in Python then overlaps with DuckDB working on the previous chunk (DuckDB
    releases the GIL). Exceptions from `items` are re-raised here, in order; when the consumer
    stops early the thread is told to stop and joined.

    Example:
        >>> list(prefetch(iter(range(3))))
        [0, 1, 2]
    """
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            q.put(("error", exc))

    thread = threading.Thread(target=work, name="wb-load-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def read_text(path: Path) -> io.StringIO:
    """Whole decompressed text of a small file (accounts, releases), UTF-8 with replacement."""
    stream, raw = open_bytes(path)
    try:
        return io.StringIO(stream.read().decode("utf-8", errors="replace"))
    finally:
        stream.close()
        raw.close()
