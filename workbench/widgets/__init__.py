"""Interactive investigation widgets: the triage board and the one-actor trace.

`workbench.triage` and `workbench.trace` resolve to these lazily, so `import workbench`
does not import ipywidgets or altair. Charts use altair's offline `JupyterChart`, so they
render with no network. Widgets never hold the case open: each query takes a connection and
releases it, and the trace keeps the actor's narrow request slice in a private in-memory
DuckDB database.
"""

from __future__ import annotations

from workbench.widgets.state import InvestigationState
from workbench.widgets.trace import Trace, trace
from workbench.widgets.triage import Triage, triage

__all__ = ["InvestigationState", "Trace", "Triage", "trace", "triage"]
