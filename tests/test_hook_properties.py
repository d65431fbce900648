"""Property tests: whatever arrives on stdin, the hook exits 0 silently, writes only inside
``ECC_HOOKS_HOME``, and every journal line it writes parses and meets the contract.

The real subprocess runs a modest number of examples (each costs an interpreter start);
``hook.handle`` in-process runs many more through the same code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ecc_hooks.capture import hook
from ecc_hooks.core import paths, redact
from ecc_hooks.models.event import Event
from tests.helpers import REPO

VALIDATOR = jsonschema.Draft202012Validator(json.loads((REPO / "schemas" / "ecc.event.v1.schema.json").read_text()))

HOSTILE_IDS = [
    "../../x",
    "/etc/passwd",
    "..",
    ".",
    "a\\b",
    "a/b",
    "a_b",
    "\x00",
    "a\x1b[31mb",
    "\n",
    " ",
    "-rf",
    ".hidden",
    "x" * 10_000,
    "\u00e9\u4e2d\U0001f600",
    "\ud800",
    "a\udfffb",
    "CON",
    "sessions",
    "events.jsonl",
]
EVENTS = [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "PermissionRequest",
    "Notification",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "TaskCreated",
    "PreCompact",
    "SessionEnd",
    "SubagentStart",
    "NeverSeenBefore",
]
TOOLS = [
    "Bash",
    "Read",
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "Agent",
    "Task",
    "TodoWrite",
    "TaskCreate",
    "TaskUpdate",
    "mcp__srv__tool",
    "Unknown",
]

any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=40)  # lone surrogates included
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text  # floats include NaN/inf
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(any_text, inner, max_size=5),
    max_leaves=25,
)
session_ids = st.sampled_from(HOSTILE_IDS) | any_text | st.from_regex(r"[0-9a-f]{8}-[0-9a-f]{4}", fullmatch=True)
field_values = st.sampled_from(TOOLS) | json_values
payloads = st.fixed_dictionaries(
    {"session_id": session_ids | json_scalars, "hook_event_name": st.sampled_from(EVENTS) | json_scalars},
    optional={
        "tool_name": st.sampled_from(TOOLS) | json_scalars,
        "tool_input": st.dictionaries(
            st.sampled_from(
                [
                    "command",
                    "file_path",
                    "todos",
                    "prompt",
                    "description",
                    "taskId",
                    "subject",
                    "status",
                    "run_in_background",
                    "password",
                    "notebook_path",
                ]
            )
            | any_text,
            json_values,
            max_size=6,
        )
        | json_values,
        "tool_response": json_values,
        "tool_use_id": json_scalars,
        "agent_id": json_scalars,
        "prompt": any_text | st.just("<task-notification><task-id>t1</task-id><status>done</status>"),
        "error": json_values,
        "duration_ms": json_scalars,
        "background_tasks": json_values,
        "tool_calls": json_values,
        "model": json_values,
        "cwd": json_scalars,
        "extra": json_values,
    },
)


def encode(payload: object, ascii_only: bool = True) -> bytes:
    """JSON bytes as a client would send them; lone surrogates travel as \\ud800 escapes."""
    return json.dumps(payload, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def is_recordable(value: object) -> bool:
    """What the hook promises to record: an object naming a session and an event with non-empty strings."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("session_id"), str)
        and bool(value["session_id"])
        and isinstance(value.get("hook_event_name"), str)
        and bool(value["hook_event_name"])
    )


def check_home(home: Path) -> tuple[list[dict], list[dict]]:
    """Every file under ``home`` is errors.log(.1) or sessions/<one safe component>/events.jsonl,
    every journal line parses and validates; returns (journal records, error entries)."""
    records: list[dict] = []
    errors: list[dict] = []
    if not home.exists():
        return records, errors
    sessions = home / "sessions"
    for path in home.rglob("*"):
        if path.is_dir():
            assert path == sessions or path.parent == sessions, path
            assert paths.sanitize_session_id(path.name) == path.name
            continue
        if path.parent == home:
            assert path.name in ("errors.log", "errors.log.1"), path
            errors += [json.loads(line) for line in path.read_bytes().splitlines()]
            continue
        assert path.name == "events.jsonl" and path.parent.parent == sessions, path
        for line in path.read_bytes().splitlines():
            record = json.loads(line.decode("utf-8"))  # strict UTF-8: a torn or mis-encoded line fails here
            Event.model_validate(record)
            VALIDATOR.validate(record)
            assert record["sessionId"] == path.parent.name
            records.append(record)
    return records, errors


