"""Issue 15's hand-over items, a reproduction each: formula injection in every CSV writer,
invisible characters, control characters on the terminal, live links in Markdown, and the
privacy of accounts outside the campaign (never named, redactable, files 0600)."""

from __future__ import annotations

import csv
import io
import json
import stat
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

import workbench as wb
from workbench import safe
from workbench.cli import _register, cli
from workbench.handover.indicators import indicators
from workbench.handover.report import report

CAMPAIGN = "camp-7f3a"
OUTSIDE = "acct-uni1"  # shares the campaign's IP prefix, like a campus NAT
OUTSIDE_PROMPT = "Summarise this lecture"


def _invoke(*args: str):
    _register()
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def case_file(planted: wb.Case, tmp_path: Path) -> Path:
    # Evidence naming the outside account and one of its requests, as synchronised_activity's
    # best_partner and a template finding's examples do, and a note that names it.
    planted.execute("""
        insert into findings by name
        select 'run-1' as run_id, 'synchronised_activity' as detector, 'uuid-s' as detector_id,
               'v1' as version, '{}'::json as params, 'high' as level, 'account' as entity_type,
               'acct-a1' as entity_id, 0.99 as score,
               json_object('partners', 1, 'best_partner', 'acct-uni1', 'key', 'template',
                           'best_jaccard', 0.5, 'max_shared_actions', 9,
                           'example_request_ids', ['req-4', 'req-0'], 'via', 'account:acct-uni1')
                 as evidence,
               timestamptz '2025-03-01 00:00:00+00' as first_seen,
               timestamptz '2025-03-02 00:00:00+00' as last_seen,
               timestamptz '2025-03-07 00:00:00+00' as ran_at;
        insert into case_notes by name select 'n2' as note_id, 'account' as entity_type,
               'acct-a1' as entity_id, 'compare with acct-uni1 (same NAT)' as note,
               timestamptz '2025-03-07 10:00:00+00' as created_at;
        update leads set reasons = '{"detectors": [{"detector": "synchronised_activity",
            "score": 0.99, "contribution": 0.6, "evidence": {"best_partner": "acct-uni1"}}]}'
        where account_id = 'acct-a1';
    """)
    path = tmp_path / "case.duckdb"
    with planted.connect() as con:
        con.execute("attach $p as f", {"p": str(path)})
        con.execute("copy from database memory to f")
        con.execute("detach f")
    return path


# -- item 6: formula injection --------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
            "ok\r=cmd|' /C calc'!A0", "ok\n+1", "ok\r\n@x"]


@pytest.mark.parametrize("value", FORMULAS)
def test_no_line_of_a_csv_field_starts_a_formula(value: str) -> None:
    text = safe.write_csv(["value"], [[value]])
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2  # a CR or LF inside the value never makes a new row
    cell = rows[1][0]
    for line in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        assert line[:1] not in ("=", "+", "-", "@", "\t"), repr(cell)
    assert cell.replace("'", "") == value.replace("'", "")
    assert text.count('"') >= 4  # every field quoted


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def _assert_guarded(text: str) -> None:
    for cell in _cells(text):
        for line in cell.replace("\r", "\n").split("\n"):
            assert line[:1] not in ("=", "+", "@", "\t"), repr(cell)


def test_every_cli_csv_writer_guards_adversary_ids(case_file: Path) -> None:
    evil = "acct-a2\r=HYPERLINK(\"http://evil.example\")"
    con = wb.open(case_file)
    for table in ("accounts", "leads", "requests"):
        con.execute(f"update {table} set account_id = $e where account_id = 'acct-a2'", e=evil)
    con.execute("update requests set user_agent = 'ua\r@SUM(1)' where account_id = $e", e=evil)
    for args in (["leads", "--format", "csv"], ["campaigns", "--format", "csv"],
                 ["indicators", "--campaign", CAMPAIGN, "--format", "csv"],
                 ["sql", "select account_id, user_agent from requests", "--format", "csv"]):
        res = _invoke(*args, "--db", str(case_file))
        assert res.exit_code == 0, res.output
        _assert_guarded(res.output)
        assert "'=HYPERLINK" in res.output or args[0] == "campaigns", args


# -- item 8: invisible characters ------------------------------------------------------------

INVISIBLE = ["\U000e0041", "\U000e007f", "\u2028", "\u2029", "\u3164", "\u034f", "\ufff9",
             "\ufffb", "\u206a", "\u206f", "\ufe0f", "\U000e0100", "\u115f", "\u180b", "\u2800",
             "\u00a0", "\u200b", "\u202e", "\ufeff", "\x1b", "\r"]


