"""Hypothesis: any journal (random order, missing fields, Post before Pre, duplicates, unknown events,
wrong types) folds into a payload valid against the published schema and the model."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks.capture.normalize import normalize
from ecc_hooks.hud.aggregate import HANDLERS, PayloadInputs, build_payload, fold_all
from ecc_hooks.models.hud import HudStatus

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "ecc.hud-status.v1.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)

EVENTS = [*HANDLERS, "PostToolBatch", "InstructionsLoaded", "FutureEvent"]
TOOLS = ["Bash", "Read", "Write", "Edit", "Agent", "Task", "TodoWrite", "TaskCreate", "TaskUpdate", "mcp__x__y"]
IDS = st.sampled_from(["t1", "t2", "t3", "ag-1", "1", "2"])

# Anything JSON can hold, including the wrong type for every field.
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12) | IDS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8) | IDS, inner, max_size=3),
    max_leaves=8,
)
RECORD_KEYS = [
    "event",
    "ts",
    "sessionId",
    "agentId",
    "agentType",
    "cwd",
    "transcriptPath",
    "toolName",
    "toolUseId",
    "input",
    "response",
    "outcome",
    "error",
    "files",
    "promptKind",
    "prompt",
    "taskNotification",
    "backgroundTasks",
    "model",
    "source",
    "lastMessage",
    "notificationType",
    "reason",
]


@st.composite
def hook_payload_record(draw: st.DrawFn) -> dict[str, Any]:
    """A record the real normalizer makes from a plausible (but randomly filled) hook payload."""
    event = draw(st.sampled_from(EVENTS))
    tool = draw(st.sampled_from(TOOLS))
    payload: dict[str, Any] = {"session_id": "s", "hook_event_name": event, "tool_name": tool, "tool_use_id": draw(IDS)}
    if draw(st.booleans()):
        payload["agent_id"] = draw(IDS)
    tool_input = {
        "Bash": {"command": draw(st.sampled_from(["pytest -q", "ls", "npm test", "exit 1"]))},
        "Agent": {"description": "d", "prompt": "p", "run_in_background": draw(st.booleans())},
        "TodoWrite": {
            "todos": draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "content": st.text(max_size=5),
                            "status": st.sampled_from(["pending", "in_progress", "completed", "x"]),
                            "activeForm": st.text(max_size=5),
                        }
                    ),
                    max_size=4,
                )
            )
        },
        "TaskCreate": {"subject": draw(st.text(max_size=5))},
        "TaskUpdate": {
            "taskId": draw(IDS),
            "status": draw(st.sampled_from(["pending", "in_progress", "completed", "deleted"])),
        },
    }.get(tool, {"file_path": "/x"})
    payload["tool_input"] = tool_input
    payload["tool_response"] = draw(
        st.one_of(
            junk,
            st.fixed_dictionaries(
                {"status": st.sampled_from(["async_launched", "completed"]), "agentId": IDS, "isAsync": st.booleans()}
            ),
            st.fixed_dictionaries({"task": st.fixed_dictionaries({"id": IDS})}),
        )
    )
    payload["is_interrupt"] = draw(st.booleans())
    payload["task_id"] = draw(IDS)
    payload["background_tasks"] = draw(
        st.lists(
            st.fixed_dictionaries({"id": IDS, "status": st.sampled_from(["running", "completed", "failed", "weird"])}),
            max_size=2,
        )
    )
    payload["prompt"] = draw(
        st.sampled_from(
            ["hello", "<task-notification><task-id>ag-1</task-id><status>completed</status></task-notification>"]
        )
    )
    when = T0 + timedelta(seconds=draw(st.integers(0, 4000)))
    return normalize(payload, when.timestamp())


@st.composite
def junk_record(draw: st.DrawFn) -> Any:
    """A record with random keys of random types, or not a record at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(junk)
    keys = draw(st.lists(st.sampled_from(RECORD_KEYS), max_size=8, unique=True))
    record = {k: draw(junk) for k in keys}
    if draw(st.booleans()):
        record["event"] = draw(st.sampled_from(EVENTS))
    return record


journals = st.lists(st.one_of(hook_payload_record(), junk_record()), max_size=40)


def check(payload: HudStatus) -> dict[str, Any]:
    doc = payload.model_dump(mode="json")
    VALIDATOR.validate(doc)
    assert HudStatus.model_validate(doc) == payload
    tools = doc["toolCalls"]
    assert 0 <= tools["stale"] <= tools["pending"] <= tools["total"]
    counts = doc["todos"]["counts"]
    assert min(counts.values()) >= 0
    if doc["context"]["contextWindow"]["pressure"] == "unknown":
        assert doc["risk"]["status"] != "ok"  # never green without context figures
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journal=journals, minutes=st.integers(0, 120), remaining=st.none() | st.floats(0, 100))
def test_any_journal_gives_a_valid_payload(journal: list[Any], minutes: int, remaining: float | None) -> None:
    sensor = {"context_window": {"remaining_percentage": remaining}} if remaining is not None else {}
    state = fold_all(journal)
    check(build_payload(state, PayloadInputs(now=T0 + timedelta(minutes=minutes), sensor=sensor)))


@settings(max_examples=150, deadline=None)
@given(journal=st.lists(hook_payload_record(), max_size=30), data=st.data())
def test_order_and_duplicates_do_not_change_tool_total(journal: list[dict[str, Any]], data: st.DataObject) -> None:
    # Tool calls are counted by id: any permutation, with any records repeated, gives the same total.
    shuffled = data.draw(st.permutations(journal))
    repeated = shuffled + data.draw(st.lists(st.sampled_from(journal), max_size=10)) if journal else shuffled
    assert fold_all(repeated).tool_total == fold_all(journal).tool_total


@settings(max_examples=100, deadline=None)
@given(sensor=st.dictionaries(st.sampled_from(["cost", "context_window", "model"]), junk, max_size=3))
def test_any_sensor_content_gives_a_valid_payload(sensor: dict[str, Any]) -> None:
    check(build_payload(fold_all([]), PayloadInputs(now=T0, sensor=sensor)))
