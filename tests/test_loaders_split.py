"""The streaming JSON splitter: records out of documents and arrays, bounded memory."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from workbench.loaders import _split, _stream

_ALPHABET = ['a', '"', "\\", "{", "}", "[", "]", ",", ":", "\n", " ", "é", "\u2028", 'x']


def _value(rng: random.Random, depth: int = 0) -> object:
    k = rng.random()
    if depth > 3 or k < 0.3:
        return rng.choice([1, -2.5, True, None, _text(rng)])
    if k < 0.6:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_text(rng): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 12)))


def _cut(path: Path, rule: _split.Rule = _split.DEFAULT) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for t in _split.records(path, rule):
        out += list(zip(t.column("line").to_pylist(), t.column("text").to_pylist(),
                        strict=True))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_records_match_pythons_json_whatever_the_block_size(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        recs = [{_text(rng): _value(rng), "id": i} for i in range(rng.randint(1, 6))]
        form = rng.choice(["array", "documents", "page"])
        indent = rng.choice([None, 1, 2])
        text = {"array": json.dumps(recs, indent=indent),
                "documents": "\n".join(json.dumps(r, indent=indent, ensure_ascii=False)
                                       for r in recs),
                "page": json.dumps({"data": recs, "total": len(recs)}, indent=indent)}[form]
        p = tmp_path / "x.json"
        p.write_bytes(text.encode())
        monkeypatch.setattr(_stream, "BLOCK", rng.choice([1, 2, 3, 7, 64, 4096]))
        assert [json.loads(t) for _, t in _cut(p)] == recs


def test_lines_and_junk_are_reported_where_they_start(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('[\n  {"a": 1},\n  5,\n  {"b":\n    2}\n]\ngarbage\n')
    assert _cut(p) == [(2, '{"a": 1}'), (3, "5"), (4, '{"b":\n    2}'), (7, "garbage")]


def test_an_unfinished_document_is_one_record(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('[{"a": 1}, {"a": 2')
    assert _cut(p) == [(1, '{"a": 1}'), (1, '{"a": 2')]


def test_otlp_spans_keep_their_resource_and_scope(tmp_path: Path) -> None:
    doc = {"resourceSpans": [
        {"resource": {"attributes": [{"key": "account.id", "value": {"stringValue": "a"}}]},
         "scopeSpans": [{"scope": {"name": "s1"}, "spans": [{"spanId": "1"}, {"spanId": "2"}]}]},
        {"resource": {"attributes": []}, "scopeSpans": [{"spans": [{"spanId": "3"}]}]}]}
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc, indent=2))
    got = [json.loads(t)["resourceSpans"][0] for _, t in _cut(p, _split.OTLP)]
    assert [(g["scopeSpans"][0]["spans"][0]["spanId"], g["resource"]["attributes"],
             g["scopeSpans"][0].get("scope")) for g in got] == [
        ("1", doc["resourceSpans"][0]["resource"]["attributes"], {"name": "s1"}),
        ("2", doc["resourceSpans"][0]["resource"]["attributes"], {"name": "s1"}),
        ("3", [], None)]


def test_a_large_document_is_never_held_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # 40 MB of spans fed in 1 MB blocks: the buffer holds at most a block and a span.
    monkeypatch.setattr(_split, "KEY_MARGIN", 1 << 10)
    sp = _split.Splitter(_split.OTLP)
    span = json.dumps({"spanId": "x", "attributes": [{"key": "k", "value": {
        "stringValue": "v" * 2000}}]}, indent=2).encode()
    head = b'{"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": ['
    body = head + b",\n".join([span] * 20000) + b"]}]}]}"
    biggest = 0
    for i in range(0, len(body), 1 << 20):
        sp.feed(body[i:i + (1 << 20)])
        biggest = max(biggest, len(sp.buf))
        sp.take()
    sp.finish()
    assert biggest < (1 << 20) + 2 * len(span)
    assert len(body) > 20 * biggest


def test_an_oversize_record_keeps_only_its_head(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stream, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(_stream, "HEAD_BYTES", 100)
    monkeypatch.setattr(_stream, "BLOCK", 256)
    p = tmp_path / "x.json"
    p.write_text(json.dumps([{"a": "x" * 5000}, {"b": 1}], indent=1))
    t = next(_split.records(p))
    assert t.column("oversize").to_pylist() == [True, False]
    assert len(t.column("text")[0].as_py()) == 100
    assert t.column("nbytes")[0].as_py() > 5000


@pytest.mark.parametrize("seed", range(4))
def test_lines_match_a_plain_split_whatever_the_block_and_chunk_size(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Line files are cut by _stream.chunks, which hands each block's complete lines on as views
    # and drops the newlines in one pass: hold it to a plain split of the bytes.
    rng = random.Random(seed)
    for _ in range(30):
        lines = [rng.choice([b"", b"  ", b'{"a": 1}', b"\xff\xfe", "é\u2028x".encode(),
                             b'{"t": "' + b"w" * rng.randint(0, 300) + b'"}'])
                 for _ in range(rng.randint(1, 25))]
        crlf, final = rng.random() < 0.3, rng.random() < 0.7
        data = (b"\r\n" if crlf else b"\n").join(lines) + ((b"\r\n" if crlf else b"\n")
                                                          if final else b"")
        p = tmp_path / "x.jsonl"
        p.write_bytes(data)
        monkeypatch.setattr(_stream, "BLOCK", rng.choice([1, 2, 3, 7, 64, 4096]))
        monkeypatch.setattr(_stream, "CHUNK_ROWS", rng.choice([1, 4, 20000]))
        got: list[tuple[int, str, int, bool]] = []
        for t in _stream.chunks(p):
            got += list(zip(*(t.column(c).to_pylist() for c in ("line", "text", "nbytes",
                                                                 "utf8_ok")), strict=True))
        want_lines = data.split(b"\n")
        if want_lines[-1] == b"":
            want_lines.pop()
        want = [(i, b.removesuffix(b"\r").decode("utf-8", errors="backslashreplace"),
                 len(b.removesuffix(b"\r")), _utf8(b.removesuffix(b"\r")))
                for i, b in enumerate(want_lines, 1)]
        assert got == want


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
