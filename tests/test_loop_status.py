"""loop_status on real transcript files shaped like Claude Code 2.1.328's (see tests/e2e/ and spec section 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks.cli import loop_status
from ecc_hooks.core import jsvalues
from ecc_hooks.core.timestamps import iso
from ecc_hooks.models.loop_status import LoopStatus, LoopStatusIndex, LoopStatusSession
from tests.helpers import REPO

T0 = datetime(2026, 5, 12, 10, 0, 0, tzinfo=timezone.utc)
T0_MS = int(T0.timestamp() * 1000)
SID = "0c65f61e-2b60-4a0b-a867-edb104d8f8a0"


def ts(seconds: float) -> str:
    return iso(T0 + timedelta(seconds=seconds))


def _common(session: str, at: float, parent: str | None) -> dict:
    return {
        "parentUuid": parent,
        "isSidechain": False,
        "uuid": str(uuid.uuid4()),
        "timestamp": ts(at),
        "userType": "external",
        "entrypoint": "cli",
        "cwd": "/home/dev/work",
        "sessionId": session,
        "version": "2.1.328",
        "gitBranch": "main",
    }


def tool_use(tool_id: str, name: str, inp: dict, at: float, session: str = SID, mid: str | None = None) -> dict:
    """An assistant line holding one tool_use block (the real client writes one line per block)."""
    return {
        **_common(session, at, None),
        "type": "assistant",
        "requestId": "req_x",
        "message": {
            "id": mid or f"msg_{tool_id}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": tool_id, "name": name, "input": inp}],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 5,
                "service_tier": "standard",
            },
        },
    }


def tool_result(tool_id: str, at: float, session: str = SID) -> dict:
    return {
        **_common(session, at, None),
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {
                    "tool_use_id": tool_id,
                    "type": "tool_result",
                    "content": "(Bash completed with no output)",
                    "is_error": False,
                }
            ],
        },
        "toolUseResult": {"stdout": "", "stderr": "", "interrupted": False},
    }


def assistant_text(text: str, at: float, session: str = SID) -> dict:
    return {
        **_common(session, at, None),
        "type": "assistant",
        "requestId": "req_y",
        "message": {
            "id": f"msg_t{at}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }


def prompt(text: str, at: float, session: str = SID) -> dict:
    return {**_common(session, at, None), "type": "user", "message": {"role": "user", "content": text}}


def write(path: Path, records: list, tail: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
    path.write_bytes(body + tail)
    return path


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks.loop_status", *args],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def report(*args: str) -> tuple[LoopStatus, int]:
    proc = cli("--json", *args)
    assert proc.returncode in (0, 1, 2), proc.stderr
    return LoopStatus.model_validate_json(proc.stdout.splitlines()[-1]), proc.returncode


def bash_session(tmp_path: Path, with_result: bool) -> Path:
    records = [
        prompt("run the migration", 0),
        tool_use("toolu_01", "Bash", {"command": "sleep 99999", "description": "x"}, 1),
    ]
    if with_result:
        records.append(tool_result("toolu_01", 2000))
    return write(tmp_path / "projects" / "-home-dev-work" / f"{SID}.jsonl", records)


def test_bash_without_result_past_threshold_needs_attention(tmp_path: Path) -> None:
    path = bash_session(tmp_path, with_result=False)
    rep, code = report("--transcript", str(path), "--now", ts(1 + 1800 + 1), "--exit-code")
    (s,) = rep.sessions
    assert s.state == "attention" and code == 2
    assert [sig.type for sig in s.signals] == ["pending_bash_tool_result"]
    assert s.signals[0].model_extra["toolUseId"] == "toolu_01" and s.signals[0].model_extra["command"] == "sleep 99999"
    assert [p.toolUseId for p in s.pendingTools] == ["toolu_01"] and s.actions
    # Under the threshold: pending but fine.
    rep, code = report("--transcript", str(path), "--now", ts(1 + 1799), "--exit-code")
    assert rep.sessions[0].state == "ok" and code == 0 and len(rep.sessions[0].pendingTools) == 1


def test_the_matching_result_makes_it_ok(tmp_path: Path) -> None:
    path = bash_session(tmp_path, with_result=True)
    rep, code = report("--transcript", str(path), "--now", ts(100000), "--exit-code")
    assert rep.sessions[0].state == "ok" and rep.sessions[0].pendingTools == [] and code == 0
    assert rep.sessions[0].lastEventAt == ts(2000)


def wakeup_session(tmp_path: Path, delay: float, later: list | None = None, stop: bool = False) -> Path:
    inp = (
        {"stop": True}
        if stop
        else {"delaySeconds": delay, "reason": "watching CI run", "prompt": "/loop check CI", "noop": True}
    )
    records = [prompt("/loop check CI", 0), tool_use("toolu_w", "ScheduleWakeup", inp, 10), tool_result("toolu_w", 11)]
    return write(tmp_path / f"{SID}.jsonl", records + (later or []))


def test_schedule_wakeup_overdue(tmp_path: Path) -> None:
    path = wakeup_session(tmp_path, 270)
    rep, code = report("--transcript", str(path), "--now", ts(10 + 2 * 270 + 1), "--exit-code")
    (sig,) = rep.sessions[0].signals
    assert sig.type == "schedule_wakeup_overdue" and code == 2
    assert sig.model_extra["dueAt"] == ts(10 + 270) and sig.model_extra["delaySeconds"] == 270
    # Due but not yet due + delay again: no signal.
    assert report("--transcript", str(path), "--now", ts(10 + 2 * 270 - 1))[0].sessions[0].state == "ok"


def test_wakeup_that_fired_or_was_stopped_is_ok(tmp_path: Path) -> None:
    fired = wakeup_session(tmp_path, 270, later=[prompt("/loop check CI", 280), assistant_text("CI green", 285)])
    assert report("--transcript", str(fired), "--now", ts(100000))[0].sessions[0].state == "ok"
    stopped = wakeup_session(tmp_path / "b", 0, stop=True)
    assert report("--transcript", str(stopped), "--now", ts(100000))[0].sessions[0].state == "ok"


def test_wakeup_delay_is_clamped_like_the_runtime(tmp_path: Path) -> None:
    path = wakeup_session(tmp_path, 5)  # clamped to 60
    assert report("--transcript", str(path), "--now", ts(10 + 2 * 5 + 10))[0].sessions[0].state == "ok"
    assert report("--transcript", str(path), "--now", ts(10 + 2 * 60 + 1))[0].sessions[0].state == "attention"


def test_malformed_trailing_line_is_a_parse_error_signal(tmp_path: Path) -> None:
    path = write(
        tmp_path / f"{SID}.jsonl", [prompt("hi", 0), assistant_text("hello", 1)], tail=b'{"type":"assistant","mess'
    )
    rep, code = report("--transcript", str(path), "--now", ts(5), "--exit-code")
    (sig,) = rep.sessions[0].signals
    assert sig.type == "transcript_parse_errors" and sig.model_extra["count"] == 1 and sig.model_extra["lines"] == [3]
    assert code == 2


def test_missing_transcript_is_an_error_entry(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.jsonl")
    rep, code = report("--transcript", missing)
    assert rep.sessions == [] and [e.transcriptPath for e in rep.errors] == [missing] and code == 0
    assert report("--transcript", missing, "--exit-code")[1] == 1


def test_scans_recent_transcripts_under_claude_config_dir(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "cfg"
    a = bash_session(config, with_result=False)
    b = write(config / "projects" / "-other" / "b2.jsonl", [prompt("x", 0, session="b2")])
    os.utime(a, (1_000_000_000, 1_000_000_000))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    rep, _ = report("--now", ts(4000))
    assert [s.transcriptPath for s in rep.sessions] == [str(a), str(b)]  # attention first, as ECC orders them
    assert [s.sessionId for s in report("--now", ts(4000), "--limit", "1")[0].sessions] == ["b2"]


def test_write_dir_index_and_sessions_cannot_collide(tmp_path: Path) -> None:
    out = tmp_path / "out"
    hostile = write(
        tmp_path / "index.jsonl",
        [prompt("x", 0, session="index"), tool_use("toolu_9", "Bash", {"command": "make"}, 1, session="index")],
    )
    normal = bash_session(tmp_path, with_result=True)
    proc = cli("--transcript", str(hostile), "--transcript", str(normal), "--write-dir", str(out), "--now", ts(5000))
    assert proc.returncode == 0, proc.stderr
    index = LoopStatusIndex.model_validate_json((out / "index.json").read_text())
    assert {e.sessionId for e in index.sessions} == {"index", SID}
    for entry in index.sessions:
        doc = LoopStatusSession.model_validate_json((out / entry.file).read_text())
        assert doc.session.sessionId == entry.sessionId and doc.session.state == entry.state
        assert (out / entry.file).resolve() != (out / "index.json").resolve()
    assert index.model_dump()["sessions"][0]["state"] in ("ok", "attention")
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    assert {p.stat().st_mode & 0o777 for p in out.rglob("*.json")} == {0o600}


def test_write_dir_replaces_atomically_under_concurrent_readers(tmp_path: Path) -> None:
    """A reader polling index.json while scans rewrite it never sees a partial document."""
    out = tmp_path / "out"
    path = bash_session(tmp_path, with_result=False)
    cli("--transcript", str(path), "--write-dir", str(out), "--now", ts(1))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ecc_hooks.loop_status",
            "--transcript",
            str(path),
            "--write-dir",
            str(out),
            "--watch",
            "--watch-count",
            "40",
            "--watch-interval-seconds",
            "0",
        ],
        cwd=str(REPO),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    reads = 0
    try:
        while proc.poll() is None or reads == 0:
            LoopStatusIndex.model_validate_json((out / "index.json").read_bytes())
            reads += 1
    finally:
        proc.kill() if proc.poll() is None else None
        proc.wait()
    assert proc.returncode == 0 and reads > 0


def test_watch_count_prints_one_document_per_round(tmp_path: Path) -> None:
    path = bash_session(tmp_path, with_result=True)
    proc = cli("--json", "--transcript", str(path), "--watch", "--watch-count", "3", "--watch-interval-seconds", "0")
    docs = [LoopStatus.model_validate_json(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and len(docs) == 3


def test_watch_exit_code_is_the_worst_frame(tmp_path: Path) -> None:
    """ECC's runWatch exits with the worst frame's code: a Bash call answered between frames still counts."""
    import argparse

    path = bash_session(tmp_path, with_result=False)
    parser = argparse.ArgumentParser()
    loop_status.add_arguments(parser)
    args = parser.parse_args(["--transcript", str(path), "--now", ts(4000), "--exit-code", "--watch",
                              "--watch-count", "2", "--watch-interval-seconds", "0"])  # fmt: skip
    frames: list[str] = []

    def answer_after_the_first_frame(text: str) -> None:
        frames.append(text)
        if len(frames) == 1:
            with path.open("a") as f:
                f.write(json.dumps(tool_result("toolu_01", 2000)) + "\n")

    assert loop_status.run(args, out=answer_after_the_first_frame) == 2
    assert frames[0].startswith("attention") and frames[1].startswith("ok")


def test_bad_now_is_a_user_error() -> None:
    proc = cli("--now", "yesterday")
    assert proc.returncode == 1 and "--now" in proc.stderr


# ---------------------------------------------------------------------------- properties

_ids = st.sampled_from([f"toolu_{i:02d}" for i in range(8)])
_tools = st.sampled_from(["Bash", "Read", "Edit", "Agent"])
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("use"), _ids, _tools, st.integers(0, 7200)),
        st.tuples(st.just("result"), _ids, st.just(""), st.integers(0, 7200)),
        st.tuples(st.just("garbage"), st.binary(max_size=40).filter(lambda b: b"\n" not in b), st.just(""), st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops, now_offset=st.integers(0, 9000), threshold=st.integers(1, 3600))
def test_scan_matches_a_simple_model(ops: list, now_offset: int, threshold: int) -> None:
    """Pending = uses not answered by a later result (the latest call of an id); Bash signals = those past the threshold; garbage counted."""
    lines, uses, garbage = [], {}, 0
    for kind, a, b, at in ops:
        if kind == "use":
            lines.append(json.dumps(tool_use(a, b, {"command": "x"}, at)).encode())
            uses[a] = (b, at)  # a repeated id: the latest call, as ECC keeps it
        elif kind == "result":
            lines.append(json.dumps(tool_result(a, at)).encode())
            uses.pop(a, None)
        else:
            text = a.decode("utf-8", "replace").removesuffix("\r")
            text = text.removeprefix("\ufeff") if not lines else text
            try:
                json.loads(text, parse_constant=float.fromhex)  # NaN is no JSON: fromhex refuses it
                ok = True
            except ValueError:
                ok = False
            if text.strip(jsvalues.JS_WHITESPACE) and not ok:
                garbage += 1
            lines.append(a)
    now = T0_MS + now_offset * 1000
    session = loop_status.verdict(loop_status.scan_bytes(b"\n".join(lines) + b"\n"), "/t/x.jsonl", now, threshold)
    pending = set(uses)
    assert {p.toolUseId for p in session.pendingTools} == pending
    want_bash = {i for i in pending if uses[i][0] == "Bash" and now_offset - uses[i][1] >= threshold}
    got_bash = {s.model_extra["toolUseId"] for s in session.signals if s.type == "pending_bash_tool_result"}
    assert got_bash == want_bash
    parse = [s for s in session.signals if s.type == "transcript_parse_errors"]
    assert (parse[0].model_extra["count"] if parse else 0) == garbage
    assert session.state == ("attention" if session.signals else "ok")


@settings(max_examples=200)
@given(data=st.binary(max_size=400))
def test_any_bytes_scan_without_raising(data: bytes) -> None:
    session = loop_status.verdict(loop_status.scan_bytes(data), "/t/x.jsonl", T0_MS)
    LoopStatus(generatedAt="x", sessions=[session])  # always a valid document


def test_a_closing_line_right_after_the_call_is_not_the_wake_up(tmp_path: Path) -> None:
    """The real client: the result comes back, the model writes its closing words half a second later, the
    wake-up never comes. Only a line at or after the due time is the wake-up."""
    path = wakeup_session(tmp_path, 60, later=[assistant_text("I'll check again in a minute.", 11.5)])
    rep, code = report("--transcript", str(path), "--now", ts(10 + 2 * 60 + 1), "--exit-code")
    assert [s.type for s in rep.sessions[0].signals] == ["schedule_wakeup_overdue"] and code == 2
    woke = wakeup_session(tmp_path / "b", 60, later=[prompt("/loop check CI", 70), assistant_text("green", 71)])
    assert report("--transcript", str(woke), "--now", ts(10 + 2 * 60 + 1))[0].sessions[0].state == "ok"


def test_what_eccs_users_type_is_accepted(tmp_path: Path) -> None:
    """ECC's loop-status options: --home, --bash-timeout-seconds, --now in epoch milliseconds,
    --wake-grace-multiplier; and subagent transcripts are scanned too."""
    home = tmp_path / "home"
    project = home / ".claude" / "projects" / "-work"
    bash = bash_session(project, with_result=False)
    sub = project / SID / "subagents"
    sub.mkdir(parents=True)
    agent = write(
        sub / "agent-a1.jsonl", [prompt("/loop sub", 0), tool_use("toolu_s", "Bash", {"command": "sleep 9"}, 5)]
    )
    now_ms = str(int((T0 + timedelta(seconds=5 + 120)).timestamp() * 1000))
    rep, _ = report("--home", str(home), "--bash-timeout-seconds", "60", "--now", now_ms)
    scanned = {s.transcriptPath for s in rep.sessions}
    assert str(agent) in scanned and str(bash) in scanned
    assert any(s.type == "pending_bash_tool_result" for r in rep.sessions for s in r.signals)
    path = wakeup_session(tmp_path / "w", 100)
    early = report("--transcript", str(path), "--now", ts(10 + 150), "--wake-grace-multiplier", "1.4")[0]
    assert early.sessions[0].state == "attention"  # 10 + 100 x 1.4 = 150 has passed
    bad = cli("--now", "yesterday")
    assert bad.returncode == 1 and "epoch milliseconds" in bad.stderr


# ---------------------------------------------------------------------------- ECC's reading (issue 25, item 9)


def scan_lines(lines: list, now: float, path: str = "/p/-work/s1.jsonl", **kw) -> loop_status.LoopSession:
    """Our verdict on raw lines (dicts are dumped, text kept) at T0 + ``now`` seconds."""
    body = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    return loop_status.verdict(loop_status.scan_bytes(body.encode()), path, T0_MS + int(now * 1000), **kw)


def call(tool_id: str, name: str, inp: dict, at: object, **extra: object) -> dict:
    line = {"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "tool_use", "id": tool_id, "name": name, "input": inp}]}, **extra}  # fmt: skip
    return {**line, "timestamp": at} if at is not None else line


def signal_types(session: loop_status.LoopSession) -> list[str]:
    return [s.type for s in session.signals]


def test_naive_timestamps_and_now_are_local_time(monkeypatch) -> None:
    """ECC reads a time without a zone as local time (new Date): under New York, 10:00 is 14:00Z."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        session = scan_lines([call("b", "Bash", {"command": "make"}, "2026-05-12T10:00:00")], 4 * 3600 + 29 * 60)
        assert session.pendingTools[0].startedAt == "2026-05-12T14:00:00.000Z"
        assert session.pendingTools[0].ageSeconds == 29 * 60 and session.state == "ok"
        assert loop_status.parse_now("2026-05-12T10:29:00") == T0_MS + (4 * 3600 + 29 * 60) * 1000
        assert loop_status.parse_now("2026-05-12") == T0_MS - 10 * 3600 * 1000  # a date alone is UTC
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_overdue_boundary_is_reached_not_passed() -> None:
    lines = [call("w", "ScheduleWakeup", {"delaySeconds": 60}, ts(0))]
    assert signal_types(scan_lines(lines, 120)) == ["schedule_wakeup_overdue"]  # call + 60 x 2: due, ECC's >=
    assert signal_types(scan_lines(lines, 119.999)) == []


