"""What the full-screen HUD shows, with no Textual: one ``Row`` per live Claude Code session and runtime worker,
read from the files the daemons keep current.

- **Sessions**: ``$ECC_HOOKS_HOME/sessions/<id>/hud.json``, the watcher's ``ecc.hud-status.v1`` snapshot (written
  atomically on every change). A file that does not parse (never torn: the writer renames, but a foreign or
  future file may not validate) keeps the row it had.
- **Workers**: ``$ECC_HOOKS_HOME/runtime/workers.json``, the runtime's export (every session's workers, and the
  merge and conflict queues the supervisor computes). A worker that is a Claude Code session (its
  ``agentSession``) takes that session's figures, and the session is not listed again on its own.

Rows are grouped as a person triages them: **needs you** (a permission prompt, a question, a dialog: with what
and since when), **working**, **idle**, **finished**, **failed**; merged and stale ones are dimmed. Within a group
the longest wait comes first, then the most recent activity.

``Store.reload`` reads only files whose stat changed since the last read, so a watcher event costs one small
read; the app calls it from a worker thread on each batch of file events (``watch_paths``), never on a timer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Optional

from ecc_hooks.core import paths
from ecc_hooks.core.text import clean, duration
from ecc_hooks.harness import command_of
from ecc_hooks.hud import notify

GROUPS = ("needs you", "working", "idle", "finished", "failed")
NEEDS, WORKING, IDLE, FINISHED, FAILED = range(5)
RECENT_SECONDS = 86400  # sessions whose journal changed within a day (as ``status``)
RECENT_MAX = 60
SNAPSHOT_CAP = 4 << 20
WORKERS_CAP = 16 << 20
_WORKER_GROUP = {
    "waiting": NEEDS,
    "running": WORKING,
    "starting": WORKING,
    "pending": IDLE,
    "idle": IDLE,
    "completed": FINISHED,
    "merged": FINISHED,
    "stopped": FINISHED,
    "failed": FAILED,
    "stale": IDLE,  # no heartbeat for 5 minutes: not known to have failed (dimmed; ``t`` retries it)
}
_SESSION_GROUP = {"waiting": NEEDS, "running": WORKING, "idle": IDLE, "ended": FINISHED, "failed": FAILED}


@dataclass(frozen=True)
class Row:
    """One line of the main view and what its preview needs."""

    key: str  # "s:<claude session id>" or "w:<runtime session>/<worker>"
    name: str
    agent: str
    objective: str
    state: str  # the runtime's worker state, or the session's turn state (waiting, running, idle, ended, unknown)
    group: int
    since: Optional[str] = None  # ISO 8601: since when in this state (the wait's start, else the last activity)
    waiting_for: Optional[str] = None
    reason: Optional[str] = None  # a failure's reason, or the first risk reason
    context_pct: Optional[int] = None
    cost: Optional[float] = None
    tools: int = 0
    failures: int = 0
    checks: str = ""
    where: str = ""
    dimmed: bool = False
    session_id: Optional[str] = None  # the Claude Code session (for events, screen, handoff)
    runtime: Optional[tuple[str, str]] = None  # (runtime session, worker slug)
    handoff_path: Optional[str] = None
    down: Optional[str] = None  # "watcher down" / "supervisor down": what it shows may be old
    payload: Optional[Snap] = field(default=None, compare=False, repr=False)  # its hud.json


@dataclass
class Daemons:
    watcher: Optional[int] = None  # pids, None when not running
    supervisor: Optional[int] = None


def _iso(stamp: Optional[str]) -> Optional[datetime]:
    from ecc_hooks.core.timestamps import parse_iso

    return parse_iso(stamp) if stamp else None


def age(stamp: Optional[str], now: datetime) -> str:
    """How long since ``stamp``, to the second under a minute and to the minute above (``45s``, ``12m``,
    ``3h07m``, ``2d04h``): the table repaints once a second only while a row is that young. Empty when unknown."""
    moment = _iso(stamp)
    if moment is None:
        return ""
    seconds = max((now - moment).total_seconds(), 0.0)
    return f"{int(seconds) // 60}m" if 60 <= seconds < 3600 else duration(seconds)


def context_bar(pct: Optional[int], width: int = 8, ascii: bool = False) -> str:
    """``███░░░░░ 37%`` (``###.....`` in ASCII); ``--`` when unknown."""
    if pct is None:
        return "ctx --"
    filled = min(max(round(pct * width / 100), 0), width)
    full, empty = ("#", ".") if ascii else ("\u2588", "\u2591")
    return f"{full * filled}{empty * (width - filled)} {pct:>3}%"


class Snap:
    """A session's ``hud.json`` as read: typed lookups by path over the parsed JSON, each None (or empty) where
    the file has nothing of that type. Cheaper than validating the whole ``ecc.hud-status.v1`` model on every
    rewrite (a busy watcher rewrites twenty of them several times a second), and a foreign or future file can only
    show less, never break a row."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get(self, *path: str) -> Any:
        here: Any = self.data
        for key in path:
            if not isinstance(here, dict):
                return None
            here = here.get(key)
        return here

    def text(self, *path: str) -> Optional[str]:
        value = self.get(*path)
        return value if isinstance(value, str) else None

    def number(self, *path: str) -> Optional[float]:
        value = self.get(*path)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def count(self, *path: str) -> int:
        value = self.number(*path)
        return int(value) if value is not None else 0

    def items(self, *path: str) -> list[dict[str, Any]]:
        value = self.get(*path)
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    def strings(self, *path: str) -> list[str]:
        value = self.get(*path)
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _checks(snap: Snap) -> str:
    local = snap.items("checks", "local")
    failing = [str(c.get("command")) for c in local if c.get("status") == "fail"]
    if failing:
        return "failing: " + failing[0]
    if any(c.get("status") == "pass" for c in local):
        return "passing"
    return ""


def _folder(snap: Snap) -> str:
    return (snap.text("context", "worktree") or snap.text("context", "cwd") or "").rstrip("/").rsplit("/", 1)[-1]


def _where(snap: Snap) -> str:
    folder = _folder(snap)
    if snap.get("context", "linkedWorktree") is True and folder:
        return f"wt:{folder}"
    return snap.text("context", "branch") or folder


def _session_state(snap: Snap) -> str:
    """The row state by the rule the notifications use (``hud.notify.session_row``): a turn that ended in an API
    error is ``failed``."""
    turn = (snap.text("context", "turnState"), snap.text("context", "waitingFor"), snap.text("context", "turnError"))
    return notify.session_row(turn) or "unknown"


def session_row(snap: Snap) -> Row:
    """A Claude Code session on its own, from its snapshot."""
    sid = snap.text("context", "sessionId") or "?"
    folder = _folder(snap)
    state = _session_state(snap)
    reasons = snap.strings("risk", "reasons")
    reason = reasons[0] if snap.get("risk", "status") in ("attention", "blocked") and reasons else None
    harness = snap.text("context", "harness")
    waiting_for = snap.text("context", "waitingFor")
    used = snap.number("context", "contextWindow", "usedPct")
    return Row(
        key=f"s:{sid}",
        name=clean(f"{folder} {sid[:8]}" if folder else sid[:8], 40),
        agent=clean(command_of(harness), 20),
        objective=clean(snap.text("context", "objective") or "", 200),
        state=state,
        group=_SESSION_GROUP.get(state, IDLE),
        since=snap.text("context", "waitingSince") if waiting_for else snap.text("context", "lastEventAt"),
        waiting_for=clean(waiting_for, 120) or None,
        reason=clean(reason, 200) or None,
        context_pct=int(used) if used is not None else None,
        cost=snap.number("cost", "sessionUsd"),
        tools=snap.count("toolCalls", "total"),
        failures=snap.count("toolCalls", "failures"),
        checks=clean(_checks(snap), 60),
        where=clean(_where(snap), 60),
        session_id=snap.text("context", "sessionId"),
        payload=snap,
    )


def worker_row(session: str, worker: dict[str, Any], payload: Optional[Snap]) -> Row:
    """A runtime worker, with its Claude Code session's figures when it has one."""
    slug = str(worker.get("id", "?")).split("/", 1)[-1]
    state = str(worker.get("state") or "unknown")
    base = session_row(payload) if payload is not None else None
    waiting_for = None
    if state == "waiting":
        waiting_for = (base.waiting_for if base else None) or clean(worker.get("reason"), 120) or "a person"
    entered = worker.get("stateSince") or worker.get("updatedAt")  # updatedAt: an export from before stateSince
    since = (base.since if base and state == "waiting" and base.waiting_for else None) or entered
    reason = clean(worker.get("reason"), 200) or None if state in ("failed", "stale", "stopped") else None
    row = Row(
        key=f"w:{session}/{slug}",
        name=clean(f"{session}/{slug}", 40),
        agent=clean(worker.get("agent") or "?", 20),
        objective=clean(worker.get("objective") or "", 200),
        state=state,
        group=_WORKER_GROUP.get(state, IDLE),
        since=since,
        waiting_for=waiting_for,
        reason=reason or (base.reason if base else None),
        where=clean(worker.get("branch") or "", 60),
        dimmed=state in ("merged", "stale"),
        session_id=worker.get("agentSession") or None,
        runtime=(session, slug),
        handoff_path=worker.get("handoffPath") or None,
    )
    if base is None:
        return row
    return replace(
        row,
        context_pct=base.context_pct,
        cost=base.cost,
        tools=base.tools,
        failures=base.failures,
        checks=base.checks,
        payload=payload,
    )


def _urgency(row: Row) -> int:
    """Within "needs you": a prompt, a question or a dialog that holds work up before a session that only waits
    for its next prompt."""
    from ecc_hooks.hud.state import IDLE_WAIT

    return 1 if row.waiting_for == IDLE_WAIT else 0


def ordered(rows: list[Row]) -> list[Row]:
    """By group. Needs you: a held-up session before one at its idle prompt, the longest wait first. Working and
    idle: by name, so rows stay where the eye left them while their sessions work (ordering them by activity
    reshuffled the table several times a second). Finished and failed: the most recent first."""

    def key(r: Row) -> tuple[Any, ...]:
        if r.group == NEEDS:
            return (r.group, _urgency(r), r.since or "", r.name, r.key)
        if r.group in (WORKING, IDLE):
            return (r.group, 0, "", r.name, r.key)
        return (r.group, 0, _negated(r.since or ""), r.name, r.key)

    return sorted(rows, key=key)


def _negated(stamp: str) -> tuple[int, ...]:
    """An ISO stamp as a key that sorts the newest first."""
    return tuple(-ord(c) for c in stamp)


@dataclass
class Queue:
    """One runtime session's merge and conflict queues as the supervisor last computed them."""

    session: str
    merge: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    at: Optional[str] = None
    error: Optional[str] = None


class Store:
    """The rows, re-read from the daemons' files as they change (only files whose stat changed)."""

    def __init__(self, home: Optional[str] = None) -> None:
        self.home = home or paths.home()
        self._snapshots: dict[str, tuple[tuple[int, int], Snap]] = {}  # session -> (stat, its hud.json)
        self._workers_stat: Optional[tuple[int, int]] = None
        self._workers: list[dict[str, Any]] = []
        self.rows: list[Row] = []
        self.queues: dict[str, Queue] = {}
        self.daemons = Daemons()

    def watch_paths(self) -> list[str]:
        """What to watch for changes: the sessions folder and the runtime's folder (created when missing, so a
        daemon that starts later is seen)."""
        out = []
        for sub in ("sessions", "runtime"):
            path = os.path.join(self.home, sub)
            try:
                os.makedirs(path, mode=0o700, exist_ok=True)
            except OSError:
                continue
            out.append(path)
        return out

    @staticmethod
    def relevant(path: str) -> bool:
        """A change the rows depend on (not every journal append)."""
        name = os.path.basename(path)
        return name in ("hud.json", "workers.json")

    def reload(self, now: Optional[float] = None) -> list[Row]:
        """Read what changed; the rows, ordered."""
        import time

        now = time.time() if now is None else now
        self.daemons = read_daemons()
        self._read_workers()
        joined = {w.get("agentSession") for s in self._workers for w in s.get("workers", []) if isinstance(w, dict)}
        wanted = self._recent_sessions(now) | {sid for sid in joined if isinstance(sid, str) and sid}
        for sid in list(self._snapshots):
            if sid not in wanted:
                del self._snapshots[sid]
        for sid in wanted:
            self._read_snapshot(sid)
        rows = []
        for item in self._workers:
            session = str(item.get("session", "?"))
            for worker in item.get("workers", []):
                if isinstance(worker, dict):
                    snap = self._snapshots.get(worker.get("agentSession") or "")
                    rows.append(worker_row(session, worker, snap[1] if snap else None))
        for sid, (_, payload) in self._snapshots.items():
            if sid not in joined:
                rows.append(session_row(payload))
        self.rows = ordered([self._mark_down(r) for r in rows])
        return self.rows

    def _mark_down(self, row: Row) -> Row:
        live = row.group in (NEEDS, WORKING, IDLE)
        if row.runtime is not None and live and self.daemons.supervisor is None:
            return replace(row, down="supervisor down")
        if row.runtime is None and live and self.daemons.watcher is None:
            return replace(row, down="watcher down")
        return row

    def _recent_sessions(self, now: float) -> set[str]:
        folder = os.path.join(self.home, "sessions")
        found = []
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return set()
        for entry in entries:
            if paths.sanitize_session_id(entry.name) != entry.name:
                continue
            try:
                mtime = os.stat(os.path.join(entry.path, "hud.json")).st_mtime
            except OSError:
                continue
            if now - mtime <= RECENT_SECONDS:
                found.append((mtime, entry.name))
        found.sort(reverse=True)
        return {sid for _, sid in found[:RECENT_MAX]}

    def _read_snapshot(self, sid: str) -> None:
        import orjson

        from ecc_hooks.core.fsio import read_file

        path = os.path.join(self.home, "sessions", sid, "hud.json")
        try:
            st = os.stat(path)
        except OSError:
            return
        stamp = (st.st_mtime_ns, st.st_size)
        old = self._snapshots.get(sid)
        if old is not None and old[0] == stamp:
            return
        try:
            data = orjson.loads(read_file(path, SNAPSHOT_CAP))
        except (OSError, ValueError):
            return  # keep the row it had
        if not isinstance(data, dict) or data.get("schema_version") != "ecc.hud-status.v1":
            return  # not a snapshot of ours: the row it had stays
        self._snapshots[sid] = (stamp, Snap(data))

    def _read_workers(self) -> None:
        from ecc_hooks.core.fsio import read_file

        path = os.path.join(self.home, "runtime", "workers.json")
        try:
            st = os.stat(path)
        except OSError:
            self._workers, self._workers_stat, self.queues = [], None, {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._workers_stat:
            return
        try:
            data = json.loads(read_file(path, WORKERS_CAP))
        except (OSError, ValueError):
            return
        sessions = data.get("sessions") if isinstance(data, dict) else None
        if not isinstance(sessions, list):
            return
        self._workers = [s for s in sessions if isinstance(s, dict)]
        self._workers_stat = stamp
        self.queues = {}
        for s in self._workers:
            q = s.get("queue") if isinstance(s.get("queue"), dict) else {}
            name = str(s.get("session", "?"))
            self.queues[name] = Queue(
                name,
                [e for e in q.get("mergeQueue", []) if isinstance(e, dict)],
                [e for e in q.get("conflictQueue", []) if isinstance(e, dict)],
                q.get("at"),
                q.get("error"),
            )

    def row(self, key: Optional[str]) -> Optional[Row]:
        return next((r for r in self.rows if r.key == key), None)


def read_daemons() -> Daemons:
    """Which daemons run now (their lock files: no process is started or asked)."""
    from ecc_hooks.core import pidlock
    from ecc_hooks.runtime import client

    return Daemons(watcher=pidlock.holder(), supervisor=client.supervisor_pid())


def state_text(row: Row, now: datetime) -> str:
    """``WAITING 2m05s``, ``running 14s``, ``failed 3m``: the state and how long it has been so."""
    when = age(row.since, now)
    word = "WAITING" if row.group == NEEDS else row.state
    return f"{word} {when}".strip()


def what_text(row: Row) -> str:
    """What a person reads first: what it waits for, why it failed, else its objective; a daemon that is down
    (so the row may be old) before any of them."""
    if row.waiting_for:
        text = f"needs {row.waiting_for}"
    elif row.reason and row.group in (FAILED, NEEDS):
        text = row.reason
    else:
        text = row.objective
    if row.down:
        return f"{row.down}: {text}" if text else row.down
    return text


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
