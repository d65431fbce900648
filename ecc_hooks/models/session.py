"""``ecc.session.v1``: one inspected session (the ECC "session adapter" contract), what ``inspect`` prints.

Top-level sections are fixed (``schemaVersion``, ``adapterId``, ``session``, ``workers``, ``aggregates``);
sections may gain fields. Value sets: session ``kind`` orchestrated/history/claude-code, session ``state``
active/idle/completed/failed/missing/recorded, worker ``health`` healthy/stale/degraded/unknown. A worker's
``state`` is one of ``WorkerState`` (the HUD's agent states plus ``recorded`` and the runtime's ``merged``: ECC's
reader takes any string there). ``aggregates.workerCount``
equals ``len(workers)`` and the state and health maps count workers; the model enforces both.
"""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecc_hooks.models import OpenModel

SCHEMA_VERSION: Final = "ecc.session.v1"


class SessionKind(str, Enum):
    """What kind of session was inspected."""

    orchestrated = "orchestrated"
    history = "history"
    claude_code = "claude-code"


class SessionState(str, Enum):
    """The whole session's state, derived from its workers (``adapters._common.session_state``)."""

    active = "active"
    idle = "idle"
    completed = "completed"
    failed = "failed"
    missing = "missing"
    recorded = "recorded"


class WorkerState(str, Enum):
    """One worker's state (status.md ``State``, or the agent's state for a Claude Code session)."""

    running = "running"
    waiting = "waiting"
    idle = "idle"
    not_started = "not started"  # ECC's status.md template before the launcher ran
    pending = "pending"  # the runtime: planned, waiting for a slot (maxParallel)
    starting = "starting"  # the runtime: launched, not heard from yet
    stale = "stale"  # the runtime: no sign of life for 5 minutes
    completed = "completed"
    failed = "failed"
    stopped = "stopped"
    merged = "merged"  # the runtime: its work is in the base (status.md: ``State: completed`` and a ``Merged`` line)
    recorded = "recorded"
    unknown = "unknown"


class Health(str, Enum):
    """How trustworthy a worker's state is: stale means no update for 5 minutes."""

    healthy = "healthy"
    stale = "stale"
    degraded = "degraded"
    unknown = "unknown"


class SourceTarget(OpenModel):
    """What the user asked for and how it was read (``type`` is one of ``inspect.TARGET_TYPES``)."""

    type: str
    value: str


class Session(OpenModel):
    """The session as a whole."""

    id: str
    kind: SessionKind
    state: SessionState
    repoRoot: Optional[str] = None
    sourceTarget: SourceTarget


class Runtime(OpenModel):
    """Where a worker runs: a tmux pane, a Claude Code conversation, a subagent."""

    kind: str
    command: Optional[str] = None
    pid: Optional[int] = None
    active: bool = False
    dead: bool = False


class Intent(OpenModel):
    """What the worker was asked to do."""

    objective: str = ""
    seedPaths: list[str] = Field(default_factory=list)


class Outputs(OpenModel):
    """What the worker reported: summary lines, validation done, risks left."""

    summary: list[str] = Field(default_factory=list)
    validation: list[str] = Field(default_factory=list)
    remainingRisks: list[str] = Field(default_factory=list)


class Artifacts(OpenModel):
    """The worker's coordination files (null when absent or not applicable)."""

    statusFile: Optional[str] = None
    taskFile: Optional[str] = None
    handoffFile: Optional[str] = None


class WorkerFigures(OpenModel):
    """A runtime worker's own figures: from its Claude Code session (the id the runtime chose), by the usage
    engine the status line uses; elapsed from its launch. Null: not known (an agent without our hooks)."""

    agent: Optional[str] = Field(None, description="what runs: the agent's name, or script (a launcherCommand)")
    sessionId: Optional[str] = Field(None, description="its Claude Code session")
    costUsd: Optional[float] = Field(None, description="the session's cost, as Claude Code counts it")
    contextUsedPct: Optional[float] = Field(None, description="context used, as Claude Code's own screen says it")
    toolCalls: Optional[int] = Field(None, description="tool calls made (its subagents' included)")
    elapsedSeconds: Optional[float] = Field(None, description="since its launch, until it finished")


class Worker(OpenModel):
    """One worker: an orchestration pane, or the main agent / a subagent of a Claude Code session."""

    id: str
    label: str
    state: WorkerState
    health: Health
    branch: Optional[str] = None
    worktree: Optional[str] = None
    runtime: Runtime
    intent: Intent = Field(default_factory=Intent)
    outputs: Outputs = Field(default_factory=Outputs)
    artifacts: Artifacts = Field(default_factory=Artifacts)
    # ecc-hooks addition
    observations: list[str] = Field(
        default_factory=list,
        description="what we saw ourselves (a missing file, a dead pane, uncommitted changes); outputs is only "
        "what the worker reported",
    )
    figures: Optional[WorkerFigures] = Field(None, description="a runtime worker's cost, context, tool calls, elapsed")


class Aggregates(OpenModel):
    """Counts over the workers."""

    workerCount: int
    states: dict[str, int] = Field(default_factory=dict)
    healths: dict[str, int] = Field(default_factory=dict)


class SessionSnapshot(BaseModel):
    """The ``ecc.session.v1`` document."""

    model_config = ConfigDict(extra="forbid")

    schemaVersion: Literal["ecc.session.v1"] = SCHEMA_VERSION
    adapterId: str
    session: Session
    workers: list[Worker] = Field(default_factory=list)
    aggregates: Aggregates

    @model_validator(mode="after")
    def _counts_match(self) -> SessionSnapshot:
        """``workerCount == len(workers)`` and the maps count exactly the workers."""
        n = len(self.workers)
        agg = self.aggregates
        if agg.workerCount != n or sum(agg.states.values()) != n or sum(agg.healths.values()) != n:
            raise ValueError("aggregates must count the workers")
        return self
