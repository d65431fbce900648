"""Scenarios more than one e2e test plays (scripted steps with their usage)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.api_server import Scenario, SeenRequest, Step, Usage, say, tool

FOUR_TOOLS_REPLY = "All four tools ran."


def four_tools(work: Path) -> list[Step]:
    """Bash makes hello.txt, Write and Edit make notes.md ("final two"), Read reads hello.txt, then a reply.

    Usage varies per step (5m and 1h cache writes, cache reads) so cost and context figures are non-trivial;
    the last response's context is (80 + 4500) / window.
    """
    notes = work / "notes.md"
    return [
        tool("Bash", {"command": "echo hello > hello.txt && ls", "description": "make a file"},
             usage=Usage(input_tokens=1200, output_tokens=40, cache_5m=3000, cache_1h=500)),
        tool("Write", {"file_path": str(notes), "content": "draft one\n"},
             usage=Usage(input_tokens=50, output_tokens=60, cache_read=4200)),
        tool("Edit", {"file_path": str(notes), "old_string": "draft one", "new_string": "final two"},
             usage=Usage(input_tokens=60, output_tokens=70, cache_read=4300, cache_5m=120)),
        tool("Read", {"file_path": str(work / "hello.txt")},
             usage=Usage(input_tokens=70, output_tokens=30, cache_read=4400)),
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
    delivered = any(m.get("role") == "user" and "<task-notification>" in json.dumps(m.get("content"))
                    for m in request.messages)
    return say(AGENT_REPORTED if delivered else AGENT_WAITING)


def background_subagent(marker: str) -> Scenario:
    """The main agent launches a background subagent ("list files", which runs ``ls``), keeps working with a
    Bash call, then answers; print mode waits for the agent and answers its task notification."""
    return Scenario(
        steps=[
            tool("Agent", {"description": "list files", "prompt": f"{marker}: list the files here",
                           "subagent_type": "general-purpose", "run_in_background": True}),
            tool("Bash", {"command": "echo main is busy", "description": "main keeps working"}),
            reply_by_notification,
            reply_by_notification,  # answers the <task-notification> turn when it comes as a turn of its own
        ],
        subagents={marker: [tool("Bash", {"command": "ls", "description": "list files"}), say("Found README.md")]},
    )
