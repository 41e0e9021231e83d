"""Taking turns on a case file: readers never starve a writer, and a held lock names its holder.

DuckDB lets one process write a file or several read it, never both. Notebooks read with a
connection per query, so a writer (a load, a detect) must find a moment with no reader
connected; three readers polling can leave it none. A turnstile beside the case
(`<case>.turnstile`, an advisory `flock`) gives the writer priority: a writer takes it
exclusively while it waits and while it writes; a reader passes through it (shared, released at
once) before it connects, so once a writer is waiting no new reader gets in, the readers
already connected finish their query, and the writer connects. Readers wait at the turnstile
for at most their own lock timeout.

When the file stays locked, the error names the process that holds it (DuckDB reports its PID;
its command line comes from /proc).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from workbench.errors import CaseLockedError

try:  # POSIX; elsewhere the turnstile is skipped and DuckDB's own lock still holds
    import fcntl
except ImportError:  # pragma: no cover - not on this platform
    fcntl = None  # type: ignore[assignment]

_PID = re.compile(r"\(PID (\d+)\)")
POLL = 0.02
# Turns this process holds, by turnstile path: nested writers (and readers inside a writer) of
# one process share its turn instead of waiting on themselves.
_held: dict[str, int] = {}
_guard = threading.Lock()


def turnstile_path(path: Path) -> Path:
    """The turnstile file of a case file."""
    return path.with_name(path.name + ".turnstile")


@contextlib.contextmanager
def writer_turn(path: Path, timeout: float) -> Iterator[None]:
    """Hold the turnstile exclusively for the block: no new reader connects meanwhile."""
    key = str(turnstile_path(path).resolve())
    with _guard:
        if key in _held:
            _held[key] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return
    fd = _open(path)
    if fd is None:
        yield
        return
    try:
        if not _flock(fd, fcntl.LOCK_EX, time.monotonic() + timeout):
            msg = (f"Case {str(path)!r} is being written by another process; gave up waiting "
                   f"for its turn after {timeout:g}s. Wait for that load or detect to finish, "
                   "then try again.")
            raise CaseLockedError(msg)
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def reader_pass(path: Path, timeout: float) -> None:
    """Pass through the turnstile: wait (bounded) while a writer holds or waits for it."""
    with _guard:
        if str(turnstile_path(path).resolve()) in _held:
            return  # this process is the writer
    fd = _open(path)
    if fd is None:
        return
    try:
        if not _flock(fd, fcntl.LOCK_SH, time.monotonic() + timeout):
            msg = (f"Case {str(path)!r} is being written by another process (a load or a "
                   f"detect); gave up waiting after {timeout:g}s. Try again when it is done.")
            raise CaseLockedError(msg)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open(path: Path) -> int | None:
    if fcntl is None:
        return None
    try:
        return os.open(turnstile_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        try:  # a read-only folder: an existing turnstile can still be waited on
            return os.open(turnstile_path(path), os.O_RDONLY)
        except OSError:
            return None


def _flock(fd: int, kind: int, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)
        except OSError:  # a filesystem without flock: no turnstile
            return True


def holder(error_text: str) -> str:
    """'PID 1234: python -m workbench load …' from DuckDB's lock error, or '' when unknown.

    Example:
        >>> holder('Conflicting lock is held in /usr/bin/python3 (PID 4194304999)')
        'PID 4194304999'
    """
    m = _PID.search(error_text)
    if not m:
        return ""
    pid = m.group(1)
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"PID {pid}"
    cmd = " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
    # the holder's command line is the investigator's own, but keep the line short and plain
    cmd = "".join(ch if ch.isprintable() else "?" for ch in cmd)
    return f"PID {pid}: {cmd[:120]}{'…' if len(cmd) > 120 else ''}"
