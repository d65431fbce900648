"""Aider's capture (ecc_hooks/harness/aider.py): the notification's payload and the usage from the analytics log
(real logs of the pinned Aider in tests/fixtures/harness/aider/), the hook command run as Aider runs it (no stdin
read), ``~/.aider.conf.yml`` installed and removed, a runtime worker's capture; hypothesis on the parsers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks import harness
from ecc_hooks.core.errors import UserError
from ecc_hooks.harness import aider
from ecc_hooks.harness.context import InstallContext
from tests.helpers import REPO

FIXTURES = REPO / "tests" / "fixtures" / "harness" / "aider"
TURN = FIXTURES / "analytics-turn.jsonl"
API_ERROR = FIXTURES / "analytics-api-error.jsonl"
TWO_RUNS = FIXTURES / "analytics-two-runs-unpriced.jsonl"


def launches(path: Path) -> list[str]:
    """The user-run session ids of a log: one per ``launched`` line (its time and byte offset)."""
    ids, at = [], 0
    for line in path.read_bytes().splitlines(keepends=True):
        record = json.loads(line)
        if record["event"] == "launched":
            ids.append(f"aider-{record['time']}-{at}")
        at += len(line)
    return ids


# ---------------------------------------------------------------------------- the notification


def test_a_finished_turn_is_a_stop_of_the_run_that_launched_last() -> None:
    payload = aider.payload_from(["--log", str(TURN)], {})
    assert payload == {
        "hook_event_name": "Stop",
        "session_id": launches(TURN)[-1],
        "cwd": os.getcwd(),
        "transcript_path": str(TURN),
        "model": "openai/fake-model",
    }
    assert aider.to_claude(payload) == payload


def test_a_call_that_logged_nothing_after_starting_is_a_stop_failure() -> None:
    """A 404 from the API: Aider logs message_send_starting and no reply, no exception."""
    payload = aider.payload_from(["--session", "w1", "--log", str(API_ERROR)], {})
    assert payload is not None
    assert (payload["hook_event_name"], payload["session_id"], payload["error"]) == (
        "StopFailure",
        "w1",
        aider.NO_REPLY,
    )


def test_a_logged_exception_is_a_stop_failure_with_its_text(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    lines = TURN.read_text().splitlines()[:5]  # up to message_send_starting
    exception = {"event": "message_send_exception", "properties": {"exception": "boom"}, "user_id": "u", "time": 1}
    log.write_text("\n".join([*lines, json.dumps(exception)]) + "\n")
    payload = aider.payload_from(["--log", str(log)], {})
    assert payload is not None and payload["hook_event_name"] == "StopFailure" and payload["error"] == "boom"


def test_a_worker_that_exited_without_waiting_gets_its_last_calls_end_and_nothing_without_a_call(
    tmp_path: Path,
) -> None:
    """A headless ``--message`` run never waits (no notification): its end is read from its own log at its exit."""
    (tmp_path / aider.worker_log("w1")).write_bytes(TURN.read_bytes())
    (tmp_path / aider.worker_log("w2")).write_bytes(API_ERROR.read_bytes())
    stop, failure = aider.exit_payload(tmp_path, "w1"), aider.exit_payload(tmp_path, "w2")
    assert stop is not None and (stop["hook_event_name"], stop["session_id"]) == ("Stop", "w1")
    assert stop["transcript_path"] == str(tmp_path / aider.worker_log("w1"))
    assert failure is not None and failure["hook_event_name"] == "StopFailure"
    assert aider.exit_payload(tmp_path, "w3") is None  # no log, no call: nothing to say


def test_the_log_comes_from_the_environment_when_the_command_names_none() -> None:
    payload = aider.payload_from(["--session", "w1"], {b"AIDER_ANALYTICS_LOG": str(TWO_RUNS).encode()})
    assert payload is not None and payload["session_id"] == "w1" and payload["transcript_path"] == str(TWO_RUNS)
    assert "model" not in payload  # openai/REDACTED: Aider hid the name


def test_no_session_and_no_log_is_nothing_to_record_and_a_missing_log_no_call(tmp_path: Path) -> None:
    assert aider.payload_from([], {}) is None
    assert aider.payload_from(["--log", str(tmp_path / "none.jsonl")], {}) is None
    payload = aider.payload_from(["--session", "w1", "--log", str(tmp_path / "none.jsonl")], {})
    assert payload is not None and payload["hook_event_name"] == "Notification"
    assert payload["notification_type"] == "idle_prompt"


def test_only_lines_after_the_runs_launch_count_and_a_torn_last_line_is_not_read(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    first_run = API_ERROR.read_text()  # ended without a reply
    log.write_text(first_run + TURN.read_text() + '{"event": "message_send_exc')
    payload = aider.payload_from(["--log", str(log)], {})
    assert payload is not None and payload["hook_event_name"] == "Stop"
    assert payload["session_id"] == f"aider-{json.loads(TURN.read_text().splitlines()[0])['time']}-{len(first_run)}"


def test_a_launch_older_than_the_tail_is_still_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aider, "TAIL", 200)
    log = tmp_path / "log.jsonl"
    log.write_bytes(TURN.read_bytes())
    payload = aider.payload_from(["--log", str(log)], {})
    assert payload is not None and payload["session_id"] == launches(TURN)[0]


def test_the_hook_command_records_the_stop_without_reading_stdin(tmp_path: Path) -> None:
    """Aider runs the command with its own stdin (the terminal): the hook must not wait on it."""
    command = aider.notification_command(harness.hook_argv("aider"), str(TURN), "aider-w1")
    env = {**os.environ, "ECC_HOOKS_HOME": str(tmp_path / "ecc"), "ECC_HOOKS_NO_WATCHER": "1"}
    env.pop("ECC_SESSION", None)
    read, write = os.pipe()  # stdin: a pipe nobody writes to or closes
    try:
        done = subprocess.run(command, shell=True, stdin=read, env=env, capture_output=True, timeout=20)
    finally:
        os.close(read)
        os.close(write)
    assert done.returncode == 0 and done.stdout == b""
    [line] = (tmp_path / "ecc" / "sessions" / "aider-w1" / "events.jsonl").read_text().splitlines()
    event = json.loads(line)
    assert (event["event"], event["harness"], event["transcriptPath"]) == ("Stop", "aider", str(TURN))


# ---------------------------------------------------------------------------- usage


def test_usage_is_aiders_own_tokens_and_cost() -> None:
    usage = aider.read_usage("aider-w1", str(TURN), {})
    assert usage is not None
    [sent] = [json.loads(x)["properties"] for x in TURN.read_text().splitlines() if '"message_send"' in x]
    assert usage.tokens["input"] == sent["prompt_tokens"] == 2477 and usage.tokens["output"] == 20
    assert usage.cost.statusline_reported_usd == Decimal(str(sent["cost"]))
    assert usage.context.window is None and usage.context.used_tokens == 2477
    assert usage.lines == 7 and usage.malformed_lines == 0


def test_a_user_runs_usage_is_its_own_run_and_an_unpriced_cost_is_unknown() -> None:
    first, second = launches(TWO_RUNS)
    one, two = aider.read_usage(first, str(TWO_RUNS), {}), aider.read_usage(second, str(TWO_RUNS), {})
    assert one is not None and two is not None
    assert (one.tokens["output"], two.tokens["output"]) == (2, 20)
    whole = aider.read_usage("aider-worker", str(TWO_RUNS), {})  # a worker's log is all its own
    assert whole is not None and whole.tokens["output"] == 22
    assert two.cost.statusline_reported_usd is None and two.cost.computed_usd is None  # Aider's 0: no price


def test_usage_needs_a_log() -> None:
    assert aider.read_usage("s", None, {}) is None
    usage = aider.read_usage("s", None, {"AIDER_ANALYTICS_LOG": str(TURN)})
    assert usage is not None and usage.messages == 1


# ---------------------------------------------------------------------------- hypothesis on the parsers

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
EVENT_NAMES = st.sampled_from(["launched", "message_send_starting", "message_send", "message_send_exception", "exit"])
RECORD = st.fixed_dictionaries(
    {"event": EVENT_NAMES | st.text(max_size=6), "time": JSON},
    optional={
        "properties": st.dictionaries(
            st.sampled_from(["main_model", "prompt_tokens", "completion_tokens", "cost", "exception"]), JSON
        )
        | JSON
    },
)
LINE = st.builds(lambda r: json.dumps(r).encode(), RECORD) | st.binary(max_size=40).filter(lambda b: b"\n" not in b)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, max_size=12), torn=st.binary(max_size=20), argv=st.lists(st.text(max_size=8), max_size=5))
def test_any_log_gives_a_payload_of_ours_or_none_and_usage_never_raises(
    tmp_path: Path, lines: list[bytes], torn: bytes, argv: list[str]
) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"".join(line + b"\n" for line in lines) + torn.replace(b"\n", b""))
    payload = aider.payload_from([*argv, "--log", str(log)], {})
    if payload is not None:
        assert aider.to_claude(payload) == payload
        json.dumps(payload)
    whole = aider.read_usage("s", str(log), {})
    assert whole is not None and whole.lines == len(lines)
    assert all(isinstance(v, int) and v >= 0 for v in whole.tokens.values())
    if payload is not None:  # a run's own lines: a part of the log
        run = aider.read_usage(payload["session_id"], str(log), {})
        assert run is not None and run.lines <= whole.lines
        assert all(run.tokens[k] <= v for k, v in whole.tokens.items())


@settings(deadline=None)
@given(value=JSON)
def test_to_claude_never_raises(value: Any) -> None:
    shaped = aider.to_claude(value)
    assert shaped is None or shaped is value


@settings(deadline=None)
@given(line=st.binary(max_size=60))
def test_parse_line_never_raises(line: bytes) -> None:
    record = aider.parse_line(line)
    assert record is None or isinstance(record["event"], str)


# ---------------------------------------------------------------------------- install / uninstall


def context(home: Path, **kw: Any) -> tuple[InstallContext, list[str]]:
    backups: list[str] = []

    def backup(path: str) -> str | None:
        backups.append(Path(path).read_text())
        return path + ".bak"

    return InstallContext(home=home, hook_argv=["/py", "-S", "-c", "main()", "aider"], backup=backup, **kw), backups


def command_of(text: str) -> str:
    """The notifications command a config sets, as YAML reads the quoted value."""
    [line] = [x for x in text.splitlines() if x.startswith("notifications-command:")]
    return aider.yaml_value(line.split(":", 1)[1])


def test_install_adds_our_keys_once_and_uninstall_gives_back_the_users_file(tmp_path: Path) -> None:
    config = tmp_path / ".aider.conf.yml"
    mine = "# my settings\nmodel: gpt-4o\ndark-mode: true\n"
    config.write_text(mine)
    config.chmod(0o640)
    ctx, backups = context(tmp_path)
    said = aider.install(ctx)
    text = config.read_text()
    assert said[0] == f"wrote {config}" and backups == [mine] and text.startswith(mine)
    assert f"analytics-log: '{tmp_path}/.aider/ecc-hooks-analytics.jsonl'" in text
    assert "notifications: true" in text
    log = f"{tmp_path}/.aider/ecc-hooks-analytics.jsonl"
    assert command_of(text) == aider.notification_command(ctx.hook_argv, log)
    assert (tmp_path / ".aider").is_dir() and config.stat().st_mode & 0o777 == 0o640
    assert aider.install(ctx) == [f"already installed in {config}"] and len(backups) == 1
    assert aider.uninstall(ctx)[0] == f"removed our settings from {config}"
    assert config.read_text() == mine
    assert aider.uninstall(ctx) == [f"nothing to remove in {config}"]


def test_a_users_own_analytics_log_is_read_where_it_is(tmp_path: Path) -> None:
    config = tmp_path / ".aider.conf.yml"
    config.write_text('analytics-log: "/data/aider log.jsonl"  \n')
    aider.install(context(tmp_path)[0])
    text = config.read_text()
    assert text.count("analytics-log:") == 1
    assert command_of(text).endswith("aider --log '/data/aider log.jsonl' # ecc-hooks")


def test_a_users_own_notifications_command_is_replaced_only_with_force(tmp_path: Path) -> None:
    config = tmp_path / ".aider.conf.yml"
    mine = "notifications: false\nnotifications-command: notify-send aider\n"
    config.write_text(mine)
    with pytest.raises(UserError, match="notifications-command and notifications of your own.*--force"):
        aider.install(context(tmp_path)[0])
    assert config.read_text() == mine
    said = aider.install(context(tmp_path, force=True)[0])
    assert "set aside your notifications-command (uninstall puts it back)" in said
    text = config.read_text()
    assert "# ecc-hooks replaced: notifications-command: notify-send aider" in text
    assert [line for line in text.splitlines() if line.startswith("notifications:")] == ["notifications: true"]
    aider.uninstall(context(tmp_path)[0])
    assert config.read_text() == mine


def test_a_file_of_only_ours_goes_and_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / ".aider.conf.yml"
    ctx, backups = context(tmp_path, dry_run=True)
    assert aider.install(ctx)[0] == f"would write {config}" and not config.exists()
    aider.install(context(tmp_path)[0])
    assert aider.uninstall(context(tmp_path, dry_run=True)[0])[0].startswith("would remove") and config.exists()
    assert aider.uninstall(context(tmp_path)[0])[0].startswith("removed") and not config.exists()
    assert aider.uninstall(context(tmp_path)[0])[0].startswith("nothing to remove")


def test_a_symlinked_config_keeps_its_link(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "aider.yml"
    real.parent.mkdir()
    real.write_text("model: gpt-4o\n")
    (tmp_path / ".aider.conf.yml").symlink_to(real)
    aider.install(context(tmp_path)[0])
    assert (tmp_path / ".aider.conf.yml").is_symlink() and "notifications-command" in real.read_text()


@pytest.mark.parametrize(
    "text",
    [
        "model: x\n" + aider.BEGIN + "\nnotifications: true\n",  # our block cut short
        "{model: x, notifications: false}\n",  # a flow mapping: not ours to edit line by line
        "model: x\n---\nmodel: y\n",  # two documents
        "model: x\nauto-commits: [oops\n",  # an unclosed flow list: our lines would be read into it
        "model: a: b\n",  # a mapping in a value: a YAML error
        "editor:\n  cmd: vim\n",  # a nested mapping
        "model: x\n  more words\n",  # a value going on over lines
        "message: |\n  hello\n",  # a block scalar
        "model: 'unclosed\n",
        "  indented: x\n",
        "model: &m gpt-4o\nweak-model: *m\n",  # anchors and aliases
    ],
)
def test_a_config_we_cannot_edit_safely_is_refused_and_left_alone(tmp_path: Path, text: str) -> None:
    config = tmp_path / ".aider.conf.yml"
    config.write_text(text)
    with pytest.raises(UserError):
        aider.install(context(tmp_path)[0])
    assert config.read_text() == text


FLAT = [
    "# my settings",
    "",
    "model: gpt-4o",
    "dark-mode: true  # yes",
    "read:",
    "  - a.txt",
    "  - 'b c.md'  # quoted",
    "lint-cmd: 'python: flake8'",
    'test-cmd: "pytest -q \\"x\\""',
    "file: [a.py, 'b c.py', \"d.py\"]",
    "openai-api-base: http://127.0.0.1:8080/v1",
    "'quoted key': 1",
    "map-tokens: 1024\r",
]


def test_a_flat_mapping_of_one_line_settings_is_edited_and_kept(tmp_path: Path) -> None:
    config = tmp_path / ".aider.conf.yml"
    mine = "\n".join(FLAT) + "\n"
    config.write_bytes(mine.encode())
    assert aider.install(context(tmp_path)[0])[0] == f"wrote {config}"
    assert config.read_bytes().startswith(mine.encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([*FLAT, "x: [", "  y: 1", "- z", "a: b: c", "k: |", "{a: 1}"]) | st.text(), max_size=8))
def test_any_config_is_edited_keeping_every_line_or_refused_untouched(tmp_path: Path, lines: list[str]) -> None:
    config = tmp_path / ".aider.conf.yml"
    mine = "\n".join(lines) + "\n"
    config.write_bytes(mine.encode("utf-8", "surrogatepass"))
    before = config.read_bytes()
    try:
        aider.install(context(tmp_path)[0])
    except UserError:
        assert config.read_bytes() == before
        return
    assert aider.unsafe_line(mine[:-1].split("\n")) is None
    assert config.read_bytes().startswith(before) or aider.BEGIN in mine
    aider.uninstall(context(tmp_path)[0])


# ---------------------------------------------------------------------------- a runtime worker


def test_a_worker_gets_its_own_log_and_a_command_naming_its_session(tmp_path: Path) -> None:
    capture = aider.worker_capture(["/py", "hook", "aider"], tmp_path, "s-1")
    log = str(tmp_path / "aider-analytics-s-1.jsonl")
    assert capture.session_id == "s-1" and capture.args == []
    assert capture.env == {
        "AIDER_ANALYTICS_LOG": log,
        "AIDER_NOTIFICATIONS": "true",
        "AIDER_NOTIFICATIONS_COMMAND": f"/py hook aider --session s-1 --log {log} # ecc-hooks",
    }
    assert (tmp_path / aider.SESSION_FILE).stat().st_mode & 0o777 == 0o600


def test_a_resumed_worker_continues_its_session_and_a_fresh_launch_starts_its_own(tmp_path: Path) -> None:
    """The runtime offers no id on a resume (Aider continues its own chat): the last launch's id is kept."""
    first = aider.worker_capture(["/py"], tmp_path, "s-1")
    resumed = aider.worker_capture(["/py"], tmp_path, None)
    assert resumed.session_id == "s-1" and resumed.env == first.env
    fresh = aider.worker_capture(["/py"], tmp_path, "s-2")
    assert fresh.env["AIDER_ANALYTICS_LOG"] != first.env["AIDER_ANALYTICS_LOG"]
    assert aider.worker_capture(["/py"], tmp_path, None).session_id == "s-2"


