"""Real-traffic shape for the benchmarks: every prompt and output distinct, of realistic length.

The simulated world repeats its prompts (a few thousand templates fill millions of requests),
which hides what distinct text costs. `realise` rewrites a loaded case's text columns the way
provider logs look: each prompt and each output becomes a distinct passage of real wording,
cut from a text stream at a word boundary with a log-normal length (prompts: median
`PROMPT_CHARS`, outputs: median `OUTPUT_CHARS`, both at most `MAX_CHARS`), so that almost no
two are equal.

The campaign structure stays: who sends what, when, from where and with which settings is the
simulated world's, and so are the words that make a harvesting prompt one (a chain-of-thought
request stays one). Harvesters and pipelines wrap each new input in their fixed instruction:
for the accounts of a planted campaign and of the templated legitimate archetypes
(`TEMPLATED`), the passage follows the simulated prompt in a fenced block, which prompt
normalisation masks, so their prompts are all distinct while their `template_id`s still
repeat, as a harvesting pipeline's do. People write new text every time: for every other
account the passage is appended as plain text, so each of their prompts is a new template.

Wording: the public prompt corpus (`../shared/corpus` or $WORKBENCH_CORPUS) when present, and
the simulator's own prompts and answers (English, and 500 of each in every other language the
simulator writes); without the corpus, the simulator's alone.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("WORKBENCH_CORPUS", ROOT.parent / "shared" / "corpus"))
PROMPT_CHARS, OUTPUT_CHARS, SIGMA, MAX_CHARS = 1500, 2500, 0.7, 8000
#: Legitimate archetypes whose requests are one instruction around a new input.
TEMPLATED = ("enterprise_batch", "eval_runner", "agent_product", "startup_backend")
FENCE = "\n\n```\n"


def stream(seed: int = 7) -> tuple[bytes, str]:
    """The UTF-8 text passages are cut from (backticks removed, so a fence stays whole), and
    where it came from."""
    from workbench.simulator import text

    rng = random.Random(seed)
    parts = [text.prompt(rng, text.family(rng), lang) for lang in text.languages()
             for _ in range(500)]
    parts += [text.answer(rng, text.family(rng), steps=rng.randint(0, 6),
                          length=rng.randint(1, 5)) for _ in range(4000)]
    source = "the simulator's prompts and answers"
    english = 40000
    if CORPUS.is_dir():
        from workbench.textfeatures.corpus import read_corpus

        parts += [r.prompt for r in read_corpus(CORPUS)]
        source = f"the public corpus ({CORPUS.name}) and the simulator's prompts and answers"
        english = 8000
    parts += [text.prompt(rng, text.family(rng), "en") for _ in range(english)]
    rng.shuffle(parts)
    return "\n\n".join(parts).replace("`", "'").encode(), source


class Passages:
    """Distinct passages of a text stream: `take(n, median, rng)` gives n of them."""

    def __init__(self, data: bytes) -> None:
        self.arr = arr = np.frombuffer(data, dtype=np.uint8)
        space = np.flatnonzero((arr == 32) | (arr == 10))
        self.space = space  # a cut at a space never splits a UTF-8 character
        self.starts = space[space < len(data) - MAX_CHARS * 4] + 1

    def take(self, n: int, median: int, rng: np.random.Generator) -> pa.LargeStringArray:
        lens = np.clip(rng.lognormal(np.log(median), SIGMA, n), 40, MAX_CHARS).astype(np.int64)
        at = self.starts[rng.integers(0, len(self.starts), n)]
        # end at the last space before the drawn length (in bytes: close enough to characters
        # for mostly-ASCII text, and never inside a character)
        ends = self.space[np.searchsorted(self.space, at + lens) - 1]
        ends = np.maximum(ends, at + 1)
        arr = self.arr
        data = np.concatenate([arr[a:e] for a, e in zip(at.tolist(), ends.tolist(), strict=True)])
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(ends - at, out=offsets[1:])
        return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def templated_accounts(truth: Path) -> list[str]:
    """Accounts of planted campaigns and of the templated legitimate archetypes."""
    with truth.open() as f:
        return [r["account_id"] for r in csv.DictReader(f)
                if r["campaign_id"] or r["archetype"] in TEMPLATED]


_COLUMNS = """
select r.* replace (
    case when r.prompt_text is null then null
         when t.account_id is not null then r.prompt_text || $fence || c.prompt || '\n```'
         else r.prompt_text || '\n\n' || c.prompt end as prompt_text,
    case when r.prompt_text is null then r.prompt_chars
         else length(r.prompt_text) + length(c.prompt)
              + case when t.account_id is not null then 9 else 2 end end as prompt_chars,
    case when r.output_text is null then null else c.output end as output_text,
    case when r.output_text is null then r.output_chars else length(c.output) end
        as output_chars
)
from src.requests as r
join _chunk as c on c.row_id = r.rowid
left join _templated as t on t.account_id = r.account_id
where r.rowid >= $lo and r.rowid < $hi
"""


def realise(source: Path, target: Path, truth: Path, *, chunk: int = 250_000,
            seed: int = 11, memory_limit: str = "3GB") -> dict[str, int | str]:
    """Copy the case at `source` to `target` with real-traffic text; return counts.

    Every table but `request_content` is copied (the full bodies would double the text on
    disk, and no step the benchmark measures reads them); `features` and everything derived
    are left out, since the text changed.
    """
    import duckdb

    import workbench as wb

    target.unlink(missing_ok=True)
    wb.open(target)  # the canonical schema
    data, where = stream()
    passages = Passages(data)
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(target), config={"memory_limit": memory_limit})
    con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")  # our own path, never user input
    for table in ("accounts", "model_releases", "load_batches"):
        con.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
    con.register("_templated", pa.table({"account_id": templated_accounts(truth)}))
    total = con.execute("select count(*) from src.requests").fetchall()[0][0]
    top = con.execute("select coalesce(max(rowid), -1) + 1 from src.requests").fetchall()[0][0]
    for lo in range(0, top, chunk):
        hi = min(top, lo + chunk)
        n = hi - lo
        con.register("_chunk", pa.table({
            "row_id": pa.array(np.arange(lo, hi, dtype=np.int64)),
            "prompt": passages.take(n, PROMPT_CHARS, rng),
            "output": passages.take(n, OUTPUT_CHARS, rng)}))
        con.execute("INSERT INTO requests " + _COLUMNS, {"fence": FENCE, "lo": lo, "hi": hi})
        con.unregister("_chunk")
    stats = con.execute("select count(*), count(distinct prompt_text), avg(prompt_chars), "
                        "avg(output_chars) from requests").fetchall()[0]
    con.execute("CHECKPOINT")
    con.close()
    return {"rows": int(total), "distinct_prompts": int(stats[1]),
            "avg_prompt_chars": int(stats[2] or 0), "avg_output_chars": int(stats[3] or 0),
            "wording": where}
