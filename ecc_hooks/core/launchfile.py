"""A program started from a private launch file, so that neither its environment nor its arguments show in any
command line (``/proc/PID/cmdline`` and ``ps`` are readable by every local user).

Where a program cannot be handed its environment directly (a tmux pane: tmux starts it, from the tmux server's
own environment), the caller writes a launch file (0600, in a 0700 state folder, under a name the caller makes
unguessable) holding the program, its arguments and its whole environment, and starts ``command(path)``: a
``python -I -S`` launcher that reads and removes the file, then ``execve``-s the program with exactly that
environment, plus what the terminal it runs in says about itself (``KEEP``: tmux's ``TMUX``, ``TMUX_PANE``,
``TERM``). The command line shows the launcher and the file's name, nothing else.

File format: ``<argc>\\0<program>\\0<arg>\\0...<K=V>\\0...`` (no item holds a NUL; a name holds no ``=``).
The launcher imports ``os`` and ``sys`` only.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: the launcher imports nothing it does not use
    from collections.abc import Mapping, Sequence

KEEP = (b"TMUX", b"TMUX_PANE", b"TERM", b"TERM_PROGRAM", b"TERM_PROGRAM_VERSION")  # the pane's, from tmux
CAP = 16 << 20  # bytes a launch file may hold


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else os.fsencode(value)


def encode(program: str | bytes, argv: Sequence[str | bytes], env: Mapping[str, str] | Mapping[bytes, bytes]) -> bytes:
    """The launch file's bytes; ValueError for an item that cannot be carried (a NUL, a name with ``=``)."""
    items = [str(len(argv)).encode(), _b(program), *(_b(a) for a in argv)]
    for key, value in env.items():
        name, text = _b(key), _b(value)
        if not name or b"=" in name or b"\0" in name:
            raise ValueError(f"not an environment name: {name!r}")
        items.append(name + b"=" + text)
    if any(b"\0" in item for item in items):
        raise ValueError("a NUL in a launch file item")
    return b"".join(item + b"\0" for item in items)


def decode(data: bytes) -> tuple[bytes, list[bytes], dict[bytes, bytes]]:
    """(program, argv, environment) of a launch file; ValueError when it is not one."""
    items = data.split(b"\0")
    if len(items) < 3 or items.pop() != b"" or not items[0].isdigit():
        raise ValueError("not a launch file")
    argc = int(items[0])
    if len(items) < 2 + argc or not items[1]:
        raise ValueError("a launch file without its program")
    env: dict[bytes, bytes] = {}
    for item in items[2 + argc :]:
        name, sep, value = item.partition(b"=")
        if not name or not sep:
            raise ValueError("an environment item without a name")
        env[name] = value
    return items[1], items[2 : 2 + argc], env


def write(path: str, program: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Write the launch file ``path`` (0600; a state path's folders are checked as ``fsio`` does)."""
    from ecc_hooks.core import fsio

    fsio.atomic_write(path, encode(program, argv, env), mode=0o600, durable=False)


def command(path: str) -> str:
    """The shell command that runs the launch file ``path`` (isolated interpreter: no site, no cwd, no
    ``PYTHON*`` variables)."""
    from ecc_hooks.core import paths

    code = paths.launcher_code("ecc_hooks.core.launchfile", "main(sys.argv[1])")
    return "exec " + " ".join(_quote(part) for part in (sys.executable, "-I", "-S", "-c", code, path))


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def main(path: str) -> None:
    """Read and remove the launch file ``path``, then become its program (exit 127 when it cannot)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            chunks, size = [], 0
            while size <= CAP:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
        finally:
            os.close(fd)
            os.unlink(path)
        if len(data) > CAP:
            raise ValueError("an oversized launch file")
        program, argv, env = decode(data)
        env.update({k: v for k, v in os.environb.items() if k in KEEP})
        os.execve(program, argv, env)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"ecc-hooks: cannot start from {path}: {exc}\n")
        sys.exit(127)
