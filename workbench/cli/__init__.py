"""The `workbench` command. Each area's commands live in their own module of this package.

Every error prints as one line on stderr with a non-zero exit, never a traceback: the
workbench's own errors as they are, an operating-system error (disk full, a read-only
filesystem, a folder that cannot be written) with the file and what to do, a DuckDB error by
its first line. `WORKBENCH_DEBUG=1` shows the traceback of an unexpected one.
"""

from __future__ import annotations

import errno
import os
import sys

import click

from workbench.errors import WorkbenchError

_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free space, or write the case elsewhere",
    errno.EROFS: "the filesystem is read-only: write the case or output elsewhere",
    errno.EACCES: "permission denied: choose a folder you can write to",
    errno.EPERM: "permission denied: choose a folder you can write to",
    errno.ENOENT: "no such file or folder: check the path",
}


def one_line(exc: BaseException) -> str:
    """The one line the CLI prints for an error.

    Example:
        >>> one_line(OSError(30, "Read-only file system", "/c.duckdb"))
        "Read-only file system: '/c.duckdb' (the filesystem is read-only: write the case ...)."
    """
    if isinstance(exc, WorkbenchError):
        return str(exc).replace("\n", " ")
    if isinstance(exc, OSError):
        where = f": {exc.filename!r}" if exc.filename else ""
        hint = _OS_HINTS.get(exc.errno or 0)
        return f"{exc.strerror or exc}{where}{f' ({hint})' if hint else ''}."
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    low = first.lower()
    if "no space left" in low or "disk is full" in low:
        return f"{first} (the disk is full: free space, or write the case elsewhere)."
    if "read-only file system" in low:
        return f"{first} (the filesystem is read-only: write the case elsewhere)."
    if "permission denied" in low:
        return f"{first} (choose a folder you can write to)."
    return f"{type(exc).__name__}: {first}"


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("workbench: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
            if os.environ.get("WORKBENCH_DEBUG") and not isinstance(exc, WorkbenchError):
                raise
            click.echo(f"workbench: error: {one_line(exc)}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="distillation-workbench")
def cli() -> None:
    """Investigate illicit model distillation in LLM API logs."""


def _register() -> None:
    # Each module adds its commands to `cli` on import; a missing area simply adds none.
    import importlib

    for name in ("case", "simulate", "detect", "campaigns", "report", "lab", "demo", "audit"):
        try:
            importlib.import_module(f"workbench.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"workbench.cli.{name}":
                raise


def main() -> None:
    """Entry point of the `workbench` console script."""
    _register()
    cli()
