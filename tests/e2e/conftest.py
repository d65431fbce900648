"""Fixtures for driving the real Claude Code client offline.

- ``claude_client``: the pinned client binary; skips locally when missing, FAILS under ``CI``.
- ``scripted_api``: a running :class:`ScriptedAPI` (set ``.scenario`` before a run).
- ``workspace``: temp HOME + trusted git work dir + settings written by our installer + raw capture.
- ``claude_run``: ``claude_run(scenario, prompt, **kw) -> RunResult`` (print mode).
- ``cost_state``: ``cost_state(scenario, prompt, **kw) -> dict``, Claude Code's own ``cost-state`` roll-up.
- ``screen``: ``screen(scenario, prompt, statusline=CMD, wait_for=TEXT) -> Screen``, the interactive
  client's rendered screen in tmux after the reply (for status line tests).
- ``runtime_world``: ``runtime_world(session, slugs, tmux=True) -> RuntimeWorld``, a runtime session's world as
  on a user's machine (``tests/e2e/runtime_world.py``), closed after the test; skips without tmux when it needs it.
- ``ecc_oracle``: one node process calling the pinned ecc-universal's own functions (``tests/e2e/ecc_oracle.py``),
  shared by the session; skips locally when ecc-universal or node is missing, FAILS under ``CI``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import install_deps
from tests.e2e.api_server import Scenario, ScriptedAPI
from tests.e2e.ecc_oracle import EccOracle
from tests.e2e.harness import RunResult, Workspace, claude_bin, install_hint, make_workspace, run_claude
from tests.e2e.runtime_world import RuntimeWorld
from tests.e2e.tmux_runner import TmuxClaude, tmux_available


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must install it; a skip would hide breakage)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def claude_client() -> Path:
    """The pinned Claude Code binary."""
    path = claude_bin()
    if path is None:
        _missing(f"Claude Code not installed: {install_hint()}")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def ecc_oracle() -> Iterator[EccOracle]:
    """ECC's own functions (pinned ecc-universal), served by one node process for the whole run."""
    root = install_deps.ecc_package()
    if not (root / "scripts" / "session-inspect.js").exists() or shutil.which("node") is None:
        why = install_deps.why_missing("ecc-universal") or f"not in {root}"
        _missing(f"ecc-universal and node ({why}; python3 tests/e2e/install_deps.py installs it)")
    with EccOracle(root) as oracle:
        yield oracle


@pytest.fixture
def scripted_api() -> Iterator[ScriptedAPI]:
    """A scripted Messages API on an ephemeral loopback port, stopped after the test."""
    with ScriptedAPI() as api:
        yield api


@pytest.fixture
def workspace(tmp_path: Path, claude_client: Path) -> Workspace:
    """A throwaway HOME, trusted git work dir, ECC_HOOKS_HOME and settings file."""
    return make_workspace(tmp_path / "cc", claude_client)


@pytest.fixture
def claude_run(workspace: Workspace, scripted_api: ScriptedAPI) -> Callable[..., RunResult]:
    """Run ``claude -p`` against a scenario in the test's workspace (call it again to resume)."""

    def run(scenario: Scenario | None, prompt: str, **kwargs: Any) -> RunResult:
        if scenario is not None:
            scripted_api.scenario = scenario
        return run_claude(workspace, scripted_api, prompt, **kwargs)

    return run


@pytest.fixture
def cost_state(claude_run: Callable[..., RunResult]) -> Callable[..., dict[str, Any]]:
    """Claude Code's own cost roll-up (the transcript's last ``cost-state`` line) for a scenario."""

    def run(scenario: Scenario, prompt: str = "go", **kwargs: Any) -> dict[str, Any]:
        result = claude_run(scenario, prompt, **kwargs)
        assert result.returncode == 0, result.stderr
        assert result.cost_state is not None, f"no cost-state line in {result.transcript}"
        return result.cost_state

    return run


@dataclass
class Screen:
    """The interactive client's screen once the reply showed, and where it ran."""

    text: str
    workspace: Workspace
    api: ScriptedAPI

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


@pytest.fixture
def screen(workspace: Workspace, scripted_api: ScriptedAPI) -> Callable[..., Screen]:
    """Run the interactive client in tmux with a status line command; return the screen after the reply.

    ``screen(scenario, prompt, statusline="cmd", wait_for="text")`` waits until ``wait_for`` (a string or
    a predicate on the screen) holds; by default the reply text and nothing else.
    """
    if not tmux_available():
        _missing("tmux not installed")

    def run(
        scenario: Scenario,
        prompt: str,
        *,
        statusline: str | None = None,
        wait_for: str | Callable[[str], bool],
        width: int = 120,
        height: int = 40,
        **kwargs: Any,
    ) -> Screen:
        if statusline is not None:
            data = workspace.settings_data()
            data["statusLine"] = {"type": "command", "command": statusline, "padding": 0}
            workspace.write_settings(data)
        scripted_api.scenario = scenario
        with TmuxClaude(workspace, scripted_api, width=width, height=height, **kwargs) as tui:
            tui.start()
            tui.wait_for(lambda s: "\u276f" in s)  # the prompt box is up
            tui.submit(prompt)
            text = tui.wait_for(wait_for)
        return Screen(text=text, workspace=workspace, api=scripted_api)

    return run


def python_command(code: str) -> str:
    """A shell command running ``code`` with this interpreter (absolute path, never PATH's python)."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


@pytest.fixture
def runtime_world(
    workspace: Workspace, scripted_api: ScriptedAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., RuntimeWorld]]:
    """Opens the test's :class:`RuntimeWorld` (the test's own process reads the same ECC_HOOKS_HOME) and closes it
    after the test, pass or fail: nothing it started outlives it."""
    opened: list[RuntimeWorld] = []

    def open_world(session: str, slugs: list[str], tmux: bool = True) -> RuntimeWorld:
        if tmux and not tmux_available():
            pytest.skip("tmux not installed")
        monkeypatch.setenv("ECC_HOOKS_HOME", str(workspace.ecc_home))
        opened.append(RuntimeWorld.open(workspace, scripted_api, tmp_path, session, slugs))
        return opened[-1]

    try:
        yield open_world
    finally:
        for world in opened:
            world.close()
