"""The installed status line command (``statusline.client``): the running watcher renders the row; without one,
or with a listener that is not the user's, the command renders it itself, and sends nothing anywhere."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ecc_hooks.cli import install
from ecc_hooks.core import endpoint
from tests.helpers import CAPTURES, running

REPORT = ";import sys as _s;_s.stderr.write('\\nMODULES ' + ' '.join(sorted(_s.modules)))"


def stdin_bytes() -> bytes:
    return (CAPTURES / "statusline-stdin.jsonl").read_bytes().splitlines()[-1]


def run(module: str, stdin: bytes, cwd: Path) -> tuple[str, set[str]]:
    """The installed command of ``module`` as Claude Code runs it; its output and the modules it loaded."""
    argv = install.python_argv(module)
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([*argv[:3], argv[3] + REPORT], input=stdin, capture_output=True, env=env, cwd=cwd, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode(), set(done.stderr.decode().rsplit("MODULES ", 1)[1].split())


def test_the_watcher_renders_the_same_row(daemons, ecc_home: Path, tmp_path: Path) -> None:
    config = endpoint.ensure()
    here, loaded_here = run("ecc_hooks.statusline.client", stdin_bytes(), tmp_path)  # no watcher: rendered here
    assert "ecc_hooks.statusline.render" in loaded_here and here.strip()
    running(daemons("--idle-exit", "300"))
    assert endpoint.wait_listening(config, time.monotonic() + 30)
    there, loaded = run("ecc_hooks.statusline.client", stdin_bytes(), tmp_path)
    assert there == here  # the same row, byte for byte
    assert "ecc_hooks.statusline.render" not in loaded and "os" not in loaded  # the watcher rendered it
    local, _ = run("ecc_hooks.statusline.render", stdin_bytes(), tmp_path)
    assert local == there


def test_a_foreign_listener_gets_nothing(ecc_home: Path, tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to listen as another user")
    config = endpoint.ensure()
    read, write = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # another user binds the endpoint's port while no watcher runs
        try:
            os.close(read)
            os.close(ready_r)
            os.setgid(65534)
            os.setuid(65534)
            server = socket.socket()
            server.bind(("127.0.0.1", config.port))
            server.listen(4)
            server.settimeout(15)
            os.write(ready_w, b"1")
            try:
                conn, _ = server.accept()
                conn.settimeout(2)
                os.write(write, conn.recv(65536) or b"-")
            except OSError:
                os.write(write, b"")
        finally:
            os._exit(0)
    os.close(write)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"1"
    os.close(ready_r)
    output, loaded = run("ecc_hooks.statusline.client", stdin_bytes(), tmp_path)
    assert output.strip() and "ecc_hooks.statusline.render" in loaded  # rendered here
    with socket.create_connection(("127.0.0.1", config.port), timeout=5) as poke:  # end the listener's wait
        poke.sendall(b"poke")
    received = os.read(read, 65536)
    os.close(read)
    os.waitpid(pid, 0)
    assert received == b"poke"  # the first connection it saw was ours, not the status line's
    assert json.loads(stdin_bytes())["session_id"]
