"""Fold a session's journal into state, and state into an ``ecc.hud-status.v1`` payload.

``fold(state, event) -> state`` goes through a dispatch table keyed by event name and does
no I/O; ``build_payload(state, inputs) -> HudStatus`` adds what other sources know (usage
engine, status line sensor, git) handed in as plain values. The watcher and the CLIs do the
reading. ``SessionState`` is JSON-serializable so a daemon can persist it beside the journal
offset it describes, and any snapshot can be rebuilt from the journal alone.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import orjson

from ecc_hooks.core import compaction
from ecc_hooks.core.text import duration
from ecc_hooks.core.timestamps import iso, parse_iso
from ecc_hooks.hud.state import (
    IDLE_WAIT,
    AgentRecord,
    CheckRun,
    FailedCommand,
    Launch,
    PendingCall,
    SessionState,
    TaskRecord,
    TodoItem,
    ToolResult,
)
from ecc_hooks.models.hud import (
    Agent,
    AgentState,
    BlockedControl,
    Checks,
    CheckStatus,
    Context,
    ContextWindow,
    Cost,
    CostTrend,
    GitHubSync,
    HandoffSync,
    HudStatus,
    LastTool,
    LinearSync,
    LocalCheck,
    Pressure,
    QueueState,
    RemoteCheck,
    Risk,
    RiskStatus,
    SessionControl,
    SessionControls,
    SnapshotOrigin,
    Sync,
    TodoCounts,
    Todos,
    ToolCalls,
    ToolStatus,
)
from ecc_hooks.sources.facts import GitHubFacts, GitState
from ecc_hooks.sources.usage import SessionUsage, budget_trend, session_cost

STALE_TOOL_SECONDS = 600.0  # a call pending longer than this is stale (long builds stay under it)
STALE_AGENT_SECONDS = 600.0  # a running agent silent this long is stale (its tools fire hooks while it works)
MAX_AGENTS = 50
MAX_CHECKS = 20
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})

# Commands that are checks (tests, linters, type checkers), in command position only: at the start or
# after `&&`, `||`, `;`, `|`, `(`, past env assignments, wrappers (`uv run`, `time`, ...) and a path, so
# `cd x && .venv/bin/pytest -q` counts and `cat mypy.ini` or `git commit -m "fix pytest"` do not.
CHECK_PATTERN = re.compile(
    r"(?:^|&&|\|\||[;|(])\s*(?:\w+=\S*\s+)*"
    r"(?:(?:time|env|sudo|nice|command|uv run|poetry run|pipenv run|hatch run|pdm run|rye run|bundle exec"
    r"|timeout \S+)\s+)*(?:\S*/)?(?:"
    r"(?:python[0-9.]* -m )?(?:pytest|py\.test|unittest|tox|nox|mypy|pyright|ruff(?: check)?|flake8|pylint)"
    r"|(?:npm|pnpm|yarn|bun)(?: run)? (?:test|lint|typecheck|type-check|check)"
    r"|npx (?:jest|vitest|tsc|eslint)|jest|vitest|tsc|eslint|prettier --check|black --check"
    r"|cargo (?:test|clippy|check|nextest)|go (?:test|vet)|golangci-lint"
    r"|make (?:test|check|lint)|mvn (?:test|verify)|gradle(?:w)? test|rspec|phpunit|ctest"
    r")(?![\w.-])"
)


# Journals are written by us, but by any version of us and possibly edited by hand: every value read
# from an event goes through one of these, so a wrong type degrades to "unknown", never to a crash.
def _str(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


TERMINAL_AGENT_STATES = frozenset({"completed", "failed", "stopped"})
# Status words seen in background_tasks, task notifications and Agent tool results.
_AGENT_STATUS = {
    "running": "running",
    "in_progress": "running",
    "pending": "running",
    "async_launched": "running",
    "started": "running",
    "completed": "completed",
    "done": "completed",
    "success": "completed",
    "failed": "failed",
    "error": "failed",
    "killed": "stopped",
    "stopped": "stopped",
    "cancelled": "stopped",
    "canceled": "stopped",
    "waiting": "waiting",
}


def _agent(state: SessionState, agent_id: str) -> AgentRecord:
    agent = state.agents.get(agent_id)
    if agent is None:
        agent = state.agents[agent_id] = AgentRecord(agent_id)
    return agent


def _set_agent_state(agent: AgentRecord, status: Optional[str]) -> None:
    """Move an agent to the state ``status`` names; a finished agent is not revived by a late 'running'."""
    new = _AGENT_STATUS.get((status or "").lower())
    if new is None:
        return
    if new == "running" and agent.state in TERMINAL_AGENT_STATES:
        return  # hooks of one agent race the main conversation's: a stale "running" arrives after the stop
    agent.state = new


def _touch(agent: AgentRecord, ts: Optional[str]) -> None:
    if ts and (not agent.updated_at or ts > agent.updated_at):
        agent.updated_at = ts


def check_command(command: Optional[str]) -> Optional[str]:
    """The check a Bash command runs (test, lint, type check), as the key to report, or None."""
    if not command or not CHECK_PATTERN.search(command):
        return None
    return " ".join(command.split())[:160]


def _set_check(state: SessionState, command: str, status: str, ts: Optional[str], tool_id: Optional[str]) -> None:
    state.checks.pop(command, None)  # re-insert: the latest run goes last
    state.checks[command] = CheckRun(status, ts, tool_id)
    while len(state.checks) > MAX_CHECKS:
        state.checks.pop(next(iter(state.checks)))


MAX_TOOL_IDS = 20000


def _count(state: SessionState, ev: dict[str, Any]) -> None:
    """One more tool call, under its name."""
    state.tool_total += 1
    name = _str(ev.get("toolName"))
    if name is not None:
        state.tool_names[name] = state.tool_names.get(name, 0) + 1


def _see(state: SessionState, tool_id: str, status: str, ev: dict[str, Any]) -> None:
    """Count a tool call once, however many of its events arrive (ids kept bounded, oldest dropped)."""
    state.tool_ids[tool_id] = status
    _count(state, ev)
    if ev.get("agentId"):
        state.subagent_tool_total += 1
    if len(state.tool_ids) > MAX_TOOL_IDS:
        state.tool_ids.pop(next(iter(state.tool_ids)))


# ---------------------------------------------------------------------------- handlers


def _on_session_start(state: SessionState, ev: dict[str, Any]) -> None:
    if ev.get("agentId"):
        return
    state.start_source = _str(ev.get("source")) or state.start_source
    state.start_head = state.start_head or _str(ev.get("gitHead"))  # a resume keeps the first start
    state.model = _str(ev.get("model")) or state.model
    state.turn_state = "idle"
    state.ended_reason = None
    state.ended_mid_turn = False
    if ev.get("source") != "compact":  # a compaction may come mid-turn; a start or resume begins at the prompt
        state.in_turn = False


def _on_prompt(state: SessionState, ev: dict[str, Any]) -> None:
    if ev.get("promptKind") == "task-notification":
        # A background task finished (or changed): Claude Code tells the model with a synthetic prompt.
        note = _dict(ev.get("taskNotification"))
        task_id = _str(note.get("taskId"))
        if task_id:
            agent = _agent(state, task_id)
            _set_agent_state(agent, _str(note.get("status")))
            _touch(agent, _str(ev.get("ts")))
            launch = state.launches.get(_str(note.get("toolUseId")) or "") or Launch()
            agent.objective = agent.objective or launch.objective or _str(note.get("summary"))
        state.turn_state = "running"
        state.in_turn = True
        return
    prompt = _str(ev.get("prompt"))
    if prompt:
        state.objective = state.objective or prompt
        state.last_prompt = prompt
    state.turn_state = "running"
    state.in_turn = True
    state.turn_error = None


def _on_pre_tool(state: SessionState, ev: dict[str, Any]) -> None:
    tool_id = _str(ev.get("toolUseId"))
    tool = _str(ev.get("toolName"))
    ts = _str(ev.get("ts"))
    inp = _dict(ev.get("input"))
    if tool_id is not None and tool_id not in state.tool_ids:  # a Pre after its Post adds nothing
        _see(state, tool_id, "pending", ev)
        state.pending[tool_id] = PendingCall(tool, ts, _str(ev.get("agentId")))
        if tool == "Bash":
            check = check_command(_str(inp.get("command")))
            if check:
                _set_check(state, check, "pending", ts, tool_id)
    if tool in ("Agent", "Task") and tool_id is not None:
        state.launches[tool_id] = Launch(
            objective=_str(inp.get("description")) or _str(inp.get("prompt")), agent_type=_str(inp.get("subagentType"))
        )
    if not ev.get("agentId"):
        state.turn_state = "running"
        state.in_turn = True


def _on_post_tool(state: SessionState, ev: dict[str, Any]) -> None:
    tool_id = _str(ev.get("toolUseId"))
    tool = _str(ev.get("toolName"))
    ts = _str(ev.get("ts"))
    outcome = _str(ev.get("outcome")) or ("failure" if ev.get("event") == "PostToolUseFailure" else "unknown")
    if outcome not in ("success", "failure", "interrupted"):
        outcome = "unknown"
    if tool_id is not None:
        if state.tool_ids.get(tool_id) == "done":
            return  # the same result twice (a replayed line): count it once
        if tool_id not in state.tool_ids:  # Post without Pre (hook installed mid-call, or reordered)
            _see(state, tool_id, "done", ev)
        state.tool_ids[tool_id] = "done"
        state.pending.pop(tool_id, None)
    else:
        _count(state, ev)  # no id to pair with: the result alone stands for the call
        if ev.get("agentId"):
            state.subagent_tool_total += 1
    if outcome == "failure":
        state.tool_failures += 1
    elif outcome == "interrupted":
        state.tool_interrupted += 1
    if state.last_tool is None or not ts or (state.last_tool.finished_at or "") <= ts:
        state.last_tool = ToolResult(tool, outcome, ts)
    inp = _dict(ev.get("input"))
    resp = _dict(ev.get("response"))
    if tool == "Bash":
        command = _str(inp.get("command"))
        check = check_command(command)
        if check:
            if inp.get("runInBackground") is True and outcome == "success":
                status = "unknown"  # only launched: its result comes later, outside this call
            else:
                status = {"success": "pass", "failure": "fail"}.get(outcome, "unknown")
            _set_check(state, check, status, ts, tool_id)
        if outcome == "failure" and command:
            state.failed_commands.append(FailedCommand(command, _str(ev.get("error")), ts))
            del state.failed_commands[:-10]
    if outcome != "success":
        if tool in ("Agent", "Task") and tool_id:
            state.launches.pop(tool_id, None)
        return
    if tool in ("Agent", "Task"):
        _on_agent_result(state, ev, tool_id, inp, resp, ts)
    elif tool == "TodoWrite":
        if ev.get("agentId"):
            return  # a subagent's own todo list is not the session's
        todos = inp.get("todos")
        if isinstance(todos, list):
            state.todo_list = [
                TodoItem(_str(t.get("content")), _str(t.get("status")), _str(t.get("activeForm")))
                for t in todos
                if isinstance(t, dict)
            ]
            state.task_source = "todo"
    elif tool == "TaskCreate":
        _on_task_create(state, inp, resp, tool_id)
    elif tool == "TaskUpdate":
        task_id = _str(inp.get("taskId"))
        if task_id:
            task_status = _str(inp.get("taskStatus"))
            if task_status == "deleted":
                state.tasks.pop(task_id, None)
            else:
                task = state.tasks.setdefault(task_id, TaskRecord())
                if task_status in ("pending", "in_progress", "completed"):
                    task.status = task_status
                task.subject = _str(inp.get("taskSubject")) or task.subject
                task.active_form = _str(inp.get("activeForm")) or task.active_form
            state.task_source = "task"
    elif tool in EDIT_TOOLS:
        for path in _list(ev.get("files")):
            if isinstance(path, str) and path not in state.files_changed:
                state.files_changed.append(path)
        del state.files_changed[:-200]


def _on_agent_result(
    state: SessionState,
    ev: dict[str, Any],
    tool_id: Optional[str],
    inp: dict[str, Any],
    resp: dict[str, Any],
    ts: Optional[str],
) -> None:
    """An Agent call returned: a background launch (``async_launched`` + agentId) or a finished run."""
    launch = (state.launches.pop(tool_id, None) if tool_id else None) or Launch()
    agent_id = _str(resp.get("agentId"))
    if not agent_id:
        return
    agent = _agent(state, agent_id)
    agent.objective = agent.objective or launch.objective or _str(inp.get("description")) or _str(inp.get("prompt"))
    agent.agent_type = agent.agent_type or launch.agent_type or _str(inp.get("subagentType"))
    agent.tool_use_id = tool_id
    status = _str(resp.get("status")) or ""
    if status == "async_launched" or resp.get("isAsync") is True:
        _set_agent_state(agent, "running")
    elif status:
        _set_agent_state(agent, status)
    else:
        _set_agent_state(agent, "completed")  # a foreground Agent call returns when its agent is done
    _touch(agent, ts)


def _on_task_create(state: SessionState, inp: dict[str, Any], resp: dict[str, Any], tool_id: Optional[str]) -> None:
    subject = _str(inp.get("taskSubject"))
    task_id = _str(resp.get("taskId"))
    if task_id is None:
        # No id in the result: the TaskCreated hook (fired between Pre and Post) may have named it.
        task_id = next((k for k, t in state.tasks.items() if not t.via_tool and t.subject == subject), None) or (
            f"tool:{tool_id}" if tool_id else None
        )
    if task_id is None:
        return
    task = state.tasks.setdefault(task_id, TaskRecord())
    task.subject = subject or task.subject
    task.active_form = _str(inp.get("activeForm")) or task.active_form
    task.via_tool = True
    state.task_source = "task"


def _wait(state: SessionState, ev: dict[str, Any], what: str) -> None:
    """The session now waits for a person (a prompt on the client's screen); the first moment is kept."""
    if state.waiting_for is None or state.waiting_since is None:
        state.waiting_since = _str(ev.get("ts"))
        state.waiting_agent = _str(ev.get("agentId"))
    state.waiting_for = what
    state.turn_state = "waiting"
    agent_id = _str(ev.get("agentId"))
    if agent_id:
        _set_agent_state(_agent(state, agent_id), "waiting")


def _on_permission_request(state: SessionState, ev: dict[str, Any]) -> None:
    tool = _str(ev.get("toolName"))
    _wait(state, ev, f"permission to use {tool}" if tool else "a permission answer")


def _on_permission_denied(state: SessionState, ev: dict[str, Any]) -> None:
    # The call never ran: it ends here, as a failure, and a check it would have been is skipped.
    tool_id = _str(ev.get("toolUseId"))
    ts = _str(ev.get("ts"))
    if tool_id:
        if state.tool_ids.get(tool_id) == "done":
            return
        if tool_id not in state.tool_ids:
            _see(state, tool_id, "done", ev)
        state.tool_ids[tool_id] = "done"
        state.pending.pop(tool_id, None)
    state.tool_failures += 1
    state.tool_denied += 1
    state.last_tool = ToolResult(_str(ev.get("toolName")), "failure", ts)
    if ev.get("toolName") == "Bash":
        check = check_command(_str(_dict(ev.get("input")).get("command")))
        if check is None and tool_id:  # recovered from the transcript: no input, the call's check by its id
            check = next((c for c, run in state.checks.items() if run.tool_use_id == tool_id), None)
        if check:
            _set_check(state, check, "skipped", ts, tool_id)
    if ev.get("backfilled") and not ev.get("agentId") and (_str(ev.get("reason")) or "").startswith(REJECTED):
        state.turn_state = "idle"  # rejected at the prompt: the client stops the turn and waits for the user
        state.in_turn = False


def _on_notification(state: SessionState, ev: dict[str, Any]) -> None:
    kind = _str(ev.get("notificationType")) or ""
    if kind == "permission_prompt":
        if state.waiting_for is None:  # the PermissionRequest named the tool already
            _wait(state, ev, "a permission answer")
    elif kind == "idle_prompt":  # the client's "waiting for your input" after a turn ended (outside any turn)
        _wait(state, ev, IDLE_WAIT)
    elif kind.startswith("elicitation") and state.waiting_for is None:
        _wait(state, ev, "an answer to an MCP server's question")
    elif kind in DIALOG_NOTIFICATIONS:  # a dialog waits for the person: its own words say which
        _wait(state, ev, _str(ev.get("message")) or "a choice in a dialog")


def _on_elicitation(state: SessionState, ev: dict[str, Any]) -> None:
    if ev.get("event") == "ElicitationResult":
        _stop_waiting(state)
        return
    server = _str(ev.get("mcpServerName"))
    _wait(state, ev, f"an answer to {server}'s question" if server else "an answer to an MCP server's question")


def _stop_waiting(state: SessionState) -> None:
    if state.waiting_agent:
        agent = state.agents.get(state.waiting_agent)
        if agent is not None and agent.state == "waiting":
            agent.state = "running"
    elif state.turn_state == "waiting":
        state.turn_state = "running"
    state.waiting_for = state.waiting_since = state.waiting_agent = None


def _on_subagent_start(state: SessionState, ev: dict[str, Any]) -> None:
    agent_id = _str(ev.get("agentId"))
    if agent_id:
        agent = _agent(state, agent_id)
        _set_agent_state(agent, "running")
        agent.agent_type = agent.agent_type or _str(ev.get("agentType"))
        agent.started_at = agent.started_at or _str(ev.get("ts"))
        _touch(agent, _str(ev.get("ts")))


def _on_subagent_stop(state: SessionState, ev: dict[str, Any]) -> None:
    agent_id = _str(ev.get("agentId"))
    if agent_id:
        agent = _agent(state, agent_id)
        agent.state = "completed"
        _touch(agent, _str(ev.get("ts")))
        agent.last_message = _str(ev.get("lastMessage")) or agent.last_message
    _background_tasks(state, ev)


def _background_tasks(state: SessionState, ev: dict[str, Any]) -> None:
    """Stop/SubagentStop list the background tasks still known to the client, with their status."""
    for task in _list(ev.get("backgroundTasks")):
        task = _dict(task)
        task_id = _str(task.get("id"))
        if not task_id:
            continue
        agent = _agent(state, task_id)
        _set_agent_state(agent, _str(task.get("status")))
        if agent.state == "unknown":
            agent.state = "running"  # listed as a background task, status word unknown to us
        agent.objective = agent.objective or _str(task.get("description"))
        agent.agent_type = agent.agent_type or _str(task.get("agentType")) or _str(task.get("type"))
        _touch(agent, _str(ev.get("ts")))


def _on_stop(state: SessionState, ev: dict[str, Any]) -> None:
    if not ev.get("agentId"):
        state.turn_state = "idle"
        state.in_turn = False
        state.turn_error = None
        state.last_message = _str(ev.get("lastMessage")) or state.last_message
        if state.harness:
            _end_open_calls(state)
    _background_tasks(state, ev)


def _end_open_calls(state: SessionState) -> None:
    """Another agent's turn ended with calls of its own still open: they ended with it, interrupted (Codex fires
    no PostToolUse for a call interrupted, or declined at its prompt). Claude Code's calls are never closed this
    way: a result it did not hook is read from its transcript instead (``hud.backfill``)."""
    for tool_id, call in list(state.pending.items()):
        if call.agent_id is None:
            del state.pending[tool_id]
            state.tool_ids[tool_id] = "done"
            state.tool_interrupted += 1


def _on_stop_failure(state: SessionState, ev: dict[str, Any]) -> None:
    state.turn_state = "idle"
    state.in_turn = False
    state.turn_error = _str(ev.get("error")) or "unknown error"
    state.stop_failures.append(state.turn_error)
    del state.stop_failures[:-10]


def _on_task_event(state: SessionState, ev: dict[str, Any]) -> None:
    inp = _dict(ev.get("input"))
    task_id = _str(inp.get("taskId"))
    if not task_id:
        return
    task = state.tasks.setdefault(task_id, TaskRecord())
    task.subject = _str(inp.get("taskSubject")) or task.subject
    if ev.get("event") == "TaskCompleted":
        task.status = "completed"
    state.task_source = "task"


def _on_compact(state: SessionState, ev: dict[str, Any]) -> None:
    if ev.get("event") == "PostCompact":
        state.compactions += 1


def _on_session_end(state: SessionState, ev: dict[str, Any]) -> None:
    """The client exited: after its turn ended (a finished ``claude -p`` run, a person quitting at the prompt) or
    in the middle of one (killed, interrupted), which is the one that never finished."""
    state.ended_reason = _str(ev.get("reason")) or "other"
    state.ended_mid_turn = state.in_turn
    state.in_turn = False
    state.turn_state = "ended"


HANDLERS: dict[str, Callable[[SessionState, dict[str, Any]], None]] = {
    "SessionStart": _on_session_start,
    "UserPromptSubmit": _on_prompt,
    "PreToolUse": _on_pre_tool,
    "PostToolUse": _on_post_tool,
    "PostToolUseFailure": _on_post_tool,
    "PermissionRequest": _on_permission_request,
    "PermissionDenied": _on_permission_denied,
    "Notification": _on_notification,
    "Elicitation": _on_elicitation,
    "ElicitationResult": _on_elicitation,
    "SubagentStart": _on_subagent_start,
    "SubagentStop": _on_subagent_stop,
    "Stop": _on_stop,
    "StopFailure": _on_stop_failure,
    "TaskCreated": _on_task_event,
    "TaskCompleted": _on_task_event,
    "PreCompact": _on_compact,
    "PostCompact": _on_compact,
    "SessionEnd": _on_session_end,
}
# Recorded but nothing for the HUD in them (besides their time and cwd).
IGNORED_EVENTS = frozenset(
    {
        "PostToolBatch",
        "InstructionsLoaded",
        "UserPromptExpansion",
        "MessageDisplay",
        "Setup",
        "ConfigChange",
        "CwdChanged",
        "DirectoryAdded",
        "FileChanged",
        "TeammateIdle",
        "PreModelSwitch",
        "PostModelSwitch",
    }
)


# The client's tool result when the user rejects a call at its permission prompt (it then ends the turn).
REJECTED = "The user doesn't want to proceed with this tool use"

# Notification types of the client's dialogs that wait for the person (2.1.328: "Auto mode can't check actions in
# this session and needs your choice" is agent_needs_input; a teammate's permission prompt worker_permission_prompt)
DIALOG_NOTIFICATIONS = frozenset({"agent_needs_input", "worker_permission_prompt"})

# Events that start or keep a wait; any other event of the conversation that waited ends it.
WAIT_EVENTS = frozenset({"PermissionRequest", "Notification", "Elicitation"})


def fold(state: SessionState, event: object) -> SessionState:
    """Apply one journal record to ``state`` (mutated and returned). Unknown events only count."""
    if not isinstance(event, dict):
        return state
    state.events += 1
    ts = _str(event.get("ts"))
    if ts:
        state.first_event_at = min(ts, state.first_event_at) if state.first_event_at else ts
        if state.last_event_at is None or ts > state.last_event_at:
            state.last_event_at = ts
    state.session_id = state.session_id or _str(event.get("sessionId"))
    state.harness = state.harness or _str(event.get("harness"))
    agent_id = _str(event.get("agentId"))
    if agent_id is None:
        state.cwd = _str(event.get("cwd")) or state.cwd
        state.transcript_path = _str(event.get("transcriptPath")) or state.transcript_path
    else:
        agent = _agent(state, agent_id)
        _touch(agent, ts)
        agent.agent_type = agent.agent_type or _str(event.get("agentType"))
        if agent.state == "unknown":
            agent.state = "running"  # it fires hooks, so it runs
    raw_name = event.get("event")
    name = raw_name if isinstance(raw_name, str) else None
    if state.waiting_for is not None and name not in WAIT_EVENTS and agent_id == state.waiting_agent:
        _stop_waiting(state)  # the prompt was answered: whoever waited moved on (its handler sets the new state)
    handler = HANDLERS.get(name) if name is not None else None
    if handler is not None:
        handler(state, event)
    elif not (name is not None and name in IGNORED_EVENTS):
        state.unknown_events += 1
    return state


def fold_lines(state: SessionState, data: bytes) -> int:
    """Fold a block of complete journal lines (a torn or bad line is skipped, as a rebuild skips it); how many."""
    folded = 0
    for line in data.split(b"\n")[:-1]:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        fold(state, record)
        folded += 1
    return folded


def fold_all(events: Iterable[dict[str, Any]], state: Optional[SessionState] = None) -> SessionState:
    """Fold a whole journal (or the new part of one) into a state."""
    state = state or SessionState()
    for event in events:
        fold(state, event)
    return state


# ---------------------------------------------------------------------------- payload

_CHECK_WORDS = frozenset(c.value for c in CheckStatus)
QUEUE_REASON = "git is older than 2.38 (the queues need `git merge-tree --write-tree`)"
RUNTIME_LIVE = ("starting", "running", "waiting", "idle", "stale")
RUNTIME_RESUMABLE = ("stopped", "failed", "stale")


@dataclass
class PayloadInputs:
    """What other sources know, handed to ``build_payload`` as plain values (no I/O inside)."""

    now: datetime
    sensor: dict[str, Any] = field(default_factory=dict)  # the status line's last stdin (statusline.json)
    usage: Optional[SessionUsage] = None  # the usage engine's view of the session's transcripts
    git: Optional[GitState] = None  # None: not read (as unknown as a directory outside any repository)
    github: Optional[GitHubFacts] = None  # None: gh not consulted (CI checks unknown)
    budget_usd: Optional[float] = None
    budget_configured: bool = False  # ECC_HOOKS_BUDGET_USD set (a bad value: configured, amount None)
    budget_policy: dict[str, Any] = field(default_factory=dict)  # prices.json "budget": approaching_fraction, ...
    linear: Optional[LinearSync] = None
    handoff: Optional[HandoffSync] = None
    stale_tool_seconds: float = STALE_TOOL_SECONDS
    stale_agent_seconds: float = STALE_AGENT_SECONDS
    controls: Optional[SessionControls] = None  # session_controls(...)
    runtime_workers: list[dict[str, Any]] = field(default_factory=list)  # the repository's runtime workers
    merge_queue: list[Any] = field(default_factory=list)  # their merge queue (the supervisor's snapshot)
    conflict_queue: list[Any] = field(default_factory=list)
    origin: Optional[SnapshotOrigin] = None  # how the journal and transcript facts were obtained
    env: Mapping[str, str] = field(default_factory=dict)  # Claude Code's settings that move auto-compaction


def _number(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def pressure_for(remaining_pct: Optional[float]) -> Pressure:
    """Pressure level from the share of the window left (thresholds: 40/20/10 % left)."""
    if remaining_pct is None:
        return Pressure.unknown
    for limit, level in ((10, Pressure.critical), (20, Pressure.high), (40, Pressure.elevated)):
        if remaining_pct <= limit:
            return level
    return Pressure.normal


def session_controls(
    *,
    transcript: bool,
    claude: bool,
    git_worktree: bool,
    gh_ready: bool,
    remote_repo: bool,
    tmux: bool = False,
    runtime_workers: Sequence[Mapping[str, Any]] = (),
    merge_tree: bool = False,
) -> SessionControls:
    """Which session controls work here, and why the others do not (facts gathered by the caller)."""
    supported = [SessionControl.status]
    blocked: list[BlockedControl] = []
    states = [w.get("state") for w in runtime_workers]
    if (transcript and claude) or any(state in RUNTIME_RESUMABLE for state in states):
        supported.append(SessionControl.resume)
    else:
        why = [
            w
            for w, ok in (("the session's transcript is missing", transcript), ("no `claude` binary on PATH", claude))
            if not ok
        ]
        blocked.append(BlockedControl(control=SessionControl.resume, reason="; ".join(why)))
    if git_worktree and tmux:
        supported.append(SessionControl.create)
    else:
        why = [w for w, ok in (("not a git work tree", git_worktree), ("tmux is not installed", tmux)) if not ok]
        blocked.append(BlockedControl(control=SessionControl.create, reason="; ".join(why)))
    if any(state in RUNTIME_LIVE or state == "pending" for state in states):
        supported.append(SessionControl.stop)
    else:
        reason = "no runtime worker of this repository runs (ecc-hooks session list)"
        blocked.append(BlockedControl(control=SessionControl.stop, reason=reason))
    if git_worktree:
        supported.append(SessionControl.diff)
    else:
        blocked.append(
            BlockedControl(control=SessionControl.diff, reason="the session's directory is not a git work tree")
        )
    if gh_ready and remote_repo:
        supported.append(SessionControl.pr)
    else:
        why = [
            w
            for w, ok in (
                ("gh is not installed or not authenticated", gh_ready),
                ("the repository has no GitHub origin remote", remote_repo),
            )
            if not ok
        ]
        blocked.append(BlockedControl(control=SessionControl.pr, reason="; ".join(why)))
    for control in (SessionControl.mergeQueue, SessionControl.conflictQueue):
        if merge_tree and git_worktree:
            supported.append(control)
        else:
            why = [w for w, ok in (("not a git work tree", git_worktree), (QUEUE_REASON, merge_tree)) if not ok]
            blocked.append(BlockedControl(control=control, reason="; ".join(why)))
    order = list(SessionControl)
    return SessionControls(
        supported=sorted(supported, key=order.index), blocked=sorted(blocked, key=lambda b: order.index(b.control))
    )


def _todos(state: SessionState) -> Todos:
    items: list[tuple[Optional[str], Optional[str]]]  # (status, text)
    if state.task_source == "todo" and state.todo_list is not None:
        items = [(t.status, t.active_form or t.content) for t in state.todo_list]
    else:
        items = [(t.status, t.active_form or t.subject) for t in state.tasks.values()]
    counts = TodoCounts(
        pending=sum(1 for status, _ in items if status == "pending"),
        inProgress=sum(1 for status, _ in items if status == "in_progress"),
        completed=sum(1 for status, _ in items if status == "completed"),
    )
    current = next((text for status, text in items if status == "in_progress" and text), None)
    return Todos(inProgress=current, counts=counts, source=state.task_source, total=len(items))


def _agents(state: SessionState, now: datetime, stale_seconds: float) -> list[Agent]:
    agents = []
    for data in state.agents.values():
        agent_state = data.state if data.state in AgentState.__members__ else "unknown"
        updated = parse_iso(data.updated_at)
        if state.turn_state == "ended" and agent_state == "running":
            agent_state = "stopped"  # the client exited; its background agents went with it
        elif agent_state == "running" and updated and (now - updated).total_seconds() > stale_seconds:
            agent_state = "stale"
        agents.append(
            Agent(
                id=data.id,
                state=AgentState(agent_state),
                objective=data.objective,
                agentType=data.agent_type,
                updatedAt=data.updated_at,
            )
        )
    # Live agents first, then the most recently updated.
    agents.sort(key=lambda a: a.updatedAt or "", reverse=True)
    agents.sort(key=lambda a: a.state not in (AgentState.running, AgentState.waiting))
    return agents[:MAX_AGENTS]


def _runtime_agents(workers: Sequence[Mapping[str, Any]]) -> list[Agent]:
    """The repository's runtime workers as agents (the supervisor's view; live ones first, by the caller)."""
    agents = []
    for worker in workers:
        state = worker.get("state")
        shown = {"starting": "running", "pending": "idle", "merged": "completed"}.get(str(state), state)
        agents.append(
            Agent(
                id=_str(worker.get("id")) or "worker",
                state=AgentState(shown) if shown in AgentState.__members__ else AgentState.unknown,
                branch=_str(worker.get("branch")),
                worktree=_str(worker.get("worktree")),
                objective=_str(worker.get("objective")),
                handoffPath=_str(worker.get("handoffPath")),
                agentType=_str(worker.get("agent")),
                updatedAt=_str(worker.get("updatedAt")),
                runtimeState="merged" if state == "merged" else None,
            )
        )
    return agents


def _latest_pull_request(github: GitHubFacts, inputs: PayloadInputs) -> Optional[int]:
    """The branch's own pull request, else the newest one the runtime opened for the repository's workers."""
    if github.latest_pull_request is not None:
        return github.latest_pull_request
    numbers = []
    for worker in inputs.runtime_workers:
        found = re.search(r"/pull/(\d+)$", str(worker.get("pullRequest") or ""))
        if found:
            numbers.append(int(found.group(1)))
    return max(numbers) if numbers else None


def _runtime_reasons(workers: Sequence[Mapping[str, Any]], worktree: Optional[str] = None) -> list[str]:
    """Risk reasons naming the runtime workers that need someone: failed, stale, waiting. A session that is itself
    a worker (its work tree is the worker's) gets only its own: another worker's failure is not its problem, and
    was shown as every worker's (the repository's other sessions, the operator's, get them all)."""
    here = os.path.normpath(worktree) if worktree else None  # no I/O here: both are absolute paths as recorded
    own = [
        w for w in workers if here and isinstance(w.get("worktree"), str) and os.path.normpath(w["worktree"]) == here
    ]
    out = []
    for worker in own or workers:
        state, reason = worker.get("state"), _str(worker.get("reason"))
        if state in ("failed", "stale", "waiting"):
            verb = {"failed": "failed", "stale": "is stale", "waiting": "waits for"}[str(state)]
            joiner = ": " if state != "waiting" else " "
            out.append(f"worker {worker.get('id')} {verb}" + (f"{joiner}{reason}" if reason else ""))
    return out


def _trend(cost: Optional[float], inputs: PayloadInputs, burn: Optional[Decimal]) -> CostTrend:
    """Spend against the budget: the usage engine's ``budget_trend`` on the figure the HUD shows."""

    def exact(value: Optional[float]) -> Optional[Decimal]:
        # repr: the float's shortest text, i.e. the figure as printed (0.04, not 0.040000000000000000832)
        return None if value is None else Decimal(repr(value))

    return CostTrend(
        budget_trend(inputs.budget_policy, exact(cost), exact(inputs.budget_usd), inputs.budget_configured, burn)
    )


def _cost(inputs: PayloadInputs, harness: Optional[str] = None) -> tuple[Cost, list[str]]:
    """Claude Code's reported figure (status line) first, else ours; both kept, with their difference. Another
    agent's own figure (``harness``: OpenCode's, Aider's) is its ``reported`` one."""
    reasons: list[str] = []
    usage = inputs.usage
    reported = _number(_dict(inputs.sensor.get("cost")).get("total_cost_usd"))
    if reported is None and usage is not None:
        reported = _number(usage.cost.statusline_reported_usd)
    computed = _number(usage.cost.computed_usd) if usage is not None else None
    unknown_models = list(usage.cost.unknown_models) if usage is not None else []
    transcript_reported = _number(usage.cost.transcript_reported_usd) if usage is not None else None
    session_usd, source = session_cost(reported, computed)
    if harness and source == "statusline":
        source = "reported"
    burn = _number(usage.burn_usd_per_hour) if usage is not None else None
    budget = inputs.budget_usd
    trend = _trend(session_usd, inputs, usage.burn_usd_per_hour if usage is not None else None)
    if trend == CostTrend.over_budget and session_usd is not None and budget is not None:
        reasons.append(f"over budget: ${session_usd:.2f} of ${budget:.2f}")
    elif trend == CostTrend.approaching_budget and session_usd is not None and budget is not None:
        reasons.append(f"approaching budget: ${session_usd:.2f} of ${budget:.2f}")
    if inputs.budget_configured and budget is None:
        reasons.append("ECC_HOOKS_BUDGET_USD is not a non-negative number")
    if unknown_models:
        reasons.append("cost unknown for model " + ", ".join(unknown_models))

    def diff(a: Optional[float], b: Optional[float]) -> Optional[float]:
        return round(a - b, 9) + 0.0 if a is not None and b is not None else None  # + 0.0: no "-0.0"

    cost = Cost(
        sessionUsd=session_usd,
        budgetUsd=budget,
        trend=trend,
        source=source,
        reportedUsd=reported,
        computedUsd=computed,
        differenceUsd=diff(reported, computed),
        transcriptReportedUsd=transcript_reported,
        transcriptDifferenceUsd=diff(transcript_reported, computed),
        burnRateUsdPerHour=burn,
        unknownModels=unknown_models,
    )
    return cost, reasons


def _context_window(inputs: PayloadInputs, harness: Optional[str] = None) -> ContextWindow:
    window = _dict(inputs.sensor.get("context_window"))
    ctx = inputs.usage.context if inputs.usage is not None else None
    remaining = _number(window.get("remaining_percentage"))
    source: Optional[str] = "statusline" if remaining is not None else None
    shown = compaction.shown_from_stdin(window, inputs.env) if source else None
    if remaining is None and ctx is not None and ctx.remaining_pct is not None:
        remaining, source = float(ctx.remaining_pct), "transcript"
        shown = ctx.shown_pct
    # The engine's level measures distance to auto-compaction, which a bare percentage cannot.
    pressure = Pressure(ctx.pressure) if ctx is not None and ctx.pressure in Pressure.__members__ else Pressure.unknown
    if pressure == Pressure.unknown:
        pressure = pressure_for(remaining)
    size = window.get("context_window_size")
    size = size if isinstance(size, int) and not isinstance(size, bool) else (ctx.window if ctx is not None else None)
    # Claude Code's auto-compaction point; another agent compacts by its own rule, which is not claimed
    at = compaction.shown_threshold_pct(size, inputs.env) if size and not harness else None
    return ContextWindow(
        remainingPct=remaining,
        pressure=pressure,
        source=source,
        windowSize=size,
        usedPct=shown,
        compactsAtPct=round(at, 1) if at is not None else None,
    )


def _finished_worker_at_idle(state: SessionState, workers: Sequence[Mapping[str, Any]]) -> bool:
    """A runtime worker's own Claude Code session (joined on the session id the runtime chose) at the client's idle
    prompt after its turn: its task is done, nobody is asked anything (a person's own session there waits for their
    next prompt, as the client says)."""
    if state.waiting_for != IDLE_WAIT or state.in_turn or state.waiting_agent or not state.session_id:
        return False
    return any(w.get("agentSession") == state.session_id for w in workers)


def build_payload(state: SessionState, inputs: PayloadInputs) -> HudStatus:
    """The HUD payload for one session. Unknown stays unknown: an empty session is never 'ok'."""
    now = inputs.now
    reasons: list[str] = []
    git = inputs.git or GitState()
    usage = inputs.usage
    usage_model = None
    if usage is not None:
        usage_model = usage.context.model or (usage.models[-1].model if usage.models else None)
    model = _str(_dict(inputs.sensor.get("model")).get("id")) or state.model or usage_model
    context_window = _context_window(inputs, state.harness)
    waiting_for, turn_state = state.waiting_for, state.turn_state
    if _finished_worker_at_idle(state, inputs.runtime_workers):
        waiting_for, turn_state = None, "idle"
    context = Context(
        harness=state.harness or "claude-code",
        model=model,
        repo=git.repo,
        branch=git.branch,
        worktree=git.worktree or state.cwd,
        sessionId=state.session_id,
        contextWindow=context_window,
        detached=git.detached,
        linkedWorktree=git.linked_worktree,
        cwd=state.cwd,
        turnState=turn_state,
        waitingFor=waiting_for,
        waitingSince=state.waiting_since if waiting_for else None,
        turnError=state.turn_error if turn_state == "idle" and not waiting_for else None,
        objective=state.objective[:200] if state.objective else None,
        lastEventAt=state.last_event_at,
        dirty=git.dirty,
        ahead=git.ahead,
        behind=git.behind,
        upstream=git.upstream,
        snapshot=inputs.origin,
    )
    if waiting_for:
        since = parse_iso(state.waiting_since)
        age = f" for {duration((now - since).total_seconds())}" if since else ""
        reasons.append(f"waiting for {waiting_for}{age}" + (f" (since {state.waiting_since})" if since else ""))
    if context_window.pressure in (Pressure.high, Pressure.critical):
        # the figure the row shows and the client's screen says, never another scale beside it
        used = context_window.usedPct
        at = context_window.compactsAtPct
        text = f"{used}% used" if used is not None else "near compaction"
        text += f", auto-compacts at {at:.0f}%" if at is not None and used is not None else ""
        reasons.append(f"context {context_window.pressure.value}: {text}")

    stale = 0
    for call in state.pending.values():
        started = parse_iso(call.started_at)
        if started and (now - started).total_seconds() > inputs.stale_tool_seconds:
            stale += 1
    if stale:
        reasons.append(f"{stale} tool call(s) pending over {inputs.stale_tool_seconds:.0f}s")
    last = state.last_tool
    tool_calls = ToolCalls(
        total=state.tool_total,
        pending=len(state.pending),
        stale=stale,
        lastTool=LastTool(
            name=last.name,
            status=ToolStatus(last.status) if last.status in ToolStatus.__members__ else ToolStatus.unknown,
            finishedAt=last.finished_at,
        )
        if last
        else None,
        failures=state.tool_failures,
        interrupted=state.tool_interrupted,
        denied=state.tool_denied,
        subagentCalls=state.subagent_tool_total,
        running=sorted({c.name for c in state.pending.values() if c.name}),
    )

    local = [
        LocalCheck(
            command=cmd,
            status=CheckStatus(c.status) if c.status in _CHECK_WORDS else CheckStatus.unknown,
            at=c.at,
        )
        for cmd, c in state.checks.items()
    ]
    github = inputs.github or GitHubFacts(repo=git.repo)
    remote = [
        RemoteCheck(
            name=c.name,
            status=CheckStatus(c.status) if c.status in _CHECK_WORDS else CheckStatus.unknown,
            url=c.url,
        )
        for c in github.checks or []
    ]
    failing = [c.command for c in local if c.status == CheckStatus.fail]
    failing += [c.name for c in remote if c.status == CheckStatus.fail]
    if failing:
        reasons.append("failing checks: " + "; ".join(failing[:3]))

    cost, cost_reasons = _cost(inputs, state.harness)
    reasons.extend(cost_reasons)
    for error in state.stop_failures[-1:]:
        reasons.append(f"last turn failed: {error}")
    reasons.extend(_runtime_reasons(inputs.runtime_workers, git.worktree))
    conflicts = git.conflicts
    if conflicts:
        reasons.append(f"{conflicts} conflicted path(s)")
    branch_conflicts = [c for c in inputs.conflict_queue if isinstance(c, dict) and c.get("kind") != "dirty"]
    if branch_conflicts:
        names = ", ".join(f"{c.get('session')}/{c.get('id')}" for c in branch_conflicts[:3])
        reasons.append(f"{len(branch_conflicts)} worker branch(es) conflict: {names}")

    if state.events == 0:
        risk_status = RiskStatus.unknown
        reasons.insert(0, "no events recorded for this session")
    elif conflicts or any(e in ("authentication_failed", "billing_error") for e in state.stop_failures[-1:]):
        risk_status = RiskStatus.blocked
    elif reasons:
        risk_status = RiskStatus.attention
    elif context_window.pressure == Pressure.unknown:
        # Nothing alarming seen, but without context figures "ok" would be a guess.
        risk_status = RiskStatus.unknown
        reasons.append("context usage unknown")
    else:
        risk_status = RiskStatus.ok
    dirty_workers = any(isinstance(c, dict) and c.get("kind") == "dirty" for c in inputs.conflict_queue)
    risk = Risk(
        status=risk_status,
        reasons=reasons,
        dirtyWorktree=True if dirty_workers else git.dirty,
        conflicts=(conflicts or 0) + len(branch_conflicts) if (conflicts is not None or branch_conflicts) else None,
        manualReviewRequired=None if risk_status == RiskStatus.unknown else risk_status != RiskStatus.ok,
    )

    queue = QueueState(mergeQueue=list(inputs.merge_queue), conflictQueue=list(inputs.conflict_queue))
    queue.github.openPullRequests = github.open_pull_requests
    queue.github.openIssues = github.open_issues
    queue.github.openDiscussions = github.open_discussions

    repo = github.repo or git.repo
    sync = Sync(
        Linear=inputs.linear,
        GitHub=GitHubSync(repo=repo, latestPullRequest=_latest_pull_request(github, inputs)) if repo else None,
        handoff=inputs.handoff or HandoffSync(path=None, written=False),
    )
    return HudStatus(
        generatedAt=iso(now),
        context=context,
        toolCalls=tool_calls,
        activeAgents=(_runtime_agents(inputs.runtime_workers) + _agents(state, now, inputs.stale_agent_seconds))[
            :MAX_AGENTS
        ],
        todos=_todos(state),
        checks=Checks(local=local, remote=remote),
        cost=cost,
        risk=risk,
        queueState=queue,
        sessionControls=inputs.controls or SessionControls(),
        sync=sync,
    )
