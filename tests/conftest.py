"""Shared fixtures. Every test runs with its own HOME and ECC_HOOKS_HOME: none touches the real ones."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME (and so ~/.claude) for every test; CLAUDE_CONFIG_DIR and ECC_HOOKS_HOME cleared."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("CLAUDE_CONFIG_DIR", "ECC_HOOKS_HOME", "ECC_HOOKS_RAW", "CLAUDE_PROJECT_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ECC_HOOKS_NO_WATCHER", "1")  # no SessionStart spawns a daemon (tests/test_watch*.py opt in)
    return home


@pytest.fixture
def ecc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ECC_HOOKS_HOME, set in the environment (subprocesses inherit it)."""
    home = tmp_path / "ecc-home"
    monkeypatch.setenv("ECC_HOOKS_HOME", str(home))
    return home
