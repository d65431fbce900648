"""Our merge queue's verdicts against ECC's own tools on the same branches.

ECC's pinned Node package has no merge queue; its worktree lifecycle (``scripts/lib/worktree-lifecycle``,
``buildLifecycleReport``) classifies each worktree by the same git facts ECC 2.0's queue uses: dirty, conflicting
with the base (``merge-tree --write-tree``), merge-ready, merged. On a repository with one branch of each kind
(and two that edit the same lines) every verdict must match, but for the deviations listed with their reasons in
tests/fixtures/ecc-parity/merge-queue-deviations.json; and each listed one must still be seen.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_ecc_parity import ecc_root
from tests.helpers import REPO, ecc, git
from tests.test_session_merge import commit, crafted_repo, wait_finished

pytestmark = pytest.mark.e2e

DEVIATIONS = json.loads((REPO / "tests" / "fixtures" / "ecc-parity" / "merge-queue-deviations.json").read_text())
KIND = {None: "merge-ready", "pair-conflict": "merge-ready", "base-conflict": "conflict", "dirty": "dirty",
        "empty": "merged", "merged": "merged"}  # fmt: skip


def theirs(repo: Path) -> dict[str, dict[str, Any]]:
    lifecycle = ecc_root() / "scripts" / "lib" / "worktree-lifecycle" / "lifecycle.js"
    code = (f"const m=require({json.dumps(str(lifecycle))});"
            f"console.log(JSON.stringify(m.buildLifecycleReport({json.dumps(str(repo))}, {{baseBranch: 'main'}})))")  # fmt: skip
    done = subprocess.run(["node", "-e", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return {w["branch"]: w for w in json.loads(done.stdout)["worktrees"] if w["branch"]}


def test_queue_verdicts_match_eccs_worktree_lifecycle(tmp_path: Path, runtime: str) -> None:
    repo = crafted_repo(tmp_path / "repo")
    workers = [
        {"name": "clean", "task": "t", "launcherCommand": commit("new.txt", "new", "new")},
        {"name": "conflict", "task": "t", "launcherCommand": commit("a.txt", "theirs", "a")},
        {"name": "first", "task": "t", "launcherCommand": commit("common.txt", "first", "first")},
        {"name": "second", "task": "t", "launcherCommand": "sleep 1.5 && " + commit("common.txt", "second", "second")},
        {"name": "dirty", "task": "t", "launcherCommand": commit("d.txt", "d", "d") + " && echo x > untracked.txt"},
        {"name": "idle", "task": "t", "launcherCommand": "true"},
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "par", "repoRoot": str(repo), "workers": workers}))
    assert ecc("session", "create", str(plan), "--execute", cwd=repo).returncode == 0
    wait_finished(repo)
    (repo / "a.txt").write_text("ours\n")
    git(repo, "commit", "-qam", "base edits a")
    done = ecc("session", "merge-queue", "par", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    ours = {e["branch"]: e for e in json.loads(done.stdout)}
    ecc_view = theirs(repo)
    seen, unexplained = set(), []
    listed = {(d["ours"], d["theirs"]): d["reason"] for d in DEVIATIONS["deviations"]}
    for branch, entry in ours.items():
        mine, other = KIND[entry["kind"]], ecc_view[branch]["state"]
        if entry["kind"] == "pair-conflict":
            seen.add(("pair-conflict", "merge-ready"))
        if mine != other:
            unexplained.append(f"{branch}: ours {entry['kind']} ({mine}), ECC {other}")
        if entry["kind"] == "base-conflict" and ecc_view[branch]["conflictFiles"] != entry["files"]:
            key = ("conflict-files", "conflict-files-with-messages")
            extra = [f for f in ecc_view[branch]["conflictFiles"] if f not in entry["files"]]
            if (
                key in listed
                and all(" " in f for f in extra)
                and set(entry["files"]) <= set(ecc_view[branch]["conflictFiles"])
            ):
                seen.add(key)
            else:
                unexplained.append(
                    f"{branch}: conflict files ours {entry['files']}, ECC {ecc_view[branch]['conflictFiles']}"
                )
    assert not unexplained, "\n".join(unexplained)
    assert seen == set(listed), f"listed deviations no longer seen: {set(listed) - seen}"


def test_eccs_readers_see_a_merged_worker_as_completed(tmp_path: Path, runtime: str) -> None:
    """ECC knows no ``merged`` worker state (its readers would count one neither finished nor healthy): status.md
    says ``completed`` with a ``Merged`` line, so ECC's ``session-inspect.js`` reads a finished, healthy session,
    while ours says ``merged`` in an ``ecc.session.v1`` that ECC's own validator accepts."""
    import jsonschema

    from tests.e2e.test_ecc_parity import validate_with_ecc
    from tests.test_session_merge_history import make_session

    repo = make_session(tmp_path, "done", {"w1": "add w1", "w2": "add w2"})
    applied = ecc("session", "merge-queue", "done", "--apply", "--strategy", "squash", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    node = {k: v for k, v in __import__("os").environ.items() if k != "TMUX"}
    theirs = subprocess.run(["node", str(ecc_root() / "scripts" / "session-inspect.js"), str(tmp_path / "plan.json")],
                            capture_output=True, text=True, cwd=repo, env=node, timeout=60)  # fmt: skip
    assert theirs.returncode == 0, theirs.stderr
    seen = json.loads(theirs.stdout)
    assert {(w["id"], w["state"], w["health"]) for w in seen["workers"]} == {("w1", "completed", "healthy"),
                                                                            ("w2", "completed", "healthy")}  # fmt: skip
    assert seen["session"]["state"] == "completed"
    ours = json.loads(ecc("session", "status", "done", "--json", cwd=repo).stdout)
    jsonschema.validate(ours, json.loads((REPO / "schemas" / "ecc.session.v1.schema.json").read_text()))
    validate_with_ecc(ecc_root(), ours)
    assert [w["state"] for w in ours["workers"]] == ["merged", "merged"] and ours["session"]["state"] == "completed"
