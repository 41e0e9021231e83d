"""Measure leads and campaigns against a simulator's ground truth (`truth.csv`).

`evaluate(case, truth.csv)` reads the case's `leads` and `findings` (it never imports
detection) and `score(...)` does the arithmetic on plain tables, so it can be checked on tiny
hand-made ones. Reported:

- account-level precision, recall and F1 for each level, counting as flagged every lead at that
  level or above; average precision over the risk ranking;
- for each planted campaign, the found campaign holding most of its accounts, with its
  *coverage* (share of the planted campaign's accounts in it) and *purity* (share of its
  accounts that belong to that planted campaign); recovered as one when both are >= 0.9;
  the other planted campaigns merged into the same found campaign, and how many found
  campaigns its accounts are split over;
- the flagged share of each archetype per level (for legitimate archetypes: the false-positive
  rate);
- per detector, the campaign and legitimate accounts its findings reach (an account finding its
  account, an org/card/key/prefix finding every account behind it), by archetype.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.config import LEAD_LEVELS as LEVELS
from workbench.errors import LoadError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from workbench.case import Case

TRUTH_COLUMNS = ("account_id", "campaign_id", "archetype")
RECOVERED = 0.9  # a planted campaign is recovered as one at coverage and purity >= this
Truth = dict[str, tuple[str | None, str]]  # account -> (planted campaign or None, archetype)
Leads = dict[str, tuple[str | None, float, str]]  # account -> (found campaign, risk, level)

# Accounts each detector's latest findings reach, as scoring maps entities to accounts.
_REACH = """
with latest as (
    select f.detector, f.entity_type, f.entity_id, f.evidence from findings as f
    join (select detector, arg_max(run_id, ran_at) as run_id from findings group by detector)
        as l using (detector, run_id)
    where f.score > 0
)
select detector, entity_id as account_id from latest where entity_type = 'account'
union
select f.detector, a.account_id from latest as f join accounts as a
    on (f.entity_type = 'org' and a.org_id = f.entity_id)
    or (f.entity_type = 'payment_fingerprint' and a.payment_fingerprint = f.entity_id)
union
select f.detector, k.account_id from latest as f
join (select distinct account_id, api_key_id from requests) as k on k.api_key_id = f.entity_id
where f.entity_type = 'api_key'
union
select f.detector, p.account_id from latest as f
join (select distinct account_id, ip_prefix from requests) as p on p.ip_prefix = f.entity_id
where f.entity_type = 'ip_prefix'
union
-- a cohort finding reaches the members its evidence names as taking part
select f.detector, m.account_id from latest as f,
    unnest(json_extract_string(f.evidence, '$.members[*]')) as m(account_id)
where f.entity_type = 'cohort'
"""


def read_truth(path: str | os.PathLike[str]) -> Truth:
    """account_id -> (planted campaign id or None, archetype), checked."""
    import polars as pl

    path = Path(path)
    if not path.exists():
        msg = f"Truth file {str(path)!r} does not exist. Give the truth.csv the simulator wrote."
        raise LoadError(msg)
    try:
        df = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        msg = f"Truth file {str(path)!r} is not a readable CSV: {exc}"
        raise LoadError(msg) from None
    missing = [c for c in TRUTH_COLUMNS if c not in df.columns]
    if missing:
        msg = (f"Truth file {str(path)!r} lacks column(s) {', '.join(missing)}; it needs "
               f"{', '.join(TRUTH_COLUMNS)} (campaign_id empty for legitimate accounts).")
        raise LoadError(msg)
    return {str(a): ((c or None), str(k or "")) for a, c, k in
            df.select(TRUTH_COLUMNS).iter_rows()}


def evaluate(case: Case, truth_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Score the case's `leads`, `campaigns` and `findings` against `truth.csv`.

    Example:
        >>> import tempfile, workbench as wb
        >>> path = tempfile.mktemp(suffix=".csv")
        >>> _ = open(path, "w").write("account_id,campaign_id,archetype\\na1,c1,prober\\n")
        >>> evaluate(wb.open(), path)["levels"]["high"]["recall"]
        0.0
    """
    truth = read_truth(truth_path)
    rows = case.sql("select account_id, campaign_id, risk, level from leads "
                    "order by risk desc, account_id").rows()
    found: Leads = {a: (c, float(r), lv) for a, c, r, lv in rows}
    reach: dict[str, set[str]] = {}
    if case.sql("select count(*) as n from findings")["n"][0]:
        for det, acct in case.sql(_REACH).rows():
            reach.setdefault(det, set()).add(acct)
    ran = case.sql("select distinct detector from detector_runs")["detector"].to_list()
    for det in ran:
        reach.setdefault(det, set())
    return score(truth, found, [a for a, *_ in rows], reach)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "tp": tp, "fp": fp, "fn": fn}


