"""The trace's altair charts, shown through `alt.JupyterChart` with offline assets.

A plain altair chart rendered as HTML loads Vega from a CDN and fails without a network;
`JupyterChart` after `enable_offline()` ships Vega inside the widget, and reports the brushed
selection back to Python. Labels that come from the logs (models, account ids) go through
`safe.visible` so bidi and zero-width characters show; Vega draws them as text, never markup.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.colours import model_colour
from workbench.safe import truncate, visible

if TYPE_CHECKING:
    import altair as alt
    import polars as pl

BRUSH = "brush"
LABEL_LIMIT = 40
_OFFLINE = False


Datasets = dict[str, list[dict[str, Any]]]


def jupyter_chart(chart: Any, datasets: Datasets) -> alt.JupyterChart:
    """Wrap a chart in a JupyterChart that needs no network (Vega bundled into the widget).

    The chart names its data; the rows go straight into the spec's `datasets`, so altair
    neither walks nor validates thousands of rows (the tests validate the chart specs).
    """
    import altair as alt

    global _OFFLINE
    if not _OFFLINE:
        alt.JupyterChart.enable_offline()
        _OFFLINE = True
    jc = alt.JupyterChart(prevalidated(chart))
    set_data(jc, datasets)
    return jc


def set_data(jc: alt.JupyterChart, datasets: Datasets) -> None:
    """Replace a chart's rows (same chart, new data), e.g. when the window changes."""
    jc.spec = {**(jc.spec or {}), "datasets": datasets}


def colour_models(jc: Any, models: list[str]) -> None:
    """Fix the timeline's model colours to `model_colour` (same model, same colour)."""
    spec = dict(jc.spec or {})
    scale = {"domain": models, "range": [model_colour(m) for m in models]}
    for layer in spec.get("layer", []):
        color = layer.get("encoding", {}).get("color")
        if isinstance(color, dict) and color.get("field") == "model":
            color["scale"] = scale
    jc.spec = spec


def prevalidated(chart: Any) -> Any:
    """The chart, its `to_dict` skipping the schema check (the tests run that check)."""
    object.__setattr__(chart, "to_dict", functools.partial(type(chart).to_dict, chart,
                                                           validate=False))
    return chart


def label(text: Any, limit: int = LABEL_LIMIT) -> str:
    """A chart label from adversary text: invisible characters shown, cut to `limit`.

    Example:
        >>> label("acct\\u200b" + "x" * 50, 10)
        'acct⟨U+200…'
    """
    cut, was_cut = truncate(visible(None if text is None else str(text)), limit)
    return cut + ("…" if was_cut else "")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _named(name: str) -> Any:
    import altair as alt

    return alt.NamedData(name=name)


def timeline(counts: pl.DataFrame, releases: pl.DataFrame,
             bucket: str = "hour") -> tuple[Any, Datasets]:
    """Requests per bucket by model, release markers as rules, and an x-interval brush."""

    rows = [{"time": _iso(r["time"]), "model": label(r["model"]), "requests": r["requests"]}
            for r in counts.iter_rows(named=True)]
    rel = [{"released_at": _iso(r["released_at"]), "model": label(r["model"])}
           for r in releases.iter_rows(named=True)]
    return _timeline_chart(bucket, bool(rel)), {"timeline": rows, "releases": rel}


# The charts name their data (rows go into the spec's `datasets`), so one chart object serves
# every trace: building altair encodings costs tens of milliseconds each, every open.
@functools.lru_cache(maxsize=8)
def _timeline_chart(bucket: str, with_releases: bool) -> Any:
    import altair as alt

    brush = alt.selection_interval(name=BRUSH, encodings=["x"])
    x = alt.X("time:T", title=f"time (UTC, per {bucket})", scale=alt.Scale(type="utc"))
    bars = alt.Chart(_named("timeline")).mark_bar().encode(
        x=x, y=alt.Y("sum(requests):Q", title="requests"),
        color=alt.Color("model:N", title="model"),
        tooltip=[alt.Tooltip("time:T", title="time"), "model:N", "requests:Q"],
    ).add_params(brush)
    layers: list[Any] = [bars]
    if with_releases:
        base = alt.Chart(_named("releases"))
        layers.append(base.mark_rule(color="#c00", strokeDash=[4, 3], strokeWidth=2).encode(
            x="released_at:T", tooltip=["model:N", alt.Tooltip("released_at:T")]))
        layers.append(base.mark_text(align="left", dx=3, dy=-4, color="#c00", baseline="top")
                      .encode(x="released_at:T", y=alt.value(0),
                              text=alt.Text("model:N")))
    return alt.layer(*layers).properties(width=760, height=170,
                                         title="Requests over time (drag to pick a window)")


def capability_mix(mix: pl.DataFrame) -> tuple[alt.Chart, Datasets]:
    """Share of requests per capability: the actor against the whole case."""

    rows = [{**r, "capability": label(r["capability"])} for r in mix.iter_rows(named=True)]
    return _mix_chart(), {"mix": rows}


@functools.lru_cache(maxsize=1)
def _mix_chart() -> alt.Chart:
    import altair as alt

    return alt.Chart(_named("mix")).mark_bar().encode(
        y=alt.Y("capability:N", title=None),
        x=alt.X("share:Q", title="share of requests", axis=alt.Axis(format="%")),
        yOffset="group:N",
        color=alt.Color("group:N", title=None,
                        scale=alt.Scale(domain=["actor", "population"],
                                        range=["#d62728", "#9e9e9e"])),
        tooltip=["capability:N", "group:N", alt.Tooltip("share:Q", format=".1%"), "n:Q"],
    ).properties(width=320, height=alt.Step(9), title="Capability mix vs population")


def link_matrix(links: pl.DataFrame, max_accounts: int = 40) -> tuple[alt.Chart, Datasets]:
    """Account-by-account matrix of links, coloured by kind: why the accounts are linked.

    Only the `max_accounts` most strongly linked accounts are drawn, so a campaign of
    thousands of accounts stays a readable, light chart.
    """
    import polars as pl

    if links.height:
        both = pl.concat([links.select("src", "dst", "kind", "value", "weight"),
                          links.select(pl.col("dst").alias("src"), pl.col("src").alias("dst"),
                                       "kind", "value", "weight")])
        top = (both.group_by("src").agg(pl.col("weight").sum()).sort("weight", descending=True)
               .head(max_accounts)["src"].to_list())
        both = both.filter(pl.col("src").is_in(top) & pl.col("dst").is_in(top))
        both = both.sort("weight", descending=True).unique(["src", "dst"], keep="first")
        rows = [{"a": label(r["src"], 24), "b": label(r["dst"], 24), "kind": r["kind"],
                 "value": label(r["value"]), "weight": r["weight"]}
                for r in both.iter_rows(named=True)]
    else:
        rows = []
    return _links_chart(), {"links": rows}


@functools.lru_cache(maxsize=1)
def _links_chart() -> alt.Chart:
    import altair as alt

    return alt.Chart(_named("links")).mark_rect().encode(
        x=alt.X("a:N", title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("b:N", title=None),
        color=alt.Color("kind:N", title="strongest link"),
        opacity=alt.Opacity("weight:Q", legend=None, scale=alt.Scale(domain=[0, 1])),
        tooltip=["a:N", "b:N", "kind:N", "value:N", alt.Tooltip("weight:Q", format=".2f")],
    ).properties(width=alt.Step(14), height=alt.Step(14), title="Linked accounts (why linked)")
