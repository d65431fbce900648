"""inspect: ECC's normalization rules (one test each), worker-file parsing and target guessing (hypothesis),
and the CLI's handling of bad targets (exit 1, nothing written)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.cli.inspect import TARGET_TYPES, Probe, guess_target_type
from ecc_hooks.handoff.adapters import _common, dmux_tmux, registry
from ecc_hooks.handoff.adapters._common import aggregates, session_state, worker_health
from ecc_hooks.models.session import Health, Runtime, SessionSnapshot, SessionState, Worker, WorkerState

NOW = datetime(2026, 5, 12, 12, 0, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parent.parent


def worker(state: WorkerState, health: Health = Health.healthy, wid: str = "w") -> Worker:
    return Worker(id=wid, label=wid, state=state, health=health, runtime=Runtime(kind="tmux-pane"))


# ---------------------------------------------------------------------------- ECC's rules, one test each


def test_no_workers_is_missing_unless_something_runs() -> None:
    assert session_state([]) == SessionState.missing
    assert session_state([], runtime_alive=True) == SessionState.active  # ECC: a live tmux session is active


def test_a_failed_worker_fails_the_session_and_is_degraded() -> None:
    assert worker_health(WorkerState.failed, NOW, NOW) == Health.degraded
    workers = [
        worker(WorkerState.completed),
        worker(WorkerState.failed, Health.degraded, "f"),
        worker(WorkerState.running, wid="r"),
    ]
    assert session_state(workers, runtime_alive=True) == SessionState.failed


def test_a_worker_not_updated_for_five_minutes_is_stale() -> None:
    fresh = NOW - timedelta(seconds=_common.STALE_SECONDS - 1)
    old = NOW - timedelta(seconds=_common.STALE_SECONDS + 1)
    assert worker_health(WorkerState.running, fresh, NOW) == Health.healthy
    assert worker_health(WorkerState.running, old, NOW) == Health.stale
    assert worker_health(WorkerState.waiting, old, NOW) == Health.stale
    assert worker_health(WorkerState.running, None, NOW) == Health.stale  # never updated


def test_all_workers_done_is_completed() -> None:
    done = [worker(WorkerState.completed, wid=str(i)) for i in range(3)]
    assert session_state(done) == SessionState.completed
    assert session_state(done[:2] + [worker(WorkerState.idle, wid="i")]) != SessionState.completed


def test_a_dead_pane_degrades_a_live_worker() -> None:
    assert worker_health(WorkerState.running, NOW, NOW, pane_dead=True) == Health.degraded
    assert worker_health(WorkerState.completed, NOW, NOW, pane_dead=True) == Health.healthy


def test_a_live_runtime_is_active_a_status_saying_running_alone_is_not() -> None:
    idle = [worker(WorkerState.idle), worker(WorkerState.completed, wid="c")]
    assert session_state(idle) == SessionState.idle
    assert session_state(idle, runtime_alive=True) == SessionState.active
    # the tmux session is gone while a status.md still says running: idle, as ECC says
    assert session_state(idle + [worker(WorkerState.running, wid="r")]) == SessionState.idle


def test_history_workers_are_recorded() -> None:
    assert session_state([worker(WorkerState.recorded), worker(WorkerState.recorded, wid="s")]) == SessionState.recorded
    assert worker_health(WorkerState.recorded, None, NOW) == Health.healthy


def test_unknown_state_has_unknown_health() -> None:
    assert worker_health(WorkerState.unknown, NOW, NOW) == Health.unknown


@given(st.lists(st.tuples(st.sampled_from(list(WorkerState)), st.sampled_from(list(Health))), max_size=12))
def test_aggregates_count_the_workers(pairs: list[tuple[WorkerState, Health]]) -> None:
    workers = [worker(s, h, str(i)) for i, (s, h) in enumerate(pairs)]
    agg = aggregates(workers)
    assert agg.workerCount == len(workers)
    for s in WorkerState:
        assert agg.states.get(s.value, 0) == sum(1 for w in workers if w.state == s)
    for h in Health:
        assert agg.healths.get(h.value, 0) == sum(1 for w in workers if w.health == h)


def test_snapshot_model_rejects_miscounted_aggregates() -> None:
    good = {
        "adapterId": "x",
        "session": {
            "id": "s",
            "kind": "orchestrated",
            "state": "missing",
            "sourceTarget": {"type": "plan", "value": "p"},
        },
        "workers": [],
        "aggregates": {"workerCount": 0, "states": {}, "healths": {}},
    }
    SessionSnapshot.model_validate(good)
    with pytest.raises(ValueError):
        SessionSnapshot.model_validate({**good, "aggregates": {"workerCount": 1, "states": {}, "healths": {}}})


# ---------------------------------------------------------------------------- parsing (hypothesis)

words = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .map(lambda s: " ".join(s.replace("`", "").split()))
    .filter(lambda s: s and ":" not in s and not s.startswith(("#", "-", "*", "+")) and not re.search(r"\s#+$", s))
)  # a trailing " #" is a Markdown heading's closing sequence


@given(st.text(max_size=2000))
def test_worker_files_parse_any_text(text: str) -> None:
    task, status, handoff = dmux_tmux.parse_task(text), dmux_tmux.parse_status(text), dmux_tmux.parse_handoff(text)
    assert isinstance(task["objective"], str) and all(isinstance(p, str) for p in task["seedPaths"])
    assert isinstance(status["state"], WorkerState)
    assert all(isinstance(i, str) for items in handoff.values() for i in items)


@given(
    heading=st.sampled_from(["# Status: w", "## Status", "**Status**", ""]),
    state=st.sampled_from(["not started", "running", "completed", "failed", "Done", "in_progress"]),
    earlier=st.sampled_from(["failed", "running", None]),
    branch=words,
    worktree=words,
    updated=st.datetimes(timezones=st.just(timezone.utc)),
    crlf=st.booleans(),
)
def test_status_md_fields_anywhere_the_last_one_winning(
    heading: str, state: str, earlier: Optional[str], branch: str, worktree: str, updated: datetime, crlf: bool
) -> None:
    """ECC's parseWorkerStatus: every ``- Key: value`` line, after any heading too, the last of a key winning; a
    CRLF file reads as its LF twin (ours: ECC reads nothing there)."""
    lines = [heading, "", *([f"- State: {earlier}"] if earlier else []), "## Details", f"- State: {state}"]
    lines += [f"- Worktree: `{worktree}`", f"- Branch: `{branch}`", f"- Updated: {updated.isoformat()}", ""]
    parsed = dmux_tmux.parse_status(("\r\n" if crlf else "\n").join(lines))
    assert parsed["branch"] == branch and parsed["worktree"] == worktree
    assert parsed["rawState"] == state
    assert parsed["state"] == _common.normalize_worker_state(state) != WorkerState.unknown
    assert dmux_tmux.parse_updated(parsed["updated"]) == updated


@given(
    objective=st.lists(words, min_size=1, max_size=4),
    seeds=st.lists(words, max_size=4),
    style=st.sampled_from(["## {}", "**{}**", "  ## {}  "]),
    detail=st.booleans(),
)
def test_task_md_objective_runs_to_the_next_section(
    objective: list[str], seeds: list[str], style: str, detail: bool
) -> None:
    """ECC's parseSection: ``## X`` or ``**X**``, up to the next ``## `` or bold line; a ``### Detail`` inside
    stays part of it."""
    body = [*objective, *(["### Detail", "more"] if detail else [])]
    lines = ["# Worker Task: w", "", "- Session: `s`"]
    if seeds:
        lines += ["", style.format("Seeded Local Overlays"), *[f"- `{s}`" for s in seeds]]
    lines += ["", style.format("Objective"), *body, "", "**Completion**", "Report results."]
    parsed = dmux_tmux.parse_task("\n".join(lines) + "\n")
    assert parsed["objective"] == "\n".join(body)
    assert parsed["seedPaths"] == seeds


@given(summary=st.lists(words, max_size=5), risks=st.lists(words, max_size=5), bold=st.booleans())
def test_handoff_md_reads_eccs_headings_and_keeps_its_template(
    summary: list[str], risks: list[str], bold: bool
) -> None:
    """Summary / Validation / Remaining Risks under ``## X`` or ``**X**``; ``- Pending`` (ECC's own template) is an
    entry, as ECC reads it; only ``- `` lines are bullets."""
    head = (lambda name: f"**{name}**") if bold else (lambda name: f"## {name}")
    text = "\n".join(
        ["# Handoff: w", "", head("Summary"), "- Pending", *[f"- {s}" for s in summary], "* not a bullet", ""]
        + [head("Remaining Risks"), *[f"- {r}" for r in risks], "1. neither"]
    )
    parsed = dmux_tmux.parse_handoff(text)
    assert parsed["summary"] == ["Pending", *summary] and parsed["remainingRisks"] == risks
    assert parsed["validation"] == []


@given(st.text(max_size=40))
def test_worker_state_normalizes_any_word(raw: str) -> None:
    assert isinstance(_common.normalize_worker_state(raw), WorkerState)


def test_a_title_is_never_taken_by_another_workers_worktree() -> None:
    """Titles go first (ECC's only rule); a worktree path then finds the panes of workers left without one."""
    panes = [
        {"id": "%1", "title": "tests", "path": "/w/docs"},  # in docs's worktree, but titled tests
        {"id": "%2", "title": "claude", "path": "/w/lint"},  # retitled by Claude Code
        {"id": "%3", "title": "tests", "path": "/w/x"},  # the last of two titled tests: ECC keeps it
    ]
    worktrees = {"docs": "/w/docs", "tests": "/w/tests", "lint": "/w/lint"}
    matched = dmux_tmux.match_panes(["docs", "lint", "tests"], worktrees, panes)
    assert {slug: pane["id"] for slug, pane in matched.items()} == {"tests": "%3", "lint": "%2", "docs": "%1"}


@given(st.text(max_size=300))
def test_pane_rows_parse_any_text(text: str) -> None:
    for pane in dmux_tmux.parse_panes(text):
        assert pane["pid"] is None or pane["pid"] >= 0
        assert isinstance(pane["dead"], bool)


def _probe(
    files: set[str] = frozenset(),
    dirs: set[str] = frozenset(),
    journals: set[str] = frozenset(),
    orchestrations: set[str] = frozenset(),
    transcripts: set[str] = frozenset(),
) -> Probe:
    return Probe(
        path_kind=lambda p: "file" if p in files else "dir" if p in dirs else None,
        journal=journals.__contains__,
        orchestration=orchestrations.__contains__,
        transcript=transcripts.__contains__,
    )


names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(
    target=names,
    files=st.sets(names, max_size=3),
    dirs=st.sets(names, max_size=3),
    journals=st.sets(names, max_size=3),
    orch=st.sets(names, max_size=3),
    trans=st.sets(names, max_size=3),
)
def test_target_guess_is_total_and_consistent(
    target: str, files: set[str], dirs: set[str], journals: set[str], orch: set[str], trans: set[str]
) -> None:
    guess = guess_target_type(target, _probe(files, dirs, journals, orch, trans))
    assert guess is None or guess in TARGET_TYPES
    if target == "latest":
        assert guess == "latest"
    elif target.startswith("claude:"):
        assert guess == "claude-history"
    elif guess == "session-id":
        assert target in journals and target not in files and target not in dirs
    elif guess == "orchestration-session":
        assert target in orch and target not in journals
    elif guess in ("transcript", "plan"):
        assert target in files and (guess == "transcript") == target.endswith(".jsonl")
    elif guess == "coordination-dir":
        assert target in dirs and target not in files
    elif guess is None:
        assert (
            "/" in target or not ({target} & (files | dirs | journals | orch | trans)) or "\0" in target or not target
        )


@given(st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36))
def test_names_never_guess_a_path_type(name: str) -> None:
    assert guess_target_type(name, _probe(journals={name})) == "session-id"
    assert guess_target_type(name, _probe(orchestrations={name})) == "orchestration-session"
    assert guess_target_type(name, _probe(transcripts={name})) == "claude-history"
    assert guess_target_type(name, _probe()) in (None, "latest")


