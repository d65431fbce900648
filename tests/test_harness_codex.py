"""Codex's harness module against what the pinned Codex (0.171.0) really wrote: its hook payloads, its rollout and
its own ``hooks/list`` trust hashes (tests/fixtures/harness/codex/, captured offline, local paths replaced).

- ``to_claude``: Claude Code's shape, the turn id as the prompt id, a failing command (exit code in the rollout)
  as ``PostToolUseFailure``, ``Interrupt`` and the ``notify`` form as ``Stop``; never raises (hypothesis).
- the trust hash equals the binary's ``currentHash`` for every event, the command quoting included;
- install/uninstall: idempotent, in place, the user's entries and trust kept, malformed files refused untouched,
  trust written only with consent;
- the rollout reader: per-request tokens summing to the rollout's own totals, the window and the last prompt.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks import harness
from ecc_hooks.core.errors import UserError
from ecc_hooks.harness import codex
from tests.helpers import REPO

tomllib = codex.toml_module()

FIXTURES = REPO / "tests" / "fixtures" / "harness" / "codex"
ROLLOUT = FIXTURES / "rollout-2026-12-07T19-04-23-01a251e4-9254-7521-946b-44b9511ba6f0.jsonl"
# the interactive session of interactive_approve_interrupt.jsonl (approved, then the next call interrupted)
INTERACTIVE = FIXTURES / "rollout-2026-12-07T19-17-37-01a251f0-aca8-75d1-8a4a-430767e6e740.jsonl"
SESSION = "01a251e4-9254-7521-946b-44b9511ba6f0"
# the hook command the captured hooks_list.json was made from (a launcher in a folder with a space, quoted)
HOOK_ARGV = [
    "/opt/ecc hooks/.venv/bin/python3",
    "-S",
    "-c",
    "import sys; sys.path[:0] = ['/opt/ecc hooks']; from ecc_hooks.capture.client import main; main()",
    "/opt/ecc hooks",
    "codex",
]


def payloads() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / "hooks.jsonl").read_text().splitlines() if line.strip()]


def with_rollout(payload: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The payload with its transcript_path pointing at a copy of the captured rollout."""
    copy = tmp_path / ROLLOUT.name
    if not copy.exists():
        shutil.copy(ROLLOUT, copy)
    return dict(payload, transcript_path=str(copy))


def ctx(home: Path, consent: bool = False, dry_run: bool = False, backups: list[Path] | None = None) -> Any:
    made = backups if backups is not None else []

    def backup(path: str) -> str:
        target = f"{path}.bak{len(made)}"
        shutil.copy(path, target)
        made.append(Path(path))
        return target

    return harness.InstallContext(
        home=home,
        hook_argv=HOOK_ARGV,
        consent=consent,
        dry_run=dry_run,
        backup=backup,
    )


def harness_shell(argv: list[str]) -> str:
    import shlex

    return shlex.join(argv)


@pytest.fixture(autouse=True)
def _no_codex_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_HOME", raising=False)


# ---------------------------------------------------------------------------- to_claude


def test_the_captured_payloads_become_claude_code_events(tmp_path: Path) -> None:
    events = [codex.to_claude(with_rollout(p, tmp_path)) for p in payloads()]
    assert all(e is not None for e in events)
    names = [e["hook_event_name"] for e in events if e]
    assert names == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PreToolUse",
        "PostToolUseFailure",
        "Stop",
        "SessionEnd",
    ]
    assert {e["session_id"] for e in events if e} == {SESSION}
    turn = payloads()[1]["turn_id"]
    assert [e.get("prompt_id") for e in events if e][1:7] == [turn] * 6
    shell = [e for e in events if e and e.get("tool_name") == "Bash"]
    assert [e["tool_input"]["command"] for e in shell] == ["echo hello", "echo hello", "exit 3", "exit 3"]


