"""The person is told once when a runtime worker finishes or fails (``[notify]``, the same command the watcher runs
for sessions): the supervisor sends ``finished`` when a worker becomes ``completed`` and ``failed`` (with why, redacted
and inert) when it fails, once per transition; what a restarted supervisor finds ended long ago is history, as the
watcher's catch-up is; and an end the worker's own hooks told the watcher is told by the watcher alone.

Real git, real processes (headless workers, a stand-in ``claude`` in tmux on the test's own socket), the real hook,
the real watcher; the notify command appends one line per notification to a file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ecc, hud, make_repo, run_hook, running, stop_the_supervisor_alone, wait_until

SECRET = "ghp_Q8mZ2xT4vL9pR3sK7wN1bY6cF0hJ5dGa"


def configure(ecc_home: Path, told: Path) -> None:
    """A notify command that appends event|session|name|reason to ``told``."""
    ecc_home.mkdir(mode=0o700, exist_ok=True)
    command = (
        f'printf "%s|%s|%s|%s\\n" "$ECC_NOTIFY_EVENT" "$ECC_NOTIFY_SESSION" "$ECC_NOTIFY_NAME" '
        f'"$ECC_NOTIFY_REASON" >> {told}'
    )
    (ecc_home / "config.toml").write_text(f"[notify]\ncommand = '{command}'\n")
    (ecc_home / "config.toml").chmod(0o600)


def lines(told: Path) -> list[str]:
    return told.read_text().splitlines() if told.exists() else []


def create(repo: Path, tmp: Path, name: str, workers: list[dict[str, Any]]) -> None:
    plan = tmp / f"{name}.json"
    plan.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr


def states(name: str) -> dict[str, str]:
    from ecc_hooks.runtime import store

    return {w.slug: w.state for w in store.Store().workers(name)}


def headless(name: str, go: Path, then: str) -> dict[str, Any]:
    """A worker that runs until ``go`` exists, then does ``then``."""
    command = f"while [ ! -e {go} ]; do sleep 0.1; done; {then}"
    return {"name": name, "task": f"the {name} task", "launcherCommand": command, "runtime": "headless"}


FAILING = f"echo 'error: push refused with {SECRET} \033]0;pwn\007'; exit 3"


def test_a_worker_that_finishes_or_fails_is_told_once_each(tmp_path: Path, runtime: str, ecc_home: Path) -> None:
    told = tmp_path / "told.log"
    configure(ecc_home, told)
    repo = make_repo(tmp_path / "repo")
    go = tmp_path / "go"
    create(repo, tmp_path, "ends", [headless("good", go, "true"), headless("bad", go, FAILING)])
    wait_until(lambda: states("ends") == {"good": "running", "bad": "running"}, 60, lambda: str(states("ends")))
    assert lines(told) == []  # starting and running tell nothing
    go.touch()
    wait_until(lambda: len(lines(told)) >= 2, 60, lambda: f"two notifications: {lines(told)} {states('ends')}")
    assert states("ends") == {"good": "completed", "bad": "failed"}
    stop_the_supervisor_alone()  # then passes of our own: none tells the person again
    from ecc_hooks.runtime.supervisor import Supervisor

    supervisor = Supervisor()
    for _ in range(3):
        supervisor.reconcile_all()
    time.sleep(0.5)  # a notification would be on its own thread
    got = sorted(lines(told))
    assert len(got) == 2, got
    assert got[1] == "finished|ends/good|ends/good|the good task"
    event, session, name, reason = got[0].split("|")
    assert (event, session, name) == ("failed", "ends/bad", "ends/bad")
    assert "exited with status 3" in reason and "error: push refused with" in reason
    assert SECRET not in reason and "\x1b" not in reason and "\x07" not in reason


def test_what_a_restarted_supervisor_catches_up_on_is_history(tmp_path: Path, runtime: str, ecc_home: Path) -> None:
    """Workers that ended while no supervisor ran: ten minutes ago (their exit status written then) tells nothing,
    a moment ago tells (the watcher's rule: ``notify.RECENT``)."""
    from ecc_hooks.hud import notify
    from ecc_hooks.runtime import launch, store
    from ecc_hooks.runtime.supervisor import Supervisor

    told = tmp_path / "told.log"
    configure(ecc_home, told)
    repo = make_repo(tmp_path / "repo")
    go = tmp_path / "go"
    workers = [headless("good", go, "true"), headless("bad", go, FAILING), headless("late", go, "exit 4")]
    create(repo, tmp_path, "away", workers)
    wait_until(lambda: set(states("away").values()) == {"running"}, 60, lambda: str(states("away")))
    stop_the_supervisor_alone()
    go.touch()
    rows = {w.slug: w for w in store.Store().workers("away")}
    exits = {slug: Path(launch.exit_path("away", slug, w.launch_token or "")) for slug, w in rows.items()}
    wait_until(lambda: all(p.exists() for p in exits.values()), 60, "the exit statuses")
    long_ago = time.time() - 10 * notify.RECENT
    for slug in ("good", "bad"):
        os.utime(exits[slug], (long_ago, long_ago))
    supervisor = Supervisor()  # a new process's first pass: it never saw them end
    supervisor.reconcile_all()
    assert states("away") == {"good": "completed", "bad": "failed", "late": "failed"}
    wait_until(lambda: lines(told), 30, "the notification of the one that ended a moment ago")
    supervisor.reconcile_all()
    time.sleep(0.5)  # a notification would be on its own thread
    assert [line.split("|")[:3] for line in lines(told)] == [["failed", "away/late", "away/late"]]


@pytest.fixture
def sleepy_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``claude`` on PATH that answers ``--version`` and otherwise sleeps (a client at its prompt)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "2.1.328 (Claude Code)"; exit 0; }\nexec sleep 300\n'
    )
    (bin_dir / "claude").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")


