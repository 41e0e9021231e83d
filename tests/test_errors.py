"""Error messages quote the bad value and offer the closest name."""

from __future__ import annotations

import pytest

from workbench.errors import UnknownNameError, WorkbenchError, did_you_mean, unknown


@pytest.mark.parametrize(
    ("value", "known", "expected"),
    [
        ("cot_elicitaton", ["cot_elicitation", "rubric_grading"], " Did you mean cot_elicitation?"),
        ("zzzz", ["cot_elicitation"], ""),
        ("Rubric_Grading", ["rubric_grading"], " Did you mean rubric_grading?"),
    ],
)
def test_did_you_mean(value: str, known: list[str], expected: str) -> None:
    assert did_you_mean(value, known) == expected


def test_unknown_lists_known_names_and_is_a_workbench_error() -> None:
    err = unknown("format", "litelm", ["native", "litellm", "otel"])
    assert isinstance(err, UnknownNameError)
    assert isinstance(err, WorkbenchError)
    assert str(err) == (
        "Unknown format 'litelm'. Did you mean litellm? Known: litellm, native, otel.")


def test_unknown_quotes_hostile_value_verbatim() -> None:
    err = unknown("campaign", "<script>x</script>", ["camp-1"])
    assert "'<script>x</script>'" in str(err)
