"""A scripted Anthropic Messages API on 127.0.0.1 for driving the real Claude Code client offline.

Scenarios are data: a :class:`Scenario` holds the main conversation's :class:`Step` list and one
script per subagent, keyed by a marker that appears in the subagent's prompt. The server answers a
request that carries a ``tools`` list (the conversation) with the step whose index is the number of
assistant turns already in ``messages``; a request without tools (title, summary, ...) gets a short
text answer whose usage the scenario sets (default zero, because Claude Code adds it to its cost).
Every request is logged (:class:`SeenRequest`) so tests can inspect what the client sent.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union

DEFAULT_MODEL = "claude-sonnet-4-5"


@dataclass(frozen=True)
class Usage:
    """Token usage of one scripted response; cache writes split by TTL like the real API."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_5m: int = 0
    cache_1h: int = 0
    cache_read: int = 0

    def as_api(self, output_tokens: int | None = None) -> dict[str, Any]:
        """The ``usage`` object as the Messages API sends it."""
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_5m + self.cache_1h,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": self.cache_5m, "ephemeral_1h_input_tokens": self.cache_1h},
            "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
            "service_tier": "standard",
        }


ZERO = Usage()


@dataclass(frozen=True)
class ToolCall:
    """A ``tool_use`` block: the model asks Claude Code to run ``name`` with ``input``."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Text:
    """A ``text`` block."""

    text: str


Block = Union[ToolCall, Text]


@dataclass(frozen=True)
class Step:
    """One assistant response: its blocks (several tool calls = parallel calls), model echoed, usage."""

    blocks: tuple[Block, ...]
    model: str | None = None  # None: echo the model the request asked for
    usage: Usage = field(default_factory=lambda: Usage(input_tokens=100, output_tokens=20))

    @property
    def stop_reason(self) -> str:
        return "tool_use" if any(isinstance(b, ToolCall) for b in self.blocks) else "end_turn"


def tool(name: str, input: dict[str, Any], *, model: str | None = None, usage: Usage | None = None) -> Step:
    """A step with one tool call."""
    return Step((ToolCall(name, input),), model, usage or Usage(input_tokens=100, output_tokens=20))


def say(text: str, *, model: str | None = None, usage: Usage | None = None) -> Step:
    """A step with one text block (ends the turn)."""
    return Step((Text(text),), model, usage or Usage(input_tokens=100, output_tokens=20))


# A step may also be decided when its request arrives, from what the client offers (e.g. its tools).
Scripted = Union[Step, Callable[["SeenRequest"], Step]]


@dataclass
class Scenario:
    """What the scripted API answers: the main script, subagent scripts by prompt marker, side usage."""

    steps: list[Scripted]
    subagents: dict[str, list[Scripted]] = field(default_factory=dict)
    side_usage: Usage = ZERO  # usage of requests without tools (titles, summaries)
    side_text: str = "Scripted title"
    fallback_text: str = "Nothing more to do."  # a conversation request past the end of its script


@dataclass
class SeenRequest:
    """One request the client made, as the server saw it."""

    method: str
    path: str
    body: dict[str, Any] | None
    script: str | None = None  # "main", a subagent marker, "side", or None (not a message)
    step_index: int | None = None

    @property
    def model(self) -> str | None:
        return (self.body or {}).get("model")

    @property
    def tools(self) -> list[str]:
        return [t.get("name") for t in (self.body or {}).get("tools") or [] if isinstance(t, dict)]

    @property
    def has_tools(self) -> bool:
        return bool((self.body or {}).get("tools"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return (self.body or {}).get("messages") or []

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))


def message_text(message: dict[str, Any]) -> str:
    """All text of a message (string content or text / tool_result blocks), joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, dict):
            if isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif isinstance(block.get("content"), str):
                parts.append(block["content"])
    return "\n".join(parts)


