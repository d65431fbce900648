"""A killed supervisor comes back without any CLI command while its sessions live: the next hook of a runtime worker
restarts it (``core.spawn.restart_supervisor``), and the watcher does when no hook fires; ``session supervise
--status`` and ``--stop`` say whether one runs and stop it (then nothing restarts it).

Each test queues a worker behind ``maxParallel`` 1, SIGKILLs the supervisor while the first worker runs, lets the
first worker finish, and waits for the queued one to run: only a supervisor launches it, and no CLI command runs.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from ecc_hooks.cli import install
from ecc_hooks.core import paths
from ecc_hooks.runtime import daemon
from ecc_hooks.runtime import store as st
from tests.helpers import alive, ecc, make_repo, wait_until

SESSION = "queued"


def waiting_for(path: Path) -> str:
    return f"while [ ! -e {path} ]; do sleep 0.1; done"


def create(repo: Path, first: str, tmp: Path) -> None:
    workers = [
        {"name": "first", "task": "t", "launcherCommand": first, "runtime": "headless"},
        {"name": "queued", "task": "t", "launcherCommand": f"echo ran > {tmp / 'queued-ran'}", "runtime": "headless"},
    ]
    plan = tmp / "plan.json"
    plan.write_text(json.dumps({"sessionName": SESSION, "repoRoot": str(repo), "maxParallel": 1, "workers": workers}))
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr


def state(slug: str) -> str:
    return st.Store(reading=True).worker(SESSION, slug).state


def running_supervisor() -> int | None:
    pid = daemon.running()
    return pid if pid and pid > 0 else None


def kill_supervisor() -> int:
    pid = wait_until(running_supervisor, 30, "a supervisor")
    wait_until(lambda: SESSION in daemon.record().get("sessions", []), 30, "its record naming the session")
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), 30, "the supervisor to die")
    return pid


def test_the_next_hook_of_a_running_worker_restarts_a_killed_supervisor(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    hook = tmp_path / "hook.sh"  # the hook command as installed, run by the worker as Claude Code would run it
    hook.write_text(f"exec {install.python_command(install.HOOK_MODULE)}\n")
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"session_id": "w-1", "hook_event_name": "Stop", "cwd": str(repo)}))
    fire, end = tmp_path / "fire", tmp_path / "end"
    create(repo, f"{waiting_for(fire)}; sh {hook} < {payload}; {waiting_for(end)}", tmp_path)
    wait_until(lambda: state("first") == "running", 30, lambda: state("first"))
    killed = kill_supervisor()
    assert state("queued") == "pending"
    fire.touch()  # the worker's next hook
    # (a new holder writes its pid just after locking: the file may still name the killed one for a moment)
    restarted = wait_until(lambda: running_supervisor() not in (None, killed) and running_supervisor(), 30, "a restart")
    assert (Path(paths.journal_path("w-1"))).exists()  # the event was recorded too
    env = Path(f"/proc/{restarted}/environ").read_bytes().split(b"\0")
    assert not any(
        v.startswith((b"ECC_SESSION=", b"ECC_WORKER=", b"ECC_HOOKS_LAUNCH=")) for v in env
    )  # not the worker's
    end.touch()
    wait_until(lambda: state("queued") == "completed", 60, lambda: f"queued: {state('queued')}")
    assert (tmp_path / "queued-ran").read_text() == "ran\n"


def test_the_watcher_restarts_a_killed_supervisor_when_no_hook_fires(tmp_path: Path, runtime: str, daemons) -> None:
    repo = make_repo(tmp_path / "repo")
    end = tmp_path / "end"
    create(repo, waiting_for(end), tmp_path)
    wait_until(lambda: state("first") == "running", 30, lambda: state("first"))
    daemons("--idle-exit", "300")
    killed = kill_supervisor()
    end.touch()  # the first worker finishes while no supervisor runs, and fires no hook
    wait_until(lambda: state("queued") == "completed", 60, lambda: f"queued: {state('queued')}")
    wait_until(lambda: running_supervisor() not in (None, killed), 30, "the restarted supervisor")


def test_supervise_status_and_stop(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    end = tmp_path / "end"
    create(repo, waiting_for(end), tmp_path)
    pid = wait_until(running_supervisor, 30, "a supervisor")
    wait_until(lambda: SESSION in daemon.record().get("sessions", []), 30, "its record naming the session")
    told = ecc("session", "supervise", "--status", cwd=repo)
    assert told.returncode == 0 and f"pid {pid}" in told.stdout and SESSION in told.stdout, told.stdout
    found = json.loads(ecc("session", "supervise", "--status", "--json", cwd=repo).stdout)
    assert found["running"] and found["pid"] == pid and found["sessions"] == [SESSION] and found["since"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), 30, "the supervisor to die")
    pending = ecc("session", "supervise", "--status", cwd=repo)  # --status starts none
    assert pending.returncode == 1 and "killed while sessions were live" in pending.stdout, pending.stdout
    assert running_supervisor() is None
    daemon.spawn()
    again = wait_until(running_supervisor, 30, "a supervisor")
    stopped = ecc("session", "supervise", "--stop", cwd=repo)
    assert stopped.returncode == 0 and f"pid {again}" in stopped.stdout, stopped.stdout
    assert not alive(again) and not os.path.exists(paths.supervisor_record_path())  # stopped: nothing restarts it
    gone = ecc("session", "supervise", "--status", cwd=repo)
    assert gone.returncode == 1 and gone.stdout.strip() == "not running"
    end.touch()
