"""How often each text flag fires, and how the capability classifier sorts, on real prompts.

Reads the public prompt corpus in ../shared/corpus (or $WORKBENCH_CORPUS; see its README),
runs `feature_batch` on every prompt as stored and with template placeholders filled
(`workbench.textfeatures.corpus.fill_placeholders`: real traffic sends judge templates
filled), and writes into docs/features.md, between `<!-- text_flags -->` markers: the targets
(dev and held-out files apart), every flag's fire rate per role and category and per source
file, the capability classifier's confusion against the corpus categories, and languages.
Skips cleanly when the corpus is absent.

Run: `.venv/bin/python bench/text_flags.py [--no-write] [--show FLAG] [--miss FLAG --category C]`.
`--show` and `--miss` print dev-file prompts only (the held-out files are measured, never
read); `--held-out` lifts that, for use after tuning is finished.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import table  # noqa: E402
from workbench.features import FLAG_COLUMNS, feature_batch  # noqa: E402
from workbench.textfeatures.classify import FAMILIES  # noqa: E402
from workbench.textfeatures.corpus import (  # noqa: E402
    CATEGORIES,
    CorpusPrompt,
    fill_placeholders,
    has_placeholders,
    off_target,
    read_corpus,
    targets,
)

CORPUS = Path(os.environ.get("WORKBENCH_CORPUS", ROOT.parent / "shared" / "corpus"))
DOC = ROOT / "docs" / "features.md"
START, END = "<!-- text_flags -->", "<!-- /text_flags -->"
COMMAND = ".venv/bin/python bench/text_flags.py"

#: the capability families a category's prompts should mostly get (for the agreement column)
EXPECTED = {"coding": {"coding"}, "maths": {"maths"}, "tool_use": {"agentic", "computer_use"},
            "chat": {"chat", "creative", "other"}, "cot_elicitation": {"reasoning", "maths"},
            "judge_rubric": {"other", "reasoning"}}


def features_of(rows: list[CorpusPrompt], fill: bool) -> list[dict[str, object]]:
    """`feature_batch` rows for the prompts, as stored or with placeholders filled."""
    texts = [fill_placeholders(r.prompt) if fill else r.prompt for r in rows]
    return feature_batch(pa.RecordBatch.from_pydict({
        "request_id": [str(i) for i in range(len(rows))], "prompt_text": texts})).to_pylist()


def rate(feats: list[dict[str, object]], idx: list[int], col: str) -> float:
    """Share of the rows `idx` on which `col` is true (0 for no rows)."""
    return sum(bool(feats[i][col]) for i in idx) / len(idx) if idx else 0.0


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def targets_table(rows: list[CorpusPrompt], raw: list[dict[str, object]],
                  filled: list[dict[str, object]]) -> str:
    """The targets (corpus.toml), with dev and held-out files apart."""
    out = []
    for t in targets():
        cells: list[str] = []
        met: list[str] = []
        for part in ("dev", "held_out", None):
            idx = [i for i, r in enumerate(rows) if t.selects(r)
                   and (part is None or r.split == part)]
            got = rate(filled, idx, t.flag)
            met.append("met" if not idx or t.met(got) else "**missed**")
            cells.append(f"{_pct(got)} of {len(idx)}" if idx else "none")
        idx = [i for i, r in enumerate(rows) if t.selects(r)]
        out.append([t.flag, f"{t.role or 'any'} {t.category}",
                    ("≥ " if t.at_least else "≤ ") + _pct(t.bound), *cells,
                    _pct(rate(raw, idx, t.flag)), met[2], met[1]])
    return table(["flag", "role, category", "target", "dev files", "held-out files", "all",
                  "all, as stored", "all files", "held-out files"], out)


def by_group_table(rows: list[CorpusPrompt], filled: list[dict[str, object]]) -> str:
    """Every flag's rate per role and category, dev and held-out together."""
    groups = Counter((r.role, r.category) for r in rows)
    out = []
    for role, cat in sorted(groups):
        idx = [i for i, r in enumerate(rows) if (r.role, r.category) == (role, cat)]
        out.append([role, cat, len(idx), *(_pct(rate(filled, idx, c)) for c in FLAG_COLUMNS)])
    return table(["role", "category", "prompts", *FLAG_COLUMNS], out) + (
        f"\n\nOff target (a flag on a group other than its target category) the bound is "
        f"{_pct(off_target())}.")


