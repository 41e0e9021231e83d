"""Evidence report of one campaign: one self-contained HTML file, or Markdown.

The report is for readers who never open a notebook (enforcement, legal, policy, a partner
provider). The HTML opens with no network: styles are inline, charts are SVG rendered by
vl-convert and embedded as `data:` images (an SVG shown as an image cannot run script), and a
Content-Security-Policy forbids every script and every fetch. Every adversary-written string
(ids, prompts, outputs, user agents, evidence) goes through `workbench.safe`.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench._version import __version__
from workbench.errors import unknown
from workbench.handover.data import gather
from workbench.handover.indicators import check_campaign, indicators
from workbench.safe import escape, html_block, markdown

if TYPE_CHECKING:
    import os

    import polars as pl

    from workbench.case import Case

FORMATS = ("html", "md")
MAX_ROWS = 300  # rows of one table in the report; the full lists are in the indicator export
_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'none'; base-uri 'none'")
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1b1b}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:13px;display:block;overflow-x:auto}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;
max-width:420px;overflow-wrap:break-word}
th{background:#f3f3f3;white-space:nowrap}td.num{white-space:nowrap}.num{text-align:right}.muted{color:#666}
pre.wb-text{white-space:pre-wrap;overflow-wrap:anywhere;background:#f8f8f8;padding:6px;
margin:0;max-height:30em;overflow:auto}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}
.lvl-critical{color:#a00;font-weight:700}.lvl-high{color:#c40}
"""
METHODS = """\
Detectors are SQL files in the workbench's catalogue, each run with the parameters listed under
Detectors; a finding names the entity it fired on, a score from 0 to 1 and its evidence.
Accounts are linked by shared payment fingerprints, IP prefixes in the same hours, synchronised
activity, lockstep prompt templates, shared rare system prompts and sign-up bursts; an edge's
weight falls with how common the shared value is, and communities of the weighted graph are the
campaigns. An account's risk combines its detector scores (noisy-OR with stated weights,
documented in docs/evaluation.md) raised by its campaign's strength. Indicators are the values
the campaign's accounts used; "outside" counts accounts outside the campaign that used the same
value, a reason to be careful before blocking it. All text written by API callers is shown
escaped: markup appears as text, invisible and bidirectional characters appear as ⟨U+…⟩ labels,
and long texts are cut."""


class _Html(str):
    """Markup we built ourselves, to put into a table cell unescaped."""


def report(case: Case, campaign: str, out: str | os.PathLike[str] | None = None,
           format: str = "html", redact: bool | str | bytes = False) -> str:
    """Write (when `out` is given, mode 0600) and return the evidence report of one campaign.

    The report leads with what to act on: values safe to block (no account outside the
    campaign used them), the prompt templates grouped, and the shared values with the
    campaign accounts they touch. It names the campaign's accounts only: accounts outside it
    are counted, never named, and their requests never shown. `redact=True` (the case's key)
    or `redact="passphrase"` replaces e-mails, IPs and payment fingerprints with keyed hashes.

    Raises UnknownNameError with "Did you mean …" for a campaign id not in `campaigns`.

    Example:
        >>> import workbench as wb
        >>> report(wb.open(), "camp-1", format="pdf")
        Traceback (most recent call last):
        ...
        workbench.errors.UnknownNameError: Unknown report format 'pdf'. Known: html, md.
    """
    if format not in FORMATS:
        err = unknown("report format", format, FORMATS)
        raise err
    info = check_campaign(case, campaign)
    data = gather(case, campaign, info, indicators(case, campaign, format="frame"))
    data.update(act_on(data))
    if redact is not False:
        from workbench.privacy import redactor

        data = _redacted(data, redactor(case, campaign, None if redact is True else redact))
    data["generated_at"] = datetime.now(UTC).replace(microsecond=0)
    data["case_path"] = str(case.path) if case.path else ":memory:"
    data["redacted"] = redact is not False
    text = _html(data) if format == "html" else _markdown(data)
    if out is not None:
        from workbench.privacy import write_private

        write_private(out, text)
    case.audit("report", campaign=campaign, format=format, redacted=redact is not False,
               out=None if out is None else str(out))
    return text


