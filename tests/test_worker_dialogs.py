"""A worker at a Claude Code dialog that waits for the person is ``waiting``, with the dialog's own words as its
reason: from its Notification hook when the client fires one ("Auto mode can't check actions in this session and
needs your choice"), from its screen when it fires none (the folder trust question on every new worktree); and the
person is told once. The dialogs are the pinned client's own (tests/fixtures/captures/dialogs, captured by
tests/e2e/capture_dialogs.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks.capture.hook import handle
from ecc_hooks.hud import notify
from ecc_hooks.hud.state import SessionState
from ecc_hooks.runtime import agents
from ecc_hooks.runtime.detect import JournalFollower
from tests.helpers import FIXTURES, ecc, make_repo, session_payloads, stop_the_supervisor_alone, wait_until

DIALOGS = FIXTURES / "captures" / "dialogs"
TRUST_QUESTION = "Quick safety check: Is this a project you created or one you trust?"
SESSION = "5ec0717e-0000-4000-8000-0000000000d1"


def test_the_client_dialogs_are_read_from_the_screen_in_their_own_words() -> None:
    claude = agents.get("claude")
    trust = (DIALOGS / "trust.txt").read_text()
    assert claude.screen_wait(trust) == TRUST_QUESTION
    assert claude.screen_state(trust) == "waiting"
    auto = (DIALOGS / "auto-mode.txt").read_text()
    assert claude.screen_wait(auto, dialogs_only=True) == "Auto mode can't check actions in this session"
    narrow = trust.replace("one you trust?", "one you\n trust?")  # wrapped to a narrower pane
    assert claude.screen_wait(narrow) == TRUST_QUESTION  # its words, whatever the wrapping
    assert claude.screen_wait("❯ go\n● done\n❯ \n  ⏵⏵ auto mode on") is None
    key = (DIALOGS / "api-key.txt").read_text()  # a new ANTHROPIC_API_KEY: it was "running" at this question
    assert claude.screen_wait(key, dialogs_only=True) == "Detected a custom API key in your environment"
    assert claude.screen_state(key) == "waiting"


def test_the_auto_mode_notification_makes_the_worker_wait_with_its_words_and_notifies_once(ecc_home: Path) -> None:
    captured = json.loads((DIALOGS / "auto-mode-notification.json").read_text())
    assert captured["notification_type"] == "agent_needs_input"
    first = next(p for p in session_payloads(SESSION) if p["hook_event_name"] == "PreToolUse")
    keep = {k: first[k] for k in ("session_id", "transcript_path", "cwd")}
    start = {**keep, "hook_event_name": "SessionStart", "source": "startup"}
    prompt = {**keep, "hook_event_name": "UserPromptSubmit", "prompt": "go"}
    events = [start, prompt, first, {**keep, **captured}, {**keep, **captured}]  # the client may repeat it
    follower = JournalFollower(str(ecc_home / "sessions" / SESSION / "events.jsonl"))
    state = SessionState()
    notified = []
    for payload in events:
        handle(json.dumps(payload).encode(), None, time.time(), start=False)
        before = (state.turn_state, state.waiting_for)
        follower.poll()
        state = follower.state
        event = notify.transition(before, (state.turn_state, state.waiting_for))
        notified += [event] if event == "waiting" else []
        state = SessionState.from_dict(state.to_dict())  # (a copy: the next "before")
    assert follower.verdict() == ("waiting", captured["message"])
    assert notified == ["waiting"]


@pytest.fixture
def trust_screen_claude(tmp_path: Path) -> str:
    """A ``claude`` on PATH that shows the pinned client's trust dialog and waits (as the client does: no hook)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = f'#!/bin/sh\n[ "$1" = --version ] && {{ echo "2.1.328 (Claude Code)"; exit 0; }}\ncat {DIALOGS / "trust.txt"}\nexec sleep 300\n'
    (bin_dir / "claude").write_text(script)
    (bin_dir / "claude").chmod(0o755)
    return f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"


def test_a_worker_at_the_trust_dialog_waits_with_its_question_and_the_person_is_told_once(
    tmp_path: Path, runtime: str, ecc_home: Path, trust_screen_claude: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = tmp_path / "told.log"
    ecc_home.mkdir(mode=0o700, exist_ok=True)
    (ecc_home / "config.toml").write_text(
        f"[notify]\ncommand = 'echo \"$ECC_NOTIFY_EVENT $ECC_NOTIFY_REASON\" >> {told}'\n"
    )
    (ecc_home / "config.toml").chmod(0o600)
    repo = make_repo(tmp_path / "repo", identity=True)
    plan = tmp_path / "p.json"
    workers: list[dict[str, Any]] = [{"name": "new", "task": "t", "agent": "claude"}]
    plan.write_text(json.dumps({"sessionName": "trust", "repoRoot": str(repo), "workers": workers}))
    monkeypatch.setenv("PATH", trust_screen_claude)
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    from ecc_hooks.runtime import store

    def worker() -> Any:
        return store.Store().worker("trust", "new")

    wait_until(lambda: worker().state == "waiting", 60, lambda: f"the worker at the dialog: {worker()}")
    assert worker().reason == TRUST_QUESTION
    status = repo / ".orchestration" / "trust" / "new" / "status.md"  # written just after the store's transition
    wait_until(lambda: "- State: waiting" in status.read_text(), 30, lambda: status.read_text())
    wait_until(told.exists, 30, "the notification")
    stop_the_supervisor_alone()  # then passes of our own: each sees the dialog again, none tells the person again
    from ecc_hooks.runtime.supervisor import Supervisor

    supervisor = Supervisor()
    for _ in range(3):
        supervisor.reconcile_all()
    assert (worker().state, worker().reason) == ("waiting", TRUST_QUESTION)
    listed = ecc("session", "status", "trust", cwd=repo)
    assert TRUST_QUESTION in listed.stdout
    assert told.read_text().splitlines() == [f"waiting {TRUST_QUESTION}"]
    # text sent now would answer the dialog: refused at once, pointing to the pane (it waited 10 s, then typed)
    typed = ecc("session", "send", "trust", "--worker", "new", "yes please", cwd=repo)
    assert typed.returncode == 1, typed.stdout
    assert "waits at a dialog" in typed.stderr and "session attach trust --worker new" in typed.stderr
