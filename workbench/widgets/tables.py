"""HTML tables and text views for the widgets: every value from the logs is escaped.

Cells go through `safe.escape` (markup shown as text, bidi and zero-width characters made
visible, long values cut with a marker); full texts go through `safe.html_block`, which keeps
everything past the limit in a closed <details> so the investigator can still read it all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.safe import escape, html_block

if TYPE_CHECKING:
    import polars as pl

CELL_LIMIT = 160
STYLE = """<style>
.wb-table{border-collapse:collapse;font-size:12px;margin:2px 0 8px 0}
.wb-table th{text-align:left;background:#f3f3f3;padding:2px 6px;border-bottom:1px solid #ccc}
.wb-table td{padding:2px 6px;border-bottom:1px solid #eee;vertical-align:top;max-width:420px;
overflow-wrap:anywhere}
.wb-text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;background:#fafafa;
padding:4px;margin:2px 0;max-height:320px;overflow:auto}
.wb-h{font-weight:600;margin:6px 0 2px 0}
.wb-muted{color:#777;font-size:12px}
</style>"""


def cell(value: Any, limit: int = CELL_LIMIT) -> str:
    """One escaped table cell value.

    Example:
        >>> cell("<b>x</b>")
        '&lt;b&gt;x&lt;/b&gt;'
    """
    if value is None:
        return '<span class="wb-muted">–</span>'
    if isinstance(value, datetime):
        return escape(value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, float):
        return escape(f"{value:.3g}")
    if isinstance(value, list):
        return escape(", ".join("–" if v is None else str(v) for v in value), limit)
    return escape(str(value), limit)


def html_table(df: pl.DataFrame, columns: list[str] | None = None, *, title: str = "",
               empty: str = "nothing in this window", limit: int = CELL_LIMIT) -> str:
    """An escaped HTML table of `df` (headers are our column names, cells are escaped)."""
    cols = columns or df.columns
    head = f'<div class="wb-h">{escape(title)}</div>' if title else ""
    if df.height == 0:
        return f'{head}<div class="wb-muted">{escape(empty)}</div>'
    ths = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(row[c], limit)}</td>" for c in cols) + "</tr>"
        for row in df.select(cols).iter_rows(named=True))
    return f'{head}<table class="wb-table"><tr>{ths}</tr>{body}</table>'


def kv_table(values: dict[str, Any], title: str = "") -> str:
    """A two-column escaped table of name → value."""
    head = f'<div class="wb-h">{escape(title)}</div>' if title else ""
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{cell(v)}</td></tr>" for k, v in values.items())
    return f'{head}<table class="wb-table">{rows}</table>'


def conversation(row: dict[str, Any]) -> str:
    """Everything about one request: metadata, then each text in full behind a limit."""
    meta_keys = ("request_id", "ts", "account_id", "org_id", "api_key_id", "client_ip",
                 "user_agent", "access_path", "endpoint", "model", "max_tokens", "temperature",
                 "top_p", "top_k", "thinking_mode", "thinking_budget", "logprobs",
                 "top_logprobs", "logit_bias_n", "tool_names", "input_tokens", "output_tokens",
                 "reasoning_tokens", "stop_reason")
    parts = [kv_table({k: row.get(k) for k in meta_keys}, title="Request")]
    for key, title in (("system_prompt", "System prompt"), ("prompt_text", "Prompt (last turn)"),
                       ("output_text", "Output"), ("messages", "All messages (JSON)"),
                       ("tools", "Tool definitions (JSON)"), ("response", "Response (JSON)")):
        if row.get(key) is not None:
            parts.append(f'<div class="wb-h">{escape(title)}</div>{html_block(row[key])}')
    return "".join(parts)
