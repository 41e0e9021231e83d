"""The investigator's screen in a real browser: JupyterLab on loopback, headless Chromium, the
planted XSS campaign (tests/fixtures/widgets_case.sql).

Drives each item of issue 14's "Done when" the way an investigator does, by clicks: a board
row opens the trace; pivot from an IP prefix to its accounts; open the account network and
pick a node; compare two accounts; read a transcript; save a bad note and see the message;
browse every request in the DuckDB-backed grid; and a full run of a template's working copy
leaves the committed templates unchanged. Throughout, the payloads are shown as text and never
run, and the page asks nothing of any host but loopback. Screenshots go to test-artifacts/.
Skips when Playwright or /usr/bin/chromium is missing (fails instead under CI).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.cli.lab import TEMPLATES, working_copy

sys.path.insert(0, str(Path(__file__).parent))
from _browser import (  # noqa: E402
    CHROMIUM,
    CURRENT,
    Lab,
    click_grid_row,
    command,
    open_page,
    run_all,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "widgets_case.sql"
ARTIFACTS = ROOT / "test-artifacts"
SHOWN = '<img src=x onerror="window.__pwned=1;alert(1)">'
TRACE_CELL = """\
import workbench as wb
case = wb.open({path!r}, read_only=True)
board = wb.triage(case)
board.open_trace("camp-xss")
board.trace.state.selected_requests = ["req-2-005"]
board
"""
SCREEN_CELL = """\
import workbench as wb
case = wb.open({path!r}, read_only=True)
board = wb.triage(case)
board
"""


def _notebook(path: Path, source: str) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.ipynb"))}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    """An offline JupyterLab serving a case folder as `workbench lab` does: the planted case,
    a working copy of the templates, and two test notebooks."""
    if not shutil.which(CHROMIUM):
        # CI installs Chromium (.ci/run): there a missing browser is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    root = tmp_path_factory.mktemp("lab") / "case-folder"
    root.mkdir()
    case_path = root / "case.duckdb"
    case = wb.open(case_path)
    with case.connect(write=True) as con:
        con.execute(FIXTURE.read_text())
    working_copy(root)
    _notebook(root / "trace.ipynb", TRACE_CELL.format(path=str(case_path)))
    _notebook(root / "screen.ipynb", SCREEN_CELL.format(path=str(case_path)))
    server = Lab(root, case_path)
    try:
        yield server, root
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(lab: tuple[Lab, Path]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield b
        finally:
            b.close()


def _safe(page: Any, watch: Any) -> None:
    """Nothing ran, no element came from a payload, nothing left loopback."""
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert watch.dialogs == []
    assert page.locator(f"{CURRENT} .jp-OutputArea img[src='x']").count() == 0
    assert watch.outside == []


def test_trace_renders_offline_and_payload_stays_text(lab, browser) -> None:
    server, _root = lab
    page, watch = open_page(browser, server.url("trace.ipynb"), height=2400)
    try:
        try:
            run_all(page, page.locator(CURRENT).locator("h3", has_text="Trace of campaign"),
                    artifact=ARTIFACTS / "trace-timeout.png")
        except AssertionError as exc:
            msg = f"{exc}; console errors: {watch.errors[-8:]}"
            raise AssertionError(msg) from None
        charts = page.locator(f"{CURRENT} .jp-OutputArea .vega-embed")
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-OutputArea .vega-embed svg, "
            ".jp-OutputArea .vega-embed canvas').length >= 3", timeout=120_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "trace.png"), full_page=True)
        assert charts.count() >= 3
        for i in range(charts.count()):
            assert charts.nth(i).is_visible()
        assert page.locator("table.wb-table").first.is_visible()
        assert page.locator("table.wb-table").count() >= 8
        assert page.locator(CURRENT).get_by_text("Top templates").is_visible()
        # The payloads are on screen as text ...
        assert page.locator(CURRENT).get_by_text(SHOWN).count() > 0
        assert page.locator(CURRENT).get_by_text("<script>window.__pwned=1</script>").count() > 0
        assert page.locator(CURRENT).get_by_text("U+202E RIGHT-TO-LEFT OVERRIDE").count() > 0
        # ... and nothing ran.
        _safe(page, watch)
        # No "would you like to be notified about news?" toast over the trace.
        assert page.get_by_text("Jupyter news").count() == 0
    finally:
        page.close()


@pytest.fixture(scope="module")
def screen(lab, browser) -> Iterator[tuple[Any, Any]]:
    """The board, in one page the tests below click through in order."""
    server, _root = lab
    page, watch = open_page(browser, server.url("screen.ipynb"), height=1800)
    try:
        run_all(page, page.locator(CURRENT).get_by_text("campaigns match"),
                artifact=ARTIFACTS / "board-timeout.png")
    except AssertionError as exc:
        msg = f"{exc}; console errors: {watch.errors[-8:]}"
        raise AssertionError(msg) from None
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "board.png"))
    try:
        yield page, watch
    finally:
        _safe(page, watch)
        page.close()


def _tab(page: Any, name: str) -> Any:
    return page.locator(f"{CURRENT} .jp-OutputArea .lm-TabBar-tab", has_text=name).first


def _panel(page: Any) -> Any:
    """The visible tab's contents."""
    return page.locator(f"{CURRENT} .jp-OutputArea .widget-tab-contents > "
                        ".lm-Widget:not(.lm-mod-hidden)")


