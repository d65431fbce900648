"""Small pure helpers shared by the segments: cleaning untrusted text, reading numbers and nested keys."""

from __future__ import annotations

from ecc_hooks.core.text import clean as clean  # the one cleaner of untrusted text, re-exported for segments
from ecc_hooks.core.text import duration as duration  # the one compact duration, shared with status and the HUD

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


def epoch(text: object) -> float | None:
    """Seconds since the epoch of a UTC ISO 8601 stamp as the journal writes it (``2026-05-01T12:00:03.000Z``),
    without ``datetime`` (hot path); None for anything else."""
    if not isinstance(text, str) or len(text) < 20 or text[-1] != "Z" or text[10] != "T":
        return None
    try:
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        hour, minute, second = int(text[11:13]), int(text[14:16]), float(text[17:-1])
    except ValueError:
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and 0 <= second < 61):
        return None
    y = year - (month <= 2)  # days from 1970-01-01 to the date (proleptic Gregorian, Hinnant's days_from_civil)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second


def usd(value: float) -> str:
    """Dollars with cents; whole dollars past 1000."""
    return f"${value:,.0f}" if abs(value) >= 1000 else f"${value:.2f}"
