"""``SessionState``: everything a session's journal has told us, as typed records that round-trip through JSON.

The watcher persists it in ``watch-state.json`` beside the journal offset it describes. ``to_dict`` writes
snake_case keys; ``from_dict`` also reads the camelCase keys older versions wrote for the nested records,
and degrades a wrong type to the field's default (the file is ours, but any version of us wrote it and a
person may have edited it), so a state never fails to load for its shape alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Optional, TypeVar

R = TypeVar("R")

IDLE_WAIT = "your next prompt"  # what a session at the client's idle prompt waits for (outside any turn)
STATE_SCHEMA = "ecc.watch-state.v1"  # watch-state.json: journal cursor + SessionState + usage tracker state
GUARD_BYTES = 64  # bytes before a journal cursor kept to tell an append from a rewrite


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _load(cls: type[R], data: object) -> Optional[R]:
    """A record from its dict (snake_case or the camelCase older versions wrote); None for a non-dict."""
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = data.get(f.name, data.get(_camel(f.name)))
        if isinstance(value, bool if isinstance(f.default, bool) else str):
            values[f.name] = value
    try:
        return cls(**values)
    except TypeError:  # a required field missing or of the wrong type
        return None


def _load_map(cls: type[R], data: object) -> dict[str, R]:
    out: dict[str, R] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            record = _load(cls, value)
            if isinstance(key, str) and record is not None:
                out[key] = record
    return out


def _load_list(cls: type[R], data: object) -> list[R]:
    if not isinstance(data, list):
        return []
    return [r for r in (_load(cls, item) for item in data) if r is not None]


@dataclass
class PendingCall:
    """A tool call whose PreToolUse arrived and whose result has not."""

    name: Optional[str] = None
    started_at: Optional[str] = None
    agent_id: Optional[str] = None  # set when a subagent made the call


@dataclass
class ToolResult:
    """The latest finished tool call."""

    name: Optional[str] = None
    status: str = "unknown"  # success | failure | interrupted | unknown
    finished_at: Optional[str] = None


@dataclass
class AgentRecord:
    """A subagent or background task of the session."""

    id: str
    state: str = "unknown"  # running | completed | failed | stopped | unknown
    objective: Optional[str] = None
    agent_type: Optional[str] = None
    tool_use_id: Optional[str] = None  # the Agent call that launched it
    started_at: Optional[str] = None
    updated_at: Optional[str] = None
    last_message: Optional[str] = None


@dataclass
class Launch:
    """An Agent/Task call in flight: what it was asked to do, for the agent it will start."""

    objective: Optional[str] = None
    agent_type: Optional[str] = None


@dataclass
class TodoItem:
    """One entry of the list TodoWrite last wrote."""

    content: Optional[str] = None
    status: Optional[str] = None  # pending | in_progress | completed
    active_form: Optional[str] = None


@dataclass
class TaskRecord:
    """A task of the Task* tools and hooks."""

    status: str = "pending"  # pending | in_progress | completed
    subject: Optional[str] = None
    active_form: Optional[str] = None
    via_tool: bool = False  # seen in a TaskCreate result (not only in its hook)


@dataclass
class CheckRun:
    """The latest run of one check command (test, lint, type check)."""

    status: str = "unknown"  # pass | fail | pending | skipped | unknown
    at: Optional[str] = None
    tool_use_id: Optional[str] = None


@dataclass
class FailedCommand:
    """A Bash command that failed."""

    command: str
    error: Optional[str] = None
    at: Optional[str] = None


@dataclass
class SessionState:
    """Everything the journal has told us about one session."""

    session_id: Optional[str] = None
    harness: Optional[str] = None  # the agent whose events these are, when not Claude Code (``event.harness``)
    events: int = 0
    unknown_events: int = 0
    first_event_at: Optional[str] = None
    last_event_at: Optional[str] = None
    cwd: Optional[str] = None
    transcript_path: Optional[str] = None
    model: Optional[str] = None
    start_source: Optional[str] = None
    start_head: Optional[str] = None  # commit HEAD pointed at when the session first started (gitHead)
    ended_reason: Optional[str] = None
    turn_state: str = "unknown"  # running | idle | waiting | ended | unknown
    # the main conversation's turn is under way: from its prompt (or first tool call) to its Stop or StopFailure.
    # A permission prompt waits inside a turn; the idle prompt ("waiting for your input") outside one
    in_turn: bool = False
    ended_mid_turn: bool = False  # the session ended (SessionEnd) while a turn was under way: it never finished
    turn_error: Optional[str] = None  # the error its last turn ended with (StopFailure: an API error); None after Stop
    waiting_for: Optional[str] = None  # what the session waits for a person to do (turn_state "waiting")
    waiting_since: Optional[str] = None  # when it started waiting
    waiting_agent: Optional[str] = None  # the subagent whose prompt it is (None: the main conversation's)
    objective: Optional[str] = None
    last_prompt: Optional[str] = None
    last_message: Optional[str] = None
    tool_total: int = 0
    subagent_tool_total: int = 0
    tool_failures: int = 0
    tool_interrupted: int = 0
    tool_denied: int = 0  # calls that never ran: denied by a rule or the user (counted in tool_failures too)
    tool_ids: dict[str, str] = field(default_factory=dict)  # tool_use_id -> "pending" | "done", oldest first
    tool_names: dict[str, int] = field(default_factory=dict)  # calls per tool name (each call once)
    pending: dict[str, PendingCall] = field(default_factory=dict)  # by tool_use_id
    last_tool: Optional[ToolResult] = None
    agents: dict[str, AgentRecord] = field(default_factory=dict)  # by agent id
    launches: dict[str, Launch] = field(default_factory=dict)  # by the Agent call's tool_use_id
    todo_list: Optional[list[TodoItem]] = None  # TodoWrite replaces the whole list
    tasks: dict[str, TaskRecord] = field(default_factory=dict)  # by task id
    task_source: Optional[str] = None  # "todo" or "task": whichever was used last
    checks: dict[str, CheckRun] = field(default_factory=dict)  # by command, latest run last
    files_changed: list[str] = field(default_factory=list)
    failed_commands: list[FailedCommand] = field(default_factory=list)
    stop_failures: list[str] = field(default_factory=list)
    compactions: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        """Inverse of ``to_dict``; unknown keys (from a newer writer) are ignored, wrong types dropped."""
        state = cls()
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            load = _LOADERS.get(f.name)
            if load is not None:  # containers: each item checked on its own
                setattr(state, f.name, load(value))
                continue
            default = getattr(state, f.name)
            if isinstance(default, bool):
                if type(value) is bool:
                    setattr(state, f.name, value)
            elif isinstance(default, int):  # counts (a bool is never one)
                if type(value) is int:
                    setattr(state, f.name, value)
            elif isinstance(value, str) or (value is None and default is None):
                setattr(state, f.name, value)
        if "in_turn" not in data:  # written before the field: a running or permission-waiting turn was one
            state.in_turn = state.turn_state == "running" or (
                state.turn_state == "waiting" and state.waiting_for != IDLE_WAIT
            )
        return state


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _count_map(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and type(v) is int and v >= 0}


# How each container field of SessionState is read back; every other field is a count or a string.
_LOADERS: dict[str, Any] = {
    "tool_ids": _string_map,
    "tool_names": _count_map,
    "files_changed": _strings,
    "stop_failures": _strings,
    "pending": lambda v: _load_map(PendingCall, v),
    "last_tool": lambda v: _load(ToolResult, v),
    "agents": lambda v: _load_map(AgentRecord, v),
    "launches": lambda v: _load_map(Launch, v),
    "todo_list": lambda v: _load_list(TodoItem, v) if isinstance(v, list) else None,
    "tasks": lambda v: _load_map(TaskRecord, v),
    "checks": lambda v: _load_map(CheckRun, v),
    "failed_commands": lambda v: _load_list(FailedCommand, v),
}
