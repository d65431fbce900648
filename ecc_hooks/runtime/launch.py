"""Workspace runtimes: where a worker's agent runs, how it is started, found again, read and stopped.

- ``tmux``: a pane of the session's tmux session on our own socket (``-L ecc-hooks`` or
  ``$ECC_HOOKS_TMUX_SOCKET``), titled with the worker's slug (ECC's tools match panes by title). The pane stays
  after its command ends (``remain-on-exit``) so its last screen can be read and saved.
- ``headless``: a detached process (its own session) with its output appended to ``output.log`` in the worker's
  state folder (e.g. ``claude -p --output-format stream-json``, ``codex exec``).

Every launch runs the agent's command inside a small ``sh`` wrapper that runs it in the worktree and writes the
exit status to ``exit-<token>`` when the command ends; the command (which holds the task) and the exit file reach
the wrapper through its environment (``ECC_HOOKS_COMMAND``, ``ECC_HOOKS_EXIT``), never its command line. The worker's environment (the caller's, plus
``ECC_SESSION``, ``ECC_WORKER``, ``ECC_WORKTREE_PATH``, ``ECC_BRANCH``, ``ECC_BASE_REF``, ``ECC_PORT_BASE``,
``PORT`` and the launch's token ``ECC_HOOKS_LAUNCH``) never appears in a command line, which every local user
can read: a headless process is given it as its environment; a pane starts from a private launch file
(``core.launchfile``: 0600, in the worker's 0700 state folder, named ``launch-<token>``) that a tiny launcher reads,
removes and ``exec``-s. The token is recorded before the process starts and is part of the process itself (the
pane's start command names the launch file, the headless process's environment holds it), so after a crash the
launch is found again rather than started twice.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from ecc_hooks.core import fsio, launchfile, paths, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime.plan import quote

SOCKET_ENV = "ECC_HOOKS_TMUX_SOCKET"
DEFAULT_SOCKET = "ecc-hooks"
TOKEN_ENV = "ECC_HOOKS_LAUNCH"
TMUX_TIMEOUT = 30.0
SEPARATOR = "\x1e<ecc-hooks pane>\x1e"
LABEL_OPTION = "@ecc_worker"  # a pane's worker name (a user option: the agent cannot retitle it)
BORDER_FORMAT = " #{?" + LABEL_OPTION + ",#{" + LABEL_OPTION + "},#{pane_title}} "


@dataclass(frozen=True)
class Capabilities:
    """What a workspace runtime can do for a worker."""

    attach: bool
    send_input: bool
    stream_output: bool
    resume: bool
    graceful_stop: bool


RUNTIMES: dict[str, Capabilities] = {
    "tmux": Capabilities(attach=True, send_input=True, stream_output=True, resume=True, graceful_stop=True),
    "headless": Capabilities(attach=False, send_input=False, stream_output=True, resume=True, graceful_stop=True),
    # Claude Code's own background sessions: `claude --bg`, `claude agents --json`, `attach`, `logs`, `stop`
    "claude-bg": Capabilities(attach=True, send_input=False, stream_output=True, resume=True, graceful_stop=True),
}
BACKGROUNDED = re.compile(r"backgrounded\W+([0-9a-f]{6,})")


def tmux_socket() -> str:
    return os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET


def tmux_run(*args: str, socket: Optional[str] = None, input: Optional[bytes] = None) -> proc.Result:
    """tmux on our socket (never the user's own server), with no user config for a server it starts. An absolute
    ``socket`` is a server's socket path (``-S``): the server a plain Claude Code session runs in, whose socket
    ``interact`` checked first (ours, a socket, no link)."""
    where = ["-S", socket] if socket and socket.startswith("/") else ["-L", socket or tmux_socket()]
    argv = ["tmux", *where, "-f", "/dev/null", *args]
    return proc.run(argv, timeout=TMUX_TIMEOUT, input=input)


def tmux(*args: str, socket: Optional[str] = None, check: bool = True) -> str:
    """tmux's stdout (UserError with its stderr when it fails and ``check``)."""
    done = tmux_run(*args, socket=socket)
    if check and not done.ok:
        raise UserError(f"tmux {' '.join(args[:2])} failed: {done.error or done.err_text().strip()[:300]}")
    return done.out.decode("utf-8", "replace")


def tmux_available() -> Optional[str]:
    """None when tmux can be used, else why not."""
    return None if shutil.which("tmux") else "tmux is not installed (the tmux runtime needs it)"


def state_dir(session: str, slug: str) -> str:
    """The worker's private folder under ECC_HOOKS_HOME (exit status, saved scrollback, logs), 0700."""
    path = os.path.join(paths.home(), "runtime", session, slug)
    fsio.ensure_state_dir(path)
    return path


def exit_path(session: str, slug: str, token: str) -> str:
    return os.path.join(state_dir(session, slug), f"exit-{token}")


def marks_path(session: str, slug: str) -> str:
    """Where the runtime records what it last wrote into the worker's status.md and handoff.md (``files``:
    whose file it is)."""
    return os.path.join(state_dir(session, slug), "written.json")


def log_path(session: str, slug: str) -> str:
    return os.path.join(state_dir(session, slug), "output.log")


def read_exit(session: str, slug: str, token: Optional[str]) -> Optional[int]:
    """The exit status a launch's wrapper wrote, or None (still running, or killed before it could)."""
    if not token:
        return None
    try:
        text = fsio.read_file(exit_path(session, slug, token), 64).decode("ascii", "replace").strip()
    except (OSError, ValueError):
        return None
    return int(text) if text.lstrip("-").isdigit() else None


def exit_time(session: str, slug: str, token: Optional[str]) -> Optional[float]:
    """When a launch's wrapper wrote its exit status (the worker's own end, however late a pass saw it), or None."""
    if not token:
        return None
    try:
        return os.lstat(exit_path(session, slug, token)).st_mtime
    except OSError:
        return None


COMMAND_ENV = "ECC_HOOKS_COMMAND"
EXIT_ENV = "ECC_HOOKS_EXIT"
# the wrapper's whole command line: what it runs and where it writes the exit status come from its environment
# (both unset before the command runs); eval in a subshell: the command's own ``exit``, comments and quoting
# stay inside it
WRAPPER = (
    f'c=${COMMAND_ENV}; e=${EXIT_ENV}; unset {COMMAND_ENV} {EXIT_ENV}; ( eval "$c" ); '
    'code=$?; printf \'%s\\n\' "$code" > "$e.tmp" && mv -f "$e.tmp" "$e"; exit "$code"'
)


def wrapper(command: str, *, worktree: str, exit_file: str) -> tuple[list[str], dict[str, str]]:
    """The ``sh`` that runs ``command`` in the worktree and records its exit status in ``exit_file``: its argv,
    which holds neither (a command holds the task, every local user can read a command line), and the
    environment that carries them (with the process's environment, or in its launch file)."""
    return ["/bin/sh", "-c", f"cd {quote(worktree)} || exit 97; {WRAPPER}"], {COMMAND_ENV: command, EXIT_ENV: exit_file}


def launch_file(folder: str, token: str) -> str:
    """Where a pane's launch file goes: the (0700) state folder, a name carrying the unguessable token."""
    return os.path.join(folder, f"launch-{token}")


def pane_command(path: str, argv: list[str], env: Mapping[str, str]) -> str:
    """The start command of a pane that runs ``argv`` with exactly ``env`` (plus tmux's own ``TMUX``,
    ``TMUX_PANE``, ``TERM``): both go through the launch file ``path``, never into a command line."""
    launchfile.write(path, argv[0], argv, {k: v for k, v in env.items() if "\0" not in v and "=" not in k and k})
    return launchfile.command(path)


@dataclass
class Launched:
    """Where a launch runs."""

    pane: Optional[str]
    pid: Optional[int]
    pid_start: Optional[int]


# ---------------------------------------------------------------------------- tmux

PANE_FORMAT = "\t".join(
    ["#{pane_id}", "#{pane_pid}", "#{pane_dead}", "#{pane_dead_status}", "#{pane_title}", "#{pane_start_command}"]
)


@dataclass
class Pane:
    id: str
    pid: Optional[int]
    dead: bool
    dead_status: Optional[int]
    title: str
    start_command: str


def panes(session: str, socket: Optional[str] = None) -> Optional[list[Pane]]:
    """The session's panes (all windows); None when the session (or the tmux server) is not there."""
    done = tmux_run("list-panes", "-s", "-t", f"={session}", "-F", PANE_FORMAT, socket=socket)
    return _parse_panes(done.out) if done.ok else None


def pane(pane_id: str, socket: Optional[str] = None) -> Optional[Pane]:
    """One pane by its id (``%N``), on whatever session of the server; None when it (or the server) is gone."""
    done = tmux_run("display-message", "-p", "-t", pane_id, PANE_FORMAT, socket=socket)
    found = _parse_panes(done.out) if done.ok else []
    return found[0] if found and found[0].id == pane_id else None


def _parse_panes(out: bytes) -> list[Pane]:
    found = []
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split("\t", 5)
        if len(parts) < 6:
            continue
        pane_id, pid, dead, status, title, command = parts
        found.append(
            Pane(
                pane_id,
                int(pid) if pid.isdigit() else None,
                dead == "1",
                int(status) if status.lstrip("-").isdigit() else None,
                title,
                command,
            )
        )
    return found


def find_pane(found: list[Pane], token: str) -> Optional[Pane]:
    """The pane a launch started (its start command names the launch's file, which carries the token)."""
    return next((p for p in found if token and token in p.start_command), None)


def user_shell(env: Mapping[str, str]) -> str:
    shell = env.get("SHELL") or ""
    return shell if os.path.isabs(shell) and os.access(shell, os.X_OK) else "/bin/sh"


def ensure_tmux_session(session: str, cwd: str, socket: Optional[str] = None) -> None:
    """The session's tmux session with its orchestrator window (the user's shell in the repository, with the
    caller's environment, whoever started the tmux server), created once; its panes stay after their command
    ends. One tmux call; no environment in its command line (tmux keeps that for the server's life)."""
    folder = os.path.join(paths.home(), "runtime", session)
    fsio.ensure_state_dir(folder)
    path = launch_file(folder, os.urandom(16).hex())
    shell = user_shell(os.environ)
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    start = pane_command(path, [shell, "-l"], env)
    done = tmux_run(
        "new-session", "-d", "-s", session, "-n", "orchestrator", "-x", "240", "-y", "80", "-c", cwd, start, ";",
        "set-option", "-w", "-t", f"={session}:0", "remain-on-exit", "on", ";",
        # each pane labelled on its top border with its worker's name (our server only: no user config is read)
        "set-option", "-w", "-t", f"={session}:0", "pane-border-status", "top", ";",
        "set-option", "-w", "-t", f"={session}:0", "pane-border-format", BORDER_FORMAT,
        socket=socket,
    )  # fmt: skip
    if not done.ok:
        _discard(path)
    if not done.ok and "duplicate session" not in done.err_text():
        raise UserError(f"tmux new-session failed: {done.error or done.err_text().strip()[:300]}")


def _discard(path: str) -> None:
    """A launch file no launcher will read (its pane never started)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def pane_label(name: str) -> str:
    """A worker's name as its pane's border shows it: one line of printable text (``core.text.clean``), shown as
    text (a user option's value is not expanded again as a format, so ``#(...)`` in a name runs nothing)."""
    from ecc_hooks.core.text import clean

    return clean(name, 100)


def launch_tmux(
    session: str,
    slug: str,
    argv: list[str],
    worktree: str,
    cwd: str,
    socket: Optional[str] = None,
    *,
    token: str,
    env: Mapping[str, str],
    label: Optional[str] = None,
) -> Launched:
    """A new pane in the session's window running ``argv`` with the environment ``env`` (through its launch file,
    named with ``token``), titled ``slug`` and labelled ``label`` (the worker's name, on its border), the window
    re-tiled: one tmux call (the new pane is the window's active one while it is titled, then the orchestrator's
    pane is again). The session is created first when it is not there (``cwd``: its orchestrator pane's folder)."""
    window = f"={session}:0"
    path = launch_file(state_dir(session, slug), token)
    start = pane_command(path, argv, {k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")})
    args = (
        "split-window", "-P", "-F", "#{pane_id}\t#{pane_pid}", "-t", window, "-c", worktree, start, ";",
        "select-pane", "-t", window, "-T", slug, ";",
        "set-option", "-p", "-t", window, LABEL_OPTION, pane_label(label or slug), ";",
        "select-layout", "-t", window, "tiled", ";",
        "select-pane", "-t", f"{window}.0",
    )  # fmt: skip
    done = tmux_run(*args, socket=socket)
    if not done.ok and any(n in done.err_text() for n in ("can't find", "no server running", "error connecting")):
        ensure_tmux_session(session, cwd, socket)
        done = tmux_run(*args, socket=socket)
    if not done.ok:
        _discard(path)
        raise UserError(f"tmux split-window failed: {done.error or done.err_text().strip()[:300]}")
    first = done.out.decode("utf-8", "replace").strip().splitlines()[0] if done.out.strip() else ""
    pane_id, _, pid_text = first.partition("\t")
    pid = int(pid_text) if pid_text.isdigit() else None
    return Launched(pane_id, pid, proc.start_time(pid) if pid else None)


def name_pane(session: str, pane: str, slug: str, socket: Optional[str] = None, label: Optional[str] = None) -> None:
    """Title the pane with the worker's slug (ECC matches panes by title), label it with its name, and keep the
    window tiled."""
    tmux("select-pane", "-t", pane, "-T", slug, socket=socket, check=False)
    tmux("set-option", "-p", "-t", pane, LABEL_OPTION, pane_label(label or slug), socket=socket, check=False)
    tmux("select-layout", "-t", f"={session}:0", "tiled", socket=socket, check=False)


def capture(pane: str, socket: Optional[str] = None, history: bool = False) -> Optional[str]:
    """What the pane shows (``history``: its whole scrollback), or None when it is gone."""
    args = ["capture-pane", "-p", "-J", "-t", pane] + (["-S", "-", "-E", "-"] if history else [])
    done = tmux_run(*args, socket=socket)
    return done.out.decode("utf-8", "replace") if done.ok else None


def capture_many(pane_ids: list[str], socket: Optional[str] = None) -> dict[str, str]:
    """Several panes' screens with one tmux call (panes that are gone are left out)."""
    if not pane_ids:
        return {}
    args: list[str] = []
    for pane in pane_ids:
        args += ["display-message", "-p", "-t", pane, SEPARATOR + pane, ";", "capture-pane", "-p", "-t", pane, ";"]
    done = tmux_run(*args[:-1], socket=socket)
    text = done.out.decode("utf-8", "replace")
    screens: dict[str, str] = {}
    for chunk in text.split(SEPARATOR)[1:]:
        pane, _, screen = chunk.partition("\n")
        screens[pane.strip()] = screen
    return screens


def send_keys(pane: str, *keys: str, literal: bool = False, socket: Optional[str] = None) -> bool:
    """Type ``keys`` into the pane; ``--`` ends tmux's options, so a key starting with ``-`` is typed.
    ``literal`` text (a task) is pasted from a tmux buffer loaded from stdin: in no command line."""
    if not literal:
        return tmux_run("send-keys", "-t", pane, "--", *keys, socket=socket).ok
    buffer = "ecc-hooks-" + os.urandom(8).hex()
    loaded = tmux_run("load-buffer", "-b", buffer, "-", socket=socket, input="".join(keys).encode())
    return loaded.ok and tmux_run("paste-buffer", "-p", "-d", "-b", buffer, "-t", pane, socket=socket).ok


# ---------------------------------------------------------------------------- claude-bg


def background_sessions(binary: str, env: Mapping[str, str], cwd: str) -> list[dict[str, object]]:
    """``claude agents --json --all``: Claude Code's background sessions (empty when it cannot say)."""
    done = proc.run([binary, "agents", "--json", "--all"], cwd=cwd, env=env, timeout=TMUX_TIMEOUT)
    try:
        listed = json.loads(done.out) if done.ok else []
    except ValueError:
        return []
    return [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []


def launch_background(
    binary: str, command: str, worktree: str, env: Mapping[str, str]
) -> tuple[str, Optional[str], Launched]:
    """Start a Claude Code background session (``command`` runs ``claude --bg ...`` and returns at once; it
    travels in the environment, not the command line): its short id, its session id, and its process."""
    argv = ["/bin/sh", "-c", f'c=${COMMAND_ENV}; unset {COMMAND_ENV}; eval "$c"']
    done = proc.run(argv, cwd=worktree, env={**env, COMMAND_ENV: command}, timeout=120)
    text = (done.out + done.err).decode("utf-8", "replace")
    found = BACKGROUNDED.search(text)
    if not done.ok or found is None:
        raise UserError(f"claude --bg did not start ({done.error or f'exit {done.code}'}): {text.strip()[-500:]}")
    handle = found.group(1)
    entry = next((s for s in background_sessions(binary, env, worktree) if s.get("id") == handle), {})
    pid = entry.get("pid") if isinstance(entry.get("pid"), int) else None
    session = entry.get("sessionId") if isinstance(entry.get("sessionId"), str) else None
    return handle, session, Launched(None, pid, proc.start_time(pid) if isinstance(pid, int) else None)


# ---------------------------------------------------------------------------- headless


def launch_headless(session: str, slug: str, argv: list[str], worktree: str, env: Mapping[str, str]) -> Launched:
    pid = proc.detach(argv, cwd=worktree, env=env, log=log_path(session, slug))
    return Launched(None, pid, proc.start_time(pid))


def find_process(token: str) -> Optional[tuple[int, int]]:
    """(pid, start time) of this user's process whose environment carries the launch token."""
    needle = f"{TOKEN_ENV}={token}".encode()
    uid = os.getuid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                environ = handle.read(1 << 20)
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            started = proc.start_time(int(entry.name))
            if started is not None:
                return int(entry.name), started
    return None


TREE_LIMIT = 256  # processes of a pane's tree looked at


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``/proc/PID/task/*/children``), at most ``TREE_LIMIT``."""
    found, queue = [], [pid]
    while queue and len(found) < TREE_LIMIT:
        current = queue.pop(0)
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", "rb") as handle:
                    queue += [int(child) for child in handle.read(1 << 16).split() if child.isdigit()]
            except OSError:
                continue
    return found


def runs_program(pid: int, word: str) -> bool:
    """Whether this user's process ``pid`` or one below it runs a program ``word`` names: its executable's path or
    its first two arguments (an interpreter's script) hold ``word`` (``claude``: the native binary, wherever the
    installer put its versions, and the npm package's script alike)."""
    uid = os.getuid()
    for member in tree(pid):
        try:
            if os.stat(f"/proc/{member}").st_uid != uid:
                continue
            with open(f"/proc/{member}/cmdline", "rb") as handle:
                argv = handle.read(1 << 16).split(b"\0")[:2]
            exe = os.readlink(f"/proc/{member}/exe")
        except OSError:
            continue
        if any(word.encode() in part.lower() for part in (*argv, os.fsencode(exe))):
            return True
    return False


def reap(pid: Optional[int]) -> None:
    """Collect a detached child of ours that ended (no zombie); nothing for another process."""
    if not pid:
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def signal_worker(pid: Optional[int], pid_start: Optional[int], sig: int = signal.SIGTERM) -> bool:
    """Signal the worker's process group, only when ``pid`` is still the process we started."""
    if not proc.alive(pid, pid_start):
        return False
    return proc.terminate(pid or 0, sig)
