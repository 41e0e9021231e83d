"""A load is atomic: SIGKILL half-way leaves the case as it was; rerunning equals a clean load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import workbench as wb

SCRIPT = """
import sys, workbench as wb
wb.load(wb.open(sys.argv[1]), sys.argv[2:], progress=True)
"""
TABLES = ("requests", "request_content", "quarantine", "accounts")


def _write_logs(folder: Path, files: int, lines: int) -> list[Path]:
    out = []
    for f in range(files):
        p = folder / f"day{f}.jsonl"
        with p.open("w") as fh:
            for i in range(lines):
                rid = f"r{f}_{i}" if i % 97 else "r_shared"  # repeats across files
                fh.write(json.dumps({
                    "request_id": rid, "timestamp": 1770000000 + i, "account_id": f"a{i % 13}",
                    "model": "m", "request": {"messages": [{"role": "user", "content": f"q{i}"}]},
                    "response": {"type": "message", "content": [{"type": "text", "text": "ok"}]},
                }) + "\n")
            fh.write("not json\n")
        out.append(p)
    return out


def _snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    c = wb.open(path, read_only=True)
    snap = {t: sorted(map(tuple, c.sql(f"select * from {t}").rows()), key=repr) for t in TABLES}
    snap["load_batches"] = sorted(c.sql(
        "select batch_id, source_file, rows_read, rows_loaded, rows_quarantined, rows_duplicate "
        "from load_batches").rows())
    return snap


def test_sigkill_mid_load_leaves_case_unchanged_and_rerun_matches_clean(tmp_path: Path) -> None:
    logs = _write_logs(tmp_path, files=3, lines=400)
    first, rest = logs[:1], logs[1:]
    case_path = tmp_path / "case.duckdb"
    wb.load(wb.open(case_path), first, progress=False)
    before = _snapshot(case_path)

    env = {**os.environ, "WORKBENCH_LOAD_CHUNK_ROWS": "20", "WORKBENCH_PROGRESS_AFTER": "0"}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(case_path), *map(str, rest)],
                            stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stderr is not None
    seen = ""
    while rest[1].name not in seen:  # kill while the second file of the load is streaming
        ch = proc.stderr.read(1)
        assert ch, f"load ended before it could be killed: {seen[-500:]}"
        seen += ch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(case_path) == before

    wb.load(wb.open(case_path), rest, progress=False)
    clean_path = tmp_path / "clean.duckdb"
    clean = wb.open(clean_path)
    wb.load(clean, first, progress=False)
    wb.load(clean, rest, progress=False)
    assert _snapshot(case_path) == _snapshot(clean_path)
