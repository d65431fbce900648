"""Two plain Claude Code sessions (no runtime: a person ran ``claude`` in tmux, our hooks installed) stop at the
pinned client's Bash permission prompt; the runtime's client, given only their session ids, reads each screen
(``PaneScreen``), approves one (its command runs: the file appears) and denies the other (its command never runs).
The pane comes from the SessionStart event, which recorded ``$TMUX`` and ``$TMUX_PANE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecc_hooks.runtime import client
from ecc_hooks.runtime import records as rec
from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.harness import Workspace, make_workspace
from tests.e2e.tmux_runner import TmuxClaude, tmux_available
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

PROMPT = "Do you want to proceed?"
COMMAND = "touch made-by-claude.txt"


def session_of(ws: Workspace) -> str:
    """The session id Claude Code gave the workspace's client (its SessionStart payload)."""
    starts = [p for p in ws.raw_payloads() if p.get("hook_event_name") == "SessionStart"]
    assert starts, "no SessionStart hook ran"
    return str(starts[-1]["session_id"])


def recorded_pane(home: Workspace, session: str) -> dict:
    starts = [r for r in home.journal(session) if r["event"] == "SessionStart"]
    return starts[-1].get("tmux") or {} if starts else {}


def test_a_plain_sessions_permission_prompt_is_approved_or_denied_by_session_id(
    workspace: Workspace, scripted_api: ScriptedAPI, claude_client: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if not tmux_available():
        pytest.skip("tmux not installed")
    scripted_api.scenario = Scenario(steps=[tool("Bash", {"command": COMMAND, "description": "make a file"}),
                                            say("FILE-MADE")])  # fmt: skip
    other = make_workspace(tmp_path / "cc2", claude_client)  # its own work dir; its hooks write to the same home
    shared = {"ECC_HOOKS_HOME": str(workspace.ecc_home)}
    monkeypatch.setenv("ECC_HOOKS_HOME", str(workspace.ecc_home))
    with (
        TmuxClaude(workspace, scripted_api, tmux_env=True) as approved,
        TmuxClaude(other, scripted_api, tmux_env=True, extra_env=shared) as denied,
    ):
        for tui in (approved, denied):
            tui.start()
        for tui in (approved, denied):
            tui.wait_for(lambda s: "\u276f" in s)
            tui.submit("make the file")
        for tui in (approved, denied):
            tui.wait_for(PROMPT)
        yes, no = session_of(workspace), session_of(other)
        for session, tui in ((yes, approved), (no, denied)):
            pane = recorded_pane(workspace, session)
            assert pane.get("pane", "").startswith("%") and pane.get("socket") == str(tui.socket), pane

        seen = client.run(rec.PaneScreen(yes))
        assert seen.prompt is not None and COMMAND in seen.prompt and seen.prompt.endswith(PROMPT)
        done = client.run(rec.PaneApprove(yes, screen=seen.fingerprint))
        assert done.what.startswith("approved: ")
        wait_until(lambda: (workspace.work / "made-by-claude.txt").exists(), 60, "the approved command's file")
        approved.wait_for("FILE-MADE", timeout=60)
        assert client.run(rec.PaneScreen(yes)).prompt is None

        assert client.run(rec.PaneScreen(no)).prompt is not None  # still waiting: the other session's answer
        done = client.run(rec.PaneDeny(no))
        assert done.what.startswith("denied: ")
        denied.wait_for("Did not run", timeout=60)
        with pytest.raises(rec.Refused, match="not at a permission prompt"):
            client.run(rec.PaneApprove(no))  # nothing left to answer: nothing pressed
        assert not (other.work / "made-by-claude.txt").exists()
        ran = [r for r in workspace.journal(no) if r["event"] == "PostToolUse"]
        assert ran == []  # the denied call never ran
