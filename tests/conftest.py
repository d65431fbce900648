"""Shared fixtures. Every test runs with its own HOME and ECC_HOOKS_HOME: none touches the real ones."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ecc_hooks.hud import watcher as watch
from tests import leakcheck
from tests.helpers import REPO, alive, stop_the_supervisor_alone, wait_until

E2E = Path(__file__).resolve().parent / "e2e"
_DEPS = pytest.StashKey[list]()


def pytest_configure(config: pytest.Config) -> None:
    """The end-of-run leak check (tests/leakcheck.py): the run fails when a process the tests started still runs."""
    if not config.pluginmanager.has_plugin("ecc-leakcheck"):
        config.pluginmanager.register(leakcheck, "ecc-leakcheck")


def pytest_collection_finish(session: pytest.Session) -> None:
    """The README's test command is the whole suite: when end-to-end tests were selected, what they need is
    installed now if missing (tests/e2e/install_deps.py, the script .ci/run runs too), before any of them runs."""
    if not any(E2E in Path(str(item.path)).parents for item in session.items):
        return
    from tests.e2e import install_deps

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def log(line: str) -> None:
        if reporter is not None:
            reporter.write_line(f"e2e dependencies: {line}")

    session.config.stash[_DEPS] = install_deps.ensure(log=log)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """What the end-to-end tests needed and could not have (and why), and how many tests skipped for each reason."""
    deps = config.stash.get(_DEPS, [])
    missing = [dep for dep in deps if not dep.ok]
    installed = [dep for dep in deps if dep.installed_now]
    skipped: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        skipped[reason] = skipped.get(reason, 0) + 1
    if not (missing or installed or skipped):
        return
    terminalreporter.section("what the tests needed, and what was skipped", yellow=bool(missing or skipped))
    for dep in installed:
        terminalreporter.write_line(f"installed now: {dep.name} ({dep.detail})")
    for dep in missing:
        terminalreporter.write_line(f"could not have {dep.name}: {dep.detail}", yellow=True)
    for reason, count in sorted(skipped.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"skipped {count} test(s): {reason}", yellow=True)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME (and so ~/.claude) for every test; CLAUDE_CONFIG_DIR and ECC_HOOKS_HOME cleared."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("CLAUDE_CONFIG_DIR", "ECC_HOOKS_HOME", "ECC_HOOKS_RAW", "CLAUDE_PROJECT_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ECC_HOOKS_NO_WATCHER", "1")  # no SessionStart spawns a daemon (tests/test_watch*.py opt in)
    return home


@pytest.fixture
def ecc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ECC_HOOKS_HOME, set in the environment (subprocesses inherit it)."""
    home = tmp_path / "ecc-home"
    monkeypatch.setenv("ECC_HOOKS_HOME", str(home))
    return home


@pytest.fixture
def runtime(ecc_home: Path, monkeypatch: pytest.MonkeyPatch):
    """The companion runtime's world: a private tmux socket, a quick supervisor tick; at teardown the supervisor
    is SIGKILLed and the tmux server (with every worker pane) killed."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed")
    name = f"ecc-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ECC_HOOKS_TMUX_SOCKET", name)
    monkeypatch.setenv("ECC_HOOKS_SUPERVISOR_TICK", "0.3")
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)  # first: the panes end as tmux ends them
    stop_supervisor()
    remove_socket(name)


def remove_socket(name: str) -> None:
    """The socket file of the test's tmux server (``tmux -L``: in ``$TMUX_TMPDIR``), which tmux 3.3 leaves behind
    when its server is killed."""
    path = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / name
    if path.is_socket():
        path.unlink()


def stop_supervisor() -> None:
    """SIGKILL the supervisor of this test's ECC_HOOKS_HOME (and its zygote), and every other process started for
    that home: a supervisor spawned detached just before the test ended may not hold its lock yet (the machine is
    busy), and would then start serving after the test; it is found by its environment instead. Waits until all
    are gone. The supervisor's record goes first and after: no worker's last hook (nor a watcher) starts it again."""
    from ecc_hooks.core import paths

    stop_the_supervisor_alone()
    leakcheck.kill_with_env("ECC_HOOKS_HOME", paths.home())
    Path(paths.supervisor_record_path()).unlink(missing_ok=True)


@pytest.fixture
def daemons(ecc_home: Path):
    """Start watcher processes; every one (and any the hook spawned) is SIGKILLed at teardown."""
    procs: list[subprocess.Popen] = []
    pids: list[int] = []

    def start(*args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks.cli.watch", "--foreground", *args],
            cwd=str(REPO),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        return proc

    start.pids = pids  # type: ignore[attr-defined]
    yield start
    holder = watch.lock_holder()
    if holder and holder > 0:
        pids.append(holder)
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        wait_until(lambda pid=pid: not alive(pid), 30, f"pid {pid} to die")
