"""The supervisor: one daemon per ``ECC_HOOKS_HOME`` that keeps every runtime session true to what runs.

It reconciles the sessions when their workers' hook journals or exit files change, and on a slow tick:
launches pending workers while the session has a free slot (``maxParallel``), follows each worker's state
(``detect``), writes ``status.md`` on every change, marks a worker that shows no sign of life for 5 minutes
``stale``, and when a worker finishes writes its ``handoff.md`` and runs the ``worker_finished`` hook. It also
works the cleanup queue (``control.cleanup_one``).

Single instance by the same rule as the watcher (a ``flock``-ed lock file with the holder's pid). All of a
session's launches and reconciles happen under the session's own lock, so the CLI (``create``, ``stop``,
``resume``) and the supervisor never act on one worker at once. A launch is written ahead: the worker goes to
``starting`` with a fresh token before its process exists, and the token travels with the process, so a
supervisor killed at any moment finds on restart either the process (adopted) or nothing (started then);
never a second copy. What died while no supervisor looked (a process, the tmux server) is marked ``failed``
with the reason, and stays resumable.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Optional

from ecc_hooks.core import errorlog, fsio, paths, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime import agents, detect, files, launch, lifecycle
from ecc_hooks.runtime import store as st
from ecc_hooks.sources import git as gitstate

TICK_ENV = "ECC_HOOKS_SUPERVISOR_TICK"
STALE_ENV = "ECC_HOOKS_STALE_SECONDS"
DEFAULT_TICK = 5.0
STALE_SECONDS = 300.0
IDLE_EXIT = 120.0  # seconds with nothing to watch before the supervisor exits
HOOK_GRACE = 30.0  # seconds a Claude Code worker may start before its screen stands in for its hooks
STATUS_REFRESH = 60.0  # seconds between two rewrites of a busy worker's status.md (ECC reads "Updated")
LOCK_TIMEOUT = 60.0
SETTLE = 3.0  # seconds after an unrecorded launch before it counts as never started
CRASH_ENV = "ECC_HOOKS_CRASH_AT"  # fault injection for the tests: SIGKILL this process at the named point


class Stopping(BaseException):
    """SIGTERM: raised in the supervisor's main thread wherever it is (mid-pass too), so it exits at once. Every
    write of a pass survives being cut anywhere, as it survives a kill -9 (the write-ahead launch, one transaction
    per change); a program it runs meanwhile is killed with it (``proc.run``)."""


def crash_point(name: str) -> None:
    """Die here, as a kill -9 would, when ``$ECC_HOOKS_CRASH_AT`` names this point (tests of the write-ahead)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def tick_seconds() -> float:
    return float(os.environ.get(TICK_ENV) or DEFAULT_TICK)


def stale_seconds() -> float:
    return float(os.environ.get(STALE_ENV) or STALE_SECONDS)


def lock_path() -> str:
    return os.path.join(paths.home(), "supervisor.lock")


@contextmanager
def session_lock(name: str) -> Iterator[None]:
    """The session's lock: whoever launches, stops or reconciles its workers holds it."""
    from filelock import FileLock, Timeout

    folder = os.path.join(paths.home(), "runtime", name)
    fsio.ensure_state_dir(folder)
    try:
        with FileLock(os.path.join(folder, "session.lock"), mode=0o600).acquire(timeout=LOCK_TIMEOUT):
            yield
    except Timeout:
        raise UserError(f"session {name!r} is busy (its lock was held for {LOCK_TIMEOUT:.0f} s); retry") from None


# ---------------------------------------------------------------------------- status.md and handoff.md


