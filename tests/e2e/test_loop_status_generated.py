"""loop-status against ECC's own ``scripts/loop-status.js`` on generated transcripts and HOME trees, field by field.

Hypothesis builds Claude Code transcripts in every shape ECC's ``analyzeTranscript`` reads (tool calls and
results in content blocks, top-level ``tool_use``/``toolResult`` and whole ``tool_use`` lines; ScheduleWakeup
delays under any of ECC's keys, as numbers or text; times in every form, in any of the four places, or none;
session ids in their four places; JSON that is not an object, torn lines, binary, CRLF, unicode) and HOME trees
(subfolders at any depth, links, ``.jsonl`` folders, equal modification times, any ``--limit``). ECC's
``buildStatus`` runs in the pinned ecc-universal through the ``ecc_oracle`` fixture, ours in-process, under the
same ``TZ`` and ``--now``; the two documents must be equal except where
``tests/fixtures/ecc-parity/loop-status-deviations.json`` says why not (the strategies leave out the shapes
listed there; each listed deviation has a probe that must still show it).

CI runs a modest fixed-seed count; the long run: ``ECC_PARITY_EXAMPLES=5000 pytest
tests/e2e/test_loop_status_generated.py`` (see tests/e2e/README.md).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ecc_hooks.cli import loop_status
from ecc_hooks.core import jsvalues
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact_strings
from ecc_hooks.core.text import dump_json
from tests.e2e.ecc_oracle import EccError, EccOracle
from tests.helpers import REPO

pytestmark = pytest.mark.e2e

SCRIPT = "scripts/loop-status.js"
DEVIATIONS = json.loads((REPO / "tests" / "fixtures" / "ecc-parity" / "loop-status-deviations.json").read_text())
EXAMPLES = int(os.environ.get("ECC_PARITY_EXAMPLES", "120"))
BASE = 1_778_580_000_000  # 2026-05-12T10:00:00Z
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe", "Europe/Berlin"]
IDS = ["toolu_a", "toolu_b", "toolu_c", "tøølu_ü", ""]
SESSION_IDS = ["sess-a", "sess-b", "", "séance-☃"]


def generated(fn: Any) -> Any:
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )(fn)


# ---------------------------------------------------------------------------- strategies: times


def _fields(ms: int) -> dict[str, str]:
    text = jsvalues.iso(ms)
    return {"date": text[:10], "time": text[11:19], "ms": text[20:23], "year": text[:4], "month": text[:7]}


@st.composite
def times(draw: st.DrawFn) -> Any:
    """A time in one of the forms ECC's ``new Date`` reads (or fails to): ISO with Z, an offset or no zone,
    date-only, a space for T, any fraction digits, 24:00, a day past the month's end, expanded years, epoch
    milliseconds; and values that are no time at all."""
    ms = BASE + draw(st.integers(-12_000_000, 12_000_000))
    f = _fields(ms)
    form = draw(st.integers(0, 21))
    offset = f"{draw(st.sampled_from('+-'))}{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
    frac = "." + draw(st.text("0123456789", min_size=1, max_size=9)) if draw(st.booleans()) else ""
    return [
        jsvalues.iso(ms),
        jsvalues.iso(ms).replace("T", "t").replace("Z", "z"),
        f"{f['date']}T{f['time']}{frac}{offset}",
        f"{f['date']}T{f['time']}{frac}{offset.replace(':', '')}",
        f"{f['date']}T{f['time']}{frac}",  # no zone: local time
        f"{f['date']} {f['time']}{frac}",
        f"{f['date']} {f['time']}Z",
        f"{f['date']}T{f['time'][:5]}",
        f["date"],
        f["month"],
        f["year"],
        f"{f['date']}T24:00" + draw(st.sampled_from(["", ":00", ":00.000", "Z", ":01"])),
        f"{f['year']}-02-{draw(st.integers(28, 32)):02d}T{f['time']}Z",
        "+00" + jsvalues.iso(ms),
        ms,
        ms + draw(st.floats(-0.999, 0.999, allow_nan=False)),
        str(ms),
        draw(
            st.sampled_from(
                [True, False, None, "", "soon", "2026-13-01T00:00:00Z", "2026-05-12T10:60:00Z", 8.64e15 + 1]
            )
        ),
        draw(st.text(st.characters(exclude_categories=["Nd", "Cs"]), max_size=12)),  # no digits: no V8 guess
        f"{f['date']}T{f['time']}{draw(st.sampled_from(['+02', '+24:00', 'ZZ', ' ']))}",
        -62198755200000 + draw(st.integers(0, 10**10)),  # year -1 and year 0
        draw(st.integers(-(10**16), 10**16)),
    ][form]


# ---------------------------------------------------------------------------- strategies: lines

TIME_KEYS = ["timestamp", "createdAt", "created_at", "message.timestamp"]
DELAY_KEYS = list(loop_status.DELAY_KEYS)


@st.composite
def delay_values(draw: st.DrawFn) -> Any:
    """Delays the runtime would not clamp (listed: ours clamp to [60, 3600]), and values that are no delay."""
    seconds = draw(st.integers(60, 3600))
    if draw(st.booleans()):
        return seconds
    return draw(
        st.sampled_from([
            seconds, float(seconds) + draw(st.sampled_from([0.0, 0.5, 0.25])) if seconds < 3600 else float(seconds),
            str(seconds), f" {seconds} ", hex(seconds), f"{seconds}e0", f"+{seconds}", [seconds], [str(seconds)],
            "soon", "12abc", "Infinity", "-Infinity", None, False, "", {}, {"a": 1}, [1, 2], "1_000", "NaN",
        ])
    )  # fmt: skip


@st.composite
def tool_inputs(draw: st.DrawFn, name: Any) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, "text", 5, [1], [], True, 0, ""]))
    inp: dict[str, Any] = {}
    if name == "ScheduleWakeup":
        for key in draw(
            st.lists(st.sampled_from(DELAY_KEYS), min_size=draw(st.sampled_from([0, 1, 1])), max_size=3, unique=True)
        ):
            inp[key] = draw(delay_values())
        if draw(st.booleans()):
            inp["reason"] = draw(st.one_of(st.text(max_size=20), st.integers(-5, 5), st.just([1, "a"]), st.none()))
        if draw(st.integers(0, 4)) == 0:
            inp["stop"] = False  # listed: stop: true ends the loop for us
        inp["prompt"] = "/loop check CI"
    if draw(st.integers(0, 2)) > 0:
        inp["command"] = draw(
            st.one_of(
                st.text(max_size=30),
                st.integers(-3, 10**6),
                st.floats(allow_nan=False, allow_infinity=False),
                st.lists(st.one_of(st.integers(0, 9), st.text(max_size=3), st.none()), max_size=3),
                st.just({"a": 1}),
                st.booleans(),
            )
        )
    return inp


def _put(line: dict[str, Any], key: str, value: Any) -> None:
    if key.startswith("message."):
        message = line.setdefault("message", {})
        if isinstance(message, dict):
            message[key.split(".", 1)[1]] = value
    else:
        line[key] = value


@st.composite
def json_lines(draw: st.DrawFn) -> dict[str, Any]:
    """One transcript line as ECC may meet it: a call, a result, words, or nothing it reads, with its time(s),
    session id, type and role anywhere ECC looks."""
    line: dict[str, Any] = {}
    kind = draw(st.sampled_from(["call", "call", "call", "result", "result", "text", "prompt", "other"]))
    line_type = draw(st.sampled_from(["assistant", "user", None, "progress", "system"]))
    if line_type:
        line["type"] = line_type
    role = draw(st.sampled_from(["assistant", "user", None]))
    if role or draw(st.booleans()):
        line["message"] = {"role": role} if role else {}
    for key in draw(st.lists(st.sampled_from(TIME_KEYS), max_size=3, unique=True)):
        _put(line, key, draw(times()))
    where = draw(st.sampled_from(["sessionId", "session_id", "session.id", "message.sessionId", None, None]))
    if where == "session.id":
        line["session"] = {"id": draw(st.sampled_from(SESSION_IDS))}
    elif where:
        _put(line, where, draw(st.sampled_from(SESSION_IDS)))
    if kind == "call":
        name = draw(
            st.sampled_from(
                ["Bash", "Bash", "Bash", "ScheduleWakeup", "ScheduleWakeup", "ScheduleWakeup", "Read", "", None]
            )
        )
        use: dict[str, Any] = {"type": "tool_use", "id": draw(st.sampled_from(IDS))}
        if name is not None:
            use["name"] = name
        inp = draw(tool_inputs(name))
        if inp is not None or draw(st.booleans()):
            use["input"] = inp
        place = draw(st.sampled_from(["message.content", "message.content", "content", "tool_use", "toolUse", "line"]))
        if place == "line":
            line.update(use)
        elif place in ("tool_use", "toolUse"):
            line[place] = {k: v for k, v in use.items() if k != "type"}
        else:
            _put(
                line,
                place,
                [draw(st.sampled_from([{"type": "text", "text": "x"}, "str", None, 5]))] * draw(st.integers(0, 1))
                + [use],
            )
    elif kind == "result":
        key = draw(st.sampled_from(["tool_use_id", "toolUseId", "id"]))
        result = {"type": "tool_result", key: draw(st.sampled_from(IDS)), "content": "done"}
        place = draw(
            st.sampled_from(
                ["message.content", "message.content", "content", "tool_result", "toolResult", "toolUseResult", "line"]
            )
        )
        if place == "line":
            line.update(result)
        elif place in ("tool_result", "toolResult", "toolUseResult"):
            line[place] = draw(st.sampled_from([result, {"stdout": "", "stderr": ""}, "text"]))
        else:
            _put(line, place, [result])
    elif kind == "text":
        _put(line, "message.content", [{"type": "text", "text": draw(st.text(max_size=20))}])
    elif kind == "prompt":
        _put(line, "message.content", draw(st.text(max_size=20)))
    return line


ODD_LINES = ["123", '"s"', "[1]", "true", "false", "{}", "[]", "1.5e3", "{nope", "not json", "   ", "", "\t",
             "héllo ☃", '{"a":1', "NaN", "[1,]", '{"a":1}{"b":2}', "\u00a0", "\x0b"]  # fmt: skip


def _not_null(data: bytes) -> bool:
    """Listed: a ``null`` line throws in ECC (the whole transcript lost); a BOM-first line is ours to read."""
    if data.startswith(b"\xef\xbb\xbf"):
        return False
    try:
        return json.loads(data.decode("utf-8", "replace")) is not None
    except ValueError:
        return True


@st.composite
def transcripts(draw: st.DrawFn, max_lines: int = 12) -> bytes:
    """A transcript's bytes: JSON lines, odd lines and binary, joined by LF or CRLF."""
    parts = []
    for _ in range(draw(st.integers(0, max_lines))):
        pick = draw(st.integers(0, 9))
        if pick < 7:
            ascii_only = draw(st.booleans())
            parts.append(json.dumps(draw(json_lines()), ensure_ascii=ascii_only).encode())
        elif pick < 9:
            parts.append(draw(st.sampled_from(ODD_LINES)).encode())
        else:
            parts.append(draw(st.binary(max_size=24).filter(lambda b: b"\n" not in b and _not_null(b))))
        parts.append(draw(st.sampled_from([b"\n", b"\n", b"\r\n"])))
    if parts and draw(st.booleans()):
        parts.pop()  # no final line break
    return b"".join(parts)


