"""``ecc.hud-status.v1``: the HUD payload, one per session (the ECC "HUD status and session control" contract).

Field names are fixed by the ECC ecosystem, including the odd ``schema_version`` at the top
and the capitalised ``sync.Linear`` / ``sync.GitHub``. Sections may gain fields; the
top-level sections stay exactly these. A value that cannot be known is ``null``, ``[]`` or
``"unknown"``, never a guess. Value sets are enums that always include ``unknown``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Final, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ecc_hooks.models import OpenModel

SCHEMA_VERSION: Final = "ecc.hud-status.v1"


class Pressure(str, Enum):
    """How close the main conversation is to its context limit."""

    normal = "normal"
    elevated = "elevated"
    high = "high"
    critical = "critical"
    unknown = "unknown"


class ToolStatus(str, Enum):
    """How the last tool call ended."""

    success = "success"
    failure = "failure"
    interrupted = "interrupted"
    pending = "pending"
    unknown = "unknown"


class AgentState(str, Enum):
    """What an agent (subagent, background task, orchestration worker) is doing."""

    running = "running"
    waiting = "waiting"
    idle = "idle"
    completed = "completed"
    failed = "failed"
    stopped = "stopped"
    stale = "stale"
    unknown = "unknown"


class CheckStatus(str, Enum):
    """Result of a local or remote check."""

    passed = "pass"
    fail = "fail"
    pending = "pending"
    skipped = "skipped"
    unknown = "unknown"


class CostTrend(str, Enum):
    """Spend against the configured budget."""

    no_budget = "no-budget"
    within_budget = "within-budget"
    approaching_budget = "approaching-budget"
    over_budget = "over-budget"
    unknown = "unknown"


class RiskStatus(str, Enum):
    """Overall verdict: does this session need a human?"""

    ok = "ok"
    attention = "attention"
    blocked = "blocked"
    unknown = "unknown"


class SessionControl(str, Enum):
    """Controls a HUD may offer for a session."""

    create = "create"
    resume = "resume"
    status = "status"
    stop = "stop"
    diff = "diff"
    pr = "pr"
    mergeQueue = "mergeQueue"
    conflictQueue = "conflictQueue"


class ContextWindow(OpenModel):
    """Context left in the main conversation."""

    remainingPct: Optional[float] = Field(None, description="percent of the window left; null when unknown")
    pressure: Pressure = Pressure.unknown
    # ecc-hooks additions
    source: Optional[str] = Field(
        None,
        description="where remainingPct comes from: statusline (Claude Code's own "
        "used_percentage) or transcript (our reading of the last response's usage)",
    )
    windowSize: Optional[int] = Field(None, description="the context window in tokens")
    usedPct: Optional[int] = Field(
        None,
        description="context used as Claude Code's own screen says it (\"92% context used\"): the last response's "
        "prompt and output over the window less the tokens kept for output",
    )
    compactsAtPct: Optional[float] = Field(
        None, description="where auto-compaction fires on usedPct's scale (null: disabled or unknown)"
    )


class SnapshotOrigin(OpenModel):
    """How this payload's journal and transcript facts were obtained (an ecc-hooks addition)."""

    source: str = Field(
        description="watcher (the daemon's live fold) | checkpoint (the daemon's saved state plus the events "
        "after it) | journal (rebuilt from the first event)"
    )
    newerEvents: Optional[int] = Field(None, description="events folded after the checkpoint (source checkpoint)")


