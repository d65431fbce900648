"""Our status line inside the real Claude Code (interactive, tmux): model, reported cost, used %, tool count.

The client runs the command the installer writes (``statusline_entry``: refreshInterval 5). This test
isolates the status line: the HUD snapshot is built from our journal by ``python -m ecc_hooks.status
--json`` and written to ``hud.json`` (the watcher is off here; ``test_live_chain.py`` covers the same row
with the snapshot kept by the real watcher). The next refresh must show the snapshot's tool count beside
what Claude Code itself reported on stdin.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from ecc_hooks.cli.install import STATUSLINE_MODULE, python_command, statusline_entry
from ecc_hooks.core import compaction
from tests.e2e.api_server import Scenario, ScriptedAPI, Usage, say, tool
from tests.e2e.harness import Workspace
from tests.e2e.tmux_runner import TmuxClaude, tmux_available
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

REPLY = "STATUSLINE-E2E-DONE"
LAST = Usage(input_tokens=19_000, output_tokens=50, cache_5m=2_000, cache_read=30_000)
SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_status_line_shows_model_cost_context_and_tool_count(workspace: Workspace, scripted_api: ScriptedAPI) -> None:
    if not tmux_available():
        pytest.skip("tmux not installed")
    entry = statusline_entry(python_command(STATUSLINE_MODULE))
    assert entry["refreshInterval"] == 5 and entry["padding"] == 0
    data = workspace.settings_data()
    data["statusLine"] = entry
    workspace.write_settings(data)
    scripted_api.scenario = Scenario(
        steps=[
            tool("Bash", {"command": "echo one", "description": "first"}),
            tool("Bash", {"command": "exit 3", "description": "fails"}),
            say(REPLY, usage=LAST),
        ]
    )
    with TmuxClaude(workspace, scripted_api, width=200, height=40, extra_args=["--allowedTools", "Bash"]) as tui:
        tui.start()
        tui.wait_for(lambda s: "\u276f" in s)
        tui.submit("run the tools")
        tui.wait_for(REPLY, timeout=60)
        sessions = workspace.journal_sessions()
        assert len(sessions) == 1
        session = sessions[0]
        sensor_path = workspace.ecc_home / "sessions" / session / "statusline.json"

        def sensor_after_reply() -> dict | None:
            if not sensor_path.exists():
                return None
            sensor = json.loads(sensor_path.read_text())
            used = (sensor.get("context_window") or {}).get("used_percentage")
            return sensor if used is not None else None

        wait_until(sensor_after_reply, 30, "the status line never received used_percentage")
        # Build the snapshot the watcher would keep, from our journal, with the status command.
        result = subprocess.run(
            [sys.executable, "-m", "ecc_hooks.status", "--json", "--session", session, "--no-gh"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**workspace.env(scripted_api), "PATH": __import__("os").environ["PATH"]},
        )
        assert result.returncode == 0, result.stderr
        hud = json.loads(result.stdout)
        tools_total = hud["toolCalls"]["total"]
        assert tools_total == 2
        (workspace.ecc_home / "sessions" / session / "hud.json").write_text(json.dumps(hud))

        tools_text = f"tools {tools_total} \u27171"  # one of the two calls failed (exit 3)

        def expected() -> tuple[dict, list[str]]:
            """What the latest stdin Claude Code gave the status line says (re-read: it settles after the
            reply, e.g. used_percentage can arrive one refresh before the final cost)."""
            latest = json.loads(sensor_path.read_text())
            return latest, [
                latest["model"]["display_name"],
                f"${latest['cost']['total_cost_usd']:.2f}",
                "ctx ",
                f" {compaction.shown_from_stdin(latest['context_window'], {})}%",  # the client's own figure
                tools_text,
            ]

        def status_row(screen: str) -> str | None:
            rows = [line for line in screen.splitlines() if tools_text in line]
            return rows[0] if rows else None

        def row_matches(screen: str) -> bool:
            row = status_row(screen)
            return row is not None and all(part in row for part in expected()[1])

        screen = tui.wait_for(row_matches, timeout=45)  # refreshInterval is 5 s
        sensor, parts = expected()
    row = status_row(screen)
    assert row is not None
    print("status row on screen:", row.strip())
    assert all(part in row for part in parts), (parts, row)
    assert sensor["cost"]["total_cost_usd"] > 0  # Claude Code's own figure for the scripted usage
    # What Claude Code reported is what we computed from the scripted usage: (19000+2000+30000)/200000.
    assert sensor["context_window"]["used_percentage"] == round((19_000 + 2_000 + 30_000) / 200_000 * 100)
    assert not SGR.search(row) and "\x1b" not in row