def test_every_target_type_has_an_adapter() -> None:
    covered = {t for module in registry().values() for t in module.TARGET_TYPES}
    assert covered == set(TARGET_TYPES)
    assert set(registry()) >= {"journal", "claude-history", "dmux-tmux"}


# ---------------------------------------------------------------------------- CLI: bad targets


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks.inspect", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-session"],
        ["latest"],  # no journals at all
        ["claude:latest"],  # no transcripts
        ["claude:0000-missing"],
        ["/nonexistent/plan.json"],
        ["whatever", "--target-type", "plan"],
        ["whatever", "--target-type", "session-id"],
        ["../escape", "--target-type", "orchestration-session"],
    ],
)
def test_bad_targets_exit_1_and_write_nothing(args: list[str], tmp_path: Path, ecc_home: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = run_cli(*args, "--write", str(out / "s.json"), "--handoff", str(out / "h.md"), cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("ecc-hooks inspect: ") and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert list(out.iterdir()) == []
    assert not ecc_home.exists() or not list(ecc_home.rglob("handoff.json"))


def test_unwritable_destination_is_a_user_error(tmp_path: Path, ecc_home: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = run_cli("claude:latest", "--write", str(tmp_path / "missing" / "s.json"), cwd=tmp_path, env=env)
    assert proc.returncode == 1 and "does not exist" in proc.stderr


def test_list_adapters_names_each_adapter_and_its_types(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "inspect", "--list-adapters"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("\t")[0]: line.split("\t")[1].split(", ") for line in proc.stdout.splitlines()}
    assert rows == {adapter_id: list(m.TARGET_TYPES) for adapter_id, m in registry().items()}


def test_a_torn_journal_line_degrades_not_crashes(tmp_path: Path, ecc_home: Path) -> None:
    sid = "11111111-2222-3333-4444-555555555555"
    folder = ecc_home / "sessions" / sid
    folder.mkdir(parents=True)
    good = {
        "schemaVersion": "ecc.event.v1",
        "ts": "2026-05-12T00:00:00.000Z",
        "event": "UserPromptSubmit",
        "sessionId": sid,
        "promptKind": "user",
        "prompt": "do the thing",
        "cwd": str(tmp_path),
    }
    (folder / "events.jsonl").write_bytes(json.dumps(good).encode() + b'\n{"event": "Pre')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = run_cli(sid, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["session"]["id"] == sid and doc["workers"][0]["intent"]["objective"] == "do the thing"
    SessionSnapshot.model_validate(doc)


# ---------------------------------------------------------------------------- more input parsers (hypothesis)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
transcript_line = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["user", "assistant", "system", "cost-state"]),
            "timestamp": st.one_of(st.none(), st.text(max_size=30), st.datetimes().map(lambda d: d.isoformat() + "Z")),
            "message": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {
                        "content": st.one_of(
                            st.text(max_size=40),
                            st.lists(
                                st.one_of(
                                    json_values,
                                    st.fixed_dictionaries(
                                        {
                                            "type": st.sampled_from(["tool_use", "tool_result", "text"]),
                                            "id": st.text(max_size=8),
                                            "tool_use_id": st.text(max_size=8),
                                            "name": st.sampled_from(["Bash", "Write", "TaskCreate", "Agent"]),
                                            "input": json_values,
                                            "is_error": st.booleans(),
                                            "text": st.text(max_size=20),
                                            "content": json_values,
                                        }
                                    ),
                                ),
                                max_size=3,
                            ),
                        )
                    }
                ),
            ),
            "toolUseResult": json_values,
            "cwd": st.one_of(st.none(), st.text(max_size=10)),
        }
    ),
)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(transcript_line, max_size=12), torn=st.binary(max_size=30))
def test_transcript_replay_survives_any_lines(lines: list[object], torn: bytes, tmp_path_factory) -> None:
    from ecc_hooks.handoff.adapters import claude_history
    from ecc_hooks.hud.aggregate import fold_all

    path = tmp_path_factory.mktemp("t") / "0000-abcd.jsonl"
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines) + torn)
    events = claude_history.replay(str(path), "0000-abcd")
    assert all(e["sessionId"] == "0000-abcd" and e["schemaVersion"] == "ecc.event.v1" for e in events)
    state = fold_all(events)
    assert state.tool_total >= 0


