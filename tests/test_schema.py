"""Contract test: a fresh case matches workbench/schema.py, and docs/schema.md is current."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench as wb
from workbench.schema import TABLES, markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


@pytest.mark.parametrize("table", list(TABLES))
def test_describe_matches_schema(table: str) -> None:
    c = wb.open()
    got = [(r["column_name"], r["column_type"]) for r in c.sql(f'describe "{table}"').to_dicts()]
    # DuckDB spells some types its own way (TIMESTAMPTZ is TIMESTAMP WITH TIME ZONE).
    canon = {typ: c.sql(f"select typeof(NULL::{typ}) as t")["t"][0]
             for typ in {col.type for col in TABLES[table].columns}}
    assert got == [(col.name, canon[col.type]) for col in TABLES[table].columns]


def test_primary_keys_match_schema() -> None:
    c = wb.open()
    rows = c.sql("select table_name, constraint_column_names from duckdb_constraints() "
                 "where constraint_type = 'PRIMARY KEY'").rows()
    got = {t: tuple(cols) for t, cols in rows if t in TABLES}
    assert got == {t.name: t.primary_key for t in TABLES.values() if t.primary_key}


def test_schema_doc_is_current() -> None:
    assert DOC.read_text().strip() == markdown().strip(), (
        "docs/schema.md is stale: run `python -m workbench.schema > docs/schema.md`")
