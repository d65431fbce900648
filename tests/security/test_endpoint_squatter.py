"""No tool payload ever reaches a loopback listener that is not the user's (http transport's port).

The default install writes no HTTP hook at all (nothing Claude Code could post to a port someone else holds).
With ``--transport http``, a session whose SessionStart finds the endpoint's port held by another user (uid
65534 bound it while no watcher ran) rewrites the HTTP hooks to command hooks before any tool call, and the
user is told: the status line's row, ``status`` and ``doctor``. The real client's side (it reloads the rewritten
settings before the first tool call) is tests/e2e/test_endpoint_squatter.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ecc_hooks.cli import install
from ecc_hooks.core import endpoint
from tests.security.squatter import NOBODY, squatting
from tests.test_install import cli

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to listen as another user")
SESSION = "5ec0717e-0000-4000-8000-00000005qa77".replace("q", "0")


def http_handlers(settings: Path) -> list[dict]:
    hooks = json.loads(settings.read_text()).get("hooks", {})
    return [h for groups in hooks.values() for g in groups for h in g["hooks"] if h.get("type") == "http"]


def test_the_default_install_writes_nothing_that_posts_to_a_port(tmp_path: Path, ecc_home: Path) -> None:
    settings = tmp_path / "home" / ".claude" / "settings.json"
    done = cli("install", "--settings-file", str(settings), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert http_handlers(settings) == []  # every event a command hook: no port anyone else could hold
    assert "Bearer" not in settings.read_text()


def run_hook(command: str, event: dict, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """The installed hook command, run as Claude Code runs it (``sh -c``, the payload on stdin)."""
    return subprocess.run(["sh", "-c", command], input=json.dumps(event).encode(), cwd=str(cwd), capture_output=True)


def test_a_session_that_finds_the_port_taken_stops_posting_there_and_says_so(tmp_path: Path, ecc_home: Path) -> None:
    settings = tmp_path / "home" / ".claude" / "settings.json"
    assert cli("install", "--settings-file", str(settings), "--transport", "http", cwd=tmp_path).returncode == 0
    config = endpoint.load()
    assert config is not None and len(http_handlers(settings)) == len(install.HTTP_EVENTS)
    (command,) = {h["command"] for g in json.loads(settings.read_text())["hooks"]["SessionStart"] for h in g["hooks"]}
    start = {
        "session_id": SESSION,
        "transcript_path": str(tmp_path / "t.jsonl"),
        "cwd": str(tmp_path),
        "hook_event_name": "SessionStart",
        "source": "startup",
    }
    with squatting(config.port) as squatter:
        done = run_hook(command, start, tmp_path)
        assert done.returncode == 0 and done.stdout == b""
        # the settings Claude Code reloads post nothing to the port any more: every event is a command hook
        assert http_handlers(settings) == []
        events = json.loads(settings.read_text())["hooks"]
        assert {e for e in install.EVENT_NAMES if install.is_ours(events[e][0]["hooks"][0].get("command"))} == set(
            install.EVENT_NAMES
        )
        assert squatter.received() == b""
    # the user is told: the status line's row, status, doctor
    stdin = json.dumps({"session_id": SESSION, "cwd": str(tmp_path), "model": {"display_name": "Sonnet"}})
    row = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "statusline"], input=stdin.encode(), capture_output=True, cwd=str(tmp_path)
    )
    assert f"port {config.port} taken by uid {NOBODY}".encode() in row.stdout
    status = cli("status", "--all", cwd=tmp_path)
    assert f"uid {NOBODY}) was found holding 127.0.0.1:{config.port}" in status.stdout
    doctor = cli("doctor", "--settings-file", str(settings), cwd=tmp_path)
    assert doctor.returncode == 1 and f"uid {NOBODY}" in doctor.stderr
    assert "endpoint-taken" in (ecc_home / "errors.log").read_text()
    # the record of the session's start is in the journal
    journal = ecc_home / "sessions" / SESSION / "events.jsonl"
    assert [json.loads(line)["event"] for line in journal.read_text().splitlines()] == ["SessionStart"]
    # installing again is the user's acknowledgement: the note goes, the file keeps the command transport
    again = cli("install", "--settings-file", str(settings), cwd=tmp_path)
    assert again.returncode == 0 and "transport: command" in again.stdout
    assert endpoint.taken() is None


def test_a_watcher_that_cannot_take_the_port_falls_back_too(tmp_path: Path, ecc_home: Path, daemons) -> None:
    """Sessions that start while a watcher already runs hand SessionStart to it and never look at the port: the
    watcher itself, finding the port held by another user when it starts, rewrites the HTTP hooks."""
    from tests.helpers import running, wait_until

    settings = tmp_path / "home" / ".claude" / "settings.json"
    assert cli("install", "--settings-file", str(settings), "--transport", "http", cwd=tmp_path).returncode == 0
    config = endpoint.load()
    assert config is not None
    with squatting(config.port) as squatter:
        running(daemons("--idle-exit", "300"))
        wait_until(lambda: http_handlers(settings) == [], 60, "the watcher to rewrite the HTTP hooks")
        note = wait_until(endpoint.taken, 60, "the note for the user")
        assert note["uid"] == NOBODY and note["files"] == [str(settings)]
        assert squatter.received() == b""


@given(
    st.one_of(
        st.binary(max_size=300),
        st.dictionaries(
            st.text(max_size=8),
            st.from_type(object).filter(lambda v: isinstance(v, (int, float, str, bool, type(None)))),
            max_size=6,
        ).map(lambda d: json.dumps(d).encode()),
    )
)
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_note_renders_inert_or_not_at_all(ecc_home: Path, note: bytes) -> None:
    """Whatever sits in ``endpoint-taken.json``: the status line's piece is None or one line of printable text."""
    from ecc_hooks.cli.install import taken_summary
    from ecc_hooks.statusline.render import endpoint_taken

    ecc_home.mkdir(exist_ok=True)
    (ecc_home / "endpoint-taken.json").write_bytes(note)
    piece = endpoint_taken()
    assert piece is None or (piece.isprintable() and "taken by uid" in piece)
    summary = taken_summary()
    assert summary is None or summary.isprintable()
