"""Cohorts: the groups of accounts that cohort detectors judge as a whole.

An operation that keeps each account weak (a hydra network's short-lived accounts, each with a
few requests and ordinary chat beside the harvesting) is visible only as a group. Two tables,
both rebuilt on every run of the pipeline:

- `account_profiles`: one row per account, the totals the cohort detectors pool (requests,
  lifetimes, harvesting flags, thinking and long-output requests, tokens), from one pass over
  `requests` joined to `features` (`sql/cohorts/profiles.sql`);
- `cohorts`: which accounts share what (`sql/cohorts/members.sql`): a linking community, an
  org, a payment fingerprint, an IP prefix that carries a real share of an account's traffic
  (`prefix_share` of its requests, and 3 of them or half, whichever is fewer),
  an access path with its client fingerprint, a sign-up burst on one path and email domain, a
  set of tools (one agent harness, whatever path carries it).
  Cohorts smaller than `[cohorts] min_accounts` or larger than `max_accounts` (hubs) are left
  out.

Cohort detectors (`queries/cohort/*.sql`, `requires: cohorts`) read these two tables, so their
cost is bounded by the number of accounts, not of requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbench.schema import ACCOUNT_PROFILES, COHORTS

if TYPE_CHECKING:
    import duckdb

    from workbench.config import RiskConfig

SQL = Path(__file__).parent / "sql" / "cohorts"
#: The stand-in for linking's `_member` when there are no communities (no linking ran).
_NO_MEMBERS = "(select ''::VARCHAR as account_id, ''::VARCHAR as campaign_id limit 0)"


def build_profiles(con: duckdb.DuckDBPyConnection) -> int:
    """Replace `account_profiles` from `requests` and `features`; return its rows."""
    # derived, so recreated rather than emptied: a case made by an older version gets the
    # current columns
    con.execute("DROP TABLE IF EXISTS account_profiles")
    con.execute(ACCOUNT_PROFILES.ddl())
    row = con.execute("INSERT INTO account_profiles BY NAME "
                      + (SQL / "profiles.sql").read_text()).fetchone()
    return int(row[0]) if row else 0


def build_cohorts(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> int:
    """Replace `cohorts` from the profiles, the accounts and linking's communities.

    Reads the temp table `_member` (account_id, campaign_id) of `workbench.linking` when it
    exists on this connection. Returns the number of cohorts.

    Example:
        >>> import workbench as wb
        >>> from workbench.config import RiskConfig
        >>> with wb.open().connect(write=True) as con:
        ...     build_profiles(con), build_cohorts(con, RiskConfig.load())
        (0, 0)
    """
    rules = config.cohorts
    has_member = bool(con.sql("select count(*) from duckdb_tables() "
                              "where table_name = '_member' and temporary").fetchall()[0][0])
    member = "_member" if has_member else _NO_MEMBERS
    con.execute("DROP TABLE IF EXISTS cohorts")
    con.execute(COHORTS.ddl())
    sql = (SQL / "members.sql").read_text().replace("{member}", member)  # our own SQL
    con.execute("INSERT INTO cohorts BY NAME " + sql,
                {"min_accounts": rules.min_accounts, "max_accounts": rules.max_accounts,
                 "prefix_share": rules.prefix_share, "kinds": list(rules.kinds),
                 "signup_hours": rules.signup_hours})
    return int(con.sql("select count(distinct cohort_id) from cohorts").fetchall()[0][0])
