"""The watcher daemon through real subprocesses: single instance, --status, --stop, idle exit, the
SessionStart spawn, hud.json kept current, and kill -9 during heavy writes (snapshot == fresh rebuild)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ecc_hooks.hud import watcher as watch
from tests.helpers import (
    REPO,
    alive,
    comparable,
    git,
    hud,
    make_repo,
    rebuilt,
    run_hook,
    running,
    session_payloads,
    wait_until,
)
from tests.usage_lines import assistant, dump

PY = sys.executable


# ---------------------------------------------------------------------------- lifecycle


def test_single_instance_status_and_stop(daemons, ecc_home: Path) -> None:
    status = subprocess.run(
        [PY, "-m", "ecc_hooks.cli.watch", "--status"], capture_output=True, text=True, cwd=str(REPO)
    )
    assert status.returncode == 1 and "no watcher" in status.stderr
    first = daemons()
    pid = running(first)
    second = daemons()
    assert second.wait(timeout=60) == 1
    assert f"already runs for {ecc_home} (pid {pid})" in second.stderr.read().decode()
    detached = subprocess.run([PY, "-m", "ecc_hooks", "watch"], capture_output=True, text=True, cwd=str(REPO))
    assert detached.returncode == 1 and f"pid {pid}" in detached.stderr
    status = subprocess.run([PY, "-m", "ecc_hooks", "watch", "--status"], capture_output=True, text=True, cwd=str(REPO))
    assert status.returncode == 0 and f"pid {pid}" in status.stdout
    assert (ecc_home / "watch.lock").read_text().strip() == str(pid)
    stop = subprocess.run([PY, "-m", "ecc_hooks", "watch", "--stop"], capture_output=True, text=True, cwd=str(REPO))
    assert stop.returncode == 0 and f"pid {pid}" in stop.stdout
    assert first.wait(timeout=60) == 0
    assert watch.lock_holder() is None


def test_idle_exit(daemons) -> None:
    proc = daemons("--idle-exit", "1")
    running(proc)
    assert proc.wait(timeout=60) == 0
    assert watch.lock_holder() is None


def test_cli_start_detaches_and_stop_ends_it(daemons, ecc_home: Path) -> None:
    start = subprocess.run(
        [PY, "-m", "ecc_hooks", "watch", "--idle-exit", "120"],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        timeout=60,
    )
    assert start.returncode == 0, start.stderr
    pid = watch.lock_holder()
    daemons.pids.append(pid)
    assert pid and f"pid {pid}" in start.stdout and alive(pid)
    assert os.getsid(pid) == pid  # its own session: a closing terminal or hook does not take it down
    subprocess.run([PY, "-m", "ecc_hooks", "watch", "--stop"], check=True, capture_output=True, cwd=str(REPO))
    wait_until(lambda: not alive(pid), 60, "the detached watcher to exit")


def test_cli_start_from_a_project_with_a_look_alike_package(daemons, ecc_home: Path, tmp_path: Path) -> None:
    # `ecc-hooks watch` typed in a project: a folder of the project's own must not stand in for ours.
    project = tmp_path / "project"
    decoy = project / "ecc_hooks"
    decoy.mkdir(parents=True)
    marker = tmp_path / "decoy-imported"
    (decoy / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (decoy / "watch.py").write_text("raise SystemExit(0)\n")
    start = subprocess.run(
        # The CLI itself must be ours too: the working directory off sys.path on every Python (-P is 3.11+).
        [
            PY,
            "-c",
            "import sys;sys.path[:]=[p for p in sys.path if p];from ecc_hooks.cli import main;"
            "sys.exit(main(sys.argv[1:]))",
            "watch",
            "--idle-exit",
            "120",
        ],
        capture_output=True,
        text=True,
        cwd=str(project),
        timeout=60,
    )
    pid = watch.lock_holder()
    if pid:
        daemons.pids.append(pid)
    assert start.returncode == 0, start.stderr
    assert pid and f"pid {pid}" in start.stdout and not marker.exists()


def test_session_start_hook_spawns_the_watcher(daemons, ecc_home: Path, monkeypatch) -> None:
    monkeypatch.delenv("ECC_HOOKS_NO_WATCHER")
    payloads = session_payloads("sess-spawn")
    start = next(p for p in payloads if p["hook_event_name"] == "SessionStart")
    result = run_hook(json.dumps(start).encode())
    assert result.returncode == 0 and result.stdout == b"" and result.stderr == b""
    pid = wait_until(lambda: (watch.lock_holder() or 0) > 0 and watch.lock_holder(), 60, "the spawned watcher")
    daemons.pids.append(pid)
    assert os.getsid(pid) == pid
    assert wait_until(lambda: hud(ecc_home, "sess-spawn"), 60, "hud.json")["context"]["sessionId"] == "sess-spawn"
    # A second SessionStart while it runs spawns nothing new.
    run_hook(json.dumps(start).encode())
    time.sleep(0.5)
    assert watch.lock_holder() == pid
    assert not (ecc_home / "errors.log").exists()


def test_no_watcher_env_keeps_the_hook_from_spawning(ecc_home: Path) -> None:
    start = next(p for p in session_payloads("sess-off") if p["hook_event_name"] == "SessionStart")
    assert run_hook(json.dumps(start).encode()).returncode == 0
    time.sleep(1.0)
    assert watch.lock_holder() is None


# ---------------------------------------------------------------------------- snapshots


def test_hud_follows_hook_events_and_transcript(daemons, ecc_home: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "projects" / "-w" / "sess-live.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_bytes(dump(assistant("msg_1", inp=1000, out=200, ts="2026-05-12T10:00:00.000Z")))
    payloads = session_payloads("sess-live", transcript)
    run_hook(json.dumps(payloads[0]).encode())
    proc = daemons("--idle-exit", "300")
    running(proc)
    wait_until(lambda: (hud(ecc_home, "sess-live") or {}).get("cost", {}).get("computedUsd"), 60, "a priced hud")
    for payload in payloads[1:]:
        assert run_hook(json.dumps(payload).encode()).returncode == 0
    with transcript.open("ab") as handle:
        handle.write(dump(assistant("msg_2", inp=5000, out=900, ts="2026-05-12T10:01:00.000Z")))
    want = rebuilt("sess-live")
    assert want["toolCalls"]["total"] > 0
    wait_until(lambda: comparable(hud(ecc_home, "sess-live") or {}) == want, 60, "hud == rebuild")
    assert not (ecc_home / "watch.log").exists()


WRITER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from ecc_hooks.capture import hook
session, worker, count, transcript, cwd = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
import os
while not os.path.exists(os.path.join(cwd, "go")):  # start together, once the daemon has a state file
    time.sleep(0.01)
base = {"session_id": session, "transcript_path": transcript, "cwd": cwd, "permission_mode": "default"}
for i in range(count):
    tid = f"toolu_{worker}_{i}"
    cmd = "pytest -q" if i % 7 == 0 else f"echo {i}"
    pre = {**base, "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_use_id": tid,
           "tool_input": {"command": cmd, "description": "x"}}
    hook.handle(json.dumps(pre).encode(), None, time.time())
    if i % 5 != 4:  # some calls stay pending
        post = {**base, "hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": tid,
                "tool_input": {"command": cmd, "description": "x"},
                "tool_response": {"stdout": str(i), "stderr": "", "interrupted": False}}
        hook.handle(json.dumps(post).encode(), None, time.time())
    if i % 25 == 0:  # pace the writes so they span the kills however fast or loaded the machine is
        time.sleep(0.03)
"""

