"""HTML tables and text views for the widgets: every value from the logs is escaped.

Cells go through `safe.escape` (markup shown as text, bidi and zero-width characters made
visible, long values cut with a marker); full texts go through `safe.html_block`, which keeps
everything past the limit in a closed <details> so the investigator can still read it all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.safe import escape, html_block, json_or_text

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
.wb-turn{border-left:3px solid #ccc;margin:4px 0;padding:2px 8px}
.wb-turn.wb-user{border-color:#1f77b4}.wb-turn.wb-response{border-color:#2ca02c}
.wb-turn.wb-system{border-color:#999}.wb-role{font-weight:600;font-size:12px}
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
        return escape(when(value))
    if isinstance(value, bool):
        return escape(str(value))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return escape(f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}")
    if isinstance(value, list):
        return escape(", ".join("–" if v is None else str(v) for v in value), limit)
    return escape(str(value), limit)


def when(value: datetime | None) -> str:
    """A time as the widgets show it: UTC, to the minute, with its zone.

    Example:
        >>> from datetime import datetime, UTC
        >>> when(datetime(2025, 3, 1, 9, 30, tzinfo=UTC))
        '2025-03-01 09:30 UTC'
    """
    if value is None:
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def error(exc: BaseException | str) -> str:
    """An error as one escaped line, shown where the click was."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f'<div class="wb-error" style="color:#b00;font-weight:600">⚠ {escape(text, 500)}</div>'


def busy(text: str) -> str:
    """A progress line for work that takes more than a second."""
    return ('<div class="wb-busy" style="color:#555;font-style:italic">'
            f"Working: {escape(text)}</div>")


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
    parts = [kv_table({k: row.get(k) for k in meta_keys}, title="Request"),
             '<div class="wb-h">Conversation</div>', transcript(row)]
    for key, title in (("tools", "Tool definitions (JSON)"), ("messages", "Messages as sent "
                                                                          "(JSON)"),
                       ("response", "Response as returned (JSON)")):
        if row.get(key) is not None:
            parts.append(f"<details><summary>{escape(title)}</summary>"
                         f"{html_block(row[key])}</details>")
    return "".join(parts)


def _content_text(content: Any) -> list[tuple[str, str, str]]:
    """(kind, title, text) parts of one message's content: text, tool calls, tool results."""
    if content is None:
        return []
    if isinstance(content, str):
        return [("text", "", content)]
    if isinstance(content, dict):
        content = [content]
    parts: list[tuple[str, str, str]] = []
    for block in content if isinstance(content, list) else [content]:
        if not isinstance(block, dict):
            parts.append(("text", "", str(block)))
            continue
        kind = str(block.get("type", "text"))
        if kind in ("text", "input_text", "output_text"):
            parts.append(("text", "", str(block.get("text", ""))))
        elif kind in ("tool_use", "function_call", "tool_call"):
            args = block.get("input", block.get("arguments", block.get("function")))
            parts.append(("tool", f"tool call {block.get('name', '')}",
                          json.dumps(args, indent=1, ensure_ascii=False, default=str)
                          if not isinstance(args, str) else args))
        elif kind in ("tool_result", "function_call_output"):
            inner = block.get("content", block.get("output"))
            text = "\n".join(t for _, _, t in _content_text(inner)) if not isinstance(
                inner, str) else inner
            parts.append(("tool", "tool result", text))
        elif kind in ("thinking", "reasoning"):
            parts.append(("tool", "thinking", str(block.get("thinking", block.get("text", "")))))
        else:
            parts.append(("tool", kind, json.dumps(block, ensure_ascii=False, default=str)))
    return parts


def _turn(role: str, parts: list[tuple[str, str, str]]) -> str:
    body = []
    for kind, title, text in parts:
        if kind == "text":
            body.append(html_block(text))
        else:  # tool calls, results and thinking are folded: open them to read
            body.append(f"<details><summary>{escape(title)} ({len(text):,} characters)"
                        f"</summary>{html_block(text)}</details>")
    return (f'<div class="wb-turn wb-{escape(role)}"><div class="wb-role">{escape(role)}</div>'
            + "".join(body) + "</div>")


def transcript(row: dict[str, Any]) -> str:
    """One request as a conversation: system prompt, each turn, tool calls and results folded,
    then the response. Every text is escaped; a body that is not JSON is shown as text."""
    turns = []
    if row.get("system_prompt"):
        turns.append(_turn("system", [("text", "", row["system_prompt"])]))
    messages = json_or_text(row.get("messages"))
    if isinstance(messages, list):
        for m in messages:
            if isinstance(m, dict):
                parts = _content_text(m.get("content"))
                for call in m.get("tool_calls") or []:
                    fn = call.get("function", {}) if isinstance(call, dict) else {}
                    parts.append(("tool", f"tool call {fn.get('name', '')}",
                                  str(fn.get("arguments", ""))))
                turns.append(_turn(str(m.get("role", "?")), parts))
            else:
                turns.append(_turn("?", [("text", "", str(m))]))
    elif messages is not None:
        turns.append(_turn("messages", [("text", "", str(messages))]))
    elif row.get("prompt_text"):
        turns.append(_turn("user", [("text", "", row["prompt_text"])]))
    response = json_or_text(row.get("response"))
    if isinstance(response, dict):
        if "choices" in response:  # OpenAI chat completions
            msg = (response.get("choices") or [{}])[0]
            msg = msg.get("message", msg) if isinstance(msg, dict) else {}
            parts = _content_text(msg.get("content"))
            for call in msg.get("tool_calls") or []:
                fn = call.get("function", {}) if isinstance(call, dict) else {}
                parts.append(("tool", f"tool call {fn.get('name', '')}",
                              str(fn.get("arguments", ""))))
        else:
            parts = _content_text(response.get("content", response.get("output")))
        turns.append(_turn("response", parts or [("text", "", json.dumps(response))]))
    elif response is not None:
        turns.append(_turn("response", [("text", "", str(response))]))
    elif row.get("output_text"):
        turns.append(_turn("response", [("text", "", row["output_text"])]))
    return '<div class="wb-transcript">' + "".join(turns) + "</div>"
