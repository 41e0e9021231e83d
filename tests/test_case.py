"""Case files and locking: a notebook-style reader does not block a load for long; a writer
that meets a held lock retries for a bounded time and then fails with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import workbench as wb
from workbench.errors import CaseError, CaseLockedError

HOLD_WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""
NOTEBOOK = """
import sys, time, workbench as wb
case = wb.open(sys.argv[1], read_only=True)
print("open", flush=True)
for _ in range(int(sys.argv[2])):
    case.sql("select count(*) from requests")
    time.sleep(0.05)
print("done", flush=True)
"""


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() in ("locked", "open")
    return proc


def test_open_notebook_does_not_block_a_load(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    wb.open(path).close()
    reader = _start(NOTEBOOK, str(path), "40")  # queries for about two seconds
    try:
        writer = wb.open(path, lock_timeout=30)
        writer.execute("insert into model_releases values ('m', now())")
        assert writer.count("model_releases") == 1
    finally:
        out, _ = reader.communicate(timeout=60)
    assert reader.returncode == 0
    assert "done" in out


def test_writer_meeting_a_held_lock_fails_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    wb.open(path).close()
    holder = _start(HOLD_WRITER, str(path), "30")
    try:
        with pytest.raises(CaseLockedError) as err:
            wb.open(path, lock_timeout=0.5)
    finally:
        holder.kill()
        holder.wait()
    msg = str(err.value)
    assert "\n" not in msg
    assert "locked by another process" in msg
    assert "0.5s" in msg


def test_writer_waits_for_a_short_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    wb.open(path).close()
    holder = _start(HOLD_WRITER, str(path), "1")
    try:
        case = wb.open(path, lock_timeout=30)  # retries until the holder exits
        assert case.count("requests") == 0
    finally:
        holder.wait()


def test_cli_reports_held_lock_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    wb.open(path).close()
    holder = _start(HOLD_WRITER, str(path), "30")
    try:
        rel = tmp_path / "releases.csv"
        rel.write_text("model,released_at\nm,2026-01-01T00:00:00Z\n")
        res = subprocess.run([sys.executable, "-c", "import workbench.cli as c; c.main()",
                              "load", "--db", str(path), "--releases", str(rel)],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "WORKBENCH_LOCK_TIMEOUT": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert res.returncode != 0
    assert res.stderr.count("\n") == 1
    assert "locked" in res.stderr
    assert "Traceback" not in res.stderr
    assert "gave up after 1s" in res.stderr


def test_not_a_case_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_text("hello")
    with pytest.raises(CaseError, match="not a case database"):
        wb.open(junk, read_only=True)


POLLER = """
import sys, time, workbench as wb
case = wb.open(sys.argv[1], read_only=True, lock_timeout=60)
print("open", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    case.sql("select count(*) from requests")
print("done", flush=True)
"""


def test_three_polling_readers_cannot_starve_a_writer(tmp_path: Path) -> None:
    import time

    path = tmp_path / "c.duckdb"
    wb.open(path).close()
    readers = [_start(POLLER, str(path), "20") for _ in range(3)]  # back-to-back queries
    try:
        t0 = time.monotonic()
        writer = wb.open(path, lock_timeout=15)
        writer.execute("insert into model_releases values ('m', now())")
        waited = time.monotonic() - t0
    finally:
        outs = [r.communicate(timeout=120)[0] for r in readers]
    assert writer.count("model_releases") == 1
    assert waited < 15  # within its lock timeout, whatever the readers do
    assert all("done" in o for o in outs)  # and the readers carried on afterwards


def test_a_held_lock_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    wb.open(path).close()
    holder = _start(HOLD_WRITER, str(path), "30")
    try:
        with pytest.raises(CaseLockedError, match=rf"PID {holder.pid}: .*python"):
            wb.open(path, lock_timeout=0.3)
    finally:
        holder.kill()
        holder.wait()


def test_case_files_and_their_log_are_private(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    case = wb.open(path)
    case.sql("select count(*) as n from requests where account_id = $a", a="acct_secret")
    assert path.stat().st_mode & 0o777 == 0o600
    log = path.with_name(path.name + ".audit.jsonl")
    assert log.stat().st_mode & 0o777 == 0o600
    entry = [e for e in _log(path) if e["action"] == "sql"][-1]
    assert entry["params"] == ["a"]
    assert "acct_secret" not in log.read_text()  # bound values are not logged, only names
    assert entry["query"].startswith("select count(*)")


def _log(path: Path) -> list[dict]:
    from workbench.audit import read

    return read(path)


def test_a_read_only_case_runs_queries_only(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    wb.open(path).close()
    ro = wb.open(path, read_only=True)
    target = tmp_path / "out.csv"
    with pytest.raises(CaseError, match="read-only, and a COPY statement may write"):
        ro.sql(f"copy (select 1) to '{target}'")
    assert not target.exists()
    assert ro.sql("with t as (select 1 as x) select x from t")["x"][0] == 1


def test_cli_audit_lists_queries_and_escapes_them(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from workbench.cli import _register, cli

    path = tmp_path / "c.duckdb"
    case = wb.open(path)
    case.sql("select '\u202egnp.exe' as x")
    _register()
    res = CliRunner().invoke(cli, ["audit", "--db", str(path)])
    assert res.exit_code == 0
    assert "sql" in res.output
    assert "\u202e" not in res.output
    assert "U+202E" in res.output
