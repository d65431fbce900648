"""The real Claude Code client in print mode (``claude -p``) against scripted conversations.

Each scenario checks the flow Claude Code really produced (raw hook payloads, requests, transcripts) and
that our journal holds exactly those events, in order, with the right names, ids and outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.api_server import Scenario, SeenRequest, Step, Usage, say, tool
from tests.e2e.checks import assert_journal_matches, events
from tests.e2e.harness import RunResult, Workspace
from tests.e2e.scenarios import (
    AGENT_REPORTED,
    FOUR_TOOLS_REPLY,
    TODO_ALLOWED_TOOLS,
    TODO_ENV,
    background_subagent,
    four_tools,
    todo_plan,
)

pytestmark = pytest.mark.e2e

Run = Callable[..., RunResult]


def tool_result_ids(requests: list[SeenRequest]) -> list[str]:
    """tool_use ids the client answered with tool_result blocks, in order (from its last request)."""
    last = [r for r in requests if r.script == "main"][-1]
    ids = []
    for message in last.messages:
        for block in message.get("content") if isinstance(message.get("content"), list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                ids.append(block["tool_use_id"])
    return ids


def tool_calls(payloads: list[dict[str, Any]], agent: str | None = None) -> list[tuple[str, str]]:
    """(tool name, tool_use_id) of the PreToolUse payloads of one agent."""
    return [
        (p["tool_name"], p["tool_use_id"])
        for p in payloads
        if p["hook_event_name"] == "PreToolUse" and p.get("agent_id") == agent
    ]


def usage_totals(steps: list[Step]) -> dict[str, int]:
    """What the scripted usage of ``steps`` adds up to, in cost-state's field names."""
    return {
        "inputTokens": sum(s.usage.input_tokens for s in steps),
        "outputTokens": sum(s.usage.output_tokens for s in steps),
        "cacheReadInputTokens": sum(s.usage.cache_read for s in steps),
        "cacheCreationInputTokens": sum(s.usage.cache_5m + s.usage.cache_1h for s in steps),
        "cacheCreationEphemeral5mInputTokens": sum(s.usage.cache_5m for s in steps),
        "cacheCreationEphemeral1hInputTokens": sum(s.usage.cache_1h for s in steps),
    }


def assert_ok(result: RunResult) -> None:
    assert result.returncode == 0, f"claude exited {result.returncode}\nstdout={result.stdout}\nstderr={result.stderr}"
    assert result.session_id, "no hook payload named a session"


def test_bash_write_edit_read_succeed(claude_run: Run, workspace: Workspace) -> None:
    notes = workspace.work / "notes.md"
    steps = four_tools(workspace.work)
    result = claude_run(Scenario(steps=steps), "make a hello file, write and edit notes, read it back")
    assert_ok(result)
    assert FOUR_TOOLS_REPLY in result.stdout
    assert (workspace.work / "hello.txt").read_text() == "hello\n"
    assert notes.read_text() == "final two\n"

    payloads = result.new_payloads
    calls = tool_calls(payloads)
    assert [name for name, _ in calls] == ["Bash", "Write", "Edit", "Read"]
    assert [i for _, i in calls] == tool_result_ids(result.requests), "hook ids are not the ids the API sent"
    main = events(payloads)
    # The work dir's CLAUDE.md is loaded once; InstructionsLoaded races SessionStart (either order).
    assert main.count(("InstructionsLoaded", None)) == 1
    main = [e for e in main if e[0] != "InstructionsLoaded"]
    assert main[:2] == [("SessionStart", None), ("UserPromptSubmit", None)]
    [loaded] = [p for p in payloads if p["hook_event_name"] == "InstructionsLoaded"]
    assert loaded["file_path"] == str(workspace.work / "CLAUDE.md"), loaded
    assert main[-2:] == [("Stop", None), ("SessionEnd", None)]
    for name, _ in calls:
        assert main.index(("PreToolUse", name)) + 1 == main.index(("PostToolUse", name))
    assert not [p for p in payloads if p["hook_event_name"] == "PostToolUseFailure"]
    assert_journal_matches(workspace, result.raw_payloads)

    # Claude Code's own roll-up adds up exactly the usage the scripted API sent (the cost oracle works).
    assert result.cost_state is not None
    usage = result.cost_state["modelUsage"]
    assert set(usage) == {"claude-sonnet-4-5"}
    for field, total in usage_totals(steps).items():
        assert usage["claude-sonnet-4-5"][field] == total, field


def test_failing_bash_is_a_failure(claude_run: Run, workspace: Workspace) -> None:
    steps = [
        tool("Bash", {"command": "echo about to fail; exit 3", "description": "fail on purpose"}),
        say("The command failed."),
    ]
    result = claude_run(Scenario(steps=steps), "run the failing command")
    assert_ok(result)
    failures = [p for p in result.new_payloads if p["hook_event_name"] == "PostToolUseFailure"]
    assert len(failures) == 1
    assert failures[0]["tool_name"] == "Bash" and failures[0]["is_interrupt"] is False
    assert "Exit code 3" in failures[0]["error"]
    assert not [p for p in result.new_payloads if p["hook_event_name"] == "PostToolUse"]
    assert_journal_matches(workspace, result.raw_payloads)
    [record] = [r for r in result.journal if r["event"] == "PostToolUseFailure"]
    assert record["outcome"] == "failure" and "Exit code 3" in record["error"]


