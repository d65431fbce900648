"""The runtime's persistent state: sessions, workers, their transitions and the cleanup queue, in SQLite.

One database, ``$ECC_HOOKS_HOME/runtime.db`` (standard library ``sqlite3``, WAL, a busy timeout), written by the
CLI and the supervisor. Every change of a worker's state goes through ``transition``, which enforces the allowed
transitions (``ALLOWED``) with a compare-and-set on the state it read, and logs the change with its reason.

Worker states: ``pending`` (planned, waiting for a slot), ``starting`` (its launch is recorded, its process may
not run yet), ``running``, ``waiting`` (for a person: a permission prompt, a question), ``idle`` (at its prompt,
no task yet), ``completed``, ``failed``, ``stopped`` (by the user), ``stale`` (no heartbeat for 5 minutes), ``merged`` (its
work is in the base: ``merge-queue --apply`` merged it, or its commits reached the base otherwise).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from ecc_hooks.core import fsio, paths
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.runtime.records import Refused

STATES = ("pending", "starting", "running", "waiting", "idle", "completed", "failed", "stopped", "stale", "merged")
LIVE = ("running", "waiting", "idle")  # a process that works or waits
OCCUPYING = ("starting", *LIVE, "stale")  # states that take one of the session's maxParallel slots
FINISHED = ("completed", "failed", "stopped", "merged")
_ACTIVE = ("starting", *LIVE)
ALLOWED: dict[str, frozenset[str]] = {
    "pending": frozenset({"starting", "stopped", "failed"}),
    "starting": frozenset({*LIVE, "completed", "failed", "stopped", "stale"}),
    "running": frozenset({"waiting", "idle", "completed", "failed", "stopped", "stale"}),
    "waiting": frozenset({"running", "idle", "completed", "failed", "stopped", "stale"}),
    "idle": frozenset({"running", "waiting", "completed", "failed", "stopped", "stale"}),
    # a finished Claude Code worker still sits at its prompt: a person may give it more to do
    "completed": frozenset({*LIVE, "failed", "starting", "stopped", "merged"}),
    "failed": frozenset({*LIVE, "completed", "starting", "stopped", "merged"}),
    "stopped": frozenset({"starting", "merged"}),
    "stale": frozenset({*LIVE, "completed", "failed", "starting", "stopped"}),
    # its work is in the base: done (cleanup needs no --force); a person may still give it more to do
    "merged": frozenset({*LIVE, "starting", "stopped"}),
}
# Columns holding free text from outside (an agent's failure line, a hook's message, git's stderr): the store
# redacts them on every write, so no secret reaches runtime.db nor anything read from it (workers.json, list,
# status, status.md, handoff.md).
FREE_TEXT = frozenset({"reason", "result"})
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    name TEXT PRIMARY KEY,
    repo_root TEXT NOT NULL,
    coordination_dir TEXT NOT NULL,
    base_ref TEXT NOT NULL,
    base_commit TEXT,
    max_parallel INTEGER,
    tmux_socket TEXT NOT NULL,
    plan_file TEXT,
    created_at REAL NOT NULL,
    creator_pid INTEGER,
    creator_start INTEGER
);
CREATE TABLE IF NOT EXISTS workers (
    session TEXT NOT NULL REFERENCES sessions(name) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    agent TEXT,
    runtime TEXT NOT NULL,
    branch TEXT NOT NULL,
    worktree TEXT NOT NULL,
    task TEXT NOT NULL,
    task_file TEXT NOT NULL,
    status_file TEXT NOT NULL,
    handoff_file TEXT NOT NULL,
    launch_command TEXT NOT NULL,
    agent_launch INTEGER NOT NULL DEFAULT 0,
    agent_session TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    launch_token TEXT,
    command TEXT,
    launches INTEGER NOT NULL DEFAULT 0,
    pane TEXT,
    handle TEXT,
    pid INTEGER,
    pid_start INTEGER,
    exit_code INTEGER,
    port_base INTEGER,
    ports INTEGER NOT NULL DEFAULT 0,
    fingerprint TEXT,
    heartbeat_at REAL,
    started_at REAL,
    finished_at REAL,
    handoff_done INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (session, slug)
);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    slug TEXT NOT NULL,
    at REAL NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS cleanup (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    slug TEXT NOT NULL,
    force INTEGER NOT NULL,
    requested_at REAL NOT NULL,
    done_at REAL,
    result TEXT
);
"""


