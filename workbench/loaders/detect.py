"""Which files a load reads, and which loader each needs, from the files' content.

A format is told from the *keys* of the first record (or the header of a CSV), never from a
substring of the text: a prompt that mentions `resourceSpans` does not make a file OTLP.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

from workbench.errors import LoadError
from workbench.loaders import _stream

_WS = " \t\r\n"
HEAD = 1 << 20  # decompressed bytes read to tell a format


def expand(paths: Any) -> list[Path]:
    """Files named by `paths`: a path, a glob, a folder (searched recursively, e.g. a
    hive-partitioned export) or a list of those. A name that matches nothing is an error."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        s = os.fspath(p)
        if any(ch in s for ch in "*?[") and not Path(s).exists():
            found = sorted(Path(m) for m in glob.glob(s, recursive=True)  # noqa: PTH207
                           if Path(m).is_file())
        elif Path(s).is_dir():
            found = sorted(f for f in Path(s).rglob("*")
                           if f.is_file() and not f.name.startswith((".", "_")))
        elif Path(s).is_file():
            found = [Path(s)]
        else:
            msg = f"Input {s!r} does not exist. Check the path (globs like 'logs/*.jsonl.gz' work)."
            raise LoadError(msg)
        if not found:
            msg = f"Input {s!r} matches no files. Check the pattern or folder."
            raise LoadError(msg)
        out.extend(found)
    return out


def first_record(head: str) -> Any:
    """The first record of a JSON file's head: its first line, else its first value (the
    first element of a top-level array, or of a `data`/`requests` list); None when the head
    holds no complete value."""
    text = head.lstrip(_WS)
    line = text.split("\n", 1)[0]
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict | list):
        try:
            value, _ = json.JSONDecoder().raw_decode(text)
        except ValueError:
            value = None
            if text.startswith("["):  # an array larger than the head: its first element
                try:
                    value, _ = json.JSONDecoder().raw_decode(text[1:].lstrip(_WS))
                except ValueError:
                    return None
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        for key in ("data", "requests"):
            inner = value.get(key)
            if isinstance(inner, list) and inner and isinstance(inner[0], dict) and (
                    "resourceSpans" not in value):
                return inner[0]
    return value


def format_of_keys(keys: set[str]) -> str:
    """The JSON format whose records have these top-level keys."""
    if "resourceSpans" in keys:
        return "otel"
    if "custom_id" in keys:
        if "body" in keys and ({"method", "url"} & keys):
            return "openai_batch_input"
        if "params" in keys:
            return "anthropic_batch_input"
        if "result" in keys:
            return "anthropic_batch"
        if "response" in keys or "error" in keys:
            return "openai_batch_output"
    if "startTime" in keys and ({"response_cost", "hidden_params", "model_parameters",
                                  "model_map_information"} & keys):
        return "litellm_payload"
    if {"request_id", "startTime"} <= keys:
        return "litellm"
    if {"payment_fingerprint", "signup_path"} & keys:
        return "accounts"
    if {"model", "released_at"} <= keys and len(keys) <= 3:
        return "releases"
    return "native"


def detect_format(path: Path) -> str:
    """Name the loader for a file from its content (not its name).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
        >>> _ = p.write_text('{"request_id": "r1", "timestamp": 0}\\n')
        >>> detect_format(p)
        'native'
    """
    with path.open("rb") as f:
        if f.read(4) == b"PAR1":
            return "canonical_parquet"
    head = _stream.head_text(path, HEAD).lstrip("\ufeff" + _WS)
    if not head:
        msg = f"File {str(path)!r} is empty."
        raise LoadError(msg)
    if head.startswith(("{", "[")):
        record = first_record(head)
        if isinstance(record, dict):
            return format_of_keys(set(record))
        if head.startswith('{"resourceSpans"') or head.startswith('{\n  "resourceSpans"'):
            return "otel"  # one export request larger than the head
        return "native"  # the native loader quarantines what is not a record, line by line
    header = {h.strip().strip('"').lower() for h in head.split("\n", 1)[0].split(",")}
    if {"request_id", "starttime"} <= header:
        return "litellm"
    if {"model", "released_at"} <= header:
        return "releases"
    if "account_id" in header and ({"payment_fingerprint", "signup_path"} & header):
        return "accounts"
    if {"request_id", "ts"} <= header:
        return "canonical_csv"
    from workbench.loaders import FORMATS

    msg = (f"Cannot tell the format of {str(path)!r} from its content. Give --format; known "
           f"formats: {', '.join(sorted(FORMATS))}.")
    raise LoadError(msg)
