"""Screenshots for the README's walk: the board, the trace, the account network and the report.

Run after `make demo`, from the top of the repository:

    .venv/bin/python docs/tools/shoot.py --case demo/case.duckdb --out docs/img

It serves a temporary folder in the same offline JupyterLab as `workbench lab` (nothing is
opened in notebooks/, so no output is autosaved into a template), builds the triage board on
the demo case, clicks the riskiest campaign's row, opens its network, and writes the campaign's
evidence report and opens it in headless Chromium. Every request to a host other than
loopback is refused and listed at the end (it should list none).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

CELL = """\
import workbench as wb
case = wb.open({path!r}, read_only=True)
board = wb.triage(case)
board
"""


def main() -> None:
    import nbformat
    from _browser import CHROMIUM, Lab, click_grid_row, command, open_page, run_all
    from playwright.sync_api import sync_playwright

    import workbench as wb
    from workbench.handover.report import report

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="demo/case.duckdb", type=Path)
    ap.add_argument("--out", default="docs/img", type=Path)
    args = ap.parse_args()
    case_path = args.case.resolve()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    case = wb.open(case_path, read_only=True)
    top = case.sql("select campaign_id from campaigns order by risk desc, accounts desc, "
                   "campaign_id limit 1")["campaign_id"][0]

    root = Path(tempfile.mkdtemp(prefix="wb-shoot-")) / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(CELL.format(path=str(case_path)))]
    nbformat.write(nb, root / "walk.ipynb")
    server = Lab(root, case_path)
    outside: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page, watch = open_page(browser, server.url("walk.ipynb"), height=2200)
            command(page, "application:toggle-left-area")
            run_all(page, page.get_by_text("campaigns match"))
            page.wait_for_timeout(1000)
            output = page.locator(".jp-OutputArea-output").first

            def shoot(name: str, height: int) -> None:
                box = output.bounding_box()
                page.screenshot(path=str(out / name), clip={
                    "x": box["x"], "y": box["y"], "width": box["width"],
                    "height": min(height, box["height"])})
                print("wrote", out / name)

            output.scroll_into_view_if_needed()
            shoot("board.png", 760)
            click_grid_row(page.locator(".jp-OutputArea .lm-DataGrid").first, 0)
            page.locator("h3", has_text="Trace of campaign").wait_for()
            page.wait_for_function(
                "() => document.querySelectorAll('.jp-OutputArea .vega-embed svg, "
                ".jp-OutputArea .vega-embed canvas').length >= 3")
            page.wait_for_timeout(1500)
            output.scroll_into_view_if_needed()
            shoot("trace.png", 1900)
            page.locator(".jp-OutputArea .lm-TabBar-tab", has_text="Network").first.click()
            page.get_by_role("button", name="Show network").click()
            page.locator(".ipysigma-container canvas").first.wait_for()
            page.wait_for_timeout(4500)  # the layout runs for 3 s
            shoot("graph.png", 760)
            outside += watch.outside

            html = root / "report.html"
            report(case, top, out=html)
            rpage = browser.new_page(viewport={"width": 1200, "height": 1600})
            rpage.on("request", lambda r: None if r.url.startswith("file:")
                     else outside.append(r.url))
            rpage.goto(html.as_uri())
            rpage.wait_for_load_state("load")
            rpage.screenshot(path=str(out / "report.png"))
            print("wrote", out / "report.png")
            browser.close()
    finally:
        server.stop()
    print("requests off loopback:", outside or "none")


if __name__ == "__main__":
    main()