def test_a_failing_command_takes_its_exit_code_from_the_rollout(tmp_path: Path) -> None:
    failing = with_rollout(payloads()[5], tmp_path)
    assert failing["hook_event_name"] == "PostToolUse" and failing["tool_use_id"] == "call_1"
    event = codex.to_claude(failing)
    assert event is not None
    assert event["hook_event_name"] == "PostToolUseFailure"
    assert event["error"] == "Exit code 3"
    ok = codex.to_claude(with_rollout(payloads()[3], tmp_path))
    assert ok is not None and ok["hook_event_name"] == "PostToolUse" and "error" not in ok


def test_without_the_rollout_a_call_stays_a_post_tool_use(tmp_path: Path) -> None:
    failing = payloads()[5]
    for path in (str(tmp_path / ROLLOUT.name), str(tmp_path / "other.jsonl"), None, 7):
        event = codex.to_claude(dict(failing, transcript_path=path))
        assert event is not None and event["hook_event_name"] == "PostToolUse"
    # a file that is not a rollout is never read, whatever it holds
    impostor = tmp_path / "notes.jsonl"
    shutil.copy(ROLLOUT, impostor)
    event = codex.to_claude(dict(failing, transcript_path=str(impostor)))
    assert event is not None and event["hook_event_name"] == "PostToolUse"


def test_the_output_goes_with_the_exit_code(tmp_path: Path) -> None:
    rollout = tmp_path / "rollout-x.jsonl"
    item = {"type": "CommandExecution", "id": "call_9", "status": "failed", "exit_code": 2}
    rollout.write_text(json.dumps({"type": "event_msg", "payload": {"type": "item_completed", "item": item}}) + "\n")
    payload = dict(payloads()[5], tool_use_id="call_9", tool_response="no such file\n", transcript_path=str(rollout))
    event = codex.to_claude(payload)
    assert event is not None and event["error"] == "Exit code 2\nno such file\n"


def test_interrupt_and_notify_end_the_turn() -> None:
    interrupt = {
        "session_id": SESSION,
        "turn_id": "t1",
        "hook_event_name": "Interrupt",
        "cwd": "/home/user/project",
        "model": "gpt-5",
        "permission_mode": "default",
        "transcript_path": None,
    }
    event = codex.to_claude(interrupt)
    assert event is not None and event["hook_event_name"] == "Stop" and event["prompt_id"] == "t1"
    notify = {
        "type": "agent-turn-complete",
        "thread-id": SESSION,
        "turn-id": "t2",
        "cwd": "/p",
        "input-messages": ["hi"],
        "last-assistant-message": "Done.",
    }
    assert codex.to_claude(notify) == {
        "hook_event_name": "Stop",
        "session_id": SESSION,
        "prompt_id": "t2",
        "cwd": "/p",
        "last_assistant_message": "Done.",
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["hook_event_name", "session_id", "turn_id", "tool_name", "tool_use_id", "tool_input", "transcript_path", "type"]
    + ["thread-id"]
)
VALUES = (
    st.sampled_from(["PostToolUse", "PermissionRequest", "PreToolUse", "Interrupt", "Bash", "call_1", None, 3])
    | st.sampled_from(["agent-turn-complete", {"command": "exit 3"}, {"command": "apply_patch <<EOF"}])
    | JSON
)


# rollout-like lines: function calls, outputs and finished items with odd values where Codex has its own
ROLLOUT_LINES = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["response_item", "event_msg"]),
            "payload": st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["function_call", "function_call_output", "item_completed"]),
                    "call_id": VALUES,
                    "arguments": st.sampled_from(['{"cmd": "exit 3"}', "[1]", "{", "null"]) | VALUES,
                    "item": VALUES,
                }
            ),
        }
    ),
    max_size=5,
).map(lambda records: "\n".join(json.dumps(r) for r in records).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(KEYS, VALUES, max_size=8) | JSON, st.binary(max_size=300) | ROLLOUT_LINES)
def test_to_claude_never_raises(tmp_path: Path, payload: Any, rollout: bytes) -> None:
    path = tmp_path / "rollout-h.jsonl"
    path.write_bytes(rollout)
    if isinstance(payload, dict) and "transcript_path" in payload:
        payload["transcript_path"] = str(path)
    event = codex.to_claude(payload)
    assert event is None or isinstance(event.get("hook_event_name"), str)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["type", "id", "status", "exit_code"]), VALUES), max_size=5))
