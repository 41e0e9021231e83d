"""Evidence reports: sections, self-containment, escaping of adversary text, Markdown, CLI."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import workbench as wb
from workbench.errors import UnknownNameError
from workbench.handover import data as report_data

CAMPAIGN = "camp-7f3a"
PAYLOAD = "<script>window.__xss=1</script>"
SECTIONS = ("Summary", "Timeline", "Accounts", "Links between them", "Indicators",
            "Detectors and evidence", "Sample requests", "Methods")


@pytest.fixture
def html(planted) -> str:
    return wb.report(planted, CAMPAIGN)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs


def test_html_has_every_section(html):
    for title in SECTIONS:
        assert re.search(rf"<h[23]>{re.escape(title)}</h[23]>", html), title
    assert "Evidence report: campaign camp-7f3a" in html
    assert "Data span of the case" in html
    assert "Generated" in html


def test_html_only_uses_harmless_tags_and_no_event_handlers(html):
    parsed = _Tags()
    parsed.feed(html)
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "dl",
               "dt", "dd", "table", "tr", "th", "td", "pre", "details", "summary", "img",
               "span", "code", "ul", "li"}
    assert parsed.tags <= allowed, parsed.tags - allowed
    assert not [a for a, _ in parsed.attrs if a.startswith("on")]


def test_html_needs_no_network(html):
    parsed = _Tags()
    parsed.feed(html)
    urls = [v for a, v in parsed.attrs if a in ("src", "href", "action") and v]
    assert urls
    assert all(v.startswith("data:image/svg+xml;base64,") for v in urls)
    assert "default-src 'none'" in html  # the CSP forbids scripts and fetches
    assert "@import" not in html
    assert "url(" not in html


def test_timeline_is_an_inline_svg_with_the_models(html):
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert src
    svg = base64.b64decode(src.group(1)).decode()
    assert svg.startswith("<svg")
    assert "m-large" in svg
    assert "m-next" in svg
    assert "<script" not in svg


def test_adversary_text_is_escaped_and_invisible_characters_shown(html):
    assert "<script" not in html.lower()
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "onerror=&quot;window.__xss=1&quot;" in html
    assert "\u202e" not in html
    assert "acct-⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩cba" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the investigator's note is text too


def test_long_outputs_are_cut_with_a_way_to_see_all(html):
    assert "show all 3,636 characters" in html


def test_samples_prefer_requests_cited_as_evidence(planted):
    data = report_data.gather(planted, CAMPAIGN, {"first_seen": None, "last_seen": None},
                              wb.indicators(planted, CAMPAIGN, format="frame"))
    cited = planted.sql("select json_extract_string(evidence, '$.example_request_ids[0]') as r "
                        "from findings where detector = 'cot_elicitation' order by score desc, "
                        "entity_id limit 1")["r"][0]
    assert cited in data["samples"]["request_id"].to_list()
    assert len(set(data["samples"]["account_id"])) == 4  # one from each account first


def test_detectors_show_params_and_evidence(html):
    assert "cot_elicitation" in html
    assert "lockstep_templates" in html
    assert "min_share" in html
    assert "cot_share" in html
    assert "run-1" in html


def test_legitimate_accounts_stay_out(html):
    assert "acct-ent1" not in html
    assert "python-httpx" not in html


def test_sections_are_capped_and_say_so(planted, monkeypatch):
    monkeypatch.setattr(report_data, "MAX_ACCOUNTS", 2)
    assert "Showing 2 of 4 accounts." in wb.report(planted, CAMPAIGN)


def test_campaign_without_members_still_renders(planted):
    planted.execute("insert into campaigns by name select 'camp-empty' as campaign_id, "
                    "0 as accounts, 0 as requests, 0 as tokens, 0.0 as risk, 'low' as level")
    html = wb.report(planted, "camp-empty")
    assert "No requests." in html
    assert "No findings on this campaign." in html


def test_markdown_variant(planted, tmp_path):
    out = tmp_path / "r.md"
    md = wb.report(planted, CAMPAIGN, out=out, format="md")
    assert out.read_text(encoding="utf-8") == md
    for title in SECTIONS:
        assert re.search(rf"^##+ {re.escape(title)}$", md, re.M), title
    assert "<script" not in md.lower()
    assert "\u202e" not in md
    assert "&lt;script&gt;window.\\_\\_xss=1&lt;/script&gt;" in md
    assert "| 2025-03-01 | m-large | 22 |" in md  # requests per day by model


def test_unknown_campaign_and_format(planted):
    with pytest.raises(UnknownNameError, match="Did you mean camp-7f3a"):
        wb.report(planted, "camp-7f3")
    with pytest.raises(UnknownNameError, match="Unknown report format 'pdf'"):
        wb.report(planted, CAMPAIGN, format="pdf")


@pytest.fixture
def case_file(planted, tmp_path) -> Path:
    path = tmp_path / "case.duckdb"
    with planted.connect() as con:
        con.execute("attach $p as f", {"p": str(path)})
        con.execute("copy from database memory to f")
        con.execute("detach f")
    return path


def test_cli_report_and_indicators(case_file, tmp_path):
    from workbench.cli import _register, cli

    _register()
    runner = CliRunner()
    out = tmp_path / "report.html"
    res = runner.invoke(cli, ["report", "--db", str(case_file), "--campaign", CAMPAIGN,
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Detectors and evidence" in out.read_text(encoding="utf-8")
    res = runner.invoke(cli, ["indicators", "--db", str(case_file), "--campaign", CAMPAIGN,
                              "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith('"type","value","first_seen"')
    stix = tmp_path / "i.json"
    res = runner.invoke(cli, ["indicators", "--db", str(case_file), "--campaign", CAMPAIGN,
                              "--format", "stix", "--out", str(stix)])
    assert res.exit_code == 0, res.output
    assert '"type": "bundle"' in stix.read_text(encoding="utf-8")


def test_cli_unknown_campaign_is_one_line(case_file, tmp_path):
    from workbench.cli import _register, cli

    _register()
    res = CliRunner().invoke(cli, ["report", "--db", str(case_file), "--campaign", "camp-7f3b",
                                   "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    assert "Unknown campaign 'camp-7f3b'. Did you mean camp-7f3a?" in res.output
    assert not (tmp_path / "r.html").exists()


def test_report_timeline_gives_each_model_the_traces_colour(planted):
    from workbench.colours import model_colour
    from workbench.handover.report import timeline_spec

    data = report_data.gather(planted, CAMPAIGN, {"first_seen": None, "last_seen": None},
                              wb.indicators(planted, CAMPAIGN, format="frame"))
    scale = timeline_spec(data)["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["m-large", "m-next"]
    assert scale["range"] == [model_colour("m-large"), model_colour("m-next")]
