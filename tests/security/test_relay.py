"""The watcher's local socket serves only the user, and the user's commands talk only to the user's watcher.

The socket is 0600 in the 0700 state folder; beyond that, each side asks the kernel who is at the other end
(``SO_PEERCRED``). Here the folder is loosened on purpose (a state folder in a shared place) so that another
user can reach it at all: a socket another user bound gets nothing from the hook or the status line (they do
the work themselves), and another user's connection to the watcher is refused with nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecc_hooks.cli import install
from tests.test_relay import hook_payload, journal, run_installed, served, statusline_stdin

NOBODY = 65534

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")


def as_nobody(ready_w: int, act) -> int:
    """Fork a child that drops to uid ``NOBODY``, runs ``act`` and reports through ``ready_w``."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            act()
        except BaseException as exc:
            os.write(ready_w, b"E" + repr(exc).encode()[:200])
        finally:
            os._exit(0)
    return pid


@pytest.fixture
def shared_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state folder anyone may create or reach a socket in (pytest's own temporary folders are private)."""
    home = Path(tempfile.mkdtemp(prefix="ecc-shared-", dir="/tmp"))
    os.chmod(home, 0o777)
    monkeypatch.setenv("ECC_HOOKS_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_a_socket_another_user_bound_gets_nothing(shared_home: Path, tmp_path: Path) -> None:
    read, write = os.pipe()
    ready_r, ready_w = os.pipe()

    def squat() -> None:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(shared_home / "watcher.sock"))
        server.listen(8)
        server.settimeout(30)
        os.write(ready_w, b"1")
        received = b""
        for _ in range(2):  # the status line's connection, then the hook's
            conn, _ = server.accept()
            conn.settimeout(5)
            try:
                received += conn.recv(65536)
            except OSError:
                pass
            conn.close()
        os.write(write, received or b"-")

    pid = as_nobody(ready_w, squat)
    assert os.read(ready_r, 300) == b"1"
    row, loaded = run_installed(install.STATUSLINE_MODULE, statusline_stdin(), tmp_path)
    assert row.strip() and "ecc_hooks.statusline.render" in loaded  # rendered here
    _, loaded = run_installed(install.HOOK_MODULE, hook_payload("toolu_squatted"), tmp_path)
    assert "ecc_hooks.capture.hook" in loaded and [r["toolUseId"] for r in journal(shared_home)] == ["toolu_squatted"]
    assert os.read(read, 65536) == b"-"  # it saw both connections and was sent not one byte
    os.waitpid(pid, 0)


def test_another_users_connection_is_refused_with_nothing_written(daemons, shared_home: Path, tmp_path: Path) -> None:
    served(daemons, shared_home)
    ready_r, ready_w = os.pipe()

    def post() -> None:
        from ecc_hooks.core import relay

        conn = socket.socket(socket.AF_UNIX)
        conn.settimeout(10)
        conn.connect(str(shared_home / "watcher.sock"))
        try:
            conn.sendall(relay.encode(relay.HOOK, {b"now": b"1.0"}, hook_payload("toolu_foreign")))
            conn.shutdown(socket.SHUT_WR)
            os.write(ready_w, b"A" + (conn.recv(16) or b"<closed>"))
        except (ConnectionResetError, BrokenPipeError):  # closed with the request unread (or half sent)
            os.write(ready_w, b"A<closed>")

    for _ in range(5):  # the watcher tightens its folder back to 0700 whenever it writes there: loosen, try again
        os.chmod(shared_home, 0o777)
        os.chmod(shared_home / "watcher.sock", 0o666)  # loosened too: only the peer check is left
        pid = as_nobody(ready_w, post)
        answer = os.read(ready_r, 300)
        os.waitpid(pid, 0)
        if not answer.startswith(b"EPermissionError"):
            break
    assert answer == b"A<closed>"  # no "0": refused
    assert journal(shared_home) == []
    errors = (shared_home / "errors.log").read_text()
    assert "relay-refused" in errors and "another user" in errors
    _, loaded = run_installed(install.HOOK_MODULE, hook_payload("toolu_mine"), tmp_path)
    assert "ecc_hooks.capture.hook" not in loaded and [r["toolUseId"] for r in journal(shared_home)] == ["toolu_mine"]
    assert json.dumps(journal(shared_home))


def test_the_supervisor_runs_nothing_for_another_user_and_sends_nothing_to_their_socket(
    shared_home: Path, tmp_path: Path
) -> None:
    """The runtime's ``supervisor.sock`` (runtime.server) keeps the same two promises: another user's request is
    closed unread (nothing runs), and a create never hands its plan and environment to a socket another user bound
    (the command does the work itself)."""
    import subprocess
    import sys

    from tests.helpers import REPO, make_repo, wait_until

    ready_r, ready_w = os.pipe()
    read, write = os.pipe()

    def squat() -> None:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(shared_home / "supervisor.sock"))
        server.listen(8)
        server.settimeout(60)
        os.write(ready_w, b"1")
        conn, _ = server.accept()
        conn.settimeout(5)
        try:
            received = conn.recv(65536)
        except OSError:
            received = b""
        conn.close()
        os.write(write, received or b"-")

    pid = as_nobody(ready_w, squat)
    assert os.read(ready_r, 300) == b"1"
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "mine", "repoRoot": str(repo), "workers": [
        {"name": "w", "task": "t", "launcherCommand": "true", "runtime": "headless"}]}))  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "SECRET_OF_MINE": "x"}
    done = subprocess.run([sys.executable, "-m", "ecc_hooks", "session", "create", str(plan), "--execute"],
                          capture_output=True, text=True, env=env, cwd=repo, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr  # done here, by the command itself
    assert os.read(read, 65536) == b"-"  # the squatter was sent not one byte
    os.waitpid(pid, 0)
    from tests.conftest import stop_supervisor

    stop_supervisor()  # the create started one: it cannot bind over another user's socket, so it serves none
    (shared_home / "supervisor.sock").unlink()

    # a real supervisor: another user's request runs nothing
    supervise = subprocess.Popen([sys.executable, "-m", "ecc_hooks", "session", "supervise"], cwd=REPO,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        wait_until((shared_home / "supervisor.sock").exists, 30, "the supervisor's socket")
        marker = tmp_path / "ran"
        theirs = tmp_path / "theirs.json"
        theirs.write_text(json.dumps({"sessionName": "theirs", "repoRoot": str(repo), "workers": [
            {"name": "w", "task": "t", "launcherCommand": f"touch {marker}", "runtime": "headless"}]}))  # fmt: skip

        from ecc_hooks.runtime import protocol, records

        # a request the helper would run for its own user (valid, of its version): only the uid check stops it
        context = protocol.Context(str(repo), {**os.environ, "X": "1"}, 0o022)
        request = protocol.encode_request(records.Create(plan_file=str(theirs)), context)

        def ask() -> None:
            conn = socket.socket(socket.AF_UNIX)
            conn.settimeout(10)
            conn.connect(str(shared_home / "supervisor.sock"))
            try:
                conn.sendall(request)
                conn.shutdown(socket.SHUT_WR)
                os.write(ready_w, b"A" + (conn.recv(16) or b"<closed>"))
            except (ConnectionResetError, BrokenPipeError):
                os.write(ready_w, b"A<closed>")

        for _ in range(5):
            os.chmod(shared_home, 0o777)
            os.chmod(shared_home / "supervisor.sock", 0o666)
            child = as_nobody(ready_w, ask)
            answer = os.read(ready_r, 300)
            os.waitpid(child, 0)
            if not answer.startswith(b"EPermissionError"):
                break
        assert answer == b"A<closed>"  # closed unread: no answer, so nothing ran for it
        assert not marker.exists() and not (repo / ".orchestration" / "theirs").exists()
    finally:
        supervise.kill()
        supervise.wait(timeout=30)
