"""Burn rate from assistant timestamps, and the budget trend."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from ecc_hooks.sources.usage import UsageTracker, budget_from_env, budget_trend, default_price_table
from tests.usage_lines import append, assistant, expected_usd


def _ts(minute: int) -> str:
    return f"2025-06-01T10:{minute:02d}:00.000Z"


def _epoch(minute: int) -> float:
    return datetime(2025, 6, 1, 10, minute, tzinfo=timezone.utc).timestamp()


def test_burn_rate_over_the_recent_window(tmp_path: Path) -> None:
    table = default_price_table()
    window_min = int(table.budget["burn_window_minutes"])
    t = tmp_path / "s.jsonl"
    old, recent = 0, window_min + 5
    append(
        t,
        assistant("m_old", inp=1_000_000, ts=_ts(old)),
        assistant("m1", inp=10_000, out=100, ts=_ts(recent)),
        assistant("m2", inp=20_000, out=300, ts=_ts(recent + 10)),
    )
    tracker = UsageTracker(str(t), env={})
    usage = tracker.update()
    in_window = expected_usd("sonnet-4", inp=30_000, out=400)
    # now = the last activity: the window reaches back window_min minutes, the old message is outside it
    assert usage.burn_usd_per_hour == in_window / (Decimal(window_min) / 60)
    later = tracker.snapshot(now=_epoch(recent + 10) + 60 * (window_min - 5))  # m1 slid out
    assert later.burn_usd_per_hour == expected_usd("sonnet-4", inp=20_000, out=300) / (Decimal(window_min) / 60)


def test_burn_rate_of_a_young_session_uses_its_age(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", inp=10_000, ts=_ts(0)), assistant("m2", inp=10_000, ts=_ts(6)))
    usage = UsageTracker(str(t), env={}).update()
    assert usage.burn_usd_per_hour == expected_usd("sonnet-4", inp=20_000) / (Decimal(6) / 60)


def test_budget_trend_levels(tmp_path: Path) -> None:
    table = default_price_table()
    fraction = Decimal(str(table.budget["approaching_fraction"]))
    budget = Decimal(10)
    assert budget_trend(table.budget, Decimal(1), None, configured=False) == "no-budget"
    assert budget_trend(table.budget, Decimal(1), budget, True) == "within-budget"
    assert budget_trend(table.budget, budget * fraction, budget, True) == "approaching-budget"
    assert budget_trend(table.budget, budget + Decimal("0.01"), budget, True) == "over-budget"
    assert budget_trend(table.budget, None, budget, True) == "unknown"
    # a burn rate that crosses the budget within the horizon
    horizon = Decimal(str(table.budget["approaching_horizon_hours"]))
    assert (
        budget_trend(table.budget, Decimal(1), budget, True, burn_usd_per_hour=(budget - 1) / horizon)
        == "approaching-budget"
    )


def test_budget_from_env(tmp_path: Path) -> None:
    assert budget_from_env({}) == (None, False)
    assert budget_from_env({"ECC_HOOKS_BUDGET_USD": "12.5"}) == (Decimal("12.5"), True)
    assert budget_from_env({"ECC_HOOKS_BUDGET_USD": "lots"}) == (None, True)
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", inp=1_000_000, out=0))  # $3
    assert UsageTracker(str(t), env={"ECC_HOOKS_BUDGET_USD": "2"}).update().trend == "over-budget"
    usage = UsageTracker(str(t), env={"ECC_HOOKS_BUDGET_USD": "100"}).update()
    assert usage.trend == "within-budget" and usage.budget_usd == Decimal(100)


def test_no_burn_rate_from_a_single_instant(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", inp=10_000, ts=_ts(0)), assistant("m2", inp=10_000, ts=_ts(0)))
    assert UsageTracker(str(t), env={}).update().burn_usd_per_hour is None
