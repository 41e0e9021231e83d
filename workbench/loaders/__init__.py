"""Load log files into a case: format detection, one atomic transaction, per-file accounting.

Each input file is recognised by its content (`format=` forces a loader), streamed in chunks
into DuckDB, validated there, and committed with every other file of the same call in one
transaction: a load killed half-way leaves the case exactly as it was. Each file gets its own
`load_batches` row with `rows_read = rows_loaded + rows_quarantined + rows_duplicate`; a file
whose bytes were loaded before (same SHA-256, same target) is skipped and adds nothing.
"""

from __future__ import annotations

import glob
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import LoadError, unknown
from workbench.loaders import _stream
from workbench.loaders._commit import Counts, commit_stage, first, run
from workbench.loaders.bodies import install_macros
from workbench.schema import TABLES

if TYPE_CHECKING:
    import duckdb

    from workbench.case import Case

# format name -> (module in this package, target table)
FORMATS: dict[str, tuple[str, str]] = {
    "native": ("native", "requests"),
    "litellm": ("litellm", "requests"),
    "otel": ("otel", "requests"),
    "canonical_csv": ("canonical", "requests"),
    "canonical_parquet": ("canonical", "requests"),
    "accounts": ("reference", "accounts"),
    "releases": ("reference", "model_releases"),
}
LOG_FORMATS = ("native", "litellm", "otel", "canonical_csv", "canonical_parquet")
PROGRESS_AFTER = float(os.environ.get("WORKBENCH_PROGRESS_AFTER", "2"))  # seconds before progress
LOAD_MEMORY_LIMIT = "1GB"


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    format: str
    target: str
    batch_id: int | None
    counts: Counts = field(default_factory=Counts)
    skipped: str | None = None  # why nothing was loaded (e.g. the same bytes loaded before)


@dataclass
class LoadReport:
    """The outcome of one `load`: one FileReport per file, and totals.

    `read == loaded + quarantined + duplicate` holds for every file and for the totals.
    """

    files: list[FileReport] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(f.counts, name) for f in self.files)

    @property
    def read(self) -> int:
        return self._sum("read")

    @property
    def loaded(self) -> int:
        return self._sum("loaded")

    @property
    def quarantined(self) -> int:
        return self._sum("quarantined")

    @property
    def duplicate(self) -> int:
        return self._sum("duplicate")

    def __str__(self) -> str:
        lines = []
        for f in self.files:
            if f.skipped:
                lines.append(f"{f.path}: skipped, {f.skipped}")
                continue
            c = f.counts
            lines.append(f"{f.path} [{f.format} -> {f.target}]: read {c.read}, loaded {c.loaded}, "
                         f"quarantined {c.quarantined}, duplicate {c.duplicate}")
        lines.append(f"total: read {self.read}, loaded {self.loaded}, "
                     f"quarantined {self.quarantined}, duplicate {self.duplicate}")
        return "\n".join(lines)


