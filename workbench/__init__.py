"""Distillation workbench: hunt illicit model distillation in LLM API logs with DuckDB.

A notebook needs only these names. `import workbench` stays fast: the widgets (altair,
ipywidgets) and the simulator are imported on first use.
"""

from __future__ import annotations

from typing import Any

from workbench.case import Case, open
from workbench.errors import WorkbenchError

__all__ = ["Case", "WorkbenchError", "open", "open_parquet", "simulate", "trace", "triage"]
__version__ = "0.1.0"

_LAZY = {
    "open_parquet": ("workbench.export", "open_parquet"),
    "simulate": ("workbench.simulate", "simulate"),
    "trace": ("workbench.widgets", "trace"),
    "triage": ("workbench.widgets", "triage"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    msg = f"module 'workbench' has no attribute {name!r}"
    raise AttributeError(msg)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext workbench` registers the `%%sql` cell magic (see workbench.magic)."""
    from workbench.magic import load_ipython_extension as _load

    _load(ipython)
