"""Showing adversary-written text safely: escaped, controls made visible, long text truncated.

Every prompt, output, system prompt, tool definition, user agent and id in the logs was written
by the adversary. Nothing that renders HTML, JavaScript or Markdown may show such text except
through these functions.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Bidirectional overrides/isolates and marks: they reorder what the reader sees (Trojan Source).
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Zero-width and invisible characters: they hide text or split words without a trace.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
_INVISIBLE = re.compile(
    "[" + re.escape(BIDI + ZERO_WIDTH) + r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
DEFAULT_LIMIT = 2000


def _mark(match: re.Match[str]) -> str:
    ch = match.group(0)
    name = unicodedata.name(ch, "")
    label = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    return f"\u27e8{label}\u27e9"  # ⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩


def visible(text: str | None) -> str:
    """Replace bidirectional, zero-width and control characters with a visible label.

    Example:
        >>> visible("pay\\u202eusd")
        'pay⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩usd'
    """
    if text is None:
        return ""
    return _INVISIBLE.sub(_mark, str(text))


def truncate(text: str | None, limit: int | None = DEFAULT_LIMIT) -> tuple[str, bool]:
    """Cut text to `limit` characters; return (text, whether it was cut).

    Example:
        >>> truncate("abcdef", 3)
        ('abc', True)
    """
    s = "" if text is None else str(text)
    if limit is None or len(s) <= limit:
        return s, False
    return s[:limit], True


def escape(text: str | None, limit: int | None = None) -> str:
    """HTML-escape text after making invisible characters visible; optionally truncate.

    Safe both as element content and inside a quoted attribute value.

    Example:
        >>> escape('<img src=x onerror="alert(1)">')
        '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    s, cut = truncate(text, limit)
    out = html.escape(visible(s), quote=True)
    return out + (" …" if cut else "")


def html_block(text: str | None, limit: int = DEFAULT_LIMIT) -> str:
    """Escaped text in a <pre>; text past `limit` sits in a closed <details> to see all.

    Example:
        >>> html_block("</div>", 3)[:59]
        '<pre class="wb-text">&lt;/d …<details><summary>show all 6 c'
    """
    s = "" if text is None else str(text)
    if len(s) <= limit:
        return f'<pre class="wb-text">{escape(s)}</pre>'
    return (f'<pre class="wb-text">{escape(s, limit)}<details><summary>show all {len(s):,} '
            f"characters</summary>{escape(s)}</details></pre>")


def markdown(text: str | None, limit: int | None = DEFAULT_LIMIT) -> str:
    """Text safe inside a Markdown table cell or paragraph: escaped HTML, no pipes, one line.

    Example:
        >>> markdown("a|b <b>\\n`x`")
        'a\\\\|b &lt;b&gt; ⏎ \\\\`x\\\\`'
    """
    s = escape(text, limit)
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    for ch in "*_[]#":
        s = s.replace(ch, "\\" + ch)
    return s.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ⏎ ")
