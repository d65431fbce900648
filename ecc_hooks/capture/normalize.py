"""Turn one Claude Code hook payload into one ``ecc.event.v1`` record (a plain dict).

Hot path: standard library only. Every string that reaches the record goes through
``_text`` (redacted, control characters kept as data but length-capped); nothing of the
payload is copied whole unless the opt-in raw switch is on. Unknown events and unknown
tools keep their common fields, so Claude Code's drift never loses an event.
"""

from __future__ import annotations

import time

from ecc_hooks.core.paths import sanitize_session_id
from ecc_hooks.core.redact import MASK, is_secret_key, redact, redact_tree

TYPE_CHECKING = False  # typing costs a few ms per hook call; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

SCHEMA_VERSION = "ecc.event.v1"

# Length caps (characters) for the text we keep.
SHORT = 200
MEDIUM = 1000
LONG = 2000
MAX_ITEMS = 100
# Raw mode (ECC_HOOKS_RAW=1) keeps at most this much of a payload: values, nesting levels, characters a string.
RAW_NODES = 20000
RAW_DEPTH = 64
RAW_TEXT = 65536

FILE_TOOLS = {
    "Read": "file_path",
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
}
AGENT_TOOLS = frozenset({"Agent", "Task"})
# Typed fields of models.event.InputSummary: an unknown tool's input key of the same name
# is kept only when its value has the field's type, so every record stays valid.
_TYPED_STR = frozenset(
    {
        "command",
        "description",
        "filePath",
        "subagentType",
        "prompt",
        "model",
        "taskId",
        "taskSubject",
        "taskDescription",
        "taskStatus",
        "activeForm",
    }
)
_TYPED_OTHER = frozenset({"runInBackground", "todos"})


