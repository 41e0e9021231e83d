"""Every format loads its fixture through the CLI into a file-backed case, whole.

The cases are data (`fixtures/loaders/formats.expected.json`): the files of one load, the CLI
arguments, the format each file is detected as, and every non-NULL column each record must
land with, so a field that goes missing, or a value invented where the source says nothing,
fails. Each fixture is also rewritten in the other JSON layouts (one record a line, one
pretty-printed document after another, a top-level array; plain, gzip and zstd) and must load
the same rows.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import zstandard
from click.testing import CliRunner

import workbench as wb
from workbench.cli import _register, cli
from workbench.loaders import detect_format

FIX = Path(__file__).parent / "fixtures" / "loaders"
CASES = json.loads((FIX / "formats.expected.json").read_text())
LINEAGE = ("load_batch", "source_file", "source_line")
_register()


def _cli_load(db: Path, files: list[Path], args: list[str]) -> str:
    res = CliRunner().invoke(cli, ["load", *map(str, files), "--db", str(db), "--quiet", *args])
    assert res.exit_code == 0, res.stderr
    return res.stdout


def _rows(case: wb.Case) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in case.sql("select * from requests").to_dicts():
        out[row["request_id"]] = {k: (v.isoformat() if isinstance(v, datetime) else v)
                                  for k, v in row.items() if k not in LINEAGE and v is not None
                                  and k != "request_id"}
    for row in case.sql("select * from request_content").to_dicts():
        for k in ("system_prompt", "messages", "tools", "response"):
            if row[k] is not None:
                v = row[k]
                out[row["request_id"]][k] = v if k == "system_prompt" else json.loads(v)
    return out


@pytest.mark.parametrize("spec", CASES, ids=[c["name"] for c in CASES])
def test_fixture_loads_whole_through_the_cli(spec: dict[str, Any], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_MEMORY_LIMIT", raising=False)  # the default 1 GB limit
    files = [FIX / f for f in spec["files"]]
    assert [detect_format(f) for f in files] == spec["formats"]
    db = tmp_path / "case.duckdb"
    out = _cli_load(db, files, spec["args"])
    case = wb.open(db, read_only=True)
    batches = case.sql("select rows_read, rows_loaded, rows_quarantined, rows_duplicate "
                       "from load_batches").rows()
    assert all(r == lo and q == d == 0 for r, lo, q, d in batches), out
    assert case.count("quarantine") == 0, case.sql("select * from quarantine").rows()
    want = {rid: {k: v for k, v in cols.items() if k != "request_id"}
            for rid, cols in spec["expected"].items()}
    assert _rows(case) == want
    assert "ignored fields" not in out  # every field of these fixtures is understood


def _records(path: Path) -> list[Any]:
    """The fixture's top-level JSON values (a JSONL file's lines, a document, an array's
    elements), read with Python's json."""
    text = path.read_text()
    try:
        whole = json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return whole if isinstance(whole, list) else [whole]


_JSON = [c for c in CASES if all(f.endswith((".json", ".jsonl")) for f in c["files"])]
_LAYOUTS = [("lines", ""), ("pretty", ".gz"), ("array", ".zst"), ("array", "")]


@pytest.mark.parametrize("layout", _LAYOUTS, ids=["".join(x) for x in _LAYOUTS])
@pytest.mark.parametrize("spec", _JSON, ids=[c["name"] for c in _JSON])
def test_every_json_layout_loads_the_same(spec: dict[str, Any], layout: tuple[str, str],
                                          tmp_path: Path) -> None:
    form, comp = layout
    files = []
    for name in spec["files"]:
        recs = _records(FIX / name)
        if "requests" in name and form != "array":  # Anthropic's create-batch document
            recs = recs[0]["requests"]
        text = {"lines": "".join(json.dumps(r) + "\n" for r in recs),
                "pretty": "\n".join(json.dumps(r, indent=2) for r in recs),
                "array": json.dumps(recs, indent=1 if comp else None)}[form]
        raw = text.encode()
        raw = gzip.compress(raw) if comp == ".gz" else (
            zstandard.ZstdCompressor().compress(raw) if comp == ".zst" else raw)
        p = tmp_path / f"{Path(name).stem}.{form}{comp}"
        p.write_bytes(raw)
        files.append(p)
    db = tmp_path / "case.duckdb"
    _cli_load(db, files, spec["args"])
    case = wb.open(db, read_only=True)
    assert case.count("quarantine") == 0, case.sql("select * from quarantine").rows()
    want = {rid: {k: v for k, v in cols.items() if k != "request_id"}
            for rid, cols in spec["expected"].items()}
    assert _rows(case) == want
