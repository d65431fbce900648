"""``[notify]`` in config.toml: the watcher runs the user's command once when a session starts waiting for a person
and once when a turn ends; history it folds to catch up notifies nothing; payload text reaches the command only
redacted and cleaned, in its environment."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ecc_hooks.hud import notify
from tests.helpers import run_hook, running, wait_until

SESSION = "5ec0717e-0000-4000-8000-0000000a0717"
# Each notification appends one line of its variables to a file beside the state folder.
COMMAND = (
    'printf "%s|%s|%s|%s\\n" "$ECC_NOTIFY_EVENT" "$ECC_NOTIFY_SESSION" "$ECC_NOTIFY_NAME" "$ECC_NOTIFY_REASON" '
    '>> "$NOTIFIED"'
)


def test_config_problems_are_reported_not_ignored() -> None:
    settings = notify.parse(
        '[notify]\ncommand = "true"\nwhen = ["waiting"]\n[nofity]\nx = 1\n[github]\nttl_seconds = 1\n'
    )
    assert settings.notify_command == "true" and settings.notify_on == notify.EVENTS
    text = "\n".join(settings.problems)
    assert "unknown key notify.when" in text and "unknown table [nofity]" in text and "ttl_seconds" in text
    assert settings.github_ttl == 60.0
    assert notify.parse("[notify\n").problems[0].startswith("config.toml:")
    bad = notify.parse('[notify]\ncommand = ""\non = ["done"]\n')
    assert bad.notify_command is None and len(bad.problems) == 2
    assert notify.parse("").problems == [] and notify.parse("").notify_command is None


@pytest.mark.parametrize(
    ("before", "after", "event"),
    [
        (("running", None), ("waiting", "permission to use Bash"), "waiting"),
        (("waiting", "permission to use Bash"), ("waiting", "permission to use Bash"), None),  # the same wait
        (("waiting", "a permission answer"), ("waiting", "permission to use Bash"), "waiting"),
        (("running", None), ("idle", None), "finished"),
        (("waiting", "x"), ("idle", None), "finished"),
        (("unknown", None), ("idle", None), None),  # a session seen for the first time: history
        (("idle", None), ("running", None), None),
    ],
)
def test_transitions(before: tuple, after: tuple, event: str | None) -> None:
    assert notify.transition(before, after) == event


def test_what_reaches_the_command_is_redacted_and_inert() -> None:
    secret = "ghp_Q8mZ2xT4vL9pR3sK7wN1bY6cF0hJ5dGa"
    env = notify.environment("waiting", SESSION, "/work/my-app", f"permission to push with {secret}\x1b]0;pwn\x07\n")
    assert secret not in json.dumps(env) and "\x1b" not in env["ECC_NOTIFY_REASON"]
    assert "\n" not in env["ECC_NOTIFY_REASON"] and env["ECC_NOTIFY_NAME"] == "my-app 5ec0717e"


def hook(event: str, cwd: Path, **payload: object) -> None:
    body = {"session_id": SESSION, "hook_event_name": event, "cwd": str(cwd), "transcript_path": "/none.jsonl"}
    assert run_hook(json.dumps({**body, **payload}).encode()).returncode == 0


def test_the_watcher_notifies_once_per_transition(daemons, ecc_home: Path, tmp_path: Path, monkeypatch) -> None:
    notified = tmp_path / "notified.txt"
    monkeypatch.setenv("NOTIFIED", str(notified))
    ecc_home.mkdir(mode=0o700)
    (ecc_home / "config.toml").write_text(f"[notify]\ncommand = '{COMMAND}'\n")
    work = tmp_path / "my-app"
    work.mkdir()
    hook("SessionStart", work, source="startup")  # history: folded at the watcher's start
    hook("UserPromptSubmit", work, prompt="tidy")
    hook("Stop", work, last_assistant_message="first turn done")
    running(daemons("--idle-exit", "300"))
    wait_until(lambda: (ecc_home / "sessions" / SESSION / "hud.json").exists(), 30, "the first snapshot")
    time.sleep(1.0)
    assert not notified.exists()  # what it folded to catch up notified nothing

    def lines() -> list[str]:
        return notified.read_text().splitlines() if notified.exists() else []

    hook("UserPromptSubmit", work, prompt="clean up")
    hook("PreToolUse", work, tool_name="Bash", tool_input={"command": "rm -rf build"}, tool_use_id="t1")
    hook("PermissionRequest", work, tool_name="Bash", tool_input={"command": "rm -rf build"})
    hook("Notification", work, notification_type="permission_prompt", message="Claude needs your permission")
    wait_until(lambda: len(lines()) >= 1, 30, "the waiting notification")
    hook("PostToolUse", work, tool_name="Bash", tool_input={"command": "rm -rf build"}, tool_use_id="t1")
    hook("Stop", work, last_assistant_message="All clean.")
    wait_until(lambda: len(lines()) >= 2, 30, "the finished notification")
    time.sleep(1.0)  # nothing more comes
    assert lines() == [
        f"waiting|{SESSION}|my-app 5ec0717e|permission to use Bash",
        f"finished|{SESSION}|my-app 5ec0717e|All clean.",
    ]
