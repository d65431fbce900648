"""Regenerate ``tests/fixtures/captures/`` from the pinned real Claude Code client (offline, scripted API).

    .venv/bin/python -m tests.e2e.regenerate_captures [--out DIR]

Needs the pinned client (``tests/e2e/CLAUDE_CODE_VERSION``, see the README's Tests section) and tmux.
Two print-mode sessions give ``hook-payloads.jsonl`` (Bash, Write, Edit, Read and a failing Bash; then a
background subagent with its task notification); an interactive session in tmux, with a status line
command that records its stdin, gives ``statusline-stdin.jsonl``. Home and work paths are rewritten to
``/home/dev`` and ``/home/dev/work`` so the files do not depend on where they were made.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from ecc_hooks.cli.install import EVENT_NAMES
from tests.e2e.api_server import Scenario, ScriptedAPI, Usage, say, tool
from tests.e2e.harness import CAPTURE_HOOK, REPO, claude_bin, install_hint, make_workspace, run_claude
from tests.e2e.scenarios import FOUR_TOOLS_REPLY, background_subagent, four_tools
from tests.e2e.tmux_runner import TmuxClaude, tmux_available

OUT = REPO / "tests" / "fixtures" / "captures"


def _rewrite(text: str, ws_root: Path, home: Path, work: Path) -> str:
    """Paths of this throwaway workspace as a user's would read."""
    for real, shown in ((str(work), "/home/dev/work"), (str(home), "/home/dev"), (str(ws_root), "/home/dev")):
        text = text.replace(real, shown)
        slug = "".join(c if c.isalnum() else "-" for c in real)
        text = text.replace(slug, "".join(c if c.isalnum() else "-" for c in shown))
    return text


def hook_payloads(root: Path, claude: Path) -> list[dict[str, Any]]:
    """The raw hook payloads of the two print-mode sessions, in arrival order."""
    ws = make_workspace(root, claude)
    with ScriptedAPI() as api:
        steps = four_tools(ws.work)[:-1] + [
            tool("Bash", {"command": "make test", "description": "run the tests (fails: no Makefile)"}),
            say(FOUR_TOOLS_REPLY),
        ]
        api.scenario = Scenario(steps=steps)
        run_claude(ws, api, "use the four tools, then run the tests")
        api.scenario = background_subagent("CAPTURE-AGENT")
        run_claude(ws, api, "start a background agent to list the files")
    # What our hook receives: the events the installer registers (the raw capture takes them all), and
    # PostToolBatch, which earlier installs registered and the normalizer still reads.
    received = {*EVENT_NAMES, "PostToolBatch"}
    return [
        json.loads(_rewrite(json.dumps(p), ws.root, ws.home, ws.work))
        for p in ws.raw_payloads()
        if p.get("hook_event_name") in received
    ]


def statusline_stdins(root: Path, claude: Path) -> list[dict[str, Any]]:
    """Status line stdin objects of an interactive session, before and after its first replies."""
    ws = make_workspace(root, claude)
    captured = ws.root / "statusline-stdin.jsonl"
    data = ws.settings_data()
    data["statusLine"] = {
        "type": "command",
        "padding": 0,
        "command": f"{shlex.quote(sys.executable)} {shlex.quote(str(CAPTURE_HOOK))} {shlex.quote(str(captured))}",
    }
    ws.write_settings(data)
    with ScriptedAPI() as api:
        # Usage of a session some way in (cache writes and reads), so cost and context are not near zero.
        api.scenario = Scenario(
            steps=[
                tool(
                    "Bash",
                    {"command": "echo hi", "description": "say hi"},
                    usage=Usage(input_tokens=19000, output_tokens=50, cache_5m=2000, cache_read=30000),
                ),
                say("Captured.", usage=Usage(input_tokens=19100, output_tokens=40, cache_read=32000)),
            ]
        )
        with TmuxClaude(ws, api) as tui:
            tui.start()
            tui.wait_for(lambda s: "\u276f" in s)
            tui.submit("say hi")
            tui.wait_for("Captured.")
            tui.wait_for(
                lambda s: (
                    captured.exists()
                    and any(
                        json.loads(line).get("context_window", {}).get("used_percentage") is not None
                        for line in captured.read_text().splitlines()
                        if line.strip()
                    )
                )
            )
    lines = [line for line in captured.read_text().splitlines() if line.strip()]
    return [json.loads(_rewrite(line, ws.root, ws.home, ws.work)) for line in lines]


def regenerate(out: Path) -> dict[str, int]:
    """Write both capture files into ``out``; the number of objects in each."""
    claude = claude_bin()
    if claude is None:
        raise SystemExit(f"the pinned Claude Code client is not installed: {install_hint()}")
    if not tmux_available():
        raise SystemExit("tmux is not installed (apt-get install tmux)")
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    with tempfile.TemporaryDirectory(prefix="ecc-captures-") as scratch:
        for name, make in (("hook-payloads.jsonl", hook_payloads), ("statusline-stdin.jsonl", statusline_stdins)):
            objects = make(Path(scratch) / name.split(".")[0], claude)
            (out / name).write_text("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objects))
            counts[name] = len(objects)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT})")
    args = parser.parse_args()
    for name, count in regenerate(args.out).items():
        print(f"{args.out / name}: {count} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
