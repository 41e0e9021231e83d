"""Shifted worlds and real-text mode: ranges never used in tuning, the realism they add, truth.

Request kinds are counted from the simulator's own generator (`behave.day_requests` over a
built world), so shares are checked exactly rather than guessed from wording; the rest reads a
small written shift-all world like tests/test_simulate.py does.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from workbench.errors import ParameterError, UnknownNameError
from workbench.simulator import simulate
from workbench.simulator.behave import day_requests
from workbench.simulator.population import build_world
from workbench.simulator.shift import DEFAULT, DIMENSIONS, NAMED, resolve
from workbench.simulator.world import DAY, NEW_MODEL, World, hydra_waves

SMALL = {"accounts": 400, "days": 8, "seed": 5, "requests": 24_000}
HARVEST = ("cot", "rubric", "censor", "coerce", "tool", "reconstruct")


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _kinds(world: World) -> dict[str, Counter[str]]:
    """Request kinds per archetype, from the generator that writes the logs."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for day in range(world.days):
        sync: dict[str, list[float]] = {}
        for actor in world.actors:
            rng = random.Random(f"{world.seed}:{actor.idx}:{day}")
            for r in day_requests(world, actor, day, rng, sync):
                out[actor.archetype][r.kind] += 1
    return out


@pytest.fixture(scope="module")
def shifted() -> World:
    return build_world(SMALL["accounts"], SMALL["days"], SMALL["seed"], SMALL["requests"],
                       False, "2026-01-05", False, resolve("shift-all", SMALL["seed"]))


@pytest.fixture(scope="module")
def kinds(shifted: World) -> dict[str, Counter[str]]:
    return _kinds(shifted)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shift-all")
    simulate(out, **SMALL, shift="shift-all")
    return out


# -- settings ----------------------------------------------------------------------------------


def test_named_shifts_are_deterministic_and_differ_by_seed() -> None:
    assert resolve(None, 1) is DEFAULT
    assert resolve("default", 1) is DEFAULT
    assert resolve("shift-b", 3) == resolve("shift-b", 3)
    assert resolve("shift-b", 3).camouflage != resolve("shift-b", 4).camouflage
    assert resolve(7, 1) == resolve("7", 2)  # an integer shift ignores the world seed
    assert set(resolve(7, 1).dims) == set(DIMENSIONS)
    assert set(NAMED["shift-all"]) == set(DIMENSIONS)
    moved = [set(NAMED[n]) for n in ("shift-a", "shift-b", "shift-c")]
    assert sum(len(m) for m in moved) == len(set.union(*moved))  # each moves its own dimensions


def test_unknown_shift_names_the_closest() -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown shift 'shift-d'.*Did you mean shift-"):
        resolve("shift-d", 1)


# Each dimension: how the default reads, and a check that the shifted value is outside it.
OPS = ("reasoning_harvester", "agentic_harvester", "pivot_harvester", "trace_coercion")
RANGES: list[tuple[str, Any]] = [
    ("campaign_accounts", lambda s: all(2.5 <= s.size_scale.get(k, 1) <= 4.0 for k in OPS)),
    ("campaign_volume", lambda s: all(0.4 <= s.volume_scale.get(k, 1) <= 0.7 for k in OPS)),
    ("rate_spread", lambda s: 0.8 <= s.rate_sigma <= 1.2),
    ("hydra_lifetime", lambda s: s.hydra_lifetime == (1.0, 3.0)),
    ("hydra_waves", lambda s: 0.5 <= s.hydra_wave_days <= 1.5),
    ("hydra_replacement", lambda s: s.hydra_replace_lag[1] <= 600),
    ("hydra_infra", lambda s: s.hydra_prefixes >= 12 and s.hydra_card_share <= 2
     and s.hydra_ua_rotation >= 2),
    ("camouflage", lambda s: all(0.3 <= s.camouflage.get(k, 0) <= 0.7 for k in OPS)
     and s.camouflage.get("hydra_network", 0) >= 0.5),
    ("access_paths", lambda s: len(s.path_mix) == 5 and all(min(m) > 0
                                                            for m in s.path_mix.values())),
    ("shared_payment", lambda s: 3 <= s.shared_cards <= 6),
    ("harvest_mix", lambda s: 0.18 <= (s.rubric_share or 0) <= 0.22
     and 0.04 <= s.hydra_censor <= 0.06),
    ("release", lambda s: s.release_frac is not None
     and (s.release_frac <= 0.3 or s.release_frac >= 0.7)),
    ("pivot_lag", lambda s: s.pivot_lag_hours[0] >= 20),
    ("wording", lambda s: s.wording == "alt"),
    ("lookalikes", lambda s: s.judge_pipelines >= 0.4 and s.cohort_size >= 40
     and s.cohort_signup_hours <= 6 and s.eval_burst_p >= 0.6),
]


