"""One ``SessionUsage`` from another agent's messages: the same figures the HUD folds for Claude Code.

Each agent's reader (``harness.<name>.read_usage``) turns its own transcript, database or log into ``Message``s;
``build_usage`` sums them by model, prices what the agent did not price itself from ``prices.json`` (OpenAI and
Gemini rows beside Anthropic's: a model the table does not know stays unknown, never priced as another), and takes
the agent's own figure as the session's cost where it reports one (OpenCode, Aider). Context is the last request's
prompt over the window the agent records (Codex) or the table's window for the model; agents auto-compact by their
own rules, so no compaction threshold is claimed for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from ecc_hooks.sources.usage.context import ContextStatus
from ecc_hooks.sources.usage.prices import KINDS, PriceTable, default_price_table
from ecc_hooks.sources.usage.tracker import CostReport, ModelUsage, SessionUsage

ZERO = Decimal(0)


@dataclass(frozen=True)
class Message:
    """One model reply's usage as the agent recorded it.

    ``input``: prompt tokens NOT read from a cache; ``cache_read``: prompt tokens read from one; ``cache_write``:
    written to one (priced as 5-minute writes where the table has them); ``output`` includes ``reasoning`` when the
    agent counts it there (OpenAI and Gemini bill reasoning as output: a reader adds it when the agent keeps it
    apart). ``reported_usd``: the agent's own cost of this reply, when it prices it."""

    model: str
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0
    reported_usd: Optional[Decimal] = None
    at: Optional[float] = None  # epoch seconds


def _tokens(messages: Sequence[Message]) -> dict[str, int]:
    return {
        "input": sum(m.input for m in messages),
        "cache_write_5m": sum(m.cache_write for m in messages),
        "cache_write_1h": 0,
        "cache_read": sum(m.cache_read for m in messages),
        "output": sum(m.output for m in messages),
        "reasoning": sum(m.reasoning for m in messages),
    }


def _price(table: PriceTable, model: str, messages: Sequence[Message]) -> Optional[dict[str, Decimal]]:
    """Cost by kind of one model's messages, or None when the table does not price the model."""
    row = table.lookup(model)
    if row is None:
        return None
    units = [0] * len(KINDS)
    for m in messages:
        rates = row.rates_for(m.input + m.cache_write + m.cache_read, fast=False)
        if rates is None:
            return None
        counts = (m.input, m.cache_write, 0, m.cache_read, m.output)
        for i, (count, rate) in enumerate(zip(counts, table.int_rates(rates))):
            units[i] += count * rate
    return {kind: table.to_usd(units[i]) for i, kind in enumerate(KINDS)}


def _context(
    table: PriceTable, model: Optional[str], window: Optional[int], context_tokens: Optional[int]
) -> ContextStatus:
    if window is None and model:
        row = table.lookup(model)
        window = row.window if row is not None else None
    if context_tokens is None or not window:
        return ContextStatus(model, window, context_tokens, None, None, None, None, "unknown", False)
    used_pct = min(max(round(context_tokens / window * 100), 0), 100)
    levels = table.context.get("pressure") or {}
    fraction = context_tokens / window
    pressure = "normal"
    for name in ("elevated", "high", "critical"):
        level = levels.get(name)
        if isinstance(level, (int, float, Decimal)) and not isinstance(level, bool) and fraction >= float(level):
            pressure = name
    return ContextStatus(model, window, context_tokens, used_pct, 100 - used_pct, None, None, pressure, False, used_pct)


def build_usage(
    session_id: str,
    transcript_path: Optional[str],
    messages: Sequence[Message],
    *,
    window: Optional[int] = None,
    context_tokens: Optional[int] = None,
    env: Optional[Mapping[str, str]] = None,
    table: Optional[PriceTable] = None,
    lines: int = 0,
    malformed_lines: int = 0,
) -> SessionUsage:
    """The session's ``SessionUsage``: per-model tokens and cost, the session cost (the agent's own where it
    reports every reply's cost, else computed), the context of the last request."""
    table = table or default_price_table()
    by_model: dict[str, list[Message]] = {}
    for m in messages:
        by_model.setdefault(m.model or "unknown", []).append(m)
    models: list[ModelUsage] = []
    unknown: list[str] = []
    by_kind = {kind: ZERO for kind in KINDS}
    priced = ZERO
    for model, group in by_model.items():
        cost = _price(table, model, group)
        if cost is None:
            unknown.append(model)
        else:
            for kind, usd in cost.items():
                by_kind[kind] += usd
            priced += sum(cost.values(), ZERO)
        models.append(
            ModelUsage(model, (model,), len(group), _tokens(group), cost, sum(cost.values(), ZERO) if cost else None)
        )
    computed = None if unknown else priced
    reported_all = bool(messages) and all(m.reported_usd is not None for m in messages)
    reported = sum((m.reported_usd for m in messages if m.reported_usd is not None), ZERO) if reported_all else None
    report = CostReport(
        computed_usd=computed,
        priced_usd=priced,
        # a model our table lacks makes the cost unknown only when the agent did not price it itself
        unknown_models=() if reported is not None else tuple(unknown),
        by_kind=by_kind,
        main_usd=computed,
        subagents_usd=ZERO if computed is not None else None,
        # the agent's own figure: shown as the session's cost, like Claude Code's status line figure
        statusline_reported_usd=reported,
    )
    last_model = (messages[-1].model or None) if messages else None  # an agent that names no model: unknown
    times = [m.at for m in messages if m.at is not None]
    return SessionUsage(
        session_id=session_id,
        transcript_path=transcript_path or "",
        models=tuple(models),
        tokens=_tokens(messages),
        cost=report,
        context=_context(table, last_model, window, context_tokens),
        burn_usd_per_hour=None,
        budget_usd=None,
        trend="unknown",
        compactions=(),
        messages=len(messages),
        lines=lines,
        malformed_lines=malformed_lines,
        files=1 if transcript_path else 0,
        last_activity=max(times) if times else None,
    )
