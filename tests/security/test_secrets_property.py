"""Secrets of every kind, in realistic surroundings (JSON with escapes, shell commands, URLs, environment
dumps, file contents), never reach a file or stdout of the hook, the status line, the watcher, ``status``,
``inspect``, ``loop-status`` or errors.log.

Each example runs every component in this process against a fresh state folder, then reads back every file
written and everything printed. ``ECC_SECRETS_EXAMPLES`` sets the number of examples per test (default 120;
10,000 passes locally, see SECURITY.md); CI runs one test with a fixed seed and one with a random seed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

from ecc_hooks import cli
from ecc_hooks.capture import hook
from ecc_hooks.hud import watcher as watch
from ecc_hooks.statusline import render as statusline
from tests.security.secret_kinds import secret_texts
from tests.test_hook_properties import scratch_home
from tests.test_loop_status import assistant_text, prompt, tool_result, tool_use

EXAMPLES = int(os.environ.get("ECC_SECRETS_EXAMPLES", "120"))
SESSION = "5ec0717e-0000-4000-8000-00000000aaaa"
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def run_cli(*args: str) -> bytes:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        cli.main(list(args))
    return out.getvalue().encode("utf-8", "surrogateescape")


def everything_written_and_printed(text: str) -> list[bytes]:
    """Run every component on ``text``; return all output and every file's bytes."""
    with scratch_home(raw=False) as home:
        return _run_everything(text, home, home.parent / "work", home.parent / "out")


def _run_everything(text: str, home: Path, work: Path, out_dir: Path) -> list[bytes]:
    work.mkdir()
    printed: list[bytes] = []
    transcript = work / f"{SESSION}.jsonl"
    lines = [
        prompt(text, 0, SESSION),
        tool_use("toolu_1", "Bash", {"command": text}, 1, SESSION),
        tool_result("toolu_1", 2, SESSION),
        assistant_text(text, 3, SESSION),
        tool_use("toolu_2", "Bash", {"command": f"sleep 9999 && {text}"}, 4, SESSION),
    ]
    lines[2]["message"]["content"][0]["content"] = text
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
    common = {"session_id": SESSION, "cwd": str(work), "transcript_path": str(transcript)}
    payloads = [
        {"hook_event_name": "SessionStart", "source": "startup"},
        {"hook_event_name": "UserPromptSubmit", "prompt": text},
        {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_use_id": "b1", "tool_input": {"command": text}},
        {
            "hook_event_name": "PostToolUseFailure",
            "tool_name": "Bash",
            "tool_use_id": "b1",
            "tool_input": {"command": text},
            "error": text,
        },
        {
            "hook_event_name": "PostToolUse",
            "tool_name": "Read",
            "tool_use_id": "r1",
            "tool_input": {"file_path": str(work / ".env")},
            "tool_response": {"file": {"content": text}},
        },
        {"hook_event_name": "Notification", "message": text},
    ]
    now = time.time()
    for raw in ("0", "1"):
        os.environ["ECC_HOOKS_RAW"] = raw
        for payload in payloads:
            hook.handle(json.dumps({**common, **payload}).encode(), None, now)
    hook.handle(("{" + json.dumps(text)).encode(), None, now)  # malformed: goes to errors.log
    stdin = {
        **common,
        "model": {"id": "claude-sonnet-4-5", "display_name": text},
        "workspace": {"current_dir": text, "project_dir": str(work)},
        "version": text,
    }
    printed.append(statusline.render_stdin(stdin, SESSION, {"COLUMNS": "400"}, now).encode())
    watcher = watch.Watcher(idle_exit=1)
    watcher.process(SESSION, force=True)
    watch.log("test", f"detail {text}")
    printed.append(run_cli("status", "--json", "--no-gh", "--session", SESSION))
    printed.append(run_cli("status", "--markdown", "--no-gh", "--session", SESSION))
    printed.append(run_cli("inspect", SESSION))
    out_dir.mkdir()
    printed.append(run_cli("inspect", SESSION, "--markdown"))
    printed.append(run_cli("inspect", SESSION, "--handoff", str(out_dir / "handoff.md")))
    printed.append(run_cli("inspect", str(transcript), "--target-type", "transcript", "--markdown"))
    printed.append(run_cli("inspect", str(transcript), "--target-type", "transcript"))
    for fmt in ((), ("--json",)):
        printed.append(
            run_cli(
                "loop-status",
                "--transcript",
                str(transcript),
                "--now",
                "2026-05-13T00:00:00Z",
                "--write-dir",
                str(out_dir / "loop"),
                *fmt,
            )
        )
    files = [p.read_bytes() for folder in (home, out_dir) for p in folder.rglob("*") if p.is_file()]
    return printed + files


def check(example: tuple[str, str, str]) -> None:
    kind, text, sensitive = example
    outputs = everything_written_and_printed(text)
    assert len(outputs) > 10
    for data in outputs:
        assert sensitive.encode() not in data, (kind, text, data.decode("utf-8", "replace")[:3000])
        assert json.dumps(sensitive)[1:-1].encode() not in data, (kind, text)


@seed(20261201)
@SETTINGS
@given(secret_texts())
def test_no_secret_reaches_any_output_fixed_seed(example: tuple[str, str, str]) -> None:
    check(example)


@SETTINGS
@given(secret_texts())
def test_no_secret_reaches_any_output_random_seed(example: tuple[str, str, str]) -> None:
    check(example)
