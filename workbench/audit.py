"""The case's access log: who ran which query or export, and when.

Every query through `Case.sql` and `Case.execute`, every load, detect, report, indicator export
and Parquet export appends one JSON line to `<case>.audit.jsonl` beside the case file (created
mode 0600, append-only; readers of a read-only case can log too, which a table in the case
could not offer). `workbench audit --db CASE` prints it. An in-memory case keeps no log.
Bound values are not logged, only their names: they are often the very identifiers
(emails, IPs, cards) the log must not spread.
"""

from __future__ import annotations

import getpass
import json
import os
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_QUERY = 4000
_warned: set[str] = set()


def audit_path(path: Path) -> Path:
    """The access log of a case file."""
    return path.with_name(path.name + ".audit.jsonl")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def record(path: Path | None, action: str, **detail: Any) -> None:
    """Append one entry to the case's access log (nothing for an in-memory case).

    A log that cannot be written (a read-only folder) warns once and does not stop the work.

    Example:
        >>> record(None, "sql", query="select 1")   # in memory: nothing to log
    """
    if path is None:
        return
    entry = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "user": _user(),
             "pid": os.getpid(), "action": action, **detail}
    if isinstance(entry.get("query"), str) and len(entry["query"]) > MAX_QUERY:
        entry["query"] = entry["query"][:MAX_QUERY] + "…"
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    target = audit_path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        if str(target) not in _warned:
            _warned.add(str(target))
            warnings.warn(f"Cannot write the access log {str(target)!r}: {exc.strerror}.",
                          stacklevel=2)


def read(path: Path) -> list[dict[str, Any]]:
    """The access log's entries, oldest first (a line that does not parse is reported as such)."""
    target = audit_path(path)
    if not target.exists():
        return []
    out = []
    for n, text in enumerate(target.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not text.strip():
            continue
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError:
            out.append({"ts": "", "user": "", "action": "unreadable", "line": n})
    return out
