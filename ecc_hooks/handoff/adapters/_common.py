"""What every adapter shares: the target and context it gets, ECC's normalization rules, markdown parsing.

The rules (ECC's ``canonical-session``), pure functions of their inputs (``now`` is injected):

- worker health: failed -> degraded; completed / recorded -> healthy; running / waiting -> degraded when
  its pane is dead, stale when not updated for ``STALE_SECONDS`` (or never), else healthy; idle -> healthy
  (degraded if its pane is dead); anything else unknown.
- session state: no workers -> missing; any failed worker -> failed; all completed -> completed; all
  recorded -> recorded; a live runtime (the tmux session up, the Claude Code session's turn running) ->
  active; else idle (a status.md that still says running in a session whose tmux is gone: idle, as ECC).
  ECC checks "tmux session alive" before "failed"; we check failed first so a failed worker is never
  hidden behind a live session (tests/fixtures/ecc-parity/deviations.json lists it).
- "not started" (ECC's template) stays "not started", health unknown, as ECC keeps it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from ecc_hooks.models.session import Aggregates, Health, SessionState, Worker, WorkerState

STALE_SECONDS = 300.0  # five minutes without an update makes a live worker stale

# Status words seen in status.md files and agent states, mapped to WorkerState values.
_STATE_WORDS = {
    "running": "running",
    "active": "running",
    "in progress": "running",
    "in_progress": "running",
    "in-progress": "running",
    "working": "running",
    "started": "running",
    "busy": "running",
    "waiting": "waiting",
    "blocked": "waiting",
    "needs input": "waiting",
    "awaiting input": "waiting",
    "idle": "idle",
    "not started": "not started",
    "not_started": "not started",
    "pending": "pending",
    "queued": "pending",
    "starting": "starting",
    "launching": "starting",
    "ready": "idle",
    "completed": "completed",
    "merged": "merged",  # ECC's worktree lifecycle word for a branch fully in its base
    "complete": "completed",
    "done": "completed",
    "succeeded": "completed",
    "success": "completed",
    "finished": "completed",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
    "errored": "failed",
    "crashed": "failed",
    "stopped": "stopped",
    "killed": "stopped",
    "cancelled": "stopped",
    "canceled": "stopped",
    "stale": "stale",
    "recorded": "recorded",
}


class TargetError(Exception):
    """The target cannot be read by this adapter (inspect turns it into a UserError, exit 1)."""


@dataclass(frozen=True)
class Target:
    """What the user asked for: its type (one of inspect.TARGET_TYPES) and the raw value."""

    type: str
    value: str


@dataclass
class Context:
    """Settings resolved by the CLI (argument, then environment, then automatic), and the clock."""

    now: datetime
    cwd: str
    coordination_root: Optional[str] = None
    tmux_socket: Optional[str] = None


@dataclass
class Details:
    """What a handoff document says beyond ``ecc.session.v1`` (plain data; absent facts stay None/empty)."""

    title: str
    objective: Optional[str] = None
    session_id: Optional[str] = None
    tools: dict[str, int] = field(default_factory=dict)
    tool_total: Optional[int] = None
    files_changed: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)  # {command, status}
    failed_commands: list[dict[str, Any]] = field(default_factory=list)  # {command, error}
    open_todos: list[dict[str, Any]] = field(default_factory=list)  # {text, status}
    risks: list[str] = field(default_factory=list)
    cost_usd: Optional[float] = None
    cost_source: Optional[str] = None
    worktree: Optional[str] = None
    branch: Optional[str] = None
    started_at: Optional[str] = None
    commits: Optional[list[dict[str, str]]] = None  # None: git could not say
    resume: list[str] = field(default_factory=list)  # shell commands
    workers: list[dict[str, Any]] = field(default_factory=list)  # orchestration: per-worker lines


@dataclass
class Inspection:
    """An adapter's answer: the snapshot, the handoff facts, and the Claude session id whose HUD it feeds."""

    snapshot: Any  # models.session.SessionSnapshot
    details: Details
    claude_session_id: Optional[str] = None


def normalize_worker_state(raw: object) -> WorkerState:
    """A WorkerState from a free-form status word (``"not started"``, ``"Done"``, ``"in_progress"``...)."""
    if not isinstance(raw, str):
        return WorkerState.unknown
    word = " ".join(raw.strip().strip("`*_").lower().split())
    mapped = _STATE_WORDS.get(word)
    if mapped is None:
        first = re.split(r"[\s:;,.(\-]", word, maxsplit=1)[0] if word else ""
        mapped = _STATE_WORDS.get(first)
    return WorkerState(mapped) if mapped else WorkerState.unknown


