"""The recording hook end to end: real payloads through the real ``python -m ecc_hooks.hook``.

Every capture must become exactly one journal line valid against both the pydantic contract
and the published JSON Schema; bad input must become exactly one errors.log entry; the hook
must print nothing and exit 0 whatever happens.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from ecc_hooks.capture import client, hook
from ecc_hooks.core import errorlog, fsio, paths
from ecc_hooks.core.redact import redact_tree
from ecc_hooks.models.event import Event
from tests.helpers import REPO, capture_payloads, journal_lines, run_hook

SCHEMA = json.loads((REPO / "schemas" / "ecc.event.v1.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
CAPTURES = capture_payloads()


def assert_valid(record: dict) -> None:
    """Fail unless ``record`` validates against the pydantic Event and the published schema."""
    Event.model_validate(record)
    VALIDATOR.validate(record)


def all_journal_lines(home: Path) -> list[dict]:
    """Every record of every journal under ``home`` (json.loads fails the test on a torn line)."""
    records = []
    for journal in sorted((home / "sessions").glob("*/events.jsonl")):
        records += [json.loads(line) for line in journal.read_bytes().splitlines()]
    return records


def error_entries(home: Path) -> list[dict]:
    """The parsed lines of errors.log (empty when there is none)."""
    log = home / "errors.log"
    return [json.loads(line) for line in log.read_bytes().splitlines()] if log.exists() else []


def expected_outcome(payload: dict) -> str | None:
    """The outcome the capture itself implies (not a hard-coded table)."""
    event = payload["hook_event_name"]
    if event == "PostToolUseFailure":
        return "interrupted" if payload.get("is_interrupt") is True else "failure"
    if event == "PostToolUse":
        response = payload.get("tool_response")
        return "interrupted" if isinstance(response, dict) and response.get("interrupted") is True else "success"
    if event == "StopFailure":
        return "failure"
    return None


def assert_silent(result) -> None:
    """A hook run that did what Claude Code needs: exit 0, nothing on stdout or stderr."""
    assert result.returncode == 0
    assert result.stdout == b""
    assert result.stderr == b""


@pytest.mark.parametrize("payload", CAPTURES, ids=[f"{i:02d}-{p['hook_event_name']}" for i, p in enumerate(CAPTURES)])
def test_each_capture_becomes_one_valid_line(payload: dict, ecc_home: Path) -> None:
    result = run_hook(json.dumps(payload).encode())
    assert_silent(result)
    records = journal_lines(ecc_home, payload["session_id"])
    assert len(records) == 1
    record = records[0]
    assert_valid(record)
    assert record["schemaVersion"] == "ecc.event.v1"
    assert record["event"] == payload["hook_event_name"]
    assert record["sessionId"] == payload["session_id"]  # real ids are safe as they are
    assert record.get("toolName") == payload.get("tool_name")
    assert record.get("toolUseId") == payload.get("tool_use_id")
    assert record.get("agentId") == payload.get("agent_id")
    assert record.get("agentType") == payload.get("agent_type")
    assert record.get("cwd") == payload.get("cwd")
    assert record.get("outcome") == expected_outcome(payload)
    assert "raw" not in record
    assert not (ecc_home / "errors.log").exists()


def test_captures_cover_failure_success_and_subagents() -> None:
    """The parametrized test above is only as good as the capture: make sure it has the cases that matter."""
    events = {p["hook_event_name"] for p in CAPTURES}
    assert {"PostToolUse", "PostToolUseFailure", "PreToolUse", "UserPromptSubmit"} <= events
    assert any(p.get("agent_id") for p in CAPTURES)


def test_a_whole_session_in_order(ecc_home: Path) -> None:
    """Replaying every capture keeps one line per payload, in order, per session."""
    for payload in CAPTURES:
        assert_silent(run_hook(json.dumps(payload).encode()))
    for session in {p["session_id"] for p in CAPTURES}:
        sent = [p["hook_event_name"] for p in CAPTURES if p["session_id"] == session]
        assert [r["event"] for r in journal_lines(ecc_home, session)] == sent


def test_unknown_event_kind_keeps_common_fields(ecc_home: Path) -> None:
    base = next(p for p in CAPTURES if p.get("permission_mode") and p.get("prompt_id"))
    payload = {**base, "hook_event_name": "SomeEventFrom2099", "brand_new_field": {"x": [1, 2]}}
    assert_silent(run_hook(json.dumps(payload).encode()))
    [record] = journal_lines(ecc_home, payload["session_id"])
    assert_valid(record)
    assert record["event"] == "SomeEventFrom2099"
    assert record["cwd"] == payload["cwd"]
    assert record["transcriptPath"] == payload["transcript_path"]
    assert record["promptId"] == payload["prompt_id"]
    assert record["permissionMode"] == payload["permission_mode"]


def test_raw_switch_adds_the_redacted_payload(ecc_home: Path) -> None:
    payload = copy.deepcopy(next(p for p in CAPTURES if p["hook_event_name"] == "PostToolUse"))
    secret = "ghp_" + "Q" * 36
    payload["tool_input"]["command"] = f"git push https://{secret}@github.com/o/r"
    assert_silent(run_hook(json.dumps(payload).encode(), env={hook.RAW_ENV: "1"}))
    [record] = journal_lines(ecc_home, payload["session_id"])
    assert_valid(record)
    assert record["raw"] == redact_tree(payload)
    assert record["raw"]["tool_response"] == payload["tool_response"]  # the parts without secrets are whole
    assert secret not in json.dumps(record)


def test_no_raw_without_the_switch(ecc_home: Path) -> None:
    payload = next(p for p in CAPTURES if p["hook_event_name"] == "PostToolUse")
    for value in ("0", "", "yes"):
        assert_silent(run_hook(json.dumps(payload).encode(), env={hook.RAW_ENV: value}))
    records = journal_lines(ecc_home, payload["session_id"])
    assert len(records) == 3
    assert all("raw" not in r for r in records)


def test_nan_and_infinity_do_not_lose_the_event(ecc_home: Path) -> None:
    """Python's parser accepts NaN/Infinity; the journal must stay strict JSON (allow_nan=False)."""
    data = (
        b'{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"mcp__x__y",'
        b'"tool_input":{"a":NaN,"b":-Infinity,"c":1.5},"duration_ms":Infinity}'
    )
    assert_silent(run_hook(data, env={hook.RAW_ENV: "1"}))
    [record] = journal_lines(ecc_home, "s1")
    assert_valid(record)
    assert record["input"] == {"c": 1.5}
    assert record["raw"]["tool_input"] == {"a": None, "b": None, "c": 1.5}


