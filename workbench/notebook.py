"""What the template notebooks need to find their case and where to write.

`workbench lab` starts JupyterLab in the case's folder on a working copy of the templates and
sets WORKBENCH_CASE; every template opens the case through `open_case`, so `--dir other` shows
the other case, never the demo. Files a notebook writes go to `out_dir`: beside the case,
never into the repository's `notebooks/`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import CaseError

if TYPE_CHECKING:
    from workbench.case import Case

ENV = "WORKBENCH_CASE"


def case_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The case file: `path` when given, else WORKBENCH_CASE, else a clear error.

    Example:
        >>> case_path("demo/case.duckdb").name
        'case.duckdb'
    """
    chosen = path or os.environ.get(ENV)
    if not chosen:
        msg = (f"No case given: start JupyterLab with `workbench lab --dir FOLDER` (it sets "
               f"{ENV}), or set case_path in the notebook's first cell (papermill: "
               "-p case_path PATH).")
        raise CaseError(msg)
    return Path(chosen).expanduser()


def open_case(path: str | os.PathLike[str] | None = None) -> Case:
    """The case, opened read-only (a connection per query: a notebook never blocks a load)."""
    from workbench.case import open as open_file

    return open_file(case_path(path), read_only=True)


def out_dir(path: str | os.PathLike[str] | None = None,
            case: str | os.PathLike[str] | None = None) -> Path:
    """Where a notebook writes reports and exports: `path`, else `handover/` beside the case.

    Example:
        >>> out_dir(case="demo/case.duckdb").as_posix()
        'demo/handover'
    """
    out = Path(path) if path else case_path(case).parent / "handover"
    out.mkdir(parents=True, exist_ok=True)
    return out