class Context(OpenModel):
    """Where the session runs."""

    harness: str = Field("claude-code", description="claude-code | codex | gemini-cli | opencode | aider")
    model: Optional[str] = None
    repo: Optional[str] = Field(None, description='"owner/name" from the git remote')
    branch: Optional[str] = None
    worktree: Optional[str] = Field(None, description="absolute path of the working tree")
    sessionId: Optional[str] = None
    contextWindow: ContextWindow = Field(default_factory=ContextWindow)
    # ecc-hooks additions
    cwd: Optional[str] = Field(None, description="the session's working directory (from its hooks)")
    turnState: Optional[str] = Field(None, description="running | idle | waiting | ended | unknown")
    waitingFor: Optional[str] = Field(
        None, description="what the session waits for a person to do (turnState waiting), e.g. permission to use Bash"
    )
    waitingSince: Optional[str] = Field(None, description="when it started waiting (ISO 8601)")
    turnError: Optional[str] = Field(
        None, description="the error its last turn ended with (StopFailure, an API error: rate_limit; turnState idle)"
    )
    objective: Optional[str] = Field(None, description="the session's first prompt (redacted, cut to 200 characters)")
    lastEventAt: Optional[str] = Field(None, description="the journal's latest event (ISO 8601)")
    detached: Optional[bool] = Field(None, description="HEAD is detached")
    linkedWorktree: Optional[bool] = Field(None, description="the worktree is a linked worktree (git worktree add)")
    dirty: Optional[bool] = Field(None, description="uncommitted changes (staged, unstaged, untracked, conflicts)")
    ahead: Optional[int] = Field(None, description="commits ahead of the upstream")
    behind: Optional[int] = Field(None, description="commits behind the upstream")
    upstream: Optional[str] = Field(None, description="the upstream branch, e.g. origin/main")
    snapshot: Optional[SnapshotOrigin] = Field(None, description="where the journal and transcript facts came from")


class LastTool(OpenModel):
    """The most recent tool call."""

    name: Optional[str] = None
    status: ToolStatus = ToolStatus.unknown
    finishedAt: Optional[str] = None


class ToolCalls(OpenModel):
    """Tool call counters (Pre without Post = pending; pending past a threshold = stale)."""

    total: int = 0
    pending: int = 0
    stale: int = 0
    lastTool: Optional[LastTool] = None
    # ecc-hooks additions
    failures: int = Field(0, description="calls that failed (PostToolUseFailure)")
    interrupted: int = Field(0, description="calls the user interrupted")
    denied: int = Field(
        0, description="calls that never ran: denied by a rule, the user at the prompt or the client (in failures too)"
    )
    subagentCalls: int = Field(0, description="calls made by subagents (included in total)")
    running: list[str] = Field(default_factory=list, description="names of the tools running now")


class Agent(OpenModel):
    """One subagent, background task or orchestration worker."""

    id: str
    state: AgentState = AgentState.unknown
    branch: Optional[str] = None
    worktree: Optional[str] = None
    objective: Optional[str] = None
    handoffPath: Optional[str] = None
    # ecc-hooks additions
    agentType: Optional[str] = Field(None, description="the subagent type (general-purpose, ...)")
    updatedAt: Optional[str] = Field(None, description="ISO-8601 time of its last event")
    runtimeState: Optional[str] = Field(
        None,
        description="a runtime worker's own state where the contract's enum has no word for it: merged (its "
        "work is in the base; state says completed)",
    )


class TodoCounts(OpenModel):
    """How many todo items are in each state."""

    pending: int = 0
    inProgress: int = 0
    completed: int = 0


class Todos(OpenModel):
    """The session's todo list (TodoWrite or the Task tools)."""

    inProgress: Optional[str] = Field(None, description="text of the current item")
    counts: TodoCounts = Field(default_factory=TodoCounts)
    # ecc-hooks additions
    source: Optional[str] = Field(None, description="which tools the list comes from (TodoWrite or the Task tools)")
    total: int = Field(0, description="items in the list")


class LocalCheck(OpenModel):
    """A test, lint or type-check command seen in the session."""

    command: str
    status: CheckStatus = CheckStatus.unknown
    # ecc-hooks additions
    at: Optional[str] = Field(None, description="ISO-8601 time of its last run")


class RemoteCheck(OpenModel):
    """A CI check of the branch."""

    name: str
    status: CheckStatus = CheckStatus.unknown
    url: Optional[str] = None


