"""Issue 23, findings 4 and 5: what the runtime writes, copies or removes under a repository, a worktree or a
coordination folder never goes through a link the repository committed or another user (uid 65534) planted, and
what goes into a pull request body is read the same way and redacted.

Every write and copy goes through ``core.fsio`` with a root: each folder below it opened with ``O_NOFOLLOW`` relative
to its parent's descriptor and owned by the user, the file created ``O_EXCL`` under an unguessable temporary name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks.core import fsio
from tests import test_gh
from tests.helpers import ecc, git, make_repo, wait_until

NOBODY = 65534
PRECIOUS = "precious: must stay exactly as it is\n"
SECRET = "sk-ant-api03-" + "Q" * 48


def as_nobody(act: Callable[[], None]) -> None:
    """Run ``act`` in a forked child that dropped to uid/gid 65534 (the other local user); it must succeed."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            act()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the other user's step failed"


@pytest.fixture
def attacker_dir() -> Iterator[Path]:
    """A folder in /tmp owned by the other user (0777, as a careless shared folder would be)."""
    where = Path(tempfile.mkdtemp(prefix="ecc-attacker-", dir="/tmp"))
    os.chown(where, NOBODY, NOBODY)
    os.chmod(where, 0o777)
    yield where
    shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    target = tmp_path / "victim.txt"
    target.write_text(PRECIOUS)
    return target


def entries(folder: Path) -> set[str]:
    """Every path below ``folder`` (links not followed), relative to it."""
    found = set()
    for top, dirs, names in os.walk(folder):
        for name in dirs + names:
            found.add(os.path.relpath(os.path.join(top, name), folder))
    return found


def plant_tmp_links(folder: Path, victim: Path, names: tuple[str, ...], by_nobody: bool = True) -> None:
    """The other user's worker folder with ``<name>.<pid>.tmp -> victim`` for every pid there can be (the old
    writer's temporary name was ``<path>.<pid>.tmp``): planted as uid 65534 itself, or, where that user cannot reach
    (a folder inside the victim's private tree), made here and handed to 65534, the same result on disk."""
    pid_max = min(int(Path("/proc/sys/kernel/pid_max").read_text()), 1 << 16)

    def plant() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            for pid in range(1, pid_max + 1):
                os.symlink(victim, folder / f"{name}.{pid}.tmp")

    if by_nobody:
        as_nobody(plant)
        return
    plant()
    for top, dirs, files in os.walk(folder.parent):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(top, name), NOBODY, NOBODY)
    os.chmod(folder, 0o777)


def write_plan(tmp_path: Path, repo: Path, name: str, workers: list[dict[str, Any]], **extra: Any) -> Path:
    plan = tmp_path / f"{name}.json"
    plan.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers, **extra}))
    return plan


# ---------------------------------------------------------------------------- finding 4: coordination files


@pytest.mark.parametrize("how", ["committed-link", "foreign-folder"])
def test_coordination_files_never_go_through_a_planted_link_or_a_foreign_folder(
    tmp_path: Path, runtime: str, attacker_dir: Path, victim: Path, how: str
) -> None:
    repo = make_repo(tmp_path / "repo", identity=True)
    if how == "committed-link":  # the repository commits .orchestration -> a folder the other user owns
        os.symlink(attacker_dir, repo / ".orchestration")
        git(repo, "add", ".orchestration")
        git(repo, "commit", "-qm", "coordination lives elsewhere")
        worker_dir = attacker_dir / "planted" / "w"
    else:  # another user made the repository's .orchestration (a shared checkout)
        (repo / ".orchestration").mkdir(mode=0o777)
        os.chown(repo / ".orchestration", NOBODY, NOBODY)
        os.chmod(repo / ".orchestration", 0o777)
        worker_dir = repo / ".orchestration" / "planted" / "w"
    plant_tmp_links(worker_dir, victim, ("task.md",), by_nobody=how == "committed-link")
    before = entries(worker_dir.parent.parent)
    plan = write_plan(tmp_path, repo, "planted", [{"name": "w", "task": "t", "launcherCommand": "true"}])
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert victim.read_text() == PRECIOUS  # never written through a planted link
    assert entries(worker_dir.parent.parent) == before  # nothing created in the other user's folder
    assert done.returncode == 1 and "refused to write the coordination files" in done.stderr, done.stderr
    assert not (tmp_path / "repo-planted-w").exists()  # all or nothing
    assert git(repo, "branch", "--list", "orchestrator-planted-*") == ""


