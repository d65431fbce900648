"""fold/build_payload on journals written through the real normalizer (hook payload -> ecc.event.v1 record).

Expected figures are derived from the journal each test builds (counts of what it wrote), never typed in
beside it; costs come from the real usage engine over a real transcript file.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from ecc_hooks.capture.normalize import normalize
from ecc_hooks.hud import aggregate
from ecc_hooks.hud.aggregate import PayloadInputs, SessionState, build_payload, fold_all
from ecc_hooks.models.hud import HudStatus
from ecc_hooks.sources.facts import GitHubFacts, GitState, RemoteCheckFact
from ecc_hooks.sources.usage import UsageTracker
from tests import usage_lines as ul

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SCHEMA = json.loads((REPO / "schemas" / "ecc.hud-status.v1.schema.json").read_text())
T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
SID = "sess-1"


class Journal:
    """Builds a journal the way the hook does: one hook payload through ``normalize`` per event, 1 s apart."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.t = T0

    def add(self, event: str, **payload: Any) -> dict[str, Any]:
        self.t += timedelta(seconds=1)
        body = {
            "session_id": SID,
            "hook_event_name": event,
            "cwd": "/work/x",
            "transcript_path": "/t/x.jsonl",
            **payload,
        }
        record = normalize(body, self.t.timestamp())
        self.records.append(record)
        return record

    def tool(
        self,
        name: str,
        tool_input: dict[str, Any],
        *,
        uid: str,
        response: Any = None,
        fail: str | None = None,
        agent: str | None = None,
        post: bool = True,
    ) -> None:
        extra = {"agent_id": agent, "agent_type": "general-purpose"} if agent else {}
        self.add("PreToolUse", tool_name=name, tool_input=tool_input, tool_use_id=uid, **extra)
        if not post:
            return
        if fail is None:
            self.add(
                "PostToolUse",
                tool_name=name,
                tool_input=tool_input,
                tool_use_id=uid,
                tool_response=response if response is not None else {},
                **extra,
            )
        else:
            self.add(
                "PostToolUseFailure",
                tool_name=name,
                tool_input=tool_input,
                tool_use_id=uid,
                error=fail,
                is_interrupt=False,
                **extra,
            )


def payload_of(records: list[dict[str, Any]], **inputs: Any) -> HudStatus:
    state = fold_all(records)
    inputs.setdefault("now", T0 + timedelta(hours=1))
    payload = build_payload(state, PayloadInputs(**inputs))
    jsonschema.validate(payload.model_dump(mode="json"), SCHEMA)
    return payload


def dump(payload: HudStatus) -> dict[str, Any]:
    return payload.model_dump(mode="json")


# ---------------------------------------------------------------------------- tool calls


def test_tool_totals_failures_pending_stale_and_last_tool() -> None:
    j = Journal()
    j.add("SessionStart", source="startup")
    j.add("UserPromptSubmit", prompt="do things")
    j.tool("Bash", {"command": "ls"}, uid="t1")
    j.tool("Read", {"file_path": "/work/x/a"}, uid="t2")
    j.tool("Bash", {"command": "exit 3"}, uid="t3", fail="Exit code 3")
    j.tool("Bash", {"command": "sleep 999"}, uid="t4", post=False)
    pres = {r["toolUseId"] for r in j.records if r["event"] == "PreToolUse"}
    posts = {r["toolUseId"] for r in j.records if r["event"].startswith("PostToolUse")}
    failed = [r for r in j.records if r.get("outcome") == "failure"]
    last_post = [r for r in j.records if r["event"].startswith("PostToolUse")][-1]

    # "now" just after the journal: the open call is pending, not stale
    fresh = payload_of(j.records, now=j.t + timedelta(seconds=5))
    assert fresh.toolCalls.total == len(pres | posts)
    assert fresh.toolCalls.pending == len(pres - posts) == 1
    assert fresh.toolCalls.stale == 0
    assert dump(fresh)["toolCalls"]["failures"] == len(failed)
    assert fresh.toolCalls.lastTool is not None
    assert (fresh.toolCalls.lastTool.name, fresh.toolCalls.lastTool.status.value) == ("Bash", "failure")
    assert fresh.toolCalls.lastTool.finishedAt == last_post["ts"]
    assert dump(fresh)["toolCalls"]["running"] == ["Bash"]
    # past the threshold the same call is stale, and risk says so
    late = payload_of(j.records, now=j.t + timedelta(seconds=aggregate.STALE_TOOL_SECONDS + 1))
    assert late.toolCalls.stale == 1
    assert any("pending over" in r for r in late.risk.reasons)
    assert late.risk.status.value == "attention"


