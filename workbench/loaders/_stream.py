"""Streaming input: open plain, .gz or .zst files and hand out records in Arrow chunks.

A file is never read whole into Python memory: it is decompressed in blocks, cut into records
(lines here, JSON values in `_split`) and passed to DuckDB a chunk at a time as an Arrow table
of (line, text, nbytes, utf8_ok, oversize), numbered by `numbered` for staging. Lines that are
not valid UTF-8 keep a visible, escaped copy of their bytes so that quarantine can show them; a
record longer than `MAX_RECORD_BYTES` keeps only its head and is flagged, so one huge record
cannot exhaust the load's memory; DuckDB then does all the JSON work.

Damaged compression never passes for the end of the file: a truncated or corrupt gzip or zstd
stream, or bytes after the last gzip member that are not NUL padding, end the stream with an
`OSError` after every complete record read before the damage.
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
CHUNK_BYTES = 48 << 20
BATCH_ROWS = 2048  # rows per Arrow record batch: DuckDB scans batches in parallel
MAX_RECORD_BYTES = int(os.environ.get("WORKBENCH_MAX_RECORD_BYTES", str(64 << 20)))
HEAD_BYTES = 65_536  # bytes of an oversize record kept (quarantine.raw keeps as many chars)
BOM = b"\xef\xbb\xbf"
T = TypeVar("T")
SCHEMA = pa.schema([("line", pa.int64()), ("text", pa.string()), ("nbytes", pa.int64()),
                    ("utf8_ok", pa.bool_()), ("oversize", pa.bool_())])
# A chunk as the staging queries read it: `seq` numbers the file's records in order, one each,
# where `line` is shared by the records cut from one line (a JSON array written on one line).
NUMBERED = SCHEMA.append(pa.field("seq", pa.int64()))


def compression(path: Path) -> str | None:
    """'gzip', 'zstd' or None, from the file's magic bytes (not its name)."""
    with path.open("rb") as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


class _Damage(Exception):
    """Internal: the compressed stream is damaged (the OSError is kept on the stream)."""


class _Inflate(io.RawIOBase):
    """Streaming decompression of concatenated members (gzip) or frames (zstd) that hands out
    every byte it could decompress before damage, then raises OSError naming the damage.

    NUL bytes after the last complete member are padding (as `gzip -t` accepts them) and end
    the stream quietly; any other trailing bytes are reported.
    """

    STEP = 1 << 14

    def __init__(self, raw: IO[bytes], kind: str) -> None:
        self._raw = raw
        self._kind = kind
        self._z: Any = self._new()
        self._started = False  # the current member has consumed input
        self._buf = b""
        self._done = False
        self._consumed = 0
        self._stash = b""
        self._error: OSError | None = None

    def _new(self) -> Any:
        if self._kind == "gzip":
            return zlib.decompressobj(wbits=31)
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()

    def readable(self) -> bool:
        return True

    def _fail(self, what: str) -> None:
        # Raised by read() once every byte decompressed before the damage was handed out.
        self._done = True
        msg = f"{self._kind} data {what} (at compressed byte {self._consumed:,})"
        self._error = OSError(msg)
        raise _Damage

    def _feed(self, block: bytes, final: bool = False) -> None:
        block = self._stash + block
        self._stash = b""
        magic = b"\x1f\x8b" if self._kind == "gzip" else b"\x28\xb5\x2f\xfd"
        while block:
            if not self._started:
                if block.strip(b"\x00") == b"":
                    self._consumed += len(block)
                    return  # NUL padding after a complete member
                if len(block) < len(magic) and not final:
                    self._stash = block  # a member's magic cut by the read: wait for more
                    return
                if not block.startswith(magic):
                    self._fail("is followed by bytes that are not " + self._kind)
            self._started = True
            # Small steps: a decompressor that fails returns nothing of the step it failed in.
            piece, block = block[:self.STEP], block[self.STEP:]
            try:
                self._buf += self._z.decompress(piece)
            except Exception as exc:  # zlib.error, zstandard.ZstdError
                self._fail(f"is corrupt: {exc}")
            if self._z.eof:  # member complete: what it did not use starts the next one
                rest = self._z.unused_data
                self._consumed += len(piece) - len(rest)
                block = rest + block
                self._z = self._new()
                self._started = False
            else:
                self._consumed += len(piece)

    def read(self, size: int = -1) -> bytes:
        want = size if size and size > 0 else 1 << 62
        try:
            while len(self._buf) < want and not self._done:
                block = self._raw.read(1 << 20)
                if not block:
                    self._done = True
                    if self._stash:
                        self._feed(b"", final=True)
                    if self._started:
                        self._fail("is truncated: the last member ends early")
                    break
                self._feed(block)
        except _Damage:
            pass
        if not self._buf and self._error is not None:
            raise self._error
        out, self._buf = self._buf[:want], self._buf[want:]
        return out


