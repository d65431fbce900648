"""One journal line per event when two hooks of ours run for it (the runtime's settings layer beside the user's own
installation, with another command): ``capture.dedupe`` through the installed hook command, as Claude Code runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.capture import dedupe
from ecc_hooks.cli import install
from tests.helpers import journal_lines

SESSION = "dedupe-session"


def payload(tool_id: str, **extra: object) -> bytes:
    return json.dumps(
        {
            "session_id": SESSION,
            "transcript_path": "/tmp/t.jsonl",
            "cwd": "/tmp",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "true", **extra},
            "tool_use_id": tool_id,
        }
    ).encode()


def hooks_at_once(data: bytes, copies: int, cwd: Path, runtime: bool = True) -> None:
    """``copies`` hook processes for one event, started together as Claude Code starts the hooks of one event, in
    a runtime worker (its environment names its runtime session) unless not ``runtime``."""
    argv = install.python_argv(install.HOOK_MODULE)
    env = {**os.environ, "ECC_SESSION": "a-runtime-session"} if runtime else dict(os.environ)
    procs = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=cwd, env=env)
        for _ in range(copies)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=60) == 0


def test_hooks_run_together_for_one_event_record_it_once(ecc_home: Path, tmp_path: Path) -> None:
    hooks_at_once(payload("toolu_one"), 4, tmp_path)
    assert [r["toolUseId"] for r in journal_lines(ecc_home, SESSION)] == ["toolu_one"]
    hooks_at_once(payload("toolu_two"), 2, tmp_path)  # another event: its own line
    hooks_at_once(payload("toolu_one", timeout=5), 1, tmp_path)  # the same id, other bytes: another event
    assert [r["toolUseId"] for r in journal_lines(ecc_home, SESSION)] == ["toolu_one", "toolu_two", "toolu_one"]


def test_outside_the_runtime_nothing_is_deduplicated(ecc_home: Path, tmp_path: Path) -> None:
    """Only a runtime worker has a layer of ours beside the user's: other sessions pay nothing (no lock, no file)."""
    hooks_at_once(payload("toolu_plain"), 2, tmp_path, runtime=False)
    assert [r["toolUseId"] for r in journal_lines(ecc_home, SESSION)] == ["toolu_plain", "toolu_plain"]
    assert not (ecc_home / "sessions" / SESSION / "seen").exists()


def test_a_command_hooks_stdin_and_an_http_hooks_body_of_one_event_are_one_identity() -> None:
    body = payload("toolu_http")
    assert dedupe.identity("PreToolUse", body + b"\n") == dedupe.identity("PreToolUse", body)


def test_an_identity_is_forgotten_after_the_window(ecc_home: Path) -> None:
    key = dedupe.identity("Notification", b'{"message":"waiting"}')
    assert dedupe.first_sighting("s", key, 1000.0)
    assert not dedupe.first_sighting("s", key, 1000.0 + dedupe.WINDOW / 2)
    assert dedupe.first_sighting("s", key, 1000.0 + dedupe.WINDOW * 2)  # a later notification with the same text
    assert dedupe.first_sighting("other", key, 1000.0 + dedupe.WINDOW * 2)  # per session


def test_the_seen_file_stays_bounded_and_keeps_the_newest(ecc_home: Path) -> None:
    for n in range(2000):
        assert dedupe.first_sighting("s", dedupe.identity("PreToolUse", f"call {n}".encode()), 5000.0)
    seen = (ecc_home / "sessions" / "s" / "seen").read_bytes()
    assert len(seen) <= dedupe.KEEP_MAX and seen.endswith(b"\n")
    assert oct((ecc_home / "sessions" / "s" / "seen").stat().st_mode & 0o777) == "0o600"
    assert not dedupe.first_sighting("s", dedupe.identity("PreToolUse", b"call 1999"), 5000.0)  # the newest kept
    assert dedupe.first_sighting("s", dedupe.identity("PreToolUse", b"call 0"), 5000.0)  # the oldest let go


# a payload is a JSON object: its first and last bytes are braces (the whitespace around it is not its identity)


@given(st.binary(max_size=3 * dedupe.EDGE), st.binary(min_size=1, max_size=64).filter(lambda c: c.strip() == c))
def test_payloads_differing_at_either_end_or_in_length_differ(inner: bytes, change: bytes) -> None:
    body = b"{" + inner + b"}"
    key = dedupe.identity("Stop", body)
    assert key == dedupe.identity("Stop", bytes(body)) == dedupe.identity("Stop", b"\n" + body + b" \n")
    assert key != dedupe.identity("Stop", body + change)
    assert key != dedupe.identity("Stop", change + body)
    assert key != dedupe.identity("SubagentStop", body)
    assert key != dedupe.identity("Stop", body[:-1] + bytes([body[-1] ^ 1]))  # the last byte changed
    assert key != dedupe.identity("Stop", bytes([body[0] ^ 1]) + body[1:])  # the first
