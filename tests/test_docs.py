"""Documentation keeps up with the code: every command is documented, every Example runs."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import workbench
from workbench.cli import _register, cli

ROOT = Path(__file__).resolve().parent.parent


def _docs_text() -> str:
    parts = [(ROOT / "README.md").read_text()]
    parts += [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(parts)


def _commands() -> list[str]:
    _register()
    return sorted(cli.commands)


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"workbench {command}" in _docs_text(), (
        f"`workbench {command}` is not mentioned in README.md or docs/*.md")


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module", _modules())
def test_examples_in_docstrings_run(module: str) -> None:
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {module}"
