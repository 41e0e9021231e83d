"""OpenTelemetry GenAI spans (OTLP/JSON): detection, attribute mapping, bad records."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import workbench as wb
from workbench.loaders import detect_format

FIX = Path(__file__).parent / "fixtures" / "loaders"
OTEL = FIX / "otel_genai.jsonl"
PRETTY = FIX / "otel_pretty.json"


@pytest.mark.parametrize("name", ["otel_genai.jsonl", "otel_pretty.json"])
def test_otlp_export_is_detected(name: str) -> None:
    assert detect_format(FIX / name) == "otel"


def test_genai_attributes_map_to_canonical_columns() -> None:
    c = wb.open()
    report = wb.load(c, OTEL, progress=False)
    assert (report.read, report.loaded, report.quarantined, report.duplicate) == (7, 2, 5, 0)
    row = c.sql("select * from requests where request_id = 'msg_01ABC'").row(0, named=True)
    assert str(row["ts"]).startswith("2026-02-03 14:05:06.123")
    assert (row["account_id"], row["org_id"], row["api_key_id"], row["end_user_id"]) == (
        "acct_1", "org_1", "key_1", "user_7")  # span attribute wins over the resource's
    assert (row["client_ip"], row["ip_prefix"]) == ("203.0.113.7", "203.0.113.0/24")
    assert row["user_agent"] == "anthropic-python/0.49.0"
    assert (row["api_style"], row["model"], row["status"], row["latency_ms"]) == (
        "anthropic", "claude-x", None, 2310)  # no HTTP status recorded: none invented
    assert (row["max_tokens"], row["temperature"], row["top_p"], row["top_k"]) == (
        1024, 0.7, 0.9, 40)
    assert (row["input_tokens"], row["output_tokens"], row["stop_reason"]) == (
        120, 45, "end_turn")
    assert (row["n_messages"], row["n_user_turns"]) == (4, 2)
    assert row["prompt_text"] == "Show your full reasoning\nstep by step"
    assert (row["output_text"], row["output_chars"]) == ("Step 1: think.", 14)
    assert (row["tool_count"], row["tool_names"]) == (2, ["get_weather", "search"])
    assert row["system_hash"] is not None
    content = c.sql("select * from request_content where request_id = 'msg_01ABC'").row(
        0, named=True)
    assert content["system_prompt"] == "You are terse."
    assert json.loads(content["messages"])[1]["parts"][0]["content"] == "Hello"
    assert json.loads(content["response"])[0]["finish_reason"] == "stop"


def test_metadata_only_span_falls_back_to_ids_and_resource() -> None:
    c = wb.open()
    wb.load(c, OTEL, progress=False)
    row = c.sql("select * from requests where model = 'gpt-y'").row(0, named=True)
    assert row["request_id"] == "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331"
    assert row["account_id"] == "acct_res"  # from the resource attributes
    assert (row["api_style"], row["status"]) == ("openai", None)  # ERROR says no HTTP status
    assert row["stop_reason"] == "error"
    assert row["ip_prefix"] == "2001:db8:85a3::/48"
    assert row["prompt_text"] is None
    assert row["output_text"] is None
    assert c.sql("select count(*) as n from request_content where request_id = "
                 "$r", r=row["request_id"])["n"][0] == 0


def test_bad_spans_and_lines_are_quarantined_with_reasons() -> None:
    c = wb.open()
    wb.load(c, OTEL, progress=False)
    q = c.sql("select source_line, reason, detail from quarantine order by source_line, reason")
    assert q.rows() == [
        (2, "bad_timestamp", 'startTimeUnixNano "yesterday" is not a time in years 1970-9999'),
        (2, "not_model_call", "span ? is not a model call (no gen_ai.* or llm.* attribute)"),
        (2, "wrong_type", "wrong type for: max_tokens (integer)"),
        (3, "malformed_json", "not a valid JSON object"),
        (4, "malformed_json", "no resourceSpans list: not an OTLP/JSON trace export"),
    ]
    b = c.sql("select * from load_batches").row(0, named=True)
    assert b["format"] == "otel"
    assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"] + b["rows_duplicate"]


def test_pretty_printed_and_compressed_exports_load(tmp_path: Path) -> None:
    gz = tmp_path / "spans.json.gz"
    gz.write_bytes(gzip.compress(PRETTY.read_bytes()))
    c = wb.open()
    report = wb.load(c, [PRETTY, gz], progress=False)
    assert [f.counts.read for f in report.files] == [1, 1]
    assert (report.loaded, report.duplicate) == (1, 1)  # the same span twice: a duplicate


def test_malformed_pretty_document_is_quarantined(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{\n  "resourceSpans": [\n    {"scopeSpans": [\n')
    c = wb.open()
    report = wb.load(c, bad, progress=False)
    assert (report.read, report.quarantined) == (1, 1)
    reason, detail = c.sql("select reason, detail from quarantine").row(0)
    assert reason == "malformed_json"
    assert detail == "not a valid JSON object"


def test_forced_format_and_reload_adds_nothing() -> None:
    c = wb.open()
    wb.load(c, OTEL, format="otel", progress=False)
    again = wb.load(c, OTEL, format="otel", progress=False)
    assert again.files[0].skipped is not None
    assert c.sql("select count(*) as n from requests")["n"][0] == 2


def _export(spans: list[dict[str, object]], resource: dict[str, str] | None = None) -> str:
    def attrs(d: dict[str, object]) -> list[dict[str, object]]:
        return [{"key": k, "value": {"stringValue": v} if isinstance(v, str) else
                 {"intValue": str(v)}} for k, v in d.items()]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": attrs(resource or {})},
                       "scopeSpans": [{"spans": [
                           {"traceId": "t", "spanId": f"s{i}", "name": f"span{i}",
                            "startTimeUnixNano": "1770127506000000000", "attributes": attrs(a)}
                           for i, a in enumerate(spans)]}]}]}) + "\n"


@pytest.mark.parametrize("layout", ["one line", "spans cut from one line"])
def test_a_request_id_repeated_among_the_spans_of_one_line_is_loaded_once(
        tmp_path: Path, layout: str) -> None:
    spans = [{"gen_ai.request.model": m, "gen_ai.response.id": "msg_1", "account.id": "a"}
             for m in ("m1", "m2", "m1")]
    text = _export(spans)
    if layout != "one line":  # a document over several lines, its spans all on the second
        at = text.index('{"traceId"')
        text = text[:at] + "\n" + text[at:]
    p = tmp_path / "trace.json"
    p.write_text(text)
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert (report.read, report.loaded, report.quarantined, report.duplicate) == (3, 1, 1, 1)
    line = 1 if layout == "one line" else 2
    assert c.sql("select model, source_line from requests").rows() == [("m1", line)]
    assert c.sql("select source_line, reason from quarantine").rows() == [(line, "conflict")]


def test_agent_tool_and_chain_spans_are_not_model_calls(tmp_path: Path) -> None:
    p = tmp_path / "trace.jsonl"
    p.write_text(_export([
        {"openinference.span.kind": "CHAIN", "input.value": "hi"},
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
        {"http.method": "POST"},
        {"openinference.span.kind": "LLM", "llm.model_name": "m"}],
        resource={"account.id": "a"}))
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert (report.read, report.loaded, report.quarantined) == (4, 1, 3)
    assert c.sql("select reason from quarantine").rows() == [("not_model_call",)] * 3


def test_missing_account_names_the_attributes_tried_and_the_option(tmp_path: Path) -> None:
    from workbench.loaders import load

    p = tmp_path / "trace.jsonl"
    p.write_text(_export([{"gen_ai.request.model": "m", "enduser.id": "u1"}]))
    c = wb.open()
    report = load(c, p, progress=False)
    detail = c.sql("select detail from quarantine").item()
    assert "account.id, enduser.account.id" in detail
    assert "--account-from ATTRIBUTE" in detail
    assert "without an account" in str(report)
    c2 = wb.open()
    load(c2, p, account_from="enduser.id", progress=False)
    assert c2.sql("select account_id from requests").item() == "u1"


def test_unknown_span_attributes_are_reported(tmp_path: Path) -> None:
    from workbench.loaders import load

    p = tmp_path / "trace.jsonl"
    p.write_text(_export([{"gen_ai.request.model": "m", "account.id": "a",
                           "gen_ai.usage.input_tokenz": 5, "server.address": "x"}]))
    report = load(wb.open(), p, progress=False)
    assert "ignored fields: 'gen_ai.usage.input_tokenz' (1; did you mean " \
           "gen_ai.usage.input_tokens?)" in str(report)
    assert "server.address" not in str(report)  # infrastructure attributes are not news
