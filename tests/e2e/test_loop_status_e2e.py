"""loop-status on the real client's own ScheduleWakeup transcript, with ECC's loop-status.js as the oracle.

The client (``claude -p``) schedules a wakeup (60 s, the shortest), the model writes its closing line a moment
later, and the client wakes on time and runs the prompt again. Cut after the closing line, the transcript is a
wake-up that never came: both tools must flag it overdue once call time + 2 x delay has passed; whole, both
must call it fine at the same moment (a closing line written right after the call is not the wake-up).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.api_server import Scenario, say, tool
from tests.e2e.harness import RunResult, Workspace
from tests.e2e.test_ecc_parity import ecc_root
from tests.helpers import REPO

pytestmark = pytest.mark.e2e


def signals_ours(transcript: Path, now_ms: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "loop-status", "--json", "--transcript", str(transcript),
         "--now", str(now_ms)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return sorted(s["type"] for s in json.loads(done.stdout)["sessions"][0]["signals"])


def signals_theirs(ecc: Path, transcript: Path, now_ms: int) -> list[str]:
    done = subprocess.run(
        ["node", str(ecc / "scripts" / "loop-status.js"), "--json", "--transcript", str(transcript),
         "--now", str(now_ms)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return sorted(s["type"] for s in json.loads(done.stdout)["sessions"][0]["signals"])


def test_a_wakeup_that_never_came_is_overdue_in_both(
    workspace: Workspace, claude_run: Callable[..., RunResult], tmp_path: Path
) -> None:
    ecc = ecc_root()
    steps = [
        tool("ScheduleWakeup", {"delaySeconds": 60, "reason": "poll the build", "prompt": "check the build"}),
        say("WAKE-SCHEDULED"),
        say("WOKE-UP"),
    ]
    result = claude_run(Scenario(steps=steps), "watch the build", allowed_tools="ScheduleWakeup", timeout=180)
    assert result.returncode == 0, result.stderr
    [transcript] = [p for p in (workspace.home / ".claude" / "projects").rglob("*.jsonl") if "subagents" not in str(p)]
    lines = transcript.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    call = next(
        i for i, r in enumerate(records)
        if any(isinstance(c, dict) and c.get("name") == "ScheduleWakeup"
               for c in (r.get("message") or {}).get("content") or [] if isinstance(c, dict))
    )  # fmt: skip
    closing = next(
        i for i, r in enumerate(records) if r.get("type") == "assistant" and "WAKE-SCHEDULED" in json.dumps(r)
    )
    woke = next(i for i, r in enumerate(records) if r.get("type") == "assistant" and "WOKE-UP" in json.dumps(r))
    assert call < closing < woke
    called_at = datetime.fromisoformat(records[call]["timestamp"].replace("Z", "+00:00")).timestamp()
    closing_at = datetime.fromisoformat(records[closing]["timestamp"].replace("Z", "+00:00")).timestamp()
    assert closing_at - called_at < 5  # the closing words come right after the call, long before the due time
    later = int((called_at + 2 * 60 + 5) * 1000)  # past call + delay x 2 (both tools' grace)
    cut = tmp_path / transcript.name
    cut.write_text("\n".join(lines[: closing + 1]) + "\n")  # the client killed before it woke
    assert signals_ours(cut, later) == signals_theirs(ecc, cut, later) == ["schedule_wakeup_overdue"]
    assert signals_ours(transcript, later) == signals_theirs(ecc, transcript, later) == []
