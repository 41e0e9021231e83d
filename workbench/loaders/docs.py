"""docs/loaders.md sections generated from the loaders' own tables, so the docs say what the
code does: the formats, the native envelope field by field, each format's mapping, the
stop-reason vocabulary and the quarantine reasons.

`python -m workbench.loaders.docs` rewrites every `<!-- generated:NAME -->` section of
docs/loaders.md in place; a test fails when a section is stale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "loaders.md"

# format -> (what it reads, how it is recognised)
FORMATS: dict[str, tuple[str, str]] = {
    "native": ("the native envelope (below): `request_id`, `timestamp`, `account_id`, …, and the "
               "`request` and `response` bodies", "a JSON object that matches nothing more "
               "specific"),
    "litellm": ("LiteLLM `LiteLLM_SpendLogs` rows: JSON lines, the `/spend/logs` JSON array or "
                "`{\"data\": [...]}` page, a pretty-printed row, or a Postgres CSV export",
                "keys `request_id` and `startTime`; a CSV header with both"),
    "litellm_payload": ("LiteLLM `StandardLoggingPayload` (what the S3, GCS and Pub/Sub loggers "
                        "write)", "`startTime` with `response_cost`, `hidden_params`, "
                        "`model_parameters` or `model_map_information`"),
    "otel": ("OpenTelemetry spans of model calls in an OTLP/JSON trace export (GenAI semantic "
             "conventions, OpenLLMetry, OpenInference)", "key `resourceSpans`"),
    "openai_batch_input": ("OpenAI Batch input file `{custom_id, method, url, body}`",
                           "`custom_id` with `body` and `method`/`url`"),
    "openai_batch_output": ("OpenAI Batch output or error file `{id, custom_id, response, error}`",
                            "`custom_id` with `response` or `error`"),
    "anthropic_batch_input": ("Anthropic Message Batch requests `{custom_id, params}`, or the "
                              "`{\"requests\": [...]}` document that created the batch",
                              "`custom_id` with `params`"),
    "anthropic_batch": ("Anthropic Message Batch results `{custom_id, result}`",
                        "`custom_id` with `result`"),
    "canonical_csv": ("a warehouse export in the `requests` column names", "CSV header with "
                      "`request_id` and `ts`"),
    "canonical_parquet": ("the same as Parquet (hive partitions read)", "`PAR1` magic"),
    "accounts": ("account records, CSV or JSONL (`--accounts`)", "`payment_fingerprint` or "
                 "`signup_path`"),
    "releases": ("model releases (`--releases`): `model`, `released_at`", "`model` and "
                 "`released_at`"),
}

QUARANTINE: dict[str, str] = {
    "not_utf8": "the record is not valid UTF-8 (raw shows the bytes as `\\xNN` escapes)",
    "too_large": "the record is longer than `WORKBENCH_MAX_RECORD_BYTES` (64 MiB); raw keeps "
                 "its head, raw_bytes its size",
    "malformed_json": "not valid JSON, or JSON but not an object (or not an OTLP export); a "
                      "document cut short at the end of the file",
    "malformed_csv": "the CSV reader rejected the row (wrong number of columns, …)",
    "duplicate_key": "a key appears twice in one object (the record, its request or its "
                     "response): readers disagree on which value counts, so none is taken",
    "missing_field": "a required field is absent or empty (the detail names it, and for the "
                     "account the fields tried); a batch input line with no output line",
    "bad_timestamp": "the time is not RFC 3339 with an offset within ±14:00, nor epoch seconds "
                     "or milliseconds, in years 1970-9999",
    "wrong_type": "a field has the wrong JSON type or does not convert (a fraction where an "
                  "integer belongs, a number out of range, `\"yes\"` for a flag); the detail "
                  "names field and type",
    "not_model_call": "an OpenTelemetry span that is not a model call (an agent, tool or "
                      "chain span, or one with no `gen_ai.*` / `llm.*` attribute)",
    "conflict": "a `request_id` already loaded (or earlier in the same file) with different "
                "content; a batch `custom_id` given twice; the detail names the differing "
                "fields and where the first came from",
    "unreadable": "the file cannot be decompressed to its end (truncated or corrupt gzip or "
                  "zstd, or bytes after the last gzip member that are not NUL padding); every "
                  "complete record before the damage is loaded",
}


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _otel() -> str:
    from workbench.loaders import otel

    rows = [(f"`{col}`", ", ".join(f"`{n}`" for n in names)) for col, names in otel.ATTRS.items()]
    rows += [(f"`{k}` (JSON)", v) for k, v in otel.JSON_ATTRS.items()]
    rows += [(f"`{k}.N.…`", v) for k, v in otel.INDEXED.items()]
    return _table(("column", "attributes, first present wins"), rows)


def sections() -> dict[str, str]:
    """Every generated section by name."""
    from workbench.loaders import batch, bodies, envelope, litellm

    out = {
        "formats": _table(("format", "what", "recognised by"),
                          [(f"`{k}`", a, b) for k, (a, b) in FORMATS.items()]),
        "envelope": envelope.markdown(),
        "otel": _otel(),
        "stop_reasons": _table(("stop_reason", "source words (stop_reason_raw)"), [
            (f"`{k}`", ", ".join(f"`{w}`" for w in words))
            for k, words in bodies.STOP_REASONS.items()] + [
            ("`other`", "any other word")]),
        "quarantine": _table(("reason", "when"), [(f"`{k}`", v) for k, v in QUARANTINE.items()]),
    }
    for fmt, mapping in {**litellm.MAPPING, **batch.MAPPING}.items():
        out[fmt] = _table(("column", "from"), [(f"`{k}`" if " " not in k else k, v)
                                              for k, v in mapping.items()])
    return out


def render(text: str) -> str:
    """`text` with every generated section replaced by its current content."""
    for name, body in sections().items():
        start, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        text = pattern.sub(f"{start}\n{body}\n{end}".replace("\\", "\\\\"), text)
    return text


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text()))
