"""The HUD over real Claude Code sessions: after each scenario, ``python -m ecc_hooks.status --json --session ID``
is valid against the schema and its figures match what the client itself sent and reported.

Expected values come from the raw hook captures (tool ids, failures, SubagentStart ids, the scripted todo/task
inputs as the client ran them) and from the transcript's ``cost-state`` line (Claude Code's own total).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from tests.e2e.api_server import Scenario, say, tool
from tests.e2e.harness import REPO, RunResult, Workspace
from tests.e2e.scenarios import TODO_ALLOWED_TOOLS, TODO_ENV, background_subagent, four_tools, todo_plan
from tests.helpers import undeclared_keys

pytestmark = pytest.mark.e2e

Run = Callable[..., RunResult]
SCHEMA = json.loads((REPO / "schemas" / "ecc.hud-status.v1.schema.json").read_text())
TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")


def hud(ws: Workspace, session_id: str) -> dict[str, Any]:
    """The status CLI's payload for one session, run as a user would (schema-checked)."""
    env = {**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)}
    env.pop("ECC_HOOKS_BUDGET_USD", None)
    proc = subprocess.run(
        [sys.executable, "-m", "ecc_hooks.status", "--json", "--session", session_id, "--no-gh"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(REPO),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert undeclared_keys(doc, SCHEMA) == []  # every field we write is in the published contract
    return doc


def assert_common(result: RunResult, ws: Workspace) -> dict[str, Any]:
    """Tool totals, failures, pending and cost against the client's own records; returns the payload."""
    assert result.returncode == 0, result.stderr
    assert result.session_id
    doc = hud(ws, result.session_id)
    payloads = result.new_payloads
    ids = {p["tool_use_id"] for p in payloads if p["hook_event_name"] in TOOL_EVENTS}
    failures = [p for p in payloads if p["hook_event_name"] == "PostToolUseFailure"]
    finished = {p["tool_use_id"] for p in payloads if p["hook_event_name"] in TOOL_EVENTS[1:]}
    tools = doc["toolCalls"]
    assert tools["total"] == len(ids)
    assert tools["failures"] == len(failures)
    assert tools["pending"] == len(ids - finished) == 0
    assert tools["subagentCalls"] == len(
        {p["tool_use_id"] for p in payloads if p["hook_event_name"] in TOOL_EVENTS and p.get("agent_id")}
    )
    last_post = [p for p in payloads if p["hook_event_name"] in TOOL_EVENTS[1:]][-1]
    assert tools["lastTool"]["name"] == last_post["tool_name"]

    assert doc["context"]["sessionId"] == result.session_id
    assert doc["context"]["worktree"] == str(ws.work) and doc["context"]["branch"] == "main"
    assert doc["context"]["model"] == "claude-sonnet-4-5"

    # Claude Code's own total (print mode has no status line, so ours is the session figure).
    assert result.cost_state is not None
    oracle = result.cost_state["totalCostUSD"]
    cost = doc["cost"]
    assert cost["source"] == "computed" and cost["unknownModels"] == []
    assert cost["computedUsd"] == pytest.approx(oracle, abs=1e-6), f"engine {cost['computedUsd']} vs client {oracle}"
    assert cost["sessionUsd"] == pytest.approx(oracle, abs=1e-6)
    assert cost["transcriptReportedUsd"] == pytest.approx(oracle, abs=1e-12)
    assert abs(cost["transcriptDifferenceUsd"]) <= 1e-6
    return doc


def test_hud_after_bash_write_edit_read(claude_run: Run, workspace: Workspace) -> None:
    steps = four_tools(workspace.work)
    result = claude_run(Scenario(steps=steps), "four tools")
    doc = assert_common(result, workspace)
    assert doc["toolCalls"]["failures"] == 0 and doc["toolCalls"]["lastTool"]["status"] == "success"
    assert doc["activeAgents"] == [] and doc["checks"]["local"] == []
    # the tools left two untracked files in the work dir: git says dirty
    assert doc["risk"]["dirtyWorktree"] is True
    # the last response's context figures come from the transcript: (80 + 4500) / 200k used
    assert doc["context"]["contextWindow"]["source"] == "transcript"
    assert doc["context"]["contextWindow"]["remainingPct"] == 100 - round((80 + 4500) * 100 / 200_000)


def test_hud_after_failing_check(claude_run: Run, workspace: Workspace) -> None:
    # `make test` with no Makefile really fails: a failing check seen in a Bash call
    steps = [tool("Bash", {"command": "make test", "description": "run the tests"}), say("Tests failed.")]
    result = claude_run(Scenario(steps=steps), "run the tests")
    doc = assert_common(result, workspace)
    [failure] = [p for p in result.new_payloads if p["hook_event_name"] == "PostToolUseFailure"]
    assert failure["tool_input"]["command"] == "make test"
    assert doc["toolCalls"]["lastTool"]["status"] == "failure"
    assert [(c["command"], c["status"]) for c in doc["checks"]["local"]] == [("make test", "fail")]
    assert doc["risk"]["status"] == "attention" and any("failing checks" in r for r in doc["risk"]["reasons"])


def test_hud_after_background_subagent(claude_run: Run, workspace: Workspace) -> None:
    scenario = background_subagent("E2E-HUD-SUBAGENT")
    result = claude_run(scenario, "delegate")
    doc = assert_common(result, workspace)
    started = {p["agent_id"] for p in result.new_payloads if p["hook_event_name"] == "SubagentStart"}
    agents = {a["id"]: a for a in doc["activeAgents"]}
    assert set(agents) == started and len(started) == 1
    [agent_id] = started
    assert agents[agent_id]["state"] == "completed"
    assert agents[agent_id]["objective"] == "list files"
    # Claude Code's total includes the subagent's spend (its own transcript): so must ours
    assert result.subagent_transcripts


def test_hud_after_todo_or_task_tools(claude_run: Run, workspace: Workspace) -> None:
    result = claude_run(todo_plan(), "plan", allowed_tools=TODO_ALLOWED_TOOLS, extra_env=TODO_ENV)
    doc = assert_common(result, workspace)
    # What the client ran (its own PreToolUse inputs), replayed by hand: the final list and states.
    runs = [p for p in result.new_payloads if p["hook_event_name"] == "PreToolUse" and p.get("agent_id") is None]
    items: dict[str, str] = {}
    current = None
    for p in runs:
        if p["tool_name"] == "TodoWrite":
            todos = p["tool_input"]["todos"]
            items = {str(i): t["status"] for i, t in enumerate(todos)}
            current = next((t["activeForm"] for t in todos if t["status"] == "in_progress"), None)
        elif p["tool_name"] == "TaskCreate":
            [post] = [
                q
                for q in result.new_payloads
                if q["hook_event_name"] == "PostToolUse" and q.get("tool_use_id") == p["tool_use_id"]
            ]
            items[post["tool_response"]["task"]["id"]] = "pending"
        elif p["tool_name"] == "TaskUpdate":
            items[str(p["tool_input"]["taskId"])] = p["tool_input"]["status"]
    if not items:
        pytest.skip("this client offered no todo/task tools")
    expected = {"pending": 0, "inProgress": 0, "completed": 0}
    for status in items.values():
        expected[{"in_progress": "inProgress"}.get(status, status)] += 1
    assert doc["todos"]["counts"] == expected
    assert doc["todos"]["inProgress"] == current
