"""The price table: model id normalization, unknown models, tiers, 5m vs 1h cache writes, the user override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecc_hooks.sources.usage import UsageTracker, default_price_table, load_price_table, normalize_model_id
from tests.usage_lines import append, assistant, expected_usd


@pytest.mark.parametrize(
    ("raw", "normalized", "one_m"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", False),
        ("claude-opus-4-6[1m]", "claude-opus-4-6", True),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5", False),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5", False),
        ("bedrock/global.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1", False),
        ("anthropic/claude-opus-4.5", "claude-opus-4-5", False),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5", False),
        ("Claude-Sonnet-4-5-Latest", "claude-sonnet-4-5", False),
        ("claude-opus-4-0", "claude-opus-4", False),
    ],
)
def test_model_id_normalization(raw: str, normalized: str, one_m: bool) -> None:
    ref = normalize_model_id(raw)
    assert (ref.id, ref.one_m) == (normalized, one_m)
    assert default_price_table().lookup(raw).id == normalized


@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-4-9",
        "claude-sonnet-4-7-20260101",
        "claude-3-opus-20240229",
        "claude-mythos-preview",
        "sonnet",
        "gpt-5.4",  # a newer OpenAI model than the table's rows: not gpt-5's price
        "gpt-5-2025-08-07",  # a dated snapshot the table does not name
        "gemini-4-pro",
    ],
)
def test_unknown_models_are_never_priced_as_a_sibling(model: str) -> None:
    assert default_price_table().lookup(model) is None


def test_unknown_model_makes_cost_unknown_with_the_model_named(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", inp=100, out=10), assistant("m2", model="claude-opus-4-9-20270101", inp=100, out=10))
    usage = UsageTracker(str(t), env={}).update()
    assert usage.cost.computed_usd is None and usage.cost.session_usd is None
    assert usage.cost.unknown_models == ("claude-opus-4-9",)
    unknown = [m for m in usage.models if not m.priced]
    assert unknown[0].raw_ids == ("claude-opus-4-9-20270101",) and unknown[0].tokens["input"] == 100
    # the known part stays visible, labelled as partial
    assert usage.cost.priced_usd == expected_usd("sonnet-4", inp=100, out=10)
    assert usage.trend == "no-budget"
    assert UsageTracker(str(t), env={}, budget_usd=5).update().trend == "unknown"


@pytest.mark.parametrize("cache_read", [50_000, 50_001])
def test_long_prompt_tier_prices_the_whole_request(tmp_path: Path, cache_read: int) -> None:
    # Haiku 5.5: prompt = 40,000 + 10,000 + cache_read; exactly 100,000 stays standard, one token more is long
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", model="claude-haiku-5-5", inp=40_000, cw=10_000, cr=cache_read, out=2_000))
    usage = UsageTracker(str(t), env={}).update()
    rates = "haiku-5-5-long" if 40_000 + 10_000 + cache_read > 100_000 else "haiku-5-5"
    assert usage.cost.computed_usd == expected_usd(rates, inp=40_000, c5=10_000, cr=cache_read, out=2_000)


def test_sonnet_has_no_long_context_tier(tmp_path: Path) -> None:
    # The spec's 6/22.50 above 200k is not what the pinned client charges: Sonnet 4.5 is 3/15 at any size.
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", requested="claude-sonnet-4-5[1m]", inp=300_000, out=1_000))
    usage = UsageTracker(str(t), env={}).update()
    assert usage.cost.computed_usd == expected_usd("sonnet-4", inp=300_000, out=1_000)


def test_priced_by_the_requested_model_not_the_echoed_one(tmp_path: Path) -> None:
    # Claude Code prices by `requestedModel`; message.model is whatever the API echoed.
    t = tmp_path / "s.jsonl"
    append(
        t,
        assistant("m1", model="claude-opus-4-1", requested="claude-sonnet-4-5", inp=1_000, out=100),
        assistant("m2", model="claude-haiku-4-5", inp=1_000, out=100),
    )  # older lines: no requestedModel
    usage = UsageTracker(str(t), env={}).update()
    assert [m.model for m in usage.models] == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    assert usage.cost.computed_usd == expected_usd("sonnet-4", inp=1_000, out=100) + expected_usd(
        "haiku-4-5", inp=1_000, out=100
    )


def test_requested_1m_suffix_sets_the_window(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", model="claude-opus-4-6", requested="claude-opus-4-6[1m]", inp=50_000, out=10))
    assert UsageTracker(str(t), env={}).update().context.window == 1_000_000
    t2 = tmp_path / "s2.jsonl"
    append(t2, assistant("m1", model="claude-opus-4-6", requested="claude-opus-4-6", inp=50_000, out=10))
    assert UsageTracker(str(t2), env={}).update().context.window == 200_000


def test_tier_applies_per_request_not_per_session(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    append(t, assistant("m1", inp=150_000, out=10), assistant("m2", inp=150_000, out=10))
    usage = UsageTracker(str(t), env={}).update()
    assert usage.cost.computed_usd == 2 * expected_usd("sonnet-4", inp=150_000, out=10)


def test_one_hour_and_five_minute_cache_writes(tmp_path: Path) -> None:
    t = tmp_path / "s.jsonl"
    append(
        t,
        assistant("m1", model="claude-opus-4-5-20251101", cw=3000, split=(1000, 2000), out=1),
        # no breakdown: all of it is 5m
        assistant("m2", model="claude-opus-4-5-20251101", cw=4000, out=1),
        # breakdown short of the total: the rest is 5m
        assistant("m3", model="claude-opus-4-5-20251101", cw=500, split=(0, 200), out=1),
    )
    usage = UsageTracker(str(t), env={}).update()
    assert usage.tokens["cache_write_5m"] == 1000 + 4000 + 300
    assert usage.tokens["cache_write_1h"] == 2000 + 200
    assert usage.cost.computed_usd == expected_usd("opus-4-5", c5=5300, c1=2200, out=3)
    by_kind = usage.cost.by_kind
    assert by_kind["cache_write_1h"] == expected_usd("opus-4-5", c1=2200)
    assert by_kind["cache_write_5m"] == expected_usd("opus-4-5", c5=5300)


def test_user_override_merges_over_shipped_table(tmp_path: Path, ecc_home: Path) -> None:
    ecc_home.mkdir(parents=True)
    (ecc_home / "prices.json").write_text(
        json.dumps(
            {
                "families": {"haiku-4-5": {"input": 2}},
                "models": [
                    {
                        "id": "claude-opus-4-9",
                        "prices": {
                            "input": 7,
                            "cache_write_5m": 8,
                            "cache_write_1h": 9,
                            "cache_read": 0.7,
                            "output": 35,
                        },
                        "window": 1000000,
                    }
                ],
            }
        )
    )
    table = load_price_table()
    assert table.errors == ()
    assert str(table.lookup("claude-haiku-4-5").rates.input) == "2"
    assert str(table.lookup("claude-haiku-4-5").rates.output) == "5"  # untouched keys keep shipped values
    assert table.lookup("claude-opus-4-9-20270101").window == 1_000_000
    assert table.lookup("claude-opus-4-6").id == "claude-opus-4-6"


def test_broken_override_is_ignored_and_reported(ecc_home: Path) -> None:
    ecc_home.mkdir(parents=True)
    (ecc_home / "prices.json").write_text("{not json")
    table = load_price_table()
    assert table.errors and "ignored" in table.errors[0]
    assert table.lookup("claude-sonnet-4-5") is not None
