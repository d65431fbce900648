"""The one way ecc-hooks runs another program: a time bound that kills the whole process group, no
terminal, no inherited stdin, a scrubbed environment, bounded output.

``run`` never raises for the program's sake: a missing program, a timeout or a failed start come back as
a ``Result`` whose ``error`` says what happened (``code`` is None then).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

OUTPUT_CAP = 64 << 20  # bytes kept of each of stdout and stderr


@dataclass(frozen=True)
class Result:
    """What a run gave: exit ``code`` (None when it did not finish), ``out`` and ``err`` bytes, and ``error``."""

    code: Optional[int]
    out: bytes = b""
    err: bytes = b""
    error: Optional[str] = None  # "timeout" | "not found: <program>" | "<OSError text>"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Finished with exit status 0."""
        return self.code == 0

    @property
    def timed_out(self) -> bool:
        """Killed at its time bound."""
        return self.error == "timeout"

    def err_text(self) -> str:
        """stderr as text (undecodable bytes replaced)."""
        return self.err.decode("utf-8", "replace")


def clean_env(
    drop_prefixes: Sequence[str] = (),
    set_vars: Optional[Mapping[str, str]] = None,
    base: Optional[Mapping[str, str]] = None,
) -> dict[str, str]:
    """``base`` (default ``os.environ``) without variables starting with any of ``drop_prefixes``, plus ``set_vars``."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not any(k.startswith(p) for p in drop_prefixes)
    }
    env.update(set_vars or {})
    return env


def run(
    argv: Sequence[str],
    *,
    cwd: Optional[str] = None,
    timeout: float = 10.0,
    input: Optional[bytes] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Result:
    """Run ``argv`` (no shell) in its own process group; kill the group at ``timeout`` seconds."""
    started = time.monotonic()
    if timeout <= 0:
        return Result(None, error="timeout")
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        return Result(None, error=f"not found: {argv[0]}")
    except OSError as exc:
        return Result(None, error=exc.strerror or str(exc))
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        return Result(None, out[:OUTPUT_CAP], err[:OUTPUT_CAP], "timeout", time.monotonic() - started)
    return Result(proc.returncode, out[:OUTPUT_CAP], err[:OUTPUT_CAP], None, time.monotonic() - started)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass
