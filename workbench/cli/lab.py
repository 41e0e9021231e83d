"""`workbench lab`: JupyterLab on loopback, offline, pointed at a case.

Sensitive logs are read in locked-down rooms with no internet, so the lab makes no outgoing
call: no news feed, no update check, a read-only extension manager (no PyPI listing), and
widgets whose charts carry their own Vega (altair's offline JupyterChart). The case path is
passed to notebooks in the WORKBENCH_CASE environment variable.

The lab serves the case's folder and opens a working copy of the template notebooks there
(`<case folder>/notebooks/`, copied once, never overwritten): outputs JupyterLab autosaves
(account ids, prompts) stay with the case, and the shared templates stay clean.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from workbench.cli import cli
from workbench.errors import CaseError

CASE_FILE = "case.duckdb"
# JupyterLab's application settings for the workbench lab: overrides.json answers the news
# question ("Never", no update check) so no toast asks it, and page_config.json disables the
# announcements plugin that would fetch news at all. The user's own settings are untouched.
LAB_SETTINGS = Path(__file__).resolve().parent.parent / "data" / "lab"
TEMPLATES = Path(__file__).resolve().parents[2] / "notebooks"


def working_copy(case_dir: str | os.PathLike[str], templates: Path = TEMPLATES) -> Path:
    """Copy the template notebooks into `<case_dir>/notebooks/` (those not there yet).

    An investigator's working copy is never overwritten; a template added since is copied.

    Example:
        >>> import tempfile
        >>> sorted(p.name for p in working_copy(tempfile.mkdtemp()).glob("*.ipynb"))[0]
        '01_triage.ipynb'
    """
    if not templates.is_dir():
        msg = (f"No template notebooks at {str(templates)!r}: run `workbench lab` from a "
               "clone of the repository (the templates live in its notebooks/ folder).")
        raise CaseError(msg)
    out = Path(case_dir) / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    for nb in sorted(templates.glob("*.ipynb")):
        if not (out / nb.name).exists():
            shutil.copyfile(nb, out / nb.name)
    return out


def lab_args(root: Path, *, port: int | None = None, token: str | None = None,
             open_browser: bool = True) -> list[str]:
    """Command line for an offline JupyterLab on 127.0.0.1 serving `root`.

    No news feed, no update check, no news toast (settings in `LAB_SETTINGS`).

    Example:
        >>> "--LabApp.news_url=None" in lab_args(Path("."))
        True
    """
    args = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.allow_remote_access=False",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            f"--LabApp.app_settings_dir={LAB_SETTINGS}",
            "--ServerApp.open_browser=" + ("True" if open_browser else "False")]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--ServerApp.allow_root=True")  # containers run as root; still loopback
    if port is not None:
        args.append(f"--ServerApp.port={port}")
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    return args


def case_path(directory: str | os.PathLike[str]) -> Path:
    """The case file inside a demo folder; a clear error when it has not been built."""
    path = Path(directory) / CASE_FILE
    if not path.exists():
        msg = (f"No case at {str(path)!r}: the demo case has not been built. Run `make demo` "
               f"first (or `workbench demo --dir {directory}`), then `make lab`.")
        raise CaseError(msg)
    return path.resolve()


@cli.command()
@click.option("--dir", "directory", default="demo", show_default=True, type=click.Path(),
              help="Folder holding case.duckdb (as made by `workbench demo`).")
@click.option("--port", type=int, default=None, help="Port on 127.0.0.1 (default: Jupyter's).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
def lab(directory: str, port: int | None, no_browser: bool) -> None:
    """Start JupyterLab on loopback, offline, in the case's folder, on a working copy of the
    template notebooks, with WORKBENCH_CASE set to the case."""
    path = case_path(directory)
    notebooks = working_copy(path.parent)
    env = {**os.environ, "WORKBENCH_CASE": str(path)}
    click.echo(f"workbench lab: case {path}; working copies of the templates in {notebooks} "
               "(outputs stay there, the templates stay clean)")
    args = lab_args(path.parent, port=port, open_browser=not no_browser)
    args.append("--ServerApp.default_url=/lab/tree/notebooks/01_triage.ipynb")
    os.execve(args[0], args, env)
