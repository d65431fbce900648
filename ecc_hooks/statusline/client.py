"""The status line command: the resident watcher renders the row when it runs, this process otherwise.

Claude Code starts the status line command after every assistant message and every few seconds. A Python
process that imports the renderer (``os``, eleven core modules, fourteen segment modules) spends most of its
time importing. The watcher has them loaded already, so this command does only what a bare interpreter must:
read stdin, hand it and the environment to the watcher over its local socket (``core.relay``: private to the
user, checked at both ends), print the answer. Any failure (no watcher, a foreign socket, a timeout, an
error answer) renders here, as before, from the stdin already read. Imports: ``posix``, ``core.relay`` (and
``_socket``, ``select``).
"""

import posix
import sys

STDIN_CAP = 4 << 20
STDIN_TIMEOUT = 2.0
ANSWER_TIMEOUT = 1.0  # seconds the watcher has to answer before the row is rendered here


def main() -> int:
    """Status line entry point: always prints something useful, always returns 0."""
    from ecc_hooks.core import relay

    data, _, problem = relay.read_payload(0, STDIN_CAP, STDIN_TIMEOUT)
    row = None
    if problem is None:
        try:
            row = relay.ask(relay.STATUSLINE, posix.environ, data, ANSWER_TIMEOUT) or None
        except Exception:  # never: ask answers None for every failure it knows; render here all the same
            row = None
    if row is None:
        from ecc_hooks.statusline import render

        return render.main(data, problem)
    try:
        posix.write(1, row)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
