"""timestamps: the one ISO-8601 parser and formatter (journals, transcripts, status files, payloads)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.capture.normalize import iso_utc
from ecc_hooks.core.timestamps import iso, parse_iso

UTC = timezone.utc


def test_parse_iso_forms() -> None:
    at = datetime(2026, 5, 12, 10, 0, 0, 123000, tzinfo=UTC)
    assert parse_iso("2026-05-12T10:00:00.123Z") == at
    assert parse_iso("2026-05-12T12:00:00.123+02:00") == at
    assert parse_iso("2026-05-12T10:00:00.123") == at  # naive: taken as UTC
    assert parse_iso(" 2026-05-12T10:00:00.123Z\n") == at  # blanks around it, as in a hand-written status.md
    for bad in ("", "   ", "yesterday", "2026-13-01T00:00:00Z", None, 1747044000, b"2026-05-12T10:00:00Z"):
        assert parse_iso(bad) is None


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)))
def test_iso_round_trips_to_the_millisecond(at: datetime) -> None:
    text = iso(at)
    assert text.endswith("Z") and len(text) == len("2026-05-12T10:00:00.123Z")
    assert parse_iso(text) == at - timedelta(microseconds=at.microsecond % 1000)


def test_iso_matches_the_hooks_format() -> None:
    # the hook writes with normalize.iso_utc (no datetime on the hot path); both must print the same shape
    at = datetime(2026, 5, 12, 10, 0, 0, 500000, tzinfo=UTC)
    assert iso(at) == iso_utc(at.timestamp()) == "2026-05-12T10:00:00.500Z"
    assert iso(at.astimezone(timezone(timedelta(hours=-7)))) == "2026-05-12T10:00:00.500Z"
