"""The redacting relay between a detached process and its log: nothing it prints reaches the disk unredacted.

``proc.detach`` starts it with the read end of a pipe as stdin and the log (opened append-only) as stdout; the
detached program writes into the pipe. The relay reads what arrives, and writes each complete line through
``redact.redact`` as soon as it has it (line-buffered: a reader of the log sees a line when the program printed
it). Bounded: a line longer than ``LINE_CAP`` bytes is cut at its last whitespace before the cap (so no token is
split) and written in parts. Never losing the tail: at end of input the last, unterminated line is written too,
and SIGTERM, SIGINT and SIGHUP are ignored (the relay ends when every writer of the pipe has closed it; a stop
signals the program's process group, not the relay, which has its own session).

Bytes that are not UTF-8 pass through unchanged (``surrogateescape``); the redactor sees them as text it does not
match.
"""

from __future__ import annotations

import os
import signal

LINE_CAP = 1 << 20  # bytes of one line held before it is written in parts
READ_SIZE = 1 << 16
MASK = b"[REDACTED]"


def redact_line(line: bytes) -> bytes:
    """One line (or part of one) as the log gets it."""
    from ecc_hooks.core.redact import redact

    if not line.strip():
        return line
    return redact(line.decode("utf-8", "surrogateescape"), limit=None).encode("utf-8", "surrogateescape")


def _split_long(pending: bytes) -> int:
    """Where to cut a line longer than the cap: after its last whitespace before the cap (else at the cap)."""
    cut = max(pending.rfind(b" ", 0, LINE_CAP), pending.rfind(b"\t", 0, LINE_CAP))
    return cut + 1 if cut > 0 else LINE_CAP


class Relay:
    """The line state of one stream: the unterminated rest, and whether a multi-line private key block is open
    (its inner lines carry no marker of their own: they are masked until the block's end line)."""

    def __init__(self) -> None:
        self.pending = b""
        self.in_key = False

    def feed(self, chunk: bytes) -> bytes:
        """What ``chunk`` completes, redacted (long lines in parts)."""
        self.pending += chunk
        out: list[bytes] = []
        end = self.pending.rfind(b"\n")
        if end >= 0:
            out.extend(self._line(line) + b"\n" for line in self.pending[:end].split(b"\n"))
            self.pending = self.pending[end + 1 :]
        while len(self.pending) > LINE_CAP:
            cut = _split_long(self.pending)
            out.append(self._line(self.pending[:cut]))
            self.pending = self.pending[cut:]
        return b"".join(out)

    def close(self) -> bytes:
        """The tail: the last line even without its newline."""
        rest, self.pending = self.pending, b""
        return self._line(rest) if rest else b""

    def _line(self, line: bytes) -> bytes:
        if self.in_key:
            if b"-----END " in line and b"PRIVATE KEY" in line:
                self.in_key = False
            return MASK
        begin = line.rfind(b"-----BEGIN ")
        if begin >= 0 and b"PRIVATE KEY" in line[begin:] and b"-----END " not in line[begin:]:
            self.in_key = True
        return redact_line(line)


def relay(source: int, sink: int) -> None:
    """Copy ``source`` to ``sink`` line by line, redacted, until end of input."""
    state = Relay()
    while True:
        chunk = os.read(source, READ_SIZE)
        if not chunk:
            break
        _write_all(sink, state.feed(chunk))
    _write_all(sink, state.close())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main() -> int:
    """stdin (the pipe), redacted, to stdout (the log, opened by ``proc.detach`` with the safe rules)."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    if os.fork() > 0:  # the starter collects this process at once; the relay, its child, is init's to reap
        os._exit(0)
    relay(0, 1)
    return 0
