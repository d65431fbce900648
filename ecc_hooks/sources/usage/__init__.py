"""Token usage, cost and context of Claude Code sessions, read incrementally from transcripts.

Daemon/CLI tier (orjson, no pydantic). Public API::

    tracker = UsageTracker(transcript_path)        # or UsageTracker.from_state(saved)
    usage = tracker.update(statusline=stdin_dict)   # -> SessionUsage (cost, context, burn rate, trend)
    saved = tracker.to_state()                      # JSON-ready; offsets saved with the records they describe
"""

from ecc_hooks.sources.usage.context import (
    ContextStatus,
    autocompact_threshold,
    context_status,
    context_window,
    js_round,
    pressure_level,
)
from ecc_hooks.sources.usage.prices import (
    KINDS,
    ModelPrice,
    ModelRef,
    PriceTable,
    default_price_table,
    load_price_table,
    normalize_model_id,
)
from ecc_hooks.sources.usage.tracker import (
    TRENDS,
    CostReport,
    ModelUsage,
    SessionUsage,
    UsageTracker,
    budget_from_env,
    budget_trend,
    reconcile_cost,
    session_cost,
)

__all__ = [
    "KINDS",
    "TRENDS",
    "ContextStatus",
    "CostReport",
    "ModelPrice",
    "ModelRef",
    "ModelUsage",
    "PriceTable",
    "SessionUsage",
    "UsageTracker",
    "autocompact_threshold",
    "budget_from_env",
    "budget_trend",
    "context_status",
    "context_window",
    "default_price_table",
    "js_round",
    "load_price_table",
    "normalize_model_id",
    "pressure_level",
    "reconcile_cost",
    "session_cost",
]
