"""The layers of docs/architecture.md hold: read from the modules' imports, never assumed.

The contracts live in pyproject.toml (`[tool.importlinter]`) and are checked with import-linter,
which reads every import (lazy ones inside functions and `TYPE_CHECKING` ones included) with
grimp. One rule import-linter cannot express is checked here with `ast`: only the CLI may import
the package's facade (`import workbench`), because the facade imports every layer.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workbench"


LINT = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--config",
        "pyproject.toml"]


def _lint(repo: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first, so that a copy of the package shadows the installed one
    return subprocess.run(LINT, cwd=repo, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"})


def test_every_module_has_a_layer() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    placed = {name.strip() for line in layers for name in line.replace(":", "|").split("|")}
    children = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    children |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert children - placed == set(), "add these modules to a layer in pyproject.toml"


def test_every_layer_contract_is_kept() -> None:
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "4 kept, 0 broken" in out.stdout


@pytest.mark.parametrize(("module", "line", "expected"), [
    # the data layer reaching up into the pipeline
    ("case.py", "from workbench import pipeline", "workbench.case -> workbench.pipeline"),
    # a step importing another step
    ("scoring.py", "from workbench import linking", "workbench.scoring -> workbench.linking"),
    # the report reaching into detection (scoring is below it, so only the forbidden contract)
    ("handover/report.py", "from workbench import scoring",
     "workbench.handover.report -> workbench.scoring"),
    # the simulator's actors importing behaviour
    ("simulator/world.py", "from workbench.simulator import behave",
     "workbench.simulator.world -> workbench.simulator.behave"),
])
def test_a_climbing_import_breaks_a_contract(tmp_path: Path, module: str, line: str,
                                             expected: str) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(PACKAGE, copy / "workbench",
                    ignore=shutil.ignore_patterns("__pycache__", "data", "sql"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "workbench" / module
    text = target.read_text(encoding="utf-8")
    # after the `from __future__` line, so the module still parses
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + line + "\n" + rest, encoding="utf-8")
    out = _lint(copy)
    assert out.returncode != 0, out.stdout[-2000:]
    assert "BROKEN" in out.stdout
    assert expected in out.stdout, out.stdout[-3000:]


def _imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from workbench import linking` names a module; `from workbench import open`
            # takes a name from the facade
            found += [(node.lineno, node.module) for a in node.names
                      if not _is_module(f"{node.module}.{a.name}")]
    return found


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_only_the_cli_imports_the_facade() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[1] == "cli" or rel == Path("workbench/__init__.py"):
            continue
        offenders += [f"{rel}:{n}" for n, name in _imports_of(path) if name == "workbench"]
    assert offenders == [], ("these modules import the facade `workbench` (which imports every "
                             "layer); import the module that owns the name instead", offenders)


def test_no_module_shadows_a_facade_name() -> None:
    import workbench as wb

    # importing workbench/X.py sets wb.X to the module, hiding the function wb.X
    clashes = [n for n in wb.__all__ if _is_module(f"workbench.{n}")]
    assert clashes == []