def _text(value: object, limit: int = SHORT) -> str | None:
    """A redacted, length-capped string, or None when ``value`` is not a non-empty string."""
    if not isinstance(value, str) or not value:
        return None
    value = redact(value)
    if len(value) > limit:
        value = value[: limit - 1] + "\u2026"
    return value


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return int(value)
    except (OverflowError, ValueError):
        return None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def iso_utc(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-21T17:23:55.123Z`` (no datetime import)."""
    whole = int(epoch)
    millis = int((epoch - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def _put(record: dict[str, Any], key: str, value: object) -> None:
    if value is not None and value != [] and value != {}:
        record[key] = value


# ---------------------------------------------------------------------------- tool input


def _todos(value: object) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return None
    todos = []
    for item in value[:MAX_ITEMS]:
        if isinstance(item, dict):
            todo: dict[str, Any] = {}
            _put(todo, "content", _text(item.get("content"), SHORT))
            _put(todo, "status", _text(item.get("status"), 32))
            _put(todo, "activeForm", _text(item.get("activeForm"), SHORT))
            todos.append(todo)
    return todos


def summarize_input(tool: str | None, tool_input: object) -> dict[str, Any]:
    """The short, redacted summary of a tool's input that the HUD and handoffs need."""
    if not isinstance(tool_input, dict):
        return {}
    summary: dict[str, Any] = {}
    get = tool_input.get
    if tool == "Bash":
        _put(summary, "command", _text(get("command"), MEDIUM))
        _put(summary, "description", _text(get("description"), SHORT))
        _put(summary, "runInBackground", _bool(get("run_in_background")))
    elif tool in FILE_TOOLS:
        _put(summary, "filePath", _text(get(FILE_TOOLS[tool]), MEDIUM))
    elif tool in AGENT_TOOLS:
        _put(summary, "description", _text(get("description"), SHORT))
        _put(summary, "subagentType", _text(get("subagent_type"), 64))
        _put(summary, "prompt", _text(get("prompt"), SHORT))
        _put(summary, "runInBackground", _bool(get("run_in_background")))
        _put(summary, "model", _text(get("model"), 64))
    elif tool == "TodoWrite":
        _put(summary, "todos", _todos(get("todos")))
    elif tool == "TaskCreate":
        _put(summary, "taskSubject", _text(get("subject"), SHORT))
        _put(summary, "taskDescription", _text(get("description"), SHORT))
        _put(summary, "activeForm", _text(get("activeForm"), SHORT))
    elif tool == "TaskUpdate":
        _put(summary, "taskId", _text(str(get("taskId")) if get("taskId") is not None else None, 64))
        _put(summary, "taskStatus", _text(get("status"), 32))
        _put(summary, "taskSubject", _text(get("subject"), SHORT))
        _put(summary, "activeForm", _text(get("activeForm"), SHORT))
    else:
        # Unknown and MCP tools: keep a few small scalar fields, enough to say what ran.
        for key, value in list(tool_input.items())[:8]:
            name = _text(key, 64) or "?"
            if name in _TYPED_OTHER and not (name == "runInBackground" and isinstance(value, bool)):
                continue
            if name in _TYPED_STR and not isinstance(value, str):
                continue
            if isinstance(value, str):
                _put(summary, name, MASK if is_secret_key(key) else _text(value, SHORT))
            elif isinstance(value, bool):
                summary[name] = value
            elif isinstance(value, int) and abs(value) < 2**53 or isinstance(value, float) and -1e300 < value < 1e300:
                summary[name] = MASK if is_secret_key(key) else value  # the float test drops NaN and infinities
    return summary


def files_of(tool: str | None, tool_input: object) -> list[str]:
    """Paths a file tool names (Read, Write, Edit, MultiEdit, NotebookEdit)."""
    if tool in FILE_TOOLS and isinstance(tool_input, dict):
        path = _text(tool_input.get(FILE_TOOLS[tool]), MEDIUM)
        if path:
            return [path]
    return []


def summarize_response(tool: str | None, response: object) -> dict[str, Any]:
    """What a tool's result tells the HUD: a launched agent's id, a created task's id."""
    summary: dict[str, Any] = {}
    if not isinstance(response, dict):
        return summary
    if tool in AGENT_TOOLS:
        _put(summary, "agentId", _text(response.get("agentId"), 64))
        _put(summary, "status", _text(response.get("status"), 32))
        _put(summary, "isAsync", _bool(response.get("isAsync")))
    elif tool == "TaskCreate":
        task = response.get("task")
        task_id = task.get("id") if isinstance(task, dict) else response.get("taskId", response.get("id"))
        if task_id is not None:
            _put(summary, "taskId", _text(str(task_id), 64))
    elif tool == "Bash":
        _put(summary, "interrupted", _bool(response.get("interrupted")))
    return summary


def _background_tasks(value: object) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return None
    tasks = []
    for item in value[:MAX_ITEMS]:
        if isinstance(item, dict):
            task: dict[str, Any] = {}
            for src, dst, limit in (
                ("id", "id", 64),
                ("type", "type", 32),
                ("status", "status", 32),
                ("description", "description", SHORT),
                ("agent_type", "agentType", 64),
            ):
                _put(task, dst, _text(item.get(src), limit))
            tasks.append(task)
    return tasks


# ---------------------------------------------------------------------------- per event


def _tool_common(record: dict[str, Any], payload: dict[str, Any]) -> str | None:
    tool = _text(payload.get("tool_name"), 128)
    _put(record, "toolName", tool)
    _put(record, "toolUseId", _text(payload.get("tool_use_id"), 128))
    tool_input = payload.get("tool_input")
    _put(record, "input", summarize_input(tool, tool_input))
    _put(record, "files", files_of(tool, tool_input))
    return tool


def _pre_tool(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _tool_common(record, payload)


def _post_tool(record: dict[str, Any], payload: dict[str, Any]) -> None:
    tool = _tool_common(record, payload)
    response = payload.get("tool_response")
    summary = summarize_response(tool, response)
    _put(record, "response", summary)
    record["outcome"] = "interrupted" if summary.get("interrupted") else "success"
    _put(record, "durationMs", _int(payload.get("duration_ms")))


def _post_tool_failure(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _tool_common(record, payload)
    record["outcome"] = "interrupted" if payload.get("is_interrupt") is True else "failure"
    _put(record, "error", _text(payload.get("error"), LONG))
    _put(record, "durationMs", _int(payload.get("duration_ms")))


def _permission(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _tool_common(record, payload)
    _put(record, "reason", _text(payload.get("reason"), MEDIUM))


def _tool_batch(record: dict[str, Any], payload: dict[str, Any]) -> None:
    calls = payload.get("tool_calls")
    if isinstance(calls, list):
        batch = []
        for call in calls[:MAX_ITEMS]:
            if isinstance(call, dict):
                item: dict[str, Any] = {}
                _put(item, "toolName", _text(call.get("tool_name"), 128))
                _put(item, "toolUseId", _text(call.get("tool_use_id"), 128))
                batch.append(item)
        _put(record, "toolCalls", batch)


_NOTIFICATION_FIELDS = ("task-id", "tool-use-id", "status", "summary")


def _prompt(record: dict[str, Any], payload: dict[str, Any]) -> None:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return
    if prompt.lstrip().startswith("<task-notification>"):
        record["promptKind"] = "task-notification"
        note: dict[str, Any] = {}
        for tag in _NOTIFICATION_FIELDS:
            start = prompt.find(f"<{tag}>")
            end = prompt.find(f"</{tag}>", start + 1)
            if start >= 0 and end > start:
                key = "".join(p.capitalize() if i else p for i, p in enumerate(tag.split("-")))
                _put(note, key, _text(prompt[start + len(tag) + 2 : end].strip(), SHORT))
        _put(record, "taskNotification", note)
    else:
        record["promptKind"] = "user"
        _put(record, "prompt", _text(prompt, MEDIUM))


def _session_start(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _put(record, "source", _text(payload.get("source"), 32))
    model = payload.get("model")
    if isinstance(model, dict):
        model = model.get("id")
    _put(record, "model", _text(model, 128))


def _stop(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _put(record, "stopHookActive", _bool(payload.get("stop_hook_active")))
    _put(record, "lastMessage", _text(payload.get("last_assistant_message"), MEDIUM))
    tasks = _background_tasks(payload.get("background_tasks"))
    if tasks is not None:
        record["backgroundTasks"] = tasks
    _put(record, "agentTranscriptPath", _text(payload.get("agent_transcript_path"), MEDIUM))


def _stop_failure(record: dict[str, Any], payload: dict[str, Any]) -> None:
    record["outcome"] = "failure"
    error = payload.get("error")
    if isinstance(error, dict):
        error = error.get("type") or error.get("message")
    _put(record, "error", _text(error, LONG))


def _notification(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _put(record, "notificationType", _text(payload.get("notification_type"), 64))
    _put(record, "message", _text(payload.get("message"), MEDIUM))
    _put(record, "title", _text(payload.get("title"), SHORT))


def _elicitation(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _put(record, "mcpServerName", _text(payload.get("mcp_server_name"), SHORT))
    _put(record, "message", _text(payload.get("message"), MEDIUM))
    _put(record, "action", _text(payload.get("action"), 32))


def _task_event(record: dict[str, Any], payload: dict[str, Any]) -> None:
    task: dict[str, Any] = {}
    task_id = payload.get("task_id")
    _put(task, "taskId", _text(str(task_id) if task_id is not None else None, 64))
    _put(task, "taskSubject", _text(payload.get("task_subject"), SHORT))
    _put(task, "taskDescription", _text(payload.get("task_description"), SHORT))
    _put(record, "input", task)


def _compact(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _put(record, "compactTrigger", _text(payload.get("trigger"), 32))


def _session_end(record: dict[str, Any], payload: dict[str, Any]) -> None:
    _put(record, "reason", _text(payload.get("reason"), 64))


HANDLERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "SessionStart": _session_start,
    "UserPromptSubmit": _prompt,
    "PreToolUse": _pre_tool,
    "PostToolUse": _post_tool,
    "PostToolUseFailure": _post_tool_failure,
    "PermissionRequest": _permission,
    "PermissionDenied": _permission,
    "PostToolBatch": _tool_batch,
    "Notification": _notification,
    "Elicitation": _elicitation,
    "ElicitationResult": _elicitation,
    "SubagentStop": _stop,
    "Stop": _stop,
    "StopFailure": _stop_failure,
    "TaskCreated": _task_event,
    "TaskCompleted": _task_event,
    "PreCompact": _compact,
    "PostCompact": _compact,
    "SessionEnd": _session_end,
}


class PayloadError(ValueError):
    """The payload cannot become an event: it names no session or no event."""


def normalize(payload: dict[str, Any], now: float, *, raw: bool = False, harness: str = "") -> dict[str, Any]:
    """Build the ``ecc.event.v1`` record of one hook payload received at ``now`` (epoch seconds); ``harness``: the
    CLI name of the agent whose (Claude-shaped) payload it is, ``""`` for Claude Code's own."""
    session = sanitize_session_id(payload.get("session_id"))
    if session is None:
        raise PayloadError("missing session_id")
    event = payload.get("hook_event_name")
    if not isinstance(event, str) or not event:
        raise PayloadError("missing hook_event_name")
    event_name = _text(event, 64) or "?"
    record: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "ts": iso_utc(now),
        "event": event_name,
        "sessionId": session,
    }
    if harness:
        from ecc_hooks.harness import HARNESSES

        _put(record, "harness", HARNESSES.get(harness))
    _put(record, "agentId", _text(payload.get("agent_id"), 64))
    _put(record, "agentType", _text(payload.get("agent_type"), 64))
    _put(record, "cwd", _text(payload.get("cwd"), MEDIUM))
    _put(record, "transcriptPath", _text(payload.get("transcript_path"), MEDIUM))
    _put(record, "promptId", _text(payload.get("prompt_id"), 64))
    _put(record, "permissionMode", _text(payload.get("permission_mode"), 32))
    handler = HANDLERS.get(event)
    if handler is not None:
        handler(record, payload)
    if raw:
        budget = [RAW_NODES]
        kept = _bounded(payload, budget, 0)
        if budget[0] < 0:
            kept["ecc_truncated"] = True  # type: ignore[index]
        record["raw"] = redact_tree(kept)
    return record


def _bounded(value: object, budget: list[int], depth: int) -> object:
    """A copy of JSON data holding at most ``RAW_NODES`` values, ``RAW_DEPTH`` levels and ``RAW_TEXT`` characters
    a string, so raw mode's redaction work (and record) stays bounded whatever the payload. ``budget[0]``
    goes negative when something was left out."""
    budget[0] -= 1
    if isinstance(value, str):
        return value[:RAW_TEXT] + "\u2026" if len(value) > RAW_TEXT else value
    if not isinstance(value, (dict, list)):
        return value
    if depth >= RAW_DEPTH:
        budget[0] = -1
        return {"truncated": True, "reason": "nested too deep"}
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if budget[0] <= 0:
                budget[0] = -1
                break
            out[key] = _bounded(item, budget, depth + 1)
        return out
    items = []
    for item in value:
        if budget[0] <= 0:
            budget[0] = -1
            break
        items.append(_bounded(item, budget, depth + 1))
    return items
