"""Merges that keep main's history, the ``merged`` state, and a worktree deleted by hand, on real repositories
with workers the runtime created (script workers that commit, as tests/test_session_merge.py's).

- ``merge``: after applying N workers, ``git log --first-parent main`` is the old main plus N merge commits,
  each named after the session, the worker and its task; the workers' branches are never committed onto; the
  base branch moves whether or not it is checked out.
- ``squash`` (any strategy): the worker becomes ``merged`` (list, status, status.md, workers.json, the HUD); a
  second apply is a no-op that says so; cleanup needs no --force. A branch merged by hand is ``merged`` too.
- A worktree deleted by hand: that worker is ``failed`` with the reason and out of the queue; the others go on
  in diff, queue, apply, conflicts and status.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import ecc, git, make_repo, wait_until
from tests.test_session_merge import commit

SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # a GitHub token shape core.redact masks


def make_session(tmp_path: Path, name: str, tasks: dict[str, str], base: str | None = None) -> Path:
    """A repository and a session of script workers, one commit of its own file each, all finished."""
    repo = make_repo(tmp_path / "repo", identity=True)
    workers = [
        {"name": slug, "task": task, "launcherCommand": commit(f"{slug}.txt", slug, f"{slug} work")}
        for slug, task in tasks.items()
    ]
    plan: dict[str, Any] = {"sessionName": name, "repoRoot": str(repo), "workers": workers}
    if base:
        plan["baseRef"] = base
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    done = ecc("session", "create", str(tmp_path / "plan.json"), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: set(states(repo, name).values()) == {"completed"}, 30, lambda: str(states(repo, name)))
    return repo


def states(repo: Path, name: str) -> dict[str, str]:
    listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)
    return {w["id"]: w["state"] for s in listed if s["session"] == name for w in s["workers"]}


def reasons(repo: Path, name: str) -> dict[str, str]:
    listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)
    return {w["id"]: w["reason"] for s in listed if s["session"] == name for w in s["workers"]}


def first_parents(repo: Path, ref: str = "main") -> list[tuple[str, list[str], str]]:
    """(commit, parents, subject) along ``ref``'s first-parent line, newest first."""
    out = git(repo, "log", "--first-parent", "--format=%H%x00%P%x00%s", ref)
    return [(c, p.split(), s) for c, p, s in (line.split("\0") for line in out.splitlines())]


def tips(repo: Path, name: str, slugs: list[str]) -> dict[str, str]:
    return {s: git(repo, "rev-parse", f"orchestrator-{name}-{s}") for s in slugs}


TASKS = {
    "alpha": "add the alpha file\nwith a second line of detail",
    "beta": "add the beta file, using the token " + SECRET,
    "gamma": "add the gamma file " + "and say a great deal more about it " * 4,
}


