"""Another local user holds the endpoint's port before a real Claude Code session starts: nothing the session
does reaches that listener, no event is lost, and the user is told.

uid 65534 binds 127.0.0.1:<the endpoint's port> and records every byte anyone sends it; then Claude Code 2.1.328
runs a session of Bash calls whose output carries a canary. Two installs into the user's settings file (the one
the client reloads when it changes):

- the default install: every event is a command hook, so there is nothing to post to a port at all;
- ``--transport http``: the SessionStart hook (a command, which the client waits for before any tool call)
  finds the port held by someone else, has the installer rewrite the HTTP hooks to command hooks, and waits for
  the client's ConfigChange (it reloads the file about a second after the write) before it returns. The status
  line's row and ``ecc-hooks status`` say what happened.

In both, every tool event the client fired is in the journal, and the listener got nothing, not even a connect.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecc_hooks.core import endpoint
from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.harness import REPO, Workspace, add_raw_capture, install_ecc_hooks, run_claude
from tests.e2e.test_http_transport import alive, fired, holder, journaled
from tests.helpers import wait_until
from tests.security.squatter import NOBODY, squatting

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to listen as another user")
CALLS = 4


@pytest.fixture
def user_settings(workspace: Workspace) -> Iterator[Path]:
    """Our hooks go into the user's own settings file (``--settings`` files are never reloaded by the client);
    the ``--settings`` file keeps only the raw capture of every payload the client sends. Watchers the hooks
    start are killed after the test."""
    workspace.settings.write_text("{}\n")
    add_raw_capture(workspace.settings, workspace.raw_file)
    yield workspace.home / ".claude" / "settings.json"
    pid = holder(workspace)
    if pid and alive(pid):
        os.kill(pid, signal.SIGKILL)


def cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)}
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", *args], env=env, cwd=str(REPO), capture_output=True, text=True, timeout=120
    )


def every_event_journaled(workspace: Workspace, session: str, want: Counter[tuple[str, str | None]]) -> None:
    """Wait until every event the client fired (``want``: event and tool, counted) is in the journal."""
    state: dict = {}

    def complete() -> bool:
        kinds, _ = journaled(workspace, session)
        state["missing"] = want - kinds
        return not state["missing"]

    wait_until(complete, 60, lambda: f"every fired event in the journal (missing {state.get('missing')})")


@pytest.mark.parametrize("transport", [None, "http"], ids=["default-install", "http-install"])
def test_nothing_reaches_another_users_listener_on_the_endpoints_port(
    workspace: Workspace, user_settings: Path, scripted_api: ScriptedAPI, transport: str | None, monkeypatch
) -> None:
    env = {**os.environ, "HOME": str(workspace.home), "ECC_HOOKS_HOME": str(workspace.ecc_home)}
    monkeypatch.setenv("ECC_HOOKS_HOME", str(workspace.ecc_home))
    install_ecc_hooks(user_settings, env, transport=transport)
    hooks = json.loads(user_settings.read_text())["hooks"]
    if transport == "http":  # (the default install's shape is tests/security/test_endpoint_squatter.py's)
        assert any(h.get("type") == "http" for h in hooks["PreToolUse"][0]["hooks"])
    config = endpoint.ensure()  # the port the http install chose (for the default install, the one it would)
    canary = f"CANARY-{uuid.uuid4().hex}"
    steps = [tool("Bash", {"command": f"echo {canary}-{i}", "description": f"call {i}"}) for i in range(CALLS)]
    with squatting(config.port) as squatter:  # taken after the install, while no watcher runs (after a reboot)
        scripted_api.scenario = Scenario(steps=[*steps, say("SQUATTER-DONE")])
        result = run_claude(
            workspace, scripted_api, "run the commands", allowed_tools="Bash", extra_env={"ECC_HOOKS_NO_WATCHER": "0"}
        )
        assert result.returncode == 0, result.stderr
        outputs = [p for p in result.new_payloads if p["hook_event_name"] == "PostToolUse"]
        assert len(outputs) == CALLS and all(canary in json.dumps(p["tool_response"]) for p in outputs)
        # nothing the session did reached the listener: not a byte, not a connection
        got = squatter.received()
        assert got == b"", got[:300]

    # no event lost: every event the client fired for our hooks is in the journal
    from ecc_hooks.cli.install import EVENT_NAMES

    want = fired(result, set(EVENT_NAMES))
    assert sum(n for (e, _), n in want.items() if e == "PreToolUse") == CALLS
    every_event_journaled(workspace, result.session_id or "", want)
    if transport is None:
        assert endpoint.taken() is None  # nothing was ever going to be posted: nothing to tell
        return
    # the user is told: the settings file now has command hooks, the status line row and status say why
    assert not any(
        h.get("type") == "http"
        for g in json.loads(user_settings.read_text())["hooks"].values()
        for x in g
        for h in x["hooks"]
    )
    stdin = json.dumps({"session_id": result.session_id, "cwd": str(workspace.work), "model": {"display_name": "S"}})
    row = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "statusline"],
        input=stdin.encode(),
        env={**env, "ECC_HOOKS_NO_WATCHER": "1"},
        cwd=str(REPO),
        capture_output=True,
    )
    assert f"port {config.port} taken by uid {NOBODY}".encode() in row.stdout, row.stdout
    status = cli(workspace, "status", "--all", "--no-gh")
    assert f"another user (uid {NOBODY}) was found holding 127.0.0.1:{config.port}" in status.stdout, status.stdout
    assert "ConfigChange" in {r["event"] for r in workspace.journal(result.session_id or "")}  # the client reloaded


def test_a_watcher_stopped_mid_turn_leaves_nothing_for_whoever_takes_the_port(
    workspace: Workspace, user_settings: Path, scripted_api: ScriptedAPI, monkeypatch
) -> None:
    """``--transport http``; a Bash call of the session runs ``ecc-hooks watch --stop`` (as the user, or its idle
    exit, would) and uid 65534 binds the port the moment it is free: the watcher switched the hooks to commands
    and kept the port until the client reloaded them, so the tool calls after it reach nobody but the journal."""
    env = {**os.environ, "HOME": str(workspace.home), "ECC_HOOKS_HOME": str(workspace.ecc_home)}
    monkeypatch.setenv("ECC_HOOKS_HOME", str(workspace.ecc_home))
    install_ecc_hooks(user_settings, env, transport="http")
    config = endpoint.load()
    assert config is not None
    monkeypatch.setenv("ECC_HOOKS_NO_WATCHER", "0")
    assert cli(workspace, "watch", "--idle-exit", "300").returncode == 0
    wait_until(lambda: endpoint.listener_uid(config) == os.getuid(), 60, "the watcher to listen")
    canary = f"CANARY-{uuid.uuid4().hex}"
    stop = f"{sys.executable} -m ecc_hooks watch --stop"
    steps = [tool("Bash", {"command": stop, "description": "stop the watcher"})]
    steps += [tool("Bash", {"command": f"echo {canary}-{i}", "description": f"call {i}"}) for i in range(CALLS)]
    with squatting(config.port, wait=True) as squatter:  # takes the port the moment the watcher lets it go
        scripted_api.scenario = Scenario(steps=[*steps, say("SQUATTER-DONE")])
        result = run_claude(
            workspace, scripted_api, "run the commands", allowed_tools="Bash", extra_env={"ECC_HOOKS_NO_WATCHER": "0"}
        )
        assert result.returncode == 0, result.stderr
        outputs = [p for p in result.new_payloads if p["hook_event_name"] == "PostToolUse"]
        assert len(outputs) == CALLS + 1 and all(canary in json.dumps(p["tool_response"]) for p in outputs[1:])
        assert squatter.bound(), f"uid 65534 never got the port: the test proved nothing ({outputs[0]})"
        got = squatter.received()
        assert got == b"", got[:300]  # not a byte, not a connection

    from ecc_hooks.cli.install import EVENT_NAMES

    want = fired(result, set(EVENT_NAMES))
    every_event_journaled(workspace, result.session_id or "", want)
    assert "ConfigChange" in {r["event"] for r in workspace.journal(result.session_id or "")}  # the client reloaded
    # a watcher the turn's Stop hook started found the port taken: the user is told, honestly
    note = endpoint.taken()
    assert note is not None and note["uid"] == NOBODY and isinstance(note["since"], float)
    status = cli(workspace, "status", "--all", "--no-gh")
    said = status.stdout.split("endpoint:", 1)[-1].split("\n", 1)[0]
    assert "(the watcher stopped) and" in said and f"may have reached uid {NOBODY}" in said, status.stdout
    assert "nothing" not in said
