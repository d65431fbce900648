"""The fake API's Chat Completions dialect (tests/e2e/fake_api/chat.py), read back with a plain HTTP client.

What OpenCode and Aider rely on: the streamed chunks reassemble into the scripted text or tool call, the usage chunk
comes only when ``stream_options.include_usage`` asks for it, the step follows the assistant messages in the
conversation, side requests (a title, a commit message) never take a step, and ``GET /v1/models`` lists a model.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.fake_api import FakeAPI, Usage, call, say
from tests.e2e.fake_api.chat import SIDE_TEXT

TOOLS = [{"type": "function", "function": {"name": "bash", "parameters": {"type": "object"}}}]
USAGE = Usage(input=120, output=30, cached=100, reasoning=7)


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI([call("bash", USAGE, command="false"), say("All done.", Usage(input=200, output=5))]) as server:
        yield server


def request(api: FakeAPI, method: str, path: str, body: Any = None) -> tuple[int, str, bytes]:
    host, port = api.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        reply = conn.getresponse()
        return reply.status, reply.getheader("Content-Type") or "", reply.read()
    finally:
        conn.close()


def sse_data(raw: bytes) -> list[str]:
    return [line.removeprefix("data: ") for line in raw.decode().split("\n") if line.startswith("data: ")]


def chat(api: FakeAPI, messages: list[dict[str, Any]], **extra: Any) -> tuple[list[dict[str, Any]], str]:
    """A streamed request: its chunks (parsed) and the last ``data:`` (``[DONE]``)."""
    status, kind, raw = request(api, "POST", "/v1/chat/completions", {"model": "m1", "messages": messages, **extra})
    assert status == 200 and kind == "text/event-stream"
    data = sse_data(raw)
    return [json.loads(d) for d in data[:-1]], data[-1]


def reassemble(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """What a client builds from the deltas: the text, the tool calls by index, the finish reason."""
    text, calls, finish = "", {}, None
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        for choice in c["choices"]:
            delta = choice["delta"]
            text += delta.get("content") or ""
            for tc in delta.get("tool_calls") or []:
                slot = calls.setdefault(tc["index"], {"id": None, "name": "", "arguments": ""})
                slot["id"] = tc.get("id") or slot["id"]
                slot["name"] += tc.get("function", {}).get("name") or ""
                slot["arguments"] += tc.get("function", {}).get("arguments") or ""
            finish = choice["finish_reason"] or finish
    return {"text": text, "calls": [calls[i] for i in sorted(calls)], "finish": finish}


def test_a_tool_step_streams_as_a_tool_call_in_delta_form_with_the_usage_chunk(api: FakeAPI) -> None:
    chunks, last = chat(
        api, [{"role": "user", "content": "go"}], tools=TOOLS, stream=True, stream_options={"include_usage": True}
    )
    assert last == "[DONE]"
    got = reassemble(chunks)
    assert got["finish"] == "tool_calls" and got["text"] == ""
    [tool] = got["calls"]
    assert tool["name"] == "bash" and json.loads(tool["arguments"]) == {"command": "false"} and tool["id"]
    assert sum(1 for c in chunks for ch in c["choices"] if "arguments" in str(ch["delta"])) >= 3  # in pieces
    usage = chunks[-1]
    assert usage["choices"] == []
    assert usage["usage"] == {
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 7},
    }
    assert api.requests[-1].step == 0


def test_the_next_step_follows_the_assistant_messages_and_no_usage_chunk_unless_asked(api: FakeAPI) -> None:
    history = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "exit 1"},
    ]
    chunks, last = chat(api, history, tools=TOOLS, stream=True)
    assert last == "[DONE]"
    got = reassemble(chunks)
    assert got == {"text": "All done.", "calls": [], "finish": "stop"}
    assert all(c["choices"] for c in chunks) and not any("usage" in c for c in chunks)
    assert api.requests[-1].step == 1
    # past the script: the final text
    chunks, _ = chat(api, [*history, {"role": "assistant", "content": "All done."}], tools=TOOLS, stream=True)
    assert reassemble(chunks)["text"] == "Done." and api.requests[-1].step == 2


def test_not_streamed_is_one_completion_with_usage(api: FakeAPI) -> None:
    status, kind, raw = request(
        api,
        "POST",
        "/v1/chat/completions",
        {"model": "m1", "messages": [{"role": "user", "content": "go"}], "tools": TOOLS},
    )
    body = json.loads(raw)
    assert status == 200 and kind == "application/json" and body["object"] == "chat.completion"
    [choice] = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    [tool] = choice["message"]["tool_calls"]
    assert tool["function"]["name"] == "bash" and json.loads(tool["function"]["arguments"]) == {"command": "false"}
    assert body["usage"]["prompt_tokens"] == 120 and body["usage"]["prompt_tokens_details"]["cached_tokens"] == 100


def test_a_request_without_tools_is_a_side_request_that_takes_no_step(api: FakeAPI) -> None:
    chunks, _ = chat(
        api,
        [{"role": "system", "content": "You are a title generator."}, {"role": "user", "content": "go"}],
        stream=True,
    )
    assert reassemble(chunks)["text"] == SIDE_TEXT and api.requests[-1].step is None
    chunks, _ = chat(api, [{"role": "user", "content": "go"}], tools=TOOLS, stream=True)
    assert reassemble(chunks)["calls"][0]["name"] == "bash"  # the script still starts at its first step


def test_a_text_only_script_answers_without_tools_but_not_a_commit_message_request() -> None:
    """Aider never offers tools: its conversation is scripted; its commit-message request is a side request."""
    with FakeAPI([say("The edit.")]) as api:
        chunks, _ = chat(
            api,
            [{"role": "system", "content": "Act as an expert software developer."}, {"role": "user", "content": "go"}],
            stream=True,
        )
        assert reassemble(chunks)["text"] == "The edit." and api.requests[-1].step == 0
        commit = "You are an expert software engineer that generates concise, one-line Git commit messages"
        status, _, raw = request(
            api,
            "POST",
            "/v1/chat/completions",
            {"model": "m1", "messages": [{"role": "system", "content": commit}, {"role": "user", "content": "diff"}]},
        )
        assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == SIDE_TEXT
        assert api.requests[-1].step is None


def test_the_model_list_is_answered(api: FakeAPI) -> None:
    status, kind, raw = request(api, "GET", "/v1/models")
    body = json.loads(raw)
    assert status == 200 and body["object"] == "list" and body["data"][0]["object"] == "model"


def test_assistant_messages_that_are_not_the_scripts_replies_take_no_step() -> None:
    """Aider's prompt holds example exchanges and "Ok." acknowledgements as assistant messages."""
    with FakeAPI([say("First."), say("Second.")]) as api:
        prompt = [
            {"role": "system", "content": "Act as an expert software developer."},
            {"role": "user", "content": "an example"},
            {"role": "assistant", "content": "an example reply"},
            {"role": "user", "content": "the files"},
            {"role": "assistant", "content": "Ok."},
            {"role": "user", "content": "go"},
        ]
        chunks, _ = chat(api, prompt, stream=True)
        assert reassemble(chunks)["text"] == "First."
        chunks, _ = chat(
            api,
            [*prompt, {"role": "assistant", "content": "First.\n"}, {"role": "user", "content": "more"}],
            stream=True,
        )
        assert reassemble(chunks)["text"] == "Second." and api.requests[-1].step == 1
