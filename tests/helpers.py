"""Helpers shared by the tests: run the real hook, read journals, load the captures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# -P (3.11+): the working directory off sys.path; Python 3.10 has no such flag (its -I would also drop PYTHONPATH).
SAFE_PATH = ["-P"] if sys.version_info >= (3, 11) else []
FIXTURES = REPO / "tests" / "fixtures"
CAPTURES = FIXTURES / "captures"  # real payloads of the pinned client (tests/e2e/regenerate_captures.py)


def run_hook(
    stdin: bytes, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    """Run the real hook command in a subprocess, exactly as Claude Code does (payload on stdin)."""
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks.capture.hook"],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=str(REPO),
    )


def journal_lines(home: Path, session: str) -> list[dict]:
    """Every record of a session's journal, parsed (fails the test on a torn line)."""
    path = home / "sessions" / session / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def capture_payloads() -> list[dict]:
    """The real hook payloads captured from Claude Code 2.1.328."""
    return [json.loads(line) for line in (CAPTURES / "hook-payloads.jsonl").read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------- git repos for tests

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    """Run git for test setup, with a fixed identity and none of the caller's ``GIT_*`` variables; stdout stripped.

    The code under test must not depend on this environment: it strips ``GIT_*`` itself.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env={**base, **GIT_ENV, **(env or {})}, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0 or not check, proc.stderr
    return proc.stdout.strip()


def make_repo(path: Path, branch: str = "main", identity: bool = False) -> Path:
    """A real git repository at ``path`` with one commit (a.txt); returns its resolved path. ``identity``: its own
    config also names a committer (for code under test that commits: it does not see the tests' GIT_* identity)."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", branch)
    (path / "a.txt").write_text("one\n")
    git(path, "add", "a.txt")
    git(path, "commit", "-q", "-m", "first")
    if identity:
        git(path, "config", "user.email", "t@example.com")
        git(path, "config", "user.name", "t")
    return path.resolve()


def wait_until(
    condition: Callable[[], Any], timeout: float, message: Callable[[], str] | str, interval: float = 0.05
) -> Any:
    """Poll ``condition`` until it returns something truthy and return that; fail with ``message`` after
    ``timeout`` seconds (generous timeouts for things that happen in other processes, never a timing assert)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s: {message() if callable(message) else message}")
        time.sleep(interval)


# ---------------------------------------------------------------------------- big journals (tests and benchmarks)


def write_journal(
    path: Path, events: int, session: str = "5ec0717e-0000-4000-8000-00000000b19b", transcript: str | None = None
) -> int:
    """Write a journal of ``events`` records as the hook writes them (a prompt, then Bash calls with their
    results, every tenth failing, a Stop every 50 events); returns its size in bytes. Templates come from the
    real normalizer once per kind; each record differs by its time and tool_use_id."""
    from ecc_hooks.capture.hook import encode_record
    from ecc_hooks.capture.normalize import normalize

    def template(payload: dict) -> str:
        record = normalize(
            {
                "session_id": session,
                "cwd": "/home/dev/work",
                "transcript_path": transcript or f"/home/dev/.claude/projects/-home-dev-work/{session}.jsonl",
                **payload,
            },
            1_800_000_000.0,
        )
        return encode_record(record).decode().replace("2027-01-15T08:00:00.000Z", "@TS@").replace("TOOLID", "@TID@")

    bash = {
        "tool_name": "Bash",
        "tool_use_id": "TOOLID",
        "tool_input": {"command": "pytest -q tests/unit", "description": "run the tests"},
    }
    kinds = [
        template({"hook_event_name": "UserPromptSubmit", "prompt": "make the tests pass"}),
        template({"hook_event_name": "PreToolUse", **bash}),
        template(
            {
                "hook_event_name": "PostToolUse",
                **bash,
                "tool_response": {"stdout": "12 passed", "stderr": "", "interrupted": False},
            }
        ),
        template({"hook_event_name": "PostToolUseFailure", **bash, "error": "Exit code 1: 1 failed"}),
        template({"hook_event_name": "Stop"}),
    ]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        lines = []
        for n in range(events):
            step = n % 50
            if step == 0:
                kind = 0
            elif step == 49:
                kind = 4
            else:
                kind = 1 if step % 2 else (3 if step % 20 == 0 else 2)
            minute, second = divmod(n // 10 % 3600, 60)
            ts = f"2027-01-15T{8 + n // 36000 % 16:02d}:{minute:02d}:{second:02d}.{n % 1000:03d}Z"
            lines.append(
                kinds[kind].replace("@TS@", ts).replace("@TID@", f"toolu_{(n - (0 if kind == 1 else 1)) // 2:09d}")
            )
            if len(lines) >= 10000:
                written += out.write("".join(lines))
                lines = []
        written += out.write("".join(lines))
    return written


# ---------------------------------------------------------------------------- contracts


def undeclared_keys(
    value: Any, schema: dict[str, Any], node: dict[str, Any] | None = None, where: str = "$"
) -> list[str]:
    """Every key of ``value`` that the JSON Schema does not declare where it stands (``$ref``, ``anyOf`` and
    ``items`` followed): what an ``additionalProperties: true`` contract would let through unseen."""
    node = schema if node is None else node
    if "$ref" in node:
        return undeclared_keys(value, schema, schema["$defs"][node["$ref"].rsplit("/", 1)[-1]], where)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"]
            if value is None or not options:
                return []
            found = [undeclared_keys(value, schema, o, where) for o in options]
            return min(found, key=len)
    if isinstance(value, dict):
        props = node.get("properties", {})
        missing = [f"{where}.{k}" for k in value if k not in props]
        for k, item in value.items():
            if k in props:
                missing += undeclared_keys(item, schema, props[k], f"{where}.{k}")
        return missing
    if isinstance(value, list) and "items" in node:
        return [
            m for i, item in enumerate(value) for m in undeclared_keys(item, schema, node["items"], f"{where}[{i}]")
        ]
    return []


# ---------------------------------------------------------------------------- the watcher daemon


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie counts as gone
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def running(proc: subprocess.Popen) -> int:
    from ecc_hooks.hud import watcher as watch

    return int(wait_until(lambda: watch.lock_holder() == proc.pid and proc.pid, 60, "the watcher to lock"))


def session_payloads(session: str, transcript: Path | None = None) -> list[dict]:
    """The first captured session's payloads, re-keyed to ``session`` (and a transcript of ours)."""
    first = capture_payloads()[0]["session_id"]
    out = []
    for payload in capture_payloads():
        if payload["session_id"] != first:
            continue
        payload = {**payload, "session_id": session}
        if transcript is not None:
            payload["transcript_path"] = str(transcript)
        out.append(payload)
    return out


def hud(home: Path, session: str) -> dict | None:
    try:
        return json.loads((home / "sessions" / session / "hud.json").read_bytes())
    except (OSError, ValueError):
        return None


TIME_DERIVED = ("generatedAt",)


def comparable(payload: dict) -> dict:
    """A payload minus what depends on when it was built."""
    payload = {k: v for k, v in payload.items() if k not in TIME_DERIVED}
    cost = dict(payload.get("cost") or {})
    cost.pop("burnRateUsdPerHour", None)
    payload["cost"] = cost
    payload["context"] = {k: v for k, v in (payload.get("context") or {}).items() if k != "snapshot"}  # who built it
    return payload


def rebuilt(session: str) -> dict:
    """A fresh rebuild from the journal and the transcript (the status CLI's path, no daemon state)."""
    from ecc_hooks.hud import inputs as collect

    return comparable(json.loads(collect.session_payload(session, use_gh=False).model_dump_json(by_alias=True)))


def ecc(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m ecc_hooks ARGS`` in ``cwd`` with this test's environment (plus ``env``; ``input`` on stdin)."""
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=timeout,
        input=input,
    )


def stop_the_supervisor_alone() -> None:
    """SIGKILL only the supervisor of this test's ECC_HOOKS_HOME (its workers, panes and tmux server stay), with its
    record removed first so no worker's hook starts it again: the test's own passes (``Supervisor().reconcile_all``)
    are then the only ones. Its zygote (which opens no database) is left to the test's teardown (``stop_supervisor``
    kills every process of the test's ECC_HOOKS_HOME)."""
    import signal

    from ecc_hooks.core import paths
    from ecc_hooks.runtime import daemon

    Path(paths.supervisor_record_path()).unlink(missing_ok=True)
    pid = daemon.running()
    if pid and pid > 0:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_until(lambda: not alive(pid), 30, f"supervisor {pid} to die")
    Path(paths.supervisor_record_path()).unlink(missing_ok=True)
