"""Options of one load that reach the staging SQL: where the account comes from.

Values reach SQL only as DuckDB variables set with bound parameters (`SET VARIABLE`), never
formatted into the query text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from workbench.errors import LoadError

_SEGMENT = re.compile(r'[^"\\\x00-\x1f.]+')

# Macros that read the options (installed on every staging connection).
MACROS = [
    # Follow a dotted path into a JSON value; a string holding a JSON object (a CSV export's
    # JSON column) is entered as the object it spells.
    "create or replace temp macro wb_path(j, segs) as list_reduce(segs, lambda acc, s: "
    "json_extract(case when left(acc::VARCHAR, 1) = '\"' and json_valid(acc->>'$') then "
    "json(acc->>'$') else acc end, '$.\"' || s || '\"'), j::JSON)",
    # The account fragment: --account-from's field or value when given, else the format's own.
    "create or replace temp macro wb_account(dflt, raw) as case getvariable('wb_acct_mode') "
    "when 'path' then wb_path(raw, getvariable('wb_acct_path')) "
    "when 'literal' then to_json(getvariable('wb_acct_value')) else dflt end",
]


@dataclass(frozen=True)
class Options:
    """`account_from`: a field of the record (dotted path; for OTel an attribute name), or
    `=ID` for one account for every record."""

    account_from: str | None = None

    def __post_init__(self) -> None:
        a = self.account_from
        if a is None:
            return
        if a.startswith("="):
            if not a[1:].strip():
                msg = "--account-from '=' gives no account id: write --account-from =ACCOUNT_ID."
                raise LoadError(msg)
            return
        if not all(_SEGMENT.fullmatch(s) for s in a.split(".")):
            msg = (f"--account-from {a!r} is not a field name: give a field of the records "
                   "(e.g. metadata.user_api_key_alias, or an attribute such as enduser.id "
                   "for OpenTelemetry), or =ACCOUNT_ID for one account.")
            raise LoadError(msg)

    @property
    def mode(self) -> str | None:
        if self.account_from is None:
            return None
        return "literal" if self.account_from.startswith("=") else "path"

    def hint(self, default: str) -> str:
        """The fields tried for the account, for the missing-field detail."""
        if self.account_from is None:
            return default
        return f"--account-from {self.account_from}"

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """Set the option variables on a staging connection (values bound, not formatted)."""
        a = self.account_from
        path = a.split(".") if self.mode == "path" and a else []
        con.execute("SET VARIABLE wb_acct_mode = $m::VARCHAR", {"m": self.mode}).fetchall()
        con.execute("SET VARIABLE wb_acct_path = $p::VARCHAR[]", {"p": path}).fetchall()
        con.execute("SET VARIABLE wb_acct_attr = $p::VARCHAR",
                    {"p": a if self.mode == "path" else None}).fetchall()
        con.execute("SET VARIABLE wb_acct_value = $v::VARCHAR",
                    {"v": a[1:] if self.mode == "literal" and a else None}).fetchall()
