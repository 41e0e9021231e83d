"""Pivots: from one value (an IP prefix, a payment fingerprint, a user agent, an e-mail
domain, an org, a prompt template, a system prompt) to every account and campaign that used it.

The question an investigator asks of every indicator: who else? `pivot` answers it with the
accounts, their campaigns and levels, and when each used the value; `pivot_summary` with the
counts. The value is bound, the column comes from the fixed `KINDS` table. These are internal
views (they name every account): the hand-over products count outside accounts instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.errors import unknown

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case

# kind -> SQL giving (account_id, ts) of every use of $v. Columns and tables are ours.
KINDS: dict[str, str] = {
    "account": "select account_id, ts from requests where account_id = $v",
    "api_key": "select account_id, ts from requests where api_key_id = $v",
    "email_domain": ("select r.account_id, r.ts from requests r semi join accounts a "
                     "on a.account_id = r.account_id and a.email_domain = $v"),
    "ip_prefix": "select account_id, ts from requests where ip_prefix = $v",
    "client_ip": "select account_id, ts from requests where client_ip = $v",
    "org": "select account_id, ts from requests where org_id = $v",
    "payment_fingerprint": ("select r.account_id, r.ts from requests r semi join accounts a "
                            "on a.account_id = r.account_id and a.payment_fingerprint = $v"),
    "system_prompt": ("select account_id, ts from requests where system_hash = $v or "
                      "request_id in (select request_id from request_content "
                      "where system_prompt = $v)"),
    "template": ("select r.account_id, r.ts from requests r semi join features f "
                 "on f.request_id = r.request_id and f.template_id = $v"),
    "user_agent": "select account_id, ts from requests where user_agent = $v",
}
# Other names the workbench gives the same kinds (indicator types, link kinds, columns).
ALIASES = {"org_id": "org", "api_key_id": "api_key", "payment": "payment_fingerprint",
           "ip_prefix_hour": "ip_prefix", "template_id": "template",
           "lockstep_template": "template", "system_hash": "system_prompt",
           "account_id": "account"}
MAX_ACCOUNTS = 10_000

_PIVOT = """
with uses as ({uses}),
per as (
    select account_id, count(*)::BIGINT as requests, min(ts) as first_seen, max(ts) as last_seen
    from uses group by account_id
),
-- Accounts known from the accounts table that never sent a request still count.
registered as ({registered}),
final as (
    select coalesce(p.account_id, g.account_id) as account_id, l.campaign_id, l.level, l.risk,
           coalesce(p.requests, 0) as requests, p.first_seen, p.last_seen
    from per p full join registered g using (account_id)
    left join leads l on l.account_id = coalesce(p.account_id, g.account_id)
)
select * from final
order by campaign_id nulls last, risk desc nulls last, requests desc, account_id
limit $n
"""
_REGISTERED = {
    "email_domain": "select account_id from accounts where email_domain = $v",
    "payment_fingerprint": "select account_id from accounts where payment_fingerprint = $v",
    "org": "select account_id from accounts where org_id = $v",
    "account": "select account_id from accounts where account_id = $v",
}


def kind_of(kind: str) -> str:
    """The pivot kind for a kind, indicator type or link kind name (or UnknownNameError).

    Example:
        >>> kind_of("ip_prefix_hour"), kind_of("payment")
        ('ip_prefix', 'payment_fingerprint')
    """
    k = ALIASES.get(kind, kind)
    if k not in KINDS:
        err = unknown("pivot kind", kind, KINDS)
        raise err
    return k


def pivot(case: Case, kind: str, value: str, limit: int = MAX_ACCOUNTS) -> pl.DataFrame:
    """Every account that used `value` of `kind`: campaign, level, risk, requests, first and
    last use; campaign members first, riskiest first.

    Example:
        >>> import workbench as wb
        >>> pivot(wb.open(), "ip_prefix", "203.0.113.0/24").columns
        ['account_id', 'campaign_id', 'level', 'risk', 'requests', 'first_seen', 'last_seen']
    """
    k = kind_of(kind)
    registered = _REGISTERED.get(k, "select null::VARCHAR as account_id limit 0")
    return case.sql(_PIVOT.format(uses=KINDS[k], registered=registered), v=value, n=limit)


def pivot_summary(case: Case, kind: str, value: str) -> dict[str, Any]:
    """Counts behind a pivot: accounts, requests, first and last seen, and each campaign with
    how many of its accounts used the value.

    Example:
        >>> import workbench as wb
        >>> pivot_summary(wb.open(), "template", "t-1")["accounts"]
        0
    """
    df = pivot(case, kind, value)
    campaigns = (df.filter(df["campaign_id"].is_not_null()).group_by("campaign_id").len()
                 .sort("len", "campaign_id", descending=[True, False]))
    return {
        "kind": kind_of(kind), "value": value, "accounts": df.height,
        "requests": int(df["requests"].sum() or 0),
        "first_seen": df["first_seen"].min(), "last_seen": df["last_seen"].max(),
        "campaigns": dict(campaigns.iter_rows()),
        "outside_any_campaign": int(df["campaign_id"].is_null().sum()),
    }
