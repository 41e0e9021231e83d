"""Brushed windows and selections leave the widgets: as files beside the case, and as notebook
variables that `%%sql` binds (`$wb_window_start`, `$wb_window_end`, `$wb_selected_requests`,
`$wb_accounts`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ParameterError, unknown

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case
    from workbench.widgets.state import InvestigationState

FORMATS = ("csv", "parquet")


def export(frame: pl.DataFrame | None, case: Case, state: InvestigationState,
           fmt: str = "csv", out: str | Path | None = None) -> Path:
    """Write `frame` (the window's requests) as guarded CSV or Parquet, mode 0600, into
    `exports/` beside the case (or `out`); returns the path."""
    from workbench.privacy import write_private
    from workbench.safe import frame_csv

    if fmt not in FORMATS:
        err = unknown("export format", fmt, FORMATS)
        raise err
    if frame is None:
        msg = "Nothing to export: open an actor first."
        raise ParameterError(msg)
    if out is None:
        base = case.path.parent if case.path is not None else Path.cwd()
        safe_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", state.entity_id)[:60] or "actor"
        win = ("all" if state.window is None else
               f"{state.window[0]:%Y%m%dT%H%M}-{state.window[1]:%Y%m%dT%H%M}")
        out = base / "exports" / f"{state.entity_type}-{safe_id}-{win}.{fmt}"
    path = Path(out)
    if fmt == "csv":
        write_private(path, frame_csv(frame))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
        path.chmod(0o600)
    case.audit("export_window", out=str(path), format=fmt, rows=frame.height,
               entity_type=state.entity_type)
    return path


def share(state: InvestigationState, accounts: list[str], namespace: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    """Put the window, the selection and the actor's accounts into the notebook's namespace
    (or `namespace`) for `%%sql` to bind; returns what was set."""
    values = {
        "wb_window_start": None if state.window is None else state.window[0],
        "wb_window_end": None if state.window is None else state.window[1],
        "wb_selected_requests": list(state.selected_requests),
        "wb_accounts": list(accounts),
    }
    if namespace is None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover - IPython ships with ipywidgets
            shell = None
        namespace = shell.user_ns if shell is not None else None
    if namespace is not None:
        namespace.update(values)
    return values
