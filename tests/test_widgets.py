"""The triage board and the trace, driven through their state, values, clicks and chart specs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

import workbench as wb
from workbench.errors import ParameterError, UnknownNameError
from workbench.widgets import InvestigationState, Trace, trace, triage
from workbench.widgets.grid import click_row
from workbench.widgets.tables import STYLE

FIXTURE = Path(__file__).parent / "fixtures" / "widgets_case.sql"
START = datetime(2025, 3, 1, tzinfo=UTC)
HOUR_MS = 3_600_000


def _fill(case: wb.Case) -> wb.Case:
    with case.connect(write=True) as con:
        con.execute(FIXTURE.read_text())
    return case


@pytest.fixture
def xss_case(case: wb.Case) -> wb.Case:
    """The hand-made case with the planted campaign camp-xss and its payloads."""
    return _fill(case)


def _html_values(t: Trace) -> dict[str, str]:
    return {name: getattr(t, name).value.replace(STYLE, "") for name in (
        "header", "volume", "fingerprint", "templates", "detectors", "links", "access",
        "accounts", "requests", "conversation", "notes")}


def _brush(t: Trace, start_ms: float | None, end_ms: float | None) -> None:
    """What the browser sends when the investigator drags (or clears) the timeline brush."""
    value = {} if start_ms is None else {"time": [start_ms, end_ms]}
    t.timeline._vl_selections = {"brush": {"value": value, "store": []}}


def test_trace_needs_exactly_one_actor(xss_case: wb.Case) -> None:
    with pytest.raises(ParameterError, match="exactly one of"):
        trace(xss_case, account="acct-x1", campaign="camp-xss")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"campaign": "camp-xs"}, "Unknown campaign 'camp-xs'.*Did you mean camp-xss"),
    ({"account": "acct-x9"}, "Unknown account 'acct-x9'. Did you mean acct-x"),
])
def test_unknown_actor_suggests_the_closest(xss_case: wb.Case, kwargs: dict[str, str],
                                            message: str) -> None:
    with pytest.raises(UnknownNameError, match=message):
        trace(xss_case, **kwargs)


def test_timeline_spec_has_brush_models_and_release_markers(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    spec = t.timeline.spec
    assert [p["name"] for p in spec["params"]] == ["brush"]
    bars, rule, _text = spec["layer"]
    assert bars["data"] == {"name": "timeline"}
    rows = spec["datasets"]["timeline"]
    assert {r["model"] for r in rows} == {"model-a", "model-b"}
    assert sum(r["requests"] for r in rows) == 216
    assert rule["mark"]["type"] == "rule"
    assert spec["datasets"]["releases"] == [{"released_at": "2025-03-02T12:00:00+00:00",
                                             "model": "model-b"}]
    assert "brush" in t.timeline.selections.trait_names()


def test_brushing_the_timeline_narrows_every_other_panel(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    before = _html_values(t)
    cap_before = t.capabilities.spec["datasets"]["mix"]
    start = START.timestamp() * 1000
    _brush(t, start, start + 6 * HOUR_MS)
    assert t.state.window == (START, datetime(2025, 3, 1, 6, tzinfo=UTC))
    after = _html_values(t)
    for panel in ("volume", "templates", "fingerprint", "accounts", "access", "requests",
                  "header"):
        assert after[panel] != before[panel], panel
    assert "<th>requests</th><td>18</td>" in after["volume"]  # 3 accounts x 6 hours
    actor = [r for r in t.capabilities.spec["datasets"]["mix"] if r["group"] == "actor"]
    assert actor[0]["n"] == 18
    assert cap_before != t.capabilities.spec["datasets"]["mix"]
    assert all(r.split(" · ")[0] < "2025-03-01 06:00" for r, _ in t.request_pick.options)
    _brush(t, None, None)  # clearing the brush shows the whole span again
    assert t.state.window is None
    assert "<th>requests</th><td>216</td>" in t.volume.value


def test_window_set_from_python_reaches_the_panels(xss_case: wb.Case) -> None:
    state = InvestigationState()
    t = trace(xss_case, campaign="camp-xss", state=state)
    state.set_window(datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC))
    assert "<th>requests</th><td>72</td>" in t.volume.value
    assert all(label.startswith("2025-03-03") for label, _ in t.request_pick.options)


def test_drill_down_from_templates_and_detectors_to_requests(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    labels = [label for label, _ in t.drill_template.options]
    assert labels[0] == "(all)"
    assert "tpl-<i>cot</i>" in labels  # a dropdown label is plain text in the browser
    t.drill_template.value = "tpl-cot-b"
    assert t.state.filters == {"template_id": "tpl-cot-b"}
    assert "tpl-&lt;i&gt;cot" not in t.requests.value
    assert len(t.request_pick.options) == 100  # capped; 108 requests use this template
    t.drill_detector.value = t.drill_detector.options[1][1]
    assert t.state.filters == {"request_id": ["req-0-001", "req-0-002"]}
    assert [v for _, v in t.request_pick.options] == ["req-0-001", "req-0-002"]
    t.clear_filters.click()
    assert t.state.filters == {}


def test_picking_a_request_shows_its_full_conversation_as_text(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    t.request_pick.value = "req-2-005"
    assert t.state.selected_requests == ["req-2-005"]
    conv = t.conversation.value
    assert "&lt;style&gt;body{display:none}&lt;/style&gt;" in conv
    assert "&lt;script&gt;window.__pwned=1;alert(1)&lt;/script&gt;python-httpx" in conv
    assert "⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩" in conv
    assert "⟨U+200B ZERO WIDTH SPACE⟩" in conv


def test_no_panel_carries_live_markup_or_invisible_characters(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    t.request_pick.value = "req-2-001"
    t.note_text.value = "<img src=x onerror=alert(1)> same card"
    t.note_save.click()
    values = _html_values(t)
    assert "&lt;img src=x onerror=" in values["templates"]
    assert "&lt;b&gt;shared&lt;/b&gt;" in values["links"]
    for name, html in values.items():
        for bad in ("<script", "<img", "<b>", "<i>", "<u>", "<style", "\u202e", "\u200b"):
            assert bad not in html, (name, bad)
    specs = json.dumps([t.timeline.spec, t.capabilities.spec, t.matrix.spec])
    assert "\\u202e" not in specs.lower()


def test_long_text_is_cut_with_a_way_to_see_all(xss_case: wb.Case) -> None:
    xss_case.execute("update requests set prompt_text = repeat('A', 5000) || '<END>' "
                     "where request_id = 'req-0-003'")
    xss_case.execute("update request_content set messages = json_array(json_object('role', "
                     "'user', 'content', repeat('A', 5000) || '<END>')) "
                     "where request_id = 'req-0-003'")
    t = trace(xss_case, account="acct-x1")
    t.state.selected_requests = ["req-0-003"]
    assert "show all 5,005 characters" in t.conversation.value
    assert "&lt;END&gt;" in t.conversation.value  # the full text is still there, escaped
    grid = t.request_grid_box.children[0]
    cell = grid.data.loc[grid.data["request_id"] == "req-0-003", "prompt"].iloc[0]
    assert "<END>" not in cell
    assert cell.endswith("…")


def test_links_matrix_shows_why_accounts_are_linked(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    cells = t.matrix.spec["datasets"]["links"]
    assert {c["kind"] for c in cells} == {"payment", "ip_prefix_hour", "lockstep_template"}
    assert len(cells) == 6  # three edges, drawn both ways
    single = trace(xss_case, account="acct-x2")
    assert single.data is not None
    assert set(single.data.links()["kind"]) == {"payment", "lockstep_template"}


def test_notes_saved_from_the_trace_are_in_the_case(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    t.note_text.value = "all three share one card"
    t.note_tag.value = "escalate"
    t.note_save.click()
    df = xss_case.sql("select entity_type, entity_id, tag, note from case_notes")
    assert df.rows() == [("campaign", "camp-xss", "escalate", "all three share one card")]
    assert "all three share one card" in t.notes.value
    assert t.note_text.value == ""


def test_triage_filters_sort_and_opening_a_row(xss_case: wb.Case) -> None:
    board = triage(xss_case)
    assert board.rows["campaign_id"].to_list() == ["camp-xss"]
    board.level.value = "low"
    assert board.rows.height == 0
    assert "no campaigns match" in board.table.value
    board.level.value = None
    board.detector.value = "cot_elicitation"
    assert board.rows.height == 1
    board.access_path.value = "reseller:<u>cheap</u>"
    assert board.rows.height == 1
    board.search.value = "X1"  # matches a member account id, case-insensitive
    assert board.rows.height == 1
    board.kind.value = "leads"
    board.search.value = ""
    board.detector.value = None
    board.access_path.value = None
    assert board.rows["account_id"].to_list()[0] == "acct-x1"
    board.descending.value = False
    assert board.rows["account_id"].to_list()[0] == "acct-benign1"
    board.level.value = "high"
    assert board.rows.height == 2
    shown = board.grid.data["account_id"].tolist()
    assert 'acct-<img src=x onerror="window.__pwned=1">' in shown  # drawn as text on a canvas
    click_row(board.grid, shown.index("acct-x2"))
    assert board.trace is not None
    assert (board.state.entity_type, board.state.entity_id) == ("account", "acct-x2")
    assert board.trace_box.children == (board.trace,)
    assert board.tabs.selected_index == 1  # the Trace tab, the board one tab away
    assert "acct-x2 is a lead" in board.why.value


def test_triage_and_trace_share_one_state(xss_case: wb.Case) -> None:
    board = triage(xss_case)
    t = board.open_trace("camp-xss")
    assert t.state is board.state
    board.state.set_actor("account", "acct-x1")
    assert t.data is not None
    assert t.data.accounts == ["acct-x1"]
    assert "<th>requests</th><td>72</td>" in t.volume.value


def test_trace_releases_a_read_only_case_file(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    _fill(wb.open(path))
    ro = wb.open(path, read_only=True)
    t = trace(ro, campaign="camp-xss")
    _brush(t, START.timestamp() * 1000, START.timestamp() * 1000 + HOUR_MS)
    t.request_pick.value = t.request_pick.options[0][1]
    # The widget holds no connection: a writer gets the file at once.
    con = duckdb.connect(str(path))
    con.execute("insert into case_notes (note_id) values ('n1')")
    con.close()
    t.note_text.value = "written through a brief write connection"
    t.note_save.click()
    assert ro.sql("select count(*) as n from case_notes")["n"][0] == 2


def test_a_campaign_of_thousands_of_accounts_stays_light(case: wb.Case) -> None:
    case.execute(
        "insert into requests by name select 'r' || range as request_id, "
        "timestamptz '2025-01-01 00:00:00+00' + to_minutes(range) as ts, "
        "'a' || (range % 3000) as account_id, 'm' as model, 'direct' as access_path, "
        "'10.0.' || (range % 250) || '.0/24' as ip_prefix from range(12000)")
    case.execute("insert into features by name select request_id, 't' || (hash(request_id) % 40)"
                 " as template_id, 'coding' as capability from requests")
    case.execute("insert into leads by name select distinct account_id, 'big' as campaign_id, "
                 "0.9 as risk, 'high' as level from requests")
    case.execute("insert into account_links by name select 'a' || range as src, "
                 "'a' || (range + 1) as dst, 'payment' as kind, 'card' as value, "
                 "0.5 as weight from range(2999)")
    t = trace(case, campaign="big")
    assert t.data is not None
    assert len(t.data.accounts) == 3000
    accounts_drawn = {c["a"] for c in t.matrix.spec["datasets"]["links"]}
    assert len(accounts_drawn) <= 40
    assert len(t.timeline.spec["datasets"]["timeline"]) == 200  # 12,000 minutes in hourly buckets
    assert len(t.request_pick.options) == 100
    assert t.templates.value.count("<tr>") <= 16


def test_a_huge_campaign_is_sampled_below_an_exact_timeline(
        case: wb.Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.widgets import data

    monkeypatch.setattr(data, "MAX_SLICE", 3000)
    case.execute(
        "insert into requests by name select 'r' || range as request_id, "
        "timestamptz '2025-01-01 00:00:00+00' + to_minutes(range) as ts, "
        "'a' || (range % 30) as account_id, 'm' as model from range(12000)")
    case.execute("insert into leads by name select distinct account_id, 'big' as campaign_id "
                 "from requests")
    case.execute("insert into campaigns by name select 'big' as campaign_id, 12000 as requests")
    t = trace(case, campaign="big")
    assert t.data is not None
    assert t.data.sample == 4
    assert sum(r["requests"] for r in t.timeline.spec["datasets"]["timeline"]) == 12000
    slice_rows = t.data.db.sql("select count(*) from actor").fetchall()[0][0]
    assert 2000 < slice_rows < 4000
    assert "1-in-4 sample" in t.header.value


def test_chart_specs_are_valid_vega_lite(xss_case: wb.Case) -> None:
    from workbench.widgets import charts
    from workbench.widgets.data import ActorData

    d = ActorData(xss_case, "campaign", "camp-xss")
    for chart, datasets in (charts.timeline(d.timeline(), d.releases()),
                            charts.capability_mix(d.capability_mix()),
                            charts.link_matrix(d.links())):
        # validates against the Vega-Lite schema (the class method: the trace's shared
        # chart objects skip that check on their own to_dict)
        spec = type(chart).to_dict(chart, validate=True)
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        assert all(isinstance(rows, list) for rows in datasets.values())


def test_triage_to_requests_on_the_simulated_world(world_case: wb.Case) -> None:
    board = triage(world_case)
    assert board.rows.height > 0, "the simulated world produced no campaign"
    click_row(board.grid, 0)
    t = board.trace
    assert t is not None
    assert t.data is not None
    assert t.data.n_requests > 0
    assert sum(r["requests"] for r in t.timeline.spec["datasets"]["timeline"]) \
        == t.data.n_requests
    assert "Top templates" in t.templates.value
    t.request_pick.value = t.request_pick.options[0][1]
    assert t.state.selected_requests == [t.request_pick.value]
    assert "Request" in t.conversation.value


def test_lab_says_to_build_the_demo_first(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from workbench.cli import _register, cli

    _register()
    result = CliRunner().invoke(cli, ["lab", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 2
    assert "Run `make demo` first" in result.output


def test_lab_starts_offline_on_loopback(tmp_path: Path) -> None:
    from workbench.cli.lab import lab_args

    args = lab_args(tmp_path, port=8899, token="t0k", open_browser=False)
    for flag in ("--ServerApp.ip=127.0.0.1", "--LabApp.news_url=None",
                 "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                 "--LabApp.extension_manager=readonly", "--ServerApp.open_browser=False",
                 "--ServerApp.port=8899", "--IdentityProvider.token=t0k"):
        assert flag in args


# -- the rollup: work counts, not wall time -------------------------------------------------

class _Recorder:
    """A case connection that notes every query the trace sends through it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seen: list[tuple[str, Any]]) -> None:
        self._con, self._seen = con, seen

    def sql(self, query: str, params: Any = None) -> Any:
        self._seen.append((query, params))
        return self._con.sql(query, params=params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _scans(case: wb.Case, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """Rows scanned per table (one entry per scan) by every case query of opening the trace,
    from DuckDB's own profile (EXPLAIN ANALYZE, rows_scanned after zone-map pruning)."""
    seen: list[tuple[str, Any]] = []
    original = wb.Case.connect

    @contextlib.contextmanager
    def connect(self: wb.Case, write: bool = False) -> Iterator[Any]:
        with original(self, write) as con:
            yield _Recorder(con, seen)

    with monkeypatch.context() as m:
        m.setattr(wb.Case, "connect", connect)
        t = trace(case, campaign="camp-xss")
    assert t.data is not None
    scans: dict[str, list[int]] = {"__source__": [t.data.source == "actor_requests"]}
    with case.connect() as con:
        for query, params in seen:
            plan = json.loads(con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query,
                                          params).fetchall()[0][1])
            stack = list(plan["operator"])
            while stack:
                op = stack.pop()
                if op.get("type") == "TABLE_SCAN":
                    table = str(op["extra_info"].get("Table", "")).rsplit(".", 1)[-1]
                    scans.setdefault(table, []).append(int(op.get("rows_scanned") or 0))
                stack.extend(op.get("children", []))
    return scans


@pytest.fixture
def busy_case(xss_case: wb.Case) -> wb.Case:
    """The planted campaign inside 300,000 requests of other accounts (three row groups) whose
    ids sort on both sides of the campaign's, as random account ids do."""
    xss_case.execute(
        "insert into requests by name select 'noise-' || range as request_id, "
        "timestamptz '2025-02-01 00:00:00+00' + to_seconds(range * 20) as ts, "
        "case when range % 2 = 0 then 'acct-a' else 'acct-z' end || (range % 5000) "
        "as account_id, 'model-a' as model from range(300000)")
    return xss_case


def test_trace_reads_the_rollup_not_requests(busy_case: wb.Case,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.rollups import build_rollups

    total = busy_case.count("requests")
    slow = _scans(busy_case, monkeypatch)
    assert slow["__source__"] == [False]
    assert max(slow["requests"]) == total  # the fallback scans all of requests
    assert slow.get("features")  # ... and joins features

    assert build_rollups(busy_case) == total
    fast = _scans(busy_case, monkeypatch)
    assert fast["__source__"] == [True]
    assert "features" not in fast  # features were joined once, when the rollup was built
    # The slice reads the few row groups holding the campaign (zone maps on campaign_key) ...
    assert 0 < sum(fast["actor_requests"]) <= 2 * 122_880 < total
    # ... and `requests` only for the prompts on screen, looked up by id within their span.
    assert len(fast.get("requests", [])) <= 1


def test_a_stale_or_missing_rollup_falls_back_with_the_same_panels(
        xss_case: wb.Case) -> None:
    from workbench.rollups import build_rollups

    before = trace(xss_case, campaign="camp-xss")
    build_rollups(xss_case)
    after = trace(xss_case, campaign="camp-xss")
    assert before.data is not None
    assert after.data is not None
    assert (before.data.source, after.data.source) == ("requests", "actor_requests")
    assert _html_values(before) == _html_values(after)
    assert before.timeline.spec == after.timeline.spec
    assert before.capabilities.spec == after.capabilities.spec
    # Relinking after the build makes it stale: the trace reads requests again.
    xss_case.execute("update leads set campaign_id = null where account_id = "
                     "(select min(account_id) from leads where campaign_id = 'camp-xss')")
    stale = trace(xss_case, campaign="camp-xss")
    assert stale.data is not None
    assert stale.data.source == "requests"
    assert len(stale.data.accounts) == len(before.data.accounts) - 1


def test_detect_builds_the_rollup(xss_case: wb.Case) -> None:
    from workbench.rollups import fresh

    wb.detect(xss_case, only=["logit_probing"], link=False)
    with xss_case.connect() as con:
        record = fresh(con)
    assert record is not None
    assert record["requests"] == xss_case.count("requests")
    t = trace(xss_case, campaign="camp-xss")
    assert t.data is not None
    assert t.data.source == "actor_requests"


# -- issue 14: the investigator's screen ----------------------------------------------------

def test_board_ranks_equal_risk_by_evidence(xss_case: wb.Case) -> None:
    xss_case.execute("update leads set risk = 0.9 where campaign_id = 'camp-xss'")
    xss_case.execute("""update leads set reasons = '{"detectors": [
        {"detector": "cot_elicitation", "contribution": 0.5},
        {"detector": "logit_probing", "contribution": 0.4}]}' where account_id = 'acct-x2'""")
    board = triage(xss_case)
    board.kind.value = "leads"
    assert board.rows["account_id"][0] == "acct-x2"  # two specific detectors beat none
    assert board.rows["specific"][0] == 2


def test_pivot_from_an_ip_prefix_to_its_accounts(xss_case: wb.Case) -> None:
    board = triage(xss_case)
    t = board.open_trace("camp-xss")
    choice = next(v for _, v in t.pivot_pick.options if v == ("ip_prefix", "203.0.113.0/24"))
    t.pivot_pick.value = choice
    t.pivot_go.click()
    assert board.tabs.selected_index == board.TABS.index("Pivot")
    assert board.pivot.frame is not None
    assert sorted(board.pivot.frame["account_id"]) == sorted(
        ["acct-x1", "acct-x2", 'acct-<img src=x onerror="window.__pwned=1">'])
    assert "3 accounts in 1 campaigns" in board.pivot.summary.value
    click_row(board.pivot.result.children[0], 0)
    assert board.state.entity_type == "account"
    board.pivot.run("payment", "no-such-card")
    assert "0 accounts" in board.pivot.summary.value
    board.pivot.run("ip_prefx", "x")
    assert "Unknown pivot kind &#x27;ip_prefx&#x27;. Did you mean ip_prefix?" \
        in board.pivot.summary.value


def test_network_colours_edges_by_kind_and_a_node_click_opens_it(xss_case: wb.Case) -> None:
    board = triage(xss_case)
    sigma = board.show_network("camp-xss")
    assert board.tabs.selected_index == board.TABS.index("Network")
    edges = {e["attributes"]["kind"] for e in sigma.data["edges"]}
    assert edges == {"payment", "ip_prefix_hour", "lockstep_template"}
    labels = {n["attributes"]["label"] for n in sigma.data["nodes"]}
    assert 'acct-<img src=x onerror="window.__pwned=1">' in labels
    node = next(k for k, a in sigma.accounts.items() if a == "acct-x2")
    sigma.selected_node = node
    assert (board.state.entity_type, board.state.entity_id) == ("account", "acct-x2")
    assert board.tabs.selected_index == board.TABS.index("Trace")


def test_every_link_kind_has_its_own_colour() -> None:
    from workbench.config import RiskConfig
    from workbench.widgets.panels import LINK_COLOURS

    kinds = set(RiskConfig.load().link_weights)
    assert kinds - set(LINK_COLOURS) == set()  # a new kind gets a colour of its own
    assert len(set(LINK_COLOURS.values())) == len(LINK_COLOURS)


def test_compare_two_accounts_side_by_side(xss_case: wb.Case) -> None:
    board = triage(xss_case)
    html = board.compare.run("acct-x1", "acct-benign1")
    assert html is not None
    assert html.count("Volume and tokens") == 2
    assert "Capability mix" in html
    assert "python-httpx/0.27" in html  # a value both used
    assert "<img" not in html
    board.compare.run("acct-x1", "acct-nope")
    assert "Unknown account &#x27;acct-nope&#x27;" in board.compare.message.value


def test_transcript_folds_tool_calls_and_escapes_everything() -> None:
    from workbench.widgets.tables import transcript

    html = transcript({"system_prompt": "<b>sys</b>", "messages": json.dumps([
        {"role": "user", "content": [{"type": "text", "text": "<script>x</script>"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "name": "<i>fetch</i>",
                                           "input": {"url": "javascript:alert(1)"}}]},
        {"role": "user", "content": [{"type": "tool_result", "content": "<img src=x>"}]}]),
        "response": json.dumps({"content": [{"type": "text", "text": "done\u202e"}]})})
    assert html.index("system") < html.index("user") < html.index("response")
    assert "<details><summary>tool call &lt;i&gt;fetch&lt;/i&gt;" in html
    assert "<details><summary>tool result" in html
    for bad in ("<script", "<img", "<b>", "<i>", "\u202e"):
        assert bad not in html


def test_a_bad_note_tag_shows_its_error_under_the_note_box(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    t.note_text.value = "looks bad"
    t.note_tag.value = "Needs Review"
    t.note_save.click()  # no exception escapes to JupyterLab's log console
    assert "Tag &#x27;Needs Review&#x27; is not allowed" in t.note_message.value
    assert xss_case.sql("select count(*) as n from case_notes")["n"][0] == 0


def test_window_exports_as_csv_and_parquet_beside_the_case(tmp_path: Path) -> None:
    import polars as pl

    path = tmp_path / "case.duckdb"
    _fill(wb.open(path))
    t = trace(wb.open(path, read_only=True), campaign="camp-xss")
    start = START.timestamp() * 1000
    _brush(t, start, start + 6 * HOUR_MS)
    t.export_csv.click()
    t.export_parquet.click()
    files = sorted((tmp_path / "exports").iterdir())
    assert [f.suffix for f in files] == [".csv", ".parquet"]
    assert pl.read_parquet(files[1]).height == 18
    assert (files[0].stat().st_mode & 0o777) == 0o600


def test_one_colour_per_model_in_every_trace(xss_case: wb.Case) -> None:
    from workbench.widgets.charts import model_colour

    a = trace(xss_case, account="acct-x1").timeline.spec
    b = trace(xss_case, account="acct-benign1").timeline.spec
    for spec in (a, b):
        scale = spec["layer"][0]["encoding"]["color"]["scale"]
        assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
            m: model_colour(m) for m in scale["domain"]}


def test_tables_show_times_with_their_zone_and_thousands_separators() -> None:
    from workbench.widgets.tables import cell

    assert cell(datetime(2025, 3, 1, 9, 5, tzinfo=UTC)) == "2025-03-01 09:05 UTC"
    assert cell(1234567) == "1,234,567"


def test_browse_all_requests_in_a_duckdb_backed_grid(xss_case: wb.Case) -> None:
    t = trace(xss_case, campaign="camp-xss")
    view = t.browse_all()
    assert view.data().fetchall()[0][0] is not None
    assert view._conn is t.data.db  # the private slice, never the case's connection


def test_a_cohort_finding_reaches_the_members_it_names(xss_case: wb.Case) -> None:
    # cohort_churn fired on the shared card's cohort; acct-x2 took part, acct-x1 did not
    xss_case.execute("""
        insert into findings by name
        select 'run-c' as run_id, 'cohort_churn' as detector, 'uuid-churn' as detector_id,
               'v1' as version, '{}'::json as params, 'high' as level,
               'cohort' as entity_type, 'payment:pf-9' as entity_id, 0.9 as score,
               json_object('kind', 'payment', 'value', 'pf-9', 'members_with_traffic', 5,
                           'turnover', 4.2, 'short_lived_busy_share', 0.8,
                           'wave_born_share', 0.6, 'replacements', 4, 'births', 5,
                           'replacement_by_chance', 0.1, 'span_days', 6.0,
                           'members', ['acct-x2', 'acct-benign1']) as evidence,
               timestamptz '2025-03-01 00:00:00+00' as first_seen,
               timestamptz '2025-03-03 00:00:00+00' as last_seen,
               timestamptz '2025-03-07 00:00:00+00' as ran_at""")
    t = trace(xss_case, account="acct-x2")
    assert "cohort_churn" in t.detectors.value
    assert "accounts paying with card pf-9 turn over like seats" in t.detectors.value
    assert "cohort_churn" not in trace(xss_case, account="acct-x1").detectors.value
    board = triage(xss_case)
    board.kind.value = "leads"
    board.detector.value = "cohort_churn"
    assert sorted(board.rows["account_id"]) == ["acct-benign1", "acct-x2"]
    board.kind.value = "campaigns"
    assert board.rows["campaign_id"].to_list() == ["camp-xss"]  # through acct-x2
