"""The merge queue, the conflict queue, the diff and merging, on real repositories with crafted branches: workers
that commit a clean change, one that conflicts with the base, two that edit the same lines, one left dirty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import test_gh
from tests.helpers import ecc, git, make_repo, wait_until

ID = "-c user.name=w -c user.email=w@x"


def commit(path: str, text: str, message: str) -> str:
    return f"printf '{text}\\n' > {path} && git add {path} && git {ID} commit -qm '{message}'"


def crafted_repo(path: Path) -> Path:
    """A repository with a.txt ("one") and common.txt, and an identity to commit with."""
    repo = make_repo(path, identity=True)
    (repo / "common.txt").write_text("common\n")
    git(repo, "add", "common.txt")
    git(repo, "commit", "-qm", "a common file")
    return repo


def wait_finished(repo: Path) -> None:
    """Until every worker of the (one) session has completed."""

    def finished() -> bool:
        listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)
        return all(w["state"] == "completed" for w in listed[0]["workers"])

    wait_until(finished, 30, "the workers to finish")


@pytest.fixture
def session(tmp_path: Path, runtime: str) -> tuple[Path, dict[str, Any]]:
    repo = crafted_repo(tmp_path / "repo")
    workers = [
        {"name": "clean", "task": "add a file", "launcherCommand": commit("new.txt", "new", "a new file")},
        {"name": "conflict", "task": "edit a.txt", "launcherCommand": commit("a.txt", "theirs", "edit a")},
        {
            "name": "first",
            "task": "edit the common file",
            "launcherCommand": commit("common.txt", "first", "first edit"),
        },
        # finishes after "first" (the queue orders by completion time): so it is the one to wait
        {
            "name": "second",
            "task": "edit the common file too",
            "launcherCommand": "sleep 1.5 && " + commit("common.txt", "second", "second"),
        },
        {
            "name": "dirty",
            "task": "leave a mess",
            "launcherCommand": commit("d.txt", "d", "d") + " && echo x > untracked.txt",
        },
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "mq", "repoRoot": str(repo), "workers": workers}))
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    wait_finished(repo)
    (repo / "a.txt").write_text("ours\n")  # the base moves on: "conflict" now conflicts with it
    git(repo, "commit", "-qam", "base edits a")
    return repo, {"plan": plan}


def queue(repo: Path) -> dict[str, dict[str, Any]]:
    done = ecc("session", "merge-queue", "mq", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    return {e["id"]: e for e in json.loads(done.stdout)}


def test_the_queue_orders_and_blocks_as_ecc_2_does(session: tuple[Path, dict[str, Any]]) -> None:
    repo, _ = session
    entries = queue(repo)
    assert entries["conflict"]["kind"] == "base-conflict" and entries["conflict"]["files"] == ["a.txt"]
    assert entries["dirty"]["kind"] == "dirty" and not entries["dirty"]["readyToMerge"]
    ready = sorted((e["position"], e["id"]) for e in entries.values() if e["readyToMerge"])
    assert [i for _, i in ready] in (["clean", "first"], ["first", "clean"]) and [p for p, _ in ready] == [1, 2]
    assert entries["second"]["kind"] == "pair-conflict"
    assert entries["second"]["suggestedAction"] == "merge after first"
    assert entries["second"]["blockedBy"] == [{"worker": "first", "files": ["common.txt"]}]
    found = json.loads(ecc("session", "conflicts", "mq", "--json", cwd=repo).stdout)
    assert {(c["id"], c["kind"]) for c in found} == {("conflict", "base-conflict"), ("second", "pair-conflict"),
                                                    ("dirty", "dirty")}  # fmt: skip
    diffs = {d["id"]: d for d in json.loads(ecc("session", "diff", "mq", "--json", cwd=repo).stdout)}
    assert diffs["clean"]["committed"] == ["new.txt"] and diffs["dirty"]["untracked"] == ["untracked.txt"]
    assert diffs["clean"]["summary"].startswith("Branch 1 file changed")
    # the queue wrote nothing: no worktree has conflict markers or a changed index
    assert git(repo.parent / "repo-mq-conflict", "status", "--porcelain") == ""


def test_apply_gates_on_pre_merge_then_merges_the_ready_and_leaves_conflicts_clean(
    session: tuple[Path, dict[str, Any]],
) -> None:
    repo, _ = session
    before = git(repo, "rev-parse", "HEAD")
    hooks = repo / ".ecc" / "hooks.local"
    hooks.mkdir(parents=True)
    (hooks / "pre_merge").write_text('#!/bin/sh\necho "tests fail on $ECC_BRANCH" >&2\nexit 3\n')
    (hooks / "pre_merge").chmod(0o755)
    gated = ecc("session", "merge-queue", "mq", "--apply", "--trust-hooks", cwd=repo)  # the user's own gate
    assert gated.returncode == 1 and "tests fail on orchestrator-mq-" in gated.stderr
    assert git(repo, "rev-parse", "HEAD") == before  # nothing merged
    (hooks / "pre_merge").unlink()
    (repo / "scratch.txt").write_text("mine\n")  # untracked files do not block; a modified tracked file does
    (repo / "a.txt").write_text("dirty base\n")
    refused = ecc("session", "merge-queue", "mq", "--apply", cwd=repo)
    assert refused.returncode == 1 and "uncommitted changes" in refused.stderr
    git(repo, "checkout", "a.txt")
    applied = ecc("session", "merge-queue", "mq", "--apply", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert "clean: merged orchestrator-mq-clean into main (merge)" in applied.stdout
    assert "first: merged orchestrator-mq-first into main (merge)" in applied.stdout
    assert (repo / "new.txt").read_text() == "new\n" and (repo / "common.txt").read_text() == "first\n"
    after = queue(repo)
    assert after["second"]["kind"] == "base-conflict" and after["second"]["files"] == ["common.txt"]
    assert after["clean"]["kind"] == "merged"  # merged: nothing left to merge, and it says so
    assert after["clean"]["suggestedAction"].startswith("nothing to merge: clean merged (merge) at ")
    for slug in ("conflict", "second"):  # blocked ones were never touched: no conflict markers
        assert git(repo.parent / f"repo-mq-{slug}", "status", "--porcelain") == ""
    # merged work is nothing to lose: --cleanup lets the runtime remove it
    git(repo, "checkout", "-q", "-b", "side")
    elsewhere = ecc("session", "merge-queue", "mq", "--apply", cwd=repo)
    assert elsewhere.returncode == 0 and ": merged orchestrator-" not in elsewhere.stdout  # nothing ready
    assert "nothing to merge: clean merged (merge) at " in elsewhere.stdout  # and it says why
    git(repo, "checkout", "-q", "main")
    swept = ecc("session", "stop", "mq", "--worker", "clean", "--cleanup", cwd=repo)
    assert swept.returncode == 0, swept.stderr  # merged: no --force needed
    wait_until(lambda: not (repo.parent / "repo-mq-clean").exists(), 30, "the merged worktree to go")


@pytest.mark.parametrize("strategy", ["rebase", "squash"])
def test_the_rebase_and_squash_strategies(session: tuple[Path, dict[str, Any]], strategy: str) -> None:
    repo, _ = session
    applied = ecc("session", "merge-queue", "mq", "--apply", "--strategy", strategy, cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert f"clean: merged orchestrator-mq-clean into main ({strategy})" in applied.stdout
    log = git(repo, "log", "--format=%s", "-5")
    if strategy == "rebase":  # linear: the worker's own commits on top, no merge commit
        assert "a new file" in log and "Merge" not in log
        assert git(repo, "rev-list", "--merges", "--count", "HEAD") == "0"
    else:  # one commit per worker, named after it
        assert "Squash clean (mq): add a file" in log and "a new file" not in log
    assert (repo / "new.txt").read_text() == "new\n"


def test_the_hud_shows_the_queues_the_supervisor_keeps(session: tuple[Path, dict[str, Any]], ecc_home: Path) -> None:
    from tests.helpers import run_hook

    repo, _ = session
    ecc("session", "list", cwd=repo)  # any control: the supervisor is there and exports the queues
    sid = "0f0e0d0c-0000-4000-8000-00000000c33f"
    payload = {"session_id": sid, "hook_event_name": "SessionStart", "cwd": str(repo), "source": "startup"}
    assert run_hook(json.dumps(payload).encode()).returncode == 0

    def hud() -> dict[str, Any]:
        done = ecc("status", "--json", "--no-gh", "--session", sid, cwd=repo)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    want = {("conflict", "base-conflict"), ("second", "pair-conflict"), ("dirty", "dirty")}

    def kinds(doc: dict[str, Any]) -> set[tuple[str, str]]:
        return {(c["id"], c["kind"]) for c in doc["queueState"]["conflictQueue"]}

    # the supervisor may have taken its snapshot before the fixture moved the base: it recomputes when a branch
    # moves, so the HUD catches up
    def settled() -> dict[str, Any] | None:
        doc = hud()
        return doc if kinds(doc) == want else None

    doc = wait_until(settled, 60, lambda: f"the queues: {kinds(hud())}")
    merge_queue = {e["id"]: e for e in doc["queueState"]["mergeQueue"]}
    assert merge_queue["second"]["suggestedAction"] == "merge after first"
    assert doc["risk"]["conflicts"] == 2 and doc["risk"]["dirtyWorktree"] is True
    assert any(r.startswith("2 worker branch(es) conflict") for r in doc["risk"]["reasons"])
    assert {"create", "status", "diff", "mergeQueue", "conflictQueue"} <= set(doc["sessionControls"]["supported"])
    from ecc_hooks.statusline.segments import render_segment

    assert render_segment("queue", snapshot=doc) == "queue 2 ready 3 blocked"


@pytest.fixture
def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """tests/test_gh.py's gh stand-in (the documented arguments and JSON fields of every gh call)."""
    yield from test_gh.fake_gh.__wrapped__(tmp_path, monkeypatch)


