"""Issue 24, item 15: the smaller things a user meets around ``session create``, ``diff``, names and ``status``.

Real git repositories, real tmux on the test's own socket (the ``runtime`` fixture), the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.runtime import plan as planning
from tests.helpers import REPO, git, make_repo
from tests.test_session_create import cli, write_plan

# ---------------------------------------------------------------------------- a dirty base checkout


def test_create_on_a_dirty_checkout_warns_naming_the_files_and_keeps_git_status_clean(
    tmp_path: Path, runtime: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "a.txt").write_text("changed, not committed\n")
    (repo / "new.txt").write_text("untracked\n")
    plan = write_plan(tmp_path / "plan.json", repo, "dirty", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stdout.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1 and "uncommitted changes the workers do not get" in warning[0], done.stdout
    assert "a.txt" in warning[0] and "new.txt" in warning[0] and ".orchestration" not in warning[0]
    worktree = tmp_path / "repo-dirty-alpha"
    assert (worktree / "a.txt").read_text() == "one\n" and not (worktree / "new.txt").exists()  # the base commit
    # the coordination folder is out of git status (info/exclude), the user's own changes still in it
    assert (repo / ".orchestration" / "dirty" / "alpha" / "task.md").exists()
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert ".orchestration" not in status and "a.txt" in status and "new.txt" in status
    assert "/.orchestration/\n" in (repo / ".git" / "info" / "exclude").read_text()
    again = write_plan(tmp_path / "plan2.json", repo, "second", ["beta"])
    assert cli("session", "create", str(again), "--execute", cwd=repo).returncode == 0
    assert (repo / ".git" / "info" / "exclude").read_text().count("/.orchestration/") == 1  # written once


def test_a_clean_checkout_gets_no_warning(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "clean", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stdout


def test_the_exclude_file_is_never_written_through_a_planted_link(tmp_path: Path, runtime: str) -> None:
    """The repository is untrusted: ``.git/info`` made a link to a folder elsewhere is not followed."""
    repo = make_repo(tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "exclude").write_text("precious\n")
    info = repo / ".git" / "info"
    if info.exists():
        for child in info.iterdir():
            child.unlink()
        info.rmdir()
    info.symlink_to(elsewhere)
    plan = write_plan(tmp_path / "plan.json", repo, "linked", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "exclude").read_text() == "precious\n"
    assert "not added to" in done.stdout and "git status lists it" in done.stdout


# ---------------------------------------------------------------------------- a bad base


def test_a_bad_base_names_the_ref(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "based", ["alpha"], baseRef="nope")
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 1
    assert "unknown base ref 'nope'" in done.stderr and "rev-parse" not in done.stderr, done.stderr
    assert not (tmp_path / "repo-based-alpha").exists()


def test_an_empty_repository_says_it_has_no_commit(tmp_path: Path, runtime: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    plan = write_plan(tmp_path / "plan.json", repo, "empty", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 1
    assert "has no commit yet" in done.stderr and "rev-parse" not in done.stderr, done.stderr


def test_a_folder_outside_git_says_so(tmp_path: Path, runtime: str) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    plan = write_plan(tmp_path / "plan.json", folder, "plain", ["alpha"])
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "session", "create", str(plan), "--execute"], capture_output=True,
        text=True, cwd=folder, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "GIT_CEILING_DIRECTORIES": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 1
    assert "not a git work tree" in done.stderr, done.stderr


# ---------------------------------------------------------------------------- unicode names


@given(st.text(max_size=30))
def test_a_name_with_any_letter_or_digit_keeps_a_slug_of_its_own(name: str) -> None:
    slug = planning.slugify(name)
    assert slug == slug.lower() and "--" not in slug and slug.strip("-") == slug
    assert all(c.isalnum() or c == "-" for c in slug)
    if any(c.isalnum() for c in name):
        assert slug != "worker" or "worker" in name.lower()  # never the bare fallback for a name with letters
    if name.isascii():  # ECC's own slug for every ASCII name (its tools find our sessions by it)
        import re

        assert slug == (re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-") or "worker")


def test_unicode_names_keep_recognisable_slugs() -> None:
    assert planning.slugify("Données") == "donnees"
    assert planning.slugify("数据 清洗") == "数据-清洗"
    assert planning.slugify("Ünïcödé Wörker") == "unicode-worker"
    assert planning.slugify("🚀") == "worker"  # nothing to keep: the fallback (made unique by its number)


def test_worker_accepts_the_name_the_user_typed(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "uni", ["Données", "数据"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "donnees: orchestrator-uni-donnees" in done.stdout and "数据: orchestrator-uni-数据" in done.stdout
    for typed, slug in (("Données", "donnees"), ("donnees", "donnees"), ("数据", "数据")):
        diff = cli("session", "diff", "uni", "--worker", typed, "--json", cwd=repo)
        assert diff.returncode == 0, diff.stderr
        [one] = json.loads(diff.stdout)
        assert one["id"] == slug, one
    unknown = cli("session", "diff", "uni", "--worker", "nobody", cwd=repo)
    assert unknown.returncode == 1 and "has no worker 'nobody'" in unknown.stderr


def test_two_names_with_one_slug_are_refused_naming_both(tmp_path: Path) -> None:
    plan = planning.validate({"workers": [{"name": "Café", "task": "x", "agent": "claude"},
                                          {"name": "cafe", "task": "y", "agent": "claude"}]})  # fmt: skip
    try:
        planning.build(plan, cwd=str(tmp_path))
    except Exception as exc:  # UserError
        assert "'Café' and 'cafe' are both 'cafe'" in str(exc)
    else:
        raise AssertionError("a colliding slug was accepted")


def test_the_plain_diff_lists_the_files_stat_lists(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "listed", ["alpha"])
    assert cli("session", "create", str(plan), "--execute", cwd=repo).returncode == 0
    worktree = tmp_path / "repo-listed-alpha"
    (worktree / "a.txt").write_text("edited\n")
    (worktree / "fresh.txt").write_text("new\n")
    plain = cli("session", "diff", "listed", cwd=repo)
    stat = cli("session", "diff", "listed", "--stat", cwd=repo)
    assert plain.returncode == 0 and stat.returncode == 0, plain.stderr + stat.stderr
    listed = [line for line in stat.stdout.splitlines() if line.startswith("  ")]
    assert any("unstaged" in line and "a.txt" in line for line in listed), stat.stdout
    assert any("untracked" in line and "fresh.txt" in line for line in listed), stat.stdout
    assert [line for line in plain.stdout.splitlines() if line.startswith("  ")] == listed
