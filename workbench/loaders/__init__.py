"""Load log files into a case: format detection, one atomic transaction, per-file accounting.

Each input file is recognised by its content (`format=` forces a loader), streamed in chunks
into DuckDB, validated there, and committed with every other file of the same call in one
transaction: a load killed half-way leaves the case exactly as it was. Each file gets its own
`load_batches` row with `rows_read = rows_loaded + rows_quarantined + rows_duplicate`; a file
whose bytes were loaded before (same SHA-256, same target) is skipped and adds nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from workbench.errors import LoadError, did_you_mean, unknown
from workbench.loaders import _opts, _stream, batch
from workbench.loaders._commit import (
    Counts,
    KeySet,
    commit_stage,
    first,
    run,
    staged_row_bytes,
)
from workbench.loaders.bodies import install_macros
from workbench.loaders.detect import FORMATS, check_format, detect_format, expand, is_empty
from workbench.schema import TABLES

if TYPE_CHECKING:
    from workbench.case import Case

__all__ = ["FORMATS", "FileReport", "LoadReport", "detect_format", "expand", "info", "load"]

LOG_FORMATS = tuple(f for f, (_, t) in FORMATS.items() if t == "requests")
PROGRESS_AFTER = float(os.environ.get("WORKBENCH_PROGRESS_AFTER", "2"))  # seconds before progress
LOAD_MEMORY_LIMIT = "1GB"
# Rows not yet committed wait in the open row group of `requests` and of `request_content`
# (122,880 rows each) until it fills and is compressed to the file. When wide records (long
# prompts and outputs) make those row groups larger than the memory limit, DuckDB spills them
# to `<case>.tmp` and reads them back, which cost a fifth of a 200k-record load (3.4 GB
# written for a 0.9 GB case); so the limit grows to hold them, up to this bound.
LOAD_MEMORY_MAX = 2 << 30
ROW_GROUP_ROWS = 122_880
NOTE_FIELDS = 8  # ignored field names listed in a file's summary


def _known_fields(fmt: str) -> list[str]:
    """Field names a format understands (for "did you mean" on an ignored field)."""
    from workbench.loaders import envelope, litellm, otel

    if fmt == "native":
        return list(envelope.NAMES)
    if fmt == "litellm":
        return list(litellm.SPENDLOGS_COLUMNS)
    if fmt == "litellm_payload":
        return list(litellm.PAYLOAD_FIELDS)
    if fmt == "otel":
        return sorted({n for names in otel.ATTRS.values() for n in names})
    return list(batch.KNOWN.get(fmt, ()))


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    format: str
    target: str
    batch_id: int | None
    counts: Counts = field(default_factory=Counts)
    skipped: str | None = None  # why nothing was loaded (e.g. the same bytes loaded before)

    @property
    def notes(self) -> list[str]:
        """What the summary says beyond the counts: fields not understood, no text or tokens
        kept, records without an account."""
        c, out = self.counts, []
        if c.unknown:
            known = _known_fields(self.format)
            names = sorted(c.unknown, key=lambda k: (-c.unknown[k], k))
            shown = []
            for k in names[:NOTE_FIELDS]:
                close = did_you_mean(k, known)
                hint = f"; did you mean {close[14:-1]}?" if close else ""
                shown.append(f"{k!r} ({c.unknown[k]:,}{hint})")
            more = f" and {len(names) - NOTE_FIELDS} more" if len(names) > NOTE_FIELDS else ""
            out.append("ignored fields: " + ", ".join(shown) + more)
        if self.target == "requests" and c.loaded and self.format not in batch.INPUTS:
            if not c.with_text:
                out.append("no prompt or output text kept: the records hold none this loader "
                           "reads (see ignored fields), or content was not logged")
            if not c.with_tokens:
                out.append("no token counts kept")
        if c.no_account:
            out.append(f"{c.no_account:,} record(s) without an account were quarantined; "
                       "give --account-from FIELD, or --account-from =ACCOUNT_ID")
        return out


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
        from workbench.safe import visible

        lines = []
        for f in self.files:
            name = visible(f.path)
            if f.skipped:
                lines.append(f"{name}: skipped, {f.skipped}")
                continue
            c = f.counts
            lines.append(f"{name} [{f.format} -> {f.target}]: read {c.read}, loaded {c.loaded}, "
                         f"quarantined {c.quarantined}, duplicate {c.duplicate}")
            lines += [f"  note: {visible(n)}" for n in f.notes]
        lines.append(f"total: read {self.read}, loaded {self.loaded}, "
                     f"quarantined {self.quarantined}, duplicate {self.duplicate}")
        return "\n".join(lines)


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


@dataclass
class _Load:
    """What the files of one `load` share: the options, the batch inputs, the digests seen."""

    opts: _opts.Options
    registry: batch.Registry = field(default_factory=batch.Registry)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    keys: dict[str, KeySet] = field(default_factory=dict)  # tables kept unique by the load
    memory: int | None = None  # the memory limit the load set, in bytes (None: left as it was)

    def keyset(self, con: duckdb.DuckDBPyConnection, target: str) -> KeySet | None:
        table = TABLES[target]
        if table.primary_key or not table.unique:
            return None
        if target not in self.keys:
            self.keys[target] = KeySet(con, table)
        return self.keys[target]

    def fit_memory(self, con: duckdb.DuckDBPyConnection, row_bytes: int | None) -> None:
        """Raise the case connection's memory limit (never lower it) so that the open row
        groups of rows this wide fit, within LOAD_MEMORY_MAX; only where the load set it."""
        if self.memory is None or not row_bytes:
            return
        want = min(LOAD_MEMORY_MAX, int(row_bytes * ROW_GROUP_ROWS * 1.25))
        if want > self.memory:
            self.memory = want
            run(con, f"SET memory_limit = '{want // (1 << 20)}MiB'")

    def close(self) -> None:
        self.registry.close()
        for k in self.keys.values():
            k.close()


def _stage_iter(con: duckdb.DuckDBPyConnection, fmt: str, path: Path,
                show: Callable[[int, int], None] | None, run_: _Load, batch_id: int
                ) -> Iterator[None]:
    if fmt in batch.INPUTS:
        return batch.stage_input(con, path, show, run_.opts, run_.registry, fmt, batch_id)
    if fmt in batch.PROVIDER:
        return batch.stage_output(con, path, show, run_.opts, run_.registry, fmt)
    module = importlib.import_module(f"workbench.loaders.{FORMATS[fmt][0]}")
    if fmt in ("accounts", "releases"):
        result: Iterator[None] = module.stage(con, path, show, kind=fmt)
    elif fmt.startswith("litellm"):
        result = module.stage(con, path, show, run_.opts, kind=fmt)
    else:
        result = module.stage(con, path, show, run_.opts)
    return result


def _load_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, progress: bool,
               run_: _Load) -> FileReport:
    target = FORMATS[fmt][1]
    digest = _stream.sha256(path)
    prior = first(con, "select batch_id from load_batches where file_sha256 = $h and "
                        "target = $t limit 1", {"h": digest, "t": target})
    if prior or (digest, target) in run_.seen:
        bid = prior[0] if prior else run_.seen[(digest, target)]
        return FileReport(str(path), fmt, target, None,
                          skipped=f"the same bytes were loaded before (batch {bid})")
    batch_id = _next_batch(con)
    run_.seen[(digest, target)] = batch_id
    started = time.time()
    report = FileReport(str(path), fmt, target, batch_id)
    show = _printer(path.name, path.stat().st_size, progress)
    keys = run_.keyset(con, target)
    for _ in _stage_iter(con, fmt, path, show, run_, batch_id):
        if target == "requests":
            run_.fit_memory(con, staged_row_bytes())
        report.counts.add(commit_stage(con, TABLES[target], batch_id, str(path), keys))
    if show is not None and time.time() - started >= PROGRESS_AFTER:
        print(file=sys.stderr)
    c = report.counts
    run(con, "insert into load_batches values ($b, $f, $fmt, $t, $h, to_timestamp($s), "
                "to_timestamp($e), $r, $l, $q, $d)",
                {"b": batch_id, "f": str(path), "fmt": fmt, "t": target, "h": digest,
                 "s": started, "e": time.time(), "r": c.read, "l": c.loaded, "q": c.quarantined,
                 "d": c.duplicate})
    return report


def _finish_batches(con: duckdb.DuckDBPyConnection, run_: _Load, report: LoadReport) -> None:
    """Settle the batch input files once every output file of the load has been read."""
    settled = batch.finish(con, run_.registry)
    held = {h.batch_id: h for h in run_.registry.held}
    for f in report.files:
        if f.batch_id in settled:
            joined, orphans = settled[f.batch_id]
            c = f.counts
            c.read += held[f.batch_id].lines
            c.loaded += joined
            c.quarantined += orphans
            run(con, "update load_batches set rows_read = $r, rows_loaded = $l, "
                     "rows_quarantined = $q where batch_id = $b",
                {"r": c.read, "l": c.loaded, "q": c.quarantined, "b": f.batch_id})


def _setup(con: duckdb.DuckDBPyConnection, case: Case, opts: _opts.Options) -> int | None:
    """Prepare the case connection for a load; return the memory limit set (bytes), if any."""
    from workbench.loaders import litellm, otel

    memory = None
    if case.path is not None and not os.environ.get("WORKBENCH_MEMORY_LIMIT"):
        run(con, f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
        row = first(con, "select current_setting('memory_limit')")
        memory = _bytes(str(row[0])) if row else None
    run(con, "SET preserve_insertion_order = true")
    run(con, "SET enable_progress_bar = false")  # ours is on stderr; DuckDB's would garble it
    # A case made by an earlier version lacks the columns added since: add them (NULL).
    have = {(t, c) for t, c in con.execute(
        "select table_name, column_name from duckdb_columns()").fetchall()}
    for t in TABLES.values():
        for c in t.columns:
            if not t.derived and (t.name, c.name) not in have:
                run(con, f'alter table "{t.name}" add column "{c.name}" {c.type}')
    install_macros(con)
    for m in [*_opts.MACROS, *litellm.MACROS, *otel.MACROS]:
        run(con, m)
    opts.apply(con)
    return memory


def _bytes(setting: str) -> int | None:
    """DuckDB's spelling of a memory setting ('953.6 MiB', '1.0 GiB') in bytes."""
    units = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
             "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
    number, _, unit = setting.partition(" ")
    try:
        return int(float(number) * units[unit])
    except (KeyError, ValueError):
        return None


