"""Fuzz every loader over every field: good records survive any bad one, and every file
reconciles (`read = loaded + quarantined + duplicate`), whatever the bad records hold.

A seeded generator (deterministic, so a failure reproduces) takes a good record of each format
and, field by field, replaces the value with hostile ones: wrong types, huge and fractional
numbers, empty, control and invisible characters, invalid times, nested depth; it also drops
fields, repeats keys, and, for one-record-a-line files, cuts lines, flips bytes and writes
invalid UTF-8. The good records sit between the bad ones with ids the bad ones never use, and
must all load, with their values intact.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.loaders import load

SEED = 20260203
_HOSTILE: list[Any] = [
    None, "", " ", "null", "yes", "0", "-1", "1.5", "1e309", "NaN", "\u0000", "\u202e\u200b",
    "\U000e0041", "x" * 5000, 0, -1, 1.5, -0.0, 1e308, 2**31, 2**63, 99999999999999999999,
    True, False, [], [1, "a"], {}, {"a": {"b": {"c": [1]}}}, [[[[[[[[[[[[]]]]]]]]]]]],
    "2026-02-03T06:05:06+25:00", "10000-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
    1770127506789000, -1770127506, "<script>alert(1)</script>", "=cmd|' /C calc'!A0",
]


def _native(rid: str) -> dict[str, Any]:
    return {"request_id": rid, "timestamp": "2026-02-03T06:05:06Z", "account_id": "acct",
            "org_id": "org", "api_key_id": "key", "end_user_id": "u", "client_ip": "203.0.113.7",
            "user_agent": "ua", "country": "SG", "access_path": "direct",
            "endpoint": "/v1/messages", "conversation_id": "c", "model": "m", "status": 200,
            "latency_ms": 10, "input_tokens": 1, "output_tokens": 2, "stop_reason": "end_turn",
            "stream": False,
            "request": {"model": "m", "max_tokens": 5, "temperature": 0.5, "top_p": 1, "top_k": 3,
                        "n": 1, "stream": False, "logprobs": False, "top_logprobs": 1,
                        "logit_bias": {"1": 2}, "system": "s", "user": "u",
                        "thinking": {"type": "enabled", "budget_tokens": 10},
                        "tools": [{"name": "t"}], "tool_choice": {"type": "tool", "name": "t"},
                        "messages": [{"role": "user", "content": "hi"}]},
            "response": {"type": "message", "model": "m", "stop_reason": "end_turn",
                         "content": [{"type": "text", "text": "ok"}],
                         "usage": {"input_tokens": 1, "output_tokens": 2,
                                   "cache_read_input_tokens": 0,
                                   "cache_creation_input_tokens": 0}}}


def _spendlog(rid: str) -> dict[str, Any]:
    return {"request_id": rid, "call_type": "acompletion", "api_key": "hash", "spend": 0.1,
            "total_tokens": 3, "prompt_tokens": 1, "completion_tokens": 2,
            "startTime": "2026-02-03T06:05:06.000000", "endTime": "2026-02-03T06:05:07.000000",
            "model": "m", "user": "u", "team_id": "t", "organization_id": "o", "end_user": "e",
            "requester_ip_address": "198.51.100.1", "status": "success", "session_id": "s",
            "metadata": {"user_api_key_user_id": "u", "error_information": {"error_code": "404"}},
            "messages": [{"role": "user", "content": "hi"}],
            "response": {"object": "chat.completion", "choices": [
                {"message": {"content": "ok"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
            "proxy_server_request": {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                     "stream": False}}


def _payload(rid: str) -> dict[str, Any]:
    return {"id": rid, "call_type": "acompletion", "stream": False, "status": "success",
            "startTime": 1770127506.5, "endTime": 1770127507.25, "model": "m",
            "response_cost": 0.1, "prompt_tokens": 1, "completion_tokens": 2,
            "metadata": {"user_api_key_user_id": "u", "user_api_key_hash": "h"},
            "messages": [{"role": "user", "content": "hi"}], "model_parameters": {"n": 1},
            "response": {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]},
            "hidden_params": {"usage_object": {"cache_read_input_tokens": 0}},
            "error_information": {"error_code": ""}}


def _span(rid: str) -> dict[str, Any]:
    attrs = {"gen_ai.response.id": rid, "gen_ai.request.model": "m", "account.id": "acct",
             "gen_ai.request.max_tokens": 5, "gen_ai.request.temperature": 0.5,
             "gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 2,
             "gen_ai.response.finish_reasons": "stop", "http.response.status_code": 200,
             "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
                 {"type": "text", "content": "hi"}]}]),
             "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "hi",
             "llm.token_count.prompt": 1, "llm.invocation_parameters": json.dumps({"n": 1})}
    return {"traceId": "t" + rid, "spanId": "s", "startTimeUnixNano": "1770127506000000000",
            "endTimeUnixNano": "1770127507000000000", "status": {"code": 1},
            "attributes": [{"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else
                            {"doubleValue": v} if isinstance(v, float) else
                            {"stringValue": v}} for k, v in attrs.items()]}


def _otlp(span: dict[str, Any]) -> dict[str, Any]:
    return {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "x"}}]},
        "scopeSpans": [{"scope": {"name": "s"}, "spans": [span]}]}]}


def _openai_out(rid: str) -> dict[str, Any]:
    return {"id": "batch_" + rid, "custom_id": rid, "error": None, "response": {
        "status_code": 200, "request_id": rid, "body": {
            "created": 1770127506, "model": "m", "object": "chat.completion",
            "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2}}}}


def _anthropic_out(rid: str) -> dict[str, Any]:
    return {"custom_id": "c" + rid, "result": {"type": "succeeded", "message": {
        "id": rid, "type": "message", "model": "m", "stop_reason": "end_turn",
        "content": [{"type": "text", "text": "ok"}], "usage": {"input_tokens": 1}}}}


# format -> (good record for an id, where the id sits, wrap for writing, extra load args)
JSON_FORMATS: dict[str, tuple[Callable[[str], Any], Callable[[Any], Any], dict[str, Any]]] = {
    "native": (_native, lambda r: r, {}),
    "litellm": (_spendlog, lambda r: r, {}),
    "litellm_payload": (_payload, lambda r: r, {}),
    "otel": (_span, _otlp, {}),
    "openai_batch_output": (_openai_out, lambda r: r, {"account_from": "=acct"}),
    "anthropic_batch": (_anthropic_out, lambda r: r, {"account_from": "=acct"}),
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a record (dict keys and list indexes)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _set(record: Any, path: tuple[Any, ...], value: Any, drop: bool = False) -> Any:
    out = copy.deepcopy(record)
    node = out
    for p in path[:-1]:
        node = node[p]
    if drop and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _bad_records(make: Callable[[str], Any], rng: random.Random) -> Iterator[Any]:
    """Hostile variants of a good record: every field given every kind of bad value."""
    template = make("bad")
    for n, path in enumerate(_paths(template)):
        for value in rng.sample(_HOSTILE, 6):
            rec = _set(template, path, value)
            yield _set(rec, ("request_id",), f"bad-{n}") if "request_id" in rec else rec
        yield _set(template, path, None, drop=True)


def _good_ids(fmt: str, i: int) -> str:
    return f"good-{fmt}-{i}"


def _reconcile_and_keep(case: wb.Case, want: set[str]) -> None:
    bad = case.sql("select source_file, rows_read, rows_loaded, rows_quarantined, "
                   "rows_duplicate from load_batches where rows_read <> rows_loaded + "
                   "rows_quarantined + rows_duplicate")
    assert bad.height == 0, bad
    got = set(case.sql("select request_id from requests")["request_id"])
    assert want <= got, sorted(want - got)[:5]


def _corrupt_line(line: bytes, rng: random.Random) -> bytes:
    k = rng.randrange(7)
    if k == 6:  # nesting deeper than any recursive parser allows
        return line.replace(b'"hi"', b"[" * 20000 + b"]" * 20000, 1)
    if k == 0:
        return line[: rng.randrange(len(line))]
    if k == 1:
        i = rng.randrange(len(line))
        return line[:i] + bytes([line[i] ^ (1 << rng.randrange(8))]) + line[i + 1:]
    if k == 2:
        return line + b"\xff\xfe"
    if k == 3:
        i = rng.randrange(len(line))
        return line[:i] + rng.choice([b'"', b"{", b"}", b"[", b"\\", b"\x00", b","]) + line[i:]
    if k == 4:  # a key given twice: the first key of the object repeated
        return line.replace(b"{", b'{"request_id": "dup", ', 1) if line.startswith(b"{") \
            else line
    return b"\xef\xbb\xbf" + line  # a BOM inside a file


@pytest.mark.parametrize("fmt", list(JSON_FORMATS))
@pytest.mark.parametrize("layout", ["lines", "array"])
def test_json_loader_fuzz(fmt: str, layout: str, tmp_path: Path) -> None:
    make, wrap, args = JSON_FORMATS[fmt]
    rng = random.Random(f"{SEED}-{fmt}-{layout}")
    bad = list(_bad_records(make, rng))
    rng.shuffle(bad)
    records, good, is_good = [], set(), []
    for i, b in enumerate(bad):
        records.append(wrap(b))
        is_good.append(False)
        if i % 7 == 0:
            rid = _good_ids(fmt, i)
            good.add(rid)
            records.append(wrap(make(rid)))
            is_good.append(True)
    p = tmp_path / f"fuzz.{layout}.json"
    if layout == "lines":  # one bad line in five is also cut, flipped or made not UTF-8
        lines = [json.dumps(r, ensure_ascii=rng.random() < 0.5).encode() for r in records]
        out = [_corrupt_line(x, rng) if i % 5 == 3 and not g else x
               for i, (x, g) in enumerate(zip(lines, is_good, strict=True))]
        p.write_bytes(b"\n".join(out) + b"\n")
    else:
        p.write_text(json.dumps(records, indent=1))
    case = wb.open()
    report = load(case, p, progress=False, **args)
    assert report.read >= len(records) - (len(records) // 5 if layout == "lines" else 0)
    _reconcile_and_keep(case, good)
    account = "u" if fmt.startswith("litellm") else "acct"
    for rid in sorted(good)[:3]:  # and intact, not just present
        row = case.sql("select model, account_id from requests where request_id = $r", r=rid)
        assert row.rows() == [("m", account)]


def _csv_rows(rng: random.Random, header: list[str], good_row: Callable[[str], list[str]]
              ) -> tuple[bytes, set[str]]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    good = set()
    for n in range(len(header) * 8):
        row = good_row(f"bad-{n}")
        col = n % len(header)
        row[col] = str(rng.choice(_HOSTILE))
        w.writerow(row)
        if n % 5 == 0:
            rid = f"good-{n}"
            good.add(rid)
            w.writerow(good_row(rid))
    data = buf.getvalue().encode()
    data += b"bad-x,\xff\xfe,not,utf8\n" + b"too,few\n"  # reader rejects, one line each
    tail = io.StringIO()
    csv.writer(tail, lineterminator="\n").writerow(good_row("good-last"))
    good.add("good-last")
    return data + tail.getvalue().encode(), good


@pytest.mark.parametrize("kind", ["canonical", "litellm", "accounts"])
def test_csv_loader_fuzz(kind: str, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}-csv-{kind}")
    if kind == "canonical":
        header = ["request_id", "ts", "account_id", "model", "status", "latency_ms",
                  "temperature", "stream", "tool_names", "input_tokens", "system_prompt"]
        def row(rid: str) -> list[str]:
            return [rid, "2026-02-03 06:05:06+00", "acct", "m", "200", "5", "0.5", "true",
                    "[a, b]", "7", "s"]
    elif kind == "litellm":
        header = ["request_id", "call_type", "api_key", "startTime", "endTime", "model", "user",
                  "team_id", "status", "prompt_tokens", "metadata", "messages", "response"]
        def row(rid: str) -> list[str]:
            return [rid, "acompletion", "h", "2026-02-03 06:05:06", "2026-02-03 06:05:07", "m",
                    "u", "t", "success", "3", '{"user_api_key_user_id": "u"}',
                    '[{"role": "user", "content": "hi"}]', "{}"]
    else:
        header = ["account_id", "org_id", "created_at", "payment_fingerprint", "email_domain",
                  "country", "signup_path", "verified"]
        def row(rid: str) -> list[str]:
            return [rid, "o", "2026-01-01T00:00:00Z", "fp", "x.com", "SG", "self_serve", "true"]
    data, good = _csv_rows(rng, header, row)
    p = tmp_path / f"{kind}.csv"
    p.write_bytes(data)
    case = wb.open()
    if kind == "accounts":
        load(case, [], accounts=p, progress=False)
        got = set(case.sql("select account_id from accounts")["account_id"])
        assert good <= got
        bad = case.sql("select * from load_batches where rows_read <> rows_loaded + "
                       "rows_quarantined + rows_duplicate")
        assert bad.height == 0
        return
    load(case, p, progress=False)
    _reconcile_and_keep(case, good)
