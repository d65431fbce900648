"""The coordination files (``task.md``, ``status.md``, ``handoff.md``) and their folder.

A task given with a token in it never reaches ``task.md`` (nor any coordination file: ``files.write``, their one
writer, redacts each whole file); the worker still gets its task as given, from its launch. A plan's
``coordinationRoot`` that does not exist is made, as ECC's orchestrator makes it, below a folder of the user's;
below someone else's folder the create stops with a clear error naming it, never "internal error"."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.runtime import files
from tests.helpers import ecc, make_repo, wait_until
from tests.security.secret_kinds import secret_texts

TOKEN = "ghp_Q7w2E9r4T1y6U3i8O5p0A2s7D4f9G1h6J3k8"


def plan(tmp_path: Path, repo: Path, task: str, monkeypatch: pytest.MonkeyPatch, **extra: object) -> Path:
    """A one-worker plan whose agent (a stand-in ``opencode`` on PATH) writes the argv it was launched with."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    agent = bin_dir / "opencode"
    agent.write_text(
        f'#!/bin/sh\n[ "$1" = --version ] && {{ echo 1.0.0; exit 0; }}\nprintf "%s\\n" "$@" > {tmp_path}/argv\n'
    )
    agent.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")  # the supervisor inherits it
    path = tmp_path / "plan.json"
    worker = {"name": "one", "task": task, "agent": "opencode", "runtime": "headless"}
    path.write_text(json.dumps({"sessionName": "coord", "repoRoot": str(repo), "workers": [worker], **extra}))
    return path


def test_a_token_in_the_task_never_reaches_the_coordination_files(
    tmp_path: Path, runtime: str, ecc_home: Path, monkeypatch: pytest.MonkeyPatch
):
    repo = make_repo(tmp_path / "repo")
    task = f"push with {TOKEN} then report"
    done = ecc("session", "create", str(plan(tmp_path, repo, task, monkeypatch)), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    written = sorted((repo / ".orchestration" / "coord").rglob("*.md"))
    assert {p.name for p in written} == {"task.md", "status.md", "handoff.md"}
    task_md = (repo / ".orchestration" / "coord" / "one" / "task.md").read_text()
    assert "## Objective\npush with [REDACTED] then report" in task_md  # ECC's tools still find the objective
    for path in written:
        assert "Q7w2E9r4T1y6U3i8O5p0" not in path.read_text(), path
    got = tmp_path / "argv"  # the agent itself gets its task from its launch, as given
    wait_until(lambda: got.exists() and got.read_text() != "", 30, "the agent's launch")
    assert task in got.read_text().splitlines()


@settings(max_examples=60, deadline=None)
@given(secret_texts(), st.sampled_from(["task", "reason", "message"]))
def test_no_coordination_file_holds_a_secret(tmp_path_factory, found: tuple[str, str, str], where: str) -> None:
    _, text, sensitive = found
    root = tmp_path_factory.mktemp("coord")
    common = {"name": "w", "worktree": "/w", "branch": "b"}
    if where == "task":
        body = files.task_md(session="s", repo_root="/r", status_file="/s", handoff_file="/h", task=text,
                             seed_paths=[], **common)  # fmt: skip
    elif where == "reason":
        body = files.status_md(state="failed", reason=text, **common)
    else:
        body = files.handoff_md(name="w", state="completed", reason=None, final_message=text, commits=[], files=[],
                                uncommitted=[], checks=[], risks=[text])  # fmt: skip
    target = root / "s" / "w" / f"{where}.md"
    files.write(str(target), body, str(root))
    assert sensitive not in target.read_text()


def test_a_missing_coordination_root_is_made_below_a_folder_of_the_users(
    tmp_path: Path, runtime: str, ecc_home: Path, monkeypatch: pytest.MonkeyPatch
):
    repo = make_repo(tmp_path / "repo")
    where = tmp_path / "notes" / "orchestration"  # neither level exists yet
    done = ecc("session", "create", str(plan(tmp_path, repo, "do it", monkeypatch, coordinationRoot=str(where))), "--execute",
               cwd=repo)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (where / "coord" / "one" / "task.md").is_file()
    assert os.stat(where).st_mode & 0o777 == 0o700


def test_a_missing_coordination_root_below_another_users_folder_is_a_clear_error(
    tmp_path: Path, runtime: str, ecc_home: Path, monkeypatch: pytest.MonkeyPatch
):
    repo = make_repo(tmp_path / "repo")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o777)
    os.chmod(theirs, 0o777)
    os.chown(theirs, 65534, 65534)  # another local user's folder (``nobody``)
    where = theirs / "orchestration"
    done = ecc("session", "create", str(plan(tmp_path, repo, "do it", monkeypatch, coordinationRoot=str(where))), "--execute",
               cwd=repo)  # fmt: skip
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "internal error" not in done.stderr
    assert str(where) in done.stderr and "coordinationRoot" in done.stderr, done.stderr
    assert not where.exists()  # nothing made in another user's folder
    listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)
    assert listed == []  # the create left nothing behind
