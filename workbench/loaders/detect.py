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

# format name -> (module in this package, target table)
FORMATS: dict[str, tuple[str, str]] = {
    "native": ("native", "requests"),
    "litellm": ("litellm", "requests"),
    "litellm_payload": ("litellm", "requests"),
    "otel": ("otel", "requests"),
    "openai_batch_input": ("batch", "requests"),
    "openai_batch_output": ("batch", "requests"),
    "anthropic_batch_input": ("batch", "requests"),
    "anthropic_batch": ("batch", "requests"),
    "canonical_csv": ("canonical", "requests"),
    "canonical_parquet": ("canonical", "requests"),
    "accounts": ("reference", "accounts"),
    "releases": ("reference", "model_releases"),
}

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
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict | list):
        try:
            value, _ = json.JSONDecoder().raw_decode(text)
        except (ValueError, RecursionError):
            value = None
            if text.startswith("["):  # an array larger than the head: its first element
                try:
                    value, _ = json.JSONDecoder().raw_decode(text[1:].lstrip(_WS))
                except (ValueError, RecursionError):
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


def _head(path: Path) -> tuple[bytes, bool]:
    """(the first HEAD decompressed bytes, BOM removed; whether decompression failed there)."""
    stream, raw = _stream.open_bytes(path)
    data, damaged = b"", False
    try:
        while len(data) < HEAD:
            piece = stream.read(HEAD - len(data))
            if not piece:
                break
            data += piece
    except (OSError, EOFError, ValueError):
        damaged = True
    finally:
        stream.close()
        raw.close()
    return (data[3:] if data.startswith(_stream.BOM) else data), damaged


def is_empty(path: Path) -> bool:
    """Whether a file holds nothing but whitespace once decompressed (a damaged compressed
    file is not empty: its load reports the damage)."""
    if path.stat().st_size == 0:
        return True
    data, damaged = _head(path)
    return not damaged and len(data) < HEAD and not data.strip(_WS.encode())


def first_keys(path: Path) -> tuple[str, set[str]]:
    """('parquet' | 'json' | 'csv' | 'empty', the first record's keys or the CSV header)."""
    with path.open("rb") as f:
        if f.read(4) == b"PAR1":
            return "parquet", set()
    head = _stream.head_text(path, HEAD).lstrip("\ufeff" + _WS)
    if not head:
        return "empty", set()
    if head.startswith(("{", "[")):
        record = first_record(head)
        return "json", set(record) if isinstance(record, dict) else set()
    return "csv", {h.strip().strip('"') for h in head.split("\n", 1)[0].split(",")}


_REQUEST_KEYS = {"request_id", "resourceSpans", "custom_id", "startTime", "timestamp", "ts"}
_KINDS = {"canonical_csv": ("csv",), "canonical_parquet": ("parquet",),
          "accounts": ("csv", "json"), "releases": ("csv", "json")}


def check_format(path: Path, fmt: str, given_as: str) -> None:
    """Fail clearly when a file plainly is not what it was given as (`--format X`,
    `--accounts`, `--releases`): CSV forced on JSON, a request log given as account records.
    A file whose content fits is left to its loader, which quarantines bad records."""
    kind, keys = first_keys(path)
    if kind == "empty":
        return
    wanted = _KINDS.get(fmt, ("json", "csv") if fmt == "litellm" else ("json",))
    try:
        seen: str | None = detect_format(path)
    except LoadError:
        seen = None
    lower = {k.lower() for k in keys}
    wrong = kind not in wanted
    if fmt == "accounts" and ("account_id" not in lower or lower & {k.lower() for k in
                                                                    _REQUEST_KEYS}):
        wrong = True
    if fmt == "releases" and not {"model", "released_at"} <= lower:
        wrong = True
    if wrong:
        what = f"{seen} ({kind})" if seen else kind
        fields = ", ".join(sorted(keys)[:8])
        msg = (f"File {str(path)!r}, given {given_as}, is not {fmt}: it reads as {what}, "
               f"with fields {fields or 'none'}. Give the right file"
               + (", or drop --format to detect it." if given_as.startswith("as --format")
                  else "."))
        raise LoadError(msg)


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
    data, damaged = _head(path)
    head = data.decode("utf-8", errors="replace").lstrip(_WS)
    if not head:
        if damaged:  # nothing readable: the native loader stages the damage as `unreadable`
            return "native"
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
    msg = (f"Cannot tell the format of {str(path)!r} from its content. Give --format; known "
           f"formats: {', '.join(sorted(FORMATS))}.")
    raise LoadError(msg)
