"""Hostile input never costs good data (issue 15, the loader items): each test reproduces one
reported failure. Damaged files, one absurd record, files given as the wrong thing, a full
disk: the good records load, the bad ones are quarantined with a reason, the command line says
one line, and nothing is half-written."""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import zstandard
from click.testing import CliRunner

import workbench as wb
from workbench.cli import _register, cli

FIX = Path(__file__).parent / "fixtures" / "loaders"
_register()


def _rec(rid: str, **extra: object) -> dict[str, object]:
    return {"request_id": rid, "timestamp": 1770127506, "account_id": "a", "model": "m", **extra}


def _lines(n: int, prefix: str = "r") -> bytes:
    return b"".join(json.dumps(_rec(f"{prefix}{i}")).encode() + b"\n" for i in range(n))


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def _reconciles(case: wb.Case) -> None:
    bad = case.sql("select * from load_batches where rows_read <> rows_loaded + "
                   "rows_quarantined + rows_duplicate")
    assert bad.height == 0, bad


def _reasons(case: wb.Case) -> list[str]:
    return sorted(case.sql("select reason from quarantine")["reason"].to_list())


# 1. A truncated .zst file is taken as complete.
def test_truncated_zstd_is_unreadable_not_complete(tmp_path: Path) -> None:
    data = zstandard.ZstdCompressor().compress(_lines(20000))
    p = tmp_path / "cut.jsonl.zst"
    p.write_bytes(data[: len(data) // 2])
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert 0 < report.loaded < 20000
    assert "unreadable" in _reasons(c)
    assert set(_reasons(c)) <= {"unreadable", "malformed_json"}
    _reconciles(c)


# 2. One record's overflow aborts the whole load, every file in it.
@pytest.mark.parametrize("field", [
    {"request": {"logprobs": 99999999999999999999}},
    {"request": {"max_tokens": 99999999999999999999}},
    {"request": {"temperature": 1e400}},
    {"latency_ms": 99999999999999999999},
    {"status": -99999999999999999999},
    {"timestamp": 1e300},
    {"response": {"usage": {"input_tokens": 2147483647, "cache_read_input_tokens": 2147483647}}},
    {"request": {"thinking": {"type": "enabled", "budget_tokens": 1e30}}},
])
def test_one_overflowing_record_is_quarantined_alone(tmp_path: Path,
                                                     field: dict[str, object]) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(_lines(3, "g"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**_rec("x"), **field}) + "\n" + json.dumps(_rec("y")) + "\n")
    c = wb.open()
    report = wb.load(c, [good, bad], progress=False)
    assert (report.loaded, report.quarantined) == (4, 1)
    assert _reasons(c)[0] in {"wrong_type", "bad_timestamp"}


# 3. Corrupt gzip (also trailing garbage, NUL padding) or corrupt zstd crash the load.
def _corrupt(data: bytes) -> bytes:
    return data[:40] + bytes(b ^ 0x5A for b in data[40:200]) + data[200:]


@pytest.mark.parametrize(("name", "make", "unreadable"), [
    ("corrupt.jsonl.gz", lambda d: _corrupt(gzip.compress(d)), True),
    ("trailing.jsonl.gz", lambda d: gzip.compress(d) + b"this is not gzip", True),
    ("padded.jsonl.gz", lambda d: gzip.compress(d) + b"\0" * 4096, False),
    ("corrupt.jsonl.zst",
     lambda d: _corrupt(zstandard.ZstdCompressor(write_checksum=True).compress(d)), True),
    ("garbage.jsonl.zst", lambda d: b"\x28\xb5\x2f\xfd" + os.urandom(300), True),
])
def test_damaged_compression_is_unreadable_not_a_traceback(
        tmp_path: Path, name: str, make: object, unreadable: bool) -> None:
    p = tmp_path / name
    p.write_bytes(make(_lines(300)))  # type: ignore[operator]
    ok = tmp_path / "ok.jsonl"
    ok.write_bytes(_lines(5, "ok"))
    code, out, err = _run("load", str(ok), str(p), "--db", str(tmp_path / "c.duckdb"),
                          "--quiet")
    assert code == 0, err
    assert "Traceback" not in out + err
    case = wb.open(tmp_path / "c.duckdb", read_only=True)
    assert ("unreadable" in _reasons(case)) is unreadable
    assert case.sql("select count(*) from requests where request_id like 'ok%'").item() == 5
    if not unreadable:  # NUL padding after the last member is padding, as gzip -t says
        assert case.count("requests") == 305
    _reconciles(case)


# 4. One valid 200 MB record aborts with OutOfMemoryException under the default limit.
def test_a_200_megabyte_record_is_quarantined_and_the_rest_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("WORKBENCH_MAX_RECORD_BYTES", raising=False)
    p = tmp_path / "big.jsonl"
    with p.open("w") as f:
        f.write(json.dumps(_rec("before")) + "\n")
        f.write(json.dumps(_rec("huge", request={"messages": [
            {"role": "user", "content": "x" * (200 << 20)}]})) + "\n")
        f.write(json.dumps(_rec("after")) + "\n")
    code, out, err = _run("load", str(p), "--db", str(tmp_path / "c.duckdb"), "--quiet")
    assert code == 0, err
    case = wb.open(tmp_path / "c.duckdb", read_only=True)
    assert sorted(case.sql("select request_id from requests")["request_id"]) == [
        "after", "before"]
    row = case.sql("select reason, detail, length(raw) as n, raw_bytes from quarantine").row(0)
    assert row[0] == "too_large"
    assert "over the limit" in row[1]
    assert "WORKBENCH_MAX_RECORD_BYTES" in row[1]
    assert row[2] <= 65536 < (200 << 20) < row[3]


# 5. An empty file in a glob ("Cannot tell the format") aborts the load of every other day.
def test_an_empty_file_in_a_glob_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "day1.jsonl").write_bytes(_lines(3, "a"))
    (tmp_path / "day2.jsonl").write_bytes(b"")
    (tmp_path / "day3.jsonl.gz").write_bytes(gzip.compress(b"\n  \n"))
    (tmp_path / "day4.jsonl").write_bytes(_lines(2, "b"))
    c = wb.open()
    report = wb.load(c, str(tmp_path / "day*"), progress=False)
    assert report.loaded == 5
    assert "day2.jsonl: skipped, empty file" in str(report)


