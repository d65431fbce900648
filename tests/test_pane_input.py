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
from contextlib import contextmanager
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


@contextmanager
def plain_world() -> Iterator[Plain]:
    """A private tmux server, killed (and its folder removed) on the way out, pass or fail."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed")
    folder = Path(tempfile.mkdtemp(prefix="eccp-"))  # short: a socket path holds 107 bytes
    world = Plain(str(folder / "s"), folder)
    try:
        yield world
    finally:
        world.tmux("kill-server")
        shutil.rmtree(folder, ignore_errors=True)


def prompt_pane(world: Plain, ecc_home: Path) -> tuple[Plain, str, Path]:
    """A pane of ``world`` at the fake Claude Code's permission prompt, recorded as SESSION's SessionStart."""
    pressed = world.folder / "pressed"
    pane = world.start(fake_claude(world.folder, pressed))
    wait_until(lambda: QUESTION in world.screen(pane), 30, "the prompt")
    record(ecc_home, start_event(pane, world.socket))
    return world, pane, pressed


@pytest.fixture
def plain(ecc_home: Path) -> Iterator[Plain]:
    with plain_world() as world:
        yield world


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
    return prompt_pane(plain, ecc_home)


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


def test_a_plain_session_is_named_by_the_short_id_status_shows(at_prompt: tuple[Plain, str, Path]) -> None:
    """``status`` and the HUD show the id's first 8 characters; any unique prefix names the session, an unknown
    one is refused as unknown (not as a session without a pane)."""
    seen = client.run(rec.PaneScreen(SESSION[:8]))
    assert QUESTION in seen.screen
    with pytest.raises(rec.Refused) as unknown:
        client.run(rec.PaneScreen("0badc0de"))
    assert unknown.value.kind == "not-found" and "no session '0badc0de'" in str(unknown.value)
    done = client.run(rec.PaneApprove(SESSION[:8], seen.fingerprint))
    assert "approved" in done.what
