"""The watcher daemon: keeps every live session's ``hud.json`` current. ``python -m ecc_hooks.watch``.

One instance per ``ECC_HOOKS_HOME`` (``watch.lock``, flock'd, holding the pid). It watches the journals and
status line sensor files under ``sessions/`` and the transcript folders of the sessions it knows, with
watchfiles (inotify underneath). On a change it folds only the new bytes: the journal through a ``Cursor``,
the transcripts through the session's incremental ``UsageTracker``. Then, per changed session:

1. ``hud.json`` is rebuilt from the folded state (``collect.inputs_from_parts`` + ``aggregate.build_payload``)
   and written atomically;
2. ``watch-state.json`` (journal cursor + folded ``SessionState`` + tracker state, one document, so offsets
   and the totals they describe can never disagree) is checkpointed atomically: when the session goes quiet,
   at most every ``CHECKPOINT_SECONDS`` while it is busy, and on exit. Its size grows with the session, so
   writing it per event made the cost of an event grow with the transcript.

A ``kill -9`` at any point loses nothing and counts nothing twice: what the state file does not cover is
read again on restart, and a hud.json older than its state file is rebuilt at startup.

Folders are watched one level deep (never a whole projects tree). When a new one must be watched (a session
that started, a transcript folder just learned) a new notifier is started before the old one is closed, and
a catch-up then folds what was written while no notifier covered it, repeated until no unwatched folder is
left: sessions starting together are all seen, whatever the interleaving. The SessionStart
hook starts the daemon detached when none runs; it exits by itself after ``--idle-exit`` seconds without
a change. The loop never fails on one bad line or file: problems go to the size-bounded ``watch.log``.

watchfiles' notify loop checks its change set every ``step`` ms (a sleep, not a scan of the files), so an
idle daemon wakes a few dozen times a second for microseconds each; benchmarks/bench_watch.py measures it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

import orjson

from ecc_hooks.core import fsio, paths, pidlock
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import dump_json
from ecc_hooks.core.timestamps import parse_iso
from ecc_hooks.hud import aggregate
from ecc_hooks.hud.state import SessionState
from ecc_hooks.models.hud import SnapshotOrigin

STEP_MS = 10  # notify step: an event is seen within two steps (~20 ms); idle, one wake-up per step (<1% of a core)
DEBOUNCE_MS = 200  # longest a burst of changes is grouped before it is processed
# watch-state.json is a checkpoint, not a log: what it does not cover is read again from the journal and the
# transcripts on restart, so it is written when a session goes quiet (CHECKPOINT_QUIET s without a change),
# at most every CHECKPOINT_SECONDS while changes keep coming, and on exit; never once per event (at 200 MB of
# transcript it is over a megabyte). hud.json is still rebuilt on every change.
CHECKPOINT_SECONDS = 10.0
RECONCILE_GRACE = 3.0  # seconds a transcript's tool result waits for its hook before the transcript is believed
CHECKPOINT_QUIET = 1.0
GIT_TTL = 15.0  # seconds a worktree's git facts are reused before git runs again
ACTIVE_SECONDS = 86400.0  # at startup, sessions whose journal changed this recently are loaded and watched
LOG_MAX = 1 << 20
SENSOR_CAP = 1 << 22
OWN_FILES = frozenset({"hud.json", "watch-state.json", "statusline.last", "handoff.json"})


def log(kind: str, detail: str) -> None:
    """One line in the bounded ``watch.log``; never raises."""
    try:
        line = (
            orjson.dumps(
                {
                    "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "kind": kind,
                    "detail": redact(detail)[:2000],
                }
            )
            + b"\n"
        )
        fsio.append_bounded(paths.watch_log_path(), line, LOG_MAX)
    except Exception:
        pass


# ---------------------------------------------------------------------------- one session


@dataclass
class SessionWatch:
    """What the daemon holds for one session; persisted whole in ``watch-state.json``."""

    session_id: str
    cursor: fsio.Cursor = field(default_factory=fsio.Cursor)
    guard: bytes = b""
    state: SessionState = field(default_factory=SessionState)
    tracker: Any = None  # UsageTracker, or None before the transcript is known
    harness_usage: Any = None  # another agent's last SessionUsage (``inputs.harness_usage``)
    harness_mark: Any = None  # its transcript's ``content_mark`` when last read
    sensor_raw: Optional[bytes] = None
    # transcript offsets (file key -> byte) this process started from: what lies after them is checked once
    # for tool calls the journal missed while no watcher listened (http transport)
    resumed_at: Optional[dict[str, int]] = None
    backfill_due: bool = True
    # transcript bytes already checked for calls that ended without their hooks (file key -> offset), and the
    # offsets reached since, with when (checked once RECONCILE_GRACE has passed: the hooks had their chance)
    reconciled: dict[str, int] = field(default_factory=dict)
    marks: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    unsaved: Optional[float] = None  # monotonic time of the first change not yet in watch-state.json
    saved_at: Optional[float] = None  # monotonic time watch-state.json was last written by this process

    def save(self) -> None:
        """Write ``watch-state.json`` (atomic: cursor, folded state and tracker state agree)."""
        fsio.atomic_write(paths.watch_state_path(self.session_id), self.dumps())
        self.unsaved = None
        self.saved_at = time.monotonic()

    # -- persistence -------------------------------------------------------------------------
    def dumps(self) -> bytes:
        """The state document (``inputs.Checkpoint``): cursor, folded state and tracker state together."""
        from ecc_hooks.hud import inputs as collect

        usage = self.tracker.to_state() if self.tracker is not None else None
        return collect.Checkpoint(self.cursor, self.guard, self.state, usage).dumps(self.session_id)

    @classmethod
    def load(cls, session_id: str) -> SessionWatch:
        """Resume from ``watch-state.json``; a missing or unreadable one starts from the journal's first byte."""
        from ecc_hooks.hud import inputs as collect

        try:
            checkpoint = collect.load_checkpoint(session_id)
            watch = cls(session_id, checkpoint.cursor, checkpoint.guard, checkpoint.state)
            if checkpoint.usage:
                from ecc_hooks.sources.usage import UsageTracker

                watch.tracker = UsageTracker.from_state(checkpoint.usage)
                watch.resumed_at = {key: scan.cursor.offset for key, scan in watch.tracker.files.items()}
            return watch
        except FileNotFoundError:
            return cls(session_id)
        except Exception as exc:
            log("state-unreadable", f"{session_id}: {type(exc).__name__}: {exc}")
            return cls(session_id)

    # -- reading -----------------------------------------------------------------------------
    def read_journal(self) -> bool:
        """Fold the journal's new complete lines; True when anything was consumed or the file was reset."""
        from ecc_hooks.hud import inputs as collect

        before = self.cursor
        self.state, self.cursor, self.guard, _, restarted = collect.fold_journal(
            self.session_id, self.state, self.cursor, self.guard
        )
        return restarted or self.cursor != before

    def read_sensor(self) -> tuple[bool, dict[str, Any]]:
        """The status line sensor (re-read whole: it is small) and whether it changed."""
        try:
            raw: Optional[bytes] = fsio.read_file(paths.statusline_sensor_path(self.session_id), SENSOR_CAP)
        except OSError:
            raw = None
        changed = raw != self.sensor_raw
        self.sensor_raw = raw
        try:
            sensor = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            sensor = {}
        return changed, sensor if isinstance(sensor, dict) else {}

    def transcript_path(self, sensor: dict[str, Any]) -> Optional[str]:
        """The main transcript: from the journal, else from the status line."""
        path = self.state.transcript_path or sensor.get("transcript_path")
        return os.path.abspath(path) if isinstance(path, str) and path else None

    def backfill(self) -> int:
        """Once per process and session: write the tool calls the transcripts finished since this process's
        starting point and the journal never heard of (posted while no watcher listened). How many."""
        from ecc_hooks.hud import aggregate as fold_rules
        from ecc_hooks.hud import backfill

        self.backfill_due = False
        state = self.state
        if self.resumed_at is None and state.tool_total > fold_rules.MAX_TOOL_IDS * 0.9:
            log("backfill-skipped", f"{self.session_id}: no checkpoint and too many calls to tell heard from missed")
            return 0
        written = 0
        for key, scan in list(self.tracker.files.items()):
            start = (self.resumed_at or {}).get(key, 0)
            agent = self.agent_of(key, scan.path)
            written += backfill.backfill(
                self.session_id,
                scan.path,
                start,
                scan.cursor.offset,
                state.tool_ids,
                cwd=state.cwd,
                transcript=self.tracker.transcript_path,
                agent_id=agent,
            )
        if written:
            log("backfilled", f"{self.session_id}: {written} tool call(s) recovered from the transcripts")
        return written

    def read_usage(self, sensor: dict[str, Any]) -> tuple[bool, Any]:
        """Fold the transcripts' new lines; (changed, SessionUsage or None). Another agent's session is read
        whole by its own reader each time its journal moves (its transcripts are small; no backfill: its hooks
        are its record, save the calls its transcript shows ended without one: ``end_harness_calls``)."""
        path = self.transcript_path(sensor)
        if self.state.harness:
            from ecc_hooks.hud.inputs import harness_usage

            usage = harness_usage(self.state.harness, self.session_id, path, os.environ)
            changed, self.harness_usage = usage != self.harness_usage, usage
            if self.end_harness_calls(path):
                changed = self.read_journal() or True  # what was recorded folded now: never read as open again
            return changed, usage
        if path is None or not os.path.isfile(path):
            return False, None
        from ecc_hooks.sources.usage import UsageTracker

        changed = False
        if self.tracker is None or self.tracker.transcript_path != path:
            self.tracker = UsageTracker(path)
            changed = True
        before = [tuple(s.cursor) for s in self.tracker.files.values()]
        first = not self.reconciled and not self.marks
        usage = self.tracker.update(statusline=sensor or None)
        now = time.monotonic()
        for key, scan in self.tracker.files.items():
            if key not in self.reconciled:  # what this process found already is history (backfill's, if anyone's)
                self.reconciled[key] = scan.cursor.offset if first else 0
            elif scan.cursor.offset > max([self.reconciled[key]] + [o for _, o in self.marks.get(key, [])]):
                self.marks.setdefault(key, []).append((now, scan.cursor.offset))
        return changed or before != [tuple(s.cursor) for s in self.tracker.files.values()], usage

    @staticmethod
    def agent_of(key: str, path: str) -> Optional[str]:
        """The subagent a transcript file belongs to (None: the main conversation's)."""
        name = os.path.basename(path)
        return name[len("agent-") : -len(".jsonl")] if key != "main" and name.startswith("agent-") else None

    def end_harness_calls(self, path: Optional[str]) -> int:
        """Record what another agent's transcript says about calls the journal still has open and no hook will
        end (Gemini CLI fires none for a call declined at its prompt): its module's ``reconcile`` payloads, each
        recorded once through the hook. How many."""
        if not self.state.pending:
            return 0
        from ecc_hooks import harness as agents

        name = agents.cli_name(self.state.harness or "")
        try:
            found = getattr(agents.module(name or ""), "reconcile", None)
            pending = {cid: call.name or "" for cid, call in self.state.pending.items()}
            payloads = found(self.session_id, path, pending) if found is not None else []
        except (OSError, ValueError, LookupError):
            return 0
        from ecc_hooks.capture import hook

        for payload in payloads:
            hook.handle(orjson.dumps(payload), None, time.time(), start=False, harness=name or "")
        if payloads:
            log("reconciled", f"{self.session_id}: {len(payloads)} event(s) read from {name}'s transcript")
        return len(payloads)

    def reconcile(self) -> int:
        """Write what the transcripts say about calls whose hooks never came (``backfill``): calls the client
        blocked before any hook ran, and calls that ended without a PostToolUse (rejected at the permission
        prompt, refused by ``claude -p``). Only bytes older than RECONCILE_GRACE are checked. How many."""
        if self.tracker is None or not self.marks:
            return 0
        from ecc_hooks.hud import backfill

        horizon = time.monotonic() - RECONCILE_GRACE
        written = 0
        for key, scan in list(self.tracker.files.items()):
            marks = self.marks.get(key) or []
            ready = [offset for at, offset in marks if at <= horizon]
            if not ready:
                continue
            end = ready[-1]
            self.marks[key] = [(at, offset) for at, offset in marks if offset > end]
            start, self.reconciled[key] = self.reconciled.get(key, 0), end
            agent = self.agent_of(key, scan.path)
            where = {"cwd": self.state.cwd, "transcript": self.tracker.transcript_path, "agent_id": agent}
            written += backfill.backfill(self.session_id, scan.path, start, end, self.state.tool_ids, **where)
            pending = {cid: call.name for cid, call in self.state.pending.items() if call.agent_id == agent}
            if pending:
                written += backfill.end_calls(self.session_id, scan.path, start, end, pending, **where)
        self.marks = {key: marks for key, marks in self.marks.items() if marks}
        if written:
            log("reconciled", f"{self.session_id}: {written} tool call(s) ended in the transcripts without hooks")
        return written