def score(truth: Truth, found: Leads, ranking: list[str] | None = None,
          reach: Mapping[str, set[str]] | None = None) -> dict[str, Any]:
    """Every measure of `evaluate` from plain tables: the truth, the leads (account ->
    (found campaign, risk, level)), the risk ranking (default: by risk) and each detector's
    reached accounts.

    With no planted account, recall is 1.0; with nothing flagged, precision is 1.0.

    Example:
        >>> truth = {"a": ("op1", "prober"), "b": ("op1", "prober"), "u": (None, "individual")}
        >>> r = score(truth, {"a": ("cmp-1", 0.9, "critical"), "u": (None, 0.5, "medium")})
        >>> r["levels"]["high"]["recall"], r["campaigns"][0]["coverage"]
        (0.5, 0.5)
    """
    if ranking is None:
        ranking = sorted(found, key=lambda a: (-found[a][1], a))
    positives = {a for a, (c, _) in truth.items() if c}
    out: dict[str, Any] = {
        "accounts": len(truth), "planted_accounts": len(positives),
        "leads_not_in_truth": sum(1 for a in found if a not in truth),
        "levels": {}, "recall_by_archetype": {}, "false_positives": {},
    }
    for i, level in enumerate(LEVELS):
        flagged = {a for a, (_, _, lv) in found.items() if lv in LEVELS[i:] and a in truth}
        tp = len(flagged & positives)
        out["levels"][level] = _prf(tp, len(flagged) - tp, len(positives) - tp)
    out["average_precision"] = _average_precision([a for a in ranking if a in truth], positives)
    by_arch: dict[str, list[str]] = defaultdict(list)
    for a, (_, arch) in truth.items():
        by_arch[arch].append(a)
    for arch, accts in sorted(by_arch.items()):
        planted = bool(positives & set(accts))
        per_level: dict[str, Any] = {}
        for i, level in enumerate(LEVELS):
            hit = sum(1 for a in accts if a in found and found[a][2] in LEVELS[i:])
            per_level[level] = round(hit / len(accts), 4)
            if not planted:
                per_level[f"{level}_n"] = hit
        key = "recall_by_archetype" if planted else "false_positives"
        out[key][arch] = {"accounts": len(accts), **per_level}
    out["campaigns"] = match_campaigns(truth, found)
    out["campaigns_planted"] = len(out["campaigns"])
    out["campaigns_recovered"] = sum(1 for c in out["campaigns"] if c["recovered"])
    out["detectors"] = detector_fires(truth, reach or {})
    return out


def _average_precision(ranking: list[str], positives: set[str]) -> float:
    if not positives:
        return 1.0
    hits, total = 0, 0.0
    for k, a in enumerate(ranking, 1):
        if a in positives:
            hits += 1
            total += hits / k
    return round(total / len(positives), 4)


