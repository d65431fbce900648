"""Another local user cannot starve the watcher's loopback endpoint (http transport), and no event is lost.

``nobody`` opens many connections to the endpoint and feeds them a byte at a time (slowloris) while the user's
own Claude Code posts: every one of the user's posts is answered and journaled, the watcher's thread count stays
bounded (a connection from another user's socket is closed at accept time, before it costs a thread; the user's
own are served by a fixed pool, each request under one deadline). And an event whose post failed while the
watcher ran is still recovered into the journal from the session's transcript.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from ecc_hooks.core import endpoint
from tests.helpers import running, wait_until
from tests.security.test_endpoint import SESSION, journal, payload, post
from tests.security.test_relay import as_nobody

SLOW = 300  # nobody's connections (bounded: the test stays light on a shared machine)
OWN = 20  # the user's posts while they are held
THREAD_BOUND = 40  # the watcher's threads: its pool, the notifier, gh, the local socket's workers


@pytest.fixture
def watcher(daemons, ecc_home: Path) -> tuple[endpoint.Endpoint, int]:
    config = endpoint.ensure()
    pid = running(daemons("--idle-exit", "300"))
    assert endpoint.wait_listening(config, time.monotonic() + 30)
    return config, pid


def threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("Threads:")).split()[1])


def slowloris(port: int, ready_w: int) -> None:
    """As nobody: hold SLOW connections, each sending a request a byte every half second, until killed."""
    conns = []
    for _ in range(SLOW):
        conn = socket.socket()
        conn.settimeout(2)
        try:
            conn.connect(("127.0.0.1", port))
        except OSError:
            conn.close()
            continue
        conns.append(conn)
    os.write(ready_w, b"R")
    head = f"POST {endpoint.PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode()
    for at in range(10_000):
        for conn in list(conns):
            try:
                conn.send(head[at : at + 1] or b"a")
            except OSError:  # closed by the endpoint: connect again (the attack keeps going)
                conns.remove(conn)
                conn.close()
                again = socket.socket()
                again.settimeout(2)
                try:
                    again.connect(("127.0.0.1", port))
                    conns.append(again)
                except OSError:
                    again.close()
        time.sleep(0.5)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
def test_slow_connections_of_another_user_starve_nothing(
    watcher: tuple[endpoint.Endpoint, int], ecc_home: Path
) -> None:
    config, pid = watcher
    before = threads(pid)
    ready_r, ready_w = os.pipe()
    child = as_nobody(ready_w, lambda: slowloris(config.port, ready_w))
    os.close(ready_w)
    try:
        assert os.read(ready_r, 1) == b"R"
        most = before
        for n in range(OWN):
            assert post(config, payload(f"toolu_own_{n}")) == 200
            most = max(most, threads(pid))
        time.sleep(1.0)  # the held connections trickle on
        most = max(most, threads(pid))
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os.close(ready_r)
    ids = {json.loads(line)["toolUseId"] for line in journal(ecc_home).splitlines()}
    assert ids == {f"toolu_own_{n}" for n in range(OWN)}  # every post of the user, journaled before its answer
    assert most <= THREAD_BOUND, f"{most} threads in the watcher while {SLOW} connections of another user were held"


def test_a_slow_request_of_the_user_gets_one_deadline_not_one_per_read(
    watcher: tuple[endpoint.Endpoint, int], ecc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecc_hooks.hud import receiver

    config, _ = watcher
    conn = socket.create_connection(("127.0.0.1", config.port), timeout=30)
    started = time.monotonic()
    closed = False
    head = f"POST {endpoint.PATH} HTTP/1.1\r\nHost: 127.0.0.1:{config.port}\r\n".encode()
    try:
        for at in range(int(receiver.READ_TIMEOUT * 4)):  # a byte every half second: each read well in time
            conn.sendall(head[at : at + 1] or b"X-A: b\r\n")
            time.sleep(0.5)
            ready = conn.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) if _readable(conn) else None
            if ready == b"" or ready is not None:
                closed = True
                break
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    finally:
        conn.close()
    assert closed, "the endpoint kept a request open past its deadline"
    assert time.monotonic() - started < receiver.READ_TIMEOUT * 3
    assert post(config, payload("toolu_after_slow")) == 200


def _readable(conn: socket.socket) -> bool:
    import select

    return bool(select.select([conn], [], [], 0)[0])


def _line(kind: str, block: dict) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    role = "assistant" if kind == "assistant" else "user"
    return json.dumps({"type": kind, "timestamp": stamp, "message": {"role": role, "content": [block]}}) + "\n"


def test_a_post_that_failed_while_the_watcher_ran_is_recovered(
    watcher: tuple[endpoint.Endpoint, int], ecc_home: Path, tmp_path: Path
) -> None:
    config, _ = watcher
    transcript = tmp_path / "projects" / f"{SESSION}.jsonl"
    transcript.parent.mkdir()
    transcript.write_text(_line("user", {"type": "text", "text": "run it"}))
    start = {"session_id": SESSION, "transcript_path": str(transcript), "cwd": str(tmp_path)}
    assert post(config, json.dumps({**start, "hook_event_name": "SessionStart", "source": "startup"}).encode()) == 200
    hud = ecc_home / "sessions" / SESSION / "hud.json"
    wait_until(hud.exists, 30, "the watcher to build the session's snapshot")
    call = {"command": "echo lost-call", "description": "lost"}
    with transcript.open("a") as out:  # the client ran a call whose two posts never got an answer
        out.write(_line("assistant", {"type": "tool_use", "id": "toolu_lost_1", "name": "Bash", "input": call}))
        out.write(_line("user", {"type": "tool_result", "tool_use_id": "toolu_lost_1", "content": "lost-call"}))
    pre = json.dumps({**start, "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_use_id": "toolu_lost_1"})
    assert post(config, pre.encode(), token="not-the-token") == 401  # refused: nothing journaled

    def recovered() -> set[str]:
        records = [json.loads(line) for line in journal(ecc_home).splitlines()]
        return {r["event"] for r in records if r.get("toolUseId") == "toolu_lost_1" and r.get("backfilled")}

    wait_until(
        lambda: recovered() == {"PreToolUse", "PostToolUse"}, 60, "the failed call recovered from the transcript"
    )