def act_on(d: dict[str, Any]) -> dict[str, Any]:
    """The report's first section: values safe to block, templates grouped, shared values.

    Example:
        >>> import polars as pl
        >>> ind = pl.DataFrame({"type": ["ip_prefix", "template"], "value": ["10.0.0.0/24", "t1"],
        ...     "first_seen": [None, None], "last_seen": [None, None], "accounts": [2, 2],
        ...     "requests": [9, 5], "outside_accounts": [0, 0], "detectors": [[], ["x"]],
        ...     "link_kinds": [[], []], "safe_to_block": [True, True]})
        >>> out = act_on({"indicators": ind, "touch": pl.DataFrame()})
        >>> out["block"]["value"].to_list(), out["templates"]["templates"].to_list()
        (['10.0.0.0/24'], [1])
    """
    import polars as pl

    ind = d["indicators"]
    tpl = ind.filter(pl.col("type") == "template")
    block = ind.filter((pl.col("type") != "template") & (pl.col("outside_accounts") == 0))
    shared = ind.filter(pl.col("outside_accounts") > 0)
    touch = d["touch"]
    if touch.height:
        shared = shared.join(touch.rename({"accounts": "campaign_accounts"}),
                             on=["type", "value"], how="left")
    else:
        shared = shared.with_columns(campaign_accounts=pl.lit([], dtype=pl.List(pl.String)))
    groups = (tpl.with_columns(detectors=pl.col("detectors").list.join(", "))
              .group_by("detectors")
              .agg(templates=pl.len(), requests=pl.col("requests").sum(),
                   most_accounts=pl.col("accounts").max(),
                   outside_accounts=pl.col("outside_accounts").max(),
                   first_seen=pl.col("first_seen").min(), last_seen=pl.col("last_seen").max(),
                   hashes=pl.col("value").sort())
              .sort("requests", "detectors", descending=[True, False]))
    return {
        "block": block.select("type", "value", "accounts", "requests", "first_seen",
                              "last_seen", "detectors"),
        "templates": groups.select("templates", "detectors", "requests", "most_accounts",
                                   "outside_accounts", "first_seen", "last_seen", "hashes"),
        "shared": shared.select("type", "value", "outside_accounts", "campaign_accounts",
                                "requests"),
        "indicators_count": ind.height,
    }


def _redacted(d: dict[str, Any], r: Any) -> dict[str, Any]:
    """Every frame, evidence and text of the report with sensitive values hashed."""
    import polars as pl

    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, pl.DataFrame):
            if {"type", "value"} <= set(value.columns):
                value = value.with_columns(value=pl.Series(
                    [r.value(t, v) for t, v in value.select("type", "value").iter_rows()],
                    dtype=pl.String))
            out[key] = r.frame(value)
        elif key == "detectors":
            out[key] = [{**det, "evidence": json.dumps(r.deep(json.loads(det["evidence"]))),
                         "params": r.text(det["params"]), "top_entity": r.text(det["top_entity"])}
                        for det in value]
        else:
            out[key] = value
    return out


# -- shared formatting ----------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _summary_items(d: dict[str, Any]) -> list[tuple[str, str]]:
    c, span = d["campaign"], d["span"]
    return [
        ("Campaign", c["campaign_id"]), ("Level", f"{c['level']} (risk {c['risk']:.2f})"),
        ("Accounts", _fmt(c["accounts"])), ("Requests", _fmt(c["requests"])),
        ("Tokens", _fmt(c["tokens"])),
        ("Active", f"{_fmt(c['first_seen'])} to {_fmt(c['last_seen'])}"),
        ("Access paths", _fmt(c["access_paths"])), ("Capabilities", _fmt(c["capabilities"])),
        ("Models", _fmt(c["models"])), ("Top detectors", _fmt(c["top_detectors"])),
        ("Data span of the case", f"{_fmt(span['first'])} to {_fmt(span['last'])}, "
                                  f"{_fmt(span['requests'])} requests"),
        ("Case", d["case_path"]), ("Generated", _fmt(d["generated_at"])),
        ("Workbench", __version__),
    ]


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True, default=str)


# -- HTML -----------------------------------------------------------------------------------

def _cell(value: Any, limit: int = 300) -> str:
    if isinstance(value, _Html):
        return str(value)
    cls = ' class="num"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
    return f"<td{cls}>{escape(_fmt(value), limit)}</td>"


def _table(frame: pl.DataFrame, total: int | None = None, what: str = "rows") -> str:
    if frame.height == 0:
        return '<p class="muted">None.</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>"
                   for row in frame.iter_rows())
    more = ""
    if total is not None and total > frame.height:
        more = f'<p class="muted">Showing {frame.height:,} of {total:,} {escape(what)}.</p>'
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _svg_img(spec: dict[str, Any], alt: str) -> str:
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    b64 = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/svg+xml;base64,{b64}">'