def by_file_table(rows: list[CorpusPrompt], raw: list[dict[str, object]],
                  filled: list[dict[str, object]]) -> str:
    """Every flag's rate per source file; `as stored` where filling changed anything."""
    out = []
    for file in sorted({r.file for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.file == file]
        n_tpl = sum(has_placeholders(rows[i].prompt) for i in idx)
        cats = Counter(rows[i].category for i in idx).most_common(3)
        cells = []
        for c in FLAG_COLUMNS:
            a, b = rate(filled, idx, c), rate(raw, idx, c)
            cells.append(_pct(a) + (f" ({_pct(b)} as stored)" if a != b else ""))
        out.append([file, rows[idx[0]].split.replace("_", "-"), len(idx), n_tpl,
                    ", ".join(f"{k} {v}" for k, v in cats), *cells])
    return table(["file", "split", "prompts", "templates", "categories", *FLAG_COLUMNS], out)


def capability_table(rows: list[CorpusPrompt], filled: list[dict[str, object]]) -> str:
    """Capability family per corpus category (shares of the category's prompts)."""
    out = []
    for cat in CATEGORIES:
        idx = [i for i, r in enumerate(rows) if r.category == cat]
        if not idx:
            continue
        got = Counter(str(filled[i]["capability"]) for i in idx)
        agree = (_pct(sum(got[f] for f in EXPECTED[cat]) / len(idx))
                 if cat in EXPECTED else "")
        out.append([cat, len(idx), *(_pct(got[f] / len(idx)) if got[f] else "·"
                                     for f in FAMILIES), agree])
    return table(["category", "prompts", *FAMILIES, "expected family"], out)


def language_table(rows: list[CorpusPrompt], filled: list[dict[str, object]]) -> str:
    """Top languages per role."""
    out = []
    for role in sorted({r.role for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.role == role]
        langs = Counter(str(filled[i]["lang"]) for i in idx).most_common(6)
        out.append([role, ", ".join(f"{k} {_pct(v / len(idx))}" for k, v in langs)])
    return table(["role", "languages"], out)


def render(rows: list[CorpusPrompt], raw: list[dict[str, object]],
           filled: list[dict[str, object]]) -> str:
    """The markdown for docs/features.md."""
    files = sorted({r.file for r in rows})
    dev = [f for f in files if rows[[r.file for r in rows].index(f)].split == "dev"]
    held = [f for f in files if f not in dev]
    expected = ", ".join(f"{k} → {'/'.join(sorted(v))}" for k, v in EXPECTED.items())
    return "\n".join([
        f"Printed by `{COMMAND}` on {len(rows):,} prompts from {len(files)} files of the public "
        "corpus. Rates are on the prompts with template placeholders filled by "
        "`corpus.fill_placeholders` (plain project text, no grading or reasoning words); "
        "`as stored` is on the unfilled templates.", "",
        f"Development files (read while writing the lexicons): {', '.join(dev)}.", "",
        f"Held-out files (measured, never read): {', '.join(held)}.", "",
        "**Targets** (issue 16):", "",
        targets_table(rows, raw, filled), "",
        "**Per role and category** (all files):", "",
        by_group_table(rows, filled), "",
        "**Per source file**:", "",
        by_file_table(rows, raw, filled), "",
        "**Capability classifier against the corpus categories** (share of each category's "
        f"prompts per family; `expected family`: {expected}):", "",
        capability_table(rows, filled), "",
        "**Language** (top six per role):", "",
        language_table(rows, filled),
    ])


def write_doc(body: str) -> None:
    """Replace the text_flags section of docs/features.md."""
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        msg = f"{DOC} has no {START} … {END} section to fill."
        raise SystemExit(msg)
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    DOC.write_text(f"{before}{START}\n{body}\n{END}{after}", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--show", help="print the dev prompts on which this flag fired")
    ap.add_argument("--miss", help="print the dev prompts of --category this flag missed")
    ap.add_argument("--category", help="restrict --show / --miss to one category")
    ap.add_argument("--held-out", action="store_true", help="let --show/--miss print held-out")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch docs")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: no corpus at {CORPUS}")
        return
    rows = read_corpus(CORPUS)
    raw, filled = features_of(rows, fill=False), features_of(rows, fill=True)
    body = render(rows, raw, filled)
    print(body)
    flag, want = (args.show, True) if args.show else (args.miss, False)
    if flag:
        for r, f in zip(rows, filled, strict=True):
            if (bool(f[flag]) is want and (args.held_out or r.split == "dev")
                    and (args.category is None or r.category == args.category)):
                print(f"--- {r.file} {r.role} {r.category}: "
                      + re.sub(r"\s+", " ", fill_placeholders(r.prompt))[:400])
    if not args.no_write:
        write_doc(body)


if __name__ == "__main__":
    main()
