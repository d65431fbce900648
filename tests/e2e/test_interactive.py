"""The interactive Claude Code client in tmux: the reply and the status line are on the screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.api_server import Scenario, say
from tests.e2e.conftest import Screen, python_command

pytestmark = pytest.mark.e2e

# Prints what the client told the status line on stdin: the model id and the session's first 8 chars.
STATUSLINE = python_command(
    "import json,sys; d=json.load(sys.stdin); print('ECC-SL %s %s' % (d['model']['id'], d['session_id'][:8]))"
)


def test_reply_and_status_line_on_screen(screen: Callable[..., Screen]) -> None:
    reply = "PONG-E2E-REPLY"
    model = "claude-sonnet-4-5"
    result = screen(
        Scenario(steps=[say(reply)]),
        "ping",
        statusline=STATUSLINE,
        model=model,
        wait_for=lambda s: reply in s and "ECC-SL " in s,
    )
    lines = result.lines
    [status] = [line.strip() for line in lines if "ECC-SL " in line]
    # The status line shows what the client sent it: our model and the session the hooks named.
    payloads = result.workspace.raw_payloads()
    sessions = {p["session_id"] for p in payloads}
    assert len(sessions) == 1
    assert status == f"ECC-SL {model} {next(iter(sessions))[:8]}"
    # It renders under the prompt box, below the reply.
    reply_row = next(i for i, line in enumerate(lines) if reply in line)
    status_row = lines.index(next(line for line in lines if "ECC-SL " in line))
    assert status_row > reply_row
    assert [r.model for r in result.api.message_requests("main")] == [model]