DATABASE_FILES = ("", "-wal", "-journal")  # a transcript, or a SQLite database with its write-ahead log and journal


def content_mark(path: str) -> tuple[Optional[tuple[int, int]], ...]:
    """(size, mtime) of a transcript and of its SQLite write-ahead log and journal (None where absent): what moves
    when the agent writes, and not when we read (a reader of a WAL database writes only its ``-shm`` index)."""
    marks: list[Optional[tuple[int, int]]] = []
    for name in (path + suffix for suffix in DATABASE_FILES):
        try:
            st = os.stat(name)
        except OSError:
            marks.append(None)
            continue
        marks.append((st.st_size, st.st_mtime_ns))
    return tuple(marks)


# ---------------------------------------------------------------------------- the daemon


class GitCache:
    """Git facts per worktree, reused for ``ttl`` seconds (git runs a few processes: not on every event).

    A snapshot built from reused facts may describe the worktree as it was before the change that
    triggered the build (a Bash call that wrote a file, then its PostToolUse). ``get`` says when the facts
    it returns were read, so the watcher can owe such a session a rebuild once they are read again.
    """

    def __init__(self, ttl: float = GIT_TTL) -> None:
        self.ttl = ttl
        self.entries: dict[Optional[str], tuple[float, Any]] = {}

    def get(self, cwd: Optional[str], fresh: bool = False) -> tuple[Any, float]:
        """(GitState, monotonic time it was read); ``fresh`` reads git now whatever the age of the entry."""
        from ecc_hooks.sources import git as gitstate

        now = time.monotonic()
        hit = self.entries.get(cwd)
        if fresh or hit is None or now - hit[0] > self.ttl:
            hit = (time.monotonic(), gitstate.read_git_state(cwd) if cwd else gitstate.GitState())
            self.entries[cwd] = hit
        return hit[1], hit[0]

    def read_at(self, cwd: Optional[str]) -> Optional[float]:
        """When the facts of ``cwd`` were read (None: never)."""
        hit = self.entries.get(cwd)
        return hit[0] if hit is not None else None

    def expired(self, cwd: Optional[str]) -> bool:
        """Whether the next ``get`` for ``cwd`` runs git (never read, or older than ``ttl``)."""
        at = self.read_at(cwd)
        return at is None or time.monotonic() - at > self.ttl


