"""What the investigation found, read back: leads and campaigns, riskiest first.

The read side of `leads` and `campaigns` (written by `workbench.scoring` through
`workbench.pipeline`), for the CLI, the widgets and the hand-over products, none of which
import detection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.config import LEAD_LEVELS
from workbench.errors import unknown

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case

__all__ = ["LEAD_LEVELS", "campaigns", "check_level", "leads"]


def check_level(min_level: str | None) -> str | None:
    """The level itself when it is a lead level (or None); else the 'Unknown level' error.

    Example:
        >>> check_level("high")
        'high'
    """
    if min_level is not None and min_level not in LEAD_LEVELS:
        err = unknown("level", min_level, LEAD_LEVELS)
        raise err
    return min_level


def leads(case: Case, min_level: str | None = None) -> pl.DataFrame:
    """Leads ordered by risk (highest first), optionally only those at `min_level` or above.

    Example:
        >>> import workbench as wb
        >>> leads(wb.open(), min_level="high").columns
        ['account_id', 'campaign_id', 'risk', 'level', 'reasons']
    """
    check_level(min_level)
    wanted = list(LEAD_LEVELS[LEAD_LEVELS.index(min_level):]) if min_level else list(LEAD_LEVELS)
    return case.sql("select * from leads where list_contains($levels, level) "
                    "order by risk desc, account_id", levels=wanted)


def campaigns(case: Case) -> pl.DataFrame:
    """Campaigns ordered by risk (highest first), then by size.

    Example:
        >>> import workbench as wb
        >>> campaigns(wb.open()).height
        0
    """
    return case.sql("select * from campaigns order by risk desc, accounts desc, campaign_id")
