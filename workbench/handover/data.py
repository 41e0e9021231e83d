"""What an evidence report shows, read from the case: one query per section, bounded in size.

Kept apart from the rendering in `workbench.handover.report` so that the HTML and the Markdown
show the same facts. Every value is bound as `$name`; table names are ours.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from workbench.case import Case

MAX_ACCOUNTS = 100
MAX_LINKS = 50
MAX_INDICATORS = 300
MAX_SAMPLES = 8
MAX_REASONS = 10

_MEMBERS = "members as (select account_id from leads where campaign_id = $c)"

# The campaign accounts behind each shared value (the outside accounts are only counted).
_TOUCH = f"""
with {_MEMBERS},
wanted as (select unnest($types::VARCHAR[]) as type, unnest($values::VARCHAR[]) as value),
wide as (
    select r.account_id, r.org_id as org, r.api_key_id as api_key, a.payment_fingerprint,
           r.ip_prefix, r.user_agent, f.template_id as template
    from requests r semi join members using (account_id)
    left join accounts a using (account_id)
    left join features f using (request_id)
),
obs as (
    select distinct account_id, type, value from (
        unpivot (select *, account_id as account from wide)
        on account, org, api_key, payment_fingerprint, ip_prefix, user_agent, template
        into name type value value)
),
final as (
    select w.type, w.value, list(distinct o.account_id order by o.account_id) as accounts
    from wanted w join obs o using (type, value) group by all
)
select * from final
"""

_ACCOUNTS = f"""
with {_MEMBERS},
act as (
    select account_id, count(*) as requests,
           sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))::bigint as tokens,
           min(ts) as first_seen, max(ts) as last_seen,
           count(distinct ip_prefix) as ip_prefixes,
           list(distinct access_path order by access_path) as access_paths
    from requests semi join members using (account_id)
    group by account_id
),
final as (
    select l.account_id, l.level, l.risk, a.org_id, a.created_at, a.payment_fingerprint,
           a.email_domain, a.country, a.signup_path, a.verified,
           coalesce(act.requests, 0) as requests, coalesce(act.tokens, 0) as tokens,
           act.first_seen, act.last_seen, act.ip_prefixes, act.access_paths,
           count(*) over () as total
    from leads l
    left join accounts a using (account_id)
    left join act using (account_id)
    where l.campaign_id = $c
)
select * from final order by risk desc, requests desc, account_id limit $n
"""

_LINKS = f"""
with {_MEMBERS},
final as (
    select l.kind, l.value, l.src, l.dst, l.weight
    from account_links l
    semi join members s on s.account_id = l.src
    semi join members d on d.account_id = l.dst
)
"""
_LINK_KINDS = _LINKS + """
select kind, count(*) as edges, count(distinct value) as shared_values,
       round(avg(weight), 3) as mean_weight
from final group by kind order by edges desc, kind
"""
_TOP_LINKS = _LINKS + """
select *, count(*) over () as total from final order by weight desc, kind, src, dst limit $n
"""

_TIMELINE = f"""
with {_MEMBERS}
select date_trunc($unit, ts) as bucket, model, count(*) as requests
from requests semi join members using (account_id)
group by all order by bucket, model
"""

_DETECTORS = f"""
with {_MEMBERS},
hits as (
    select f.* from findings f semi join members m on f.entity_id = m.account_id
    where f.entity_type in ('account', 'account_id')
    union all by name
    select f.* from findings f
    where f.entity_type not in ('account', 'account_id', 'cohort')
      and list_contains($values, f.entity_id)
    union all by name
    -- a cohort finding reaches the members its evidence names as taking part
    select f.* from findings f
    where f.entity_type = 'cohort'
      and list_has_any(json_extract_string(f.evidence, '$.members[*]'),
                       (select list(account_id) from members))
),
final as (
    select detector, any_value(detector_id) as detector_id, any_value(version) as version,
           any_value(level) as level, any_value(run_id) as run_id,
           any_value(params::varchar) as params, count(distinct entity_id) as entities,
           string_agg(distinct entity_type, ', ' order by entity_type) as entity_types,
           max(score) as max_score, min(first_seen) as first_seen, max(last_seen) as last_seen,
           arg_max(evidence::varchar, score) as evidence, arg_max(entity_id, score) as top_entity
    from hits group by detector
)
select * from final order by max_score desc, detector
"""

_SAMPLES = f"""
with {_MEMBERS},
picked as (
    select r.request_id, r.ts, r.account_id, r.model, r.user_agent, r.prompt_text,
           r.output_text,
           row_number() over (partition by r.account_id
                              order by list_contains($examples, r.request_id) desc, r.ts)
             as nth
    from requests r semi join members using (account_id)
),
final as (
    select p.*, c.system_prompt from picked p left join request_content c using (request_id)
)
select * exclude (nth) from final order by nth, list_contains($examples, request_id) desc, ts
limit $n
"""


def gather(case: Case, campaign: str, info: dict[str, Any], ind: pl.DataFrame) -> dict[str, Any]:
    """Everything the report shows, as frames and dicts, sections capped at a readable size.

    Only the campaign's accounts are named: detector evidence and notes that name an account
    (or a request) outside the campaign show a placeholder instead (`workbench.privacy`).
    """
    with case.connect() as con:  # one connection for every section: opening one costs time
        def q(sql: str, **params: Any) -> pl.DataFrame:
            return con.sql(sql, params=params or None).pl()

        data = _gather(q, campaign, info, ind)
        _scrub(con, campaign, data)
        return data


_NOTE_IDS = """
with ids as (select account_id as v from accounts union select account_id from leads
             union select distinct account_id from requests)
