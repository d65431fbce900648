"""Gemini CLI's harness module against what the pinned Gemini CLI (0.61.0) really sent and wrote: its hook payloads
and its chat transcript (tests/fixtures/harness/gemini/, captured offline against tests/e2e/fake_api, local paths
replaced).

- ``to_claude``: Claude Code's event and tool names; FIFO call ids per tool (the same input first), a shell
  command's non-zero exit and a tool's ``error`` as ``PostToolUseFailure``; the permission prompt as
  ``PermissionRequest``; PreCompress only when manual; never raises (hypothesis);
- install/uninstall: idempotent, the user's hooks and settings kept, malformed files refused untouched, backups;
- worker_capture: a private ``GEMINI_CLI_HOME`` linking the user's folder, our hooks merged into a copy of the
  user's settings (the user's file unchanged), ``--session-id``;
- the transcript reader: the last version of each gemini message, ``$set`` lines, subagent chats.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks import harness
from ecc_hooks.capture.normalize import normalize
from ecc_hooks.core import paths
from ecc_hooks.core.errors import UserError
from ecc_hooks.harness import gemini
from ecc_hooks.harness.usage import Message
from tests.helpers import REPO

FIXTURES = REPO / "tests" / "fixtures" / "harness" / "gemini"
PAYLOADS: dict[str, dict[str, Any]] = json.loads((FIXTURES / "payloads.json").read_text())
TRANSCRIPT = FIXTURES / "transcript.jsonl"
SESSION = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
HOOK_ARGV = [
    "/opt/ecc hooks/.venv/bin/python3",
    "-S",
    "-c",
    "from ecc_hooks.capture.client import main; main()",
    "gemini",
]


def payload(name: str, **changes: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(PAYLOADS[name])), **changes}


def shaped(name: str, **changes: Any) -> dict[str, Any]:
    out = gemini.to_claude(payload(name, **changes))
    assert out is not None
    return out


# ---------------------------------------------------------------------------- to_claude


def test_registry_names_the_module() -> None:
    assert harness.module("gemini") is gemini and harness.module("gemini-cli") is gemini
    assert gemini.HARNESS == harness.HARNESSES["gemini"] == "gemini-cli"


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("SessionStart", "SessionStart"),
        ("BeforeAgent", "UserPromptSubmit"),
        ("BeforeTool_shell", "PreToolUse"),
        ("AfterTool_shell", "PostToolUse"),
        ("AfterTool_shell_exit3", "PostToolUseFailure"),
        ("AfterTool_read_file_missing", "PostToolUseFailure"),
        ("AfterTool_write_file", "PostToolUse"),
        ("Notification_ToolPermission", "PermissionRequest"),
        ("AfterAgent", "Stop"),
        ("SessionEnd", "SessionEnd"),
    ],
)
def test_real_payloads_take_claude_names(ecc_home: Path, name: str, event: str) -> None:
    out = shaped(name)
    assert out["hook_event_name"] == event
    assert out["session_id"] == PAYLOADS[name]["session_id"]
    assert out["cwd"] == PAYLOADS[name]["cwd"] and out["transcript_path"] == PAYLOADS[name]["transcript_path"]
    record = normalize(out, 0.0, harness="gemini")
    assert record["harness"] == "gemini-cli" and record["event"] == event


@pytest.mark.parametrize("name", ["PreCompress_auto", "BeforeToolSelection"])
def test_events_we_do_not_record_are_dropped(name: str) -> None:
    # PreCompress fires before every model call (auto), compressing or not; the model events are never ours
    assert gemini.to_claude(payload(name)) is None


def test_manual_compress_is_a_precompact() -> None:
    out = shaped("PreCompress_auto", trigger="manual")
    assert out["hook_event_name"] == "PreCompact" and out["trigger"] == "manual"


def test_shell_tool_is_bash_with_its_command(ecc_home: Path) -> None:
    out = shaped("BeforeTool_shell")
    assert out["tool_name"] == "Bash"
    assert out["tool_input"] == {"command": "echo hello", "description": "say hello"}


def test_file_tools_take_claude_names_and_file_path(ecc_home: Path) -> None:
    out = shaped("BeforeTool_write_file")
    assert out["tool_name"] == "Write" and out["tool_input"]["file_path"] == "/home/user/proj/a.txt"
    record = normalize(out, 0.0, harness="gemini")
    assert record["files"] == ["/home/user/proj/a.txt"]
    assert gemini.tool_call(
        "replace", {"file_path": "f", "old_string": "a", "new_string": "b", "instruction": "i"}
    ) == (
        "Edit",
        {"file_path": "f", "old_string": "a", "new_string": "b"},
    )
    assert gemini.tool_call("read_file", {"file_path": "f", "start_line": 3}) == ("Read", {"file_path": "f"})
    assert gemini.tool_call("some_mcp_tool", {"x": 1}) == ("some_mcp_tool", {"x": 1})


def test_todos_become_todowrite() -> None:
    tool, args = gemini.tool_call("write_todos", {"todos": [{"description": "a", "status": "in_progress"}, "junk"]})
    assert tool == "TodoWrite" and args == {"todos": [{"content": "a", "status": "in_progress"}]}


def test_exit_code_3_is_a_failure_with_its_code(ecc_home: Path) -> None:
    out = shaped("AfterTool_shell_exit3")
    assert out["error"] == "Exit Code: 3" and out["is_interrupt"] is False
    assert normalize(out, 0.0, harness="gemini")["outcome"] == "failure"


def test_a_tool_error_is_a_failure_with_its_message(ecc_home: Path) -> None:
    out = shaped("AfterTool_read_file_missing")
    assert out["tool_name"] == "Read"
    assert out["error"] == "File not found: /home/user/proj/missing.txt"


def test_a_successful_command_is_not_a_failure(ecc_home: Path) -> None:
    assert shaped("AfterTool_shell")["hook_event_name"] == "PostToolUse"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("<untrusted_context>\nOutput: (empty)\nExit Code: 3\nProcess Group PGID: 1\n</untrusted_context>", 3),
        ("Output: x\nExit Code: 127\nSignal: 9\nBackground PIDs: 4, 5\nProcess Group PGID: 1", 127),
        ("Output: hello\nProcess Group PGID: 19303", None),
        # the command's own output cannot end after the PGID line Gemini CLI writes last
        ("Output: Exit Code: 5\nnot the end\nProcess Group PGID: 7", None),
        ("Output: x\nExit Code: abc\nProcess Group PGID: 7", None),
        ("", None),
    ],
)
def test_shell_exit_code_is_read_from_the_tools_last_lines(text: str, code: int | None) -> None:
    assert gemini.shell_exit_code(text) == code


def test_cancelled_command_is_interrupted(ecc_home: Path) -> None:
    response = {"llmContent": "Command was cancelled by user before it could complete. There was no output."}
    out = shaped("AfterTool_shell", tool_response=response)
    assert out["hook_event_name"] == "PostToolUseFailure" and out["is_interrupt"] is True
    assert normalize(out, 0.0, harness="gemini")["outcome"] == "interrupted"


def test_permission_prompt_names_the_tool_and_what_it_touches() -> None:
    out = shaped("Notification_ToolPermission")
    assert out["tool_name"] == "Edit" and out["tool_input"] == {"file_path": "/home/user/proj/a.txt"}
    details = {"type": "exec", "title": "Confirm Shell Command", "command": "rm -rf x", "rootCommand": "rm"}
    out = shaped("Notification_ToolPermission", details=details)
    assert out["tool_name"] == "Bash" and out["tool_input"] == {"command": "rm -rf x"}
    other = shaped("Notification_ToolPermission", notification_type="Something")
    assert other["hook_event_name"] == "Notification" and other["notification_type"] == "Something"


def test_permission_prompt_is_for_the_call_that_waits(ecc_home: Path) -> None:
    # as the real client fires them: BeforeTool, then the prompt, then AfterTool once allowed
    shell = shaped("BeforeTool_shell", session_id=SESSION)["tool_use_id"]
    write = shaped("BeforeTool_write_file", session_id=SESSION)["tool_use_id"]
    prompt = shaped("Notification_ToolPermission", session_id=SESSION)
    assert prompt["tool_use_id"] == write != shell and prompt["tool_name"] == "Write"
    details = {"type": "exec", "title": "Confirm Shell Command", "command": "echo hello", "rootCommand": "echo"}
    assert shaped("Notification_ToolPermission", session_id=SESSION, details=details)["tool_use_id"] == shell
    assert shaped("AfterTool_write_file", session_id=SESSION)["tool_use_id"] == write


def test_stop_carries_the_reply() -> None:
    out = shaped("AfterAgent")
    assert (
        out["stop_hook_active"] is False and out["last_assistant_message"] == PAYLOADS["AfterAgent"]["prompt_response"]
    )


# ---------------------------------------------------------------------------- call ids


def test_before_and_after_pair_by_tool_and_input(ecc_home: Path) -> None:
    first = shaped("BeforeTool_shell")["tool_use_id"]
    second = shaped("BeforeTool_shell_exit3")["tool_use_id"]
    assert first != second
    # results arrive out of order (parallel calls): each pairs with its own call by its input
    assert shaped("AfterTool_shell_exit3")["tool_use_id"] == second
    assert shaped("AfterTool_shell")["tool_use_id"] == first


def test_same_tool_other_input_pairs_first_in_first_out(ecc_home: Path) -> None:
    a = shaped("BeforeTool_shell", tool_input={"command": "a"})["tool_use_id"]
    b = shaped("BeforeTool_shell", tool_input={"command": "b"})["tool_use_id"]
    assert shaped("AfterTool_shell", tool_input={"command": "changed by a hook"})["tool_use_id"] == a
    assert shaped("AfterTool_shell", tool_input={"command": "also"})["tool_use_id"] == b


def test_an_after_without_before_gets_a_new_id(ecc_home: Path) -> None:
    before = shaped("BeforeTool_write_file")["tool_use_id"]
    after = shaped("AfterTool_shell")["tool_use_id"]  # no shell call was pending
    assert after and after != before


def test_a_new_prompt_forgets_cancelled_calls(ecc_home: Path) -> None:
    stale = shaped("BeforeTool_shell", tool_input={"command": "never finished"})["tool_use_id"]
    shaped("BeforeAgent")
    fresh = shaped("BeforeTool_shell")["tool_use_id"]
    assert shaped("AfterTool_shell", tool_input={"command": "x"})["tool_use_id"] == fresh != stale


def test_call_ids_file_is_private(ecc_home: Path) -> None:
    shaped("BeforeTool_shell")
    path = Path(paths.tool_ids_path(SESSION))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_linked_call_ids_file_is_not_followed(ecc_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    path = Path(paths.tool_ids_path(SESSION))
    path.parent.mkdir(parents=True)
    path.symlink_to(target)
    out = shaped("BeforeTool_shell")
    assert "tool_use_id" not in out  # recorded without an id rather than written through a link
    assert target.read_text() == "keep"


def test_a_corrupt_call_ids_file_starts_over(ecc_home: Path) -> None:
    path = Path(paths.tool_ids_path(SESSION))
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(b"\xff{not json")
    assert shaped("BeforeTool_shell")["tool_use_id"] == f"gemini-{SESSION[:8]}-1"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)
event_names = st.sampled_from(
    ["SessionStart", "SessionEnd", "BeforeAgent", "AfterAgent", "BeforeTool", "AfterTool", "Notification",
     "PreCompress", "BeforeModel", "AfterModel", "BeforeToolSelection", "Other"]
)  # fmt: skip


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    base=st.sampled_from(sorted(PAYLOADS)),
    event=event_names,
    extra=st.dictionaries(
        st.sampled_from(
            ["tool_name", "tool_input", "tool_response", "details", "notification_type", "trigger", "prompt",
             "prompt_response", "source", "reason", "session_id", "cwd"]
        ),
        json_values,
        max_size=5,
    ),
)  # fmt: skip
def test_to_claude_never_raises_and_stays_claude_shaped(
    ecc_home: Path, base: str, event: str, extra: dict[str, Any]
) -> None:
    data = {**payload(base), "hook_event_name": event, **extra}
    out = gemini.to_claude(data)
    if out is None:
        return
    assert out["hook_event_name"] in {
        "SessionStart", "SessionEnd", "UserPromptSubmit", "Stop", "PreToolUse", "PostToolUse",
        "PostToolUseFailure", "PermissionRequest", "Notification", "PreCompact",
    }  # fmt: skip
    assert isinstance(out["session_id"], str) and out["session_id"]
    json.dumps(out)
    if isinstance(paths.sanitize_session_id(out["session_id"]), str):
        normalize(out, 0.0, harness="gemini")


@settings(deadline=None)  # no wall-clock limit: a loaded machine is not a failure
@given(st.one_of(json_values, st.dictionaries(st.text(max_size=8), json_values)))
def test_to_claude_takes_anything(value: Any) -> None:
    out = gemini.to_claude(value)
    assert out is None or isinstance(out, dict)


# ---------------------------------------------------------------------------- install / uninstall


def ctx(home: Path, **kw: Any) -> harness.InstallContext:
    backups: list[str] = kw.pop("backups", [])

    def backup(path: str) -> str:
        copy = f"{path}.bak{len(backups)}"
        Path(copy).write_bytes(Path(path).read_bytes())
        backups.append(copy)
        return copy

    return harness.InstallContext(home=home, hook_argv=HOOK_ARGV, backup=backup, **kw)


USER_SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "hooks": {
        "BeforeTool": [{"matcher": "write_file", "hooks": [{"type": "command", "command": "mine.sh", "timeout": 5}]}],
        "BeforeModel": [{"hooks": [{"type": "command", "command": "model.sh"}]}],
    },
    "ui": {"theme": "Dracula"},
}


def settings_file(home: Path) -> Path:
    return home / ".gemini" / "settings.json"


def test_install_adds_ours_keeps_the_users_and_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    path = settings_file(tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps(USER_SETTINGS))
    path.chmod(0o640)
    backups: list[str] = []
    lines = gemini.install(ctx(tmp_path, backups=backups))
    assert "backup" in lines[0] and len(backups) == 1
    assert json.loads(Path(backups[0]).read_text()) == USER_SETTINGS
    written = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert written["security"] == USER_SETTINGS["security"] and written["ui"] == USER_SETTINGS["ui"]
    assert written["hooks"]["BeforeModel"] == USER_SETTINGS["hooks"]["BeforeModel"]
    assert written["hooks"]["BeforeTool"][0] == USER_SETTINGS["hooks"]["BeforeTool"][0]
    for event, matcher in gemini.EVENTS:
        ours = [d for d in written["hooks"][event] if gemini._holds_ours(d)]
        assert len(ours) == 1 and ours[0]["matcher"] == matcher
        hook = ours[0]["hooks"][0]
        assert hook["timeout"] == 30000 and hook["env"] == {"GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""}
        assert hook["command"].startswith("'/opt/ecc hooks/.venv/bin/python3' -S -c") and hook["command"].endswith(
            "gemini # ecc-hooks"
        )
    assert set(written["hooks"]) == {e for e, _ in gemini.EVENTS} | {"BeforeModel"}  # no model events of ours
    before = path.read_bytes()
    assert gemini.install(ctx(tmp_path, backups=backups))[0].startswith("already installed")
    assert path.read_bytes() == before and len(backups) == 1
    gemini.uninstall(ctx(tmp_path, backups=backups))
    assert json.loads(path.read_text()) == USER_SETTINGS
    assert gemini.uninstall(ctx(tmp_path))[0].startswith("nothing to remove")


def test_install_creates_the_file_when_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    gemini.install(ctx(tmp_path))
    path = settings_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    gemini.uninstall(ctx(tmp_path))
    assert json.loads(path.read_text()) == {}


def test_install_follows_gemini_cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "other"))
    gemini.install(ctx(tmp_path))
    assert settings_file(tmp_path / "other").exists() and not settings_file(tmp_path).exists()


def test_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    assert gemini.install(ctx(tmp_path, dry_run=True))[0].startswith("would add")
    assert not settings_file(tmp_path).exists()


@pytest.mark.parametrize(
    "text", ['{"hooks": []}', '{"hooks": {"BeforeTool": {}}}', "[1]", "{not json", '{"a": 1} // comment']
)
def test_malformed_settings_are_refused_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    path = settings_file(tmp_path)
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(UserError):
        gemini.install(ctx(tmp_path))
    assert path.read_text() == text and sorted(os.listdir(path.parent)) == ["settings.json"]


def test_disabled_hooks_are_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    path = settings_file(tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps({"hooksConfig": {"enabled": False, "disabled": ["ecc-hooks"]}}))
    lines = gemini.install(ctx(tmp_path))
    assert any("enabled is false" in line for line in lines) and any("disabled" in line for line in lines[2:])


hook_lists = st.lists(
    st.fixed_dictionaries(
        {"matcher": st.sampled_from(["*", "run_shell_command", ""])},
        optional={
            "hooks": st.lists(
                st.fixed_dictionaries(
                    {"type": st.just("command"), "command": st.text(min_size=1, max_size=12)},
                    optional={"name": st.text(max_size=6), "timeout": st.integers(0, 10**6)},
                ),
                min_size=1,
                max_size=3,
            ),
            "sequential": st.booleans(),
        },
    ),
    min_size=1,
    max_size=3,
)
user_settings = st.fixed_dictionaries(
    {},
    optional={
        "hooks": st.dictionaries(st.sampled_from(["BeforeTool", "AfterTool", "SessionStart", "Custom"]), hook_lists),
        "general": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    },
)


@settings(deadline=None)
@given(user_settings)
def test_install_then_uninstall_gives_back_the_users_settings(user: dict[str, Any]) -> None:
    if user.get("hooks") == {}:
        user = {k: v for k, v in user.items() if k != "hooks"}
    installed = gemini.with_ours(user, "ecc # ecc-hooks")
    assert gemini.with_ours(installed, "ecc # ecc-hooks") == installed
    assert gemini.without_ours(installed) == user
    assert gemini.without_ours(user) == user


def test_comments_are_stripped_for_a_workers_copy() -> None:
    text = '{\n // a comment\n "a": "http://x//y", /* block */ "b": "q\\"//"\n}'
    assert json.loads(gemini.strip_comments(text)) == {"a": "http://x//y", "b": 'q"//'}


# ---------------------------------------------------------------------------- worker_capture


def test_worker_capture_leaves_the_users_folder_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    user = isolated_home / ".gemini"
    (user / "tmp" / "bin").mkdir(parents=True)
    (user / "oauth_creds.json").write_text("{}")
    (user / "settings.json").write_text("// mine\n" + json.dumps(USER_SETTINGS))
    before = {p: p.read_bytes() for p in user.rglob("*") if p.is_file()}
    private = tmp_path / "worker"
    private.mkdir(mode=0o700)
    capture = gemini.worker_capture(HOOK_ARGV, private, "7a0c2c44-2b8e-4b3e-9a47-5f36c3a11111")
    assert capture.session_id == "7a0c2c44-2b8e-4b3e-9a47-5f36c3a11111"
    assert capture.args == ["--session-id", capture.session_id]
    own = Path(capture.env["GEMINI_CLI_HOME"]) / ".gemini"
    assert own.parent.parent == private
    assert os.readlink(own / "oauth_creds.json") == str(user / "oauth_creds.json")
    # its own tmp/ (the chats, read below ECC_HOOKS_HOME through no link), the user's ripgrep linked in it
    assert (own / "tmp").is_dir() and not (own / "tmp").is_symlink()
    assert os.readlink(own / "tmp" / "bin") == str(user / "tmp" / "bin")
    merged = json.loads((own / "settings.json").read_text())
    assert merged["security"] == USER_SETTINGS["security"]
    assert gemini.without_ours(merged) == USER_SETTINGS
    assert stat.S_IMODE((own / "settings.json").stat().st_mode) == 0o600
    assert {p: p.read_bytes() for p in user.rglob("*") if p.is_file()} == before
    again = gemini.worker_capture(HOOK_ARGV, private, None)  # a resume: the session continues under its own id
    assert again.session_id is None and again.args == [] and again.env == capture.env


def test_worker_capture_replaces_an_earlier_link_to_the_users_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    user = isolated_home / ".gemini"
    (user / "tmp").mkdir(parents=True)
    own = tmp_path / "gemini-home" / ".gemini"
    own.mkdir(parents=True)
    (own / "tmp").symlink_to(user / "tmp")  # what an earlier version linked
    gemini.worker_capture(HOOK_ARGV, tmp_path, "s")
    assert (own / "tmp").is_dir() and not (own / "tmp").is_symlink() and list((own / "tmp").iterdir()) == []


def test_worker_capture_without_user_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    capture = gemini.worker_capture(HOOK_ARGV, tmp_path, "s")
    merged = json.loads((Path(capture.env["GEMINI_CLI_HOME"]) / ".gemini" / "settings.json").read_text())
    assert set(merged["hooks"]) == {e for e, _ in gemini.EVENTS}


# ---------------------------------------------------------------------------- usage


def test_transcript_messages_last_version_of_each(tmp_path: Path) -> None:
    records, lines, malformed = gemini.transcript_messages(str(TRANSCRIPT))
    assert lines == 16 and malformed == 0
    # the first two gemini messages are written twice (the second time with their tool calls): counted once
    assert [m for m, _ in records] == [
        Message("gemini-3.8-flash", input=80, output=10, cache_read=20, reasoning=3, at=records[0][0].at),
        Message("gemini-3.8-flash", input=90, output=12, cache_read=30, reasoning=0, at=records[1][0].at),
        Message("gemini-3.8-flash", input=110, output=7, cache_read=40, reasoning=2, at=records[2][0].at),
    ]
    assert [prompt for _, prompt in records] == [100, 120, 150]


def gemini_line(mid: str, model: str, **tokens: int) -> str:
    return json.dumps({"id": mid, "type": "gemini", "model": model, "tokens": tokens})


def test_set_rewind_and_subagents_count(tmp_path: Path) -> None:
    chats = tmp_path / "chats"
    (chats / SESSION).mkdir(parents=True)
    main = chats / "session-2026-12-07T19-05-0f1e2d3c.jsonl"
    main.write_text(
        "\n".join(
            [
                json.dumps({"sessionId": SESSION, "projectHash": "h", "kind": "main"}),
                json.dumps(
                    {"$set": {"messages": [json.loads(gemini_line("a", "gemini-2.5-pro", input=10, output=1))]}}
                ),
                gemini_line("b", "gemini-2.5-pro", input=20, output=2, tool=5),
                json.dumps({"$rewindTo": "b"}),  # b was spent even though the conversation dropped it
                "{broken",
                gemini_line("c", "gemini-2.5-pro", input=30, output=3, cached=40),  # cached above input: capped
            ]
        )
    )
    (chats / SESSION / "sub1.jsonl").write_text(gemini_line("s", "gemini-2.5-flash", input=7, output=1, thoughts=2))
    usage = gemini.read_usage(SESSION, str(main), {})
    assert usage is not None
    assert usage.tokens["input"] == 10 + 25 + 0 + 7 and usage.tokens["cache_read"] == 30
    assert usage.tokens["output"] == 1 + 2 + 3 + 3 and usage.tokens["reasoning"] == 2
    assert usage.malformed_lines == 1
    assert {m.model for m in usage.models} == {"gemini-2.5-pro", "gemini-2.5-flash"}
    assert usage.cost.computed_usd is not None and usage.cost.statusline_reported_usd is None


def test_unpriced_model_stays_unknown(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(gemini_line("a", "gemini-9-imaginary", input=10, output=1))
    usage = gemini.read_usage(SESSION, str(path), {})
    assert usage is not None and usage.cost.computed_usd is None
    assert usage.cost.unknown_models == ("gemini-9-imaginary",)


def test_read_usage_finds_the_transcript_by_session(tmp_path: Path) -> None:
    chats = tmp_path / ".gemini" / "tmp" / "proj" / "chats"
    chats.mkdir(parents=True)
    (chats / "session-2026-12-07T19-05-0f1e2d3c.jsonl").write_text(
        json.dumps({"sessionId": "0f1e2d3c-other", "projectHash": "h"}) + "\n" + gemini_line("x", "m", input=1)
    )
    (chats / "session-2026-12-07T19-04-0f1e2d3c.jsonl").write_bytes(TRANSCRIPT.read_bytes())
    found = gemini.find_transcript(SESSION, {"HOME": str(tmp_path)})
    assert found is not None and found.endswith("19-04-0f1e2d3c.jsonl")
    usage = gemini.read_usage(SESSION, None, {"HOME": str(tmp_path)})
    assert usage is not None and usage.messages == 3
    assert gemini.read_usage("no-such-session", None, {"HOME": str(tmp_path)}) is None


@given(st.lists(st.one_of(st.text(max_size=40), json_values.map(json.dumps)), max_size=12))
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_transcript_reader_takes_any_lines(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(lines))
    records, _, _ = gemini.transcript_messages(str(path))
    for message, prompt in records:
        assert message.input >= 0 and message.output >= 0 and message.cache_read >= 0 and prompt >= 0
    gemini.read_usage(SESSION, str(path), {})


def test_price_is_tokens_times_the_table(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(gemini_line("a", "gemini-2.5-pro", input=1000, output=100, cached=400, thoughts=50))
    usage = gemini.read_usage(SESSION, str(path), {})
    assert usage is not None
    table = json.loads((REPO / "ecc_hooks" / "data" / "prices.json").read_text())["families"]["gemini-2-5-pro"]
    expected = (600 * Decimal(str(table["input"])) + 400 * Decimal(str(table["cache_read"]))
                + 150 * Decimal(str(table["output"]))) / 10**6  # fmt: skip
    assert usage.cost.computed_usd == expected


def test_a_growing_transcript_is_read_from_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "chat.jsonl"
    lines = TRANSCRIPT.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:6]) + lines[6][:30])  # the 7th line half written
    first, n, bad = gemini.transcript_messages(str(path))
    assert len(first) == 1 and n == 6 and bad == 0  # the half line: not a malformed one, only unfinished
    parsed: list[bytes] = []
    real_parse = gemini._parse

    def spy(data: bytes, found: dict[str, Any]) -> tuple[int, int]:
        parsed.append(data)
        return real_parse(data, found)

    monkeypatch.setattr(gemini, "_parse", spy)
    with path.open("a") as f:
        f.write(lines[6][30:] + "".join(lines[7:]))
    full = gemini.transcript_messages(str(path))
    assert parsed[0] == "".join(lines[6:]).encode()  # only the bytes after the last complete line were parsed
    assert full == gemini.transcript_messages(str(TRANSCRIPT)) and full[1:] == (16, 0)
    path.write_text(lines[0] + lines[4])  # replaced by a shorter file: read again from its start
    again, n, _ = gemini.transcript_messages(str(path))
    assert n == 2 and len(again) == 1


# ---------------------------------------------------------------------------- reconcile (declined at the prompt)

DECLINED = FIXTURES / "declined.jsonl"  # Gemini CLI 0.61.0's chat after Esc at "Allow execution of [Shell]?"
DECLINED_SESSION = "3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b"
CANCELLED_AT = datetime(2026, 12, 7, 20, 8, 35, 701000, tzinfo=timezone.utc).timestamp()


def _before_shell(monkeypatch: pytest.MonkeyPatch, at: float, command: str = "echo hi > b.txt") -> str:
    """The declined call's BeforeTool, recorded at ``at``: its id."""
    payload = {
        "session_id": DECLINED_SESSION,
        "transcript_path": str(DECLINED),
        "hook_event_name": "BeforeTool",
        "tool_name": "run_shell_command",
        "tool_input": {"command": command, "description": "x"},
    }
    with monkeypatch.context() as m:
        m.setattr(gemini.time, "time", lambda: at)
        shaped = gemini.to_claude(payload)
    assert shaped is not None
    return str(shaped["tool_use_id"])


