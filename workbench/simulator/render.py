"""Render a `Req` as the native envelope: an Anthropic Messages, OpenAI Chat Completions or
OpenAI Responses body as sent, and the body as returned.

With `metadata_only` the request keeps its parameters and tool definitions but loses
`messages`/`system`/`input`/`instructions`, and the response keeps its usage and stop reason
but loses every piece of content.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from workbench.simulator import text
from workbench.simulator.prompts import Req
from workbench.simulator.world import Actor, World, residential

ENDPOINTS = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions",
             "responses": "/v1/responses"}
ERRORS = ((429, "rate_limit_error", "Rate limit exceeded: too many requests per minute."),
          (529, "overloaded_error", "The service is temporarily overloaded."),
          (500, "api_error", "Internal server error."))


@functools.cache
def tool_defs(key: str, style: str) -> tuple[dict[str, Any], ...]:
    """Tool definitions of one tool set, in the request shape of `style`."""
    out = []
    for name in text.campaign("tool_sets")[key]:
        schema = {"type": "object", "properties": {"arg": {"type": "string",
                  "description": f"Input for {name}."}}, "required": ["arg"]}
        desc = f"{name.replace('_', ' ').capitalize()} tool."
        if style == "anthropic":
            out.append({"name": name, "description": desc, "input_schema": schema})
        elif style == "openai":
            out.append({"type": "function", "function": {"name": name, "description": desc,
                                                          "parameters": schema}})
        else:
            out.append({"type": "function", "name": name, "description": desc,
                        "parameters": schema})
    return tuple(out)


def _output(rng: random.Random, r: Req) -> tuple[str, str]:
    """(visible answer, reasoning text) for a request of this kind."""
    k = r.kind
    if k == "logit":
        return rng.choice(("the", "The", " Paris", "1", " A", "word")), ""
    if k == "batch":
        if "JSON" in r.prompt:
            number, day = rng.randrange(10**4, 10**5), rng.randint(1, 28)
            return (f'{{"invoice_number": "{number}", "date": "2026-01-{day:02d}", '
                    '"total": 4210.0, "currency": "EUR", "vendor": "Nordlicht Logistics AG"}'), ""
        return rng.choice(("billing", "technical", "account", "shipping", "other",
                           "The supplier must cover defect claims.")), ""
    if k == "grade":
        return (f'{{"score": {rng.randint(0, 5)}, "failed_items": []}}' if "JSON" in r.prompt
                else rng.choice(("ACCEPT\nThe reply resolves the issue.",
                                 "accuracy=4 tone=5 policy=5", "REJECT\nWrong policy."))), ""
    if k == "eval":
        return text.answer(rng, "maths", steps=rng.randint(2, 5), length=1) + \
            f"\n\nThe answer is {rng.randint(2, 400)}.", ""
    if k in ("cot", "reconstruct"):
        return text.answer(rng, "maths", steps=rng.randint(5, 9), length=2), ""
    if k == "rubric":
        return (f"Score: {rng.randint(1, 10)}\nJustification: "
                + " ".join(rng.sample(text.bank("families")["answers"]["sentences"], 2))), ""
    if k == "censor":
        return ("Here is a safe version of the question and a neutral answer that avoids "
                "contested details. " + text.answer(rng, "chat", length=2)), ""
    if k == "coerce":
        return f"<think>\n{text.reasoning(rng, r.lang, rng.randint(5, 9))}\n</think>\n" + \
            text.reasoning(rng, r.lang, 1), ""
    length = rng.randint(1, 5)
    return text.answer(rng, r.fam, length=length), (
        text.reasoning(rng, "en", rng.randint(3, 8)) if r.thinking else "")


def _tokens(n_chars: int) -> int:
    return max(1, n_chars // 4)


def envelope(world: World, actor: Actor, r: Req, rng: random.Random, day_iso: str,
             epoch: int) -> dict[str, Any]:
    """The native envelope for one request (see issue 2 and docs/simulator.md)."""
    style = actor.style
    meta = world.metadata_only
    ms = r.ms
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, frac = divmod(rem, 1000)
    rid = f"req_{epoch * 1000 + ms:012x}{rng.getrandbits(64):016x}"
    status = 200
    x = rng.random()
    err_p = 0.02 if actor.campaign_id else 0.006
    if x < err_p:
        status, etype, emsg = ERRORS[0] if x < err_p * 0.7 else rng.choice(ERRORS[1:])
    ip = rng.choice(actor.ips) if actor.ips else residential(rng)
    env: dict[str, Any] = {
        "request_id": rid, "timestamp": f"{day_iso}T{h:02d}:{m:02d}:{s:02d}.{frac:03d}Z",
        "account_id": actor.account_id, "org_id": actor.org_id,
        "api_key_id": actor.keys[ms % len(actor.keys)], "client_ip": ip,
        "user_agent": rng.choice(uas) if (uas := actor.extra.get("uas")) else actor.ua,
        "country": actor.country, "access_path": actor.paths[0],
        "endpoint": ENDPOINTS[style], "model": r.model, "status": status,
    }
    history = r.history
    n_in = len(r.prompt) + sum(len(t) for t in history) + len(r.system or "")
    tools = list(tool_defs(r.tools, style)) if r.tools else []
    if r.extra_tool and tools:
        tools.append({**tools[0], "name": r.extra_tool} if style != "openai" else
                     {"type": "function", "function": {**tools[0]["function"],
                                                       "name": r.extra_tool}})
    req = _request(style, r, history, tools, meta)
    env["request"] = req
    input_tokens = _tokens(n_in) + 90 * len(tools)
    if status != 200:
        env["latency_ms"] = rng.randint(20, 400)
        env["response"] = {"type": "error", "error": {"type": etype, "message": emsg}}
        return env
    answer, thought = _output(rng, r)
    if r.thinking and not thought:
        thought = text.reasoning(rng, r.lang, rng.randint(4, 10))
    call = r.tool_call and bool(tools)
    out_tokens = _tokens(len(answer)) + (40 if call else 0)
    think_tokens = _tokens(len(thought)) * 6 if thought else 0  # full traces are long
    cached = (input_tokens // 2) if (r.system and rng.random() < 0.6) else 0
    env["latency_ms"] = int(250 + rng.random() * 600 + (out_tokens + think_tokens) * 12)
    env["response"] = _response(style, r, rng, answer, thought, call, tools,
                                (input_tokens, out_tokens, think_tokens, cached), meta,
                                epoch + ms // 1000)
    return env


def _request(style: str, r: Req, history: list[str], tools: list[dict[str, Any]],
             meta: bool) -> dict[str, Any]:
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": t}
             for i, t in enumerate(history)]
    turns.append({"role": "user", "content": r.prompt})
    req: dict[str, Any] = {"model": r.model}
    if style == "anthropic":
        req["max_tokens"] = r.max_tokens
        if not meta:
            if r.system:
                req["system"] = r.system
            req["messages"] = turns
        if r.thinking:
            req["thinking"] = {"type": "enabled", "budget_tokens": r.thinking}
        if r.end_user:
            req["metadata"] = {"user_id": r.end_user}
        if r.top_k is not None:
            req["top_k"] = r.top_k
    elif style == "openai":
        if not meta:
            req["messages"] = ([{"role": "system", "content": r.system}] if r.system else []) \
                + turns
        req["max_tokens" if r.thinking == 0 else "max_completion_tokens"] = r.max_tokens
        if r.thinking:
            req["reasoning_effort"] = "high" if r.thinking >= 8000 else "medium"
        if r.logit_bias is not None:
            req["logit_bias"] = r.logit_bias
            req["logprobs"] = True
            req["top_logprobs"] = r.top_logprobs
        if r.end_user:
            req["user"] = r.end_user
    else:
        if not meta:
            if r.system:
                req["instructions"] = r.system
            req["input"] = turns
        req["max_output_tokens"] = r.max_tokens
        if r.thinking:
            req["reasoning"] = {"effort": "high" if r.thinking >= 8000 else "medium"}
        if r.end_user:
            req["user"] = r.end_user
    if r.temperature is not None:
        req["temperature"] = r.temperature
    if r.top_p is not None:
        req["top_p"] = r.top_p
    if r.stream:
        req["stream"] = True
    if tools:
        req["tools"] = tools
        req["tool_choice"] = {"type": "auto"} if style == "anthropic" else "auto"
    return req


def _response(style: str, r: Req, rng: random.Random, answer: str, thought: str, call: bool,
              tools: list[dict[str, Any]], usage: tuple[int, int, int, int], meta: bool,
              epoch: int) -> dict[str, Any]:
    inp, out, think, cached = usage
    rid = f"{rng.getrandbits(64):016x}"
    stop = "max_tokens" if r.max_tokens <= 2 else ("tool_use" if call else "end_turn")
    name = ""
    if call:
        first = tools[rng.randrange(len(tools))]
        name = first.get("name") or first["function"]["name"]
    if style == "anthropic":
        resp: dict[str, Any] = {"id": f"msg_{rid}", "type": "message", "role": "assistant",
                                "model": r.model}
        if not meta:
            content: list[dict[str, Any]] = []
            if thought:
                content.append({"type": "thinking", "thinking": thought,
                                "signature": f"sig_{rid}"})
            content.append({"type": "text", "text": answer})
            if call:
                content.append({"type": "tool_use", "id": f"toolu_{rid}", "name": name,
                                "input": {"arg": "src/app.py"}})
            resp["content"] = content
        resp["stop_reason"] = stop
        resp["stop_sequence"] = None
        resp["usage"] = {"input_tokens": inp, "output_tokens": out + think,
                         "cache_read_input_tokens": cached}
        return resp
    finish = {"max_tokens": "length", "tool_use": "tool_calls", "end_turn": "stop"}[stop]
    if style == "openai":
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
        if not meta:
            msg: dict[str, Any] = {"role": "assistant", "content": answer}
            if call:
                msg["tool_calls"] = [{"id": f"call_{rid}", "type": "function", "function": {
                    "name": name, "arguments": '{"arg": "src/app.py"}'}}]
            choice["message"] = msg
            if r.logit_bias is not None:
                choice["logprobs"] = {"content": [{"token": answer, "logprob": -0.0123,
                    "top_logprobs": [{"token": t, "logprob": round(-rng.random() * 12, 4)}
                                     for t in ("the", "The", " a", "1", " Paris", "A", "x",
                                               "word", " I", "0", "yes", "no", " the", "B",
                                               "2", " is", "an", " of", "to", "and")
                                     [: r.top_logprobs or 5]]}]}
        return {"id": f"chatcmpl-{rid}", "object": "chat.completion", "created": epoch,
                "model": r.model, "choices": [choice],
                "usage": {"prompt_tokens": inp, "completion_tokens": out + think,
                          "total_tokens": inp + out + think,
                          "prompt_tokens_details": {"cached_tokens": cached},
                          "completion_tokens_details": {"reasoning_tokens": think}}}
    resp = {"id": f"resp_{rid}", "object": "response", "created_at": epoch, "model": r.model,
            "status": "completed" if stop != "max_tokens" else "incomplete"}
    if not meta:
        output: list[dict[str, Any]] = []
        if call:
            output.append({"type": "function_call", "call_id": f"call_{rid}", "name": name,
                           "arguments": '{"arg": "src/app.py"}'})
        output.append({"type": "message", "role": "assistant",
                       "content": [{"type": "output_text", "text": answer}]})
        resp["output"] = output
    resp["usage"] = {"input_tokens": inp, "output_tokens": out + think,
                     "total_tokens": inp + out + think,
                     "input_tokens_details": {"cached_tokens": cached},
                     "output_tokens_details": {"reasoning_tokens": think}}
    return resp