def test_the_supervisor_never_writes_status_or_handoff_through_a_swapped_folder(
    tmp_path: Path, runtime: str, attacker_dir: Path, victim: Path
) -> None:
    repo = make_repo(tmp_path / "repo", identity=True)
    release = tmp_path / "release"
    step = f"while [ ! -e {release} ]; do sleep 0.1; done; echo finished"
    plan = write_plan(tmp_path, repo, "swap", [{"name": "w", "task": "t", "launcherCommand": step}])
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    worker_dir = repo / ".orchestration" / "swap" / "w"
    wait_until(lambda: "State: running" in (worker_dir / "status.md").read_text(), 30, "the worker to run")
    plant_tmp_links(attacker_dir / "w", victim, ("status.md", "handoff.md"))
    shutil.rmtree(worker_dir)
    os.symlink(attacker_dir / "w", worker_dir)  # swapped for a link into the other user's folder
    before = entries(attacker_dir)
    release.write_text("")
    errors = Path(os.environ["ECC_HOOKS_HOME"]) / "errors.log"

    def handed_off() -> bool:  # refused (and logged), or written where it must not be
        return (errors.exists() and "runtime.handoff" in errors.read_text()) or entries(attacker_dir) != before

    wait_until(handed_off, 30, "the supervisor's handoff")
    assert entries(attacker_dir) == before and victim.read_text() == PRECIOUS
    assert "runtime.status" in errors.read_text()


# ---------------------------------------------------------------------------- finding 4: the pull request body


@pytest.fixture
def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """tests/test_gh.py's gh stand-in (``--body-file -`` read from stdin, as gh does); its log's ``.body`` holds
    the body gh got."""
    yield from test_gh.fake_gh.__wrapped__(tmp_path, monkeypatch)  # type: ignore[attr-defined]


@pytest.fixture
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/test_gh.py's ssh stand-in: pushes to a GitHub URL land in a local bare repository."""
    return test_gh.fake_ssh.__wrapped__(tmp_path, monkeypatch)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def pr_session(tmp_path: Path, runtime: str, fake_ssh: Path) -> Path:
    """A finished worker with a commit, on a repository with a GitHub origin whose pushes stay on this machine."""
    repo = make_repo(tmp_path / "repo", identity=True)
    step = "echo new > new.txt && git add new.txt && git -c user.name=w -c user.email=w@x commit -qm new"
    plan = write_plan(tmp_path, repo, "prs", [{"name": "w", "task": "add a file", "launcherCommand": step}])
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr

    def finished() -> bool:
        listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)
        return listed[0]["workers"][0]["state"] == "completed"

    wait_until(finished, 30, "the worker to finish")
    handoff = repo / ".orchestration" / "prs" / "w" / "handoff.md"
    wait_until(lambda: "Pending" not in handoff.read_text(), 30, "the handoff")
    bare = fake_ssh / "github.com" / "acme" / "widget.git"
    bare.parent.mkdir(parents=True)
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", "https://github.com/acme/widget.git")
    git(repo, "config", "remote.origin.pushurl", "git@github.com:acme/widget.git")  # the same repository, by ssh
    return repo


def test_a_handoff_replaced_by_a_link_to_a_key_never_reaches_gh(
    tmp_path: Path, pr_session: Path, fake_gh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_GH_MODE", "runs")
    key = tmp_path / "ssh" / "id_test"
    key.parent.mkdir(mode=0o700)
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
                   "-----END OPENSSH PRIVATE KEY-----\n")  # fmt: skip
    key.chmod(0o600)
    handoff = pr_session / ".orchestration" / "prs" / "w" / "handoff.md"
    handoff.unlink()
    handoff.symlink_to(key)
    done = ecc("session", "pr", "prs", "--worker", "w", cwd=pr_session)
    body = Path(str(fake_gh) + ".body")
    assert not body.exists() or "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in body.read_text()
    assert done.returncode == 1 and "cannot be read safely" in done.stderr, done.stderr
    assert not any(c[:2] == ["pr", "create"] for c in test_gh.calls(fake_gh))  # gh never asked


