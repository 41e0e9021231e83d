"""Canonical CSV and Parquet exports (globs, hive folders, compression) and reference tables."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench as wb

FIX = Path(__file__).parent / "fixtures" / "loaders"


@pytest.fixture(scope="module")
def source() -> wb.Case:
    c = wb.open()
    wb.load(c, FIX / "native_styles.jsonl", progress=False)
    return c


def _export(case: wb.Case, out: Path, fmt: str) -> None:
    opts = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet",
            "csv.gz": "FORMAT csv, HEADER, COMPRESSION gzip",
            "hive": "FORMAT parquet, PARTITION_BY (api_style)"}[fmt]
    target = str(out).replace("'", "''")
    with case.connect() as con:
        con.execute(f"COPY (select r.* exclude (load_batch, source_file, source_line), "
                    f"c.system_prompt from requests r left join request_content c "
                    f"using (request_id)) TO '{target}' ({opts})").fetchall()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "csv.gz", "hive"])
def test_canonical_round_trip(source: wb.Case, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / ("export" if fmt == "hive" else f"export.{fmt}")
    _export(source, out, fmt)
    c = wb.open()
    report = wb.load(c, out, progress=False)
    assert report.loaded == 5
    assert report.quarantined == 0
    cols = "request_id, ts, api_style, prompt_text, output_text, tool_names, thinking_budget"
    want = source.sql(f"select {cols} from requests order by request_id")
    assert c.sql(f"select {cols} from requests order by request_id").equals(want)
    sys_prompt = c.sql("select system_prompt from request_content where request_id = 'req_chat'")
    assert sys_prompt["system_prompt"][0] == "sys"


def test_canonical_csv_bad_rows(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b"request_id,ts,account_id,model,status\n"
                  b"r1,2026-02-03T06:05:06Z,a,m,200\n"
                  b"r2,never,a,m,200\n"
                  b"r3,2026-02-03T06:05:06Z,a,m,ok\n"
                  b"r4,2026-02-03T06:05:06Z,,m,200\n"
                  b"r5,2026-02-03T06:05:06Z,\xff,m,200\n")
    c = wb.open()
    report = wb.load(c, p, progress=False)
    assert report.read == 5 == report.loaded + report.quarantined
    got = sorted(c.sql("select reason from quarantine")["reason"].to_list())
    assert got == ["bad_timestamp", "missing_field", "not_utf8", "wrong_type"]


def test_accounts_and_releases(tmp_path: Path) -> None:
    acc = tmp_path / "accounts.csv"
    acc.write_text("account_id,org_id,created_at,payment_fingerprint,email_domain,country,"
                   "signup_path,verified\n"
                   "a1,o1,2026-01-01T00:00:00Z,fp1,example.com,SG,self_serve,true\n"
                   "a2,o1,2026-01-02T00:00:00Z,fp1,example.com,SG,education,maybe\n"
                   "a1,o1,2026-01-01T00:00:00Z,fp1,example.com,SG,self_serve,true\n")
    rel = tmp_path / "releases.csv"
    rel.write_text("model,released_at\nm1,2025-05-01T00:00:00Z\n")
    c = wb.open()
    report = wb.load(c, [], accounts=acc, releases=rel, progress=False)
    assert [(f.counts.loaded, f.counts.quarantined, f.counts.duplicate)
            for f in report.files] == [(1, 1, 1), (1, 0, 0)]
    assert c.sql("select reason from quarantine")["reason"].to_list() == ["wrong_type"]
