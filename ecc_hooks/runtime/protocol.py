"""The runtime's wire format: requests and replies (``runtime.records``) as JSON with a version, and back.

One request per connection to ``$ECC_HOOKS_HOME/supervisor.sock``: the client sends an envelope
``{"v": VERSION, "request": {"verb": ..., ...fields}, "context": {"cwd", "env", "umask"}}`` and shuts down its
writing side; the supervisor's helper answers ``{"v": VERSION, "reply": {...}}``, or ``{"v": VERSION, "declined":
WHY}`` when it ran nothing (the client then runs the request itself: see ``runtime.client``). A peer speaking
another version is declined, never half understood.

Decoding is strict and generic: every field is checked against its record's annotation (str, int, float, bool,
None, lists, string-keyed dicts, nested records); an unknown verb, an unknown or missing field, or a value of the
wrong type is a ``ProtocolError`` naming where. No I/O here.
"""

from __future__ import annotations

import dataclasses
import json
import types
from typing import Any, Optional, Union, get_args, get_origin, get_type_hints

from ecc_hooks.runtime import records as rec

VERSION = 1
CAP = 4 << 20  # bytes of one encoded request or reply
JSON_DEPTH = 64  # nesting accepted inside an Any field


class ProtocolError(ValueError):
    """Bytes that are not a request or a reply of this version."""


@dataclasses.dataclass(frozen=True)
class Context:
    """The caller's context a request runs in: its folder, its environment, its umask."""

    cwd: str
    env: dict[str, str]
    umask: int = 0o022


# ---------------------------------------------------------------------------- records <-> JSON values


def to_json(record: Any) -> dict[str, Any]:
    """A record as JSON values (a request gets its ``verb``)."""
    out = {f.name: _value(getattr(record, f.name)) for f in dataclasses.fields(record)}
    verb = getattr(type(record), "verb", None)
    if isinstance(verb, str):
        out = {"verb": verb, **out}
    return out


def _value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return value


def from_json(kind: type[Any], data: Any, where: str = "") -> Any:
    """``data`` as a ``kind`` record, every field checked (ProtocolError naming the first bad place)."""
    return _build(kind, data, where or kind.__name__)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(kind: type[Any]) -> dict[str, Any]:
    if kind not in _HINTS:
        _HINTS[kind] = get_type_hints(kind)
    return _HINTS[kind]


