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

import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any, Optional

from ecc_hooks.core import errorlog, fsio, paths, pidlock, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.timestamps import parse_iso
from ecc_hooks.hud import notify
from ecc_hooks.runtime import agents, control, daemon, detect, failure, launch, lifecycle
from ecc_hooks.runtime import store as st
from ecc_hooks.runtime.snapshot import export
from ecc_hooks.runtime.starter import (
    _adopt,
    _spawn,
    capture_dir,
    fill_slots,
    final_output,
    worker_env,
    write_handoff,
    write_status,
)
from ecc_hooks.runtime.store import session_lock

TICK_ENV = "ECC_HOOKS_SUPERVISOR_TICK"
STALE_ENV = "ECC_HOOKS_STALE_SECONDS"
DEFAULT_TICK = 5.0
STALE_SECONDS = 300.0
IDLE_EXIT = 120.0  # seconds with nothing to watch before the supervisor exits
HOOK_GRACE = 30.0  # seconds a Claude Code worker may start before its screen stands in for its hooks
STATUS_REFRESH = 60.0  # seconds between two rewrites of a busy worker's status.md (ECC reads "Updated")
SETTLE = 3.0  # seconds after an unrecorded launch before it counts as never started


class Stopping(BaseException):
    """SIGTERM: raised in the supervisor's main thread wherever it is (mid-pass too), so it exits at once. Every
    write of a pass survives being cut anywhere, as it survives a kill -9 (the write-ahead launch, one transaction
    per change); a program it runs meanwhile is killed with it (``proc.run``)."""


def tick_seconds() -> float:
    return float(os.environ.get(TICK_ENV) or DEFAULT_TICK)


def stale_seconds() -> float:
    return float(os.environ.get(STALE_ENV) or STALE_SECONDS)


# ---------------------------------------------------------------------------- reconciling


def _running(worker: st.Worker, by_id: dict[str, launch.Pane]) -> bool:
    """Whether the worker's process is there (a live pane, or the pid with its start time)."""
    if worker.runtime == "tmux":
        pane = by_id.get(worker.pane or "")
        return pane is not None and not pane.dead
    return proc.alive(worker.pid, worker.pid_start)


def _notify(session: st.Session, worker: st.Worker, event: str) -> None:
    """The user's ``[notify]`` command (``hud.notify``) for one of a worker's transitions: named session/worker,
    with why it waits or failed (what it was asked to do, when it finished)."""
    name = f"{session.name}/{worker.slug}"
    reason = worker.reason or (worker.task if event == "finished" else None)
    variables = notify.environment(event, worker.agent_session or name, worker.worktree, reason, name=name)
    notify.send(notify.load(), event, variables)


