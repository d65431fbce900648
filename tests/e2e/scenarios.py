"""Scenarios more than one e2e test plays (scripted steps with their usage)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.api_server import Scenario, SeenRequest, Step, Usage, say, tool

FOUR_TOOLS_REPLY = "All four tools ran."


# The client's default aliases and named models: a Sonnet 4.x, an Opus >= 4.5, Haiku 4.5, a 1M-context id.
CLIENT_MODELS = (
    "opus",
    "sonnet",
    "haiku",
    "claude-sonnet-4-6",
    "claude-opus-4-6",
    "claude-haiku-4-5",
    "claude-sonnet-4-5[1m]",
    "claude-opus-4-6[1m]",
)


def four_tools(work: Path) -> list[Step]:
    """Bash makes hello.txt, Write and Edit make notes.md ("final two"), Read reads hello.txt, then a reply.

    Usage varies per step (5m and 1h cache writes, cache reads) so cost and context figures are non-trivial;
    the last response's context is (80 + 4500) / window.
    """
    notes = work / "notes.md"
    return [
        tool(
            "Bash",
            {"command": "echo hello > hello.txt && ls", "description": "make a file"},
            usage=Usage(input_tokens=1200, output_tokens=40, cache_5m=3000, cache_1h=500),
        ),
        tool(
            "Write",
            {"file_path": str(notes), "content": "draft one\n"},
            usage=Usage(input_tokens=50, output_tokens=60, cache_read=4200),
        ),
        tool(
            "Edit",
            {"file_path": str(notes), "old_string": "draft one", "new_string": "final two"},
            usage=Usage(input_tokens=60, output_tokens=70, cache_read=4300, cache_5m=120),
        ),
        tool(
            "Read",
            {"file_path": str(work / "hello.txt")},
            usage=Usage(input_tokens=70, output_tokens=30, cache_read=4400),
        ),
        say(FOUR_TOOLS_REPLY, usage=Usage(input_tokens=80, output_tokens=15, cache_read=4500)),
    ]


AGENT_WAITING = "Waiting for the agent."
AGENT_REPORTED = "The agent reported back."


def reply_by_notification(request: SeenRequest) -> Step:
    """Text that depends on whether the agent's <task-notification> has reached the conversation yet.

    When the subagent finishes while the main turn is still running, the client folds the notification
    into that turn's next request instead of starting a turn for it; counting turns alone cannot say
    which text is due, so the request's own messages decide.
    """
    delivered = any(
        m.get("role") == "user" and "<task-notification>" in json.dumps(m.get("content")) for m in request.messages
    )
    return say(AGENT_REPORTED if delivered else AGENT_WAITING)


def background_subagent(marker: str) -> Scenario:
    """The main agent launches a background subagent ("list files", which runs ``ls``), keeps working with a
    Bash call, then answers; print mode waits for the agent and answers its task notification."""
    return Scenario(
        steps=[
            tool(
                "Agent",
                {
                    "description": "list files",
                    "prompt": f"{marker}: list the files here",
                    "subagent_type": "general-purpose",
                    "run_in_background": True,
                },
            ),
            tool("Bash", {"command": "echo main is busy", "description": "main keeps working"}),
            reply_by_notification,
            reply_by_notification,  # answers the <task-notification> turn when it comes as a turn of its own
        ],
        subagents={marker: [tool("Bash", {"command": "ls", "description": "list files"}), say("Found README.md")]},
    )


# Task tools are "deferred" in 2.1.328: the model must load them with ToolSearch before calling them.
TODO_ALLOWED_TOOLS = "Bash Read ToolSearch TodoWrite TaskCreate TaskUpdate"
TODO_ENV = {"CLAUDE_CODE_ENABLE_TODO_TOOLS": "1"}


def todo_step(request: SeenRequest) -> Step:
    """Use whichever todo tools the client offers after ToolSearch: TodoWrite, else TaskCreate, else none."""
    if "TodoWrite" in request.tools:
        return tool(
            "TodoWrite",
            {
                "todos": [
                    {
                        "content": "Write the hello file",
                        "status": "in_progress",
                        "activeForm": "Writing the hello file",
                    },
                    {"content": "Check it", "status": "pending", "activeForm": "Checking it"},
                ]
            },
        )
    if "TaskCreate" in request.tools:
        return tool(
            "TaskCreate",
            {
                "subject": "Write the hello file",
                "description": "create hello.txt",
                "activeForm": "Writing the hello file",
            },
        )
    return say("No todo tools offered.")


def todo_followup(request: SeenRequest) -> Step:
    """Complete what ``todo_step`` planned, with the same tools."""
    if "TodoWrite" in request.tools:
        return tool(
            "TodoWrite",
            {
                "todos": [
                    {"content": "Write the hello file", "status": "completed", "activeForm": "Writing the hello file"},
                    {"content": "Check it", "status": "completed", "activeForm": "Checking it"},
                ]
            },
        )
    if "TaskUpdate" in request.tools:
        return tool("TaskUpdate", {"taskId": "1", "status": "completed"})
    return say("Still no todo tools.")


def todo_plan() -> Scenario:
    """Load the todo/task tools with ToolSearch, plan two items (or one task), complete them, reply."""
    return Scenario(
        steps=[
            tool("ToolSearch", {"query": "select:TodoWrite,TaskCreate,TaskUpdate", "max_results": 5}),
            todo_step,
            todo_followup,
            say("Planned and done."),
        ]
    )
