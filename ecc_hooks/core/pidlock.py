"""A daemon's single-instance lock: a ``flock``-ed file holding its pid (the watcher's ``watch.lock``, the runtime
supervisor's ``supervisor.lock``). Who holds it, and taking it. Standard library and ``core`` only, so every
client (the CLI, the runtime's client, the watcher) asks the same question the same way without importing a
daemon's code.

The hot path (hooks, the status line) asks only whether it is held (``core.spawn``), with no pid to read."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from typing import Optional

from ecc_hooks.core import fsio, paths


def _read_pid(fd: int) -> Optional[int]:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def holder(path: Optional[str] = None) -> Optional[int]:
    """The pid of the process holding ``path`` (default: the watcher's lock), None when none holds it, -1 when
    something holds it without a pid of ours (or a planted file stands there)."""
    try:
        fd = fsio.open_file(path or paths.watch_lock_path(), os.O_RDONLY)
    except FileNotFoundError:
        return None
    except fsio.UnsafeFile:
        return -1  # something planted as the lock: no watcher of ours can hold it; say one might run
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            for _ in range(50):  # the holder writes its pid right after locking
                pid = _read_pid(fd)
                if pid:
                    return pid
                time.sleep(0.01)
            return -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def acquire(path: Optional[str] = None) -> tuple[Optional[int], Optional[int]]:
    """(lock fd, None) when this process now owns the watcher lock (or the single-instance lock ``path`` of
    another daemon: the runtime's supervisor), else (None, holder pid)."""
    fd = fsio.open_file(path or paths.watch_lock_path(), os.O_RDWR | os.O_CREAT, create_dirs=True)
    for _ in range(20):  # a hook checking the lock holds it shared for microseconds: retry a little
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            time.sleep(0.02)
    else:
        pid = None
        for _ in range(50):
            pid = _read_pid(fd)
            if pid:
                break
            time.sleep(0.01)
        os.close(fd)
        return None, pid or -1
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd, None
