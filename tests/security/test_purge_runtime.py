"""``uninstall --purge`` removes the state folder for good: the runtime's supervisor (and its helper), which would
recreate it within a second, is stopped first, like the watcher; and while runtime sessions still have live
workers it refuses, saying how to stop them (``ecc-hooks session stop NAME``, or ``--stop-sessions``), with
nothing changed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from ecc_hooks.runtime import daemon, store
from tests.helpers import alive, wait_until
from tests.test_install import cli
from tests.test_runtime_store import worker


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_purge_stops_the_supervisor_and_its_helper_and_the_folder_stays_gone(
    tmp_path: Path, ecc_home: Path, runtime: str
) -> None:
    opened = store.Store()  # a runtime that ran: its database, a finished session
    opened.add_session(store.Session("done", "/r", "/c", "HEAD", None, None, "sock", None, time.time()), [])
    opened.close()
    daemon.spawn()
    pid = wait_until(daemon.running, 60, "the supervisor to start")
    helpers = wait_until(lambda: children(pid), 60, "the supervisor's helper")
    try:
        settings = tmp_path / "home" / ".claude" / "settings.json"
        assert cli("install", "--settings-file", str(settings), cwd=tmp_path).returncode == 0
        done = cli("uninstall", "--settings-file", str(settings), "--purge", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "stopped the runtime's supervisor" in done.stdout
        assert not ecc_home.exists()
        wait_until(lambda: not alive(pid) and not any(alive(h) for h in helpers), 30, "the supervisor and its helper")
        time.sleep(1.5)  # what the supervisor would have recreated by now (runtime/<session>/)
        assert not ecc_home.exists()
    finally:  # the runtime fixture finds no supervisor through a purged folder: these are killed here
        for left in (pid, *helpers):
            if alive(left):
                os.kill(left, signal.SIGKILL)


def test_purge_refuses_while_runtime_sessions_have_live_workers(tmp_path: Path, ecc_home: Path) -> None:
    opened = store.Store()
    row = worker(session="busy")
    row.state = "running"
    opened.add_session(store.Session("busy", "/r", "/c", "HEAD", None, None, "sock", None, time.time()), [row])
    opened.close()
    settings = tmp_path / "home" / ".claude" / "settings.json"
    assert cli("install", "--settings-file", str(settings), cwd=tmp_path).returncode == 0
    before = settings.read_bytes()
    done = cli("uninstall", "--settings-file", str(settings), "--purge", cwd=tmp_path)
    assert done.returncode != 0
    assert "busy" in done.stderr and "ecc-hooks session stop NAME" in done.stderr and "--stop-sessions" in done.stderr
    assert ecc_home.is_dir() and settings.read_bytes() == before  # nothing changed


pytestmark = pytest.mark.usefixtures("ecc_home")


def test_purge_with_stop_sessions_stops_them_first(tmp_path: Path, ecc_home: Path, runtime: str) -> None:
    opened = store.Store()
    row = worker(session="busy")
    row.state = "running"
    opened.add_session(store.Session("busy", "/r", "/c", "HEAD", None, None, runtime, None, time.time()), [row])
    opened.close()
    done = cli("uninstall", "--settings-file", str(tmp_path / "none.json"), "--purge", "--stop-sessions", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "stopped runtime session busy" in done.stdout and not ecc_home.exists()