def write_status(session: st.Session, worker: st.Worker) -> None:
    """The worker's status.md in ECC's format (a failure to write is logged, never fatal)."""
    text = files.status_md(
        name=worker.name,
        state=worker.state,
        worktree=worker.worktree,
        branch=worker.branch,
        task_file=worker.task_file,
        handoff_file=worker.handoff_file,
        reason=worker.reason,
        agent=worker.agent,
        agent_session=worker.agent_session,
    )
    try:
        files.write(worker.status_file, text, files.root_of(session.repo_root, session.coordination_dir))
    except OSError as exc:
        errorlog.log_error("runtime.status", str(exc))


def _git_lines(cwd: str, *args: str) -> list[str]:
    if not os.path.isdir(cwd):
        return []
    done = gitstate.run(cwd, *args, timeout=30)
    if done is None or done[0] != 0:
        return []
    return [line for line in done[1].decode("utf-8", "replace").splitlines() if line.strip()]


def write_handoff(session: st.Session, worker: st.Worker, follower: Optional[detect.JournalFollower]) -> None:
    """The worker's handoff.md from its final message and its worktree's git, under ECC's headings."""
    base = session.base_commit or session.base_ref
    message = follower.state.last_message if follower and follower.seen else None
    if message is None:
        message = final_output(session, worker)
    commits = _git_lines(worker.worktree, "log", "--format=%h %s", f"{base}..HEAD")
    changed = _git_lines(worker.worktree, "diff", "--name-only", "--no-renames", f"{base}...HEAD", "--")
    uncommitted = [line[3:] for line in _git_lines(worker.worktree, "status", "--porcelain", "-uall")]
    risks = follower.risks() if follower else []
    if uncommitted:
        risks.append(f"{len(uncommitted)} uncommitted change(s) in the worktree")
    if worker.state == "failed" and worker.reason:
        risks.insert(0, worker.reason)
    text = files.handoff_md(
        name=worker.name,
        state=worker.state,
        reason=worker.reason,
        final_message=message,
        commits=commits,
        files=changed,
        uncommitted=uncommitted,
        checks=follower.checks() if follower else [],
        risks=risks,
    )
    try:
        files.write(worker.handoff_file, text, files.root_of(session.repo_root, session.coordination_dir))
    except OSError as exc:
        errorlog.log_error("runtime.handoff", str(exc))


def final_output(session: st.Session, worker: st.Worker, lines: int = 20) -> Optional[str]:
    """The last lines an agent without hooks printed (its log, or its pane)."""
    text: Optional[str] = None
    if worker.runtime == "headless":
        try:
            # the tail, however long the log: the failure line an agent prints last is there
            text = fsio.read_tail(launch.log_path(session.name, worker.slug), 16384).decode("utf-8", "replace")
        except (OSError, ValueError):
            text = None
    elif worker.pane:
        text = launch.capture(worker.pane, session.tmux_socket, history=True)
    if not text:
        return None
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith("Pane is dead")]
    return "\n".join(kept[-lines:]) or None


# ---------------------------------------------------------------------------- launching


def worker_env(session: st.Session, worker: st.Worker) -> dict[str, str]:
    env = lifecycle.worker_env(
        session=session.name,
        worker=worker.slug,
        worktree=worker.worktree,
        branch=worker.branch,
        base_ref=session.base_ref,
        port_base=worker.port_base,
    )
    if worker.runtime == "tmux" and worker.agent == "claude":
        # Claude Code titles its terminal; in a pane that would replace the worker's slug, which ECC's tools join
        # panes on (ECC's orchestration-status.js)
        env["CLAUDE_CODE_DISABLE_TERMINAL_TITLE"] = "1"
    return env


def launch_command(worker: st.Worker, resume: bool) -> str:
    """What a launch runs: the planned command, or the agent's resume command when it can resume."""
    if resume and worker.agent and worker.agent_launch:
        agent = agents.get(worker.agent)
        argv = agent.resume_argv(worker.agent_session, worker.runtime)
        if argv:
            return agent.command(argv)
    return worker.launch_command