select distinct v from ids, (select unnest($texts::VARCHAR[]) as t)
where v is not null and length(v) >= 4 and contains(t, v)
  and v not in (select account_id from leads where campaign_id = $c)
"""


def _scrub(con: Any, campaign: str, data: dict[str, Any]) -> None:
    """Replace every outside account or request id in evidence, top entities and notes."""
    import polars as pl

    from workbench.privacy import OUTSIDE_ACCOUNT, outsiders, scrub, strings_in

    parsed = []
    for det in data["detectors"]:
        try:
            parsed.append(json.loads(det["evidence"] or "null"))
        except ValueError:
            parsed.append(det["evidence"])
    reasons = [json.loads(r or "null") for r in data["reasons"]["reasons"].to_list()]
    replace = outsiders(con, campaign, strings_in(parsed, reasons, [d["top_entity"] for d in
                                                                    data["detectors"]]))
    data["reasons"] = data["reasons"].with_columns(reasons=pl.Series(
        [json.dumps(scrub(r, replace)) for r in reasons], dtype=pl.String))
    for det, ev in zip(data["detectors"], parsed, strict=True):
        det["evidence"] = json.dumps(scrub(ev, replace), ensure_ascii=False, sort_keys=True)
        det["top_entity"] = scrub(det["top_entity"], replace)
    notes = data["notes"]
    if notes.height:
        texts = [t for t in notes["note"].to_list() if t]
        hidden = {r[0]: OUTSIDE_ACCOUNT for r in
                  con.sql(_NOTE_IDS, params={"texts": texts, "c": campaign}).fetchall()}
        if hidden:
            from workbench.privacy import scrub_text

            data["notes"] = notes.with_columns(pl.col("note").map_elements(
                lambda t: scrub_text(t, hidden), return_dtype=pl.String))


def _gather(q: Any, c: str, info: dict[str, Any], ind: pl.DataFrame) -> dict[str, Any]:
    span = q("select min(ts) as first, max(ts) as last, count(*) as requests "
             "from requests").row(0, named=True)
    first, last = info["first_seen"], info["last_seen"]
    unit = "hour" if first is None or last - first <= timedelta(days=14) else "day"
    accounts = q(_ACCOUNTS, c=c, n=MAX_ACCOUNTS)
    links = q(_TOP_LINKS, c=c, n=MAX_LINKS)
    daily = q(f"""with {_MEMBERS}
        select date_trunc('day', ts)::date as day, model, count(*) as requests
        from requests semi join members using (account_id) group by all order by 1, 2""", c=c)
    releases = q("select model, released_at from model_releases "
                 "where released_at between $a and $b order by released_at",
                 a=first or datetime.max, b=last or datetime.min)
    detectors = q(_DETECTORS, c=c, values=ind["value"].to_list()).to_dicts()
    notes = q("""
        select entity_type, entity_id, tag, note, author, created_at from case_notes
        where (entity_type = 'campaign' and entity_id = $c)
           or (entity_type = 'account' and entity_id in
               (select account_id from leads where campaign_id = $c))
        order by created_at""", c=c)
    run_ids = sorted({d["run_id"] for d in detectors if d["run_id"]})
    shared = ind.filter(ind["outside_accounts"] > 0)
    touch = q(_TOUCH, c=c, types=shared["type"].to_list(), values=shared["value"].to_list())
    return {
        "reasons": q("select account_id, risk, reasons::VARCHAR as reasons from leads "
                     "where campaign_id = $c order by risk desc, account_id limit $n",
                     c=c, n=MAX_REASONS),
        "touch": touch,
        "campaign": info, "span": span, "bucket_unit": unit,
        "accounts": accounts.drop("total"),
        "accounts_total": int(accounts["total"][0]) if accounts.height else 0,
        "link_kinds": q(_LINK_KINDS, c=c),
        "links": links.drop("total"),
        "links_total": int(links["total"][0]) if links.height else 0,
        "timeline": q(_TIMELINE, c=c, unit=unit), "daily": daily, "releases": releases,
        "indicators": ind.head(MAX_INDICATORS), "indicators_total": ind.height,
        "detectors": detectors, "notes": notes,
        "samples": q(_SAMPLES, c=c, examples=_example_ids(detectors), n=MAX_SAMPLES),
        "runs": q("select run_id, detector, status, rows, params::varchar as params, message "
                  "from detector_runs where list_contains($runs, run_id) "
                  "order by run_id, detector", runs=run_ids),
    }


def _example_ids(detectors: list[dict[str, Any]]) -> list[str]:
    """Request ids the strongest findings cite as examples (`example_request_ids` or similar)."""
    out: list[str] = []
    for det in detectors:
        try:
            ev = json.loads(det["evidence"] or "null")
        except ValueError:
            continue
        if not isinstance(ev, dict):
            continue
        for key, val in ev.items():
            if "request" in key and isinstance(val, list):
                out += [str(v) for v in val[:5]]
    return out