def test_unknown_tool_input_never_breaks_the_contract(ecc_home: Path) -> None:
    """An MCP tool whose input keys collide with typed summary fields (command, todos...) must still validate."""
    tool_input = {"command": 5, "todos": "not a list", "runInBackground": "yes", "taskId": 7, "prompt": "hi", "n": 3}
    payload = {
        "session_id": "s2",
        "hook_event_name": "PreToolUse",
        "tool_name": "mcp__srv__tool",
        "tool_input": tool_input,
    }
    assert_silent(run_hook(json.dumps(payload).encode()))
    [record] = journal_lines(ecc_home, "s2")
    assert_valid(record)
    assert record["input"] == {"prompt": "hi", "n": 3}


# ------------------------------------------------------------------------ oversized payloads


def _oversized_payload(size: int) -> tuple[dict, bytes]:
    """A PostToolUse (Read) whose tool_response carries ``size`` bytes, fields in Claude Code's order."""
    base = next(p for p in CAPTURES if p["hook_event_name"] == "PostToolUse" and p["tool_name"] == "Read")
    payload = {k: v for k, v in base.items() if k not in ("tool_response", "tool_use_id", "duration_ms")}
    payload["tool_response"] = {"type": "text", "file": {"filePath": "/x", "content": "y" * size}}
    payload["tool_use_id"] = base["tool_use_id"]
    payload["duration_ms"] = base["duration_ms"]
    return payload, json.dumps(payload).encode()


def _feed(data: bytes) -> int:
    """A pipe whose write end a thread fills with ``data`` then closes; returns the read end."""
    read_fd, write_fd = os.pipe()

    def writer() -> None:
        with os.fdopen(write_fd, "wb") as out:
            out.write(data)

    threading.Thread(target=writer, daemon=True).start()
    return read_fd


def test_oversized_payload_in_process(ecc_home: Path) -> None:
    payload, data = _oversized_payload(200_000)
    cap = 4096
    fd = _feed(data)
    try:
        head, problem = fsio.read_stdin(fd, cap, client.STDIN_TIMEOUT)
    finally:
        os.close(fd)
    assert problem == "oversized"
    assert head == data[:cap]

    fd = _feed(data)
    try:
        head, tail, problem = fsio.read_payload(fd, cap, client.STDIN_TIMEOUT, client.TAIL_SIZE)
    finally:
        os.close(fd)
    assert (head, problem) == (data[:cap], "oversized")
    assert data.endswith(tail) and 0 < len(tail) <= client.TAIL_SIZE
    hook.handle(head, problem, time.time(), tail)

    [record] = journal_lines(ecc_home, payload["session_id"])
    assert_valid(record)
    assert record["truncatedPayload"] is True
    assert record["event"] == "PostToolUse"
    assert record["toolName"] == payload["tool_name"]
    assert record["files"] == [payload["tool_input"]["file_path"]]
    assert record["toolUseId"] == payload["tool_use_id"]  # from the tail: Pre/Post stay paired
    assert record["durationMs"] == payload["duration_ms"]
    [entry] = error_entries(ecc_home)
    assert entry["kind"] == "oversized"


