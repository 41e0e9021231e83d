"""Measure leads and campaigns against a simulator's ground truth (`truth.csv`).

Account-level precision, recall and F1 counting as flagged every lead at a level or above,
for each level; average precision over the risk ranking; for each planted campaign the found
campaign holding most of its accounts, with that campaign's recall (share of the planted
accounts it holds) and purity (share of its accounts that are planted ones); and false
positives by legitimate archetype.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.config import LEAD_LEVELS as LEVELS
from workbench.errors import LoadError

if TYPE_CHECKING:
    from workbench.case import Case

TRUTH_COLUMNS = ("account_id", "campaign_id", "archetype")
RECOVERED = 0.9  # a planted campaign counts as recovered at recall and purity >= this


def read_truth(path: str | os.PathLike[str]) -> dict[str, tuple[str | None, str]]:
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


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "tp": tp, "fp": fp, "fn": fn}


def evaluate(case: Case, truth_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Score the case's `leads` and `campaigns` against `truth.csv`.

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
    found = {a: (c, float(r), lv) for a, c, r, lv in rows}
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
    out["average_precision"] = _average_precision([a for a, *_ in rows if a in truth],
                                                  positives)
    by_arch: dict[str, list[str]] = defaultdict(list)
    for a, (_, arch) in truth.items():
        by_arch[arch].append(a)
    for arch, accts in sorted(by_arch.items()):
        planted = bool(positives & set(accts))
        per_level = {}
        for i, level in enumerate(LEVELS):
            hit = sum(1 for a in accts if a in found and found[a][2] in LEVELS[i:])
            per_level[level] = round(hit / len(accts), 4)
        key = "recall_by_archetype" if planted else "false_positives"
        out[key][arch] = {"accounts": len(accts), **per_level}
    out["campaigns"] = _campaigns(truth, found)
    out["campaigns_planted"] = len(out["campaigns"])
    out["campaigns_recovered"] = sum(1 for c in out["campaigns"] if c["recovered"])
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


def _campaigns(truth: dict[str, tuple[str | None, str]],
               found: dict[str, tuple[str | None, float, str]]) -> list[dict[str, Any]]:
    planted: dict[str, list[str]] = defaultdict(list)
    for a, (c, _) in truth.items():
        if c:
            planted[c].append(a)
    size = Counter(c for c, _, _ in found.values() if c)
    out = []
    for cid, accts in sorted(planted.items()):
        where = Counter(found[a][0] for a in accts if a in found and found[a][0])
        best, overlap = (min(where.items(), key=lambda kv: (-kv[1], kv[0]))
                         if where else (None, 0))
        recall = overlap / len(accts)
        purity = overlap / size[best] if best else 0.0
        out.append({
            "campaign_id": cid, "archetype": truth[accts[0]][1], "accounts": len(accts),
            "found_campaign": best, "found_accounts": size[best] if best else 0,
            "overlap": overlap, "recall": round(recall, 4), "purity": round(purity, 4),
            "found_in": len(where),
            "recovered": recall >= RECOVERED and purity >= RECOVERED,
        })
    return out


def format_report(result: dict[str, Any]) -> str:
    """The evaluation as plain-text tables, for the CLI."""
    lines = [f"accounts {result['accounts']}, planted {result['planted_accounts']}, "
             f"average precision {result['average_precision']:.4f}", "",
             "level+     precision  recall  f1      tp    fp    fn"]
    for level, m in result["levels"].items():
        lines.append(f"{level:<10} {m['precision']:<10.4f} {m['recall']:<7.4f} {m['f1']:<7.4f} "
                     f"{m['tp']:<5} {m['fp']:<5} {m['fn']}")
    lines += ["", f"planted campaigns recovered: {result['campaigns_recovered']} of "
              f"{result['campaigns_planted']}",
              "planted    archetype             accounts found_campaign    recall purity in"]
    for c in result["campaigns"]:
        lines.append(f"{c['campaign_id'][:10]:<10} {c['archetype'][:21]:<21} {c['accounts']:<8} "
                     f"{str(c['found_campaign'])[:17]:<17} {c['recall']:<6.2f} "
                     f"{c['purity']:<6.2f} {c['found_in']}")
    lines += ["", "flagged share by archetype (level and above)",
              "archetype                  accounts  low     medium  high    critical"]
    for kind in ("recall_by_archetype", "false_positives"):
        for arch, m in result[kind].items():
            tag = "" if kind == "recall_by_archetype" else " (legit)"
            lines.append(f"{(arch + tag)[:26]:<26} {m['accounts']:<9} " + " ".join(
                f"{m[lv]:<7.4f}" for lv in LEVELS))
    return "\n".join(lines)