def test_finished_command_reads_any_rollout_lines(tmp_path_factory: pytest.TempPathFactory, items: list[Any]) -> None:
    path = tmp_path_factory.mktemp("r") / "rollout-p.jsonl"
    lines = [json.dumps({"payload": {"type": "item_completed", "item": item}}) + " call_1" for item in items]
    path.write_text("\n".join(lines))
    found = codex.finished_command(str(path), "call_1")
    assert found is None or (found["id"] == "call_1" and found["type"] == "CommandExecution")


# ---------------------------------------------------------------------------- trust


def test_the_trust_hash_is_the_binarys_own() -> None:
    listed = json.loads((FIXTURES / "hooks_list.json").read_text())["hooks"]
    labels = {label: event for event, label in codex.EVENTS}
    assert sorted(labels[h["key"].split(":")[-3]] for h in listed) == sorted(event for event, _ in codex.EVENTS)
    for hook in listed:
        event = labels[hook["key"].split(":")[-3]]
        assert hook["timeoutSec"] == codex.timeout_of(event)
        assert codex.trust_hash(event, hook["command"], codex.timeout_of(event)) == hook["currentHash"], event
    # and the command we register is the one the binary hashed (quoting and marker included)
    assert {h["command"] for h in listed} == {harness_shell(HOOK_ARGV) + " " + codex.MARKER}


# ---------------------------------------------------------------------------- install / uninstall


def codex_files(home: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    hooks = json.loads((home / ".codex" / "hooks.json").read_text())
    config_path = home / ".codex" / "config.toml"
    config = tomllib.loads(config_path.read_text()) if config_path.exists() else {}
    return hooks, config


def test_install_registers_every_event_and_trusts_it_with_consent(tmp_path: Path) -> None:
    lines = codex.install(ctx(tmp_path, consent=True))
    hooks, config = codex_files(tmp_path)
    command = harness_shell(HOOK_ARGV) + " " + codex.MARKER
    assert set(hooks["hooks"]) == {event for event, _ in codex.EVENTS}
    state = config["hooks"]["state"]
    for event, _label in codex.EVENTS:
        assert hooks["hooks"][event] == [{"hooks": [codex.handler(event, command)]}]
        key = codex.trust_key(str(tmp_path / ".codex" / "hooks.json"), event, 0)
        assert state[key] == {"trusted_hash": codex.trust_hash(event, command, codex.timeout_of(event))}
    assert any("trusted" in line for line in lines)
    before = [p.read_bytes() for p in sorted((tmp_path / ".codex").iterdir())]
    again = codex.install(ctx(tmp_path, consent=True))
    assert [p.read_bytes() for p in sorted((tmp_path / ".codex").iterdir())] == before
    assert all("already" in line for line in again)


def test_without_consent_no_trust_is_written_and_the_user_is_told(tmp_path: Path) -> None:
    lines = codex.install(ctx(tmp_path))
    assert (tmp_path / ".codex" / "hooks.json").exists()
    assert not (tmp_path / ".codex" / "config.toml").exists()
    assert any("--trust" in line for line in lines) and any("/hooks" in line for line in lines)


def test_the_users_own_hooks_and_config_are_kept(tmp_path: Path) -> None:
    home = tmp_path / ".codex"
    home.mkdir()
    user_hooks = {
        "hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
            "PreToolUse": [{"matcher": "^Bash$", "hooks": [{"type": "command", "command": "guard"}]}],
        }
    }
    (home / "hooks.json").write_text(json.dumps(user_hooks))
    user_config = (
        'model = "o3"  # mine\n\n[hooks.state."' + str(home / "hooks.json") + ':stop:0:0"]\n'
        'trusted_hash = "sha256:abc"\nenabled = true\n'
    )
    (home / "config.toml").write_text(user_config)
    backups: list[Path] = []
    codex.install(ctx(tmp_path, consent=True, backups=backups))
    assert sorted(p.name for p in backups) == ["config.toml", "hooks.json"]
    hooks, config = codex_files(tmp_path)
    assert hooks["hooks"]["Stop"][0] == user_hooks["hooks"]["Stop"][0]
    assert hooks["hooks"]["PreToolUse"][0] == user_hooks["hooks"]["PreToolUse"][0]
    assert len(hooks["hooks"]["Stop"]) == 2  # ours after theirs: their trust key (group 0) still names their hook
    text = (home / "config.toml").read_text()
    assert text.startswith(user_config)
    assert config["model"] == "o3"
    assert config["hooks"]["state"][f"{home / 'hooks.json'}:stop:0:0"] == {
        "trusted_hash": "sha256:abc",
        "enabled": True,
    }
    assert f"{home / 'hooks.json'}:stop:1:0" in config["hooks"]["state"]

    codex.uninstall(ctx(tmp_path))
    hooks, config = codex_files(tmp_path)
    assert hooks == user_hooks
    assert (home / "config.toml").read_text().rstrip("\n") == user_config.rstrip("\n")


