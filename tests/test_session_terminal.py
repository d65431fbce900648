"""``hud.inputs.session_terminal``: where a plain Claude Code session runs in tmux, from its journal's latest
SessionStart that recorded a pane, read boundedly, every value checked again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecc_hooks.hud import inputs

SESSION = "5a1c0b7e-0000-4000-8000-00000000bb02"


def event(name: str, ts: str, **extra: object) -> dict:
    return {"schemaVersion": "ecc.event.v1", "ts": ts, "event": name, "sessionId": SESSION, **extra}


def write(home: Path, records: list[dict], filler: int = 0) -> Path:
    journal = home / "sessions" / SESSION / "events.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in records[:1]]
    lines += [json.dumps(event("PostToolUse", "2026-12-07T10:00:01.000Z", toolName="Bash"))] * filler
    lines += [json.dumps(r) for r in records[1:]]
    journal.write_text("".join(line + "\n" for line in lines))
    journal.chmod(0o600)
    return journal


def tmux(pane: str, socket: str = "/tmp/tmux-1000/default") -> dict:
    return {"socket": socket, "pane": pane}


def test_no_journal_no_pane_or_a_bad_id_is_none(ecc_home: Path) -> None:
    assert inputs.session_terminal(SESSION) is None
    write(ecc_home, [event("SessionStart", "2026-12-07T10:00:00.000Z")])
    assert inputs.session_terminal(SESSION) is None
    for bad in ("", "../x", "a/b"):
        assert inputs.session_terminal(bad) is None


def test_the_latest_session_start_wins(ecc_home: Path) -> None:
    write(
        ecc_home,
        [
            event("SessionStart", "2026-12-07T10:00:00.000Z", tmux=tmux("%1")),
            event("UserPromptSubmit", "2026-12-07T10:00:02.000Z"),
            event("SessionStart", "2026-12-07T11:00:00.000Z", source="resume", tmux=tmux("%8", "/tmp/tmux-1000/work")),
            event("SessionStart", "2026-12-07T11:00:05.000Z", tmux=tmux("%9;rm")),  # malformed: never used
            event("SessionStart", "2026-12-07T11:00:06.000Z", agentId="a1", tmux=tmux("%5")),  # a subagent's
        ],
    )
    found = inputs.session_terminal(SESSION)
    assert found == inputs.SessionTerminal(SESSION, "/tmp/tmux-1000/work", "%8", "2026-12-07T11:00:00.000Z")


def test_a_long_journal_is_read_at_both_ends_only(ecc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "TERMINAL_SCAN", 4096)
    journal = write(ecc_home, [event("SessionStart", "2026-12-07T10:00:00.000Z", tmux=tmux("%4"))], filler=200)
    assert journal.stat().st_size > 3 * 4096
    found = inputs.session_terminal(SESSION)
    assert found is not None and found.pane == "%4"  # where it started: the journal's head
    with journal.open("a") as out:
        out.write(json.dumps(event("SessionStart", "2026-12-07T12:00:00.000Z", tmux=tmux("%6"))) + "\n")
    found = inputs.session_terminal(SESSION)
    assert found is not None and found.pane == "%6"