@pytest.fixture
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/test_gh.py's ssh stand-in (pushes to a GitHub URL land in a local bare repository)."""
    return test_gh.fake_ssh.__wrapped__(tmp_path, monkeypatch)


def test_pr_pushes_the_branch_and_opens_a_pull_request_with_the_handoff(
    session: tuple[Path, dict[str, Any]], fake_gh: Path, fake_ssh: Path, monkeypatch: pytest.MonkeyPatch,
    ecc_home: Path
) -> None:  # fmt: skip
    from tests.test_gh import calls

    repo, _ = session
    bare = fake_ssh / "github.com" / "acme" / "widget.git"
    git(repo.parent, "init", "-q", "--bare", str(bare))
    nogh = ecc("session", "pr", "mq", "--worker", "clean", cwd=repo)
    assert nogh.returncode == 1 and "no GitHub origin remote" in nogh.stderr
    git(repo, "remote", "add", "origin", "https://github.com/acme/widget.git")
    git(repo, "config", "remote.origin.pushurl", "git@github.com:acme/widget.git")  # the same repository, by ssh
    monkeypatch.setenv("FAKE_GH_MODE", "logged-out")
    out = ecc("session", "pr", "mq", "--worker", "clean", cwd=repo)
    assert out.returncode == 1 and "not installed or not logged in" in out.stderr
    monkeypatch.setenv("FAKE_GH_MODE", "runs")  # logged in; the operator's own branch has no pull request
    done = ecc("session", "pr", "mq", "--worker", "clean", "--draft", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "https://github.com/acme/widget/pull/7"
    assert git(bare, "rev-parse", "orchestrator-mq-clean") == git(repo, "rev-parse", "orchestrator-mq-clean")
    handoff = repo / ".orchestration" / "mq" / "clean" / "handoff.md"
    create = [c for c in calls(fake_gh) if c[:2] == ["pr", "create"]]
    # the body comes on stdin (gh never opens a file we did not check) and is what the handoff says
    assert create == [["pr", "create", "--repo", "github.com/acme/widget", "--head", "orchestrator-mq-clean",
                       "--base", "main", "--title", "clean: add a file", "--body-file", "-", "--draft"]]  # fmt: skip
    assert Path(str(fake_gh) + ".body").read_text() == handoff.read_text()
    empty = ecc("session", "pr", "mq", "--worker", "idle-not-there", cwd=repo)
    assert empty.returncode == 1
    from tests.helpers import run_hook

    sid = "0f0e0d0c-0000-4000-8000-00000000d44a"
    payload = {"session_id": sid, "hook_event_name": "SessionStart", "cwd": str(repo), "source": "startup"}
    assert run_hook(json.dumps(payload).encode()).returncode == 0

    def github() -> Any:  # the supervisor exports the runtime's view on its next pass
        return json.loads(ecc("status", "--json", "--session", sid, cwd=repo).stdout)["sync"]["GitHub"]

    wait_until(lambda: github() == {"repo": "acme/widget", "latestPullRequest": 7}, 30, lambda: str(github()))


def test_resolve_starts_an_agent_in_the_worktree_on_its_conflicts(
    session: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    repo, _ = session
    bin_dir = tmp_path / "agent-bin"
    bin_dir.mkdir()
    seen = tmp_path / "agent-args"
    (bin_dir / "claude").write_text(  # a stand-in agent: says its version, records how it was started, then works
        '#!/bin/sh\n[ "$1" = "--version" ] && { echo "2.1.328 (Claude Code)"; exit 0; }\n'
        f'pwd > {seen}.tmp; printf "%s\\n" "$@" >> {seen}.tmp\n'
        # its input box; the prompt is pasted into it (in no command line)
        f"printf '\\342\\235\\257 \\n'; read -r line; echo \"$line\" >> {seen}.tmp; mv {seen}.tmp {seen}\n"
    )
    (bin_dir / "claude").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{__import__('os').environ['PATH']}"}
    nothing = ecc("session", "conflicts", "mq", "--resolve", "clean", cwd=repo, env=env)
    assert nothing.returncode == 1 and "no conflict to resolve" in nothing.stderr
    done = ecc("session", "conflicts", "mq", "--resolve", "conflict", cwd=repo, env=env)
    assert done.returncode == 0, done.stderr
    wait_until(seen.exists, 30, "the agent to start")
    lines = seen.read_text().splitlines()
    assert lines[0] == str(repo.parent / "repo-mq-conflict")  # in the worker's worktree
    assert lines[1] == "--session-id"
    prompt = lines[-1]
    assert prompt not in lines[:-1]  # not an argument
    assert "conflicts with the base (main) in: a.txt" in prompt and "git merge main" in prompt
    listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)[0]["workers"]
    worker = next(w for w in listed if w["id"] == "conflict")
    assert worker["agent"] == "claude"


def test_the_order_is_finished_first_then_completion_time_then_smallest(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    big = " && ".join(commit(f"big{n}.txt", "x", f"big {n}") for n in range(3))
    workers = [
        {"name": "late", "task": "t", "launcherCommand": "sleep 2 && " + commit("late.txt", "l", "late")},
        {"name": "big", "task": "t", "launcherCommand": big},
        {"name": "small", "task": "t", "launcherCommand": commit("small.txt", "s", "small")},
        {"name": "busy", "task": "t", "launcherCommand": commit("busy.txt", "b", "busy") + " && sleep 300"},
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "order", "repoRoot": str(repo), "workers": workers}))
    assert ecc("session", "create", str(plan), "--execute", cwd=repo).returncode == 0

    def states() -> dict[str, str]:
        listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)
        return {w["id"]: w["state"] for w in listed[0]["workers"]}

    wait_until(lambda: states() == {"late": "completed", "big": "completed", "small": "completed",
                                    "busy": "running"}, 30, lambda: str(states()))  # fmt: skip
    done = ecc("session", "merge-queue", "order", "--json", cwd=repo)
    entries = json.loads(done.stdout)
    # big and small finished together (the same pass), late after them; busy still runs
    order = [e["id"] for e in entries]
    assert order[-1] == "busy" and entries[-1]["kind"] == "active"
    assert order.index("late") == 2 and [e["position"] for e in entries[:3]] == [1, 2, 3]


def test_equal_completion_times_put_the_smaller_branch_first() -> None:
    from ecc_hooks.runtime.merge import _order_key
    from tests.test_runtime_store import worker

    def done(name: str, at: float | None, state: str = "completed") -> object:
        w = worker(name)
        w.state, w.finished_at, w.seq = state, at, len(name)
        return w

    rows = [(done("running", None, "running"), 1), (done("bigger", 10.0), 9), (done("small", 10.0), 2),
            (done("early", 5.0), 50), (done("failed", 12.0, "failed"), 1)]  # fmt: skip
    ordered = [w.slug for w, size in sorted(rows, key=lambda r: _order_key(r[0], r[1]))]  # type: ignore[arg-type]
    assert ordered == ["early", "small", "bigger", "failed", "running"]
