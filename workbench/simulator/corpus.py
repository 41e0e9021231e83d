"""Real-text mode: the simulator's prompts drawn at run time from a corpus of real public prompts.

The corpus (22 JSONL files of real public prompts labelled by `role` and `category`, see its
README) is not part of the project and is never copied into it: `locate()` finds it from
`WORKBENCH_CORPUS` or `../shared/corpus`, `load()` reads it into pools by role and category
(data/corpus_pools.json says which rows feed which pool), and `Corpus.prompt` draws one row,
filling template placeholders (`{instruction}`, `{{question}}`, `{$user_query}`) in judge,
chain-of-thought and evaluation templates with other corpus questions and simulated answers.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ParameterError
from workbench.simulator import text

__all__ = ["ENV", "Corpus", "load", "locate"]

ENV = "WORKBENCH_CORPUS"
POOLS = Path(__file__).resolve().parent / "data" / "corpus_pools.json"
MAX_FILL = 1500  # characters of a question put into a template's slot
# {{ jinja expression }}, {name} or {$name}, as the harnesses write their templates.
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}|\{\$?([A-Za-z_][A-Za-z_0-9]*)\}")
# Jinja statements and comments ({% for %}, {# … #}): a harness renders them; a loop's body is
# kept once.
STATEMENT = re.compile(r"\{%-?.*?-?%\}\n?|\{#.*?#\}", re.DOTALL)
ANSWER_WORDS = ("response", "answer", "output", "completion", "candidate", "resp", "reasoning",
                "reference")
RUBRIC_WORDS = ("rubric", "checklist", "criteria", "score")
OPTION_WORDS = ("choice", "option", "mc_answer")
NUMBER_WORDS = ("operand", "num")
SHORT = ("42", "Paris", "photosynthesis", "the second one", "yes", "no", "1912", "a prime",
         "blue", "7.5", "none of the above", "the mitochondria")
Row = tuple[str, str | None]  # (prompt, system prompt or None)


def locate(path: str | os.PathLike[str] | None = None) -> Path:
    """The corpus folder: `path`, else `$WORKBENCH_CORPUS`, else `../shared/corpus` (from the
    working directory, then from the project's folder).

    Raises:
        ParameterError: no folder with the corpus's JSONL files is found there.
    """
    here = Path(__file__).resolve().parents[2]
    tried = ([Path(path)] if path else [Path(os.environ[ENV])] if os.environ.get(ENV)
             else [Path("..") / "shared" / "corpus", here.parent / "shared" / "corpus"])
    for folder in tried:
        if folder.is_dir() and any(folder.glob("*.jsonl")):
            return folder.resolve()
    where = " or ".join(repr(str(f)) for f in tried)
    msg = (f"Real-text mode needs the prompt corpus, and there is none at {where}: set "
           f"{ENV} to the folder holding its *.jsonl files, or simulate with text='sim' "
           "(--text sim).")
    raise ParameterError(msg)


def _matches(row: dict[str, str], spec: dict[str, str]) -> bool:
    if row.get("role") != spec["role"]:
        return False
    cat, want = row.get("category", ""), spec["category"]
    return cat.startswith(want[:-1]) if want.endswith("*") else cat == want


@dataclass(frozen=True)
class Corpus:
    """Pools of (prompt, system prompt) rows by role and category, read from one corpus folder."""

    root: Path
    pools: dict[str, tuple[Row, ...]]
    fill: frozenset[str]

    def prompt(self, rng: random.Random, pool: str) -> Row:
        """One row of `pool`, its placeholders filled if the pool holds templates."""
        prompt, system = rng.choice(self.pools[pool])
        if pool in self.fill:
            prompt = self.fill_template(rng, prompt)
            system = self.fill_template(rng, system) if system else system
        return prompt, system

    def fill_template(self, rng: random.Random, template: str) -> str:
        """Fill every placeholder: question-like slots with another corpus question, answer-like
        slots with a simulated answer, rubric slots with rubric lines, options with short words.

        Example:
            >>> c = Corpus(Path("."), {"questions": (("What is 2+2?", None),)}, frozenset())
            >>> c.fill_template(random.Random(0), "Q: {question}\\nA: {{ answer }}")[:15]
            'Q: What is 2+2?'
            >>> c.fill_template(random.Random(0), "{% for i in x %}{{ choice }}{% endfor %}?")
            '1912?'
        """
        def one(m: re.Match[str]) -> str:
            name = (m.group(1) or m.group(2)).lower()
            if any(w in name for w in ANSWER_WORDS):
                return text.answer(rng, "chat", length=2)
            if any(w in name for w in RUBRIC_WORDS):
                return "\n".join(rng.sample(text.campaign("rubric_items"), k=3))
            if any(w in name for w in NUMBER_WORDS) or name in ("n", "i"):
                return str(rng.randint(2, 999))
            if name == "operator":
                return rng.choice(("+", "-", "*"))
            if any(w in name for w in OPTION_WORDS) or len(name) == 1:
                return rng.choice(SHORT)
            if name == "history":
                return ""
            return rng.choice(self.pools["questions"])[0][:MAX_FILL]

        return PLACEHOLDER.sub(one, STATEMENT.sub("", template))


def load(root: str | os.PathLike[str] | None = None) -> Corpus:
    """Read the corpus at `root` (default: `locate()`) into its pools (cached per folder).

    Example:
        >>> load("/no/such/corpus")
        Traceback (most recent call last):
        ...
        workbench.errors.ParameterError: Real-text mode needs the prompt corpus, ...
    """
    return _load(str(locate(root)))


@functools.cache
def _load(root: str) -> Corpus:
    spec = json.loads(POOLS.read_text(encoding="utf-8"))
    wanted: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for pool, sources in spec["pools"].items():
        for source in sources:
            wanted.setdefault(source["file"], []).append((pool, source))
    pools: dict[str, list[Row]] = {pool: [] for pool in spec["pools"]}
    for name in sorted(wanted):
        path = Path(root) / f"{name}.jsonl"
        if not path.exists():
            msg = (f"The corpus at {root!r} lacks {path.name}, which real-text mode draws from; "
                   f"point {ENV} at a complete copy of the corpus.")
            raise ParameterError(msg)
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                prompt = row.get("prompt")
                if not isinstance(prompt, str) or not prompt.strip():
                    continue
                for pool, source in wanted[name]:
                    if _matches(row, source):
                        pools[pool].append((prompt, row.get("system") or None))
    empty = sorted(p for p, rows in pools.items() if not rows)
    if empty:
        msg = (f"The corpus at {root!r} has no rows for pool(s) {', '.join(empty)} "
               f"(see {POOLS.name}); point {ENV} at a complete copy of the corpus.")
        raise ParameterError(msg)
    return Corpus(Path(root), {p: tuple(rows) for p, rows in pools.items()},
                  frozenset(spec["fill"]))
