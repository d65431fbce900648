"""The hook command of another agent, end to end through the real hook process: the agent named by the command's
last argument, its payload made Claude-shaped by its module, the record marked with ``harness`` (and, in a runtime
worker, the worker at SessionStart); the fold, ``status`` and ``inspect`` saying which agent; Aider's command never
reading stdin; a module failing on a payload never breaking the hook."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ecc_hooks import harness
from ecc_hooks.capture import hook
from ecc_hooks.models.event import Event
from tests.helpers import REPO, ecc, journal_lines

SESSION = "019a0000-0000-7000-8000-00000000c0de"
QUIET = {"ECC_HOOKS_NO_WATCHER": "1"}


def codex_hook(payload: dict, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The installed command for Codex (``harness.hook_argv``), exactly as Codex runs it."""
    return subprocess.run(
        harness.hook_argv("codex"),
        input=json.dumps(payload).encode(),
        capture_output=True,
        env={**os.environ, **QUIET, **(env or {})},
        timeout=30,
        cwd=str(REPO),
    )


def codex_payload(event: str, **extra: object) -> dict:
    return {"session_id": SESSION, "hook_event_name": event, "cwd": str(REPO), "model": "gpt-5.1-codex", **extra}


def test_the_command_names_its_agent_and_the_record_says_so(ecc_home: Path) -> None:
    worker = {"ECC_SESSION": "plan-1", "ECC_WORKER": "w-codex"}
    for payload in (
        codex_payload("SessionStart", source="startup"),
        codex_payload("UserPromptSubmit", prompt="run the tests", turn_id="t1"),
        codex_payload("PreToolUse", tool_name="Bash", tool_input={"command": "pytest -q"}, tool_use_id="c1"),
        codex_payload("Interrupt", turn_id="t1"),
    ):
        done = codex_hook(payload, worker)
        assert done.returncode == 0 and done.stdout == b"" and done.stderr == b""
    records = journal_lines(ecc_home, SESSION)
    assert [r["event"] for r in records] == ["SessionStart", "UserPromptSubmit", "PreToolUse", "Stop"]
    assert {r["harness"] for r in records} == {"codex"}
    assert records[0]["runtime"] == {"session": "plan-1", "worker": "w-codex"}  # how the runtime finds the session
    assert all("runtime" not in r for r in records[1:])
    assert records[1]["promptId"] == "t1"  # Codex's turn id
    for record in records:
        Event.model_validate(record)


def test_status_and_inspect_name_the_agent(ecc_home: Path) -> None:
    codex_hook(codex_payload("SessionStart", source="startup"))
    codex_hook(codex_payload("UserPromptSubmit", prompt="fix the build"))
    doc = json.loads(ecc("status", "--session", SESSION, "--json", "--no-gh", cwd=REPO).stdout)
    assert doc["context"]["harness"] == "codex"
    table = ecc("status", "--all", "--no-gh", cwd=REPO, env={"COLUMNS": "200"}).stdout.splitlines()
    assert table[0].split()[:2] == ["SESSION", "AGENT"] and table[1].split()[:2] == [SESSION[:8], "codex"]
    inspected = ecc("inspect", SESSION, cwd=REPO)
    assert inspected.returncode == 0, inspected.stderr
    snap = json.loads(inspected.stdout)
    assert snap["session"]["harness"] == "codex" and snap["session"]["kind"] == "claude-code"  # ECC's value set
    assert snap["workers"][0]["runtime"]["kind"] == "codex" and snap["workers"][0]["runtime"]["command"] == "codex"
    handoff = ecc("inspect", SESSION, "--markdown", cwd=REPO).stdout
    assert "Codex session" in handoff
    assert f"codex resume {SESSION}" in handoff and "claude --resume" not in handoff  # resumed with its own agent