def test_post_before_pre_counts_once_and_is_not_pending() -> None:
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    pre, post = j.records
    swapped = payload_of([post, pre])
    in_order = payload_of([pre, post])
    assert swapped.toolCalls.total == in_order.toolCalls.total == 1
    assert swapped.toolCalls.pending == 0
    assert swapped.toolCalls.lastTool == in_order.toolCalls.lastTool


def test_duplicate_events_count_once() -> None:
    j = Journal()
    j.tool("Bash", {"command": "exit 1"}, uid="t1", fail="Exit code 1")
    j.tool("Bash", {"command": "pytest -q"}, uid="t2")
    once = dump(payload_of(j.records))
    twice = dump(payload_of([r for r in j.records for _ in (0, 1)]))
    for payload in (once, twice):
        payload.pop("generatedAt")
    assert once["toolCalls"] == twice["toolCalls"]
    assert once["toolCalls"]["failures"] == 1
    assert once["checks"] == twice["checks"]


def test_unknown_events_and_non_dicts_only_count() -> None:
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    base = j.records[:]
    noise = [
        normalize({"session_id": SID, "hook_event_name": "FutureEvent", "whatever": [1, 2]}, T0.timestamp()),
        {"event": ["not", "a", "name"]},
        "not a record",
        42,
        None,
    ]  # type: ignore[list-item]
    state = fold_all(base + noise)  # type: ignore[arg-type]
    assert state.unknown_events == 2 and state.tool_total == 1
    assert (
        dump(payload_of(base))["toolCalls"]
        == dump(build_payload(state, PayloadInputs(now=T0 + timedelta(hours=1))))["toolCalls"]
    )


def test_permission_denied_ends_the_call_as_failure() -> None:
    j = Journal()
    j.add("PreToolUse", tool_name="Bash", tool_input={"command": "npm test"}, tool_use_id="t1")
    j.add("PermissionDenied", tool_name="Bash", tool_input={"command": "npm test"}, tool_use_id="t1", reason="no")
    p = payload_of(j.records)
    assert p.toolCalls.pending == 0 and dump(p)["toolCalls"]["failures"] == 1
    assert [(c.command, c.status.value) for c in p.checks.local] == [("npm test", "skipped")]


# ---------------------------------------------------------------------------- agents


def test_agents_through_every_path() -> None:
    j = Journal()
    # 1. Agent tool launched in the background, then SubagentStart/Stop, then its task notification
    j.tool(
        "Agent",
        {"description": "list files", "prompt": "list", "subagent_type": "general-purpose", "run_in_background": True},
        uid="a1",
        response={"status": "async_launched", "agentId": "ag-1", "isAsync": True},
    )
    j.add("SubagentStart", agent_id="ag-1", agent_type="general-purpose")
    j.tool("Bash", {"command": "ls"}, uid="s1", agent="ag-1")
    j.add("SubagentStop", agent_id="ag-1", agent_type="general-purpose", last_assistant_message="done")
    # 2. a late hook of the same agent (hooks race) does not revive it
    j.add("PostToolBatch", agent_id="ag-1", agent_type="general-purpose", tool_calls=[])
    # 3. a background task known only from Stop.background_tasks, still running
    j.add(
        "Stop",
        background_tasks=[
            {"id": "bg-2", "type": "local_agent", "status": "running", "description": "watch the build"},
            "junk",
            {"status": "running"},
        ],
    )
    # 4. a task notification for a third one that failed
    j.add(
        "UserPromptSubmit",
        prompt="<task-notification>\n<task-id>bg-3</task-id>\n<status>failed</status>\n"
        '<summary>Agent "fix lint" failed</summary>\n</task-notification>',
    )
    # 5. SubagentStart only: running
    j.add("SubagentStart", agent_id="ag-4", agent_type="Explore")
    p = payload_of(j.records, now=j.t + timedelta(seconds=1))
    agents = {a.id: a for a in p.activeAgents}
    started = [r["agentId"] for r in j.records if r["event"] == "SubagentStart"]
    assert set(started) <= set(agents)
    assert agents["ag-1"].state.value == "completed" and agents["ag-1"].objective == "list files"
    assert agents["bg-2"].state.value == "running" and agents["bg-2"].objective == "watch the build"
    assert agents["bg-3"].state.value == "failed" and agents["bg-3"].objective == 'Agent "fix lint" failed'
    assert agents["ag-4"].state.value == "running"
    assert set(agents) == {"ag-1", "bg-2", "bg-3", "ag-4"}
    # live ones first
    states = [a.state.value for a in p.activeAgents]
    assert states[:2] == ["running", "running"]
    # a subagent's tool call counts toward the session and is marked as a subagent's
    assert p.toolCalls.total == 2 and dump(p)["toolCalls"]["subagentCalls"] == 1
    # silent too long: stale; session ended: stopped
    later = payload_of(j.records, now=j.t + timedelta(seconds=aggregate.STALE_AGENT_SECONDS + 5))
    assert {a.id: a.state.value for a in later.activeAgents}["ag-4"] == "stale"
    j.add("SessionEnd", reason="other")
    ended = payload_of(j.records, now=j.t + timedelta(seconds=1))
    assert {a.id: a.state.value for a in ended.activeAgents}["ag-4"] == "stopped"


