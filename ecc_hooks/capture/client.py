"""The hook command Claude Code runs on every command-hook event (installed as ``python -S -c`` calling ``main``,
see ``install.python_argv``).

It reads the payload (capped, bounded in time) and hands it to the resident watcher over its local socket
(``core.relay``), which records it exactly as ``capture.hook`` does (bounded, normalized, redacted, one journal
line) before it answers; so when this process exits, the event is on disk. When no watcher answers, or the
payload is oversized, cut short or too large to relay, ``capture.hook`` records it here: no event is lost,
and the SessionStart and per-turn hooks start the watcher for the next ones. In a tmux pane, ``$TMUX`` and
``$TMUX_PANE`` go along (two environment lookups): the SessionStart event records where the session runs. The hook of a runtime worker (its
environment names its runtime session) then restarts the runtime's supervisor when it was killed while its sessions
lived (``core.spawn.restart_supervisor``: two small reads otherwise). It never prints, never exits non-zero and never
raises. Imports: ``posix``, ``core.relay`` (and ``_socket``, ``select``); ``capture.hook``
only when it records itself.
"""

import posix

STDIN_CAP = 64 << 20  # bytes kept from stdin; the rest is drained and dropped
STDIN_TIMEOUT = 10.0  # seconds to wait for Claude Code to finish writing
TAIL_SIZE = 1 << 16  # bytes kept from the end of an oversized payload
ACK_TIMEOUT = 5.0  # seconds the watcher has to record the event before this process records it itself
RAW_ENV = "ECC_HOOKS_RAW"  # "1": each journal line keeps the whole (redacted) payload
RUNTIME_ENV = b"ECC_SESSION"  # a runtime worker's environment names its runtime session (runtime.lifecycle)
TMUX_ENV = b"TMUX"  # the tmux server a session runs in (``core.terminal``): recorded at SessionStart
PANE_ENV = b"TMUX_PANE"  # and its pane
WORKER_ENV = b"ECC_WORKER"  # and, with ``RUNTIME_ENV``, which of its workers: recorded at SessionStart
# the other agents' hook commands end with the agent's name (``harness.hook_argv``): ``harness.HARNESSES``' keys
HARNESS_ARGS = (b"codex", b"gemini", b"opencode", b"aider")


def keep_supervisor() -> None:
    """In a runtime worker (``$ECC_SESSION``), after its event is recorded (the supervisor it may start reads it):
    the supervisor restarted if it was killed while it had live sessions."""
    if posix.environ.get(RUNTIME_ENV):
        from ecc_hooks.core import spawn

        spawn.restart_supervisor()


def read_input(relay: object) -> tuple[str, bytes | None, bytes, str | None]:
    """(harness, payload bytes, tail, problem): the agent named by the command's last argument (``""``: Claude
    Code), and its payload: stdin for every agent but Aider, whose notification command gets none (its stdin may be
    the terminal, never read): its module builds the payload from its argv and environment."""
    import sys

    args = [a.encode() if isinstance(a, str) else a for a in sys.argv[1:]]
    harness = args[0].decode() if args and args[0] in HARNESS_ARGS else ""
    if harness == "aider":
        from ecc_hooks import harness as agents
        from ecc_hooks.core import jsonlite

        payload = agents.module("aider").payload_from(
            [a.decode("utf-8", "replace") for a in args[1:]], dict(posix.environ)
        )
        return harness, (None if payload is None else jsonlite.dumps(payload).encode()), b"", None
    data, tail, problem = relay.read_payload(0, STDIN_CAP, STDIN_TIMEOUT, TAIL_SIZE)  # type: ignore[attr-defined]
    return harness, data, tail, problem


def main() -> int:
    """Hook entry point: always returns 0, prints nothing."""
    try:
        from time import time

        from ecc_hooks.core import relay

        now = time()
        harness, data, tail, problem = read_input(relay)
        if data is None:
            return 0  # an agent's command with nothing to record (aider's notification outside a turn)
        if problem is None:
            fields = {b"now": repr(now).encode(), b"raw": posix.environ.get(RAW_ENV.encode(), b"")}
            if harness:
                fields[b"harness"] = harness.encode()
            if posix.environ.get(RUNTIME_ENV):  # a runtime worker: our hooks may run twice per event (dedupe)
                fields[b"dedupe"] = b"1"
                fields[b"rsession"] = posix.environ[RUNTIME_ENV]
                fields[b"rworker"] = posix.environ.get(WORKER_ENV, b"")
            if TMUX_ENV in posix.environ:  # in a tmux pane: where it runs (the watcher keeps it at SessionStart)
                fields[b"tmux"] = posix.environ[TMUX_ENV]
                fields[b"pane"] = posix.environ.get(PANE_ENV, b"")
            if relay.ask(relay.HOOK, fields, data, ACK_TIMEOUT) is not None:
                keep_supervisor()
                return 0
        from ecc_hooks.capture import hook

        hook.record(data, tail, problem, now, harness)
        keep_supervisor()
    except BaseException as exc:
        try:
            from ecc_hooks.core.errorlog import log_error

            log_error("internal", f"{type(exc).__name__}: {exc}")
        except BaseException:
            pass
    return 0


if __name__ == "__main__":
    import sys

    main()
    sys.exit(0)