def test_claude_codes_own_events_carry_no_harness(ecc_home: Path) -> None:
    done = subprocess.run(
        harness.hook_argv("codex")[:-1],  # the command Claude Code runs: no agent named
        input=json.dumps(codex_payload("SessionStart")).encode(),
        env={**os.environ, **QUIET},
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0
    (record,) = journal_lines(ecc_home, SESSION)
    assert "harness" not in record
    doc = json.loads(ecc("status", "--session", SESSION, "--json", "--no-gh", cwd=REPO).stdout)
    assert doc["context"]["harness"] == "claude-code"


def test_aiders_command_never_reads_stdin(ecc_home: Path, tmp_path: Path) -> None:
    """Aider runs its notifications command with the terminal as stdin: reading it would steal the person's
    keystrokes, or hang. With a pipe that never closes, the command still exits at once."""
    log = tmp_path / "analytics.jsonl"
    log.write_text(json.dumps({"event": "launched", "properties": {}, "time": 1}) + "\n")
    proc = subprocess.Popen(
        [*harness.hook_argv("aider"), "--log", str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **QUIET},
    )
    try:
        out, err = proc.communicate(timeout=20)  # stdin left open: a read would block until the timeout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and out == b"" and err == b""


def test_a_module_failing_on_a_payload_drops_the_event_and_logs_it(
    ecc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(payload: object) -> dict:
        raise RuntimeError("drifted")

    monkeypatch.setattr(harness.module("gemini"), "to_claude", broken)
    data = json.dumps(codex_payload("BeforeTool")).encode()
    hook.handle(data, None, 1.0, start=False, harness="gemini")
    assert journal_lines(ecc_home, SESSION) == []
    assert "harness" in (ecc_home / "errors.log").read_text() and "drifted" in (ecc_home / "errors.log").read_text()


def test_an_unknown_agent_name_is_claude_code(ecc_home: Path) -> None:
    """Only the four agents' names select a module: any other last argument is not ours to interpret."""
    done = subprocess.run(
        [*harness.hook_argv("codex")[:-1], "not-an-agent"],
        input=json.dumps(codex_payload("SessionStart")).encode(),
        env={**os.environ, **QUIET},
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0
    (record,) = journal_lines(ecc_home, SESSION)
    assert "harness" not in record


def _events(harness_name: str | None) -> list[dict]:
    base = {
        "schemaVersion": "ecc.event.v1",
        "sessionId": SESSION,
        **({"harness": harness_name} if harness_name else {}),
    }
    return [
        {**base, "ts": "2026-12-07T10:00:00.000Z", "event": "UserPromptSubmit", "prompt": "go"},
        {**base, "ts": "2026-12-07T10:00:01.000Z", "event": "PreToolUse", "toolName": "Bash", "toolUseId": "c1"},
        {**base, "ts": "2026-12-07T10:00:02.000Z", "event": "Stop"},
    ]


def test_another_agents_turn_end_closes_its_open_calls_as_interrupted() -> None:
    """Codex fires no PostToolUse for a call interrupted or declined at its prompt, only Interrupt (a Stop): the
    call ended with the turn. Claude Code's own open calls stay open (their results come from its transcript)."""
    from ecc_hooks.hud.aggregate import fold_all

    codex = fold_all(_events("codex"))
    assert codex.pending == {} and codex.tool_interrupted == 1 and codex.turn_state == "idle"
    claude = fold_all(_events(None))
    assert list(claude.pending) == ["c1"] and claude.tool_interrupted == 0


def test_no_compaction_point_is_claimed_for_another_agent() -> None:
    from datetime import datetime, timezone

    from ecc_hooks.harness.usage import Message, build_usage
    from ecc_hooks.hud.aggregate import PayloadInputs, build_payload, fold_all

    usage = build_usage(SESSION, None, [Message("gpt-5.1-codex", 1000, 10)], window=258_400, context_tokens=1000)
    now = datetime(2026, 12, 7, 10, 0, 5, tzinfo=timezone.utc)
    payload = build_payload(fold_all(_events("codex")), PayloadInputs(now=now, usage=usage))
    window = payload.context.contextWindow
    assert payload.context.harness == "codex" and window.windowSize == 258_400 and window.compactsAtPct is None
    assert window.usedPct == 0 and window.remainingPct == 100


def test_reading_another_agents_database_is_no_news_to_the_watcher(ecc_home: Path, tmp_path: Path) -> None:
    """OpenCode's transcript is a SQLite database in WAL mode: reading it touches its ``-shm`` index and raises
    change events in its folder. Taken for news, each read caused the next (a watcher at 10% of a core for as long
    as the session lived). Only the database's content moving is news."""
    import sqlite3

    from ecc_hooks.hud import watcher as watch
    from ecc_hooks.hud.state import SessionState

    db = tmp_path / "opencode.db"
    writer = sqlite3.connect(db)
    try:
        writer.execute("pragma journal_mode=wal")
        writer.execute("create table message(data)")
        writer.commit()
        daemon = watch.Watcher(idle_exit=300)
        daemon.sessions["ses_1"] = watch.SessionWatch(
            "ses_1", state=SessionState(harness="opencode", transcript_path=str(db))
        )
        assert daemon.sessions_for(f"{db}-wal") == {"ses_1"}  # first sight
        reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        reader.execute("select * from message").fetchall()
        reader.close()
        assert daemon.sessions_for(f"{db}-shm") == set()
        assert daemon.sessions_for(f"{db}-wal") == set()  # our own read: nothing moved
        writer.execute("insert into message values ('{}')")
        writer.commit()
        assert daemon.sessions_for(f"{db}-wal") == {"ses_1"}
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("codex", ["resume", "--", "-p x"]),
        ("gemini-cli", ["--resume=-p x"]),
        ("opencode", ["--session=-p x"]),
        ("aider", ["--restore-chat-history"]),
        (None, ["--resume=-p x"]),
    ],
)
def test_a_handoffs_resume_command_runs_the_sessions_own_agent(
    tmp_path: Path, agent: str | None, expected: list[str]
) -> None:
    """Each agent resumes with its own command; the id is a value, never read as a flag, whatever it holds."""
    from ecc_hooks.core.text import resume_command

    cwd = tmp_path / 'it\'s a "dir" $(x)'
    cwd.mkdir()
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("claude", "codex", "gemini", "opencode", "aider"):
        (fake / name).write_text(f'#!/bin/sh\npwd\necho "bin:{name}"\nfor a in "$@"; do echo "arg:$a"; done\n')
        (fake / name).chmod(0o755)
    command = resume_command("-p x", str(cwd), agent)
    ran = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, env={**os.environ, "PATH": f"{fake}:/usr/bin:/bin"}
    )
    lines = ran.stdout.splitlines()
    binary = {"gemini-cli": "gemini", None: "claude"}.get(agent, agent)
    assert lines[:2] == [str(cwd), f"bin:{binary}"]
    assert lines[2:] == [f"arg:{a}" for a in expected]