class Checks(OpenModel):
    """Local and remote checks."""

    local: list[LocalCheck] = Field(default_factory=list)
    remote: list[RemoteCheck] = Field(default_factory=list)


class Cost(OpenModel):
    """Session spend."""

    sessionUsd: Optional[float] = None
    budgetUsd: Optional[float] = None
    trend: CostTrend = CostTrend.unknown
    # ecc-hooks additions: both figures, so a disagreement is visible
    source: Optional[str] = Field(
        None,
        description="which figure sessionUsd is: statusline (Claude Code's own "
        "total_cost_usd), reported (another agent's own figure: OpenCode's, Aider's) or computed (ours, from the "
        "transcripts)",
    )
    reportedUsd: Optional[float] = Field(None, description="what Claude Code reports")
    computedUsd: Optional[float] = Field(None, description="what the transcripts cost at the price table's rates")
    differenceUsd: Optional[float] = Field(None, description="reportedUsd - computedUsd")
    transcriptReportedUsd: Optional[float] = Field(None, description="the transcript's own cost-state total")
    transcriptDifferenceUsd: Optional[float] = Field(None, description="transcriptReportedUsd - computedUsd")
    burnRateUsdPerHour: Optional[float] = Field(None, description="spend rate over the recent window")
    unknownModels: list[str] = Field(default_factory=list, description="models missing from the price table")


class Risk(OpenModel):
    """Verdict and why."""

    status: RiskStatus = RiskStatus.unknown
    reasons: list[str] = Field(default_factory=list)
    dirtyWorktree: Optional[bool] = None
    conflicts: Optional[int] = None
    manualReviewRequired: Optional[bool] = None


class GitHubQueue(OpenModel):
    """Open items on GitHub, when reachable."""

    openPullRequests: Optional[int] = None
    openIssues: Optional[int] = None
    openDiscussions: Optional[int] = None


class QueueState(OpenModel):
    """Orchestration queues."""

    github: GitHubQueue = Field(default_factory=GitHubQueue)
    mergeQueue: list[Any] = Field(default_factory=list)
    conflictQueue: list[Any] = Field(default_factory=list)
    staleSalvageQueue: list[Any] = Field(default_factory=list)


class BlockedControl(OpenModel):
    """A control that does not work here, and why."""

    control: SessionControl
    reason: str


class SessionControls(OpenModel):
    """Which session controls work here."""

    supported: list[SessionControl] = Field(default_factory=list)
    blocked: list[BlockedControl] = Field(default_factory=list)


class LinearSync(OpenModel):
    """Linear project status, from configuration."""

    project: Optional[str] = None
    health: Optional[str] = None
    issueCapacityBlocked: Optional[bool] = None
    latestStatusUpdateId: Optional[str] = None


class GitHubSync(OpenModel):
    """The GitHub repository and latest pull request, when known."""

    repo: Optional[str] = None
    latestPullRequest: Optional[int] = None


class HandoffSync(OpenModel):
    """The last handoff document written for this session."""

    path: Optional[str] = None
    written: bool = False


class Sync(OpenModel):
    """External systems (note the capitalised keys, fixed by the contract)."""

    Linear: Optional[LinearSync] = None
    GitHub: Optional[GitHubSync] = None
    handoff: HandoffSync = Field(default_factory=HandoffSync)


class HudStatus(BaseModel):
    """One session's HUD payload."""

    model_config = ConfigDict(extra="forbid", title="ecc.hud-status.v1")

    schema_version: Literal["ecc.hud-status.v1"] = SCHEMA_VERSION
    generatedAt: str = Field(description="ISO-8601 UTC")
    context: Context
    toolCalls: ToolCalls
    activeAgents: list[Agent]
    todos: Todos
    checks: Checks
    cost: Cost
    risk: Risk
    queueState: QueueState
    sessionControls: SessionControls
    sync: Sync
