"""LiteLLM SpendLogs exports, as JSON lines and as CSV, map to the same canonical rows."""

from __future__ import annotations

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
    assert row["org_id"] == "team_a"
    assert row["end_user_id"] == "customer_42"
    assert row["ip_prefix"] == "198.51.100.0/24"
    assert row["prompt_text"] == "Show your reasoning step by step"
    assert row["output_text"] == "Step 1"
    assert row["api_style"] == "openai"
    assert (row["input_tokens"], row["output_tokens"], row["latency_ms"]) == (20, 10, 1500)
    assert row["status"] == 200
    failed = c.sql("select account_id, status, ts from requests where request_id = 'chatcmpl-2'")
    assert failed.row(0)[:2] == ("team_b", 500)
    assert str(failed["ts"][0]).startswith("2026-02-03 06:06:00")  # naive time taken as UTC
    assert c.sql("select reason from quarantine")["reason"].to_list() == ["bad_timestamp"]
