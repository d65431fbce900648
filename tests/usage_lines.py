"""Builders for transcript lines shaped like Claude Code's, and spec prices for first-principles expectations."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

SONNET = "claude-sonnet-4-5-20250929"
# Spec section 4, USD per million tokens: (input, 5m write, 1h write, cache read, output)
SPEC_RATES = {
    "sonnet-4": ("3", "3.75", "6", "0.30", "15"),
    "sonnet-4-long": ("6", "7.50", "12", "0.60", "22.50"),
    "opus-4-5": ("5", "6.25", "10", "0.50", "25"),
    "opus-4": ("15", "18.75", "30", "1.50", "75"),
    "haiku-4-5": ("1", "1.25", "2", "0.10", "5"),
    # Not in the spec's table: as the pinned client charges them (tests/e2e/test_cost_conformance.py)
    "haiku-5-5": ("0.10", "0.125", "0.20", "0.01", "0.50"),
    "haiku-5-5-long": ("0.50", "0.625", "1", "0.05", "2.50"),
}


def expected_usd(rates: str, inp: int = 0, c5: int = 0, c1: int = 0, cr: int = 0, out: int = 0) -> Decimal:
    """tokens x rate / 1e6, summed, from the spec's table."""
    tokens = (inp, c5, c1, cr, out)
    return sum((Decimal(n) * Decimal(r) for n, r in zip(tokens, SPEC_RATES[rates])), Decimal(0)) / Decimal(10**6)


def assistant(
    mid: str,
    *,
    model: str = SONNET,
    inp: int = 0,
    out: int = 0,
    cw: int = 0,
    cr: int = 0,
    split: tuple[int, int] | None = None,
    ts: str = "2025-06-01T10:00:00.000Z",
    side: bool = False,
    text: str = "ok",
    requested: str | None = None,
) -> dict[str, Any]:
    """An assistant line; ``split`` gives ``cache_creation{5m, 1h}``."""
    usage: dict[str, Any] = {
        "input_tokens": inp,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
        "output_tokens": out,
        "service_tier": "standard",
    }
    if split is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": split[0], "ephemeral_1h_input_tokens": split[1]}
    line = {
        "parentUuid": None,
        "isSidechain": side,
        "type": "assistant",
        "message": {
            "id": mid,
            "model": model,
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "stop_reason": None,
            "usage": usage,
        },
        "requestId": "req_" + mid,
        "uuid": "u-" + mid + "-" + str(out),
        "timestamp": ts,
    }
    if requested is not None:
        line["requestedModel"] = requested  # what Claude Code asked for (and prices by)
    return line


def user_tool_result(content: str, ts: str = "2025-06-01T10:00:00.000Z") -> dict[str, Any]:
    """A user line with a tool_result (no usage)."""
    return {
        "type": "user",
        "isSidechain": False,
        "timestamp": ts,
        "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": content}]},
    }


def compact_boundary(pre: int, post: int | None = None, trigger: str = "auto") -> dict[str, Any]:
    """A ``system`` ``compact_boundary`` line."""
    return {
        "type": "system",
        "subtype": "compact_boundary",
        "isSidechain": False,
        "timestamp": "2025-06-01T10:05:00Z",
        "compactMetadata": {"trigger": trigger, "preTokens": pre, "postTokens": post},
    }


def cost_state(total: float, model_usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """Claude Code's own ``cost-state`` roll-up line."""
    return {"type": "cost-state", "totalCostUSD": total, "modelUsage": model_usage or {}}


def dump(obj: dict[str, Any]) -> bytes:
    """One JSONL line the way Claude Code writes it (compact separators, newline)."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def append(path: Path, *items: dict[str, Any] | bytes) -> None:
    """Append lines (dicts are serialized; bytes are written raw, e.g. a half line)."""
    with open(path, "ab") as fh:
        for item in items:
            fh.write(item if isinstance(item, bytes) else dump(item))
