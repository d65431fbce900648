"""Gemini's dialect (Gemini CLI): ``POST /v1beta/models/<model>:streamGenerateContent?alt=sse``.

Each SSE ``data:`` line is one ``GenerateContentResponse``. A tool step is one chunk with
``parts[].functionCall{name, args}`` (Gemini CLI's shell tool is ``run_shell_command {command, description}``);
a text step is two chunks, the text split in two, as a model streams. ``usageMetadata`` rides on the last chunk
with ``finishReason: "STOP"``.

The step is the number of model turns already in the request's ``contents`` (a tool result comes back as a user
turn holding ``functionResponse`` parts). Side requests get an answer that uses up nothing: ``countTokens`` a
count, a non-streamed ``generateContent`` (Gemini CLI's model router and its checks ask for JSON) a short JSON text.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Optional

from tests.e2e.fake_api import Seen, Step, send_json, send_sse

if TYPE_CHECKING:
    from tests.e2e.fake_api import FakeAPI

MODEL_VERSION = "gemini-2.5-pro"


def respond(api: FakeAPI, handler: BaseHTTPRequestHandler, seen: Seen) -> None:
    path = handler.path.split("?", 1)[0]
    body = seen.body or {}
    if path.endswith(":countTokens"):
        return send_json(handler, 200, {"totalTokens": _rough_tokens(body)})
    if path.endswith(":streamGenerateContent"):
        turn = model_turns(body)
        with api.lock:
            seen.step = turn
        return send_sse(handler, [(None, chunk) for chunk in chunks(api.step_for(turn))])
    if path.endswith(":generateContent"):
        return send_json(handler, 200, side_answer(body))
    if path.endswith(":embedContent") or path.endswith(":batchEmbedContents"):
        return send_json(handler, 200, {"embeddings": [{"values": [0.0] * 8}]})
    send_json(handler, 404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})


def model_turns(body: dict[str, Any]) -> int:
    """How many model replies the conversation already holds: the index of the step answering it."""
    contents = body.get("contents")
    if not isinstance(contents, list):
        return 0
    return sum(1 for c in contents if isinstance(c, dict) and c.get("role") == "model")


def chunks(step: Step) -> list[dict[str, Any]]:
    """The step as Gemini streams it: the content chunks, the last one with the finish reason and usage."""
    if step.tool is not None:
        parts_list: list[list[dict[str, Any]]] = [[{"functionCall": {"name": step.tool, "args": step.args}}]]
    else:
        text = step.text or ""
        half = len(text) // 2
        parts_list = [[{"text": text[:half]}], [{"text": text[half:]}]] if half else [[{"text": text}]]
    out = [_candidate(parts, finish=None) for parts in parts_list]
    out[-1] = _candidate(parts_list[-1], finish="STOP")
    out[-1]["usageMetadata"] = usage_metadata(step)
    return out


def usage_metadata(step: Step) -> dict[str, Any]:
    """Gemini's counts: ``promptTokenCount`` includes the cached part, ``candidatesTokenCount`` excludes thoughts."""
    u = step.usage
    meta: dict[str, Any] = {
        "promptTokenCount": u.input,
        "candidatesTokenCount": u.output - u.reasoning,
        "totalTokenCount": u.input + u.output,
    }
    if u.cached:
        meta["cachedContentTokenCount"] = u.cached
    if u.reasoning:
        meta["thoughtsTokenCount"] = u.reasoning
    return meta


def side_answer(body: dict[str, Any]) -> dict[str, Any]:
    """A non-streamed reply to Gemini CLI's own questions (its model router, its checks): JSON shaped by the schema
    the request asks for (``responseJsonSchema``/``responseSchema``), else a short text."""
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    text = json.dumps(sample(schema)) if isinstance(schema, dict) else "Scripted."
    reply = _candidate([{"text": text}], finish="STOP")
    reply["usageMetadata"] = {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}
    return reply


def sample(schema: dict[str, Any]) -> Any:
    """The plainest value a JSON schema (Gemini's upper-case types too) accepts: enums' first, numbers 1."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: sample(v) for k, v in props.items() if isinstance(v, dict)}
    if kind == "array":
        return []
    return {"string": "scripted", "integer": 1, "number": 1, "boolean": False}.get(kind)


def _candidate(parts: list[dict[str, Any]], finish: Optional[str]) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": MODEL_VERSION}


def _rough_tokens(body: dict[str, Any]) -> int:
    return max(1, len(json.dumps(body)) // 4)