def _build(kind: Any, data: Any, where: str) -> Any:
    origin = get_origin(kind)
    if kind is Any:
        _check_json(data, where, 0)
        return data
    if origin is Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        options = get_args(kind)
        if data is None and type(None) in options:
            return None
        others = [o for o in options if o is not type(None)]
        if len(others) != 1:
            raise ProtocolError(f"{where}: an ambiguous field")
        return _build(others[0], data, where)
    if origin is list:
        if not isinstance(data, list):
            raise ProtocolError(f"{where}: a list expected")
        (item,) = get_args(kind)
        return [_build(item, v, f"{where}[{n}]") for n, v in enumerate(data)]
    if origin is dict:
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise ProtocolError(f"{where}: an object expected")
        _key, item = get_args(kind)
        return {k: _build(item, v, f"{where}.{k}") for k, v in data.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _record(kind, data, where)
    if kind is bool:
        if not isinstance(data, bool):
            raise ProtocolError(f"{where}: true or false expected")
        return data
    if kind is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise ProtocolError(f"{where}: an integer expected")
        return data
    if kind is float:
        if (
            not isinstance(data, (int, float))
            or isinstance(data, bool)
            or data != data
            or data
            in (
                float("inf"),
                float("-inf"),
            )
        ):
            raise ProtocolError(f"{where}: a number expected")
        return float(data)
    if kind is str:
        if not isinstance(data, str):
            raise ProtocolError(f"{where}: a string expected")
        return data
    raise ProtocolError(f"{where}: a field of a type the protocol does not carry")  # pragma: no cover


def _record(kind: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProtocolError(f"{where}: an object expected")
    hints = _hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    extra = set(data) - set(fields) - {"verb"}
    if extra:
        raise ProtocolError(f"{where}: unknown field {sorted(extra)[0]!r}")
    values = {}
    for name, spec in fields.items():
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ProtocolError(f"{where}: {name!r} missing")
            continue
        values[name] = _build(hints[name], data[name], f"{where}.{name}")
    return kind(**values)


def _check_json(data: Any, where: str, depth: int) -> None:
    """A value of an ``Any`` field: JSON values only, nested at most ``JSON_DEPTH``."""
    if depth > JSON_DEPTH:
        raise ProtocolError(f"{where}: nested too deep")
    if data is None or isinstance(data, (str, bool, int)):
        return
    if isinstance(data, float):
        if data != data or data in (float("inf"), float("-inf")):
            raise ProtocolError(f"{where}: not a JSON number")
        return
    if isinstance(data, list):
        for v in data:
            _check_json(v, where, depth + 1)
        return
    if isinstance(data, dict) and all(isinstance(k, str) for k in data):
        for v in data.values():
            _check_json(v, where, depth + 1)
        return
    raise ProtocolError(f"{where}: not a JSON value")


# ---------------------------------------------------------------------------- requests


def request_json(request: Any) -> dict[str, Any]:
    return to_json(request)


def request_from_json(data: Any) -> Any:
    """A request record from its JSON form (``{"verb": ..., fields}``)."""
    if not isinstance(data, dict) or not isinstance(data.get("verb"), str):
        raise ProtocolError("request: no verb")
    kind = rec.REQUESTS.get(data["verb"])
    if kind is None:
        raise ProtocolError(f"request: unknown verb {data['verb'][:40]!r}")
    return from_json(kind, data, f"request {data['verb']}")


def encode_request(request: Any, context: Context) -> bytes:
    envelope = {"v": VERSION, "request": request_json(request), "context": to_json(context)}
    return _dump(envelope)


def decode_request(data: bytes) -> tuple[Any, Context]:
    """(request, context) from an envelope; ProtocolError for anything else, another version included."""
    envelope = _load(data)
    if envelope.get("v") != VERSION:
        raise VersionMismatch(envelope.get("v"))
    context = from_json(Context, envelope.get("context"), "context")
    if not 0 <= context.umask <= 0o777:
        raise ProtocolError("context.umask: out of range")
    return request_from_json(envelope.get("request")), context


class VersionMismatch(ProtocolError):
    def __init__(self, version: Any) -> None:
        super().__init__(f"protocol version {version!r}, not {VERSION}")
        self.version = version


# ---------------------------------------------------------------------------- replies


def reply_json(reply: rec.Reply) -> dict[str, Any]:
    return to_json(reply)


def reply_from_json(data: Any) -> rec.Reply:
    if not isinstance(data, dict) or not isinstance(data.get("verb"), str):
        raise ProtocolError("reply: no verb")
    kind = rec.DATA.get(data["verb"])
    if kind is None:
        raise ProtocolError(f"reply: unknown verb {data['verb'][:40]!r}")
    plain = {k: v for k, v in data.items() if k != "data"}
    reply: rec.Reply = from_json(rec.Reply, plain, f"reply {data['verb']}")
    if data.get("data") is not None:
        reply = dataclasses.replace(reply, data=from_json(kind, data["data"], f"reply {data['verb']}.data"))
    return reply


def encode_reply(reply: rec.Reply) -> bytes:
    return _dump({"v": VERSION, "reply": reply_json(reply)})


def encode_declined(why: str) -> bytes:
    return _dump({"v": VERSION, "declined": why})


def decode_reply(data: bytes) -> Optional[rec.Reply]:
    """The reply in an answer; None when the helper declined (it ran nothing); ProtocolError otherwise."""
    envelope = _load(data)
    if "declined" in envelope:
        return None
    if envelope.get("v") != VERSION:
        raise VersionMismatch(envelope.get("v"))
    return reply_from_json(envelope.get("reply"))


def _dump(value: Any) -> bytes:
    data = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(data) > CAP:
        raise ProtocolError(f"a message of {len(data)} bytes (at most {CAP})")
    return data


def _load(data: bytes) -> dict[str, Any]:
    if len(data) > CAP:
        raise ProtocolError(f"a message of {len(data)} bytes (at most {CAP})")
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(value, dict):
        raise ProtocolError("not an envelope")
    return value
