"""The watcher's loopback endpoint (http transport) records only what the user's own Claude Code posts.

A real watcher daemon serves it. Refused with nothing written: no token or a wrong one (a web page in the
user's browser can reach loopback, never the token), a foreign Host header (DNS rebinding), another path or
method, an oversized body, a connection from another user's socket. What it records is redacted before it
reaches the disk, as the hook command's records are.
"""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

import pytest

from ecc_hooks.core import endpoint
from tests.helpers import running, wait_until

SESSION = "5ec0717e-0000-4000-8000-0000000e0d01"
SECRET = "ghp_Q8mZ2xT4vL9pR3sK7wN1bY6cF0hJ5dGa"


def payload(tool_id: str = "toolu_sec_1") -> bytes:
    return json.dumps(
        {
            "session_id": SESSION,
            "transcript_path": "/nonexistent/t.jsonl",
            "cwd": "/tmp",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_use_id": tool_id,
            "tool_input": {"command": f"git push https://{SECRET}@github.com/acme/widget", "description": "push"},
        }
    ).encode()


def post(
    config: endpoint.Endpoint,
    body: bytes,
    *,
    token: str | None = "right",
    host: str | None = None,
    path: str = endpoint.PATH,
    method: str = "POST",
    length: int | None = None,
) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", config.port, timeout=10)
    headers = {"Host": host or f"127.0.0.1:{config.port}", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {config.token if token == 'right' else token}"
    conn.putrequest(method, path, skip_host=True)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.putheader("Content-Length", str(len(body) if length is None else length))
    conn.endheaders()
    if length is None:
        conn.send(body)
    status = conn.getresponse().status
    conn.close()
    return status


def journal(home: Path) -> bytes:
    path = home / "sessions" / SESSION / "events.jsonl"
    return path.read_bytes() if path.exists() else b""


@pytest.fixture
def served(daemons, ecc_home: Path) -> endpoint.Endpoint:
    config = endpoint.ensure()
    running(daemons("--idle-exit", "300"))
    assert endpoint.wait_listening(config, __import__("time").monotonic() + 30)
    return config


def test_a_good_post_is_recorded_redacted_before_the_answer(served: endpoint.Endpoint, ecc_home: Path) -> None:
    assert post(served, payload()) == 200
    data = journal(ecc_home)  # on disk when the answer came: no waiting
    (record,) = [json.loads(line) for line in data.splitlines()]
    assert record["event"] == "PreToolUse" and record["toolUseId"] == "toolu_sec_1"
    assert SECRET not in data.decode() and SECRET[4:] not in data.decode()


@pytest.mark.parametrize(
    "how",
    [
        {"token": None},
        {"token": "not-the-token"},
        {"token": "right", "host": "evil.example:80"},
        {"token": "right", "path": "/ecc-hooks/v1/other"},
        {"token": "right", "method": "GET"},
        {"token": "right", "length": 1 << 40},
    ],
    ids=["no-token", "wrong-token", "foreign-host", "other-path", "get", "oversized"],
)
def test_refused_posts_write_nothing(served: endpoint.Endpoint, ecc_home: Path, how: dict) -> None:
    status = post(served, payload(), **how)
    assert status in (401, 403, 404, 405, 413)
    assert journal(ecc_home) == b""
    assert post(served, payload("toolu_after")) == 200  # and the endpoint still serves the user


def test_a_post_from_another_users_socket_is_refused(served: endpoint.Endpoint, ecc_home: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to connect as another user")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the other user: same token (say it leaked), own socket
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            try:
                status = post(served, payload("toolu_other_user"))
            except (http.client.HTTPException, OSError):
                status = 0  # closed at accept: no answer at all
            os.write(write, str(status).encode())
        finally:
            os._exit(0)
    os.close(write)
    status = int(os.read(read, 16) or b"0")
    os.close(read)
    os.waitpid(pid, 0)
    assert status == 0  # closed at accept, before a thread or a byte of the request
    assert journal(ecc_home) == b""
    wait_until(lambda: (ecc_home / "errors.log").exists(), 10, "the refusal logged")
    assert "another user" in (ecc_home / "errors.log").read_text()
