"""Context %: Claude Code's rounding, windows by model and env, the auto-compaction point, pressure."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ecc_hooks.sources.usage import (
    UsageTracker,
    autocompact_threshold,
    context_status,
    context_window,
    default_price_table,
    js_round,
)
from tests.usage_lines import append, assistant


@pytest.mark.parametrize("x", [0.5, 1.5, 2.5, 12.5, 24.5, 99.5, -0.5, -2.5, 0.49999999999999994, 3.2, 3.7])
def test_js_round_is_half_up_not_bankers(x: float) -> None:
    # ECMAScript Math.round: the integer n closest to x, ties toward +infinity
    candidates = (math.floor(x), math.ceil(x))
    best = min(candidates, key=lambda n: (abs(n - x), -n))
    assert js_round(x) == best


def test_context_pct_rounds_half_up_at_point_five(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    # 25,000 / 200,000 * 100 is exactly 12.5 in binary floating point; Python's round() gives 12
    append(t, assistant("m1", inp=5_000, cw=10_000, cr=10_000, out=777))
    ctx = UsageTracker(str(t), env={}).update().context
    raw = 25_000 / 200_000 * 100
    assert raw == 12.5 and round(raw) == 12
    assert ctx.used_pct == math.floor(raw) + 1 and ctx.remaining_pct == 100 - ctx.used_pct
    assert ctx.used_tokens == 25_000  # output excluded


def test_capture_figures_match_the_status_line(tmp_path: Path) -> None:
    # The captured status line: 19000 + 2000 + 30000 over 200000 -> used 26, remaining 74
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", model="claude-sonnet-4-5", inp=19_000, cw=2_000, cr=30_000, out=50))
    ctx = UsageTracker(str(t), env={}).update().context
    assert (ctx.used_pct, ctx.remaining_pct, ctx.window) == (26, 74, 200_000)


def test_context_uses_last_main_chain_response_only(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    append(
        t,
        assistant("m1", inp=10, cr=1000, out=5),
        assistant("m2", inp=20, cr=2000, out=5),
        assistant("side", inp=90_000, out=5, side=True),
    )
    ctx = UsageTracker(str(t), env={}).update().context
    assert ctx.used_tokens == 2020


def test_windows_by_model_suffix_and_env() -> None:
    table = default_price_table()
    assert context_window(table, "claude-sonnet-4-5-20250929", {}) == 200_000
    assert context_window(table, "claude-sonnet-4-5[1m]", {}) == 1_000_000
    assert context_window(table, "claude-sonnet-4-5[1m]", {"CLAUDE_CODE_DISABLE_1M_CONTEXT": "1"}) == 200_000
    assert context_window(table, "claude-opus-4-6", {}) == 200_000  # the pinned client: 1M only with [1m]
    assert context_window(table, "claude-opus-4-6[1m]", {}) == 1_000_000
    assert context_window(table, "claude-opus-4-7", {}) == 1_000_000
    assert context_window(table, "claude-opus-4-5", {}) == 200_000
    assert context_window(table, "claude-haiku-4-5[1m]", {}) == 200_000  # no 1M variant
    assert context_window(table, "claude-opus-4-9", {}) is None
    # the transcript drops "[1m]": a prompt larger than 200k proves the 1M window
    assert context_window(table, "claude-sonnet-4-5", {}, used_tokens=300_000) == 1_000_000


def test_unknown_model_context_is_unknown_not_guessed() -> None:
    status = context_status(default_price_table(), {}, "claude-opus-4-9", 50_000)
    assert status.used_pct is None and status.pressure == "unknown"
    # the status line's window makes it known
    status = context_status(default_price_table(), {}, "claude-opus-4-9", 50_000, window=1_000_000)
    assert status.used_pct == js_round(50_000 / 1_000_000 * 100)


def test_autocompact_point_and_its_env_overrides() -> None:
    table = default_price_table()
    cfg = table.context["autocompact"]
    effective = 200_000 - int(cfg["reserved_output_tokens"])
    default = effective - int(cfg["buffer_tokens"])
    assert autocompact_threshold(table, 200_000, {}) == default
    assert autocompact_threshold(table, 200_000, {"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"}) == math.floor(
        effective * 0.5
    )
    # an override can only bring it earlier
    assert autocompact_threshold(table, 200_000, {"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "99"}) == default
    assert autocompact_threshold(table, 200_000, {"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "abc"}) == default
    capped = autocompact_threshold(table, 1_000_000, {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "400000"})
    assert capped == 400_000 - int(cfg["reserved_output_tokens"]) - int(cfg["buffer_tokens"])
    assert autocompact_threshold(table, 200_000, {"DISABLE_AUTO_COMPACT": "1"}) is None


def test_distance_to_autocompact_and_pressure_levels() -> None:
    table = default_price_table()
    at = autocompact_threshold(table, 200_000, {})
    levels = table.context["pressure"]
    status = context_status(table, {}, "claude-sonnet-4-5", 1000, output_tokens=200)
    assert status.autocompact_at_tokens == at and status.autocompact_in_tokens == at - 1200
    assert status.pressure == "normal"
    for level in ("elevated", "high", "critical"):
        used = math.ceil(float(levels[level]) * at)
        assert context_status(table, {}, "claude-sonnet-4-5", used).pressure == level
        assert context_status(table, {}, "claude-sonnet-4-5", used - 1).pressure != level
    past = context_status(table, {}, "claude-sonnet-4-5", at + 5000)
    assert past.autocompact_in_tokens == 0 and past.pressure == "critical"