def test_uninstall_moves_the_trust_of_the_users_hooks_that_moved_up(tmp_path: Path) -> None:
    codex.install(ctx(tmp_path, consent=True))
    home = tmp_path / ".codex"
    hooks = json.loads((home / "hooks.json").read_text())
    hooks["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "mine"}]})  # added after ours
    (home / "hooks.json").write_text(json.dumps(hooks))
    with (home / "config.toml").open("a") as out:
        out.write(f'\n[hooks.state."{home / "hooks.json"}:stop:1:0"]\ntrusted_hash = "sha256:mine"\n')
    codex.uninstall(ctx(tmp_path))
    hooks, config = codex_files(tmp_path)
    assert hooks["hooks"] == {"Stop": [{"hooks": [{"type": "command", "command": "mine"}]}]}
    assert config["hooks"]["state"] == {f"{home / 'hooks.json'}:stop:0:0": {"trusted_hash": "sha256:mine"}}


def test_a_hook_group_shared_with_the_user_keeps_their_handler(tmp_path: Path) -> None:
    home = tmp_path / ".codex"
    home.mkdir()
    ours = {"type": "command", "command": "/old/path/hook codex # ecc-hooks"}
    theirs = {"type": "command", "command": "mine"}
    (home / "hooks.json").write_text(json.dumps({"hooks": {"Stop": [{"hooks": [theirs, ours]}]}}))
    codex.install(ctx(tmp_path))
    hooks, _ = codex_files(tmp_path)
    command = harness_shell(HOOK_ARGV) + " " + codex.MARKER
    assert hooks["hooks"]["Stop"] == [{"hooks": [theirs]}, {"hooks": [codex.handler("Stop", command)]}]


@pytest.mark.parametrize(
    "name, content",
    [
        ("hooks.json", "{not json"),
        ("hooks.json", "[1, 2]"),
        ("hooks.json", '{"hooks": {"Stop": {"a": 1}}}'),
        ("config.toml", "model = \n"),
        ("config.toml", "hooks = { state = { } }\n"),
    ],
)
def test_a_malformed_file_is_refused_and_nothing_is_written(tmp_path: Path, name: str, content: str) -> None:
    home = tmp_path / ".codex"
    home.mkdir()
    (home / name).write_text(content)
    with pytest.raises(UserError):
        codex.install(ctx(tmp_path, consent=True))
    assert sorted(p.name for p in home.iterdir()) == [name]
    assert (home / name).read_text() == content


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    lines = codex.install(ctx(tmp_path, consent=True, dry_run=True))
    assert not (tmp_path / ".codex").exists()
    assert all("dry run" in line for line in lines)


def test_codex_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "elsewhere"))
    codex.install(ctx(tmp_path))
    assert (tmp_path / "elsewhere" / "hooks.json").exists()
    assert not (tmp_path / ".codex").exists()


