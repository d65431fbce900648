"""Calls the real client never ran: rejected at its permission prompt (tmux), or refused by ``claude -p`` for a tool
not allowed. The client fires no hook when such a call ends; the watcher reads the end from the transcript and
counts the call as denied (a failure that never ran), ends the wait, and a check it would have been is skipped."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.harness import RunResult, Workspace
from tests.e2e.test_needs_you import doc
from tests.e2e.tmux_runner import TmuxClaude, tmux_available
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

WATCHER_ON = {"ECC_HOOKS_NO_WATCHER": "0"}


@pytest.fixture
def watched(workspace: Workspace) -> Iterator[Workspace]:
    """The workspace, its watcher (started by SessionStart) killed at the end."""
    yield workspace
    lock = workspace.ecc_home / "watch.lock"
    pid = lock.read_text().strip() if lock.exists() else ""
    if pid.isdigit():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


def tools(ws: Workspace) -> dict[str, Any]:
    return doc(ws)["toolCalls"]


def test_a_call_rejected_at_the_prompt_counts_as_denied_and_ends_the_wait(
    watched: Workspace, scripted_api: ScriptedAPI
) -> None:
    if not tmux_available():
        pytest.skip("tmux not installed")
    scripted_api.scenario = Scenario(steps=[tool("Bash", {"command": "pytest -q", "description": "tests"}), say("X")])
    with TmuxClaude(watched, scripted_api, extra_env=WATCHER_ON) as tui:
        tui.start()
        tui.wait_for(lambda s: "\u276f" in s)
        tui.submit("run the tests")
        tui.wait_for("Do you want to proceed?")
        wait_until(lambda: doc(watched)["context"]["waitingFor"] is not None, 30, "the wait")
        tui.keys("Escape")  # reject: the client ends the turn and fires no hook for it
        tui.wait_for("Did not run")
        wait_until(lambda: tools(watched)["denied"] == 1, 30, "the rejected call counted from the transcript")
        after = doc(watched)  # while the client still runs (closing it ends the session)
    assert after["toolCalls"]["total"] == 1 and after["toolCalls"]["failures"] == 1
    assert after["toolCalls"]["pending"] == 0
    assert after["context"]["waitingFor"] is None and after["context"]["turnState"] == "idle"
    assert [c["status"] for c in after["checks"]["local"]] == ["skipped"]  # pytest never ran: not a failure
    [record] = [r for r in watched.journal(after["context"]["sessionId"]) if r["event"] == "PermissionDenied"]
    assert record["backfilled"] is True and record["reason"].startswith("The user doesn't want to proceed")


def test_calls_refused_by_claude_p_count_as_denied(
    watched: Workspace, scripted_api: ScriptedAPI, claude_run: Callable[..., RunResult]
) -> None:
    steps = [
        tool("Bash", {"command": "touch x.txt", "description": "x"}),
        tool("Write", {"file_path": str(watched.work / "y.txt"), "content": "y"}),
        say("REFUSED-DONE"),
    ]
    result = claude_run(Scenario(steps=steps), "go", allowed_tools="Read", extra_env=WATCHER_ON)
    assert result.returncode == 0, result.stderr
    fired = {p["hook_event_name"] for p in result.new_payloads}
    assert "PermissionDenied" not in fired and "PostToolUseFailure" not in fired  # the client said nothing
    wait_until(lambda: tools(watched)["denied"] == 2, 30, "both refusals read from the transcript")
    counted = tools(watched)
    assert (counted["total"], counted["failures"], counted["pending"]) == (2, 2, 0)
    assert not (watched.work / "x.txt").exists() and not (watched.work / "y.txt").exists()
    assert json.dumps(doc(watched)["risk"])  # a valid payload throughout