@settings(max_examples=60, deadline=None)
@given(plan=json_values)
def test_plan_files_load_or_say_why(plan: object, tmp_path_factory) -> None:
    from ecc_hooks.handoff.adapters import TargetError

    path = tmp_path_factory.mktemp("p") / "plan.json"
    path.write_text(json.dumps(plan))
    try:
        loaded = dmux_tmux._load_plan(str(path), str(tmp_path_factory.getbasetemp()))
    except TargetError as exc:
        assert not isinstance(plan, dict) and "JSON object" in str(exc)
        return
    assert isinstance(plan, dict)
    assert loaded["session"] == dmux_tmux.slugify(loaded["session"]) and os.path.isabs(loaded["dir"])


@pytest.mark.parametrize("repo_root", [None, ".", "sub"])
def test_a_plans_repo_root_resolves_against_the_working_directory_as_eccs(
    tmp_path: Path, repo_root: Optional[str]
) -> None:
    """ECC's orchestrator and inspect: a plan without repoRoot, or with a relative one, is about the working
    directory, not the plan's folder (ECC's documented ``.claude/plan/x.json`` would else find no workers)."""
    plan_dir = tmp_path / ".claude" / "plan"
    plan_dir.mkdir(parents=True)
    plan = {"sessionName": "s", **({"repoRoot": repo_root} if repo_root else {}), "coordinationRoot": "coord"}
    (plan_dir / "x.json").write_text(json.dumps(plan))
    loaded = dmux_tmux._load_plan(str(plan_dir / "x.json"), str(tmp_path))
    assert loaded["repoRoot"] == str(tmp_path / repo_root) if repo_root == "sub" else str(tmp_path)
    assert loaded["dir"] == str(tmp_path / "coord" / "s")