def load(case: Case, paths: Any, *, format: str | None = None,
         accounts: str | os.PathLike[str] | Iterable[Any] | None = None,
         releases: str | os.PathLike[str] | Iterable[Any] | None = None,
         account_from: str | None = None, progress: bool = True) -> LoadReport:
    """Load log files (and optionally account records and model releases) in one transaction.

    Args:
        case: The case to load into (opened for writing).
        paths: A file, glob, folder, or list of them; may be empty when only `accounts` or
            `releases` are given.
        format: Force one loader for all `paths` instead of detecting each file's format.
        accounts: Account records, CSV or JSONL (columns of the `accounts` table).
        releases: Model releases CSV (`model`, `released_at`).
        account_from: For sources that record no account: the field (dotted path; for
            OpenTelemetry an attribute name) to take it from, or `=ACCOUNT_ID` for one account.
        progress: Print progress on stderr for loads that take more than a few seconds.

    Returns:
        A LoadReport with per-file counts.

    Example:
        >>> import workbench as wb
        >>> from workbench.loaders import load
        >>> load(wb.open(), [], progress=False).read
        0
    """
    if format is not None:
        _check_format(format)
    opts = _opts.Options(account_from)
    files = expand(paths or [])
    empty = [p for p in files if is_empty(p)]  # nothing to load: reported, never fatal
    plan = [(p, format or detect_format(p)) for p in files if p not in empty]
    if format is not None:
        for p, _ in plan:
            check_format(p, format, f"as --format {format}")
    # Batch input files first: their lines wait for the output lines of the same load.
    plan.sort(key=lambda pf: pf[1] not in batch.INPUTS)
    plan += [(p, "accounts") for p in (expand(accounts) if accounts else [])]
    plan += [(p, "releases") for p in (expand(releases) if releases else [])]
    for p, fmt in plan:
        if fmt in ("accounts", "releases"):
            check_format(p, fmt, f"as --{fmt}")
    report = LoadReport([FileReport(str(p), format or "?", "requests", None,
                                    skipped="empty file") for p in empty])
    run_ = _Load(opts)
    with case.connect(write=True) as con:
        run_.memory = _setup(con, case, opts)
        run(con, "BEGIN TRANSACTION")
        try:
            for path, fmt in plan:
                report.files.append(_load_file(con, path, fmt, progress, run_))
            _finish_batches(con, run_, report)
            run(con, "COMMIT")
        except BaseException as exc:
            _rollback(con)
            if isinstance(exc, duckdb.Error | OSError):
                raise _failed(exc, case) from None
            raise
        finally:
            run_.close()
    case.audit("load", files=[f.path for f in report.files], read=report.read,
               loaded=report.loaded, quarantined=report.quarantined,
               duplicate=report.duplicate)
    return report


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # A failed COMMIT (disk full) has already ended the transaction: rolling back again would
    # raise "no transaction is active" and hide the error that matters.
    with contextlib.suppress(duckdb.Error):
        run(con, "ROLLBACK")


def _failed(exc: BaseException, case: Case) -> LoadError:
    """One line for a load that stopped: what failed, and that nothing was kept."""
    text = " ".join(str(exc).split())[:400]
    where = str(case.path.parent) if case.path is not None else "memory"
    hint = ""
    if any(m in text for m in ("No space", "File too large", "Permission denied",
                               "Read-only", "Could not write", "could not write", "errno")):
        hint = f" Check the free space and permissions of {where!r} (and its .tmp folder)."
    return LoadError(f"The load stopped and nothing was kept (the case is as it was): "
                     f"{text}.{hint}")


def info(case: Case) -> dict[str, Any]:
    """Tables with row counts, the time span of the requests, batches and quarantine by reason.

    Example:
        >>> import workbench as wb
        >>> from workbench.loaders import info
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
