"""`triage()`: the board of campaigns and leads; a click on a row opens its trace.

The board is a set of tabs, so the trace never grows the notebook below the board: Board (a
data grid of campaigns or leads), Trace, Pivot (a value to its accounts), Network (a
campaign's accounts as a graph) and Compare (two actors side by side).

Filters (level, detector, capability, access path, text over ids) and the sort are applied in
DuckDB with bound values; the sort column comes from a fixed list, never from the user's text.
At equal risk, rows are ordered by their evidence: the number of detectors specific to
harvesting behind them, then their summed contribution (`workbench.evidence`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from workbench.errors import UnknownNameError, WorkbenchError, unknown
from workbench.safe import escape
from workbench.safe import html_block as safe_block
from workbench.widgets import tables
from workbench.widgets.charts import label
from workbench.widgets.state import InvestigationState

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case
    from workbench.widgets.trace import Trace

LEVELS = ("critical", "high", "medium", "low")
SORTS = {
    "campaigns": ("risk", "accounts", "requests", "tokens", "first_seen", "last_seen",
                  "campaign_id"),
    "leads": ("risk", "account_id", "campaign_id", "level"),
}
MAX_ROWS = 200

_EVIDENCE = """
coalesce(array_length(list_filter(json_extract_string(l.reasons, '$.detectors[*].detector'),
                                  lambda d: list_contains($specific, d))), 0)"""
_CONTRIB = "coalesce(list_sum(json_extract(l.reasons, '$.detectors[*].contribution')::DOUBLE[]), 0)"

# The accounts a detector reached: its account findings, and the members taking part in its
# cohort findings.
_REACHED = """(
    select entity_id from findings where entity_type = 'account' and detector = $detector
    union all
    select unnest(json_extract_string(evidence, '$.members[*]')) from findings
    where entity_type = 'cohort' and detector = $detector)"""

_CAMPAIGNS = f"""
with ev as (
    select l.campaign_id, sum({_EVIDENCE})::BIGINT as specific,
           round(sum({_CONTRIB}), 3) as evidence
    from leads l where l.campaign_id is not null group by 1
)
select campaign_id, level, risk, accounts, coalesce(ev.specific, 0) as specific,
       coalesce(ev.evidence, 0) as evidence, requests, tokens, first_seen, last_seen,
       top_detectors, access_paths, capabilities, models
from campaigns left join ev using (campaign_id)
where ($level::VARCHAR is null or level = $level)
  and ($detector::VARCHAR is null or list_contains(top_detectors, $detector)
       or campaign_id in (select l.campaign_id from leads l
                          where l.account_id in {_REACHED}))
  and ($capability::VARCHAR is null or list_contains(capabilities, $capability))
  and ($access_path::VARCHAR is null or list_contains(access_paths, $access_path))
  and ($q::VARCHAR is null or contains(lower(campaign_id), lower($q))
       or campaign_id in (select campaign_id from leads
                          where contains(lower(account_id), lower($q))))
"""

_LEADS = f"""
select l.account_id, l.campaign_id, l.level, l.risk, ({_EVIDENCE})::BIGINT as specific,
       round({_CONTRIB}, 3) as evidence, l.reasons::VARCHAR as reasons
from leads l
where ($level::VARCHAR is null or l.level = $level)
  and ($detector::VARCHAR is null or l.account_id in {_REACHED})
  and ($capability::VARCHAR is null or l.campaign_id in (
       select campaign_id from campaigns where list_contains(capabilities, $capability)))
  and ($access_path::VARCHAR is null or l.account_id in (
       select distinct account_id from requests where access_path = $access_path))
  and ($q::VARCHAR is null or contains(lower(l.account_id), lower($q))
       or contains(lower(coalesce(l.campaign_id, '')), lower($q)))
