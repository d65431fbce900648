"""Small pure helpers shared by the segments: cleaning untrusted text, reading numbers and nested keys."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# C0 controls, DEL and C1 controls (0x80-0x9F: a terminal may take 0x9B as CSI and 0x9D as OSC).
_CONTROL = {c: None for c in range(0x20)} | {0x7F: None} | {c: None for c in range(0x80, 0xA0)}
# Bidi overrides and isolates can reorder what the user reads; zero-width characters can hide text.
_INVISIBLE = {c: None for c in (0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
                                0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF)}
_STRIP = _CONTROL | _INVISIBLE
_ESCAPE_RE = None


def clean(value: object, limit: int = 80) -> str:
    """An untrusted value as printable single-line text: escape sequences and control characters removed.

    ESC-introduced sequences (CSI, OSC with BEL or ST, DCS/SOS/PM/APC strings, two-character escapes)
    are removed whole, so their parameters do not leak as text; then every remaining C0/C1 control
    (including a lone 0x9B CSI or 0x9D OSC), DEL and bidi/zero-width character is dropped. The result
    is capped at ``limit`` characters with an ellipsis.
    """
    global _ESCAPE_RE
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\x1b" in text or "\x9b" in text or "\x9d" in text or "\x90" in text:
        if _ESCAPE_RE is None:
            import re  # only when an escape is present; json has usually imported it already anyway

            _ESCAPE_RE = re.compile(
                r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"          # CSI
                r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL/ST
                r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS/SOS/PM/APC strings
                r"|\x1b[ -/]*[0-~]?"                            # other escapes (nF, Fp, Fe, Fs)
            )
        text = _ESCAPE_RE.sub("", text)
    text = text.translate(_STRIP)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "\u2026"
    return text


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
