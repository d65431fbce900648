"""``session send``, ``approve`` and ``deny`` with real tmux on a private socket and real workers: text reaches the
pane through a tmux buffer (in no command line) and Enter is pressed once it shows; a headless worker and a worker
whose permission prompt's keys are unknown get a refusal saying why and what works instead; a screen that changed
since the person looked is never answered. The permission prompt itself is read from screens of the pinned client
(``tests/fixtures/screens``, captured from Claude Code 2.1.328 in tmux against the scripted API)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.runtime import agents, detect
from tests.helpers import ecc, make_repo, wait_until
from tests.test_session_plan import fake_agent

SCREENS = Path(__file__).parent / "fixtures" / "screens"


def plan(path: Path, repo: Path, name: str, workers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def worker(name: str) -> Any:
    from ecc_hooks.runtime import store

    return store.Store().worker(name, "w")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", identity=True)


@pytest.fixture
def logged_tmux(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A ``tmux`` first on PATH that records its argv, then runs the real one."""
    real = shutil.which("tmux")
    if real is None:
        pytest.skip("tmux not installed")
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "tmux-argv.log"
    (folder / "tmux").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real} "$@"\n')
    (folder / "tmux").chmod(0o755)
    return {"PATH": f"{folder}:{os.environ['PATH']}"}, log


def test_send_types_into_the_pane_and_presses_enter_with_the_text_in_no_command_line(
    tmp_path: Path, repo: Path, runtime: str, logged_tmux: tuple[dict[str, str], Path]
) -> None:
    env, argv_log = logged_tmux
    got = tmp_path / "got"
    step = f"while read -r line; do printf '%s\\n' \"$line\" >> {got}; done"
    p = plan(tmp_path / "p.json", repo, "talk", [{"name": "w", "task": "t", "launcherCommand": step}])
    assert ecc("session", "create", str(p), "--execute", cwd=repo, env=env).returncode == 0
    wait_until(lambda: worker("talk").state == "running", 30, lambda: worker("talk").state)
    secret = "ghp_" + secrets.token_hex(18)
    sent = ecc("session", "send", "talk", "--worker", "w", f"use {secret} now", cwd=repo, env=env)
    assert sent.returncode == 0, sent.stderr
    assert "sent" in sent.stdout and secret not in sent.stdout
    wait_until(lambda: got.exists() and f"use {secret} now" in got.read_text(), 30, "the line to arrive")
    piped = "from stdin " + secrets.token_hex(8)
    by_stdin = ecc("session", "send", "talk", "--worker", "w", "-", cwd=repo, env=env, input=piped + "\n")
    assert by_stdin.returncode == 0, by_stdin.stderr
    wait_until(lambda: piped in got.read_text(), 30, "the piped line to arrive")
    assert got.read_text().splitlines() == [f"use {secret} now", piped]  # one Enter each, nothing else typed
    calls = argv_log.read_text()
    assert "load-buffer" in calls and "paste-buffer" in calls
    assert secret not in calls and piped not in calls  # tmux got them on stdin, never as arguments


def test_headless_workers_are_refused_with_what_works_instead(tmp_path: Path, repo: Path, runtime: str) -> None:
    p = plan(
        tmp_path / "p.json",
        repo,
        "quiet",
        [{"name": "w", "task": "t", "runtime": "headless", "launcherCommand": "sleep 300"}],
    )
    assert ecc("session", "create", str(p), "--execute", cwd=repo).returncode == 0
    wait_until(lambda: worker("quiet").state == "running", 30, lambda: worker("quiet").state)
    for args in (("send", "quiet", "--worker", "w", "hello"), ("approve", "quiet", "--worker", "w")):
        refused = ecc("session", *args, cwd=repo)
        assert refused.returncode == 1
        assert "runs headless" in refused.stderr and "session logs quiet --worker w" in refused.stderr
        assert "session resume quiet --worker w --prompt" in refused.stderr