class InvalidTransition(UserError):
    """A state change the runtime does not allow (or the state moved meanwhile)."""


@dataclass
class Worker:
    """One worker's row."""

    session: str
    slug: str
    seq: int
    name: str
    agent: Optional[str]
    runtime: str
    branch: str
    worktree: str
    task: str
    task_file: str
    status_file: str
    handoff_file: str
    launch_command: str
    agent_launch: int  # 1: the launch command is the agent's own (so its resume command can take over)
    agent_session: Optional[str]
    state: str
    reason: Optional[str]
    launch_token: Optional[str]
    command: Optional[str]
    launches: int
    pane: Optional[str]
    handle: Optional[str]  # the runtime's own id of the worker (a Claude Code background session's id)
    pid: Optional[int]
    pid_start: Optional[int]
    exit_code: Optional[int]
    port_base: Optional[int]
    ports: int
    fingerprint: Optional[str]
    heartbeat_at: Optional[float]
    started_at: Optional[float]
    finished_at: Optional[float]
    handoff_done: int
    removed: int
    updated_at: float


@dataclass
class Session:
    """One session's row."""

    name: str
    repo_root: str
    coordination_dir: str
    base_ref: str
    base_commit: Optional[str]
    max_parallel: Optional[int]
    tmux_socket: str
    plan_file: Optional[str]
    created_at: float
    creator_pid: Optional[int] = None  # set while ``session create`` makes its workspace
    creator_start: Optional[int] = None


LOCK_TIMEOUT = 60.0  # seconds a control waits for a session's lock


@contextmanager
def session_lock(name: str) -> Iterator[None]:
    """The session's lock: whoever launches, stops or reconciles its workers holds it."""
    with _held(os.path.join(paths.home(), "runtime", name, "session.lock"), f"session {name!r}"):
        yield


@contextmanager
def input_lock(claude_session: str) -> Iterator[None]:
    """A plain Claude Code session's input lock: whoever types into its pane or answers its prompt holds it."""
    with _held(paths.input_lock_path(claude_session), f"Claude Code session {claude_session!r}"):
        yield


@contextmanager
def _held(path: str, what: str) -> Iterator[None]:
    from filelock import FileLock, Timeout

    fsio.ensure_state_dir(os.path.dirname(path))
    try:
        with FileLock(path, mode=0o600).acquire(timeout=LOCK_TIMEOUT):
            yield
    except Timeout:
        raise Refused("busy", f"{what} is busy (its lock was held for {LOCK_TIMEOUT:.0f} s); retry") from None


def db_path() -> str:
    return os.path.join(paths.home(), "runtime.db")


