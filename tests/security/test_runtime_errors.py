"""Issue 23, finding 13: inputs that made the runtime misbehave or fail with the wrong message.

- a task starting with ``-`` typed into a pane (tmux's ``send-keys`` read it as its own options);
- a ``worktree add`` that fails after git made the branch (the branch stayed: the next create failed "already
  exists");
- a ``runtime.db`` that is garbage or another program's database ("internal error"): a clear error, exit 1, the
  file untouched (a read-only one: tests/security/test_runtime_store_read_only.py);
- a 300-character worker name ("a git lock is held"): refused by the plan with the limit named.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ecc, git, make_repo, wait_until


def test_a_task_starting_with_a_dash_is_typed_not_read_as_options(tmp_path: Path, runtime: str) -> None:
    from ecc_hooks.runtime import launch

    subprocess.run(["tmux", "-L", runtime, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "120", "-y", "20",
                    "cat"], check=True)  # fmt: skip
    pane = launch.tmux("display-message", "-p", "-t", "=t:0", "#{pane_id}", socket=runtime).strip()
    task = "-t =nowhere -N --help refactor the parser"
    assert launch.send_keys(pane, task, literal=True, socket=runtime)
    assert launch.send_keys(pane, "Enter", socket=runtime)
    wait_until(lambda: task in (launch.capture(pane, runtime) or ""), 10, lambda: launch.capture(pane, runtime))


def _branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--list", "orchestrator-*", "--format=%(refname:short)").split()


def test_a_failed_worktree_add_leaves_no_branch_behind(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the worktrees' parent folder should be\n")
    plan = {"sessionName": "wt", "repoRoot": str(repo), "worktreeRoot": str(blocker),
            "workers": [{"name": "w", "task": "t", "launcherCommand": "true"}]}  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    failed = ecc("session", "create", str(tmp_path / "plan.json"), "--execute", cwd=repo)
    assert failed.returncode == 1, failed.stderr
    assert _branches(repo) == []
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1  # the main checkout only
    plan["worktreeRoot"] = str(tmp_path / "trees")
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    again = ecc("session", "create", str(tmp_path / "plan.json"), "--execute", cwd=repo)
    assert again.returncode == 0, again.stderr


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not SQLite\n" + os.urandom(4096))


def _other_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('mine')")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [(_garbage, "is not a database"), (_other_schema, "is not ecc-hooks' runtime database")],
)  # a read-only runtime.db is read: tests/security/test_runtime_store_read_only.py
def test_an_unusable_runtime_db_says_what_is_wrong_and_is_left_untouched(ecc_home: Path, tmp_path: Path, make, says):
    ecc_home.mkdir(mode=0o700)
    path = ecc_home / "runtime.db"
    make(path)
    path.chmod(path.stat().st_mode & 0o700)
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_mode)
    listed = sorted(os.listdir(ecc_home))
    for args in (("list",), ("status", "x"), ("diff", "x")):
        done = ecc("session", *args, cwd=tmp_path)
        assert done.returncode == 1, (args, done.returncode, done.stderr)
        assert says in done.stderr and str(path) in done.stderr, done.stderr
        assert "internal error" not in done.stderr
        assert any(fix in done.stderr for fix in ("move it away", "chmod u+w")), done.stderr
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_mode) == before
    assert sorted(os.listdir(ecc_home)) == listed  # no -wal, -shm or journal made beside it


def test_a_worker_name_too_long_for_git_is_refused_with_the_limit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = {"sessionName": "long", "repoRoot": str(repo),
            "workers": [{"name": "w" * 300, "task": "t", "launcherCommand": "true"}]}  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    for extra in ((), ("--execute",)):
        done = ecc("session", "create", str(tmp_path / "plan.json"), *extra, cwd=repo)
        assert done.returncode == 1, done.stderr
        assert "bytes, over the 200" in done.stderr and "shorten the worker's name" in done.stderr, done.stderr
        assert "lock" not in done.stderr
    assert _branches(repo) == []
