"""headref: HEAD's commit read from the repository's files must equal what git itself says, in every repo shape."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.capture import headref
from ecc_hooks.hud.aggregate import fold_all
from ecc_hooks.sources import git as gitstate
from tests.helpers import GIT_ENV, git, journal_lines, make_repo, run_hook


def commit(path: Path, name: str) -> str:
    (path / name).write_text(name)
    git(path, "add", name)
    git(path, "commit", "-q", "-m", name)
    return git(path, "rev-parse", "HEAD")


def test_loose_ref_and_a_subdirectory(tmp_path: Path) -> None:
    r = make_repo(tmp_path / "r")
    (r / "sub" / "deeper").mkdir(parents=True)
    assert headref.head_commit(str(r)) == git(r, "rev-parse", "HEAD")
    assert headref.head_commit(str(r / "sub" / "deeper")) == git(r, "rev-parse", "HEAD")


def test_packed_refs(tmp_path: Path) -> None:
    r = make_repo(tmp_path / "r")
    git(r, "pack-refs", "--all")
    assert not (r / ".git" / "refs" / "heads" / "main").exists()
    assert headref.head_commit(str(r)) == git(r, "rev-parse", "HEAD")


def test_detached_head(tmp_path: Path) -> None:
    r = make_repo(tmp_path / "r")
    first = git(r, "rev-parse", "HEAD")
    commit(r, "b.txt")
    git(r, "checkout", "-q", "--detach", first)
    assert headref.head_commit(str(r)) == first


def test_linked_worktree_has_its_own_head(tmp_path: Path) -> None:
    r = make_repo(tmp_path / "r")
    git(r, "worktree", "add", "-q", "-b", "feat", str(tmp_path / "wt"))
    feat = commit(tmp_path / "wt", "f.txt")
    assert headref.head_commit(str(tmp_path / "wt")) == feat == git(tmp_path / "wt", "rev-parse", "HEAD")
    assert headref.head_commit(str(r)) == git(r, "rev-parse", "HEAD") != feat


def test_no_repo_and_unborn_branch(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert headref.head_commit(str(tmp_path / "plain")) is None
    assert headref.head_commit(None) is None
    (tmp_path / "new").mkdir()
    git(tmp_path / "new", "init", "-q")
    assert headref.head_commit(str(tmp_path / "new")) is None


@settings(max_examples=60, deadline=None)
@given(head=st.binary(max_size=200), gitfile=st.one_of(st.none(), st.binary(max_size=200)))
def test_any_file_contents_never_raise(tmp_path_factory, head: bytes, gitfile: bytes | None) -> None:
    root = tmp_path_factory.mktemp("junk")
    if gitfile is None:
        (root / ".git").mkdir()
        (root / ".git" / "HEAD").write_bytes(head)
    else:
        (root / ".git").write_bytes(gitfile)
    result = headref.head_commit(str(root))
    assert result is None or (len(result) in (40, 64) and all(c in "0123456789abcdef" for c in result))


def test_commits_since_a_base_is_exact_within_one_second(tmp_path: Path) -> None:
    r = make_repo(tmp_path / "r")
    when = "@1700000000 +0000"  # both commits in the same second as the "start": time cannot tell them apart
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "commit", "-q", "--amend", "-m", "before"], cwd=r, env=env, check=True, timeout=30)
    base = headref.head_commit(str(r))
    (r / "b.txt").write_text("b")
    git(r, "add", "b.txt")
    subprocess.run(["git", "commit", "-q", "-m", "during"], cwd=r, env=env, check=True, timeout=30)
    by_time = gitstate.commits_since(str(r), "2023-11-14T22:13:20Z")
    assert [c["subject"] for c in by_time] == ["during", "before"]  # the ambiguity the base removes
    exact = gitstate.commits_since(str(r), "2023-11-14T22:13:20Z", base=base)
    assert [c["subject"] for c in exact] == ["during"]
    assert gitstate.commits_since(str(r), None, base="--output=/tmp/x") is None  # only commit ids reach git


def test_session_start_records_head_and_a_resume_keeps_the_first(tmp_path: Path, ecc_home: Path) -> None:
    r = make_repo(tmp_path / "r")
    first = git(r, "rev-parse", "HEAD")
    start = {"session_id": "s-head", "hook_event_name": "SessionStart", "source": "startup", "cwd": str(r)}
    done = run_hook(json.dumps(start).encode())
    assert done.returncode == 0 and done.stdout == b"" and done.stderr == b""
    later = commit(r, "b.txt")
    run_hook(json.dumps({**start, "source": "resume"}).encode())
    records = journal_lines(ecc_home, "s-head")
    assert [rec.get("gitHead") for rec in records] == [first, later]
    assert fold_all(records).start_head == first  # the session began at the first start
    outside = {**start, "session_id": "s-nogit", "cwd": str(tmp_path)}
    run_hook(json.dumps(outside).encode())
    assert "gitHead" not in journal_lines(ecc_home, "s-nogit")[0]
