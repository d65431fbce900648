"""The end-of-run leak check (tests/leakcheck.py), shown catching leaks in a real nested pytest run.

Each case writes a small test file into a scratch folder and runs ``python -m pytest -p tests.leakcheck`` on it in
a subprocess (its own run, its own marker): a test that leaves a child running, one that leaves a daemonized
process (re-parented away from pytest, found by the marker alone), one that leaves a tmux server on a socket of
its own. The nested run must fail, name each pid, and have killed them; a run that cleans up passes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, alive

LEAKY = """
import subprocess, sys

def test_leaves_a_child():
    proc = subprocess.Popen(["sleep", "600"])
    print("CHILD", proc.pid)

def test_leaves_a_daemon():
    # the shell exits at once: the sleep is re-parented away from pytest, only its environment tells
    out = subprocess.run(["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True).stdout
    print("DAEMON", out.strip())
"""

CLEAN = """
import subprocess

def test_waits_for_its_child():
    proc = subprocess.Popen(["sleep", "0.1"])
    proc.wait()
"""

TMUX = """
import subprocess

def test_leaves_a_tmux_server(tmp_path):
    sock = tmp_path / "t.sock"
    subprocess.run(["tmux", "-f", "/dev/null", "-S", str(sock), "new-session", "-d", "sleep 600"], check=True)
    pid = subprocess.run(["tmux", "-S", str(sock), "display-message", "-p", "#{pid}"], capture_output=True,
                         text=True, check=True).stdout.strip()
    print("TMUX", pid)
"""


def nested_run(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    """``pytest -s -p tests.leakcheck`` on one test file in ``folder`` (rootdir there: none of our conftests)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_nested.py").write_text(source)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-s", "-q", "-p", "tests.leakcheck", "-p", "no:cacheprovider",
         "--rootdir", str(folder), "-c", os.devnull, str(folder / "test_nested.py")],
        capture_output=True, text=True, env=env, cwd=folder, timeout=120,
    )  # fmt: skip


def pids(out: str, label: str) -> list[int]:
    return [int(p) for p in re.findall(rf"\b{label} (\d+)$", out, re.M)]


def reap(found: list[int]) -> None:
    """Whatever the nested check missed must not outlive this test either."""
    for pid in found:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_the_check_fails_a_run_that_leaves_processes_and_kills_them(tmp_path: Path) -> None:
    run = nested_run(tmp_path / "leaky", LEAKY)
    leaked = pids(run.stdout, "CHILD") + pids(run.stdout, "DAEMON")
    try:
        assert len(leaked) == 2, run.stdout
        assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
        assert "2 passed" in run.stdout  # the tests themselves passed: the check failed the run
        assert "processes the tests left running" in run.stdout
        child, daemon = leaked
        assert re.search(rf"pid {child} \(started under the pytest process\): sleep 600", run.stdout), run.stdout
        assert re.search(rf"pid {daemon} \(carries ECC_HOOKS_TEST_RUN\): sleep 600", run.stdout), run.stdout
        assert not any(alive(pid) for pid in leaked)  # killed by the check
    finally:
        reap(leaked)


def test_a_run_that_cleans_up_passes(tmp_path: Path) -> None:
    run = nested_run(tmp_path / "clean", CLEAN)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "left running" not in run.stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_the_check_catches_a_tmux_server_on_a_socket_of_its_own(tmp_path: Path) -> None:
    run = nested_run(tmp_path / "tmux", TMUX)
    leaked = pids(run.stdout, "TMUX")
    try:
        assert len(leaked) == 1, run.stdout + run.stderr
        assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout
        assert re.search(rf"pid {leaked[0]} \(carries ECC_HOOKS_TEST_RUN\): tmux", run.stdout), run.stdout
        assert not alive(leaked[0])
    finally:
        reap(leaked)


def test_a_nested_runs_leftovers_are_this_runs_leaks(tmp_path: Path) -> None:
    """A nested run killed before its own check ran (its marker ``<ours>/<its>``): this run's check finds them."""
    from tests import leakcheck

    ours = leakcheck.marker_value()
    assert ours
    env = {**os.environ, leakcheck.MARKER: f"{ours}/nested"}
    out = subprocess.run(["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True,
                         env=env, timeout=30).stdout  # fmt: skip
    pid = int(out.strip())
    try:
        found = {leak.pid: leak.why for leak in leakcheck.leaks(ours, os.getpid())}
        assert found.get(pid) == "carries ECC_HOOKS_TEST_RUN", found
        assert pid not in {leak.pid for leak in leakcheck.leaks(f"{ours}/other", os.getpid())}  # a sibling's: no
    finally:
        reap([pid])
