"""ISO-8601 timestamps off the hot path: the one parser and the one formatter the daemon and CLIs use.

Journals, transcripts, status files and payloads all carry UTC times like ``2026-11-21T17:23:55.123Z``.
The hook writes them with ``normalize.iso_utc`` (epoch seconds in, ``time`` only: no ``datetime`` import
on the hot path); everything that reads them back or writes payloads goes through here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional


def parse_iso(value: object) -> Optional[datetime]:
    """An aware datetime from ISO-8601 text (``Z`` allowed, surrounding blanks ignored, naive taken as UTC), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, e.g. ``2026-11-21T17:23:55.123Z``."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
