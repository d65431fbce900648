"""inspect over real Claude Code sessions (the pinned client, offline): our journal adapter and the history
adapter read the same session, and the handoff names what the session really did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks.models.session import SessionSnapshot
from tests.e2e.api_server import Scenario, SeenRequest, Step, say, tool
from tests.e2e.harness import REPO, RunResult, Workspace

pytestmark = pytest.mark.e2e

Run = Callable[..., RunResult]
TASK_SUBJECT = "Fix the failing build script"
COMMIT_SUBJECT = "notes: first draft"


def inspect_cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m ecc_hooks.inspect`` as the user would run it in the work dir (HOME and ECC_HOOKS_HOME of the run)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "ECC_HOOKS_HOME")}
    env.update(HOME=str(ws.home), ECC_HOOKS_HOME=str(ws.ecc_home), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks.inspect", *args],
        cwd=ws.work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(ws: Workspace, *args: str) -> dict[str, Any]:
    proc = inspect_cli(ws, *args)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    SessionSnapshot.model_validate(doc)
    return doc


def _task_step(request: SeenRequest) -> Step:
    if "TaskCreate" not in request.tools:
        pytest.fail(f"ToolSearch did not load TaskCreate (tools: {request.tools})")
    return tool(
        "TaskCreate",
        {"subject": TASK_SUBJECT, "description": "make `exit 3` pass", "activeForm": "Fixing the build script"},
    )


@pytest.fixture
def handoff_session(claude_run: Run, workspace: Workspace) -> RunResult:
    """A Write, a commit, a failing Bash (exit 3), and a TaskCreate left pending."""
    notes = workspace.work / "notes.md"
    scenario = Scenario(
        steps=[
            tool("Write", {"file_path": str(notes), "content": "first draft\n"}),
            tool(
                "Bash",
                {
                    "command": "git add notes.md && git -c user.name=e2e -c user.email=e2e@example.invalid "
                    f"commit -q -m '{COMMIT_SUBJECT}'",
                    "description": "commit the notes",
                },
            ),
            tool("Bash", {"command": "./build.sh || exit 3", "description": "run the build"}),
            tool("ToolSearch", {"query": "select:TaskCreate,TaskUpdate", "max_results": 5}),
            _task_step,
            say("The build fails; I left a task to fix it."),
        ]
    )
    result = claude_run(
        scenario,
        "write the notes, commit them, run the build and track what is left",
        allowed_tools="Bash Read Write Edit ToolSearch TaskCreate TaskUpdate",
    )
    assert result.returncode == 0, result.stderr
    assert result.session_id and result.transcript is not None
    return result


def _raw(result: RunResult, event: str, **match: Any) -> list[dict[str, Any]]:
    return [
        p for p in result.new_payloads if p["hook_event_name"] == event and all(p.get(k) == v for k, v in match.items())
    ]


def test_handoff_names_files_failing_command_open_todo_and_resume(
    handoff_session: RunResult, workspace: Workspace
) -> None:
    result, sid = handoff_session, handoff_session.session_id
    # What the client itself reported, to compare the handoff against.
    [write] = _raw(result, "PostToolUse", tool_name="Write")
    [failure] = _raw(result, "PostToolUseFailure", tool_name="Bash")
    [created] = _raw(result, "TaskCreated")
    failing_command = failure["tool_input"]["command"]
    commits = subprocess.run(
        ["git", "log", "--format=%H %s", "HEAD"], cwd=workspace.work, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    session_commits = [c for c in commits if c.endswith(COMMIT_SUBJECT)]
    assert len(session_commits) == 1

    handoff = workspace.root / "handoff.md"
    proc = inspect_cli(workspace, sid, "--handoff", str(handoff))
    assert proc.returncode == 0, proc.stderr
    text = handoff.read_text()
    sections = {block.split("\n", 1)[0]: block for block in text.split("\n## ")}
    assert "write the notes, commit them" in sections["Objective"]
    written = Path(write["tool_input"]["file_path"]).relative_to(workspace.work)  # relative to the worktree
    assert f"`{written}`" in sections["What was done"]
    assert session_commits[0].split()[0][:12] in sections["What was done"] and COMMIT_SUBJECT in text
    assert "initial" not in sections["What was done"]  # the work dir's first commit predates the session
    assert f"failed: `{failing_command}` (Exit code 3)" in sections["Checks"]
    assert f"- [ ] {created['task_subject']} (pending)" in sections["Open todos"]
    assert f"command failed: {failing_command}" in sections["Risks"]
    assert f"claude --resume {sid}" in sections["How to resume"] and str(workspace.work) in sections["How to resume"]
    assert "- Branch: `main`" in text
    tool_uses = len({p["tool_use_id"] for p in _raw(result, "PreToolUse")})
    assert f"Tool calls: {tool_uses} " in sections["What was done"]

    # The HUD's sync.handoff now points at it (the status CLI reads the record inspect wrote).
    record = json.loads((workspace.ecc_home / "sessions" / sid / "handoff.json").read_text())
    assert record["path"] == str(handoff) and record["written"] is True and record["writtenAt"]
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR",)}
    env.update(HOME=str(workspace.home), ECC_HOOKS_HOME=str(workspace.ecc_home), PYTHONPATH=str(REPO))
    status = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "status", "--session", sid, "--json", "--no-gh"],
        cwd=workspace.work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["sync"]["handoff"] == {"path": str(handoff), "written": True}

    # --markdown prints the same document without writing anything new.
    printed = inspect_cli(workspace, sid, "--markdown")
    assert printed.returncode == 0 and printed.stdout == text


def test_journal_and_history_adapters_agree(handoff_session: RunResult, workspace: Workspace) -> None:
    sid = handoff_session.session_id
    live = snapshot(workspace, sid)
    assert live["adapterId"] == "journal" and live["session"]["kind"] == "claude-code"
    assert live["session"]["sourceTarget"] == {"type": "session-id", "value": sid}
    assert live["session"]["state"] == "completed"  # print mode ended (SessionEnd)
    [main] = live["workers"]
    assert main["id"] == sid and main["label"] == "main" and main["runtime"]["dead"] is True
    assert main["branch"] == "main" and main["worktree"] == str(workspace.work)

    by_target = {
        target: snapshot(workspace, target)
        for target in (f"claude:{sid}", "claude:latest", str(handoff_session.transcript))
    }
    for target, history in by_target.items():
        assert history["adapterId"] == "claude-history", target
        assert history["session"]["kind"] == "history" and history["session"]["state"] == "recorded"
        assert history["session"]["id"] == sid
        assert history["aggregates"] == {"workerCount": 1, "states": {"recorded": 1}, "healths": {"healthy": 1}}
        replayed = history["workers"][0]
        # The transcript replay finds what the hooks recorded.
        for key in ("intent",):
            assert replayed[key] == main[key], (target, key)
        assert set(replayed["outputs"]["remainingRisks"]) == set(main["outputs"]["remainingRisks"])
        assert [s for s in replayed["outputs"]["summary"] if s.startswith("changed ")] == [
            s for s in main["outputs"]["summary"] if s.startswith("changed ")
        ]
    assert by_target[str(handoff_session.transcript)]["session"]["sourceTarget"]["type"] == "transcript"

    journal_doc = inspect_cli(workspace, sid, "--markdown").stdout
    history_doc = inspect_cli(workspace, f"claude:{sid}", "--markdown").stdout

    def strip(doc: str) -> list[str]:
        return [
            line
            for line in doc.splitlines()
            if not line.startswith(("# Handoff", "- Session:", "- Adapter:", "- Started:"))
        ]

    assert strip(journal_doc) == strip(history_doc)  # same tools, files, checks, todos, risks, cost, resume


def test_background_subagent_is_a_worker(claude_run: Run, workspace: Workspace, tmp_path: Path) -> None:
    marker = "E2E-INSPECT-SUB"
    scenario = Scenario(
        steps=[
            tool(
                "Agent",
                {
                    "description": "list files",
                    "prompt": f"{marker}: list the files",
                    "subagent_type": "general-purpose",
                    "run_in_background": True,
                },
            ),
            say("Waiting."),
            say("The agent is done."),
        ],
        subagents={marker: [tool("Bash", {"command": "ls", "description": "list"}), say("README.md")]},
    )
    result = claude_run(scenario, "delegate the listing")
    assert result.returncode == 0, result.stderr
    [launched] = _raw(result, "PostToolUse", tool_name="Agent")
    agent_id = launched["tool_response"]["agentId"]

    live = snapshot(workspace, "latest")
    assert live["session"]["id"] == result.session_id
    workers = {w["id"]: w for w in live["workers"]}
    assert set(workers) == {result.session_id, agent_id}
    assert workers[agent_id]["state"] == "completed" and workers[agent_id]["runtime"]["kind"] == "claude-subagent"
    assert workers[agent_id]["intent"]["objective"] == "list files"
    assert live["aggregates"]["workerCount"] == 2 and live["aggregates"]["states"] == {"completed": 2}
    assert live["session"]["state"] == "completed"

    history = snapshot(workspace, f"claude:{result.session_id}")
    assert {w["id"] for w in history["workers"]} == {result.session_id, agent_id}
    assert history["aggregates"]["states"] == {"recorded": 2}

    out = tmp_path / "snap.json"
    proc = inspect_cli(workspace, "latest", "--write", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads(out.read_text())["workers"] == live["workers"]