def test_background_subagent_runs_a_tool(claude_run: Run, workspace: Workspace) -> None:
    marker = "E2E-SUBAGENT-LIST"
    scenario = background_subagent(marker)
    result = claude_run(scenario, "delegate the listing")
    assert_ok(result)
    payloads = result.new_payloads

    [launched] = [p for p in payloads if p["hook_event_name"] == "PostToolUse" and p["tool_name"] == "Agent"]
    agent_id = launched["tool_response"]["agentId"]
    assert launched["tool_response"]["status"] == "async_launched"
    sub = events(payloads, agent_id)
    assert sub[0] == ("SubagentStart", None) and sub[-1] == ("SubagentStop", None)
    assert ("PreToolUse", "Bash") in sub and ("PostToolUse", "Bash") in sub
    # print mode waits for the background agent, then answers its task notification
    notes = [
        p
        for p in payloads
        if p["hook_event_name"] == "UserPromptSubmit" and p["prompt"].lstrip().startswith("<task-notification>")
    ]
    assert len(notes) == 1 and agent_id in notes[0]["prompt"]
    assert payloads.index(notes[0]) > max(i for i, p in enumerate(payloads) if p.get("agent_id") == agent_id)
    assert events(payloads)[-1] == ("SessionEnd", None)
    assert AGENT_REPORTED in result.stdout

    sub_requests = [r for r in result.requests if r.script == marker]
    assert len(sub_requests) == 2
    assert [p.name for p in result.subagent_transcripts] == [f"agent-{agent_id}.jsonl"]

    assert_journal_matches(workspace, result.raw_payloads)
    started = [r for r in result.journal if r["event"] == "SubagentStart"]
    assert [r["agentId"] for r in started] == [agent_id]
    [agent_post] = [r for r in result.journal if r["event"] == "PostToolUse" and r["toolName"] == "Agent"]
    assert agent_post["response"]["agentId"] == agent_id


def test_todo_or_task_tools(claude_run: Run, workspace: Workspace) -> None:
    result = claude_run(todo_plan(), "plan the work", allowed_tools=TODO_ALLOWED_TOOLS, extra_env=TODO_ENV)
    assert_ok(result)
    offered = set(result.requests[1].tools)
    if not offered & {"TodoWrite", "TaskCreate"}:
        pytest.skip(f"this client offers no todo/task tools (tools: {sorted(offered)})")
    names = [name for name, _ in tool_calls(result.new_payloads)]
    kinds = [p["hook_event_name"] for p in result.new_payloads]
    if "TodoWrite" in offered:
        assert names == ["ToolSearch", "TodoWrite", "TodoWrite"]
    else:
        assert names == ["ToolSearch", "TaskCreate", "TaskUpdate"]
        assert kinds.count("TaskCreated") == 1 and kinds.count("TaskCompleted") == 1
        [created] = [p for p in result.new_payloads if p["hook_event_name"] == "TaskCreated"]
        assert created["task_subject"] == "Write the hello file"
    assert "PostToolUseFailure" not in kinds
    assert_journal_matches(workspace, result.raw_payloads)
    if "TaskCreate" in names:
        [created_post] = [r for r in result.journal if r["event"] == "PostToolUse" and r["toolName"] == "TaskCreate"]
        assert created_post["response"]["taskId"] == "1"


def test_resumed_session(claude_run: Run, workspace: Workspace) -> None:
    # The script spans both runs: the resumed conversation carries the first run's assistant turns.
    steps = [
        tool("Bash", {"command": "echo one > first.txt", "description": "first run"}),
        say("First run done."),
        tool("Bash", {"command": "echo two > second.txt", "description": "second run"}),
        say("Second run done."),
    ]
    first = claude_run(Scenario(steps=steps), "first part")
    assert_ok(first)
    second = claude_run(None, "second part", resume=first.session_id)
    assert_ok(second)
    assert "Second run done." in second.stdout
    assert (workspace.work / "second.txt").read_text() == "two\n"

    starts = [p for p in second.new_payloads if p["hook_event_name"] == "SessionStart"]
    assert [p["source"] for p in starts] == ["resume"]
    # The resumed conversation's requests carry the first run's turns.
    assert second.requests[0].step_index == 2
    assert_journal_matches(workspace, second.raw_payloads)
    sessions = {p["session_id"] for p in second.raw_payloads}
    assert first.session_id in sessions and second.session_id in sessions


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "claude-opus-4-5"])
def test_session_on_another_model(claude_run: Run, workspace: Workspace, model: str) -> None:
    steps = [
        tool(
            "Bash",
            {"command": "echo model run", "description": "run on another model"},
            model=model,
            usage=Usage(input_tokens=900, output_tokens=50, cache_1h=2000),
        ),
        say("Done on another model.", model=model, usage=Usage(input_tokens=40, output_tokens=10, cache_read=2900)),
    ]
    result = claude_run(Scenario(steps=steps), "use the other model", model=model)
    assert_ok(result)
    assert {r.model for r in result.requests if r.script == "main"} == {model}
    assert_journal_matches(workspace, result.raw_payloads)
    assistant_models = {
        line["message"]["model"] for line in result.transcript_lines() if line.get("type") == "assistant"
    }
    assert assistant_models == {model}
    assert result.cost_state is not None
    usage = result.cost_state["modelUsage"]
    assert set(usage) == {model}
    for field, total in usage_totals(steps).items():
        assert usage[model][field] == total, field
    assert result.cost_state["totalCostUSD"] == pytest.approx(usage[model]["costUSD"])
