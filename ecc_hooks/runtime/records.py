"""The runtime's public surface as data: one request and one reply per verb, with no I/O.

Every client of the runtime (the CLI, the coming full-screen HUD, scripts) speaks to it in these records, through
``runtime.client``; the engine (``runtime.engine``) answers each request with a ``Reply``. A reply is one of three:

- **ok**, with the verb's data (``Reply.data``: one of the ``*Data`` records below);
- **refused**, with a ``Refusal``: its ``kind`` (what a client branches on: ``not-found``, ``lost-work``,
  ``live-workers``, ``untrusted-hooks``, ``busy``, ``error``, ``unsafe``, ``internal``), the message a person
  reads, and where one exists the ``follow_up`` request that would go on (a refused cleanup's follow-up is the
  same cleanup with ``force``), so a client keeps no state between the two;
- carrying **jobs**: work the supervisor finishes later (a queued cleanup), by id.

``notes`` go with either outcome (hooks that were not run, and why). Records are plain dataclasses of JSON
values, so ``runtime.protocol`` can encode and check them generically; nothing here opens a file or a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional, Union, get_args

from ecc_hooks.core.errors import UserError

# ---------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Create:
    """Create a session (all or nothing) and hand it to the supervisor. ``plan_file``: an absolute path to a plan
    in ECC's format; else ``quick``: a plan built from the quick form's options (``models.plan``'s shape)."""

    verb: ClassVar[str] = "create"
    plan_file: Optional[str] = None
    quick: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class Preview:
    """What ``Create`` would make, without making it: the plan's preview and the repository's hooks."""

    verb: ClassVar[str] = "preview"
    plan_file: Optional[str] = None
    quick: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class TrustHooks:
    """Trust the repository's hooks whose content is one the person consented to (``digests``): a hook that
    changed since they looked at it stays untrusted."""

    verb: ClassVar[str] = "trust_hooks"
    repo_root: str
    digests: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Stop:
    """Stop a session's workers (or one): interrupt, SIGTERM, SIGKILL, the scrollback kept (``Cleanup`` next
    removes their worktrees)."""

    verb: ClassVar[str] = "stop"
    session: str
    worker: Optional[str] = None
    grace: float = 10.0


@dataclass(frozen=True)
class Resume:
    """Relaunch stopped, failed or stale workers (a named one in any finished state) with their resume command."""

    verb: ClassVar[str] = "resume"
    session: str
    worker: Optional[str] = None
    prompt: Optional[str] = None  # what the resumed agent is told (a headless Claude Code run needs one)


@dataclass(frozen=True)
class Retry:
    """Launch failed, stopped or stale workers again with their original command."""

    verb: ClassVar[str] = "retry"
    session: str
    worker: Optional[str] = None


@dataclass(frozen=True)
class Rm:
    """Forget a finished session: its workers' worktrees and branches (never losing work unless ``force``), its
    tmux session, state and records; the coordination folder stays."""

    verb: ClassVar[str] = "rm"
    session: str
    force: bool = False
    trust_hooks: bool = False


@dataclass(frozen=True)
class Hooks:
    """The repository's hooks and whether each is trusted. Read only."""

    verb: ClassVar[str] = "hooks"
    repo_root: str


@dataclass(frozen=True)
class Cleanup:
    """Queue the removal of finished workers' worktrees and branches (never losing work unless ``force``)."""

    verb: ClassVar[str] = "cleanup"
    session: str
    worker: Optional[str] = None
    force: bool = False
    trust_hooks: bool = False


@dataclass(frozen=True)
class Status:
    """One session: its ``ecc.session.v1`` snapshot and its workers' rows."""

    verb: ClassVar[str] = "status"
    session: str


@dataclass(frozen=True)
class ListSessions:
    """Every session with its workers' states."""

    verb: ClassVar[str] = "list"


@dataclass(frozen=True)
class Diff:
    """Each worker's work against the base (one worker: with its patch preview unless ``stat``)."""

    verb: ClassVar[str] = "diff"
    session: str
    worker: Optional[str] = None
    patch: bool = False


@dataclass(frozen=True)
class MergeQueue:
    """The merge queue (ECC 2.0's rules), read only."""

    verb: ClassVar[str] = "merge_queue"
    session: str


@dataclass(frozen=True)
class Apply:
    """Merge the queue's ready entries into the base, one at a time; with ``cleanup``, then queue each merged
    worker's removal."""

    verb: ClassVar[str] = "apply"
    session: str
    strategy: str = "merge"
    cleanup: bool = False
    trust_hooks: bool = False


@dataclass(frozen=True)
class Conflicts:
    """Base and pairwise conflicts, and dirty worktrees, read only."""

    verb: ClassVar[str] = "conflicts"
    session: str


@dataclass(frozen=True)
class Resolve:
    """Start ``agent`` in a worker's worktree on its conflicts."""

    verb: ClassVar[str] = "resolve"
    session: str
    worker: str
    agent: str = "claude"


@dataclass(frozen=True)
class PullRequest:
    """Push a worker's branch and open a pull request with its handoff as the body."""

    verb: ClassVar[str] = "pr"
    session: str
    worker: str
    draft: bool = False


@dataclass(frozen=True)
class Attach:
    """Where to attach: the tmux command (or ``claude attach``) for a session or one worker. Read only."""

    verb: ClassVar[str] = "attach"
    session: str
    worker: Optional[str] = None


@dataclass(frozen=True)
class Send:
    """Type ``text`` into a tmux worker's pane and press Enter once it shows (``screen``: the fingerprint the
    person saw; refused when the screen changed since)."""

    verb: ClassVar[str] = "send"
    session: str
    worker: str
    text: str
    screen: Optional[str] = None


@dataclass(frozen=True)
class Approve:
    """Approve (once) the permission prompt a tmux worker waits at, only while its screen shows it."""

    verb: ClassVar[str] = "approve"
    session: str
    worker: str
    screen: Optional[str] = None


@dataclass(frozen=True)
class Deny:
    """Deny the permission prompt a tmux worker waits at, only while its screen shows it."""

    verb: ClassVar[str] = "deny"
    session: str
    worker: str
    screen: Optional[str] = None


@dataclass(frozen=True)
class Screen:
    """A tmux worker's screen now, the permission prompt it shows (if any) and its fingerprint (what ``send``,
    ``approve`` and ``deny`` compare). Read only."""

    verb: ClassVar[str] = "screen"
    session: str
    worker: str


@dataclass(frozen=True)
class PaneScreen:
    """A plain Claude Code session's screen (any session in tmux whose SessionStart our hooks recorded, not only a
    runtime worker's), the permission prompt it shows (if any) and its fingerprint. ``claude_session``: Claude
    Code's session id. Read only."""

    verb: ClassVar[str] = "pane_screen"
    claude_session: str


@dataclass(frozen=True)
class PaneSend:
    """``Send`` for a plain Claude Code session's tmux pane (refused while it shows a prompt or a dialog)."""

    verb: ClassVar[str] = "pane_send"
    claude_session: str
    text: str
    screen: Optional[str] = None


@dataclass(frozen=True)
class PaneApprove:
    """Approve (once) the permission prompt a plain Claude Code session's pane shows, only while it shows it
    (and, with ``screen``, while it is the one the person saw)."""

    verb: ClassVar[str] = "pane_approve"
    claude_session: str
    screen: Optional[str] = None


@dataclass(frozen=True)
class PaneDeny:
    """Deny the permission prompt a plain Claude Code session's pane shows, only while it shows it."""

    verb: ClassVar[str] = "pane_deny"
    claude_session: str
    screen: Optional[str] = None


@dataclass(frozen=True)
class Logs:
    """What the session's workers (or one) printed so far. Read only (following a log is ``client.follow_logs``)."""

    verb: ClassVar[str] = "logs"
    session: str
    worker: Optional[str] = None


Request = Union[Create, Preview, TrustHooks, Hooks, Stop, Resume, Retry, Rm, Cleanup, Status, ListSessions, Diff, MergeQueue, Apply,
                Conflicts, Resolve, PullRequest, Attach, Send, Approve, Deny, Screen, PaneScreen, PaneSend, PaneApprove,
                PaneDeny, Logs]  # fmt: skip
REQUESTS: dict[str, type[Any]] = {r.verb: r for r in get_args(Request)}
# What changes state goes to the supervisor (the engine in its helper); the rest is read where the client runs.
MUTATIONS = frozenset({"create", "stop", "resume", "retry", "rm", "cleanup", "apply", "resolve", "pr", "send", "approve",
                       "deny", "pane_send", "pane_approve", "pane_deny"})  # fmt: skip


# ---------------------------------------------------------------------------- reply data


@dataclass(frozen=True)
class Outcome:
    """What happened to one worker."""

    worker: str
    what: str


@dataclass(frozen=True)
class CreatedWorker:
    slug: str
    branch: str
    worktree: str


@dataclass(frozen=True)
class CreateData:
    session: str
    tmux_socket: str
    coordination_dir: str
    workers: list[CreatedWorker] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. the base checkout's uncommitted files


@dataclass(frozen=True)
class HookInfo:
    """One hook of the repository: what runs as the user, and whether its content is trusted."""

    name: str
    path: str
    digest: str
    trusted: bool


@dataclass(frozen=True)
class PreviewData:
    preview: dict[str, Any]
    repo_root: str
    hooks: list[HookInfo] = field(default_factory=list)


@dataclass(frozen=True)
class TrustData:
    trusted: list[str] = field(default_factory=list)  # the hooks' paths now trusted


@dataclass(frozen=True)
class StopData:
    stopped: list[Outcome] = field(default_factory=list)


@dataclass(frozen=True)
class Scrollback:
    """A worker's last saved lines, shown before it is relaunched."""

    worker: str
    lines: int
    text: str


@dataclass(frozen=True)
class ResumeData:
    resumed: list[str] = field(default_factory=list)
    scrollback: list[Scrollback] = field(default_factory=list)


@dataclass(frozen=True)
class RetryData:
    retried: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RmData:
    removed: list[str] = field(default_factory=list)  # what was done to each worker left
    coordination_dir: str = ""  # what stays


@dataclass(frozen=True)
class HooksData:
    hooks: list[HookInfo] = field(default_factory=list)


@dataclass(frozen=True)
class CleanupData:
    queued: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WorkerRow:
    slug: str
    state: str
    branch: str
    reason: Optional[str] = None
    figures: dict[str, Any] = field(default_factory=dict)  # cost, context, tool calls, elapsed (runtime.figures)


@dataclass(frozen=True)
class StatusData:
    session: str
    repo_root: str
    tmux_socket: str
    snapshot: dict[str, Any]  # ecc.session.v1
    workers: list[WorkerRow] = field(default_factory=list)


@dataclass(frozen=True)
class ListData:
    sessions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DiffData:
    diffs: list[dict[str, Any]] = field(default_factory=list)  # merge.WorkerDiff as JSON, one per worker
    worktrees: dict[str, str] = field(default_factory=dict)  # worker -> its worktree (where the whole diff is)
    preview_lines: int = 0


@dataclass(frozen=True)
class QueueData:
    entries: list[dict[str, Any]] = field(default_factory=list)  # merge.Entry.as_json()
    merged: list[Outcome] = field(default_factory=list)
    cleanup: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConflictsData:
    conflicts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ResolveData:
    worker: str
    agent: str
    prompt: str


@dataclass(frozen=True)
class PullRequestData:
    url: str


@dataclass(frozen=True)
class AttachData:
    """``argv`` to exec at the person's terminal (tmux attach, or ``claude attach``); ``needs_terminal``: tmux
    attach needs one (without it, the client says what to run)."""

    argv: list[str]
    needs_terminal: bool = True


@dataclass(frozen=True)
class InputData:
    """What ``send``, ``approve`` or ``deny`` did in the worker's pane (``worker``: the Claude Code session's id
    for the ``pane_*`` verbs)."""

    worker: str
    what: str


@dataclass(frozen=True)
class ScreenData:
    """A pane's screen: ``worker`` is the worker's slug, or the Claude Code session's id (``pane_screen``)."""

    worker: str
    screen: str
    fingerprint: str
    prompt: Optional[str] = None  # the permission question it shows


@dataclass(frozen=True)
class WorkerLog:
    """One worker's output: where it is kept, and the text (None: nothing kept there)."""

    worker: str
    runtime: str
    where: str
    text: Optional[str] = None


@dataclass(frozen=True)
class LogsData:
    logs: list[WorkerLog] = field(default_factory=list)


Data = Union[CreateData, PreviewData, TrustData, HooksData, StopData, ResumeData, RetryData, RmData, CleanupData, StatusData, ListData, DiffData,
             QueueData, ConflictsData, ResolveData, PullRequestData, AttachData, InputData, ScreenData, LogsData]  # fmt: skip
DATA: dict[str, type[Any]] = {
    "create": CreateData,
    "preview": PreviewData,
    "trust_hooks": TrustData,
    "hooks": HooksData,
    "stop": StopData,
    "resume": ResumeData,
    "retry": RetryData,
    "rm": RmData,
    "cleanup": CleanupData,
    "status": StatusData,
    "list": ListData,
    "diff": DiffData,
    "merge_queue": QueueData,
    "apply": QueueData,
    "conflicts": ConflictsData,
    "resolve": ResolveData,
    "pr": PullRequestData,
    "attach": AttachData,
    "send": InputData,
    "approve": InputData,
    "deny": InputData,
    "screen": ScreenData,
    "pane_screen": ScreenData,
    "pane_send": InputData,
    "pane_approve": InputData,
    "pane_deny": InputData,
    "logs": LogsData,
}


# ---------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Refusal:
    """Why a request did nothing (or stopped part way: the message says what was done before)."""

    kind: str
    message: str
    follow_up: Optional[dict[str, Any]] = None  # an encoded request (``protocol.request_json``) that would go on


@dataclass(frozen=True)
class Reply:
    """The engine's answer to one request: ``data`` when ok, ``refused`` when not; ``jobs`` the supervisor
    finishes later; ``notes`` in both cases."""

    verb: str
    data: Optional[Any] = None  # the verb's ``DATA`` record
    refused: Optional[Refusal] = None
    jobs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.refused is None


class Refused(UserError):
    """A refusal raised by an operation, or by a client to its caller: a ``UserError`` (exit 1 with the message)
    that also carries the refusal's kind and follow-up request."""

    def __init__(self, kind: str, message: str, follow_up: Optional[Any] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.follow_up = follow_up  # a request record, or its encoded form
