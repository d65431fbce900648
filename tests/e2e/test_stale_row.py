"""A hung watcher in the real client (tmux): the status line never mixes a stale snapshot into a current row.

Our installer's status line and hooks; the SessionStart hook starts the watcher. After the first turn the
watcher is stopped (SIGSTOP: it holds its lock but answers nothing). The next turn's hooks wait for it, give up
and record the events themselves; the status line gives up on it too, renders the row itself, finds hud.json
older than the journal, and marks what came from the snapshot as stale instead of showing it as current.
"""

from __future__ import annotations

import os
import signal

import pytest

from tests import leakcheck
from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.harness import Workspace
from tests.e2e.test_context_conformance import install_statusline
from tests.e2e.test_http_transport import holder
from tests.e2e.tmux_runner import TmuxClaude, tmux_available
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


def test_a_hung_watchers_snapshot_is_marked_stale_on_the_row(workspace: Workspace, scripted_api: ScriptedAPI) -> None:
    if not tmux_available():
        pytest.skip("tmux not installed")
    install_statusline(workspace)
    scripted_api.scenario = Scenario(
        steps=[say("FIRST-DONE"), tool("Bash", {"command": "echo hi", "description": "hi"}), say("SECOND-DONE")]
    )
    stopped = None
    try:
        with TmuxClaude(workspace, scripted_api, extra_env={"ECC_HOOKS_NO_WATCHER": "0"}) as tui:
            tui.start()
            tui.wait_for(lambda s: "\u276f" in s)
            tui.submit("first")
            tui.wait_for(lambda s: "FIRST-DONE" in s and "ctx " in s)
            stopped = wait_until(lambda: holder(workspace), 30, "the watcher SessionStart started")
            assert "stale" not in tui.screen()
            os.kill(stopped, signal.SIGSTOP)
            tui.submit("second")
            screen = tui.wait_for(lambda s: "SECOND-DONE" in s and "\u29d6 stale" in s, timeout=90)
            row = next(line for line in screen.splitlines() if "\u29d6 stale" in line)
            assert "ctx " in row  # the live figures from the client's stdin are still there, current
    finally:
        if stopped:
            os.kill(stopped, signal.SIGCONT)
            os.kill(stopped, signal.SIGKILL)
        # the client's last hooks and status line find no watcher and start one again (the opt-in here): none
        # may outlive the test (tests/leakcheck.py found it running at the end of the run)
        leakcheck.kill_with_env("ECC_HOOKS_HOME", str(workspace.ecc_home))
