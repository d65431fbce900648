"""The watcher's local socket (``core.relay``): the hook and status line commands hand their stdin to a running
watcher, which records or renders exactly what the command would, and the command does it itself whenever
no watcher answers. Real watcher daemons, real subprocesses run as Claude Code runs them."""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.cli import install
from ecc_hooks.core import relay
from tests.helpers import CAPTURES, alive, running, wait_until
from tests.security.test_endpoint import SECRET, SESSION
from tests.security.test_endpoint import payload as endpoint_payload

REPORT = ";import sys as _s;_s.stderr.write('\\nMODULES ' + ' '.join(sorted(_s.modules)))"

keys = st.binary(min_size=1, max_size=20).filter(lambda k: b"\0" not in k and b"=" not in k)
values = st.binary(max_size=40).filter(lambda v: b"\0" not in v)


@given(
    kind=st.binary(min_size=1, max_size=12).filter(lambda k: b"\n" not in k),
    fields=st.dictionaries(keys, values, max_size=6),
    data=st.binary(max_size=300),
)
def test_a_request_decodes_to_what_was_encoded(kind: bytes, fields: dict[bytes, bytes], data: bytes) -> None:
    decoded = relay.decode(relay.encode(kind, fields, data))
    assert decoded is not None
    got_kind, got_fields, got_data = decoded
    assert got_kind == kind and got_data == data
    assert got_fields == {
        k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape") for k, v in fields.items()
    }


@given(st.binary(max_size=200))
def test_any_bytes_decode_to_a_request_or_none(body: bytes) -> None:
    decoded = relay.decode(body)
    assert decoded is None or (decoded[0] and isinstance(decoded[1], dict))


@pytest.mark.parametrize("body", [b"", b"hook", b"\nx", b"hook\nA=1\0no end"])
def test_malformed_requests_decode_to_none(body: bytes) -> None:
    assert relay.decode(body) is None


READER = """
import os, sys, threading
sys.path.insert(0, {repo!r})
from ecc_hooks.core import relay
in_thread = sys.argv[1] == "select"
def read(cap, timeout, tail):
    if not in_thread:
        return relay.read_payload(0, cap, timeout, tail)
    out = []
    worker = threading.Thread(target=lambda: out.append(relay.read_payload(0, cap, timeout, tail)))
    worker.start()
    worker.join(60)
    return out[0]
data, tail, problem = read(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
import signal
print(repr((data, tail, problem, "select" in sys.modules, signal.getsignal(signal.SIGALRM) == signal.SIG_DFL,
            signal.getitimer(signal.ITIMER_REAL))))
"""


def read_in_child(stdin: int, how: str, cap: int, timeout: float, tail: int) -> tuple:
    """``relay.read_payload`` on ``stdin`` in a fresh process (as the commands run it: no timer of anyone's)."""
    from tests.helpers import REPO

    done = subprocess.run(
        [sys.executable, "-c", READER.format(repo=str(REPO)), how, str(cap), str(timeout), str(tail)],
        stdin=stdin,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.decode())


@pytest.mark.parametrize("how", ["timer", "select"])
def test_reading_stdin_is_bounded_in_time_and_size_on_both_paths(how: str) -> None:
    read, write = os.pipe()
    os.write(write, b'{"partial": ')  # the writer never closes: a hung Claude Code
    data, tail, problem, selected, restored, timer = read_in_child(read, how, 1 << 20, 0.3, 0)
    assert (data, problem) == (b'{"partial": ', "timeout")
    assert selected == (how == "select") and restored and timer == (0.0, 0.0)  # nothing left behind
    os.close(write)
    os.close(read)

    read, write = os.pipe()
    payload = bytes(range(256)) * 1024  # 256 KiB, more than a pipe holds: written while being read
    writer = threading.Thread(target=lambda: (os.write(write, payload), os.close(write)))
    writer.start()
    data, tail, problem, selected, _, _ = read_in_child(read, how, 100_000, 10.0, 1000)
    writer.join()
    os.close(read)
    assert problem == "oversized" and data == payload[:100_000] and tail == payload[-1000:]
    assert selected == (how == "select")


