"""Finding 5: special files never hang a reader. FIFOs planted as a repository's HEAD, commondir or ref, as a
subagent transcript, or as our own hud.json, statusline.toml and events.jsonl: every command returns (the
subprocess time bounds here only stop a hung run; they assert nothing about speed) and keeps its data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git, journal_lines, make_repo, wait_until
from tests.security.support import cli, run_installed, session_payload

HANG = 30  # seconds after which a run counts as hung (the old code blocked forever)


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("planted", ["HEAD", "refs/heads/main", "commondir"])
def test_a_fifo_in_git_never_hangs_the_session_start_hook(tmp_path: Path, ecc_home: Path, planted: str) -> None:
    repo = make_repo(tmp_path / "repo")
    cwd = repo
    if planted == "commondir":  # a linked worktree's git dir names the common dir in a file
        git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wt")
        cwd = tmp_path / "wt"
        fifo(repo / ".git" / "worktrees" / "wt" / "commondir")
    else:
        fifo(repo / ".git" / planted)
    session = f"5ec0717e-0000-4000-8000-fifo{len(planted):08d}"
    done = run_installed("ecc_hooks.capture.hook", session_payload(session, cwd), cwd, timeout=HANG)
    assert done.returncode == 0 and done.stdout == b""
    assert [r["event"] for r in journal_lines(ecc_home, session)] == ["SessionStart"]


def _session_with_fifo_subagent(tmp_path: Path, session: str) -> Path:
    transcript = tmp_path / "projects" / f"{session}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text(
        json.dumps(
            {
                "type": "user",
                "sessionId": session,
                "timestamp": "2026-12-01T10:00:00Z",
                "message": {"role": "user", "content": "hi"},
            }
        )
        + "\n"
    )
    fifo(tmp_path / "projects" / session / "subagents" / "agent-a1b2c3.jsonl")
    payload = json.loads(session_payload(session, tmp_path))
    payload["transcript_path"] = str(transcript)
    run_installed("ecc_hooks.capture.hook", json.dumps(payload).encode(), tmp_path, timeout=HANG)
    return transcript


def test_a_fifo_subagent_transcript_never_hangs_status_or_inspect(tmp_path: Path, ecc_home: Path) -> None:
    session = "5ec0717e-0000-4000-8000-00000000f1f0"
    _session_with_fifo_subagent(tmp_path, session)
    for args in (
        ("status", "--json", "--session", session, "--no-gh"),
        ("inspect", session),
        ("loop-status", "--transcript", str(tmp_path / "projects" / session / "subagents" / "agent-a1b2c3.jsonl")),
    ):
        done = cli(*args, timeout=HANG)
        assert done.returncode in (0, 1), (args, done.stderr)


def test_a_fifo_subagent_transcript_never_stops_the_watcher_serving_other_sessions(
    tmp_path: Path, ecc_home: Path
) -> None:
    bad, good = "5ec0717e-0000-4000-8000-00000000f1f1", "5ec0717e-0000-4000-8000-00000000600d"
    _session_with_fifo_subagent(tmp_path, bad)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "watch", "--foreground", "--idle-exit", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: (ecc_home / "sessions" / bad / "hud.json").exists(), 20, "the watcher never served the session"
        )
        run_installed(
            "ecc_hooks.capture.hook", session_payload(good, tmp_path, "UserPromptSubmit", prompt="hello"), tmp_path
        )
        wait_until(
            lambda: (ecc_home / "sessions" / good / "hud.json").exists(),
            20,
            "the watcher stopped serving other sessions",
        )
        assert watcher.poll() is None
    finally:
        watcher.terminate()
        watcher.wait(timeout=HANG)


@pytest.mark.parametrize("planted", ["hud.json", "statusline.toml", "statusline.toml.cache.json", "statusline.last"])
def test_a_fifo_among_our_files_never_hangs_the_status_line(tmp_path: Path, ecc_home: Path, planted: str) -> None:
    session = "5ec0717e-0000-4000-8000-0000000051a7"
    folder = ecc_home / "sessions" / session
    fifo(folder / planted if planted in ("hud.json", "statusline.last") else ecc_home / planted)
    stdin = {"session_id": session, "cwd": str(tmp_path), "model": {"display_name": "Sonnet 4.5"}}
    done = run_installed("ecc_hooks.statusline.client", json.dumps(stdin).encode(), tmp_path, timeout=HANG)
    assert done.returncode == 0 and b"Sonnet 4.5" in done.stdout


def test_a_fifo_journal_never_hangs_the_hook_and_is_logged(tmp_path: Path, ecc_home: Path) -> None:
    session = "5ec0717e-0000-4000-8000-00000000f1f2"
    fifo(ecc_home / "sessions" / session / "events.jsonl")
    done = run_installed("ecc_hooks.capture.hook", session_payload(session, tmp_path, "Stop"), tmp_path, timeout=HANG)
    assert done.returncode == 0 and done.stdout == b""
    assert "FIFO" in (ecc_home / "errors.log").read_text() or "regular" in (ecc_home / "errors.log").read_text()
