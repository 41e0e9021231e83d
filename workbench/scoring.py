"""Risk that explains itself: detector scores per account, campaign lift, levels and reasons.

The rule (weights in `workbench/data/risk.toml`, documented in docs/evaluation.md):

1. Each finding of the latest run of each detector reaches accounts: an `account` finding its
   own account; an `org`, `api_key`, `ip_prefix` or `payment_fingerprint` finding every account
   behind that entity, its score damped by `[entity_share]`; a `cohort` finding the member
   accounts its evidence lists under `members`. Per account and detector the strongest
   finding counts.
2. Base risk is a noisy-OR: `1 - prod(1 - w_d * s_d)`, with `w_d` the detector's weight from
   its declared level (`[detector_levels]`) unless `[detector_weights]` overrides it.
3. A campaign's strength is the median base risk of its members; a community weaker than
   `min_risk` is not a campaign. A member's risk is raised to
   `1 - (1 - base) * (1 - lift * strength * tie)`, where `tie` is its summed pair weight to
   the other members over `tie_full` (at most 1).
4. Gate: an account whose own noisy-OR over the `[gate] specific` detectors is below
   `min_specific`, and which is not tied (tie >= `min_tie`) to a campaign whose median noisy-OR
   over the specific and `coordination` detectors reaches `min_specific`, has its risk capped
   at `cap` (below high): generic detectors alone never make a high lead. Coordination counts
   only in a campaign of more than one organisation (one customer's fleet runs in lockstep).
5. The level is the highest of `[levels]` the risk reaches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.config import LEAD_LEVELS, weights_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb

    from workbench.config import RiskConfig

LEVELS = LEAD_LEVELS


def level_sql(expr: str) -> str:
    """A CASE expression giving the level of a risk expression; thresholds bound as $lvl_*."""
    arms = " ".join(f"when {expr} >= $lvl_{name} then '{name}'" for name in reversed(LEVELS))
    return f"case {arms} else 'low' end"


def level_params(config: RiskConfig) -> dict[str, float]:
    """The `$lvl_*` parameters of `level_sql`."""
    return {f"lvl_{name}": float(config.levels[name]) for name in LEVELS}


def level_of(config: RiskConfig, risk: float) -> str | None:
    """The level a risk reaches, or None below `low`.

    Example:
        >>> from workbench.config import RiskConfig
        >>> cfg = RiskConfig.load()
        >>> level_of(cfg, cfg.levels["high"]), level_of(cfg, 0.0)
        ('high', None)
    """
    for name in reversed(LEVELS):
        if risk >= float(config.levels[name]):
            return name
    return None


def detector_hits(con: duckdb.DuckDBPyConnection, config: RiskConfig,
                  leave_out: Sequence[str] = ()) -> dict[str, int]:
    """Create temp tables `_hits` (account, detector: score, weight, contribution, evidence)
    and `_base` (account: base risk) from the latest run of each detector.

    Args:
        con: the case connection (inside the run's transaction).
        config: the risk settings.
        leave_out: detectors whose findings are not read: those the run judges again later
            (the cohort detectors, before the communities they judge are built), so that
            what an earlier run of them found never shapes this run's communities, and
            detecting a case again gives what detecting it once gave.

    Returns the finding entity types that reach no account, with their counts.
    """
    weights_table(con, "_level_weight", "level", config.detector_levels)
    weights_table(con, "_detector_weight", "detector", config.detector_weights)
    weights_table(con, "_share", "entity_type", config.entity_share)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _hits AS
        with latest_run as (
            select detector, arg_max(run_id, ran_at) as run_id from findings
            where not list_contains($leave_out::VARCHAR[], detector)
            group by detector
        ),
        latest as (
            select f.* from findings as f join latest_run as l using (detector, run_id)
            where f.score > 0
        ),
        mapped as (
            select entity_id as account_id, * from latest where entity_type = 'account'
            union all by name
            select a.account_id, f.* from latest as f
            join accounts as a on a.org_id = f.entity_id where f.entity_type = 'org'
            union all by name
            select a.account_id, f.* from latest as f
            join accounts as a on a.payment_fingerprint = f.entity_id
            where f.entity_type = 'payment_fingerprint'
            union all by name
            select k.account_id, f.* from latest as f
            join (select distinct account_id, api_key_id from requests) as k
                on k.api_key_id = f.entity_id
            where f.entity_type = 'api_key'
            union all by name
            select p.account_id, f.* from latest as f
            join (select distinct account_id, ip_prefix from requests) as p
                on p.ip_prefix = f.entity_id
            where f.entity_type = 'ip_prefix'
            union all by name
            -- a cohort finding reaches the members its evidence names as taking part
            select m.account_id, f.* from latest as f,
                unnest(json_extract_string(f.evidence, '$.members[*]')) as m(account_id)
            where f.entity_type = 'cohort'
        ),
        weighted as (
            select
                m.account_id, m.detector, m.entity_type, m.entity_id, m.evidence,
                least(1.0, m.score * s.w) as score,
                coalesce(dw.w, lw.w, 0.5) as weight
            from mapped as m
            join _share as s on s.entity_type = m.entity_type
            left join _detector_weight as dw on dw.detector = m.detector
            left join _level_weight as lw on lw.level = m.level
            -- a detector weighted 0 adds nothing and is no reason (cohort_consensus only ties)
            where m.account_id is not null and coalesce(dw.w, lw.w, 0.5) > 0
        )
        select
            account_id, detector,
            arg_max(entity_type, score * weight) as entity_type,
            arg_max(entity_id, score * weight) as entity_id,
            arg_max(evidence, score * weight) as evidence,
            max(score) as score,
            any_value(weight) as weight,
            max(score * weight) as contribution
        from weighted
        group by account_id, detector
    """, {"leave_out": list(leave_out)})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _base AS
        select account_id,
               1 - exp(sum(ln(greatest(1e-12, 1 - least(1.0, contribution))))) as base,
               1 - exp(sum(ln(greatest(1e-12, 1 - least(1.0, contribution))))
                       filter (where list_contains($specific, detector))) as spec,
               1 - exp(sum(ln(greatest(1e-12, 1 - least(1.0, contribution))))
                       filter (where list_contains($specific, detector)
                               or list_contains($coordination, detector))) as group_spec
        from _hits group by account_id
    """, {"specific": list(config.gate.specific),
          "coordination": list(config.gate.coordination)})
    unmapped = con.sql("""
        with latest_run as (
            select detector, arg_max(run_id, ran_at) as run_id from findings group by detector
        )
        select f.entity_type, count(*) as n
        from findings as f join latest_run as l using (detector, run_id)
        where f.entity_type not in (select entity_type from _share)
        group by 1 order by 1
    """).fetchall()
    return {str(k): int(n) for k, n in unmapped}


def write_leads(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> None:
    """Replace `leads` and `campaigns` from the `_hits`, `_base`, `_member` and `_pairs` temp
    tables (of `detector_hits` and `workbench.linking`)."""
    camp = config.campaigns
    gate = config.gate
    con.execute("DELETE FROM leads")
    con.execute("DELETE FROM campaigns")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _strength AS
        -- coordination counts toward a campaign's specific strength only when the campaign
        -- spans organisations: one customer's own fleet runs in lockstep by design
        select m.campaign_id, count(*) as n, median(coalesce(b.base, 0)) as strength,
               case when count(distinct coalesce(a.org_id, m.account_id)) > 1
                    then quantile_cont(coalesce(b.group_spec, 0), $spec_q)
                    else quantile_cont(coalesce(b.spec, 0), $spec_q) end as spec_strength
        from _member as m left join _base as b using (account_id)
        left join accounts as a on a.account_id = m.account_id
        group by m.campaign_id
        having count(*) >= $min_accounts and median(coalesce(b.base, 0)) >= $min_risk
    """, {"min_accounts": camp.min_accounts, "min_risk": camp.min_risk,
          "spec_q": gate.campaign_quantile})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _tie AS
        with ends as (
            select src as account_id, dst as peer, weight from _pairs
            union all select dst, src, weight from _pairs
        )
        select m.account_id, m.campaign_id, s.strength, s.spec_strength,
               least(1.0, coalesce(sum(e.weight), 0) / $tie_full) as tie
        from _member as m
        join _strength as s using (campaign_id)
        left join ends as e on e.account_id = m.account_id
            and e.peer in (select account_id from _member as p where p.campaign_id = m.campaign_id)
        group by m.account_id, m.campaign_id, s.strength, s.spec_strength
    """, {"tie_full": camp.tie_full})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _risk AS
        with everyone as (
            select account_id from _base union select account_id from _tie
        )
        , raw as (
            select e.account_id, t.campaign_id, coalesce(b.base, 0) as base, t.strength, t.tie,
                   coalesce(b.spec, 0) as spec, coalesce(t.spec_strength, 0) as spec_strength,
                   1 - (1 - coalesce(b.base, 0))
                       * (1 - $lift * coalesce(t.strength, 0) * coalesce(t.tie, 0)) as raw_risk
            from everyone as e
            left join _base as b using (account_id)
            left join _tie as t using (account_id)
            where t.campaign_id is not null or coalesce(b.base, 0) >= $low
        )
        select *,
               (spec >= $min_specific
                or (spec_strength >= $min_specific and coalesce(tie, 0) >= $min_tie)) as specific,
               case when spec >= $min_specific
                         or (spec_strength >= $min_specific and coalesce(tie, 0) >= $min_tie)
                    then raw_risk else least(raw_risk, $cap) end as risk
        from raw
    """, {"lift": camp.lift, "low": float(config.levels["low"]),
          "min_specific": gate.min_specific, "min_tie": gate.min_tie, "cap": gate.cap})
    con.execute(f"""
        INSERT INTO leads
        with dets as (
            select account_id, list({{'detector': detector, 'score': score, 'weight': weight,
                    'contribution': contribution, 'via': entity_type || ':' || entity_id,
                    'evidence': evidence}} order by contribution desc, detector) as items
            from _hits group by account_id
        ),
        ends as (
            select src as account_id, dst as peer, kind, value, weight from account_links
            union all select dst, src, kind, value, weight from account_links
        ),
        links as (
            select r.account_id, list({{'peer': e.peer, 'kind': e.kind, 'value': e.value,
                    'weight': e.weight}} order by e.weight desc, e.peer, e.kind) as items
            from _risk as r
            join ends as e on e.account_id = r.account_id
            join _risk as p on p.account_id = e.peer and p.campaign_id = r.campaign_id
            group by r.account_id
        )
        select
            r.account_id, r.campaign_id, r.risk, {level_sql('r.risk')} as level,
            to_json({{'rule': 'noisy-or of detector scores, raised by campaign strength',
                'base_risk': r.base, 'campaign_lift': r.raw_risk - r.base,
                'specific_risk': r.spec, 'capped': r.risk < r.raw_risk,
                'detectors': list_slice(coalesce(d.items, []), 1, $top_detectors),
                'campaign': case when r.campaign_id is null then null else
                    {{'campaign_id': r.campaign_id, 'strength': r.strength,
                      'specific_strength': r.spec_strength, 'tie': r.tie,
                      'links': list_slice(coalesce(l.items, []), 1, $top_links)}} end}})
        from _risk as r
        left join dets as d using (account_id)
        left join links as l using (account_id)
    """, {"top_detectors": camp.top_detectors, "top_links": camp.top_links,
          **level_params(config)})
    _write_campaigns(con, config)