def timeline_spec(d: dict[str, Any]) -> dict[str, Any]:
    """Vega-Lite spec of requests per time bucket by model, with model releases as rules."""
    bars = [{"t": _iso(r["bucket"]), "model": r["model"], "requests": r["requests"]}
            for r in d["timeline"].iter_rows(named=True)]
    rules = [{"t": _iso(r["released_at"]), "model": r["model"]}
             for r in d["releases"].iter_rows(named=True)]
    from workbench.colours import model_colour  # the trace's colours, model by model

    time_unit = "utcyearmonthdatehours" if d["bucket_unit"] == "hour" else "utcyearmonthdate"
    models = sorted({b["model"] for b in bars if b["model"] is not None})
    layers: list[dict[str, Any]] = [{
        "data": {"values": bars}, "mark": {"type": "bar"},
        "encoding": {"x": {"field": "t", "type": "temporal", "timeUnit": time_unit,
                           "title": f"time (UTC, per {d['bucket_unit']})",
                           # One label a day at most, never overlapping.
                           "axis": {"format": "%b %d", "labelOverlap": "greedy",
                                    "labelAngle": 0, "tickCount": {"interval": "day"}}},
                     "y": {"field": "requests", "type": "quantitative", "aggregate": "sum",
                           "title": "requests"},
                     "color": {"field": "model", "type": "nominal",
                               "scale": {"domain": models,
                                         "range": [model_colour(m) for m in models]}}}}]
    if rules:
        layers.append({"data": {"values": rules}, "mark": {"type": "rule", "strokeDash": [4, 3],
                                                           "color": "black"},
                       "encoding": {"x": {"field": "t", "type": "temporal"},
                                    "tooltip": {"field": "model"}}})
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": 900,
            "height": 220, "title": "Requests by model; dashed lines: model releases",
            "layer": layers}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _html_act(d: dict[str, Any]) -> list[str]:
    tpl = d["templates"]
    rows = [f"<tr><td class=\"num\">{g['templates']:,}</td><td>{escape(g['detectors'] or '–')}"
            f"</td><td class=\"num\">{g['requests']:,}</td><td class=\"num\">"
            f"{g['most_accounts']:,}</td><td class=\"num\">{g['outside_accounts']:,}</td>"
            f"<td>{escape(_fmt(g['first_seen']))} to {escape(_fmt(g['last_seen']))}</td>"
            f"<td><details><summary>{len(g['hashes']):,} hashes</summary><code>"
            f"{escape(', '.join(g['hashes']))}</code></details></td></tr>"
            for g in tpl.iter_rows(named=True)]
    head = ("<tr><th>templates</th><th>detectors</th><th>requests</th><th>most accounts on "
            "one</th><th>outside accounts (most)</th><th>seen</th><th>hashes</th></tr>")
    redacted = ('<p class="muted">E-mails, IPs and payment fingerprints are shown as keyed '
                "hashes (HMAC-SHA256).</p>" if d.get("redacted") else "")
    block = d["block"]
    by_type = "".join(
        f"<tr><td>{escape(t)}</td><td class=\"num\">{len(vals):,}</td><td class=\"num\">"
        f"{sum(reqs):,}</td><td><code>{escape(', '.join(vals), 4000)}</code></td></tr>"
        for t, vals, reqs in _grouped(block))
    return [
        "<h2>What to act on</h2>", redacted,
        f"<h3>Safe to block ({block.height:,} values)</h3>",
        '<p class="muted">No account outside the campaign used these values.</p>',
        f"<table><tr><th>type</th><th>values</th><th>requests</th><th>the values</th></tr>"
        f"{by_type}</table>" if by_type else '<p class="muted">None.</p>',
        "<details><summary>each value with its requests, first and last use and detectors"
        f"</summary>{_table(block.head(MAX_ROWS), block.height, 'values')}</details>",
        f"<h3>Prompt templates ({tpl['templates'].sum() if tpl.height else 0:,}, grouped by "
        "the detectors behind them)</h3>",
        f"<table>{head}{''.join(rows)}</table>" if rows else '<p class="muted">None.</p>',
        f"<h3>Shared with accounts outside the campaign ({d['shared'].height:,} values): "
        "check before blocking</h3>",
        '<p class="muted">Outside accounts are counted, never named; the campaign accounts '
        "that use each value are listed. (Inside the provider, <code>workbench pivot --kind "
        "TYPE --value VALUE</code> lists every account behind a value.)</p>",
        _table(d["shared"].head(MAX_ROWS), d["shared"].height, "values"),
    ]


def _grouped(block: pl.DataFrame) -> list[tuple[str, list[str], list[int]]]:
    """(type, values, requests) per indicator type, in the indicators' order."""
    out: dict[str, tuple[list[str], list[int]]] = {}
    for t, v, n in block.select("type", "value", "requests").iter_rows():
        vals, reqs = out.setdefault(t, ([], []))
        vals.append(str(v))
        reqs.append(int(n or 0))
    return [(t, vals, reqs) for t, (vals, reqs) in out.items()]


