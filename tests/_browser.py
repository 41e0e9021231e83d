"""Driving JupyterLab in headless Chromium: shared by the browser tests and by
docs/tools/shoot.py (the README's screenshots).

`Lab` starts the same offline JupyterLab as `workbench lab` (127.0.0.1, a free port, a token,
a private home), with the app exposed to the page so a test can run JupyterLab commands.
`open_page` refuses and records every request to a host other than loopback, records dialogs
and console errors. `run_all` runs a notebook and waits for what it should show, re-running
when JupyterLab dropped the first run because the kernel was not connected yet.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from workbench.cli.lab import lab_args

CHROMIUM = "/usr/bin/chromium"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook tab in front


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    """An offline JupyterLab serving `root` with WORKBENCH_CASE set; stop() ends it."""

    def __init__(self, root: Path, case: Path | None = None) -> None:
        self.root, self.port, self.token = root, free_port(), secrets.token_hex(16)
        home = root.parent / f"{root.name}-home"
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "rt"),
               "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "HOME": str(home)}
        if case is not None:
            env["WORKBENCH_CASE"] = str(case)
        self.log_path = root.parent / f"{root.name}-lab.log"
        self._log = self.log_path.open("w")
        args = [*lab_args(root, port=self.port, token=self.token, open_browser=False),
                "--LabApp.expose_app_in_browser=True"]
        self.proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(120):  # up to ~60 s for the server to answer
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}",
                                            timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    self.stop()
                    msg = f"JupyterLab exited: {self.log_path.read_text()[-2000:]}"
                    raise RuntimeError(msg) from None
                time.sleep(0.5)
        self.stop()
        msg = "JupyterLab did not answer within 60 s"
        raise RuntimeError(msg)

    def url(self, notebook: str) -> str:
        # `reset`: a fresh workspace, so no notebook an earlier page opened comes back.
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


class Watch:
    """What a page did that it must not: requests off loopback, dialogs, console errors."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []


def open_page(browser: Any, url: str, width: int = 1400, height: int = 1600) -> tuple[Any, Watch]:
    watch = Watch()
    page = browser.new_page(viewport={"width": width, "height": height})

    def guard(route: Any) -> None:
        u = urlparse(route.request.url)
        if u.scheme in ("http", "https", "ws", "wss") and u.hostname not in LOOPBACK:
            watch.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    # A box shared with other builds can be slow: wait long rather than fail.
    page.set_default_timeout(120_000)
    page.set_default_navigation_timeout(120_000)
    page.goto(url)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for()
    return page, watch


def command(page: Any, name: str) -> None:
    """Run a JupyterLab command (the app is exposed by `Lab`)."""
    # Not awaited: a run's promise settles only when the kernel has run every cell.
    page.evaluate("name => { window.jupyterapp.commands.execute(name); }", name)


def run_all(page: Any, shown: Any, timeout: float = 300, artifact: Path | None = None) -> None:
    """Run every cell and wait until `shown` (a locator) is visible.

    A cold kernel imports the stack and bundles Vega once: allow for a busy box. When the
    kernel starts too slowly for the page, JupyterLab asks which kernel to use, or drops the
    run, or runs it before the page's widget manager listens (the output then says "Loading
    widget..." for ever): pick the preferred kernel, or run again.
    """
    select = page.locator(".jp-Dialog", has_text="Select Kernel").locator("button.jp-mod-accept")
    prompts = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt")
    loading = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea",
                           has_text="Loading widget...")
    busy = page.locator(".jp-Notebook-ExecutionIndicator[data-status='busy']")
    command(page, "notebook:run-all-cells")
    reruns = 0
    deadline = last_run = time.monotonic()
    deadline += timeout
    while not visible(shown):
        now = time.monotonic()
        if select.is_visible():
            select.click()
            command(page, "notebook:run-all-cells")
            last_run = now
        elif now - last_run > 10 and not busy.count() and any(
                t.strip() in ("[ ]:", "[ ]") for t in prompts.all_inner_texts()):
            # The run (or its rest, after a cell) was dropped while the kernel connected.
            command(page, "notebook:run-all-cells")
            last_run = now
        elif now - last_run > 60 and loading.first.is_visible() and not busy.count():
            # The views never came: run again; twice in vain, reload the page first (its
            # widget manager missed the models).
            reruns += 1
            if reruns % 2 == 0:
                page.reload()
                page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first \
                    .wait_for()
            command(page, "notebook:run-all-cells")
            last_run = time.monotonic()
        if now > deadline:
            if artifact is not None:
                page.screenshot(path=str(artifact), full_page=True)
            msg = f"nothing matching {shown} within {timeout:g} s"
            raise AssertionError(msg)
        page.wait_for_timeout(500)


def visible(locator: Any) -> bool:
    """Whether any match is visible (a restored, hidden notebook tab may hold a match too)."""
    return any(locator.nth(i).is_visible() for i in range(locator.count()))


def click_grid_row(grid: Any, row: int, column_px: int = 40) -> None:
    """Click row `row` (from 0) of an ipydatagrid (drawn on a canvas: no element per row)."""
    from workbench.widgets.grid import HEADER_PX, ROW_PX

    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    grid.page.mouse.click(box["x"] + column_px, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)
