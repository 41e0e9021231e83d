"""What each archetype asks: prompt wording, task family, parameters and tools of each request.

A `Maker` starts a session (`start`) and produces its next request (`next`). Campaign makers
follow the public descriptions cited in docs/simulator.md; evasive variants paraphrase instead
of templating and vary their parameters. A shifted world may word campaigns from other phrase
banks (`words`); in real-text mode (`world.corpus`) prompts come from the public prompt corpus
by role and category, where it has them (`CORPUS_FAMILY` and the pools named below).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from workbench.simulator import text
from workbench.simulator.world import DAY, NEW_MODEL, Actor, World

State = dict[str, Any]
# Everyday task family -> corpus pool in real-text mode (other families: benign chat).
CORPUS_FAMILY = {"coding": "coding", "maths": "maths", "agent": "tool"}


def words(world: World, key: str) -> Any:
    """Campaign wording of `key`, from the world's phrase banks (shifted worlds: other ones)."""
    return text.campaign(key, world.shift.wording)


@dataclass(slots=True)
class Req:
    """One request before rendering."""

    ms: int  # milliseconds since the day's start
    prompt: str
    kind: str = "plain"
    fam: str = "chat"
    model: str = "lumen-2"
    history: list[str] = field(default_factory=list)  # earlier user/assistant texts
    system: str | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stream: bool = False
    thinking: int = 0
    tools: str | None = None
    tool_call: bool = False
    end_user: str | None = None
    logit_bias: dict[str, int] | None = None
    top_logprobs: int | None = None
    lang: str = "en"
    extra_tool: str | None = None


def choose_model(world: World, actor: Actor, t: float, rng: random.Random) -> str:
    """The model of one request: the new model after the actor adopts it, else its usual ones."""
    ex = actor.extra
    if t >= ex.get("adopt", math.inf) and rng.random() < ex.get("new_share", 0.5):
        return NEW_MODEL
    models = ex["models"]
    return models[0] if len(models) == 1 or rng.random() < 0.8 else rng.choice(models)


def vary_params(rng: random.Random, r: Req) -> None:
    """Vary the parameters the way real clients set them."""
    r.max_tokens = rng.choice((256, 512, 1024, 1024, 2048, 4096, 4096, 8192, 1000, 16000))
    r.temperature = rng.choice((None, None, 0.0, 0.2, 0.7, 0.7, 1.0))
    if rng.random() < 0.08:
        r.top_p = rng.choice((0.9, 0.95, 1.0))
    if rng.random() < 0.03:
        r.top_k = rng.choice((40, 50))
    r.stream = rng.random() < 0.5


def _followup(rng: random.Random) -> str:
    return str(rng.choice(text.bank("families")["followups"]))


def _end_user(rng: random.Random, actor: Actor) -> str | None:
    n = actor.extra.get("end_users")
    return f"eu-{actor.idx:05d}-{rng.randrange(n):05d}" if n else None


class Maker:
    """Everyday traffic: a family per session, follow-ups, varied parameters."""

    families: list[str] | None = None
    multi_turn = True  # whether later requests of a session carry the earlier turns

    def start(self, rng: random.Random, actor: Actor, world: World, t: float) -> State:
        multi = actor.extra.get("multilingual", 0.5)
        lang = actor.lang if actor.lang != "en" and rng.random() < multi else "en"
        if actor.extra.get("multilingual") and rng.random() < actor.extra["multilingual"]:
            lang = rng.choice(text.languages())
        return {"fam": text.family(rng, self.families), "lang": lang, "turn": 0,
                "user": _end_user(rng, actor), "think": actor.extra.get("think")
                and rng.random() < 0.4}

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        s["turn"] += 1
        system = actor.extra.get("system")
        if s["turn"] > 1 and rng.random() < 0.45:
            p = _followup(rng)
        elif world.corpus is not None and s["lang"] == "en":
            p, own = world.corpus.prompt(rng, CORPUS_FAMILY.get(s["fam"], "chat"))
            system = system or own
        else:
            p = text.prompt(rng, s["fam"], s["lang"])
        r = Req(0, p, fam=s["fam"], model=choose_model(world, actor, t, rng), lang=s["lang"],
                end_user=s["user"], system=system)
        vary_params(rng, r)
        if s["think"]:
            r.thinking = rng.choice((1024, 2048, 4096, 8000))
            r.max_tokens = max(r.max_tokens, r.thinking + 1024)
        return r


class Startup(Maker):
    families = ["chat", "support", "writing", "analysis"]


class Homework(Maker):
    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        s["turn"] += 1
        if s["turn"] > 1 and rng.random() < 0.4:
            p = _followup(rng)
        elif world.corpus is not None:
            p, _ = world.corpus.prompt(rng, "coding" if rng.random() < 0.7 else "maths")
        else:
            p = text.fill(rng.choice(text.campaign("homework")), text.campaign("homework_slots"),
                          rng)
        r = Req(0, p, fam="coding", model=choose_model(world, actor, t, rng))
        vary_params(rng, r)
        return r


