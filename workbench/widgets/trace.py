"""`trace()`: one actor (an account or a campaign) on one screen.

Timeline with model releases and a brush; volume and tokens; capability mix against the
population; parameter fingerprint; top templates; detectors and their evidence; linked
accounts and why; access paths, IP prefixes and user agents; individual requests and their
full conversation. All panels follow one `InvestigationState`: brushing the timeline sets the
state's window and every other panel re-aggregates; drill-downs set its filters; picking a
request sets its selection.
"""

from __future__ import annotations

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

    def __init__(self, case: Case, state: InvestigationState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.state = state
        self.data: ActorData | None = None
        self.header = w.HTML()
        self.clear_window = w.Button(description="Whole span", tooltip="Clear the time window")
        self.clear_window.on_click(lambda _: state.clear_window())
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
        self.note_save.on_click(lambda _: self.save_note())
        self._drills = {self.drill_template: "template_id", self.drill_account: "account_id",
                        self.drill_access: "access_path"}
        for dd in self._drills:
            dd.observe(self._on_drill, names="value")
        self.drill_detector.observe(self._on_detector, names="value")
        self.request_pick.observe(self._on_pick, names="value")
        state.observe(self._on_actor, names=["entity_type", "entity_id"])
        state.observe(lambda _: self.refresh(), names="window")
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
        self.data = ActorData(self.case, self.state.entity_type, self.state.entity_id)
        self.timeline = charts.jupyter_chart(
            *charts.timeline(self.data.timeline(), self.data.releases(), self.data.bucket))
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
            section("Requests"), self.requests, self.request_pick, self.conversation,
            section("Notes"), row(self.note_text, self.note_tag, self.note_save), self.notes,
        ]

    # -- reacting ----------------------------------------------------------------------------

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
        self.detectors.value = tables.html_table(
            det, title="Detectors that fired on this actor", empty="no detector fired here")
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
        finally:
            self._quiet = False
        self._refresh_requests()
        self._refresh_notes()

    def _refresh_requests(self) -> None:
        if self.data is None:
            return
        df = self.data.requests(self.state.window, self.state.filters)
        what = ", ".join(f"{k} = {charts.label(v, 60)}" for k, v in self.state.filters.items())
        self.requests.value = tables.html_table(
            df, ["ts", "request_id", "account_id", "model", "capability", "template_id",
                 "prompt"], limit=200,
            title=f"Requests{' where ' + what if what else ''} (first {len(df)} shown)")
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
