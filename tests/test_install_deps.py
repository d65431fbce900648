"""The README's test command installs what the end-to-end tests need, or says what it skipped and why.

tests/e2e/install_deps.py is the one script both ``.ci/run`` and the test run (tests/conftest.py, after collection
when e2e tests were selected) use. Shown here on a machine as a newcomer has it: an empty cache and no npm, node or
tmux on PATH (so nothing can be had): the script names each missing thing with why, ``--strict`` fails, and a real
nested ``pytest`` run of an e2e test skips it with that reason and ends with a summary saying so. With the cache
holding the pinned versions, nothing is installed (no npm is needed to find them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e import install_deps
from tests.helpers import REPO

SCRIPT = REPO / "tests" / "e2e" / "install_deps.py"


def bare_machine(tmp_path: Path) -> dict[str, str]:
    """An empty cache, only git on PATH (no npm, node, tmux or apt-get), and no package index for pip."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git = shutil.which("git")
    assert git
    (bin_dir / "git").symlink_to(git)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "ECC_CLAUDE_BIN", "ECC_UNIVERSAL_DIR")}
    env.update(PATH=str(bin_dir), XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(REPO))
    env["PIP_NO_INDEX"] = "1"  # offline: pip (the one installer left) finds nothing, at once
    return env


def test_on_a_bare_machine_the_script_names_each_missing_thing_and_why(tmp_path: Path) -> None:
    env = bare_machine(tmp_path)
    done = subprocess.run([sys.executable, str(SCRIPT), "--strict"], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # --strict: CI fails
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert lines["tmux"].startswith("MISSING: tmux not installed ("), lines
    assert "apt-get install tmux" in lines["tmux"]
    version = (REPO / "tests" / "e2e" / "CLAUDE_CODE_VERSION").read_text().strip()
    assert lines["claude-code"] == f"MISSING: Claude Code {version} could not be installed: npm not found " + (
        "(install Node.js with npm to have it)"
    )
    assert lines["ecc-universal"] == "MISSING: node not found (ECC's tools run on Node.js)"
    for agent in install_deps.agents():
        assert lines[f"{agent.package}@{agent.version}"].startswith("MISSING: "), lines
    assert not (tmp_path / "cache" / "ecc-hooks" / f"claude-code-{version}" / "node_modules").exists()


def test_the_test_command_skips_what_it_cannot_have_and_says_why_at_the_end(tmp_path: Path) -> None:
    env = bare_machine(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e/test_interactive.py"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "1 skipped" in out
    summary = out[out.index("what the tests needed, and what was skipped") :]
    assert "could not have claude-code: Claude Code" in summary and "npm not found" in summary
    assert "could not have tmux: tmux not installed" in summary
    assert "skipped 1 test(s): Claude Code not installed: Claude Code" in summary  # the reason the install found


def test_a_cache_holding_the_pinned_versions_needs_no_install(tmp_path: Path) -> None:
    """Found where the tests look, by version: with no npm on PATH nothing could have been installed."""
    real = install_deps.cache_root()
    claude, ecc = install_deps.claude_prefix(), install_deps.ecc_prefix()
    if not (install_deps.claude_binary().exists() and (install_deps.ecc_package() / "package.json").exists()):
        import pytest

        pytest.skip("the pinned client and ecc-universal are not installed here")
    env = bare_machine(tmp_path)
    cache = tmp_path / "cache" / "ecc-hooks"
    cache.mkdir(parents=True)
    for prefix in (claude, ecc):
        (cache / prefix.name).symlink_to(real / prefix.name)
    node = shutil.which("node")
    assert node
    (tmp_path / "bin" / "node").symlink_to(node)
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)  # fmt: skip
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert lines["claude-code"] == f"ok: {cache / claude.name / 'node_modules' / '.bin' / 'claude'}"
    assert lines["ecc-universal"] == f"ok: {cache / ecc.name / 'node_modules' / 'ecc-universal'}"


def test_ci_and_the_test_command_share_the_one_script() -> None:
    """.ci/run installs nothing itself: it runs install_deps.py, which the test run calls (no drift between them)."""
    ci = (REPO / ".ci" / "run").read_text()
    assert "python3 tests/e2e/install_deps.py --strict" in ci
    assert "npm install" not in ci and "apt-get" not in ci.replace("(apt-get)", "")
    conftest = (REPO / "tests" / "conftest.py").read_text()
    assert "install_deps.ensure(" in conftest
