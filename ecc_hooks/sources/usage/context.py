"""Context window arithmetic: used/remaining %, the auto-compaction point, and the pressure level.

Pure functions of (tokens, model, table, env): no I/O, no clock.

Assumption on auto-compaction (Claude Code does not document it; the rule is ``ecc_hooks.compaction``,
shared with the status line, and its figures are data in ``prices.json`` ``context.autocompact``): the effective window is the model's window minus
a reservation for the summary's output (20,000 tokens); auto-compact fires ``buffer_tokens`` (13,000)
before that, i.e. at 167,000 tokens of a 200k window (83.5 %). ``CLAUDE_AUTOCOMPACT_PCT_OVERRIDE=P``
(0 < P <= 100) moves it to ``floor(effective x P / 100)`` but never later than the default point;
``CLAUDE_CODE_AUTO_COMPACT_WINDOW=N`` caps the window used for that computation at N tokens;
``DISABLE_AUTO_COMPACT`` / ``DISABLE_COMPACT`` turn it off (no distance then). The tokens counted
toward it are the context used plus the last response's output, which the next request carries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ecc_hooks.core import compaction
from ecc_hooks.core.compaction import env_flag
from ecc_hooks.sources.usage.prices import PriceTable, normalize_model_id

PRESSURE_LEVELS = ("normal", "elevated", "high", "critical", "unknown")


def js_round(x: float) -> int:
    """JavaScript ``Math.round``: the nearest integer, halves toward +infinity (24.5 -> 25, -0.5 -> 0)."""
    floor = math.floor(x)
    # x - floor is exact for doubles, unlike floor(x + 0.5) near 0.49999999999999994
    return int(floor) + 1 if x - floor >= 0.5 else int(floor)


def context_window(
    table: PriceTable, model: str | None, env: Mapping[str, str], used_tokens: int | None = None
) -> int | None:
    """The window of ``model`` in tokens, or None when the model is unknown.

    ``[1m]`` selects the 1M window where the model has one, unless ``CLAUDE_CODE_DISABLE_1M_CONTEXT``;
    that variable also caps natively 1M models at ``context.window_without_1m``. Transcripts drop the
    ``[1m]`` suffix, so a prompt already larger than the standard window proves the 1M one is in use.
    """
    if not model:
        return None
    row = table.lookup(model)
    if row is None or row.window is None:
        return None
    window = row.window
    if row.window_1m and (normalize_model_id(model).one_m or (used_tokens is not None and used_tokens > window)):
        window = row.window_1m
    if env_flag(env, "CLAUDE_CODE_DISABLE_1M_CONTEXT"):
        window = min(window, int(table.context.get("window_without_1m", 200_000)))
    return window


def autocompact_threshold(table: PriceTable, window: int, env: Mapping[str, str]) -> int | None:
    """Tokens at which Claude Code auto-compacts in ``window`` (``compaction.threshold`` with the table's figures)."""
    cfg = table.context.get("autocompact") or {}
    return compaction.threshold(
        window,
        env,
        int(cfg.get("reserved_output_tokens", compaction.RESERVED_OUTPUT_TOKENS)),
        int(cfg.get("buffer_tokens", compaction.BUFFER_TOKENS)),
    )


def pressure_level(table: PriceTable, fraction: float | None) -> str:
    """``normal|elevated|high|critical`` from the fraction of the compaction point (or window) used."""
    if fraction is None:
        return "unknown"
    cfg = table.context.get("pressure") or {}
    for level in ("critical", "high", "elevated"):
        if level in cfg and fraction >= float(cfg[level]):
            return level
    return "normal"


@dataclass(frozen=True)
class ContextStatus:
    """The main conversation's context: tokens used by the last main-chain response over the window."""

    model: str | None
    window: int | None
    used_tokens: int | None
    used_pct: int | None
    remaining_pct: int | None
    autocompact_at_tokens: int | None
    autocompact_in_tokens: int | None
    pressure: str
    compacted: bool
    """True when the last event was a compaction: usage stays unknown until the next response."""
    shown_pct: int | None = None
    """Claude Code's own "N% context used" (``compaction.shown_pct``: prompt and output over the usable window)."""

    def to_dict(self) -> dict[str, object]:
        """camelCase fields for JSON payloads."""
        return {
            "model": self.model,
            "window": self.window,
            "usedTokens": self.used_tokens,
            "usedPct": self.used_pct,
            "remainingPct": self.remaining_pct,
            "autocompactAtTokens": self.autocompact_at_tokens,
            "autocompactInTokens": self.autocompact_in_tokens,
            "pressure": self.pressure,
            "compacted": self.compacted,
            "shownPct": self.shown_pct,
        }


def context_status(
    table: PriceTable,
    env: Mapping[str, str],
    model: str | None,
    used_tokens: int | None,
    output_tokens: int = 0,
    window: int | None = None,
    compacted: bool = False,
) -> ContextStatus:
    """Compute the context status; ``window`` (e.g. the status line's ``context_window_size``) wins when given."""
    if window is None:
        window = context_window(table, model, env, used_tokens)
    if used_tokens is None or not window:
        return ContextStatus(model, window, used_tokens, None, None, None, None, "unknown", compacted)
    # Same float expression as Claude Code: Math.round(used / size * 100)
    used_pct = min(max(js_round(used_tokens / window * 100), 0), 100)
    at = autocompact_threshold(table, window, env)
    in_tokens = None if at is None else max(at - used_tokens - output_tokens, 0)
    fraction = used_tokens / (at if at else window)
    reserved = int(
        (table.context.get("autocompact") or {}).get("reserved_output_tokens", compaction.RESERVED_OUTPUT_TOKENS)
    )
    shown = compaction.shown_pct(used_tokens + output_tokens, window, env, reserved)
    return ContextStatus(
        model,
        window,
        used_tokens,
        used_pct,
        100 - used_pct,
        at,
        in_tokens,
        pressure_level(table, fraction),
        compacted,
        shown,
    )
