"""Our context % from the transcript equals the one Claude Code gives its status line.

The interactive client runs in tmux with OUR status line installed by our installer; after the reply it
renders, and our status line records its stdin in ``$ECC_HOOKS_HOME/sessions/<id>/statusline.json``.
The oracle is that stdin's ``context_window.used_percentage`` (and ``context_window_size``); our figure
comes from ``UsageTracker(transcript).update()`` alone, without the status line's hints. A subagent with
a large prompt runs first: its usage must not count toward the main context.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks.sources.usage import UsageTracker
from tests.e2e.api_server import Scenario, ScriptedAPI, Usage, say, tool
from tests.e2e.conftest import Screen
from tests.e2e.harness import Workspace, install_ecc_hooks
from tests.e2e.scenarios import CLIENT_MODELS

pytestmark = pytest.mark.e2e

MODELS = CLIENT_MODELS
SUBAGENT = "ECC-CTX-SUBAGENT"
REPLY = "CTX-E2E-DONE"


def install_statusline(ws: Workspace) -> str:
    """Run our installer over the workspace settings WITH the status line; return its command."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)}
    install_ecc_hooks(ws.settings, env, statusline=True)
    command = ws.settings_data()["statusLine"]["command"]
    assert "ecc_hooks.statusline.client" in command
    return command


def scenario(prompt_tokens: int) -> Scenario:
    """Every main response after the Agent call has ``prompt_tokens`` of prompt (all kinds); the subagent more.

    Interactive mode may run the agent in the background and answer its task notification in one more
    main turn (a race, model by model); both possible last responses carry the same usage, so the final
    context is the same either way.
    """
    c1h, c5m, inp = 2_000, 1_000, 3_000
    final = Usage(
        input_tokens=inp, output_tokens=777, cache_5m=c5m, cache_1h=c1h, cache_read=prompt_tokens - inp - c5m - c1h
    )
    return Scenario(
        steps=[
            tool(
                "Agent",
                {
                    "description": "look around",
                    "prompt": f"{SUBAGENT}: look around",
                    "subagent_type": "general-purpose",
                },
                usage=Usage(input_tokens=2_000, output_tokens=50, cache_1h=10_000),
            ),
            say(REPLY, usage=final),
            say(REPLY, usage=final),  # the task-notification turn, when there is one
        ],
        subagents={
            SUBAGENT: [say("nothing much", usage=Usage(input_tokens=1_000, output_tokens=20, cache_read=150_000))]
        },
    )


def sensors(ws: Workspace) -> list[dict[str, Any]]:
    found = []
    for path in sorted((ws.ecc_home / "sessions").glob("*/statusline.json")):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            pass  # being replaced right now
    return found


@pytest.mark.parametrize("model", MODELS)
def test_context_percent_equals_the_status_lines(
    screen: Callable[..., Screen], workspace: Workspace, scripted_api: ScriptedAPI, model: str
) -> None:
    workspace_api = scripted_api
    install_statusline(workspace)  # by our installer, exactly as a user gets it
    # 50.5 % of a 200k window and 34.5 % of a 1M one: both exercise the rounding of a half
    prompt = 345_000 if "[1m]" in model else 101_000
    final_input = 3_000

    def rendered_after_reply(text: str) -> bool:
        if REPLY not in text or not any(r.script == SUBAGENT for r in workspace_api.message_requests()):
            return False
        for sensor in sensors(workspace):
            usage = (sensor.get("context_window") or {}).get("current_usage") or {}
            if usage.get("input_tokens") == final_input and usage.get("output_tokens") == 777:
                return True
        return False

    # The 5.x aliases start in auto mode, whose server-side check a scripted API cannot pass: ask for the
    # default mode and allow the Agent tool, as a user would.
    shown = screen(
        scenario(prompt),
        "look around then answer",
        model=model,
        wait_for=rendered_after_reply,
        extra_args=["--permission-mode", "default", "--allowedTools", "Agent"],
    )
    [sensor] = [s for s in sensors(workspace) if (s.get("context_window") or {}).get("current_usage")]
    requests = [(r.script, r.step_index) for r in shown.api.message_requests() if r.script != "side"]
    assert sorted(requests, key=str)[:3] == sorted([("main", 0), ("main", 1), (SUBAGENT, 0)], key=str), requests
    assert len(requests) <= 4 and all(i is not None and i <= 2 for _, i in requests), requests
    window = sensor["context_window"]
    transcript = sensor["transcript_path"]
    assert Path(transcript).exists()
    subagents = list(Path(transcript).with_suffix("").glob("subagents/*.jsonl"))
    assert subagents, "the subagent wrote no transcript"

    ours = UsageTracker(transcript, env={}).update().context  # from the transcript alone
    print(
        f"\n[context] {model}: status line model {sensor['model']['id']} window {window['context_window_size']} "
        f"used {window['used_percentage']}% | ours window {ours.window} used {ours.used_pct}% "
        f"({ours.used_tokens} tokens)"
    )
    assert ours.used_tokens == prompt
    assert ours.window == window["context_window_size"]
    assert ours.used_pct == window["used_percentage"]
    assert ours.remaining_pct == window["remaining_percentage"]
