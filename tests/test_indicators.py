"""Indicator export: what it lists, CSV/JSON/STIX shapes, and STIX validity checked by stix2."""

from __future__ import annotations

import csv
import io
import json

import pytest
import stix2
from stix2patterns.validator import validate

import workbench as wb
from workbench.errors import UnknownNameError
from workbench.handover.indicators import TYPES, stix_pattern

CAMPAIGN = "camp-7f3a"
RLO_ACCOUNT = "acct-\u202ecba"


def _by_key(frame) -> dict[tuple[str, str], dict]:
    return {(r["type"], r["value"]): r for r in frame.iter_rows(named=True)}


def test_lists_every_kind_of_value_the_campaign_used(planted):
    rows = _by_key(wb.indicators(planted, CAMPAIGN, format="frame"))
    assert {t for t, _ in rows} == set(TYPES)
    assert {v for t, v in rows if t == "account"} == {"acct-a1", "acct-a2", "acct-a3", RLO_ACCOUNT}
    assert {v for t, v in rows if t == "payment_fingerprint"} == {"pf-111", "pf-222"}
    assert {v for t, v in rows if t == "ip_prefix"} == {
        "203.0.113.0/24", "2001:db8:1::/48", "198.51.100.0/24"}


def test_legitimate_accounts_values_are_not_indicators(planted):
    values = {v for _, v in _by_key(wb.indicators(planted, CAMPAIGN, format="frame"))}
    for benign in ("acct-uni1", "acct-ent1", "org-ent", "pf-uni", "192.0.2.0/24",
                   "python-httpx/0.27", "tpl-benign"):
        assert benign not in values


def test_counts_seen_times_and_sharing_outside_the_campaign(planted):
    rows = _by_key(wb.indicators(planted, CAMPAIGN, format="frame"))
    nat = rows[("ip_prefix", "203.0.113.0/24")]
    # Two campaign accounts used the prefix, and so did the university account (a NAT).
    assert (nat["accounts"], nat["requests"], nat["outside_accounts"]) == (2, 40, 1)
    assert rows[("payment_fingerprint", "pf-111")]["outside_accounts"] == 0
    span = planted.sql("select min(ts) as a, max(ts) as b from requests "
                       "where account_id = 'acct-a3'").row(0)
    a3 = rows[("account", "acct-a3")]
    assert (a3["first_seen"], a3["last_seen"]) == span


def test_names_the_detectors_and_links_behind_each_value(planted):
    rows = _by_key(wb.indicators(planted, CAMPAIGN, format="frame"))
    # A finding on the template itself, plus the findings on the accounts that used it.
    assert rows[("template", "tpl-cot-9e1")]["detectors"] == ["cot_elicitation",
                                                              "lockstep_templates"]
    assert rows[("template", "tpl-cot-9e1")]["link_kinds"] == ["lockstep_template"]
    assert rows[("payment_fingerprint", "pf-222")]["link_kinds"] == ["payment"]
    assert rows[("org", "org-shell1")]["link_kinds"] == []


def test_unknown_campaign_suggests_the_closest(planted):
    with pytest.raises(UnknownNameError, match="Unknown campaign 'camp-7f3b'. Did you mean "
                                               "camp-7f3a"):
        wb.indicators(planted, "camp-7f3b")


def test_unknown_format_is_named(planted):
    with pytest.raises(UnknownNameError, match="Unknown indicator format 'stx'. Did you mean stix"):
        wb.indicators(planted, CAMPAIGN, format="stx")


def test_csv_has_one_row_per_indicator_and_defuses_formulas(planted):
    planted.execute("update requests set user_agent = '=HYPERLINK(\"x\")' "
                    "where request_id = 'req-0'")
    frame = wb.indicators(planted, CAMPAIGN, format="frame")
    rows = list(csv.DictReader(io.StringIO(wb.indicators(planted, CAMPAIGN, format="csv"))))
    assert len(rows) == frame.height
    assert list(rows[0]) == frame.columns
    agents = {r["value"] for r in rows if r["type"] == "user_agent"}
    assert "'=HYPERLINK(\"x\")" in agents
    assert not any(v.startswith("=") for r in rows for v in r.values())
    template = next(r for r in rows if r["type"] == "template")
    assert template["detectors"] == "cot_elicitation;lockstep_templates"


