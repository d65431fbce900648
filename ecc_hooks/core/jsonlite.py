"""JSON for the hot path without the ``json`` package.

``import json`` costs a hook process about 8 ms of its 12: ``json.decoder`` imports ``re``, and ``re``
imports ``enum``, ``functools`` and ``collections``. The parsing and the encoding are done by the C
accelerator ``_json`` either way; this module calls it directly, with ``json``'s own semantics (strict
strings, ``float``/``int`` numbers, compact separators, no NaN on output). Only an error path imports
``json`` (``_json`` raises ``json.JSONDecodeError``). ``_json`` is part of every CPython build we support.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False  # not typing's: importing typing costs a hot-path process four modules
if TYPE_CHECKING:  # typing and collections.abc cost a hot-path process five modules at run time
    from collections.abc import Callable
    from typing import Any, Optional

_WS = " \t\n\r"


class _Context:
    """The attributes ``_json.make_scanner`` reads from a ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    def __init__(self, parse_constant: Callable[[str], Any]) -> None:
        self.parse_constant = parse_constant


def _constant(name: str) -> float:
    return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def _fail(message: str, doc: str, pos: int) -> ValueError:
    import json  # an error: the cost no longer matters, json's error type does

    return json.JSONDecodeError(message, doc, pos)


def loads(data: bytes | str, parse_constant: Optional[Callable[[str], Any]] = None) -> Any:
    """``json.loads(data, parse_constant=...)``: one JSON document (UTF-8 bytes or text), whitespace around it.

    Raises ValueError (``json.JSONDecodeError``) on anything that is not exactly one JSON value, and
    RecursionError on nesting deeper than the interpreter's limit, as ``json.loads`` does.
    """
    # as json.loads(bytes): UTF-8 (a BOM skipped), lone surrogates passed through for the caller to judge
    # (not the utf-8-sig codec: that is one more module to load)
    if isinstance(data, (bytes, bytearray)):
        text = data[3 if data[:3] == b"\xef\xbb\xbf" else 0 :].decode("utf-8", "surrogatepass")
    else:
        text = data
    scan = _json.make_scanner(_Context(parse_constant or _constant))  # type: ignore[arg-type]  # duck-typed
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = scan(text, start)
    except StopIteration as exc:
        raise _fail("Expecting value", text, exc.value) from None
    except SystemError:
        # _json reports a malformed document through json.decoder's error type, found only once json.decoder
        # is loaded (before that: a SystemError). Load it and let json give the error.
        import json

        return json.loads(text, parse_constant=parse_constant or _constant)
    rest = len(text) - len(text.rstrip(_WS))
    if end != len(text) - rest:
        raise _fail("Extra data", text, end)
    return value


def dumps(value: Any, *, ensure_ascii: bool = False) -> str:
    """``json.dumps(value, ensure_ascii=..., separators=(",", ":"), allow_nan=False)``."""

    def default(obj: object) -> Any:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    escape = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    encoder = _json.make_encoder({}, default, escape, None, ":", ",", False, False, False)
    chunks: tuple[str, ...] = encoder(value, 0)
    return "".join(chunks)
