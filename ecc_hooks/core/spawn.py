"""Starting the watcher daemon from a hot-path command: detached, never waited for, ``os`` only.

The SessionStart and per-turn hooks start it when none holds its lock; the status line command starts it again
when it finds the snapshot older than the journal (the watcher died or hangs), at most once per
``RESTART_EVERY`` seconds (a stamp file's mtime says when it last tried).
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