def test_trust_keys_name_the_hooks_file_as_codex_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured with the pinned binary's hooks/list: ``$CODEX_HOME`` is canonicalized (a link resolved, a relative
    path made absolute), ``~/.codex`` is taken as it is, a link included."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "link"))
    codex.install(ctx(tmp_path, consent=True))
    keys = list(codex.toml_module().loads((tmp_path / "real" / "config.toml").read_text())["hooks"]["state"])
    assert keys and all(key.startswith(f"{tmp_path.resolve() / 'real' / 'hooks.json'}:") for key in keys)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CODEX_HOME", "real")
    assert codex.codex_home(tmp_path) == tmp_path.resolve() / "real"
    monkeypatch.delenv("CODEX_HOME")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".codex").symlink_to(tmp_path / "real")
    assert codex.codex_home(tmp_path / "home") == tmp_path / "home" / ".codex"


# ---------------------------------------------------------------------------- runtime workers


def test_a_worker_gets_trusted_hooks_as_config_overrides(tmp_path: Path) -> None:
    capture = codex.worker_capture(HOOK_ARGV, tmp_path, None)
    assert capture.session_id is None and capture.env == {}
    assert "--dangerously-bypass-hook-trust" not in capture.args
    overrides = dict(arg.split("=", 1) for arg in capture.args[1::2])
    assert capture.args[0::2] == ["-c"] * len(overrides)
    command = harness_shell(HOOK_ARGV) + " " + codex.MARKER
    state = tomllib.loads("v = " + overrides.pop("hooks.state"))["v"]
    for event, _label in codex.EVENTS:
        groups = tomllib.loads("v = " + overrides.pop(f"hooks.{event}"))["v"]
        assert groups == [{"hooks": [codex.handler(event, command)]}]
        key = codex.trust_key(codex.SESSION_FLAGS_SOURCE, event, 0)
        assert state[key] == {"trusted_hash": codex.trust_hash(event, command, codex.timeout_of(event))}
    assert overrides == {}
    assert list(tmp_path.iterdir()) == []  # nothing written: no private CODEX_HOME, the user's login as it is


# ---------------------------------------------------------------------------- the rollout


def test_the_rollout_gives_each_requests_tokens_the_window_and_the_last_prompt() -> None:
    requests, window, context = codex.rollout_usage(ROLLOUT.read_bytes())
    assert [
        (r["input_tokens"], r["cached_input_tokens"], r["output_tokens"], r["reasoning_output_tokens"])
        for r in requests
    ] == [
        (100, 40, 10, 3),
        (200, 80, 20, 5),
        (300, 150, 30, 7),
    ]
    assert {r["model"] for r in requests} == {"gpt-5"}
    assert all(isinstance(r["at"], float) for r in requests)
    assert window == 258400
    assert context == 300


def test_a_repeated_token_count_adds_nothing() -> None:
    lines = ROLLOUT.read_bytes().splitlines()
    counts = [line for line in lines if b'"token_count"' in line]
    requests, _, _ = codex.rollout_usage(b"\n".join(lines + counts[-1:] + counts[-1:]))
    assert len(requests) == 3


def test_the_rollout_is_found_by_session_id(tmp_path: Path) -> None:
    day = tmp_path / ".codex" / "sessions" / "2026" / "12" / "07"
    day.mkdir(parents=True)
    shutil.copy(ROLLOUT, day / ROLLOUT.name)
    assert codex.find_rollout(SESSION, {"HOME": str(tmp_path)}) == str(day / ROLLOUT.name)
    assert codex.find_rollout(SESSION, {"CODEX_HOME": str(tmp_path / "none"), "HOME": str(tmp_path)}) is None
    assert codex.find_rollout("*", {"HOME": str(tmp_path)}) is None


