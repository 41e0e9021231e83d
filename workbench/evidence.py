"""Evidence in words: a lead's reasons as sentences an investigator can paste into a ticket.

Each detector and each account-link kind has one sentence template in
`workbench/data/evidence.toml`, filled from the finding's `evidence` JSON. A template whose
field the evidence lacks gives way to a plain listing of the evidence, so a changed detector
still reads. The numbers behind every sentence stay in the JSON, one click away in the widgets.

Sentences carry adversary values (ids, user agents) as they are: escape them where shown.
"""

from __future__ import annotations

import functools
import string
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from workbench.safe import json_or_text

DATA = Path(__file__).resolve().parent / "data"
_FORMATTER = string.Formatter()


@functools.cache
def templates() -> dict[str, Any]:
    """The sentence templates (workbench/data/evidence.toml)."""
    with (DATA / "evidence.toml").open("rb") as fh:
        return tomllib.load(fh)


def specific_detectors() -> tuple[str, ...]:
    """Detectors specific to harvesting, as scoring's gate names them (`[gate] specific` of
    workbench/data/risk.toml, read once by `workbench.config`)."""
    from workbench.config import RiskConfig

    return RiskConfig.load().gate.specific


def _fill(template: str | list[str], fields: dict[str, Any]) -> str | None:
    """The template filled, or None when a field is missing or of the wrong kind. A list of
    templates gives the first that fills (a longer sentence first, a shorter one when the
    evidence lacks what the longer one says)."""
    if isinstance(template, list):
        return next((text for t in template if (text := _fill(t, fields)) is not None), None)
    out = []
    try:
        for literal, name, spec, conv in _FORMATTER.parse(template):
            out.append(literal)
            if name is None:
                continue
            value = fields[name]
            if value is None:
                return None
            if conv:
                value = _FORMATTER.convert_field(value, conv)
            if isinstance(value, list | tuple) and not spec:
                value = ", ".join(str(v) for v in value)
            elif isinstance(value, Decimal):  # DuckDB's sums of integers, read unserialised
                value = float(value)
            if isinstance(value, float) and value.is_integer() and spec in ("", ","):
                value = int(value)  # a count is a count: "600", not "600.0"
            out.append(format(value, spec or ""))
    except (KeyError, ValueError, TypeError):
        return None
    return "".join(out)


def _pairs(evidence: dict[str, Any]) -> str:
    items = [f"{k} {v}" for k, v in evidence.items()
             if not isinstance(v, list | dict) and v is not None]
    return ", ".join(items) or "no evidence recorded"


def detector_sentence(detector: str, evidence: Any, score: float | None = None) -> str:
    """One detector's finding in words.

    Example:
        >>> detector_sentence("cot_elicitation", {"requests": 413, "flagged": 224,
        ...     "share": 0.542, "active_hours": 144, "min_share": 0.3})
        ... # doctest: +ELLIPSIS
        'cot_elicitation: 224 of its 413 requests (54%) ask the model to show its chain of...'
    """
    ev = json_or_text(evidence)
    ev = ev if isinstance(ev, dict) else {"evidence": ev}
    t = templates()
    if "kind" in ev and "value" in ev and "cohort" not in ev:
        ev = {**ev, "cohort": cohort_words(ev["kind"], ev["value"])}
    text = _fill(t["detectors"].get(detector, ""), ev) if detector in t["detectors"] else None
    if text is None:
        text = _fill(t["fallback"], {"detector": detector, "score": score or 0.0,
                                     "pairs": _pairs(ev)}) or detector
        return text
    return f"{detector}: {text}"


def cohort_words(kind: Any, value: Any) -> str:
    """Which accounts a cohort holds, in words to follow "the accounts".

    Example:
        >>> cohort_words("payment", "pf-1"), cohort_words("moon", "x")
        ('paying with card pf-1', 'of cohort moon:x')
    """
    kinds = templates()["cohort_kinds"]
    fields = {"kind": kind, "value": value}
    return (_fill(kinds.get(str(kind), kinds["cohort_fallback"]), fields)
            or f"of cohort {kind}:{value}")


def link_sentence(kind: str, peer: str, value: Any, evidence: Any = None,
                  weight: float | None = None) -> str:
    """Why the account is linked to `peer`, in words (without the subject).

    Example:
        >>> link_sentence("payment", "acct-2", "pf-1", {"degree": 2})
        'pays with the same card as acct-2 (fingerprint pf-1, used by 2 accounts)'
    """
    ev = json_or_text(evidence)
    fields = {**(ev if isinstance(ev, dict) else {}), "peer": peer, "value": value,
              "kind": kind, "weight": weight}
    t = templates()
    for table in ("links", "links_short"):
        if kind in t[table] and (text := _fill(t[table][kind], fields)) is not None:
            return text
    return _fill(t["links"]["link_fallback"], fields) or f"is linked to {peer} by {kind}"


def lead_sentences(account_id: str, reasons: Any) -> list[str]:
    """A lead's reasons (leads.reasons) as sentences: each detector, then its campaign links.

    Example:
        >>> lead_sentences("acct-1", {"detectors": [], "campaign": {"campaign_id": "c-1",
        ...     "links": [{"peer": "acct-2", "kind": "payment", "value": "pf-1"}]}})
        ['acct-1 is in campaign c-1: it pays with the same card as acct-2 (fingerprint pf-1).']
    """
    r = json_or_text(reasons)
    if not isinstance(r, dict):
        return []
    out = [detector_sentence(d.get("detector", "?"), d.get("evidence"), d.get("score"))
           for d in r.get("detectors") or [] if isinstance(d, dict)]
    camp = r.get("campaign")
    if isinstance(camp, dict):
        links = [link_sentence(x.get("kind", "?"), x.get("peer", "?"), x.get("value"),
                               x.get("evidence"), x.get("weight"))
                 for x in camp.get("links") or [] if isinstance(x, dict)]
        if links:
            out.append(f"{account_id} is in campaign {camp.get('campaign_id')}: it "
                       + "; it ".join(links) + ".")
    if r.get("capped"):
        out.append("Its risk is capped below high: no detector specific to harvesting fired "
                   "strongly enough on it or its campaign.")
    return out


def evidence_rank(reasons: Any) -> tuple[int, float]:
    """The display tie-break of leads at equal risk: (specific detectors, summed contribution).

    Example:
        >>> evidence_rank({"detectors": [{"detector": "cot_elicitation", "contribution": 0.8},
        ...                              {"detector": "volume_anomaly", "contribution": 0.2}]})
        (1, 1.0)
    """
    r = json_or_text(reasons)
    dets = r.get("detectors") or [] if isinstance(r, dict) else []
    spec = specific_detectors()
    n = sum(1 for d in dets if isinstance(d, dict) and d.get("detector") in spec)
    total = sum(float(d.get("contribution") or 0) for d in dets if isinstance(d, dict))
    return n, round(total, 6)


def order_sql(alias: str = "l") -> str:
    """SQL ordering leads by risk, then by the evidence tie-break; binds `$specific`.

    The same rule as `evidence_rank`, computed in DuckDB so that a board of thousands of
    leads is ordered before it is cut.
    """
    dets = f"json_extract_string({alias}.reasons, '$.detectors[*].detector')"
    contrib = f"json_extract({alias}.reasons, '$.detectors[*].contribution')::DOUBLE[]"
    return (f"{alias}.risk desc nulls last, "
            f"coalesce(array_length(list_filter({dets}, lambda d: list_contains($specific, d))),"
            f" 0) desc, coalesce(list_sum({contrib}), 0) desc, {alias}.account_id")
