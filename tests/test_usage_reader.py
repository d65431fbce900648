"""The incremental transcript reader: dedup by message id, sidechain replay, partial lines, resets, resume."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import orjson

from ecc_hooks.sources.usage import UsageTracker
from tests.usage_lines import (
    SONNET,
    append,
    assistant,
    compact_boundary,
    cost_state,
    dump,
    expected_usd,
    user_tool_result,
)


def _session(tmp_path: Path, sid: str = "sess-1") -> Path:
    return tmp_path / f"{sid}.jsonl"


def _subagent(transcript: Path, agent: str) -> Path:
    directory = transcript.parent / transcript.stem / "subagents"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"agent-{agent}.jsonl"


def test_several_lines_per_message_id_count_once_with_largest_output(tmp_path: Path) -> None:
    t = _session(tmp_path)
    # one response written as three content-block lines; early ones carry partial output
    append(
        t,
        assistant("msg_a", inp=100, cw=1000, cr=5000, out=1),
        assistant("msg_a", inp=100, cw=1000, cr=5000, out=40),
        assistant("msg_a", inp=100, cw=1000, cr=5000, out=7),
    )
    usage = UsageTracker(str(t), env={}).update()
    assert usage.messages == 1
    assert usage.tokens["output"] == 40 and usage.tokens["input"] == 100
    assert usage.cost.computed_usd == expected_usd("sonnet-4", inp=100, c5=1000, cr=5000, out=40)


def test_sidechain_replay_in_main_and_subagent_file_counts_once(tmp_path: Path) -> None:
    t = _session(tmp_path)
    sub = _subagent(t, "a1")
    append(t, assistant("msg_main", inp=10, out=20))
    # the subagent's response, once in its own file and once replayed into the main file as a sidechain
    append(sub, assistant("msg_sub", inp=300, out=5, side=True), assistant("msg_sub", inp=300, out=60, side=True))
    append(t, assistant("msg_sub", inp=300, out=60, side=True))
    tracker = UsageTracker(str(t), env={})
    usage = tracker.update()
    assert usage.messages == 2
    assert usage.tokens["input"] == 310 and usage.tokens["output"] == 80
    main_cost = expected_usd("sonnet-4", inp=10, out=20)
    sub_cost = expected_usd("sonnet-4", inp=300, out=60)
    assert usage.cost.computed_usd == main_cost + sub_cost
    assert usage.cost.main_usd == main_cost and usage.cost.subagents_usd == sub_cost
    # the sidechain copy never drives the main context
    assert usage.context.used_tokens == 10
    # the subagent file disappears: its message is still known from the main file's replay
    os.unlink(sub)
    again = tracker.update()
    assert again.cost.computed_usd == main_cost + sub_cost and again.files == 1


def test_half_written_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    t = _session(tmp_path)
    line = dump(assistant("msg_b", inp=50, out=9))
    append(t, assistant("msg_a", inp=10, out=1), line[:37])
    tracker = UsageTracker(str(t), env={})
    first = tracker.update()
    assert first.messages == 1 and first.malformed_lines == 0 and first.lines == 1
    append(t, line[37:])
    second = tracker.update()
    assert second.messages == 2 and second.malformed_lines == 0
    assert second.cost.computed_usd == expected_usd("sonnet-4", inp=60, out=10)


def test_compact_boundary_resets_context_until_next_response(tmp_path: Path) -> None:
    t = _session(tmp_path)
    append(t, assistant("msg_a", inp=20, cw=1000, cr=100000, out=500))
    tracker = UsageTracker(str(t), env={})
    assert tracker.update().context.used_tokens == 101020
    append(t, compact_boundary(pre=101520, post=9000))
    after = tracker.update()
    assert after.context.used_tokens is None and after.context.used_pct is None
    assert after.context.pressure == "unknown" and after.context.compacted
    assert after.compactions[-1]["preTokens"] == 101520 and after.compactions[-1]["trigger"] == "auto"
    # spend is not reset by compaction, only context
    assert after.cost.computed_usd == expected_usd("sonnet-4", inp=20, c5=1000, cr=100000, out=500)
    append(t, assistant("msg_b", inp=5, cw=9000, out=3))
    resumed = tracker.update()
    assert resumed.context.used_tokens == 9005 and not resumed.context.compacted


def test_truncated_file_is_rescanned_and_old_contribution_removed(tmp_path: Path) -> None:
    t = _session(tmp_path)
    append(t, assistant("msg_a", inp=1000, out=100), assistant("msg_b", inp=2000, out=200))
    tracker = UsageTracker(str(t), env={})
    tracker.update()
    with open(t, "wb") as fh:  # same inode, shorter
        fh.write(dump(assistant("msg_c", inp=7, out=3)))
    usage = tracker.update()
    assert usage.messages == 1
    assert usage.cost.computed_usd == expected_usd("sonnet-4", inp=7, out=3)


def test_rewritten_in_place_past_old_offset_is_detected(tmp_path: Path) -> None:
    t = _session(tmp_path)
    append(t, assistant("msg_a", inp=1000, out=100))
    tracker = UsageTracker(str(t), env={})
    tracker.update()
    # truncated and grown back beyond the old offset between two reads: size alone cannot tell
    with open(t, "wb") as fh:
        fh.write(dump(assistant("msg_z", inp=1, out=1, text="x" * 400)))
    usage = tracker.update()
    assert usage.messages == 1 and usage.tokens["input"] == 1


def test_replaced_file_other_inode_is_rescanned(tmp_path: Path) -> None:
    t = _session(tmp_path)
    append(t, assistant("msg_a", inp=1000, out=100), assistant("msg_b", inp=1, out=1))
    tracker = UsageTracker(str(t), env={})
    tracker.update()
    replacement = tmp_path / "new.jsonl"
    append(
        replacement,
        assistant("msg_a", inp=1000, out=100),
        assistant("msg_b", inp=1, out=1),
        assistant("msg_c", inp=5, out=5),
    )
    os.replace(replacement, t)
    usage = tracker.update()
    assert usage.messages == 3
    assert usage.cost.computed_usd == expected_usd("sonnet-4", inp=1006, out=106)


def test_unknown_types_skipped_malformed_counted(tmp_path: Path) -> None:
    t = _session(tmp_path)
    append(
        t,
        {"type": "queue-operation", "usage": {"input_tokens": 5}},
        b"not json at all\n",
        b'{"type":"assistant","usage": {broken}\n',
        b'{"truncated": "usage"\n',
        user_tool_result('{"usage": {"input_tokens": 999999}}'),
        assistant("msg_a", inp=10, out=2),
        b"\n",
        b"[1, 2]\n",
    )
    usage = UsageTracker(str(t), env={}).update()
    assert usage.messages == 1 and usage.tokens["input"] == 10
    assert usage.malformed_lines == 4
    assert usage.lines == 7  # the blank line is not a line


def test_cost_state_and_statusline_reported_beside_computed(tmp_path: Path) -> None:
    t = _session(tmp_path)
    append(
        t,
        assistant("msg_a", inp=1000, cw=2000, cr=3000, out=400),
        cost_state(0.5, {SONNET: {"costUSD": 0.5}}),
        cost_state(0.0219),
    )
    tracker = UsageTracker(str(t), env={})
    usage = tracker.update(statusline={"cost": {"total_cost_usd": 0.02}})
    computed = expected_usd("sonnet-4", inp=1000, c5=2000, cr=3000, out=400)
    assert usage.cost.computed_usd == computed
    assert usage.cost.transcript_reported_usd == Decimal("0.0219")  # the latest line wins
    assert usage.cost.transcript_diff_usd == computed - Decimal("0.0219")
    assert usage.cost.statusline_reported_usd == Decimal("0.02")
    assert usage.cost.statusline_diff_usd == computed - Decimal("0.02")
    # The one cost rule (session_cost, the HUD's too): Claude Code's reported figure when it reports one.
    assert (usage.cost.session_usd, usage.cost.session_usd_source) == (Decimal("0.02"), "statusline")
    alone = UsageTracker(str(t), env={}).update()
    assert (alone.cost.session_usd, alone.cost.session_usd_source) == (computed, "computed")


def test_persisted_state_resumes_to_the_same_totals_as_a_cold_scan(tmp_path: Path) -> None:
    t = _session(tmp_path)
    sub = _subagent(t, "b2")
    append(
        t,
        assistant("msg_a", inp=10, cw=500, out=1),
        assistant("msg_a", inp=10, cw=500, out=30),
        user_tool_result("x" * 5000),
        compact_boundary(pre=1000, post=100),
    )
    append(sub, assistant("msg_s", model="claude-haiku-4-5-20251001", inp=70, out=9, side=True))
    tracker = UsageTracker(str(t), env={})
    tracker.update()
    saved = orjson.loads(orjson.dumps(tracker.to_state()))  # through real JSON
    # more lines arrive while "the daemon is down"
    append(t, assistant("msg_b", inp=40, cr=510, out=12, ts="2025-06-01T10:20:00Z"), cost_state(0.01))
    append(sub, assistant("msg_s2", model="claude-haiku-4-5-20251001", inp=1, out=1, side=True))
    resumed = UsageTracker.from_state(saved, env={}).update()
    cold = UsageTracker(str(t), env={}).update()
    assert resumed.to_dict() == cold.to_dict()
    assert resumed.messages == 4
