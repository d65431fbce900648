"""Many sessions starting at once, through the real hook command: the watcher sees every one without
waiting for a later event, whatever the interleaving (new session folders, new transcript folders, new
subagent files, a watcher restarted in the middle).

A session the watcher missed would only be folded at its next event; these tests send no next event
until every snapshot is right, so a miss fails them (by their deadline) instead of healing unseen.
How fast the snapshots come is measured by benchmarks/bench_watch.py (no wall-clock asserts here)."""

from __future__ import annotations

import json
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ecc_hooks.hud import watcher as watch
from tests.helpers import alive, comparable, hud, rebuilt, run_hook, running, wait_until
from tests.usage_lines import assistant, dump

SESSIONS = 20


def _ids(prefix: str) -> list[str]:
    return [f"{prefix}-{i:02d}" for i in range(SESSIONS)]


def _transcript(tmp_path: Path, session: str) -> Path:
    """Each session its own project folder (a transcript folder the watcher has never seen)."""
    path = tmp_path / "projects" / f"-w-{session}" / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump(assistant(f"msg_{session}", inp=1000 + len(session), out=50, ts="2026-05-12T10:00:00.000Z")))
    return path


def _payload(session: str, event: str, transcript: Path, cwd: Path, **extra: object) -> bytes:
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": str(transcript),
            "cwd": str(cwd),
            "hook_event_name": event,
            "permission_mode": "default",
            **extra,
        }
    ).encode()


def _all_at_once(payloads: list[bytes], env: dict[str, str] | None = None) -> None:
    """Run the hook for every payload at the same moment (one process each), as parallel agents do."""
    gate = threading.Barrier(len(payloads))

    def one(payload: bytes) -> int:
        gate.wait()
        return run_hook(payload, env=env).returncode

    with ThreadPoolExecutor(len(payloads)) as pool:
        assert list(pool.map(one, payloads)) == [0] * len(payloads)


def _caught_up(home: Path, sessions: list[str], check) -> None:
    """Every session's hud.json equals a fresh rebuild and passes ``check`` (no further event is sent)."""
    pending = set(sessions)

    def done() -> bool:
        for sid in sorted(pending):
            snapshot = hud(home, sid)
            if snapshot is not None and check(snapshot) and comparable(snapshot) == rebuilt(sid):
                pending.discard(sid)
        return not pending

    try:
        wait_until(done, 120, "every session's snapshot")
    except AssertionError:
        raise AssertionError(f"{len(pending)} of {len(sessions)} sessions never caught up: {sorted(pending)}") from None


def _later_events(home: Path, tmp_path: Path, sessions: list[str], transcripts: dict[str, Path]) -> None:
    """A prompt to every session at once, and a subagent transcript appearing in every transcript folder."""
    before = {sid: hud(home, sid)["cost"]["computedUsd"] for sid in sessions}
    for sid in sessions:
        sub = transcripts[sid].with_suffix("") / "subagents" / "agent-a1.jsonl"
        sub.parent.mkdir(parents=True)
        sub.write_bytes(dump(assistant(f"msg_sub_{sid}", inp=7000, out=300, ts="2026-05-12T10:00:05.000Z")))
    _all_at_once(
        [_payload(sid, "UserPromptSubmit", transcripts[sid], tmp_path, prompt=f"task for {sid}") for sid in sessions]
    )

    def prompted(snapshot: dict) -> bool:
        return snapshot["context"]["turnState"] == "running"

    _caught_up(home, sessions, prompted)
    for sid in sessions:  # the subagent's usage counts: its file, in a folder that appeared late, was read
        assert hud(home, sid)["cost"]["computedUsd"] > before[sid]


def test_twenty_sessions_starting_together_through_the_hook(daemons, ecc_home: Path, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ECC_HOOKS_NO_WATCHER")  # the first SessionStart spawns the watcher, as in real use
    sessions = _ids("burst")
    transcripts = {sid: _transcript(tmp_path, sid) for sid in sessions}
    _all_at_once([_payload(sid, "SessionStart", transcripts[sid], tmp_path, source="startup") for sid in sessions])
    pid = wait_until(lambda: (watch.lock_holder() or 0) > 0 and watch.lock_holder(), 60, "the spawned watcher")
    daemons.pids.append(pid)

    def started(snapshot: dict) -> bool:
        return snapshot["context"]["turnState"] == "idle" and snapshot["cost"]["computedUsd"] is not None

    _caught_up(ecc_home, sessions, started)
    _later_events(ecc_home, tmp_path, sessions, transcripts)
    assert watch.lock_holder() == pid  # one watcher did it all
    assert not (ecc_home / "watch.log").exists()


def test_sessions_starting_while_the_watcher_restarts(daemons, ecc_home: Path, tmp_path: Path) -> None:
    sessions = _ids("restart")
    transcripts = {sid: _transcript(tmp_path, sid) for sid in sessions}
    first = daemons("--idle-exit", "300")
    running(first)
    starts = [_payload(sid, "SessionStart", transcripts[sid], tmp_path, source="startup") for sid in sessions]
    burst = threading.Thread(target=_all_at_once, args=(starts,))
    burst.start()
    # kill -9 the watcher in the middle of the burst, then a new one takes over
    wait_until(lambda: len(os.listdir(ecc_home / "sessions")) >= SESSIONS // 3, 60, "a third of the sessions")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert not alive(first.pid)
    running(daemons("--idle-exit", "300"))
    burst.join(timeout=120)

    def started(snapshot: dict) -> bool:
        return snapshot["context"]["turnState"] == "idle"

    _caught_up(ecc_home, sessions, started)
    _later_events(ecc_home, tmp_path, sessions, transcripts)
