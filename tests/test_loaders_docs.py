"""docs/loaders.md is current: its generated sections match the loaders' own tables."""

from __future__ import annotations

from workbench.loaders import FORMATS, docs, envelope


def test_generated_sections_are_current() -> None:
    text = docs.DOC.read_text()
    assert docs.render(text) == text, (
        "docs/loaders.md is stale: run `python -m workbench.loaders.docs`")


def test_every_format_and_envelope_field_is_documented() -> None:
    text = docs.DOC.read_text()
    assert set(docs.FORMATS) == set(FORMATS)
    for name in docs.sections():
        assert f"<!-- generated:{name} -->" in text, f"section {name} missing from the doc"
    for f in envelope.FIELDS:
        assert f"| `{f.name}` |" in text