def test_agent_notification_before_launch_result_keeps_completion() -> None:
    j = Journal()
    j.add(
        "UserPromptSubmit",
        prompt="<task-notification><task-id>ag-9</task-id><tool-use-id>a9</tool-use-id>"
        "<status>completed</status></task-notification>",
    )
    j.tool(
        "Agent",
        {"description": "quick look", "prompt": "p"},
        uid="a9",
        response={"status": "async_launched", "agentId": "ag-9", "isAsync": True},
    )
    [agent] = payload_of(j.records).activeAgents
    assert agent.state.value == "completed" and agent.objective == "quick look"


def test_foreground_agent_completes_with_its_call() -> None:
    j = Journal()
    j.tool(
        "Agent",
        {"description": "sync helper", "prompt": "p"},
        uid="a1",
        response={"status": "completed", "agentId": "ag-5"},
    )
    [agent] = payload_of(j.records).activeAgents
    assert (agent.id, agent.state.value) == ("ag-5", "completed")


# ---------------------------------------------------------------------------- todos


def _todo(content: str, status: str) -> dict[str, str]:
    return {"content": content, "status": status, "activeForm": content + "ing"}


def test_todowrite_replaces_the_list() -> None:
    j = Journal()
    first = [_todo("a", "in_progress"), _todo("b", "pending"), _todo("c", "pending")]
    second = [_todo("a", "completed"), _todo("b", "in_progress")]
    j.tool("TodoWrite", {"todos": first}, uid="w1")
    j.tool("TodoWrite", {"todos": second}, uid="w2")
    p = payload_of(j.records)
    assert p.todos.counts.model_dump() == {
        "pending": sum(t["status"] == "pending" for t in second),
        "inProgress": sum(t["status"] == "in_progress" for t in second),
        "completed": sum(t["status"] == "completed" for t in second),
    }
    assert p.todos.inProgress == next(t["activeForm"] for t in second if t["status"] == "in_progress")


def test_subagent_todowrite_does_not_replace_the_sessions_list() -> None:
    j = Journal()
    j.tool("TodoWrite", {"todos": [_todo("main", "in_progress")]}, uid="w1")
    j.tool("TodoWrite", {"todos": [_todo("sub", "pending")] * 3}, uid="w2", agent="ag-1")
    p = payload_of(j.records)
    assert p.todos.inProgress == "maining" and p.todos.counts.pending == 0