def worker_health(
    state: WorkerState,
    updated: Optional[datetime],
    now: datetime,
    *,
    pane_dead: bool = False,
    stale_seconds: float = STALE_SECONDS,
) -> Health:
    """ECC's health rule for one worker (see the module docstring)."""
    if state == WorkerState.failed:
        return Health.degraded
    if state in (WorkerState.completed, WorkerState.merged, WorkerState.recorded):
        return Health.healthy
    if state == WorkerState.stale:
        return Health.stale
    if state in (WorkerState.running, WorkerState.waiting, WorkerState.starting):
        if pane_dead:
            return Health.degraded
        if updated is None or (now - updated).total_seconds() > stale_seconds:
            return Health.stale
        return Health.healthy
    if state in (WorkerState.idle, WorkerState.pending):
        return Health.degraded if pane_dead else Health.healthy
    return Health.unknown


def session_state(workers: Iterable[Worker], *, runtime_alive: bool = False) -> SessionState:
    """ECC's session state rule over the workers (see the module docstring)."""
    states = [w.state for w in workers]
    if not states:
        return SessionState.missing
    if WorkerState.failed in states:
        return SessionState.failed
    if all(s in (WorkerState.completed, WorkerState.merged) for s in states):
        return SessionState.completed
    if all(s == WorkerState.recorded for s in states):
        return SessionState.recorded
    if runtime_alive:
        return SessionState.active
    return SessionState.idle


def aggregates(workers: list[Worker]) -> Aggregates:
    """``workerCount`` and the per-state / per-health counts of ``workers``."""
    return Aggregates(
        workerCount=len(workers),
        states=dict(Counter(w.state.value for w in workers)),
        healths=dict(Counter(w.health.value for w in workers)),
    )


# ---------------------------------------------------------------------------- markdown (ECC's worker files)

# A closing run of #s counts only after white space (CommonMark), so "# Status: v2#" keeps its #.
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_FIELD = re.compile(r"^\s*[-*+]\s+([^:`]{1,60}?)\s*:\s*(.*?)\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*?)\s*$")
PLACEHOLDERS = frozenset({"pending", "tbd", "todo", "n/a", "none", "-", ""})


@dataclass
class MarkdownDoc:
    """A worker file split up: the first heading, ``- Key: value`` fields before any section, sections."""

    title: Optional[str] = None
    fields: dict[str, str] = field(default_factory=dict)  # lower-cased key -> value (backticks stripped)
    sections: dict[str, list[str]] = field(default_factory=dict)  # lower-cased heading -> its lines


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "`'\"":
        value = value[1:-1].strip()
    return value


def parse_markdown(text: str) -> MarkdownDoc:
    """Parse ECC's task.md / status.md / handoff.md shape; any text is accepted (unknown lines are skipped)."""
    doc = MarkdownDoc()
    current: Optional[str] = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = _HEADING.match(line)
        if heading:
            name = heading.group(2).strip()
            if doc.title is None and current is None and len(heading.group(1)) == 1:
                doc.title = name
                continue
            current = " ".join(name.lower().split())
            doc.sections.setdefault(current, [])
            continue
        if current is None:
            match = _FIELD.match(line)
            if match:
                key = " ".join(match.group(1).lower().split())
                doc.fields.setdefault(key, _unquote(match.group(2)))
        else:
            doc.sections[current].append(line)
    return doc


def bullets(lines: Iterable[str], *, drop_placeholders: bool = True) -> list[str]:
    """The bullet items of a section (``- x``, ``* x``, ``1. x``), backticks stripped, placeholders dropped."""
    items = []
    for line in lines:
        match = _BULLET.match(line)
        if not match:
            continue
        item = _unquote(match.group(1))
        if drop_placeholders and item.lower().strip(" .") in PLACEHOLDERS:
            continue
        items.append(item)
    return items


def paragraph(lines: Iterable[str]) -> str:
    """A section's text, stripped, blank lines at the ends removed."""
    return "\n".join(lines).strip()


def title_after(prefix: str, title: Optional[str]) -> Optional[str]:
    """``"Worker Task: x"`` -> ``"x"`` for ``prefix="worker task"``; None when the title has another shape."""
    if not title or ":" not in title:
        return None
    head, _, rest = title.partition(":")
    return rest.strip() or None if " ".join(head.lower().split()) == prefix else None
