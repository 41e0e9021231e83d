"""The simulated provider world: determinism, streaming, and each archetype's defining property.

Most tests read the session's small world (`world_dir`, 300 accounts over 6 days) straight
from its gzip JSONL files; a few build their own tiny worlds.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import tracemalloc
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import workbench.simulator as sim
from workbench.errors import ParameterError
from workbench.simulator import simulate, text
from workbench.simulator.world import COUNTRIES, NEW_MODEL

ACCOUNT_COLUMNS = ["account_id", "org_id", "created_at", "payment_fingerprint", "email_domain",
                   "country", "signup_path", "verified"]
PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</div>", "\u202e",
            "\u200b")


SLOT = re.compile(r"\{[a-z_0-9]+\}")


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _prompt(req: dict[str, Any]) -> str:
    turns = req.get("messages") or req.get("input") or []
    users = [t["content"] for t in turns if t["role"] == "user"]
    return users[-1] if users else ""


def _read(world: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((world / "logs").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                e = json.loads(line)
                req = e["request"]
                rows.append({"account": e["account_id"], "ts": _ts(e["timestamp"]),
                             "model": e["model"], "prompt": _prompt(req), "req": req,
                             "ua": e["user_agent"], "ip": e["client_ip"],
                             "path": e["access_path"], "resp": e["response"]})
    return rows


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def world(world_dir: Path) -> dict[str, Any]:
    truth = {r["account_id"]: r for r in _csv(world_dir / "truth.csv")}
    rows = _read(world_dir)
    by_arch: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_arch[truth[r["account"]]["archetype"]].append(r)
    accounts = {r["account_id"]: r for r in _csv(world_dir / "accounts.csv")}
    releases = {r["model"]: _ts(r["released_at"]) for r in _csv(world_dir / "releases.csv")}
    return {"rows": rows, "truth": truth, "by": by_arch, "accounts": accounts,
            "releases": releases}


def _share(rows: list[dict[str, Any]], pred: Any) -> float:
    return sum(1 for r in rows if pred(r)) / max(1, len(rows))


# -- files and contract -------------------------------------------------------------------


def test_files_and_columns(world_dir: Path, world: dict[str, Any]) -> None:
    header = (world_dir / "accounts.csv").read_text().splitlines()[0].split(",")
    assert header == ACCOUNT_COLUMNS
    first = (world_dir / "truth.csv").read_text().splitlines()[0]
    assert first == "account_id,campaign_id,archetype"
    assert (world_dir / "releases.csv").read_text().splitlines()[0] == "model,released_at"
    assert len(list((world_dir / "logs").glob("*.jsonl.gz"))) == 6
    seen = {r["account"] for r in world["rows"]}
    assert seen <= set(world["accounts"])
    assert seen <= set(world["truth"])
    assert len(world["accounts"]) == 300


def test_every_archetype_in_the_small_world(world: dict[str, Any]) -> None:
    expected = set(sim.LEGIT_ARCHETYPES + sim.CAMPAIGN_ARCHETYPES)
    assert {a for a, rows in world["by"].items() if rows} == expected
    for t in world["truth"].values():
        legit = t["archetype"] in sim.LEGIT_ARCHETYPES
        assert (t["campaign_id"] == "") == legit
        if not legit:
            assert t["campaign_id"] == f"camp-{t['archetype']}-1"


def test_campaigns_few_accounts_large_volume(world: dict[str, Any]) -> None:
    truth = world["truth"].values()
    acc_share = sum(1 for t in truth if t["campaign_id"]) / len(world["truth"])
    req_share = _share(world["rows"], lambda r: world["truth"][r["account"]]["campaign_id"])
    assert acc_share < 0.1
    assert 0.25 < req_share < 0.5


def test_same_seed_same_bytes(world_dir: Path, tmp_path: Path) -> None:
    from tests.conftest import WORLD

    simulate(tmp_path / "again", **WORLD)
    for f in ["accounts.csv", "truth.csv", "releases.csv",
              *[f"logs/{p.name}" for p in (world_dir / "logs").glob("*.gz")]]:
        assert (tmp_path / "again" / f).read_bytes() == (world_dir / f).read_bytes(), f
    other = simulate(tmp_path / "other", **{**WORLD, "seed": 12, "days": 1})
    assert other.files
    first = sorted((world_dir / "logs").glob("*.gz"))[0]
    assert (tmp_path / "other" / other.files[0]).read_bytes() != first.read_bytes()


def test_requests_scales_total(tmp_path: Path) -> None:
    s = simulate(tmp_path, accounts=150, days=2, seed=5, requests=4000)
    assert 3200 < s.requests < 4800
    assert s.requests == sum(s.requests_per_archetype.values())
    assert s.campaign_accounts == sum(n for a, n in s.accounts_per_archetype.items()
                                      if a not in sim.LEGIT_ARCHETYPES)


def test_streaming_memory_stays_flat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim, "BLOCK", 400)
    peaks, buffered = [], []
    for n in (2000, 8000):
        tracemalloc.start()
        s = simulate(tmp_path / str(n), accounts=120, days=1, seed=2, requests=n)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        buffered.append(s.peak_buffered)
        assert s.requests > n * 0.8
    # Four times the requests: the records held at once stay near the block size...
    assert buffered[1] < 3 * 400
    # ...and so does peak memory (a whole-day buffer would grow about fourfold).
    assert peaks[1] < 1.6 * peaks[0]


def test_bad_parameters_are_explained() -> None:
    with pytest.raises(ParameterError, match=r"accounts=10 is too small.*--accounts \d+"):
        simulate("unused", accounts=10)
    with pytest.raises(ParameterError, match="start='Jan 5' is not a date"):
        simulate("unused", accounts=200, start="Jan 5")


# -- campaign archetypes ---------------------------------------------------------------------


def test_reasoning_harvester(world: dict[str, Any]) -> None:
    rows = world["by"]["reasoning_harvester"]
    accts = sorted({r["account"] for r in rows})
    fps = {world["accounts"][a]["payment_fingerprint"] for a in accts}
    assert len(fps) < len(accts)  # shared payment fingerprints
    per = Counter(r["account"] for r in rows)
    assert max(per.values()) < 1.1 * min(per.values())  # load-balanced round robin
    hours = defaultdict(set)
    for r in rows:
        hours[int(r["ts"] // 3600)].add(r["account"])
    assert _share(list(hours.values()), lambda s: len(s) == len(accts)) > 0.9  # synchronised
    p = [r["prompt"].lower() for r in rows]
    assert _share(p, lambda x: "step by step" in x or "internal reasoning" in x
                  or "chain of thought" in x) > 0.4
    assert _share(p, lambda x: "rubric" in x and "candidate answer" in x or "score" in x) > 0.15
    assert _share(p, lambda x: "censorship-safe" in x) > 0.1


def test_agentic_harvester(world: dict[str, Any]) -> None:
    rows = world["by"]["agentic_harvester"]
    assert _share(rows, lambda r: r["req"].get("tools")) > 0.7
    paths = {r["path"].split(":")[0] for r in rows}
    assert paths == {"direct", "cloud", "reseller"}
    start = min(r["ts"] for r in world["rows"])
    late = [r for r in rows if "reconstruct" in r["prompt"].lower()
            or "hidden chain of thought" in r["prompt"].lower()]
    assert late
    assert all(r["ts"] > start + 0.6 * 6 * 86400 for r in late)


def test_pivot_moves_half_within_a_day(world: dict[str, Any]) -> None:
    rel = world["releases"][NEW_MODEL]
    rows = world["by"]["pivot_harvester"]
    assert not [r for r in rows if r["model"] == NEW_MODEL and r["ts"] < rel]
    after = [r for r in rows if r["ts"] >= rel + 86400]
    assert 0.35 < _share(after, lambda r: r["model"] == NEW_MODEL) < 0.65
    legit = [r for r in world["rows"] if r["ts"] >= rel + 86400
             and world["truth"][r["account"]]["archetype"] in ("individual_dev", "startup_backend")]
    assert 0 < _share(legit, lambda r: r["model"] == NEW_MODEL) < 0.3  # legit drift is slow
    assert _share(rows, lambda r: r["req"].get("tools")) > 0.8


def test_hydra_bursts_replace_banned_accounts(world: dict[str, Any]) -> None:
    rows = world["by"]["hydra_network"]
    start = min(r["ts"] for r in world["rows"])
    accts = {a for a, t in world["truth"].items() if t["archetype"] == "hydra_network"}
    fresh = sorted(_ts(world["accounts"][a]["created_at"]) for a in accts
                   if _ts(world["accounts"][a]["created_at"]) > start)
    assert len(fresh) >= 2
    assert fresh[1] - fresh[0] < 3600
    last = {a: max(r["ts"] for r in rows if r["account"] == a) for a in accts
            if any(r["account"] == a for r in rows)}
    assert min(last.values()) < start + 2 * 86400  # banned accounts fall silent
    assert _share(rows, lambda r: "step by step" in r["prompt"].lower()
                  or "<think>" in r["prompt"]) > 0.2
    assert _share(rows, lambda r: "user_id" in str(r["req"].get("metadata"))
                  or r["req"].get("user")) > 0.9  # end users of the proxy's customers


def test_logit_prober_sweeps(world: dict[str, Any]) -> None:
    rows = world["by"]["logit_prober"]
    assert all(r["req"]["max_tokens"] == 1 and r["req"]["logprobs"] is True
               and r["req"]["top_logprobs"] in (5, 20) and len(r["req"]["logit_bias"]) >= 50
               for r in rows)
    by_prompt = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["ts"]):
        by_prompt[(r["account"], r["prompt"])].append(min(map(int, r["req"]["logit_bias"])))
    starts = max(by_prompt.values(), key=len)
    assert len(starts) > 20
    assert len(set(starts)) > 20
    assert "logprobs" in rows[0]["resp"]["choices"][0]


def test_trace_coercion_many_languages(world: dict[str, Any]) -> None:
    rows = world["by"]["trace_coercion"]
    scripts = {"cjk": r"[\u4e00-\u9fff\u3040-\u30ff]", "hangul": r"[\uac00-\ud7af]",
               "cyrillic": r"[\u0400-\u04ff]", "arabic": r"[\u0600-\u06ff]",
               "devanagari": r"[\u0900-\u097f]", "latin": r"^[\x00-\u024f\s]+$"}
    found = {k for r in rows for k, pat in scripts.items() if re.search(pat, r["prompt"])}
    assert len(found) >= 2
    assert all("<think>" in r["prompt"] for r in rows)
    content = rows[0]["resp"].get("content") or rows[0]["resp"].get("choices")
    assert "<think>" in json.dumps(content, ensure_ascii=False)


def test_adversarial_strings_only_in_campaigns(world: dict[str, Any]) -> None:
    def hostile(r: dict[str, Any]) -> bool:
        return any(p in r["prompt"] or p in r["ua"] for p in PAYLOADS)

    camp = [r for r in world["rows"] if world["truth"][r["account"]]["campaign_id"]]
    legit = [r for r in world["rows"] if not world["truth"][r["account"]]["campaign_id"]]
    assert 0.005 < _share(camp, hostile) < 0.3
    assert not any(hostile(r) for r in legit)
    assert {p for r in camp for p in PAYLOADS if p in r["prompt"] or p in r["ua"]} >= set(
        PAYLOADS[:2])


# -- legitimate look-alikes ----------------------------------------------------------------


def test_enterprise_batch_one_template_high_volume(world: dict[str, Any]) -> None:
    rows = world["by"]["enterprise_batch"]
    per = Counter(r["account"] for r in rows)
    harvest = Counter(r["account"] for r in world["by"]["reasoning_harvester"])
    assert min(per.values()) > max(harvest.values()) * 0.5  # as busy as a harvester
    for acct in per:
        heads = Counter(r["prompt"][:40] for r in rows if r["account"] == acct)
        assert heads.most_common(1)[0][1] == per[acct]  # one fixed template
    assert all(r["req"].get("temperature") == 0.0 for r in rows)


def test_eval_runner_bursts_step_by_step(world: dict[str, Any]) -> None:
    rows = world["by"]["eval_runner"]
    assert _share(rows, lambda r: "step by step" in r["prompt"].lower()) > 0.5
    by_day = defaultdict(list)
    for r in rows:
        by_day[(r["account"], int(r["ts"] // 86400))].append(r["ts"])
    big = [sorted(v) for v in by_day.values() if len(v) > 20]
    assert big
    assert all(v[-1] - v[0] < 4 * 3600 for v in big)


def test_education_cohort_one_domain_new_accounts(world: dict[str, Any]) -> None:
    accts = [world["accounts"][a] for a, t in world["truth"].items()
             if t["archetype"] == "education_cohort"]
    domains = Counter(a["email_domain"] for a in accts)
    domain, n = domains.most_common(1)[0]
    cohort = [a for a in accts if a["email_domain"] == domain]
    assert n >= 8
    assert {a["signup_path"] for a in cohort} == {"education"}
    created = sorted(_ts(a["created_at"]) for a in cohort)
    assert created[-1] - created[0] < 4 * 86400
    rows = world["by"]["education_cohort"]
    assert _share(rows, lambda r: "homework" in r["prompt"].lower()
                  or "assignment" in r["prompt"].lower() or "lab " in r["prompt"].lower()) > 0.3


def test_agent_products_and_resellers(world: dict[str, Any]) -> None:
    agents = world["by"]["agent_product"]
    assert _share(agents, lambda r: r["req"].get("tools")) > 0.8
    resold = world["by"]["reseller_customer"]
    assert all(r["path"].startswith("reseller:") for r in resold)
    users = {r["req"].get("user") or (r["req"].get("metadata") or {}).get("user_id")
             for r in resold}
    assert len(users) > 50
    startups = world["by"]["startup_backend"]
    assert _share(startups, lambda r: len(r["req"].get("messages", [])) > 2) > 0.2  # multi-turn


def test_legitimate_traffic_follows_local_time(world: dict[str, Any]) -> None:
    tz = {c[0]: c[1] for c in COUNTRIES}
    rows = world["by"]["individual_dev"] + world["by"]["startup_backend"]
    local = Counter(int(r["ts"] / 3600 + tz[world["accounts"][r["account"]]["country"]]) % 24
                    for r in rows)
    night = sum(local[h] for h in range(1, 6)) / 5
    day = sum(local[h] for h in range(10, 17)) / 7
    assert day > 2 * night  # customers sleep: not flat round the clock
    langs = {k for r in rows for k, pat in {"cjk": r"[\u3040-\u30ff\u4e00-\u9fff]",
                                               "accents": r"[éèñüçã]"}.items()
             if re.search(pat, r["prompt"])}
    assert langs


# -- variants -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evasive_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("evasive")
    simulate(out, accounts=150, days=2, seed=4, requests=3000, evasive=True)
    return out


def test_evasive_variants(evasive_dir: Path) -> None:
    truth = _csv(evasive_dir / "truth.csv")
    arch = {t["archetype"]: t["campaign_id"] for t in truth if t["campaign_id"]}
    for base in sim.CAMPAIGN_ARCHETYPES:
        assert arch[f"{base}_evasive"] == f"camp-{base}_evasive-1"
    accounts = {a["account_id"]: a for a in _csv(evasive_dir / "accounts.csv")}
    ev = [t["account_id"] for t in truth if t["archetype"] == "reasoning_harvester_evasive"]
    assert len({accounts[a]["payment_fingerprint"] for a in ev}) == len(ev)
    rows = [r for r in _read(evasive_dir) if r["account"] in set(ev)]
    prefixes = {r["ip"].rsplit(".", 1)[0] for r in rows}
    assert len(prefixes) > 0.8 * len(rows)  # residential addresses, not a shared proxy
    assert len({r["prompt"][:30] for r in rows}) > 0.5 * len(rows)


@pytest.fixture(scope="module")
def meta_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("meta")
    simulate(out, accounts=120, days=1, seed=6, requests=1500, metadata_only=True)
    return out


def test_metadata_only_has_no_content(meta_dir: Path) -> None:
    rows = _read(meta_dir)
    assert rows
    for r in rows:
        assert not {"messages", "system", "input", "instructions"} & set(r["req"])
        resp = r["resp"]
        assert "content" not in resp
        assert "output" not in resp
        assert all("message" not in c for c in resp.get("choices", []))
    assert any(r["req"].get("tools") for r in rows)  # metadata stays


def test_loads_into_a_case_with_nothing_quarantined(evasive_dir: Path, meta_dir: Path) -> None:
    pytest.importorskip("workbench.loaders")
    import workbench as wb

    case = wb.open()
    wb.load(case, sorted((evasive_dir / "logs").glob("*.jsonl.gz")),
              accounts=evasive_dir / "accounts.csv", releases=evasive_dir / "releases.csv",
              progress=False)
    # The metadata-only world is one day long, so its release time differs: logs and accounts.
    wb.load(case, sorted((meta_dir / "logs").glob("*.jsonl.gz")),
            accounts=meta_dir / "accounts.csv", progress=False)
    n = len(_read(evasive_dir)) + len(_read(meta_dir))
    assert case.sql("select count(*) as n from quarantine")["n"][0] == 0
    no_text = case.sql("select count(*) as n from requests where prompt_text is null")["n"][0]
    assert no_text == len(_read(meta_dir))
    assert case.sql("select count(*) as n from requests")["n"][0] == n
    orphans = case.sql("select count(*) as n from requests r anti join accounts a "
                       "using (account_id)")["n"][0]
    assert orphans == 0
    case.close()


def test_phrase_banks_fill() -> None:
    import random

    rng = random.Random(0)
    fams = text.bank("families")
    for name, spec in fams["families"].items():
        for tpl in spec["templates"]:
            assert not SLOT.search(text.fill(tpl, spec["slots"], rng)), name
    for lang in text.languages():
        for tpl in fams["multilingual"][lang]:
            assert not SLOT.search(text.fill(tpl, fams["multilingual"]["slots"], rng)), lang
    langs = set(text.campaign("coercion")) - {"_doc"}
    assert langs == set(text.campaign("coercion_questions"))


def test_cli_simulate(tmp_path: Path) -> None:
    from workbench.cli import _register, cli

    _register()
    res = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path), "--accounts", "120",
                                   "--days", "1", "--seed", "3", "--requests", "800"])
    assert res.exit_code == 0, res.output
    assert "requests from 120 accounts" in res.output
    assert (tmp_path / "logs" / "2026-01-05.jsonl.gz").exists()
    bad = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path), "--accounts", "5"])
    assert bad.exit_code == 2
    assert "accounts=5 is too small" in bad.output
