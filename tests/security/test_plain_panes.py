"""A plain Claude Code session's pane is typed into or answered only while it is that session's (``runtime.interact``
through ``runtime.client``): the recorded socket is checked with ``lstat`` (a link, a file, another user's socket are
refused as ``unsafe``), the pane must live and run Claude Code (a screen that merely shows the prompt's words is
not enough), and a session that ended or whose pane a later session took is ``not-found``. No key reaches the pane
in any of these cases. Real tmux servers on private sockets (fixtures in ``tests/test_pane_input.py``)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecc_hooks.core import terminal
from ecc_hooks.runtime import records as rec
from tests.helpers import wait_until
from tests.test_pane_input import (
    QUESTION,
    SCREENS,
    SESSION,
    Plain,
    plain_world,
    prompt_pane,
    record,
    refused,
    start_event,
)


@pytest.fixture
def plain(ecc_home: Path) -> Iterator[Plain]:
    with plain_world() as world:
        yield world


@pytest.fixture
def at_prompt(plain: Plain, ecc_home: Path) -> tuple[Plain, str, Path]:
    return prompt_pane(plain, ecc_home)


def test_no_recorded_pane_an_ended_session_or_a_successor_is_not_found(
    at_prompt: tuple[Plain, str, Path], ecc_home: Path
) -> None:
    plain, pane, pressed = at_prompt
    unknown = "5a1c0b7e-0000-4000-8000-0000000000ff"
    assert f"no session '{unknown}'" in refused(rec.PaneScreen(unknown), "not-found")  # no journal at all
    record(ecc_home, {"schemaVersion": "ecc.event.v1", "ts": "2026-12-07T09:00:00.000Z", "event": "SessionStart",
                      "sessionId": unknown})  # fmt: skip
    assert "no tmux pane is recorded" in refused(rec.PaneScreen(unknown), "not-found")  # a journal, no pane
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


def test_another_users_socket_is_refused_before_tmux_is_pointed_at_it(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("making a socket another user's needs root")
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        assert terminal.socket_problem(str(path)) is None
        os.chown(path, 4242, 4242)
        assert terminal.socket_problem(str(path)) == "another user's"
    finally:
        server.close()
