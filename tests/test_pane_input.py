"""Any Claude Code session in tmux, not only a runtime worker: ``PaneScreen``, ``PaneApprove``, ``PaneDeny`` and
``PaneSend`` through ``runtime.client`` find the session's pane from its journal's SessionStart (``tmux``) and act
on it with the code a worker's pane uses, after checking that it is still that session's: a socket of this user's
(no link followed), a live pane running Claude Code, a session that did not end or give its pane to another.
Real tmux servers on private sockets; the pane runs a script named ``claude`` drawing the pinned client's
permission prompt (``tests/fixtures/screens``), and records the keys it gets."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecc_hooks.runtime import client
from ecc_hooks.runtime import records as rec
from tests.helpers import ecc, wait_until

SCREENS = Path(__file__).parent / "fixtures" / "screens"
SESSION = "5a1c0b7e-0000-4000-8000-00000000cc03"
QUESTION = "Do you want to proceed?"


@dataclass
class Plain:
    """A tmux server on its own socket with one pane, as a person's own ``tmux`` + ``claude`` would be."""

    socket: str
    folder: Path

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True)
        return done.stdout

    def start(self, command: str) -> str:
        self.tmux("new-session", "-d", "-s", "p", "-x", "120", "-y", "40", command)
        return self.tmux("display-message", "-p", "-t", "p", "#{pane_id}").strip()

    def screen(self, pane: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", pane)


@pytest.fixture
def plain(ecc_home: Path) -> Iterator[Plain]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed")
    folder = Path(tempfile.mkdtemp(prefix="eccp-"))  # short: a socket path holds 107 bytes
    world = Plain(str(folder / "s"), folder)
    try:
        yield world
    finally:
        world.tmux("kill-server")
        shutil.rmtree(folder, ignore_errors=True)


def fake_claude(folder: Path, pressed: Path) -> str:
    """A program named ``claude`` that draws the pinned client's Bash permission prompt, then writes each key
    it reads to ``pressed`` (a line typed and submitted comes as its characters, then a newline)."""
    screen = folder / "screen.txt"
    screen.write_text((SCREENS / "claude-2.1.328-permission-bash.txt").read_text())
    script = folder / "claude"
    script.write_text(
        f"#!/bin/bash\ncat {screen}\nwhile IFS= read -rsn1 key; do printf '%s' \"${{key:-<enter>}}\" >> {pressed}; done\n"
    )
    script.chmod(0o755)
    return f"exec {script}"


def start_event(pane: str, socket: str, session: str = SESSION, ts: str = "2026-12-07T10:00:00.000Z") -> dict:
    return {"schemaVersion": "ecc.event.v1", "ts": ts, "event": "SessionStart", "sessionId": session,
            "tmux": {"socket": socket, "pane": pane}}  # fmt: skip


def record(ecc_home: Path, *events: dict) -> None:
    for event in events:
        journal = ecc_home / "sessions" / event["sessionId"] / "events.jsonl"
        journal.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with journal.open("a") as out:
            out.write(json.dumps(event) + "\n")
        journal.chmod(0o600)


def refused(request: object, kind: str) -> str:
    with pytest.raises(rec.Refused) as caught:
        client.run(request)
    assert caught.value.kind == kind, str(caught.value)
    return str(caught.value)


@pytest.fixture
def at_prompt(plain: Plain, ecc_home: Path) -> tuple[Plain, str, Path]:
    pressed = plain.folder / "pressed"
    pane = plain.start(fake_claude(plain.folder, pressed))
    wait_until(lambda: QUESTION in plain.screen(pane), 30, "the prompt")
    record(ecc_home, start_event(pane, plain.socket))
    return plain, pane, pressed


def test_a_plain_sessions_prompt_is_read_and_approved_with_claude_codes_key(
    at_prompt: tuple[Plain, str, Path],
) -> None:
    plain, pane, pressed = at_prompt
    seen = client.run(rec.PaneScreen(SESSION))
    assert isinstance(seen, rec.ScreenData) and seen.worker == SESSION
    assert seen.prompt is not None and seen.prompt.endswith(QUESTION) and "touch a.txt" in seen.prompt
    typed = refused(rec.PaneSend(SESSION, "hello"), "error")  # text typed at a prompt would answer it
    assert "waits at a permission prompt" in typed
    changed = refused(rec.PaneApprove(SESSION, screen="0" * 16), "error")
    assert "changed since you looked" in changed and not pressed.exists()
    done = client.run(rec.PaneApprove(SESSION, screen=seen.fingerprint))
    assert isinstance(done, rec.InputData) and done.what.startswith("approved: ")
    wait_until(lambda: pressed.exists() and pressed.read_text() == "1", 30, "the key")


def test_a_plain_sessions_prompt_is_denied_with_escape(at_prompt: tuple[Plain, str, Path]) -> None:
    _, _, pressed = at_prompt
    done = client.run(rec.PaneDeny(SESSION))
    assert done.what.startswith("denied: ")
    wait_until(lambda: pressed.exists() and pressed.read_text() == "\x1b", 30, "Escape")


def test_text_reaches_a_plain_sessions_input_from_a_buffer(plain: Plain, ecc_home: Path) -> None:
    pressed = plain.folder / "pressed"
    script = plain.folder / "claude"
    script.write_text(
        f'#!/bin/bash\necho ready\nwhile IFS= read -r line; do echo "got:$line"; echo "$line" >> {pressed}; done\n'
    )
    script.chmod(0o755)
    pane = plain.start(f"exec {script}")
    wait_until(lambda: "ready" in plain.screen(pane), 30, "the pane")
    record(ecc_home, start_event(pane, plain.socket))
    done = client.run(rec.PaneSend(SESSION, "make the file\n"))
    assert done.what == "sent 13 character(s) and Enter"
    wait_until(lambda: pressed.exists() and pressed.read_text() == "make the file\n", 30, "the line")


def test_no_recorded_pane_an_ended_session_or_a_successor_is_not_found(
    at_prompt: tuple[Plain, str, Path], ecc_home: Path
) -> None:
    plain, pane, pressed = at_prompt
    assert "no tmux pane is recorded" in refused(rec.PaneScreen("5a1c0b7e-0000-4000-8000-0000000000ff"), "not-found")
    successor = "5a1c0b7e-0000-4000-8000-00000000dd04"
    record(ecc_home, start_event(pane, plain.socket, successor, "2026-12-07T11:00:00.000Z"))
    assert f"runs session {successor} now" in refused(rec.PaneApprove(SESSION), "not-found")
    record(ecc_home, {"schemaVersion": "ecc.event.v1", "ts": "2026-12-07T12:00:00.000Z", "event": "SessionEnd",
                      "sessionId": successor})  # fmt: skip
    assert "it ended" in refused(rec.PaneScreen(successor), "not-found")
    assert "it ended" in refused(rec.PaneApprove(successor), "not-found")
    assert not pressed.exists()


def test_a_socket_that_is_a_link_or_not_a_socket_is_unsafe(at_prompt: tuple[Plain, str, Path], ecc_home: Path) -> None:
    plain, pane, pressed = at_prompt
    link = plain.folder / "link"
    link.symlink_to(plain.socket)
    record(ecc_home, start_event(pane, str(link), ts="2026-12-07T10:00:01.000Z"))
    assert "not a tmux socket of yours" in refused(rec.PaneApprove(SESSION), "unsafe")
    plain_file = plain.folder / "file"
    plain_file.write_text("")
    record(ecc_home, start_event(pane, str(plain_file), ts="2026-12-07T10:00:02.000Z"))
    assert "not a tmux socket of yours" in refused(rec.PaneScreen(SESSION), "unsafe")
    record(ecc_home, start_event(pane, str(plain.folder / "gone"), ts="2026-12-07T10:00:03.000Z"))
    assert "tmux server is gone" in refused(rec.PaneDeny(SESSION), "not-found")
    assert not pressed.exists()


def test_a_pane_that_runs_something_else_or_is_gone_is_not_found(plain: Plain, ecc_home: Path) -> None:
    lookalike = plain.folder / "prompt.txt"
    lookalike.write_text((SCREENS / "claude-2.1.328-permission-bash.txt").read_text())
    pane = plain.start(f"cat {lookalike}; sleep 300")  # the prompt's words on the screen, no Claude Code behind
    wait_until(lambda: QUESTION in plain.screen(pane), 30, "the look-alike")
    record(ecc_home, start_event(pane, plain.socket))
    assert "no longer runs Claude Code" in refused(rec.PaneApprove(SESSION), "not-found")
    record(ecc_home, start_event("%999", plain.socket, ts="2026-12-07T10:00:01.000Z"))
    assert "pane %999 is gone" in refused(rec.PaneScreen(SESSION), "not-found")


def test_every_pane_verb_is_a_request_the_supervisor_runs_but_the_screen() -> None:
    assert {"pane_send", "pane_approve", "pane_deny"} <= rec.MUTATIONS and "pane_screen" not in rec.MUTATIONS


def test_the_cli_answers_a_claude_session_by_its_id(at_prompt: tuple[Plain, str, Path]) -> None:
    plain, _, pressed = at_prompt
    shown = ecc("session", "screen", "--claude-session", SESSION, "--json", cwd=plain.folder)
    assert shown.returncode == 0, shown.stderr
    seen = json.loads(shown.stdout)
    assert seen["worker"] == SESSION and seen["permissionPrompt"].endswith(QUESTION)
    both = ecc("session", "approve", "some-session", "--claude-session", SESSION, cwd=plain.folder)
    assert both.returncode == 1 and "not both" in both.stderr
    neither = ecc("session", "deny", "some-session", cwd=plain.folder)
    assert neither.returncode == 1 and "--claude-session ID" in neither.stderr
    assert not pressed.exists()
    done = ecc("session", "approve", "--claude-session", SESSION, "--screen", seen["fingerprint"], cwd=plain.folder)
    assert done.returncode == 0, done.stderr
    assert f"{SESSION}: approved: " in done.stdout
    wait_until(lambda: pressed.exists() and pressed.read_text() == "1", 30, "the key")
