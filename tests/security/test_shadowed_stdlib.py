"""Finding 9: a project's json.py or select.py never runs in place of the standard library, through the
plugin shims or the installed commands, on any Python version (3.10 ignores PYTHONSAFEPATH: a wrapper that
drops it stands in for 3.10 wherever no 3.10 interpreter is installed; a real one is used too when found)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ecc_hooks.cli import install
from tests.helpers import REPO, journal_lines

SESSION = "5ec0717e-0000-4000-8000-00000000519d"


def interpreters(tmp_path: Path) -> list[str]:
    """This interpreter, one that behaves like 3.10 (PYTHONSAFEPATH ignored), and a real 3.10 if installed."""
    like310 = tmp_path / "python-like-3.10"
    like310.write_text(f'#!/bin/sh\nunset PYTHONSAFEPATH\nexec {sys.executable} "$@"\n')
    like310.chmod(0o755)
    found = [sys.executable, str(like310)]
    for candidate in (os.path.expanduser("~root/.pyenv/versions/3.10.13/bin/python3"), shutil.which("python3.10")):
        if (
            candidate
            and os.access(candidate, os.X_OK)
            and subprocess.run(
                [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 10)"], capture_output=True
            ).returncode
            == 0
        ):
            found.append(candidate)
            break
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A session's working directory holding modules named like the standard library's."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("json", "select", "os", "time", "re", "stat", "errno", "fcntl", "_json"):
        (folder / f"{name}.py").write_text(f"open({str(tmp_path / 'SHADOWED')!r}, 'a').write('{name}\\n')\n")
    return folder


def test_plugin_shims_never_import_the_projects_modules(tmp_path: Path, project: Path, ecc_home: Path) -> None:
    for python in interpreters(tmp_path):
        env = {**os.environ, "ECC_HOOKS_PYTHON": python, "CLAUDE_PLUGIN_ROOT": str(REPO)}
        payload = json.dumps({"session_id": SESSION, "hook_event_name": "Stop", "cwd": str(project)}).encode()
        hook = subprocess.run(
            ["sh", str(REPO / "hooks" / "ecc-hook")],
            input=payload,
            cwd=project,
            env=env,
            capture_output=True,
            timeout=60,
        )
        status = json.dumps({"session_id": SESSION, "cwd": str(project), "model": {"display_name": "Sonnet 4.5"}})
        row = subprocess.run(
            ["sh", str(REPO / "statusline" / "ecc-statusline")],
            input=status.encode(),
            cwd=project,
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert hook.returncode == 0 and row.returncode == 0 and b"Sonnet 4.5" in row.stdout, python
        assert not (tmp_path / "SHADOWED").exists(), (python, (tmp_path / "SHADOWED").read_text())
    assert len(journal_lines(ecc_home, SESSION)) == len(interpreters(tmp_path))


def test_installed_commands_never_import_the_projects_modules(tmp_path: Path, project: Path, ecc_home: Path) -> None:
    payload = json.dumps({"session_id": SESSION, "hook_event_name": "Stop", "cwd": str(project)}).encode()
    for module, stdin in (
        ("ecc_hooks.capture.hook", payload),
        ("ecc_hooks.statusline.client", json.dumps({"session_id": SESSION, "model": {}}).encode()),
    ):
        done = subprocess.run(
            ["sh", "-c", install.python_command(module)],
            input=stdin,
            cwd=project,
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONSAFEPATH": ""},
        )
        assert done.returncode == 0
    assert not (tmp_path / "SHADOWED").exists()
    assert len(journal_lines(ecc_home, SESSION)) == 1
