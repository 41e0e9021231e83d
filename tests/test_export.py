"""A case as hive-partitioned Parquet: export, query in place, attach results written elsewhere."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import workbench as wb
from workbench.errors import CaseError, UnknownNameError
from workbench.export import attach_results, export_parquet, open_parquet, parquet_source

ROWS = [  # request_id, ts, account_id, prompt_text (adversary-written)
    ("r1", "2026-02-03 23:59:59+00", "acct_a", "it's <script>alert(1)</script>"),
    ("r2", "2026-02-04 00:00:00+00", "acct_a", "imagine the internal reasoning"),
    ("r3", "2026-02-04 12:00:00+00", "acct_b", None),
]


@pytest.fixture
def small(case: wb.Case) -> wb.Case:
    for rid, ts, acct, prompt in ROWS:
        case.execute("insert into requests (request_id, ts, account_id, model, prompt_text, "
                     "tool_names) values ($r, $t::timestamptz, $a, 'm1', $p, ['bash'])",
                     r=rid, t=ts, a=acct, p=prompt)
        case.execute("insert into request_content (request_id, system_prompt) values ($r, 'sys')",
                     r=rid)
    case.execute("insert into accounts (account_id, created_at, payment_fingerprint) values "
                 "('acct_a', '2026-01-01', 'pf1'), ('acct_b', '2026-01-02', 'pf1')")
    return case


def test_export_partitions_requests_by_utc_day(small: wb.Case, tmp_path: Path) -> None:
    written = export_parquet(small, tmp_path)
    assert written == {"requests": 3, "request_content": 3, "accounts": 2}
    days = sorted(p.name for p in (tmp_path / "requests").iterdir())
    assert days == ["day=2026-02-03", "day=2026-02-04"]
    assert sorted(p.name for p in (tmp_path / "request_content").iterdir()) == days
    assert [p.name for p in (tmp_path / "accounts").iterdir()] == ["data_0.parquet"]


def test_parquet_case_round_trips_every_column(small: wb.Case, tmp_path: Path) -> None:
    export_parquet(small, tmp_path)
    pq = open_parquet(tmp_path)
    query = "select * from requests order by request_id"
    assert pq.sql(query).equals(small.sql(query))
    assert pq.sql("select * from accounts order by 1").equals(
        small.sql("select * from accounts order by 1"))
    assert parquet_source(pq) == str(tmp_path)
    assert parquet_source(small) is None


def test_parquet_case_is_queried_in_place(small: wb.Case, tmp_path: Path) -> None:
    export_parquet(small, tmp_path, tables=["requests"])
    pq = open_parquet(tmp_path)
    kinds = dict(pq.sql("select table_name, table_type from information_schema.tables "
                        "where table_name in ('requests', 'accounts', 'findings')").rows())
    assert kinds == {"requests": "VIEW", "accounts": "BASE TABLE", "findings": "BASE TABLE"}
    # A day added to the folder later is seen without re-opening: nothing was copied.
    extra = tmp_path / "requests" / "day=2026-02-05"
    extra.mkdir()
    small.execute("update requests set request_id = 'r9', ts = '2026-02-05 01:00:00+00' "
                  "where request_id = 'r3'")
    with small.connect() as con:
        con.execute(f"copy (select * from requests where request_id = 'r9') "
                    f"to '{extra / 'data_0.parquet'}' (format parquet)")
    assert pq.count("requests") == 4


def test_parquet_case_in_a_file_keeps_views_and_writable_results(
        small: wb.Case, tmp_path: Path) -> None:
    src = tmp_path / "it's a lake"  # a quote in the path must not break the SQL
    export_parquet(small, src)
    path = tmp_path / "case.duckdb"
    open_parquet(src, path).execute(
        "insert into findings (detector, entity_type, entity_id, score) "
        "values ('d', 'account', 'acct_a', 0.5)")
    again = wb.open(path, read_only=True)
    assert again.count("requests") == 3
    assert again.count("findings") == 1


def test_export_refuses_to_overwrite_unless_asked(small: wb.Case, tmp_path: Path) -> None:
    export_parquet(small, tmp_path, tables=["accounts"])
    with pytest.raises(CaseError, match=r"already exists; pass overwrite=True"):
        export_parquet(small, tmp_path, tables=["accounts"])
    assert export_parquet(small, tmp_path, tables=["accounts"], overwrite=True) == {"accounts": 2}


def test_unknown_table_suggests_the_closest(small: wb.Case, tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="Unknown table 'request'. Did you mean requests?"):
        export_parquet(small, tmp_path, tables=["request"])


def test_open_parquet_without_requests_says_what_is_needed(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match=r"No Parquet files under .*requests/\*\*/\*\.parquet"):
        open_parquet(tmp_path)


def _spark_like_findings(folder: Path, run_id: str, entities: list[str]) -> None:
    """Findings as Spark writes them: naive UTC timestamps, JSON as plain strings."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("create table f (run_id varchar, detector varchar, detector_id varchar, "
                "version varchar, params varchar, ran_at timestamp, level varchar, "
                "entity_type varchar, entity_id varchar, score double, evidence varchar, "
                "first_seen timestamp, last_seen timestamp)")
    for e in entities:
        con.execute("insert into f values ($run, 'cot', 'id', 'v', '{}', '2026-02-04 10:00:00', "
                    "'high', 'account', $e, 0.9, '{\"n\": 3}', '2026-02-03 00:00:00', "
                    "'2026-02-04 00:00:00')", {"run": run_id, "e": e})
    con.execute(f"copy f to '{folder / f'{run_id}.parquet'}' (format parquet)")


def test_attach_results_is_idempotent_per_run(case: wb.Case, tmp_path: Path) -> None:
    _spark_like_findings(tmp_path / "findings", "run1", ["acct_a", "acct_b"])
    assert attach_results(case, tmp_path) == {"findings": 2}
    assert attach_results(case, tmp_path) == {"findings": 2}
    df = case.sql("select entity_id, evidence->>'n' as n, first_seen from findings order by 1")
    assert df["entity_id"].to_list() == ["acct_a", "acct_b"]
    assert df["n"].to_list() == ["3", "3"]
    assert str(df["first_seen"][0]).startswith("2026-02-03 00:00:00")
    assert case.sql("select typeof(first_seen) as t from findings limit 1")["t"][0] == (
        "TIMESTAMP WITH TIME ZONE")


def test_attach_results_names_missing_columns(case: wb.Case, tmp_path: Path) -> None:
    (tmp_path / "leads").mkdir()
    duckdb.sql(f"copy (select 'acct_a' as account_id, 0.5 as risk) to "
               f"'{tmp_path / 'leads' / 'x.parquet'}' (format parquet)")
    with pytest.raises(CaseError, match="leads Parquet .* lacks column.s. campaign_id, level"):
        attach_results(case, tmp_path)
    assert case.count("leads") == 0


def test_case_delegates_export_and_attach(small: wb.Case, tmp_path: Path) -> None:
    assert export_parquet(small, tmp_path / "x", tables=["accounts"]) == {"accounts": 2}
    _spark_like_findings(tmp_path / "r" / "findings", "run2", ["acct_b"])
    assert attach_results(small, tmp_path / "r") == {"findings": 1}
    assert wb.open_parquet is open_parquet
