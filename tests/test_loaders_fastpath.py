"""The native loader's fast path stages every record exactly as the slow path would.

The fast path (`workbench/loaders/fast.py`) parses each line once and leaves anything unusual
to the slow path (`bodies.stage_sql`), which can say why a record is bad. Both are run here
over every native fixture and a seeded corpus of plain and hostile records, and the staged
rows must be identical, column by column; and plain records must take the fast path.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

import workbench as wb
from workbench.loaders import load, native

FIX = Path(__file__).parent / "fixtures" / "loaders"
sys.path.insert(0, str(Path(__file__).parent))


def _corpus(tmp_path: Path) -> Path:
    from test_loaders_fuzz import _bad_records, _corrupt_line, _native

    rng = random.Random(7)
    lines = [json.dumps(r).encode() for r in _bad_records(_native, rng)]
    lines += [_corrupt_line(x, rng) for x in lines[::3]]
    lines += [json.dumps(_native(f"plain-{i}")).encode() for i in range(50)]
    for name in ("native_styles.jsonl", "native_streaming.jsonl", "native_bad.jsonl"):
        lines += (FIX / name).read_bytes().splitlines()
    rng.shuffle(lines)
    p = tmp_path / "corpus.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    return p


def _staged(path: Path, monkeypatch: pytest.MonkeyPatch, slow: bool) -> list[dict[str, object]]:
    monkeypatch.setattr(native, "SLOW_ONLY", slow)
    c = wb.open()
    load(c, path, progress=False)
    rows = c.sql("select * exclude (load_batch) from requests order by source_line").to_dicts()
    content = c.sql("select * from request_content order by request_id").to_dicts()
    q = c.sql("select source_line, reason, detail from quarantine order by 1, 2, 3").to_dicts()
    return [rows, content, q]  # type: ignore[list-item]


def test_fast_and_slow_paths_stage_the_same_rows(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    p = _corpus(tmp_path)
    assert _staged(p, monkeypatch, slow=False) == _staged(p, monkeypatch, slow=True)


def test_plain_records_take_the_fast_path(tmp_path: Path) -> None:
    from test_loaders_fuzz import _native

    from workbench.loaders import _split, _stream, fast
    from workbench.loaders._opts import Options

    p = tmp_path / "plain.jsonl"
    p.write_text("".join(json.dumps(_native(f"p{i}")) + "\n" for i in range(20))
                 + (FIX / "native_styles.jsonl").read_text())
    s = native.scratch(Options(), fast.MACROS)
    s.register("chunk_in", next(_stream.numbered(_split.read(p))))
    flags = s.sql(fast.fast_sql()).to_arrow_table().column("_fast").to_pylist()
    assert flags == [True] * 25