def test_delays_as_ecc_reads_them_then_clamped() -> None:
    for inp in ({"delaySeconds": "120"}, {"delay_seconds": 120}, {"seconds": 120}, {"delay": " 0x78 "}):
        wake = scan_lines([call("w", "ScheduleWakeup", inp, ts(0))], 240).latestWake
        assert wake is not None and wake.delaySeconds == 120 and wake.dueAt == ts(120), inp
    assert scan_lines([call("w", "ScheduleWakeup", {"delaySeconds": 30}, ts(0))], 1).latestWake.delaySeconds == 60
    assert scan_lines([call("w", "ScheduleWakeup", {"delaySeconds": 9e9}, ts(0))], 1).latestWake.delaySeconds == 3600
    assert scan_lines([call("w", "ScheduleWakeup", {"delaySeconds": "soon"}, ts(0))], 1).latestWake is None
    stopped = [
        call("w", "ScheduleWakeup", {"delaySeconds": 60}, ts(0)),
        call("s", "ScheduleWakeup", {"stop": True}, ts(5)),
    ]
    assert scan_lines(stopped, 10_000).latestWake is None


def test_times_in_every_form_ecc_reads() -> None:
    epoch = {"type": "assistant", "timestamp": T0_MS + 5000, "message": {"role": "assistant", "content": []}}
    assert scan_lines([epoch], 10).lastEventAt == ts(5)
    created = {"type": "user", "createdAt": ts(7)}
    nested = {"type": "user", "message": {"timestamp": ts(9)}}
    assert scan_lines([created], 10).lastEventAt == ts(7) and scan_lines([nested], 10).lastEventAt == ts(9)
    untimed = call("b", "Bash", {"command": "x"}, None)
    assert scan_lines([{"timestamp": ts(3)}, {"timestamp": ts(2)}, untimed], 10).pendingTools[0].startedAt == ts(3)


