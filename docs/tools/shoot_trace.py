"""Screenshot of the trace in JupyterLab (headless Chromium) for docs/img/trace.png.

Run after `make demo`, from the top of the repo:
    .venv/bin/python docs/tools/shoot_trace.py docs/img/trace.png 1800
It opens a copy of notebooks/02_trace_actor.ipynb (so JupyterLab cannot autosave outputs into
the tracked file) in an offline JupyterLab on loopback, runs it and screenshots the trace.
Any request to a host other than loopback is refused and listed.
"""
import os, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
from urllib.parse import urlparse
from workbench.cli.lab import lab_args

REPO = Path(__file__).resolve().parents[2]
root = Path(tempfile.mkdtemp(prefix="wb-shot-")) / "labroot"
(root / "notebooks").mkdir(parents=True)
shutil.copy(REPO / "notebooks/02_trace_actor.ipynb", root / "notebooks")
(root / "demo").symlink_to(REPO / "demo")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
token = secrets.token_hex(16); home = root / "home"
env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
       "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "rt"),
       "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
       "JUPYTERLAB_WORKSPACES_DIR": str(home / "ws"), "HOME": str(home)}
log = (root / "lab.log").open("w")
proc = subprocess.Popen(lab_args(root, port=port, token=token, open_browser=False), env=env,
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
base = f"http://127.0.0.1:{port}"
outside = []
try:
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2); break
        except OSError:
            time.sleep(0.5)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = b.new_page(viewport={"width": 1400, "height": 3200})
        def guard(route):
            u = urlparse(route.request.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.hostname not in ("127.0.0.1", "localhost"):
                outside.append(route.request.url); route.abort()
            else:
                route.continue_()
        page.route("**/*", guard)
        page.goto(f"{base}/lab/tree/notebooks/02_trace_actor.ipynb?token={token}")
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.wait_for(state="visible", timeout=90_000)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=90_000)
        page.wait_for_timeout(3000)
        sel = page.locator(".jp-Dialog button", has_text="Select")
        if sel.count():
            sel.first.click()
            page.wait_for_timeout(3000)
        page.locator(".jp-Notebook .jp-CodeCell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        try:
            page.get_by_text("Trace of campaign").first.wait_for(timeout=120_000)
        except Exception:
            page.screenshot(path=str(root / "fail.png")); raise
        page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea .vega-embed svg, .jp-OutputArea .vega-embed canvas').length >= 3", timeout=60_000)
        page.wait_for_timeout(1500)
        # Hide the rest of JupyterLab chrome: screenshot the trace cell's output only.
        out = page.locator(".jp-OutputArea-output", has_text="Trace of campaign").first
        out.scroll_into_view_if_needed()
        box = out.bounding_box()
        page.screenshot(path=sys.argv[1], clip={"x": box["x"], "y": box["y"],
                                                "width": box["width"], "height": int(sys.argv[2])})
        print("shot", out.bounding_box(), "outside:", outside)
        b.close()
finally:
    os.killpg(proc.pid, signal.SIGTERM); proc.wait(timeout=20); log.close()
