"""Many regexes over a batch of texts: one Aho-Corasick pass, then each regex on its candidates.

Running every lexicon pattern over every prompt costs one pass of the text per pattern, about
150 passes. Almost every pattern needs some literal to be present for it to match (a pattern
for "chain of thought" cannot match a text without "thought"), so `required_literals` reads
each pattern and finds a set of literals such that every match contains one of them. One
Aho-Corasick scan of the batch's bytes finds which texts hold which literals, and each pattern
then runs only on the texts that hold one of its literals. The answer is exactly the pattern's
own: a text without any of the literals cannot match, and every candidate is checked by the
regex itself. Patterns for which no literal of at least `MIN_BYTES` bytes is required (`\\d`,
single words such as "i") run on every text.

A pattern whose alternatives do not share literals is split at its top-level `|` into
branches, each filtered on its own; the pattern matches when any branch does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

import numpy as np
import polars as pl

MIN_BYTES = 3  # shorter literals (a digit, "i") are in most texts: no use as a filter
_LIMIT = 64  # most strings one node's literal set may enumerate
_BIG = "\u0100-\uffff"  # stands for a Unicode property class: large, hence no literal
_Lits = frozenset[str]


# Rust syntax Python would read differently (inline flags such as (?i), \pL, \b{start},
# nested classes and class set operations): such a pattern gets no literals and runs unfiltered
_RUST_ONLY = re.compile(r"\(\?[a-zA-Z-]+[):]|\\[pP][^{]|\\[bB]\{")


def _translate(pattern: str) -> str:
    """Rust regex syntax to Python's, as far as literals go: `\\x{..}` and `\\p{..}` differ.

    Raises ValueError on syntax the two read differently.
    """
    if _RUST_ONLY.search(pattern):
        msg = f"Rust-only syntax in {pattern!r}"
        raise ValueError(msg)
    pattern = re.sub(r"\\x\{([0-9A-Fa-f]+)\}",
                     lambda m: f"\\U{int(m.group(1), 16):08x}", pattern)
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            if pattern[i + 1] in "pP" and pattern[i + 2:i + 3] == "{":
                out.append(_BIG if in_class else f"[{_BIG}]")
                i = pattern.index("}", i) + 1
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class and (ch == "[" or pattern[i:i + 2] in ("&&", "--", "~~")):
            msg = f"nested class or class set operation in {pattern!r}"
            raise ValueError(msg)
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            i += 1
            if pattern[i:i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i:i + 1] == "]":  # a leading ] is a literal
                out.append("\\]")
                i += 1
            continue
        if ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class _Info:
    exact: _Lits | None  # every string the node can match, when few
    clauses: tuple[_Lits, ...]  # every match contains one literal of each clause


def _usable(c: _Lits | None) -> bool:
    return bool(c) and "" not in c  # type: ignore[operator]


def _best(clauses: Sequence[_Lits]) -> _Lits | None:
    usable = [c for c in clauses if _usable(c)]
    return max(usable, key=_quality) if usable else None


def _quality(c: _Lits) -> tuple[int, int]:
    return min(len(s.encode()) for s in c), -len(c)


def _of(exact: _Lits) -> _Info:
    return _Info(exact, (exact,) if _usable(exact) else ())


def _class(items: list[tuple[Any, Any]]) -> _Lits | None:
    chars: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            chars.add(chr(av))
        elif op is C.RANGE:
            lo, hi = av
            if hi - lo > 16:
                return None
            chars.update(chr(c) for c in range(lo, hi + 1))
        else:  # NEGATE, CATEGORY (\d, \s, \w): large
            return None
        if len(chars) > 16:
            return None
    return frozenset(chars)


def _sequence(items: Sequence[tuple[Any, Any]]) -> _Info:
    clauses: list[_Lits] = []
    run: set[str] = {""}  # the strings the current run of fixed nodes can match
    whole = True
    for node in items:
        info = _node(node)
        if info.exact is not None:
            joined = {a + b for a in run for b in info.exact}
            if len(joined) <= _LIMIT:
                run = joined
                continue
            whole = False
            clauses.append(frozenset(run))
            run = set(info.exact)
            continue
        whole = False
        clauses.append(frozenset(run))
        run = {""}
        clauses += info.clauses
    if whole:
        return _of(frozenset(run))
    clauses.append(frozenset(run))
    return _Info(None, tuple(c for c in clauses if _usable(c)))


def _node(node: tuple[Any, Any]) -> _Info:
    op, av = node
    if op is C.LITERAL:
        return _of(frozenset([chr(av)]))
    if op is C.IN:
        chars = _class(av)
        return _Info(None, ()) if chars is None else _of(chars)
    if op is C.AT:  # ^ $ \b: zero width
        return _Info(frozenset([""]), ())
    if op is C.SUBPATTERN:
        return _sequence(av[-1])
    if op is C.BRANCH:
        infos = [_sequence(b) for b in av[1]]
        if all(i.exact is not None for i in infos):
            alternatives: frozenset[str] = frozenset().union(
                *(i.exact for i in infos if i.exact is not None))
            if len(alternatives) <= _LIMIT:
                return _of(alternatives)
        # a match contains the best clause of whichever alternative matched
        best = [_best(i.clauses) for i in infos]
        if any(c is None for c in best):
            return _Info(None, ())
        union: frozenset[str] = frozenset().union(*(c for c in best if c is not None))
        return _Info(None, (union,) if len(union) <= 4 * _LIMIT else ())
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        lo, hi, sub = av
        child = _sequence(sub)
        if child.exact is not None and hi is not C.MAXREPEAT and hi <= 3:
            exact: set[str] = set()
            for k in range(lo, hi + 1):
                part = {""}
                for _ in range(k):
                    part = {a + b for a in part for b in child.exact}
                exact |= part
                if len(exact) > _LIMIT:
                    break
            if len(exact) <= _LIMIT:
                return _of(frozenset(exact))
        return _Info(None, child.clauses if lo >= 1 else ())
    return _Info(None, ())  # ANY, NOT_LITERAL, CATEGORY, anything unknown: no literal


def _minimal(lits: _Lits) -> _Lits:
    """Drop every literal that contains another: a text holding it holds the shorter one."""
    keep = sorted(lits, key=len)
    out: list[str] = []
    for s in keep:
        if not any(t in s for t in out):
            out.append(s)
    return frozenset(out)


def required_clauses(pattern: str, min_bytes: int = MIN_BYTES,
                     most: int = 3) -> tuple[frozenset[str], ...]:
    r"""Sets of literals such that every match of `pattern` contains one literal of each set.

    The `most` best sets (longest shortest literal first) whose literals all have at least
    `min_bytes` bytes; none when the pattern needs no such literal.

    Example:
        >>> [sorted(c) for c in required_clauses(r"\b(?:show|print)\b.{0,9}chain of thought")]
        [['chain of thought'], ['print', 'show']]
        >>> required_clauses(r"\d+"), [sorted(c) for c in required_clauses(r"\d+[*/]\d", 1)]
        ((), [['*', '/']])
    """
    try:
        tree = P.parse(_translate(pattern))
    except (re.error, ValueError, IndexError, OverflowError):
        return ()  # a pattern Python cannot read runs unfiltered: slower, never wrong
    found = {_minimal(c) for c in _sequence(list(tree)).clauses
             if min(len(s.encode()) for s in c) >= min_bytes}
    return tuple(sorted(found, key=lambda c: (_quality(c), sorted(c)), reverse=True)[:most])


def required_literals(pattern: str, min_bytes: int = MIN_BYTES) -> frozenset[str] | None:
    r"""The best of `required_clauses`: literals one of which every match contains, or None.

    Example:
        >>> sorted(required_literals(r"\b(?:show|print)\b[^.]{0,9}\bchain[- ]of[- ]thought"))
        ['chain of thought', 'chain of-thought', 'chain-of thought', 'chain-of-thought']
        >>> required_literals(r"\d+") is None, sorted(required_literals(r"\d+[*/]\d", 1))
        (True, ['*', '/'])
    """
    found = required_clauses(pattern, min_bytes, most=1)
    return found[0] if found else None


def split_branches(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern (the pattern itself when it has none).

    Example:
        >>> split_branches(r"a(?:b|c)|[|]d|e\\|f")
        ['a(?:b|c)', '[|]d', 'e\\\\|f']
    """
    out, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    if len(out) == 1 and pattern.startswith("(?:") and pattern.endswith(")") \
            and _group_end(pattern) == len(pattern) - 1:
        return split_branches(pattern[3:-1])  # (?:a|b) is a|b
    return out


