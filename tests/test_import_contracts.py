"""The layer rules of pyproject.toml's [tool.importlinter] hold for the package, and they do catch a wrong
import: a copy of the package with one deliberately wrong import per rule fails with that rule named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

LAYERS = "the runtime is layered: client, daemon, engine, operations, records"
LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
    "--config",
    str(REPO / "pyproject.toml"),
    "--no-cache",
]


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter with our contracts on the ``ecc_hooks`` found in ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(LINT, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_the_package_keeps_its_layer_rules() -> None:
    done = lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    "module, wrong, rule",
    [
        ("core/paths.py", "import pydantic", "core imports only the standard library"),
        ("core/text.py", "from ecc_hooks.hud import aggregate", "core imports only the standard library"),
        ("capture/normalize.py", "import orjson", "the hot path (capture, statusline) imports only core"),
        (
            "statusline/segments/model.py",
            "from ecc_hooks.models import hud",
            "the hot path (capture, statusline) imports only core",
        ),
        ("statusline/render.py", "from ecc_hooks.capture import hook", "capture and statusline stay apart"),
        ("models/hud.py", "from ecc_hooks.sources import git", "models import only pydantic and core"),
        (
            "hud/aggregate.py",
            "from ecc_hooks.core import fsio",
            "the fold, the payload builder and the records they take do no I/O",
        ),
        ("sources/git.py", "import subprocess", "only core.proc runs programs"),
        ("hud/inputs.py", "import ecc_hooks.runtime", "nothing but the CLI imports the runtime"),
        ("runtime/store.py", "from ecc_hooks.runtime import engine", LAYERS),
        ("runtime/control.py", "from ecc_hooks.runtime import supervisor", LAYERS),
        ("runtime/engine.py", "from ecc_hooks.runtime import client", LAYERS),
        ("runtime/records.py", "from ecc_hooks.runtime import protocol", LAYERS),
        (
            "cli/session.py",
            "from ecc_hooks.runtime import control",
            "the CLI and the HUD use only the runtime's client, records and plan",
        ),
        (
            "cli/install.py",
            "from ecc_hooks.runtime import store",
            "the CLI and the HUD use only the runtime's client, records and plan",
        ),
        ("runtime/server.py", "from ecc_hooks.cli import main", "the runtime never imports the CLI"),
        ("runtime/protocol.py", "import socket", "the runtime's records and protocol do no I/O"),
        ("runtime/records.py", "from ecc_hooks.core import fsio", "the runtime's records and protocol do no I/O"),
        ("tui/queues.py", "from ecc_hooks.runtime import client", "the HUD's widgets and dialogs do no I/O"),
        ("tui/diffview.py", "import subprocess", "the HUD's widgets and dialogs do no I/O"),
    ],
)
def test_a_wrong_import_is_caught(tmp_path: Path, module: str, wrong: str, rule: str) -> None:
    shutil.copytree(REPO / "ecc_hooks", tmp_path / "ecc_hooks", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "ecc_hooks" / module
    target.write_text(target.read_text() + f"\n{wrong}  # deliberately wrong\n")
    done = lint(tmp_path)
    assert done.returncode != 0
    assert rule in done.stdout and "BROKEN" in done.stdout.upper(), done.stdout
