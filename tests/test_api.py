"""The public API stays small, sorted and fast to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import workbench as wb


def test_all_is_sorted_and_resolves() -> None:
    assert wb.__all__ == sorted(wb.__all__)
    for name in wb.__all__:
        assert getattr(wb, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        wb.no_such_thing  # noqa: B018


def test_import_does_not_pull_heavy_modules() -> None:
    code = (
        "import sys, workbench; "
        "heavy = [m for m in ('altair', 'ipywidgets', 'jupyterlab', 'pyspark', 'vl_convert', "
        "'stix2', 'workbench.simulator', 'workbench.widgets') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_public_name_is_documented_in_the_architecture_page() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text()
    missing = [n for n in wb.__all__ if n not in ("Case", "WorkbenchError")
               and f"wb.{n}(" not in page]
    assert missing == [], f"add these to the table of names in docs/architecture.md: {missing}"
