"""OpenCode's capture: the plugin's payloads as Claude-shaped ones, the plugin itself (run by node on the calls
OpenCode made in a real run), its install, a worker's capture and the usage read from OpenCode's database.

The fixtures in tests/fixtures/harness/opencode/ come from real ``opencode run`` turns (1.18.33) against the
scripted API, local paths replaced: ``plugin_calls.jsonl`` is every hook call and bus event OpenCode handed a
logging plugin, ``turn.jsonl``, ``permission_rejected.jsonl`` and ``api_error.jsonl`` what our plugin sent
(``tui_permission_allowed.jsonl``: the interactive TUI in tmux), and
``database_rows.json`` the turn's message rows and session totals from OpenCode's database.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.core.errors import UserError
from ecc_hooks.harness import opencode
from ecc_hooks.harness.context import InstallContext

FIXTURES = Path(__file__).parent / "fixtures" / "harness" / "opencode"
CLAUDE_EVENTS = {
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
    "PermissionDenied",
    "Stop",
    "StopFailure",
    "PostCompact",
    "SubagentStart",
    "SubagentStop",
}


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def mapped(name: str) -> list[dict[str, Any]]:
    return [out for out in (opencode.to_claude(p) for p in lines(name)) if out is not None]


# ---------------------------------------------------------------------------- to_claude on real payloads


def test_a_turn_maps_to_claudes_events_with_the_failing_command_a_failure() -> None:
    events = mapped("turn.jsonl")
    assert [e["hook_event_name"] for e in events] == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PreToolUse",
        "PostToolUseFailure",
        "Stop",
    ]
    session = lines("turn.jsonl")[0]["session_id"]
    assert {e["session_id"] for e in events} == {session}
    pre, post, failed = events[2], events[3], events[5]
    assert pre["tool_name"] == "Bash" and pre["tool_input"]["command"] == "echo hello"
    assert post["tool_use_id"] == pre["tool_use_id"] == "call_0"
    assert post["tool_response"]["exit_code"] == 0
    assert failed["tool_use_id"] == "call_1" and failed["error"] == "exit 3"
    assert events[-1]["last_assistant_message"] == "All done."
    assert events[0]["cwd"] == "/home/dev/proj"


def test_a_rejected_permission_is_a_request_then_a_denial_of_that_call() -> None:
    events = mapped("permission_rejected.jsonl")
    names = [e["hook_event_name"] for e in events]
    assert names == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUseFailure",  # a read of a missing file: the tool threw
        "PreToolUse",
        "PermissionRequest",
        "PermissionDenied",
        "PostToolUseFailure",
        "Stop",
    ]
    asked, denied = events[5], events[6]
    assert asked["tool_name"] == denied["tool_name"] == "Bash"
    assert asked["tool_input"] == {"command": "echo hi"}
    assert asked["tool_use_id"] == denied["tool_use_id"] == events[4]["tool_use_id"]
    assert events[3]["tool_name"] == "Read" and events[3]["tool_input"] == {"file_path": "/home/dev/proj/nope.txt"}


def test_an_api_error_is_a_stop_failure_with_opencodes_message() -> None:
    events = mapped("api_error.jsonl")
    assert [e["hook_event_name"] for e in events] == ["SessionStart", "UserPromptSubmit", "StopFailure"]
    assert events[-1]["error"] == "no route /nope/chat/completions"


def test_an_interactive_turn_waits_at_each_permission_and_ends_when_opencode_is_killed() -> None:
    events = mapped("tui_permission_allowed.jsonl")  # the TUI in tmux: "Allow once", then the server killed
    assert [e["hook_event_name"] for e in events] == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PermissionRequest",
        "PostToolUse",  # allowed: the reply itself records nothing
        "PreToolUse",
        "PermissionRequest",
        "Stop",  # OpenCode aborted the turn as it was killed (MessageAbortedError)
    ]
    assert events[3]["tool_use_id"] == events[2]["tool_use_id"] == events[4]["tool_use_id"]


def test_a_turn_the_user_stopped_is_no_failure() -> None:
    stopped = {"event": "session.error", "session_id": "s", "error": {"name": "MessageAbortedError", "message": "x"}}
    assert opencode.to_claude(stopped) == {"hook_event_name": "Stop", "session_id": "s"}


def test_an_approved_permission_records_nothing() -> None:
    asked = next(p for p in lines("permission_rejected.jsonl") if p["event"] == "permission.replied")
    assert opencode.to_claude({**asked, "reply": "once"}) is None
    assert opencode.to_claude({**asked, "reply": "always"}) is None


def test_a_child_sessions_events_are_its_parents_with_the_child_as_agent() -> None:
    base = {"session_id": "ses_child", "parent_id": "ses_root", "cwd": "/w"}
    start = opencode.to_claude({**base, "event": "session.created"})
    assert start == {
        "hook_event_name": "SubagentStart",
        "agent_type": "subagent",
        "session_id": "ses_root",
        "agent_id": "ses_child",
        "cwd": "/w",
    }
    assert opencode.to_claude({**base, "event": "chat.message", "prompt": "sub task"}) is None
    pre = opencode.to_claude({**base, "event": "tool.execute.before", "tool": "bash", "call_id": "c", "args": {}})
    assert pre is not None and pre["session_id"] == "ses_root" and pre["agent_id"] == "ses_child"
    stop = opencode.to_claude({**base, "event": "session.idle"})
    assert stop is not None and stop["hook_event_name"] == "SubagentStop"


def test_todos_and_file_arguments_take_claudes_names() -> None:
    todos = [{"content": "a", "status": "pending", "priority": "high", "id": "1"}, "junk"]
    out = opencode.to_claude(
        {
            "event": "tool.execute.before",
            "session_id": "s",
            "tool": "todowrite",
            "call_id": "c",
            "args": {"todos": todos},
        }
    )
    assert out is not None and out["tool_name"] == "TodoWrite"
    assert out["tool_input"]["todos"] == [{"content": "a", "status": "pending"}]
    edit = opencode.to_claude(
        {
            "event": "tool.execute.before",
            "session_id": "s",
            "tool": "edit",
            "args": {"filePath": "/a", "oldString": "x"},
        }
    )
    assert edit is not None and edit["tool_input"] == {"file_path": "/a", "old_string": "x"}


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "session.idle"},  # no session
        {"event": "nope", "session_id": "s"},
        {"event": ["session.idle"], "session_id": "s"},
        {"event": "session.idle", "session_id": 7},
        "not a dict",
    ],
)
def test_what_is_not_ours_is_dropped(payload: Any) -> None:
    assert opencode.to_claude(payload) is None


def test_relative_paths_from_the_plugin_are_not_kept() -> None:
    out = opencode.to_claude({"event": "session.idle", "session_id": "s", "cwd": "rel", "transcript_path": "../x"})
    assert out is not None and "cwd" not in out and "transcript_path" not in out


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from([*opencode.EVENTS, "other"]) | json_values,
        "session_id": st.text(max_size=300) | json_values,
        "parent_id": st.text(max_size=10) | json_values,
        "tool": st.sampled_from(["bash", "edit", "todowrite", "task"]) | json_values,
        "call_id": json_values,
        "args": json_values,
        "metadata": st.fixed_dictionaries({}, optional={"exit": json_values}) | json_values,
        "output": json_values,
        "error": json_values,
        "reply": st.sampled_from(["reject", "once"]) | json_values,
        "permission": json_values,
        "prompt": json_values,
        "last_message": json_values,
        "cwd": json_values,
        "transcript_path": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(payloads)
def test_to_claude_never_raises_and_gives_claudes_shape(payload: dict[str, Any]) -> None:
    out = opencode.to_claude(payload)
    if out is None:
        return
    assert out["hook_event_name"] in CLAUDE_EVENTS
    assert isinstance(out["session_id"], str) and 0 < len(out["session_id"]) <= opencode.ID_CAP
    for key in ("cwd", "transcript_path"):
        assert key not in out or (isinstance(out[key], str) and os.path.isabs(out[key]))
    if "tool_name" in out:
        assert isinstance(out["tool_name"], str) and isinstance(out["tool_input"], dict)
    json.dumps(out)


# ---------------------------------------------------------------------------- the plugin, run by node


def run_plugin(
    tmp_path: Path,
    calls: list[dict[str, Any]],
    hook: list[str] | None = None,
    on_exit: Callable[[list[str]], None] | None = None,
) -> list[dict[str, Any]]:
    """Load our plugin in node (OpenCode's runtime is Bun; the plugin uses node's APIs only), replay OpenCode's
    calls in order, and return what the hook command received, one payload per run."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    received = tmp_path / "received.jsonl"
    script = f"import sys; d = sys.stdin.read(); open({str(received)!r}, 'a').write(d.replace(chr(10), ' ') + chr(10))"
    plugin = tmp_path / "plugin.mjs"
    plugin.write_text(opencode.plugin_text(hook or [sys.executable, "-c", script]))
    (tmp_path / "calls.json").write_text(json.dumps(calls))
    driver = tmp_path / "driver.mjs"
    driver.write_text(
        f"""
import {{ readFileSync }} from "node:fs";
import {{ EccHooks }} from {json.dumps(str(plugin))};
const hooks = await EccHooks({{ directory: "/home/dev/proj" }});
for (const call of JSON.parse(readFileSync({json.dumps(str(tmp_path / "calls.json"))}, "utf8"))) {{
  if (call.kind === "event") await hooks.event({{ event: call.a }});
  else await hooks[call.kind](call.a, call.b);
}}
"""
    )
    scratch = tmp_path / "tmp"  # the plugin's payload files: none left once every hook has run
    scratch.mkdir()
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "TMPDIR": str(scratch)}
    done = subprocess.run([node, str(driver)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done
    expected = sum(1 for c in calls if c.get("expect"))
    if on_exit is not None:
        on_exit(received.read_text().splitlines() if received.exists() else [])
    deadline = time.monotonic() + 30  # the last children may still run after node exited
    got: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        got = [json.loads(x) for x in received.read_text().splitlines()] if received.exists() else []
        if len(got) >= expected and not any(scratch.iterdir()):
            break
        time.sleep(0.05)
    assert not any(scratch.iterdir())
    return got


def test_the_plugin_forwards_a_real_turns_calls_in_order(tmp_path: Path) -> None:
    calls = lines("plugin_calls.jsonl")
    forwarded = {"session.created", "session.idle"}
    for call in calls:
        kind = call["kind"]
        call["expect"] = kind != "event" or call["a"]["type"] in forwarded
    got = run_plugin(tmp_path, calls)
    assert [p["event"] for p in got] == [
        "session.created",
        "chat.message",
        "tool.execute.before",
        "tool.execute.after",
        "tool.execute.before",
        "tool.execute.after",
        "session.idle",
    ]
    assert got[3]["metadata"]["exit"] == 0 and got[5]["metadata"]["exit"] == 3
    assert got[-1]["last_message"] == "All done."  # the assistant's text, not the user's prompt
    assert got[0]["transcript_path"] == str(tmp_path / "data" / "opencode" / "opencode.db")
    assert [opencode.to_claude(p)["hook_event_name"] for p in got][-2:] == ["PostToolUseFailure", "Stop"]  # type: ignore[index]


def test_every_payload_is_handed_over_before_the_process_has_exited(tmp_path: Path) -> None:
    """OpenCode exits right after a run's last event: whoever watches it exit (the runtime) finds that event."""
    calls = lines("plugin_calls.jsonl")
    seen: list[list[str]] = []
    run_plugin(tmp_path, calls, on_exit=seen.append)
    assert len(seen[0]) == 7 and json.loads(seen[0][-1])["event"] == "session.idle"


def test_the_plugin_records_one_stop_per_turn_and_none_after_an_error(tmp_path: Path) -> None:
    session = "ses_x"
    idle = {"kind": "event", "a": {"type": "session.idle", "properties": {"sessionID": session}}}
    prompt = {"kind": "chat.message", "a": {"sessionID": session}, "b": {"message": {}, "parts": []}, "expect": True}
    error = {
        "kind": "event",
        "a": {
            "type": "session.error",
            "properties": {
                "sessionID": session,
                "error": {"name": "APIError", "data": {"message": "boom", "responseBody": "secret"}},
            },
        },
        "expect": True,
    }
    calls = [prompt, {**idle, "expect": True}, idle, prompt, error, idle, idle]
    got = run_plugin(tmp_path, calls)
    assert [p["event"] for p in got] == ["chat.message", "session.idle", "chat.message", "session.error"]
    assert got[-1]["error"] == {"name": "APIError", "message": "boom"}  # the response body stays behind


def test_a_hook_that_cannot_start_costs_nothing(tmp_path: Path) -> None:
    calls = lines("plugin_calls.jsonl")
    got = run_plugin(tmp_path, calls, hook=[str(tmp_path / "missing-binary")])
    assert got == []


def test_the_plugin_ships_in_the_package() -> None:
    import fnmatch

    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()  # tomllib is 3.11+; the line is JSON
    section = text[text.index("[tool.setuptools.package-data]") :]
    patterns = json.loads(next(x for x in section.splitlines() if x.startswith("ecc_hooks = ")).split("=", 1)[1])
    assert any(fnmatch.fnmatch(f"harness/{opencode.PLUGIN_SOURCE}", pattern) for pattern in patterns)


def test_the_hook_argv_is_a_json_literal_whatever_it_holds() -> None:
    argv = ['/x/"py', "-c", "'); process.exit(1); //\n", "\u2028"]
    text = opencode.plugin_text(argv)
    line = next(x for x in text.splitlines() if x.startswith("const HOOK = "))
    literal = line[len("const HOOK = ") : line.index("; // ecc-hooks")]
    assert json.loads(literal) == argv
    assert text.startswith(opencode.MARKER)


# ---------------------------------------------------------------------------- install, uninstall, worker


def context(home: Path, **kw: Any) -> InstallContext:
    saved: list[str] = []

    def backup(path: str) -> str:
        copy = f"{path}.bak"
        shutil.copyfile(path, copy)
        saved.append(copy)
        return copy

    return InstallContext(home=home, hook_argv=["/usr/bin/python3", "-S", "hook", "opencode"], backup=backup, **kw)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path


def test_install_writes_the_plugin_once_and_uninstall_removes_it(home: Path) -> None:
    target = home / ".config" / "opencode" / "plugin" / "ecc-hooks.js"
    assert opencode.install(context(home, dry_run=True)) == [f"would write {target}"]
    assert not target.exists()
    opencode.install(context(home))
    text = target.read_text()
    assert text.startswith(opencode.MARKER) and '["/usr/bin/python3", "-S", "hook", "opencode"]' in text
    assert "already installed" in opencode.install(context(home))[0]
    assert not list(target.parent.glob("*.bak"))
    opencode.uninstall(context(home))
    assert not target.exists()
    assert "no plugin" in opencode.uninstall(context(home))[0]


def test_install_follows_xdg_config_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    opencode.install(context(home))
    assert (home / "xdg" / "opencode" / "plugin" / "ecc-hooks.js").is_file()


def test_a_newer_install_backs_up_the_older_plugin(home: Path) -> None:
    opencode.install(context(home))
    target = home / ".config" / "opencode" / "plugin" / "ecc-hooks.js"
    target.write_text(target.read_text().replace("never blocks", "never, ever blocks"))
    said = opencode.install(context(home))
    assert any("saved as" in line for line in said)
    assert "never, ever" in (target.parent / "ecc-hooks.js.bak").read_text()
    assert "never, ever" not in target.read_text()


def test_a_foreign_file_of_our_name_is_kept_unless_forced(home: Path) -> None:
    target = home / ".config" / "opencode" / "plugin" / "ecc-hooks.js"
    target.parent.mkdir(parents=True)
    target.write_text("export const Mine = async () => ({})\n")
    with pytest.raises(UserError):
        opencode.install(context(home))
    assert "left alone" in opencode.uninstall(context(home))[0]
    assert target.read_text().startswith("export const Mine")
    opencode.install(context(home, force=True))
    assert target.read_text().startswith(opencode.MARKER)
    assert (target.parent / "ecc-hooks.js.bak").read_text().startswith("export const Mine")


def test_a_link_with_our_marker_is_not_ours(home: Path) -> None:
    real = home / "elsewhere.js"
    real.write_text(opencode.MARKER + "\n")
    target = home / ".config" / "opencode" / "plugin" / "ecc-hooks.js"
    target.parent.mkdir(parents=True)
    target.symlink_to(real)
    assert "left alone" in opencode.uninstall(context(home))[0]
    assert real.exists() and target.is_symlink()


def test_a_worker_loads_the_plugin_by_its_file_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENCODE_CONFIG_CONTENT", raising=False)
    capture = opencode.worker_capture(["/bin/hook", "opencode"], tmp_path, None)
    plugin = tmp_path / "ecc-hooks.js"
    assert capture.env == {"OPENCODE_CONFIG_CONTENT": json.dumps({"plugin": [plugin.as_uri()]})}
    assert capture.args == [] and capture.session_id is None
    assert plugin.read_text().startswith(opencode.MARKER) and '["/bin/hook", "opencode"]' in plugin.read_text()
    assert opencode.worker_capture(["/bin/hook", "opencode"], tmp_path, None) == capture  # a resume: the same


def test_a_workers_own_config_content_keeps_its_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCODE_CONFIG_CONTENT", json.dumps({"plugin": ["theirs"], "model": "a/b"}))
    capture = opencode.worker_capture(["/bin/hook"], tmp_path, None)
    config = json.loads(capture.env["OPENCODE_CONFIG_CONTENT"])
    assert config == {"plugin": ["theirs", (tmp_path / "ecc-hooks.js").as_uri()], "model": "a/b"}


def test_config_content_we_cannot_read_is_kept_and_a_config_folder_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENCODE_CONFIG_CONTENT", '{ // a comment: JSONC\n "model": "a/b" }')
    capture = opencode.worker_capture(["/bin/hook", "opencode"], tmp_path, None)
    assert capture.env == {"OPENCODE_CONFIG_DIR": str(tmp_path)}
    assert (tmp_path / "plugin" / "ecc-hooks.js").read_text().startswith(opencode.MARKER)
    lock = json.loads((tmp_path / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == {"@opencode-ai/plugin": "*"}  # OpenCode installs nothing here
    assert (tmp_path / "node_modules").is_dir()


# ---------------------------------------------------------------------------- usage from OpenCode's database

SCHEMA = """
CREATE TABLE session (id text PRIMARY KEY, parent_id text, cost real DEFAULT 0 NOT NULL);
CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL, time_created integer NOT NULL,
                      time_updated integer NOT NULL, data text NOT NULL);
"""


def database(path: Path, rows: list[tuple[str, str, int, str]], sessions: list[tuple[str, str | None]]) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    connection.executemany("INSERT INTO session (id, parent_id) VALUES (?, ?)", sessions)
    connection.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?)", [(i, s, t, t, d) for i, s, t, d in rows])
    connection.commit()
    connection.close()
    return path


def real_database(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    fixture = json.loads((FIXTURES / "database_rows.json").read_text())
    rows = [(m["id"], fixture["session_id"], m["time_created"], m["data"]) for m in fixture["messages"]]
    return database(tmp_path / "opencode.db", rows, [(fixture["session_id"], None)]), fixture


def test_usage_equals_opencodes_own_session_totals(tmp_path: Path) -> None:
    path, fixture = real_database(tmp_path)
    before = path.read_bytes()
    usage = opencode.read_usage(fixture["session_id"], str(path), {})
    assert usage is not None
    totals = fixture["session"]
    assert usage.tokens["input"] == totals["tokens_input"] == 350
    assert usage.tokens["output"] == totals["tokens_output"] == 60
    assert usage.tokens["cache_read"] == totals["tokens_cache_read"] == 100
    assert usage.cost.statusline_reported_usd == Decimal(repr(totals["cost"])) == Decimal("0.00052")
    assert usage.context.used_tokens == 150 + 50  # the last request: uncached plus cached prompt
    assert usage.messages == 3
    assert path.read_bytes() == before  # read-only


def test_usage_counts_a_subagents_session_and_finds_the_database_by_opencodes_rule(tmp_path: Path) -> None:
    data = tmp_path / "data" / "opencode"
    data.mkdir(parents=True)
    reply = {"role": "assistant", "modelID": "m", "tokens": {"input": 10, "output": 2, "cache": {}}, "cost": 0.5}
    rows = [
        ("m1", "root", 1, json.dumps(reply)),
        ("m2", "child", 2, json.dumps(reply)),
        ("m3", "other", 3, json.dumps(reply)),
    ]
    database(data / "opencode.db", rows, [("root", None), ("child", "root"), ("other", None)])
    usage = opencode.read_usage("root", None, {"XDG_DATA_HOME": str(tmp_path / "data")})
    assert usage is not None and usage.tokens["input"] == 20 and usage.cost.statusline_reported_usd == Decimal("1.0")
    named = opencode.read_usage("root", None, {"HOME": "/nowhere", "OPENCODE_DB": str(data / "opencode.db")})
    assert named is not None and named.messages == 2


def test_a_reply_opencode_priced_at_zero_is_not_a_reported_cost(tmp_path: Path) -> None:
    reply = {"role": "assistant", "modelID": "not-in-any-table", "tokens": {"input": 10, "output": 2}, "cost": 0}
    path = database(tmp_path / "o.db", [("m1", "s", 1, json.dumps(reply))], [("s", None)])
    usage = opencode.read_usage("s", str(path), {})
    assert usage is not None
    assert usage.cost.statusline_reported_usd is None and usage.cost.computed_usd is None  # unknown, never $0


def test_no_database_or_no_session_is_no_usage(tmp_path: Path) -> None:
    assert opencode.read_usage("s", str(tmp_path / "missing.db"), {"HOME": str(tmp_path)}) is None
    path, _ = real_database(tmp_path)
    assert opencode.read_usage("ses_unknown", str(path), {}) is None
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all")
    assert opencode.read_usage("s", str(tmp_path / "junk.db"), {}) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | json_values.map(json.dumps))
def test_a_stored_message_never_breaks_the_reader(data: str) -> None:
    found = opencode.message_of(data)
    if found is not None:
        message, prompt = found
        assert min(message.input, message.output, message.cache_read, message.cache_write) >= 0
        assert message.reported_usd is None or message.reported_usd > 0
        assert prompt is None or prompt > 0
