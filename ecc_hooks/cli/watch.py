"""``ecc-hooks watch [--status|--stop|--foreground] [--idle-exit S]``: start, run, report or stop the watcher
daemon (``ecc_hooks.hud.watcher``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Optional

from ecc_hooks.core import paths
from ecc_hooks.core.errors import UserError
from ecc_hooks.hud.watcher import DEBOUNCE_MS, STEP_MS, lock_holder, run_foreground, stop_running

IDLE_EXIT_ENV = "ECC_HOOKS_WATCH_IDLE_EXIT"
DEFAULT_IDLE_EXIT = 3600.0  # seconds without any change before the daemon exits (the next SessionStart restarts it)


def idle_exit_setting(value: Optional[float]) -> float:
    """Argument, then ``ECC_HOOKS_WATCH_IDLE_EXIT``, then the default."""
    if value is not None:
        return value
    raw = os.environ.get(IDLE_EXIT_ENV, "").strip()
    try:
        return float(raw) if raw else DEFAULT_IDLE_EXIT
    except ValueError:
        raise UserError(f"{IDLE_EXIT_ENV}={raw!r} is not a number of seconds") from None


# ---------------------------------------------------------------------------- command


def add_arguments(parser: argparse.ArgumentParser, name: str = "watch") -> None:
    """Options of ``ecc-hooks watch``."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--status", action="store_true", help="say whether a watcher runs (exit 1 when none)")
    mode.add_argument("--stop", action="store_true", help="stop the running watcher")
    mode.add_argument("--foreground", action="store_true", help="run the watcher in this process")
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"exit after this long without a change (default ${IDLE_EXIT_ENV} or {DEFAULT_IDLE_EXIT:.0f})",
    )
    parser.add_argument("--step-ms", type=int, default=STEP_MS, help=argparse.SUPPRESS)
    parser.add_argument("--debounce-ms", type=int, default=DEBOUNCE_MS, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, name: str = "watch") -> int:
    """Start (detached), run in the foreground, report or stop the watcher of ``ECC_HOOKS_HOME``."""
    home = paths.home()
    if args.status:
        pid = lock_holder()
        if pid is None:
            raise UserError(f"no watcher runs for {home}; start one with: ecc-hooks watch")
        print(f"watcher running for {home} (pid {pid})")
        return 0
    if args.stop:
        pid = stop_running()
        print(
            f"stopped the watcher for {home} (pid {pid})" if pid is not None else f"no watcher was running for {home}"
        )
        return 0
    idle = idle_exit_setting(args.idle_exit)
    if args.foreground:
        return run_foreground(idle, args.step_ms, args.debounce_ms)
    pid = lock_holder()
    if pid is not None:
        raise UserError(f"a watcher already runs for {home} (pid {pid}); stop it with: ecc-hooks watch --stop")
    if args.idle_exit is not None:
        os.environ[IDLE_EXIT_ENV] = str(args.idle_exit)
    from ecc_hooks.core.spawn import spawn_watcher  # the hooks' way: the caller's cwd stays off the daemon's sys.path

    spawn_watcher()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = lock_holder()
        if pid is not None:
            print(f"started the watcher for {home} (pid {pid})")
            return 0
        time.sleep(0.05)
    raise UserError(f"the watcher did not start; see {paths.watch_log_path()}")


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m ecc_hooks.watch``: the same as ``ecc-hooks watch`` (same exit codes)."""
    from ecc_hooks.cli import main as cli_main

    return cli_main(["watch", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
