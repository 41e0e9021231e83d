"""Cut JSON that is not one record a line into records, streaming: pretty-printed documents,
a top-level array, several documents one after another, or records nested in a container.

The text is scanned a block at a time with numpy (quotes, escapes, brackets outside strings,
nesting depth) and only the few brackets at the depths that matter are walked in Python, so a
1 GB document is never held in memory: bytes are kept only from the start of the record being
cut. Each *root* (a top-level value, or an element of a top-level array) is either a record
itself or, when it holds values at one of the rule's record paths, a container whose values
at those paths are the records (an OTLP export's spans, a `{"data": [...]}` page of rows).

Anything between records that is not whitespace, a scalar where a record should be, a record
still open at the end of the file, or text after the structure breaks comes out as a record
of its own, so DuckDB quarantines it with its line. A record longer than
`_stream.MAX_RECORD_BYTES` comes out as its head, flagged oversize.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from workbench.loaders import _stream

Path_ = tuple[str, ...]
Wrap = Callable[[dict[Path_, bytes], bytes], bytes]
_LUT = np.zeros(256, np.int8)
_LUT[[123, 91]] = 1  # { [
_LUT[[125, 93]] = -1  # } ]
_LUT[[44, 58]] = 2  # , :
_WS = b" \t\r\n"
KEY_MARGIN = 1 << 16  # bytes kept behind the scan so a key split across blocks can be read


@dataclass(frozen=True)
class Rule:
    """Where the records are inside a root: `records` paths ('*' is any array element);
    `contexts` paths whose values are kept and given, with each record, to `wrap`."""

    records: tuple[Path_, ...] = ()
    contexts: tuple[Path_, ...] = ()
    wrap: Wrap | None = None
    #: the container may come written on one line (the `{"requests": [...]}` document a batch
    #: is created with, as a client sends it): a first line that is such a container is cut too
    one_line: bool = False

    @property
    def depth(self) -> int:
        return max((len(p) for p in self.records + self.contexts), default=0)


def otlp_wrap(ctx: dict[Path_, bytes], span: bytes) -> bytes:
    """One span as a minimal OTLP export request, with its resource and scope."""
    res = ctx.get(("resourceSpans", "*", "resource"))
    scope = ctx.get(("resourceSpans", "*", "scopeSpans", "*", "scope"))
    return (b'{"resourceSpans":[{' + (b'"resource":' + res + b"," if res else b"")
            + b'"scopeSpans":[{' + (b'"scope":' + scope + b"," if scope else b"")
            + b'"spans":[' + span + b"]}]}]}")


DEFAULT = Rule(records=(("data", "*"),))
OTLP = Rule(records=(("resourceSpans", "*", "scopeSpans", "*", "spans", "*"),),
            contexts=(("resourceSpans", "*", "resource"),
                      ("resourceSpans", "*", "scopeSpans", "*", "scope")),
            wrap=otlp_wrap)


@dataclass
class _Frame:
    kind: int  # 123 object, 91 array
    start: int
    line: int
    path: Path_
    root: bool = False
    record: bool = False
    ctx: bool = False
    holds: bool = False  # an array whose elements are records (junk between them reported)
    has_records: bool = False
    key: str | None = None
    elem_start: int = -1
    elem_line: int = 0
    elem_value: bool = False
    head: bytes | None = None  # set when the value grew past MAX_RECORD_BYTES


@dataclass
class _Out:
    lines: list[int] = field(default_factory=list)
    texts: list[bytes] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def add(self, line: int, text: bytes, size: int | None = None) -> None:
        self.lines.append(line)
        self.texts.append(text)
        self.sizes.append(len(text) if size is None else size)


class Splitter:
    """Feed blocks of JSON text; collect records with their first line."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.records = set(rule.records)
        self.contexts = set(rule.contexts)
        self.ctx: dict[Path_, bytes] = {}
        self.buf = bytearray()
        self.base = 0  # absolute offset of buf[0]
        self.pos = 0  # absolute offset of the end of the data fed so far
        self.lines_before = 0  # newlines before self.pos
        self.in_str = False
        self.trailing_bs = 0
        self.depth = 0
        self.stack: list[_Frame] = []
        self.top_array: _Frame | None = None
        self.seen_root = False
        self.started = False
        self.maxd = 0
        self.gap_start = 0
        self.gap_line = 1
        self.broken = False
        self.out = _Out()
        self._nl = np.zeros(0, np.int64)
        self.prev_quotes = np.zeros(0, np.int64)

    # -- helpers -------------------------------------------------------------------------
    def _line(self, p: int) -> int:
        return self.lines_before + int(np.searchsorted(self._nl, p)) + 1

    def _bytes(self, a: int, b: int) -> bytes:
        return bytes(self.buf[a - self.base:b - self.base])

    def _junk(self, a: int, line: int, b: int) -> None:
        raw = self._bytes(a, b)
        text = raw.strip(_WS)
        if text:
            lead = raw[:len(raw) - len(raw.lstrip(_WS))]
            self.out.add(line + lead.count(b"\n"), text)

    def _emit(self, f: _Frame, end: int) -> None:
        if f.head is not None:
            self.out.add(f.line, f.head, end - f.start)
            return
        text = self._bytes(f.start, end)
        if f.record and self.rule.wrap is not None:
            text = self.rule.wrap(self.ctx, text)
        self.out.add(f.line, text)

    def _key(self, colon: int, quotes: np.ndarray) -> str | None:
        quotes = np.concatenate([self.prev_quotes, quotes])  # the key may start a block back
        i = int(np.searchsorted(quotes, colon)) - 1
        if i < 1 or quotes[i - 1] < self.base:
            return None
        raw = self._bytes(int(quotes[i - 1]) + 1, int(quotes[i]))
        try:
            return raw.decode("utf-8") if b"\\" not in raw else None
        except UnicodeDecodeError:
            return None

    # -- the scan ------------------------------------------------------------------------
    def feed(self, block: bytes) -> None:
        """Scan one more block of the stream."""
        if self.broken or not block:
            room = _stream.HEAD_BYTES - (len(self.buf) - (self.gap_start - self.base))
            if room > 0:
                self.buf += block[:room]  # the broken rest: its head is all we keep
            self.pos += len(block)
            return
        if not self.started:
            lead = block.lstrip(_WS)
            if not lead:
                self._advance(block)
                return
            self.started = True
            if lead[:1] == b"[":
                self.maxd = 2 + self.rule.depth
            else:
                self.maxd = 1 + self.rule.depth
        self._advance(block)

    def _advance(self, block: bytes) -> None:
        start = self.pos
        self.buf += block
        a = np.frombuffer(block, np.uint8)
        self._nl = np.flatnonzero(a == 10) + start
        quotes = self._quotes(a, start)
        if self.started:
            self._events(a, start, quotes)
        self.prev_quotes = np.concatenate([self.prev_quotes, quotes])[-2:]
        self.lines_before += len(self._nl)
        self.pos = start + len(block)
        self._nl = np.zeros(0, np.int64)
        self._trim()

    def _quotes(self, a: np.ndarray, start: int) -> np.ndarray:
        q = np.flatnonzero(a == 34)
        if len(q):
            maybe = np.flatnonzero((q > 0) & (a[q - 1] == 92)) if len(q) else q
            esc = np.zeros(len(q), np.bool_)
            for i in maybe.tolist():  # a quote after backslashes: escaped when they are odd
                k, run = int(q[i]) - 1, 0
                while k >= 0 and a[k] == 92:
                    run, k = run + 1, k - 1
                if k < 0:
                    run += self.trailing_bs
                esc[i] = run % 2 == 1
            if q[0] == 0 and self.trailing_bs % 2 == 1:
                esc[0] = True
            q = q[~esc]
        tail = len(a) - len(a.tobytes().rstrip(b"\\")) if len(a) and a[-1] == 92 else 0
        self.trailing_bs = tail + (self.trailing_bs if tail == len(a) else 0)
        return q + start

    def _events(self, a: np.ndarray, start: int, quotes: np.ndarray) -> None:
        cls = _LUT[a]
        cand = np.flatnonzero(cls)
        before = np.searchsorted(quotes, cand + start)
        s = cand[((before + int(self.in_str)) % 2) == 0]  # brackets outside strings
        c = cls[s]
        self.in_str = (int(self.in_str) + len(quotes)) % 2 == 1
        if not len(s):
            return
        delta = np.where(c == 2, 0, c).astype(np.int64)
        after = self.depth + np.cumsum(delta)
        self.depth = int(after[-1])
        stop = int(np.argmax(after < 0)) if int(after.min()) < 0 else -1
        if stop >= 0:
            s, c, after = s[:stop + 1], c[:stop + 1], after[:stop + 1]
        m = self.maxd
        keep = ((c == 1) & (after <= m)) | ((c == -1) & (after + 1 <= m)) | (
            (c == 2) & (after < m))
        if stop >= 0:
            keep[-1] = False
        for p, ch in zip((s[keep] + start).tolist(), a[s[keep]].tolist(), strict=True):
            if ch in (123, 91):
                self._open(p, ch)
            elif ch in (125, 93):
                self._close(p)
            elif ch == 44:
                self._comma(p)
            else:
                self._colon(p, quotes)
        if stop >= 0:
            self._break(int(s[-1]) + start)

    def _open(self, p: int, ch: int) -> None:
        parent = self.stack[-1] if self.stack else None
        line = self._line(p)
        if parent is None or parent is self.top_array:
            if parent is None:
                if ch == 91 and not self.seen_root and \
                        not self._bytes(self.gap_start, p).strip(_WS):
                    self.seen_root = True
                    self.top_array = _Frame(91, p, line, (), holds=True, elem_start=p + 1,
                                            elem_line=line)
                    self.stack.append(self.top_array)
                    return
                self._junk(self.gap_start, self.gap_line, p)
            else:
                self._junk(parent.elem_start, parent.elem_line, p)
                parent.elem_value = True
            self.seen_root = True
            self.stack.append(_Frame(ch, p, line, (), root=True))
            return
        key = "*" if parent.kind == 91 else (parent.key or "")
        path = parent.path + (key,)
        f = _Frame(ch, p, line, path)
        if parent.kind == 91:
            if parent.holds:
                self._junk(parent.elem_start, parent.elem_line, p)
            parent.elem_value = True
        for c in [c for c in self.ctx if len(c) > len(path) and c[:len(path)] == path]:
            del self.ctx[c]  # a new element: the contexts inside the previous one are gone
        if path in self.records:
            f.record = True
            for g in self.stack:
                g.has_records = True
        elif path in self.contexts:
            f.ctx = True
        if ch == 91 and path + ("*",) in self.records:
            f.holds, f.elem_start, f.elem_line = True, p + 1, line
        self.stack.append(f)

    def _close(self, p: int) -> None:
        f = self.stack.pop()
        end = p + 1
        if f.holds and not f.elem_value:
            self._junk(f.elem_start, f.elem_line, p)
        if f is self.top_array:
            self.top_array = None
            self.gap_start, self.gap_line = end, self._line(end)
            return
        if f.record:
            self._emit(f, end)
        elif f.ctx:
            self.ctx[f.path] = self._bytes(f.start, end)
        if f.root:
            if not f.has_records:
                self._emit(f, end)
            if self.top_array is None:
                self.gap_start, self.gap_line = end, self._line(end)

    def _comma(self, p: int) -> None:
        f = self.stack[-1] if self.stack else None
        if f is None:
            return  # a comma between top-level values: reported with the gap
        if f.kind == 91:
            if f.holds and not f.elem_value:
                self._junk(f.elem_start, f.elem_line, p)
            f.elem_start, f.elem_line, f.elem_value = p + 1, self._line(p), False
        else:
            f.key = None

    def _colon(self, p: int, quotes: np.ndarray) -> None:
        f = self.stack[-1] if self.stack else None
        if f is not None and f.kind == 123:
            f.key = self._key(p, quotes)

    def _break(self, p: int) -> None:
        """A closing bracket with nothing open: the rest of the file is one bad record."""
        self.broken = True
        self.stack.clear()
        self.top_array = None
        self._junk(self.gap_start, self.gap_line, p)
        self.gap_start, self.gap_line = p, self._line(p)

    def _trim(self) -> None:
        keep = self.pos - KEY_MARGIN
        if self.broken or not self.stack:
            keep = min(keep, self.gap_start)
        for f in self.stack:
            size = self.pos - f.start
            wanted = f.record or f.ctx or (f.root and not f.has_records)
            if wanted and f.head is None and size > _stream.MAX_RECORD_BYTES:
                f.head = self._bytes(f.start, f.start + _stream.HEAD_BYTES)
            if wanted and f.head is None:
                keep = min(keep, f.start)
            if f.holds and not f.elem_value:
                keep = min(keep, f.elem_start)
        keep = max(keep, self.base)
        if keep > self.base:
            del self.buf[:keep - self.base]
            self.base = keep

    def finish(self) -> None:
        """End of the stream: whatever is still open or unparsed is one record."""
        if self.broken:
            self._tail(self.gap_start, self.gap_line)
            return
        for f in self.stack:
            if f is not self.top_array and (f.record or (f.root and not f.has_records)):
                self._tail(f.start, f.line, f.head)
                return
        if not self.stack:
            self._junk(self.gap_start, self.gap_line, self.pos)
        elif self.top_array is not None and not self.top_array.elem_value:
            self._junk(self.top_array.elem_start, self.top_array.elem_line, self.pos)

    def _tail(self, a: int, line: int, head: bytes | None = None) -> None:
        """The unfinished record from `a` to the end of the stream (its head when long)."""
        if head is None:
            head = self._bytes(max(a, self.base), self.pos)[:_stream.HEAD_BYTES]
        size = self.pos - a
        if head.strip(_WS):
            self.out.add(line, head.strip(_WS) if size <= _stream.HEAD_BYTES else head, size)

    def take(self) -> _Out:
        out, self.out = self.out, _Out()
        return out


