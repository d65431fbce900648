"""Another local user (uid 65534) holding a loopback port and recording every byte anyone sends to it."""

from __future__ import annotations

import os
import select
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

NOBODY = 65534


class Squatter:
    """What the listener got: ``received()`` drains the pipe its child writes every byte into."""

    def __init__(self, pid: int, pipe: int, port: int) -> None:
        self.pid, self.pipe, self.port = pid, pipe, port
        self.data = b""
        self.ready = -1
        self.is_bound = False

    def bound(self) -> bool:
        """uid 65534 holds the port now (a ``wait`` squatter took it once it was free)."""
        if not self.is_bound and select.select([self.ready], [], [], 0)[0]:
            self.is_bound = os.read(self.ready, 1) == b"R"
        return self.is_bound

    def received(self) -> bytes:
        while select.select([self.pipe], [], [], 0.2)[0]:
            chunk = os.read(self.pipe, 1 << 16)
            if not chunk:
                break
            self.data += chunk
        return self.data


def _serve(port: int, ready: int, out: int, wait: bool) -> None:
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the watcher's TIME_WAIT connections
    while True:  # ``wait``: the moment the port is free, it is taken
        try:
            server.bind(("127.0.0.1", port))
            break
        except OSError:
            if not wait:
                raise
            time.sleep(0.002)
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
def squatting(port: int, wait: bool = False) -> Iterator[Squatter]:
    """uid 65534 listens on 127.0.0.1:``port`` for the block; killed (and reaped) after it, pass or fail. With
    ``wait`` the port may be held (by the user's watcher): uid 65534 tries to bind it every 2 ms until it can, and
    the block runs meanwhile (``bound()`` says whether it has)."""
    ready_r, ready_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(out_r)
            _serve(port, ready_w, out_w, wait)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(out_w)
    squatter = Squatter(pid, out_r, port)
    try:
        if not wait and os.read(ready_r, 1) != b"R":
            raise AssertionError(f"uid {NOBODY} could not bind 127.0.0.1:{port}")
        squatter.ready, squatter.is_bound = ready_r, not wait
        yield squatter
        squatter.received()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(ready_r)
        os.close(out_r)
