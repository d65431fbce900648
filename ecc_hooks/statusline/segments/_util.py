"""Small pure helpers shared by the segments: cleaning untrusted text, reading numbers and nested keys."""

from __future__ import annotations

from ecc_hooks.core.text import clean as clean  # the one cleaner of untrusted text, re-exported for segments

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def number(value: object) -> float | None:
    """A finite JSON number as float, or None (bools, strings, NaN and absurd magnitudes are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if -1e15 < value < 1e15 else None


def dig(data: object, *keys: str) -> Any:
    """``data[k1][k2]...`` through dicts only; None as soon as a level is missing or not a dict."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def level_for(value: float, warn: float | None, bad: float | None) -> str:
    """``bad`` / ``warn`` / ``ok`` by thresholds (a None threshold is off)."""
    if bad is not None and value >= bad:
        return "bad"
    if warn is not None and value >= warn:
        return "warn"
    return "ok"


def duration(seconds: float) -> str:
    """A compact duration: ``45s``, ``12m05s``, ``3h07m``, ``2d04h``."""
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def usd(value: float) -> str:
    """Dollars with cents; whole dollars past 1000."""
    return f"${value:,.0f}" if abs(value) >= 1000 else f"${value:.2f}"
