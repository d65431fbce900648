"""hud.backfill: finished tool calls the journal never heard of, read from transcript bytes (any bytes)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.hud.backfill import missing_calls


def use(call_id: str, name: str = "Bash") -> dict:
    return {
        "type": "assistant",
        "timestamp": "2026-05-12T10:00:00.000Z",
        "message": {"role": "assistant", "content": [{"type": "tool_use", "id": call_id, "name": name, "input": {}}]},
    }


def result(call_id: str, error: bool = False) -> dict:
    return {
        "type": "user",
        "timestamp": "2026-05-12T10:00:01.000Z",
        "message": {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call_id, "content": "out", "is_error": error}],
        },
    }


def write(path: Path, entries: list) -> int:
    data = b"".join((e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n" for e in entries)
    path.write_bytes(data)
    return len(data)


def test_only_finished_unknown_calls_once_each(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    end = write(
        path,
        [use("a"), result("a"), use("b"), result("b", error=True), result("b"), use("c"), result("z"), use("d")],
    )
    calls = missing_calls(str(path), 0, end, known={"a": "done"})
    # a: heard; b: once, failed (its first result); c and d: not finished; z: started before the region
    assert [(c["id"], c["error"]) for c in calls] == [("b", "out")]
    assert calls[0]["startedAt"] and calls[0]["finishedAt"] > calls[0]["startedAt"]


def test_the_region_bounds_what_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    first = write(path, [use("a"), result("a")])
    with path.open("ab") as handle:
        handle.write(json.dumps(use("b")).encode() + b"\n" + json.dumps(result("b")).encode() + b"\n")
    end = path.stat().st_size
    assert [c["id"] for c in missing_calls(str(path), first, end, known={})] == ["b"]
    assert missing_calls(str(path), 0, first, known={"a": "done"}) == []


LINE = st.one_of(
    st.binary(max_size=60),
    st.builds(lambda i: json.dumps(use(f"id{i}")).encode(), st.integers(0, 5)),
    st.builds(lambda i, e: json.dumps(result(f"id{i}", e)).encode(), st.integers(0, 5), st.booleans()),
    st.builds(
        lambda v: json.dumps({"message": {"content": [{"type": "tool_result", "tool_use_id": v}]}}).encode(),
        st.one_of(st.none(), st.integers(), st.text(max_size=5)),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=30), st.sets(st.sampled_from([f"id{i}" for i in range(6)])))
def test_any_bytes_never_raise_and_never_invent_a_call(tmp_path_factory, lines: list[bytes], known: set[str]) -> None:
    path = tmp_path_factory.mktemp("bf") / "t.jsonl"
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    calls = missing_calls(str(path), 0, len(data), known=dict.fromkeys(known, "done"))
    ids = [c["id"] for c in calls]
    assert len(ids) == len(set(ids)) and not set(ids) & known
    text = data.decode("utf-8", "replace")
    for call_id in ids:  # each has a use and a result in the bytes
        assert f'"id": "{call_id}"' in text and f'"tool_use_id": "{call_id}"' in text