def test_ids_and_calls_where_ecc_finds_them() -> None:
    answered = {"type": "user", "message": {"content": [{"type": "tool_result", "toolUseId": "b"}]}}
    assert scan_lines([call("b", "Bash", {}, ts(0)), answered], 10).pendingTools == []
    in_user_line = {"type": "user", "timestamp": ts(1), "message": {"content": [
        {"type": "tool_use", "id": "u", "name": "Read", "input": {}}]}}  # fmt: skip
    assert [p.toolUseId for p in scan_lines([in_user_line], 10).pendingTools] == ["u"]
    twice = [call("d", "Bash", {"command": "a"}, ts(0)), call("d", "Read", {}, ts(4))]
    (latest,) = scan_lines(twice, 10).pendingTools
    assert (latest.name, latest.startedAt) == ("Read", ts(4))
    named = [{"session_id": "first"}, {"sessionId": "second"}, {"session": {"id": "third"}}]
    assert scan_lines(named, 10).sessionId == "third"
    assert scan_lines([*named, {"x": 1}], 10).sessionId == "s1"  # the last line names none: the file's name


def test_an_assistant_line_without_type_is_the_wake_up() -> None:
    woke = {"timestamp": ts(70), "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}}
    lines = [call("w", "ScheduleWakeup", {"delaySeconds": 60}, ts(0)), woke]
    assert signal_types(scan_lines(lines, 500)) == []
    assert signal_types(scan_lines(lines[:1], 500)) == ["schedule_wakeup_overdue"]


def test_json_that_is_not_an_object_is_an_event_not_an_error() -> None:
    session = scan_lines(["123", '"s"', "[1]", "true", "null", "{nope"], 10)
    assert (session.eventCount, session.parseErrors, signal_types(session)) == (5, 1, ["transcript_parse_errors"])


def test_whole_seconds_and_eccs_fields() -> None:
    lines = [call("w", "ScheduleWakeup", {"delaySeconds": 60, "reason": "poll"}, ts(0.5)),
             call("b", "Bash", {"command": "sleep 9"}, ts(0.25))]  # fmt: skip
    session = scan_lines(lines, 1800.9, bash_threshold=1800)
    wake, bash = session.signals
    assert wake.model_extra["overdueSeconds"] == 1740 and bash.model_extra["ageSeconds"] == 1800
    assert [p.ageSeconds for p in session.pendingTools] == [1800, 1800]
    assert session.eventCount == 2 and session.projectSlug == "-work"
    assert session.latestWake is not None and session.latestWake.reason == "poll"
    assert session.recommendedAction == loop_status.RECOMMENDATIONS[0][1]


def test_the_home_scan_walks_as_ecc_does(tmp_path: Path) -> None:
    projects = tmp_path / ".claude" / "projects"
    deep = write(projects / "-w" / "s" / "subagents" / "a" / "b" / "agent-x.jsonl", [prompt("x", 0)])
    real = write(tmp_path / "elsewhere.jsonl", [prompt("x", 0)])
    (projects / "-w" / "link.jsonl").symlink_to(real)
    many = [write(projects / "-w" / f"t{i:02d}.jsonl", [prompt("x", i)]) for i in range(12)]
    for i, path in enumerate([deep, *many]):
        os.utime(path, ns=(10**18 + i * 10**9, 10**18 + i * 10**9))
    rep = loop_status.build_status(None, T0_MS, home=str(tmp_path))
    assert rep.source is not None and (rep.source.limit, rep.source.transcriptCount) == (10, 10)
    assert [s.transcriptPath for s in rep.sessions] == [str(p) for p in many[::-1][:10]]
    everything = loop_status.build_status(None, T0_MS, home=str(tmp_path), limit=50)
    assert str(deep) in {s.transcriptPath for s in everything.sessions}
    assert not any("link" in s.transcriptPath for s in everything.sessions)  # a link is not followed


def test_whole_numbers_print_as_json_stringify_prints_them(tmp_path: Path) -> None:
    """``60``, not Python's ``60.0``: a reader comparing ECC's text with ours sees the same number."""
    lines = [call("w", "ScheduleWakeup", {"delaySeconds": 120, "reason": "poll"}, ts(0.5))]
    path = write(tmp_path / "s.jsonl", lines)
    proc = cli("--json", "--transcript", str(path), "--bash-timeout-seconds", "1800")
    floats: list[str] = []
    json.loads(proc.stdout.splitlines()[-1], parse_float=lambda text: floats.append(text) or float(text))
    assert '"delaySeconds":120' in proc.stdout.replace(" ", "") and not [f for f in floats if float(f).is_integer()]


def test_watch_with_exit_code_needs_an_end(tmp_path: Path) -> None:
    """ECC refuses ``--watch --exit-code`` without ``--watch-count``: a code the process never exits with."""
    path = write(tmp_path / "s.jsonl", [prompt("x", 0)])
    proc = cli("--transcript", str(path), "--watch", "--exit-code", "--watch-interval-seconds", "0")
    assert proc.returncode != 0 and "--watch-count" in proc.stderr