def test_a_secret_in_the_handoff_is_redacted_from_the_pull_request_body(
    pr_session: Path, fake_gh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_GH_MODE", "runs")
    handoff = pr_session / ".orchestration" / "prs" / "w" / "handoff.md"
    handoff.write_text(handoff.read_text() + f"\n- the agent pasted ANTHROPIC_API_KEY={SECRET}\n")
    done = ecc("session", "pr", "prs", "--worker", "w", cwd=pr_session)
    assert done.returncode == 0, done.stderr
    body = Path(str(fake_gh) + ".body").read_text()
    assert "## Summary" in body and SECRET not in body and SECRET[:20] not in body


# ---------------------------------------------------------------------------- finding 5: the worktree overlay


def test_worktreeinclude_never_writes_through_a_committed_folder_link(
    tmp_path: Path, runtime: str, attacker_dir: Path
) -> None:
    repo = make_repo(tmp_path / "repo", identity=True)
    (repo / ".gitignore").write_text(".env\n")
    (repo / ".worktreeinclude").write_text(".env\n")
    git(repo, "add", ".gitignore", ".worktreeinclude")
    git(repo, "commit", "-qm", "ignore .env")
    git(repo, "checkout", "-qb", "evil")
    os.symlink(attacker_dir, repo / "cfg")  # the base branch commits cfg -> the other user's folder
    git(repo, "add", "cfg")
    git(repo, "commit", "-qm", "cfg lives elsewhere")
    git(repo, "checkout", "-q", "main")
    (repo / "cfg").mkdir()
    (repo / "cfg" / ".env").write_text(f"ANTHROPIC_API_KEY={SECRET}\n")  # the user's ignored secret
    plan = write_plan(tmp_path, repo, "inc", [{"name": "w", "task": "t", "launcherCommand": "true"}], baseRef="evil")
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert entries(attacker_dir) == set()  # the secret was not written outside the worktree
    assert done.returncode == 1 and "refused to copy cfg/.env" in done.stderr, done.stderr
    assert (repo / "cfg" / ".env").read_text().endswith(f"{SECRET}\n")


@pytest.mark.parametrize("seed", ["config/notes.txt", "config/data"])
def test_seed_paths_never_replace_or_delete_through_a_committed_folder_link(
    tmp_path: Path, runtime: str, seed: str
) -> None:
    precious = tmp_path / "precious"
    (precious / "data").mkdir(parents=True)
    (precious / "notes.txt").write_text(PRECIOUS)
    (precious / "data" / "keep.txt").write_text(PRECIOUS)
    repo = make_repo(tmp_path / "repo", identity=True)
    git(repo, "checkout", "-qb", "evil")
    os.symlink("../precious", repo / "config")  # from the worktree (a sibling of the repository): the victim
    git(repo, "add", "config")
    git(repo, "commit", "-qm", "config lives next door")
    git(repo, "checkout", "-q", "main")
    (repo / "config" / "data").mkdir(parents=True)
    (repo / "config" / "notes.txt").write_text("seeded\n")
    (repo / "config" / "data" / "seed.txt").write_text("seeded\n")
    workers = [{"name": "w", "task": "t", "launcherCommand": "true"}]
    plan = write_plan(tmp_path, repo, "seed", workers, baseRef="evil", seedPaths=[seed])
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert (precious / "notes.txt").read_text() == PRECIOUS
    assert entries(precious) == {"notes.txt", "data", "data/keep.txt"}
    assert done.returncode == 1 and f"refused to copy {seed}" in done.stderr, done.stderr


def test_a_seed_that_is_a_link_out_of_the_repository_is_copied_as_a_link_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text(SECRET)
    repo, worktree = tmp_path / "repo", tmp_path / "wt"
    repo.mkdir()
    worktree.mkdir()
    (repo / "s").symlink_to(outside / "secret")
    fsio.copy_into(str(repo), str(worktree), "s")
    assert os.readlink(worktree / "s") == str(outside / "secret")
    with pytest.raises(fsio.UnsafeFile):
        fsio.copy_into(str(repo), str(worktree), "s/x")  # through the link: refused


# ---------------------------------------------------------------------------- the mechanism, for any path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a", "b", "..", ".", "", "link", "file", "new"]), min_size=1, max_size=5))
def test_no_relative_path_writes_copies_or_removes_outside_its_root(tmp_path: Path, parts: list[str]) -> None:
    base = Path(tempfile.mkdtemp(dir=tmp_path))
    root, outside = base / "root", base / "outside"
    (root / "a" / "b").mkdir(parents=True)
    (root / "file").write_text("in\n")
    outside.mkdir()
    (base / "target").mkdir()
    (outside / "file").write_text(PRECIOUS)
    (outside / "a" / "b").mkdir(parents=True)
    (root / "link").symlink_to(outside)
    (root / "a" / "link").symlink_to(outside)
    rel = "/".join(parts)
    snapshot = {p: (outside / p).read_bytes() if (outside / p).is_file() else None for p in entries(outside)}
    for act in (
        lambda: fsio.atomic_write(os.path.join(root, rel), b"x", root=str(root)),
        lambda: fsio.copy_into(str(root), str(root / "a"), rel),  # into a folder of its own: refused, never a loop
        lambda: fsio.copy_into(str(root), str(base / "target"), rel),
        lambda: fsio.remove(os.path.join(root, rel), str(root)),
    ):
        try:
            act()
        except (OSError, ValueError):
            pass
    assert {p: (outside / p).read_bytes() if (outside / p).is_file() else None for p in entries(outside)} == snapshot
