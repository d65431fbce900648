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
    except BaseException:  # interrupted (Ctrl-C, a stopping daemon): the program does not outlive the call
        _kill_group(proc)
        raise
    return Result(proc.returncode, out[:OUTPUT_CAP], err[:OUTPUT_CAP], None, time.monotonic() - started)


def interactive(argv: Sequence[str], *, env: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """Run ``argv`` at this terminal (stdin, stdout and stderr inherited, in the foreground: tmux attach from the
    full-screen HUD) until it exits; its exit status, None when it could not start."""
    try:
        return subprocess.call(list(argv), env=dict(env) if env is not None else None)
    except OSError:
        return None


def run_head(
    argv: Sequence[str],
    *,
    cwd: Optional[str] = None,
    timeout: float = 10.0,
    env: Optional[Mapping[str, str]] = None,
    lines: int,
    max_bytes: int,
) -> tuple[Result, bool]:
    """The first ``lines`` lines (at most ``max_bytes``) of what ``argv`` prints, and whether it printed more: the
    program is stopped (its group killed) as soon as that is known, so memory is bounded by the head, however much
    it would print. stderr is not kept. A preview of a large output (``session diff``)."""
    import select

    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except FileNotFoundError:
        return Result(None, error=f"not found: {argv[0]}"), False
    except OSError as exc:
        return Result(None, error=exc.strerror or str(exc)), False
    assert proc.stdout is not None
    chunks: list[bytes] = []
    kept = seen = 0
    more = False
    error: Optional[str] = None
    try:
        fd = proc.stdout.fileno()
        while True:
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                error = "timeout"
                break
            if not select.select([fd], [], [], left)[0]:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            kept += len(chunk)
            seen += chunk.count(b"\n")
            if seen >= lines or kept >= max_bytes:  # enough for the head: is there more?
                head = b"".join(chunks)
                cut = _nth_line_end(head, lines)
                if cut < len(head) or kept >= max_bytes:
                    more = True
                    chunks, kept = [head[: min(cut, max_bytes)]], min(cut, max_bytes)
                    break
                chunks = [head]
    except BaseException:  # interrupted (a signal's exception): the program does not outlive the call
        _kill_group(proc)
        proc.stdout.close()
        proc.wait()
        raise
    if more or error:
        _kill_group(proc)
    proc.stdout.close()
    code = proc.wait()
    out = b"".join(chunks)
    if error:
        return Result(None, out, b"", error, time.monotonic() - started), more
    return Result(None if more else code, out, b"", None, time.monotonic() - started), more


def _nth_line_end(data: bytes, lines: int) -> int:
    """The index just after the ``lines``-th newline of ``data`` (its length when it has fewer)."""
    at = -1
    for _ in range(lines):
        at = data.find(b"\n", at + 1)
        if at < 0:
            return len(data)
    return at + 1


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def start_time(pid: int) -> Optional[int]:
    """When process ``pid`` started (clock ticks since boot, ``/proc/<pid>/stat`` field 22); None when there is
    no such process or it is a zombie. A pid with the start time recorded at launch names one process: a reused
    pid has another start time."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()  # after the command name, which may hold spaces
    if len(fields) < 20 or fields[0] == b"Z":
        return None
    return int(fields[19])


def alive(pid: Optional[int], started: Optional[int]) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs."""
    return bool(pid) and started is not None and start_time(pid or 0) == started


def detach(argv: Sequence[str], *, cwd: str, env: Mapping[str, str], log: str) -> int:
    """Start ``argv`` detached (its own session, stdin from /dev/null), never waited for here; its pid. OSError
    when it cannot start.

    Its stdout and stderr go through the redacting relay (``core.logrelay``: a process of its own session that
    appends each line, redacted, to ``log``): what a program we start prints reaches no file unredacted."""
    import sys

    from ecc_hooks.core import paths

    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        # the relay: no environment of the caller (it carries no launch token, so it is never taken for the
        # program), its own session (a stop of the program's group does not cut the log's tail)
        relay = subprocess.Popen(
            [sys.executable, "-S", "-c", paths.launcher_code("ecc_hooks.core.logrelay", "main()")],
            cwd="/",
            env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"},
            stdin=read_end,
            stdout=fd,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        relay.wait(timeout=30)  # it forks and its first process exits: the relay is init's child, no zombie of ours
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=write_end,
            start_new_session=True,
        )
    finally:
        for end in (fd, read_end, write_end):
            os.close(end)
    child.returncode = 0  # never waited for through this object (the caller reaps by pid); no ResourceWarning
    return child.pid


def terminate(pid: int, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig`` to the process group ``pid`` leads (else to the process); whether it was delivered."""
    for send in (os.killpg, os.kill):
        try:
            send(pid, sig)
            return True
        except ProcessLookupError:
            continue
        except PermissionError:
            return False
    return False
