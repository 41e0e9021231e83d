"""Read the public prompt corpus (`../shared/corpus`) for measuring the text features.

The corpus is evaluation material, never project data: this module reads it where it is
present (benchmarks, optional tests), maps each row's category onto the README's categories,
says which files are the development set the lexicons were written against and which are held
out (data/lexicons/corpus.toml), and fills template placeholders with the project's own plain
text, since real traffic sends judge templates filled.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.textfeatures.lexicons import FLAGS, load

#: The README's categories; any other maps through corpus.toml [categories] or to `other`.
CATEGORIES = ("chat", "cot_elicitation", "judge_rubric", "tool_use", "coding",
              "instruction_task", "eval_benchmark", "maths", "other")

# {name}, {{name}}, {$name} and ${name}; JSON objects in templates ({"score": 1}) do not match
PLACEHOLDER = re.compile(r"\{\{\s*\$?([A-Za-z_][A-Za-z0-9_]{0,40})\s*\}\}"
                         r"|\$?\{\$?([A-Za-z_][A-Za-z0-9_]{0,40})\}")


@dataclass(frozen=True)
class CorpusPrompt:
    """One corpus row, with its category mapped and its file's split."""

    file: str
    role: str
    category: str
    raw_category: str
    split: str  # "dev" or "held_out"
    prompt: str
    system: str | None = None


@dataclass(frozen=True)
class Target:
    """A bound on one flag's fire rate over the corpus prompts of one category (and role)."""

    flag: str
    category: str
    role: str | None
    bound: float
    at_least: bool

    def selects(self, row: CorpusPrompt) -> bool:
        """Whether the row is one of the prompts this target is measured on."""
        return row.category == self.category and self.role in (None, row.role)

    def met(self, rate: float) -> bool:
        """Whether a measured fire rate meets the bound."""
        return rate >= self.bound if self.at_least else rate <= self.bound

    def __str__(self) -> str:
        where = f"{self.role} {self.category}" if self.role else self.category
        return f"{self.flag} {'>=' if self.at_least else '<='} {self.bound:.0%} on {where}"


def targets() -> list[Target]:
    """Issue 16's targets (corpus.toml `[[target]]`), one per flag, `*` expanded.

    Example:
        >>> [str(t) for t in targets()][:2]
        ['rubric_flag >= 90% on judge_rubric', 'cot_flag >= 90% on cot_elicitation']
    """
    out = []
    for t in load("corpus")["target"]:
        for flag in (FLAGS if t["flag"] == "*" else [t["flag"]]):
            at_least = "at_least" in t
            out.append(Target(flag, t["category"], t.get("role"),
                              float(t["at_least" if at_least else "at_most"]), at_least))
    return out


def off_target() -> float:
    """The most a flag may fire on a (role, category) group that is not its target category."""
    return float(load("corpus")["off_target"])


def category(raw: str) -> str:
    """The README category of a row's raw category.

    Example:
        >>> category("judge_rubric"), category("mt_bench/writing"), category("gsm8k_test")
        ('judge_rubric', 'eval_benchmark', 'maths')
    """
    if raw in CATEGORIES:
        return raw
    return str(load("corpus")["categories"].get(raw.split("/", 1)[0], "other"))


def split(file: str) -> str:
    """`dev` for the files the lexicons were written against, else `held_out`.

    Example:
        >>> split("bbh_cot_prompts.jsonl"), split("prometheus_judge.jsonl"), split("new.jsonl")
        ('dev', 'held_out', 'held_out')
    """
    return "dev" if file in load("corpus")["split"]["dev"] else "held_out"


def read_corpus(corpus: Path) -> list[CorpusPrompt]:
    """Every row of every `*.jsonl` file under `corpus`, in file order.

    Raises FileNotFoundError when `corpus` is not a directory (callers skip on it).
    """
    if not corpus.is_dir():
        msg = f"No prompt corpus at {str(corpus)!r}."
        raise FileNotFoundError(msg)
    rows = []
    for path in sorted(corpus.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    rows.append(CorpusPrompt(path.name, r["role"], category(r["category"]),
                                             r["category"], split(path.name), r["prompt"],
                                             r.get("system")))
    return rows


def has_placeholders(text: str) -> bool:
    """Whether a template still has unfilled placeholders.

    Example:
        >>> has_placeholders("Rate {answer}"), has_placeholders('Reply {"score": 3}')
        (True, False)
    """
    return PLACEHOLDER.search(text) is not None


def fill_placeholders(text: str) -> str:
    """The template with each placeholder replaced by plain text of its kind (corpus.toml).

    Example:
        >>> fill_placeholders("Q: {question}\\nA: {{answer_1}}\\nB: {$answer_2}")[:40]
        'Q: Why does water boil at a lower temper'
    """
    spec = load("corpus")["fill"]
    classes = [(re.compile(c["names"]), c["texts"]) for c in spec["class"]]
    used: dict[int, int] = {}

    def one(m: re.Match[str]) -> str:
        name = (m.group(1) or m.group(2)).lower()
        for i, (pattern, texts) in enumerate(classes):
            if pattern.search(name):
                k = used.get(i, 0)
                used[i] = k + 1
                return str(texts[k % len(texts)])
        return str(spec["default"])

    return PLACEHOLDER.sub(one, text)