def test_a_worker_with_no_id_to_continue_gets_a_new_one(tmp_path: Path) -> None:
    (tmp_path / aider.SESSION_FILE).write_bytes(b"\xff\xfe")  # damaged: not continued
    chosen = aider.worker_capture(["/py"], tmp_path, None).session_id
    assert chosen and chosen.startswith("aider-")
    other = tmp_path / "other"
    other.mkdir()
    assert aider.worker_capture(["/py"], other, None).session_id not in (None, chosen)


def test_the_module_is_cheap_to_import() -> None:
    code = "import sys; import ecc_hooks.harness.aider; print(sorted(m for m in ('json', 'pydantic', 'decimal') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=REPO, timeout=30)
    assert done.stdout.strip() == "[]", done.stderr


KEY = st.sampled_from(["model", "dark-mode", *aider.KEYS]) | st.from_regex(r"[a-z][a-z-]{0,10}", fullmatch=True)
VALUE = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=20)
CONFIG_LINE = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", KEY, VALUE),
    st.builds(lambda v: f"# {v}", VALUE),
    st.builds(lambda v: f"  - {v}", VALUE),  # a list item under a key
    st.just(""),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(CONFIG_LINE, max_size=8))
def test_install_then_uninstall_gives_back_any_flat_config(tmp_path: Path, lines: list[str]) -> None:
    config = tmp_path / ".aider.conf.yml"
    original = "".join(line + "\n" for line in lines)
    config.write_bytes(original.encode())
    if not original:
        config.unlink()
    try:
        aider.install(context(tmp_path, force=True)[0])
    except UserError:
        assert config.read_bytes().decode() == original  # refused: untouched
        return
    text = config.read_bytes().decode()
    assert text.count(aider.BEGIN) == 1 and command_of_ours(text).startswith("/py -S -c 'main()' aider --log ")
    aider.uninstall(context(tmp_path)[0])
    assert (config.read_bytes().decode() if config.exists() else "") == original