class ScriptedAPI:
    """The server: ``with ScriptedAPI(scenario) as api: ... api.base_url ... api.requests``."""

    def __init__(self, scenario: Scenario | None = None) -> None:
        self.scenario = scenario or Scenario(steps=[])
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ScriptedAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                api._handle(self)

            def do_GET(self) -> None:
                api._handle(self)

            def do_HEAD(self) -> None:
                api._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ScriptedAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ inspection

    def message_requests(self, script: str | None = None) -> list[SeenRequest]:
        """Requests to ``/v1/messages`` (optionally only those answered from one script)."""
        with self._lock:
            seen = [r for r in self.requests if r.script is not None]
        return [r for r in seen if script is None or r.script == script]

    # ------------------------------------------------------------------ answering

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_e2e_{next(self._ids):06d}"

    def _choose(self, seen: SeenRequest) -> tuple[str, int | None, Step]:
        """Pick the script and step answering a ``/v1/messages`` request."""
        scenario = self.scenario
        if not seen.has_tools:
            return "side", None, Step((Text(scenario.side_text),), None, scenario.side_usage)
        messages = seen.messages
        turn = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
        first = message_text(messages[0]) if messages else ""
        script, steps = "main", scenario.steps
        for marker, sub_steps in scenario.subagents.items():
            if marker in first:
                script, steps = marker, sub_steps
                break
        if turn >= len(steps):
            return script, turn, say(scenario.fallback_text)
        step = steps[turn]
        return script, turn, step if isinstance(step, Step) else step(seen)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0]
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        seen = SeenRequest(handler.command, handler.path, body if isinstance(body, dict) else None)
        with self._lock:
            self.requests.append(seen)

        if handler.command == "POST" and path == "/v1/messages/count_tokens":
            total = len(json.dumps(body)) // 4 if body else 0
            return self._send_json(handler, 200, {"input_tokens": total})
        if handler.command != "POST" or path != "/v1/messages" or not isinstance(body, dict):
            return self._send_json(
                handler, 404, {"type": "error", "error": {"type": "not_found_error", "message": f"no route {path}"}}
            )
        script, index, step = self._choose(seen)
        seen.script, seen.step_index = script, index
        model = step.model or body.get("model") or DEFAULT_MODEL
        message_id = self._next_id("msg")
        blocks = [self._block(b) for b in step.blocks]
        if body.get("stream"):
            self._send_stream(handler, message_id, model, step, blocks)
        else:
            self._send_json(
                handler,
                200,
                {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": blocks,
                    "stop_reason": step.stop_reason,
                    "stop_sequence": None,
                    "usage": step.usage.as_api(),
                },
            )

    def _block(self, block: Block) -> dict[str, Any]:
        if isinstance(block, ToolCall):
            return {"type": "tool_use", "id": self._next_id("toolu"), "name": block.name, "input": block.input}
        return {"type": "text", "text": block.text}

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("request-id", "req_e2e")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    @staticmethod
    def _send_stream(
        handler: BaseHTTPRequestHandler, message_id: str, model: str, step: Step, blocks: list[dict[str, Any]]
    ) -> None:
        usage = step.usage
        events: list[tuple[str, dict[str, Any]]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        # Like the real API: message_start holds the input side and a partial output count.
                        "usage": usage.as_api(output_tokens=min(1, usage.output_tokens)),
                    },
                },
            )
        ]
        for index, block in enumerate(blocks):
            if block["type"] == "tool_use":
                start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            else:
                start = {"type": "text", "text": ""}
                delta = {"type": "text_delta", "text": block["text"]}
            events += [
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}),
                ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
                ("content_block_stop", {"type": "content_block_stop", "index": index}),
            ]
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": step.stop_reason, "stop_sequence": None},
                    "usage": usage.as_api(),
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        data = b"".join(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode() for name, payload in events)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("request-id", "req_e2e")
        handler.end_headers()
        handler.wfile.write(data)