@contextmanager
def scratch_home(raw: bool) -> Iterator[Path]:
    """A fresh ECC_HOOKS_HOME (and the raw switch) for one in-process example."""
    saved = {k: os.environ.get(k) for k in ("ECC_HOOKS_HOME", hook.RAW_ENV)}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ECC_HOOKS_HOME"] = os.path.join(tmp, "ecc")
        os.environ[hook.RAW_ENV] = "1" if raw else "0"
        try:
            yield Path(tmp, "ecc")
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@contextmanager
def isolated_run(
    data: bytes, raw: bool = False
) -> Iterator[tuple[subprocess.CompletedProcess[bytes], Path, Path, Path, Path]]:
    """Run the real hook with HOME, cwd and ECC_HOOKS_HOME in separate fresh folders of one scratch folder."""
    with tempfile.TemporaryDirectory(prefix="hookprop-") as tmp:
        root = Path(tmp)
        home, cwd, ecc = root / "home", root / "cwd", root / "ecc"
        home.mkdir()
        cwd.mkdir()
        env = {**os.environ, "HOME": str(home), "ECC_HOOKS_HOME": str(ecc), hook.RAW_ENV: "1" if raw else "0"}
        env.pop("CLAUDE_CONFIG_DIR", None)
        result = subprocess.run(
            [sys.executable, "-m", "ecc_hooks.capture.hook"],
            input=data,
            capture_output=True,
            env=env,
            cwd=str(cwd),
            timeout=60,
        )
        yield result, root, home, cwd, ecc


def assert_contained(result: subprocess.CompletedProcess[bytes], root: Path, home: Path, cwd: Path) -> None:
    """Silent success, and nothing written outside ECC_HOOKS_HOME."""
    assert result.returncode == 0
    assert result.stdout == b""
    assert result.stderr == b""
    assert list(home.iterdir()) == []
    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in root.iterdir()) <= ["cwd", "ecc", "home"]


# ------------------------------------------------------------------------ real subprocess


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=300) | st.sampled_from([b"", b"\x00", b"{", b"[]" * 5, b"\xef\xbb\xbf{}"]))
def test_subprocess_any_bytes(data: bytes) -> None:
    with isolated_run(data) as (result, root, home, cwd, ecc):
        assert_contained(result, root, home, cwd)
        records, errors = check_home(ecc)
    assert len(records) + len(errors) == 1


@settings(max_examples=30, deadline=None)
@given(payloads, st.booleans())
def test_subprocess_any_payload(payload: dict, raw: bool) -> None:
    with isolated_run(encode(payload), raw) as (result, root, home, cwd, ecc):
        assert_contained(result, root, home, cwd)
        records, errors = check_home(ecc)
    if is_recordable(payload):
        assert len(records) == 1 and errors == []
        assert records[0]["sessionId"] == paths.sanitize_session_id(payload["session_id"])
    else:
        assert records == [] and len(errors) == 1


@settings(max_examples=len(HOSTILE_IDS), deadline=None)
@given(st.sampled_from(HOSTILE_IDS))
def test_subprocess_hostile_session_ids(session_id: str) -> None:
    with isolated_run(encode({"session_id": session_id, "hook_event_name": "Stop"})) as (result, root, home, cwd, ecc):
        assert_contained(result, root, home, cwd)
        records, errors = check_home(ecc)
    assert errors == [] and len(records) == 1


# ------------------------------------------------------------------------ in-process, many more


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads, st.booleans(), st.booleans())
def test_handle_any_payload(payload: dict, raw: bool, ascii_only: bool) -> None:
    with scratch_home(raw) as ecc:
        hook.handle(encode(payload, ascii_only), None, time.time())
        records, errors = check_home(ecc)
    if is_recordable(payload):
        assert len(records) == 1 and errors == [], errors
        assert records[0]["sessionId"] == paths.sanitize_session_id(payload["session_id"])
        if raw:
            assert "raw" in records[0]
    else:
        assert records == [] and len(errors) == 1


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_handle_any_json_value(value: object) -> None:
    with scratch_home(False) as ecc:
        hook.handle(encode(value), None, time.time())
        records, errors = check_home(ecc)
    assert len(records) + len(errors) == 1
    assert errors and errors[0]["kind"] in ("not-an-object", "missing-field")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([None, "oversized", "timeout"]))
def test_handle_any_bytes(data: bytes, problem: str | None) -> None:
    with scratch_home(True) as ecc:
        hook.handle(data, problem, time.time(), data[-50:])
        records, errors = check_home(ecc)
    assert len(records) <= 1 and len(records) + len(errors) >= 1


@settings(max_examples=200, deadline=None)
@given(payloads, st.integers(min_value=1, max_value=400))
def test_handle_any_cut(payload: dict, cut: int) -> None:
    """A payload cut anywhere (the oversized path) still gives a valid record or one error entry."""
    data = encode(payload)
    with scratch_home(False) as ecc:
        hook.handle(data[:cut], "oversized", time.time(), data[cut:][-80:])
        records, errors = check_home(ecc)
    assert len(records) <= 1 and errors and errors[0]["kind"] == "oversized"


TYPED_KEYS = [
    "command",
    "description",
    "runInBackground",
    "filePath",
    "subagentType",
    "prompt",
    "model",
    "todos",
    "taskId",
    "taskSubject",
    "taskDescription",
    "taskStatus",
    "activeForm",
    "password",
    "apiKey",
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["mcp__srv__tool", "Skill", "ToolSearch", "NeverSeen"]),
    st.dictionaries(st.sampled_from(TYPED_KEYS) | any_text, json_scalars | json_values, max_size=10),
    st.sampled_from(["PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest"]),
)
def test_handle_unknown_tool_inputs(tool: str, tool_input: dict, event: str) -> None:
    """Unknown and MCP tools keep small scalar inputs under their own names: never at the cost of the contract."""
    payload = {"session_id": "s", "hook_event_name": event, "tool_name": tool, "tool_input": tool_input}
    with scratch_home(False) as ecc:
        hook.handle(encode(payload), None, time.time())
        records, errors = check_home(ecc)
    assert errors == [] and len(records) == 1