def fire(session: str, cwd: Path, event: str, **fields: Any) -> None:
    """One hook event of the worker's Claude Code session, through the real hook."""
    payload = {"session_id": session, "cwd": str(cwd), "hook_event_name": event, **fields}
    done = run_hook(json.dumps(payload).encode())
    assert done.returncode == 0, done.stderr


def test_an_end_the_workers_hooks_told_is_told_by_the_watcher_alone(
    tmp_path: Path, runtime: str, ecc_home: Path, sleepy_claude: None, daemons: Any
) -> None:
    """A Claude Code worker whose turn ended (Stop) is ``completed``: the watcher tells ``finished`` for its session,
    the supervisor nothing more. One whose session ended mid-turn is ``failed``: no hook says so to the watcher, so
    the supervisor tells it."""
    told = tmp_path / "told.log"
    configure(ecc_home, told)
    running(daemons("--idle-exit", "300"))
    repo = make_repo(tmp_path / "repo", identity=True)
    create(repo, tmp_path, "hooks", [{"name": n, "task": "t", "agent": "claude"} for n in ("done", "cut")])
    from ecc_hooks.runtime import store

    rows = {w.slug: w for w in store.Store().workers("hooks")}
    for slug, row in rows.items():
        sid, cwd = row.agent_session or "", Path(row.worktree)
        fire(sid, cwd, "SessionStart", source="startup")
        fire(sid, cwd, "UserPromptSubmit", prompt="t")
        if slug == "done":
            # a real turn lasts at least a model call: the watcher sees it running before it ends (fired at once, the
            # three events could be folded in one batch, a session's first sight, which tells nothing)
            wait_until(lambda sid=sid: ((hud(ecc_home, sid) or {}).get("context") or {}).get("turnState") == "running",
                       60, "the watcher to see the turn running")  # fmt: skip
            fire(sid, cwd, "Stop", last_assistant_message="All done.")
        else:
            fire(sid, cwd, "SessionEnd", reason="other")
    want = {"done": "completed", "cut": "failed"}
    wait_until(lambda: states("hooks") == want, 60, lambda: str(states("hooks")))
    wait_until(lambda: len(lines(told)) >= 2, 60, lambda: f"two notifications: {lines(told)}")
    time.sleep(1.5)  # a second one for either would come within a pass or two
    done, cut = rows["done"], rows["cut"]
    folder = os.path.basename(done.worktree)
    assert sorted(lines(told)) == sorted(
        [
            f"finished|{done.agent_session}|{folder} {(done.agent_session or '')[:8]}|All done.",
            f"failed|{cut.agent_session}|hooks/cut|the session ended (other) before its turn did",
        ]
    )
