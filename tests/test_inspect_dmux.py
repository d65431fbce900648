"""The dmux_tmux adapter over real git worktrees (``git worktree add``) and real tmux panes on a private socket.

Every test starts its own tmux server (``tmux -L <unique>``) and kills it in a finalizer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecc_hooks.handoff.adapters import Context, Target, dmux_tmux
from ecc_hooks.handoff.adapters._common import STALE_SECONDS
from ecc_hooks.models.session import SessionSnapshot
from tests.helpers import git, make_repo, wait_until

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("git") is None, reason="needs tmux and git"
)


class Tmux:
    """One private tmux server."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True, timeout=30
        ).stdout

    def pane(self, session: str, cwd: Path, title: str, command: str) -> str:
        """A new pane in ``session`` running ``command`` in ``cwd``, titled ``title``; its pane id."""
        pane_id = self(
            "split-window", "-d", "-P", "-F", "#{pane_id}", "-t", f"={session}:", "-c", str(cwd), command
        ).strip()
        self("select-layout", "-t", f"={session}:", "tiled")
        self("select-pane", "-t", pane_id, "-T", title)
        return pane_id

    def wait(self, predicate: Callable[[], bool], what: str, limit: float = 20.0) -> None:
        wait_until(predicate, limit, f"tmux never reached: {what}")

    def field(self, pane_id: str, fmt: str) -> str:
        return self("display-message", "-p", "-t", pane_id, fmt).strip()


@pytest.fixture
def tmux(request: pytest.FixtureRequest) -> Iterator[Tmux]:
    server = Tmux(f"ecc-inspect-{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def kill() -> None:
        subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True, timeout=30)

    request.addfinalizer(kill)
    yield server


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def add_worker(
    repo: Path,
    coord: Path,
    session: str,
    slug: str,
    *,
    state: str | None,
    objective: str = "",
    task: bool = True,
    handoff: list[str] | None = None,
    updated: datetime | None = None,
) -> Path:
    """A real linked worktree on its own branch, and ECC's three worker files (as ECC's launcher writes them)."""
    branch = f"orchestrator-{session}-{slug}"
    worktree = repo.parent / f"{repo.name}-{session}-{slug}"
    git(repo, "worktree", "add", "-q", "-b", branch, str(worktree), "HEAD")
    wdir = coord / session / slug
    wdir.mkdir(parents=True, exist_ok=True)
    if task:
        (wdir / "task.md").write_text(
            "\n".join(
                [
                    f"# Worker Task: {slug}",
                    "",
                    f"- Session: `{session}`",
                    f"- Repo root: `{repo}`",
                    f"- Worktree: `{worktree}`",
                    f"- Branch: `{branch}`",
                    f"- Launcher status file: `{wdir / 'status.md'}`",
                    "",
                    "## Seeded Local Overlays",
                    "- `README.md`",
                    "",
                    "## Objective",
                    objective or f"do {slug}",
                    "",
                    "## Completion",
                    "Report results in your final response.",
                ]
            )
            + "\n"
        )
    if state is not None:
        lines = [f"# Status: {slug}", "", f"- State: {state}", f"- Worktree: `{worktree}`", f"- Branch: `{branch}`"]
        if updated is not None:
            lines.append(f"- Updated: {updated.isoformat()}")
        (wdir / "status.md").write_text("\n".join(lines) + "\n")
    if handoff is not None:
        (wdir / "handoff.md").write_text(
            "\n".join(
                [
                    f"# Handoff: {slug}",
                    "",
                    "## Summary",
                    *handoff,
                    "",
                    "## Files Changed",
                    "- Pending",
                    "",
                    "## Validation",
                    "- pytest -q passed",
                    "",
                    "## Remaining Risks",
                    "- Pending",
                ]
            )
            + "\n"
        )
    return worktree