# 10. One line, no traceback: a file given as the wrong thing, a full disk, no write access.
@pytest.mark.parametrize(("args", "message"), [
    ([str(FIX / "native_styles.jsonl"), "--format", "canonical_csv"], "is not canonical_csv"),
    (["--releases", "ACCOUNTS"], "given as --releases, is not releases"),
    (["--accounts", str(FIX / "native_styles.jsonl")], "given as --accounts, is not accounts"),
])
def test_a_file_given_as_the_wrong_thing_is_one_line(tmp_path: Path, args: list[str],
                                                     message: str) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,org_id,created_at,payment_fingerprint,email_domain,country,"
                        "signup_path,verified\na1,o1,2026-01-01T00:00:00Z,fp,x.com,SG,"
                        "self_serve,true\n")
    args = [str(accounts) if a == "ACCOUNTS" else a for a in args]
    code, _, err = _run("load", *args, "--db", str(tmp_path / "c.duckdb"))
    assert code != 0
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


_FULL_DISK = """
import json, os, resource, signal, sys
from click.testing import CliRunner
from workbench.cli import _register, cli
_register()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
db, small, big = sys.argv[1:4]
def load(path):
    r = CliRunner().invoke(cli, ["load", path, "--db", db, "--quiet"])
    return r.exit_code, r.stderr
print(json.dumps(load(small)))
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(db) + 200_000,
                                           resource.RLIM_INFINITY))
print(json.dumps(load(big)))
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print(json.dumps(load(big)))
"""