def _in_words(det: dict[str, Any]) -> str:
    """The strongest finding of one detector as a sentence (its evidence already scrubbed)."""
    from workbench.evidence import detector_sentence

    return detector_sentence(det["detector"], det["evidence"], det["max_score"])


def _html_reasons(d: dict[str, Any]) -> str:
    from workbench.evidence import lead_sentences

    parts = []
    for row in d["reasons"].iter_rows(named=True):
        lines = lead_sentences(row["account_id"], row["reasons"])
        parts.append(f"<h3>{escape(row['account_id'])} "
                     f'<span class="muted">risk {row["risk"]:.3f}</span></h3>'
                     + ("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in lines) + "</ul>"
                        if lines else '<p class="muted">No reasons recorded.</p>'))
    return "".join(parts) or '<p class="muted">No accounts.</p>'


def _html(d: dict[str, Any]) -> str:
    c = d["campaign"]
    cid = escape(c["campaign_id"])
    parts = [f"<h1>Evidence report: campaign {cid}</h1>",
             f'<p class="muted">Generated {escape(_fmt(d["generated_at"]))} by the '
             f"distillation workbench from case {escape(d['case_path'])}.</p>",
             "<h2>Summary</h2><dl>",
             *(f"<dt>{escape(k)}</dt><dd>{escape(v, 500)}</dd>" for k, v in _summary_items(d)),
             "</dl>"]
    if d["notes"].height:
        parts += ["<h3>Investigator notes</h3>", _table(d["notes"])]
    parts += _html_act(d)
    parts += ["<h2>Timeline</h2>",
              _svg_img(timeline_spec(d), "requests per time bucket by model")
              if d["timeline"].height else '<p class="muted">No requests.</p>',
              "<h2>Accounts</h2>", _table(d["accounts"], d["accounts_total"], "accounts"),
              "<h3>Links between them</h3>", _table(d["link_kinds"]),
              "<h3>Strongest links</h3>", _table(d["links"], d["links_total"], "links"),
              "<h2>Indicators</h2>",
              f"<p>All {d['indicators_count']:,} indicators are listed under What to act on, "
              "above: values safe to block, the templates grouped, the shared values. "
              "<code>workbench indicators</code> exports them as CSV, JSON or a STIX 2.1 "
              "bundle.</p>",
              "<h2>Why these accounts</h2>", _html_reasons(d),
              "<h2>Detectors and evidence</h2>"]
    for det in d["detectors"]:
        parts += [f"<h3>{escape(det['detector'])} "
                  f'<span class="lvl-{escape(det["level"])}">{escape(det["level"])}</span></h3>',
                  f"<p>Fired on {det['entities']:,} entities ({escape(det['entity_types'])}), "
                  f"max score {det['max_score']:.2f}, {escape(_fmt(det['first_seen']))} to "
                  f"{escape(_fmt(det['last_seen']))}. Id {escape(det['detector_id'])}, "
                  f"version {escape(det['version'])}, run {escape(det['run_id'])}.</p>",
                  f"<p>{escape(_in_words(det), 1500)}</p>",
                  "<p>Parameters:</p>", html_block(_pretty(det["params"]), 1000),
                  f"<p>Evidence of the strongest finding ({escape(det['top_entity'])}):</p>",
                  html_block(_pretty(det["evidence"]), 1500)]
    if not d["detectors"]:
        parts.append('<p class="muted">No findings on this campaign.</p>')
    parts.append("<h2>Sample requests</h2>")
    for s in d["samples"].iter_rows(named=True):
        parts += [f"<h3>{escape(s['request_id'])}</h3>",
                  f"<p>{escape(_fmt(s['ts']))} · account {escape(s['account_id'])} · model "
                  f"{escape(s['model'])} · user agent {escape(s['user_agent'], 200)}</p>",
                  "<p>System prompt:</p>", html_block(s["system_prompt"], 500),
                  "<p>Prompt (last user turn):</p>", html_block(s["prompt_text"], 1500),
                  "<p>Output:</p>", html_block(s["output_text"], 1500)]
    parts += ["<h2>Methods</h2>", f"<p>{escape(METHODS)}</p>", "<h3>Detector runs</h3>",
              _table(d["runs"])]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="referrer" content="no-referrer">'
            f"<title>Evidence report: campaign {cid}</title><style>{_CSS}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


# -- Markdown -------------------------------------------------------------------------------

