"""LiteLLM SpendLogs exports, as JSON lines and as CSV, map to the same canonical rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import workbench as wb
from workbench.loaders import detect_format

FIX = Path(__file__).parent / "fixtures" / "loaders"


@pytest.mark.parametrize("name", ["litellm_spendlogs.jsonl", "litellm_spendlogs.csv"])
def test_litellm_export_loads(name: str) -> None:
    assert detect_format(FIX / name) == "litellm"
    c = wb.open()
    report = wb.load(c, FIX / name, progress=False)
    assert (report.read, report.loaded, report.quarantined) == (3, 2, 1)
    row = c.sql("select * from requests where request_id = 'chatcmpl-1'").row(0, named=True)
    assert row["account_id"] == "internal_user_1"
    assert row["org_id"] is None  # a team is not an organisation
    assert row["end_user_id"] == "customer_42"
    assert row["ip_prefix"] == "198.51.100.0/24"
    assert row["prompt_text"] == "Show your reasoning step by step"
    assert row["output_text"] == "Step 1"
    assert row["api_style"] == "openai"
    assert (row["input_tokens"], row["output_tokens"], row["latency_ms"]) == (20, 10, 1500)
    assert row["status"] == 200
    failed = c.sql("select account_id, status, ts from requests where request_id = 'chatcmpl-2'")
    assert failed.row(0)[:2] == ("team_b", None)  # a failure without an error code
    assert str(failed["ts"][0]).startswith("2026-02-03 06:06:00")  # naive time taken as UTC
    assert c.sql("select reason from quarantine")["reason"].to_list() == ["bad_timestamp"]


def _load(path: Path, **kw: object) -> tuple[wb.Case, object]:
    from workbench.loaders import load

    c = wb.open()
    return c, load(c, path, progress=False, **kw)


def test_unstored_bodies_leave_counts_and_flags_null() -> None:
    # LiteLLM writes "{}" for a body it did not store: nothing about tools, streaming,
    # logprobs or choices can be read from it, so nothing is invented.
    c, _ = _load(FIX / "litellm_spend_logs_api.json")
    row = c.sql("select * from requests where request_id like 'b7e9%'").row(0, named=True)
    assert [row[k] for k in ("tool_count", "stream", "logprobs", "n_choices", "logit_bias_n",
                             "prompt_text", "output_text")] == [None] * 7
    assert row["status"] == 404  # from metadata.error_information.error_code, not "failure"
    assert row["account_id"] == "user_from_key"  # user and team empty: the key's user id
    assert row["org_id"] is None  # "" is no organisation


def test_no_account_anywhere_names_the_chain_and_the_option(tmp_path: Path) -> None:
    p = tmp_path / "rows.jsonl"
    p.write_text(json.dumps({"request_id": "r1", "startTime": "2026-02-03T06:05:06",
                             "model": "m", "user": "", "team_id": None, "api_key": "",
                             "metadata": {}, "call_type": "acompletion"}) + "\n")
    c, report = _load(p)
    detail = c.sql("select detail from quarantine").item()
    for name in ("user", "metadata.user_api_key_user_id", "team_id", "api_key",
                 "--account-from"):
        assert name in detail
    assert "1 record(s) without an account" in str(report)
    c2, _ = _load(p, account_from="=acct_x")
    assert c2.sql("select account_id from requests").item() == "acct_x"


@pytest.mark.parametrize("name", ["litellm_spend_logs_api.json", "litellm_spend_logs_export.csv"])
def test_account_from_a_metadata_field(name: str) -> None:
    # In the CSV export metadata is JSON text: the path enters it all the same.
    c, _ = _load(FIX / name, account_from="metadata.user_api_key_alias")
    got = dict(c.sql("select request_id, account_id from requests").rows())
    assert got["chatcmpl-A1b2C3"] == "prod-key"
    assert c.sql("select count(*) from quarantine").item() == 2  # the rows with no alias


def test_a_request_id_repeated_in_a_list_on_one_line_is_loaded_once(tmp_path: Path) -> None:
    rows = json.loads((FIX / "litellm_spend_logs_api.json").read_text())
    rows = [rows[0], *rows[1:], {**rows[0], "model": "another-model"}]
    p = tmp_path / "spend.json"
    p.write_text(json.dumps(rows) + "\n")
    c, report = _load(p)
    assert (report.read, report.loaded, report.quarantined) == (  # type: ignore[attr-defined]
        len(rows), len(rows) - 1, 1)
    rid = rows[0]["request_id"]
    assert c.sql("select model from requests where request_id = $r", r=rid).item() != (
        "another-model")
    assert c.sql("select source_line, reason from quarantine").rows() == [(1, "conflict")]


def test_a_spend_logs_page_on_one_line_is_cut_into_its_rows(tmp_path: Path) -> None:
    rows = json.loads((FIX / "litellm_spend_logs_api.json").read_text())
    p = tmp_path / "page.json"
    p.write_text(json.dumps({"data": rows, "total": len(rows), "page": 1}) + "\n")
    c, report = _load(p)
    assert (report.read, report.quarantined) == (len(rows), 0)