@pytest.mark.parametrize(("dim", "outside_default"), RANGES, ids=[r[0] for r in RANGES])
@pytest.mark.parametrize("seed", [1, 2, 1001])
def test_each_dimension_is_drawn_outside_the_default(dim: str, outside_default: Any,
                                                     seed: int) -> None:
    name = next(n for n in ("shift-a", "shift-b", "shift-c") if dim in NAMED[n])
    s = resolve(name, seed)
    assert s.moves(dim)
    assert outside_default(s)
    assert not outside_default(DEFAULT)
    other = next(n for n in ("shift-a", "shift-b", "shift-c") if dim not in NAMED[n])
    assert not outside_default(resolve(other, seed))  # a shift moves only its own dimensions


def test_every_dimension_is_documented_with_both_ranges() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "simulator.md").read_text()
    for dim in DIMENSIONS:
        assert f"`{dim}`" in doc, dim
    for name in NAMED:
        assert f"`{name}`" in doc, name


# -- realism of the shifted world --------------------------------------------------------------


def test_hydra_accounts_live_days_and_are_born_in_waves(shifted: World) -> None:
    hydra = shifted.groups["hydra_network"]
    lives = [(a.active_to - a.active_from) / DAY for a in hydra
             if a.active_from > 0 and a.active_to < shifted.days * DAY]
    assert lives
    assert max(lives) <= 3.0 + shifted.shift.hydra_wave_days  # banned at the next wave
    assert min(lives) >= 0.9
    waves = hydra_waves(shifted.days, shifted.shift.hydra_wave_days)
    fresh = [a for a in hydra if a.created > 0]
    assert len(fresh) > len(hydra) / 2  # most of the network is replacements
    assert all(min(abs(a.created - w) for w in waves) <= 600 for a in fresh)
    banned = Counter(a.active_to for a in hydra if a.active_to < shifted.days * DAY)
    born = Counter(min(waves, key=lambda w, a=a: abs(a.created - w)) for a in fresh)
    assert born == banned  # every banned account is replaced at the wave that banned it


def test_hydra_shares_infrastructure_loosely(shifted: World) -> None:
    hydra = shifted.groups["hydra_network"]
    prefixes = {ip.rsplit(".", 1)[0] for a in hydra for ip in a.ips}
    assert len(prefixes) >= 12
    assert all(len({ip.rsplit(".", 1)[0] for ip in a.ips}) < len(prefixes) for a in hydra)
    assert len({a.fingerprint for a in hydra}) > len(hydra) / 3
    assert all(len(a.extra["uas"]) >= 2 for a in hydra)


def test_camouflage_and_harvest_mix(kinds: dict[str, Counter[str]], shifted: World) -> None:
    def share(arch: str, *which: str) -> float:
        c = kinds[arch]
        return sum(c[k] for k in which) / sum(c.values())

    hydra_chat = shifted.shift.camouflage["hydra_network"]
    assert share("hydra_network", "plain") == pytest.approx(hydra_chat, abs=0.08)
    assert share("hydra_network", "censor") == pytest.approx(shifted.shift.hydra_censor,
                                                             abs=0.025)
    for arch in ("reasoning_harvester", "agentic_harvester", "trace_coercion"):
        assert share(arch, "plain") == pytest.approx(shifted.shift.camouflage[arch], abs=0.1)
    assert share("reasoning_harvester", "rubric") == pytest.approx(shifted.shift.rubric_share,
                                                                   abs=0.05)
    assert share("reasoning_harvester", "censor") == 0.0
    assert share("logit_prober", "plain") == 0.0