def test_the_handoff_lists_what_git_says_changed_and_each_failing_check_once(ecc_home: Path, tmp_path: Path) -> None:
    """A real repository and the real hook: a README edited through Bash (no tool reports it), a commit made in
    the session, an untracked file, a Write, and a failing pytest: the handoff lists every changed file and
    the failing check once, with its error."""
    from tests.helpers import git, make_repo, run_hook

    repo = make_repo(tmp_path / "repo")
    (repo / "README.md").write_text("before\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "readme")
    session = "5ec0717e-0000-4000-8000-0000000f11e5"

    def hook(event: str, **payload: object) -> None:
        body = {"session_id": session, "hook_event_name": event, "cwd": str(repo), **payload}
        assert run_hook(json.dumps(body).encode()).returncode == 0

    hook("SessionStart", source="startup")  # records HEAD: where the session's changes start
    hook("UserPromptSubmit", prompt="tidy the readme and add a module")
    (repo / "README.md").write_text("after\n")  # through Bash: `sed -i`, no Write/Edit reports it
    bash = {"tool_name": "Bash", "tool_input": {"command": "sed -i s/before/after/ README.md"}}
    hook("PreToolUse", tool_use_id="t1", **bash)
    hook("PostToolUse", tool_use_id="t1", tool_response={"stdout": ""}, **bash)
    (repo / "module.py").write_text("x = 1\n")
    write = {"tool_name": "Write", "tool_input": {"file_path": str(repo / "module.py"), "content": "x = 1\n"}}
    hook("PreToolUse", tool_use_id="t2", **write)
    hook("PostToolUse", tool_use_id="t2", tool_response={"filePath": str(repo / "module.py")}, **write)
    (repo / "committed.txt").write_text("c\n")
    git(repo, "add", "committed.txt")
    git(repo, "commit", "-q", "-m", "in the session")
    (repo / "notes.txt").write_text("untracked\n")
    test = {"tool_name": "Bash", "tool_input": {"command": "pytest -q"}}
    hook("PreToolUse", tool_use_id="t3", **test)
    hook("PostToolUseFailure", tool_use_id="t3", error="Exit code 1\n2 failed", is_interrupt=False, **test)
    hook("Stop")
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "inspect", session[:10], "--markdown"],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    files = text.split("- Files changed:", 1)[1].split("\n- ", 1)[0]
    for name in ("README.md", "module.py", "committed.txt", "notes.txt"):
        assert f"`{name}`" in files, text
    checks = text.split("## Checks", 1)[1].split("##", 1)[0]
    assert checks.count("pytest -q") == 1 and "fail: `pytest -q` (Exit code 1)" in checks, checks
    risks = text.split("## Risks", 1)[1].split("##", 1)[0]
    assert risks.count("pytest -q") == 1, risks