def _reconcile_at(monkeypatch: pytest.MonkeyPatch, now: float, pending: dict[str, str], path: Path = DECLINED) -> Any:
    with monkeypatch.context() as m:
        m.setattr(gemini.time, "time", lambda: now)
        return gemini.reconcile(DECLINED_SESSION, str(path), pending)


def test_reconcile_ends_a_call_declined_at_the_prompt_once(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    call_id = _before_shell(monkeypatch, CANCELLED_AT - 2.7)
    found = _reconcile_at(monkeypatch, CANCELLED_AT + 60, {call_id: "Bash"})
    assert [p["hook_event_name"] for p in found] == ["PermissionDenied", "Stop"]
    ended = found[0]
    assert ended["tool_use_id"] == call_id and ended["tool_name"] == "Bash"
    assert ended["reason"] == "[Operation Cancelled] Reason: User denied execution."
    assert ended["tool_input"] == {"command": "echo hi > b.txt", "description": "x"}
    # recorded through the hook: to_claude passes them as they are, the fold counts the call denied (as Claude
    # Code's rejection at its prompt)
    records = [normalize(gemini.to_claude(p) or {}, 0.0, harness="gemini") for p in found]
    assert records[0]["event"] == "PermissionDenied" and records[0]["toolUseId"] == call_id
    assert "User denied execution" in records[0]["reason"]
    assert records[1]["event"] == "Stop" and {r["harness"] for r in records} == {"gemini-cli"}
    assert _reconcile_at(monkeypatch, CANCELLED_AT + 61, {call_id: "Bash"}) == []  # never twice


def test_reconcile_leaves_a_call_opened_after_the_cancellation(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    """The same command asked again in a later turn: the chat's earlier declined call is not its end."""
    call_id = _before_shell(monkeypatch, CANCELLED_AT + 20)
    assert _reconcile_at(monkeypatch, CANCELLED_AT + 60, {call_id: "Bash"}) == []
    assert _reconcile_at(monkeypatch, CANCELLED_AT + 60, {}) == []  # the journal has nothing open


def test_reconcile_waits_for_the_cancelled_line_a_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    """The chat read between the call's line and its ``Request cancelled`` line: nothing yet; past the grace the
    call is ended, without a Stop (the turn may go on)."""
    lines = DECLINED.read_text().splitlines()
    partial = tmp_path / "chat.jsonl"
    partial.write_text("\n".join(lines[:6]) + "\n")
    call_id = _before_shell(monkeypatch, CANCELLED_AT - 2.7)
    assert _reconcile_at(monkeypatch, CANCELLED_AT + 1, {call_id: "Bash"}, partial) == []
    found = _reconcile_at(monkeypatch, CANCELLED_AT + gemini.RECONCILE_GRACE, {call_id: "Bash"}, partial)
    assert [p["hook_event_name"] for p in found] == ["PermissionDenied"]


def test_reconcile_reads_no_chat_through_a_link_below_the_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    ecc_home = tmp_path / "ecc"
    ecc_home.mkdir(mode=0o700)
    monkeypatch.setenv("ECC_HOOKS_HOME", str(ecc_home))
    call_id = _before_shell(monkeypatch, CANCELLED_AT - 2.7)
    (ecc_home / "planted.jsonl").symlink_to(DECLINED)
    assert _reconcile_at(monkeypatch, CANCELLED_AT + 60, {call_id: "Bash"}, ecc_home / "planted.jsonl") == []


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=80),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                max_leaves=12,
            ).map(lambda v: json.dumps(v).encode()),
            st.sampled_from(DECLINED.read_bytes().splitlines()),
        ),
        max_size=8,
    )
)
def test_cancelled_calls_never_raises(lines: list[bytes]) -> None:
    calls, info_at = gemini.cancelled_calls(b"\n".join(lines))
    assert isinstance(info_at, float)
    assert all(isinstance(c["name"], str) and isinstance(c["at"], float) for c in calls)