def start_session(tmux: Tmux, session: str, repo: Path) -> None:
    tmux("new-session", "-d", "-s", session, "-x", "220", "-y", "60", "-c", str(repo), "sleep 600")
    tmux("set-option", "-g", "remain-on-exit", "on")  # a finished worker's pane stays, marked dead


def inspect(
    target: str, kind: str, tmux: Tmux, coord: Path | None = None, now: datetime | None = None, cwd: Path | None = None
):
    ctx = Context(
        now=now or datetime.now(timezone.utc),
        cwd=str(cwd) if cwd else os.getcwd(),
        coordination_root=str(coord) if coord else None,
        tmux_socket=tmux.socket,
    )
    return dmux_tmux.inspect(Target(type=kind, value=target), ctx)


def by_id(snapshot: SessionSnapshot) -> dict:
    return {w.id: w for w in snapshot.workers}


def test_live_session_with_a_failed_worker(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    coord, session = tmp_path / "coord", "release"
    now = datetime.now(timezone.utc)
    wt_a = add_worker(repo, coord, session, "alpha", state="running", updated=now, objective="Write the docs")
    wt_b = add_worker(repo, coord, session, "beta", state="completed", handoff=["- Docs written"])
    wt_c = add_worker(repo, coord, session, "gamma", state="failed")
    start_session(tmux, session, repo)
    pane_a = tmux.pane(session, wt_a, "alpha", "sleep 600")
    pane_b = tmux.pane(session, wt_b, "beta", "true")
    pane_c = tmux.pane(session, wt_c, "gamma", "exit 3")
    for pane in (pane_b, pane_c):
        tmux.wait(lambda p=pane: tmux.field(p, "#{pane_dead}") == "1", f"{pane} dead")
    tmux.wait(lambda: tmux.field(pane_a, "#{pane_current_command}") == "sleep", "alpha runs sleep")
    (wt_a / "draft.md").write_text("wip\n")  # alpha has uncommitted work

    result = inspect(session, "orchestration-session", tmux, coord)
    snap = SessionSnapshot.model_validate(json.loads(result.snapshot.model_dump_json()))
    assert snap.session.kind.value == "orchestrated" and snap.session.id == session
    assert snap.session.state.value == "failed"
    assert snap.session.repoRoot == str(repo)
    workers = by_id(snap)
    assert list(workers) == ["alpha", "beta", "gamma"]
    alpha, beta, gamma = workers["alpha"], workers["beta"], workers["gamma"]
    assert (alpha.state.value, alpha.health.value) == ("running", "healthy")
    assert (beta.state.value, beta.health.value) == ("completed", "healthy")
    assert (gamma.state.value, gamma.health.value) == ("failed", "degraded")
    # runtime facts are tmux's own
    assert alpha.runtime.pid == int(tmux.field(pane_a, "#{pane_pid}")) and os.path.exists(f"/proc/{alpha.runtime.pid}")
    assert alpha.runtime.command == "sleep" and alpha.runtime.dead is False
    assert gamma.runtime.dead is True and beta.runtime.dead is True
    # branch and worktree are git's
    assert alpha.branch == git(wt_a, "rev-parse", "--abbrev-ref", "HEAD").strip() == f"orchestrator-{session}-alpha"
    assert alpha.worktree == str(wt_a)
    assert alpha.intent.objective == "Write the docs" and alpha.intent.seedPaths == ["README.md"]
    assert "uncommitted changes in the worktree" in alpha.observations  # ours, not the worker's report
    assert beta.outputs.summary == ["Docs written"] and beta.outputs.validation == ["pytest -q passed"]
    assert beta.artifacts.handoffFile == str(coord / session / "beta" / "handoff.md")
    # ECC names the three files whether or not they exist; what is missing is an observation of ours
    assert alpha.artifacts.handoffFile == str(coord / session / "alpha" / "handoff.md")
    assert "handoff.md missing" in alpha.observations
    agg = snap.aggregates
    assert agg.workerCount == len(snap.workers) == 3
    assert agg.states == {"running": 1, "completed": 1, "failed": 1}
    assert agg.healths == {"healthy": 2, "degraded": 1}


def test_worker_silent_for_five_minutes_is_stale(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    coord, session = tmp_path / "coord", "slow"
    now = datetime.now(timezone.utc)
    wt_a = add_worker(repo, coord, session, "quiet", state="running")  # no Updated line: never updated, as ECC
    wt_b = add_worker(
        repo, coord, session, "old", state="in progress", updated=now - timedelta(seconds=STALE_SECONDS + 60)
    )
    wt_c = add_worker(repo, coord, session, "fresh", state="running", updated=now)
    start_session(tmux, session, repo)  # quiet's status.md was written just now: its mtime does not make it fresh
    for wt, slug in ((wt_a, "quiet"), (wt_b, "old"), (wt_c, "fresh")):
        tmux.pane(session, wt, slug, "sleep 600")
    snap = inspect(session, "orchestration-session", tmux, coord, now=now).snapshot
    health = {w.id: w.health.value for w in snap.workers}
    assert health == {"fresh": "healthy", "old": "stale", "quiet": "stale"}
    assert {w.id: w.model_extra.get("updatedAt") for w in snap.workers}["quiet"] is None
    assert snap.session.state.value == "active"
    assert snap.aggregates.healths == {"stale": 2, "healthy": 1}


def test_missing_task_and_dead_pane_degrade_not_crash(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    coord, session = tmp_path / "coord", "partial"
    wt = add_worker(repo, coord, session, "orphan", state="running", task=False, updated=datetime.now(timezone.utc))
    (coord / session / "empty").mkdir()  # a worker folder with no files at all
    start_session(tmux, session, repo)
    pane = tmux.pane(session, wt, "orphan", "exit 1")
    tmux.wait(lambda: tmux.field(pane, "#{pane_dead}") == "1", "orphan pane dead")
    snap = inspect(str(coord / session), "coordination-dir", tmux).snapshot
    workers = by_id(snap)
    orphan = workers["orphan"]
    assert orphan.health.value == "degraded" and orphan.runtime.dead is True
    assert orphan.artifacts.taskFile == str(coord / session / "orphan" / "task.md") and orphan.intent.objective == ""
    assert "task.md missing" in orphan.observations
    assert any("is dead" in r for r in orphan.observations)
    assert orphan.branch == f"orchestrator-{session}-orphan"  # still learned from status.md and git
    assert "empty" not in workers  # as ECC: only folders holding a task.md, status.md or handoff.md are workers
    assert snap.aggregates.workerCount == 1


def test_all_workers_done_is_completed_even_with_tmux_up(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    coord, session = tmp_path / "coord", "done"
    wts = [add_worker(repo, coord, session, slug, state="completed") for slug in ("one", "two")]
    start_session(tmux, session, repo)
    for wt, slug in zip(wts, ("one", "two")):
        tmux.pane(session, wt, slug, "sleep 600")
    snap = inspect(session, "orchestration-session", tmux, coord).snapshot
    assert snap.session.state.value == "completed"
    assert snap.aggregates.states == {"completed": 2}


def test_a_gone_session_never_gets_the_panes_of_a_longer_name(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    """``list-panes -s -t =api`` still matches ``api-v2`` by prefix (tmux 3.3a); ``=api:`` is exact. ECC's plain
    ``-t api`` shares the bug (listed in deviations.json)."""
    coord = tmp_path / "coord"
    wt = add_worker(repo, coord, "api", "w1", state="running", updated=datetime.now(timezone.utc))
    start_session(tmux, "api-v2", repo)
    tmux.pane("api-v2", wt, "w1", "sleep 600")
    snap = inspect("api", "orchestration-session", tmux, coord).snapshot
    [worker] = snap.workers
    assert worker.runtime.pid is None and worker.runtime.command is None
    assert snap.model_dump(mode="json")["session"]["tmuxSession"] is None
    assert snap.session.state.value == "idle"


def test_no_workers_is_missing_unless_its_tmux_session_runs(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    coord, session = tmp_path / "coord", "empty"
    (coord / session).mkdir(parents=True)
    assert inspect(session, "orchestration-session", tmux, coord).snapshot.session.state.value == "missing"
    start_session(tmux, session, repo)  # its first pane runs sleep
    snap = inspect(session, "orchestration-session", tmux, coord).snapshot
    assert snap.session.state.value == "active"  # as ECC: something runs in its tmux session
    assert snap.workers == [] and snap.aggregates.workerCount == 0


def test_a_plan_lists_the_workers_with_a_folder_as_eccs(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    """ECC lists the folders holding a worker file, not the plan's workers: one not yet materialized is not there
    (a worker of no files would be a snapshot ECC's own tools never make). ``repoRoot: "."`` is the working
    directory's."""
    session = "plan-run"
    wt = add_worker(repo, repo / ".orchestration", session, "docs", state="idle")
    plan = repo / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "sessionName": "Plan Run",
                "repoRoot": ".",
                "workers": [{"name": "Docs", "task": "x"}, {"name": "Tests", "task": "y"}],
            }
        )
    )
    start_session(tmux, session, repo)
    tmux.pane(session, wt, "docs", "sleep 600")
    snap = inspect("plan.json", "plan", tmux, cwd=repo).snapshot
    workers = by_id(snap)
    assert list(workers) == ["docs"] and snap.session.repoRoot == str(repo)
    assert workers["docs"].state.value == "idle" and workers["docs"].runtime.command == "sleep"
    assert snap.session.state.value == "active"  # nothing failed or finished, tmux is up


def test_cli_guesses_the_session_and_writes_json_and_handoff(
    tmp_path: Path, repo: Path, tmux: Tmux, ecc_home: Path
) -> None:
    coord, session = tmp_path / "coord", "cli"
    wt = add_worker(repo, coord, session, "solo", state="failed", handoff=["- Tried twice"])
    start_session(tmux, session, repo)
    pane = tmux.pane(session, wt, "solo", "exit 2")
    tmux.wait(lambda: tmux.field(pane, "#{pane_dead}") == "1", "solo pane dead")
    out, doc = tmp_path / "snap.json", tmp_path / "handoff.md"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "ECC_ORCHESTRATION_ROOT": str(coord),
        "ECC_HOOKS_TMUX_SOCKET": tmux.socket,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "ecc_hooks.inspect", session, "--write", str(out), "--handoff", str(doc)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    snap = SessionSnapshot.model_validate_json(out.read_text())
    assert snap.session.sourceTarget.type == "session" and snap.session.state.value == "failed"
    text = doc.read_text()
    assert f"tmux -L {tmux.socket} attach -t ={session}" in text
    assert f"orchestrator-{session}-solo" in text and "Tried twice" in text and "solo: failed (degraded)" in text
    assert not list(ecc_home.rglob("handoff.json"))  # not a Claude Code session: no HUD record


def test_a_worker_file_over_the_cap_says_so(tmp_path: Path, repo: Path, tmux: Tmux) -> None:
    """A handoff.md of 3.5 MB is read whole (ECC reads it all); one over the cap is read up to it and named."""
    coord = tmp_path / "coord"
    add_worker(repo, coord, "big", "w1", state="completed", handoff=[f"- item {i}" for i in range(400_000)])
    [worker] = inspect(str(coord / "big"), "coordination-dir", tmux).snapshot.workers
    assert len(worker.outputs.summary) == 400_000 and not any("MiB" in o for o in worker.observations)
    with (coord / "big" / "w1" / "handoff.md").open("a") as out:
        out.write("x" * (dmux_tmux.FILE_CAP + 1))
    [worker] = inspect(str(coord / "big"), "coordination-dir", tmux).snapshot.workers
    assert "handoff.md is over 16 MiB: only its start was read" in worker.observations
