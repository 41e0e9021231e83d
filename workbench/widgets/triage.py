"""`triage()`: the board of campaigns and leads; choosing a row opens its trace below.

Filters (level, detector, capability, access path, text over ids) and the sort are applied in
DuckDB with bound values; the sort column comes from a fixed list, never from the user's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as w

from workbench.errors import WorkbenchError, unknown
from workbench.safe import escape
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

_CAMPAIGNS = """
select campaign_id, level, risk, accounts, requests, tokens, first_seen, last_seen,
       access_paths, capabilities, models, top_detectors
from campaigns
where ($level::VARCHAR is null or level = $level)
  and ($detector::VARCHAR is null or list_contains(top_detectors, $detector)
       or campaign_id in (select l.campaign_id from leads l join findings f
                          on f.entity_type = 'account' and f.entity_id = l.account_id
                          where f.detector = $detector))
  and ($capability::VARCHAR is null or list_contains(capabilities, $capability))
  and ($access_path::VARCHAR is null or list_contains(access_paths, $access_path))
  and ($q::VARCHAR is null or contains(lower(campaign_id), lower($q))
       or campaign_id in (select campaign_id from leads
                          where contains(lower(account_id), lower($q))))
"""

_LEADS = """
select l.account_id, l.campaign_id, l.level, l.risk, l.reasons::VARCHAR as reasons
from leads l
where ($level::VARCHAR is null or l.level = $level)
  and ($detector::VARCHAR is null or l.account_id in (
       select entity_id from findings where entity_type = 'account' and detector = $detector))
  and ($capability::VARCHAR is null or l.campaign_id in (
       select campaign_id from campaigns where list_contains(capabilities, $capability)))
  and ($access_path::VARCHAR is null or l.account_id in (
       select distinct account_id from requests where access_path = $access_path))
  and ($q::VARCHAR is null or contains(lower(l.account_id), lower($q))
       or contains(lower(coalesce(l.campaign_id, '')), lower($q)))
"""


class Triage(w.VBox):
    """The triage board. Build it with `workbench.triage(case)`."""

    def __init__(self, case: Case, state: InvestigationState | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
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
        self.pick = w.Select(description="open", options=[], rows=8,
                             layout=w.Layout(width="760px"))
        self.message = w.HTML()
        self.trace_box = w.VBox()
        for control in (self.level, self.detector, self.capability, self.access_path,
                        self.search, self.sort, self.descending):
            control.observe(lambda _: self.refresh(), names="value")
        self.kind.observe(self._on_kind, names="value")
        self.pick.observe(self._on_pick, names="value")
        filters = w.HBox([self.level, self.detector, self.capability, self.access_path],
                         layout=w.Layout(flex_flow="row wrap"))
        self.children = [w.HTML(tables.STYLE + '<h3 style="margin:4px 0">Triage</h3>'),
                         self.kind, filters, w.HBox([self.search, self.sort, self.descending]),
                         self.table, self.pick, self.message, self.trace_box]
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
        kind = self.kind.value
        if self.sort.value not in SORTS[kind]:
            err = unknown("sort column", str(self.sort.value), SORTS[kind])
            raise err
        base = _CAMPAIGNS if kind == "campaigns" else _LEADS
        direction = "desc" if self.descending.value else "asc"
        key = self.sort.value if kind == "campaigns" else f"l.{self.sort.value}"
        order = f"order by {key} {direction} nulls last, 1 limit {MAX_ROWS}"
        return self.case.sql(base + order, level=self.level.value, detector=self.detector.value,
                             capability=self.capability.value,
                             access_path=self.access_path.value,
                             q=self.search.value.strip() or None)

    def refresh(self) -> None:
        """Re-run the board's query and redraw the table and the picker."""
        self.rows = self.query()
        kind = self.kind.value
        id_col = "campaign_id" if kind == "campaigns" else "account_id"
        shown = self.rows.head(50)
        self.table.value = tables.html_table(
            shown, title=f"{self.rows.height:,} {kind} match (top 50 shown)",
            empty=f"no {kind} match these filters")
        self.pick.options = [(f"{label(r[id_col], 60)} · {r['level']} · risk {r['risk']:.2f}",
                              r[id_col]) for r in self.rows.iter_rows(named=True)]
        self.pick.value = None

    def _on_pick(self, change: Any) -> None:
        if change["new"] is not None:
            self.open_trace(change["new"])

    def open_trace(self, entity_id: str) -> Trace:
        """Open the trace of a campaign or account (by the board's current kind) below."""
        from workbench.widgets.trace import Trace

        etype = "campaign" if self.kind.value == "campaigns" else "account"
        try:
            if self.trace is None:
                self.trace = Trace(self.case, self.state)
                self.trace_box.children = [self.trace]
            self.state.set_actor(etype, entity_id)
        except WorkbenchError as exc:
            self.message.value = f'<div style="color:#b00">{escape(str(exc))}</div>'
            raise
        self.message.value = ""
        return self.trace


def triage(case: Case, state: InvestigationState | None = None) -> Triage:
    """The board of campaigns and leads; choosing a row opens its trace.

    Example:
        >>> import workbench as wb
        >>> board = triage(wb.open())
        >>> board.rows.height
        0
    """
    return Triage(case, state)