def test_surrogate_escapes_in_every_field(ecc_home: Path) -> None:
    """Lone surrogates (legal as JSON escapes) never make an invalid UTF-8 journal line."""
    data = (
        b'{"session_id":"\\ud800abc","hook_event_name":"PreToolUse","tool_name":"Bash\\udfff",'
        b'"tool_input":{"command":"echo \\udc00 \\ud83d"},"cwd":"/tmp/\\ud800"}'
    )
    hook.handle(data, None, time.time())
    records, errors = check_home(ecc_home)
    assert errors == [] and len(records) == 1
    assert records[0]["toolName"] == "Bash?"


# ------------------------------------------------------------------------ paths and redact


@settings(max_examples=1000)
@given(st.text(alphabet=st.characters(blacklist_categories=())) | st.sampled_from(HOSTILE_IDS))
def test_sanitize_gives_one_safe_component(raw: str) -> None:
    result = paths.sanitize_session_id(raw)
    if raw == "":
        assert result is None
        return
    assert isinstance(result, str) and result
    assert len(result) <= paths.SESSION_ID_MAX
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", result)
    assert result not in (".", "..") and not result.startswith(".") and ".." not in result
    assert os.path.basename(result) == result
    base = "/state/sessions"
    assert os.path.dirname(os.path.normpath(os.path.join(base, result))) == base
    assert paths.sanitize_session_id(result) == result  # already safe ids pass unchanged
    if len(raw) <= paths.SESSION_ID_MAX and re.fullmatch(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*", raw) and ".." not in raw:
        assert result == raw  # a UUID-like id is kept as Claude Code sent it


@settings(max_examples=300)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=()), min_size=1) | st.sampled_from(HOSTILE_IDS),
        unique=True,
        min_size=2,
        max_size=30,
    )
)
def test_sanitize_is_injective_in_practice(raws: list[str]) -> None:
    results = [paths.sanitize_session_id(r) for r in raws]
    assert len(set(results)) == len(raws)


def test_sanitize_near_collisions() -> None:
    family = ["a/b", "a\\b", "a_b", "a b", "a\x00b", "a..b", "a.b", "x-a_b", "../a", "__a", "A/B", "a/b/", "/a/b"]
    assert len({paths.sanitize_session_id(r) for r in family}) == len(family)


SECRETISH = [
    "sk-",
    "ant-",
    "proj-",
    "AKIA",
    "ASIA",
    "ghp_",
    "github_pat_",
    "xoxb-",
    "--password",
    "--api-key",
    "-p",
    "password",
    "PASSWORD",
    "token",
    "secret",
    "key",
    "auth",
    "Authorization",
    "Bearer ",
    "basic ",
    "=",
    ":",
    " ",
    '"',
    "'",
    "\\",
    "\n",
    "://",
    "@",
    "/",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "abcdefgh",
    "12345678",
    "ABCDEFGHIJKLMNOP",
    "[REDACTED]",
    ",",
    ";",
    "}",
]
secretish_text = st.lists(st.sampled_from(SECRETISH) | st.text(max_size=4), max_size=25).map("".join)


@settings(max_examples=1500)
@given(st.text(alphabet=st.characters(blacklist_categories=())) | secretish_text)
def test_redact_never_raises_and_is_idempotent(text: str) -> None:
    once = redact.redact(text)
    assert isinstance(once, str)
    assert redact.redact(once) == once


@settings(max_examples=500)
@given(
    json_values
    | st.dictionaries(
        st.sampled_from(["password", "api_key", "x", "args"]) | any_text,
        json_values | st.lists(secretish_text, max_size=4),
    )
)
def test_redact_tree_never_raises_and_is_idempotent(value: object) -> None:
    once = redact.redact_tree(value)
    twice = redact.redact_tree(once)
    assert twice is once or twice == once  # non-strings pass through as the same objects (a bare NaN included)


@settings(max_examples=1000)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", max_size=200))
def test_redact_keeps_plain_alphanumeric_text(text: str) -> None:
    assume(not re.search(r"(?:AKIA|ASIA)[0-9A-Z]{16}", text))  # that shape is an AWS key id, secret by design
    assume(not re.search(r"(?i)\bbearer\s+\S*[0-9]", text))  # "Bearer <token with digits>" is a credential
    assert redact.redact(text) == text


def test_redact_keeps_prose_with_trigger_words() -> None:
    for text in [
        "the basic approach works",
        "a bearer instrument",
        "skip the token bucket",
        "monkey business",
        "author jane wrote it",
        "pass the salt",
        "key points below",
        "max_tokens=100",
        "git push origin main",
        "see https://example.com/a/b?c=d",
        "author=jane",
        "primary_key=id",
    ]:
        assert redact.redact(text) == text
