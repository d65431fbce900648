"""Properties: arbitrary transcripts never crash the reader, and any split of the reading (appends in
chunks at arbitrary byte offsets, small read blocks, a save/restore in between) gives exactly the totals
of one cold scan."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks.sources.usage import UsageTracker
from tests.usage_lines import assistant, compact_boundary, cost_state, dump, user_tool_result

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-5", "claude-haiku-4-5[1m]", "claude-opus-4-9-20270101"]
counts = st.integers(min_value=0, max_value=300_000)

assistant_lines = st.builds(
    lambda mid, model, inp, out, cw, cr, split, minute, side: dump(
        assistant(
            mid,
            model=model,
            inp=inp,
            out=out,
            cw=cw,
            cr=cr,
            split=split,
            ts=f"2025-06-01T1{minute // 60}:{minute % 60:02d}:00Z",
            side=side,
        )
    ),
    st.sampled_from(["msg_a", "msg_b", "msg_c", "msg_d", "msg_e"]),
    st.sampled_from(MODELS),
    counts,
    st.integers(0, 5000),
    counts,
    counts,
    st.none() | st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
    st.integers(0, 179),
    st.booleans(),
)
other_lines = st.one_of(
    st.builds(lambda pre: dump(compact_boundary(pre=pre, post=pre // 10)), counts),
    st.builds(lambda total: dump(cost_state(total)), st.floats(0, 100, allow_nan=False)),
    st.builds(lambda text: dump(user_tool_result(text)), st.text(max_size=80)),
    st.builds(lambda raw: raw.replace(b"\n", b"") + b"\n", st.binary(max_size=60)),  # malformed
    st.just(b'{"type":"assistant","message":{"usage":{"input_tokens":"x"}}}\n'),  # wrong shapes
    st.just(b'{"type":"assistant","message":{"id":1,"model":"m","usage":{}}}\n'),
    st.just(b"\n"),
)
transcripts = st.builds(
    lambda lines, tail: b"".join(lines) + tail,
    st.lists(st.one_of(assistant_lines, other_lines), max_size=25),
    st.just(b"") | st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),  # a half-written last line
)


def _cuts(data: bytes, fractions: list[float]) -> list[int]:
    return sorted({int(f * len(data)) for f in fractions} | {len(data)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    main=transcripts,
    sub=transcripts,
    main_cuts=st.lists(st.floats(0, 1), max_size=6),
    sub_cuts=st.lists(st.floats(0, 1), max_size=6),
    block=st.sampled_from([16, 97, 1 << 22]),
    restore_at=st.integers(0, 8),
)
def test_split_scans_equal_a_cold_scan(
    tmp_path_factory,
    main: bytes,
    sub: bytes,
    main_cuts: list[float],
    sub_cuts: list[float],
    block: int,
    restore_at: int,
) -> None:
    root = tmp_path_factory.mktemp("t")
    t = root / "s.jsonl"
    agent = root / "s" / "subagents" / "agent-x.jsonl"
    agent.parent.mkdir(parents=True)
    t.write_bytes(b"")
    agent.write_bytes(b"")
    tracker = UsageTracker(str(t), env={}, max_block=block, budget_usd=1)
    steps = [(t, main, c) for c in _cuts(main, main_cuts)] + [(agent, sub, c) for c in _cuts(sub, sub_cuts)]
    steps.sort(key=lambda s: s[2] / max(len(s[1]), 1))  # interleave the two files' appends
    written = {t: 0, agent: 0}
    for i, (path, data, cut) in enumerate(steps):
        if cut > written[path]:
            with open(path, "ab") as fh:
                fh.write(data[written[path] : cut])
            written[path] = cut
        tracker.update()
        if i == restore_at:  # the daemon "crashes" and resumes from its saved state
            tracker = UsageTracker.from_state(orjson.dumps(tracker.to_state()), env={}, max_block=block, budget_usd=1)
    split = tracker.update()
    cold = UsageTracker(str(t), env={}, budget_usd=1).update()
    a, b = split.to_dict(), cold.to_dict()
    assert {k: (a["cost"][k], b["cost"][k]) for k in a["cost"] if a["cost"][k] != b["cost"][k]} == {}
    assert a == b
    assert split.cost.computed_usd == cold.cost.computed_usd and split.burn_usd_per_hour == cold.burn_usd_per_hour


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | transcripts)
def test_arbitrary_bytes_never_crash(tmp_path_factory, data: bytes) -> None:
    t = tmp_path_factory.mktemp("b") / "s.jsonl"
    t.write_bytes(data)
    usage = UsageTracker(str(t), env={}).update()
    complete = data[: data.rfind(b"\n") + 1]
    assert usage.malformed_lines <= usage.lines <= complete.count(b"\n")
    assert usage.tokens["input"] >= 0
