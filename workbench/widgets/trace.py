"""`trace()`: one actor (an account or a campaign) on one screen.

Timeline with model releases and a brush; volume and tokens; capability mix against the
population; parameter fingerprint; top templates; detectors and their evidence; linked
accounts and why; access paths, IP prefixes and user agents; individual requests and their
full conversation. All panels follow one `InvestigationState`: brushing the timeline sets the
state's window and every other panel re-aggregates; drill-downs set its filters; picking a
request sets its selection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from workbench.safe import escape
from workbench.widgets import charts, tables
from workbench.widgets.data import ActorData
from workbench.widgets.state import InvestigationState

if TYPE_CHECKING:
    from workbench.case import Case

_ALL = "(all)"


def _options(values: list[Any], labels: list[str] | None = None) -> list[tuple[str, Any]]:
    """Dropdown options: labels are plain text (the browser shows them as text, not HTML)."""
    labels = labels or [charts.label(v, 60) for v in values]
    return [(_ALL, None), *zip(labels, values, strict=True)]


class Trace(w.VBox):
    """The trace widget. Build it with `workbench.trace(case, account=...)`.

    Attributes worth knowing in tests and notebooks: `state` (the shared
    InvestigationState), `timeline` (the JupyterChart carrying the brush), `data` (the
    ActorData behind the panels) and one HTML widget per panel.
    """

    def __init__(self, case: Case, state: InvestigationState,
                 pivot: Callable[[str, str], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.state = state
        self.data: ActorData | None = None
        self._pivot = pivot
        self.header = w.HTML()
        self.pivot_pick = w.Dropdown(description="value", options=[],
                                     layout=w.Layout(width="560px"))
        self.pivot_go = w.Button(description="Who else used it?", button_style="info")
        self.pivot_go.on_click(lambda _: self.pivot_on(*(self.pivot_pick.value or ("", ""))))
        self.pivot_panel: Any = None
        self.pivot_box = w.VBox()
        self.request_grid_box = w.VBox()
        self.export_csv = w.Button(description="Export window (CSV)")
        self.export_parquet = w.Button(description="Export window (Parquet)")
        self.export_csv.on_click(lambda _: self._export("csv"))
        self.export_parquet.on_click(lambda _: self._export("parquet"))
        self.export_message = w.HTML()
        self.browse = w.Button(description="Browse all requests (sort, filter)")
        self.browse.on_click(lambda _: self.browse_all())
        self.browse_box = w.VBox()
        self.note_message = w.HTML()
        self.clear_window = w.Button(description="Whole span", tooltip="Clear the time window")
        self.clear_window.on_click(lambda _: self._whole_span())
        self.clear_filters = w.Button(description="Clear drill-down")
        self.clear_filters.on_click(lambda _: setattr(state, "filters", {}))
        self.volume = w.HTML()
        self.fingerprint = w.HTML()
        self.templates = w.HTML()
        self.detectors = w.HTML()
        self.links = w.HTML()
        self.access = w.HTML()
        self.accounts = w.HTML()
        self.requests = w.HTML()
        self.conversation = w.HTML()
        self.notes = w.HTML()
        self.drill_template = w.Dropdown(description="template", options=[(_ALL, None)])
        self.drill_detector = w.Dropdown(description="detector", options=[(_ALL, None)])
        self.drill_account = w.Dropdown(description="account", options=[(_ALL, None)])
        self.drill_access = w.Dropdown(description="access path", options=[(_ALL, None)])
        self.request_pick = w.Select(description="request", options=[], rows=8,
                                     layout=w.Layout(width="760px"))
        self.note_text = w.Textarea(placeholder="note on this actor",
                                    layout=w.Layout(width="420px"))
        self.note_tag = w.Text(placeholder="tag, e.g. escalate", layout=w.Layout(width="160px"))
        self.note_save = w.Button(description="Save note", button_style="primary")
        self.note_save.on_click(lambda _: self._save_clicked())
        self._drills = {self.drill_template: "template_id", self.drill_account: "account_id",
                        self.drill_access: "access_path"}
        for dd in self._drills:
            dd.observe(self._on_drill, names="value")
        self.drill_detector.observe(self._on_detector, names="value")
        self.request_pick.observe(self._on_pick, names="value")
        state.observe(self._on_actor, names=["entity_type", "entity_id"])
        state.observe(lambda _: self.refresh(), names="window")
        state.observe(lambda _: self._share(), names=["window", "selected_requests",
                                                      "entity_id"])
        state.observe(lambda _: self._refresh_requests(), names="filters")
        state.observe(lambda _: self._refresh_conversation(), names="selected_requests")
        self._quiet = False
        if state.entity_id:
            self._open()

    # -- building ----------------------------------------------------------------------------

    def _on_actor(self, _change: Any) -> None:
        actor = (self.state.entity_type, self.state.entity_id)
        shown = None if self.data is None else (self.data.entity_type, self.data.entity_id)
        if all(actor) and actor != shown:
            self._open()

    def _open(self) -> None:
        if self.data is not None:
            self.data.close()
        self.header.value = tables.busy(f"Opening the trace of {self.state.entity_type} "
                                        f"{self.state.entity_id}…")
        self.children = [self.header]
        self.data = ActorData(self.case, self.state.entity_type, self.state.entity_id)
        self.timeline = charts.jupyter_chart(
            *charts.timeline(self.data.timeline(), self.data.releases(), self.data.bucket))
        charts.colour_models(self.timeline, sorted(
            {r["model"] for rows in self.timeline.spec["datasets"].values() for r in rows}))
        self.timeline.selections.observe(self._on_brush, names=[charts.BRUSH])
        self.capabilities = charts.jupyter_chart(*charts.capability_mix(self.data.capability_mix()))
        links = self.data.links()
        self.matrix = charts.jupyter_chart(*charts.link_matrix(links))
        self.links.value = tables.html_table(
            links.head(25), ["src", "dst", "kind", "value", "weight", "evidence"],
            title=f"Why linked ({links.height:,} edges; the strongest 25 listed)",
            empty="no links recorded for this actor")
        self.refresh()
        self.children = self._layout()

    def _layout(self) -> list[w.Widget]:
        def row(*items: w.Widget) -> w.HBox:
            return w.HBox(list(items), layout=w.Layout(flex_flow="row wrap"))

        def section(title: str) -> w.HTML:
            return w.HTML(f'<h4 style="margin:10px 0 2px 0">{escape(title)}</h4>')

        return [
            self.header, row(self.clear_window, self.clear_filters), self.timeline,
            row(self.volume, self.capabilities, self.fingerprint),
            section("Templates"), self.drill_template, self.templates,
            section("Detectors fired"), self.drill_detector, self.detectors,
            section("Linked accounts"), row(self.matrix, self.links),
            section("Accounts and access"), row(self.drill_account, self.drill_access),
            row(self.accounts, self.access),
            section("Pivot: who else used a value?"), row(self.pivot_pick, self.pivot_go),
            self.pivot_box,
            section("Requests"), self.requests, self.request_grid_box, self.request_pick,
            row(self.export_csv, self.export_parquet, self.browse), self.export_message,
            self.browse_box, self.conversation,
            section("Notes"), row(self.note_text, self.note_tag, self.note_save),
            self.note_message, self.notes,
        ]

    # -- reacting ----------------------------------------------------------------------------

    def _share(self) -> None:
        from workbench.widgets.export import share

        share(self.state, self.data.accounts if self.data is not None else [])

    def _whole_span(self) -> None:
        # Clear the drawn brush too (the chart keeps it otherwise) and show the whole span.
        self.state.clear_window()
        if getattr(self, "timeline", None) is not None:
            self._resets = getattr(self, "_resets", 0) + 1
            self.timeline.spec = {**self.timeline.spec, "usermeta": {"reset": self._resets}}

    def _on_brush(self, change: Any) -> None:
        value = getattr(change["new"], "value", None) or {}
        bounds = value.get("time")
        if bounds and len(bounds) == 2:
            self.state.set_window(bounds[0], bounds[1])
        else:
            self.state.clear_window()

    def _on_drill(self, change: Any) -> None:
        if self._quiet:
            return
        column = self._drills[change["owner"]]
        filters = {k: v for k, v in self.state.filters.items() if k not in ("request_id", column)}
        if change["new"] is not None:
            filters[column] = change["new"]
        self.state.filters = filters

    def _on_detector(self, change: Any) -> None:
        if self._quiet or self.data is None:
            return
        if change["new"] is None:
            self.state.filters = {}
            return
        ids = self.data.evidence_requests(change["new"])
        self.state.filters = {"request_id": ids or ["(no request named in the evidence)"]}

    def _on_pick(self, change: Any) -> None:
        if not self._quiet:
            self.state.selected_requests = [change["new"]] if change["new"] else []

    def refresh(self) -> None:
        """Re-aggregate every panel for the current window (the timeline keeps the full span)."""
        d, win = self.data, self.state.window
        if d is None:
            return
        vol = d.volume(win)
        d.prefetch(win, self.state.filters)
        span = ("whole span" if win is None else
                f"window {win[0]:%Y-%m-%d %H:%M} – {win[1]:%Y-%m-%d %H:%M} UTC")
        self.header.value = tables.STYLE + (
            f'<h3 style="margin:4px 0">Trace of {escape(d.entity_type)} '
            f"<code>{escape(d.entity_id)}</code></h3>"
            f'<div class="wb-muted">{len(d.accounts):,} account(s), {d.n_requests:,} requests '
            f"in all; showing {escape(span)}"
            + (f"; panels below the timeline use a 1-in-{d.sample} sample of the requests"
               if d.sample > 1 else "") + "</div>")
        self.volume.value = tables.kv_table(vol, title="Volume and tokens")
        charts.set_data(self.capabilities, charts.capability_mix(d.capability_mix(win))[1])
        self.fingerprint.value = tables.html_table(d.fingerprint(win),
                                                   title="Parameter fingerprint")
        tpl = d.templates(win)
        self.templates.value = tables.html_table(
            tpl, ["template_id", "requests", "accounts", "capability", "cot", "example_prompt"],
            title="Top templates, with one example prompt each")
        det = d.detectors(win)
        from workbench.evidence import detector_sentence

        words = [detector_sentence(n, e, sc) for n, e, sc in
                 det.select("detector", "evidence", "max_score").iter_rows()]
        import polars as pl

        self.detectors.value = tables.html_table(
            det.with_columns(in_words=pl.Series(words, dtype=pl.String)),
            ["detector", "level", "entities", "max_score", "first_seen", "last_seen",
             "in_words", "evidence"], limit=400,
            title="Detectors that fired on this actor (the evidence in words, then its numbers)",
            empty="no detector fired here")
        acc = d.accounts_table(win)
        self.accounts.value = tables.html_table(acc, title="Busiest accounts")
        access = d.access(win)
        self.access.value = "".join(
            tables.html_table(df, title=col.replace("_", " ")) for col, df in access.items())
        self._quiet = True
        try:
            self.drill_template.options = _options(tpl["template_id"].to_list())
            self.drill_detector.options = _options(det["evidence"].to_list(),
                                                   det["detector"].to_list())
            self.drill_account.options = _options(acc["account_id"].to_list())
            self.drill_access.options = _options(access["access_path"]["value"].to_list())
            self.pivot_pick.options = self._pivot_options(access, tpl)
        finally:
            self._quiet = False
        self._refresh_requests()
        self._refresh_notes()

    def _refresh_requests(self) -> None:
        if self.data is None:
            return
        df = self.data.requests(self.state.window, self.state.filters)
        what = ", ".join(f"{k} = {charts.label(v, 60)}" for k, v in self.state.filters.items())
        # The requests themselves are in the grid below (click one to read it); this line
        # says which.
        self.requests.value = tables.STYLE + (
            f'<div class="wb-h">Requests{" where " + escape(what) if what else ""} '
            f"(the first {len(df):,}; click one to read its conversation)</div>"
            if df.height else '<div class="wb-muted">no requests in this window</div>')
        from workbench.widgets.grid import grid

        self.request_grid_box.children = [grid(
            df.drop("prompt").with_columns(prompt=df["prompt"]),
            lambda r: setattr(self.state, "selected_requests", [r["request_id"]]),
            height=300)] if df.height else []
        self._quiet = True
        try:
            self.request_pick.options = [
                (f"{r['ts']:%Y-%m-%d %H:%M} · {charts.label(r['account_id'], 30)} · "
                 f"{charts.label(r['request_id'], 40)}", r["request_id"])
                for r in df.iter_rows(named=True)]
            self.request_pick.value = None
        finally:
            self._quiet = False

    def _refresh_conversation(self) -> None:
        if self.data is None or not self.state.selected_requests:
            self.conversation.value = ('<div class="wb-muted">Pick a request above to read '
                                       "its full conversation.</div>")
            return
        self.conversation.value = tables.conversation(
            self.data.conversation(self.state.selected_requests[0]))

    def _refresh_notes(self) -> None:
        from workbench.notes import notes

        df = notes(self.case, self.state.entity_type, self.state.entity_id)
        self.notes.value = tables.html_table(df, ["created_at", "author", "tag", "note"],
                                             empty="no notes yet")

    def _pivot_options(self, access: dict[str, Any], tpl: Any) -> list[tuple[str, Any]]:
        opts: list[tuple[str, Any]] = []
        for kind in ("ip_prefix", "user_agent"):
            opts += [(f"{kind}: {charts.label(v, 70)}", (kind, v))
                     for v in access[kind]["value"].to_list() if v is not None]
        opts += [(f"template: {charts.label(v, 60)}", ("template", v))
                 for v in tpl["template_id"].to_list() if v is not None]
        if self.data is not None:
            extra = self.case.sql(
                "select distinct 'payment_fingerprint' as k, payment_fingerprint as v "
                "from accounts where account_id in (select unnest($a::VARCHAR[])) "
                "union select distinct 'email_domain', email_domain from accounts "
                "where account_id in (select unnest($a::VARCHAR[])) "
                "union select distinct 'org', org_id from accounts "
                "where account_id in (select unnest($a::VARCHAR[])) order by 1, 2 limit 60",
                a=self.data.accounts[:500])
            opts += [(f"{k}: {charts.label(v, 70)}", (k, v)) for k, v in extra.iter_rows()
                     if v is not None]
        return opts

    def pivot_on(self, kind: str, value: str) -> Any:
        """Who else used this value: the board's Pivot tab, or a pivot panel in the trace."""
        if not kind:
            return None
        if self._pivot is not None:
            return self._pivot(kind, value)
        from workbench.widgets.panels import PivotPanel

        if self.pivot_panel is None:
            self.pivot_panel = PivotPanel(self.case, lambda t, i: self.state.set_actor(t, i))
            self.pivot_box.children = [self.pivot_panel]
        return self.pivot_panel.run(kind, value)

    def window_requests(self) -> Any:
        """The actor's requests in the brushed window (and drill-down), as a polars DataFrame."""
        if self.data is None:
            return None
        where, p = self.data._where(self.state.window, self.state.filters)
        return self.data._q(f"select * from actor where {where} order by ts, request_id", **p)

    def _export(self, fmt: str) -> Any:
        from workbench.widgets.export import export

        try:
            path = export(self.window_requests(), self.case, self.state, fmt)
        except Exception as exc:
            self.export_message.value = tables.error(exc)
            return None
        self.export_message.value = (f'<div class="wb-muted">Wrote {escape(str(path))}; in '
                                     "<code>%%sql</code> use $wb_window_start, $wb_window_end, "
                                     "$wb_selected_requests and $wb_accounts.</div>")
        return path

    def browse_all(self) -> Any:
        """Every request of the actor in a DuckDB-backed grid (quak): sort and filter in the
        browser without copying them; `trace.browser.data()` is the filtered relation."""
        from workbench.widgets.grid import big_table

        if self.data is None:
            return None
        self.browser = big_table(self.data.db, "actor")
        self.browse_box.children = [self.browser]
        return self.browser

    def _save_clicked(self) -> None:
        try:
            self.save_note()
        except Exception as exc:  # shown under the note box, where the click was
            self.note_message.value = tables.error(exc)
        else:
            self.note_message.value = '<div class="wb-muted">Saved.</div>'

    def save_note(self) -> str | None:
        """Save the note box's text and tag on this actor in the case; clear the boxes."""
        from workbench.notes import add_note

        if not self.note_text.value.strip() and not self.note_tag.value.strip():
            return None
        note_id = add_note(self.case, self.state.entity_type, self.state.entity_id,
                           self.note_text.value, tag=self.note_tag.value.strip() or None)
        self.note_text.value = ""
        self.note_tag.value = ""
        self._refresh_notes()
        return note_id


def trace(case: Case, account: str | None = None, campaign: str | None = None,
          state: InvestigationState | None = None) -> Trace:
    """One actor's extraction campaign on one screen: give an account or a campaign id.

    Example:
        >>> import workbench as wb
        >>> trace(wb.open(), account=None, campaign=None)
        Traceback (most recent call last):
        ...
        workbench.errors.ParameterError: Give exactly one of account='…' or campaign='…'.
    """
    from workbench.errors import ParameterError

    if (account is None) == (campaign is None):
        msg = "Give exactly one of account='…' or campaign='…'."
        raise ParameterError(msg)
    state = state or InvestigationState()
    etype, eid = ("account", account) if account is not None else ("campaign", campaign)
    assert eid is not None
    t = Trace(case, state)
    state.set_actor(etype, eid)
    return t
