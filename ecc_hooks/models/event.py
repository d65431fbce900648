"""``ecc.event.v1``: one normalized hook event, one line of a session journal.

The hook builds these records as plain dicts (pydantic is too slow to import there); this
model is their contract: the published schema is generated from it and tests validate
every journal line against it. Unknown keys are allowed so newer writers stay readable.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal, Optional

from pydantic import ConfigDict, Field

from ecc_hooks.models import OpenModel


class Outcome(str, Enum):
    """How a tool call (or a turn, for StopFailure) ended."""

    success = "success"
    failure = "failure"
    interrupted = "interrupted"


class Todo(OpenModel):
    """One item of a TodoWrite list."""

    content: Optional[str] = None
    status: Optional[str] = None
    activeForm: Optional[str] = None


class InputSummary(OpenModel):
    """Short, redacted summary of a tool's input (or of a TaskCreated/TaskCompleted event).

    Unknown and MCP tools keep up to eight small scalar fields under their own names.
    """

    command: Optional[str] = Field(None, description="Bash command")
    description: Optional[str] = Field(None, description="Bash or Agent description")
    runInBackground: Optional[bool] = None
    filePath: Optional[str] = Field(None, description="path named by a file tool")
    subagentType: Optional[str] = None
    prompt: Optional[str] = Field(None, description="Agent prompt, clipped")
    model: Optional[str] = None
    todos: Optional[list[Todo]] = Field(None, description="the whole TodoWrite list (each call replaces it)")
    taskId: Optional[str] = None
    taskSubject: Optional[str] = None
    taskDescription: Optional[str] = None
    taskStatus: Optional[str] = None
    activeForm: Optional[str] = None


class ResponseSummary(OpenModel):
    """What a tool's result tells: a launched agent's id and status, a created task's id."""

    agentId: Optional[str] = None
    status: Optional[str] = None
    isAsync: Optional[bool] = None
    taskId: Optional[str] = None
    interrupted: Optional[bool] = None


class BackgroundTask(OpenModel):
    """An entry of Stop/SubagentStop ``background_tasks``."""

    id: Optional[str] = None
    type: Optional[str] = None
    status: Optional[str] = None
    description: Optional[str] = None
    agentType: Optional[str] = None


class RuntimeWorker(OpenModel):
    """The runtime session and worker a hook ran in (``$ECC_SESSION``, ``$ECC_WORKER``), kept at SessionStart."""

    session: str = Field(max_length=128)
    worker: str = Field(max_length=128)


class BatchCall(OpenModel):
    """One call of a PostToolBatch."""

    toolName: Optional[str] = None
    toolUseId: Optional[str] = None


class TaskNotification(OpenModel):
    """Parsed ``<task-notification>`` prompt: a background task reporting back."""

    taskId: Optional[str] = None
    toolUseId: Optional[str] = None
    status: Optional[str] = None
    summary: Optional[str] = None


class Terminal(OpenModel):
    """Where a session runs in tmux (SessionStart, from the hook's ``$TMUX`` and ``$TMUX_PANE``): what the HUD
    needs to read its screen and answer its permission prompts (``core.terminal`` checks both values)."""

    socket: str = Field(description="the tmux server's socket, an absolute path", max_length=1024)
    pane: str = Field(description="the pane's id, %<digits>", pattern=r"^%[0-9]{1,9}$")


class Event(OpenModel):
    """One hook event as recorded in ``sessions/<session>/events.jsonl``."""

    model_config = ConfigDict(title="ecc.event.v1")

    schemaVersion: Literal["ecc.event.v1"]
    ts: str = Field(description="when the hook ran, ISO-8601 UTC with milliseconds")
    event: str = Field(description="Claude Code's hook_event_name, kept as sent (unknown kinds too)")
    sessionId: str = Field(description="sanitized session id (a safe path component)")
    agentId: Optional[str] = Field(None, description="set inside a subagent")
    agentType: Optional[str] = None
    cwd: Optional[str] = None
    transcriptPath: Optional[str] = None
    promptId: Optional[str] = None
    permissionMode: Optional[str] = None
    toolName: Optional[str] = None
    toolUseId: Optional[str] = None
    input: Optional[InputSummary] = None
    files: Optional[list[str]] = Field(None, description="paths the tool named")
    response: Optional[ResponseSummary] = None
    outcome: Optional[Outcome] = None
    durationMs: Optional[int] = None
    error: Optional[str] = None
    reason: Optional[str] = Field(None, description="SessionEnd reason or PermissionDenied reason")
    toolCalls: Optional[list[BatchCall]] = None
    promptKind: Optional[Literal["user", "task-notification"]] = None
    prompt: Optional[str] = Field(None, description="the user's prompt, redacted and clipped")
    taskNotification: Optional[TaskNotification] = None
    source: Optional[str] = Field(None, description="SessionStart source")
    model: Optional[str] = Field(None, description="SessionStart model")
    gitHead: Optional[str] = Field(None, description="SessionStart: the commit HEAD pointed at in cwd's repository")
    tmux: Optional[Terminal] = Field(None, description="SessionStart in a tmux pane: its server's socket and the pane")
    harness: Optional[Literal["codex", "gemini-cli", "opencode", "aider"]] = Field(
        None, description="the agent whose hook this is, when it is not Claude Code (its event made Claude-shaped)"
    )
    runtime: Optional[RuntimeWorker] = Field(None, description="SessionStart in a runtime worker: which one")
    stopHookActive: Optional[bool] = None
    lastMessage: Optional[str] = None
    backgroundTasks: Optional[list[BackgroundTask]] = None
    agentTranscriptPath: Optional[str] = None
    notificationType: Optional[str] = None
    message: Optional[str] = None
    title: Optional[str] = None
    compactTrigger: Optional[str] = None
    mcpServerName: Optional[str] = Field(None, description="Elicitation/ElicitationResult: the MCP server asking")
    action: Optional[str] = Field(None, description="ElicitationResult: accept | decline | cancel")
    truncatedPayload: Optional[bool] = Field(
        None, description="the payload exceeded the stdin cap; common fields salvaged"
    )
    backfilled: Optional[bool] = Field(
        None,
        description="written by the watcher from the transcript: the hook's post never arrived (no watcher listened)",
    )
    raw: Optional[Any] = Field(None, description="the whole redacted payload, only with ECC_HOOKS_RAW=1")
