"""Finding 6: nothing inside the state folder is followed through a link, state owned by someone else is
refused, and loose modes on our own files and folders are repaired."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ecc_hooks.core import paths
from ecc_hooks.hud import watcher as watch
from tests.helpers import journal_lines
from tests.security.support import cli, run_installed, session_payload

SESSION = "5ec0717e-0000-4000-8000-0000000011c0"
ORIGINAL = b"precious: must stay exactly as it is\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    target = tmp_path / "victim.txt"
    target.write_bytes(ORIGINAL)
    return target


def link(path: Path, to: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.symlink_to(to)


def test_a_linked_journal_is_never_appended_to(tmp_path: Path, ecc_home: Path, victim: Path) -> None:
    link(ecc_home / "sessions" / SESSION / "events.jsonl", victim)
    done = run_installed("ecc_hooks.capture.hook", session_payload(SESSION, tmp_path, "Stop"), tmp_path)
    assert done.returncode == 0 and victim.read_bytes() == ORIGINAL
    assert "link" in (ecc_home / "errors.log").read_text()


def test_a_linked_errors_log_is_never_appended_to(tmp_path: Path, ecc_home: Path, victim: Path) -> None:
    link(ecc_home / "errors.log", victim)
    done = run_installed("ecc_hooks.capture.hook", b"{not json", tmp_path)
    assert done.returncode == 0 and victim.read_bytes() == ORIGINAL


def test_a_linked_watch_log_is_never_appended_to(ecc_home: Path, victim: Path) -> None:
    link(ecc_home / "watch.log", victim)
    watch.log("test", "a line that must not land in the link's target")
    assert victim.read_bytes() == ORIGINAL


def test_a_linked_watch_lock_is_never_truncated(tmp_path: Path, ecc_home: Path, victim: Path) -> None:
    link(ecc_home / "watch.lock", victim)
    done = cli("watch", "--foreground", "--idle-exit", "1")
    assert done.returncode == 1 and b"watcher lock" in done.stderr
    os.environ.pop("ECC_HOOKS_NO_WATCHER", None)
    try:
        run_installed(
            "ecc_hooks.capture.hook", session_payload(SESSION, tmp_path), tmp_path, {"ECC_HOOKS_NO_WATCHER": "0"}
        )
    finally:
        os.environ["ECC_HOOKS_NO_WATCHER"] = "1"
    assert victim.read_bytes() == ORIGINAL


@pytest.mark.parametrize("linked", ["session", "sessions"])
def test_a_linked_session_folder_sends_nothing_elsewhere(tmp_path: Path, ecc_home: Path, linked: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if linked == "session":
        link(ecc_home / "sessions" / SESSION, elsewhere)
    else:
        ecc_home.mkdir(mode=0o700)
        link(ecc_home / "sessions", elsewhere)
    run_installed("ecc_hooks.capture.hook", session_payload(SESSION, tmp_path, "Stop"), tmp_path)
    stdin = {"session_id": SESSION, "cwd": str(tmp_path), "model": {"display_name": "Sonnet 4.5"}}
    done = run_installed("ecc_hooks.statusline.client", json.dumps(stdin).encode(), tmp_path)
    assert done.returncode == 0 and b"Sonnet 4.5" in done.stdout  # still shows a row
    assert list(elsewhere.rglob("*")) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="making a folder someone else's needs root")
def test_state_owned_by_someone_else_is_refused(tmp_path: Path, ecc_home: Path) -> None:
    ecc_home.mkdir(mode=0o700)
    (ecc_home / "sessions").mkdir(mode=0o700)
    os.chown(ecc_home / "sessions", 65534, 65534)
    run_installed("ecc_hooks.capture.hook", session_payload(SESSION, tmp_path, "Stop"), tmp_path)
    assert not (ecc_home / "sessions" / SESSION).exists()
    assert "owned by uid 65534" in (ecc_home / "errors.log").read_text()  # refused, and said where it can be
    os.chown(ecc_home, 65534, 65534)
    done = cli("watch", "--foreground", "--idle-exit", "1")
    assert done.returncode == 1 and b"owned by uid 65534" in done.stderr


def test_loose_modes_of_our_files_and_folders_are_repaired(tmp_path: Path, ecc_home: Path) -> None:
    folder = ecc_home / "sessions" / SESSION
    folder.mkdir(parents=True)
    for level in (ecc_home, ecc_home / "sessions", folder):
        os.chmod(level, 0o777)
    journal = folder / "events.jsonl"
    journal.write_text("")
    os.chmod(journal, 0o666)
    run_installed("ecc_hooks.capture.hook", session_payload(SESSION, tmp_path, "Stop"), tmp_path)
    assert [r["event"] for r in journal_lines(ecc_home, SESSION)] == ["Stop"]
    for level in (ecc_home, ecc_home / "sessions", folder):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert paths.home() == str(ecc_home)
