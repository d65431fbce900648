"""A watcher that stops never leaves Claude Code posting to a port nobody of the user's holds (http transport).

Before it lets go of the endpoint's port (``watch --stop``, SIGTERM, its idle exit) the watcher rewrites the
settings files with our HTTP hooks to command hooks and keeps the port until the clients reloaded them, so uid
65534, binding the port the moment it is free, receives nothing; the next watcher that holds the port switches
them back. When another user is then found holding the port, what the user is told never claims that nothing was
posted there: it says when the port was found taken and since when it was free. The real client's side (the
watcher stopped from a Bash call mid-turn) is tests/e2e/test_endpoint_squatter.py.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ecc_hooks.cli import install
from ecc_hooks.core import endpoint
from tests.security.squatter import NOBODY, squatting
from tests.security.test_endpoint_squatter import http_handlers
from tests.test_install import cli

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to listen as another user")


def http_install_listening(tmp_path: Path, daemons) -> tuple[Path, endpoint.Endpoint]:
    """An http install into a settings file of its own, with a watcher listening on its endpoint."""
    from tests.helpers import running, wait_until

    settings = tmp_path / "home" / ".claude" / "settings.json"
    assert cli("install", "--settings-file", str(settings), "--transport", "http", cwd=tmp_path).returncode == 0
    config = endpoint.load()
    assert config is not None
    running(daemons("--idle-exit", "300"))
    wait_until(lambda: endpoint.listener_uid(config) == os.getuid(), 60, "the watcher to listen")
    return settings, config


def test_a_stopping_watcher_switches_the_hooks_to_commands_before_it_lets_go_of_the_port(
    tmp_path: Path, ecc_home: Path, daemons
) -> None:
    from tests.helpers import running, wait_until

    settings, config = http_install_listening(tmp_path, daemons)
    # while the port is free, the settings file must never post to it: watched every millisecond
    exposed: list[str] = []
    stop = threading.Event()

    def watch_the_gap() -> None:
        while not stop.is_set():
            if endpoint.listener_uid(config) != os.getuid() and http_handlers(settings):
                exposed.append("HTTP hooks while the port was not the watcher's")
            time.sleep(0.001)

    gap = threading.Thread(target=watch_the_gap)
    with squatting(config.port, wait=True) as squatter:  # uid 65534 takes the port the moment it is free
        gap.start()
        try:
            done = cli("watch", "--stop", cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            wait_until(squatter.bound, 30, "uid 65534 to take the freed port")
        finally:
            stop.set()
            gap.join()
        assert exposed == []
        assert http_handlers(settings) == []  # parked: command hooks while no watcher holds the port
        assert endpoint.parked_files() == [str(settings)]
        assert squatter.received() == b""
    # the next watcher that holds the port switches the file back to the HTTP hooks
    running(daemons("--idle-exit", "300"))
    wait_until(lambda: len(http_handlers(settings)) == len(install.HTTP_EVENTS), 60, "the hooks back to HTTP")
    assert endpoint.parked_files() == [] and endpoint.settings_files() == [str(settings)]
    assert endpoint.taken() is None
    assert list(settings.parent.glob("*.bak")) == []  # the switches leave no backup behind each time


def test_the_note_says_when_the_port_was_free_and_that_calls_may_have_reached_that_user(
    tmp_path: Path, ecc_home: Path, daemons
) -> None:
    """A watcher stopped (its time recorded), uid 65534 took the port, the next watcher found it taken: status
    and doctor say between which times calls may have reached uid 65534, never that nothing was posted."""
    from tests.helpers import running, wait_until

    settings, config = http_install_listening(tmp_path, daemons)
    assert cli("watch", "--stop", cwd=tmp_path).returncode == 0
    with squatting(config.port) as squatter:
        running(daemons("--idle-exit", "300"))
        note = wait_until(endpoint.taken, 60, "the note for the user")
        assert note["uid"] == NOBODY and note["files"] == [str(settings)]
        assert isinstance(note["since"], float) and note["since"] <= note["at"]
        status = cli("status", "--all", cwd=tmp_path)
        doctor = cli("doctor", "--settings-file", str(settings), cwd=tmp_path)
        assert squatter.received() == b""
    for said in (status.stdout, doctor.stdout + doctor.stderr):
        assert f"uid {NOBODY}) was found holding 127.0.0.1:{config.port}" in said, said
        assert "(the watcher stopped)" in said and f"may have reached uid {NOBODY}" in said
        assert "nothing more was posted" not in said and "nothing was posted" not in said
    assert http_handlers(settings) == [] and endpoint.parked_files() == []  # the user chooses again


@given(
    st.fixed_dictionaries(
        {"port": st.integers(1, 65535)},
        optional={
            "uid": st.one_of(st.integers(0, 1 << 31), st.text(max_size=5), st.none()),
            "at": st.one_of(st.floats(0, 4e9), st.integers(0, 1 << 32), st.text(max_size=5), st.booleans()),
            "since": st.one_of(st.floats(0, 4e9), st.none(), st.text(max_size=5), st.booleans()),
            "files": st.lists(st.text(max_size=20), max_size=3),
        },
    )
)
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_note_ever_claims_that_nothing_was_posted(ecc_home: Path, note: dict) -> None:
    from ecc_hooks.cli.install import taken_summary
    from ecc_hooks.statusline.render import endpoint_taken

    ecc_home.mkdir(exist_ok=True)
    (ecc_home / "endpoint-taken.json").write_text(json.dumps(note))
    summary = taken_summary()
    piece = endpoint_taken()
    assert summary is not None and piece is not None
    for text in (summary, piece):
        assert "nothing" not in text.lower() and "may have reached" in text
    assert "was found holding" in summary and ("between" in summary or "when is unknown" in summary)
