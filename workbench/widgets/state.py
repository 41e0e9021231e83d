"""The investigation state that the triage board and the trace share, as traitlets.

One `InvestigationState` is the single source of truth: the actor under study, the time
window brushed on the timeline, the drill-down filters and the selected requests. Widgets
observe it and write to it; none keeps a private copy, so every panel stays in step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import traitlets

from workbench.errors import ParameterError

ENTITY_TYPES = ("account", "campaign")
# Columns a drill-down may filter the actor's requests on (names are ours, values are bound).
FILTER_COLUMNS = ("account_id", "model", "capability", "template_id", "access_path",
                  "ip_prefix", "request_id")


def to_utc(value: Any) -> datetime:
    """A timezone-aware UTC datetime from a datetime, epoch milliseconds or an ISO string.

    Vega sends brushed temporal bounds as epoch milliseconds (or ISO strings once JSON-encoded).

    Example:
        >>> to_utc(0).isoformat()
        '1970-01-01T00:00:00+00:00'
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    msg = (f"Cannot read {value!r} as a time: give a datetime, epoch milliseconds or an "
           "ISO 8601 string.")
    raise ParameterError(msg)


class InvestigationState(traitlets.HasTraits):
    """What the investigator is looking at; every widget observes and updates it.

    Example:
        >>> s = InvestigationState(entity_type="account", entity_id="acct-1")
        >>> s.set_window(0, 3_600_000)
        >>> s.window[1].isoformat()
        '1970-01-01T01:00:00+00:00'
    """

    entity_type = traitlets.Unicode("", help="account or campaign")
    entity_id = traitlets.Unicode("", help="id of the actor under study")
    window = traitlets.Any(None, allow_none=True, help="(start, end) UTC datetimes, or None")
    filters = traitlets.Dict(help="drill-down filters: column -> value")
    selected_requests = traitlets.List(traitlets.Unicode(), help="request ids picked")

    @traitlets.validate("entity_type")
    def _check_entity_type(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if value and value not in ENTITY_TYPES:
            from workbench.errors import unknown

            err = unknown("entity type", value, ENTITY_TYPES)
            raise err
        return str(value)

    @traitlets.validate("filters")
    def _check_filters(self, proposal: dict[str, Any]) -> dict[str, Any]:
        value = dict(proposal["value"])
        for key in value:
            if key not in FILTER_COLUMNS:
                from workbench.errors import unknown

                err = unknown("filter column", key, FILTER_COLUMNS)
                raise err
        return value

    @traitlets.validate("window")
    def _check_window(self, proposal: dict[str, Any]) -> tuple[datetime, datetime] | None:
        value = proposal["value"]
        if value is None:
            return None
        start, end = (to_utc(v) for v in value)
        if end < start:
            start, end = end, start
        return (start, end)

    def set_actor(self, entity_type: str, entity_id: str) -> None:
        """Switch to another actor; the window, filters and selection start afresh."""
        with self.hold_trait_notifications():
            self.window = None
            self.filters = {}
            self.selected_requests = []
            self.entity_type = entity_type
            self.entity_id = entity_id

    def set_window(self, start: Any, end: Any) -> None:
        """Narrow every panel to [start, end)."""
        self.window = (start, end)

    def clear_window(self) -> None:
        """Show the actor's whole time span again."""
        self.window = None