class GhCache:
    """What gh says per repository and branch, fetched on a thread of its own (gh talks to GitHub: never on the
    fold's path, never on the status line's), reused for ``ttl`` seconds (``[github] ttl_seconds`` in
    config.toml), and asked again later and later while gh fails (not installed, logged out, offline): twice
    the wait after each failure, at most an hour. A session whose facts arrived is owed a rebuild."""

    BACKOFF_MAX = 3600.0

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, Optional[str]], tuple[float, Any]] = {}
        self.retry_at: dict[tuple[str, Optional[str]], float] = {}
        self.failures: dict[tuple[str, Optional[str]], int] = {}
        self.inflight: set[tuple[str, Optional[str]]] = set()
        self.users: dict[tuple[str, Optional[str]], set[str]] = {}
        self.arrived: set[str] = set()  # sessions to rebuild with new facts

    def get(self, session_id: str, cwd: Optional[str], git: Any) -> Any:
        """The cached GitHubFacts for the session's repository and branch (None before the first answer); starts
        a fetch when they are due."""
        if not cwd or not git.repo:
            return None
        key = (git.repo, git.branch)
        now = time.monotonic()
        with self.lock:
            self.users.setdefault(key, set()).add(session_id)
            entry = self.entries.get(key)
            due = (entry is None or now - entry[0] > self.ttl) and now >= self.retry_at.get(key, 0.0)
            if due and key not in self.inflight:
                self.inflight.add(key)
                threading.Thread(target=self._fetch, args=(key, cwd, git), name="ecc-gh", daemon=True).start()
        return entry[1] if entry is not None else None

    def _fetch(self, key: tuple[str, Optional[str]], cwd: str, git: Any) -> None:
        from ecc_hooks.sources import github

        try:
            facts = github.github_facts(cwd, git)
        except Exception as exc:  # never kills the daemon; treated as gh failing
            log("gh-failed", f"{key[0]}: {type(exc).__name__}: {exc}")
            facts = None
        with self.lock:
            self.inflight.discard(key)
            now = time.monotonic()
            if facts is not None and facts.ready:
                self.failures[key] = 0
                self.retry_at[key] = 0.0
            else:
                failures = self.failures.get(key, 0) + 1
                self.failures[key] = failures
                self.retry_at[key] = now + min(self.ttl * 2 ** (failures - 1), self.BACKOFF_MAX)
            if facts is not None:
                self.entries[key] = (now, facts)
            self.arrived |= self.users.get(key, set())

    def take_arrived(self) -> set[str]:
        with self.lock:
            arrived, self.arrived = self.arrived, set()
        return arrived


