"""Shared fixtures. Every test runs with its own HOME and ECC_HOOKS_HOME: none touches the real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CAPTURES = SHARED / "captures"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME (and so ~/.claude) for every test; CLAUDE_CONFIG_DIR and ECC_HOOKS_HOME cleared."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("CLAUDE_CONFIG_DIR", "ECC_HOOKS_HOME", "ECC_HOOKS_RAW", "CLAUDE_PROJECT_DIR"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def ecc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ECC_HOOKS_HOME, set in the environment (subprocesses inherit it)."""
    home = tmp_path / "ecc-home"
    monkeypatch.setenv("ECC_HOOKS_HOME", str(home))
    return home


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
