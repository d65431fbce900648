"""What every adapter shares: the target and context it gets, ECC's normalization rules, markdown parsing.

The rules (ECC's ``canonical-session``), pure functions of their inputs (``now`` is injected):

- worker health: failed -> degraded; completed / recorded -> healthy; running / waiting -> degraded when
  its pane is dead, stale when not updated for ``STALE_SECONDS`` (or never), else healthy; idle -> healthy
  (degraded if its pane is dead); anything else unknown.
- session state: no workers -> missing (active while its runtime lives, as ECC); any failed worker ->
  failed; all completed -> completed; all recorded -> recorded; a live runtime (the tmux session has a live
  pane, the Claude Code session's turn running) -> active; else idle (a status.md that still says running in a
  session whose tmux is gone: idle, as ECC). ECC checks "a pane exists" first; we check failed and completed
  first so a failed worker is never hidden behind a live session and a finished one shows finished, and count
  only live panes (tests/fixtures/ecc-parity/deviations.json lists each).
- "not started" (ECC's template) stays "not started", health unknown, as ECC keeps it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from ecc_hooks.core.jsvalues import JS_DOT, JS_S
from ecc_hooks.core.jsvalues import trim as js_trim
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
    if not states:  # nothing to read, but a live tmux session is something running, as ECC says
        return SessionState.active if runtime_alive else SessionState.missing
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
# ECC's own parsers (``scripts/lib/orchestration-session.js``), rule for rule, so that ECC and we read the same
# worker file the same way, with JavaScript's ``trim``, ``\s`` and ``.`` (``core.jsvalues``: Python's differ).
# Ours where we differ on purpose (tests/fixtures/ecc-parity/deviations.json): a CRLF file reads as its LF twin (ECC's status fields never match before the \r, its objective keeps the \r).
# A template's ``- Pending`` is an entry on both sides, as ECC reads its own template.

_STATUS_FIELD = re.compile(f"- ([A-Za-z ]+):{JS_S}*({JS_DOT}+)")  # ECC: /^- ([A-Za-z ]+):\s*(.+)$/
_BOLD_LINE = re.compile(f"\\*\\*{JS_DOT}+\\*\\*")  # ECC: /^\*\*.+\*\*$/ on a trimmed line


def strip_code_ticks(value: str) -> str:
    """ECC's ``normalizeText``: trimmed, and one pair of enclosing backticks taken off."""
    trimmed = js_trim(value)
    return trimmed[1:-1] if len(trimmed) >= 2 and trimmed[0] == trimmed[-1] == "`" else trimmed


def lines(text: str) -> list[str]:
    """The file's lines as ECC splits them (on ``\n`` only), a CRLF's ``\r`` taken off (ours: ECC keeps it)."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def section(text: str, heading: str) -> str:
    """ECC's ``parseSection``: the lines after the first ``## <heading>`` or ``**<heading>**`` line, up to the next
    line starting ``## `` or a bold line (``**...**``, other than the heading's own), trimmed; "" when absent.
    A ``### Detail`` inside stays part of the section."""
    all_lines = lines(text)
    heads = {f"## {heading}", f"**{heading}**"}
    start = next((i for i, line in enumerate(all_lines) if js_trim(line) in heads), None)
    if start is None:
        return ""
    collected = []
    for line in all_lines[start + 1 :]:
        trimmed = js_trim(line)
        if trimmed.startswith("## ") or (_BOLD_LINE.fullmatch(trimmed) and trimmed not in heads):
            break
        collected.append(line)
    return js_trim("\n".join(collected))


def bullets(text: str) -> list[str]:
    """ECC's ``parseBullets``: every (trimmed) line starting ``- ``, its text with enclosing backticks taken off."""
    items = []
    for line in text.split("\n"):
        trimmed = js_trim(line)
        if trimmed.startswith("- "):
            items.append(strip_code_ticks(trimmed[2:]))
    return items


def status_fields(text: str) -> dict[str, str]:
    """ECC's ``parseWorkerStatus`` lines: every ``- Key: value`` line of the file, wherever it is (after any
    heading too); the key lower-cased without spaces (``Last updated`` -> ``lastupdated``), the value's enclosing
    backticks taken off; a key given twice keeps its last value, as ECC's."""
    fields: dict[str, str] = {}
    for line in lines(text):
        match = _STATUS_FIELD.fullmatch(line)
        if match:
            fields[_key(match)] = strip_code_ticks(match.group(2))
    return fields


def _key(match: re.Match[str]) -> str:
    return match.group(1).lower().replace(" ", "")


def status_key(line: str) -> Optional[str]:
    """The key of one status.md line as ``status_fields`` reads it (``- Last updated: x`` -> ``lastupdated``), or
    None when ECC reads no field there."""
    match = _STATUS_FIELD.fullmatch(line[:-1] if line.endswith("\r") else line)
    return _key(match) if match else None
