"""Starting a worker: the write-ahead launch (``start``), adopting a launch a killed supervisor left in flight, and
the worker's ``status.md`` and ``handoff.md``.

Used by the supervisor's reconcile loop and by the operations (``control``: resume and retry; ``merge``: a conflict
resolution), so neither needs the daemon: imports go one way, ``supervisor`` -> ``control | merge`` -> ``starter``.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from ecc_hooks.core import errorlog, fsio, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime import agents, detect, files, launch, lifecycle
from ecc_hooks.runtime import store as st
from ecc_hooks.sources import git as gitstate

CRASH_ENV = "ECC_HOOKS_CRASH_AT"  # fault injection for the tests: SIGKILL this process at the named point


def crash_point(name: str) -> None:
    """Die here, as a kill -9 would, when ``$ECC_HOOKS_CRASH_AT`` names this point (tests of the write-ahead)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------------------- status.md and handoff.md


def write_status(session: st.Session, worker: st.Worker) -> None:
    """The worker's status.md in ECC's format (a failure to write is logged, never fatal). One the worker or its
    launcher wrote keeps all it said, with the runtime's state and time merged in (``files.merge_status``)."""
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
    root = files.root_of(session.repo_root, session.coordination_dir)
    try:
        files.write_kept(
            worker.status_file, text, root, launch.marks_path(session.name, worker.slug), files.merge_status
        )
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
    """The worker's handoff.md from its final message and its worktree's git, under ECC's headings: only where
    none is, or where it is still the runtime's (its pending template, its own earlier handoff). A handoff the
    worker or its launcher wrote (ECC's ``orchestrate-codex-worker.sh`` writes one) is their report: never
    replaced."""
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
    root = files.root_of(session.repo_root, session.coordination_dir)
    try:
        marks = launch.marks_path(session.name, worker.slug)
        files.write_kept(worker.handoff_file, text, root, marks, template=files.pending_handoff_md(worker.name))
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


def launch_command(worker: st.Worker, resume: bool, prompt: Optional[str] = None) -> str:
    """What a launch runs: the planned command, or the agent's resume command when it can resume (with the
    planned model and permission mode, on ``prompt`` when given; a headless Claude Code run needs one and gets
    ``agents.RESUME_PROMPT`` without it)."""
    if resume and worker.agent and worker.agent_launch:
        agent = agents.get(worker.agent)
        options = agent.launch_options(worker.launch_command)
        line = agent.resume_line(worker.agent_session, worker.runtime, prompt, options)
        if line:
            return line
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
    command = command or launch_command(worker, resume)
    captured = capture(session, worker, command, resume, values)
    if captured is not None:
        command, values["agent_session"] = captured.line, captured.session_id
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
        command=command,
        **values,
    )
    write_status(session, worker)
    crash_point("before-spawn")
    _spawn(store, session, worker, captured.env if captured else {})


def fill_slots(store: st.Store, session: st.Session, workers: list[st.Worker]) -> None:
    """Launch pending workers while the session has a free slot (``maxParallel``; the caller holds its lock). A
    worker that cannot start is ``failed`` with why; the others go on."""
    live = [w for w in workers if w.state in st.OCCUPYING]
    limit = session.max_parallel or len(workers)
    for worker in workers:
        if len(live) >= limit:
            break
        if worker.state == "pending":
            try:
                start(store, session, worker)
            except (UserError, OSError) as exc:
                store.transition(worker, "failed", f"could not start: {exc}")
                write_status(session, worker)
                continue
            live.append(worker)


@dataclass(frozen=True)
class Captured:
    """A launch of an agent with a harness module, given its capture (``agents.capture``): the line it runs with
    the capture's arguments, the capture's environment, and the agent session id it chose (None: the session is
    found by its SessionStart, which names the worker: ``detect.find_session``)."""

    line: str
    env: dict[str, str]
    session_id: Optional[str]


def capture_dir(session: st.Session, worker: st.Worker) -> str:
    """The worker's private folder for its agent's capture files (0700, in its state folder)."""
    return os.path.join(launch.state_dir(session.name, worker.slug), "capture")


def capture(
    session: st.Session, worker: st.Worker, line: str, resume: bool, values: dict[str, Any]
) -> Optional[Captured]:
    """The capture a launch of ``line`` gets (``values``: the columns the launch changes, a conflict resolver's
    agent among them), or None: not the agent's own command (a launcher of ECC's kind), an agent without a
    harness module, a line that cannot take the capture's arguments. A fresh launch offers a new session id (Gemini
    CLI takes it, like Claude Code's ``--session-id``); a resume offers none (the agent continues its own)."""
    name = values.get("agent", worker.agent)
    if not name or not values.get("agent_launch", worker.agent_launch) or worker.runtime == "claude-bg":
        return None
    agent = agents.get(name)
    found = agents.capture(name, capture_dir(session, worker), None if resume else str(uuid.uuid4()))
    if found is None:
        return None
    captured = agent.with_capture(line, found.args, worker.runtime) if found.args else line
    if captured is None:
        errorlog.log_error("runtime.capture", f"{worker.session}/{worker.slug}: its command takes no capture")
        return None
    return Captured(captured, dict(found.env), found.session_id)


def capture_env(session: st.Session, worker: st.Worker) -> dict[str, str]:
    """The capture's environment of a launch ``start`` recorded but did not start (a kill between the two): the
    same call with the session id the launch recorded."""
    if not worker.agent or not worker.agent_launch or worker.runtime == "claude-bg":
        return {}
    found = agents.capture(worker.agent, capture_dir(session, worker), worker.agent_session)
    return dict(found.env) if found else {}


def _spawn(
    store: st.Store, session: st.Session, worker: st.Worker, captured_env: Optional[dict[str, str]] = None
) -> None:
    token = worker.launch_token or ""
    if captured_env is None:
        captured_env = capture_env(session, worker)
    # the caller's environment, the capture's and the worker's: given to the process, never written into a
    # command line
    env = {**os.environ, **captured_env, **worker_env(session, worker), launch.TOKEN_ENV: token}
    exit_file = launch.exit_path(session.name, worker.slug, token)
    command = worker.command or worker.launch_command
    if worker.agent and agents.get(worker.agent).settings_flag:
        agents.write_settings()  # the layer with our hooks its command names (it may be the first launch here)
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
            label=worker.name,
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
            launch.name_pane(session.name, pane.id, worker.slug, session.tmux_socket, worker.name)
            pid_start = proc.start_time(pane.pid) if pane.pid else None
            store.update(worker, pane=pane.id, pid=pane.pid, pid_start=pid_start)
            return True
    return launch.read_exit(session.name, worker.slug, token) is not None