def match_campaigns(truth: Truth, found: Leads) -> list[dict[str, Any]]:
    """For each planted campaign, its best-matching found campaign: the one holding most of its
    accounts (ties: the purer, then the smaller id), with coverage, purity, the found campaigns
    its accounts are split over, and the other planted campaigns merged into the best match.

    Example:
        >>> truth = {"a": ("op1", "x"), "b": ("op1", "x"), "c": ("op2", "y")}
        >>> m = match_campaigns(truth, {a: ("cmp-1", 0.9, "high") for a in "abc"})
        >>> [(c["coverage"], c["purity"], c["merged_with"]) for c in m]
        [(1.0, 0.6667, ['op2']), (1.0, 0.3333, ['op1'])]
    """
    planted: dict[str, list[str]] = defaultdict(list)
    for a, (c, _) in truth.items():
        if c:
            planted[c].append(a)
    size = Counter(c for c, _, _ in found.values() if c)
    members: dict[str, Counter[str]] = defaultdict(Counter)  # found -> planted -> accounts
    for a, (c, _, _) in found.items():
        if c:
            members[c][truth.get(a, (None, ""))[0] or ""] += 1
    out = []
    for cid, accts in sorted(planted.items()):
        where: Counter[str] = Counter()
        for a in accts:
            if a in found and (fc := found[a][0]):
                where[fc] += 1
        best: str | None = None
        overlap = 0
        if where:
            best, overlap = min(where.items(), key=lambda kv: (-kv[1], -kv[1] / size[kv[0]],
                                                               kv[0]))
        coverage = overlap / len(accts)
        purity = overlap / size[best] if best else 0.0
        merged = sorted(p for p in members.get(best or "", {}) if p and p != cid)
        out.append({
            "campaign_id": cid, "archetype": truth[accts[0]][1], "accounts": len(accts),
            "found_campaign": best, "found_accounts": size[best] if best else 0,
            "overlap": overlap, "coverage": round(coverage, 4), "purity": round(purity, 4),
            "found_in": len(where), "merged_with": merged,
            "legit_in_found": members.get(best or "", Counter()).get("", 0),
            "recovered": coverage >= RECOVERED and purity >= RECOVERED,
        })
    return out


def detector_fires(truth: Truth, reach: Mapping[str, set[str]]) -> dict[str, dict[str, Any]]:
    """Per detector: campaign and legitimate accounts reached, and reached accounts by archetype.

    Example:
        >>> truth = {"a": ("op1", "prober"), "u": (None, "individual")}
        >>> detector_fires(truth, {"logit_probing": {"a", "u", "ghost"}})["logit_probing"]
        {'campaign': 1, 'legit': 1, 'by_archetype': {'individual': 1, 'prober': 1}}
    """
    out = {}
    for det in sorted(reach):
        hit = [truth[a] for a in reach[det] if a in truth]
        by = Counter(arch for _, arch in hit)
        out[det] = {"campaign": sum(1 for c, _ in hit if c),
                    "legit": sum(1 for c, _ in hit if not c),
                    "by_archetype": dict(sorted(by.items()))}
    return out


def format_report(result: dict[str, Any]) -> str:
    """The evaluation as plain-text tables, for the CLI."""
    lines = [f"accounts {result['accounts']}, planted {result['planted_accounts']}, "
             f"average precision {result['average_precision']:.4f}", "",
             "level+     precision  recall  f1      tp    fp    fn"]
    for level, m in result["levels"].items():
        lines.append(f"{level:<10} {m['precision']:<10.4f} {m['recall']:<7.4f} {m['f1']:<7.4f} "
                     f"{m['tp']:<5} {m['fp']:<5} {m['fn']}")
    lines += ["", f"planted campaigns recovered as one (coverage and purity >= {RECOVERED}): "
              f"{result['campaigns_recovered']} of {result['campaigns_planted']}",
              "planted    archetype             accounts found_campaign    coverage purity in "
              "merged"]
    for c in result["campaigns"]:
        lines.append(f"{c['campaign_id'][:10]:<10} {c['archetype'][:21]:<21} {c['accounts']:<8} "
                     f"{str(c['found_campaign'])[:17]:<17} {c['coverage']:<8.2f} "
                     f"{c['purity']:<6.2f} {c['found_in']:<2} {','.join(c['merged_with'])}")
    lines += ["", "flagged share by archetype (level and above)",
              "archetype                  accounts  low     medium  high    critical"]
    for kind in ("recall_by_archetype", "false_positives"):
        for arch, m in result[kind].items():
            tag = "" if kind == "recall_by_archetype" else " (legit)"
            lines.append(f"{(arch + tag)[:26]:<26} {m['accounts']:<9} " + " ".join(
                f"{m[lv]:<7.4f}" for lv in LEVELS))
    if result.get("detectors"):
        lines += ["", "accounts reached per detector",
                  "detector                      campaign legit"]
        for det, d in result["detectors"].items():
            lines.append(f"{det[:29]:<29} {d['campaign']:<8} {d['legit']}")
    return "\n".join(lines)