def test_json_keeps_values_exact(planted):
    doc = json.loads(wb.indicators(planted, CAMPAIGN, format="json"))
    assert doc["campaign_id"] == CAMPAIGN
    agents = [i["value"] for i in doc["indicators"] if i["type"] == "user_agent"]
    assert agents == ["harvester/1.0 </td><img src=x onerror=\"window.__xss=1\"> it's \\ok"]
    assert RLO_ACCOUNT in {i["value"] for i in doc["indicators"]}


def test_stix_bundle_parses_back_with_stix2(planted):
    text = wb.indicators(planted, CAMPAIGN, format="stix")
    bundle = stix2.parse(text)  # strict: no custom properties allowed
    kinds = [o.type for o in bundle.objects]
    n = wb.indicators(planted, CAMPAIGN, format="frame").height
    assert kinds.count("campaign") == 1
    assert kinds.count("indicator") == n
    assert kinds.count("relationship") == n
    camp = next(o for o in bundle.objects if o.type == "campaign")
    for rel in (o for o in bundle.objects if o.type == "relationship"):
        assert (rel.relationship_type, rel.target_ref) == ("indicates", camp.id)
    for ind in (o for o in bundle.objects if o.type == "indicator"):
        assert validate(ind.pattern, stix_version="2.1", ret_errs=True)[0], ind.pattern


def test_stix_patterns_use_standard_observables_where_they_exist(planted):
    bundle = stix2.parse(wb.indicators(planted, CAMPAIGN, format="stix"))
    patterns = {o.pattern for o in bundle.objects if o.type == "indicator"}
    assert "[ipv6-addr:value ISSUBSET '2001:db8:1::/48']" in patterns
    assert "[user-account:user_id = 'acct-a1']" in patterns
    assert ("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "
            "'harvester/1.0 </td><img src=x onerror=\"window.__xss=1\"> it\\'s \\\\ok']"
            ) in patterns
    shared = next(o for o in bundle.objects if o.type == "indicator"
                  and "203.0.113.0/24" in o.pattern)
    assert shared.indicator_types == ["anomalous-activity"]


def test_stix_ids_are_stable_across_exports(planted):
    def ids() -> set[str]:
        bundle = stix2.parse(wb.indicators(planted, CAMPAIGN, format="stix"))
        return {o.id for o in bundle.objects}

    assert ids() == ids()


@pytest.mark.parametrize(("type_", "value", "custom"), [
    ("user_agent", "a'b\\c", False),
    ("user_agent", "line\nbreak ]) OR [x:y = 'z", False),
    ("ip_prefix", "10.1.2.0/24", False),
    ("ip_prefix", "not-a-prefix'", True),
    ("org", "org-'); drop", True),
    ("api_key", "key\\'", True),
    ("payment_fingerprint", "pf-1", True),
    ("template", "tpl'1", True),
    ("account", "acct-\u202eevil", False),
])
def test_stix_pattern_escapes_adversary_values(type_, value, custom):
    pattern, is_custom = stix_pattern(type_, value)
    assert is_custom is custom
    assert validate(pattern, stix_version="2.1", ret_errs=True)[0], pattern
    assert stix2.Indicator(pattern=pattern, pattern_type="stix").pattern == pattern


def test_stix2_rejects_an_invalid_pattern():
    # Guards the tests above: stix2 really does validate patterns.
    with pytest.raises(stix2.exceptions.InvalidValueError):
        stix2.Indicator(pattern="[user-account:user_id = 'a'b']", pattern_type="stix")