def test_payload_over_the_real_cap_through_the_real_hook(ecc_home: Path) -> None:
    payload, data = _oversized_payload(client.STDIN_CAP + (1 << 20))
    assert len(data) > client.STDIN_CAP
    result = run_hook(data, timeout=120)
    assert_silent(result)
    [record] = journal_lines(ecc_home, payload["session_id"])
    assert_valid(record)
    assert record["truncatedPayload"] is True
    assert record["toolName"] == payload["tool_name"]
    assert record["toolUseId"] == payload["tool_use_id"]
    assert record["outcome"] == "success"
    [entry] = error_entries(ecc_home)
    assert entry["kind"] == "oversized"
    assert entry["bytes"] == client.STDIN_CAP


def test_payload_without_eof_is_recorded_after_the_timeout(ecc_home: Path) -> None:
    """Claude Code wrote everything but never closed stdin: the complete JSON is kept whole."""
    payload = CAPTURES[0]
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, json.dumps(payload).encode())
        data, problem = fsio.read_stdin(read_fd, client.STDIN_CAP, 0.2)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert problem == "timeout"
    hook.handle(data, problem, time.time())
    [record] = journal_lines(ecc_home, payload["session_id"])
    assert_valid(record)
    assert "truncatedPayload" not in record


# ------------------------------------------------------------------------ unusable input


@pytest.mark.parametrize(
    "data, kind",
    [
        (b'{"session_id": "s", "hook_event_name": ', "malformed-json"),
        (b"\xff\xfe\x00garbage", "malformed-json"),
        (b"", "malformed-json"),
        (b"[1, 2, 3]", "not-an-object"),
        (b'"just a string"', "not-an-object"),
        (b"null", "not-an-object"),
        (b'{"hook_event_name": "Stop"}', "missing-field"),
        (b'{"session_id": "s", "cwd": "/x"}', "missing-field"),
        (b'{"session_id": "", "hook_event_name": "Stop"}', "missing-field"),
        (b'{"session_id": 42, "hook_event_name": "Stop"}', "missing-field"),
        (b'{"session_id": "s", "hook_event_name": ["Stop"]}', "missing-field"),
    ],
    ids=[
        "truncated",
        "not-utf8",
        "empty",
        "array",
        "string",
        "null",
        "no-session",
        "no-event",
        "empty-session",
        "numeric-session",
        "list-event",
    ],
)
def test_unusable_input_is_one_counted_error(data: bytes, kind: str, ecc_home: Path) -> None:
    assert_silent(run_hook(data))
    entries = error_entries(ecc_home)
    assert len(entries) == 1
    assert entries[0]["kind"] == kind
    assert entries[0].get("bytes", 0) == len(data)
    assert b"Traceback" not in (ecc_home / "errors.log").read_bytes()
    assert all_journal_lines(ecc_home) == []


def test_errors_log_stays_bounded(ecc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cap = 4096
    monkeypatch.setattr(errorlog, "ERRORS_LOG_MAX", cap)
    sent = 300
    for i in range(sent):
        hook.handle(b'{"broken": %d' % i, None, time.time())
    log, rolled = ecc_home / "errors.log", ecc_home / "errors.log.1"
    assert log.exists() and rolled.exists()
    assert log.stat().st_size <= cap and rolled.stat().st_size <= cap
    kept = error_entries(ecc_home) + [json.loads(line) for line in rolled.read_bytes().splitlines()]
    assert 0 < len(kept) < sent  # older entries were dropped, none torn
    assert all(entry["kind"] == "malformed-json" for entry in kept)
    last = error_entries(ecc_home)[-1]
    assert last["head"] == f'{{"broken": {sent - 1}'


def test_write_failure_never_escapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ECC_HOOKS_HOME is a file: nothing can be written, the hook still exits 0 silently."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = run_hook(json.dumps(CAPTURES[0]).encode(), env={"ECC_HOOKS_HOME": str(blocker)})
    assert_silent(result)
    assert blocker.read_text() == "x"


def test_journal_lands_where_paths_says(ecc_home: Path) -> None:
    """The hook writes through paths.journal_path, nowhere else."""
    payload = CAPTURES[0]
    assert_silent(run_hook(json.dumps(payload).encode()))
    files = sorted(p for p in ecc_home.rglob("*") if p.is_file())
    assert files == [Path(paths.journal_path(payload["session_id"]))]