#: Temp tables scoring and linking leave on the connection (dropped by the pipeline).
TEMP_TABLES = ("_hits", "_base", "_member", "_pairs", "_strength", "_tie", "_risk",
               "_kind_weight", "_kind_group", "_level_weight", "_detector_weight", "_share")


def _write_campaigns(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> None:
    con.execute(f"""
        INSERT INTO campaigns
        with mem as (select account_id, campaign_id from leads where campaign_id is not null),
        req as (
            select m.campaign_id, r.request_id, r.ts, r.access_path, r.model,
                   coalesce(r.input_tokens, 0) + coalesce(r.output_tokens, 0) as tokens
            from requests as r join mem as m using (account_id)
        ),
        basic as (
            select campaign_id, count(*) as requests, sum(tokens) as tokens,
                   min(ts) as first_seen, max(ts) as last_seen,
                   list_sort(list(distinct access_path)
                             filter (where access_path is not null)) as access_paths
            from req group by campaign_id
        ),
        caps as (
            select campaign_id, capability, count(*) as n
            from req join features as f using (request_id)
            where f.capability is not null group by 1, 2
        ),
        models as (
            select campaign_id, model, count(*) as n
            from req where model is not null group by 1, 2
        ),
        dets as (
            select m.campaign_id, h.detector, sum(h.contribution) as n
            from _hits as h join mem as m using (account_id) group by 1, 2
        ),
        risk as (
            select campaign_id, count(*) as accounts, median(risk) as risk
            from leads where campaign_id is not null group by campaign_id
        )
        select
            k.campaign_id, k.accounts::INTEGER, coalesce(b.requests, 0), coalesce(b.tokens, 0),
            b.first_seen, b.last_seen, coalesce(b.access_paths, []),
            list_slice((select list(capability order by n desc, capability) from caps as c
                        where c.campaign_id = k.campaign_id), 1, 3),
            list_slice((select list(model order by n desc, model) from models as o
                        where o.campaign_id = k.campaign_id), 1, 5),
            list_slice((select list(detector order by n desc, detector) from dets as d
                        where d.campaign_id = k.campaign_id), 1, 3),
            k.risk, {level_sql('k.risk')}
        from risk as k left join basic as b using (campaign_id)
    """, level_params(config))
