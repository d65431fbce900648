"""Finding 1: only commands this installation wrote are run (doctor), removed (uninstall) or replaced without
``--force`` (install). A file in a repository cannot fake one by ending a command with ``# ecc-hooks``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import make_repo
from tests.security.support import cli


def forged(marker: Path) -> str:
    return f"touch {marker} # ecc-hooks"


def test_doctor_never_runs_a_cloned_repositorys_marked_command(tmp_path: Path) -> None:
    project = make_repo(tmp_path / "cloned")
    marker = tmp_path / "pwned"
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text(
        json.dumps(
            {
                "hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": forged(marker)}]}]},
                "statusLine": {"type": "command", "command": forged(marker)},
            }
        )
    )
    assert cli("install", cwd=project).returncode == 0  # the user's own install, in their user settings
    done = cli("doctor", cwd=project)
    assert not marker.exists(), "doctor ran a command a repository wrote"
    assert done.returncode == 1
    assert b"did not write" in done.stderr and b"pwned" in done.stderr  # said, not run
    assert b"ok   hook" in done.stdout  # our own commands were still checked


def test_uninstall_keeps_the_users_own_marked_entries(tmp_path: Path, isolated_home: Path) -> None:
    settings = isolated_home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    mine = "notify-send done # ecc-hooks"  # the user's own entry that happens to end with our marker
    settings.write_text(
        json.dumps(
            {
                "hooks": {"Stop": [{"hooks": [{"type": "command", "command": mine}]}]},
                "statusLine": {"type": "command", "command": mine},
            }
        )
    )
    assert cli("install", "--force", cwd=tmp_path).returncode == 0
    assert cli("uninstall", cwd=tmp_path).returncode == 0
    after = json.loads(settings.read_text())
    assert after["hooks"]["Stop"][0]["hooks"][0]["command"] == mine
    assert len(json.dumps(after["hooks"])) < 200  # only that entry: ours are gone


def test_install_refuses_to_replace_a_marked_statusline_it_did_not_write(tmp_path: Path, isolated_home: Path) -> None:
    settings = isolated_home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    theirs = {"type": "command", "command": "my-prompt --short # ecc-hooks"}
    settings.write_text(json.dumps({"statusLine": theirs}))
    done = cli("install", cwd=tmp_path)
    assert done.returncode == 1 and b"statusLine of its own" in done.stderr
    assert json.loads(settings.read_text())["statusLine"] == theirs
