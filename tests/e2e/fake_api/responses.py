"""OpenAI's Responses API, streamed (SSE), as Codex speaks it: ``POST /v1/responses`` (and a model list on GET).

Which step answers a request: the number of model turns already in the request's ``input`` (each earlier
reply comes back as a ``function_call`` or an assistant ``message`` item; the user's own items and the tool
outputs are not model turns), so a retried or side request never uses up the script. A tool step becomes one
``function_call`` output item (arguments as a JSON string, the tool named as the agent offers it: Codex's
shell is ``exec_command {cmd}``); a text step one assistant ``message``. ``response.completed`` carries the
step's usage in the Responses shape (``input_tokens_details.cached_tokens``,
``output_tokens_details.reasoning_tokens``), which Codex records in its rollout's ``token_count``.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.e2e.fake_api import FakeAPI, Seen, Step, send_json, send_sse


def respond(api: FakeAPI, handler: BaseHTTPRequestHandler, seen: Seen) -> None:
    if seen.method != "POST" or seen.body is None:
        return send_json(handler, 200, {"object": "list", "data": []})
    turn = model_turns(seen.body)
    step = api.step_for(turn)
    with api.lock:
        seen.step = turn
    send_sse(handler, stream(step, turn, seen.body))


def model_turns(body: dict[str, Any]) -> int:
    """How many model replies the conversation already holds: one per run of consecutive model items.

    A reply with several items (a reasoning item then a call, or text then a call) counts once, as the agent
    sends them back together.
    """
    turns = 0
    previous_was_model = False
    for item in body.get("input") or []:
        is_model = isinstance(item, dict) and _is_model_item(item)
        if is_model and not previous_was_model:
            turns += 1
        previous_was_model = is_model
    return turns


def _is_model_item(item: dict[str, Any]) -> bool:
    kind = item.get("type")
    if kind in {"function_call", "custom_tool_call", "local_shell_call", "reasoning"}:
        return True
    return kind in {"message", None} and item.get("role") == "assistant"


def offered_tools(body: dict[str, Any]) -> list[str]:
    """The names of the function tools the request offers (a test checks its step names one)."""
    return [t.get("name", "") for t in body.get("tools") or [] if isinstance(t, dict)]


def stream(step: Step, turn: int, body: dict[str, Any]) -> list[tuple[str, Any]]:
    rid = f"resp_{turn}"
    item = _item(step, turn)
    base = {"id": rid, "object": "response", "model": body.get("model", "fake"), "status": "in_progress"}
    events: list[tuple[str, Any]] = [
        ("response.created", {"type": "response.created", "response": base}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item}),
    ]
    if step.tool is None:
        events.append(
            (
                "response.output_text.delta",
                {"type": "response.output_text.delta", "item_id": item["id"], "output_index": 0, "delta": step.text},
            )
        )
    events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}))
    done = dict(base, status="completed", output=[item], usage=_usage(step))
    events.append(("response.completed", {"type": "response.completed", "response": done}))
    return events


def _item(step: Step, turn: int) -> dict[str, Any]:
    if step.tool is not None:
        return {
            "type": "function_call",
            "id": f"fc_{turn}",
            "call_id": f"call_{turn}",
            "name": step.tool,
            "arguments": json.dumps(step.args),
            "status": "completed",
        }
    return {
        "type": "message",
        "id": f"msg_{turn}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": step.text or "", "annotations": []}],
    }


def _usage(step: Step) -> dict[str, Any]:
    u = step.usage
    return {
        "input_tokens": u.input,
        "input_tokens_details": {"cached_tokens": u.cached},
        "output_tokens": u.output,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.input + u.output,
    }
