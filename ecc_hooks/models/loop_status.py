"""``ecc.loop-status.v1`` (and the ``--write-dir`` index and per-session documents): stuck long-running loops.

What ``python -m ecc_hooks.loop_status --json`` prints: per recently active transcript, whether a loop
needs attention (a Bash call with no result for too long, a ScheduleWakeup that never woke, unreadable
lines) and what to do about it. Sections allow extra fields; signal objects carry their own details.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, Optional

from pydantic import Field, PlainSerializer, WithJsonSchema

from ecc_hooks.core.jsvalues import json_number
from ecc_hooks.models import OpenModel

JsNumber = Annotated[float, PlainSerializer(json_number, when_used="json"), WithJsonSchema({"type": "number"})]

SCHEMA_VERSION: Final = "ecc.loop-status.v1"
INDEX_SCHEMA_VERSION: Final = "ecc.loop-status.index.v1"
SESSION_SCHEMA_VERSION: Final = "ecc.loop-status.session.v1"


class PendingTool(OpenModel):
    """A tool call with no result (yet)."""

    toolUseId: str
    name: Optional[str] = None
    command: Optional[str] = None
    startedAt: Optional[str] = None
    ageSeconds: Optional[int] = None  # whole seconds, as ECC floors them


class LatestWake(OpenModel):
    """The latest ScheduleWakeup that set a wake-up (its delay clamped to [60, 3600] as the runtime does)."""

    toolUseId: str
    delaySeconds: JsNumber
    scheduledAt: str
    dueAt: str
    reason: Optional[str] = None


class Signal(OpenModel):
    """One finding: ``pending_bash_tool_result``, ``schedule_wakeup_overdue``, ``transcript_parse_errors``."""

    type: Literal["pending_bash_tool_result", "schedule_wakeup_overdue", "transcript_parse_errors"]
    message: str


class LoopSession(OpenModel):
    """One transcript's verdict."""

    sessionId: str
    transcriptPath: str
    state: Literal["ok", "attention"]
    lastEventAt: Optional[str] = None
    eventCount: int = 0  # lines that are JSON (objects or not)
    parseErrors: int = 0  # lines that are not
    projectSlug: Optional[str] = None  # the transcript's folder name
    latestWake: Optional[LatestWake] = None
    pendingTools: list[PendingTool] = Field(default_factory=list)
    signals: list[Signal] = Field(default_factory=list)
    recommendedAction: Optional[str] = None  # ECC's one sentence for the session
    actions: list[str] = Field(default_factory=list)  # ours: one concrete step a signal


class ScanError(OpenModel):
    """A transcript that could not be scanned (missing, unreadable)."""

    transcriptPath: str
    error: str
    code: Optional[str] = None  # the errno name (ENOENT, EACCES), as ECC's
    message: Optional[str] = None  # node's wording, as ECC's


class LoopSource(OpenModel):
    """What was scanned, with which settings (ECC's ``source``)."""

    bashTimeoutSeconds: JsNumber
    homeDir: str
    limit: int
    transcriptCount: int
    transcriptRoot: str
    wakeGraceMultiplier: JsNumber


class LoopStatus(OpenModel):
    """What ``--json`` prints."""

    schemaVersion: Literal["ecc.loop-status.v1"] = SCHEMA_VERSION
    generatedAt: str
    sessions: list[LoopSession] = Field(default_factory=list)
    errors: list[ScanError] = Field(default_factory=list)
    source: Optional[LoopSource] = None


class IndexEntry(OpenModel):
    """One session in ``index.json``: its verdict and the file holding its details (relative to the index)."""

    sessionId: str
    state: Literal["ok", "attention"]
    file: str
    transcriptPath: str
    lastEventAt: Optional[str] = None
    signals: list[str] = Field(default_factory=list)
    signalTypes: list[str] = Field(default_factory=list)  # ECC's name for ``signals``
    snapshotPath: Optional[str] = None  # ECC's: the session file, absolute


class LoopStatusIndex(OpenModel):
    """``--write-dir``'s ``index.json``."""

    schemaVersion: Literal["ecc.loop-status.index.v1"] = INDEX_SCHEMA_VERSION
    generatedAt: str
    sessions: list[IndexEntry] = Field(default_factory=list)
    sessionCount: int = 0
    errors: list[ScanError] = Field(default_factory=list)
    source: Optional[LoopSource] = None


class LoopStatusSession(OpenModel):
    """``--write-dir``'s per-session file."""

    schemaVersion: Literal["ecc.loop-status.session.v1"] = SESSION_SCHEMA_VERSION
    generatedAt: str
    session: LoopSession
