"""Helpers shared by the tests: run the real hook, read journals, load the captures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CAPTURES = SHARED / "captures"


def run_hook(stdin: bytes, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    """Run the real hook command in a subprocess, exactly as Claude Code does (payload on stdin)."""
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks.hook"],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=str(REPO),
    )


def journal_lines(home: Path, session: str) -> list[dict]:
    """Every record of a session's journal, parsed (fails the test on a torn line)."""
    path = home / "sessions" / session / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def capture_payloads() -> list[dict]:
    """The real hook payloads captured from Claude Code 2.1.328."""
    return [json.loads(line) for line in (CAPTURES / "hook-payloads.jsonl").read_text().splitlines() if line.strip()]
