"""Fold a session's journal into state, and state into an ``ecc.hud-status.v1`` payload.

``fold(state, event) -> state`` goes through a dispatch table keyed by event name and does
no I/O; ``build_payload(state, inputs) -> HudStatus`` adds what other sources know (usage
engine, status line sensor, git) handed in as plain values. The watcher and the CLIs do the
reading. ``SessionState`` is JSON-serializable so a daemon can persist it beside the journal
offset it describes, and any snapshot can be rebuilt from the journal alone.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional

from .models.hud import (
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
    Sync,
    TodoCounts,
    Todos,
    ToolCalls,
    ToolStatus,
)

STALE_TOOL_SECONDS = 600.0  # a call pending longer than this is stale (long builds stay under it)
MAX_AGENTS = 50
MAX_CHECKS = 20
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})

# Commands that are checks (tests, linters, type checkers). Matched on a word boundary
# anywhere in a Bash command, so `cd x && pytest -q` counts.
CHECK_PATTERN = re.compile(
    r"(?<![\w./-])(?:"
    r"(?:python[0-9.]* -m )?(?:pytest|py\.test|unittest|tox|nox|mypy|pyright|ruff(?: check)?|flake8|pylint)"
    r"|(?:npm|pnpm|yarn|bun)(?: run)? (?:test|lint|typecheck|type-check|check)"
    r"|npx (?:jest|vitest|tsc|eslint)|jest|vitest|tsc|eslint|prettier --check|black --check"
    r"|cargo (?:test|clippy|check|nextest)|go (?:test|vet)|golangci-lint"
    r"|make (?:test|check|lint)|mvn (?:test|verify)|gradle(?:w)? test|\./gradlew test|rspec|phpunit|ctest"
    r")(?![\w-])"
)


@dataclass
class SessionState:
    """Everything the journal has told us about one session (plain data, JSON round-trips)."""

    session_id: Optional[str] = None
    events: int = 0
    first_event_at: Optional[str] = None
    last_event_at: Optional[str] = None
    cwd: Optional[str] = None
    transcript_path: Optional[str] = None
    model: Optional[str] = None
    start_source: Optional[str] = None
    ended_reason: Optional[str] = None
    turn_state: str = "unknown"  # running | idle | waiting | ended | unknown
    objective: Optional[str] = None
    last_prompt: Optional[str] = None
    last_message: Optional[str] = None
    tool_total: int = 0
    tool_failures: int = 0
    tool_interrupted: int = 0
    tool_ids: dict[str, int] = field(default_factory=dict)  # seen tool_use_ids (a dict: O(1), JSON-ready)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_tool: Optional[dict[str, Any]] = None
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    launches: dict[str, dict[str, Any]] = field(default_factory=dict)  # Agent tool_use_id -> objective
    todo_list: Optional[list[dict[str, Any]]] = None  # TodoWrite replaces the whole list
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # TaskCreate/TaskUpdate/Task* hooks
    task_source: Optional[str] = None  # "todo" or "task": whichever was used last
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # command -> {status, at, toolUseId}
    files_changed: list[str] = field(default_factory=list)
    failed_commands: list[dict[str, Any]] = field(default_factory=list)
    stop_failures: list[str] = field(default_factory=list)
    compactions: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SessionState":
        """Inverse of ``to_dict``; unknown keys (from a newer writer) are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _str(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _agent(state: SessionState, agent_id: str) -> dict[str, Any]:
    agent = state.agents.get(agent_id)
    if agent is None:
        agent = state.agents[agent_id] = {"id": agent_id, "state": "unknown"}
    return agent


def check_command(command: Optional[str]) -> Optional[str]:
    """The check a Bash command runs (test, lint, type check), as the key to report, or None."""
    if not command or not CHECK_PATTERN.search(command):
        return None
    return " ".join(command.split())[:160]


# ---------------------------------------------------------------------------- handlers


def _on_session_start(state: SessionState, ev: dict[str, Any]) -> None:
    state.start_source = _str(ev.get("source")) or state.start_source
    state.model = _str(ev.get("model")) or state.model
    state.turn_state = "idle"
    state.ended_reason = None


def _on_prompt(state: SessionState, ev: dict[str, Any]) -> None:
    if ev.get("promptKind") == "task-notification":
        note = _dict(ev.get("taskNotification"))
        task_id = _str(note.get("taskId"))
        if task_id:
            agent = _agent(state, task_id)
            status = (_str(note.get("status")) or "").lower()
            agent["state"] = {"completed": "completed", "failed": "failed", "killed": "stopped",
                              "stopped": "stopped", "running": "running"}.get(status, agent["state"])
            agent["updatedAt"] = ev.get("ts")
            if note.get("summary") and not agent.get("objective"):
                agent["objective"] = note["summary"]
        return
    prompt = _str(ev.get("prompt"))
    if prompt:
        state.objective = state.objective or prompt
        state.last_prompt = prompt
    state.turn_state = "running"


def _on_pre_tool(state: SessionState, ev: dict[str, Any]) -> None:
    tool_id = _str(ev.get("toolUseId"))
    tool = _str(ev.get("toolName"))
    if tool_id is None:
        return
    if tool_id not in state.tool_ids:
        _see(state, tool_id)
        state.pending[tool_id] = {"name": tool, "startedAt": ev.get("ts"), "agentId": ev.get("agentId")}
    inp = _dict(ev.get("input"))
    if tool in ("Agent", "Task"):
        state.launches[tool_id] = {"objective": _str(inp.get("description")) or _str(inp.get("prompt")),
                                   "agentType": _str(inp.get("subagentType"))}
    elif tool == "Bash":
        check = check_command(_str(inp.get("command")))
        if check:
            state.checks[check] = {"status": "pending", "at": ev.get("ts"), "toolUseId": tool_id}
            _trim_checks(state)
    if not ev.get("agentId"):
        state.turn_state = "running"


MAX_TOOL_IDS = 20000


def _see(state: SessionState, tool_id: str) -> None:
    """Count a tool call once, however many of its events arrive (ids kept bounded, oldest dropped)."""
    state.tool_ids[tool_id] = 1
    state.tool_total += 1
    if len(state.tool_ids) > MAX_TOOL_IDS:
        state.tool_ids.pop(next(iter(state.tool_ids)))


def _trim_checks(state: SessionState) -> None:
    while len(state.checks) > MAX_CHECKS:
        state.checks.pop(next(iter(state.checks)))


def _on_post_tool(state: SessionState, ev: dict[str, Any]) -> None:
    tool_id = _str(ev.get("toolUseId"))
    tool = _str(ev.get("toolName"))
    outcome = _str(ev.get("outcome")) or "unknown"
    if tool_id is not None:
        if tool_id not in state.tool_ids:  # Post without Pre (hook installed mid-call, or reordered)
            _see(state, tool_id)
        state.pending.pop(tool_id, None)
    if outcome == "failure":
        state.tool_failures += 1
    elif outcome == "interrupted":
        state.tool_interrupted += 1
    state.last_tool = {"name": tool, "status": outcome if outcome in ToolStatus.__members__ else "unknown",
                       "finishedAt": ev.get("ts")}
    inp = _dict(ev.get("input"))
    resp = _dict(ev.get("response"))
    if tool == "Bash":
        command = _str(inp.get("command"))
        check = check_command(command)
        if check:
            status = {"success": "pass", "failure": "fail"}.get(outcome, "unknown")
            state.checks.pop(check, None)  # re-insert: latest run last
            state.checks[check] = {"status": status, "at": ev.get("ts"), "toolUseId": tool_id}
            _trim_checks(state)
        if outcome == "failure" and command:
            state.failed_commands.append({"command": command, "error": ev.get("error"), "at": ev.get("ts")})
            del state.failed_commands[:-10]
    if outcome != "success":
        return
    if tool in ("Agent", "Task"):
        agent_id = _str(resp.get("agentId"))
        launch = state.launches.pop(tool_id, {}) if tool_id else {}
        if agent_id:
            agent = _agent(state, agent_id)
            agent["objective"] = agent.get("objective") or launch.get("objective")
            agent["agentType"] = agent.get("agentType") or launch.get("agentType")
            status = _str(resp.get("status")) or ""
            if status == "completed" or (resp.get("isAsync") is False and status != "async_launched"):
                agent["state"] = "completed"
            elif agent["state"] in ("unknown", "idle"):
                agent["state"] = "running"
            agent["updatedAt"] = ev.get("ts")
    elif tool == "TodoWrite":
        todos = inp.get("todos")
        if isinstance(todos, list):
            state.todo_list = [t for t in todos if isinstance(t, dict)]
            state.task_source = "todo"
    elif tool == "TaskCreate":
        task_id = _str(resp.get("taskId")) or (f"tool:{tool_id}" if tool_id else None)
        if task_id:
            task = state.tasks.setdefault(task_id, {"status": "pending"})
            task["subject"] = _str(inp.get("taskSubject")) or task.get("subject")
            task["activeForm"] = _str(inp.get("activeForm")) or task.get("activeForm")
            state.task_source = "task"
    elif tool == "TaskUpdate":
        task_id = _str(inp.get("taskId"))
        if task_id:
            status = _str(inp.get("taskStatus"))
            if status == "deleted":
                state.tasks.pop(task_id, None)
            else:
                task = state.tasks.setdefault(task_id, {"status": "pending"})
                task["status"] = status or task.get("status")
                task["subject"] = _str(inp.get("taskSubject")) or task.get("subject")
                task["activeForm"] = _str(inp.get("activeForm")) or task.get("activeForm")
            state.task_source = "task"
    elif tool in EDIT_TOOLS:
        for path in ev.get("files") or []:
            if isinstance(path, str) and path not in state.files_changed:
                state.files_changed.append(path)


def _on_permission_request(state: SessionState, ev: dict[str, Any]) -> None:
    state.turn_state = "waiting"


def _on_permission_denied(state: SessionState, ev: dict[str, Any]) -> None:
    tool_id = _str(ev.get("toolUseId"))
    if tool_id:
        state.pending.pop(tool_id, None)
    state.last_tool = {"name": _str(ev.get("toolName")), "status": "failure", "finishedAt": ev.get("ts")}


def _on_notification(state: SessionState, ev: dict[str, Any]) -> None:
    kind = _str(ev.get("notificationType")) or ""
    if kind == "permission_prompt":
        state.turn_state = "waiting"
    elif kind == "idle_prompt":
        state.turn_state = "idle"


def _on_subagent_start(state: SessionState, ev: dict[str, Any]) -> None:
    agent_id = _str(ev.get("agentId"))
    if agent_id:
        agent = _agent(state, agent_id)
        agent["state"] = "running"
        agent["agentType"] = agent.get("agentType") or _str(ev.get("agentType"))
        agent["startedAt"] = agent.get("startedAt") or ev.get("ts")
        agent["updatedAt"] = ev.get("ts")


def _on_subagent_stop(state: SessionState, ev: dict[str, Any]) -> None:
    agent_id = _str(ev.get("agentId"))
    if agent_id:
        agent = _agent(state, agent_id)
        agent["state"] = "completed"
        agent["updatedAt"] = ev.get("ts")
        agent["lastMessage"] = _str(ev.get("lastMessage"))


def _on_stop(state: SessionState, ev: dict[str, Any]) -> None:
    state.turn_state = "idle"
    state.last_message = _str(ev.get("lastMessage")) or state.last_message
    for task in ev.get("backgroundTasks") or []:
        task_id = _str(_dict(task).get("id"))
        if not task_id:
            continue
        agent = _agent(state, task_id)
        status = (_str(task.get("status")) or "").lower()
        if agent["state"] not in ("completed", "failed", "stopped"):
            agent["state"] = {"running": "running", "completed": "completed", "failed": "failed",
                              "killed": "stopped"}.get(status, agent["state"])
        agent["objective"] = agent.get("objective") or _str(task.get("description"))
        agent["agentType"] = agent.get("agentType") or _str(task.get("agentType")) or _str(task.get("type"))


def _on_stop_failure(state: SessionState, ev: dict[str, Any]) -> None:
    state.turn_state = "idle"
    error = _str(ev.get("error")) or "unknown error"
    state.stop_failures.append(error)
    del state.stop_failures[:-10]


def _on_task_event(state: SessionState, ev: dict[str, Any]) -> None:
    inp = _dict(ev.get("input"))
    task_id = _str(inp.get("taskId"))
    if not task_id:
        return
    task = state.tasks.setdefault(task_id, {"status": "pending"})
    task["subject"] = _str(inp.get("taskSubject")) or task.get("subject")
    if ev.get("event") == "TaskCompleted":
        task["status"] = "completed"
    state.task_source = "task"


def _on_compact(state: SessionState, ev: dict[str, Any]) -> None:
    if ev.get("event") == "PostCompact":
        state.compactions += 1


def _on_session_end(state: SessionState, ev: dict[str, Any]) -> None:
    state.ended_reason = _str(ev.get("reason")) or "other"
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


def fold(state: SessionState, event: dict[str, Any]) -> SessionState:
    """Apply one journal record to ``state`` (mutated and returned). Unknown events only count."""
    if not isinstance(event, dict):
        return state
    state.events += 1
    ts = _str(event.get("ts"))
    if ts:
        state.first_event_at = state.first_event_at or ts
        if state.last_event_at is None or ts > state.last_event_at:
            state.last_event_at = ts
    state.session_id = state.session_id or _str(event.get("sessionId"))
    if not event.get("agentId"):
        state.cwd = _str(event.get("cwd")) or state.cwd
        state.transcript_path = _str(event.get("transcriptPath")) or state.transcript_path
    else:
        agent = _agent(state, str(event["agentId"]))
        agent["updatedAt"] = ts or agent.get("updatedAt")
        agent["agentType"] = agent.get("agentType") or _str(event.get("agentType"))
        if agent["state"] == "unknown":
            agent["state"] = "running"
    handler = HANDLERS.get(str(event.get("event")))
    if handler is not None:
        handler(state, event)
    return state


def fold_all(events: Iterable[dict[str, Any]], state: Optional[SessionState] = None) -> SessionState:
    """Fold a whole journal (or the new part of one) into a state."""
    state = state or SessionState()
    for event in events:
        fold(state, event)
    return state


# ---------------------------------------------------------------------------- payload


@dataclass
class PayloadInputs:
    """What other sources know, handed to ``build_payload`` as plain values (no I/O inside)."""

    now: datetime
    sensor: dict[str, Any] = field(default_factory=dict)  # the status line's last stdin (statusline.json)
    usage: Optional[dict[str, Any]] = None  # usage engine summary: see _cost_and_context
    git: Optional[dict[str, Any]] = None  # gitstate summary: repo, branch, worktree, dirty, conflicts, ...
    remote_checks: Optional[list[dict[str, Any]]] = None  # None: unknown (no gh), [] none
    github: Optional[dict[str, Any]] = None  # {"repo", "latestPullRequest", "openPullRequests", ...}
    budget_usd: Optional[float] = None
    linear: Optional[dict[str, Any]] = None
    handoff: Optional[dict[str, Any]] = None  # {"path", "written"}
    stale_tool_seconds: float = STALE_TOOL_SECONDS
    controls: Optional[dict[str, Any]] = None  # {"supported": [...], "blocked": [{control, reason}]}


def _parse_ts(ts: object) -> Optional[datetime]:
    if not isinstance(ts, str):
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def iso(dt: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def pressure_for(remaining_pct: Optional[float]) -> Pressure:
    """Pressure level from the share of the window left (thresholds: 40/20/10 % left)."""
    if remaining_pct is None:
        return Pressure.unknown
    for limit, level in ((10, Pressure.critical), (20, Pressure.high), (40, Pressure.elevated)):
        if remaining_pct <= limit:
            return level
    return Pressure.normal


def _todos(state: SessionState) -> Todos:
    items: list[dict[str, Any]]
    if state.task_source == "todo" and state.todo_list is not None:
        items = [{"status": t.get("status"), "text": t.get("activeForm") or t.get("content")} for t in state.todo_list]
    else:
        items = [{"status": t.get("status"), "text": t.get("activeForm") or t.get("subject")} for t in state.tasks.values()]
    counts = TodoCounts(
        pending=sum(1 for t in items if t["status"] == "pending"),
        inProgress=sum(1 for t in items if t["status"] == "in_progress"),
        completed=sum(1 for t in items if t["status"] == "completed"),
    )
    current = next((t["text"] for t in items if t["status"] == "in_progress" and t["text"]), None)
    return Todos(inProgress=current, counts=counts)


def _agents(state: SessionState, now: datetime, stale_seconds: float) -> list[Agent]:
    agents = []
    for data in state.agents.values():
        agent_state = data.get("state") or "unknown"
        updated = _parse_ts(data.get("updatedAt"))
        if agent_state == "running" and updated and (now - updated).total_seconds() > stale_seconds:
            agent_state = "stale"
        if state.turn_state == "ended" and agent_state == "running":
            agent_state = "stopped"
        agents.append(Agent(id=data["id"], state=AgentState(agent_state) if agent_state in AgentState.__members__
                            else AgentState.unknown, objective=data.get("objective"),
                            agentType=data.get("agentType"), updatedAt=data.get("updatedAt")))
    # Live agents first, then the most recently updated.
    agents.sort(key=lambda a: getattr(a, "updatedAt", None) or "", reverse=True)
    agents.sort(key=lambda a: a.state not in (AgentState.running, AgentState.waiting))
    return agents[:MAX_AGENTS]


def _cost(state: SessionState, inputs: PayloadInputs) -> tuple[Cost, list[str]]:
    reasons: list[str] = []
    usage = inputs.usage or {}
    sensor_cost = _dict(inputs.sensor.get("cost"))
    reported = sensor_cost.get("total_cost_usd")
    reported = float(reported) if isinstance(reported, (int, float)) and not isinstance(reported, bool) else None
    computed = usage.get("computedUsd")
    unknown_models = list(usage.get("unknownModels") or [])
    session_usd = reported if reported is not None else (computed if not unknown_models else None)
    budget = inputs.budget_usd
    if session_usd is None:
        trend = CostTrend.unknown
    elif budget is None:
        trend = CostTrend.no_budget
    elif session_usd > budget:
        trend = CostTrend.over_budget
    elif session_usd >= 0.8 * budget:
        trend = CostTrend.approaching_budget
    else:
        trend = CostTrend.within_budget
    if trend == CostTrend.over_budget:
        reasons.append(f"over budget: ${session_usd:.2f} of ${budget:.2f}")
    elif trend == CostTrend.approaching_budget:
        reasons.append(f"approaching budget: ${session_usd:.2f} of ${budget:.2f}")
    if unknown_models:
        reasons.append("cost unknown for model " + ", ".join(unknown_models))
    extra: dict[str, Any] = {
        "reportedUsd": reported,
        "computedUsd": computed if not unknown_models else None,
        "differenceUsd": (round(reported - computed, 6) if reported is not None and computed is not None
                          and not unknown_models else None),
        "burnRateUsdPerHour": usage.get("burnRateUsdPerHour"),
        "unknownModels": unknown_models,
    }
    return Cost(sessionUsd=session_usd, budgetUsd=budget, trend=trend, **extra), reasons


def _context_window(state: SessionState, inputs: PayloadInputs) -> ContextWindow:
    window = _dict(inputs.sensor.get("context_window"))
    remaining = window.get("remaining_percentage")
    source = "statusline"
    if not isinstance(remaining, (int, float)) or isinstance(remaining, bool):
        remaining = (inputs.usage or {}).get("remainingPct")
        source = "transcript" if remaining is not None else None
    remaining = float(remaining) if isinstance(remaining, (int, float)) else None
    return ContextWindow(remainingPct=remaining, pressure=pressure_for(remaining), source=source,
                         windowSize=window.get("context_window_size") or (inputs.usage or {}).get("windowSize"))


def build_payload(state: SessionState, inputs: PayloadInputs) -> HudStatus:
    """The HUD payload for one session. Unknown stays unknown: an empty session is never 'ok'."""
    now = inputs.now
    reasons: list[str] = []
    git = inputs.git or {}
    sensor_model = _dict(inputs.sensor.get("model")).get("id")
    model = _str(sensor_model) or state.model or (inputs.usage or {}).get("model")
    context_window = _context_window(state, inputs)
    context = Context(model=model, repo=git.get("repo"), branch=git.get("branch"),
                      worktree=git.get("worktree") or state.cwd, sessionId=state.session_id,
                      contextWindow=context_window)
    if context_window.pressure in (Pressure.high, Pressure.critical):
        reasons.append(f"context {context_window.pressure.value}: {context_window.remainingPct:.0f}% left")

    stale = 0
    for call in state.pending.values():
        started = _parse_ts(call.get("startedAt"))
        if started and (now - started).total_seconds() > inputs.stale_tool_seconds:
            stale += 1
    if stale:
        reasons.append(f"{stale} tool call(s) pending over {inputs.stale_tool_seconds:.0f}s")
    last = state.last_tool
    tool_calls = ToolCalls(
        total=state.tool_total, pending=len(state.pending), stale=stale,
        lastTool=LastTool(name=last.get("name"), status=ToolStatus(last.get("status") or "unknown"),
                          finishedAt=last.get("finishedAt")) if last else None,
        failures=state.tool_failures, interrupted=state.tool_interrupted,
        running=sorted({c.get("name") for c in state.pending.values() if c.get("name")}),
    )

    local = [LocalCheck(command=cmd, status=CheckStatus(c["status"]) if c["status"] in ("pass", "fail", "pending")
                        else CheckStatus.unknown) for cmd, c in state.checks.items()]
    remote = [RemoteCheck(**c) for c in (inputs.remote_checks or [])]
    failing = [c.command for c in local if c.status == CheckStatus.fail]
    failing += [c.name for c in remote if c.status == CheckStatus.fail]
    if failing:
        reasons.append("failing checks: " + "; ".join(failing[:3]))

    cost, cost_reasons = _cost(state, inputs)
    reasons.extend(cost_reasons)
    for error in state.stop_failures[-1:]:
        reasons.append(f"last turn failed: {error}")
    conflicts = git.get("conflicts")
    if conflicts:
        reasons.append(f"{conflicts} conflicted path(s)")

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
    else:
        risk_status = RiskStatus.ok
    risk = Risk(status=risk_status, reasons=reasons, dirtyWorktree=git.get("dirty"), conflicts=conflicts,
                manualReviewRequired=(risk_status != RiskStatus.ok) if state.events else None)

    github = inputs.github or {}
    queue = QueueState()
    queue.github.openPullRequests = github.get("openPullRequests")
    queue.github.openIssues = github.get("openIssues")
    queue.github.openDiscussions = github.get("openDiscussions")

    controls = inputs.controls or {}
    session_controls = SessionControls(
        supported=[SessionControl(c) for c in controls.get("supported", [])],
        blocked=[BlockedControl(**b) for b in controls.get("blocked", [])],
    )
    handoff = inputs.handoff or {}
    sync = Sync(
        Linear=LinearSync(**inputs.linear) if inputs.linear else None,
        GitHub=GitHubSync(repo=github.get("repo") or git.get("repo"), latestPullRequest=github.get("latestPullRequest"))
        if (github.get("repo") or git.get("repo")) else None,
        handoff=HandoffSync(path=handoff.get("path"), written=bool(handoff.get("written"))),
    )
    return HudStatus(
        generatedAt=iso(now), context=context, toolCalls=tool_calls,
        activeAgents=_agents(state, now, inputs.stale_tool_seconds), todos=_todos(state),
        checks=Checks(local=local, remote=remote), cost=cost, risk=risk, queueState=queue,
        sessionControls=session_controls, sync=sync,
    )
