"""Finding 2: no git invocation of ours runs a command the repository configures.

A hostile repository (tests/security/support.py) names a marker-leaving command for fsmonitor, clean/smudge/
process filters, textconv and external diff drivers, hooks (in .git/hooks and through core.hooksPath), pager,
editor, askpass, credential helpers, core.sshCommand, gitProxy, gpg, and upload-pack/receive-pack. Each git
command below would run at least one of them without the safety overrides; none may leave a marker.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ecc_hooks.sources import git as gitstate
from tests.helpers import GIT_ENV, git
from tests.security.support import cli, hostile_repo, ran, run_installed, session_payload


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return hostile_repo(tmp_path / "repo", tmp_path / "markers")


def markers_of(repo: Path) -> list[str]:
    return ran(repo.parent / "markers")


def test_the_hostile_repository_really_runs_its_commands_under_plain_git(repo: Path) -> None:
    # The control arm: the same commands through plain git do run the repository's commands.
    for args in (
        ("status", "--porcelain=v2"),
        ("diff", "HEAD"),
        ("commit", "-q", "--allow-empty", "-m", "x"),
        ("ls-remote", "origin"),
    ):
        try:
            subprocess.run(
                ["git", *args],
                cwd=repo,
                capture_output=True,
                timeout=5,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **GIT_ENV},
            )
        except subprocess.TimeoutExpired:
            pass  # the marker upload-pack never answers: it ran, which is what this arm shows
    assert {
        "ran-evil-core.fsmonitor",
        "ran-evil-filter.evil.process",
        "ran-hook-pre-commit",
        "ran-evil-remote.origin.uploadpack",
    } <= set(markers_of(repo)), markers_of(repo)


@pytest.mark.parametrize(
    "args, stdin",
    [
        (("status", "--porcelain=v2", "--branch", "-z"), None),  # fsmonitor, clean filter
        (("diff", "HEAD"), None),  # textconv, external diff, filter
        (("log", "-p", "-n2", "--show-signature"), None),  # textconv, gpg, pager
        (("show", "HEAD:a.txt"), None),
        (("commit", "-q", "--allow-empty", "-m", "x"), None),  # hooks (pre-commit, post-commit)
        (("commit", "-q", "--allow-empty"), None),  # editor
        (("checkout", "-q", "-b", "other"), None),  # post-checkout hook, smudge
        (("checkout", "-q", "HEAD", "--", "a.txt"), None),  # smudge filter
        (("credential", "fill"), b"protocol=https\nhost=example.invalid\n\n"),  # credential helpers, askpass
        (("ls-remote", "origin"), None),  # upload-pack
        (("ls-remote", "ssh://example.invalid/x.git"), None),  # core.sshCommand
        (("ls-remote", "git://example.invalid/x.git"), None),  # core.gitProxy
        (("push", "-q", "origin", "HEAD:refs/heads/pushed"), None),  # receive-pack, pre-push hook
        (("var", "GIT_PAGER"), None),
        (("var", "GIT_EDITOR"), None),
    ],
)
def test_the_runner_runs_none_of_the_repositorys_commands(
    repo: Path, args: tuple[str, ...], stdin: bytes | None
) -> None:
    runner = gitstate._Runner(str(repo), timeout=20)
    runner.run(*args, input=stdin)
    assert markers_of(repo) == []


def test_pager_and_editor_are_inert(repo: Path) -> None:
    runner = gitstate._Runner(str(repo), timeout=20)
    assert runner.run("var", "GIT_PAGER")[1].strip() == b"cat"
    assert runner.run("var", "GIT_EDITOR")[1].strip() == b"true"


def test_a_subsection_holding_an_equals_sign_cannot_dodge_the_override(tmp_path: Path) -> None:
    # `-c filter.x=y.clean=` would be read as key "filter.x": the overrides go through GIT_CONFIG_KEY_n.
    repo = hostile_repo(tmp_path / "repo", tmp_path / "markers")
    git(repo, "config", "filter.x=y.clean", str(tmp_path / "markers" / "evil-filter.evil.clean.sh"))
    (repo / ".gitattributes").write_text("* filter=x=y\n")
    gitstate._Runner(str(repo), timeout=20).run("status", "--porcelain=v2")
    assert ran(tmp_path / "markers") == []


def test_the_users_own_config_still_applies(tmp_path: Path, repo: Path) -> None:
    # Trusted: the user's global config. Its credential helper and filter are what git uses, not the repo's.
    own = tmp_path / "own-helper.sh"
    own.write_text(f"#!/bin/sh\necho ran >> '{tmp_path}/own-helper-ran'\n")
    own.chmod(0o755)
    git(repo, "config", "--global", "credential.helper", str(own))
    gitstate._Runner(str(repo), timeout=20).run("credential", "fill", input=b"protocol=https\nhost=example.invalid\n\n")
    assert (tmp_path / "own-helper-ran").exists() and markers_of(repo) == []


def test_git_facts_commit_listing_and_toplevel_run_nothing(repo: Path) -> None:
    state = gitstate.read_git_state(str(repo), timeout=20)
    assert state.is_repo and state.branch == "main" and state.dirty  # it still reads the truth
    assert gitstate.toplevel(str(repo), timeout=20) == str(repo)
    head = git(repo, "rev-parse", "HEAD~1")
    assert gitstate.commits_since(str(repo), None, timeout=20, base=head)
    assert markers_of(repo) == []


def test_status_inspect_and_the_watcher_run_nothing(repo: Path, ecc_home: Path) -> None:
    session = "5ec0717e-0000-4000-8000-000000000002"
    run_installed("ecc_hooks.capture.hook", session_payload(session, repo), repo)
    run_installed("ecc_hooks.capture.hook", session_payload(session, repo, "Stop"), repo)
    done = cli("status", "--json", "--session", session, "--no-gh", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["context"]["branch"] == "main"
    for args in (("inspect", session), ("inspect", session, "--markdown")):
        assert cli(*args, cwd=repo).returncode == 0
    from ecc_hooks.hud import watcher as watch

    assert watch.Watcher(idle_exit=1).process(session, force=True)
    assert json.loads((ecc_home / "sessions" / session / "hud.json").read_text())["context"]["branch"] == "main"
    assert markers_of(repo) == []
