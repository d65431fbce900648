"""The runtime's wire format (``runtime.protocol``): every request and every reply survives encoding, and any
bytes at all either decode to a record of this version or fail with ``ProtocolError`` (never another exception,
never a half-checked record)."""

from __future__ import annotations

import dataclasses
import json
import socket
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.runtime import protocol, server
from ecc_hooks.runtime import records as rec

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def strategy(kind: Any) -> st.SearchStrategy[Any]:
    """Values of a record field's annotation (records nested, Any as JSON)."""
    origin = get_origin(kind)
    if kind is Any:
        return JSON
    if origin is Union:
        return st.one_of(*(strategy(option) for option in get_args(kind)))
    if kind is type(None):
        return st.none()
    if origin is list:
        return st.lists(strategy(get_args(kind)[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=8), strategy(get_args(kind)[1]), max_size=3)
    if dataclasses.is_dataclass(kind):
        return records(kind)
    return {
        str: st.text(),
        int: st.integers(),
        bool: st.booleans(),
        float: st.floats(allow_nan=False, allow_infinity=False),
    }[kind]


def records(kind: type[Any]) -> st.SearchStrategy[Any]:
    hints = get_type_hints(kind)
    return st.builds(kind, **{f.name: strategy(hints[f.name]) for f in dataclasses.fields(kind)})


ANY_REQUEST = st.one_of(*(records(kind) for kind in rec.REQUESTS.values()))


def replies() -> st.SearchStrategy[rec.Reply]:
    verbs = sorted(rec.DATA)

    def build(verb: str) -> st.SearchStrategy[rec.Reply]:
        refusal = st.builds(rec.Refusal, st.text(), st.text(), st.none() | ANY_REQUEST.map(protocol.request_json))
        return st.builds(
            rec.Reply,
            st.just(verb),
            st.none() | records(rec.DATA[verb]),
            st.none() | refusal,
            st.lists(st.text(), max_size=3),
            st.lists(st.text(), max_size=3),
        )

    return st.sampled_from(verbs).flatmap(build)


CONTEXT = st.builds(
    protocol.Context, st.text(), st.dictionaries(st.text(), st.text(), max_size=4), st.integers(0, 0o777)
)


@settings(max_examples=150)
@given(ANY_REQUEST, CONTEXT)
def test_every_request_survives_the_wire(request: Any, context: protocol.Context) -> None:
    assert protocol.decode_request(protocol.encode_request(request, context)) == (request, context)


@settings(max_examples=150)
@given(replies())
def test_every_reply_survives_the_wire(reply: rec.Reply) -> None:
    assert protocol.decode_reply(protocol.encode_reply(reply)) == reply


@settings(max_examples=250)
@given(st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_are_a_request_or_a_protocol_error(data: bytes) -> None:
    try:
        request, context = protocol.decode_request(data)
    except protocol.ProtocolError:
        return
    assert type(request) in rec.REQUESTS.values() and isinstance(context, protocol.Context)


@settings(max_examples=250)
@given(ANY_REQUEST, st.sampled_from(["verb", "field", "type", "extra", "version", "umask"]), JSON)
def test_a_request_tampered_with_is_refused_not_half_read(request: Any, how: str, junk: Any) -> None:
    """Every field is checked against its record: a request changed in any way either still is a whole request
    of this version or is a ProtocolError."""
    envelope = json.loads(protocol.encode_request(request, protocol.Context("/", {}, 0o022)))
    body = envelope["request"]
    names = [f.name for f in dataclasses.fields(request)]
    if how == "verb":
        body["verb"] = junk
    elif how == "field" and names:
        body[names[0]] = junk
    elif how == "type" and names:
        body[names[-1]] = [junk]
    elif how == "extra":
        body["not_a_field"] = junk
    elif how == "version":
        envelope["v"] = junk
    else:
        envelope["context"]["umask"] = junk
    data = json.dumps(envelope).encode()
    try:
        decoded, context = protocol.decode_request(data)
    except protocol.ProtocolError:
        return
    kind = rec.REQUESTS[body["verb"]]
    hints = get_type_hints(kind)
    for name in names:  # what was accepted has the types its record declares
        value = getattr(decoded, name)
        assert _fits(hints[name], value), (name, value)
    assert 0 <= context.umask <= 0o777


def _fits(kind: Any, value: Any) -> bool:
    origin = get_origin(kind)
    if kind is Any:
        return True
    if origin is Union:
        return any(_fits(option, value) for option in get_args(kind))
    if kind is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_fits(get_args(kind)[0], v) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) and _fits(get_args(kind)[1], v)
                                               for k, v in value.items())  # fmt: skip
    if kind is float:
        return isinstance(value, float)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def test_a_missing_field_and_an_unknown_verb_are_named() -> None:
    with pytest.raises(protocol.ProtocolError, match="'session' missing"):
        protocol.request_from_json({"verb": "stop"})
    with pytest.raises(protocol.ProtocolError, match="unknown verb"):
        protocol.request_from_json({"verb": "format-disk"})


def test_a_reply_of_another_version_is_not_read_and_a_decline_is_none() -> None:
    with pytest.raises(protocol.VersionMismatch):
        protocol.decode_reply(json.dumps({"v": protocol.VERSION + 1, "reply": {"verb": "list"}}).encode())
    assert protocol.decode_reply(protocol.encode_declined("context")) is None


@pytest.mark.parametrize("change, why", [("version", "version"), ("verb", "unreadable"), ("field", "unreadable")])
def test_the_helper_declines_what_it_cannot_run_and_forks_nothing(ecc_home: Any, change: str, why: str) -> None:
    """A client of another version, or one that asks for a verb this helper does not know (a newer client while an
    older supervisor still runs), is told so and runs its request itself: nothing is forked for it."""
    envelope = json.loads(protocol.encode_request(rec.Stop("s"), protocol.Context("/", {}, 0o022)))
    if change == "version":
        envelope["v"] = protocol.VERSION + 1
    elif change == "verb":
        envelope["request"]["verb"] = "a-verb-of-tomorrow"
    else:
        envelope["request"]["grace"] = "ten"
    ours, theirs = socket.socketpair()
    with ours:
        ours.sendall(json.dumps(envelope).encode())
        ours.shutdown(socket.SHUT_WR)
        server.handle(theirs)
        assert json.loads(ours.makefile("rb").read()) == {"v": protocol.VERSION, "declined": why}
    assert not server._children


def test_every_verb_has_a_reply_record_and_a_handler() -> None:
    from ecc_hooks.runtime import engine

    assert set(rec.REQUESTS) == set(rec.DATA) == set(engine.HANDLERS)
    assert set(rec.REQUESTS) >= rec.MUTATIONS
