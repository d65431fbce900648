"""One scripted model API on 127.0.0.1 speaking the other agents' three dialects, for driving them offline.

- ``responses``: OpenAI's Responses API, streamed (Codex): ``POST /v1/responses``.
- ``chat``: OpenAI's Chat Completions, streamed (OpenCode, Aider): ``POST /v1/chat/completions``.
- ``gemini``: Gemini's ``POST /v1beta/models/<model>:streamGenerateContent?alt=sse`` (Gemini CLI).

A test gives the server a list of :class:`Step` (a tool call or a text reply, each with its token usage); each
dialect module (``responses.py``, ``chat.py``, ``gemini.py``) turns the next step into that dialect's reply. Which
step answers a request is the dialect's choice (``FakeAPI.step_for``: the number of model turns already in the
request's conversation), so side requests (a title, a model list) never use up the script. Every request is kept
(``FakeAPI.requests``) so a test can check what the agent sent.
"""

from __future__ import annotations

import importlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Optional

from tests.e2e.api_server import ScriptedAPI


@dataclass(frozen=True)
class Usage:
    """Token usage of one scripted reply, in the plain kinds every dialect has."""

    input: int = 0
    output: int = 0
    cached: int = 0  # of ``input``, read from a cache
    reasoning: int = 0  # of ``output``


@dataclass(frozen=True)
class Step:
    """One model reply: a tool call (``tool`` with ``args``, in the agent's own tool names) or a text."""

    tool: Optional[str] = None
    args: dict[str, Any] = field(default_factory=dict)
    text: Optional[str] = None
    usage: Usage = Usage()


def call(tool: str, usage: Usage = Usage(), **args: Any) -> Step:
    return Step(tool=tool, args=args, usage=usage)


def say(text: str, usage: Usage = Usage()) -> Step:
    return Step(text=text, usage=usage)


@dataclass
class Seen:
    method: str
    path: str
    body: Optional[dict[str, Any]]
    step: Optional[int] = None  # the index of the step that answered it (None: a side request)


# path prefix -> dialect module (tests/e2e/fake_api/<module>.py, each with ``respond(api, handler, seen)``)
ROUTES = (
    ("/v1/responses", "responses"),
    ("/v1/chat/completions", "chat"),
    ("/v1/models", "chat"),  # the model list OpenAI-compatible clients may ask for
    ("/v1beta/models/", "gemini"),
)


class FakeAPI(ScriptedAPI):
    """``with FakeAPI([call(...), say(...)]) as api: ... api.base_url ... api.requests``. The server's life
    (``start``, ``stop``, ``base_url``, the context manager) is the Messages API's (``api_server.ScriptedAPI``);
    what it answers is the dialects'."""

    def __init__(self, steps: list[Step], final: str = "Done.") -> None:
        super().__init__()
        self.steps = list(steps)
        self.final = final
        self.requests: list[Seen] = []  # type: ignore[assignment]
        self.lock = threading.Lock()

    def step_for(self, turn: int) -> Step:
        """The step answering the conversation's ``turn``-th model reply (0-based); past the script, ``final``."""
        return self.steps[turn] if turn < len(self.steps) else say(self.final)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        seen = Seen(handler.command, handler.path, body if isinstance(body, dict) else None)
        with self.lock:
            self.requests.append(seen)
        path = handler.path.split("?", 1)[0]
        for prefix, module in ROUTES:
            if path.startswith(prefix):
                dialect = importlib.import_module(f"{__name__}.{module}")
                return dialect.respond(self, handler, seen)
        send_json(handler, 404, {"error": {"message": f"no route {path}"}})


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def send_sse(handler: BaseHTTPRequestHandler, events: list[tuple[Optional[str], Any]]) -> None:
    """A finished SSE stream: ``event:`` (when named) and ``data:`` per event, then the connection closed."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Connection", "close")
    handler.end_headers()
    for name, data in events:
        chunk = (f"event: {name}\n" if name else "") + "data: " + (data if isinstance(data, str) else json.dumps(data))
        handler.wfile.write(chunk.encode() + b"\n\n")
    handler.wfile.flush()
    handler.close_connection = True
