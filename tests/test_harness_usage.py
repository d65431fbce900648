"""``harness.usage.build_usage``: another agent's messages priced from prices.json (read here independently), its
own figure taken where it reports every reply's cost, unknown models never priced, context over the window."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.harness.usage import Message, build_usage
from tests.helpers import REPO

TABLE = json.loads((REPO / "ecc_hooks" / "data" / "prices.json").read_text())
MODELS = {row["id"]: row for row in TABLE["models"]}


def rates(model_id: str, prompt: int) -> dict[str, Decimal]:
    row = MODELS[model_id]
    family = row["family"]
    for tier in row.get("tiers", []):
        if prompt > tier["above_input_tokens"]:
            family = tier["family"]
    return {k: Decimal(str(v)) for k, v in TABLE["families"][family].items()}


def expected(messages: list[Message], model_id: str) -> Decimal:
    total = Decimal(0)
    for m in messages:
        r = rates(model_id, m.input + m.cache_read + m.cache_write)
        total += (
            m.input * r["input"] + m.cache_read * r["cache_read"] + m.cache_write * r["cache_write_5m"]
            + m.output * r["output"]
        ) / Decimal(1_000_000)  # fmt: skip
    return total


counts = st.integers(min_value=0, max_value=400_000)
messages = st.lists(
    st.builds(Message, model=st.just("x"), input=counts, output=counts, cache_read=counts, cache_write=counts),
    min_size=1,
    max_size=6,
)


@given(messages, st.sampled_from([("gpt-5.1-codex", "gpt-5-1"), ("gemini-2.5-pro", "gemini-2-5-pro"),
                                  ("gemini-3-pro-preview", "gemini-3-pro"), ("gpt-4o-mini", "gpt-4o-mini")]))  # fmt: skip
def test_computed_cost_is_tokens_times_the_tables_rates(batch: list[Message], model: tuple[str, str]) -> None:
    raw, row = model
    batch = [Message(raw, m.input, m.output, m.cache_read, m.cache_write) for m in batch]
    usage = build_usage("s", None, batch)
    assert usage.cost.computed_usd == expected(batch, row)
    assert usage.cost.statusline_reported_usd is None  # nothing reported: the computed figure is the session's
    assert usage.tokens["input"] == sum(m.input for m in batch)
    assert usage.tokens["output"] == sum(m.output for m in batch)


def test_an_unknown_model_leaves_the_cost_unknown() -> None:
    usage = build_usage("s", None, [Message("gpt-5.1", 10, 10), Message("gpt-9-turbo", 10, 10)])
    assert usage.cost.computed_usd is None
    assert usage.cost.unknown_models == ("gpt-9-turbo",)


def test_the_agents_own_figure_is_the_sessions_cost_only_when_every_reply_has_one() -> None:
    both = [Message("m1", 5, 5, reported_usd=Decimal("0.001")), Message("m1", 5, 5, reported_usd=Decimal("0.002"))]
    assert build_usage("s", None, both).cost.statusline_reported_usd == Decimal("0.003")
    assert build_usage("s", None, both).cost.unknown_models == ()  # priced by the agent: not unknown (no risk)
    one = [both[0], Message("m1", 5, 5)]
    assert build_usage("s", None, one).cost.statusline_reported_usd is None
    assert build_usage("s", None, one).cost.unknown_models == ("m1",)


def test_context_is_the_last_prompt_over_the_window() -> None:
    usage = build_usage("s", None, [Message("gpt-5.1-codex", 100, 10)], window=272_000, context_tokens=217_600)
    assert (usage.context.window, usage.context.used_pct, usage.context.remaining_pct) == (272_000, 80, 20)
    assert usage.context.pressure == "high"
    from_table = build_usage("s", None, [Message("gemini-2.5-flash", 100, 10)], context_tokens=1000)
    assert from_table.context.window == MODELS["gemini-2-5-flash"]["window"]
    assert from_table.context.pressure == "normal"
    unknown = build_usage("s", None, [Message("nobody-knows", 1, 1)], context_tokens=1000)
    assert unknown.context.remaining_pct is None and unknown.context.pressure == "unknown"


def test_a_reply_without_a_model_leaves_the_model_unknown() -> None:
    usage = build_usage("s", None, [Message("", 5, 5, reported_usd=Decimal("0.01"))], context_tokens=5)
    assert usage.context.model is None and usage.context.window is None