class Agent(Maker):
    """Agent products: tool definitions in most calls, tool calls in many answers."""

    families = ["agent", "support"]

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        r = super().next(rng, actor, world, s, t)
        if rng.random() < actor.extra["tool_p"]:
            r.tools, r.tool_call = actor.extra["tools"], rng.random() < 0.6
        return r


class Batch(Maker):
    """Enterprise pipeline: one fixed template, temperature 0, fixed max_tokens."""

    multi_turn = False

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        doc = text.fill(rng.choice(text.campaign("enterprise_docs")),
                        {"n": [str(rng.randrange(10000, 99999))], "d": [str(rng.randint(1, 28))]},
                        rng)
        fixed = {"id": str(rng.randrange(10**6, 10**7)), "doc": doc}
        if actor.extra.get("judge"):  # a QA pipeline grading its own support bot's replies
            fixed["reply"] = rng.choice(text.shifted("pipeline_replies"))
        p = text.fill(actor.extra["template"], {}, rng, fixed)
        return Req(0, p, kind="grade" if actor.extra.get("judge") else "batch", fam="data",
                   model=choose_model(world, actor, t, rng),
                   max_tokens=actor.extra["max_tokens"], temperature=0.0)


class Eval(Maker):
    """Benchmark suites: step-by-step prompts, temperature 0, one model per run."""

    multi_turn = False

    def start(self, rng: random.Random, actor: Actor, world: World, t: float) -> State:
        run = random.Random(f"run:{actor.idx}:{int(t)}")
        return {"model": choose_model(world, actor, t, run)}

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        judge = actor.extra.get("judge_suite")
        system = None
        if world.corpus is not None:
            p, system = world.corpus.prompt(rng, "judge" if judge else "eval")
        else:
            suites = text.shifted("eval_judge_suites") if judge else text.campaign("eval_suites")
            p = text.fill(rng.choice(suites[actor.extra["suite"]]), text.campaign("eval_slots"),
                          rng)
        return Req(0, p, kind="rubric" if judge else "eval", fam="maths", model=s["model"],
                   max_tokens=2048, temperature=0.0, system=system)


def _q(rng: random.Random, world: World) -> str:
    if rng.random() < 0.6:
        return str(rng.choice(words(world, "hard_questions")))
    return text.prompt(rng, text.family(rng, ["coding", "maths", "analysis"]))


# Real-text mode: where a reasoning harvester's chain-of-thought requests come from.
COT_POOLS = (("cot", 0.5), ("maths_harvest", 0.25), ("instruction_harvest", 0.25))


def censor(rng: random.Random, world: World) -> str:
    """A censorship-safe rewrite request (project wording in every mode: no corpus has one)."""
    return text.fill(rng.choice(words(world, "censorship_prompts")),
                     {"t": words(world, "sensitive_topics")}, rng)


class Reasoning(Maker):
    """Reasoning harvester: CoT elicitation, rubric grading, censorship-safe rewrites."""

    multi_turn = False

    def start(self, rng: random.Random, actor: Actor, world: World, t: float) -> State:
        return {}

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        x = rng.random()
        cot, rubric = actor.extra.get("mix", (0.55, 0.8))  # cumulative: CoT, then rubric
        system = None
        if x < cot:
            kind = "cot"
            if world.corpus is not None:
                pool = rng.choices([c for c, _ in COT_POOLS], [w for _, w in COT_POOLS])[0]
                p, system = world.corpus.prompt(rng, pool)
            elif actor.evasive:
                p = text.paraphrase_cot(rng, _q(rng, world), words(world, "cot_paraphrase_parts"))
            else:
                p = text.fill(rng.choice(words(world, "cot_wrappers")), {}, rng,
                              {"q": _q(rng, world)})
        elif x < rubric:
            kind = "rubric"
            if world.corpus is not None:
                p, system = world.corpus.prompt(rng, "judge_harvest")
            else:
                items = rng.sample(words(world, "rubric_items"), k=rng.randint(3, 5))
                p = text.fill(rng.choice(words(world, "rubric_prompts")), {}, rng, {
                    "q": _q(rng, world), "a": rng.choice(words(world, "candidate_answers")),
                    "r": "\n".join(items)})
        else:
            kind = "censor"
            p = censor(rng, world)
        r = Req(0, p, kind=kind, fam="reasoning", model=choose_model(world, actor, t, rng),
                max_tokens=16000, temperature=1.0, system=system)
        if rng.random() < 0.5:
            r.thinking = rng.choice((8000, 16000, 12000)) if not actor.evasive else \
                rng.randint(2000, 12000)
        if actor.evasive:
            vary_params(rng, r)
            r.max_tokens = max(r.max_tokens, r.thinking + 2048)
        return r


