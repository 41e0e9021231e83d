"""Distillation workbench: hunt illicit model distillation in LLM API logs with DuckDB.

A notebook needs only these names; heavy imports (altair, ipywidgets) happen where used.
"""

from __future__ import annotations

from workbench.case import Case, open
from workbench.errors import WorkbenchError

__all__ = ["Case", "WorkbenchError", "open"]
__version__ = "0.1.0"
