"""`workbench load`, `info` and `sql`: output, and one-line errors with a non-zero exit."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import _register, cli

FIX = Path(__file__).parent / "fixtures" / "loaders"
_register()


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "case.duckdb"
    code, out, _ = _run("load", str(FIX / "native_bad.jsonl"), "--db", str(path), "--quiet")
    assert code == 0
    assert "loaded 2, quarantined 12, duplicate 1" in out
    return path


def test_info(db: Path) -> None:
    code, out, _ = _run("info", "--db", str(db))
    assert code == 0
    assert "requests" in out
    assert "malformed_json" in out
    assert "conflict" in out


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_sql_formats(db: Path, fmt: str) -> None:
    code, out, _ = _run("sql", "--db", str(db), "select request_id from requests order by 1",
                        "--format", fmt)
    assert code == 0
    if fmt == "json":
        assert json.loads(out) == [{"request_id": "r_ok"}, {"request_id": "r_ok2"}]
    elif fmt == "csv":  # every field quoted (formula injection guard, issue 15)
        assert list(csv.reader(io.StringIO(out))) == [["request_id"], ["r_ok"], ["r_ok2"]]
    else:
        assert out.split()[-2:] == ["r_ok", "r_ok2"]


def test_sql_table_shows_control_characters(db: Path) -> None:
    code, out, _ = _run("sql", "--db", str(db), "select 'a' || chr(8238) || 'b' as x")
    assert code == 0
    assert "U+202E" in out
    assert "\u202e" not in out


@pytest.mark.parametrize(("args", "message"), [
    (["load", "missing.jsonl"], "Input 'missing.jsonl' does not exist"),
    (["load", str(FIX / "native_bad.jsonl"), "--format", "jsonl"], "Unknown format 'jsonl'"),
    (["info"], "does not exist"),
    (["sql", "select nope"], "SQL error: Binder Error"),
])
def test_errors_are_one_line(tmp_path: Path, db: Path, args: list[str], message: str) -> None:
    target = db if args[0] == "sql" else tmp_path / "other.duckdb"
    code, _, err = _run(*args, "--db", str(target))
    assert code != 0
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_not_a_case_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    code, _, err = _run("info", "--db", str(junk))
    assert code != 0
    assert "not a case database" in err


def test_load_shows_progress_unless_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.loaders as loaders
    from workbench.loaders import _stream

    monkeypatch.setattr(loaders, "PROGRESS_AFTER", 0.0)  # a "long" load from the first chunk
    monkeypatch.setattr(_stream, "CHUNK_ROWS", 3)
    src = str(FIX / "native_bad.jsonl")
    code, _, err = _run("load", src, "--db", str(tmp_path / "a.duckdb"))
    assert code == 0
    assert "loading native_bad.jsonl:" in err
    assert "100%" in err
    code, _, err = _run("load", src, "--db", str(tmp_path / "b.duckdb"), "--quiet")
    assert code == 0
    assert "loading" not in err