settings_options = st.fixed_dictionaries({
    "bash": st.sampled_from([1800, 60, 0.5, 1e9, 900]),
    "grace": st.sampled_from([2, 1, 1.5, 0.25, 3]),
})  # fmt: skip


# ---------------------------------------------------------------------------- the two sides


@pytest.fixture
def local_zone() -> Iterator[Any]:
    """Sets ``TZ`` for our side in-process (and restores it): ECC's side gets the same through the oracle."""
    before = os.environ.get("TZ")

    def use(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def theirs(oracle: EccOracle, options: dict[str, Any], zone: str, home: Path) -> Any:
    """ECC's buildStatus, or ("error", message) when it throws."""
    try:
        return oracle.call(SCRIPT, "buildStatus", [options], env={"TZ": zone, "HOME": str(home)})
    except EccError as exc:
        return ("error", str(exc))


def ours(options: dict[str, Any], home: Path) -> Any:
    """Ours in-process, as the JSON a user reads (strings redacted, as dump_json prints them)."""
    saved = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        now = loop_status.parse_now(options["now"])
        report = loop_status.build_status(
            options.get("transcriptPaths"),
            now,
            home=options.get("home"),
            limit=options.get("limit") or loop_status.DEFAULT_LIMIT,
            bash_threshold=options.get("bashTimeoutSeconds", loop_status.BASH_THRESHOLD_SECONDS),
            wake_grace=options.get("wakeGraceMultiplier", loop_status.WAKE_GRACE),
        )
    except UserError as exc:
        return ("error", str(exc))
    finally:
        os.environ.pop("HOME") if saved is None else os.environ.__setitem__("HOME", saved)
    return json.loads(dump_json(report.model_dump(mode="json")))


def comparable_theirs(doc: Any) -> Any:
    """ECC's document with the listed normalizations: strings redacted, pending tools without their input."""
    if isinstance(doc, tuple):
        return doc
    doc = redact_strings(doc)
    for session in doc["sessions"]:
        for tool in session["pendingTools"]:
            tool.pop("input", None)
    return doc


def comparable_ours(doc: Any) -> Any:
    """Our document without the listed additions (DEVIATIONS["additions"])."""
    if isinstance(doc, tuple):
        return doc
    for session in doc["sessions"]:
        session.pop("actions", None)
        for signal in session["signals"]:
            signal.pop("message", None)
            signal.pop("lines", None)
    for error in doc["errors"]:
        error.pop("error", None)
    return doc


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as paths (numbers by value, 1 and 1.0 alike; booleans are not numbers)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        both_failed = isinstance(a, tuple) and isinstance(b, tuple)
        return [] if both_failed else [f"{path or '.'}: theirs {a!r} ours {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}.{key}: theirs {a.get(key, '<missing>')!r} ours {b.get(key, '<missing>')!r}")
            else:
                out += differences(a[key], b[key], f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: theirs {a!r} ours {b!r}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    same = type(a) is type(b) or (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    )
    return [] if same and a == b else [f"{path}: theirs {a!r} ours {b!r}"]


def compare(oracle: EccOracle, options: dict[str, Any], zone: str, home: Path, local_zone: Any) -> list[str]:
    local_zone(zone)
    ecc = theirs(oracle, options, zone, home)
    _tally(ecc)
    return differences(comparable_theirs(ecc), comparable_ours(ours(options, home)))


def _tally(doc: Any) -> None:
    """What the example exercised (``--hypothesis-show-statistics``): ECC's own findings."""
    if isinstance(doc, tuple):
        event("ECC threw")
        return
    event(f"sessions: {min(len(doc['sessions']), 3)}")
    for session in doc["sessions"]:
        for signal in session["signals"]:
            event(f"signal {signal['type']}")
        event("a wake-up" if session["latestWake"] else "no wake-up")
        event(f"pending tools: {min(len(session['pendingTools']), 2)}")
        event("a time" if session["lastEventAt"] else "no time")


# ---------------------------------------------------------------------------- the suites


@generated
@given(
    data=transcripts(),
    zone=st.sampled_from(ZONES),
    now=st.one_of(st.none(), st.none(), times().filter(lambda t: isinstance(t, str) and t not in ("", "now"))),
    offset=st.integers(-5_000_000, 20_000_000),
    opts=settings_options,
)
def test_generated_transcripts_read_as_ecc_reads_them(
    ecc_oracle: EccOracle, local_zone: Any, data: bytes, zone: str, now: Any, offset: int, opts: dict[str, Any]
) -> None:
    """One transcript, ECC's buildStatus vs ours field by field (``--now`` either a time form or near the lines)."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / "-work-repo" / "s1.jsonl"
        path.parent.mkdir()
        path.write_bytes(data)
        now_text = now if now is not None else str(BASE + offset)
        options = {"transcriptPaths": [str(path)], "now": now_text, "bashTimeoutSeconds": opts["bash"],
                   "wakeGraceMultiplier": opts["grace"]}  # fmt: skip
        diff = compare(ecc_oracle, options, zone, home, local_zone)
    assert not diff, "differences from ECC's loop-status.js not in loop-status-deviations.json:\n" + "\n".join(diff)


NAMES = ["a", "B", "b", "z", "é", "agent-1", "s.jsonl", "0"]


@st.composite
def home_trees(draw: st.DrawFn) -> list[tuple[str, str, Any]]:
    """(kind, relative path, content or target): transcripts at any depth, other files, links, ``.jsonl`` folders."""
    entries = []
    for _ in range(draw(st.integers(0, 14))):
        depth = draw(st.integers(0, 4))
        folders = [draw(st.sampled_from(NAMES)) for _ in range(depth)]
        if depth >= 2 and draw(st.booleans()):
            folders[1] = "subagents"
        name = draw(st.sampled_from(NAMES)).removesuffix(".jsonl") + draw(
            st.sampled_from([".jsonl", ".jsonl", ".json", ".jsonl.bak"])
        )
        rel = "/".join(["-proj-" + draw(st.sampled_from("xyz")), *folders, name])
        kind = draw(st.sampled_from(["file", "file", "file", "file", "link", "dirlink"]))
        entries.append((kind, rel, draw(transcripts(max_lines=4)) if kind == "file" else draw(st.integers(0, 5))))
    return entries


def build_tree(root: Path, entries: list[tuple[str, str, Any]], mtimes: list[int]) -> None:
    made: list[Path] = []
    for i, (kind, rel, content) in enumerate(entries):
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                path.write_bytes(content)
                os.utime(path, ns=(mtimes[i % len(mtimes)], mtimes[i % len(mtimes)]))
                made.append(path)
            elif made:
                target = made[content % len(made)]
                path.symlink_to(target if kind == "link" else target.parent)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a name already taken by a file or a folder: the tree keeps the first


@generated
@given(
    entries=home_trees(),
    mtimes=st.lists(st.integers(10**18, 10**18 + 3 * 10**9), min_size=1, max_size=4),
    limit=st.one_of(st.none(), st.integers(1, 15)),
    zone=st.sampled_from(ZONES),
    offset=st.integers(-5_000_000, 20_000_000),
)
def test_generated_home_trees_scan_as_ecc_scans_them(
    ecc_oracle: EccOracle,
    local_zone: Any,
    entries: list[tuple[str, str, Any]],
    mtimes: list[int],
    limit: Any,
    zone: str,
    offset: int,
) -> None:
    """The HOME scan: which transcripts, in which order, with what ``source`` (ECC's buildStatus with ``home``)."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_tree(home / ".claude" / "projects", entries, mtimes)
        options: dict[str, Any] = {"home": str(home), "now": str(BASE + offset)}
        if limit is not None:
            options["limit"] = limit
        diff = compare(ecc_oracle, options, zone, Path(tmp), local_zone)
    assert not diff, "differences from ECC's loop-status.js not in loop-status-deviations.json:\n" + "\n".join(diff)


# ---------------------------------------------------------------------------- the listed deviations


def _probe(oracle: EccOracle, probe: dict[str, Any], local_zone: Any) -> list[str]:
    """Run one listed deviation's probe through both: the raw differences (no normalization but the additions)."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        files = probe.get("files") or {"-work/s1.jsonl": probe["lines"]}
        for rel, lines in files.items():
            path = home / ".claude" / "projects" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(
                probe.get("prefix", "").encode() + "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n"
            )
        env = {key: value.replace("{home}", str(home)) for key, value in probe.get("env", {}).items()}
        options: dict[str, Any] = {"now": probe["now"], **probe.get("options", {})}
        if "files" not in probe:
            options["transcriptPaths"] = [str(home / ".claude" / "projects" / "-work" / "s1.jsonl")]
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            local_zone(probe.get("tz", "UTC"))
            mine = comparable_ours(ours(options, home))
            raw = theirs(oracle, options, probe.get("tz", "UTC"), home)
        finally:
            for key, value in saved.items():
                os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        normalized = raw if probe.get("raw") else comparable_theirs(raw)
        return [d.replace(str(home), "{home}") for d in differences(normalized, mine)]


@pytest.mark.parametrize("entry", DEVIATIONS["deviations"], ids=[d["id"] for d in DEVIATIONS["deviations"]])
def test_every_listed_deviation_is_still_seen(ecc_oracle: EccOracle, local_zone: Any, entry: dict[str, Any]) -> None:
    """A deviation no longer seen must leave the list (and the strategies must then generate its shape)."""
    diff = _probe(ecc_oracle, entry["probe"], local_zone)
    assert any(d.startswith(entry["path"] + ":") for d in diff), f"{entry['id']} no longer seen: {diff}"
    unlisted = [d for d in diff if not any(d.startswith(p + ":") for p in entry.get("also", []) + [entry["path"]])]
    assert not unlisted, f"{entry['id']}'s probe shows more than it lists: {unlisted}"


# ---------------------------------------------------------------------------- issue 25 item 9, shape by shape


def _use(tool_id: str, name: str, inp: dict[str, Any], at: Any, **line: Any) -> str:
    block = {"type": "tool_use", "id": tool_id, "name": name, "input": inp}
    body = {"type": "assistant", "message": {"role": "assistant", "content": [block]}, **line}
    return json.dumps({**body, "timestamp": at} if at is not None else body)


def _said(at: Any, **line: Any) -> str:
    return json.dumps(
        {"timestamp": at, "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]}, **line}
    )


T = "2026-05-12T10:00:00.000Z"
ITEM_9 = {
    "naive times are local": ([_use("b", "Bash", {"command": "make"}, "2026-05-12T10:00:00")], "2026-05-12T14:29:00Z", "America/New_York"),
    "naive --now is local": ([_use("b", "Bash", {"command": "make"}, T)], "2026-05-12T06:31:00", "America/New_York"),
    "the overdue boundary is >=": ([_use("w", "ScheduleWakeup", {"delaySeconds": 60}, T)], "2026-05-12T10:02:00.000Z", "UTC"),
    "delay as text": ([_use("w", "ScheduleWakeup", {"delaySeconds": "120"}, T)], "2026-05-12T10:04:00.000Z", "UTC"),
    "delay_seconds": ([_use("w", "ScheduleWakeup", {"delay_seconds": 90, "reason": "poll"}, T)], "2026-05-12T10:03:00.000Z", "UTC"),
    "epoch-ms times": ([_use("b", "Bash", {"command": "x"}, BASE)], str(BASE + 1800 * 1000), "UTC"),
    "createdAt only": ([json.dumps({"createdAt": T, "type": "assistant", "content": [{"type": "tool_use", "id": "b", "name": "Bash", "input": {}}]})], "2026-05-12T11:00:00Z", "UTC"),
    "toolUseId": ([_use("b", "Bash", {}, T), json.dumps({"type": "user", "timestamp": T, "message": {"content": [{"type": "tool_result", "toolUseId": "b"}]}})], "2026-05-12T11:00:00Z", "UTC"),
    "session_id": ([json.dumps({"session_id": "s-9", "timestamp": T})], "2026-05-12T11:00:00Z", "UTC"),
    "tool_use in a user line": ([json.dumps({"type": "user", "timestamp": T, "message": {"role": "user", "content": [{"type": "tool_use", "id": "b", "name": "Bash", "input": {}}]}})], "2026-05-12T11:00:00Z", "UTC"),
    "a repeated id keeps the latest": ([_use("d", "Bash", {"command": "a"}, T), _use("d", "Read", {}, "2026-05-12T10:30:00Z")], "2026-05-12T11:00:00Z", "UTC"),
    "a line without a time": ([_said(T), json.dumps({"type": "assistant", "message": {"content": [{"type": "tool_use", "id": "b", "name": "Bash", "input": {}}]}})], "2026-05-12T11:00:00Z", "UTC"),
    "an assistant line without type": ([_use("w", "ScheduleWakeup", {"delaySeconds": 60}, T), _said("2026-05-12T10:01:30Z")], "2026-05-12T11:00:00Z", "UTC"),
    "JSON that is not an object": (["123", '"s"', "[1]", "true", _said(T)], "2026-05-12T11:00:00Z", "UTC"),
    "the last line's sessionId": ([_said(T, sessionId="first"), _said(T, sessionId="last")], "2026-05-12T11:00:00Z", "UTC"),
    "whole seconds": ([_use("b", "Bash", {}, "2026-05-12T10:00:00.750Z")], "2026-05-12T10:30:00.500Z", "UTC"),
}  # fmt: skip


@pytest.mark.parametrize("shape", list(ITEM_9))
def test_each_shape_of_item_9_reads_as_ecc_reads_it(ecc_oracle: EccOracle, local_zone: Any, shape: str) -> None:
    lines, now, zone = ITEM_9[shape]
    assert not _probe(ecc_oracle, {"lines": lines, "now": now, "tz": zone}, local_zone)
