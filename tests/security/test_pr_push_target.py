"""``session pr`` pushes a worker's branch only to the repository the pull request goes to.

A repository's own config may point origin's pushes elsewhere while its fetch URL names the GitHub repository:
``remote.origin.pushurl``, ``url.X.pushInsteadOf``, a second push URL, another owner's repository on GitHub.
Every URL git would push to (``git remote get-url --push --all origin``, rewrites applied) must be that same
repository, or nothing is pushed and no pull request is opened; the pull request is opened in the repository
checked (``gh pr create --repo``), never one gh picks from other remotes. Real git, a real worker branch; pushes
to GitHub URLs land in local bare repositories through an ``ssh`` stand-in, gh is tests/test_gh.py's stand-in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import test_session_merge as merging
from tests.helpers import ecc, git
from tests.test_gh import calls

session, fake_gh, fake_ssh = merging.session, merging.fake_gh, merging.fake_ssh  # their fixtures, here too

ORIGIN = "https://github.com/acme/widget.git"


def bare(where: Path) -> Path:
    where.parent.mkdir(parents=True, exist_ok=True)
    git(where.parent, "init", "-q", "--bare", str(where))
    return where


def refs(repository: Path) -> str:
    return git(repository, "for-each-ref")


@pytest.mark.parametrize("how", ["pushurl", "pushInsteadOf", "second-pushurl", "other-owner", "insteadOf"])
def test_a_repository_config_never_redirects_the_push(
    session: tuple[Path, dict[str, Any]], fake_gh: Path, fake_ssh: Path, tmp_path: Path, how: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    repo, _ = session
    monkeypatch.setenv("FAKE_GH_MODE", "runs")  # gh is ready: only the push target can stop the pull request
    ours = bare(fake_ssh / "github.com" / "acme" / "widget.git")
    attacker = bare(tmp_path / "attacker.git")
    other = bare(fake_ssh / "github.com" / "evil" / "widget.git")
    git(repo, "remote", "add", "origin", ORIGIN)
    if how == "pushurl":
        git(repo, "config", "remote.origin.pushurl", str(attacker))
    elif how == "pushInsteadOf":
        git(repo, "config", f"url.{attacker}.pushInsteadOf", ORIGIN)
    elif how == "second-pushurl":
        git(repo, "config", "remote.origin.pushurl", "git@github.com:acme/widget.git")
        git(repo, "config", "--add", "remote.origin.pushurl", str(attacker))
    elif how == "other-owner":
        git(repo, "config", "remote.origin.pushurl", "git@github.com:evil/widget.git")
    else:  # both ways rewritten: origin is no GitHub repository at all
        git(repo, "config", f"url.{attacker}.insteadOf", ORIGIN)
    done = ecc("session", "pr", "mq", "--worker", "clean", cwd=repo)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "internal error" not in done.stderr
    if how == "insteadOf":
        assert "no GitHub origin remote" in done.stderr
    else:
        assert "nothing pushed" in done.stderr and "acme/widget on github.com" in done.stderr, done.stderr
    for repository in (attacker, other, ours):
        assert refs(repository) == "", repository
    assert not [c for c in calls(fake_gh) if c[:2] == ["pr", "create"]]


def test_the_same_repository_by_another_url_is_pushed_and_the_pull_request_opened_there(
    session: tuple[Path, dict[str, Any]],
    fake_gh: Path,
    fake_ssh: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, _ = session
    ours = bare(fake_ssh / "github.com" / "acme" / "widget.git")
    git(repo, "remote", "add", "origin", ORIGIN)
    git(repo, "config", "url.git@github.com:.pushInsteadOf", "https://github.com/")  # the user's ssh habit
    monkeypatch.setenv("FAKE_GH_MODE", "runs")
    done = ecc("session", "pr", "mq", "--worker", "clean", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert git(ours, "rev-parse", "orchestrator-mq-clean") == git(repo, "rev-parse", "orchestrator-mq-clean")
    create = [c for c in calls(fake_gh) if c[:2] == ["pr", "create"]]
    assert len(create) == 1 and create[0][2:4] == ["--repo", "github.com/acme/widget"]