class Watcher:
    """The daemon's state: known sessions, what to watch, and the process loop."""

    def __init__(self, idle_exit: float, step_ms: int = STEP_MS, debounce_ms: int = DEBOUNCE_MS) -> None:
        self.idle_exit = idle_exit
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.sessions: dict[str, SessionWatch] = {}
        self.git = GitCache()
        self.gh: Optional[GhCache] = None  # started by run() unless ECC_HOOKS_NO_GH=1
        # session -> (cwd, when its hud.json was built from git facts read before that build): a rebuild owed
        self.git_owed: dict[str, tuple[Optional[str], float]] = {}
        self.stop = threading.Event()
        self.sessions_dir = paths.sessions_dir()
        self.runtime_dir = os.path.join(paths.home(), "runtime")
        self.last_change = time.monotonic()
        self.failing: set[str] = set()  # sessions whose last write failed (logged once)
        self.receivers: list[Any] = []  # the local socket and the http transport's endpoint, once serving
        self.shielded = False  # switching the settings files or releasing the port: signals only set ``stop``
        self.backfilling = False  # the http transport is configured: check for events posted while we were down
        self.supervisor_pid: Optional[int] = None  # a runtime supervisor this watcher started again (its child)

    # -- per session ----------------------------------------------------------------------------
    def session(self, session_id: str) -> SessionWatch:
        """The session's ``SessionWatch``, resumed from its state file the first time it is asked for."""
        watch = self.sessions.get(session_id)
        if watch is None:
            watch = self.sessions[session_id] = SessionWatch.load(session_id)
        return watch

    def process(self, session_id: str, force: bool = False, changed_at: Optional[float] = None) -> bool:
        """Catch one session up; write its state and hud.json when anything changed. Never raises.

        ``changed_at``: when the change being described was seen (default now); git facts read before it
        leave the session owing a rebuild (``settle_git``)."""
        try:
            if not os.path.isfile(paths.journal_path(session_id)):
                return False
            watch = self.session(session_id)
            turn, waiting, error = watch.state.turn_state, watch.state.waiting_for, watch.state.turn_error
            changed = watch.read_journal()
            if changed:
                self.notify(watch, (turn, waiting, error))
            # A turn just ended (or waits on the user): what the tools did to the worktree is what the
            # user looks at now, so git is read again instead of reusing cached facts.
            turn_ended = watch.state.turn_state != turn and watch.state.turn_state != "running"
            sensor_changed, sensor = watch.read_sensor()
            usage_changed, usage = watch.read_usage(sensor)
            if self.backfilling and watch.tracker is not None and watch.backfill_due and watch.backfill():
                changed = watch.read_journal() or True
            if watch.reconcile():
                changed = watch.read_journal() or True
            if not (changed or sensor_changed or usage_changed or force):
                return False
            watch.state.session_id = watch.state.session_id or session_id
            if watch.unsaved is None:
                watch.unsaved = time.monotonic()
            if force or watch.saved_at is None:
                watch.save()  # a session's first state file, or a retry: written now
            self.write_hud(watch, sensor, usage, fresh_git=turn_ended, changed_at=changed_at)
            self.failing.discard(session_id)
            return True
        except Exception as exc:
            # A full or read-only disk fails every write: say so once per session until a write works again
            # (what was folded stays in memory and is written once the disk has room).
            if session_id not in self.failing:
                self.failing.add(session_id)
                log("session-failed", f"{session_id}: {type(exc).__name__}: {exc}")
            return False

    def notify(self, watch: SessionWatch, before: tuple[str, Optional[str], Optional[str]]) -> None:
        """Run the user's ``[notify]`` command when the session just started waiting for a person, finished a
        turn or ended one in an API error (``before``: its turn state, wait and turn error); a transition older
        than ``notify.RECENT`` (history folded to catch up) notifies nothing."""
        from ecc_hooks.hud import notify

        state = watch.state
        event = notify.transition(before, (state.turn_state, state.waiting_for, state.turn_error))
        if event is None:
            return
        moment = parse_iso(state.waiting_since if event == "waiting" else state.last_event_at)
        if not notify.recent(moment.timestamp() if moment else None, time.time()):
            return
        settings = notify.load()  # read at each transition (a few per turn): edits apply at once
        for problem in settings.problems:
            log("config", problem)
        reasons = {
            "waiting": state.waiting_for,
            "finished": state.last_message,
            "failed": f"the API call failed: {state.turn_error}",
        }
        notify.send(settings, event, notify.environment(event, watch.session_id, state.cwd, reasons[event]))

    def write_hud(
        self,
        watch: SessionWatch,
        sensor: dict[str, Any],
        usage: Any,
        fresh_git: bool = False,
        changed_at: Optional[float] = None,
    ) -> None:
        """Build the session's payload from its folded state and cached git facts; write hud.json atomically."""
        from ecc_hooks.hud import inputs as collect

        state = watch.state
        cwd = state.cwd or (sensor.get("cwd") if isinstance(sensor.get("cwd"), str) else None)
        built = time.monotonic() if changed_at is None else changed_at
        git, read_at = self.git.get(cwd, fresh=fresh_git)
        gh = self.gh.get(watch.session_id, cwd, git) if self.gh is not None else None
        inputs = collect.inputs_from_parts(
            watch.session_id,
            state,
            now=datetime.now(timezone.utc),
            sensor=sensor,
            usage=usage,
            git=git,
            gh=gh,
            origin=SnapshotOrigin(source="watcher"),
        )
        payload = aggregate.build_payload(state, inputs)
        fsio.atomic_write(paths.hud_path(watch.session_id), dump_json(payload.model_dump(mode="json", by_alias=True)))
        if read_at < built:
            self.git_owed[watch.session_id] = (cwd, built)  # cached facts may predate this change
        else:
            self.git_owed.pop(watch.session_id, None)

    def settle_git(self) -> None:
        """Rebuild the sessions whose snapshot used git facts older than their last change, once newer facts
        exist or the cached ones expired (git then runs again). Without this, a worktree change followed by
        no further event (the end of a print run) stayed wrong in hud.json until the daemon exited."""
        for session_id, (cwd, built) in list(self.git_owed.items()):
            at = self.git.read_at(cwd)
            if (at is not None and at >= built) or self.git.expired(cwd):
                self.git_owed.pop(session_id, None)
                self.process(session_id, force=True, changed_at=built)

    # -- discovery ------------------------------------------------------------------------------
    def startup_pass(self) -> None:
        """Load recent sessions and catch up every one whose files moved past its saved state."""
        from ecc_hooks.hud import inputs as collect

        now = time.time()
        for name, journal in collect.list_sessions():
            stamps = {}
            for key, path in (
                ("state", paths.watch_state_path(name)),
                ("hud", paths.hud_path(name)),
                ("sensor", paths.statusline_sensor_path(name)),
            ):
                try:
                    stamps[key] = os.stat(path).st_mtime_ns
                except OSError:
                    stamps[key] = None
            recent = now - journal / 1e9 < ACTIVE_SECONDS
            behind = stamps["state"] is None or journal > stamps["state"] or (stamps["sensor"] or 0) > stamps["state"]
            stale_hud = stamps["hud"] is None or (stamps["state"] is not None and stamps["hud"] < stamps["state"])
            if recent or behind or stale_hud:
                self.process(name, force=stale_hud)

    def transcript_dirs(self) -> set[str]:
        """The folders the live sessions' transcripts are read from: each transcript's own folder and its
        subagents folder, or, until that exists, the nearest of its parents below the transcript's folder
        (so its creation is seen). Never a whole projects tree: only what is read is watched."""
        dirs = set()
        for watch in self.sessions.values():
            if watch.state.harness and watch.state.turn_state != "ended":  # another agent's transcript (or db)
                other = watch.transcript_path({})
                if other is not None and os.path.isfile(other):
                    dirs.add(os.path.dirname(other))
            elif watch.tracker is not None and watch.state.turn_state != "ended":
                main = watch.tracker.transcript_path
                directory = os.path.dirname(main)
                if not os.path.isdir(directory):
                    continue
                dirs.add(directory)
                subagents = paths.subagent_transcripts_dir(main)
                for candidate in (subagents, os.path.dirname(subagents)):
                    if os.path.isdir(candidate) and not os.path.islink(candidate):
                        dirs.add(candidate)
                        break
        return dirs

    def session_dirs(self) -> set[str]:
        """Every session folder (their journals and status line files are what the watcher reads)."""
        try:
            return {
                entry.path
                for entry in os.scandir(self.sessions_dir)
                if entry.is_dir(follow_symlinks=False) and paths.sanitize_session_id(entry.name) == entry.name
            }
        except OSError:
            return set()

    def watch_paths(self) -> set[str]:
        """Exactly the folders watched (none recursively): ``sessions/``, each session folder, the live
        transcript folders, and the runtime's folder once it exists (its ``workers.json``)."""
        runtime = {self.runtime_dir} if os.path.isdir(self.runtime_dir) else set()
        return {self.sessions_dir, *self.session_dirs(), *self.transcript_dirs(), *runtime}

    def catch_up(self, since_ns: int) -> None:
        """Process every known session and every session whose journal changed since ``since_ns``: what was
        written while no notifier covered its folder (before it was watched, or between two notifiers) is
        folded now."""
        from ecc_hooks.hud import inputs as collect

        for name, mtime in collect.list_sessions():
            if mtime >= since_ns or name in self.sessions:
                self.process(name)

    def sessions_for(self, path: str) -> set[str]:
        """Which sessions a changed path concerns."""
        found = set()
        if path == os.path.join(self.runtime_dir, RUNTIME_FILE):  # the runtime's workers: every live HUD shows them
            return {sid for sid, watch in self.sessions.items() if watch.state.turn_state != "ended"}
        if path.startswith(self.sessions_dir + os.sep):
            rel = path[len(self.sessions_dir) + 1 :].split(os.sep)
            if len(rel) == 2 and rel[1] in ("events.jsonl", "statusline.json"):
                found.add(rel[0])
            return found
        for sid, watch in self.sessions.items():
            other = watch.transcript_path({}) if watch.state.harness else None
            if other is not None and path in [other + suffix for suffix in DATABASE_FILES]:
                # another agent's transcript, or its SQLite database and write-ahead log: only when its content
                # moved (reading a WAL database touches its files: a change event for our own read is no news)
                seen = content_mark(other)
                if seen != watch.harness_mark:
                    watch.harness_mark = seen
                    found.add(sid)
                continue
            tracker = watch.tracker
            if tracker is None:
                continue
            main = tracker.transcript_path
            if path == main or path.startswith(os.path.splitext(main)[0] + os.sep):
                found.add(sid)
        return found

    def orphaned(self) -> bool:
        """Our home was deleted (a scratch home, an uninstall): nothing left to watch, so exit."""
        return not os.path.isdir(self.sessions_dir)

    # -- checkpoints -----------------------------------------------------------------------------
    def flush(self, older_than: float = 0.0) -> None:
        """Write the state files not written since their last change (those changed ``older_than`` s ago)."""
        now = time.monotonic()
        for session_id, watch in list(self.sessions.items()):
            if watch.unsaved is not None and now - watch.unsaved >= older_than:
                try:
                    watch.save()
                except Exception as exc:
                    if session_id not in self.failing:
                        self.failing.add(session_id)
                        log("session-failed", f"{session_id}: {type(exc).__name__}: {exc}")

    # -- loop -------------------------------------------------------------------------------------
    def _notifier(self, old: Any, since_ns: int) -> tuple[Any, set[str]]:
        """A notifier over what must be watched now, then the old one closed and a catch-up of what only the
        files can tell (written before the new notifier began). Repeats while the catch-up reveals folders
        still unwatched (a session that started meanwhile, a transcript folder just learned), so a session
        folder is never left unwatched whatever the interleaving."""
        from watchfiles._rust_notify import RustNotify  # watchfiles' documented Rust backend

        while True:
            watched = self.watch_paths()
            try:
                new = RustNotify(sorted(watched), False, False, 300, False, True)
            except FileNotFoundError:  # a folder vanished between listing and watching: list again
                time.sleep(0.01)
                continue
            if old is not None:
                old.close()
            old = new
            self.catch_up(since_ns)
            since_ns = time.time_ns() - 2_000_000_000  # mtimes are coarse: look a little further back
            if self.stop.is_set() or not (self.watch_paths() - watched):
                return new, watched

    def run(self) -> int:
        """Watch until stopped or idle for ``idle_exit`` seconds; returns the exit code."""
        try:
            paths.ensure_dir(self.sessions_dir)
        except OSError as exc:
            log("home-unusable", f"{self.sessions_dir}: {exc}")
            return 1
        since_ns = time.time_ns() - 2_000_000_000
        from ecc_hooks.hud import receiver

        notifier = None
        try:
            self.receivers = receiver.start()  # first: the hooks of running sessions post here
            if self.serves_endpoint():
                from ecc_hooks.core import endpoint

                self.shielded = True  # a signal meanwhile only sets stop: no switch may outlive the park
                endpoint.unpark()  # the port is ours again: what the last watcher parked goes back to HTTP hooks
                self.shielded = False
            if os.environ.get("ECC_HOOKS_NO_GH") != "1":
                from ecc_hooks.hud import notify

                self.gh = GhCache(notify.load().github_ttl)
            self.backfilling = os.path.exists(paths.endpoint_path())  # http: an outage may have lost events
            self.startup_pass()
            # Quiet ticks: unsaved state is checkpointed, owed git rebuilds and failed writes retried, idleness noticed.
            timeout_ms = int(max(0.2, min(self.idle_exit, CHECKPOINT_QUIET)) * 1000)
            while not self.stop.is_set():
                notifier, watched = self._notifier(notifier, since_ns)
                while not self.stop.is_set():
                    try:
                        raw = notifier.watch(self.debounce_ms, self.step_ms, timeout_ms, self.stop)
                    except Exception as exc:  # the notify thread failed (a watched folder went away)
                        log("notify-failed", f"{type(exc).__name__}: {exc}")
                        if self.orphaned():
                            return 0
                        time.sleep(0.5)
                        break
                    since_ns = time.time_ns() - 2_000_000_000  # what a replaced notifier had not yet said
                    if raw in ("stop", "signal"):
                        return 0
                    if raw == "timeout" or not isinstance(raw, set):
                        if time.monotonic() - self.last_change >= self.idle_exit or self.orphaned():
                            return 0
                        self.flush()
                        self.settle_git()
                        for sid in sorted(self.failing):  # a disk that had no room may have some now
                            self.process(sid, force=True)
                        for sid in sorted(sid for sid, watch in self.sessions.items() if watch.marks):
                            self.process(sid)  # transcript bytes whose hooks' grace has passed: reconcile them
                        for sid in sorted(self.gh.take_arrived() if self.gh is not None else ()):
                            self.process(sid, force=True)  # gh answered: CI and the pull request into hud.json
                        self.keep_supervisor()
                        if self.watch_paths() - watched or any(not os.path.isdir(p) for p in watched):
                            break  # a folder appeared or vanished unseen: watch anew
                        continue
                    changes = [(change, path) for change, path in raw if _wanted(path)]
                    if not changes:
                        continue
                    self.last_change = time.monotonic()
                    dirty: set[str] = set()
                    runtime = os.path.join(self.runtime_dir, RUNTIME_FILE)
                    for _, path in changes:
                        dirty |= self.sessions_for(path)
                    forced = any(path == runtime for _, path in changes)  # no journal change: rebuild anyway
                    for sid in sorted(dirty):
                        self.process(sid, force=forced)
                    self.settle_git()
                    self.flush(older_than=CHECKPOINT_SECONDS)
                    if self.watch_paths() - watched:
                        break  # a new session or transcript folder: watch it (the catch-up folds the gap)
        finally:
            self.shielded = True  # a second signal no longer interrupts: the port must not go before the park
            if notifier is not None:
                notifier.close()
            self.release()
            self.flush()
        return 0

    def keep_supervisor(self) -> None:
        """Start the runtime's supervisor again when it was killed while its sessions lived (its record left behind,
        no holder of its lock) and no hook of a runtime worker fired to do it: a script worker has none, a Claude
        Code worker waiting for its person fires none. At most once per ``SUPERVISOR_RESTART_EVERY`` seconds,
        whoever tries. Through ``core.proc`` with the supervisor's own command: the watcher imports no runtime."""
        from ecc_hooks.core import proc, spawn

        if self.supervisor_pid is not None:  # ours: reaped when it ends (it is our child)
            try:
                if os.waitpid(self.supervisor_pid, os.WNOHANG)[0]:
                    self.supervisor_pid = None
            except ChildProcessError:
                self.supervisor_pid = None
        try:
            if not spawn.supervisor_wanted() or not spawn.claim_supervisor_restart():
                return
            fsio.ensure_state_dir(os.path.dirname(paths.supervisor_log_path()))
            self.supervisor_pid = proc.detach(
                spawn.supervisor_argv(),
                cwd="/",
                env=spawn.daemon_env(dict(os.environ)),
                log=paths.supervisor_log_path(),
            )
            log("supervisor-restarted", f"pid {self.supervisor_pid}")
        except OSError as exc:
            log("supervisor-restart", f"{type(exc).__name__}: {exc}")

    def serves_endpoint(self) -> bool:
        """This watcher holds the http transport's port."""
        from ecc_hooks.hud import receiver

        return any(isinstance(server, receiver.HttpReceiver) for server in self.receivers)

    def live_sessions(self) -> list[str]:
        """Sessions whose journal changed within the hour: their clients are the ones that must reload."""
        now = time.time()
        live = []
        for sid in self.sessions:
            try:
                if now - os.stat(paths.journal_path(sid)).st_mtime < 3600:
                    live.append(sid)
            except OSError:
                pass
        return live

    def release(self) -> None:
        """Stop serving. Holding the endpoint's port, first park: the settings files go to command hooks and the
        port is kept until the clients reloaded them, so no call is posted to a port nobody of ours holds (a
        watcher killed outright cannot: the next per-turn hook or watcher finds the port and falls back)."""
        from ecc_hooks.core import endpoint

        held = self.serves_endpoint()
        if held:
            try:
                endpoint.park(self.live_sessions())
            except Exception as exc:  # the port is closed all the same: the watcher is stopping
                log("park-failed", f"{type(exc).__name__}: {exc}")
        for server in self.receivers:
            server.stop()
        if held:
            try:
                endpoint.released()
            except OSError as exc:
                log("park-failed", f"{type(exc).__name__}: {exc}")


