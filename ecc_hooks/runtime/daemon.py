"""The supervisor as a process: where its single-instance lock lies, whether one runs, and starting one.

Every client of the runtime (the CLI, the operations that need a daemon to follow what they start, the watcher)
starts it through here, without importing the daemon's own code (``supervisor``): imports go one way.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from ecc_hooks.core import fsio, paths, proc


def lock_path() -> str:
    return os.path.join(paths.home(), "supervisor.lock")


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