def test_a_full_disk_is_one_line_and_the_next_load_is_not_masked(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"".join(json.dumps(_rec(f"b{i}", request={"messages": [
        {"role": "user", "content": f"{i} " + "x" * 400}]})).encode() + b"\n"
        for i in range(20000)))
    db = tmp_path / "c.duckdb"
    out = subprocess.run([sys.executable, "-c", _FULL_DISK, str(db),
                          str(FIX / "native_styles.jsonl"), str(big)],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    first, full, after = (json.loads(x) for x in out.strip().splitlines())
    assert first[0] == 0
    assert full[0] != 0
    assert "nothing was kept" in full[1]
    assert "File too large" in full[1]
    assert "cannot rollback" not in full[1]
    assert full[1].count("\n") == 1
    assert after[0] == 0, after[1]  # the failed load left nothing behind that blocks this one
    case = wb.open(db, read_only=True)
    assert case.count("requests") == 5 + 20000
    _reconciles(case)


def _unwritable(tmp_path: Path) -> Path:
    if os.geteuid() == 0:  # root writes through file modes; sysfs refuses even root
        return Path("/sys")
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    return d


@pytest.mark.parametrize("sub", ["case.duckdb", "missing/deeper/case.duckdb"])
def test_an_unwritable_case_folder_is_one_line(tmp_path: Path, sub: str) -> None:
    db = _unwritable(tmp_path) / sub
    code, _, err = _run("load", str(FIX / "native_styles.jsonl"), "--db", str(db))
    assert code != 0
    assert "Give a --db path in a folder you can write to" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


# 11. Lesser ones.
def test_a_byte_order_mark_costs_no_record(tmp_path: Path) -> None:
    for name, data in [("bom.jsonl", b"\xef\xbb\xbf" + _lines(2)),
                       ("bom.json", b"\xef\xbb\xbf" + json.dumps([_rec("p0")]).encode()),
                       ("bom.jsonl.gz", gzip.compress(b"\xef\xbb\xbf" + _lines(2, "z")))]:
        p = tmp_path / name
        p.write_bytes(data)
        c = wb.open()
        report = wb.load(c, p, progress=False)
        assert report.quarantined == 0, (name, c.sql("select * from quarantine").rows())
        assert report.loaded == report.read > 0


def test_glob_characters_in_a_real_file_name(tmp_path: Path) -> None:
    p = tmp_path / "logs[2026]*?.jsonl"
    p.write_bytes(_lines(2))
    (tmp_path / "logs2.jsonl").write_bytes(_lines(3, "other"))  # what the glob would match
    c = wb.open()
    assert wb.load(c, p, progress=False).loaded == 2
    assert c.sql("select distinct source_file from requests").item() == str(p)


def test_duckdb_does_not_glob_a_canonical_csv_name_again(tmp_path: Path) -> None:
    head = "request_id,ts,account_id,model\n"
    (tmp_path / "g*.csv").write_text(head + "r1,2026-02-03T06:05:06Z,a,m\n")
    (tmp_path / "g1.csv").write_text(head + "x1,2026-02-03T06:05:06Z,a,m\n")
    c = wb.open()
    report = wb.load(c, tmp_path / "g*.csv", progress=False)
    assert report.loaded == 1
    assert c.sql("select request_id, source_file from requests").rows() == [
        ("r1", str(tmp_path / "g*.csv"))]


def test_a_non_case_duckdb_file_is_not_turned_into_a_case(tmp_path: Path) -> None:
    other = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table revenue (day date, usd double)")
    code, _, err = _run("load", str(FIX / "native_styles.jsonl"), "--db", str(other))
    assert code != 0
    assert "is a DuckDB database but not a case (it holds revenue)" in err
    with duckdb.connect(str(other), read_only=True) as con:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert names == {"revenue"}


@pytest.mark.parametrize(("field", "reason"), [
    ({"timestamp": "2026-02-03T06:05:06+25:00"}, "bad_timestamp"),
    ({"timestamp": "10000-01-01T00:00:00Z"}, "bad_timestamp"),
    ({"timestamp": 253402300800000}, "bad_timestamp"),  # year 10000 in epoch milliseconds
    ({"latency_ms": 1.5}, "wrong_type"),
    ({"status": 200.5}, "wrong_type"),
    ({"request": {"logprobs": "yes", "messages": []}}, "wrong_type"),
    ({"request": {"stream": "no", "messages": []}}, "wrong_type"),
    ({"request": {"max_tokens": 12.25}}, "wrong_type"),
])
def test_values_that_do_not_convert_exactly_are_refused(tmp_path: Path,
                                                        field: dict[str, object],
                                                        reason: str) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({**_rec("r1"), **field}) + "\n")
    c = wb.open()
    wb.load(c, p, progress=False)
    assert _reasons(c) == [reason]