def open_bytes(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """(decompressed stream, underlying raw file): the raw file's position drives progress."""
    raw = path.open("rb")
    kind = compression(path)
    if kind is not None:
        return cast(IO[bytes], _Inflate(raw, kind)), raw
    return raw, raw


def head_bytes(path: Path, limit: int = 64 << 10) -> bytes:
    """The first `limit` decompressed bytes (for format detection), BOM removed."""
    stream, raw = open_bytes(path)
    data = b""
    try:
        while len(data) < limit:
            piece = stream.read(min(1 << 16, limit - len(data)))
            if not piece:
                break
            data += piece
    except (OSError, EOFError, ValueError):
        pass  # a damaged file: detect from what could be read; the load reports the damage
    finally:
        stream.close()
        raw.close()
    return data[3:] if data.startswith(BOM) else data


def head_text(path: Path, limit: int = 64 << 10) -> str:
    """The first `limit` decompressed bytes as text (for format detection)."""
    return head_bytes(path, limit).decode("utf-8", errors="replace")


def sha256(path: Path) -> str:
    """SHA-256 of the file's bytes as stored, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def numbered(tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """The chunks with `seq` (NUMBERED): the record's place in the file, from 1, never shared.

    The duplicate check orders a key's occurrences by it, so it must tell apart the records of
    one line, which `line` does not.

    Example:
        >>> t = table_of([1, 1, 2], [b"{}", b"{}", b"{}"])
        >>> [c.column("seq").to_pylist() for c in numbered(iter([t, t]))]
        [[1, 2, 3], [4, 5, 6]]
    """
    done = 0
    for t in tables:
        seq = np.arange(done + 1, done + t.num_rows + 1, dtype=np.int64)
        done += t.num_rows
        # Cut like the other columns, so the table keeps its record batches (BATCH_ROWS).
        cuts = np.cumsum([len(c) for c in t.column(0).chunks])[:-1]
        pieces = [pa.array(a) for a in np.split(seq, cuts)] if t.num_rows else []
        yield t.append_column(NUMBERED.field("seq"), pa.chunked_array(pieces, pa.int64()))


def _batched(table: pa.Table) -> pa.Table:
    return pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), schema=SCHEMA)


def table_of(first_line: int | list[int], records: list[bytes],
             sizes: list[int] | None = None) -> pa.Table:
    """An Arrow chunk from record bytes, one Python object a record (the slow, general path).

    `first_line` is the line of the first record (then one a line) or every record's line;
    `sizes` gives each record's full size when a record was cut to its head (oversize)."""
    n = len(records)
    lines = (list(range(first_line, first_line + n)) if isinstance(first_line, int)
             else first_line)
    nbytes = sizes if sizes is not None else [len(b) for b in records]
    decoded, flags, over = [], [], []
    for b, size in zip(records, nbytes, strict=True):
        big = size > MAX_RECORD_BYTES
        b = b[:HEAD_BYTES] if big else b
        try:
            decoded.append(b.decode("utf-8"))
            flags.append(True)
        except UnicodeDecodeError:
            if big:  # the head may end inside a character
                decoded.append(b.decode("utf-8", errors="replace"))
                flags.append(True)
            else:
                # Keep the bytes visible (\xff) so the quarantined record can be inspected.
                decoded.append(b.decode("utf-8", errors="backslashreplace"))
                flags.append(False)
        over.append(big)
    return _batched(pa.Table.from_arrays([
        pa.array(lines, pa.int64()), pa.array(decoded, pa.string()), pa.array(nbytes, pa.int64()),
        pa.array(flags, pa.bool_()), pa.array(over, pa.bool_())], schema=SCHEMA))


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
    if cr.any():
        keep = np.ones(len(a), np.bool_)
        keep[nl] = False
        keep[nl[cr] - 1] = False
        data = a[keep]
        removed = np.arange(n, dtype=np.int64)  # bytes dropped before each line start
        removed[1:] += np.cumsum(cr)[:-1]
    else:  # no CR: bytes.replace drops the newlines (memchr speed, no boolean mask over the text)
        data = np.frombuffer(buf.replace(b"\n", b""), np.uint8)
        removed = np.arange(n, dtype=np.int64)
    off = np.empty(n + 1, np.int64)
    off[:n] = starts - removed
    off[n] = len(data)
    sizes = np.diff(off)
    for i in range(0, n, CHUNK_ROWS):
        j = min(i + CHUNK_ROWS, n)
        big = bool((sizes[i:j] > MAX_RECORD_BYTES).any())
        if big or off[j] - off[i] >= 2**31:  # oversize records or 32-bit offsets overflow
            recs = [data[off[k]:off[k] + min(int(sizes[k]), HEAD_BYTES if
                                               sizes[k] > MAX_RECORD_BYTES else int(sizes[k]))]
                    .tobytes() for k in range(i, j)]
            yield table_of(first_line + i, recs, [int(s) for s in sizes[i:j]])
            continue
        offsets = pa.py_buffer((off[i:j + 1] - off[i]).astype(np.int32))
        arr = pa.Array.from_buffers(pa.binary(), j - i,
                                    [None, offsets, pa.py_buffer(data[off[i]:off[j]])])
        try:
            text = arr.cast(pa.string())
        except pa.ArrowInvalid:
            yield table_of(first_line + i, arr.to_pylist())
            continue
        yield _batched(pa.Table.from_arrays([
            pa.array(np.arange(first_line + i, first_line + j, dtype=np.int64)), text,
            pa.array(sizes[i:j]), pa.array(np.ones(j - i, np.bool_)),
            pa.array(np.zeros(j - i, np.bool_))], schema=SCHEMA))


def chunks(path: Path, on_progress: Callable[[int, int], None] | None = None
           ) -> Iterator[pa.Table]:
    """Yield the file's lines (1-based numbers, newline and trailing CR removed) in chunks.

    A UTF-8 byte order mark at the start of the file is dropped. A decompression error ends
    the stream with OSError after every complete line read before it. `on_progress(bytes_done,
    lines_done)` is called after each chunk.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
        >>> _ = p.write_bytes(b'\\xef\\xbb\\xbf{"a": 1}\\r\\n\\xff\\n')
        >>> t = next(chunks(p))
        >>> t.column("utf8_ok").to_pylist(), t.column("nbytes").to_pylist()
        ([True, False], [8, 1])
    """
    stream, raw = open_bytes(path)
    line_no = 1
    pending: list[bytes | memoryview] = []  # pieces of complete lines, ending in a newline
    pending_lines = 0
    pending_bytes = 0
    tail = b""
    error: Exception | None = None
    first = True

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
            if first:
                first = False
                if block.startswith(BOM):
                    block = block[3:]
            cut = block.rfind(b"\n") + 1
            if cut:  # the lines the block completes: the tail before it, then its own part
                n = block.count(b"\n", 0, cut)
                # A view, not a copy: the lines are copied once, by flush's join.
                pending += [tail, memoryview(block)[:cut]]
                pending_lines += n
                pending_bytes += len(tail) + cut - n  # line bytes, newlines not counted
                tail = block[cut:]
            else:
                tail += block
            if pending_lines >= CHUNK_ROWS or pending_bytes >= CHUNK_BYTES:
                yield from flush()
            elif len(tail) > MAX_RECORD_BYTES:  # one endless line: keep its head, skip the rest
                yield from flush()
                size, head = len(tail), tail[:HEAD_BYTES]
                tail = b""
                size += _skip_line(stream)
                yield table_of(line_no, [head], [size])
                line_no += 1
        if tail:
            pending.append(tail + b"\n")
        if pending:
            yield from flush()
    except OSError as exc:
        error = exc
    finally:
        stream.close()
        raw.close()
    if error is not None:
        msg = f"cannot decompress past line {line_no - 1}: {error}"
        raise OSError(msg)


def _skip_line(stream: IO[bytes]) -> int:
    """Skip to just past the next newline of `stream`; return the bytes skipped (newline not
    counted). Used for a line longer than MAX_RECORD_BYTES, whose head alone is kept."""
    skipped = 0
    while True:
        block = stream.read(BLOCK)
        if not block:
            return skipped
        cut = block.find(b"\n")
        if cut >= 0:
            # Put the rest back in front of the stream: callers read through a buffer.
            _unread(stream, block[cut + 1:])
            return skipped + cut
        skipped += len(block)


def _unread(stream: IO[bytes], data: bytes) -> None:
    # Our decompressing streams keep a buffer; plain files are seeked back.
    if isinstance(stream, _Inflate):
        stream._buf = data + stream._buf
    elif data:
        stream.seek(-len(data), io.SEEK_CUR)


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