def test_operations_spread_over_three_paths_with_a_client_each(written: Path) -> None:
    truth = {t["account_id"]: t for t in _csv(written / "truth.csv")}
    accounts = {a["account_id"]: a for a in _csv(written / "accounts.csv")}
    seen: dict[str, set[str]] = defaultdict(set)
    for path in sorted((written / "logs").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                e = json.loads(line)
                if truth[e["account_id"]]["archetype"] == "agentic_harvester":
                    seen[e["access_path"]].add(e["user_agent"].split(" <")[0])
    assert {p.split(":")[0] for p in seen} == {"direct", "cloud", "reseller"}
    assert all(len(uas) == 1 for uas in seen.values())  # one client per path...
    assert len({next(iter(u)) for u in seen.values()}) > 2  # ...and different across paths
    agentic = [a for a, t in truth.items() if t["archetype"] == "agentic_harvester"]
    assert {accounts[a]["signup_path"] for a in agentic} == {
        "self_serve", "cloud_marketplace", "reseller"}


def test_two_operations_share_cards_and_stay_two_campaigns(written: Path) -> None:
    truth = _csv(written / "truth.csv")
    accounts = {a["account_id"]: a for a in _csv(written / "accounts.csv")}
    cards = {arch: {accounts[t["account_id"]]["payment_fingerprint"] for t in truth
                    if t["archetype"] == arch}
             for arch in ("reasoning_harvester", "agentic_harvester")}
    shared = cards["reasoning_harvester"] & cards["agentic_harvester"]
    want = resolve("shift-all", SMALL["seed"]).shared_cards
    assert len(shared) == min(want, len(cards["reasoning_harvester"])) >= 2
    camp = {t["campaign_id"] for t in truth if accounts[t["account_id"]]["payment_fingerprint"]
            in shared}
    assert camp == {"camp-reasoning_harvester-1", "camp-agentic_harvester-1"}


def test_truth_is_exact_and_settings_are_written(written: Path, tmp_path: Path) -> None:
    truth = {t["account_id"]: t for t in _csv(written / "truth.csv")}
    for t in truth.values():
        legit = t["archetype"] in ("individual_dev", "startup_backend", "enterprise_batch",
                                   "eval_runner", "education_cohort", "agent_product",
                                   "reseller_customer")
        assert t["campaign_id"] == ("" if legit else f"camp-{t['archetype']}-1")
    about = json.loads((written / "world.json").read_text())
    assert about["shift"]["name"] == "shift-all"
    assert about["shift"]["hydra_lifetime"] == [1.0, 3.0]
    assert about["text"] == "sim"
    default = simulate(tmp_path / "d", accounts=150, days=2, seed=5, requests=2000)
    assert default.shift == "default"
    assert not (tmp_path / "d" / "world.json").exists()


def test_release_pivot_and_lookalikes(written: Path, shifted: World) -> None:
    start = shifted.start
    release = {r["model"]: _ts(r["released_at"]) for r in _csv(written / "releases.csv")}
    frac = (release[NEW_MODEL] - start) / (shifted.days * DAY)
    assert frac < 0.4 or frac > 0.7
    pivot = shifted.groups["pivot_harvester"]
    assert all(a.extra["adopt"] - shifted.release_at >= 20 * 3600 for a in pivot)
    big = build_world(1500, 2, 5, 1000, False, "2026-01-05", False, resolve("shift-c", 5))
    assert any(a.extra.get("judge") for a in big.groups["enterprise_batch"])
    assert not all(a.extra.get("judge") for a in big.groups["enterprise_batch"])
    assert any(a.extra.get("judge_suite") for a in big.groups["eval_runner"])
    cohort = Counter(a.email_domain for a in big.groups["education_cohort"])
    assert max(cohort.values()) >= 40
    for domain in cohort:
        made = sorted(a.created for a in big.groups["education_cohort"]
                      if a.email_domain == domain)
        assert made[-1] - made[0] <= 6 * 3600


def test_shifted_world_same_seed_same_bytes(written: Path, tmp_path: Path) -> None:
    simulate(tmp_path, **SMALL, shift="shift-all")
    for f in ("accounts.csv", "truth.csv", "world.json", "logs/2026-01-07.jsonl.gz"):
        assert (tmp_path / f).read_bytes() == (written / f).read_bytes(), f


def test_cli_shift_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.cli import _register, cli

    _register()
    res = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path), "--accounts", "150",
                                   "--days", "3", "--requests", "2000", "--shift", "shift-a"])
    assert res.exit_code == 0, res.output
    assert "(shift-a)" in res.output
    bad = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path), "--shift", "shift-x"])
    assert bad.exit_code != 0
    assert "Unknown shift 'shift-x'" in bad.output
    monkeypatch.setenv("WORKBENCH_CORPUS", str(tmp_path / "no-corpus"))
    bad = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path), "--text", "corpus"])
    assert bad.exit_code != 0
    assert "Real-text mode needs the prompt corpus" in bad.output
    assert "Traceback" not in bad.output