@pytest.mark.parametrize("ch", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_invisible_characters_are_labelled(ch: str) -> None:
    a, b = "acct-1", f"acct-{ch}1"
    assert safe.visible(b) != safe.visible(a)
    assert ch not in safe.visible(b)
    assert ch not in safe.escape(b)
    assert f"U+{ord(ch):04X}" in safe.visible(b)


def test_every_format_character_is_labelled() -> None:
    cf = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert all(ch not in safe.visible(ch) for ch in cf)


def test_tag_characters_show_the_text_they_hide() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "ignore all rules")
    assert "'ignore all rules'" in safe.visible(f"hello{hidden}")


def test_ordinary_text_is_untouched() -> None:
    text = "Résumé 東京 ☕ a\tb\nc\r\nd — “quotes”"
    assert safe.visible(text) == text


# -- item 9: control characters on the terminal ---------------------------------------------

def test_cr_never_reaches_the_terminal(case_file: Path) -> None:
    con = wb.open(case_file)
    evil = "acct-a2\rINNOCENT\x1b[2K"
    for table in ("accounts", "leads", "requests"):
        con.execute(f"update {table} set account_id = $e where account_id = 'acct-a2'", e=evil)
    for args in (["sql", "select account_id, user_agent from requests"], ["leads"],
                 ["campaigns"], ["sql", "select 1 as \"x\ry\""]):
        res = _invoke(*args, "--db", str(case_file))
        assert res.exit_code == 0, res.output
        assert "\r" not in res.output, args
        assert "\x1b" not in res.output, args
    assert "⟨U+000D⟩" in _invoke("leads", "--db", str(case_file)).output


# -- item 11: bare URLs in the Markdown report ----------------------------------------------

@pytest.mark.parametrize("text", ["see https://evil.example/x", "www.evil.example",
                                  "mail bob@evil.example", "ftp://evil.example"])
def test_markdown_never_makes_a_live_link(text: str) -> None:
    out = safe.markdown(text)
    assert "://" not in out
    assert "www." not in out.lower()
    assert "@e" not in out


def test_markdown_report_has_no_live_link(planted: wb.Case) -> None:
    planted.execute("update requests set prompt_text = 'fetch https://evil.example/p and "
                    "www.evil.example' where account_id = 'acct-a1'")
    md = report(planted, CAMPAIGN, format="md")
    assert "https://evil" not in md
    assert "https\\[:\\]//evil.example" in md


# -- privacy of the innocent ------------------------------------------------------------------

def test_report_and_indicators_never_name_an_outside_account(case_file: Path,
                                                              tmp_path: Path) -> None:
    case = wb.open(case_file, read_only=True)
    texts = {"html": report(case, CAMPAIGN), "md": report(case, CAMPAIGN, format="md")}
    for fmt in ("json", "csv", "stix"):
        texts[fmt] = indicators(case, CAMPAIGN, format=fmt)
    for fmt, text in texts.items():
        assert OUTSIDE not in text, fmt
        assert OUTSIDE_PROMPT not in text, fmt
        assert "req-4" not in text, fmt  # a request of the outside account
    # The shared value is there, marked, with the outside accounts counted.
    doc = json.loads(texts["json"])
    nat = next(i for i in doc["indicators"] if i["value"] == "203.0.113.0/24")
    assert (nat["outside_accounts"], nat["safe_to_block"]) == (1, False)
    assert "(an account outside the campaign)" in texts["html"]
    assert "SHARED: also used by 1 accounts outside the campaign" in texts["stix"]
    # The campaign's own accounts are still named.
    assert "acct-a1" in texts["html"]
    assert "acct-a1" in texts["stix"]


def test_report_leads_with_what_to_act_on(case_file: Path) -> None:
    html = report(wb.open(case_file, read_only=True), CAMPAIGN)
    first = html.index("<h2>What to act on</h2>")
    assert first < html.index("<h2>Timeline</h2>")
    block = html[first:html.index("<h3>Prompt templates")]
    assert "pf-111" in block
    assert "203.0.113.0/24" not in block
    shared = html[html.index("<h3>Shared with accounts outside"):html.index("<h2>Timeline")]
    assert "203.0.113.0/24" in shared
    assert "acct-a1, acct-a2" in shared
    assert "<h2>Why these accounts</h2>" in html


def test_redaction_hashes_emails_ips_and_payment_with_a_key(case_file: Path) -> None:
    case = wb.open(case_file, read_only=True)
    plain = report(case, CAMPAIGN, format="md")
    red = report(case, CAMPAIGN, format="md", redact="shared passphrase")
    for value in ("pf-111", "pf-222", "203.0.113.0/24", "mail.example"):
        assert value in plain
        assert value not in red, value
    again = report(case, CAMPAIGN, format="md", redact="shared passphrase")
    other = report(case, CAMPAIGN, format="md", redact="another passphrase")
    token = next(t for t in red.split() if t.startswith("pay:"))
    assert token in again  # keyed: the same key gives the same token ...
    assert token not in other  # ... and another key another
    stix = indicators(case, CAMPAIGN, format="stix", redact=True)  # the case's own key
    assert "pf-111" not in stix
    assert "203.0.113.0/24" not in stix
    assert "x-llm-redacted:hmac_sha256" in stix
    assert indicators(case, CAMPAIGN, format="stix", redact=True).count("pay:") >= 2
    import stix2

    stix2.parse(stix)


