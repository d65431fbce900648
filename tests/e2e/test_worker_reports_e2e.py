"""Sessions made by OUR runtime, read by ECC's own tools and by ours (issue 25).

A worker launched by ECC's own launcher (``orchestrate-codex-worker.sh`` around a ``codex`` stand-in, as
tests/e2e/test_ecc_parity.py runs it) writes its ``handoff.md`` and ``status.md`` itself; our supervisor must keep
its report (it used to replace it with "The agent left no final message."). Then ECC's ``inspectSessionTarget``
(through the ``ecc_oracle``) and ``ecc-hooks inspect`` read the session: the same, listed deviations aside
(tests/fixtures/ecc-parity/deviations.json), and ECC's ``validateCanonicalSnapshot`` accepts ours.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.ecc_oracle import EccOracle
from tests.e2e.parity import describe, differences, explained, unexplained
from tests.e2e.test_ecc_parity import FAKE_CODEX
from tests.helpers import REPO, ecc, make_repo, wait_until

pytestmark = pytest.mark.e2e

REGISTRY = "scripts/lib/session-adapters/registry.js"
CANONICAL = "scripts/lib/session-adapters/canonical-session.js"
# what a snapshot takes from the coordination files alone (the rest also asks tmux and git)
READ_FROM_FILES = (".workers[*].outputs", ".workers[*].branch", ".workers[*].worktree", ".workers[*].intent")


class RuntimeSession:
    """A session our runtime (``ecc-hooks session create``) made and runs."""

    def __init__(self, root: Path, name: str, workers: list[dict[str, Any]], **extra: Any) -> None:
        self.root, self.name = root, name
        self.repo = make_repo(root / "repo", identity=True)
        self.plan = root / "plan.json"
        self.plan.write_text(json.dumps({"sessionName": name, "repoRoot": str(self.repo), "workers": workers,
                                         **extra}))  # fmt: skip
        done = ecc("session", "create", str(self.plan), "--execute", cwd=self.repo)
        assert done.returncode == 0, done.stderr

    def file(self, slug: str, name: str) -> Path:
        return self.repo / ".orchestration" / self.name / slug / name

    def states(self) -> dict[str, str]:
        """Each worker's state as our runtime has it (``session list``)."""
        done = ecc("session", "list", "--json", cwd=self.repo)
        listed = next(s for s in json.loads(done.stdout) if s["session"] == self.name)
        return {w["id"]: w["state"] for w in listed["workers"]}

    def theirs(self, oracle: EccOracle, socket: str) -> dict[str, Any]:
        """ECC's inspect of the plan. ECC's tmux calls name no server: ``$TMUX`` points them at our runtime's
        (tmux's own rule), so both see the same panes."""
        path = subprocess.run(["tmux", "-L", socket, "display-message", "-p", "#{socket_path}"], capture_output=True,
                              text=True, timeout=30).stdout.strip()  # fmt: skip
        assert path, "our runtime's tmux server is gone"
        env = {"TMUX": f"{path},0,0"}
        return dict(oracle.call(REGISTRY, "inspectSessionTarget", [str(self.plan), {"cwd": str(self.repo)}],
                                cwd=self.repo, env=env))  # fmt: skip

    def ours(self) -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "ecc_hooks", "inspect", str(self.plan)], capture_output=True,
                              text=True, cwd=self.repo, timeout=60, env={**_env(), "PYTHONPATH": str(REPO)})  # fmt: skip
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "TMUX"}


def agree(run: RuntimeSession, oracle: EccOracle, socket: str) -> dict[str, Any]:
    """ECC's snapshot and ours: every difference listed in deviations.json; ours valid for ECC. Ours."""
    theirs, ours = run.theirs(oracle, socket), run.ours()
    unlisted = unexplained(theirs, ours)
    assert not unlisted, "differences from ECC's inspect not in deviations.json:\n" + describe(unlisted)
    oracle.call(CANONICAL, "validateCanonicalSnapshot", [ours])
    return ours


