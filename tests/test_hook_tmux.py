"""Where a session runs: the SessionStart event records the hook's tmux server and pane (``$TMUX``, ``$TMUX_PANE``)
on both recording paths (the hook itself, the watcher it relays to), checked by ``core.terminal``; bad values are
dropped, other events carry nothing, and the watcher never records its own pane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.cli import install
from ecc_hooks.core import terminal
from ecc_hooks.models.event import Event
from tests.helpers import journal_lines, run_hook
from tests.test_relay import run_installed, served

SESSION = "5a1c0b7e-0000-4000-8000-00000000aa01"
SOCKET = "/tmp/tmux-1000/default"

path_chars = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cf", "Co", "Cn", "Zs"))
sockets = st.builds(
    lambda tail: "/" + tail, st.text(path_chars | st.just(" ") | st.just(","), min_size=1, max_size=200)
)
panes = st.integers(min_value=0, max_value=10**9 - 1).map(lambda n: f"%{n}")


def start_payload(session: str = SESSION, event: str = "SessionStart") -> bytes:
    return json.dumps(
        {"session_id": session, "hook_event_name": event, "cwd": "/nowhere", "source": "startup"}
    ).encode()


@given(socket=sockets, pid=st.integers(0, 2**31), index=st.integers(-1, 10**6), pane=panes)
def test_tmux_s_environment_names_its_socket_and_pane(socket: str, pid: int, index: int, pane: str) -> None:
    where = terminal.terminal(f"{socket},{pid},{index}", pane)
    assert where == {"socket": socket, "pane": pane}  # a path holding commas too: the last two fields are cut
    assert terminal.checked(where) == (socket, pane)
    Event.model_validate({"schemaVersion": "ecc.event.v1", "ts": "t", "event": "SessionStart", "sessionId": "s",
                          "tmux": where})  # fmt: skip


@given(tmux=st.text(max_size=300), pane=st.one_of(st.none(), st.text(max_size=20)))
def test_any_environment_gives_a_valid_field_or_none(tmux: str, pane: str | None) -> None:
    where = terminal.terminal(tmux, pane)
    if where is not None:
        assert where["socket"].startswith("/") and where["socket"].isprintable()
        assert len(where["socket"]) <= terminal.SOCKET_MAX
        assert where["pane"][0] == "%" and where["pane"][1:].isascii() and where["pane"][1:].isdigit()
        assert terminal.checked(where) is not None


@pytest.mark.parametrize(
    ("tmux", "pane"),
    [
        ("relative/sock,1,0", "%1"),  # not absolute
        ("/tmp/s\nx,1,0", "%1"),  # a control character
        ("/tmp/s,1", "%1"),  # no session index
        ("/tmp/s,x,0", "%1"),  # no pid
        ("/tmp/s,1,0", "1"),  # not %N
        ("/tmp/s,1,0", "%1;kill"),
        ("/tmp/s,1,0", "%١"),  # an Arabic-Indic digit
        ("/tmp/s,1,0", None),
        ("/" + "a" * 2000 + ",1,0", "%1"),  # too long
        ("", "%1"),
    ],
)
def test_a_malformed_environment_is_dropped(tmux: str, pane: str | None) -> None:
    assert terminal.terminal(tmux, pane) is None


def test_a_recorded_field_is_checked_again_when_read() -> None:
    assert terminal.checked({"socket": SOCKET, "pane": "%3"}) == (SOCKET, "%3")
    for bad in ({"socket": "rel", "pane": "%3"}, {"socket": SOCKET, "pane": "3"}, {"socket": SOCKET}, "x", None):
        assert terminal.checked(bad) is None


def env_of(tmux: str | None, pane: str | None) -> dict[str, str]:
    env = {}
    if tmux is not None:
        env["TMUX"] = tmux
    if pane is not None:
        env["TMUX_PANE"] = pane
    return env


def test_the_hook_records_its_pane_at_session_start_only(ecc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("TMUX_PANE", raising=False)
    inside = env_of(f"{SOCKET},4242,0", "%7")
    run_hook(start_payload(), inside)
    run_hook(start_payload(event="UserPromptSubmit"), inside)
    run_hook(start_payload(), env_of(f"{SOCKET},4242,0", "%7;x"))  # a bad pane: dropped, the event kept
    run_hook(start_payload())  # outside tmux
    first, prompt, bad, outside = journal_lines(ecc_home, SESSION)
    assert first["tmux"] == {"socket": SOCKET, "pane": "%7"}
    assert "tmux" not in prompt and "tmux" not in bad and "tmux" not in outside
    assert bad["event"] == "SessionStart"
    for record in (first, prompt, bad, outside):
        Event.model_validate(record)


def test_the_watcher_records_the_hooks_pane_never_its_own(
    daemons, ecc_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUX", "/tmp/the-watchers-own,1,0")  # the watcher was started from some pane
    monkeypatch.setenv("TMUX_PANE", "%99")
    served(daemons, ecc_home)
    monkeypatch.delenv("TMUX")
    monkeypatch.delenv("TMUX_PANE")
    _, loaded = run_installed(install.HOOK_MODULE, start_payload(), tmp_path, env_of(f"{SOCKET},4242,0", "%7"))
    assert "ecc_hooks.capture.hook" not in loaded  # the watcher recorded it
    _, loaded = run_installed(install.HOOK_MODULE, start_payload(), tmp_path)
    assert "ecc_hooks.capture.hook" not in loaded
    relayed, outside = journal_lines(ecc_home, SESSION)
    assert relayed["tmux"] == {"socket": SOCKET, "pane": "%7"}
    assert "tmux" not in outside  # not the watcher's own pane
