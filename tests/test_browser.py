"""The trace in a real browser: JupyterLab on loopback, headless Chromium, a planted XSS campaign.

Starts the same offline JupyterLab as `workbench lab` (127.0.0.1, a free port, a token), opens
a notebook that shows the triage board with the planted campaign's trace, and checks that the
charts and tables are visible, that the payloads are shown as text and did not run, and that
the page asked nothing of any host but loopback. A screenshot goes to test-artifacts/.
Skips when Playwright or /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

import workbench as wb
from workbench.cli.lab import lab_args

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "widgets_case.sql"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
SHOWN = '<img src=x onerror="window.__pwned=1;alert(1)">'
CELL = """\
import workbench as wb
case = wb.open({path!r}, read_only=True)
board = wb.triage(case)
board.open_trace("camp-xss")
board.trace.state.selected_requests = ["req-2-005"]
board
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """An offline JupyterLab serving a folder with the planted case and one notebook."""
    import nbformat

    if not shutil.which(CHROMIUM):
        # CI installs Chromium (.ci/run): there a missing browser is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    root = tmp_path_factory.mktemp("lab")
    case_path = root / "planted.duckdb"
    case = wb.open(case_path)
    with case.connect(write=True) as con:
        con.execute(FIXTURE.read_text())
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(CELL.format(path=str(case_path)))]
    nbformat.write(nb, root / "trace.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    home = root / "home"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "HOME": str(home)}
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(lab_args(root, port=port, token=token, open_browser=False),
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):  # up to ~60 s for the server to answer
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(root / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield base, token, root
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_trace_renders_offline_and_payload_stays_text(lab) -> None:
    from playwright.sync_api import sync_playwright

    base, token, root = lab
    outside: list[str] = []
    dialogs: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})

            def guard(route) -> None:  # type: ignore[no-untyped-def]
                url = urlparse(route.request.url)
                if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOOPBACK:
                    outside.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            page.route("**/*", guard)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{base}/lab/tree/trace.ipynb?token={token}")
            editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
            editor.wait_for(state="visible", timeout=60_000)
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first \
                .wait_for(timeout=60_000)
            editor.click()
            page.keyboard.press("Shift+Enter")
            # A cold kernel imports the stack and bundles Vega once: allow for a busy box. When
            # the kernel starts too slowly for the page, JupyterLab asks which kernel to use
            # and drops the run: pick the preferred kernel and run the cell again.
            select = page.locator(".jp-Dialog", has_text="Select Kernel").locator(
                "button.jp-mod-accept")
            shown = page.get_by_text("Trace of campaign")
            prompt = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt")
            deadline = time.monotonic() + 150
            last_run = time.monotonic()
            while not shown.is_visible():
                if select.is_visible():
                    select.click()
                    editor.click()
                    page.keyboard.press("Shift+Enter")
                    last_run = time.monotonic()
                elif (time.monotonic() - last_run > 10
                      and prompt.inner_text().strip() in ("[ ]:", "[ ]")):
                    # The run was dropped (the kernel was not connected yet): run it again.
                    editor.click()
                    page.keyboard.press("Shift+Enter")
                    last_run = time.monotonic()
                if time.monotonic() > deadline:
                    page.screenshot(path=str(ARTIFACTS / "trace-timeout.png"), full_page=True)
                    pytest.fail("the trace did not render within 150 s (screenshot kept)")
                page.wait_for_timeout(500)
            charts = page.locator(".jp-OutputArea .vega-embed")
            page.wait_for_function(
                "() => document.querySelectorAll('.jp-OutputArea .vega-embed svg, "
                ".jp-OutputArea .vega-embed canvas').length >= 3", timeout=30_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "trace.png"), full_page=True)

            assert charts.count() >= 3
            for i in range(charts.count()):
                assert charts.nth(i).is_visible()
            assert page.locator("table.wb-table").first.is_visible()
            assert page.locator("table.wb-table").count() >= 8
            assert page.get_by_text("Top templates").is_visible()
            # The payloads are on screen as text ...
            assert page.get_by_text(SHOWN).count() > 0
            assert page.get_by_text("<script>window.__pwned=1</script>").count() > 0
            assert page.get_by_text("U+202E RIGHT-TO-LEFT OVERRIDE").count() > 0
            # ... and nothing ran, no element came from them, nothing left loopback.
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert dialogs == []
            assert page.locator(".jp-OutputArea img[src='x']").count() == 0
            assert outside == []
            # No "would you like to be notified about news?" toast over the trace.
            assert page.get_by_text("Jupyter news").count() == 0
        finally:
            browser.close()


def test_lab_answers_the_news_question_never(lab) -> None:
    import json
    import urllib.request

    base, token, _root = lab
    url = (f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification"
           f"?token={token}")
    with urllib.request.urlopen(url, timeout=30) as resp:
        settings = json.load(resp)
    # The override becomes the schema's default, and no user setting answers otherwise.
    props = settings["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false"
    assert props["checkForUpdates"]["default"] is False
    assert settings["settings"].get("fetchNews", "false") == "false"
