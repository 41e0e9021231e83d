"""`workbench load` from the command line: options, summary notes, one-line errors."""

from __future__ import annotations

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


def test_account_from_and_notes_on_the_command_line(tmp_path: Path) -> None:
    p = tmp_path / "spans.jsonl"
    span = {"traceId": "t", "spanId": "s", "startTimeUnixNano": "1770127506000000000",
            "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
                           {"key": "user.id", "value": {"stringValue": "u9"}}]}
    p.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}) + "\n")
    code, out, _ = _run("load", str(p), "--db", str(tmp_path / "a.duckdb"), "--quiet")
    assert code == 0
    assert "quarantined 1" in out
    assert "note: 1 record(s) without an account were quarantined; give --account-from" in out
    code, out, _ = _run("load", str(p), "--db", str(tmp_path / "b.duckdb"), "--quiet",
                        "--account-from", "user.id")
    assert code == 0
    assert "loaded 1, quarantined 0" in out


@pytest.mark.parametrize(("value", "message"), [
    ("=", "gives no account id"),
    ('a."b', "is not a field name"),
    ("a..b", "is not a field name"),
])
def test_bad_account_from_is_one_line(tmp_path: Path, value: str, message: str) -> None:
    code, _, err = _run("load", str(FIX / "native_styles.jsonl"), "--db",
                        str(tmp_path / "c.duckdb"), "--account-from", value)
    assert code != 0
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
