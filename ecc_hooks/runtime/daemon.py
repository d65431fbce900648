"""The supervisor as a process: where its single-instance lock lies, whether one runs, and starting one.

Every client of the runtime (the CLI, the operations that need a daemon to follow what they start) starts it
through here, without importing the daemon's own code (``supervisor``): imports go one way. The hot path (a runtime
worker's hook, ``core.spawn.restart_supervisor``) runs ``main`` in a process of its own; the watcher, which may not
import the runtime, starts the supervisor with the same command (``core.spawn.supervisor_argv``).
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional

from ecc_hooks.core import fsio, paths, pidlock, proc
from ecc_hooks.core import spawn as spawning

WAKE = "wake"


def lock_path() -> str:
    return paths.supervisor_lock_path()


def running() -> Optional[int]:
    """The running supervisor's pid, or None (-1: something holds its lock without a pid of ours)."""
    return pidlock.holder(lock_path())


def wake_path() -> str:
    """The file the supervisor watches besides the journals and exit files: a write makes it reconcile now."""
    return os.path.join(paths.home(), "runtime", WAKE)


def wake() -> None:
    """Have the supervisor reconcile now (a session created, a cleanup queued): its watched wake file is written,
    and one is started if none runs (its first pass is at once)."""
    import time

    fsio.ensure_state_dir(os.path.dirname(wake_path()))
    fsio.atomic_write(wake_path(), f"{time.time():.6f}\n".encode(), durable=False)
    spawn()


def spawn() -> None:
    """Start the supervisor detached unless one runs (a second one exits on the lock)."""
    if running():
        return
    os.makedirs(paths.home(), mode=0o700, exist_ok=True)
    proc.detach(
        spawning.supervisor_argv(),
        cwd="/",
        env=spawning.daemon_env(dict(os.environ)),  # not a Claude Code session's own variables (its workers')
        log=log_path(),
    )


def log_path() -> str:
    fsio.ensure_state_dir(os.path.dirname(paths.supervisor_log_path()))
    return paths.supervisor_log_path()


def main() -> int:
    """``spawn`` in a process of its own (what a runtime worker's hook starts when the supervisor was killed)."""
    spawn()
    return 0


STOP_WAIT = 30.0  # seconds a stopped supervisor has to end its pass (its writes survive being cut anyway)


def record() -> dict[str, Any]:
    """What the supervisor wrote about itself (pid, since, sessions); empty when there is no record."""
    try:
        found = json.loads(fsio.read_file(paths.supervisor_record_path(), 1 << 16))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def status() -> dict[str, Any]:
    """``supervise --status``: whether one runs, its pid, since when, the sessions it watches; and whether a killed
    one's record is there (the next hook of a runtime worker, or the watcher, starts it again)."""
    pid = running()
    found = record()
    sessions = [s for s in found.get("sessions") or [] if isinstance(s, str)]
    mine = pid is not None and found.get("pid") == pid
    return {
        "running": pid is not None,
        "pid": pid if pid and pid > 0 else None,
        "since": found.get("since") if mine else None,
        "sessions": sessions if mine else [],
        "restartPending": pid is None and bool(sessions),
        "log": paths.supervisor_log_path(),
    }


def stop(timeout: float = STOP_WAIT) -> Optional[int]:
    """SIGTERM the supervisor and wait until it released its lock (SIGKILL after ``timeout``); its pid, or None
    when none ran. It removes its record as it stops; after a SIGKILL the record goes here, so nothing restarts
    it."""
    import time

    from ecc_hooks.hud.watcher import stop_running

    holder = running()
    started = proc.start_time(holder) if holder and holder > 0 else None
    deadline = time.monotonic() + timeout
    pid = stop_running(timeout, lock_path())
    if pid is not None:
        try:
            os.unlink(paths.supervisor_record_path())
        except OSError:
            pass
    while holder and holder > 0 and time.monotonic() < deadline:  # the lock goes first; then the process exits
        try:
            os.waitpid(holder, os.WNOHANG)  # our own child (started here): reaped, not left a zombie
        except ChildProcessError:
            pass
        if not proc.alive(holder, started):
            break
        time.sleep(0.05)
    return pid
