"""Drive the interactive Claude Code client inside tmux (its own socket) and read its screen.

``with TmuxClaude(ws, api) as tui: tui.start(); tui.submit("hi"); tui.wait_for("reply")`` starts
``claude`` in a pane of a fixed size with the same isolated environment as print mode, types a prompt,
and polls ``capture-pane -p`` until the expected text shows up. The tmux server lives on a socket
inside the workspace and is always killed on exit, whatever happened, and the client with it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.api_server import ScriptedAPI
from tests.e2e.harness import Workspace
from tests.leakcheck import end_session

POLL = 0.2  # seconds between screen reads
WAIT_TIMEOUT = 30.0  # seconds to wait for text on the screen


class ScreenTimeout(AssertionError):
    """The expected text never appeared; the message carries the last screen."""


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


class TmuxClaude:
    """An interactive ``claude`` in a detached tmux session on a private socket."""

    def __init__(
        self,
        ws: Workspace,
        api: ScriptedAPI,
        *,
        width: int = 120,
        height: int = 40,
        model: str = "claude-sonnet-4-5",
        extra_args: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
        tmux_env: bool = False,
    ) -> None:
        self.ws, self.api = ws, api
        self.width, self.height = width, height
        self.model = model
        self.extra_args = extra_args or []
        self.extra_env = extra_env or {}
        self.tmux_env = tmux_env  # keep $TMUX and $TMUX_PANE, as a person's own claude in tmux has them
        self.socket: Path = ws.root / "tmux.sock"
        self.target = "e2e:0.0"
        self.started = False
        self.pane_pid = 0  # the pane's first process (env, then claude): its session holds the client and its hooks

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # -f /dev/null: no user tmux.conf; -S: a socket nobody else uses.
        return subprocess.run(
            ["tmux", "-f", "/dev/null", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=15,
            check=check,
        )

    def start(self) -> None:
        """Start ``claude`` (interactive) in the work dir, with exactly the workspace's environment."""
        env = self.ws.env(self.api, self.extra_env)
        command = [
            "env",
            "-i",
            *(f"{k}={v}" for k, v in env.items()),
            str(self.ws.claude),
            "--settings",
            str(self.ws.settings),
            "--model",
            self.model,
            *self.extra_args,
        ]
        if self.tmux_env:  # tmux sets them in the pane: passed through the otherwise empty environment
            command = ["sh", "-c", 'exec env -i TMUX="$TMUX" TMUX_PANE="$TMUX_PANE" "$@"', "sh", *command[2:]]
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            "-c",
            str(self.ws.work),
            *command,
        )
        self.started = True
        pane = self._tmux("display-message", "-p", "-t", self.target, "#{pane_pid}", check=False).stdout.strip()
        self.pane_pid = int(pane) if pane.isdigit() else 0
        # Keep the pane (and its last screen) if claude exits, so a failure can still be read.
        self._tmux("set-option", "-t", "e2e", "remain-on-exit", "on", check=False)

    def screen(self) -> str:
        """The visible pane as plain text (no colours)."""
        return self._tmux("capture-pane", "-p", "-t", self.target).stdout

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = WAIT_TIMEOUT) -> str:
        """Poll the screen until it contains ``what`` (or the predicate holds); return that screen."""
        test = (lambda s: what in s) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.screen()
            if test(screen):
                return screen
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"waited {timeout}s for {what!r}; screen:\n{screen}")
            time.sleep(POLL)

    def type(self, text: str) -> None:
        """Type ``text`` literally (no key names interpreted)."""
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def keys(self, *names: str) -> None:
        """Press keys by tmux name (``Enter``, ``Up``, ``C-c``)."""
        self._tmux("send-keys", "-t", self.target, *names)

    def submit(self, prompt: str) -> None:
        """Type a prompt and press Enter."""
        self.type(prompt)
        # The input box debounces typed text; Enter right after a paste-sized burst can be taken as a newline.
        self.wait_for(prompt[:40])
        self.keys("Enter")

    def close(self) -> None:
        """Kill the tmux server and wait until claude and whatever it started (hooks, the status line) are gone:
        tmux returns before the client has exited, and a client still writing into the workspace would race the
        caller's cleanup of it. A daemon a hook started in a session of its own (the watcher) is left to the test that
        checks it. Safe to call twice."""
        if self.started:
            self._tmux("kill-server", check=False)
            self.started = False
            if self.pane_pid:
                end_session(self.pane_pid)

    def __enter__(self) -> TmuxClaude:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
