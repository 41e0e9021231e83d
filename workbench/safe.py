"""Showing adversary-written text safely: escaped, invisible characters labelled, cut to size.

Every prompt, output, system prompt, tool definition, user agent and id in the logs was written
by the adversary. Nothing that renders HTML, JavaScript, Markdown, a terminal line or a
spreadsheet cell may show such text except through these functions:

- `visible` labels every character a reader cannot see (bidi controls, zero-width and other
  default-ignorable code points, Unicode tag characters, line separators, controls) so two
  strings that differ only by them never look identical;
- `escape` / `html_block` for HTML, `markdown` for Markdown, `one_line` for a terminal,
  `csv_cell` / `write_csv` for CSV a spreadsheet will open.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

# Bidirectional overrides/isolates and marks: they reorder what the reader sees (Trojan Source).
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Zero-width and invisible characters: they hide text or split words without a trace.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
# Code point ranges shown as labels. Format characters (category Cf, kept complete by a test),
# the other default-ignorable code points of DerivedCoreProperties.txt, line and paragraph
# separators, controls other than tab and newline, spaces that look like U+0020 but are not,
# and blank-looking letters (Hangul fillers, the Braille blank).
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0008), (0x000B, 0x000C), (0x000E, 0x001F), (0x007F, 0x009F),
    (0x00A0, 0x00A0), (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0x115F, 0x1160), (0x1680, 0x1680), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x206F), (0x2800, 0x2800), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
_TAG_TEXT = re.compile("[\U000e0020-\U000e007e]+")
DEFAULT_LIMIT = 2000


@functools.cache
def _invisible() -> re.Pattern[str]:
    cls = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "")
                  for a, b in INVISIBLE_RANGES)
    # A carriage return not followed by a newline moves the cursor back over the line.
    return re.compile(f"[{cls}]|\r(?!\n)")


def _mark(match: re.Match[str]) -> str:
    ch = match.group(0)
    if len(ch) > 1:  # a run of tag characters: they spell hidden ASCII (prompt smuggling)
        hidden = "".join(chr(ord(c) - 0xE0000) for c in ch)
        return f"\u27e8U+E00{ord(ch[0]) - 0xE0000:02X}… TAG CHARACTERS spelling {hidden!r}\u27e9"
    name = unicodedata.name(ch, "")
    label = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    return f"\u27e8{label}\u27e9"  # ⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩


def visible(text: str | None) -> str:
    """Replace every character a reader cannot see with a visible label.

    Example:
        >>> visible("pay\\u202eusd")
        'pay⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩usd'
        >>> visible("a\\U000e0068\\U000e0069")
        "a⟨U+E0068… TAG CHARACTERS spelling 'hi'⟩"
    """
    if text is None:
        return ""
    s = _TAG_TEXT.sub(lambda m: _mark(m) if len(m.group(0)) > 1 else m.group(0), str(text))
    return _invisible().sub(_mark, s)


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


# GitHub and most Markdown renderers turn bare URLs, www. names and e-mail addresses into live
# links; a report must not hand the reader a clickable adversary link. Defanged as threat
# intelligence writes them: hxxp-style brackets a reader understands and no renderer follows.
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*):(?=//)")
_WWW = re.compile(r"(?i)\b(www)\.")
_AT = re.compile(r"@(?=[\w\-])")


def markdown(text: str | None, limit: int | None = DEFAULT_LIMIT) -> str:
    """Text safe inside a Markdown table cell or paragraph: escaped HTML, no pipes, one line,
    no live links.

    Example:
        >>> markdown("a|b <b>\\n`x`")
        'a\\\\|b &lt;b&gt; ⏎ \\\\`x\\\\`'
        >>> markdown("see https://evil.example")
        'see https\\\\[:\\\\]//evil.example'
    """
    s = escape(text, limit)
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    for ch in "*_[]#":
        s = s.replace(ch, "\\" + ch)
    s = _SCHEME.sub(r"\1\\[:\\]", s)
    s = _WWW.sub(r"\1\\[.\\]", s)
    s = _AT.sub(r"\\[@\\]", s)
    return s.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ⏎ ")


def one_line(text: Any, limit: int | None = None) -> str:
    """Adversary text for one terminal line: invisible and control characters labelled, line
    breaks shown as ⏎ and tabs as spaces, so nothing moves the cursor or paints the screen.

    Example:
        >>> one_line("ok\\rEVIL\\x1b[2J\\nnext")
        'ok⟨U+000D⟩EVIL⟨U+001B⟩[2J⏎next'
    """
    s, cut = truncate("" if text is None else str(text), limit)
    s = visible(s).replace("\r\n", "\u23ce").replace("\n", "\u23ce").replace("\t", " ")
    return s + ("…" if cut else "")


# -- CSV that a spreadsheet opens as data, never as a formula ----------------------------------

# A spreadsheet reads a cell (or, after a line break inside it, a line) that starts with one
# of these as a formula: =HYPERLINK(...), +cmd|..., -2+3, @SUM(...), and TAB or CR before them.
_FORMULA_START = re.compile(r"(?:^|(?<=[\r\n]))(?=[=+\-@\t\r])")


def csv_cell(value: Any) -> str:
    """One CSV field as text: lists joined with ';', times in ISO 8601, and every line of a
    text value that a spreadsheet would read as a formula prefixed with a single quote.

    Numbers stay numbers: only text is guarded.

    Example:
        >>> csv_cell("ok\\r=HYPERLINK(1)")
        "ok\\r'=HYPERLINK(1)"
        >>> csv_cell(-5), csv_cell(["=a", "b"])
        ('-5', "'=a;b")
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = ";".join("" if v is None else str(v) for v in value)
    return _FORMULA_START.sub("'", str(value))


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with every field quoted and guarded by `csv_cell` (headers too).

    Example:
        >>> write_csv(["id"], [["=1+1"]])
        '"id"\\r\\n"\\'=1+1"\\r\\n'
    """
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def frame_csv(frame: Any) -> str:
    """A polars DataFrame as guarded CSV (see `write_csv`)."""
    return write_csv(frame.columns, frame.iter_rows())


def json_or_text(value: Any) -> Any:
    """A JSON text parsed; anything else (a non-JSON string, a value already parsed) as it is.

    Example:
        >>> json_or_text('{"a": 1}'), json_or_text("not json"), json_or_text(3)
        ({'a': 1}, 'not json', 3)
    """
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
