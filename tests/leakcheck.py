"""The end-of-run check that the tests left nothing running (a pytest plugin: tests/conftest.py imports its hooks).

A test that fails half-way, or a teardown that looks on the wrong tmux socket (``TMUX_TMPDIR`` set in one
environment and not in another), leaves a tmux server with Claude Code processes behind, and nothing noticed.
So at the start of the run a marker is set in the environment (``ECC_HOOKS_TEST_RUN``, one value per run):
every process the tests start inherits it (the e2e harness copies it into the clients' built environments),
whatever socket, session or process group it ends up in (a nested run's marker extends it). At the end of the run, every live process of this
user that carries this run's marker, or still descends from the pytest process, is a leak: the run FAILS,
naming each (pid and command line), and the check kills them, so a failed run still leaves nothing behind.

Processes are read from ``/proc`` (Linux, where the runtime and its tests run); elsewhere the check says it
could not run. Zombies are not leaks (they hold nothing; their parent reaps them).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

MARKER = "ECC_HOOKS_TEST_RUN"
GRACE = 10.0  # seconds a process killed by its teardown may take to go (the check polls until then)
PROC = Path("/proc")


@dataclass(frozen=True)
class Leak:
    pid: int
    command: str
    why: str
    where: str = ""


def marker_value() -> str:
    """This run's marker (set by ``pytest_configure``)."""
    return os.environ.get(MARKER, "")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it is gone."""
    raw = _read(PROC / str(pid) / "stat").decode("utf-8", "replace")
    if ")" not in raw:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _command(pid: int) -> str:
    argv = _read(PROC / str(pid) / "cmdline").split(b"\0")
    return " ".join(a.decode("utf-8", "replace") for a in argv if a)[:300] or f"[{pid}]"


def _where(pid: int) -> str:
    """What tells which test started it: its working folder and its ``ECC_HOOKS_HOME`` (both under the test's
    tmp_path, named after the test)."""
    env = dict(e.split(b"=", 1) for e in _read(PROC / str(pid) / "environ").split(b"\0") if b"=" in e)
    try:
        cwd = os.readlink(PROC / str(pid) / "cwd")
    except OSError:
        cwd = "?"
    home = env.get(b"ECC_HOOKS_HOME", b"").decode("utf-8", "replace")
    return f"cwd {cwd}" + (f", ECC_HOOKS_HOME {home}" if home else "")


def with_env(name: str, value: str) -> list[int]:
    """Live processes of this user whose environment sets ``name`` to exactly ``value`` (pytest itself aside)."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if needle in _read(entry / "environ").split(b"\0") and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def kill_with_env(name: str, value: str, rounds: int = 5, wait: float = 30.0) -> list[int]:
    """SIGKILL every process of this user whose environment sets ``name`` to ``value`` (a test's
    ``ECC_HOOKS_HOME``: its daemons, whoever started them) and wait until each is gone; scanned again until none
    is left (one killed mid-spawn may have forked just before). The pids killed."""
    killed: list[int] = []
    for _ in range(rounds):
        found = with_env(name, value)
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while any(_alive(pid) for pid in found) and time.monotonic() < deadline:
            time.sleep(0.05)
        killed += found
    return killed


def in_session(sid: int) -> list[int]:
    """Live processes of this user in session ``sid`` (a tmux pane's: the pane's first process and everything it
    started that did not leave for a session of its own, as a daemon does)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        raw = _read(entry / "stat").decode("utf-8", "replace")
        if ")" not in raw:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        if len(fields) > 3 and fields[3] == str(sid) and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def end_session(sid: int, grace: float = 10.0) -> list[int]:
    """Wait up to ``grace`` seconds for every process of session ``sid`` to exit on its own (a client told to go by
    SIGHUP still writes its files on the way out), then SIGKILL what is left and wait for it; those pids. A daemon
    one of them started in its own session is not touched: its test stops it."""
    deadline = time.monotonic() + grace
    while in_session(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = in_session(sid)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    while in_session(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _descends_from(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    seen = set()
    while pid in parents and pid not in seen:
        seen.add(pid)
        pid = parents[pid]
        if pid == ancestor:
            return True
    return False


def _carries(environ: bytes, needle: bytes) -> bool:
    """``environ`` holds this run's marker, or the marker of a run nested in it (``<ours>/<theirs>``)."""
    return any(entry == needle or entry.startswith(needle + b"/") for entry in environ.split(b"\0"))


def leaks(marker: str, root: int) -> list[Leak]:
    """Every live (not zombie) process of this user carrying ``MARKER=marker`` in its environment, or
    descending from ``root`` (the pytest process), except ``root`` itself and its ancestors' line."""
    needle = f"{MARKER}={marker}".encode()
    uid = os.getuid()
    parents: dict[int, int] = {}
    candidates: list[int] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _stat(pid)
        if stat is None:
            continue
        parents[pid] = stat[1]
        try:
            if entry.stat().st_uid != uid:
                continue
        except OSError:
            continue
        if stat[0] != "Z" and pid != root:
            candidates.append(pid)
    found = []
    for pid in candidates:
        if _descends_from(pid, root, parents):
            found.append(Leak(pid, _command(pid), "started under the pytest process", _where(pid)))
        elif marker and _carries(_read(PROC / str(pid) / "environ"), needle):
            found.append(Leak(pid, _command(pid), f"carries {MARKER}", _where(pid)))
    return [leak for leak in found if _alive(leak.pid)]


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def settle(marker: str, root: int, grace: float = GRACE) -> list[Leak]:
    """The leaks still there once ``grace`` seconds passed without them all going (empty as soon as none)."""
    deadline = time.monotonic() + grace
    while True:
        found = leaks(marker, root)
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def kill(found: list[Leak]) -> None:
    """SIGKILL each leak (tmux servers included: their panes' processes get SIGHUP and are in the list too)."""
    for leak in found:
        try:
            os.kill(leak.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def pytest_configure(config: pytest.Config) -> None:
    """A fresh marker for this run. A run nested in another (the check's own tests) extends the outer marker
    (``<outer>/<inner>``): its check sees only its own processes, the outer one those too (a nested run killed
    before its check ran leaves nothing behind either)."""
    outer = os.environ.get(MARKER)
    os.environ[MARKER] = f"{outer}/{uuid.uuid4().hex}" if outer else uuid.uuid4().hex
    config.stash[_LEAKS] = []


_LEAKS = pytest.StashKey[list]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when anything the tests started still runs; kill it either way."""
    if not PROC.is_dir():
        return
    found = settle(marker_value(), os.getpid())
    session.config.stash[_LEAKS] = found
    if found:
        kill(found)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    found = config.stash.get(_LEAKS, [])
    if not PROC.is_dir():
        terminalreporter.write_line("leak check: no /proc here, not run", yellow=True)
        return
    if not found:
        return
    terminalreporter.section("processes the tests left running (killed now): the run FAILS", red=True)
    for leak in found:
        terminalreporter.write_line(f"pid {leak.pid} ({leak.why}): {leak.command}", red=True)
        terminalreporter.write_line(f"    {leak.where}")
