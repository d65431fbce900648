"""JavaScript's own conversions, as ECC's scripts apply them to values read from JSON (loop-status's transcripts).

ECC reads a transcript with ``new Date(value)``, ``Number(value)``, ``String(value)`` and ``value || other``;
reading the same lines the same way needs the same rules, not Python's (``fromisoformat`` takes week dates
and reads a naive time as UTC where ``new Date`` reads it as local time; ``float`` takes ``inf`` and ``1_0``).
Times are integer epoch milliseconds, as a JavaScript ``Date`` holds them.

Dates: the ECMAScript date-time format (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, ``±YYYYYY``, then
``THH:mm[:ss[.s...]]`` and ``Z`` or ``±HH:mm``) as V8 reads it: date-only forms are UTC, a time without a zone
is local time (``TZ``), ``t``/``z`` and a space for ``T`` are accepted, ``±HHmm`` too, ``24:00`` is the next
midnight and a day past the month's end rolls over. V8's free-form fallback (month names, ``2026/05/12``,
``"12"`` read as 2001-12-01) is not reproduced: ``parse_date`` answers None there.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any, Optional, Union

MAX_TIME_MS = 8_640_000_000_000_000  # ECMAScript's TimeClip bound: +-100,000,000 days around the epoch
MS_PER_DAY = 86_400_000

# WhiteSpace and LineTerminator of ECMAScript: what String.prototype.trim and Number() strip.
JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
JS_S = f"[{JS_WHITESPACE}]"  # a regular expression's \s
JS_DOT = "[^\n\r\u2028\u2029]"  # a regular expression's . (no s flag): anything but a line terminator

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)\Z")
_RADIX_BASE = {"x": 16, "o": 8, "b": 2}
_DATE = re.compile(
    r"(?P<y>[+-]\d{6}|\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:(?P<sep>[Tt ])(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<z>[Zz]|[+-]\d{2}:?\d{2})?)?\Z"
)


class JsTypeError(Exception):
    """JavaScript would throw a TypeError here (``String({"toString": 1})``: a key shadowing a method)."""


def trim(text: str) -> str:
    """``String.prototype.trim``: ECMAScript's white space and line terminators, not ``str.strip``'s set (which
    adds \\x1c-\\x1f and \\x85 and leaves U+FEFF)."""
    return text.strip(JS_WHITESPACE)


def json_number(value: float) -> Union[int, float]:
    """A number as ``JSON.stringify`` writes it: ``120``, not Python's ``120.0`` (from 1e21 on both write 1e+21)."""
    return int(value) if float(value).is_integer() and abs(value) < 1e21 else value


def truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value (``undefined`` is None as well)."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == value and value != 0
    return True


def first_truthy(mapping: Any, *keys: str) -> Any:
    """``obj.a || obj.b || ...`` on a JSON value: the first truthy property, else None."""
    if not isinstance(mapping, dict):
        return None
    for key in keys:
        if truthy(mapping.get(key)):
            return mapping[key]
    return None


def number_to_string(value: float) -> str:
    """``String(n)`` for a number: the shortest round-trip digits in ECMAScript's Number::toString layout."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp = repr(abs(float(value))).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + (int(exp) if exp else 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if n - 1 >= 0 else "-") + str(abs(n - 1))
    return sign + text


def to_string(value: Any) -> str:
    """``String(value)`` for a JSON value; ``JsTypeError`` where JavaScript throws."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_to_string(float(value)) if isinstance(value, float) or abs(value) >= 2**53 else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if item is None else to_string(item) for item in value)
    if isinstance(value, dict):
        if "toString" in value:  # a data property shadows Object.prototype.toString and is not callable
            raise JsTypeError("Cannot convert object to primitive value")
        return "[object Object]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def string_to_number(text: str) -> float:
    """``Number(text)``: blanks stripped, empty is 0, decimal, ``0x``/``0o``/``0b``, ``Infinity``; else NaN."""
    text = trim(text)
    if not text:
        return 0.0
    if text.lstrip("+-") == "Infinity" and len(text) - len(text.lstrip("+-")) <= 1:
        return -math.inf if text[0] == "-" else math.inf
    radix = _RADIX.match(text)
    if radix:
        try:
            return float(int(radix.group(2), _RADIX_BASE[radix.group(1).lower()]))
        except (ValueError, OverflowError):
            return math.nan if radix.group(1).lower() != "x" else math.inf
    if _DECIMAL.match(text):
        return float(text)
    return math.nan