def test_click_a_board_row_and_the_trace_opens(screen) -> None:
    page, watch = screen
    grid = page.locator(f"{CURRENT} .jp-OutputArea .lm-DataGrid").first
    # The grid is drawn on a canvas: the payload in a cell is pixels, never markup.
    assert page.locator(f"{CURRENT} .jp-OutputArea .lm-DataGrid img").count() == 0
    click_grid_row(grid, 0)
    page.locator(CURRENT).locator("h3", has_text="Trace of campaign").wait_for()
    assert "lm-mod-current" in (_tab(page, "Trace").get_attribute("class") or "")
    page.locator(f"{CURRENT} .jp-OutputArea .vega-embed svg, "
                 f"{CURRENT} .jp-OutputArea .vega-embed canvas").first.wait_for()
    _safe(page, watch)


def test_read_a_transcript(screen) -> None:
    page, watch = screen
    requests = _panel(page).locator(".lm-DataGrid").last
    click_grid_row(requests, 0)  # the earliest request: acct-x1's, with a tool call
    transcript = page.locator(".wb-transcript").first
    transcript.wait_for()
    assert transcript.locator(".wb-role", has_text="user").count() >= 2
    assert transcript.locator(".wb-role", has_text="assistant").count() == 1
    tool = transcript.locator("details", has_text="tool call").first
    assert tool.is_visible()
    assert not tool.evaluate("d => d.open")  # folded until the investigator opens it
    tool.locator("summary").click()
    assert tool.get_by_text("javascript:window.__pwned=1").is_visible()
    assert transcript.get_by_text('<img src=x onerror="window.__pwned=1">fetch').count() > 0
    page.screenshot(path=str(ARTIFACTS / "transcript.png"))
    _safe(page, watch)


def test_save_a_bad_note_and_see_the_message(screen) -> None:
    page, watch = screen
    panel = _panel(page)
    panel.locator("textarea[placeholder='note on this actor']").fill("looks like a harvest")
    panel.locator("input[placeholder='tag, e.g. escalate']").fill("Needs Review")
    panel.get_by_role("button", name="Save note").click()
    message = panel.get_by_text("Tag 'Needs Review' is not allowed")
    message.wait_for()
    assert message.is_visible()
    _safe(page, watch)


def test_pivot_from_an_ip_prefix_to_its_accounts(screen) -> None:
    page, watch = screen
    panel = _panel(page)
    pick = panel.locator(".widget-dropdown", has_text="value").locator("select").first
    pick.select_option(label="ip_prefix: 203.0.113.0/24")
    panel.get_by_role("button", name="Who else used it?").click()
    summary = page.locator(CURRENT).get_by_text("3 accounts in 1 campaigns")
    summary.wait_for()
    assert "lm-mod-current" in (_tab(page, "Pivot").get_attribute("class") or "")
    _panel(page).locator(".lm-DataGrid").first.wait_for()  # the accounts, one row each
    assert _panel(page).locator(".lm-DataGrid").count() == 1
    page.screenshot(path=str(ARTIFACTS / "pivot.png"))
    _safe(page, watch)