"""
SHOWN = {
    "campaigns": ["campaign_id", "level", "risk", "accounts", "specific", "evidence",
                  "requests", "tokens", "first_seen", "last_seen", "top_detectors",
                  "access_paths", "capabilities", "models"],
    "leads": ["account_id", "campaign_id", "level", "risk", "specific", "evidence", "why"],
}


class Triage(w.VBox):
    """The triage board. Build it with `workbench.triage(case)`.

    `grid` is the board's data grid (a row click opens the trace), `tabs` the tabs, `trace`
    the open Trace (None until a row is clicked), `pivot`, `compare` and `network` the other
    tabs' panels, `message` where an error of the last click is shown.
    """

    TABS = ("Board", "Trace", "Pivot", "Network", "Compare")

    def __init__(self, case: Case, state: InvestigationState | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from workbench.widgets.panels import ComparePanel, PivotPanel

        self.case = case
        self.state = state or InvestigationState()
        self.trace: Trace | None = None
        choices = self._choices()
        self.kind = w.ToggleButtons(options=["campaigns", "leads"], value="campaigns")
        self.level = w.Dropdown(description="level", options=[("(any)", None),
                                                               *[(v, v) for v in LEVELS]])
        self.detector = w.Dropdown(description="detector", options=choices["detector"])
        self.capability = w.Dropdown(description="capability", options=choices["capability"])
        self.access_path = w.Dropdown(description="access path", options=choices["access_path"])
        self.search = w.Text(description="search ids", placeholder="part of an id",
                             continuous_update=False)
        self.sort = w.Dropdown(description="sort by", options=list(SORTS["campaigns"]))
        self.descending = w.Checkbox(value=True, description="descending")
        self.table = w.HTML()
        self.grid_box = w.VBox()
        self.grid: Any = None
        self.why = w.HTML()
        self.message = w.HTML()
        self.trace_box = w.VBox([w.HTML('<div class="wb-muted">Click a row on the Board tab '
                                        "to open its trace here.</div>")])
        self.pivot = PivotPanel(case, self.open_actor)
        self.compare = ComparePanel(case)
        self.network: Any = None
        self.network_pick = w.Dropdown(description="campaign", options=[])
        self.network_show = w.Button(description="Show network", button_style="primary")
        self.network_show.on_click(lambda _: self.show_network(self.network_pick.value))
        self.network_message = w.HTML()
        self.network_box = w.VBox([w.HBox([self.network_pick, self.network_show]),
                                   self.network_message])
        for control in (self.level, self.detector, self.capability, self.access_path,
                        self.search, self.sort, self.descending):
            control.observe(lambda _: self.refresh(), names="value")
        self.kind.observe(self._on_kind, names="value")
        filters = w.HBox([self.level, self.detector, self.capability, self.access_path],
                         layout=w.Layout(flex_flow="row wrap"))
        board = w.VBox([self.kind, filters, w.HBox([self.search, self.sort, self.descending]),
                        self.table, self.message, self.grid_box, self.why])
        self.tabs = w.Tab(children=[board, self.trace_box, self.pivot, self.network_box,
                                    self.compare], titles=self.TABS)
        self.children = [w.HTML(tables.STYLE + '<h3 style="margin:4px 0">Triage</h3>'),
                         self.tabs]
        self.rows: pl.DataFrame = self.query()
        self.refresh()

    def _choices(self) -> dict[str, list[tuple[str, Any]]]:
        def opts(sql: str) -> list[tuple[str, Any]]:
            vals = [v for v in self.case.sql(sql)["v"].to_list() if v is not None]
            return [("(any)", None), *[(label(v, 50), v) for v in vals]]

        return {
            "detector": opts("select distinct detector as v from findings order by 1"),
            "capability": opts("select distinct unnest(capabilities) as v from campaigns "
                               "order by 1"),
            "access_path": opts("select distinct unnest(access_paths) as v from campaigns "
                                "order by 1"),
        }

    def _on_kind(self, _change: Any) -> None:
        with self.hold_trait_notifications():
            self.sort.options = list(SORTS[self.kind.value])
            self.sort.value = "risk"
        self.refresh()

    def query(self) -> pl.DataFrame:
        """The rows the current filters and sort select (at most MAX_ROWS)."""
        from workbench.evidence import specific_detectors

        kind = self.kind.value
        if self.sort.value not in SORTS[kind]:
            err = unknown("sort column", str(self.sort.value), SORTS[kind])
            raise err
        base = _CAMPAIGNS if kind == "campaigns" else _LEADS
        direction = "desc" if self.descending.value else "asc"
        key = self.sort.value if kind == "campaigns" else f"l.{self.sort.value}"
        if self.sort.value == "risk":  # as shown: ties at two decimals go to the evidence
            key = f"round({key}, 2)"
        ident = "campaign_id" if kind == "campaigns" else "l.account_id"
        order = (f"order by {key} {direction} nulls last, specific desc, evidence desc, "
                 f"{ident} limit {MAX_ROWS}")
        df = self.case.sql(base + order, level=self.level.value, detector=self.detector.value,
                           capability=self.capability.value,
                           access_path=self.access_path.value,
                           q=self.search.value.strip() or None,
                           specific=list(specific_detectors()))
        if kind == "leads":
            import polars as pl

            from workbench.evidence import lead_sentences

            first = [(lead_sentences(a, r) or [""])[0] for a, r in
                     df.select("account_id", "reasons").iter_rows()]
            df = df.with_columns(why=pl.Series(first, dtype=pl.String))
        return df

    def refresh(self) -> None:
        """Re-run the board's query and redraw the grid."""
        from workbench.widgets.grid import grid

        try:
            self.rows = self.query()
        except WorkbenchError as exc:
            self.message.value = tables.error(exc)
            return
        kind = self.kind.value
        self.table.value = tables.STYLE + (
            f'<div class="wb-h">{self.rows.height:,} {kind} match'
            + (f" (the first {MAX_ROWS:,})" if self.rows.height >= MAX_ROWS else "")
            + '</div><div class="wb-muted">Click a row to open its trace. At equal risk, rows '
            "with more detectors specific to harvesting (<i>specific</i>) and more summed "
            "evidence come first.</div>"
            if self.rows.height else
            f'<div class="wb-muted">no {kind} match these filters</div>')
        self.grid = grid(self.rows.select(SHOWN[kind]), self._on_row, height=420)
        self.grid_box.children = [self.grid] if self.rows.height else []
        if kind == "campaigns":
            ids = self.rows["campaign_id"].to_list()
            self.network_pick.options = [(label(c, 60), c) for c in ids]
            if ids and self.network_pick.value is None:
                self.network_pick.value = ids[0]

    def _on_row(self, row: dict[str, Any]) -> None:
        if self.kind.value == "campaigns":
            self.open_actor("campaign", row["campaign_id"])
        else:
            self.show_reasons(row["account_id"])
            self.open_actor("account", row["account_id"])

    def show_reasons(self, account_id: str) -> None:
        """The lead's reasons in words under the board, with the numbers one click away."""
        from workbench.evidence import lead_sentences

        hit = self.rows.filter(account_id=account_id)
        if hit.height == 0:
            return
        reasons = hit["reasons"][0]
        lines = lead_sentences(account_id, reasons)
        self.why.value = tables.STYLE + (
            f'<div class="wb-h">Why {escape(account_id)} is a lead</div><ul>'
            + "".join(f"<li>{escape(t)}</li>" for t in lines) + "</ul>"
            "<details><summary>the numbers (reasons JSON)</summary>"
            + safe_block(reasons) + "</details>")

    def open_actor(self, entity_type: str, entity_id: str) -> Trace | None:
        """Open an account's or campaign's trace in the Trace tab (errors shown on the board)."""
        from workbench.widgets.trace import Trace

        self.message.value = tables.busy(f"Opening the trace of {entity_type} {entity_id}…")
        try:
            if self.trace is None:
                self.trace = Trace(self.case, self.state, pivot=self.pivot_to)
                self.trace_box.children = [self.trace]
            self.state.set_actor(entity_type, entity_id)
        except WorkbenchError as exc:
            self.message.value = tables.error(exc)
            return None
        self.message.value = ""
        self.tabs.selected_index = self.TABS.index("Trace")
        return self.trace

    def open_trace(self, entity_id: str) -> Trace:
        """Open the trace of a campaign or account (by the board's current kind)."""
        etype = "campaign" if self.kind.value == "campaigns" else "account"
        t = self.open_actor(etype, entity_id)
        if t is None:
            raise UnknownNameError(re.sub("<[^>]+>", "", self.message.value).strip("⚠ "))
        return t

    def pivot_to(self, kind: str, value: str) -> None:
        """Pivot from a value (from the trace): the Pivot tab lists who else used it."""
        self.tabs.selected_index = self.TABS.index("Pivot")
        self.pivot.run(kind, value)

    def show_network(self, campaign: str | None) -> Any:
        """Draw a campaign's account network in the Network tab; a node click opens it."""
        from workbench.widgets.panels import network

        if not campaign:
            self.network_message.value = tables.error("Pick a campaign first.")
            return None
        self.network_message.value = tables.busy(f"Drawing the network of {campaign}…")
        try:
            self.network = network(self.case, campaign, self.open_actor)
        except WorkbenchError as exc:
            self.network_message.value = tables.error(exc)
            return None
        self.network_message.value = (
            '<div class="wb-muted">Edges coloured by link kind: payment red, IP prefix blue, '
            "synchronised activity green, lockstep templates orange, system prompt purple, "
            "sign-up burst brown. Click a node to open that account's trace.</div>")
        self.network_box.children = [w.HBox([self.network_pick, self.network_show]),
                                     self.network_message, self.network]
        self.tabs.selected_index = self.TABS.index("Network")
        return self.network


def triage(case: Case, state: InvestigationState | None = None) -> Triage:
    """The board of campaigns and leads; choosing a row opens its trace.

    Example:
        >>> import workbench as wb
        >>> board = triage(wb.open())
        >>> board.rows.height
        0
    """
    return Triage(case, state)