# -- real-text mode ----------------------------------------------------------------------------


def test_corpus_absent_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CORPUS", str(tmp_path))
    with pytest.raises(ParameterError, match=r"needs the prompt corpus.*WORKBENCH_CORPUS"):
        simulate(tmp_path / "w", accounts=150, days=2, text="corpus")
    assert not (tmp_path / "w").exists()  # nothing half-written
    with pytest.raises(UnknownNameError, match="Unknown text mode 'real'"):
        simulate(tmp_path / "w", accounts=150, days=2, text="real")


@pytest.fixture(scope="module")
def corpus_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from workbench.simulator import corpus

    try:
        found = corpus.load()
    except ParameterError:
        pytest.skip("the shared prompt corpus is absent (../shared/corpus, $WORKBENCH_CORPUS)")
    out = tmp_path_factory.mktemp("real-text")
    simulate(out, accounts=200, days=3, seed=9, requests=6000, text="corpus")
    return out, found


def test_real_text_draws_prompts_from_the_corpus_by_role(corpus_world: tuple[Path, Any]) -> None:
    out, found = corpus_world
    truth = {t["account_id"]: t["archetype"] for t in _csv(out / "truth.csv")}
    pools = {name: {p for p, _ in rows} for name, rows in found.pools.items()}
    firsts: dict[str, list[str]] = defaultdict(list)
    for path in sorted((out / "logs").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                e = json.loads(line)
                turns = e["request"].get("messages") or e["request"].get("input") or []
                users = [t["content"] for t in turns if t["role"] == "user"]
                if len(users) == 1:
                    firsts[truth[e["account_id"]]].append(users[0])
    def from_pool(arch: str, *names: str) -> float:
        rows = firsts[arch]
        hits = sum(1 for p in rows if any(p.split(" <")[0] in pools[n] for n in names))
        return hits / len(rows)

    assert from_pool("reasoning_harvester", "cot", "maths_harvest", "instruction_harvest") > 0.3
    assert from_pool("eval_runner", "eval") > 0.2
    assert not any("{{" in p or "{question}" in p for p in firsts["eval_runner"])
    assert from_pool("individual_dev", "chat", "coding", "maths", "tool") > 0.4
    assert from_pool("agentic_harvester", "tool_harvest", "code_harvest") > 0.3
    judge = [p for p in firsts["reasoning_harvester"] if "###Task Description" in p
             or "[Question]" in p or "### Instruction" in p]
    assert judge
    assert not any("{instruction}" in p or "{question}" in p or "{response}" in p
                   for p in judge)
