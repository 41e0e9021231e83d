"""Distillation workbench: hunt illicit model distillation in LLM API logs with DuckDB.

The names a notebook needs, each a function over a case (docs/architecture.md has the layers
behind them):

    case = wb.open("case.duckdb")            # the case: connections, sql, schema, locking
    wb.load(case, "logs/*.jsonl.gz", accounts="accounts.csv", releases="releases.csv")
    wb.detect(case)                          # features → detectors → links → scores → rollups
    wb.campaigns(case); wb.leads(case, min_level="high")
    wb.triage(case); wb.trace(case, campaign="cmp-…")
    wb.report(case, "cmp-…", out="report.html"); wb.indicators(case, "cmp-…", format="stix")
    case.sql("select … where account_id = $a", a="acct_…")

`import workbench` stays fast: everything but the case is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench._version import __version__ as __version__
from workbench.case import Case, open
from workbench.errors import WorkbenchError

if TYPE_CHECKING:  # the lazy names below, for readers and type checkers
    from workbench.export import open_parquet
    from workbench.handover.indicators import indicators
    from workbench.handover.report import report
    from workbench.loaders import info, load
    from workbench.notes import add_note as note
    from workbench.pipeline import detect, link
    from workbench.results import campaigns, leads
    from workbench.simulator import simulate
    from workbench.widgets.trace import trace
    from workbench.widgets.triage import triage

__all__ = ["Case", "WorkbenchError", "campaigns", "detect", "indicators", "info",
           "leads", "link", "load", "note", "open", "open_parquet", "report", "simulate",
           "trace", "triage"]

_LAZY = {
    "campaigns": ("workbench.results", "campaigns"),
    "detect": ("workbench.pipeline", "detect"),
    "indicators": ("workbench.handover.indicators", "indicators"),
    "info": ("workbench.loaders", "info"),
    "leads": ("workbench.results", "leads"),
    "link": ("workbench.pipeline", "link"),
    "load": ("workbench.loaders", "load"),
    "note": ("workbench.notes", "add_note"),
    "open_parquet": ("workbench.export", "open_parquet"),
    "report": ("workbench.handover.report", "report"),
    "simulate": ("workbench.simulator", "simulate"),
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
