"""How often each text flag fires, and how capability and language spread, on real prompts.

Reads the public prompt corpus in ../shared/corpus (see its README: `benign` prompts people
wrote to assistants, `harvest_style` seed or generated task sets), runs `feature_batch` on every
prompt and writes the rates into docs/features.md between `<!-- text_flags -->` markers. Skips
cleanly when the corpus is absent. Run: `.venv/bin/python bench/text_flags.py [--show FLAG]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import table  # noqa: E402
from workbench.features import FLAG_COLUMNS, feature_batch  # noqa: E402
from workbench.textfeatures.classify import FAMILIES  # noqa: E402

CORPUS = Path(os.environ.get("WORKBENCH_CORPUS", ROOT.parent / "shared" / "corpus"))
DOC = ROOT / "docs" / "features.md"
START, END = "<!-- text_flags -->", "<!-- /text_flags -->"


def read_corpus(corpus: Path) -> list[dict[str, str]]:
    """Every record of every *.jsonl file in the corpus."""
    rows = []
    for path in sorted(corpus.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def measure(rows: list[dict[str, str]]) -> dict[str, dict[str, object]]:
    """Per role: prompt count, flag rates, capability shares, language shares, and the rows."""
    batch = pa.RecordBatch.from_pydict({
        "request_id": [str(i) for i in range(len(rows))],
        "prompt_text": [r["prompt"] for r in rows],
    })
    feats = feature_batch(batch).to_pylist()
    out: dict[str, dict[str, object]] = {}
    for role in sorted({r["role"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["role"] == role]
        n = len(idx)
        rec: dict[str, object] = {"n": n, "idx": idx}
        for c in FLAG_COLUMNS:
            rec[c] = sum(bool(feats[i][c]) for i in idx)
        rec["capability"] = {f: sum(feats[i]["capability"] == f for i in idx) for f in FAMILIES}
        langs: dict[str, int] = {}
        for i in idx:
            langs[feats[i]["lang"]] = langs.get(feats[i]["lang"], 0) + 1
        rec["lang"] = langs
        out[role] = rec
    out["_feats"] = {"rows": feats}
    return out


def render(res: dict[str, dict[str, object]], files: int) -> str:
    """The markdown tables for docs/features.md."""
    roles = [r for r in res if not r.startswith("_")]
    pct = lambda k, n: f"{k} ({100 * k / n:.2f}%)"  # noqa: E731
    flag_rows = [[role, res[role]["n"]] + [pct(res[role][c], res[role]["n"])  # type: ignore[arg-type]
                                           for c in FLAG_COLUMNS] for role in roles]
    cap_rows = [[f] + [f"{100 * res[r]['capability'][f] / res[r]['n']:.1f}%"  # type: ignore[index,operator]
                       for r in roles] for f in FAMILIES]
    lang_rows = []
    for r in roles:
        langs = sorted(res[r]["lang"].items(), key=lambda kv: -kv[1])  # type: ignore[attr-defined]
        lang_rows.append([r, ", ".join(f"{k} {100 * v / res[r]['n']:.1f}%"  # type: ignore[operator]
                                        for k, v in langs[:6])])
    return "\n".join([
        f"Measured by `bench/text_flags.py` on {sum(res[r]['n'] for r in roles)} real prompts "  # type: ignore[misc]
        f"from {files} files of the public corpus (see its README).", "",
        "Flags fired (count and share of prompts):", "",
        table(["role", "prompts", *FLAG_COLUMNS], flag_rows), "",
        "Capability family (share of prompts):", "",
        table(["capability", *roles], cap_rows), "",
        "Language (top six):", "",
        table(["role", "languages"], lang_rows),
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
    ap.add_argument("--show", help="print the prompts on which this flag fired")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch docs")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: no corpus at {CORPUS}")
        return
    rows = read_corpus(CORPUS)
    res = measure(rows)
    body = render(res, len(list(CORPUS.glob("*.jsonl"))))
    print(body)
    if args.show:
        feats = res["_feats"]["rows"]  # type: ignore[index]
        for r, f in zip(rows, feats, strict=True):  # type: ignore[call-overload]
            if f[args.show]:
                print(f"--- {r['role']} {r['category']}: "
                      + re.sub(r"\s+", " ", r["prompt"])[:300])
    if not args.no_write:
        write_doc(body)


if __name__ == "__main__":
    main()
