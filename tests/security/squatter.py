"""Another local user (uid 65534) holding a loopback port and recording every byte anyone sends to it."""

from __future__ import annotations

import os
import select
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager

NOBODY = 65534


class Squatter:
    """What the listener got: ``received()`` drains the pipe its child writes every byte into."""

    def __init__(self, pid: int, pipe: int, port: int) -> None:
        self.pid, self.pipe, self.port = pid, pipe, port
        self.data = b""

    def received(self) -> bytes:
        while select.select([self.pipe], [], [], 0.2)[0]:
            chunk = os.read(self.pipe, 1 << 16)
            if not chunk:
                break
            self.data += chunk
        return self.data


def _serve(port: int, ready: int, out: int) -> None:
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    server = socket.socket()
    server.bind(("127.0.0.1", port))
    server.listen(64)
    os.write(ready, b"R")
    conns: list[socket.socket] = []
    while True:  # every connection, every byte, until killed; answers nothing (a listener that only takes)
        readable, _, _ = select.select([server, *conns], [], [])
        for sock in readable:
            if sock is server:
                conns.append(server.accept()[0])
                os.write(out, b"<connect>")
                continue
            chunk = sock.recv(1 << 16)
            if chunk:
                os.write(out, chunk)
            else:
                conns.remove(sock)
                sock.close()


@contextmanager
def squatting(port: int) -> Iterator[Squatter]:
    """uid 65534 listens on 127.0.0.1:``port`` for the block; killed (and reaped) after it, pass or fail."""
    ready_r, ready_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(out_r)
            _serve(port, ready_w, out_w)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(out_w)
    squatter = Squatter(pid, out_r, port)
    try:
        if os.read(ready_r, 1) != b"R":
            raise AssertionError(f"uid {NOBODY} could not bind 127.0.0.1:{port}")
        yield squatter
        squatter.received()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(ready_r)
        os.close(out_r)
