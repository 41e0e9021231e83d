"""Indicators of one campaign, to block and to share: as CSV, JSON or a STIX 2.1 bundle.

An indicator is a value the campaign's accounts used: the accounts themselves, their orgs, API
keys, payment fingerprints, IP prefixes, user agents and prompt templates. Each comes with when
it was first and last seen, how many of the campaign's accounts and requests used it, how many
accounts *outside* the campaign used it too (a prefix shared with a university NAT is a poor
block rule), the detectors behind it (findings on the value itself, on the campaign accounts
that used it, or on a cohort of that value or that those accounts took part in) and the
account-link kinds that rest on it. A prompt template counts once the
campaign repeated it (3 requests, or 2 of its accounts): a one-off prompt identifies nothing.

In STIX, user agents and IP prefixes use standard observables (`network-traffic` HTTP headers,
`ipv4-addr` / `ipv6-addr` with ISSUBSET); billing accounts use `user-account`; orgs, API keys,
payment fingerprints and templates have no STIX observable, so their patterns name custom
`x-llm-*` object types and say so in the indicator's description.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.errors import unknown

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case

FORMATS = ("csv", "frame", "json", "stix")
MIN_TEMPLATE_REQUESTS = 3  # or used by two campaign accounts
TYPES = ("account", "org", "api_key", "payment_fingerprint", "ip_prefix", "user_agent",
         "template")
# Names other parts of the workbench may give the same entity in findings.entity_type.
_ENTITY_ALIASES = {"template_id": "template", "account_id": "account", "org_id": "org",
                   "api_key_id": "api_key", "payment": "payment_fingerprint"}
_LINK_KINDS = {"payment": "payment_fingerprint", "ip_prefix_hour": "ip_prefix",
               "lockstep_template": "template"}
# Cohort kinds (workbench/sql/cohorts/members.sql) whose shared value is an indicator type.
_COHORT_KINDS = {"payment": "payment_fingerprint", "ip_prefix": "ip_prefix", "org": "org"}
# Deterministic STIX ids: the same campaign and value give the same id in every export.
_NAMESPACE = uuid.UUID("6c1f7b3e-2d4a-5e8f-9b0c-1a2b3c4d5e6f")

_QUERY = """
with members as (
    select account_id from leads where campaign_id = $campaign
),
wide as (
    select r.ts, r.account_id, r.account_id as account, r.org_id as org, r.api_key_id as api_key,
           a.payment_fingerprint, r.ip_prefix, r.user_agent, f.template_id as template
    from requests r
    left join accounts a using (account_id)
    left join features f using (request_id)
),
obs as materialized (
    unpivot wide on account, org, api_key, payment_fingerprint, ip_prefix, user_agent, template
    into name type value value
),
mine as (
    select type, value, count(*) as requests, count(distinct account_id) as accounts,
           min(ts) as first_seen, max(ts) as last_seen
    from obs semi join members using (account_id)
    group by all
    -- A template is an indicator once repeated: a one-off prompt identifies nothing.
    having type <> 'template' or count(*) >= $min_template_requests
        or count(distinct account_id) >= 2
),
used as (
    select distinct o.type, o.value, o.account_id from obs o
    semi join members using (account_id)
    semi join mine m on o.type = m.type and o.value = m.value
),
outside as (
    select o.type, o.value, count(distinct o.account_id) as outside_accounts
    from obs o semi join mine m on o.type = m.type and o.value = m.value
    anti join members using (account_id)
    group by all
),
fnd as (
    select coalesce(map_extract_value(map($alias_from, $alias_to), entity_type), entity_type)
             as type,
           entity_id as value, detector
    from findings
    where entity_type <> 'cohort'
    union all
    -- a cohort finding stands on its cohort's shared value (a card, a prefix, an org) ...
    select map_extract_value(map($cohort_from, $cohort_to),
                             json_extract_string(evidence, '$.kind')),
           json_extract_string(evidence, '$.value'), detector
    from findings
    where entity_type = 'cohort'
    union all
    -- ... and reaches the members its evidence names as taking part
    select 'account', unnest(json_extract_string(evidence, '$.members[*]')), detector
    from findings
    where entity_type = 'cohort'
),
det as (
    select m.type, m.value, f.detector
    from mine m join fnd f on f.type = m.type and f.value = m.value
    union
    select u.type, u.value, f.detector
    from used u join fnd f on f.type = 'account' and f.value = u.account_id
),
lnk as (
    select map_extract_value(map($link_from, $link_to), l.kind) as type, l.value, l.kind
    from account_links l
    semi join members s on s.account_id = l.src
    semi join members d on d.account_id = l.dst
),
final as (
    select m.type, m.value, m.first_seen, m.last_seen, m.accounts, m.requests,
           coalesce(o.outside_accounts, 0) as outside_accounts,
           coalesce((select list(distinct detector order by detector) from det
                     where det.type = m.type and det.value = m.value), []) as detectors,
           coalesce((select list(distinct kind order by kind) from lnk
                     where lnk.type = m.type and lnk.value = m.value), []) as link_kinds
    from mine m left join outside o using (type, value)
)
select * from final
order by array_position($types, type), accounts desc, requests desc, value
"""


def indicators(case: Case, campaign: str, format: str = "json",
               redact: bool | str | bytes = False) -> Any:
    """Indicators of one campaign: a CSV or JSON string, a STIX 2.1 bundle (JSON string), or
    with `format="frame"` a polars DataFrame.

    Only the campaign's own accounts and the values they used appear; a value that accounts
    outside the campaign used too says how many (`outside_accounts`, `safe_to_block` false),
    never which. `redact=True` (the case's key) or `redact="passphrase"` replaces e-mails, IPs
    and payment fingerprints with keyed hashes (`workbench.privacy`), for sharing between
    providers.

    Raises UnknownNameError (with "Did you mean …") for a campaign id not in `campaigns`, and for
    an unknown format.

    Example:
        >>> import workbench as wb
        >>> indicators(wb.open(), "camp-1")
        Traceback (most recent call last):
        ...
        workbench.errors.UnknownNameError: Unknown campaign 'camp-1'. Known: .
    """
    if format not in FORMATS:
        err = unknown("indicator format", format, FORMATS)
        raise err
    check_campaign(case, campaign)
    frame = case.sql(_QUERY, campaign=campaign, types=list(TYPES),
                     min_template_requests=MIN_TEMPLATE_REQUESTS,
                     alias_from=list(_ENTITY_ALIASES), alias_to=list(_ENTITY_ALIASES.values()),
                     link_from=list(_LINK_KINDS), link_to=list(_LINK_KINDS.values()),
                     cohort_from=list(_COHORT_KINDS), cohort_to=list(_COHORT_KINDS.values()))
    frame = frame.with_columns(safe_to_block=frame["outside_accounts"] == 0)
    if redact is not False:
        frame = _redact(case, campaign, frame, None if redact is True else redact)
    if format == "frame":  # a value in the notebook (and the report's input), not a hand-over
        return frame
    case.audit("indicators", campaign=campaign, format=format, redacted=redact is not False,
               values=frame.height)
    if format == "csv":
        return _csv(frame)
    if format == "json":
        return json.dumps({"campaign_id": campaign, "generated_at": _now().isoformat(),
                           "indicators": frame.to_dicts()}, default=_iso, indent=1,
                          ensure_ascii=False)
    return stix_bundle(case, campaign, frame)


def _redact(case: Case, campaign: str, frame: pl.DataFrame,
            key: str | bytes | None) -> pl.DataFrame:
    """Values of e-mail, IP and payment kinds as keyed hashes; other values' free text too."""
    import polars as pl

    from workbench.privacy import redactor

    r = redactor(case, campaign, key)
    values = [r.value(t, v) for t, v in frame.select("type", "value").iter_rows()]
    return frame.with_columns(value=pl.Series(values, dtype=pl.String))


def check_campaign(case: Case, campaign: str) -> dict[str, Any]:
    """The campaign's row from `campaigns`, or UnknownNameError naming the closest id."""
    row = case.sql("select * from campaigns where campaign_id = $c", c=campaign)
    if row.height == 0:
        known = case.sql("select campaign_id from campaigns")["campaign_id"].to_list()
        err = unknown("campaign", campaign, known)
        raise err
    return row.row(0, named=True)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _csv(frame: pl.DataFrame) -> str:
    # Every field quoted, every line of a value guarded against formulas (workbench.safe).
    from workbench.safe import frame_csv

    return frame_csv(frame)


def _quote(value: str) -> str:
    """A STIX pattern string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stix_pattern(type_: str, value: str) -> tuple[str, bool]:
    """STIX pattern for one indicator, and whether it names a custom (`x-`) object type.

    Example:
        >>> stix_pattern("ip_prefix", "203.0.113.0/24")
        ("[ipv4-addr:value ISSUBSET '203.0.113.0/24']", False)
    """
    q = _quote(value)
    if type_ == "account":
        return f"[user-account:user_id = {q}]", False
    if type_ == "user_agent":
        return (f"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' "
                f"= {q}]"), False
    if ":" in value and value.split(":", 1)[0] in ("ip", "pay", "email") and \
            type_ in ("ip_prefix", "payment_fingerprint"):
        # A keyed hash from `redact`: no standard observable holds one.
        return f"[x-llm-redacted:hmac_sha256 = {q}]", True
    if type_ == "ip_prefix":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"[x-llm-ip-prefix:value = {q}]", True
        kind = "ipv4-addr" if net.version == 4 else "ipv6-addr"
        return f"[{kind}:value ISSUBSET {_quote(str(net))}]", False
    custom = {"org": "x-llm-org:id", "api_key": "x-llm-api-key:id",
              "payment_fingerprint": "x-llm-payment-method:fingerprint",
              "template": "x-llm-prompt-template:template_id"}[type_]
    return f"[{custom} = {q}]", True


def stix_bundle(case: Case, campaign: str, frame: pl.DataFrame | None = None) -> str:
    """A STIX 2.1 bundle: the producer's identity, a campaign object, one indicator per value
    and an `indicates` relationship from each indicator to the campaign."""
    import stix2

    info = check_campaign(case, campaign)
    if frame is None:
        frame = indicators(case, campaign, format="frame")
    now = _now()

    def sid(kind: str, *parts: str) -> str:
        return f"{kind}--{uuid.uuid5(_NAMESPACE, chr(31).join((campaign, *parts)))}"

    identity = stix2.Identity(id=sid("identity", "workbench"), name="distillation workbench",
                              identity_class="system", created=now, modified=now)
    camp = stix2.Campaign(
        id=sid("campaign"), created=now, modified=now, created_by_ref=identity.id,
        name=f"Model distillation campaign {campaign}",
        description=(f"Accounts linked into one operation harvesting model outputs: "
                     f"{info['accounts']} accounts, {info['requests']} requests, "
                     f"level {info['level']}, risk {info['risk']:.2f}."),
        first_seen=info["first_seen"], last_seen=info["last_seen"],
        objective="Harvest model outputs (distillation)")
    objects: list[Any] = [identity, camp]
    for row in frame.iter_rows(named=True):
        pattern, custom = stix_pattern(row["type"], row["value"])
        shared = row["outside_accounts"] > 0
        desc = (f"{row['type']} used by {row['accounts']} campaign accounts in "
                f"{row['requests']} requests; "
                + (f"SHARED: also used by {row['outside_accounts']} accounts outside the "
                   "campaign (not named), so blocking it would hit them. " if shared else
                   "used by no account outside the campaign (safe to block). ")
                + f"Detectors: {', '.join(row['detectors']) or 'none'}. "
                f"Links: {', '.join(row['link_kinds']) or 'none'}.")
        if custom:
            desc += " The pattern names a custom x-llm object type: no STIX observable exists."
        ind = stix2.Indicator(
            id=sid("indicator", row["type"], row["value"]), created=now, modified=now,
            created_by_ref=identity.id, name=f"{row['type']} of campaign {campaign}",
            description=desc, pattern=pattern, pattern_type="stix",
            valid_from=row["first_seen"],
            indicator_types=["anomalous-activity" if shared else "malicious-activity"],
            labels=list(row["detectors"]) or None)
        rel = stix2.Relationship(id=sid("relationship", row["type"], row["value"]), created=now,
                                 modified=now, created_by_ref=identity.id,
                                 relationship_type="indicates", source_ref=ind.id,
                                 target_ref=camp.id)
        objects += [ind, rel]
    # stix2's own pretty printer is quadratic in the bundle size; each object is serialised by
    # stix2 (validated on construction) and the bundle is assembled around them.
    bundle = {"type": "bundle", "id": sid("bundle", now.isoformat()),
              "objects": [json.loads(o.serialize()) for o in objects]}
    return json.dumps(bundle, indent=1, ensure_ascii=False)