def to_number(value: Any) -> float:
    """``Number(value)`` for a JSON value; ``JsTypeError`` where JavaScript throws."""
    if value is None:
        return 0.0
    if value is True or value is False:
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        return string_to_number(value)
    return string_to_number(to_string(value))  # an array joins; an object is "[object Object]": NaN


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date, any year (month 1-12, day may overflow)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 + day - 1


def _civil_from_days(days: int) -> tuple[int, int, int]:
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def time_clip(ms: float) -> Optional[int]:
    """ECMAScript's TimeClip: whole milliseconds toward zero, None outside the Date range."""
    if ms != ms or abs(ms) > MAX_TIME_MS:
        return None
    return int(ms)


def _local_offset_ms(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """The local zone's UTC offset for a wall-clock time (a gap or an overlap read with the earlier offset,
    as ECMAScript's LocalTime does: PEP 495's ``fold=0``); years outside Python's range use the nearest one."""
    clamped = min(max(year, 2), 9998)
    try:
        wall = datetime(clamped, month, 1) + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second)
        utc_seconds = wall.timestamp()
    except (OverflowError, OSError, ValueError):
        return 0
    naive_utc = (wall - datetime(1970, 1, 1)).total_seconds()
    return int(round((naive_utc - utc_seconds) * 1000))


def parse_date(value: Any) -> Optional[int]:
    """``new Date(value)`` for a string or a number, as epoch milliseconds; None for an invalid date (and for
    the forms V8 reads only by its free-form fallback)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return time_clip(to_number(value))
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if not match:
        return None
    year_text = match["y"]
    if year_text == "-000000":
        return None
    year, month, day = int(year_text), int(match["mo"] or 1), int(match["d"] or 1)
    hour, minute = int(match["h"] or 0), int(match["mi"] or 0)
    second, fraction = int(match["s"] or 0), int((match["f"] or "0")[:3].ljust(3, "0"))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute <= 59 and second <= 59):
        return None
    if hour == 24 and (minute or second or fraction):
        return None
    if match["sep"] == " " and not (match["d"] and len(year_text) == 4 and year >= 100):
        return None  # V8's free-form fallback: other spaced forms read years 0-99 as 19xx/20xx and more
    ms = (_days_from_civil(year, month, day) * MS_PER_DAY) + ((hour * 60 + minute) * 60 + second) * 1000 + fraction
    zone = match["z"]
    if zone and zone in "Zz":
        offset = 0
    elif zone:
        zh, zm = int(zone[1:3]), int(zone[-2:])
        if zh > 23 or zm > 59:
            return None
        offset = (zh * 60 + zm) * 60_000 * (1 if zone[0] == "+" else -1)
    elif match["h"] is None:
        offset = 0  # a date-only form is UTC
    else:
        offset = _local_offset_ms(year, month, day, hour, minute, second)
    return time_clip(ms - offset)


def iso(ms: int) -> str:
    """``Date.prototype.toISOString``: ``2026-05-12T10:00:00.000Z``, years outside 0-9999 as ``±YYYYYY``."""
    days, rest = divmod(ms, MS_PER_DAY)
    year, month, day = _civil_from_days(days)
    seconds, millis = divmod(rest, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    year_text = f"{year:04d}" if 0 <= year <= 9999 else f"{'+' if year > 0 else '-'}{abs(year):06d}"
    return f"{year_text}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"