def test_exact_values_still_convert(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps(_rec("r1", latency_ms=1500.0, status="200",
                                 timestamp="2026-02-03T06:05:06.5-14:00",
                                 request={"logprobs": False, "messages": []})) + "\n")
    c = wb.open()
    wb.load(c, p, progress=False)
    row = c.sql("select latency_ms, status, ts, logprobs from requests").row(0)
    assert row[:2] == (1500, 200)
    assert str(row[2]) == "2026-02-03 20:05:06.500000+00:00"
    assert row[3] is False


@pytest.mark.parametrize("record", [
    '{"request_id": "r1", "timestamp": 1770127506, "account_id": "innocent", '
    '"account_id": "attacker", "model": "m"}',
    '{"request_id": "r1", "timestamp": 1770127506, "account_id": "a", "model": "m", '
    '"request": {"messages": [{"role": "user", "content": "x"}], "model": "a", "model": "b"}}',
    '{"request_id": "r1", "timestamp": 1770127506, "account_id": "a", "model": "m", '
    '"response": {"type": "message", "usage": {"input_tokens": 1}, "usage": {}}}',
    # the text detectors would read one prompt, a Python reader of the raw the other
    '{"request_id": "r1", "timestamp": 1770127506, "account_id": "a", "model": "m", '
    '"request": {"messages": [{"role": "user", "content": "benign", "content": "harvest"}]}}',
    '{"request_id": "r1", "timestamp": 1770127506, "account_id": "a", "model": "m", '
    '"request": {"messages": [{"role": "user", "content": [{"type": "text", "text": "a", '
    '"text": "b"}]}]}}',
])
def test_a_key_given_twice_is_refused_not_resolved(tmp_path: Path, record: str) -> None:
    # Python's json keeps the last value, DuckDB's reader the first: either way one reader of
    # the raw record would disagree with the case, so the record is quarantined.
    p = tmp_path / "a.jsonl"
    p.write_text(record + "\n" + json.dumps(_rec("ok")) + "\n")
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert (report.loaded, report.quarantined) == (1, 1)
    reason, detail = c.sql("select reason, detail from quarantine").row(0)
    assert reason == "duplicate_key"
    assert "appears twice" in detail


def test_nesting_deeper_than_a_recursive_parser_allows(tmp_path: Path) -> None:
    deep = "[" * 50000 + "]" * 50000
    p = tmp_path / "deep.jsonl"
    p.write_text('{"request_id": "d1", "timestamp": 1770127506, "account_id": "a", "model": "m", '
                 f'"request": {{"messages": {deep}}}}}\n' + json.dumps(_rec("ok")) + "\n")
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert report.read == 2 == report.loaded + report.quarantined
    assert "ok" in set(c.sql("select request_id from requests")["request_id"])


def test_resource_limits_are_restored() -> None:
    # The full-disk test lowers RLIMIT_FSIZE only in its own subprocess.
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY
