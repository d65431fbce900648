"""OpenAI's Chat Completions dialect of :class:`FakeAPI` (OpenCode, Aider): ``POST /v1/chat/completions``, ``GET /v1/models``.

Which step answers: the number of assistant messages already in ``messages`` that are the script's own replies
(a tool call, or a scripted text): a tool call's result comes back as a ``tool`` message after the assistant's, so
the next request asks for the next step; Aider's prompt carries example exchanges and "Ok." acknowledgements as
assistant messages, which are not replies of the script. A side request gets a short
text (:data:`SIDE_TEXT`) and no step: one that offers no ``tools`` while the script has tool steps (OpenCode's
title request; its conversation always offers tools), or one whose system prompt is a known side prompt (Aider
never offers tools: its commit-message and summary requests are told apart by their prompts).

Streamed (``"stream": true``): ``chat.completion.chunk`` events, the role first, then the text as content deltas or
the tool call in delta form (its id and name, then its JSON arguments in pieces), a chunk with the
``finish_reason``, the usage chunk (empty ``choices``) only when ``stream_options.include_usage`` asks for it, then
``data: [DONE]``. Not streamed: one ``chat.completion`` with ``usage``. Usage as OpenAI counts it:
``prompt_tokens`` includes the cached ones (``prompt_tokens_details.cached_tokens``), ``completion_tokens`` the
reasoning ones (``completion_tokens_details.reasoning_tokens``).
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any, Optional

from tests.e2e.fake_api import FakeAPI, Seen, Step, Usage, send_json, send_sse

SIDE_TEXT = "Scripted side reply"
MODELS = ("fake-model",)
# system prompts of requests outside the conversation (Aider 0.86.2's aider/prompts.py: commit_system, summarize)
SIDE_PROMPTS = ("one-line Git commit messages", "summarize this partial conversation")
CREATED = 1_700_000_000


def respond(api: FakeAPI, handler: BaseHTTPRequestHandler, seen: Seen) -> None:
    if seen.method == "GET":
        return send_json(handler, 200, models_list())
    body = seen.body or {}
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    model = str(body.get("model") or MODELS[0])
    if is_side(api, body, messages):
        step = Step(text=SIDE_TEXT)
    else:
        turn = sum(1 for m in messages if is_scripted_reply(api, m))
        seen.step = turn
        step = api.step_for(turn)
    reply_id = f"chatcmpl-{len(api.requests)}"
    if body.get("stream"):
        options = body.get("stream_options")
        with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return send_sse(handler, [(None, c) for c in chunks(step, reply_id, model, with_usage)] + [(None, "[DONE]")])
    send_json(handler, 200, completion(step, reply_id, model))


def models_list() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": m, "object": "model", "created": CREATED, "owned_by": "fake"} for m in MODELS],
    }


def is_side(api: FakeAPI, body: dict[str, Any], messages: list[Any]) -> bool:
    if not body.get("tools") and any(s.tool for s in api.steps):
        return True
    system = " ".join(text_of(m) for m in messages if isinstance(m, dict) and m.get("role") == "system")
    return any(marker in system for marker in SIDE_PROMPTS)


def is_scripted_reply(api: FakeAPI, message: Any) -> bool:
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return False
    if message.get("tool_calls"):
        return True
    text = text_of(message).strip()
    return bool(text) and text in {(s.text or "").strip() for s in api.steps} | {api.final.strip()}


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def tool_call(step: Step, call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": step.tool, "arguments": json.dumps(step.args)}}


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": {"cached_tokens": usage.cached},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    }


def finish_reason(step: Step) -> str:
    return "tool_calls" if step.tool else "stop"


def completion(step: Step, reply_id: str, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.text if not step.tool else None}
    if step.tool:
        message["tool_calls"] = [tool_call(step, f"call_{reply_id}")]
    return {
        "id": reply_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(step)}],
        "usage": usage_json(step.usage),
    }


def chunks(step: Step, reply_id: str, model: str, with_usage: bool) -> list[dict[str, Any]]:
    """The stream's chunks, in the order OpenAI sends them."""

    def chunk(delta: dict[str, Any], finish: Optional[str] = None) -> dict[str, Any]:
        return {
            "id": reply_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    out = [chunk({"role": "assistant", "content": ""})]
    if step.tool:
        arguments = json.dumps(step.args)
        half = len(arguments) // 2
        head = {"index": 0, "id": f"call_{reply_id}", "type": "function"}
        out.append(chunk({"tool_calls": [{**head, "function": {"name": step.tool, "arguments": ""}}]}))
        for piece in (arguments[:half], arguments[half:]):
            out.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    else:
        out.extend(chunk({"content": piece}) for piece in pieces(step.text or ""))
    out.append(chunk({}, finish_reason(step)))
    if with_usage:
        out.append({**chunk({}), "choices": [], "usage": usage_json(step.usage)})
    return out


def pieces(text: str, size: int = 16) -> list[str]:
    """The text in small deltas, as a model streams it (at least one, so an empty reply still has content)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
