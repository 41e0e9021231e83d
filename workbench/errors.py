"""Errors the workbench raises: each message quotes the bad value, states the rule, offers a fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WorkbenchError(Exception):
    """Base class: every error the workbench raises on purpose."""


class CaseError(WorkbenchError):
    """The case file is missing, locked by another writer, or not a case database."""


class CaseLockedError(CaseError):
    """Another process holds the case file's write lock for longer than we were willing to wait."""


class LoadError(WorkbenchError):
    """An input file cannot be loaded at all (missing, unreadable, unknown format)."""


class UnknownNameError(WorkbenchError):
    """A detector, parameter, format, campaign or account name is not known."""


class ParameterError(WorkbenchError):
    """A parameter value is missing, undeclared or of the wrong type."""


class CatalogueError(WorkbenchError):
    """A detector file is malformed: bad header, bad params, or SQL that does not bind."""


class MissingDependencyError(WorkbenchError):
    """An optional dependency is not installed; the message gives the install command."""


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """Return ' Did you mean X?' for the closest known name, or '' when nothing is close.

    Example:
        >>> did_you_mean("cot_elicitaton", ["cot_elicitation", "rubric_grading"])
        ' Did you mean cot_elicitation?'
    """
    matches = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" Did you mean {matches[0]}?" if matches else ""


def unknown(kind: str, value: str, known: Iterable[str]) -> UnknownNameError:
    """Build the standard 'Unknown <kind>' error with a suggestion and the known names.

    Example:
        >>> str(unknown("format", "jsonl2", ["native", "litellm"]))
        "Unknown format 'jsonl2'. Known: litellm, native."
    """
    names = sorted(set(known))
    hint = did_you_mean(value, names)
    listing = f" Known: {', '.join(names)}." if len(names) <= 30 else ""
    return UnknownNameError(f"Unknown {kind} {value!r}.{hint}{listing}")
