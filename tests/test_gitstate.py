"""gitstate on real git repositories made in temp dirs: clean, dirty, ahead/behind, conflicts, detached,
linked worktree, bare, no repo, slow repo, GIT_* in the environment, and every origin URL form."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from ecc_hooks.sources.git import commits_since, parse_porcelain_v2, read_git_state, repo_from_url, toplevel
from tests.helpers import GIT_ENV, git, make_repo


def test_clean_repo(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    state = read_git_state(str(repo))
    assert state.is_repo and state.complete and not state.errors
    assert state.branch == "main" and state.detached is False
    assert state.worktree == str(repo) and state.linked_worktree is False and state.bare is False
    assert state.dirty is False and state.conflicts == 0 and state.conflicted_paths == []
    assert state.head == git(repo, "rev-parse", "HEAD")
    assert state.upstream is None and state.ahead is None and state.behind is None
    assert state.repo is None  # no origin


def test_subdirectory_reports_toplevel(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / "sub" / "deeper").mkdir(parents=True)
    assert read_git_state(str(repo / "sub" / "deeper")).worktree == str(repo)


def test_dirty_counts(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / "a.txt").write_text("changed\n")  # unstaged
    (repo / "new file.txt").write_text("x\n")  # untracked, with a space (the -z parsing)
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")  # staged
    state = read_git_state(str(repo))
    assert state.dirty is True
    assert (state.staged, state.unstaged, state.untracked) == (1, 1, 1)


def test_rename_is_one_entry(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "mv", "a.txt", "renamed.txt")
    state = read_git_state(str(repo))
    assert (state.staged, state.unstaged, state.untracked) == (1, 0, 0)


def test_ahead_and_behind_a_local_bare_remote(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    repo = make_repo(tmp_path / "r")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    for name in ("x", "y"):
        (other / name).write_text(name)
        git(other, "add", name)
        git(other, "commit", "-q", "-m", name)
    git(other, "push", "-q", "origin", "main")
    (repo / "mine").write_text("m")
    git(repo, "add", "mine")
    git(repo, "commit", "-q", "-m", "mine")
    git(repo, "fetch", "-q", "origin")
    state = read_git_state(str(repo))
    assert state.upstream == "origin/main"
    assert (state.ahead, state.behind) == (1, 2)
    assert state.repo is None  # a local path names no owner/name


def test_real_merge_conflict(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "a.txt").write_text("side\n")
    git(repo, "commit", "-q", "-am", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("main\n")
    git(repo, "commit", "-q", "-am", "main")
    git(repo, "merge", "-q", "side", check=False)  # fails with a conflict on a.txt
    assert "<<<<<<<" in (repo / "a.txt").read_text()
    state = read_git_state(str(repo))
    assert state.conflicts == 1 and state.conflicted_paths == ["a.txt"]
    assert state.dirty is True


def test_detached_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach")
    state = read_git_state(str(repo))
    assert state.detached is True and state.branch is None and state.head == head


def test_unborn_branch(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "trunk")
    state = read_git_state(str(repo))
    assert state.branch == "trunk" and state.head is None and state.detached is False


def test_linked_worktree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(linked))
    state = read_git_state(str(linked))
    assert state.worktree == str(linked.resolve()) and state.linked_worktree is True
    assert state.branch == "feature"
    assert Path(state.common_dir or "").resolve() == (repo / ".git").resolve()
    main = read_git_state(str(repo))
    assert main.linked_worktree is False and main.branch == "main"


def test_bare_repo(tmp_path: Path) -> None:
    bare = tmp_path / "b.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(bare, "remote", "add", "origin", "git@github.com:acme/bare-one.git")
    state = read_git_state(str(bare))
    assert state.is_repo and state.bare is True
    assert state.worktree is None and state.dirty is None and state.conflicts is None
    assert state.branch == "main" and state.repo == "acme/bare-one"


def test_no_repo_and_missing_dir(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    # GIT_CEILING_DIRECTORIES is stripped with the other GIT_* vars, so a parent repo would be found:
    # tmp dirs have none, which is what this test relies on.
    for where in (str(plain), str(tmp_path / "missing"), None):
        state = read_git_state(where)
        assert not state.is_repo
        assert all(getattr(state, f) is None for f in ("repo", "branch", "worktree", "dirty", "conflicts", "ahead"))


def test_toplevel_agrees_with_the_full_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "r")
    (repo / "sub").mkdir()
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(linked))
    bare = tmp_path / "b.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_DIR", str(bare))  # a caller's GIT_* never redirects it
    monkeypatch.setenv("GIT_WORK_TREE", str(plain))
    for where in (repo, repo / "sub", linked, bare, plain, tmp_path / "missing", repo / ".git", repo / ".git" / "refs"):
        assert toplevel(str(where)) == read_git_state(str(where)).worktree, where
    assert toplevel(str(repo / "sub")) == str(repo) and toplevel(str(plain)) is None and toplevel(None) is None


def test_git_env_of_a_caller_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Inside a git hook GIT_DIR/GIT_INDEX_FILE point at the hook's repo; we must still see ours.
    ours = make_repo(tmp_path / "ours", branch="ours-branch")
    theirs = make_repo(tmp_path / "theirs", branch="their-branch")
    monkeypatch.setenv("GIT_DIR", str(theirs / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(theirs))
    monkeypatch.setenv("GIT_INDEX_FILE", str(theirs / ".git" / "index"))
    state = read_git_state(str(ours))
    assert state.branch == "ours-branch" and state.worktree == str(ours)


def test_slow_repo_returns_what_is_known(tmp_path: Path) -> None:
    # A real slow status: a clean filter that sleeps, named in the user's own (trusted) global config, so it
    # runs (the repository's own config could not make it run). The marker proves we returned before it finished.
    repo = make_repo(tmp_path / "r")
    marker = tmp_path / "filter-finished"
    slow = tmp_path / "slow.sh"
    started = tmp_path / "filter-started"
    slow.write_text(f"#!/bin/sh\ntouch '{started}'\nsleep 3\ntouch '{marker}'\ncat\n")
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    git(repo, "config", "--global", "filter.slow.clean", str(slow))
    (repo / ".gitattributes").write_text("*.txt filter=slow\n")
    (repo / "a.txt").write_text("two\n")  # same size, new mtime: status must hash it through the filter
    os.utime(repo / "a.txt", (time.time() + 5, time.time() + 5))
    git(repo, "remote", "add", "origin", "https://github.com/acme/slow.git")
    state = read_git_state(str(repo), timeout=0.5)
    assert not marker.exists(), "read_git_state waited for the slow status"
    assert state.is_repo and not state.complete
    assert any("timed out" in e for e in state.errors)
    assert state.worktree == str(repo) and state.repo == "acme/slow"  # learned before status
    assert state.dirty is None and state.branch is None  # status never answered
    assert started.exists(), "the user's own filter never ran: trusted config must keep working"
    time.sleep(3.5)
    assert not marker.exists(), "the timed-out git's filter was left running"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://github.com/acme/widget.git", "acme/widget"),
        ("https://github.com/acme/widget", "acme/widget"),
        ("https://github.com/acme/widget/", "acme/widget"),
        ("http://github.example.com:8080/acme/widget.git", "acme/widget"),
        ("https://user:p%40ss@github.com/acme/widget.git", "acme/widget"),
        ("ssh://git@github.com/acme/widget.git", "acme/widget"),
        ("ssh://git@github.com:2222/acme/widget.git", "acme/widget"),
        ("git://github.com/acme/widget.git", "acme/widget"),
        ("git@github.com:acme/widget.git", "acme/widget"),
        ("github.com:acme/widget", "acme/widget"),
        ("git@gitlab.com:group/sub/widget.git", "group/sub/widget"),
        ("/srv/git/widget.git", None),
        ("./widget", None),
        ("file:///srv/git/acme/widget.git", None),
        ("C:/repos/widget", None),
        ("https://github.com/widget", None),
        ("", None),
    ],
)
def test_origin_url_forms(url: str, expected: str | None) -> None:
    assert repo_from_url(url) == expected


def test_origin_from_a_real_remote(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "remote", "add", "origin", "git@github.com:acme/widget.git")
    assert read_git_state(str(repo)).repo == "acme/widget"


def test_porcelain_parser_on_git_output(tmp_path: Path) -> None:
    # The parser against what this git really prints (not a hand-written sample).
    repo = make_repo(tmp_path / "r")
    (repo / "u").write_text("u")
    out = subprocess.run(
        ["git", "status", "--porcelain=v2", "--branch", "-z"], cwd=repo, capture_output=True, check=True
    ).stdout
    parsed = parse_porcelain_v2(out)
    assert parsed["head"] == "main" and parsed["untracked"] == 1 and parsed["oid"] == git(repo, "rev-parse", "HEAD")


def test_commits_since_lists_only_newer_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    first_date = git(repo, "log", "-1", "--format=%cI")
    env_old = {"GIT_COMMITTER_DATE": "2001-01-01T00:00:00Z", "GIT_AUTHOR_DATE": "2001-01-01T00:00:00Z"}
    subprocess.run(
        ["git", "commit", "-q", "--amend", "-m", "old"],
        cwd=repo,
        env={**os.environ, **GIT_ENV, **env_old},
        check=True,
        timeout=30,
    )
    (repo / "b.txt").write_text("two\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "second")
    commits = commits_since(str(repo), first_date)
    assert [c["subject"] for c in commits] == ["second"]
    assert commits[0]["sha"] == git(repo, "rev-parse", "HEAD")
    assert commits_since(str(tmp_path), first_date) is None  # not a repository
    assert commits_since(str(repo), None) is None