def test_open_the_graph_and_click_a_node(screen) -> None:
    page, watch = screen
    _tab(page, "Network").click()
    _panel(page).get_by_role("button", name="Show network").click()
    page.locator(".ipysigma-container canvas").first.wait_for()
    assert "3 edges" in page.locator(".ipysigma-graph-description").first.inner_text()
    page.wait_for_timeout(3500)  # the layout runs for 3 s
    page.screenshot(path=str(ARTIFACTS / "graph.png"))
    # Pick a node (sigma draws on WebGL: ipysigma's node search selects it as a click does).
    _panel(page).locator(".ipysigma-right-panel .choices").first.click()
    page.keyboard.type("acct-x2")
    page.wait_for_timeout(500)
    page.keyboard.press("Enter")
    heading = page.locator(CURRENT).locator("h3", has_text="Trace of account")
    heading.wait_for()
    assert heading.inner_text().endswith("acct-x2")
    _safe(page, watch)


def test_compare_two_accounts(screen) -> None:
    page, watch = screen
    _tab(page, "Compare").click()
    panel = _panel(page)
    panel.locator(".widget-text", has_text="A").locator("input").fill("acct-x1")
    panel.locator(".widget-text", has_text="B").locator("input").fill("acct-benign1")
    panel.get_by_role("button", name="Compare").click()
    page.locator(CURRENT).get_by_text("Values both used").wait_for()
    assert panel.get_by_text("Volume and tokens").count() == 2
    assert panel.get_by_text("python-httpx/0.27").count() > 0
    page.screenshot(path=str(ARTIFACTS / "compare.png"))
    _safe(page, watch)


def test_browse_every_request_in_the_duckdb_backed_grid(screen) -> None:
    page, watch = screen
    _tab(page, "Trace").click()
    _panel(page).get_by_role("button", name="Browse all requests (sort, filter)").click()
    table = page.locator(f"{CURRENT} .jp-OutputArea table", has_text="request_id").last
    table.wait_for()
    # Every request of the open account (acct-x2, from the graph), paged from DuckDB.
    page.locator(CURRENT).get_by_text("72 rows").wait_for()
    page.screenshot(path=str(ARTIFACTS / "browse.png"))
    assert "reseller:<u>cheap</u>" in table.inner_text()  # its access path, as text
    assert table.locator("img").count() == 0
    _safe(page, watch)


def _git_status() -> str | None:
    if not (ROOT / ".git").exists() or not shutil.which("git"):
        return None
    import subprocess

    return subprocess.run(["git", "status", "--porcelain", "--", "notebooks"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


def test_a_full_run_leaves_the_templates_unchanged(lab, browser) -> None:
    server, root = lab
    before, status = _digest(TEMPLATES), _git_status()
    page, watch = open_page(browser, server.url("notebooks/01_triage.ipynb"))
    try:
        run_all(page, page.locator(CURRENT).get_by_text("campaigns match"),
                artifact=ARTIFACTS / "template-timeout.png")
        command(page, "docmanager:save")
        page.wait_for_timeout(2000)
        _safe(page, watch)
    finally:
        page.close()
    saved = json.loads((root / "notebooks" / "01_triage.ipynb").read_text())
    assert any(c.get("outputs") for c in saved["cells"])  # the working copy has the outputs
    assert _digest(TEMPLATES) == before  # the committed templates do not
    assert _git_status() == status


def test_lab_answers_the_news_question_never(lab) -> None:
    import urllib.request

    server, _root = lab
    url = (f"{server.base}/lab/api/settings/@jupyterlab/apputils-extension:notification"
           f"?token={server.token}")
    with urllib.request.urlopen(url, timeout=30) as resp:
        settings = json.load(resp)
    # The override becomes the schema's default, and no user setting answers otherwise.
    props = settings["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false"
    assert props["checkForUpdates"]["default"] is False
    assert settings["settings"].get("fetchNews", "false") == "false"
