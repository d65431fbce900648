"""The real interactive client in tmux stops at its permission prompt: every surface says the session waits for
the user, for what and since when, and stops saying it the moment the prompt is answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.harness import Workspace
from tests.e2e.tmux_runner import TmuxClaude, tmux_available
from tests.helpers import REPO, wait_until

pytestmark = pytest.mark.e2e

PROMPT = "Do you want to proceed?"


def status(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "status", "--no-gh", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(REPO),
        timeout=60,
    )


def doc(ws: Workspace) -> dict[str, Any]:
    done = status(ws, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_permission_prompt_is_shown_as_a_wait_until_it_is_answered(
    workspace: Workspace, scripted_api: ScriptedAPI
) -> None:
    if not tmux_available():
        pytest.skip("tmux not installed")
    scripted_api.scenario = Scenario(
        steps=[tool("Bash", {"command": "touch made-by-claude.txt", "description": "make a file"}), say("FILE-MADE")]
    )
    with TmuxClaude(workspace, scripted_api) as tui:
        tui.start()
        tui.wait_for(lambda s: "\u276f" in s)
        tui.submit("make the file")
        tui.wait_for(PROMPT)  # the client's own prompt is on the screen
        wait_until(lambda: doc(workspace)["context"]["waitingFor"] is not None, 30, "the wait in the journal")
        waiting = doc(workspace)
        assert waiting["context"]["waitingFor"] == "permission to use Bash"
        assert waiting["context"]["turnState"] == "waiting" and waiting["context"]["waitingSince"]
        assert waiting["risk"]["status"] == "attention"
        assert waiting["risk"]["reasons"][0].startswith("waiting for permission to use Bash for ")
        table = status(workspace, "--exit-code")
        assert table.returncode == 2 and "WAITING" in table.stdout and "needs permission to use Bash" in table.stdout
        events = [r["event"] for r in workspace.journal(waiting["context"]["sessionId"])]
        assert "PermissionRequest" in events
        tui.keys("Enter")  # "1. Yes"
        tui.wait_for("FILE-MADE")
        wait_until(lambda: doc(workspace)["context"]["waitingFor"] is None, 30, "the wait cleared")
    after = doc(workspace)
    assert after["context"]["waitingSince"] is None
    assert not any(r.startswith("waiting") for r in after["risk"]["reasons"])
    assert status(workspace, "--exit-code", "--session", after["context"]["sessionId"][:8]).returncode == 0
    assert (workspace.work / "made-by-claude.txt").exists()


def test_the_idle_prompt_is_a_wait_for_the_next_prompt(workspace: Workspace, scripted_api: ScriptedAPI) -> None:
    """The client says "Claude is waiting for your input" (Notification idle_prompt) once a finished turn has
    sat unanswered for ``messageIdleNotifThresholdMs`` (60 s by default; 1.5 s here)."""
    if not tmux_available():
        pytest.skip("tmux not installed")
    config = workspace.home / ".claude.json"
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "messageIdleNotifThresholdMs": 1500}))
    scripted_api.scenario = Scenario(steps=[say("FIRST-DONE"), say("SECOND-DONE")])
    with TmuxClaude(workspace, scripted_api) as tui:
        tui.start()
        tui.wait_for(lambda s: "\u276f" in s)
        tui.submit("first")
        tui.wait_for("FIRST-DONE")
        wait_until(lambda: doc(workspace)["context"]["waitingFor"] == "your next prompt", 60, "the idle prompt")
        waiting = doc(workspace)
        assert waiting["context"]["turnState"] == "waiting" and waiting["risk"]["status"] == "attention"
        assert status(workspace, "--exit-code").returncode == 2
        events = [r["event"] for r in workspace.journal(waiting["context"]["sessionId"])]
        assert events.count("Notification") >= 1
        tui.submit("second")
        tui.wait_for("SECOND-DONE")
        after = doc(workspace)["context"]
        # the user answered: that wait is over (the client may already be idle again: a new wait, a later one)
        assert after["waitingFor"] is None or after["waitingSince"] > waiting["context"]["waitingSince"]
