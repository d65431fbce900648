"""``ecc-hooks hud`` end to end (issue 26's "done when"): the real Claude Code client in real tmux against the
scripted API, the HUD in a pane of its own, read with ``capture-pane`` and driven with ``send-keys`` as a person
at the keyboard drives it.

The person's tmux server (a private socket) has three plain Claude Code sessions, each in its own pane with our
hooks (the settings file ``ecc-hooks install`` wrote): ``p-wait`` stops at a Bash permission prompt, ``p-busy``
works (its answer is held back by the scripted API), ``p-idle`` has answered and sits at its prompt. Beside them a
runtime plan (``session create --execute``, the runtime's own tmux server) with two Claude Code workers: ``w1``
writes a file, commits it and finishes; ``w2`` keeps working. The watcher runs as on a user's machine (the first
SessionStart starts it). Then, in the HUD:

1. every row is listed, grouped, the waiting session first under "needs you" with what it waits for;
2. ``a`` on it approves the prompt: the command runs, the row leaves "needs you";
3. ``s`` then ``y`` on ``w2`` (found with the filter ``/``) stops it: its row says stopped;
4. ``A``, ``1`` (merge), Enter applies the merge queue: ``w1`` is merged, the base branch has its merge commit;
5. ``q`` quits, and the pane's terminal is given back (alternate screen and mouse reporting off).

A second test sends SIGTERM to the HUD: the terminal is given back the same way.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, SeenRequest, Step, say, tool
from tests.e2e.harness import install_ecc_hooks
from tests.e2e.runtime_world import MODEL, RuntimeWorld
from tests.e2e.tmux_runner import tmux_available
from tests.helpers import REPO, git, wait_until
from tests.leakcheck import MARKER as LEAK_MARKER
from tests.leakcheck import end_session

pytestmark = pytest.mark.e2e

SESSION = "fleet"
WIDTH, HEIGHT = 160, 48  # every column of the HUD shows from 140
PLAIN = ("p-wait", "p-busy", "p-idle")
GROUP = re.compile(r"^\s*(needs you|working|idle|finished|failed) \((\d+)\)")
WAIT = 90.0  # seconds for what other processes do (clients starting, hooks, the supervisor's ticks)


class Terminal:
    """The person's own tmux server on a private socket: one tmux session (one pane) per program, each started
    with exactly the environment given (``env -i``) plus the ``$TMUX``/``$TMUX_PANE`` tmux gives a pane, as a
    program started from a shell in that pane has them. Killed with everything in it by ``close``."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.env = env  # for tmux itself: TMUX_TMPDIR decides where the socket is
        self.config = folder / f"{name}.conf"  # no user config; panes stay after their program exits
        self.config.write_text("set-option -g remain-on-exit on\n")
        self.started = False
        self.pane_pids: list[int] = []

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.name, "-f", str(self.config), *args],
            capture_output=True, text=True, env=self.env, timeout=30, check=check,
        )  # fmt: skip

    def open(self, session: str, cwd: Path, argv: list[str], env: dict[str, str]) -> str:
        """Run ``argv`` in ``cwd`` in a new tmux session of its own; its pane's id (``%N``). The pane stays after
        its program exits (``remain-on-exit``, set before it starts): how it left the terminal can be read."""
        keep = 'exec env -i TMUX="$TMUX" TMUX_PANE="$TMUX_PANE" "$@"'
        command = ["sh", "-c", keep, "sh", *(f"{k}={v}" for k, v in env.items()), *argv]
        self.tmux("new-session", "-d", "-s", session, "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd), *command)
        self.started = True
        pane = self.tmux("display-message", "-p", "-t", f"={session}:", "#{pane_id} #{pane_pid}").stdout.split()
        self.pane_pids.append(int(pane[1]))
        return pane[0]

    def screen(self, pane: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", pane, check=False).stdout

    def show(self, pane: str, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", pane, fmt, check=False).stdout.strip()

    def exit_status(self, pane: str) -> str:
        """How the dead pane's program ended (its exit status, else the signal that killed it); empty until tmux
        has reaped it. tmux 3.3a now and then misses the SIGCHLD of a pane's program (it stays a zombie until
        another child of the server exits): a job of its own (``run-shell true``) makes it reap what is left."""
        ended = self.show(pane, "#{pane_dead_status}#{pane_dead_signal}")
        if not ended:
            self.tmux("run-shell", "true", check=False)
        return ended

    def keys(self, pane: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", pane, *keys)

    def type(self, pane: str, text: str) -> None:
        self.tmux("send-keys", "-t", pane, "-l", text)

    def close(self) -> None:
        """The server killed and every program that ran in it gone (waited for); its socket file removed."""
        if not self.started:
            return
        self.tmux("kill-server", check=False)
        for pid in self.pane_pids:
            end_session(pid)
        folder = Path(self.env.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (folder / self.name).unlink(missing_ok=True)
        self.started = False


def held(gate: threading.Event, step: Step) -> Callable[[SeenRequest], Step]:
    """A step the scripted API answers only once ``gate`` opens: the client keeps working until then."""

    def answer(_seen: SeenRequest) -> Step:
        gate.wait(300)
        return step

    return answer


def plain_project(world: RuntimeWorld, name: str) -> Path:
    """A project folder of its own for a plain session: a git repository, trusted as the user trusted it."""
    folder = world.ws.root / name
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / "README.md").write_text(f"{name}\n")
    git(folder, "add", "README.md")
    git(folder, "-c", "user.name=u", "-c", "user.email=u@example.com", "commit", "-qm", "start")
    config = json.loads((world.ws.home / ".claude.json").read_text())
    config["projects"][str(folder.resolve())] = dict(config["projects"][str(world.ws.work)])
    (world.ws.home / ".claude.json").write_text(json.dumps(config, indent=2))
    return folder.resolve()


def table(screen: str) -> list[str]:
    """The HUD's table: the lines between its summary (the first line) and the preview's tab bar."""
    lines = screen.splitlines()
    end = next((i for i, line in enumerate(lines) if "Screen" in line and "Events" in line), len(lines))
    return lines[1:end]


def groups(screen: str) -> list[tuple[str, int, list[str]]]:
    """The table's groups in screen order: (title, count in its title, its rows' lines)."""
    found: list[tuple[str, int, list[str]]] = []
    for line in table(screen):
        header = GROUP.match(line)
        if header:
            found.append((header.group(1), int(header.group(2)), []))
        elif found and any(c.isalnum() for c in line):  # not a blank line, not the preview's border
            found[-1][2].append(line)
    return found


def group_of(screen: str, name: str) -> str | None:
    """The group the row named ``name`` is listed under (None: not listed)."""
    return next((title for title, _, rows in groups(screen) for row in rows if f" {name}" in f" {row}"), None)


def row_line(screen: str, name: str) -> str:
    return next((row for _, _, rows in groups(screen) for row in rows if f" {name}" in f" {row}"), "")


@pytest.fixture
def terminal(runtime_world: Callable[..., RuntimeWorld]) -> Iterator[Callable[[RuntimeWorld], Terminal]]:
    """The person's tmux server, killed after the test (before the runtime's world is closed)."""
    made: list[Terminal] = []

    def make(world: RuntimeWorld) -> Terminal:
        made.append(Terminal(f"ecc-e2e-hud-{os.getpid()}", world.env, world.ws.root))
        return made[-1]

    try:
        yield make
    finally:
        for one in made:
            one.close()


def hud_argv() -> list[str]:
    return [sys.executable, "-m", "ecc_hooks", "hud"]


def test_the_hud_lists_every_session_and_worker_and_its_keys_act(
    runtime_world: Callable[..., RuntimeWorld],
    terminal: Callable[[RuntimeWorld], Terminal],
    scripted_api: ScriptedAPI,
) -> None:
    world = runtime_world(SESSION, ["w1", "w2"])
    ws = world.ws
    world.env["ECC_HOOKS_NO_WATCHER"] = "0"  # as on a user's machine: the first SessionStart starts the watcher
    world.client_config(messageIdleNotifThresholdMs=600_000)  # the idle one stays idle (no "waiting for input")
    world.user_settings({"permissions": {"allow": ["Bash(git add:*)", "Bash(git commit:*)"]}})  # w1 commits
    hooks = ws.root / "user-hooks.json"  # what `ecc-hooks install --settings-file` wrote: our hooks only
    install_ecc_hooks(hooks, {**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)})
    busy, working = threading.Event(), threading.Event()
    w1_file = world.worktree("w1") / "w1.txt"
    scripted_api.scenario = Scenario(
        steps=[say("unexpected conversation")],
        subagents={
            "TASK-WAIT": [
                tool("Bash", {"command": "touch approved-by-hud.txt", "description": "make a file"}),
                say("WAIT-DONE"),
            ],
            "TASK-BUSY": [held(busy, say("BUSY-DONE"))],
            "TASK-IDLE": [say("IDLE-DONE")],
            "TASK-W1": [
                tool("Write", {"file_path": str(w1_file), "content": "from w1\n"}),
                tool("Bash", {"command": "git add w1.txt", "description": "stage it"}),
                tool("Bash", {"command": "git commit -qm 'w1: add w1.txt'", "description": "commit it"}),
                say("W1-DONE"),
            ],
            "TASK-W2": [held(working, say("W2-DONE"))],
        },
    )
    screens = terminal(world)
    try:
        run_the_story(world, screens, hooks, w1_file)
    finally:
        busy.set()
        working.set()


def run_the_story(world: RuntimeWorld, screens: Terminal, hooks: Path, w1_file: Path) -> None:
    ws = world.ws
    claude = [str(ws.claude), "--settings", str(hooks), "--model", MODEL]
    panes = {name: screens.open(name, plain_project(world, name), claude, world.env) for name in PLAIN}
    plan = world.plan(
        [
            {"name": "w1", "task": "TASK-W1: write w1.txt and commit it", "agent": "claude", "model": MODEL,
             "permissionMode": "acceptEdits"},
            {"name": "w2", "task": "TASK-W2: keep at it", "agent": "claude", "model": MODEL},
        ]
    )  # fmt: skip
    created = world.ecc("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr
    prompts = {"p-wait": "TASK-WAIT: make the file", "p-busy": "TASK-BUSY: think", "p-idle": "TASK-IDLE: say hi"}
    for name, pane in panes.items():
        wait_until(lambda: "\u276f" in screens.screen(pane), WAIT, lambda: screens.screen(pane))  # noqa: B023
        screens.type(pane, prompts[name])
        wait_until(lambda: prompts[name] in screens.screen(pane), 30, lambda: screens.screen(pane))  # noqa: B023
        screens.keys(pane, "Enter")
    hud = screens.open("hud", ws.work, hud_argv(), world.env)

    def screen() -> str:
        return screens.screen(hud)

    def until(check: Callable[[str], Any], what: str, timeout: float = WAIT) -> str:
        """Poll the HUD's screen until ``check`` holds for one capture of it (every check reads one screen: its
        ages tick between two captures); that screen."""
        last = [""]

        def holds() -> str | None:
            last[0] = screen()
            return last[0] if check(last[0]) else None

        return wait_until(holds, timeout, lambda: f"{what}; the HUD shows:\n{last[0]}", interval=0.2)

    # 1. everything listed, the waiting session first, with what it waits for
    want = [("needs you", 1), ("working", 2), ("idle", 1), ("finished", 1)]
    shown = until(lambda s: [(t, n) for t, n, _ in groups(s)] == want, f"the groups {want}")
    first = groups(shown)[0]
    assert first[0] == "needs you" and "p-wait" in first[2][0], shown
    assert "needs permission to use Bash" in first[2][0] and "WAITING" in first[2][0], shown  # what, since when
    assert "1 needs you" in shown.splitlines()[0], shown  # the summary line
    assert {group_of(shown, n) for n in ("p-busy", f"{SESSION}/w2")} == {"working"}, shown
    assert group_of(shown, "p-idle") == "idle" and group_of(shown, f"{SESSION}/w1") == "finished", shown
    assert "completed" in row_line(shown, f"{SESSION}/w1"), shown
    assert "Do you want to proceed?" in screens.screen(panes["p-wait"])

    # 2. `a` on the waiting row (the first: `g`) approves its prompt: the command runs, the row leaves "needs you"
    screens.keys(hud, "g")
    screens.keys(hud, "a")
    approved = ws.root / "p-wait" / "approved-by-hud.txt"
    wait_until(approved.exists, WAIT, lambda: f"the approved command never ran:\n{screen()}")
    wait_until(lambda: "WAIT-DONE" in screens.screen(panes["p-wait"]), WAIT, lambda: screens.screen(panes["p-wait"]))
    shown = until(lambda s: group_of(s, "p-wait") == "idle", "p-wait idle")
    assert not any(title == "needs you" for title, _, _ in groups(shown)), shown

    # 3. `s` then `y` on w2 (the filter picks it) stops it: its row says stopped
    screens.keys(hud, "/")
    until(lambda s: "Filter rows" in s, "the filter's prompt")
    screens.type(hud, f"{SESSION}/w2")
    screens.keys(hud, "Enter")
    until(lambda s: [r for _, _, rows in groups(s) for r in rows] == [row_line(s, f"{SESSION}/w2")], "w2 alone")
    screens.keys(hud, "g")
    screens.keys(hud, "s")
    until(lambda s: f"Stop {SESSION}/w2?" in s, "the stop's confirmation")
    screens.keys(hud, "y")
    wait_until(lambda: world.worker("w2").state == "stopped", WAIT, lambda: f"{world.worker('w2')}\n{screen()}")
    shown = until(lambda s: "stopped" in row_line(s, f"{SESSION}/w2"), "w2's row stopped")
    assert group_of(shown, f"{SESSION}/w2") == "finished", shown
    screens.keys(hud, "/")
    until(lambda s: "Filter rows" in s, "the filter's prompt")
    screens.keys(hud, *["BSpace"] * 20, "Enter")
    until(lambda s: group_of(s, "p-busy") == "working" and "filter:" not in s, "every row again")

    # 4. `A`, `1` (merge), Enter: the queue is applied, w1 is merged and the base branch has its merge commit
    base = git(ws.work, "rev-parse", "main")
    screens.keys(hud, "A")
    until(lambda s: "Apply the merge queue" in s, "the apply's confirmation")
    screens.keys(hud, "1")
    screens.keys(hud, "Enter")
    wait_until(lambda: world.worker("w1").state == "merged", WAIT, lambda: f"{world.worker('w1')}\n{screen()}")
    until(lambda s: "merged" in row_line(s, f"{SESSION}/w1"), "w1's row merged")
    parents = git(ws.work, "log", "-1", "--format=%P", "main").split()
    assert parents == [base, git(ws.work, "rev-parse", world.worker("w1").branch)], parents  # w1's commit merged
    assert git(ws.work, "log", "-1", "--format=%s", "main").startswith(f"Merge w1 ({SESSION}): TASK-W1")
    assert (ws.work / "w1.txt").read_text() == "from w1\n"  # the base's checkout followed
    assert w1_file.exists()

    # 5. `q` quits: the pane's terminal is given back
    quit_and_check(screens, hud, lambda: screens.keys(hud, "q"))


def quit_and_check(screens: Terminal, pane: str, stop: Callable[[], None]) -> None:
    """The HUD drew on the alternate screen with mouse reporting on; after ``stop`` its process is gone, it exited
    cleanly, and the pane's terminal has neither left on."""
    assert screens.show(pane, "#{alternate_on} #{mouse_any_flag}") == "1 1", screens.screen(pane)
    stop()
    wait_until(lambda: screens.show(pane, "#{pane_dead}") == "1", 30, lambda: screens.screen(pane))
    ended = wait_until(lambda: screens.exit_status(pane), 30, lambda: screens.screen(pane))
    assert ended == "0", f"exit status, signal: {ended}\n{screens.screen(pane)}"
    assert screens.show(pane, "#{alternate_on} #{mouse_any_flag}") == "0 0", screens.screen(pane)


def test_sigterm_gives_the_terminal_back(tmp_path: Path) -> None:
    if not tmux_available():
        pytest.skip("tmux not installed")
    home, ecc_home = tmp_path / "home", tmp_path / "ecc"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ECC_HOOKS_HOME": str(ecc_home),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "PYTHONPATH": str(REPO),
        "ECC_HOOKS_NO_WATCHER": "1",
    }
    for name in ("TMUX_TMPDIR", LEAK_MARKER):
        if os.environ.get(name):
            env[name] = os.environ[name]
    screens = Terminal(f"ecc-e2e-hud-term-{os.getpid()}", env, tmp_path)
    try:
        hud = screens.open("hud", tmp_path, hud_argv(), env)
        wait_until(lambda: "no sessions yet" in screens.screen(hud), WAIT, lambda: screens.screen(hud))
        pid = int(screens.show(hud, "#{pane_pid}"))

        def terminate() -> None:
            os.kill(pid, signal.SIGTERM)

        quit_and_check(screens, hud, terminate)
    finally:
        screens.close()