class Store:
    """A connection to the runtime database (one per thread)."""

    def __init__(self, path: Optional[str] = None, reading: bool = False) -> None:
        """``reading``: the caller only reads (``session list``, ``status``...), so a database file that is not
        writable is opened read-only (``read_only``) instead of refused; its writes still refuse, clearly."""
        self.path = path or db_path()
        self.reading = reading
        self.read_only = False
        _check_file(self.path)
        try:
            self._open()
        except sqlite3.DatabaseError as exc:  # a file that is not a database, read-only, locked, damaged
            if getattr(self, "db", None) is not None:
                self.db.close()
            raise _unusable(self.path, str(exc)) from None

    def _open(self) -> None:
        if not os.stat(self.path).st_mode & stat.S_IWUSR:
            if not self.reading:
                raise self._read_only_error()
            self._open_read_only()
            return
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._check_schema()  # read only: nothing is written to a file that is not ours
        # switching a new database to WAL takes it exclusively, without the busy handler: processes opening a
        # fresh store together retry (a few times, briefly); once it is WAL the switch is a no-op
        for pause in (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, None):
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if pause is None or "locked" not in str(exc):
                    raise
                time.sleep(pause)
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute(
            "PRAGMA secure_delete=ON"
        )  # what a forgotten session held is overwritten, not left in free pages
        with self.write():
            self._check_schema()  # again under the write lock: another process may have made it meanwhile
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _read_only_error(self) -> UserError:
        mode = stat.S_IMODE(os.stat(self.path).st_mode)
        return UserError(f"{self.path} is read-only (mode {mode:04o}): this command writes it; make it writable "
                         f"(chmod u+w {self.path})")  # fmt: skip

    def _open_read_only(self) -> None:
        """Read a file that is not writable without writing anything beside it: ``immutable`` (no ``-wal`` or
        ``-shm`` made) when no write-ahead log is left over, else ``mode=ro`` (the log holds committed rows)."""
        from urllib.parse import quote

        wal = self.path + "-wal"
        leftover = os.path.exists(wal) and os.path.getsize(wal) > 0
        uri = f"file:{quote(self.path)}?{'mode=ro' if leftover else 'immutable=1'}"
        self.db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.read_only = True
        self._check_schema()
        if "workers" not in {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}:
            raise self._read_only_error()  # an empty file: nothing to read, and it cannot be made a store

    def _check_schema(self) -> None:
        """UserError unless the database is empty or ours, at our schema version (what to do included)."""
        # one statement, one snapshot: read apart, another process's create could fall between the two reads
        rows = list(self.db.execute("SELECT (SELECT user_version FROM pragma_user_version), name FROM sqlite_master "
                                    "WHERE type = 'table' UNION ALL SELECT user_version, NULL FROM pragma_user_version"))  # fmt: skip
        version = rows[0][0]
        tables = {r[1] for r in rows if r[1] is not None}
        if not tables and version == 0:
            return  # a fresh database
        if "workers" in tables and version != SCHEMA_VERSION:
            raise UserError(f"{self.path} was written by another version of ecc-hooks (schema {version}, this one "
                            f"reads {SCHEMA_VERSION}); {_AFRESH.format(path=self.path)}")  # fmt: skip
        for table, columns in _COLUMNS.items():
            found = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if found != columns:
                what = f"its table {table} has other columns" if found else f"it has no table {table}"
                raise UserError(f"{self.path} is not ecc-hooks' runtime database ({what}); "
                                f"{_AFRESH.format(path=self.path)}")  # fmt: skip

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: writers queue on the busy timeout, readers go on); a store
        opened read-only refuses with what to do."""
        if self.read_only:
            raise self._read_only_error()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------ sessions

    def add_session(self, session: Session, workers: list[Worker]) -> None:
        """Record a created session and its workers in one transaction."""
        with self.write() as db:
            db.execute(
                "INSERT INTO sessions VALUES (:name, :repo_root, :coordination_dir, :base_ref, :base_commit, "
                ":max_parallel, :tmux_socket, :plan_file, :created_at, :creator_pid, :creator_start)",
                session.__dict__,
            )
            for worker in workers:
                worker.reason = _redact_text(worker.reason)
                columns = list(worker.__dict__)
                db.execute(
                    f"INSERT INTO workers ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
                    worker.__dict__,
                )
                _log(db, worker.session, worker.slug, None, worker.state, worker.reason)

    def session(self, name: str) -> Optional[Session]:
        row = self.db.execute("SELECT * FROM sessions WHERE name = ?", (name,)).fetchone()
        return Session(**dict(row)) if row else None

    def require_session(self, name: str) -> Session:
        found = self.session(name)
        if found is None:
            known = ", ".join(s.name for s in self.sessions()) or "none"
            raise UserError(f"no runtime session named {name!r} (known: {known})")
        return found

    def targets(self, name: str, worker: Optional[str] = None) -> tuple[Session, list[Worker]]:
        """The session and its workers that are not removed (only ``worker``, by slug or by the name the user
        typed, when given): what every control acts on, refused with kind ``not-found`` when there is none."""
        from ecc_hooks.runtime.records import Refused

        session = self.require_session(name)
        workers = [w for w in self.workers(name) if not w.removed]
        if worker is not None:
            workers = [w for w in workers if worker in (w.slug, w.name)]
            if not workers:
                raise Refused("not-found", f"session {name!r} has no worker {worker!r}")
        return session, workers

    def sessions(self) -> list[Session]:
        return [Session(**dict(r)) for r in self.db.execute("SELECT * FROM sessions ORDER BY created_at, name")]

    def session_ready(self, name: str, base_commit: Optional[str]) -> None:
        """The create finished: its workers may be launched."""
        with self.write() as db:
            db.execute(
                "UPDATE sessions SET base_commit = ?, creator_pid = NULL, creator_start = NULL WHERE name = ?",
                (base_commit, name),
            )

    def delete_session(self, name: str) -> None:
        """Forget the session: its rows, their transitions and cleanup jobs, overwritten (``secure_delete``) and
        checkpointed out of the write-ahead log, so what they held (a launch command as the plan wrote it, with any
        secret the user put there) is gone from the files too, as far as no other reader holds the log."""
        with self.write() as db:
            for table in ("transitions", "cleanup", "workers"):
                db.execute(f"DELETE FROM {table} WHERE session = ?", (name,))
            db.execute("DELETE FROM sessions WHERE name = ?", (name,))
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ------------------------------------------------------------------ workers

    def workers(self, session: Optional[str] = None) -> list[Worker]:
        if session is None:
            rows = self.db.execute("SELECT * FROM workers ORDER BY session, seq")
        else:
            rows = self.db.execute("SELECT * FROM workers WHERE session = ? ORDER BY seq", (session,))
        return [Worker(**dict(r)) for r in rows]

    def worker(self, session: str, slug: str) -> Worker:
        """The worker by its slug, or by the name the user gave it in the plan (``--worker Données`` for the slug
        ``donnees``) when no slug is that."""
        row = self.db.execute("SELECT * FROM workers WHERE session = ? AND slug = ?", (session, slug)).fetchone()
        if row is None:
            named = self.db.execute("SELECT * FROM workers WHERE session = ? AND name = ?", (session, slug)).fetchall()
            row = named[0] if len(named) == 1 else None
        if row is None:
            raise UserError(f"session {session!r} has no worker {slug!r}")
        return Worker(**dict(row))

    def update(self, worker: Worker, **values: Any) -> None:
        """Set columns other than the state (use ``transition`` for that)."""
        if "state" in values:
            raise ValueError("state changes go through transition()")
        values = _redacted(values)
        values["updated_at"] = time.time()
        sets = ", ".join(f"{k} = :{k}" for k in values)
        with self.write() as db:
            db.execute(
                f"UPDATE workers SET {sets} WHERE session = :_s AND slug = :_w",
                {**values, "_s": worker.session, "_w": worker.slug},
            )
        for key, value in values.items():
            setattr(worker, key, value)

    def transition(self, worker: Worker, to: str, reason: Optional[str] = None, **values: Any) -> bool:
        """Move ``worker`` to state ``to`` (with other columns in the same write). False when it is there already
        (with the same reason); InvalidTransition when the change is not allowed or the row moved meanwhile."""
        if to not in STATES:
            raise ValueError(f"unknown state {to!r}")
        reason = _redact_text(reason)
        values = _redacted(values)
        if worker.state == to and worker.reason == reason and all(getattr(worker, k) == v for k, v in values.items()):
            return False  # (a caller comparing its unredacted reason with the stored one lands here too)
        if worker.state != to and to not in ALLOWED[worker.state]:
            raise InvalidTransition(f"{worker.session}/{worker.slug}: {worker.state} -> {to} is not allowed")
        now = time.time()
        values.update(state=to, reason=reason, updated_at=now)
        sets = ", ".join(f"{k} = :{k}" for k in values)
        with self.write() as db:
            moved = db.execute(
                f"UPDATE workers SET {sets} WHERE session = :_s AND slug = :_w AND state = :_from",
                {**values, "_s": worker.session, "_w": worker.slug, "_from": worker.state},
            ).rowcount
            if not moved:
                raise InvalidTransition(f"{worker.session}/{worker.slug} changed state meanwhile")
            if worker.state != to:
                _log(db, worker.session, worker.slug, worker.state, to, reason)
        for key, value in values.items():
            setattr(worker, key, value)
        return True

    def state_since(self, session: str) -> dict[str, float]:
        """When each worker of the session entered the state it is in (its last logged transition), by slug: a
        row's ``updated_at`` moves with every heartbeat and screen change, so it says nothing of how long a worker
        has been running or waiting."""
        query = "SELECT slug, MAX(at) FROM transitions WHERE session = ? GROUP BY slug"
        return {str(slug): float(at) for slug, at in self.db.execute(query, (session,)) if at is not None}

    def history(self, session: str, slug: Optional[str] = None) -> list[sqlite3.Row]:
        query = "SELECT * FROM transitions WHERE session = ?" + (" AND slug = ?" if slug else "") + " ORDER BY id"
        return list(self.db.execute(query, (session, slug) if slug else (session,)))

    # ------------------------------------------------------------------ cleanup queue

    def request_cleanup(self, session: str, slug: str, force: bool) -> int:
        """Queue a cleanup job; its id."""
        with self.write() as db:
            cursor = db.execute(
                "INSERT INTO cleanup (session, slug, force, requested_at) VALUES (?, ?, ?, ?)",
                (session, slug, int(force), time.time()),
            )
            return int(cursor.lastrowid or 0)

    def pending_cleanups(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM cleanup WHERE done_at IS NULL ORDER BY id"))

    def finish_cleanup(self, job_id: int, result: str) -> None:
        with self.write() as db:
            db.execute(
                "UPDATE cleanup SET done_at = ?, result = ? WHERE id = ?", (time.time(), _redact_text(result), job_id)
            )

    def cleanups(self, session: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM cleanup WHERE session = ? ORDER BY id", (session,)))


def _check_file(path: str) -> None:
    """The database file is ours, regular and no link; created 0600 (with its folders 0700) when missing.

    Checked with ``lstat``, never by opening it: closing any descriptor of a file drops every POSIX lock this
    process holds on it, and SQLite's locks (another connection of this process may have it open) are those."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        try:
            os.close(fsio.open_file(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, create_dirs=True))
            return
        except FileExistsError:  # another process made it meanwhile (parallel creates): check theirs
            info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise fsio.UnsafeFile(f"a link or not a regular file: {path}")
    if info.st_uid != os.getuid():
        raise fsio.UnsafeFile(f"not owned by this user: {path}")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o600)


