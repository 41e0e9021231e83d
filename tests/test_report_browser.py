"""The evidence report in a real browser: opens offline, makes no request, runs no payload.

Needs Playwright and Debian's /usr/bin/chromium; skips when either is missing. A screenshot of
the planted campaign's report goes to test-artifacts/report.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import workbench as wb

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).parent / "fixtures" / "report_case.sql"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PAYLOAD = "<script>window.__xss=1</script>"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        # CI installs Chromium (.ci/run): there a missing browser is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


def _open(browser, path: Path, artifact: Path):
    page = browser.new_page()
    requests: list[str] = []
    failed: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifact), full_page=False)
    return page, requests, failed, dialogs


def test_planted_campaign_report_opens_offline_and_payload_stays_text(browser, tmp_path):
    case = wb.open()
    with case.connect(write=True) as con:
        con.execute(FIXTURE.read_text())
    out = tmp_path / "report.html"
    wb.report(case, "camp-7f3a", out=out)
    ARTIFACTS.mkdir(exist_ok=True)
    page, requests, failed, dialogs = _open(browser, out, ARTIFACTS / "report.png")
    # The only request is the file itself: no host contacted, nothing failed.
    assert requests == [out.as_uri()]
    assert failed == []
    assert dialogs == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.get_by_text(PAYLOAD).count() > 0  # shown as text
    assert page.locator("script").count() == 0
    chart = page.locator("img[alt^='requests per time bucket']")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("h2", has_text="Indicators").is_visible()


def test_simulated_world_report_opens_offline(browser, world_case, tmp_path):
    top = world_case.sql("select campaign_id from campaigns order by risk desc, accounts desc, "
                         "campaign_id limit 1")
    if top.height == 0:
        pytest.fail("the simulated world produced no campaign to report on")
    out = tmp_path / "world.html"
    wb.report(world_case, top["campaign_id"][0], out=out)
    page, requests, failed, dialogs = _open(browser, out, tmp_path / "world.png")
    assert requests == [out.as_uri()]
    assert failed == []
    assert dialogs == []
    assert page.locator("img[alt^='requests per time bucket']").evaluate(
        "img => img.complete && img.naturalWidth > 0")