def records(path: Path, rule: Rule = DEFAULT,
            on_progress: Callable[[int, int], None] | None = None) -> Iterator[pa.Table]:
    """Yield the records of a JSON file that is not one record a line, in Arrow chunks of
    `_stream.SCHEMA` (`line` is the line where each record starts).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.json"
        >>> _ = p.write_text('[\\n  {"a": 1},\\n  {"a": 2}\\n]\\n')
        >>> t = next(records(p))
        >>> t.column("line").to_pylist(), t.column("text").to_pylist()
        ([2, 3], ['{"a": 1}', '{"a": 2}'])
    """
    stream, raw = _stream.open_bytes(path)
    sp = Splitter(rule)
    error: OSError | None = None
    first = True
    n = 0

    def flush(force: bool) -> Iterator[pa.Table]:
        nonlocal n
        out = sp.out
        if out.texts and (force or len(out.texts) >= _stream.CHUNK_ROWS
                          or sum(map(len, out.texts)) >= _stream.CHUNK_BYTES):
            got = sp.take()
            n += len(got.texts)
            yield _stream.table_of(got.lines, got.texts, got.sizes)
            if on_progress:
                on_progress(raw.tell(), n)

    try:
        while True:
            try:
                block = stream.read(_stream.BLOCK)
            except OSError as exc:
                error = exc
                break
            if not block:
                break
            if first:
                first = False
                block = block[3:] if block.startswith(_stream.BOM) else block
            sp.feed(block)
            yield from flush(False)
        sp.finish()
        yield from flush(True)
    finally:
        stream.close()
        raw.close()
    if error is not None:
        msg = f"cannot decompress past line {sp.lines_before}: {error}"
        raise OSError(msg)


def line_delimited(path: Path, rule: Rule = DEFAULT) -> bool:
    """Whether a JSON file holds one record a line (else it is cut by `records`): it does not
    start with `[`, and one of its first lines is a complete JSON object (not, for a rule whose
    container may be one line, that container), or its first line does not open a
    pretty-printed document (`{` alone, or ending in `{` or `[`)."""
    import json

    head = _stream.head_bytes(path, 1 << 20).lstrip(_WS)
    if head.startswith(b"["):
        return False
    lines = [x.strip() for x in head.split(b"\n")[:40] if x.strip()][:20]
    if not lines:
        return True
    keys = {r[0] for r in rule.records if len(r) == 2 and r[1] == "*"} if rule.one_line else set()
    for line in lines:
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            return not any(isinstance(value.get(k), list) for k in keys)
    return not (lines[0] == b"{" or lines[0].endswith((b"{", b"[")))


def read(path: Path, rule: Rule = DEFAULT,
         on_progress: Callable[[int, int], None] | None = None) -> Iterator[pa.Table]:
    """The records of any JSON file: lines when it is line-delimited, else cut by `rule`."""
    if line_delimited(path, rule):
        return _stream.chunks(path, on_progress)
    return records(path, rule, on_progress)