def expand(paths: Any) -> list[Path]:
    """Files named by `paths`: a path, a glob, a folder (searched recursively, e.g. a
    hive-partitioned export) or a list of those. A name that matches nothing is an error."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        s = os.fspath(p)
        if any(ch in s for ch in "*?["):
            found = sorted(Path(m) for m in glob.glob(s, recursive=True)  # noqa: PTH207
                           if Path(m).is_file())
        elif Path(s).is_dir():
            found = sorted(f for f in Path(s).rglob("*")
                           if f.is_file() and not f.name.startswith((".", "_")))
        elif Path(s).is_file():
            found = [Path(s)]
        else:
            msg = f"Input {s!r} does not exist. Check the path (globs like 'logs/*.jsonl.gz' work)."
            raise LoadError(msg)
        if not found:
            msg = f"Input {s!r} matches no files. Check the pattern or folder."
            raise LoadError(msg)
        out.extend(found)
    return out


def detect_format(path: Path) -> str:
    """Name the loader for a file from its content (not its name).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
        >>> _ = p.write_text('{"request_id": "r1", "timestamp": 0}\\n')
        >>> detect_format(p)
        'native'
    """
    with path.open("rb") as f:
        if f.read(4) == b"PAR1":
            return "canonical_parquet"
    head = _stream.head_text(path).lstrip("\ufeff \t\r\n")
    if head.startswith(("{", "[")):
        if '"resourceSpans"' in head:
            return "otel"
        if '"startTime"' in head and ('"spend"' in head or '"call_type"' in head
                                      or '"api_key"' in head):
            return "litellm"
        if '"payment_fingerprint"' in head or '"signup_path"' in head:
            return "accounts"
        return "native"
    header = {h.strip().strip('"').lower() for h in head.split("\n", 1)[0].split(",")}
    if {"request_id", "starttime"} <= header:
        return "litellm"
    if {"model", "released_at"} <= header:
        return "releases"
    if "account_id" in header and ({"payment_fingerprint", "signup_path"} & header):
        return "accounts"
    if {"request_id", "ts"} <= header:
        return "canonical_csv"
    msg = (f"Cannot tell the format of {str(path)!r} from its content. Give --format; known "
           f"formats: {', '.join(sorted(FORMATS))}.")
    raise LoadError(msg)


def _check_format(name: str) -> str:
    if name not in FORMATS:
        err = unknown("format", name, FORMATS)
        raise err
    return name


def _next_batch(con: duckdb.DuckDBPyConnection) -> int:
    row = first(con, "select coalesce(max(batch_id), 0) + 1 from load_batches")
    return int(row[0]) if row else 1


def _printer(name: str, size: int, enabled: bool) -> Callable[[int, int], None] | None:
    if not enabled:
        return None
    start = time.monotonic()

    def show(done: int, records: int) -> None:
        if time.monotonic() - start < PROGRESS_AFTER:
            return
        pct = f"{100 * done / size:.0f}%" if size else "?"
        print(f"\rloading {name}: {records:,} lines, {pct}", end="", file=sys.stderr, flush=True)

    return show


def _stage_iter(con: duckdb.DuckDBPyConnection, fmt: str, path: Path,
                show: Callable[[int, int], None] | None) -> Iterator[None]:
    module = importlib.import_module(f"workbench.loaders.{FORMATS[fmt][0]}")
    result: Iterator[None] = module.stage(con, path, show) if fmt not in (
        "accounts", "releases") else module.stage(con, path, show, kind=fmt)
    return result


def _load_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, progress: bool,
               seen: dict[tuple[str, str], int]) -> FileReport:
    target = FORMATS[fmt][1]
    digest = _stream.sha256(path)
    prior = first(con, "select batch_id from load_batches where file_sha256 = $h and "
                        "target = $t limit 1", {"h": digest, "t": target})
    if prior or (digest, target) in seen:
        bid = prior[0] if prior else seen[(digest, target)]
        return FileReport(str(path), fmt, target, None,
                          skipped=f"the same bytes were loaded before (batch {bid})")
    batch = _next_batch(con)
    seen[(digest, target)] = batch
    started = time.time()
    report = FileReport(str(path), fmt, target, batch)
    show = _printer(path.name, path.stat().st_size, progress)
    for _ in _stage_iter(con, fmt, path, show):
        report.counts.add(commit_stage(con, TABLES[target], batch, str(path)))
    if show is not None and time.time() - started >= PROGRESS_AFTER:
        print(file=sys.stderr)
    c = report.counts
    run(con, "insert into load_batches values ($b, $f, $fmt, $t, $h, to_timestamp($s), "
                "to_timestamp($e), $r, $l, $q, $d)",
                {"b": batch, "f": str(path), "fmt": fmt, "t": target, "h": digest,
                 "s": started, "e": time.time(), "r": c.read, "l": c.loaded, "q": c.quarantined,
                 "d": c.duplicate})
    return report


def load(case: Case, paths: Any, *, format: str | None = None,
         accounts: str | os.PathLike[str] | Iterable[Any] | None = None,
         releases: str | os.PathLike[str] | Iterable[Any] | None = None,
         progress: bool = True) -> LoadReport:
    """Load log files (and optionally account records and model releases) in one transaction.

    Args:
        case: The case to load into (opened for writing).
        paths: A file, glob, folder, or list of them; may be empty when only `accounts` or
            `releases` are given.
        format: Force one loader for all `paths` instead of detecting each file's format.
        accounts: Account records, CSV or JSONL (columns of the `accounts` table).
        releases: Model releases CSV (`model`, `released_at`).
        progress: Print progress on stderr for loads that take more than a few seconds.

    Returns:
        A LoadReport with per-file counts.

    Example:
        >>> import workbench as wb
        >>> load(wb.open(), [], progress=False).read
        0
    """
    if format is not None:
        _check_format(format)
    plan = [(p, format or detect_format(p)) for p in expand(paths or [])]
    plan += [(p, "accounts") for p in (expand(accounts) if accounts else [])]
    plan += [(p, "releases") for p in (expand(releases) if releases else [])]
    report = LoadReport()
    with case.connect(write=True) as con:
        if case.path is not None and not os.environ.get("WORKBENCH_MEMORY_LIMIT"):
            run(con, f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
        run(con, "SET preserve_insertion_order = true")
        install_macros(con)
        seen: dict[tuple[str, str], int] = {}
        run(con, "BEGIN TRANSACTION")
        try:
            for path, fmt in plan:
                report.files.append(_load_file(con, path, fmt, progress, seen))
            run(con, "COMMIT")
        except BaseException:
            run(con, "ROLLBACK")
            raise
    return report


def info(case: Case) -> dict[str, Any]:
    """Tables with row counts, the time span of the requests, batches and quarantine by reason.

    Example:
        >>> import workbench as wb
        >>> info(wb.open())["tables"]["requests"]
        0
    """
    with case.connect() as con:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        tables = {}
        for t in TABLES:
            if t in names:
                row = first(con, f'select count(*) from "{t}"')
                tables[t] = int(row[0]) if row else 0
        span = first(con, "select min(ts), max(ts) from requests") or (None, None)
        reasons = con.execute("select reason, count(*) from quarantine group by 1 "
                              "order by 2 desc, 1").fetchall()
        batches = first(con, "select count(*), count(distinct source_file) "
                        "from load_batches") or (0, 0)
    return {
        "path": str(case.path) if case.path else ":memory:",
        "tables": tables,
        "first_request": span[0],
        "last_request": span[1],
        "load_batches": int(batches[0]),
        "files_loaded": int(batches[1]),
        "quarantine": {r: int(n) for r, n in reasons},
    }