TOTALS = st.lists(st.tuples(*[st.integers(0, 10**6)] * 4), max_size=8)


@settings(deadline=None)  # no wall-clock limits in unit tests
@given(TOTALS)
def test_the_requests_sum_to_the_last_total(steps: list[tuple[int, int, int, int]]) -> None:
    totals, running = [], [0, 0, 0, 0]
    for step in steps:
        running = [a + b for a, b in zip(running, step)]
        totals.append(list(running))
    keys = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
    lines = [
        json.dumps(
            {"type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": dict(zip(keys, t))}}}
        )
        for t in totals
    ]
    requests, _, _ = codex.rollout_usage("\n".join(lines).encode())
    for index, key in enumerate(keys):
        assert sum(r[key] for r in requests) == (totals[-1][index] if totals else 0)


@settings(deadline=None)
@given(st.binary(max_size=2000) | st.lists(JSON, max_size=6).map(lambda xs: "\n".join(map(json.dumps, xs)).encode()))
def test_the_rollout_reader_takes_any_bytes(data: bytes) -> None:
    requests, window, context = codex.rollout_usage(data + b'\n{"type":"event_msg","payload":{"type":"token_count"}}')
    assert isinstance(requests, list)
    assert window is None or window >= 0
    assert context is None or context >= 0


def test_read_usage_equals_the_rollouts_own_totals(tmp_path: Path) -> None:
    usage = codex.read_usage(SESSION, str(ROLLOUT), {})
    assert usage is not None
    last_total = [json.loads(line) for line in ROLLOUT.read_text().splitlines() if '"token_count"' in line][-1]
    total = last_total["payload"]["info"]["total_token_usage"]
    (model,) = usage.models
    assert model.model == "gpt-5"
    assert model.tokens["input"] + model.tokens["cache_read"] == total["input_tokens"]
    assert model.tokens["cache_read"] == total["cached_input_tokens"]
    assert model.tokens["output"] == total["output_tokens"]
    assert model.tokens["reasoning"] == total["reasoning_output_tokens"]
    assert usage.context.window == 258400 and usage.context.used_tokens == 300
    # found by its id when the journal names no transcript
    day = tmp_path / "sessions" / "2026" / "12" / "07"
    day.mkdir(parents=True)
    shutil.copy(ROLLOUT, day / ROLLOUT.name)
    again = codex.read_usage(SESSION, None, {"CODEX_HOME": str(tmp_path)})
    assert again is not None and again.models[0].tokens == model.tokens
    assert codex.read_usage("01a251e4-0000-0000-0000-000000000000", None, {"CODEX_HOME": str(tmp_path)}) is None


# ---------------------------------------------------------------------------- interactive sessions, folded


def folded(name: str, upto: str | None = None) -> Any:
    """The fold of a captured interactive session (to_claude, then the shared normalizer), up to the first ``upto``."""
    from ecc_hooks.capture.normalize import normalize
    from ecc_hooks.hud import aggregate

    events = []
    for index, line in enumerate((FIXTURES / name).read_text().splitlines()):
        shaped = codex.to_claude(json.loads(line))
        assert shaped is not None
        events.append(normalize(shaped, 1_796_671_000.0 + index, harness="codex"))
        if shaped["hook_event_name"] == upto or json.loads(line)["hook_event_name"] == upto:
            break
    return aggregate.fold_all(events), events


def test_a_permission_prompt_is_a_wait_and_an_interrupt_ends_the_turn() -> None:
    state, events = folded("interactive_approve_interrupt.jsonl", upto="PermissionRequest")
    assert events[-1]["event"] == "PermissionRequest" and events[-1]["harness"] == "codex"
    assert state.turn_state == "waiting" and state.waiting_for == "permission to use Bash"
    state, events = folded("interactive_approve_interrupt.jsonl", upto="Interrupt")
    assert events[-1]["event"] == "Stop"
    assert state.turn_state == "idle" and state.waiting_for is None
    state, _ = folded("interactive_decline.jsonl", upto="Interrupt")  # declining at the prompt interrupts the turn
    assert state.turn_state == "idle" and state.waiting_for is None


