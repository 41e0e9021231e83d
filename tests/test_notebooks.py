"""The template notebooks: committed clean, thin, and each one runs against a simulated case."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import workbench as wb

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
NAMES = [p.stem for p in NOTEBOOKS]
MAX_CODE_LINES = 12  # "thin": anything longer belongs in the library, with a test


def test_the_four_templates_exist():
    assert NAMES == ["01_triage", "02_trace_actor", "03_adhoc_sql", "04_campaign_report"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_committed_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    dirty = [i for i, c in enumerate(book.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"
    assert book.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_thin_with_a_parameters_cell_first(path):
    book = nbformat.read(path, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell: parameters"
    assert "case_path" in code[0].source
    assert sum(c.cell_type == "markdown" for c in book.cells) >= 3
    long = [c.source.splitlines()[0] for c in code if len(c.source.splitlines()) > MAX_CODE_LINES]
    assert not long, f"cells longer than {MAX_CODE_LINES} lines: {long}"


def _run(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    papermill = pytest.importorskip("papermill")
    out = tmp_path / f"{name}.out.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS[NAMES.index(name)]), str(out),
                               parameters=parameters, kernel_name="python3",
                               cwd=str(tmp_path), progress_bar=False, log_output=False)
    return nbformat.read(out, as_version=4)


def _outputs(book: nbformat.NotebookNode) -> str:
    return json.dumps([c.get("outputs", []) for c in book.cells if c.cell_type == "code"])


def test_01_triage_runs(world_case, tmp_path):
    book = _run("01_triage", tmp_path, case_path=str(world_case.path),
                start="2000-01-01T00:00:00Z")
    assert "application/vnd.jupyter.widget-view+json" in _outputs(book)  # the board


def test_02_trace_runs_on_one_account_with_a_window(world_case, tmp_path):
    row = world_case.sql("select account_id, min(ts) as a, max(ts) as b from requests "
                         "where account_id = (select account_id from leads "
                         "order by risk desc, account_id limit 1) group by all").row(0)
    book = _run("02_trace_actor", tmp_path, case_path=str(world_case.path), account=row[0],
                start=row[1].isoformat(), end=row[2].isoformat())
    assert row[0] in _outputs(book)


def test_03_adhoc_sql_runs(world_case, tmp_path):
    campaign = wb.campaigns(world_case)["campaign_id"][0]
    book = _run("03_adhoc_sql", tmp_path, case_path=str(world_case.path), campaign=campaign)
    assert "access_path" in _outputs(book)


def test_04_campaign_report_writes_report_and_indicators(world_case, tmp_path):
    import stix2

    campaign = wb.campaigns(world_case)["campaign_id"][0]
    _run("04_campaign_report", tmp_path, case_path=str(world_case.path), campaign=campaign,
         out_dir=str(tmp_path))
    assert "Evidence report" in (tmp_path / f"report-{campaign}.html").read_text("utf-8")
    assert (tmp_path / f"report-{campaign}.md").exists()
    bundle = stix2.parse((tmp_path / f"indicators-{campaign}.stix.json").read_text("utf-8"))
    assert any(o.type == "campaign" for o in bundle.objects)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_reads_the_case_from_workbench_case(path):
    book = nbformat.read(path, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert "case_path = None" in code[0].source  # no hard-coded demo case
    assert "open_case(case_path)" in code[1].source
    assert "../demo" not in json.dumps([c.source for c in book.cells])


def test_runs_on_the_case_workbench_lab_names(world_case, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CASE", str(world_case.path))
    campaign = wb.campaigns(world_case)["campaign_id"][0]
    book = _run("03_adhoc_sql", tmp_path, campaign=campaign)
    assert "access_path" in _outputs(book)


def test_open_case_without_a_case_says_how_to_give_one(monkeypatch):
    from workbench.errors import CaseError
    from workbench.notebook import open_case

    monkeypatch.delenv("WORKBENCH_CASE", raising=False)
    with pytest.raises(CaseError, match="workbench lab --dir FOLDER"):
        open_case(None)


def test_lab_works_on_a_copy_beside_the_case_and_keeps_the_investigators(tmp_path):
    from workbench.cli.lab import working_copy

    out = working_copy(tmp_path)
    assert sorted(p.stem for p in out.glob("*.ipynb")) == NAMES
    (out / "01_triage.ipynb").write_text("{\"mine\": true}")
    working_copy(tmp_path)
    assert (out / "01_triage.ipynb").read_text() == "{\"mine\": true}"