def start(
    store: st.Store,
    session: st.Session,
    worker: st.Worker,
    *,
    resume: bool = False,
    command: Optional[str] = None,
    reason: Optional[str] = None,
    **values: Any,
) -> None:
    """Launch the worker (the caller holds the session's lock): written ahead as ``starting`` with a fresh
    token, then its process. ``command`` (with ``values`` for other columns, e.g. a new agent session id)
    replaces what it runs: a conflict resolution."""
    token = uuid.uuid4().hex
    reason = reason or ("resuming" if resume else None)
    store.transition(
        worker,
        "starting",
        reason,
        launch_token=token,
        launches=worker.launches + 1,
        pane=None,
        pid=None,
        pid_start=None,
        exit_code=None,
        fingerprint=None,
        started_at=time.time(),
        heartbeat_at=time.time(),
        finished_at=None,
        handoff_done=0,
        command=command or launch_command(worker, resume),
        **values,
    )
    write_status(session, worker)
    crash_point("before-spawn")
    _spawn(store, session, worker)


def _spawn(store: st.Store, session: st.Session, worker: st.Worker) -> None:
    token = worker.launch_token or ""
    # the caller's environment and the worker's: given to the process, never written into a command line
    env = {**os.environ, **worker_env(session, worker), launch.TOKEN_ENV: token}
    exit_file = launch.exit_path(session.name, worker.slug, token)
    command = worker.command or worker.launch_command
    argv, carried = launch.wrapper(command, worktree=worker.worktree, exit_file=exit_file)
    if worker.runtime == "claude-bg":
        binary = agents.get(worker.agent or "claude").binary
        handle, agent_session, started = launch.launch_background(binary, command, worker.worktree, env)
        crash_point("after-spawn")
        store.update(worker, handle=handle, agent_session=agent_session or worker.agent_session, pid=started.pid,
                     pid_start=started.pid_start)  # fmt: skip
        return
    if worker.runtime == "headless":
        started = launch.launch_headless(session.name, worker.slug, argv, worker.worktree, {**env, **carried})
    else:
        started = launch.launch_tmux(
            session.name,
            worker.slug,
            argv,
            worker.worktree,
            session.repo_root,
            session.tmux_socket,
            token=token,
            env={**env, **carried},
        )
        if worker.agent and agents.get(worker.agent).prompt_via == "typed":
            launch.send_keys(started.pane or "", worker.task, literal=True, socket=session.tmux_socket)
            launch.send_keys(started.pane or "", "Enter", socket=session.tmux_socket)
    crash_point("after-spawn")
    store.update(worker, pane=started.pane, pid=started.pid, pid_start=started.pid_start)


def _adopt(store: st.Store, session: st.Session, worker: st.Worker, panes: Optional[list[launch.Pane]]) -> bool:
    """A ``starting`` worker whose process was not recorded (a crash between the two writes): find the process
    its token names and record it; False when it never started."""
    token = worker.launch_token or ""
    if worker.runtime == "claude-bg":  # its process is the background service's child: found by folder and time
        binary = agents.get(worker.agent or "claude").binary
        for entry in launch.background_sessions(binary, os.environ, worker.worktree):
            started = entry.get("startedAt")
            if (
                entry.get("cwd") == worker.worktree
                and isinstance(started, int)
                and started / 1000 >= (worker.started_at or 0) - 1
            ):
                pid = entry.get("pid") if isinstance(entry.get("pid"), int) else None
                store.update(worker, handle=str(entry.get("id")), agent_session=entry.get("sessionId"), pid=pid,
                             pid_start=proc.start_time(pid) if pid else None)  # fmt: skip
                return True
        return False
    if worker.runtime == "headless":
        found = launch.find_process(token)
        if found:
            store.update(worker, pid=found[0], pid_start=found[1])
            return True
    else:
        pane = launch.find_pane(panes or [], token)
        if pane is not None:
            launch.name_pane(session.name, pane.id, worker.slug, session.tmux_socket)
            pid_start = proc.start_time(pane.pid) if pane.pid else None
            store.update(worker, pane=pane.id, pid=pane.pid, pid_start=pid_start)
            return True
    return launch.read_exit(session.name, worker.slug, token) is not None


