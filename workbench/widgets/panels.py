"""The board's other tabs: pivot from a value, the account network, and compare two actors.

Each reads the case through `workbench.pivot` and the trace's `ActorData`; an action that
fails shows its error on the panel, where the click was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from workbench.safe import escape
from workbench.widgets import tables
from workbench.widgets.grid import grid

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case

Opener = Callable[[str, str], Any]
# One colour per link kind, the same in every graph (edges coloured by why they exist).
LINK_COLOURS = {"payment": "#d62728", "ip_prefix_hour": "#1f77b4", "sync_activity": "#2ca02c",
                "sync_shape": "#98df8a", "lockstep_template": "#ff7f0e",
                "near_duplicate": "#ffbb78", "system_prompt": "#9467bd",
                "signup_burst": "#8c564b", "tool_schema": "#17becf", "cohort": "#e377c2"}
LEVEL_COLOURS = {"critical": "#7f0000", "high": "#d62728", "medium": "#ff9896", "low": "#c7c7c7"}
MAX_GRAPH_EDGES = 3000


class PivotPanel(w.VBox):
    """From one value to every account and campaign that used it; a row click opens it."""

    def __init__(self, case: Case, open_actor: Opener, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from workbench.pivot import KINDS

        self.case, self.open_actor = case, open_actor
        self.kind = w.Dropdown(description="kind", options=sorted(KINDS), value="ip_prefix")
        self.value = w.Text(description="value", placeholder="e.g. 203.0.113.0/24",
                            layout=w.Layout(width="520px"))
        self.go = w.Button(description="Pivot", button_style="primary")
        self.go.on_click(lambda _: self.run())
        self.summary = w.HTML()
        self.result = w.VBox()
        self.frame: pl.DataFrame | None = None
        self.children = [w.HBox([self.kind, self.value, self.go]), self.summary, self.result]

    def run(self, kind: str | None = None, value: str | None = None) -> pl.DataFrame | None:
        """Pivot on (kind, value), or on what the boxes hold; errors are shown here."""
        from workbench.pivot import kind_of, pivot

        try:
            if kind is not None:
                self.kind.value = kind_of(kind)
            if value is not None:
                self.value.value = value
            self.summary.value = tables.busy("Looking the value up…")
            df = pivot(self.case, self.kind.value, self.value.value)
        except Exception as exc:  # shown where the click was, not in the log console
            self.summary.value = tables.error(exc)
            return None
        self.frame = df
        camps = df.filter(df["campaign_id"].is_not_null())["campaign_id"].n_unique()
        first, last = df["first_seen"].min(), df["last_seen"].max()
        self.summary.value = tables.STYLE + (
            f"<b>{escape(self.kind.value)}</b> <code>{escape(self.value.value)}</code>: "
            f"{df.height:,} accounts in {camps:,} campaigns, {int(df['requests'].sum() or 0):,}"
            f" requests, first seen {tables.when(first)}, last seen {tables.when(last)}. "  # type: ignore[arg-type]
            "Click a row to open its account.")
        self.result.children = [grid(df, lambda r: self.open_actor("account", r["account_id"]))]
        return df


def network(case: Case, campaign: str, open_actor: Opener) -> Any:
    """The campaign's account network (ipysigma), edges coloured by link kind; clicking a node
    opens that account. Node keys are positions, labels the ids made visible."""
    import networkx as nx
    from ipysigma import Sigma

    from workbench.safe import visible
    from workbench.widgets.data import resolve_accounts

    with case.connect() as con:
        members = resolve_accounts(con, "campaign", campaign)
        edges = con.sql(
            "select src, dst, kind, value, weight from account_links "
            "where src in (select unnest($a::VARCHAR[])) and dst in (select unnest($a::VARCHAR[]))"
            " order by weight desc limit $n", params={"a": members, "n": MAX_GRAPH_EDGES}
        ).fetchall()
        lead = {a: (r, lv) for a, r, lv in con.sql(
            "select account_id, risk, level from leads where campaign_id = $c",
            params={"c": campaign}).fetchall()}
    key = {a: f"n{i}" for i, a in enumerate(members)}
    g = nx.Graph()
    for a in members:
        r, lv = lead.get(a, (0.0, "low"))
        g.add_node(key[a], label=visible(a)[:60], risk=round(float(r or 0), 3), level=lv)
    for src, dst, kind, value, weight in edges:
        if not g.has_edge(key[src], key[dst]) or g[key[src]][key[dst]]["weight"] < weight:
            g.add_edge(key[src], key[dst], kind=kind, value=visible(value)[:80],
                       weight=round(float(weight), 3))
    sigma = Sigma(g, height=520, node_label="label", node_size="risk", node_color="level",
                  node_color_palette=LEVEL_COLOURS, node_size_range=(6, 16),
                  edge_color="kind", edge_color_palette={
                      k: v for k, v in LINK_COLOURS.items()},
                  edge_size="weight", start_layout=3, hide_search=False)
    sigma.accounts = {v: k for k, v in key.items()}

    def clicked(change: dict[str, Any]) -> None:
        node = change.get("new")
        if node in sigma.accounts:
            open_actor("account", sigma.accounts[node])

    sigma.observe(clicked, names="selected_node")
    return sigma


class ComparePanel(w.VBox):
    """Two accounts or campaigns side by side: volume, capability mix, parameter fingerprint,
    timeline by day, and the values both used."""

    def __init__(self, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.left = w.Text(description="A", placeholder="account or campaign id")
        self.right = w.Text(description="B", placeholder="account or campaign id")
        self.go = w.Button(description="Compare", button_style="primary")
        self.go.on_click(lambda _: self.run())
        self.message = w.HTML()
        self.body = w.HTML()
        self.children = [w.HBox([self.left, self.right, self.go]), self.message, self.body]

    def _actor(self, con: Any, entity_id: str) -> tuple[str, str]:
        is_campaign = con.sql("select count(*) from campaigns where campaign_id = $c",
                              params={"c": entity_id}).fetchall()[0][0]
        return ("campaign" if is_campaign else "account"), entity_id

    def run(self, a: str | None = None, b: str | None = None) -> str | None:
        """Compare the two actors (or what the boxes hold); errors are shown here."""
        from workbench.widgets.data import ActorData

        if a is not None:
            self.left.value = a
        if b is not None:
            self.right.value = b
        self.message.value = tables.busy("Reading both actors…")
        try:
            with self.case.connect() as con:
                actors = [self._actor(con, x.strip()) for x in (self.left.value,
                                                                 self.right.value)]
            data = [ActorData(self.case, t, i) for t, i in actors]
        except Exception as exc:
            self.message.value = tables.error(exc)
            return None
        try:
            cols = [self._column(d) for d in data]
            shared = self._shared(data[0].accounts, data[1].accounts)
        finally:
            for d in data:
                d.close()
        self.message.value = ""
        self.body.value = tables.STYLE + (
            '<div style="display:flex;gap:24px">' + "".join(
                f'<div style="flex:1">{c}</div>' for c in cols) + "</div>"
            + tables.html_table(shared, title="Values both used",
                                empty="they share no IP prefix, user agent, payment "
                                      "fingerprint, org or template"))
        return self.body.value

    def _column(self, d: Any) -> str:
        mix = d.capability_mix().filter(group="actor").sort("share", descending=True)
        day = d._q("select date_trunc('day', time)::DATE as day, sum(requests)::BIGINT as "
                   "requests from hourly group by 1 order by 1")
        return (f'<h4>{escape(d.entity_type)} <code>{escape(d.entity_id)}</code></h4>'
                + tables.kv_table(d.volume(), title="Volume and tokens")
                + tables.html_table(mix, ["capability", "share", "n"], title="Capability mix")
                + tables.html_table(d.fingerprint().head(5), title="Parameter fingerprint")
                + tables.html_table(day, title="Requests per day (UTC)"))

    def _shared(self, a: list[str], b: list[str]) -> pl.DataFrame:
        # Only the two actors' rows are read: the accounts are filtered before anything else.
        return self.case.sql("""
            with acc as (select unnest($a::VARCHAR[]) as account_id
                         union select unnest($b::VARCHAR[])),
            req as materialized (
                select request_id, account_id, ip_prefix, user_agent, org_id from requests
                semi join acc using (account_id)
            ),
            uses as (
                select account_id, 'ip_prefix' as kind, ip_prefix as value from req
                union select account_id, 'user_agent', user_agent from req
                union select account_id, 'org', org_id from req
                union select account_id, 'payment_fingerprint', payment_fingerprint
                      from accounts semi join acc using (account_id)
                union select r.account_id, 'template', f.template_id
                      from req r join features f using (request_id)
            ),
            a as (select distinct kind, value from uses
                  where account_id in (select unnest($a::VARCHAR[])) and value is not null),
            b as (select distinct kind, value from uses
                  where account_id in (select unnest($b::VARCHAR[])) and value is not null)
            select kind, value from a intersect select kind, value from b
            order by kind, value limit 200""", a=a, b=b)