def _group_end(pattern: str) -> int:
    """Index of the `)` closing the group that opens at 0."""
    depth, in_class, i = 0, False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


@dataclass(frozen=True)
class _Branch:
    pattern: int  # index of the pattern this is (part of)
    regex: str
    clauses: tuple[frozenset[str], ...]  # looked for by the Aho-Corasick pass: one of each
    short: frozenset[str] | None  # else: shorter required literals, checked per text


class Matcher:
    r"""Whether each of a fixed list of regexes matches each text of a batch.

    `gates[k]`, when given, lists patterns that must all match a text for pattern k to be
    worth running on it (the other members of an all-of group); pattern k then reads False on
    the other texts, which leaves every all-of result unchanged and skips most of the work.

    Example:
        >>> import polars as pl
        >>> m = Matcher(["chain of thought|scratch ?pad", r"\d"])
        >>> m.match(pl.Series(["show your scratchpad", "7 chains", None])).tolist()
        [[True, False], [False, True], [False, False]]
    """

    def __init__(self, patterns: Sequence[str], scopes: Sequence[int] | None = None,
                 gates: Sequence[Sequence[int]] | None = None) -> None:
        self.patterns = tuple(patterns)
        #: which of `match`'s views each pattern runs on (0, the texts themselves, by default)
        self.scopes = tuple(scopes) if scopes is not None else (0,) * len(self.patterns)
        self.gates = tuple(tuple(g) for g in gates) if gates is not None else \
            ((),) * len(self.patterns)
        self.branches: list[_Branch] = []
        # one clause per branch: a second one was measured to add more Aho-Corasick matches
        # (its literals are commoner) than it removes candidates
        for k, p in enumerate(self.patterns):
            whole = required_clauses(p, most=1)
            parts = split_branches(p) if not whole else [p]
            for part in parts:
                clauses = whole if len(parts) == 1 else required_clauses(part, most=1)
                self.branches.append(_Branch(k, part, clauses, None if clauses else
                                             required_literals(part, min_bytes=1)))
        self._order = self._evaluation_order()
        # every clause of every branch, and the literals that point to each clause
        self._clause_branch: list[int] = []
        index: dict[str, int] = {}
        owners: list[list[int]] = []
        for b, br in enumerate(self.branches):
            for clause in br.clauses:
                cid = len(self._clause_branch)
                self._clause_branch.append(b)
                for lit in sorted(clause):
                    if lit not in index:
                        index[lit] = len(owners)
                        owners.append([])
                    owners[index[lit]].append(cid)
        self._ptr = np.cumsum([0, *(len(o) for o in owners)]).astype(np.int64)
        self._own = np.array([c for o in owners for c in o], dtype=np.int64)
        self._literals = list(index)
        self._enum = pl.Enum(self._literals)
        #: work counts of the last `match`: (text, branch) pairs a regex ran on, and all pairs
        self.last_counts = {"checked": 0, "pairs": 0}

    def _evaluation_order(self) -> list[int]:
        done: set[int] = set()
        order: list[int] = []
        pending = list(range(len(self.patterns)))
        while pending:
            ready = [k for k in pending if set(self.gates[k]) <= done]
            if not ready:
                msg = f"Matcher gates form a cycle among patterns {pending}"
                raise ValueError(msg)
            order += ready
            done |= set(ready)
            pending = [k for k in pending if k not in done]
        return order

    def candidates(self, texts: pl.Series) -> list[np.ndarray | None]:
        """Per branch, the rows that hold a literal of each of its clauses (None: no clauses)."""
        n = len(texts)
        out: list[np.ndarray | None] = [np.zeros(0, np.int64) if br.clauses else None
                                        for br in self.branches]
        if not self._literals or n == 0:
            return out
        # one Aho-Corasick pass (polars, off the GIL); overlapping, so every literal present
        found = (pl.DataFrame({"t": texts.cast(pl.String)}).with_row_index("row")
                 .select("row", pl.col("t").str.extract_many(self._literals, overlapping=True)
                         .alias("lit"))
                 .explode("lit").drop_nulls())
        if not found.height:
            return out
        rows = found["row"].cast(pl.Int64).to_numpy()
        lits = found["lit"].cast(self._enum).to_physical().cast(pl.Int64).to_numpy()
        lit, row = np.divmod(np.unique(lits * n + rows), n)
        # each (literal, row) to every clause the literal belongs to
        first, count = self._ptr[lit], self._ptr[lit + 1] - self._ptr[lit]
        pos = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
        clause, row = np.divmod(np.unique(self._own[pos] * n + np.repeat(row, count)), n)
        bounds = np.searchsorted(clause, np.arange(len(self._clause_branch) + 1))
        seen: set[int] = set()
        for cid, b in enumerate(self._clause_branch):
            rows_c = row[bounds[cid]:bounds[cid + 1]]
            prev = out[b]
            out[b] = np.intersect1d(prev, rows_c, assume_unique=True) \
                if b in seen and prev is not None else rows_c
            seen.add(b)
        return out

    def match(self, texts: pl.Series, views: Sequence[pl.Series] = ()) -> np.ndarray:
        """Boolean matrix (rows × patterns); NULL texts match nothing.

        Literals are looked for in `texts`; a pattern of scope s > 0 runs on `views[s - 1]`,
        which must be row for row a part of `texts` (such as each text's first characters).
        """
        n = len(texts)
        texts = texts.cast(pl.String)
        sources = [texts, *(v.cast(pl.String) for v in views)]
        cands = self.candidates(texts)
        out = np.zeros((n, len(self.patterns)), dtype=bool)
        by_pattern: dict[int, list[int]] = {}
        for b, br in enumerate(self.branches):
            by_pattern.setdefault(br.pattern, []).append(b)
        checked = 0
        everyone = np.arange(n)
        for k in self._order:
            gate = (np.flatnonzero(out[:, list(self.gates[k])].all(axis=1))
                    if self.gates[k] else None)
            src = sources[self.scopes[k]]
            for b in by_pattern[k]:
                br, rows = self.branches[b], cands[b]
                if rows is None:
                    rows = everyone if gate is None else gate
                elif gate is not None:
                    rows = np.intersect1d(rows, gate, assume_unique=True)
                if not len(rows):
                    continue
                sub = src if len(rows) == n else src.gather(rows)
                if br.short:  # a cheap first look for the short literals it needs
                    keep = sub.str.contains_any(sorted(br.short)).fill_null(False).to_numpy()
                    rows, sub = rows[keep], sub.filter(pl.Series(keep))
                hit = sub.str.contains(br.regex).fill_null(False).to_numpy()
                out[rows[hit], k] = True
                checked += len(rows)
        self.last_counts = {"checked": checked, "pairs": n * len(self.branches)}
        return out
