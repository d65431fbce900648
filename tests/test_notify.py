"""``[notify]`` and ``[hud]`` in config.toml: the watcher runs the user's command once when a session starts waiting
for a person, once when a turn ends and once when one ends in an API error; history it folds to catch up notifies
nothing; payload text reaches the command only redacted and cleaned, in its environment. ``[hud]``'s bell, notify
and keymap are checked with the rest (every problem named, the valid rest kept)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.hud import notify
from ecc_hooks.tui import keys
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
        (("running", None, None), ("idle", None, "rate_limit"), "failed"),  # a turn that ended in an API error
        (("idle", None, "rate_limit"), ("idle", None, "rate_limit"), None),
        (("unknown", None, None), ("idle", None, "rate_limit"), None),  # history
        (("running", None, "overloaded"), ("idle", None, None), "finished"),  # the next turn went well
        (("idle", None, "rate_limit"), ("waiting", "waiting for your input", "rate_limit"), "waiting"),
        (("running", None, None), ("ended", None, None), None),
    ],
)
def test_transitions(before: tuple, after: tuple, event: str | None) -> None:
    assert notify.transition(before, after) == event


@pytest.mark.parametrize(
    ("before", "after", "event"),
    [
        (None, "waiting", None),  # a row's first sight: nothing rings at start-up
        (None, "failed", None),
        ("running", "waiting", "waiting"),
        ("idle", "waiting", "waiting"),
        ("waiting", "waiting", None),
        ("running", "completed", "finished"),
        ("waiting", "completed", "finished"),
        ("starting", "completed", "finished"),
        ("running", "idle", "finished"),  # a session's turn ended
        ("waiting", "idle", "finished"),
        ("starting", "idle", None),  # a worker at its prompt before its first turn
        ("running", "failed", "failed"),
        ("completed", "failed", "failed"),
        ("failed", "failed", None),
        ("running", "stopped", None),  # a person's own stop
        ("completed", "merged", None),
        ("running", "stale", None),
        ("pending", "starting", None),
        ("failed", "running", None),
    ],
)
def test_row_events(before: str | None, after: str, event: str | None) -> None:
    assert notify.row_event(before, after) == event


def test_the_hud_table_is_read_with_its_defaults_and_its_problems_named() -> None:
    default = notify.parse("")
    assert (default.hud_bell, default.hud_notify, default.hud_keymap) == (True, False, {})
    assert default.notify_on == ("waiting", "finished", "failed")
    good = notify.parse('[hud]\nbell = false\nnotify = true\n[hud.keymap]\n"hud.approve" = "y, Y"\n')
    assert (good.hud_bell, good.hud_notify, good.hud_keymap, good.problems) == (False, True, {"hud.approve": "y,Y"}, [])
    text = (
        '[hud]\nbell = "yes"\nnotify = 1\ncolour = 3\n[hud.keymap]\n'
        '"hud.approve" = "y"\n'  # valid: kept
        '"hud.fly" = "f"\n'  # no such control
        '"hud.deny" = ""\n'
        '"hud.send" = 5\n'
        '"hud.attach" = "ctrl+o"\n'  # Claude Code's transcript
        '"hud.logs" = "Ctrl+L"\n'  # not Textual's name
        '"hud.pr" = "s"\n'  # the stop key
    )
    bad = notify.parse(text)
    assert (bad.hud_bell, bad.hud_notify, bad.hud_keymap) == (True, False, {"hud.approve": "y"})
    problems = "\n".join(bad.problems)
    assert all(p.startswith("config.toml: ") for p in bad.problems) and len(bad.problems) == 9, problems
    for said in (
        "hud.bell must be true or false",
        "hud.notify must be true or false",
        "unknown key hud.colour",
        "hud.keymap.hud.fly: unknown control",
        "hud.keymap.hud.deny: must be a non-empty string",
        "hud.keymap.hud.send: must be a non-empty string",
        "hud.keymap.hud.attach: ctrl+o is Claude Code's own",
        "hud.keymap.hud.logs: not a key name: 'Ctrl+L'",
        "hud.keymap.hud.pr: s is bound to hud.stop too",
    ):
        assert said in problems, (said, problems)
    assert notify.parse('[hud]\nkeymap = "y"\n').problems == [
        "config.toml: hud.keymap must be a table of control ids to keys"
    ]


def test_a_swap_of_two_keys_is_no_clash_and_a_dropped_entry_gives_its_key_back() -> None:
    swapped = notify.parse('[hud.keymap]\n"hud.approve" = "s"\n"hud.stop" = "a"\n')
    assert swapped.problems == [] and swapped.hud_keymap == {"hud.approve": "s", "hud.stop": "a"}
    # stop's entry is refused (Claude Code's Esc): its default "s" is back, so approve's "s" clashes too
    chained = notify.parse('[hud.keymap]\n"hud.approve" = "s"\n"hud.stop" = "escape"\n')
    assert chained.hud_keymap == {}
    assert "hud.keymap.hud.approve: s is bound to hud.stop too" in "\n".join(chained.problems)


def test_no_default_key_is_one_of_claude_codes_chords() -> None:
    assert not [k.id for k in keys.KEYS for name in k.keys.split(",") if name in keys.CLAUDE_CODE_CHORDS]


CONTROL_IDS = sorted(keys.BY_ID)
KEY_POOL = sorted({n for k in keys.KEYS for n in k.keys.split(",")} | {"x", "z", "f5", "ctrl+c", "escape", "Ctrl+X"})


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # ASCII alphabet: a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


key_lists = st.lists(st.sampled_from(KEY_POOL), min_size=1, max_size=3).map(", ".join)
values = st.one_of(key_lists, key_lists, st.just(""), st.just(" , "), st.integers(), st.booleans(), st.lists(key_lists))
ids = st.one_of(st.sampled_from(CONTROL_IDS), st.from_regex(r"hud\.[a-z_]{1,8}", fullmatch=True))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(ids, values, max_size=8))
def test_whatever_the_keymap_says_the_kept_bindings_are_sound_and_the_rest_named(table: dict[str, object]) -> None:
    text = "[hud.keymap]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in table.items())
    parsed = notify.parse(text)
    kept = parsed.hud_keymap
    for control, value in kept.items():
        names = value.split(",")
        assert control in keys.BY_ID and all(notify.KEY_NAME.fullmatch(n) for n in names)
        assert not set(names) & keys.CLAUDE_CODE_CHORDS
    owners: dict[str, set[str]] = {}
    for control, key in keys.BY_ID.items():
        for name in kept.get(control, key.keys).split(","):
            owners.setdefault(name, set()).add(control)
    assert all(len(c) == 1 for c in owners.values()), owners  # no key has two controls
    for control in table:
        if control not in kept:
            assert any(p.startswith(f"config.toml: hud.keymap.{control}: ") for p in parsed.problems), control
    assert len(parsed.problems) >= len(set(table) - set(kept))


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
    hook("UserPromptSubmit", work, prompt="and the docs")
    hook("StopFailure", work, error="rate_limit")  # the turn ends in an API error
    wait_until(lambda: len(lines()) >= 3, 30, "the failed notification")
    time.sleep(1.0)  # nothing more comes
    assert lines() == [
        f"waiting|{SESSION}|my-app 5ec0717e|permission to use Bash",
        f"finished|{SESSION}|my-app 5ec0717e|All clean.",
        f"failed|{SESSION}|my-app 5ec0717e|the API call failed: rate_limit",
    ]
