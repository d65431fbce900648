"""A Claude Code session (from our journal or from its transcript) as workers and handoff facts.

Both Claude adapters end in a folded ``aggregate.SessionState``; this module turns one into the main
agent and its subagents as ``ecc.session.v1`` workers, and into the facts a handoff needs (tools, files,
checks, failed commands, open todos, risks, cost, commits since the session began, how to resume).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Optional

from ecc_hooks.core.text import resume_command
from ecc_hooks.core.timestamps import parse_iso
from ecc_hooks.handoff.adapters import _common
from ecc_hooks.handoff.adapters._common import Context, Details, Inspection, Target
from ecc_hooks.harness import command_of
from ecc_hooks.hud.aggregate import PayloadInputs, build_payload
from ecc_hooks.hud.state import SessionState
from ecc_hooks.models.session import (
    Artifacts,
    Intent,
    Outputs,
    Runtime,
    Session,
    SessionKind,
    SessionSnapshot,
    SourceTarget,
    Worker,
    WorkerState,
)
from ecc_hooks.sources import git as gitstate

_TURN_STATES = {
    "running": WorkerState.running,
    "waiting": WorkerState.waiting,
    "idle": WorkerState.idle,
    "ended": WorkerState.completed,
}


# another agent's session (``state.harness``): how its title names it
AGENT_TITLES = {"codex": "Codex", "gemini-cli": "Gemini CLI", "opencode": "OpenCode", "aider": "Aider"}


def tool_counts(events: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Calls per tool name, each ``toolUseId`` once (Pre and Post of one call are one call)."""
    seen: set[str] = set()
    counts: Counter[str] = Counter()
    for ev in events:
        if ev.get("event") not in ("PreToolUse", "PostToolUse", "PostToolUseFailure"):
            continue
        name, tool_id = ev.get("toolName"), ev.get("toolUseId")
        if not isinstance(name, str) or not name:
            continue
        if isinstance(tool_id, str):
            if tool_id in seen:
                continue
            seen.add(tool_id)
        counts[name] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _text(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def open_todos(state: SessionState) -> list[dict[str, Any]]:
    """Todo / task items not completed, from whichever list the session used last."""
    items: list[tuple[Optional[str], Optional[str]]]  # (status, text)
    if state.task_source == "todo" and state.todo_list is not None:
        items = [(t.status, t.content or t.active_form) for t in state.todo_list]
    else:
        items = [(t.status, t.subject or t.active_form) for t in state.tasks.values()]
    return [
        {"text": text or "(untitled)", "status": status or "unknown"} for status, text in items if status != "completed"
    ]


def _main_state(state: SessionState, recorded: bool) -> WorkerState:
    if recorded:
        return WorkerState.recorded
    if state.stop_failures and state.turn_state in ("idle", "ended") and state.events:
        return WorkerState.failed  # the last turn ended on an API error (StopFailure)
    if state.turn_state == "ended" and state.ended_mid_turn:
        return WorkerState.failed  # the client exited in the middle of its turn (after one, it is completed)
    return _TURN_STATES.get(state.turn_state, WorkerState.unknown)


def workers(
    state: SessionState, *, now: datetime, recorded: bool, git: gitstate.GitState, details: Details
) -> list[Worker]:
    """The main agent, then its subagents (``recorded`` for a transcript read after the fact)."""
    main_state = _main_state(state, recorded)
    main = Worker(
        id=state.session_id or "unknown",
        label="main",
        state=main_state,
        health=_common.worker_health(main_state, parse_iso(state.last_event_at), now),
        branch=git.branch,
        worktree=git.worktree or state.cwd,
        runtime=Runtime(
            kind=state.harness or "claude-code",
            command=command_of(state.harness),
            pid=None,
            active=main_state in (WorkerState.running, WorkerState.waiting),
            dead=recorded or state.turn_state == "ended",
        ),
        intent=Intent(objective=state.objective or "", seedPaths=[]),
        outputs=Outputs(
            summary=([state.last_message] if state.last_message else [])
            + [f"changed {path}" for path in state.files_changed],
            validation=[f"{c['status']}: {c['command']}" for c in details.checks],
            remainingRisks=[f"failed: {c['command']}" for c in details.failed_commands]
            + [f"open todo: {t['text']}" for t in details.open_todos],
        ),
        artifacts=Artifacts(),
        transcriptPath=state.transcript_path,
        updatedAt=state.last_event_at,
    )
    result = [main]
    for agent in state.agents.values():
        agent_state = WorkerState.recorded if recorded else _common.normalize_worker_state(agent.state)
        if not recorded and state.turn_state == "ended" and agent_state == WorkerState.running:
            agent_state = WorkerState.stopped  # the client exited; its background agents went with it
        result.append(
            Worker(
                id=agent.id,
                label=agent.agent_type or agent.id,
                state=agent_state,
                health=_common.worker_health(agent_state, parse_iso(agent.updated_at), now),
                branch=git.branch,
                worktree=git.worktree or state.cwd,
                runtime=Runtime(
                    kind="claude-subagent",
                    command=agent.agent_type,
                    pid=None,
                    active=agent_state in (WorkerState.running, WorkerState.waiting),
                    dead=recorded or agent_state in (WorkerState.completed, WorkerState.failed, WorkerState.stopped),
                ),
                intent=Intent(objective=agent.objective or "", seedPaths=[]),
                outputs=Outputs(summary=[agent.last_message] if agent.last_message else []),
                updatedAt=agent.updated_at,
            )
        )
    return result


def details(
    state: SessionState, *, title: str, tools: dict[str, int], now: datetime, usage: Any, git: gitstate.GitState
) -> Details:
    """Handoff facts of a folded session; the HUD payload supplies risk reasons and cost."""
    hud = build_payload(state, PayloadInputs(now=now, usage=usage, git=git))
    facts = Details(
        title=title,
        objective=state.objective,
        session_id=state.session_id,
        tools=tools,
        tool_total=state.tool_total,
        files_changed=list(state.files_changed),
        started_at=state.first_event_at,
    )
    facts.checks = [{"command": c.command, "status": c.status.value} for c in hud.checks.local]
    facts.failed_commands = [{"command": f.command, "error": f.error} for f in state.failed_commands]
    facts.open_todos = open_todos(state)
    facts.cost_usd = hud.cost.sessionUsd
    facts.cost_source = getattr(hud.cost, "source", None)
    facts.worktree = git.worktree or state.cwd
    facts.branch = git.branch
    risks = [r for r in hud.risk.reasons if r not in ("context usage unknown",)]
    checked = {c["command"] for c in facts.checks}
    for failed in facts.failed_commands:
        if failed["command"] in checked:
            continue  # a failing check: the risk "failing checks: ..." names it already
        error = (failed.get("error") or "").split("\n", 1)[0]
        risks.append(f"command failed: {failed['command']}" + (f" ({error})" if error else ""))
    if facts.open_todos:
        risks.append(f"{len(facts.open_todos)} open todo(s)")
    if git.dirty:
        risks.append("uncommitted changes in the worktree")
    if state.pending:
        risks.append(f"{len(state.pending)} tool call(s) never finished")
    facts.risks = risks
    facts.commits = gitstate.commits_since(facts.worktree, state.first_event_at, base=state.start_head)
    facts.files_changed = files_changed(state, git)
    if state.session_id:
        facts.resume = [resume_command(state.session_id, facts.worktree, state.harness)]
    return facts


def files_changed(state: SessionState, git: gitstate.GitState) -> list[str]:
    """What the session changed: git's view from the commit it started at to the work tree (committed, staged,
    unstaged, untracked: a file edited through Bash too), then what the tools reported that git does not list
    (outside the repository, ignored by it, or changed back). Paths inside the worktree relative to it."""
    top = git.worktree
    listed = list((gitstate.files_changed_since(top, state.start_head) if top else None) or [])
    for path in state.files_changed:
        name = path[len(top.rstrip("/")) + 1 :] if top and path.startswith(top.rstrip("/") + "/") else path
        if name not in listed:
            listed.append(name)
    return listed


def usage_of(
    transcript: Optional[str],
    saved: Optional[dict[str, Any]] = None,
    harness: Optional[str] = None,
    session_id: str = "",
) -> Any:
    """``collect.usage_for`` without a status line sensor (``saved``: a tracker state to resume; ``harness``:
    another agent's session, read by its own reader); None when it cannot say (cost then unknown)."""
    from ecc_hooks.hud.inputs import usage_for

    try:
        return usage_for(transcript, {}, os.environ, saved, harness, session_id)
    except (OSError, ValueError):  # a transcript vanishing mid-read, a broken price override
        return None


def git_of(cwd: Optional[str]) -> gitstate.GitState:
    """gitstate's facts about ``cwd`` (all unknown without one)."""
    return gitstate.read_git_state(cwd) if cwd else gitstate.GitState()


def inspection(
    state: SessionState,
    *,
    session_id: str,
    adapter_id: str,
    kind: SessionKind,
    title: str,
    tools: dict[str, int],
    usage: Any,
    recorded: bool,
    target: Target,
    ctx: Context,
) -> Inspection:
    """A folded Claude session as an ``ecc.session.v1`` snapshot with its handoff facts (both Claude adapters)."""
    git = git_of(state.cwd)
    facts = details(state, title=title, tools=tools, now=ctx.now, usage=usage, git=git)
    found = workers(state, now=ctx.now, recorded=recorded, git=git, details=facts)
    snapshot = SessionSnapshot(
        adapterId=adapter_id,
        session=Session(
            id=session_id,
            kind=kind,
            state=_common.session_state(found, runtime_alive=any(w.runtime.active for w in found)),
            repoRoot=git.repo_root,
            sourceTarget=SourceTarget(type=target.type, value=target.value),
            transcriptPath=state.transcript_path,
            cwd=state.cwd,
            startedAt=state.first_event_at,
            updatedAt=state.last_event_at,
            # another agent's session says which (kind stays in ECC's value set: a session our hooks recorded)
            **({"harness": state.harness} if state.harness else {}),
        ),
        workers=found,
        aggregates=_common.aggregates(found),
    )
    return Inspection(snapshot=snapshot, details=facts, claude_session_id=session_id)