def _md_table(frame: pl.DataFrame, total: int | None = None, what: str = "rows") -> str:
    if frame.height == 0:
        return "None.\n"
    lines = ["| " + " | ".join(markdown(c) for c in frame.columns) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(markdown(_fmt(v), 300) for v in row) + " |"
              for row in frame.iter_rows()]
    if total is not None and total > frame.height:
        lines.append(f"\nShowing {frame.height:,} of {total:,} {what}.")
    return "\n".join(lines) + "\n"


def _md_act(d: dict[str, Any]) -> list[str]:
    import polars as pl

    tpl = d["templates"].with_columns(pl.col("hashes").list.join(", "))
    return ["## What to act on", "",
            *(["E-mails, IPs and payment fingerprints are shown as keyed hashes "
               "(HMAC-SHA256).", ""] if d.get("redacted") else []),
            f"### Safe to block ({d['block'].height:,} values)", "",
            "No account outside the campaign used these values.", "",
            *[f"- {markdown(t)} ({len(vals):,}, {sum(reqs):,} requests): "
              f"{markdown(', '.join(vals), 4000)}" for t, vals, reqs in _grouped(d["block"])],
            "",
            "### Prompt templates, grouped by the detectors behind them", "",
            _md_table(tpl), f"### Shared with accounts outside the campaign "
            f"({d['shared'].height:,} values): check before blocking", "",
            "Outside accounts are counted, never named.", "",
            _md_table(d["shared"].head(MAX_ROWS), d["shared"].height, "values")]


def _markdown(d: dict[str, Any]) -> str:
    c = d["campaign"]
    out = [f"# Evidence report: campaign {markdown(c['campaign_id'])}", "",
           f"Generated {_fmt(d['generated_at'])} by the distillation workbench from case "
           f"{markdown(d['case_path'])}.", "", "## Summary", "",
           "| | |", "|---|---|",
           *(f"| {k} | {markdown(v, 500)} |" for k, v in _summary_items(d)), ""]
    if d["notes"].height:
        out += ["### Investigator notes", "", _md_table(d["notes"])]
    out += _md_act(d)
    out += ["## Timeline", "", "Requests per day by model (the HTML report draws them per "
            f"{d['bucket_unit']}, with model releases).", "",
            _md_table(d["daily"]), "## Accounts", "",
            _md_table(d["accounts"], d["accounts_total"], "accounts"),
            "### Links between them", "", _md_table(d["link_kinds"]),
            "### Strongest links", "", _md_table(d["links"], d["links_total"], "links"),
            "## Indicators", "",
            f"All {d['indicators_count']:,} indicators are listed under What to act on, above. "
            "`workbench indicators` exports them as CSV, JSON or a STIX 2.1 bundle.", "",
            "## Why these accounts", ""]
    from workbench.evidence import lead_sentences

    for row in d["reasons"].iter_rows(named=True):
        out += [f"### {markdown(row['account_id'])} (risk {row['risk']:.3f})", ""]
        out += [f"- {markdown(t, 1000)}" for t in lead_sentences(row["account_id"],
                                                                 row["reasons"])] + [""]
    out += ["## Detectors and evidence", ""]
    for det in d["detectors"]:
        out += [f"### {markdown(det['detector'])} ({markdown(det['level'])})", "",
                f"Fired on {det['entities']:,} entities ({markdown(det['entity_types'])}), max "
                f"score {det['max_score']:.2f}, {_fmt(det['first_seen'])} to "
                f"{_fmt(det['last_seen'])}. Id {markdown(det['detector_id'])}, version "
                f"{markdown(det['version'])}, run {markdown(det['run_id'])}.", "",
                f"- In words: {markdown(_in_words(det), 1500)}",
                f"- Parameters: {markdown(_pretty(det['params']), 1000)}",
                f"- Evidence of the strongest finding ({markdown(det['top_entity'])}): "
                f"{markdown(_pretty(det['evidence']), 1500)}", ""]
    out += ["## Sample requests", ""]
    for s in d["samples"].iter_rows(named=True):
        out += [f"### {markdown(s['request_id'])}", "",
                f"- {_fmt(s['ts'])}, account {markdown(s['account_id'])}, model "
                f"{markdown(s['model'])}, user agent {markdown(s['user_agent'], 200)}",
                f"- System prompt: {markdown(s['system_prompt'], 500)}",
                f"- Prompt: {markdown(s['prompt_text'], 1500)}",
                f"- Output: {markdown(s['output_text'], 1500)}", ""]
    out += ["## Methods", "", METHODS, "", "### Detector runs", "", _md_table(d["runs"])]
    return "\n".join(out)