TRANSCRIPT_WRITER = r"""
import json, sys, time
path, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    for part, out in ((0, 1), (1, 40 + i)):  # one response as two lines sharing message.id (partial output first)
        line = {"type": "assistant", "isSidechain": False, "timestamp": "2026-05-12T10:%02d:%02d.000Z" % (i // 60 % 60, i % 60),
                "message": {"id": f"msg_{i}", "model": "claude-sonnet-4-5-20250929", "role": "assistant",
                            "content": [{"type": "text", "text": "x"}],
                            "usage": {"input_tokens": 100 + i, "output_tokens": out, "cache_read_input_tokens": 10,
                                      "cache_creation_input_tokens": 5}},
                "requestId": f"req_{i}", "uuid": f"u{i}-{part}"}
        with open(path, "ab") as h:
            h.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
    if i % 20 == 0:
        time.sleep(0.001)
"""


def test_kill_9_during_heavy_writes_then_restart_equals_fresh_rebuild(daemons, ecc_home: Path, tmp_path: Path) -> None:
    session = "sess-fault"
    transcript = tmp_path / "projects" / "-w" / f"{session}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_bytes(b"")
    start = {**session_payloads(session, transcript)[0]}
    run_hook(json.dumps(start).encode())
    rng = random.Random(6)
    daemon = daemons("--idle-exit", "300")
    running(daemon)
    writers = [
        subprocess.Popen(
            [PY, "-c", WRITER, str(REPO), session, f"w{k}", "600", str(transcript), str(tmp_path)], cwd=str(REPO)
        )
        for k in range(4)
    ]
    writers.append(subprocess.Popen([PY, "-c", TRANSCRIPT_WRITER, str(transcript), "1500"]))
    kills = 0
    try:
        for k in range(3):  # kill -9 while the writers run, restart at once
            state = ecc_home / "sessions" / session / "watch-state.json"
            wait_until(state.exists, 60, "a first state file")
            (tmp_path / "go").touch()
            time.sleep(rng.uniform(0.1, 0.6))
            if k and all(w.poll() is not None for w in writers):
                break
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=30)
            kills += 1
            daemon = daemons("--idle-exit", "300")
            running(daemon)
    finally:
        for w in writers:
            assert w.wait(timeout=300) == 0
    assert kills >= 1
    want = rebuilt(session)
    assert want["toolCalls"]["total"] == 4 * 600 and want["toolCalls"]["pending"] == 4 * 120
    assert want["cost"]["computedUsd"]
    final = {}

    def caught_up() -> bool:
        final.update(comparable(hud(ecc_home, session) or {}))
        return final == want

    try:
        wait_until(caught_up, 120, "hud == rebuild after kill -9")
    except AssertionError:
        diff = {k: (final.get(k), want.get(k)) for k in want if final.get(k) != want.get(k)}
        raise AssertionError(f"snapshot differs from a fresh rebuild: {diff}") from None
    # And a daemon restarted on a quiet tree resumes from its state file to the same snapshot.
    daemon.send_signal(signal.SIGKILL)
    daemon.wait(timeout=30)
    (ecc_home / "sessions" / session / "hud.json").unlink()
    running(daemons("--idle-exit", "300"))
    wait_until(lambda: comparable(hud(ecc_home, session) or {}) == want, 60, "hud rebuilt from the state file")


