"""paths: where state lives, and session ids that can never leave ``sessions/``."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ecc_hooks.capture import hook
from ecc_hooks.core import errorlog, paths
from ecc_hooks.handoff import document as handoff
from ecc_hooks.statusline import render as statusline
from tests.helpers import run_hook

HOSTILE = [
    "../../x",
    "../sessions/../../etc",
    "/etc/passwd",
    "..",
    ".",
    "a\\b",
    "a/b",
    "./a",
    "\x00",
    "a\x1bb",
    "\n",
    "x" * 10_000,
    "\u00e9t\u00e9",
    "\ud800",
    "C:\\Windows",
    "~root",
    "$HOME",
    "*",
    "a b",
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_home_resolution(monkeypatch: pytest.MonkeyPatch, isolated_home: Path, tmp_path: Path) -> None:
    assert paths.home() == str(isolated_home / ".claude" / "ecc")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert paths.home() == str(tmp_path / "cfg" / "ecc")
    monkeypatch.setenv("ECC_HOOKS_HOME", str(tmp_path / "explicit"))
    assert paths.home() == str(tmp_path / "explicit")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECC_HOOKS_HOME", "relative/state")
    assert paths.home() == str(tmp_path / "relative" / "state")  # always absolute


@pytest.mark.parametrize("raw", HOSTILE, ids=[repr(h)[:20] for h in HOSTILE])
def test_hostile_ids_stay_inside_sessions(raw: str, ecc_home: Path) -> None:
    safe = paths.sanitize_session_id(raw)
    assert safe is not None and safe != raw
    journal = Path(paths.journal_path(safe))
    assert journal.parent.parent == ecc_home / "sessions"
    assert os.path.realpath(journal).startswith(str(ecc_home / "sessions") + os.sep)


def test_uuid_ids_are_kept_as_sent() -> None:
    for raw in ("c78d397b-44c1-4aa3-87d6-c4ced37d260f", "agent_1.2", "A-Z_0"):
        assert paths.sanitize_session_id(raw) == raw


@pytest.mark.parametrize("raw", [None, "", 42, ["a"], {"a": 1}])
def test_no_session_id(raw: object) -> None:
    assert paths.sanitize_session_id(raw) is None


@pytest.mark.parametrize("unsafe", ["../x", "a/b", "..", "", "x" * 200])
def test_session_dir_refuses_unsanitized_ids(unsafe: str) -> None:
    with pytest.raises(ValueError):
        paths.session_dir(unsafe)


def test_hostile_ids_through_the_real_hook(ecc_home: Path, tmp_path: Path) -> None:
    for raw in HOSTILE:
        data = json.dumps({"session_id": raw, "hook_event_name": "Stop"}).encode()
        assert run_hook(data).returncode == 0
    written = sorted(p.relative_to(ecc_home).parts for p in ecc_home.rglob("*") if p.is_file())
    assert len(written) == len(HOSTILE)
    for parts in written:
        assert parts[0] == "sessions" and parts[2] == "events.jsonl" and len(parts) == 3
    names = {parts[1] for parts in written}
    assert names == {paths.sanitize_session_id(raw) for raw in HOSTILE}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ecc-home"]  # nothing beside the state folder


def test_modes_dirs_0700_files_0600(ecc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errorlog, "ERRORS_LOG_MAX", 300)
    assert run_hook(json.dumps({"session_id": "s1", "hook_event_name": "Stop"}).encode()).returncode == 0
    for _ in range(3):
        assert run_hook(b"{broken").returncode == 0
    for i in range(5):  # in-process, with a permissive umask: the modes must not depend on it
        old = os.umask(0o022)
        try:
            hook.handle(b"{broken %d" % i, None, 0.0)
            hook.handle(json.dumps({"session_id": "s2", "hook_event_name": "Stop"}).encode(), None, 0.0)
        finally:
            os.umask(old)
    for directory in (ecc_home, ecc_home / "sessions", ecc_home / "sessions" / "s1", ecc_home / "sessions" / "s2"):
        assert mode(directory) == 0o700, directory
    files = [
        ecc_home / "sessions" / "s1" / "events.jsonl",
        ecc_home / "sessions" / "s2" / "events.jsonl",
        ecc_home / "errors.log",
        ecc_home / "errors.log.1",
    ]
    for path in files:
        assert mode(path) == 0o600, path


def test_status_line_and_handoff_create_state_folders_0700(ecc_home: Path, tmp_path: Path) -> None:
    # Writers other than the hook, each first to touch a fresh home or session, under a permissive umask.
    sessions = ecc_home / "sessions"
    old = os.umask(0o022)
    try:
        handoff.write(str(tmp_path / "h.md"), "# Handoff\n", "ho", datetime(2026, 5, 1, tzinfo=timezone.utc))
        assert [mode(d) for d in (ecc_home, sessions, sessions / "ho")] == [0o700] * 3
        statusline.record_sensor("sl", {"cost": {"total_cost_usd": 0.1}}, 0.0)
        statusline.record_sensor("sl", {"cost": {"total_cost_usd": 0.2}}, 1.0)  # the folder now exists
    finally:
        os.umask(old)
    assert mode(sessions / "sl") == 0o700
    assert json.loads((sessions / "sl" / "statusline.json").read_text())["cost"]["total_cost_usd"] == 0.2
    assert json.loads((sessions / "ho" / "handoff.json").read_text())["path"] == str(tmp_path / "h.md")


def test_ensure_dir_tightens_existing(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("ECC_HOOKS_HOME", str(home))
    loose = home / "loose"
    loose.mkdir(mode=0o755, parents=True)
    os.chmod(loose, 0o755)
    assert paths.ensure_dir(str(loose)) == str(loose)
    assert mode(loose) == 0o700 and mode(home) == 0o700
    nested = home / "a" / "b" / "c"
    paths.ensure_dir(str(nested))
    assert mode(nested) == 0o700 and mode(nested.parent) == 0o700 and mode(nested.parent.parent) == 0o700