def command_of_ours(text: str) -> str:
    lines = text.split("\n")
    block = lines[lines.index(aider.BEGIN) :]
    [line] = [x for x in block if x.startswith("notifications-command:")]
    return aider.yaml_value(line.split(":", 1)[1])


def test_a_runs_usage_is_read_from_its_launch_on_and_a_forged_id_reads_the_whole_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(TURN.read_bytes() + TWO_RUNS.read_bytes() * 3)  # a long shared log: the priced run first
    monkeypatch.setattr(aider, "LOG_CAP", len(TURN.read_bytes()) + 10)  # the whole log no longer fits
    [first] = launches(TURN)
    usage = aider.read_usage(first, str(log), {})
    assert usage is not None and usage.lines == 7 and usage.tokens["output"] == 20
    assert usage.cost.statusline_reported_usd is not None  # the priced run, read from its offset (0)
    when = first.split("-")[1]
    for forged in (f"aider-{when}-5", f"aider-1-{len(TURN.read_bytes())}", "aider-\u00b2-0"):
        other = aider.read_usage(forged, str(log), {})
        assert other is not None and other.cost.statusline_reported_usd is None  # the log's tail: unpriced runs


def test_a_log_that_is_a_fifo_or_a_device_is_refused_without_blocking(tmp_path: Path) -> None:
    """The log's path comes from a config or an environment: a FIFO (nobody writing) or a device never hangs
    Aider's notification, and is read as no log."""
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        payload = aider.payload_from(["--session", "w1", "--log", path], {})
        assert payload is not None and payload["hook_event_name"] == "Notification"
        with pytest.raises(OSError):
            aider.read_usage("w1", path, {})