def test_exits_when_its_home_is_deleted(daemons, ecc_home: Path) -> None:
    import shutil

    start = next(p for p in session_payloads("sess-gone") if p["hook_event_name"] == "SessionStart")
    run_hook(json.dumps(start).encode())
    proc = daemons("--idle-exit", "600")
    running(proc)
    wait_until(lambda: hud(ecc_home, "sess-gone"), 60, "the first snapshot (the daemon is past its setup)")
    shutil.rmtree(ecc_home)
    assert proc.wait(timeout=60) == 0


def test_git_facts_catch_up_with_a_worktree_change_no_event_follows(
    ecc_home: Path, tmp_path: Path, monkeypatch
) -> None:
    """A tool changes the worktree while git facts are cached: the snapshot must not keep the old facts.

    Found by the live-chain e2e test: a print run's Bash wrote a file, its PostToolUse came within the git
    cache's TTL, no event followed, and hud.json said ``dirtyWorktree: false`` until the daemon exited.
    Now a turn end reads git at once, and a session built from cached facts is rebuilt once they expire.
    """
    from ecc_hooks.capture import hook

    monkeypatch.setenv("ECC_HOOKS_NO_WATCHER", "1")
    repo = make_repo(tmp_path / "repo")
    base = {
        "session_id": "sess-git",
        "transcript_path": str(tmp_path / "absent.jsonl"),
        "cwd": str(repo),
        "permission_mode": "default",
    }

    def send(**payload: object) -> None:
        hook.handle(json.dumps({**base, **payload}).encode(), None, time.time())

    def dirty() -> object:
        return (hud(ecc_home, "sess-git") or {})["risk"]["dirtyWorktree"]

    watcher = watch.Watcher(idle_exit=300)
    watcher.git.ttl = 3600.0  # cached facts stay valid until the test expires them
    send(hook_event_name="SessionStart", source="startup")
    send(hook_event_name="UserPromptSubmit", prompt="go")
    assert watcher.process("sess-git") and dirty() is False

    (repo / "new.txt").write_text("made by the tool\n")
    tool = {"tool_name": "Bash", "tool_use_id": "toolu_1", "tool_input": {"command": "echo > new.txt"}}
    send(hook_event_name="PreToolUse", **tool)
    send(hook_event_name="PostToolUse", tool_response={"stdout": "", "stderr": "", "interrupted": False}, **tool)
    assert watcher.process("sess-git")
    assert dirty() is False and "sess-git" in watcher.git_owed  # built from facts read before the write
    watcher.settle_git()
    assert dirty() is False and "sess-git" in watcher.git_owed  # still cached: nothing to do yet
    watcher.git.ttl = 0.0
    watcher.settle_git()  # no new event: the owed rebuild reads git again
    assert dirty() is True and watcher.git_owed == {}
    assert comparable(hud(ecc_home, "sess-git") or {}) == rebuilt("sess-git")

    watcher.git.ttl = 3600.0
    git(repo, "add", "new.txt")
    git(repo, "commit", "-q", "-m", "tool output")
    send(hook_event_name="Stop", stop_hook_active=False)
    assert watcher.process("sess-git")
    assert dirty() is False and watcher.git_owed == {}  # the turn ended: git read at once, not from cache
