"""``status`` and ``inspect`` resume from the watcher's checkpoint (watch-state.json) and fold only the events
after it; a checkpoint that does not fit the journal any more (replaced, rewritten, damaged, another version)
is ignored for a fold from the first event. Either way the payload is the same, and says where it came from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ecc_hooks.handoff.adapters import _claude
from ecc_hooks.hud import inputs as collect
from ecc_hooks.hud import watcher as watch
from tests import usage_lines as ul
from tests.helpers import comparable, journal_lines
from tests.test_status import hook, make_session, snapshot, status


def checkpoint(session: str) -> None:
    """What the daemon does for a session, in-process: fold journal and transcripts, save watch-state.json."""
    session_watch = watch.SessionWatch.load(session)
    session_watch.read_journal()
    _, sensor = session_watch.read_sensor()
    session_watch.read_usage(sensor)
    session_watch.state.session_id = session_watch.state.session_id or session
    session_watch.save()


def payload(session: str) -> dict:
    proc = status("--json", "--no-gh", "--session", session)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def more_events(tmp_path: Path, session: str, work: Path, count: int) -> None:
    transcript = tmp_path / f"{session}.jsonl"
    for i in range(count // 2):
        tool = {"tool_name": "Bash", "tool_input": {"command": f"echo {i}"}, "tool_use_id": f"{session}-x{i}"}
        hook(session, "PreToolUse", work, transcript, **tool)
        hook(session, "PostToolUse", work, transcript, tool_response={"stdout": str(i)}, **tool)
    ul.append(transcript, ul.assistant(f"{session}-m2", inp=3000, out=700, cw=100, cr=9000))


def test_status_from_a_checkpoint_equals_a_fold_from_the_first_event(ecc_home: Path, tmp_path: Path) -> None:
    work = make_session(tmp_path, "cp")
    cold = payload("cp")
    assert cold["context"]["snapshot"] == {"source": "journal", "newerEvents": None}
    checkpoint("cp")
    more_events(tmp_path, "cp", work, 6)  # after the checkpoint: 6 events and a transcript message
    warm = payload("cp")
    assert warm["context"]["snapshot"] == {"source": "checkpoint", "newerEvents": 6}
    (ecc_home / "sessions" / "cp" / "watch-state.json").unlink()
    rebuilt = payload("cp")
    assert rebuilt["context"]["snapshot"]["source"] == "journal"
    assert comparable(warm) == comparable(rebuilt)
    assert warm["toolCalls"]["total"] == cold["toolCalls"]["total"] + 3
    assert warm["cost"]["computedUsd"] > cold["cost"]["computedUsd"]  # the transcript's tail was read too


def test_status_reads_a_checkpoint_and_writes_nothing(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "ro")
    checkpoint("ro")
    before = snapshot(ecc_home)
    assert payload("ro")["context"]["snapshot"]["source"] == "checkpoint"
    assert snapshot(ecc_home) == before


@pytest.mark.parametrize("damage", ["replaced", "truncated", "garbage", "other-schema", "wrong-types"])
def test_a_checkpoint_that_does_not_fit_is_ignored(ecc_home: Path, tmp_path: Path, damage: str) -> None:
    work = make_session(tmp_path, "dm")
    checkpoint("dm")
    state = ecc_home / "sessions" / "dm" / "watch-state.json"
    journal = ecc_home / "sessions" / "dm" / "events.jsonl"
    if damage == "replaced":  # the same records in a new file (renamed over it): another identity
        fresh = journal.with_name("events.new")
        fresh.write_bytes(journal.read_bytes())
        os.chmod(fresh, 0o600)
        with journal.open("rb"):  # the old inode stays alive, so the new file cannot reuse its number
            os.replace(fresh, journal)
    elif damage == "truncated":  # shorter than the checkpoint's offset, then new events
        lines = journal.read_bytes().splitlines(keepends=True)
        journal.write_bytes(b"".join(lines[:2]))
        more_events(tmp_path, "dm", work, 2)
    elif damage == "garbage":
        state.write_bytes(b"{not json")
    elif damage == "other-schema":
        state.write_bytes(json.dumps({"schema": "ecc.watch-state.v0"}).encode())
    else:
        doc = json.loads(state.read_bytes())
        doc["journal"]["offset"] = "far"
        state.write_bytes(json.dumps(doc).encode())
    got = payload("dm")
    assert got["context"]["snapshot"]["source"] == "journal"
    assert got["toolCalls"]["total"] == sum(1 for r in journal_lines(ecc_home, "dm") if r["event"] == "PreToolUse")


def test_inspect_tool_counts_from_the_fold_equal_counting_the_events(ecc_home: Path, tmp_path: Path) -> None:
    work = make_session(tmp_path, "ins")
    more_events(tmp_path, "ins", work, 8)
    state, _, _ = collect.fold_session("ins")
    assert state.tool_names == _claude.tool_counts(journal_lines(ecc_home, "ins"))
    checkpoint("ins")
    resumed, saved, origin = collect.fold_session("ins")
    assert saved is not None and origin.source == "checkpoint" and resumed == state