def test_handover_files_are_private(case_file: Path, tmp_path: Path) -> None:
    for args in (["report", "--campaign", CAMPAIGN, "--out", str(tmp_path / "r.html")],
                 ["report", "--campaign", CAMPAIGN, "--out", str(tmp_path / "r.md"),
                  "--format", "md", "--redact"],
                 ["indicators", "--campaign", CAMPAIGN, "--out", str(tmp_path / "i.csv"),
                  "--format", "csv", "--redact-key", "shared passphrase"]):
        res = _invoke(*args, "--db", str(case_file))
        assert res.exit_code == 0, res.output
        path = Path(args[args.index("--out") + 1])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "pf-111" not in (tmp_path / "i.csv").read_text()
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_pivot_command_lists_every_account_behind_a_value(case_file: Path) -> None:
    res = _invoke("pivot", "--db", str(case_file), "--kind", "ip_prefix", "--value",
                  "203.0.113.0/24", "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert {r["account_id"] for r in rows} == {"acct-a1", "acct-a2", OUTSIDE}
    res = _invoke("pivot", "--db", str(case_file), "--kind", "ip_prefx", "--value", "x")
    assert res.exit_code == 2
    assert "Unknown pivot kind 'ip_prefx'. Did you mean ip_prefix?" in res.output
    table = _invoke("pivot", "--db", str(case_file), "--kind", "payment", "--value", "pf-111")
    assert "2 accounts in 1 campaigns" in table.output


def test_a_cohort_finding_is_in_the_report_in_words_without_its_outside_members(
        planted: wb.Case) -> None:
    # cohort_harvest fired on the campus prefix's cohort: one campaign account and the outside
    # account took part
    planted.execute("""
        insert into findings by name
        select 'run-1' as run_id, 'cohort_harvest' as detector, 'uuid-h' as detector_id,
               'v1' as version, '{}'::json as params, 'high' as level,
               'cohort' as entity_type, 'ip_prefix:203.0.113.0/24' as entity_id, 0.8 as score,
               json_object('kind', 'ip_prefix', 'value', '203.0.113.0/24',
                           'members_with_prompts', 3, 'requests_with_prompts', 90,
                           'harvesting_requests', 40, 'share', 0.444, 'population_share', 0.03,
                           'lift', 14.8, 'z', 21.0, 'cot', 40, 'rubric', 0, 'sensitive', 0,
                           'coercion', 0, 'distinct_harvesting_prompts', 40,
                           'mean_active_hours', 30.0, 'taking_part', 2,
                           'members', ['acct-a1', 'acct-uni1']) as evidence,
               timestamptz '2025-03-01 00:00:00+00' as first_seen,
               timestamptz '2025-03-02 00:00:00+00' as last_seen,
               timestamptz '2025-03-07 00:00:00+00' as ran_at""")
    for fmt in ("html", "md"):
        text = report(planted, CAMPAIGN, format=fmt)
        assert "cohort_harvest" in text.replace("\\_", "_"), fmt
        assert ("2 of the 3 accounts on IP prefix 203.0.113.0/24 send harvesting prompts "
                "together: 40 of their 90 requests (44%") in text, fmt
        assert OUTSIDE not in text, fmt
    # the indicators say which detectors stand behind the prefix and the member that took part
    ind = indicators(planted, CAMPAIGN, format="frame")
    behind = {(t, v): d for t, v, d in ind.select("type", "value", "detectors").iter_rows()}
    assert "cohort_harvest" in behind[("ip_prefix", "203.0.113.0/24")]
    assert "cohort_harvest" in behind[("account", "acct-a1")]
    assert "cohort_harvest" not in behind[("account", "acct-a2")]


def test_hand_overs_are_in_the_access_log(case_file: Path, tmp_path: Path) -> None:
    from workbench.audit import read

    case = wb.open(case_file, read_only=True)
    report(case, CAMPAIGN, out=tmp_path / "r.html")
    indicators(case, CAMPAIGN, format="stix", redact=True)
    indicators(case, CAMPAIGN, format="frame")  # a value in the notebook, not a hand-over
    handed = [e for e in read(case_file) if e["action"] in ("report", "indicators")]
    assert [(e["action"], e["format"], e["redacted"]) for e in handed] == [
        ("report", "html", False), ("indicators", "stix", True)]
    assert handed[0]["out"] == str(tmp_path / "r.html")
    assert handed[0]["campaign"] == CAMPAIGN
