"""Streamed responses assembled into one response body, in SQL.

A streamed response arrives as server-sent events (`event:` / `data:` lines, the text a client
receives) or as the list of events or chunks a client library collected. `wb_sse(text)` turns
SSE text into the JSON array of its `data:` payloads (`[DONE]` and payloads that are not JSON
are left out); `wb_stream_body(events)` assembles the array into the body the API would have
returned unstreamed, so the shared body SQL reads it like any other:

- Anthropic Messages events (`message_start`, `content_block_start`/`_delta`, `message_delta`):
  a `message` with its content blocks (text and thinking deltas joined), `stop_reason` from the
  last `message_delta`, usage from `message_start` updated by `message_delta`;
- OpenAI Chat Completions chunks (`chat.completion.chunk`): a `chat.completion` whose first
  choice holds the joined `delta.content`, the last `finish_reason` and the last `usage`;
- OpenAI Completions chunks (`text_completion`): the joined `choices[0].text`;
- OpenAI Responses events: the `response` of `response.completed` (or of the last
  `response.*` event that carries one), else the joined `response.output_text.delta`s.

Anything else yields NULL (no output, no usage), never a guess.
"""

from __future__ import annotations

import json

_EVENT = json.dumps([{
    "type": "VARCHAR", "object": "VARCHAR", "id": "VARCHAR", "model": "VARCHAR",
    "index": "BIGINT",
    "message": {"id": "VARCHAR", "model": "VARCHAR", "usage": "JSON"},
    "content_block": {"type": "VARCHAR", "text": "VARCHAR", "thinking": "VARCHAR",
                      "name": "VARCHAR"},
    "delta": "JSON", "usage": "JSON", "response": "JSON",
    "choices": [{"index": "BIGINT", "delta": {"content": "VARCHAR"}, "text": "VARCHAR",
                 "finish_reason": "VARCHAR"}]}])

MACROS = [
    "create or replace temp macro wb_sse(t) as ('[' || array_to_string(list_filter("
    "list_transform(string_split(replace(t, chr(13), ''), chr(10)), lambda l: case when "
    "starts_with(l, 'data:') then trim(substr(l, 6)) end), lambda d: d is not null and "
    "d <> '[DONE]' and json_valid(d)), ',') || ']')::JSON",
    # The last non-null value of a list.
    "create or replace temp macro wb_last(xs) as list_filter(xs, lambda x: x is not null)[-1]",
    "create or replace temp macro wb_anthropic_body(evs) as json_object("
    "'type', 'message', 'role', 'assistant', "
    "'id', list_filter(evs, lambda x: x.type = 'message_start')[1].message.id, "
    "'model', list_filter(evs, lambda x: x.type = 'message_start')[1].message.model, "
    "'content', to_json(list_transform(list_filter(evs, lambda x: x.type = "
    "'content_block_start'), lambda s: {'type': s.content_block.type, "
    "'text': case when s.content_block.type = 'text' then coalesce(s.content_block.text, '') "
    "|| array_to_string(list_transform(list_filter(evs, lambda d: d.type = "
    "'content_block_delta' and d.index = s.index), lambda d: d.delta->>'$.text'), '') end, "
    "'thinking': case when s.content_block.type = 'thinking' then "
    "coalesce(s.content_block.thinking, '') || array_to_string(list_transform(list_filter(evs, "
    "lambda d: d.type = 'content_block_delta' and d.index = s.index), lambda d: "
    "d.delta->>'$.thinking'), '') end, 'name': s.content_block.name})), "
    "'stop_reason', coalesce(wb_last(list_transform(list_filter(evs, lambda x: x.type = "
    "'message_delta'), lambda x: x.delta->>'$.stop_reason')), case when list_contains("
    "list_transform(evs, lambda x: x.type), 'error') then 'error' end), "
    "'usage', json_merge_patch(coalesce(list_filter(evs, lambda x: x.type = 'message_start')[1]"
    ".message.usage, '{}'), coalesce(wb_last(list_transform(list_filter(evs, lambda x: "
    "x.type = 'message_delta'), lambda x: x.usage)), '{}')))",
    "create or replace temp macro wb_chat_body(evs) as json_object("
    "'object', 'chat.completion', 'id', wb_last(list_transform(evs, lambda x: x.id)), "
    "'model', wb_last(list_transform(evs, lambda x: x.model)), "
    "'choices', json_array(json_object('index', 0, 'message', json_object('role', 'assistant', "
    "'content', array_to_string(list_transform(list_filter(flatten(list_transform(evs, "
    "lambda x: x.choices)), lambda c: coalesce(c.index, 0) = 0), lambda c: c.delta.content), "
    "'')), 'finish_reason', wb_last(list_transform(list_filter(flatten(list_transform(evs, "
    "lambda x: x.choices)), lambda c: coalesce(c.index, 0) = 0), lambda c: c.finish_reason)))),"
    " 'usage', wb_last(list_transform(evs, lambda x: x.usage)))",
    "create or replace temp macro wb_text_body(evs) as json_object("
    "'object', 'text_completion', 'id', wb_last(list_transform(evs, lambda x: x.id)), "
    "'model', wb_last(list_transform(evs, lambda x: x.model)), "
    "'choices', json_array(json_object('index', 0, 'text', array_to_string(list_transform("
    "list_filter(flatten(list_transform(evs, lambda x: x.choices)), lambda c: "
    "coalesce(c.index, 0) = 0), lambda c: c.text), ''), 'finish_reason', wb_last("
    "list_transform(flatten(list_transform(evs, lambda x: x.choices)), lambda c: "
    "c.finish_reason)))), 'usage', wb_last(list_transform(evs, lambda x: x.usage)))",
    "create or replace temp macro wb_responses_body(evs) as coalesce("
    "list_filter(evs, lambda x: x.type = 'response.completed')[-1].response, "
    "wb_last(list_transform(evs, lambda x: x.response)), json_object('object', 'response', "
    "'output_text', array_to_string(list_transform(list_filter(evs, lambda x: x.type = "
    "'response.output_text.delta'), lambda x: x.delta->>'$'), '')))",
    "create or replace temp macro wb_stream_asm(evs) as case "
    "when list_contains(list_transform(evs, lambda x: x.type), 'message_start') "
    "then wb_anthropic_body(evs) "
    "when list_contains(list_transform(evs, lambda x: x.object), 'chat.completion.chunk') "
    "then wb_chat_body(evs) "
    "when list_contains(list_transform(evs, lambda x: x.object), 'text_completion') "
    "then wb_text_body(evs) "
    "when array_length(list_filter(evs, lambda x: starts_with(x.type, 'response.'))) > 0 "
    "then wb_responses_body(evs) end",
    f"create or replace temp macro wb_stream_body(ev) as "
    f"wb_stream_asm(try(json_transform(ev, '{_EVENT}')))",
]
