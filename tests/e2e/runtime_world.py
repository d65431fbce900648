"""A runtime session with the real Claude Code client as it is on a user's machine: ``claude`` on PATH as it is
installed (no wrapper adding settings), the user's settings as the test writes them (none by default: the runtime
gives its workers our hooks itself), a private tmux socket, and a teardown that leaves nothing running.

``RuntimeWorld.open(ws, api, tmp_path, session, slugs)`` trusts the worktrees the plan will make (as the user
accepted the work dir's trust dialog), ``plan(...)`` writes the plan, ``ecc(...)`` runs the CLI with the world's
environment, ``close()`` stops the supervisor, kills the tmux server and every process started with this world's
HOME. What a user has set up beside that is the test's to write: ``user_settings`` (``~/.claude/settings.json``:
a permission rule, hooks of an older installation) and ``client_config`` (keys of ``~/.claude.json``). The
``runtime_world`` fixture (``tests/e2e/conftest.py``) opens one and closes it after the test, pass or fail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.api_server import ScriptedAPI
from tests.e2e.harness import Workspace
from tests.helpers import REPO, alive, git, wait_until

MODEL = "claude-sonnet-4-5"


@dataclass
class RuntimeWorld:
    ws: Workspace
    session: str
    root: Path  # the worktree root
    socket: str
    env: dict[str, str]

    @classmethod
    def open(cls, ws: Workspace, api: ScriptedAPI, tmp_path: Path, session: str, slugs: list[str]) -> RuntimeWorld:
        for key, value in (("user.email", "w@example.com"), ("user.name", "w")):
            git(ws.work, "config", key, value)
        root = tmp_path / "worktrees"
        root.mkdir()
        config = json.loads((ws.home / ".claude.json").read_text())
        for slug in slugs:  # trusted as the main work dir is (the user accepted the dialog)
            config["projects"][str(root / f"{ws.work.name}-{session}-{slug}")] = dict(config["projects"][str(ws.work)])
        (ws.home / ".claude.json").write_text(json.dumps(config, indent=2))
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "claude").symlink_to(ws.claude)  # the client as installed: no --settings of the test's
        socket = f"ecc-e2e-{os.getpid()}-{session}"
        extra = {
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "ECC_HOOKS_TMUX_SOCKET": socket,
            "ECC_HOOKS_SUPERVISOR_TICK": "0.3",
            "PYTHONPATH": str(REPO),
        }
        if os.environ.get("TMUX_TMPDIR"):  # where tmux puts its sockets: the test's tmux and the runtime's agree
            extra["TMUX_TMPDIR"] = os.environ["TMUX_TMPDIR"]
        return cls(ws=ws, session=session, root=root, socket=socket, env=ws.env(api, extra))

    def worktree(self, slug: str) -> Path:
        return self.root / f"{self.ws.work.name}-{self.session}-{slug}"

    def plan(
        self, workers: list[dict[str, Any]], *, session: str | None = None, repo: Path | None = None, **options: Any
    ) -> Path:
        """The plan of this world's session, its worktrees under ``root`` (those ``open`` trusted); with ``session``
        and ``repo`` another session's, in another repository, its worktrees where the runtime puts them itself."""
        name = session or self.session
        document: dict[str, Any] = {"sessionName": name, "repoRoot": str(repo or self.ws.work)}
        if repo is None:
            document["worktreeRoot"] = str(self.root)
        path = self.ws.root / f"plan-{name}.json"
        path.write_text(json.dumps({**document, **options, "workers": workers}))
        return path

    def user_settings(self, data: dict[str, Any]) -> None:
        """The user's own ``~/.claude/settings.json`` (none unless a test writes one): what a wrapper adding
        ``--settings`` used to give, a permission rule say, is given here, where a user keeps it."""
        (self.ws.home / ".claude" / "settings.json").write_text(json.dumps(data))

    def client_config(self, **keys: Any) -> None:
        """Keys of the user's ``~/.claude.json`` (the client's own state file), e.g. ``messageIdleNotifThresholdMs``."""
        path = self.ws.home / ".claude.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **keys}, indent=2))

    def worker(self, slug: str) -> Any:
        """The worker's row in the runtime's store, read afresh."""
        return self.store().worker(self.session, slug)

    def ecc(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ecc_hooks", *args],
            capture_output=True, text=True, env=self.env, cwd=self.ws.work, timeout=timeout, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        """tmux on the workers' server, in the workers' environment (``TMUX_TMPDIR`` decides where its socket is)."""
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=self.env, timeout=30
        )

    def store(self) -> Any:
        from ecc_hooks.runtime import store

        return store.Store(reading=True)

    def supervisor_pid(self) -> int | None:
        """The pid holding the supervisor's lock now (None when no supervisor runs)."""
        return _supervisor_pid(self.ws.ecc_home)

    def close(self) -> None:
        """The supervisor stopped (its record removed, so no hook restarts it), the tmux server killed, then every
        process still running with this world's HOME (a headless or background client) killed and waited for."""
        record = self.ws.ecc_home / "runtime" / "supervisor.json"
        for _ in range(3):
            record.unlink(missing_ok=True)
            pid = _supervisor_pid(self.ws.ecc_home)
            if pid:
                _kill(pid)
        self.tmux("kill-server")
        folder = Path(self.env.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)  # a server killed from outside leaves its socket file
        needle = f"HOME={self.ws.home}".encode()
        for _ in range(3):
            left = [pid for pid in _pids() if needle in _environ(pid) and pid != os.getpid()]
            for pid in left:
                _kill(pid)
            if not left:
                break
            time.sleep(0.2)
        pid = _supervisor_pid(self.ws.ecc_home)  # restarted meanwhile by a dying worker's last hook
        if pid:
            _kill(pid)
        record.unlink(missing_ok=True)


def _supervisor_pid(ecc_home: Path) -> int | None:
    from ecc_hooks.hud.watcher import lock_holder

    pid = lock_holder(str(ecc_home / "supervisor.lock"))
    return pid if pid and pid > 0 else None


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _environ(pid: int) -> list[bytes]:
    try:
        return (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return []


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_until(lambda: not alive(pid), 30, f"process {pid} to die")