def test_a_growing_rollout_is_read_from_where_the_last_read_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ROLLOUT.read_bytes().splitlines(keepends=True)
    path = tmp_path / ROLLOUT.name
    path.write_bytes(b"".join(lines[:14]))  # up to the first token_count
    fed: list[int] = []
    feed = codex.RolloutReader.feed
    monkeypatch.setattr(codex.RolloutReader, "feed", lambda self, data: (fed.append(len(data)), feed(self, data))[1])
    first = codex.read_usage(SESSION, str(path), {})
    assert first is not None and first.tokens["output"] == 10
    with path.open("ab") as out:
        out.write(b"".join(lines[14:]))
    second = codex.read_usage(SESSION, str(path), {})
    assert second is not None and second.tokens == codex.read_usage(SESSION, str(ROLLOUT), {}).tokens  # type: ignore[union-attr]
    assert fed[:2] == [len(b"".join(lines[:14])), len(b"".join(lines[14:]))]  # the appended part only
    replaced = tmp_path / "other.jsonl"
    replaced.write_bytes(b"".join(lines[:14]))
    replaced.replace(path)  # a new file under the same name: read from its start
    third = codex.read_usage(SESSION, str(path), {})
    assert third is not None and third.tokens == first.tokens


def test_a_patch_codex_applies_itself_is_never_left_pending() -> None:
    """Codex runs ``apply_patch <<'EOF'`` itself: PreToolUse, then no PostToolUse (captured); the fold must not keep
    the call pending (a stale call, a risk after ten minutes); the command after it is paired as before."""
    state, events = folded("apply_patch.jsonl")
    patch = events[2]
    assert patch["event"] == "PreToolUse" and patch["input"]["command"].startswith("apply_patch <<'EOF'")
    assert "toolUseId" not in patch
    assert state.pending == {}
    assert [e.get("toolUseId") for e in events if e["event"] in ("PreToolUse", "PostToolUse")] == [
        None,
        "call_1",
        "call_1",
    ]


@pytest.mark.parametrize(
    "command, intercepted",
    [
        ("apply_patch <<'EOF'\n*** Begin Patch", True),
        ("  applypatch <<EOF", True),
        ("cd sub && apply_patch <<'EOF'", True),
        ("apply_patch<<'EOF'", True),
        ("echo apply_patch", False),
        ("apply_patches", False),
        ("cd sub; apply_patch", False),
    ],
)
def test_which_commands_codex_intercepts_as_patches(command: str, intercepted: bool) -> None:
    payload = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": command}}
    assert codex.is_intercepted_patch(payload) is intercepted


def test_a_permission_request_names_the_call_that_waits(tmp_path: Path) -> None:
    """At each prompt the rollout holds the call, not yet its output: Codex's PermissionRequest gets that call's id."""
    lines = INTERACTIVE.read_text().splitlines(keepends=True)
    payloads = [
        json.loads(line) for line in (FIXTURES / "interactive_approve_interrupt.jsonl").read_text().splitlines()
    ]
    requests = [p for p in payloads if p["hook_event_name"] == "PermissionRequest"]
    rollout = tmp_path / INTERACTIVE.name
    for request, upto, call_id in ((requests[0], 10, "call_0"), (requests[1], 15, "call_1")):
        rollout.write_text("".join(lines[:upto]))  # the rollout as it was at that prompt
        event = codex.to_claude(dict(request, transcript_path=str(rollout)))
        assert event is not None and event["tool_use_id"] == call_id
    rollout.write_text("".join(lines))  # answered since: no call waits
    event = codex.to_claude(dict(requests[0], transcript_path=str(rollout)))
    assert event is not None and "tool_use_id" not in event


