"""Adversary-written text is escaped, made visible and truncated wherever it is shown."""

from __future__ import annotations

import pytest

from workbench import safe

PAYLOADS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "</div></td></tr></table>",
    "\"' onmouseover=alert(1) x='",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_leaves_no_markup(payload: str) -> None:
    out = safe.escape(payload)
    assert "<" not in out
    assert ">" not in out
    assert '"' not in out
    assert "'" not in out


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_block_has_only_our_tags(payload: str) -> None:
    out = safe.html_block(payload * 200, limit=50)
    body = out.removeprefix('<pre class="wb-text">').removesuffix("</pre>")
    for tag in ("<details>", "</details>", "<summary>", "</summary>"):
        body = body.replace(tag, "")
    assert "<" not in body
    assert "show all" in out


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("a\u202eb", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\u2066b", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("a\u200bb", "U+200B ZERO WIDTH SPACE"),
        ("a\ufeffb", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("a\x1bb", "U+001B"),
    ],
)
def test_invisible_characters_are_made_visible(text: str, label: str) -> None:
    out = safe.visible(text)
    assert label in out
    assert text[1] not in out


def test_newlines_and_tabs_stay() -> None:
    assert safe.visible("a\nb\tc") == "a\nb\tc"


def test_truncate_reports_the_cut() -> None:
    assert safe.truncate("x" * 10, 4) == ("xxxx", True)
    assert safe.truncate(None, 4) == ("", False)
    assert safe.truncate("abc", None) == ("abc", False)


def test_markdown_cell_cannot_break_a_table() -> None:
    out = safe.markdown("a | b\n| c | <script>")
    assert "\n" not in out
    assert "|" not in out.replace("\\|", "")
    assert "<script>" not in out