def test_status_shows_each_id_as_short_as_the_others_allow() -> None:
    """Codex's ids are time-ordered (two started within an hour share their first 8 characters) and OpenCode's all
    start ``ses_``: the table shows each id's shortest prefix that ``--session`` resolves to it alone."""
    from ecc_hooks.cli.status import short_ids

    codex = ["01a25208-59a9-7e50-9adc-b1c2580e0b45", "01a25208-be76-7d50-abb7-8b361687db9c"]
    other = ["5f0c2a7e-1b7d-4c55-9a43-b3b1d2f0a9e1", "ses_dadebedcbffec6VGGmE5mqq33B", "ses_dadf0000"]
    shown = short_ids(codex + other[:1], known=other)
    assert shown == {codex[0]: "01a25208-5", codex[1]: "01a25208-b", other[0]: "5f0c2a7e"}
    assert short_ids([other[1]], known=other) == {other[1]: "ses_dade"}
    assert short_ids(["ses_1"], known=[]) == {"ses_1": "ses_1"}


def test_the_hud_names_the_agent_and_refuses_to_reach_its_pane_blind() -> None:
    """A Codex or Gemini session started outside the runtime: the HUD's row says which agent (as its command is
    called), and approve, deny, send, attach and its screen are refused with the reason, not sent to a pane check
    that expects Claude Code (which said the pane "no longer runs Claude Code")."""
    from ecc_hooks.tui import controls
    from ecc_hooks.tui.model import Snap, session_row

    doc = {"context": {"sessionId": SESSION, "harness": "gemini-cli", "turnState": "waiting", "waitingFor": "x"}}
    row = session_row(Snap(doc))
    assert row.agent == "gemini"
    for control in ("approve", "deny", "send", "attach", "screen"):
        reason = controls.why_not(control, row)
        assert reason is not None and "gemini session started outside the runtime" in reason
    claude = session_row(Snap({"context": {**doc["context"], "harness": "claude-code"}}))
    assert claude.agent == "claude" and controls.why_not("screen", claude) is None