def test_merge_gives_main_one_named_merge_commit_per_worker(tmp_path: Path, runtime: str) -> None:
    repo = make_session(tmp_path, "hist", TASKS)
    old_main = first_parents(repo)
    before = tips(repo, "hist", list(TASKS))
    (repo / "base.txt").write_text("the base moved on\n")  # so no merge can be a fast-forward
    git(repo, "add", "base.txt")
    git(repo, "commit", "-qm", "the base moves on")
    moved = git(repo, "rev-parse", "main")
    applied = ecc("session", "merge-queue", "hist", "--apply", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    line = first_parents(repo)
    merges, rest = line[: len(TASKS)], line[len(TASKS) :]
    assert [c for c, _, _ in rest] == [moved] + [c for c, _, _ in old_main]  # the old main, untouched
    previous = moved
    for commit_id, parents, subject in reversed(merges):  # oldest first: each on the main before it
        assert len(parents) == 2 and parents[0] == previous, (subject, parents, previous)
        assert parents[1] in before.values()  # the worker's own tip: its branch got no commit of ours
        previous = commit_id
    subjects = {s for _, _, s in merges}
    assert {s.split(" ")[1] for s in subjects} == set(TASKS)
    for subject in subjects:
        assert subject.startswith("Merge ") and "(hist)" in subject and len(subject) <= 72
        assert not any(c in subject for c in before.values()) and "orchestrator-" not in subject
    assert "Merge alpha (hist): add the alpha file" in subjects
    bodies = git(repo, "log", "--format=%B", "-n", str(len(TASKS)), "main")
    assert SECRET not in bodies and "[REDACTED]" in bodies  # the task, redacted
    assert "Session: hist" in bodies and "with a second line of detail" in bodies
    assert tips(repo, "hist", list(TASKS)) == before  # checking the base never committed on a worker's branch
    assert sorted(n.name for n in repo.glob("*.txt")) == ["a.txt", "alpha.txt", "base.txt", "beta.txt", "gamma.txt"]
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""  # the checkout followed


def test_merge_moves_a_base_branch_that_no_checkout_has(tmp_path: Path, runtime: str) -> None:
    tasks = {"alpha": "add alpha", "beta": "add beta"}
    repo = make_session(tmp_path, "away", tasks, base="main")
    old_main = git(repo, "rev-parse", "main")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "mine.txt").write_text("the user's own work\n")  # uncommitted, on another branch: not ours to touch
    applied = ecc("session", "merge-queue", "away", "--apply", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert "alpha: merged orchestrator-away-alpha into main (merge)" in applied.stdout
    line = first_parents(repo)
    assert [len(p) for _, p, _ in line[:2]] == [2, 2] and line[2][0] == old_main
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "side" and git(repo, "rev-parse", "side") == old_main
    assert not (repo / "alpha.txt").exists() and (repo / "mine.txt").read_text() == "the user's own work\n"
    assert git(repo, "show", "main:alpha.txt") == "alpha"
    assert states(repo, "away") == {"alpha": "merged", "beta": "merged"}


@pytest.mark.parametrize("strategy", ["squash", "rebase", "merge"])
def test_a_merged_worker_is_merged_and_applying_again_is_a_no_op(
    tmp_path: Path, runtime: str, ecc_home: Path, strategy: str
) -> None:
    repo = make_session(tmp_path, "sq", {"w1": "add w1"})
    applied = ecc("session", "merge-queue", "sq", "--apply", "--strategy", strategy, cwd=repo)
    assert applied.returncode == 0, applied.stderr
    head = git(repo, "rev-parse", "main")
    assert states(repo, "sq") == {"w1": "merged"}
    assert reasons(repo, "sq") == {"w1": f"merged ({strategy}) at {head[:12]}"}
    if strategy == "squash":
        assert git(repo, "rev-list", "--count", "--merges", "main") == "0"
        assert git(repo, "log", "-1", "--format=%s", "main") == "Squash w1 (sq): add w1"
    for again in (strategy, "merge"):  # the same strategy, then another: nothing more lands
        done = ecc("session", "merge-queue", "sq", "--apply", "--strategy", again, cwd=repo)
        assert done.returncode == 0, done.stderr
        assert f"nothing to merge: w1 merged ({strategy}) at {head[:12]}" in done.stdout
        assert git(repo, "rev-parse", "main") == head
    table = ecc("session", "status", "sq", cwd=repo).stdout
    assert "merged" in table.split("w1", 1)[1].splitlines()[0]
    snapshot = json.loads(ecc("session", "status", "sq", "--json", cwd=repo).stdout)
    assert [w["state"] for w in snapshot["workers"]] == ["merged"] and snapshot["session"]["state"] == "completed"
    assert snapshot["workers"][0]["health"] == "healthy"
    status_md = (repo / ".orchestration" / "sq" / "w1" / "status.md").read_text()
    assert "- State: completed" in status_md  # what ECC's readers know; the line below says merged
    assert f"- Merged: ({strategy}) at {head[:12]}" in status_md
    exported = json.loads((ecc_home / "runtime" / "workers.json").read_text())
    assert [w["state"] for s in exported["sessions"] for w in s["workers"]] == ["merged"]
    swept = ecc("session", "stop", "sq", "--cleanup", cwd=repo)  # merged: done, no --force
    assert swept.returncode == 0, swept.stderr
    wait_until(lambda: not (repo.parent / "repo-sq-w1").exists() and not git(repo, "branch", "--list", "orch*"),
               30, "the merged worktree and its branch to go")  # fmt: skip


def test_the_hud_shows_a_merged_worker_as_completed_and_says_merged() -> None:
    from ecc_hooks.hud.aggregate import _runtime_agents

    agents = _runtime_agents([{"id": "s/w1", "state": "merged"}, {"id": "s/w2", "state": "completed"}])
    assert [(a.state.value, a.runtimeState) for a in agents] == [("completed", "merged"), ("completed", None)]


def test_a_branch_merged_by_hand_is_merged(tmp_path: Path, runtime: str) -> None:
    repo = make_session(tmp_path, "hand", {"w1": "add w1", "w2": "add w2"})
    git(repo, "merge", "-q", "--no-ff", "-m", "merged by the user", "orchestrator-hand-w1")
    wait_until(lambda: states(repo, "hand") == {"w1": "merged", "w2": "completed"}, 30,
               lambda: str(states(repo, "hand")))  # fmt: skip
    assert reasons(repo, "hand")["w1"] == "merged (its commits are in main)"
    entries = {e["id"]: e for e in json.loads(ecc("session", "merge-queue", "hand", "--json", cwd=repo).stdout)}
    assert entries["w1"]["kind"] == "merged" and entries["w2"]["readyToMerge"]


def test_a_worktree_deleted_by_hand_fails_that_worker_and_the_others_go_on(tmp_path: Path, runtime: str) -> None:
    tasks = {"alpha": "add alpha", "beta": "add beta", "gamma": "add gamma"}
    repo = make_session(tmp_path, "gone", tasks)
    lost = repo.parent / "repo-gone-alpha"
    shutil.rmtree(lost)
    reason = f"its worktree is gone: {lost}"
    wait_until(lambda: states(repo, "gone")["alpha"] == "failed", 30, lambda: str(states(repo, "gone")))
    assert reasons(repo, "gone")["alpha"] == reason
    table = ecc("session", "status", "gone", cwd=repo)
    assert table.returncode == 0 and "failed" in table.stdout.split("alpha", 1)[1].splitlines()[0]
    entries = json.loads(ecc("session", "merge-queue", "gone", "--json", cwd=repo).stdout)
    by_id = {e["id"]: e for e in entries}
    assert by_id["alpha"]["kind"] == "missing" and by_id["alpha"]["suggestedAction"] == reason
    assert not by_id["alpha"]["readyToMerge"] and entries[-1]["id"] == "alpha"  # not first: ready ones lead
    assert sorted(e["position"] for e in entries if e["readyToMerge"]) == [1, 2]
    diffs = ecc("session", "diff", "gone", "--json", cwd=repo)
    assert diffs.returncode == 0, diffs.stderr
    by_diff = {d["id"]: d for d in json.loads(diffs.stdout)}
    assert by_diff["alpha"]["missing"] and by_diff["alpha"]["summary"] == reason
    assert by_diff["beta"]["committed"] == ["beta.txt"]
    conflicts = ecc("session", "conflicts", "gone", cwd=repo)
    assert conflicts.returncode == 0, conflicts.stderr
    applied = ecc("session", "merge-queue", "gone", "--apply", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert "beta: merged" in applied.stdout and "gamma: merged" in applied.stdout
    assert "did not finish" not in applied.stdout + applied.stderr
    assert states(repo, "gone") == {"alpha": "failed", "beta": "merged", "gamma": "merged"}


def test_git_in_a_folder_that_is_gone_says_so_at_once(tmp_path: Path) -> None:
    from ecc_hooks.sources import git as gitstate

    done = gitstate.run(str(tmp_path / "deleted"), "config", "user.email", timeout=60)
    assert done is not None and done[0] == gitstate.REFUSED and "does not exist" in done[2]
    with pytest.raises(gitstate.Refused, match="does not exist"):
        gitstate.head(str(tmp_path / "deleted"), "diff", lines=1, max_bytes=100)


def test_checkouts_reads_gits_worktree_listing() -> None:
    """The real listing of a repository with a linked worktree whose path has a space and a newline."""
    import tempfile

    from ecc_hooks.runtime.merge import checkouts
    from ecc_hooks.sources import git as gitstate

    with tempfile.TemporaryDirectory() as folder:
        repo = make_repo(Path(folder) / "repo", identity=True)
        odd = Path(folder) / "a tree\nwith a newline"
        git(repo, "worktree", "add", "-q", "-b", "side-x", str(odd))
        git(repo, "worktree", "add", "-q", "--detach", str(Path(folder) / "detached"))
        done = gitstate.run(str(repo), "worktree", "list", "--porcelain", "-z")
        assert done is not None and done[0] == 0
        assert checkouts(done[1].decode()) == {"main": str(repo), "side-x": str(odd)}


PATHS = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), min_size=1, max_size=30)
NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True)


@given(st.lists(st.tuples(PATHS.map(lambda p: "/" + p), st.one_of(st.none(), NAMES)), min_size=1, max_size=6))
def test_checkouts_finds_each_branchs_work_tree(trees: list[tuple[str, str | None]]) -> None:
    from ecc_hooks.runtime.merge import checkouts

    records = []
    for path, branch in trees:
        fields = [f"worktree {path}", "HEAD " + "0" * 40, f"branch refs/heads/{branch}" if branch else "detached"]
        records.append("".join(f + "\0" for f in fields) + "\0")
    want: dict[str, str] = {}
    for path, branch in trees:
        if branch:
            want.setdefault(branch, path)
    assert checkouts("".join(records)) == want