def test_task_tools_and_hooks_as_the_client_sends_them() -> None:
    # Order observed from Claude Code 2.1.328: Pre TaskCreate, TaskCreated, Post (response {"task": {"id"}}).
    j = Journal()
    for n, subject in ((1, "Write the file"), (2, "Check it")):
        create = {"subject": subject, "description": "d", "activeForm": subject + " now"}
        j.add("PreToolUse", tool_name="TaskCreate", tool_input=create, tool_use_id=f"c{n}")
        j.add("TaskCreated", task_id=str(n), task_subject=subject, task_description="d")
        j.add(
            "PostToolUse",
            tool_name="TaskCreate",
            tool_input=create,
            tool_use_id=f"c{n}",
            tool_response={"task": {"id": str(n), "subject": subject}},
        )
    j.tool("TaskUpdate", {"taskId": "1", "status": "in_progress"}, uid="u1", response={"success": True, "taskId": "1"})
    created = {r["input"]["taskId"] for r in j.records if r["event"] == "TaskCreated"}
    p = payload_of(j.records)
    assert p.todos.counts.pending + p.todos.counts.inProgress + p.todos.counts.completed == len(created)
    assert (p.todos.counts.inProgress, p.todos.inProgress) == (1, "Write the file now")
    j.add("PreToolUse", tool_name="TaskUpdate", tool_input={"taskId": "1", "status": "completed"}, tool_use_id="u2")
    j.add("TaskCompleted", task_id="1", task_subject="Write the file")
    p = payload_of(j.records)  # the hook alone already completes it, before the Post
    assert (p.todos.counts.completed, p.todos.counts.pending, p.todos.inProgress) == (1, 1, None)
    j.tool("TaskUpdate", {"taskId": "2", "status": "deleted"}, uid="u3")
    assert payload_of(j.records).todos.counts.model_dump() == {"pending": 0, "inProgress": 0, "completed": 1}


def test_task_create_without_id_in_result_links_to_the_hook() -> None:
    j = Journal()
    create = {"subject": "Only subject", "description": "d"}
    j.add("PreToolUse", tool_name="TaskCreate", tool_input=create, tool_use_id="c1")
    j.add("TaskCreated", task_id="7", task_subject="Only subject")
    j.add("PostToolUse", tool_name="TaskCreate", tool_input=create, tool_use_id="c1", tool_response="Task #7 created")
    state = fold_all(j.records)
    assert list(state.tasks) == ["7"]


def test_todowrite_then_tasks_last_used_wins() -> None:
    j = Journal()
    j.tool("TodoWrite", {"todos": [_todo("x", "pending")] * 4}, uid="w1")
    assert payload_of(j.records).todos.counts.pending == 4
    j.add("TaskCreated", task_id="1", task_subject="task one")
    p = payload_of(j.records)
    assert dump(p)["todos"]["source"] == "task" and p.todos.counts.pending == 1


# ---------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    "command, is_check",
    [
        ("pytest -q tests/x.py", True),
        ("cd sub && python -m pytest", True),
        ("npm test", True),
        ("npm run lint", True),
        ("cargo test --all", True),
        ("go test ./...", True),
        ("ruff check .", True),
        ("mypy ecc_hooks", True),
        ("npx tsc --noEmit", True),
        ("eslint src", True),
        ("make test", True),
        ("FOO=1 uv run .venv/bin/pytest", True),
        ("./gradlew test", True),
        ("(cd web; npm test)", True),
        ("ls -la", False),
        ("echo pytest-like", False),
        ("cat mypy.ini", False),
        ("git commit -m 'fix tests'", False),
    ],
)
def test_check_commands(command: str, is_check: bool) -> None:
    assert (aggregate.check_command(command) is not None) is is_check


def test_checks_pass_fail_pending_and_latest_run_wins() -> None:
    j = Journal()
    j.tool("Bash", {"command": "pytest -q"}, uid="c1", fail="Exit code 1")
    j.tool("Bash", {"command": "ruff check ."}, uid="c2")
    j.tool("Bash", {"command": "mypy  pkg"}, uid="c3", post=False)
    j.tool("Bash", {"command": "ls"}, uid="c4")
    p = payload_of(j.records, now=j.t)
    assert [(c.command, c.status.value) for c in p.checks.local] == [
        ("pytest -q", "fail"),
        ("ruff check .", "pass"),
        ("mypy pkg", "pending"),
    ]
    assert any(r.startswith("failing checks: pytest -q") for r in p.risk.reasons)
    assert p.checks.remote == []  # no gh facts handed in: unknown, shown as none
    j.tool("Bash", {"command": "pytest -q"}, uid="c5")
    p = payload_of(j.records, now=j.t)
    assert [(c.command, c.status.value) for c in p.checks.local][-1] == ("pytest -q", "pass")
    assert not any(r.startswith("failing checks") for r in p.risk.reasons)


def test_background_check_is_unknown_until_it_reports() -> None:
    j = Journal()
    j.tool("Bash", {"command": "npm test", "run_in_background": True}, uid="b1", response={"backgroundTaskId": "x"})
    assert [c.status.value for c in payload_of(j.records).checks.local] == ["unknown"]


# ---------------------------------------------------------------------------- cost, context, risk