def launcher(root: Path, oracle: EccOracle) -> str:
    """ECC's own worker launcher around the ``codex`` stand-in of the parity tests."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text(FAKE_CODEX)
    (bin_dir / "codex").chmod(0o755)
    script = oracle.root / "scripts" / "orchestrate-codex-worker.sh"
    return f"env PATH={bin_dir}:/usr/bin:/bin bash {script} {{task_file}} {{handoff_file}} {{status_file}}"


def test_eccs_launcher_keeps_its_report_under_our_supervisor(
    tmp_path: Path, runtime: str, ecc_oracle: EccOracle
) -> None:
    command = launcher(tmp_path, ecc_oracle)
    workers = [{"name": "Docs ok", "task": "write the notes", "launcherCommand": command},
               {"name": "broken", "task": "this one fails", "launcherCommand": command}]  # fmt: skip
    run = RuntimeSession(tmp_path, "launched", workers)
    want = {"docs-ok": "completed", "broken": "failed"}
    wait_until(lambda: run.states() == want, 60, lambda: str(run.states()))
    # the supervisor's pass after the end: its state merged into the launcher's status.md
    wait_until(lambda: all("- Task file: " in run.file(s, "status.md").read_text() for s in want), 30,
               lambda: run.file("docs-ok", "status.md").read_text())  # fmt: skip
    handoff = run.file("docs-ok", "handoff.md").read_text()
    assert handoff.startswith("# Handoff\n\n- Completed: ") and "## Git Status" in handoff  # the launcher's, whole
    assert "- Wrote the notes in " in handoff and "no final message" not in handoff
    assert "The Codex worker exited with a non-zero status." in run.file("broken", "handoff.md").read_text()
    status = run.file("docs-ok", "status.md").read_text()
    assert status.startswith("# Status\n") and "- Handoff file: " in status  # the launcher's lines kept
    assert re.findall(r"^- State: (.+)$", status, re.M) == ["completed"]
    ours = agree(run, ecc_oracle, runtime)
    by_id = {w["id"]: w for w in ours["workers"]}
    assert by_id["docs-ok"]["outputs"]["summary"][0].startswith("Wrote the notes in ")
    assert {w: by_id[w]["state"] for w in want} == want


def test_a_session_of_our_runtime_reads_the_same_in_ecc_and_in_ours(
    tmp_path: Path, runtime: str, ecc_oracle: EccOracle
) -> None:
    """Every kind of worker our runtime has (finished silent, failed, its own report, running, queued behind
    maxParallel, and ECC's own launcher) in one session of ours: ECC's inspect and ours agree."""
    release = tmp_path / "release"
    own = "printf '# Handoff\\n\\n## Summary\\n- my own words\\n' > {handoff_file}"
    workers = [
        {"name": "quiet", "task": "t", "launcherCommand": "echo all done"},
        {"name": "bad", "task": "t", "launcherCommand": "echo oops; exit 2"},
        {"name": "own", "task": "t", "launcherCommand": own},
        {"name": "Docs ok", "task": "write the notes", "launcherCommand": launcher(tmp_path, ecc_oracle)},
        {"name": "busy", "task": "t", "launcherCommand": f"while [ ! -e {release} ]; do sleep 0.1; done"},
        {"name": "queued", "task": "t", "launcherCommand": "true"},
    ]
    run = RuntimeSession(tmp_path, "mixed", workers, maxParallel=1)  # one at a time: busy holds queued back
    want = {"quiet": "completed", "bad": "failed", "own": "completed", "docs-ok": "completed", "busy": "running",
            "queued": "pending"}  # fmt: skip
    wait_until(lambda: run.states() == want, 60, lambda: str(run.states()))
    wait_until(lambda: "my own words" in run.file("own", "handoff.md").read_text() and all(
        "Pending" not in run.file(s, "handoff.md").read_text() for s in ("quiet", "bad", "docs-ok")), 30,
        "the handoffs")  # fmt: skip
    try:
        ours = agree(run, ecc_oracle, runtime)
    finally:
        release.write_text("")
    by_id = {w["id"]: w for w in ours["workers"]}
    assert by_id["own"]["outputs"]["summary"] == ["my own words"]
    assert by_id["docs-ok"]["outputs"]["summary"][0].startswith("Wrote the notes in ")


# ---------------------------------------------------------------------------- our writers' files, read by both

EXAMPLES = int(os.environ.get("ECC_PARITY_EXAMPLES") or 60)  # the long run: ECC_PARITY_EXAMPLES=5000
PLACEHOLDERS = ["None", "None.", "N/A", "TBD", "todo", "-", "Pending", "none known", ""]
_words = st.one_of(st.sampled_from(PLACEHOLDERS), st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                                          max_size=20))  # fmt: skip
_message = st.one_of(st.none(), st.lists(_words, max_size=4).map("\n".join))
_worker = st.fixed_dictionaries(
    {
        "state": st.sampled_from(["pending", "running", "completed", "failed", "stopped", "merged"]),
        "reason": st.one_of(st.none(), _words),
        "message": _message,
        "checks": st.lists(st.tuples(_words, st.sampled_from(["passed", "failed"])), max_size=2),
        "risks": st.lists(_words, max_size=2),
        "files": st.lists(st.sampled_from(["a.py", "docs/b.md"]), max_size=2),
    }
)


def write_worker(folder: Path, root: Path, repo: Path, slug: str, spec: dict[str, Any]) -> None:
    """One worker's coordination files, each as our runtime's writers write it (``runtime.files``)."""
    from ecc_hooks.runtime import files as runtime_files

    paths = {n: folder / slug / f"{n}.md" for n in ("task", "status", "handoff")}
    common = {"name": slug, "worktree": str(repo.parent / f"repo-{slug}"), "branch": f"orchestrator-s-{slug}"}
    task = runtime_files.task_md(session="s", repo_root=str(repo), status_file=str(paths["status"]),
                                 handoff_file=str(paths["handoff"]), task="do it", seed_paths=[], **common)  # fmt: skip
    status = runtime_files.status_md(state=spec["state"], reason=spec["reason"], task_file=str(paths["task"]),
                                     handoff_file=str(paths["handoff"]), **common)  # fmt: skip
    if spec["state"] in ("pending", "running"):
        handoff = runtime_files.pending_handoff_md(slug)
    else:
        handoff = runtime_files.handoff_md(name=slug, state=spec["state"], reason=spec["reason"],
                                           final_message=spec["message"], commits=[], files=spec["files"],
                                           uncommitted=[], checks=spec["checks"], risks=spec["risks"])  # fmt: skip
    for name, text in (("task", task), ("status", status), ("handoff", handoff)):
        runtime_files.write(str(paths[name]), text, str(root))


def ours_in_process(plan: Path, cwd: Path, socket: str) -> dict[str, Any]:
    """``ecc-hooks inspect PLAN`` in this process (the CLI's own ``run``)."""
    import argparse

    from ecc_hooks.cli import inspect as cli_inspect

    parser = argparse.ArgumentParser()
    cli_inspect.add_arguments(parser)
    printed: list[str] = []
    args = parser.parse_args([str(plan), "--target-type", "plan", "--tmux-socket", socket])
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        assert cli_inspect.run(args, out=printed.append) == 0
    finally:
        os.chdir(previous)
    return dict(json.loads("\n".join(printed)))


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(workers=st.lists(_worker, min_size=1, max_size=3))
def test_what_our_writers_write_reads_the_same_in_ecc_and_in_ours(
    tmp_path_factory: pytest.TempPathFactory, ecc_oracle: EccOracle, workers: list[dict[str, Any]]
) -> None:
    """Our templates and placeholders (``- Pending``, ``- None``, "no final message", an agent's ``None``) mean
    the same to ECC's inspect and to ours: no listed deviation needed for a file we wrote."""
    root = tmp_path_factory.mktemp("writers")
    repo = root / "repo"
    repo.mkdir()
    folder = root / "coord" / "s"
    for i, spec in enumerate(workers):
        write_worker(folder, root, repo, f"w{i}", spec)
    plan = root / "plan.json"
    plan.write_text(json.dumps({"sessionName": "s", "repoRoot": str(repo), "coordinationRoot": str(root / "coord"),
                                "workers": [{"name": f"w{i}", "task": "do it"} for i in range(len(workers))]}))  # fmt: skip
    (root / "tmux").mkdir()
    theirs = ecc_oracle.call(REGISTRY, "inspectSessionTarget", [str(plan), {"cwd": str(repo)}], cwd=repo,
                             env={"TMUX_TMPDIR": str(root / "tmux"), "TMUX": None})  # fmt: skip
    ours = ours_in_process(plan, repo, f"none-{root.name}")
    for path, t, o in differences(theirs, ours):
        if explained((path, t, o)) != "addition" and path.startswith(READ_FROM_FILES):
            assert t == o, f"{path}: ECC reads {t!r}, we read {o!r}"  # what the files say: no deviation at all
    unlisted = unexplained(theirs, ours, {"live_panes": 0, "current_window": ()})  # the rest: listed ones only
    assert not unlisted, "differences from ECC's inspect not in deviations.json:\n" + describe(unlisted)
    ecc_oracle.call(CANONICAL, "validateCanonicalSnapshot", [ours])


SESSION_JS = "scripts/lib/orchestration-session.js"


@settings(max_examples=EXAMPLES * 4, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(spec=_worker)
def test_eccs_parsers_read_our_files_as_we_meant_them(ecc_oracle: EccOracle, spec: dict[str, Any]) -> None:
    """ECC's own parseWorkerHandoff and parseWorkerStatus on what our writers write: every bullet one we meant
    (no empty one: ``- `` alone is no bullet to ECC), the placeholders as written, the status fields ours."""
    from ecc_hooks.runtime import files as runtime_files

    handoff = runtime_files.handoff_md(name="w", state=spec["state"], reason=spec["reason"],
                                       final_message=spec["message"], commits=[], files=spec["files"],
                                       uncommitted=[], checks=spec["checks"], risks=spec["risks"])  # fmt: skip
    read = ecc_oracle.call(SESSION_JS, "parseWorkerHandoff", [handoff])
    risks = [text for text in map(runtime_files._line, spec["risks"]) if text]  # as written: one clean line
    assert read["remainingRisks"] == (risks or ["None known."])
    assert len(read["validation"]) == max(len(spec["checks"]), 1)
    assert read["summary"][0].startswith(f"State: {spec['state']}")
    assert all(item for key in ("summary", "validation", "remainingRisks") for item in read[key])
    status = runtime_files.status_md(name="w", state=spec["state"], reason=spec["reason"], worktree="/w t",
                                     branch="b", task_file="/t", handoff_file="/h", updated="2026-12-07T12:00:00Z")  # fmt: skip
    fields = ecc_oracle.call(SESSION_JS, "parseWorkerStatus", [status])
    state = "completed" if spec["state"] == "merged" else spec["state"]
    assert fields == {"state": state, "updated": "2026-12-07T12:00:00Z", "branch": "b", "worktree": "/w t",
                      "taskFile": "/t", "handoffFile": "/h"}  # fmt: skip
    pending = ecc_oracle.call(SESSION_JS, "parseWorkerHandoff", [runtime_files.pending_handoff_md("w")])
    assert pending == {"summary": ["Pending"], "validation": ["Pending"], "remainingRisks": ["Pending"]}