_AFRESH = "move it away (mv {path} {path}.old) and the runtime starts afresh (its sessions are forgotten, their worktrees and branches stay)"
_COLUMNS = {
    "sessions": frozenset(Session.__dataclass_fields__),
    "workers": frozenset(Worker.__dataclass_fields__),
    "transitions": frozenset({"id", "session", "slug", "at", "from_state", "to_state", "reason"}),
    "cleanup": frozenset({"id", "session", "slug", "force", "requested_at", "done_at", "result"}),
}


def _unusable(path: str, why: str) -> UserError:
    if "readonly" in why or "read-only" in why:
        return UserError(f"{path} cannot be written ({why}): make it and its folder writable for this user")
    if "locked" in why or "busy" in why:
        return UserError(f"{path} is locked by another process ({why}); retry when it is done")
    return UserError(f"{path} is not a database ecc-hooks can read ({why}); {_AFRESH.format(path=path)}")


def _redact_text(text: Optional[str]) -> Optional[str]:
    return redact(text, limit=None) if isinstance(text, str) else text


def _redacted(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _redact_text(v) if k in FREE_TEXT else v for k, v in values.items()}


def _log(db: sqlite3.Connection, session: str, slug: str, old: Optional[str], new: str, reason: Optional[str]) -> None:
    db.execute(
        "INSERT INTO transitions (session, slug, at, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?, ?)",
        (session, slug, time.time(), old, new, _redact_text(reason)),
    )