RUNTIME_FILE = "workers.json"  # written by the runtime's supervisor (runtime.snapshot.export)


def _wanted(path: str) -> bool:
    """Changes worth waking for: not our own output files, temporaries or hidden files."""
    name = os.path.basename(path)
    return not (name in OWN_FILES or name.endswith(".tmp") or name.startswith("."))


# ---------------------------------------------------------------------------- single instance


lock_holder = pidlock.holder  # the watcher's own question, as its commands ask it


def run_foreground(idle_exit: float, step_ms: int = STEP_MS, debounce_ms: int = DEBOUNCE_MS) -> int:
    """Own the lock and watch until stopped (SIGTERM/SIGINT) or idle."""
    home = paths.home()
    os.environ["ECC_HOOKS_HOME"] = home  # absolute, before leaving the caller's folder
    try:
        fd, holder = pidlock.acquire()
    except OSError as exc:  # a read-only or full home, or a lock file planted by someone else
        raise UserError(
            f"cannot take the watcher lock in {home} ({exc.strerror or exc}); "
            "check that the folder is yours, writable and has room"
        ) from None
    if fd is None:
        raise UserError(f"a watcher already runs for {home} (pid {holder}); stop it with: ecc-hooks watch --stop")
    watcher = Watcher(idle_exit, step_ms, debounce_ms)
    # The endpoint thread answers Claude Code, which waits: let it take the GIL from a fold within 0.5 ms
    # (the default hands it over every 5 ms).
    sys.setswitchinterval(0.0005)

    def on_signal(signum: int, frame: Any) -> None:
        watcher.stop.set()
        if not watcher.shielded:
            raise KeyboardInterrupt  # interrupts watchfiles' wait; the loop sees stop and returns

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        os.chdir("/")
    except OSError:
        pass
    try:
        return watcher.run()
    except KeyboardInterrupt:
        return 0
    finally:
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)


def stop_running(timeout: float = 10.0, path: Optional[str] = None) -> Optional[int]:
    """SIGTERM the running watcher (or the daemon holding ``path``: the runtime's supervisor) and wait for it to
    release the lock; its pid, or None when none ran."""
    pid = pidlock.holder(path)
    if pid is None:
        return None
    if pid > 0:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pidlock.holder(path) is None:
            return pid
        time.sleep(0.05)
    if pid > 0:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pid