def test_an_answer_is_refused_when_the_screen_changed_or_its_keys_are_unknown(
    tmp_path: Path, repo: Path, runtime: str
) -> None:
    pressed = tmp_path / "pressed"
    # a script that draws Claude Code's permission prompt: its keys are not known for a script, never pressed
    step = (
        "printf 'Do you want to proceed?\\n \\342\\235\\257 1. Yes\\n   2. No\\n Esc to cancel\\n'; "
        f'while read -r line; do echo "$line" >> {pressed}; done'
    )
    fake_agent(tmp_path / "bin", "claude")  # named by the plan, but a launcherCommand runs: a script
    env = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    spec = {"name": "w", "task": "t", "agent": "claude", "launcherCommand": step}
    p = plan(tmp_path / "p.json", repo, "ask", [spec])
    assert ecc("session", "create", str(p), "--execute", cwd=repo, env=env).returncode == 0
    wait_until(lambda: worker("ask").fingerprint is not None, 30, "its screen")
    changed = ecc("session", "approve", "ask", "--worker", "w", "--screen", "0" * 16, cwd=repo)
    assert (
        changed.returncode == 1
        and "changed since you looked" in changed.stderr
        and "nothing was pressed" in changed.stderr
    )
    looked = ecc("session", "screen", "ask", "--worker", "w", "--json", cwd=repo)
    assert looked.returncode == 0, looked.stderr
    seen = json.loads(looked.stdout)
    assert seen["permissionPrompt"] is None and "Do you want to proceed?" in seen["screen"]  # a script drew it
    assert seen["fingerprint"] == detect.fingerprint(seen["screen"])  # so the whole screen is what was seen
    table = ecc("session", "screen", "ask", "--worker", "w", cwd=repo)
    assert f"--screen {seen['fingerprint']}" in table.stdout and "Do you want to proceed?" in table.stdout
    unknown = ecc("session", "deny", "ask", "--worker", "w", "--screen", seen["fingerprint"], cwd=repo)
    assert "runs a script" in unknown.stderr
    assert (
        unknown.returncode == 1 and "not known" in unknown.stderr and "session attach ask --worker w" in unknown.stderr
    )
    missing = ecc("session", "send", "ask", "--worker", "nobody", "x", cwd=repo)
    assert missing.returncode == 1 and "no worker 'nobody'" in missing.stderr
    assert not pressed.exists()  # no key reached it


@pytest.mark.parametrize(
    ("screen", "question"),
    [
        ("permission-bash", "Bash command\nmake a file\ntouch a.txt\nDo you want to proceed?"),
        ("permission-bash-cursor-on-no", "Bash command\nmake a file\ntouch a.txt\nDo you want to proceed?"),
        ("permission-create", "Create file\nc.txt\n1 hi\nDo you want to create c.txt?"),
        ("idle-after-approve", None),
        ("idle-after-deny", None),
    ],
)
def test_claude_codes_permission_prompt_is_read_from_its_screen(screen: str, question: str | None) -> None:
    text = (SCREENS / f"claude-2.1.328-{screen}.txt").read_text()
    assert agents.get("claude").permission_prompt(text) == question


def test_the_answer_keys_are_the_ones_each_agents_dialog_takes() -> None:
    claude = agents.get("claude")
    assert claude.approve == ("1",) and claude.deny == ("Escape",)  # "1. Yes" (once); Esc cancels, the call not run
    # pressed by tests/e2e/test_runtime_harnesses.py at each pinned agent's own prompt (Aider has none: its questions
    # are answered by typing)
    keys = {a.name: (a.approve, a.deny) for a in agents.AGENTS.values() if a.approve or a.deny}
    assert keys == {
        "claude": (("1",), ("Escape",)),
        "codex": (("y",), ("Escape",)),  # "1. Yes, proceed (y)"; "No, and tell Codex what to do differently (esc)"
        "gemini": (("Enter",), ("Escape",)),  # "1. Allow once" selected; "No, suggest changes (esc)"
        "opencode": (("Enter",), ()),  # "Allow once" selected; its reject keys are not pinned down
    }


@given(st.text(max_size=400))
def test_any_screen_reads_as_a_prompt_or_none_and_a_prompt_ends_with_its_question(screen: str) -> None:
    found = agents.get("claude").permission_prompt(screen)
    if found is not None:
        last = found.splitlines()[-1]
        assert last.startswith("Do you want to") and last.endswith("?")
        assert last in screen


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60))
def test_the_command_asked_about_is_part_of_the_question(command: str) -> None:
    base = (SCREENS / "claude-2.1.328-permission-bash.txt").read_text()
    screen = base.replace("\n touch a.txt\n", f"\n {command}\n", 1)
    assert screen != base or command == "touch a.txt"
    found = agents.get("claude").permission_prompt(screen)
    assert found is not None and found.endswith("Do you want to proceed?")
    if command.strip() and not set(command.strip()) <= set("\u2500\u254c ") and "\x1c" not in command:
        assert command.strip() in found.splitlines()


def test_a_fingerprint_is_the_screens() -> None:
    text = (SCREENS / "claude-2.1.328-permission-bash.txt").read_text()
    assert detect.fingerprint(text) == detect.fingerprint(text) != detect.fingerprint(text + " ")
