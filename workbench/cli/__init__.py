"""The `workbench` command. Each area's commands live in their own module of this package.

Errors the workbench raises on purpose print as one line on stderr with a non-zero exit.
"""

from __future__ import annotations

import sys

import click

from workbench.errors import WorkbenchError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except WorkbenchError as exc:
            click.echo(f"workbench: error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="distillation-workbench")
def cli() -> None:
    """Investigate illicit model distillation in LLM API logs."""


def _register() -> None:
    # Each module adds its commands to `cli` on import; a missing area simply adds none.
    import importlib

    for name in ("case", "simulate", "detect", "campaigns", "report", "lab", "demo"):
        try:
            importlib.import_module(f"workbench.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"workbench.cli.{name}":
                raise


def main() -> None:
    """Entry point of the `workbench` console script."""
    _register()
    cli()