class Agentic(Maker):
    """Agentic harvester and pivot: tool loops over coding, data, computer use, orchestration."""

    def start(self, rng: random.Random, actor: Actor, world: World, t: float) -> State:
        late = t > world.days * DAY * 0.6 and actor.base == "agentic_harvester"
        slots = text.campaign("agentic_slots")
        system = None
        if late and rng.random() < 0.3:  # the later phase: reconstruct reasoning traces
            task, kind = text.fill(rng.choice(words(world, "agentic_reconstruct")), slots,
                                   rng), "reconstruct"
        elif world.corpus is not None:
            task, system = world.corpus.prompt(rng, "tool_harvest" if rng.random() < 0.7
                                               else "code_harvest")
            kind = "tool"
        else:
            task, kind = text.fill(rng.choice(words(world, "agentic_tasks")), slots, rng), "tool"
        if actor.evasive:
            task = rng.choice(text.bank("families")["openers"]) + task
        return {"task": task, "kind": kind, "turn": 0, "system": system,
                "model": choose_model(world, actor, t, rng)}

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        s["turn"] += 1
        p = s["task"] if s["turn"] == 1 else rng.choice(
            ("Tool result received. Continue.", "Next step.", "The tests still fail; keep going.",
             "Done? Verify and report.", "Continue with the plan."))
        r = Req(0, p, kind=s["kind"], fam="agentic", model=s["model"],
                max_tokens=rng.choice((8192, 16000, 32000)), temperature=rng.choice((None, 1.0)),
                stream=rng.random() < 0.7, system=s.get("system"))
        if s["kind"] == "tool" and rng.random() < actor.extra["tool_p"]:
            r.tools, r.tool_call = actor.extra["tools"], rng.random() < 0.7
            if rng.random() < 0.01:
                r.extra_tool = rng.choice(text.campaign("payloads")[:3])
        if rng.random() < 0.3:
            r.thinking = 4096
        return r


class Hydra(Maker):
    """Proxy reseller: genuine customers' traffic mixed with harvesting."""

    def start(self, rng: random.Random, actor: Actor, world: World, t: float) -> State:
        s = super().start(rng, actor, world, t)
        s["genuine"] = rng.random() < actor.extra["genuine"]
        return s

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        if s["genuine"]:
            return super().next(rng, actor, world, s, t)
        share = actor.extra.get("censor", 0.0)  # of all traffic, so of harvesting 1/(1-genuine)
        if share and rng.random() < share / (1.0 - actor.extra["genuine"]):
            r = Req(0, censor(rng, world), kind="censor", fam="reasoning",
                    model=choose_model(world, actor, t, rng), max_tokens=16000, temperature=1.0,
                    end_user=s["user"])
            return r
        x = rng.random()
        if x < 0.6:
            r = Reasoning().next(rng, actor, world, s, t)
        else:
            r = Coercion().next(rng, actor, world, {"langs": ["en", "zh", "ru"]}, t)
        r.end_user = s["user"]
        return r


class Logit(Maker):
    """Logit prober: the same prompt repeated with logit_bias swept over token blocks."""

    multi_turn = False

    def start(self, rng: random.Random, actor: Actor, world: World, t: float) -> State:
        block = rng.choice((10, 20, 30)) if actor.evasive else rng.choice((50, 100, 300))
        return {"prompt": rng.choice(text.campaign("logit_prompts")), "block": block,
                "i": rng.randrange(0, 100_000 // block),
                "top": 5 if actor.evasive else rng.choice((5, 20))}

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        lo = s["i"] * s["block"]
        s["i"] += 1
        bias = 100 if not actor.evasive else rng.choice((60, 80, 100))
        lb = {str(tok): bias for tok in range(lo, lo + s["block"])}
        return Req(0, s["prompt"], kind="logit", fam="other",
                   model=choose_model(world, actor, t, rng),
                   max_tokens=1 if not actor.evasive else rng.choice((1, 1, 2)),
                   temperature=0.0, logit_bias=lb, top_logprobs=s["top"])


class Coercion(Maker):
    """Reasoning-trace coercion: structured prompts in many languages."""

    multi_turn = False

    def start(self, rng: random.Random, actor: Actor, world: World, t: float) -> State:
        return {"langs": actor.extra["langs"]}

    def next(self, rng: random.Random, actor: Actor, world: World, s: State, t: float) -> Req:
        lang = rng.choice(s["langs"])
        q = rng.choice(text.campaign("coercion_questions")[lang])
        tpl = text.campaign("coercion")[lang]
        if actor.evasive:  # drop the bracketed headings and move the question last
            body = "\n".join(x for x in tpl.split("\n") if "{q}" not in x and "[" not in x
                             and "【" not in x)
            p = f"{body}\n\n{q}"
        else:
            p = text.fill(tpl, {}, rng, {"q": q})
        return Req(0, p, kind="coerce", fam="reasoning", model=choose_model(world, actor, t, rng),
                   max_tokens=rng.choice((8192, 16000)), lang=lang,
                   thinking=rng.choice((0, 4096)), temperature=rng.choice((None, 0.6)))


def maker(actor: Actor) -> Maker:
    """The prompt maker for an account's archetype."""
    base = actor.base
    if actor.extra.get("homework"):
        return Homework()
    table: dict[str, type[Maker]] = {
        "startup_backend": Startup, "agent_product": Agent, "enterprise_batch": Batch,
        "eval_runner": Eval, "reasoning_harvester": Reasoning, "agentic_harvester": Agentic,
        "pivot_harvester": Agentic, "hydra_network": Hydra, "logit_prober": Logit,
        "trace_coercion": Coercion,
    }
    return table.get(base, Maker)()