def _transcript(tmp_path: Path, model: str = ul.SONNET) -> Path:
    path = tmp_path / "t.jsonl"
    ul.append(
        path,
        ul.assistant("m1", model=model, inp=1000, out=200, cw=5000, cr=20000),
        ul.assistant("m2", model=model, inp=50, out=80, cr=26000, ts="2025-06-01T10:00:30.000Z"),
    )
    return path


def test_cost_prefers_reported_keeps_computed_and_shows_difference(tmp_path: Path) -> None:
    usage = UsageTracker(str(_transcript(tmp_path)), env={}).update()
    computed = float(usage.cost.computed_usd)  # type: ignore[arg-type]
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    alone = dump(payload_of(j.records, usage=usage))["cost"]
    assert alone["sessionUsd"] == pytest.approx(computed) and alone["source"] == "computed"
    assert alone["reportedUsd"] is None and alone["differenceUsd"] is None
    reported = round(computed + 0.0125, 6)
    sensor = {"cost": {"total_cost_usd": reported}}
    both = dump(payload_of(j.records, usage=usage, sensor=sensor))["cost"]
    assert both["sessionUsd"] == reported and both["source"] == "statusline"
    assert both["computedUsd"] == pytest.approx(computed)
    assert both["differenceUsd"] == pytest.approx(reported - computed)


def test_unknown_model_cost_is_null_and_a_risk(tmp_path: Path) -> None:
    usage = UsageTracker(str(_transcript(tmp_path, model="claude-imaginary-9")), env={}).update()
    assert usage.cost.unknown_models
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    p = payload_of(j.records, usage=usage, budget_usd=10.0, budget_configured=True)
    assert p.cost.sessionUsd is None and p.cost.trend.value == "unknown"
    assert any("cost unknown for model" in r for r in p.risk.reasons)
    assert p.risk.status.value == "attention"


def test_budget_trend_from_the_chosen_figure(tmp_path: Path) -> None:
    usage = UsageTracker(str(_transcript(tmp_path)), env={}).update()
    cost = float(usage.cost.computed_usd)  # type: ignore[arg-type]
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")

    def trend(budget: float | None, configured: bool = True) -> str:
        return payload_of(j.records, usage=usage, budget_usd=budget, budget_configured=configured).cost.trend.value

    assert trend(None, configured=False) == "no-budget"
    assert trend(None) == "unknown"  # configured but not a number
    assert trend(cost * 10) == "within-budget"
    assert trend(cost / 0.9) == "approaching-budget"
    assert trend(cost / 2) == "over-budget"
    over = payload_of(j.records, usage=usage, budget_usd=cost / 2, budget_configured=True)
    assert over.risk.status.value == "attention" and any("over budget" in r for r in over.risk.reasons)


def test_budget_trend_is_the_usage_engines_exact_rule() -> None:
    # $0.04 of $0.05 is exactly the 80 % mark; binary floats put 0.05 * 0.8 just above 0.04.
    assert 0.04 < 0.05 * 0.8
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    p = payload_of(j.records, sensor={"cost": {"total_cost_usd": 0.04}}, budget_usd=0.05, budget_configured=True)
    assert p.cost.trend.value == "approaching-budget"


def test_context_pressure_from_statusline_and_risk_ok_only_when_known(tmp_path: Path) -> None:
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    assert payload_of(j.records).risk.status.value == "unknown"  # nothing alarming, but nothing known
    calm = payload_of(j.records, sensor={"context_window": {"remaining_percentage": 74}})
    assert (calm.context.contextWindow.pressure.value, calm.risk.status.value) == ("normal", "ok")
    tight = payload_of(j.records, sensor={"context_window": {"remaining_percentage": 8}})
    assert tight.context.contextWindow.pressure.value == "critical"
    assert tight.risk.status.value == "attention" and any("context critical" in r for r in tight.risk.reasons)


def test_conflicts_block_and_git_fields_flow_through() -> None:
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    git = GitState(
        repo="acme/widget",
        branch="feat",
        worktree="/w",
        dirty=True,
        conflicts=2,
        detached=False,
        linked_worktree=True,
        ahead=3,
        behind=1,
        upstream="origin/feat",
    )
    p = payload_of(j.records, git=git, sensor={"context_window": {"remaining_percentage": 90}})
    assert (p.context.repo, p.context.branch, p.context.worktree) == ("acme/widget", "feat", "/w")
    # the status line's git segment reads these from the snapshot (it never runs git itself)
    ctx = p.model_dump(mode="json")["context"]
    assert (ctx["dirty"], ctx["ahead"], ctx["behind"], ctx["upstream"]) == (True, 3, 1, "origin/feat")
    assert p.risk.status.value == "blocked" and p.risk.conflicts == 2 and p.risk.dirtyWorktree is True
    assert p.risk.manualReviewRequired is True
    assert p.sync.GitHub is not None and p.sync.GitHub.repo == "acme/widget"


