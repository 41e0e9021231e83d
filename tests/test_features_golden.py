"""Text features stay what they were: pinned outputs on prompts the project wrote.

tests/fixtures/features_golden.jsonl holds, per prompt (simulator text in 13 languages, the
lexicons' own examples, long prompts with code, URLs and names, invisible and odd characters),
the `feature_batch` outputs of the straightforward implementation this one was sped up from:
template_id (which pins prompt_norm), simhash, lang, capability and the four flags. Detectors
group by template_id and simhash, so a change here changes stored cases' meaning.

After a deliberate lexicon or masking change, regenerate with
`WORKBENCH_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_features_golden.py` and review
the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from workbench.features import FLAG_COLUMNS, feature_batch

GOLDEN = Path(__file__).parent / "fixtures" / "features_golden.jsonl"
COLUMNS = ("template_id", "simhash", "lang", "capability", "flags")


def _read() -> tuple[list[str], list[list[Any]]]:
    lines = GOLDEN.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(x) for x in lines[1:]]


def _batch(rows: list[list[Any]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        "request_id": [f"g{i}" for i in range(len(rows))],
        "prompt_text": pa.array([r[0] for r in rows], pa.string()),
        "tool_count": pa.array([r[1] for r in rows], pa.int64()),
        "endpoint": pa.array([r[2] for r in rows], pa.string())})


def _observed(out: list[dict[str, Any]]) -> list[list[Any]]:
    got = []
    for r in out:
        flags = None if r["cot_flag"] is None else "".join(
            "1" if r[c] else "0" for c in FLAG_COLUMNS)
        got.append([r["template_id"], r["simhash"], r["lang"], r["capability"], flags])
    return got


def test_feature_batch_reproduces_the_pinned_outputs() -> None:
    header, rows = _read()
    got = _observed(feature_batch(_batch(rows)).to_pylist())
    if os.environ.get("WORKBENCH_REGEN_GOLDEN"):
        with GOLDEN.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(header) + "\n")
            for r, g in zip(rows, got, strict=True):
                fh.write(json.dumps(r[:3] + g, ensure_ascii=False) + "\n")
        pytest.skip("golden file regenerated")
    want = [r[3:] for r in rows]
    diffs = [(i, rows[i][0][:80] if rows[i][0] else rows[i][0], dict(zip(COLUMNS, w,
              strict=True)), dict(zip(COLUMNS, g, strict=True)))
             for i, (w, g) in enumerate(zip(want, got, strict=True)) if w != g]
    assert not diffs, f"{len(diffs)} of {len(rows)} prompts changed, first: {diffs[:3]}"


def test_pinned_outputs_do_not_depend_on_batching() -> None:
    _, rows = _read()
    got = []
    for lo in range(0, len(rows), 7):
        got += _observed(feature_batch(_batch(rows[lo:lo + 7])).to_pylist())
    assert got == [r[3:] for r in rows]


def test_golden_prompts_cover_what_matters() -> None:
    _, rows = _read()
    langs = {r[5] for r in rows}
    assert {"en", "zh", "ja", "ko", "ru", "es", "de", "fr", "und"} <= langs
    assert any(r[7] and r[7][0] == "1" for r in rows)  # cot
    assert any(r[7] and r[7][1] == "1" for r in rows)  # rubric
    assert any(r[7] and r[7][2] == "1" for r in rows)  # sensitive
    assert any(r[7] and r[7][3] == "1" for r in rows)  # coercion
    assert any(r[0] is None for r in rows)
    assert max(len(r[0] or "") for r in rows) > 3000  # past the capability and SimHash cuts