def test_a_linked_config_keeps_its_link(tmp_path: Path) -> None:
    dots = tmp_path / "dotfiles"
    dots.mkdir()
    (dots / "config.toml").write_text('model = "o3"\n')
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex" / "config.toml").symlink_to(dots / "config.toml")
    codex.install(ctx(tmp_path, consent=True))
    assert (tmp_path / ".codex" / "config.toml").is_symlink()
    assert tomllib.loads((dots / "config.toml").read_text())["hooks"]["state"]


# ---------------------------------------------------------------------------- credentials


PROVIDER = '[model_providers.fake]\nname = "fake"\nbase_url = "http://127.0.0.1:1/v1"\nenv_key = "FAKE_KEY"\n'


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ('model_provider = "fake"\n' + PROVIDER, ("FAKE_KEY",)),
        ('profile = "p"\n[profiles.p]\nmodel_provider = "fake"\n' + PROVIDER, ("FAKE_KEY",)),
        (PROVIDER, ()),  # defined, not chosen: Codex's own provider (a login or OPENAI_API_KEY)
        ('model_provider = "openai"\n', ()),
        ('model_provider = "fake"\n' + PROVIDER.replace("FAKE_KEY", "A B; rm -rf ~"), ()),  # no shell name
        ('model_provider = "fake"\n' + PROVIDER + "[oops\n", ()),  # not TOML: the login check is kept
        ("", ()),
    ],
)
def test_a_provider_of_the_users_own_names_its_key_as_credentials(tmp_path: Path, config: str, named: Any) -> None:
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex" / "config.toml").write_text(config)
    assert codex.auth_env({"HOME": str(tmp_path)}) == named
    assert codex.auth_env({"HOME": str(tmp_path / "none")}) == ()


def test_the_provider_is_read_from_codex_home(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('model_provider = "fake"\n' + PROVIDER)
    assert codex.auth_env({"HOME": str(tmp_path / "none"), "CODEX_HOME": str(tmp_path)}) == ("FAKE_KEY",)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_config_names_a_shell_variable_or_nothing(tmp_path: Path, config: bytes) -> None:
    import re

    (tmp_path / "config.toml").write_bytes(config)
    named = codex.auth_env({"CODEX_HOME": str(tmp_path)})
    assert all(re.fullmatch(r"[A-Za-z_]\w*", n) for n in named)


# ---------------------------------------------------------------------------- what install created


def ecc_cli(home: Path, *args: str) -> str:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CODEX_HOME"}
    env.update(HOME=str(home), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "ecc_hooks", *args], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_uninstall_removes_the_files_install_created_once_nothing_else_is_in_them(
    tmp_path: Path, ecc_home: Path
) -> None:
    codex_dir = tmp_path / ".codex"
    ecc_cli(tmp_path, "install", "--harness", "codex", "--trust")
    assert sorted(p.name for p in codex_dir.iterdir()) == ["config.toml", "hooks.json"]
    said = ecc_cli(tmp_path, "uninstall", "--harness", "codex")
    assert sorted(p.name for p in codex_dir.iterdir()) == [], said
    assert "install created it" in said
    # a file the user had before, or added to since, stays with what is theirs
    (codex_dir / "config.toml").write_text('model = "gpt-5"\n')
    ecc_cli(tmp_path, "install", "--harness", "codex", "--trust")
    hooks = json.loads((codex_dir / "hooks.json").read_text())
    hooks["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "my-own-hook"}]})
    (codex_dir / "hooks.json").write_text(json.dumps(hooks))
    ecc_cli(tmp_path, "uninstall", "--harness", "codex")
    assert tomllib.loads((codex_dir / "config.toml").read_text()) == {"model": "gpt-5"}
    assert json.loads((codex_dir / "hooks.json").read_text()) == {
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "my-own-hook"}]}]}
    }
