"""The native envelope, field by field: the one record shape every JSON loader maps onto.

A native log line is one JSON object with these fields; the other JSON formats (LiteLLM,
batch files) build the same envelope from their own fields, so the body SQL in `bodies` is
shared. `docs/loaders.md` renders this table (`python -m workbench.loaders.docs`), and a
test keeps the two in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One envelope field: its name, the JSON it holds, whether it is required, and where it
    goes in the case."""

    name: str
    kind: str
    required: bool
    doc: str


FIELDS: tuple[Field, ...] = (
    Field("request_id", "string", True, "`requests.request_id`: the provider's request id, "
          "unique in the case."),
    Field("timestamp", "string or number", True, "`requests.ts`: RFC 3339 with an offset "
          "(`2026-02-03T06:05:06.123+08:00`, offset within ±14:00, year ≤ 9999), or epoch "
          "seconds, or epoch milliseconds (≥ 10¹¹)."),
    Field("account_id", "string", True, "`requests.account_id`: the billing account. "
          "`--account-from FIELD` takes it from another field instead."),
    Field("org_id", "string", False, "`requests.org_id`."),
    Field("api_key_id", "string", False, "`requests.api_key_id` (an id, never the secret)."),
    Field("end_user_id", "string", False, "`requests.end_user_id`; else `request.user`, "
          "`request.metadata.user_id`."),
    Field("client_ip", "string", False, "`requests.client_ip` and `ip_prefix`."),
    Field("user_agent", "string", False, "`requests.user_agent`."),
    Field("country", "string", False, "`requests.country`."),
    Field("access_path", "string", False, "`requests.access_path`."),
    Field("endpoint", "string", False, "`requests.endpoint`, e.g. `/v1/messages`."),
    Field("conversation_id", "string", False, "`requests.conversation_id`."),
    Field("model", "string", True, "`requests.model`; when absent, `request.model`, then "
          "`response.model`."),
    Field("status", "integer", False, "`requests.status` (HTTP, 100–599)."),
    Field("latency_ms", "integer", False, "`requests.latency_ms`."),
    Field("input_tokens", "integer", False, "`requests.input_tokens` when the response has no "
          "usage; the same meaning: every input token, cached or not."),
    Field("output_tokens", "integer", False, "`requests.output_tokens` when the response has "
          "no usage."),
    Field("cache_read_tokens", "integer", False, "`requests.cache_read_tokens` when the "
          "response has no usage."),
    Field("cache_write_tokens", "integer", False, "`requests.cache_write_tokens` when the "
          "response has no usage."),
    Field("reasoning_tokens", "integer", False, "`requests.reasoning_tokens` when the "
          "response has no usage."),
    Field("stop_reason", "string", False, "`requests.stop_reason_raw` (and its class in "
          "`stop_reason`) when the response has none."),
    Field("stream", "boolean", False, "`requests.stream` when the request body does not say."),
    Field("request", "object", False, "The API request body as sent: Anthropic Messages, "
          "OpenAI Chat Completions, Completions or Responses."),
    Field("response", "object, string or array", False, "The response body as returned; or a "
          "streamed response, as the SSE text (`event:`/`data:` lines) or as the list of "
          "chunks or events, assembled into one body."),
)

NAMES = tuple(f.name for f in FIELDS)
STRUCT = json.dumps({f.name: "JSON" for f in FIELDS})


def pack(fields: dict[str, str]) -> str:
    """SQL building the envelope struct from `fields` (name -> JSON fragment expression);
    the fields not given are NULL. An unknown name is a bug, so it raises."""
    extra = set(fields) - set(NAMES)
    if extra:
        msg = f"not envelope fields: {sorted(extra)}"
        raise ValueError(msg)
    return "struct_pack(" + ", ".join(
        f"{n} := {fields.get(n, 'NULL::JSON')}" for n in NAMES) + ")"


def markdown() -> str:
    """The envelope as a markdown table, for docs/loaders.md."""
    rows = ["| field | JSON | required | goes to |", "|---|---|---|---|"]
    rows += [f"| `{f.name}` | {f.kind} | {'yes' if f.required else ''} | {f.doc} |"
             for f in FIELDS]
    return "\n".join(rows)
