"""The session controls over the store and the workspace: create, stop, resume, retry, clean up, forget, list. The
engine (``runtime.engine``) calls them, under the session's lock where they say so; nothing here imports the
supervisor.

**No lost work.** ``stop`` saves each pane's scrollback (redacted) before it ends the agent: its own interrupt
keys, then SIGTERM to its process group, then SIGKILL after a grace period. A cleanup removes a worker's worktree
and branch only when nothing would be lost: it refuses a worktree with uncommitted changes (untracked files
included) or a branch with commits its base does not have. ``--force`` removes them anyway, but first commits
the uncommitted work onto the branch and keeps the branch's tip under ``refs/ecc-hooks/backup/<session>/<worker>``,
so every commit stays reachable (``git log refs/ecc-hooks/backup/...``). Refusals are checked when the cleanup is
asked for (a clear error, nothing queued) and again by the supervisor's cleanup queue under the repository's git
mutex just before it removes anything.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any, Optional

from ecc_hooks.core import fsio, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.runtime import agents, daemon, launch, lifecycle, records, snapshot, starter, workspace
from ecc_hooks.runtime import store as st
from ecc_hooks.runtime.figures import real_agent
from ecc_hooks.runtime.plan import SessionPlan
from ecc_hooks.runtime.records import Refused

GRACE = 10.0  # seconds an agent has to exit after its interrupt, then after SIGTERM
BACKUP_PREFIX = "refs/ecc-hooks/backup"
SCROLLBACK_LINES = 200  # lines of saved scrollback ``resume`` shows


# ---------------------------------------------------------------------------- create


def create(
    session: SessionPlan, hooks: Optional[lifecycle.HookSet] = None, warn: Optional[Callable[[str], None]] = None
) -> st.Session:
    """Record the session, make its workspace (all or nothing), launch what ``maxParallel`` allows (in the
    creator's environment: the runtime's helper runs this with the caller's), then make sure a supervisor runs: it
    follows them and launches the rest as slots free up. ``warn`` gets what the user should know (untrusted text:
    the caller cleans it): the base checkout's uncommitted files, which the workers start without."""
    from filelock import FileLock

    store = st.Store()
    old = store.session(session.session)
    if old is not None:
        if any(not w.removed for w in store.workers(old.name)):
            raise Refused("exists", f"a session named {session.session!r} runs already (ecc-hooks session list)")
        store.delete_session(old.name)
    with FileLock(lifecycle.ports_lock_path(), mode=0o600):
        fsio.ensure_state_dir(os.path.dirname(lifecycle.ports_lock_path()))
        taken = [(w.port_base, w.ports) for w in store.workers() if w.port_base and not w.removed]
        ports: dict[str, int] = {}
        for worker in session.workers:
            if worker.spec.ports:
                ports[worker.slug] = lifecycle.choose_window(worker.spec.ports, taken)
                taken.append((ports[worker.slug], worker.spec.ports))
        row = st.Session(
            name=session.session,
            repo_root=session.repo_root,
            coordination_dir=session.coordination_dir,
            base_ref=session.base_ref,
            base_commit=None,
            max_parallel=session.max_parallel,
            tmux_socket=launch.tmux_socket(),
            plan_file=session.plan_file,
            created_at=time.time(),
            creator_pid=os.getpid(),
            creator_start=proc.start_time(os.getpid()),
        )
        store.add_session(row, [_worker_row(session, w, n, ports.get(w.slug)) for n, w in enumerate(session.workers)])
    try:
        made = workspace.create(session, ports, hooks)
    except BaseException:
        store.delete_session(session.session)
        raise
    for note in ([workspace.dirty_warning(made.dirty)] if made.dirty else []) + made.notes:
        if warn is not None:
            warn(note)
    store.session_ready(session.session, made.base)
    row.base_commit, row.creator_pid, row.creator_start = made.base, None, None
    with st.session_lock(row.name):  # the first launches take the creator's environment, as later ones do not
        starter.fill_slots(store, row, [w for w in store.workers(row.name) if not w.removed])
    snapshot.export(store, queues=False)
    daemon.spawn()  # unless one runs: it follows them, and launches the rest as slots free up (their exits wake it)
    return row


def _worker_row(session: SessionPlan, worker: Any, seq: int, port_base: Optional[int]) -> st.Worker:
    now = time.time()
    return st.Worker(
        session=session.session,
        slug=worker.slug,
        seq=seq,
        name=worker.name,
        agent=worker.spec.agent,
        runtime=worker.spec.runtime,
        branch=worker.branch,
        worktree=worker.worktree,
        task=worker.task,
        task_file=worker.task_file,
        status_file=worker.status_file,
        handoff_file=worker.handoff_file,
        launch_command=worker.launch_command,
        agent_launch=int(worker.agent_launch),
        agent_session=worker.session_id,
        state="pending",
        reason=None,
        launch_token=None,
        command=None,
        launches=0,
        pane=None,
        handle=None,
        pid=None,
        pid_start=None,
        exit_code=None,
        port_base=port_base,
        ports=worker.spec.ports,
        fingerprint=None,
        heartbeat_at=None,
        started_at=None,
        finished_at=None,
        handoff_done=0,
        removed=0,
        updated_at=now,
    )


# ---------------------------------------------------------------------------- stop and resume


def save_scrollback(session: st.Session, worker: st.Worker) -> Optional[str]:
    """The pane's whole scrollback (a background session's ``claude logs``), redacted, into the worker's state
    folder; its path (None: nothing to save)."""
    if worker.runtime == "claude-bg" and worker.handle:
        done = proc.run([agents.get("claude").binary, "logs", worker.handle], cwd=worker.worktree, timeout=30)
        text: Optional[str] = done.out.decode("utf-8", "replace") if done.ok else None
    elif worker.runtime != "tmux" or not worker.pane:
        return None
    else:
        text = launch.capture(worker.pane, session.tmux_socket, history=True)
    if text is None:
        return None
    path = os.path.join(launch.state_dir(session.name, worker.slug), "scrollback.txt")
    fsio.atomic_write(path, redact(text, None).encode("utf-8"))
    return path


def _gone(session: st.Session, worker: st.Worker) -> bool:
    if worker.runtime == "tmux" and worker.pane:
        found = {p.id: p for p in launch.panes(session.name, session.tmux_socket) or []}
        pane = found.get(worker.pane)
        return pane is None or pane.dead
    launch.reap(worker.pid)
    return not proc.alive(worker.pid, worker.pid_start)


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def end_process(session: st.Session, worker: st.Worker, grace: float = GRACE) -> str:
    """End the worker's agent: its interrupt keys, then SIGTERM, then SIGKILL; how it ended."""
    if _gone(session, worker):
        return "not running"
    if worker.runtime == "claude-bg" and worker.handle:  # its own stop: the conversation is kept
        proc.run([agents.get("claude").binary, "stop", worker.handle], cwd=worker.worktree, timeout=30)
        if _wait(lambda: _gone(session, worker), grace):
            return "stopped by claude stop"
    if worker.runtime == "tmux" and worker.pane:
        keys = agents.get(worker.agent).interrupt if worker.agent else ("C-c",)
        for key in keys:
            launch.send_keys(worker.pane, key, socket=session.tmux_socket)
            time.sleep(0.3)
        if _wait(lambda: _gone(session, worker), grace):
            return "interrupted"
    launch.signal_worker(worker.pid, worker.pid_start, signal.SIGTERM)
    if _wait(lambda: _gone(session, worker), grace):
        return "terminated"
    launch.signal_worker(worker.pid, worker.pid_start, signal.SIGKILL)
    _wait(lambda: _gone(session, worker), grace)
    return "killed"


def stop(store: st.Store, session: st.Session, workers: list[st.Worker], grace: float = GRACE) -> list[tuple[str, str]]:
    """Stop these workers of the session (the caller holds its lock): (slug, what happened) each."""
    done: list[tuple[str, str]] = []
    for w in workers:
        if w.state == "pending":
            store.transition(w, "stopped", "stopped before it started")
            starter.write_status(session, w)
            done.append((w.slug, "stopped before it started"))
            continue
        saved = save_scrollback(session, w)
        how = end_process(session, w, grace)
        if w.state in ("starting", *st.LIVE, "stale"):
            store.transition(w, "stopped", f"stopped by the user ({how})")
            starter.write_status(session, w)
        if w.runtime == "tmux" and w.pane:
            launch.tmux("kill-pane", "-t", w.pane, socket=session.tmux_socket, check=False)
            store.update(w, pane=None)
        done.append((w.slug, how + (f"; scrollback saved to {saved}" if saved else "")))
    return done


def _end_for_relaunch(session: st.Session, worker: st.Worker) -> None:
    """A worker about to be launched again: what still runs of it ended (its scrollback kept first)."""
    if worker.state == "stale" or (worker.state in ("failed", "completed") and not _gone(session, worker)):
        save_scrollback(session, worker)
        end_process(session, worker)


def _scrollback(session: st.Session, worker: st.Worker) -> Optional[tuple[str, int, str]]:
    """The worker's saved scrollback as it was before it stopped: (slug, lines, text), its last
    ``SCROLLBACK_LINES`` lines (None: none saved)."""
    path = os.path.join(launch.state_dir(session.name, worker.slug), "scrollback.txt")
    try:
        lines = fsio.read_file(path).decode("utf-8", "replace").rstrip("\n").splitlines()
    except (OSError, ValueError):
        lines = []
    if not lines:
        return None
    kept = lines[-SCROLLBACK_LINES:]
    return worker.slug, len(kept), "\n".join(kept)


def resume(
    store: st.Store, session: st.Session, workers: list[st.Worker], named: bool = False, prompt: Optional[str] = None
) -> tuple[list[str], list[tuple[str, int, str]]]:
    """Relaunch the stopped, failed and stale ones of these workers (with ``named``, a worker the person named:
    any finished state) with their agent's resume command (the caller holds the session's lock): the slugs
    relaunched, and each one's saved scrollback (slug, lines, text) as it was before it stopped. ``prompt``: what
    the resumed agent is told (a headless Claude Code run needs a prompt: without one it gets
    ``agents.RESUME_PROMPT``)."""
    wanted = ("stopped", "failed", "stale", "completed") if named else ("stopped", "failed", "stale")
    chosen = [w for w in workers if w.state in wanted]
    if prompt is not None:
        if not prompt.strip():
            raise UserError("the prompt is empty")
        scripts = [w.slug for w in chosen if not (w.agent and w.agent_launch)]
        if scripts:
            raise UserError(f"--prompt is for agent workers; these run a launcherCommand: {', '.join(scripts)}")
    commands = {w.slug: starter.launch_command(w, True, prompt) for w in chosen}  # refusals before any launch
    resumed: list[str] = []
    shown: list[tuple[str, int, str]] = []
    for w in chosen:
        _end_for_relaunch(session, w)
        saved = _scrollback(session, w)
        if saved:
            shown.append(saved)
        if w.pane:
            launch.tmux("kill-pane", "-t", w.pane, socket=session.tmux_socket, check=False)
        starter.start(store, session, w, resume=True, command=commands[w.slug])
        resumed.append(w.slug)
    return resumed, shown


RETRYABLE = ("failed", "stopped", "stale")


def retry(store: st.Store, session: st.Session, workers: list[st.Worker], named: bool = False) -> list[str]:
    """Launch the failed, stopped and stale ones of these workers again with their original command, from the start
    of their task (their worktree as it is; the caller holds the session's lock); the slugs relaunched. A Claude
    Code worker gets a new session id (its old session stays resumable by its own id): the runtime follows the new
    one. ``named``: the person named the worker, so one in another state is refused with why."""
    import uuid

    retried = []
    chosen = [w for w in workers if w.state in RETRYABLE]
    if named and not chosen:
        raise UserError(f"{workers[0].slug} is {workers[0].state}: only {', '.join(RETRYABLE)} workers are retried")
    for w in chosen:
        _end_for_relaunch(session, w)
        if w.pane:
            launch.tmux("kill-pane", "-t", w.pane, socket=session.tmux_socket, check=False)
        values: dict[str, Any] = {}
        command = w.launch_command
        if w.agent_session and w.agent_session in command:  # the id we chose, in --session-id
            values["agent_session"] = str(uuid.uuid4())
            command = command.replace(w.agent_session, values["agent_session"])
        elif w.runtime == "claude-bg":
            values["agent_session"] = None  # the service chooses a new one
            values["handle"] = None
        starter.start(store, session, w, command=command, reason="retrying", **values)
        retried.append(w.slug)
    return retried


# ---------------------------------------------------------------------------- cleanup


def _git(cwd: str, *args: str) -> str:
    return workspace.git(cwd, *args)


def lost_work(session: st.Session, worker: st.Worker) -> list[str]:
    """What removing the worker would lose: uncommitted changes, commits its base does not have."""
    problems = []
    if os.path.isdir(worker.worktree):
        dirty = [line for line in _git(worker.worktree, "status", "--porcelain", "-uall").splitlines() if line]
        if dirty:
            problems.append(f"{len(dirty)} uncommitted change(s) in {worker.worktree}")
    if _git(session.repo_root, "branch", "--list", worker.branch).strip():
        base = _git(session.repo_root, "rev-parse", "--verify", session.base_ref + "^{commit}").strip()
        ahead = _git(session.repo_root, "rev-list", f"{base}..{worker.branch}").split()
        if ahead and _squashed(session, worker):
            ahead = []  # its commits' work is in the base as one squash commit: nothing of it is lost
        if ahead:
            problems.append(f"{len(ahead)} commit(s) on {worker.branch} that {session.base_ref} does not have")
    return problems


def _squashed(session: st.Session, worker: st.Worker) -> bool:
    """Whether ``merge-queue --apply`` merged the branch as it is now (a squash leaves its commits out of the
    base, their work in it)."""
    from ecc_hooks.runtime import merge

    record = merge.merged_record(session.name, worker.slug)
    tip = _git(session.repo_root, "rev-parse", "--verify", worker.branch + "^{commit}").strip()
    return record is not None and record["tip"] == tip


def request_cleanup(name: str, worker: Optional[str] = None, force: bool = False) -> list[tuple[str, int]]:
    """Queue the removal of the workers' worktrees and branches (checked now: a refusal naming every problem,
    nothing queued, when a worker still runs, or would lose work and not ``force``); (slug, job id) each."""
    store = st.Store()
    session, workers = store.targets(name, worker)
    live = [w.slug for w in workers if w.state in ("starting", *st.LIVE, "stale")]
    if live:
        raise Refused("live-workers", f"stop these workers before cleaning up: {', '.join(live)}",
                      records.Stop(name, worker))  # fmt: skip
    refusals = [] if force else [f"{w.slug}: {p}" for w in workers for p in lost_work(session, w)]
    if refusals:
        raise Refused(
            "lost-work",
            "cleanup refused, it would lose work:\n  " + "\n  ".join(refusals) + "\n"
            f"Merge or commit it first, or pass --force (the work is kept under {BACKUP_PREFIX}/{name}/<worker>).",
            records.Cleanup(name, worker, force=True),
        )
    jobs = [(w.slug, store.request_cleanup(name, w.slug, force)) for w in workers]
    daemon.wake()
    return jobs


def backup_ref(session: str, slug: str) -> str:
    return f"{BACKUP_PREFIX}/{session}/{slug}"


def _save_work(session: st.Session, worker: st.Worker) -> Optional[str]:
    """With --force: commit uncommitted work onto the branch and keep its tip under the backup ref; the ref."""
    repo = session.repo_root
    if os.path.isdir(worker.worktree) and _git(worker.worktree, "status", "--porcelain", "-uall").strip():
        has_identity = _git_ok(worker.worktree, "config", "user.email")
        identity = [] if has_identity else ["-c", "user.name=ecc-hooks", "-c", "user.email=ecc-hooks@localhost"]
        _git(worker.worktree, "add", "-A")
        _git(
            worker.worktree,
            *identity,
            "commit",
            "--no-verify",
            "-q",
            "-m",
            f"ecc-hooks: uncommitted work of {worker.slug} kept before cleanup",
        )
    if not _git(repo, "branch", "--list", worker.branch).strip():
        return None
    tip = _git(repo, "rev-parse", "--verify", worker.branch + "^{commit}").strip()
    ref = backup_ref(session.name, worker.slug)
    _git(repo, "update-ref", ref, tip)
    return ref


def _git_ok(cwd: str, *args: str) -> bool:
    done = workspace.gitstate.run(cwd, *args, timeout=10)
    return done is not None and done[0] == 0 and bool(done[1].strip())


def remove_worker(store: st.Store, session: st.Session, worker: st.Worker, force: bool) -> str:
    """Remove the worker's worktree and branch (the caller holds the session's lock); what was done."""
    problems = lost_work(session, worker)
    if problems and not force:
        raise UserError("refused, it would lose work: " + "; ".join(problems))
    try:
        save_scrollback(session, worker)  # its pane goes with it: ``session logs`` reads this afterwards
    except OSError:
        pass
    end_process(session, worker, grace=2.0)
    env = starter.worker_env(session, worker)
    log = os.path.join(launch.state_dir(session.name, worker.slug), "hooks.log")
    lifecycle.snapshot(session.repo_root).run("before_worktree_remove", cwd=worker.worktree, env=env, log=log)
    repo = session.repo_root
    kept = None
    with workspace.repo_mutex(repo):
        if problems:
            kept = _save_work(session, worker)
        if os.path.isdir(worker.worktree):
            _git(repo, "worktree", "remove", "--force", worker.worktree)
        _git(repo, "worktree", "prune")
        if _git(repo, "branch", "--list", worker.branch).strip():
            _git(repo, "branch", "-D", worker.branch)
    if worker.pane:
        launch.tmux("kill-pane", "-t", worker.pane, socket=session.tmux_socket, check=False)
    store.update(worker, removed=1, pane=None)
    return "removed" + (f" (its work is kept under {kept})" if kept else "")


def run_cleanup_job(store: st.Store, job: Any) -> None:
    """One job of the cleanup queue (the supervisor's); its result is recorded on the job."""
    try:
        with st.session_lock(job["session"]):
            session = store.require_session(job["session"])
            worker = store.worker(job["session"], job["slug"])
            result = "removed" if worker.removed else remove_worker(store, session, worker, bool(job["force"]))
    except UserError as exc:
        result = f"refused: {exc}"
    store.finish_cleanup(job["id"], result)
    remaining = [w for w in store.workers(job["session"]) if not w.removed]
    if not remaining and store.session(job["session"]) is not None:
        session = store.require_session(job["session"])
        launch.tmux("kill-session", "-t", "=" + session.name, socket=session.tmux_socket, check=False)


def forget(name: str, force: bool = False) -> list[str]:
    """``session rm``: remove a finished session from the runtime: what is left of its workers' worktrees and
    branches (by ``remove_worker``'s no-lost-work rules: refused, naming each problem, unless ``force``, which
    keeps the work under the backup refs first), its tmux session, its state folder and its records. The
    coordination folder in the repository (status, handoffs) stays. Refused while a worker runs. What was done."""
    store = st.Store()
    done: list[str] = []
    with st.session_lock(name):
        session = store.require_session(name)
        if session.creator_pid is not None and proc.alive(session.creator_pid, session.creator_start):
            raise UserError(f"session {name!r} is still being created")
        workers = store.workers(name)
        live = [
            f"{w.slug} ({w.state})" for w in workers if not w.removed and w.state in ("starting", *st.LIVE, "stale")
        ]
        if live:
            raise UserError(
                f"session {name!r} still runs: {', '.join(live)}; stop it first (ecc-hooks session stop {name})"
            )
        left = [w for w in workers if not w.removed and _has_workspace(session, w)]
        problems = [f"{w.slug}: {p}" for w in left for p in lost_work(session, w)]
        if problems and not force:
            raise UserError(
                f"session {name!r} was not removed, it would lose work:\n  " + "\n  ".join(problems) + "\n"
                f"Merge it (session merge-queue {name} --apply) or commit it first, or pass --force (the work is kept "
                f"under {BACKUP_PREFIX}/{name}/<worker>)."
            )
        for w in left:
            done.append(f"{w.slug}: {remove_worker(store, session, w, force)}")
        launch.tmux("kill-session", "-t", "=" + session.name, socket=session.tmux_socket, check=False)
        store.delete_session(name)
        _remove_state(name)
    snapshot.export(store, queues=False)
    return done


def _has_workspace(session: st.Session, worker: st.Worker) -> bool:
    """Whether the worker's worktree or branch is still there."""
    return os.path.isdir(worker.worktree) or bool(_git(session.repo_root, "branch", "--list", worker.branch).strip())


def _remove_state(name: str) -> None:
    """The session's state folder (logs, saved scrollback, exit files), its lock file kept (we hold it)."""
    from ecc_hooks.core import paths

    folder = os.path.join(paths.home(), "runtime", name)
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        if entry != "session.lock" and not entry.endswith(".lock"):
            try:
                fsio.remove(os.path.join(folder, entry), paths.home())
            except OSError:
                pass


# ---------------------------------------------------------------------------- reading


def summary(store: st.Store) -> list[dict[str, Any]]:
    """Every session with its workers' states (``session list``)."""
    out = []
    for session in store.sessions():
        workers = [w for w in store.workers(session.name) if not w.removed]
        counts: dict[str, int] = {}
        for w in workers:
            counts[w.state] = counts.get(w.state, 0) + 1
        out.append(
            {
                "session": session.name,
                "repoRoot": session.repo_root,
                "coordinationDir": session.coordination_dir,
                "tmux": f"tmux -L {session.tmux_socket} attach -t ={session.name}",
                "maxParallel": session.max_parallel,
                "workers": [
                    {"id": w.slug, "state": w.state, "reason": w.reason, "agent": real_agent(w), "branch": w.branch}
                    for w in workers
                ],
                "states": counts,
            }
        )
    return out
