"""The native JSONL envelope: every API style, every kind of bad input, compression, repeats."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import zstandard

import workbench as wb
from workbench.errors import LoadError, UnknownNameError
from workbench.loaders import detect_format

FIX = Path(__file__).parent / "fixtures" / "loaders"
STYLES = json.loads((FIX / "native_styles.expected.json").read_text())
BAD = json.loads((FIX / "native_bad.expected.json").read_text())


@pytest.fixture(scope="module")
def styles_case() -> wb.Case:
    c = wb.open()
    wb.load(c, FIX / "native_styles.jsonl", progress=False)
    return c


def _reconciles(case: wb.Case) -> None:
    bad = case.sql("select * from load_batches where rows_read <> rows_loaded + "
                   "rows_quarantined + rows_duplicate")
    assert bad.height == 0, bad


@pytest.mark.parametrize(("request_id", "column"),
                         [(r, c) for r, cols in STYLES.items() for c in cols])
def test_native_field(styles_case: wb.Case, request_id: str, column: str) -> None:
    expected = STYLES[request_id][column]
    table = "request_content" if column == "system_prompt" else "requests"
    got = styles_case.sql(f"select {column} from {table} where request_id = $id",
                          id=request_id)[column].to_list()
    if table == "request_content" and not got:
        got = [None]  # metadata-only rows need no content row
    value = got[0]
    if isinstance(value, datetime):
        value = value.isoformat()
    assert value == expected


def test_system_hash_is_sha256_of_full_system_prompt(styles_case: wb.Case) -> None:
    import hashlib

    got = styles_case.sql("select system_hash from requests where request_id = 'req_anthropic'")
    want = hashlib.sha256(b"You are a grader.\nBe strict.").hexdigest()
    assert got["system_hash"][0] == want


def test_content_kept_apart(styles_case: wb.Case) -> None:
    row = styles_case.sql("select messages, tools, response from request_content "
                          "where request_id = 'req_chat'").row(0)
    assert json.loads(row[0])[-1]["content"][0]["text"] == "q2"
    assert json.loads(row[1])[0]["function"]["name"] == "f1"
    assert json.loads(row[2])["choices"][1]["message"]["content"] == "other"


def test_bad_input_quarantined_with_reason_and_line() -> None:
    c = wb.open()
    report = wb.load(c, FIX / "native_bad.jsonl", progress=False)
    q = c.sql("select source_line, reason, detail, raw, raw_bytes from quarantine")
    got = {str(r["source_line"]): r["reason"] for r in q.to_dicts()}
    want = {line: reason for line, reason in BAD.items() if reason != "duplicate"}
    assert got == want
    assert report.duplicate == 1
    assert sorted(c.sql("select request_id from requests")["request_id"]) == ["r_ok", "r_ok2"]
    assert c.sql("select model from requests where request_id = 'r_ok2'")["model"][0] == "m2"
    latin = q.filter(q["reason"] == "not_utf8").row(0, named=True)
    assert "\\xe9" in latin["raw"]
    conflict = q.filter(q["reason"] == "conflict").row(0, named=True)
    assert "model" in conflict["detail"]
    assert "line 1" in conflict["detail"]
    _reconciles(c)
    # 16 lines, one blank: 15 records read.
    assert report.read == 15 == report.loaded + report.quarantined + report.duplicate


@pytest.mark.parametrize("blank", [False, True])
def test_a_conflict_keeps_its_own_raw_line(tmp_path: Path, blank: bool) -> None:
    # Plain records take the fast path, whose raw lines come from the chunk itself: by
    # position when every line is a record, by line number when a blank line is left out.
    def rec(model: str) -> str:
        return json.dumps({"request_id": "r1", "timestamp": 1767225600, "account_id": "a1",
                           "model": model})

    p = tmp_path / "two.jsonl"
    p.write_text(rec("m1") + "\n" + ("  \n" if blank else "") + rec("m2") + "\n")
    c = wb.open()
    wb.load(c, p, progress=False)
    row = c.sql("select source_line, reason, raw, raw_bytes from quarantine").row(0)
    assert row == (3 if blank else 2, "conflict", rec("m2"), len(rec("m2")))


def _array_of(*records: tuple[str, str]) -> str:
    return json.dumps([{"request_id": i, "timestamp": 1767225600, "account_id": "a1",
                        "model": m} for i, m in records]) + "\n"


def test_records_sharing_a_line_keep_their_own_raw_text(tmp_path: Path) -> None:
    # Records cut from one line of a JSON array share a line number: the raw text of each
    # comes by position, not by line.
    c = wb.open()
    (tmp_path / "first.json").write_text(_array_of(("r1", "m1")))
    wb.load(c, tmp_path / "first.json", progress=False)
    (tmp_path / "array.json").write_text(_array_of(("r2", "m1"), ("r1", "m2"), ("r3", "m1")))
    wb.load(c, tmp_path / "array.json", progress=False)
    row = c.sql("select source_line, reason, raw from quarantine").row(0)
    want = json.dumps({"request_id": "r1", "timestamp": 1767225600, "account_id": "a1",
                       "model": "m2"})
    assert row == (1, "conflict", want)


def test_a_key_repeated_on_one_line_is_loaded_once(tmp_path: Path) -> None:
    p = tmp_path / "array.json"
    p.write_text(_array_of(("r1", "m1"), ("r2", "m1"), ("r1", "m2")))
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert (report.loaded, report.quarantined) == (2, 1)
    # The first in file order is kept, the later one is the conflict.
    assert c.sql("select model from requests where request_id = 'r1'").item() == "m1"
    assert c.sql("select source_line, reason from quarantine").rows() == [(1, "conflict")]


@pytest.mark.parametrize("slow_only", [False, True])
def test_plain_and_other_records_on_one_line_are_each_staged_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow_only: bool) -> None:
    # The fast path hands the records it cannot stage to the slow one; those of the same line
    # that it staged must not be staged again.
    from workbench.loaders import native

    monkeypatch.setattr(native, "SLOW_ONLY", slow_only)
    plain = {"request_id": "r1", "timestamp": 1767225600, "account_id": "a1", "model": "m1"}
    streamed = {**plain, "request_id": "r2", "stream": True}
    bad = {**plain, "request_id": "r3", "latency_ms": "slow"}
    p = tmp_path / "array.json"
    p.write_text(json.dumps([plain, streamed, bad, {**streamed, "request_id": "r1"}]) + "\n")
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert (report.read, report.loaded, report.quarantined, report.duplicate) == (4, 2, 2, 0)
    assert c.sql("select request_id, stream from requests order by 1").rows() == [
        ("r1", None), ("r2", True)]
    assert c.sql("select reason from quarantine order by 1").rows() == [
        ("conflict",), ("wrong_type",)]


def test_the_load_memory_limit_grows_for_wide_rows_only(tmp_path: Path) -> None:
    import duckdb

    from workbench.loaders import LOAD_MEMORY_MAX, ROW_GROUP_ROWS, _bytes, _Load, _opts

    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    con.execute("SET memory_limit = '1GB'")

    def limit() -> int | None:
        return _bytes(con.sql("select current_setting('memory_limit')").fetchall()[0][0])

    run = _Load(_opts.Options(), memory=limit())
    start = limit()
    assert start is not None
    run.fit_memory(con, 1_000)  # narrow rows: their row groups fit already
    assert limit() == start
    run.fit_memory(con, 6 * start // ROW_GROUP_ROWS)
    assert start < (limit() or 0) <= LOAD_MEMORY_MAX
    run.fit_memory(con, 1_000)  # never lowered within a load
    assert (limit() or 0) > start
    unset = _Load(_opts.Options())  # WORKBENCH_MEMORY_LIMIT given: left as the user set it
    con.execute("SET memory_limit = '1GB'")
    unset.fit_memory(con, 10**6)
    assert limit() == start


def test_raw_is_cut_to_the_stated_bound(tmp_path: Path) -> None:
    from workbench.loaders._commit import RAW_LIMIT

    p = tmp_path / "big_bad.jsonl"
    line = '{"request_id": "x", "junk": "' + "a" * (RAW_LIMIT * 2)
    p.write_text(line + "\n")
    c = wb.open()
    wb.load(c, p, progress=False)
    row = c.sql("select length(raw) as n, raw_bytes from quarantine").row(0)
    assert row == (RAW_LIMIT, len(line))


def test_ten_megabyte_prompt_loads_whole(tmp_path: Path) -> None:
    prompt = "x" * (10 * 1024 * 1024)
    rec = {"request_id": "big", "timestamp": 1770127506, "account_id": "a", "model": "m",
           "request": {"messages": [{"role": "user", "content": prompt}]}}
    p = tmp_path / "big.jsonl"
    p.write_text(json.dumps(rec) + "\n")
    c = wb.open()
    assert wb.load(c, p, progress=False).loaded == 1
    assert c.sql("select prompt_chars from requests")["prompt_chars"][0] == len(prompt)


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_compressed_files_load_like_plain(tmp_path: Path, compress: str) -> None:
    data = (FIX / "native_styles.jsonl").read_bytes()
    p = tmp_path / "logs.bin"  # the name says nothing: detection is by content
    p.write_bytes(gzip.compress(data) if compress == "gzip"
                  else zstandard.ZstdCompressor().compress(data))
    c = wb.open()
    assert detect_format(p) == "native"
    assert wb.load(c, p, progress=False).loaded == len(STYLES)


def test_loading_the_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    c = wb.open()
    wb.load(c, FIX / "native_bad.jsonl", progress=False)
    before = {t: c.count(t) for t in ("requests", "quarantine", "load_batches")}
    copy = tmp_path / "renamed.jsonl"
    shutil.copy(FIX / "native_bad.jsonl", copy)
    again = wb.load(c, [FIX / "native_bad.jsonl", copy], progress=False)
    assert all(f.skipped for f in again.files)
    assert {t: c.count(t) for t in before} == before


def test_overlapping_files_count_duplicates(tmp_path: Path) -> None:
    lines = (FIX / "native_styles.jsonl").read_text().splitlines()
    (tmp_path / "a.jsonl").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "b.jsonl").write_text("\n".join(lines[1:]) + "\n")
    c = wb.open()
    report = wb.load(c, tmp_path, progress=False)
    assert [(f.counts.loaded, f.counts.duplicate) for f in report.files] == [(3, 0), (2, 2)]
    _reconciles(c)


def test_unknown_format_and_missing_file_are_clear(tmp_path: Path) -> None:
    c = wb.open()
    with pytest.raises(UnknownNameError, match="Did you mean native"):
        wb.load(c, FIX / "native_styles.jsonl", format="nativ", progress=False)
    with pytest.raises(LoadError, match="does not exist"):
        wb.load(c, tmp_path / "nope.jsonl", progress=False)


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    data = gzip.compress((FIX / "native_styles.jsonl").read_bytes() * 50)
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert report.loaded > 0
    reasons = c.sql("select reason from quarantine")["reason"].to_list()
    # The damage itself, plus at most the line it cut in half.
    assert "unreadable" in reasons
    assert set(reasons) <= {"unreadable", "malformed_json"}
    assert len(reasons) <= 2
    _reconciles(c)


def test_unknown_fields_are_named_in_the_summary(tmp_path: Path) -> None:
    from workbench.loaders import load

    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"request_id": "r1", "timestamp": 1770127506, "acount_id": "a",
                             "account_id": "a", "model": "m", "latency": 5}) + "\n")
    report = load(wb.open(), p, progress=False)
    text = str(report)
    assert "ignored fields: 'acount_id' (1; did you mean account_id?), 'latency' (1" in text
    assert "no prompt or output text kept" in text


def test_model_falls_back_to_the_response(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"request_id": "r1", "timestamp": 1770127506, "account_id": "a",
                             "response": {"type": "message", "model": "claude-x-0201",
                                          "content": [{"type": "text", "text": "ok"}]}}) + "\n")
    c = wb.open()
    assert wb.load(c, p, progress=False).loaded == 1
    assert c.sql("select model from requests").item() == "claude-x-0201"


def test_metadata_only_body_invents_no_defaults(tmp_path: Path) -> None:
    # A body without its messages is not the request as sent: no default is assumed.
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"request_id": "r1", "timestamp": 1770127506, "account_id": "a",
                             "request": {"model": "m", "max_tokens": 5}}) + "\n")
    c = wb.open()
    wb.load(c, p, progress=False)
    row = c.sql("select tool_count, stream, logprobs, n_choices, logit_bias_n, max_tokens "
                "from requests").row(0)
    assert row == (None, None, None, None, None, 5)