def test_github_facts_flow_through() -> None:
    j = Journal()
    j.tool("Bash", {"command": "ls"}, uid="t1")
    github = GitHubFacts(
        repo="acme/widget",
        ready=True,
        checks=[RemoteCheckFact("CI / test", "fail", "https://ci/1"), RemoteCheckFact("lint", "odd-word")],
        latest_pull_request=42,
        open_pull_requests=3,
        open_issues=7,
        open_discussions=None,
    )
    doc = dump(payload_of(j.records, github=github, sensor={"context_window": {"remaining_percentage": 90}}))
    assert doc["checks"]["remote"] == [
        {"name": "CI / test", "status": "fail", "url": "https://ci/1"},
        {"name": "lint", "status": "unknown", "url": None},
    ]
    assert doc["queueState"]["github"] == {"openPullRequests": 3, "openIssues": 7, "openDiscussions": None}
    assert doc["sync"]["GitHub"] == {"repo": "acme/widget", "latestPullRequest": 42}
    assert doc["risk"]["status"] == "attention" and "failing checks: CI / test" in doc["risk"]["reasons"]


def test_session_controls_say_why() -> None:
    none = aggregate.session_controls(
        transcript=False, claude=False, git_worktree=False, gh_ready=False, remote_repo=False
    ).model_dump(mode="json")
    assert none["supported"] == ["status"]
    reasons = {b["control"]: b["reason"] for b in none["blocked"]}
    assert set(reasons) == {"create", "resume", "stop", "diff", "pr", "mergeQueue", "conflictQueue"}
    assert "transcript" in reasons["resume"] and "claude" in reasons["resume"] and "gh" in reasons["pr"]
    everything = aggregate.session_controls(
        transcript=True, claude=True, git_worktree=True, gh_ready=True, remote_repo=True
    ).model_dump(mode="json")
    assert everything["supported"] == ["resume", "status", "diff", "pr"]
    assert {b["control"] for b in everything["blocked"]} == {"create", "stop", "mergeQueue", "conflictQueue"}


# ---------------------------------------------------------------------------- empty and contract


