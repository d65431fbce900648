"""Finding 4: escape sequences, C1 controls, bidi controls, zero-width and tag characters never reach the
terminal raw: human outputs strip them, JSON outputs escape them (and still parse to the same strings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecc_hooks.cli import install
from tests.security.support import cli, run_installed, session_payload
from tests.test_loop_status import tool_use

HOSTILE = (
    "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b31m\x9d8;;http://x\x9c\u202eevil\u202c\u2066iso\u2069"
    "zero\u200bwidth\u2060\U000e0041tag\x7f\x00\x08end"
)
SESSION = "5ec0717e-0000-4000-8000-000000000004"


def raw_controls(data: bytes) -> list[str]:
    """Every character in ``data`` a terminal would act on or hide (newline and tab allowed)."""
    text = data.decode("utf-8", "replace")
    bad = []
    for ch in text:
        code = ord(ch)
        if (
            (code < 0x20 and ch not in "\n\t")
            or 0x7F <= code <= 0x9F
            or 0x200B <= code <= 0x200F
            or 0x202A <= code <= 0x202E
            or 0x2060 <= code <= 0x206F
            or 0xE0000 <= code <= 0xE007F
            or code in (0x061C, 0xFEFF)
        ):
            bad.append(f"U+{code:04X}")
    return bad


@pytest.fixture
def hostile_session(tmp_path: Path, ecc_home: Path) -> str:
    for event, extra in (
        ("SessionStart", {}),
        ("UserPromptSubmit", {"prompt": f"fix {HOSTILE}"}),
        ("PreToolUse", {"tool_name": "Bash", "tool_use_id": "t1", "tool_input": {"command": f"make test {HOSTILE}"}}),
        (
            "PostToolUseFailure",
            {
                "tool_name": "Bash",
                "tool_use_id": "t1",
                "tool_input": {"command": f"make test {HOSTILE}"},
                "error": f"boom {HOSTILE}",
            },
        ),
        ("Stop", {}),
    ):
        payload = json.loads(session_payload(SESSION, tmp_path / HOSTILE[:3], event, **extra))
        run_installed("ecc_hooks.capture.hook", json.dumps(payload).encode(), tmp_path)
    return SESSION


def test_status_markdown_strips_them(hostile_session: str) -> None:
    done = cli("status", "--markdown", "--session", hostile_session, "--no-gh")
    assert done.returncode == 0, done.stderr
    assert b"make" in done.stdout and raw_controls(done.stdout) == []


def test_status_json_escapes_them_and_still_parses_to_the_same_strings(hostile_session: str) -> None:
    done = cli("status", "--json", "--session", hostile_session, "--no-gh")
    assert done.returncode == 0, done.stderr
    assert raw_controls(done.stdout) == []
    assert b"\\u009b" in done.stdout and b"\\u202e" in done.stdout
    payload = json.loads(done.stdout)
    assert "\u202e" in json.dumps(payload, ensure_ascii=False)  # the data is kept, only its spelling is inert


def test_inspect_markdown_and_handoff_strip_them(hostile_session: str, tmp_path: Path) -> None:
    handoff = tmp_path / "handoff.md"
    for args in (("--markdown",), ("--handoff", str(handoff)), ()):
        done = cli("inspect", hostile_session, *args)
        assert done.returncode == 0, done.stderr
        assert raw_controls(done.stdout) == [], args
    assert b"make" in handoff.read_bytes() and raw_controls(handoff.read_bytes()) == []


def test_loop_status_text_strips_them(tmp_path: Path) -> None:
    transcript = tmp_path / "0c65f61e-2b60-4a0b-a867-edb104d8f8a0.jsonl"
    transcript.write_text(json.dumps(tool_use("toolu_01", "Bash", {"command": f"sleep 1d {HOSTILE}"}, 0)) + "\n")
    for args in ((), ("--json",)):
        done = cli("loop-status", "--transcript", str(transcript), "--now", "2026-05-12T12:00:00Z", *args)
        assert b"sleep 1d" in done.stdout and raw_controls(done.stdout) == [], args


def test_doctor_strips_them_from_what_the_commands_it_runs_print(tmp_path: Path, isolated_home: Path) -> None:
    assert cli("install", "--no-statusline", cwd=tmp_path).returncode == 0
    settings = isolated_home / ".claude" / "settings.json"
    ours = install.python_command(install.HOOK_MODULE)
    noisy = f"printf '{HOSTILE[:40]}' >&2; exit 1 # ecc-hooks"
    settings.write_text(settings.read_text().replace(json.dumps(ours)[1:-1], json.dumps(noisy)[1:-1]))
    install.remember_commands({noisy})  # a command of ours (recorded) that now fails noisily
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 1 and b"FAIL" in done.stdout
    assert raw_controls(done.stdout) == [] and raw_controls(done.stderr) == []