# ---------------------------------------------------------------------------- reconciling


def _running(worker: st.Worker, by_id: dict[str, launch.Pane]) -> bool:
    """Whether the worker's process is there (a live pane, or the pid with its start time)."""
    if worker.runtime == "tmux":
        pane = by_id.get(worker.pane or "")
        return pane is not None and not pane.dead
    return proc.alive(worker.pid, worker.pid_start)


class Supervisor:
    """Reconciles every session of one store."""

    def __init__(self, store: Optional[st.Store] = None, background_queues: bool = False) -> None:
        self.store = store or st.Store()
        self.background_queues = background_queues  # the daemon: queues in the queue thread
        self.followers: dict[tuple[str, str, str], detect.JournalFollower] = {}
        self.screens_at = 0.0

    def follower(self, worker: st.Worker) -> Optional[detect.JournalFollower]:
        if not worker.agent_session:
            return None
        key = (worker.session, worker.slug, worker.agent_session)
        found = self.followers.get(key)
        if found is None:
            found = self.followers[key] = detect.JournalFollower(paths.journal_path(worker.agent_session))
        return found

    def reconcile_all(self) -> bool:
        """One pass over every session; whether anything is still live (or queued) to watch."""
        busy = False
        for listed in self.store.sessions():
            try:
                with session_lock(listed.name):
                    session = self.store.session(listed.name)  # as it is now, under its lock (a create may
                    if session is not None:  # have finished since the listing)
                        busy |= self.reconcile(session)
            except UserError as exc:
                errorlog.log_error("runtime.reconcile", str(exc))
                busy = True
        for job in self.store.pending_cleanups():
            from ecc_hooks.runtime import control

            control.run_cleanup_job(self.store, job)
        export(self.store, background=self.background_queues)
        return busy

    def reconcile(self, session: st.Session) -> bool:
        """Reconcile one session (the caller holds its lock); whether it has live or queued workers."""
        workers = [w for w in self.store.workers(session.name) if not w.removed]
        if session.creator_pid is not None:
            if proc.alive(session.creator_pid, session.creator_start):
                return True  # its create still makes the workspace: nothing to launch into yet
            for worker in workers:  # the create died half way (its undo never ran): say so, start nothing
                if worker.state == "pending":
                    self.store.transition(worker, "failed", "its session create was interrupted")
            self.store.session_ready(session.name, session.base_commit)
            return False
        needs_tmux = any(w.runtime == "tmux" and w.state not in ("pending", "stopped") for w in workers)
        panes = launch.panes(session.name, session.tmux_socket) if needs_tmux else []
        by_id = {p.id: p for p in panes or []}
        now = time.time()
        screens = self._screens(session, workers, by_id, now)
        for worker in workers:
            if worker.state in ("pending", "stopped") or (worker.handoff_done and not _running(worker, by_id)):
                continue  # nothing runs there: a finished worker's process is gone (its record is final)
            try:
                self._reconcile_worker(session, worker, panes, by_id, screens, now)
            except st.InvalidTransition as exc:  # the CLI moved it meanwhile: the next pass sees the new state
                errorlog.log_error("runtime.transition", str(exc))
        live = [w for w in workers if w.state in st.OCCUPYING]
        limit = session.max_parallel or len(workers)
        for worker in workers:
            if len(live) >= limit:
                break
            if worker.state == "pending":
                try:
                    start(self.store, session, worker)
                except (UserError, OSError) as exc:
                    self.store.transition(worker, "failed", f"could not start: {exc}")
                    write_status(session, worker)
                    continue
                live.append(worker)
        return any(w.state in (*st.OCCUPYING, "pending") for w in workers) or any(
            w.state in ("completed", "failed") and not w.handoff_done for w in workers
        )

    def _screens(
        self, session: st.Session, workers: list[st.Worker], by_id: dict[str, launch.Pane], now: float
    ) -> dict[str, str]:
        """Screens of the live panes (one tmux call): the state of agents without hooks, and everyone's heartbeat
        (a Claude Code worker in a long tool call fires no hook for minutes, but its screen moves)."""
        wanted = [
            w.pane
            for w in workers
            if w.runtime == "tmux" and w.pane in by_id and not by_id[w.pane].dead and w.state in st.OCCUPYING
        ]
        return launch.capture_many([p for p in wanted if p], session.tmux_socket)

    def _reconcile_worker(
        self,
        session: st.Session,
        worker: st.Worker,
        panes: Optional[list[launch.Pane]],
        by_id: dict[str, launch.Pane],
        screens: dict[str, str],
        now: float,
    ) -> None:
        store = self.store
        if worker.runtime == "claude-bg":
            unrecorded = worker.state == "starting" and worker.handle is None
        else:
            unrecorded = worker.state == "starting" and worker.pid is None and worker.pane is None
        if unrecorded and not _adopt(store, session, worker, panes):
            if now - (worker.started_at or 0) < SETTLE:
                return  # a launch a killed supervisor left in flight (its tmux client) may still land: look again
            if worker.runtime == "tmux" and panes is None:
                store.transition(worker, "failed", "its tmux session is gone (the tmux server stopped?)")
                write_status(session, worker)
                return
            _spawn(store, session, worker)  # it never started: start it now (same token)
            return  # the next pass sees its process
        follower = self.follower(worker)
        heard = follower.poll() if follower else False
        exit_code = launch.read_exit(session.name, worker.slug, worker.launch_token)
        pane = by_id.get(worker.pane or "") if worker.runtime == "tmux" else None
        if worker.runtime == "tmux":
            alive = pane is not None and not pane.dead
            if pane is not None and pane.dead and exit_code is None:
                exit_code = pane.dead_status
        elif worker.runtime == "claude-bg" and worker.pid is None:
            alive = self._background_pid(worker, now)  # the service had not listed its process yet
        else:
            launch.reap(worker.pid)
            alive = proc.alive(worker.pid, worker.pid_start)
        screen = screens.get(worker.pane or "")
        if screen is not None:
            mark = detect.fingerprint(screen)
            if mark != worker.fingerprint:
                store.update(worker, fingerprint=mark, heartbeat_at=now)
        if heard:
            store.update(worker, heartbeat_at=now)
        state, reason = self._decide(session, worker, follower, alive, exit_code, screen, panes, now)
        if state is None:
            return
        changed = False
        if state != worker.state or reason != worker.reason:
            changed = store.transition(worker, state, reason, exit_code=exit_code)
        finished = worker.state in ("completed", "failed") and not worker.handoff_done
        if finished:  # the handoff first: whoever sees the finished status.md finds the handoff written
            write_handoff(session, worker, follower)
        if changed or (worker.state in st.LIVE and now - (worker.updated_at or 0) > STATUS_REFRESH):
            if not changed:
                store.update(worker)  # the Updated time ECC reads
            write_status(session, worker)
        if finished:
            self._finished(session, worker)

    def _background_pid(self, worker: st.Worker, now: float) -> bool:
        """A background session whose process was not listed at its launch: look again; alive while it may still
        be on its way."""
        binary = agents.get(worker.agent or "claude").binary
        entry = next(
            (
                e
                for e in launch.background_sessions(binary, os.environ, worker.worktree)
                if e.get("id") == worker.handle
            ),
            {},
        )
        pid = entry.get("pid") if isinstance(entry.get("pid"), int) else None
        if pid is not None:
            self.store.update(worker, pid=pid, pid_start=proc.start_time(pid))
            return proc.alive(worker.pid, worker.pid_start)
        return now - (worker.started_at or now) < HOOK_GRACE

    def _decide(
        self,
        session: st.Session,
        worker: st.Worker,
        follower: Optional[detect.JournalFollower],
        alive: bool,
        exit_code: Optional[int],
        screen: Optional[str],
        panes: Optional[list[launch.Pane]],
        now: float,
    ) -> tuple[Optional[str], Optional[str]]:
        """The state the facts say (None: leave it as it is)."""
        verdict = follower.verdict() if follower and follower.seen else None
        if not alive:
            if verdict and verdict[0] in ("completed", "failed"):
                return verdict
            if exit_code == 0:
                said = agents.get(worker.agent).failed(final_output(session, worker) or "") if worker.agent else None
                return ("failed", f"the agent reported: {said[:200]}") if said else ("completed", None)
            if exit_code is not None:
                return "failed", f"exited with status {exit_code}"
            if worker.runtime == "tmux" and panes is None:
                return "failed", "its tmux session is gone (the tmux server stopped?)"
            if worker.runtime == "claude-bg":
                return "failed", "its background session ended before its turn did"
            return "failed", "its process ended without an exit status (killed?)"
        if verdict is not None:
            state, reason = verdict
        elif worker.agent and agents.get(worker.agent).hooks and now - (worker.started_at or now) < HOOK_GRACE:
            return None, None  # a Claude Code worker's first hook is on its way
        else:
            guess = agents.get(worker.agent).screen_state(screen) if worker.agent and screen else None
            state, reason = (guess or "running"), None
        if state == "running" and now - (worker.heartbeat_at or now) > stale_seconds():
            minutes = int((now - (worker.heartbeat_at or now)) // 60)
            return "stale", f"no sign of life for {minutes} min"
        return state, reason

    def _finished(self, session: st.Session, worker: st.Worker) -> None:
        """The ``worker_finished`` hook, once per finish."""
        env = worker_env(session, worker)
        env.update(ECC_WORKER_STATE=worker.state, ECC_HANDOFF_FILE=worker.handoff_file)
        try:
            lifecycle.snapshot(session.repo_root).run(  # only what the user trusted runs
                "worker_finished",
                cwd=worker.worktree,
                env=env,
                log=os.path.join(launch.state_dir(session.name, worker.slug), "hooks.log"),
            )
        except (UserError, OSError) as exc:
            errorlog.log_error("runtime.worker_finished", str(exc))
        self.store.update(worker, handoff_done=1, finished_at=time.time())


# ---------------------------------------------------------------------------- the HUD's view


QUEUE_TTL = 30.0  # seconds a session's merge queue is reused while its workers' states stay as they were
_QUEUES: dict[str, tuple[float, tuple[Any, ...], dict[str, Any]]] = {}


def queue_snapshot(
    store: st.Store, session: st.Session, workers: list[st.Worker], background: bool = False
) -> Optional[dict[str, Any]]:
    """The session's merge and conflict queues for the HUD, recomputed when a worker's state or a branch (the
    base's too) changed, else after ``QUEUE_TTL`` (never on the status line's path: the supervisor writes it,
    the HUD reads it); None while no worker has finished. ``background`` (the supervisor): the recompute runs in
    the queue thread and the last queue is returned meanwhile, so no session's reconcile waits on another's
    queue."""
    if not any(w.state in st.FINISHED for w in workers):
        return None
    done = gitstate.run(session.repo_root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/",
                        timeout=10)  # fmt: skip
    refs = done[1] if done is not None and done[0] == 0 else b""  # a branch or the base moved: compute again
    signature = (tuple((w.slug, w.state) for w in workers), refs)
    cached = _QUEUES.get(session.name)
    if cached and cached[1] == signature and time.monotonic() - cached[0] < QUEUE_TTL:
        return cached[2]
    if background:
        _QUEUE_THREAD.want(session.name, signature)
        return cached[2] if cached else None
    return _compute_queue(store, session, signature)


def _compute_queue(store: st.Store, session: st.Session, signature: tuple[Any, ...]) -> dict[str, Any]:
    from ecc_hooks.runtime import merge

    try:
        entries = merge.queue(store, session)
        data: dict[str, Any] = {
            "mergeQueue": [e.as_json() for e in entries],
            "conflictQueue": merge.conflicts(entries),
        }
    except UserError as exc:
        data = {"mergeQueue": [], "conflictQueue": [], "error": str(exc)}
    data["at"] = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    _QUEUES[session.name] = (time.monotonic(), signature, data)
    return data


class _QueueThread:
    """The supervisor's queue worker: computes the sessions' queues one at a time, off the reconcile loop (its
    own store connection), then exports ``workers.json`` with them. A daemon thread: it never holds up exit."""

    def __init__(self) -> None:
        self.wanted: dict[str, tuple[Any, ...]] = {}
        self.cond = threading.Condition()
        self.thread: Optional[threading.Thread] = None

    def want(self, name: str, signature: tuple[Any, ...]) -> None:
        with self.cond:
            self.wanted[name] = signature
            if self.thread is None:
                self.thread = threading.Thread(target=self._work, name="ecc-hooks-queues", daemon=True)
                self.thread.start()
            self.cond.notify()

    def _work(self) -> None:
        store: Optional[st.Store] = None
        while True:
            with self.cond:
                while not self.wanted:
                    self.cond.wait()
                name, signature = next(iter(self.wanted.items()))
                del self.wanted[name]
            try:
                store = store or st.Store()
                session = store.session(name)
                if session is not None:
                    _compute_queue(store, session, signature)
                    export(store, background=True)  # another session's changed queue is asked for, not computed
            except Exception as exc:  # the next pass asks again
                errorlog.log_error("runtime.queue", str(exc))


_QUEUE_THREAD = _QueueThread()
_EXPORT_LOCK = threading.Lock()


def export(store: st.Store, queues: bool = True, background: bool = False) -> None:
    """``$ECC_HOOKS_HOME/runtime/workers.json``: every session's workers as the HUD shows them (its
    ``activeAgents``, risk reasons and session controls) and, from the supervisor (``queues``), its merge and
    conflict queues (``background``: computed by the queue thread); rewritten only when it changed."""
    with _EXPORT_LOCK:  # the supervisor's loop and its queue thread
        _export(store, queues, background)


def _export(store: st.Store, queues: bool, background: bool) -> None:
    sessions = []
    old_queues = _previous_queues() if not queues else {}
    for session in store.sessions():
        workers = []
        for w in store.workers(session.name):
            if w.removed:
                continue
            updated = datetime.fromtimestamp(w.updated_at, timezone.utc).isoformat(timespec="seconds")
            workers.append(
                {
                    "id": f"{session.name}/{w.slug}",
                    "state": w.state,
                    "reason": w.reason,
                    "branch": w.branch,
                    "worktree": w.worktree,
                    "objective": w.task,
                    "handoffPath": w.handoff_file,
                    "agent": w.agent,
                    "updatedAt": updated.replace("+00:00", "Z"),
                    "pullRequest": merge_pr(session.name, w.slug),
                }
            )
        item: dict[str, Any] = {"session": session.name, "repoRoot": session.repo_root, "workers": workers}
        rows = [w for w in store.workers(session.name) if not w.removed]
        queue = queue_snapshot(store, session, rows, background) if queues else old_queues.get(session.name)
        if queue is not None:
            item["queue"] = queue
        sessions.append(item)
    from ecc_hooks.core.text import dump_json  # a file others read: every string redacted, inert in a terminal

    data = dump_json({"sessions": sessions}, indent=True)
    path = os.path.join(paths.home(), "runtime", "workers.json")
    try:
        if fsio.read_file(path, 1 << 24) == data:
            return
    except (OSError, ValueError):
        pass
    fsio.atomic_write(path, data, durable=False)


def merge_pr(session: str, slug: str) -> Optional[str]:
    from ecc_hooks.runtime import merge

    return merge.pull_request_url(session, slug)


def _previous_queues() -> dict[str, Any]:
    """The queues the supervisor last wrote (the CLI's own exports keep them rather than compute them)."""
    try:
        data = json.loads(fsio.read_file(os.path.join(paths.home(), "runtime", "workers.json"), 1 << 24))
    except (OSError, ValueError):
        return {}
    return {s["session"]: s["queue"] for s in data.get("sessions", []) if isinstance(s, dict) and "queue" in s}


# ---------------------------------------------------------------------------- the daemon


def running() -> Optional[int]:
    """The running supervisor's pid, or None."""
    from ecc_hooks.hud.watcher import lock_holder

    return lock_holder(lock_path())


def spawn() -> None:
    """Start the supervisor detached unless one runs (a second one exits on the lock)."""
    if running():
        return
    code = paths.launcher_code("ecc_hooks.runtime.supervisor", "sys.exit(main())")
    os.makedirs(paths.home(), mode=0o700, exist_ok=True)
    proc.detach(
        [sys.executable, "-c", code],
        cwd="/",
        env=dict(os.environ),
        log=os.path.join(fsio.ensure_state_dir(os.path.join(paths.home(), "runtime")), "supervisor.log"),
    )


def run_foreground(idle_exit: float = IDLE_EXIT) -> int:
    """Own the single-instance lock and reconcile until stopped or idle for ``idle_exit`` seconds."""
    from ecc_hooks.hud.watcher import acquire_lock

    os.environ["ECC_HOOKS_HOME"] = paths.home()
    fd, holder = acquire_lock(lock_path())
    if fd is None:
        return 0  # another supervisor runs
    stop: list[bool] = []

    def on_term(*_: Any) -> None:  # ends the pass where it is (its writes are made to survive that: see above)
        if not stop:
            stop.append(True)
            raise Stopping

    signal.signal(signal.SIGTERM, on_term)
    from ecc_hooks.runtime import service

    zygote = service.start_zygote(close_fds=(fd,))  # before any database is opened here
    if zygote is None:  # the controls then run in the CLI itself
        errorlog.log_error("runtime.service", "the zygote did not start")
    supervisor = Supervisor(background_queues=True)
    idle_since: Optional[float] = None
    watched = _watch_paths()
    try:
        for _changes in _events(watched, stop):
            if stop:
                break
            try:
                busy = supervisor.reconcile_all()
            except Exception as exc:  # one bad pass must not end supervision
                errorlog.log_error("runtime.supervisor", str(exc))
                busy = True
            now = time.monotonic()
            if busy:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since > idle_exit:
                break
    except Stopping:
        pass
    finally:
        if zygote is not None:
            try:
                os.kill(zygote, signal.SIGTERM)
                os.waitpid(zygote, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(fd)
    return 0


def _watch_paths() -> list[str]:
    out = []
    for sub in ("sessions", "runtime"):
        path = os.path.join(paths.home(), sub)
        fsio.ensure_state_dir(path)
        out.append(path)
    return out


def _events(watched: list[str], stop: list[bool]) -> Iterator[Any]:
    """A pass now, then one per batch of changes to the journals or exit files, and one per tick."""
    import watchfiles

    yield set()
    tick_ms = int(tick_seconds() * 1000)
    for changes in watchfiles.watch(
        *watched,
        debounce=100,
        step=50,
        rust_timeout=tick_ms,
        yield_on_timeout=True,
        recursive=True,
        watch_filter=lambda _change, path: path.endswith(("events.jsonl", os.sep + "exit")) or "exit-" in path,
        raise_interrupt=False,
    ):
        yield changes
        if stop:
            return


def main() -> int:
    try:
        return run_foreground()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
