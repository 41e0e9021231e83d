"""Read the reviewable lexicon and pattern files under workbench/data/lexicons/.

Each concern has one TOML file: `masking`, `languages`, `capability` and one per flag
(`cot_elicitation`, `rubric_grading`, `sensitive_rewrite`, `trace_coercion`).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import CatalogueError, unknown

LEXICON_DIR = Path(__file__).resolve().parent.parent / "data" / "lexicons"

# features column -> lexicon file stem
FLAGS: dict[str, str] = {
    "cot_flag": "cot_elicitation",
    "rubric_flag": "rubric_grading",
    "sensitive_flag": "sensitive_rewrite",
    "coercion_flag": "trace_coercion",
}


def names() -> list[str]:
    """Stems of every lexicon file."""
    return sorted(p.stem for p in LEXICON_DIR.glob("*.toml"))


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The parsed TOML of one lexicon file.

    Example:
        >>> load("cot_elicitation")["column"]
        'cot_flag'
    """
    path = LEXICON_DIR / f"{name}.toml"
    if not path.exists():
        err = unknown("lexicon", name, names())
        raise err
    with path.open("rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            msg = f"Lexicon {str(path)!r} is not valid TOML: {exc}. Fix the file."
            raise CatalogueError(msg) from None


@dataclass(frozen=True)
class FlagRules:
    """One flag's rules: fires if any of `patterns` matches or every pattern of one `all` group."""

    column: str
    patterns: tuple[str, ...]
    all_groups: tuple[tuple[str, ...], ...]


def flag_rules(column: str) -> FlagRules:
    """The compiled-from-data rules of one flag column.

    Example:
        >>> flag_rules("rubric_flag").column
        'rubric_flag'
    """
    if column not in FLAGS:
        err = unknown("flag", column, FLAGS)
        raise err
    data = load(FLAGS[column])
    if data.get("column") != column:
        msg = (f"Lexicon {FLAGS[column]!r} declares column {data.get('column')!r}, "
               f"expected {column!r}.")
        raise CatalogueError(msg)
    groups = tuple(tuple(g["patterns"]) for g in data.get("all", []))
    return FlagRules(column, tuple(data.get("patterns", [])), groups)
