"""core.jsvalues: JavaScript's conversions as ECC's scripts apply them (V8 itself is the oracle in
tests/e2e/test_loop_status_generated.py; these hold the rules that need no node)."""

from __future__ import annotations

import math
import os
import time

from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.core import jsvalues

DATE_RANGE = st.integers(-jsvalues.MAX_TIME_MS, jsvalues.MAX_TIME_MS)


@given(ms=DATE_RANGE)
def test_iso_round_trips_across_the_whole_date_range(ms: int) -> None:
    assert jsvalues.parse_date(jsvalues.iso(ms)) == ms
    assert jsvalues.parse_date(ms) == ms


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_number_to_string_round_trips(value: float) -> None:
    text = jsvalues.number_to_string(value)
    assert float(text) == value and ("e" not in text or abs(value) >= 1e21 or abs(value) < 1e-6)


@given(text=st.text(max_size=12))
def test_string_to_number_never_raises(text: str) -> None:
    jsvalues.string_to_number(text)


def test_the_rules_ecc_relies_on() -> None:
    assert [jsvalues.number_to_string(x) for x in (1e21, 1e-7, 123.0, 0.1, -0.0, 1.5e-6)] == [
        "1e+21", "1e-7", "123", "0.1", "0", "0.0000015"
    ]  # fmt: skip
    assert jsvalues.to_string([1, None, [2, "a"]]) == "1,,2,a" and jsvalues.to_string({"a": 1}) == "[object Object]"
    assert [jsvalues.to_number(v) for v in (" 0x10 ", "1e3", "", [" 7 "], True, None)] == [16, 1000, 0, 7, 1, 0]
    assert all(math.isnan(jsvalues.to_number(v)) for v in ("1_000", "inf", "NaN", {}, [1, 2], "12abc"))
    assert jsvalues.parse_date("2026-05-12") == jsvalues.parse_date("2026-05-12T00:00:00Z")
    assert jsvalues.parse_date("2026-05-12T24:00Z") == jsvalues.parse_date("2026-05-13T00:00:00.000Z")
    assert jsvalues.parse_date("2026-02-30T00:00:00Z") == jsvalues.parse_date("2026-03-02T00:00:00Z")
    assert None is jsvalues.parse_date("2026-05-12T24:00:01Z") is jsvalues.parse_date(" 2026-05-12T10:00:00Z ")
    assert jsvalues.parse_date(True) is None and jsvalues.parse_date(8.64e15 + 1) is None
    assert jsvalues.parse_date(-1.7) == -1  # TimeClip: toward zero


def test_a_time_without_a_zone_is_local_with_the_earlier_offset_in_a_gap() -> None:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        gap = jsvalues.parse_date("2026-03-08T02:30:00")  # clocks jump 02:00 -> 03:00: read with EST, as V8
        overlap = jsvalues.parse_date("2026-11-01T01:30:00")  # 01:30 happens twice: the first (EDT)
        assert gap == jsvalues.parse_date("2026-03-08T07:30:00Z")
        assert overlap == jsvalues.parse_date("2026-11-01T05:30:00Z")
    finally:
        os.environ.pop("TZ") if before is None else os.environ.__setitem__("TZ", before)
        time.tzset()