class Supervisor:
    """Reconciles every session of one store."""

    def __init__(self, store: Optional[st.Store] = None, background_queues: bool = False) -> None:
        self.store = store or st.Store()
        self.background_queues = background_queues  # the daemon: queues in the queue thread
        self.followers: dict[tuple[str, str, str, str], detect.JournalFollower] = {}
        # a worker's launch still to be joined with its session: how far each journal was read (detect.find_session)
        self.scanned: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.screens_at = 0.0
        self.watching: list[str] = []  # the sessions with live or queued work at the last pass
        self.seen: set[tuple[str, str]] = set()  # (session, worker) a pass of this process saw: its changes are live

    @staticmethod
    def _follower_key(worker: st.Worker) -> tuple[str, str, str, str]:
        # one per launch: a resumed session (the same id) is judged on its new events only
        return (worker.session, worker.slug, worker.agent_session or "", worker.launch_token or "")

    def follower(self, worker: st.Worker) -> Optional[detect.JournalFollower]:
        if not worker.agent_session:
            worker = self._joined(worker)
        if not worker.agent_session:
            return None
        key = self._follower_key(worker)
        found = self.followers.get(key)
        if found is None:
            since = worker.started_at if worker.launches > 1 else None
            found = detect.JournalFollower(paths.journal_path(worker.agent_session), since=since)
            self.followers = {k: f for k, f in self.followers.items() if k[:2] != key[:2]}  # its earlier launches'
            self.followers[key] = found
        return found

    def _joined(self, worker: st.Worker) -> st.Worker:
        """A worker of an agent that chooses its own session id (Codex, OpenCode, Aider) joined with its session
        once its SessionStart names it (``detect.find_session``), remembered in its record."""
        from ecc_hooks.harness import HARNESSES

        if worker.agent not in HARNESSES or worker.runtime == "claude-bg":
            return worker
        key = (worker.session, worker.slug, worker.launch_token or "")
        read = self.scanned.setdefault(key, {})  # where each journal was read up to, for this launch
        found = detect.find_session(worker.session, worker.slug, worker.started_at, read)
        if found:
            self.store.update(worker, agent_session=found)
            self.scanned = {k: v for k, v in self.scanned.items() if k[:2] != key[:2]}
        return worker

    def reconcile_all(self) -> bool:
        """One pass over every session; whether anything is still live (or queued) to watch."""
        busy = False
        watching = []
        for listed in self.store.sessions():
            try:
                with session_lock(listed.name):
                    session = self.store.session(listed.name)  # as it is now, under its lock (a create may
                    if session is not None and self.reconcile(session):  # have finished since the listing)
                        watching.append(session.name)
                        busy = True
            except UserError as exc:
                errorlog.log_error("runtime.reconcile", str(exc))
                watching.append(listed.name)
                busy = True
        self.watching = watching
        for job in self.store.pending_cleanups():
            control.run_cleanup_job(self.store, job)
        export(self.store, background=self.background_queues)
        return busy

    def reconcile(self, session: st.Session) -> bool:
        """Reconcile one session (the caller holds its lock), then tell the person what changed (``_tell``);
        whether it has live or queued workers."""
        workers = [w for w in self.store.workers(session.name) if not w.removed]
        before = {w.slug: w.state for w in workers}
        busy = self._reconcile(session, workers)
        self._tell(session, workers, before)
        return busy

    def _reconcile(self, session: st.Session, workers: list[st.Worker]) -> bool:
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
        gone = self._gone_worktrees(session, workers)
        for worker in workers:
            if worker.slug in gone:
                continue  # nothing of it can be followed, merged or diffed: failed, and the others go on
            if worker.state in ("pending", "stopped") or (
                worker.state in st.FINISHED and worker.handoff_done and not _running(worker, by_id)
            ):
                continue  # nothing runs there: a finished worker's process is gone (its record is final); one live
                # again after its handoff (a new prompt) is followed, and failed when its process goes
            try:
                self._reconcile_worker(session, worker, panes, by_id, screens, now)
            except st.InvalidTransition as exc:  # the CLI moved it meanwhile: the next pass sees the new state
                errorlog.log_error("runtime.transition", str(exc))
        fill_slots(self.store, session, workers)
        return any(w.state in (*st.OCCUPYING, "pending") for w in workers) or any(
            w.state in ("completed", "failed") and not w.handoff_done for w in workers
        )

    def _tell(self, session: st.Session, workers: list[st.Worker], before: dict[str, str]) -> None:
        """``[notify]`` once per notifiable transition of the pass (``notify.row_event``: waiting, finished,
        failed), except what the worker's own hooks told the watcher, which notifies it, and, for an end, what
        this process never saw happen: a worker found ended at a restart is history unless it ended within
        ``notify.RECENT`` (the watcher's rule for what it folds to catch up)."""
        now = time.time()
        for worker in workers:
            watched = (session.name, worker.slug) in self.seen
            self.seen.add((session.name, worker.slug))
            event = notify.row_event(before.get(worker.slug), worker.state)
            if event is None or self._told_by_hooks(worker, event):
                continue
            if event != "waiting" and not (watched or notify.recent(self._ended_at(session, worker), now)):
                continue
            _notify(session, worker, event)

    def _told_by_hooks(self, worker: st.Worker, event: str) -> bool:
        """Whether the worker's own hooks said it, so the watcher tells it for the worker's session: a wait, or a
        turn that ended with Stop (``finished``: a failing check too) or StopFailure (``failed``). A session that
        ended mid-turn, a process that died, a worktree that went: the supervisor alone knows."""
        follower = self.followers.get(self._follower_key(worker))
        if follower is None or not follower.seen:
            return False
        if event == "waiting":
            return True
        ended = follower.turn_end is not None and not follower.state.ended_mid_turn
        return ended and follower.verdict()[0] == worker.state

    def _ended_at(self, session: st.Session, worker: st.Worker) -> Optional[float]:
        """When the worker ended as its files say (the exit status its wrapper wrote, its last hook), or None."""
        ended = launch.exit_time(session.name, worker.slug, worker.launch_token)
        follower = self.followers.get(self._follower_key(worker))
        if ended is None and follower is not None and follower.seen:
            moment = parse_iso(follower.state.last_event_at)
            ended = moment.timestamp() if moment else None
        return ended

    def _gone_worktrees(self, session: st.Session, workers: list[st.Worker]) -> set[str]:
        """The workers whose worktree was deleted (by hand: a cleanup marks them removed): ``failed`` with that
        reason, unless their work is merged already or a person stopped them; their slugs."""
        gone = set()
        for worker in workers:
            if os.path.isdir(worker.worktree):
                continue
            gone.add(worker.slug)
            reason = f"its worktree is gone: {worker.worktree}"
            if worker.state in ("merged", "stopped") or (worker.state == "failed" and worker.reason == reason):
                continue
            try:
                self.store.transition(worker, "failed", reason, finished_at=worker.finished_at or time.time())
            except st.InvalidTransition as exc:
                errorlog.log_error("runtime.transition", str(exc))
                continue
            write_status(session, worker)
        return gone

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
        if not alive and self._record_exit(session, worker) and follower:
            heard = follower.poll() or heard  # its last event, recorded from its agent's own log
        screen = screens.get(worker.pane or "")
        if screen is not None:
            mark = detect.fingerprint(screen)
            if mark != worker.fingerprint:
                store.update(worker, fingerprint=mark, heartbeat_at=now)
        if heard:
            store.update(worker, heartbeat_at=now)
        state, reason = self._decide(session, worker, follower, alive, exit_code, screen, panes, now)
        if state is None or (worker.state == "merged" and state not in st.LIVE):
            return  # a merged worker stays merged until a person gives it more to do
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

    @staticmethod
    def _record_exit(session: st.Session, worker: st.Worker) -> bool:
        """A headless worker's last event, when its agent runs no hook of ours at its exit (Aider's ``--message``
        run never waits, so its notification never comes): recorded once from its log (``agents.record_exit``)."""
        if worker.runtime != "headless" or worker.state not in st.OCCUPYING or not worker.agent_launch:
            return False
        if not (worker.agent and worker.agent_session and worker.launch_token):
            return False
        try:
            return agents.record_exit(
                worker.agent, capture_dir(session, worker), worker.agent_session, worker.launch_token, worker.worktree
            )
        except (OSError, ValueError) as exc:
            errorlog.log_error("runtime.record_exit", f"{worker.session}/{worker.slug}: {exc}")
            return False

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
            gone = worker.runtime == "tmux" and panes is None and exit_code is None
            if verdict and verdict[0] == "failed" and gone:  # the client's SessionEnd on its way out: say why
                return "failed", failure.reason(
                    f"{self._death(worker, exit_code, panes)}; {verdict[1]}", session, worker
                )
            if verdict and verdict[0] == "failed" and exit_code not in (None, 0):  # its events and its own words
                return "failed", failure.reason(
                    f"{self._death(worker, exit_code, panes)}; {verdict[1]}", session, worker
                )
            if verdict and verdict[0] in ("completed", "failed"):
                return verdict
            if exit_code == 0:
                said = agents.get(worker.agent).failed(final_output(session, worker) or "") if worker.agent else None
                return ("failed", f"the agent reported: {said[:200]}") if said else ("completed", None)
            return "failed", failure.reason(self._death(worker, exit_code, panes), session, worker)
        agent = agents.get(worker.agent) if worker.agent else None
        asks = agent.screen_wait(screen) if agent and screen else None  # what it asks, in its own words
        if verdict is not None:
            state, reason = verdict
            dialog = agent.screen_wait(screen, dialogs_only=True) if agent and screen else None
            # a dialog that fired no hook (yet), or a question after its turn ended (Aider asks to edit a file not in
            # its chat after its reply, whose notification said only that it waits): the screen says
            if dialog and state in ("running", "idle", "completed"):
                state, reason = "waiting", dialog
        elif asks:
            state, reason = "waiting", asks  # the folder trust question: no hook fires before it is answered
        elif agent and agent.hooks and now - (worker.started_at or now) < HOOK_GRACE:
            return None, None  # a Claude Code worker's first hook is on its way
        else:
            guess = agent.screen_state(screen) if agent and screen else None
            state, reason = (guess or "running"), None
        if state == "running" and now - (worker.heartbeat_at or now) > stale_seconds():
            minutes = int((now - (worker.heartbeat_at or now)) // 60)
            return "stale", f"no sign of life for {minutes} min"
        return state, reason

    @staticmethod
    def _death(worker: st.Worker, exit_code: Optional[int], panes: Optional[list[launch.Pane]]) -> str:
        """How a worker's process ended, as far as the runtime saw it (the agent's words follow: ``failure``)."""
        if exit_code is not None:
            return f"exited with status {exit_code}"
        if worker.runtime == "tmux" and panes is None:
            return "its tmux session is gone (the tmux server stopped?)"
        if worker.runtime == "claude-bg":
            return "its background session ended before its turn did"
        return "its process ended without an exit status (killed?)"

    def _finished(self, session: st.Session, worker: st.Worker) -> None:
        """The pane's scrollback kept (``session logs`` reads it once the pane is gone), then the
        ``worker_finished`` hook, once per finish."""
        try:
            control.save_scrollback(session, worker)
        except OSError as exc:
            errorlog.log_error("runtime.scrollback", str(exc))
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
        # the queue orders by completion time (ECC 2.0's rule): when the worker ended, not when a pass saw it (on a
        # loaded machine one pass can find several finished, seconds after the first ended)
        ended = launch.exit_time(session.name, worker.slug, worker.launch_token)
        self.store.update(worker, handoff_done=1, finished_at=min(ended or time.time(), time.time()))


# ---------------------------------------------------------------------------- the daemon


def write_record(since: float, sessions: list[str], ready: bool = True) -> None:
    """The running supervisor's record (``paths.supervisor_record_path``): its pid, since when it runs and the
    sessions it watches. Left behind by a killed supervisor with sessions in it, it is what makes a runtime worker's
    next hook, or the watcher, start it again (``core.spawn.supervisor_wanted``). It also says which protocol its
    helper speaks (a client sends requests only to a helper of its own: not to a supervisor still running the code
    of before an upgrade) and whether its first pass is done (``ready``: a client that started it reads the store
    after that pass)."""
    from datetime import datetime, timezone

    from ecc_hooks.core import jsonlite, timestamps
    from ecc_hooks.runtime import protocol

    started = timestamps.iso(datetime.fromtimestamp(since, timezone.utc))
    record = {"pid": os.getpid(), "since": started, "sessions": sessions, "protocol": protocol.VERSION, "ready": ready}
    try:
        fsio.atomic_write(paths.supervisor_record_path(), (jsonlite.dumps(record) + "\n").encode(), durable=False)
    except OSError as exc:
        errorlog.log_error("runtime.supervisor", f"its record: {exc}")


def remove_record() -> None:
    """Stopping on its own or stopped (``supervise --stop``): nothing to restart."""
    try:
        os.unlink(paths.supervisor_record_path())
    except OSError:
        pass


def run_foreground(idle_exit: float = IDLE_EXIT) -> int:
    """Own the single-instance lock and reconcile until stopped or idle for ``idle_exit`` seconds. Its record is
    written while it runs and removed when it stops either way, while it still holds the lock (the next one's
    record is never removed by the last one); a kill -9 leaves it behind."""
    os.environ["ECC_HOOKS_HOME"] = paths.home()
    fd, holder = pidlock.acquire(daemon.lock_path())
    if fd is None:
        return 0  # another supervisor runs
    stop: list[bool] = []

    def on_term(*_: Any) -> None:  # ends the pass where it is (its writes are made to survive that: see above)
        if not stop:
            stop.append(True)
            raise Stopping

    signal.signal(signal.SIGTERM, on_term)
    from ecc_hooks.runtime import server

    since = time.time()
    # which protocol its helper speaks, before it listens; the sessions a killed one left to watch kept
    written: Optional[list[str]] = [s for s in daemon.record().get("sessions") or [] if isinstance(s, str)]
    write_record(since, written, ready=False)
    zygote = server.start_zygote(close_fds=(fd,))  # before any database is opened here
    if zygote is None:  # the controls then run in the CLI itself
        errorlog.log_error("runtime.server", "the zygote did not start")
    supervisor = Supervisor(background_queues=True)
    idle_since: Optional[float] = None
    ready = False
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
            if supervisor.watching != written or not ready:
                written, ready = list(supervisor.watching), True
                write_record(since, written)
            now = time.monotonic()
            if busy:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since > idle_exit:
                break
        remove_record()
    except Stopping:
        remove_record()
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
        watch_filter=lambda _change, path: (
            path.endswith(("events.jsonl", os.sep + "exit", os.sep + daemon.WAKE)) or "exit-" in path
        ),
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
