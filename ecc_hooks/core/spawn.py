"""Starting the daemons from a hot-path command: detached, never waited for, ``os`` only.

The SessionStart and per-turn hooks start the watcher when none holds its lock; the status line command starts it
again when it finds the snapshot older than the journal (the watcher died or hangs), at most once per
``RESTART_EVERY`` seconds (a stamp file's mtime says when it last tried).

The runtime's supervisor is restarted the same way when it was killed while its sessions lived (its record left
behind, no holder of its lock): by the next hook of a runtime worker (``restart_supervisor``) and by the watcher's
quiet tick (``supervisor_wanted``, then ``core.proc.detach`` of ``supervisor_argv``).
"""

from __future__ import annotations

import os
import sys
import time

from ecc_hooks.core import paths

RESTART_EVERY = 30.0  # seconds between two restarts the status line may try


def spawn_watcher() -> None:
    """Start ``ecc_hooks.watch --foreground`` detached; no waiting. OSError when it cannot be started.

    ``posix_spawn`` (no ``subprocess`` import on the hot path) in a new session with stdio on /dev/null, so
    Claude Code never waits on it and never kills it with the hook. The one way the watcher is started (the
    hooks, the status line and ``ecc-hooks watch``); a second one started meanwhile exits on the lock.
    """
    null = os.devnull
    # The daemon needs site-packages (pydantic, watchfiles), so no -S here; the cwd stays off sys.path.
    code = paths.launcher_code("ecc_hooks.cli.watch", "sys.exit(main(['--foreground']))")
    os.posix_spawn(
        sys.executable,
        [sys.executable, "-c", code],
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
        ],
        setsid=True,
    )


def restart_watcher(now: float | None = None) -> bool:
    """``spawn_watcher`` unless one was tried within ``RESTART_EVERY`` seconds; whether it tried. Never raises."""
    if os.environ.get(paths.NO_WATCHER_ENV) == "1":
        return False
    now = time.time() if now is None else now
    stamp = os.path.join(paths.home(), "watch-restart.stamp")
    try:
        if now - os.stat(stamp).st_mtime < RESTART_EVERY:
            return False
    except OSError:
        pass
    try:
        from ecc_hooks.core.fsio import atomic_write

        atomic_write(stamp, b"", durable=False)
        spawn_watcher()
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------- the runtime's supervisor

SUPERVISOR_RESTART_EVERY = 5.0  # seconds between two restarts tried (a supervisor that cannot start is not hammered)
RECORD_MAX = 1 << 16
# What a Claude Code client adds to its hooks' environment (2.1.328) and what the runtime gives a worker: a
# supervisor started from a hook (or from a watcher a hook started) passes none of it to the workers it launches
# (``CLAUDECODE``, ``CLAUDE_CODE_CHILD_SESSION`` would make them children of the session that happened to restart it).
SESSION_ENV = frozenset(
    {
        "AI_AGENT",
        "CLAUDECODE",
        "CLAUDE_PID",
        "CLAUDE_PROJECT_DIR",
        "CLAUDE_ENV_FILE",
        "CLAUDE_CODE_ENTRYPOINT",
        "CLAUDE_CODE_SSE_PORT",
        "CLAUDE_CODE_DISABLE_TERMINAL_TITLE",
        "COREPACK_ENABLE_AUTO_PIN",
        "NoDefaultCurrentDirectoryInExePath",
        "ECC_SESSION",
        "ECC_WORKER",
        "ECC_WORKTREE_PATH",
        "ECC_BRANCH",
        "ECC_BASE_REF",
        "ECC_PORT_BASE",
        "PORT",
        "ECC_HOOKS_LAUNCH",
        "TMUX",
        "TMUX_PANE",
        "PWD",
        "OLDPWD",
    }
)
SESSION_ENV_PREFIXES = ("CLAUDE_CODE_CHILD_", "CLAUDE_CODE_MESSAGING_", "CLAUDE_CODE_SESSION_")
RUNTIME_ENV = "ECC_SESSION"  # a runtime worker's environment names its session (runtime.lifecycle.worker_env)


def supervisor_argv() -> list[str]:
    """The command that runs the runtime's supervisor (with site: it needs watchfiles)."""
    return [sys.executable, "-c", paths.launcher_code("ecc_hooks.runtime.supervisor", "sys.exit(main())")]


def daemon_env(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` without what belongs to the one Claude Code session or worker it came from."""
    return {k: v for k, v in environ.items() if k not in SESSION_ENV and not k.startswith(SESSION_ENV_PREFIXES)}


def lock_held(path: str) -> bool:
    """A process holds ``path``'s ``flock`` (a non-blocking shared lock fails); False when there is no such file."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # a shared lock taken goes with it
    return False


def supervisor_wanted() -> bool:
    """The supervisor's record names sessions it watched (it was killed while they were live) and no supervisor
    holds its lock. Two small reads, ``os`` and ``fcntl`` only: a runtime worker's hooks ask it on every event."""
    try:
        fd = os.open(paths.supervisor_record_path(), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False  # none ran, or it stopped on its own or was stopped
    try:
        record = os.read(fd, RECORD_MAX)
    except OSError:
        return False
    finally:
        os.close(fd)
    if b'"sessions":[' not in record or b'"sessions":[]' in record:
        return False  # it had nothing live to watch
    return not lock_held(paths.supervisor_lock_path())


def claim_supervisor_restart(now: float | None = None) -> bool:
    """Whether this caller may try a restart now (none tried within ``SUPERVISOR_RESTART_EVERY`` seconds); notes
    the try (a stamp file's mtime)."""
    now = time.time() if now is None else now
    stamp = os.path.join(paths.home(), "runtime", "supervisor-restart.stamp")
    try:
        if abs(now - os.stat(stamp).st_mtime) < SUPERVISOR_RESTART_EVERY:
            return False
    except OSError:
        pass
    try:
        from ecc_hooks.core.fsio import atomic_write

        atomic_write(stamp, b"", durable=False)
    except OSError:
        return False
    return True


def restart_supervisor() -> bool:
    """From a runtime worker's hook: start the supervisor again when it was killed while its sessions lived;
    whether it tried. Detached (``posix_spawn`` in a new session): a short-lived ``runtime.daemon.spawn`` that
    checks again and starts the supervisor as every other client does (its output through the redacting log
    relay). Never raises."""
    try:
        if not supervisor_wanted() or not claim_supervisor_restart():
            return False
        code = paths.launcher_code("ecc_hooks.runtime.daemon", "sys.exit(main())")
        null = os.devnull
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", code],
            daemon_env(dict(os.environ)),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
            ],
            setsid=True,
        )
        return True
    except Exception:
        return False
