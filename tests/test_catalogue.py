"""One test over every detector file in queries/: header, params, binding, portability, fixture.

Each detector has a regression fixture under tests/fixtures/detectors/<name>/:
`requests.jsonl` (request rows, which may carry feature columns too), optional `accounts.jsonl`
and `model_releases.jsonl`, and `expected.csv` (`entity_type,entity_id`: exactly the entities
the detector must return, at its default params). A fixture line is a row, or a row pattern:
`_n` repeats it, `_every` steps the row's time (`ts`, `created_at` or `released_at`) by that
many seconds (a list cycles through gaps),
`_cycle` gives columns whose values cycle through a list, `{i}` in a string is the repeat
index, `_note` says what the line is (a positive or which look-alike). Adding a case means
adding lines, not code.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot

import workbench as wb
from workbench.catalogue import detectors, queries_dir
from workbench.schema import FEATURES, TABLES

FIXTURES = Path(__file__).parent / "fixtures" / "detectors"
# DuckDB-only functions that sqlglot passes through unchanged and Spark does not know.
NOT_SPARK = re.compile(r"\b(LIST_[A-Z_]+|ENTROPY|STRUCT_PACK|EPOCH_MS|STRING_SPLIT|ARRAY_LENGTH"
                       r"|REGEXP_MATCHES|TIME_BUCKET|DATE_BIN|MAD|HISTOGRAM|LEN)\s*\(")


def expand(line: dict[str, Any], lineno: int, table: str = "requests") -> list[dict[str, Any]]:
    """Expand one fixture line (a row or a row pattern) into rows."""
    n = line.get("_n", 1)
    every = line.get("_every", 0)
    gaps = every if isinstance(every, list) else [every]
    cycle = line.get("_cycle", {})
    base = {k: v for k, v in line.items() if not k.startswith("_")}
    clock = next((c for c in ("ts", "created_at", "released_at") if c in base), None)
    start = datetime.fromisoformat(base[clock]) if clock else None
    offset = 0.0
    rows = []
    for i in range(n):
        row = {k: v.replace("{i}", str(i)) if isinstance(v, str) else v for k, v in base.items()}
        for k, values in cycle.items():
            row[k] = values[i % len(values)]
        if clock and start is not None:
            row[clock] = (start + timedelta(seconds=offset)).isoformat()
            offset += gaps[i % len(gaps)]
        if table == "requests":
            row.setdefault("request_id", f"{row.get('account_id', 'r')}-{lineno}-{i}")
        rows.append(row)
    return rows


def _insert(con: Any, table: str, rows: list[dict[str, Any]]) -> None:
    import polars as pl

    if not rows:
        return
    cols = sorted({k for r in rows for k in r})
    types = {c.name: c.type for c in TABLES[table].columns}
    frame = pl.DataFrame([{c: r.get(c) for c in cols} for r in rows], infer_schema_length=None)
    select = ", ".join(f'cast("{c}" as {types[c]}) as "{c}"' for c in cols)
    con.register("fx", frame)
    con.execute(f'insert into "{table}" by name select {select} from fx')
    con.unregister("fx")


def load_fixture(case: wb.Case, directory: Path) -> None:
    """Insert a fixture directory's rows straight into the case's canonical tables.

    A cohort detector's fixture gives its `cohorts.jsonl` (the membership) and gets the
    `account_profiles` built from its requests, as the pipeline does; a distribution
    detector's gives `distribution_tests.jsonl`.
    """
    from workbench.cohorts import build_profiles
    from workbench.textfeatures.simhash import template_id

    feature_cols = set(FEATURES.column_names) - {"request_id"}
    with case.connect(write=True) as con:
        for table in ("requests", "accounts", "model_releases", "cohorts",
                      "distribution_tests", "findings"):
            path = directory / f"{table}.jsonl"
            if not path.exists():
                continue
            rows = []
            for lineno, text in enumerate(path.read_text().splitlines(), 1):
                if text.strip():
                    rows += expand(json.loads(text), lineno, table)
            if table == "requests":
                feats = [{"request_id": r["request_id"], **{k: r[k] for k in r
                                                             if k in feature_cols}}
                         for r in rows if feature_cols & set(r)]
                for f in feats:  # as the features step writes them: template_id hashes the norm
                    if f.get("prompt_norm") is not None and f.get("template_id") is None:
                        f["template_id"] = template_id(f["prompt_norm"])
                rows = [{k: v for k, v in r.items() if k not in feature_cols} for r in rows]
                _insert(con, "features", feats)
            _insert(con, table, rows)
        if (directory / "cohorts.jsonl").exists():
            build_profiles(con)


def expected(directory: Path) -> set[tuple[str, str]]:
    with (directory / "expected.csv").open() as f:
        return {(r["entity_type"], r["entity_id"]) for r in csv.DictReader(f)}


DETECTORS = sorted(detectors().values(), key=lambda d: d.name)


@pytest.mark.parametrize("det", DETECTORS, ids=[d.name for d in DETECTORS])
def test_detector_file(det: Any, case: wb.Case) -> None:
    # header complete and valid, stem == name: parse() enforced both when the catalogue loaded
    assert det.path.stem == det.name
    assert det.path.parent.parent == queries_dir()
    # declared params == the statement's named parameters
    with case.connect() as con:
        stmts = con.extract_statements(det.sql)
    assert len(stmts) == 1, "one statement per detector"
    assert set(stmts[0].named_parameters) == {p.name for p in det.params}
    # binds against the canonical schema, returns the common columns
    empty = case.sql(det.sql, **det.defaults())
    assert empty.columns == ["entity_type", "entity_id", "score", "evidence", "first_seen",
                             "last_seen"]
    # portable: transpiles to Spark SQL without DuckDB-only functions left over
    if det.header["portable"]:
        spark = sqlglot.transpile(det.sql, read="duckdb", write="spark",
                                  unsupported_level=sqlglot.ErrorLevel.RAISE)[0]
        assert not NOT_SPARK.search(spark), NOT_SPARK.search(spark)
    # regression fixture: exactly the expected entities, scores within 0..1
    directory = FIXTURES / det.name
    assert (directory / "expected.csv").exists(), f"no regression fixture in {directory}"
    load_fixture(case, directory)
    found = case.sql(det.sql, **det.defaults())
    assert found["score"].is_between(0, 1).all()
    assert set(zip(found["entity_type"], found["entity_id"], strict=True)) == expected(directory)
