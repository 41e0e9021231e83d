"""Shared helpers for the benchmarks: peak memory, the machine, and writing docs/benchmarks.md.

Each benchmark owns one section of docs/benchmarks.md between `<!-- bench:NAME -->` markers and
rewrites only that section, so scripts can run in any order. Figures are ratios against
DuckDB's own plain scan measured in the same run, because this machine is shared and noisy.
"""

from __future__ import annotations

import fcntl
import os
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Every figure here was printed by a script in `bench/`; each script rewrites only its own
section. Times are wall-clock on a shared, noisy machine, so each is given next to a baseline
measured in the same run (DuckDB's own plain scan or read of the same data) and as a ratio to it.
"""


def machine() -> str:
    """One line describing this machine."""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores, {mem_gb:.0f} GiB RAM, {platform.system()} "
            f"{platform.machine()}, Python {platform.python_version()}")


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children) in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run fn once; return (seconds, result)."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def write_section(name: str, body: str) -> None:
    """Replace (or append) this benchmark's section of docs/benchmarks.md, under a file lock."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    with (DOC.parent / ".benchmarks.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOC.read_text() if DOC.exists() else HEADER
        if start in text and end in text:
            before, rest = text.split(start, 1)
            _, after = rest.split(end, 1)
            text = before + block + after
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        DOC.write_text(text)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