def _greens(value: Any, path: str = "") -> list[str]:
    """Every place in a payload that claims something is fine."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _greens(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _greens(v, f"{path}[{i}]")
    elif value in ("ok", "pass", "green", "within-budget", "normal", "success", "healthy"):
        found.append(f"{path}={value}")
    return found


@pytest.mark.parametrize("budget", [None, 5.0])
def test_empty_session_claims_nothing_is_fine(budget: float | None) -> None:
    p = build_payload(SessionState(), PayloadInputs(now=T0, budget_usd=budget, budget_configured=budget is not None))
    doc = p.model_dump(mode="json")
    jsonschema.validate(doc, SCHEMA)
    assert _greens(doc) == []
    assert doc["risk"]["status"] == "unknown" and doc["context"]["contextWindow"]["pressure"] == "unknown"
    assert doc["cost"]["trend"] in ("unknown", "no-budget") and doc["cost"]["sessionUsd"] is None
    assert doc["risk"]["manualReviewRequired"] is None


def test_state_written_by_an_older_version_still_loads() -> None:
    """watch-state.json from before the records were typed: camelCase nested keys, plain dicts."""
    j = Journal()
    j.tool(
        "Agent",
        {"description": "x", "prompt": "p", "subagent_type": "explore"},
        uid="a1",
        response={"status": "async_launched", "agentId": "ag", "isAsync": True},
    )
    j.tool("TodoWrite", {"todos": [_todo("a", "in_progress")]}, uid="w1")
    j.tool("Bash", {"command": "pytest -q"}, uid="b1", fail="exit 1")
    j.tool("Read", {"file_path": "/x"}, uid="r1", post=False)
    folded = fold_all(j.records)

    def camel(value: Any) -> Any:  # the shape the old writer produced for the nested records
        if isinstance(value, dict):
            return {aggregate_camel(k): camel(v) for k, v in value.items()}
        if isinstance(value, list):
            return [camel(v) for v in value]
        return value

    def aggregate_camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(p.title() for p in rest)

    old = folded.to_dict()
    for key in ("pending", "last_tool", "agents", "launches", "todo_list", "tasks", "checks", "failed_commands"):
        old[key] = (
            camel(old[key])
            if not isinstance(old[key], dict) or key == "last_tool"
            else {
                k: camel(v)
                for k, v in old[key].items()  # the keys of a map are ids and commands, never renamed
            }
        )
    assert old["agents"]["ag"]["agentType"] == "explore" and old["pending"]["r1"]["startedAt"]
    assert SessionState.from_dict(json.loads(json.dumps(old))) == folded


def test_state_of_the_wrong_shape_loads_what_it_can() -> None:
    state = SessionState.from_dict(
        {
            "events": "many",
            "turn_state": None,
            "tool_total": True,
            "agents": {"a": {"id": "a", "state": 3, "objective": ["x"]}, "b": "junk", "c": {"state": "running"}},
            "checks": [1, 2],
            "todo_list": [{"content": "c", "status": "pending"}, "junk"],
            "failed_commands": [{"error": "no command"}, {"command": "make", "at": 5}],
            "files_changed": ["a", 1],
        }
    )
    assert (state.events, state.turn_state, state.tool_total) == (0, "unknown", 0)
    assert list(state.agents) == ["a"] and state.agents["a"].state == "unknown" and state.agents["a"].objective is None
    assert state.checks == {} and state.files_changed == ["a"]
    assert [t.content for t in state.todo_list or []] == ["c"]
    assert [(f.command, f.at) for f in state.failed_commands] == [("make", None)]
    build_payload(state, PayloadInputs(now=T0))  # and it still renders


def test_state_round_trips_through_json() -> None:
    j = Journal()
    j.tool(
        "Agent",
        {"description": "x", "prompt": "p"},
        uid="a1",
        response={"status": "async_launched", "agentId": "ag", "isAsync": True},
    )
    j.tool("TodoWrite", {"todos": [_todo("a", "in_progress")]}, uid="w1")
    state = fold_all(j.records)
    again = SessionState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    # the watcher hands the dataclass to orjson directly: the same document as to_dict
    assert orjson.loads(orjson.dumps(state)) == state.to_dict()


def test_upstream_example_validates_against_our_schema() -> None:
    example = json.loads((FIXTURES / "upstream" / "ecc.hud-status.v1.example.json").read_text())
    assert example["schema_version"] == "ecc.hud-status.v1"
    jsonschema.validate(example, SCHEMA)
    HudStatus.model_validate(example)


# ---------------------------------------------------------------------------- waiting for a person


def _waiting(j: Journal, **inputs: Any) -> tuple[HudStatus, str | None]:
    payload = payload_of(j.records, **inputs)
    return payload, payload.context.waitingFor


def test_a_permission_prompt_is_a_wait_named_with_its_tool_and_since_when() -> None:
    j = Journal()
    j.add("SessionStart", source="startup")
    j.add("UserPromptSubmit", prompt="tidy up")
    j.add("PreToolUse", tool_name="Bash", tool_input={"command": "rm -rf build"}, tool_use_id="t1")
    asked = j.add("PermissionRequest", tool_name="Bash", tool_input={"command": "rm -rf build"})
    j.add("Notification", notification_type="permission_prompt", message="Claude needs your permission to use Bash")
    payload, what = _waiting(j, now=T0 + timedelta(minutes=3))
    assert what == "permission to use Bash" and payload.context.turnState == "waiting"
    assert payload.context.waitingSince == asked["ts"]  # the first moment, not the notification's
    assert payload.risk.status.value == "attention"
    assert payload.risk.reasons[0].startswith("waiting for permission to use Bash for 2m5")
    # answered: the call runs, the wait is over at once
    j.add("PostToolUse", tool_name="Bash", tool_input={"command": "rm -rf build"}, tool_use_id="t1", tool_response={})
    payload, what = _waiting(j)
    assert what is None and payload.context.waitingSince is None and payload.context.turnState == "running"
    assert not any(r.startswith("waiting") for r in payload.risk.reasons)


def test_a_turn_that_ended_in_an_api_error_says_so_and_its_row_is_failed_until_a_turn_goes_well() -> None:
    from ecc_hooks.hud import notify
    from ecc_hooks.tui import model

    j = Journal()
    j.add("UserPromptSubmit", prompt="tidy up")
    assert payload_of(j.records).context.turnError is None
    j.add("StopFailure", error="rate_limit")
    payload = payload_of(j.records)
    assert (payload.context.turnState, payload.context.turnError) == ("idle", "rate_limit")
    row = model.session_row(model.Snap(payload.model_dump(mode="json")))  # the HUD reads hud.json as JSON
    assert (row.state, row.group) == ("failed", model.FAILED)
    assert notify.row_event("running", row.state) == "failed"
    j.add("UserPromptSubmit", prompt="again")
    assert payload_of(j.records).context.turnError is None  # a new turn: no longer failed
    j.add("Stop", last_assistant_message="done")
    payload = payload_of(j.records)
    assert payload.context.turnError is None
    assert model.session_row(model.Snap(payload.model_dump(mode="json"))).state == "idle"


def test_a_denied_prompt_ends_the_wait_too() -> None:
    j = Journal()
    j.add("UserPromptSubmit", prompt="x")
    j.add("PermissionRequest", tool_name="Write", tool_input={"file_path": "/etc/x"})
    j.add("PermissionDenied", tool_name="Write", tool_input={"file_path": "/etc/x"}, tool_use_id="t9")
    assert _waiting(j)[1] is None


def test_the_idle_prompt_and_an_mcp_question_are_waits() -> None:
    j = Journal()
    j.add("UserPromptSubmit", prompt="x")
    j.add("Stop", last_assistant_message="done")
    assert _waiting(j)[1] is None and payload_of(j.records).context.turnState == "idle"
    j.add("Notification", notification_type="idle_prompt", message="Claude is waiting for your input")
    assert _waiting(j)[1] == "your next prompt"
    j.add("UserPromptSubmit", prompt="next")
    assert _waiting(j)[1] is None
    j.add("Elicitation", mcp_server_name="tracker", message="Which project?")
    j.add("Notification", notification_type="elicitation_dialog", message="tracker asks")
    assert _waiting(j)[1] == "an answer to tracker's question"
    j.add("ElicitationResult", mcp_server_name="tracker", action="accept")
    payload, what = _waiting(j)
    assert what is None and payload.context.turnState == "running"


def test_a_subagents_prompt_waits_until_that_subagent_moves_on() -> None:
    j = Journal()
    j.add("UserPromptSubmit", prompt="x")
    j.add("SubagentStart", agent_id="a1", agent_type="Explore")
    j.add("PermissionRequest", tool_name="Bash", tool_input={"command": "make"}, agent_id="a1", agent_type="Explore")
    payload, what = _waiting(j)
    assert what == "permission to use Bash"
    assert [a.state.value for a in payload.activeAgents if a.id == "a1"] == ["waiting"]
    j.tool("Read", {"file_path": "/x"}, uid="main-1")  # the main conversation goes on: the prompt is still up
    assert _waiting(j)[1] == "permission to use Bash"
    j.tool("Bash", {"command": "make"}, uid="a1-1", agent="a1")
    payload, what = _waiting(j, now=j.t + timedelta(seconds=5))
    assert what is None and [a.state.value for a in payload.activeAgents if a.id == "a1"] == ["running"]


def test_a_call_the_user_rejected_is_denied_its_check_skipped_and_the_turn_over() -> None:
    j = Journal()
    j.add("UserPromptSubmit", prompt="run the tests")
    j.add("PreToolUse", tool_name="Bash", tool_input={"command": "pytest -q"}, tool_use_id="t1")
    j.add("PermissionRequest", tool_name="Bash", tool_input={"command": "pytest -q"})
    # what the watcher writes from the transcript: no input, the client's text as the reason
    denied = j.add("PermissionDenied", tool_name="Bash", tool_use_id="t1", reason=aggregate.REJECTED + ". STOP")
    j.records[-1] = {**denied, "backfilled": True}
    payload = payload_of(j.records, now=j.t + timedelta(seconds=5))
    tools = payload.toolCalls
    assert (tools.total, tools.failures, tools.denied, tools.pending) == (1, 1, 1, 0)
    assert [(c.command, c.status.value) for c in payload.checks.local] == [("pytest -q", "skipped")]
    assert payload.context.turnState == "idle" and payload.context.waitingFor is None