def test_a_timer_already_set_is_left_alone() -> None:
    previous = signal.getsignal(signal.SIGALRM)
    fired: list[int] = []
    signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        read, write = os.pipe()
        os.write(write, b"{}")
        os.close(write)
        assert relay.read_payload(read, 1024, 5.0) == (b"{}", b"", None)
        os.close(read)
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 20  # still running, not reset
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_deep_state_folder_is_reached_through_its_descriptor(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    path, fd = relay.address(os.fsencode(deep))
    assert fd is not None and path.startswith(b"/proc/self/fd/") and len(path) <= relay.SUN_PATH_MAX
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    os.close(fd)
    assert (deep / "watcher.sock").is_socket()
    server.close()
    short, none = relay.address(os.fsencode(tmp_path))
    assert none is None and short == os.fsencode(tmp_path / "watcher.sock")


def run_installed(module: str, stdin: bytes, cwd: Path, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """``module``'s installed command as Claude Code runs it: its output and the modules it loaded."""
    argv = install.python_argv(module)
    done = subprocess.run(
        [*argv[:3], argv[3] + REPORT],
        input=stdin,
        capture_output=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=cwd,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stdout if module == install.HOOK_MODULE else done.returncode == 0
    return done.stdout.decode(), set(done.stderr.decode().rsplit("MODULES ", 1)[1].split())


def hook_payload(tool_id: str) -> bytes:
    """A PreToolUse whose command carries a secret (the endpoint's security tests use the same one)."""
    return endpoint_payload(tool_id)


def journal(home: Path) -> list[dict]:
    path = home / "sessions" / SESSION / "events.jsonl"
    return [json.loads(x) for x in path.read_bytes().splitlines()] if path.exists() else []


def listening(home: Path) -> bool:
    """Someone accepts on the watcher's socket (a socket file alone may be a dead watcher's)."""
    try:
        relay.connect(os.fsencode(home), 5.0).close()
    except OSError:
        return False
    return True


def served(daemons, home: Path) -> int:
    pid = running(daemons("--idle-exit", "300"))
    wait_until(lambda: listening(home), 30, "the watcher's socket")
    return pid


def test_the_watcher_records_the_hooks_event_as_the_hook_would(daemons, ecc_home: Path, tmp_path: Path) -> None:
    secret = SECRET
    _, alone = run_installed(install.HOOK_MODULE, hook_payload("toolu_here"), tmp_path)
    assert "ecc_hooks.capture.hook" in alone  # no watcher: recorded in the command's own process
    served(daemons, ecc_home)
    assert (ecc_home / "watcher.sock").stat().st_mode & 0o777 == 0o600
    _, loaded = run_installed(install.HOOK_MODULE, hook_payload("toolu_there"), tmp_path)
    assert "ecc_hooks.capture.hook" not in loaded and "os" not in loaded  # handed to the watcher
    here, there = journal(ecc_home)  # on disk when the command exited: no waiting
    errors = ecc_home / "errors.log"
    assert not errors.exists() or "relay-refused" not in errors.read_text()  # served()'s probe is no request
    assert secret not in json.dumps([here, there])  # redacted before it reached the disk
    for record in (here, there):
        del record["ts"], record["toolUseId"]
    assert here == there


def test_a_deep_state_folder_is_served_too(daemons, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / ("h" * 70) / "ecc"
    monkeypatch.setenv("ECC_HOOKS_HOME", str(home))
    assert len(str(home / "watcher.sock")) > relay.SUN_PATH_MAX
    served(daemons, home)
    _, loaded = run_installed(install.HOOK_MODULE, hook_payload("toolu_deep"), tmp_path)
    assert "ecc_hooks.capture.hook" not in loaded and len(journal(home)) == 1


def test_a_killed_watchers_socket_costs_nothing_but_speed(daemons, ecc_home: Path, tmp_path: Path) -> None:
    pid = served(daemons, ecc_home)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), 30, "the killed watcher to go")
    assert (ecc_home / "watcher.sock").is_socket()  # left behind: nobody listens on it
    _, loaded = run_installed(install.HOOK_MODULE, hook_payload("toolu_after_kill"), tmp_path)
    assert "ecc_hooks.capture.hook" in loaded and [r["toolUseId"] for r in journal(ecc_home)] == ["toolu_after_kill"]
    served(daemons, ecc_home)  # the next watcher replaces the stale socket and serves it
    _, loaded = run_installed(install.HOOK_MODULE, hook_payload("toolu_next"), tmp_path)
    assert "ecc_hooks.capture.hook" not in loaded and len(journal(ecc_home)) == 2


def statusline_stdin() -> bytes:
    return (CAPTURES / "statusline-stdin.jsonl").read_bytes().splitlines()[-1]


def test_the_watcher_renders_the_status_line_row_byte_for_byte(daemons, ecc_home: Path, tmp_path: Path) -> None:
    here, loaded_here = run_installed(install.STATUSLINE_MODULE, statusline_stdin(), tmp_path)
    assert "ecc_hooks.statusline.render" in loaded_here and here.strip()  # no watcher: rendered here
    served(daemons, ecc_home)
    there, loaded = run_installed(install.STATUSLINE_MODULE, statusline_stdin(), tmp_path)
    assert "ecc_hooks.statusline.render" not in loaded and "os" not in loaded  # the watcher rendered it
    assert there == here
    local, _ = run_installed("ecc_hooks.statusline.render", statusline_stdin(), tmp_path)
    assert local == there


def test_a_watcher_that_never_answers_is_waited_for_boundedly(ecc_home: Path, tmp_path: Path) -> None:
    ecc_home.mkdir(mode=0o700)
    hung = socket.socket(socket.AF_UNIX)
    hung.bind(str(ecc_home / "watcher.sock"))
    hung.listen(8)  # accepts (the kernel does), reads nothing, answers nothing
    try:
        row, loaded = run_installed(install.STATUSLINE_MODULE, statusline_stdin(), tmp_path)
        assert row.strip() and "ecc_hooks.statusline.render" in loaded  # rendered here after the timeout
        _, loaded = run_installed(install.HOOK_MODULE, hook_payload("toolu_hung"), tmp_path)
        assert "ecc_hooks.capture.hook" in loaded and [r["toolUseId"] for r in journal(ecc_home)] == ["toolu_hung"]
    finally:
        hung.close()


def test_doctor_says_who_answers_on_the_socket(ecc_home: Path) -> None:
    problems: list[str] = []
    assert "watcher socket: none" in install.socket_summary(problems)
    ecc_home.mkdir(mode=0o700)
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(ecc_home / "watcher.sock"))
    listening.listen(1)
    assert "your watcher answers" in install.socket_summary(problems)
    listening.close()  # as a watcher killed with -9 leaves it: the file, nobody behind it
    assert "nobody answers" in install.socket_summary(problems)
    assert problems == []
