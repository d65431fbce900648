"""The full-screen HUD (``ecc-hooks hud``) in a real terminal, against a bare Textual app (a script, not a test).

    .venv/bin/python benchmarks/bench_hud.py [--quick] [--runs 9] [--presses 30] [--cpu-rounds 3] [--load-seconds 10]
        [--idle-seconds 10] [--only frame,cpu,keys] [--checkout DIR]

The world is made the way the product makes it: 20 Claude Code sessions (each its own project folder and a
1 MB transcript) whose hook events go through the real hook (``capture.hook.handle``, the bytes the hook
command writes) and are folded by a real watcher (``ecc-hooks watch --foreground``) in a private
ECC_HOOKS_HOME, so each has the watcher's own ``hud.json``: 4 wait at a permission prompt, 12 work, 4 are
idle. Every arm runs in tmux on a private socket (``tmux -L bench-<random>``, 160x48), its command ``exec``-ed
so the pane's pid is the app, its screen read with ``tmux capture-pane -p`` (``-e`` for the selection).

Arms, in the same loop (alternated, the order rotating every round):

- ``ecc-hooks hud``: the console script, as a user starts it.
- ``bare Textual``: the floor of what Textual costs: an App with a DataTable of 20 rows (as many columns) and a
  Footer, a ``?`` help screen closed by ``q``, a ``/`` prompt closed by Escape, ``j``/``k`` moving the cursor; its
  cells change once a second (as the HUD's ages do) and, under load, ``LOADED_HZ`` times a second (as the HUD's
  rows do with 100 events/s: the watcher writes in rounds): what a DataTable costs to repaint at that rate.
- claude-squad and ECC 2.0's dashboard (``ecc2 dashboard``) when one is installed here; when none is, the
  reason is printed and the rest still runs.

Measured (figures are reported, not asserted):

1. Time to first frame: from just before ``tmux new-session`` starts the pane (the tmux client's own start is
   in both arms) to the first capture showing every session row the table shows once settled; median over
   ``--runs`` fresh starts per arm, and the per-round ratio. Target <= 0.5 s.
2. Peak RSS: ``VmHWM`` of the app's process after its first frame and a second of settling, median over the
   runs. Target <= 80 MB.
3. CPU: ``utime + stime`` of the app's process over ``--cpu-rounds`` windows of ``--load-seconds`` (median) while every session emits 5 hook
   events a second (100 events/s: a tool call's PreToolUse and PostToolUse, its transcript lines appended
   first, as the client does), so the watcher rewrites the hud.json files as in life; the watcher's own CPU
   over the same window; and each app's CPU idle (no events). Target <= 10% of a core.
4. Key-to-screen latency: ``tmux send-keys`` a key, then capture every ~3 ms until its effect shows (``?``:
   the help's title; ``q``: it is gone; ``/``: the filter prompt; Escape: gone; ``j``: the highlighted row is
   the next one). Median and p95 over ``--presses`` presses per key. Target <= 100 ms. The resolution is one
   capture-pane (a tmux client process, measured and printed).

The environment is the same for every arm and favours none (``honest.py``): no PYTHON* variable
(``PYTHONDONTWRITEBYTECODE`` would recompile on every start), bytecode caches warmed by a start of each arm
before timing, the same TERM (tmux-256color), COLORTERM (truecolor), LANG and size; checked from each app's
/proc/PID/environ. Nothing is left behind: the tmux server (its socket under the scratch folder: TMUX_TMPDIR) and
the watcher are killed in ``finally``, and the scratch folder removed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import honest  # noqa: E402
from bench_transcript import assistant, generate  # noqa: E402
from bench_watch import cpu_seconds, pct, peak_rss_mb  # noqa: E402

SESSIONS = 20
WAITING, IDLE = range(0, 4), range(16, 20)  # the others work
WIDTH, HEIGHT = 160, 48
TERM, COLORTERM = "tmux-256color", "truecolor"
EVENTS_PER_SESSION = 5  # per second
POLL = 0.003  # seconds between two captures
HELP_TITLE = "keys (rebind them"  # the HUD's help screen; the bare app's says the same
FILTER_TITLE = "Filter rows"
BARE = "--bare-app"
LOADED_HZ = 5  # the bare app's refreshes a second under load: the HUD's batches of file events at 100 events/s


# ---------------------------------------------------------------------------------------------- the bare floor


def bare_app() -> None:
    """The floor: what Textual itself costs for a table of 20 rows, a footer, a help screen and a prompt."""
    import asyncio
    import signal

    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.screen import ModalScreen
    from textual.widgets import DataTable, Footer, Input, Static

    class Help(ModalScreen[None]):
        BINDINGS = [Binding("escape,q", "close", "close")]

        def compose(self) -> ComposeResult:
            yield Static(f"bare: {HELP_TITLE} nowhere)\n" + "\n".join(f"key {i}" for i in range(30)))

        def action_close(self) -> None:
            self.dismiss(None)

    class Prompt(ModalScreen[None]):
        BINDINGS = [Binding("escape", "close", "close")]

        def compose(self) -> ComposeResult:
            yield Static(f"{FILTER_TITLE} (bare)")
            yield Input()

        def action_close(self) -> None:
            self.dismiss(None)

    class Bare(App[None]):
        BINDINGS = [
            Binding("j", "down", "down"),
            Binding("k", "up", "up"),
            Binding("question_mark", "help", "help"),
            Binding("slash", "filter", "filter"),
            Binding("q", "quit", "quit"),
        ]

        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            for name in ("NAME", "AGENT", "STATE", "CONTEXT", "COST", "TOOLS", "CHECKS", "WHERE", "WHAT"):
                table.add_column(name, key=name)
            for i in range(SESSIONS):
                table.add_row(
                    row_name(i), "claude", "running 0s", "██░░░░  30%", "$0.42", "0", "-", "main", "x", key=str(i)
                )
            self.ticks = 0
            self.set_interval(1.0, self.tick)  # the HUD's ages move once a second
            # under load (SIGUSR1) its rows change as often as the HUD's do (the watcher's rounds of writes)
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGUSR1, lambda: self.set_interval(1.0 / LOADED_HZ, self.tick))

        def tick(self) -> None:
            self.ticks += 1
            table = self.query_one(DataTable)
            for i in range(SESSIONS):
                table.update_cell(str(i), "STATE", f"running {self.ticks}s")
                table.update_cell(str(i), "TOOLS", str(self.ticks * 5 + i))

        def action_down(self) -> None:
            self.query_one(DataTable).action_cursor_down()

        def action_up(self) -> None:
            self.query_one(DataTable).action_cursor_up()

        def action_help(self) -> None:
            self.push_screen(Help())

        def action_filter(self) -> None:
            self.push_screen(Prompt())

    Bare().run()


def row_name(i: int) -> str:
    """The name a row shows: the HUD shows ``<folder> <session id[:8]>``; the bare app the same."""
    return f"proj-{i:02d} {session_id(i)[:8]}"


def session_id(i: int) -> str:
    return f"{i:08x}-b3c4-4d5e-8f60-{i:012x}"


# ---------------------------------------------------------------------------------------------- the world


class World:
    """20 sessions in a private ECC_HOOKS_HOME, their events through the real hook, folded by a real watcher."""

    def __init__(self, root: Path, env: dict[str, str], ecc_hooks: str) -> None:
        self.root = root
        self.ecc_hooks = ecc_hooks
        self.home = root / "ecc"
        self.env = {**env, "ECC_HOOKS_HOME": str(self.home), "ECC_HOOKS_NO_WATCHER": "1", "HOME": str(root)}
        self.transcripts: dict[str, Path] = {}
        self.fired = 0
        self.watcher: Optional[subprocess.Popen[bytes]] = None
        os.environ["ECC_HOOKS_HOME"] = str(self.home)  # the in-process hook writes where the watcher reads
        os.environ["ECC_HOOKS_NO_WATCHER"] = "1"  # the watcher is ours; no hook starts another

    def start(self) -> None:
        seed = self.root / "seed.jsonl"
        generate(str(seed), 1)
        for i in range(SESSIONS):
            sid = session_id(i)
            (self.root / "w" / f"proj-{i:02d}").mkdir(parents=True)  # the session's working folder
            path = self.root / "projects" / f"-w-proj-{i:02d}" / f"{sid}.jsonl"
            path.parent.mkdir(parents=True)
            shutil.copyfile(seed, path)
            self.transcripts[sid] = path
        self.watcher = subprocess.Popen(
            [self.ecc_hooks, "watch", "--foreground", "--idle-exit", "900"],
            env=self.env,
            cwd=str(self.root),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: (self.home / "watch.lock").exists(), 60, "the watcher did not start")
        time.sleep(0.5)
        for i in range(SESSIONS):
            sid = session_id(i)
            self.fire(sid, "SessionStart", source="startup")
            self.fire(sid, "UserPromptSubmit", prompt=f"make proj-{i:02d}'s tests pass")
            for k in range(3):
                self.tool_call(sid, k)
            if i in WAITING:
                self.fire(sid, "PermissionRequest", tool_name="Bash", tool_input={"command": "rm -rf build"})
            elif i in IDLE:
                self.fire(sid, "Stop", stop_hook_active=False)
        huds = [self.home / "sessions" / session_id(i) / "hud.json" for i in range(SESSIONS)]
        wait_for(lambda: all(tools_total(h) >= 3 for h in huds), 120, "the watcher did not fold every session")

    def fire(self, sid: str, event: str, **extra: object) -> None:
        from ecc_hooks.capture import hook

        payload = {
            "session_id": sid,
            "hook_event_name": event,
            "cwd": str(self.root / "w" / self.transcripts[sid].parent.name.removeprefix("-w-")),
            "transcript_path": str(self.transcripts[sid]),
            "permission_mode": "default",
            **extra,
        }
        hook.handle(json.dumps(payload).encode(), None, time.time())
        self.fired += 1

    def tool_call(self, sid: str, n: int) -> None:
        """One tool call as the client makes it: transcript line, PreToolUse, result line, PostToolUse."""
        self.tool_half(sid, n, 0)
        self.tool_half(sid, n, 1)

    def tool_half(self, sid: str, n: int, half: int) -> None:
        tool_id = f"toolu_bench_{sid[:8]}_{n}"
        command = {"command": f"pytest -q tests/test_{n % 7}.py"}
        if half == 0:
            with self.transcripts[sid].open("ab") as fh:
                fh.write(assistant(10_000_000 + n, 1, out=80))
            self.fire(sid, "PreToolUse", tool_name="Bash", tool_use_id=tool_id, tool_input=command)
            return
        with self.transcripts[sid].open("ab") as fh:
            result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id}]}
            fh.write(json.dumps({"type": "user", "message": result}).encode() + b"\n")
        self.fire(
            sid,
            "PostToolUse",
            tool_name="Bash",
            tool_use_id=tool_id,
            tool_input=command,
            tool_response={"stdout": "ok", "stderr": "", "interrupted": False},
        )

    def stop(self) -> None:
        if self.watcher is not None and self.watcher.poll() is None:
            self.watcher.kill()
            self.watcher.wait()


class Load:
    """Every session emitting ``EVENTS_PER_SESSION`` hook events a second, on a thread, until stopped."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.events = 0
        self.seconds = 0.0
        self.late = 0.0  # how far behind its schedule it fell at worst

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        step = 1.0 / (EVENTS_PER_SESSION * SESSIONS)
        start = time.perf_counter()
        n = 0
        calls = [1000] * SESSIONS
        while not self.stopping.is_set():
            due = start + n * step
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            else:
                self.late = max(self.late, now - due)
            i = n % SESSIONS
            half = (n // SESSIONS) % 2
            self.world.tool_half(session_id(i), calls[i], half)
            if half == 1:
                calls[i] += 1
            n += 1
        self.events = n
        self.seconds = time.perf_counter() - start


# ---------------------------------------------------------------------------------------------- the terminal


class Tmux:
    """A tmux server on its own socket; every pane an ``exec``-ed app of a fixed environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"bench-{secrets.token_hex(4)}"
        self.env = env
        self.count = 0

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=self.env)
        if check and result.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def start_server(self) -> None:
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "keeper", "-x", str(WIDTH), "-y", str(HEIGHT))
        for option in (("default-terminal", TERM), ("default-size", f"{WIDTH}x{HEIGHT}"), ("history-limit", "0")):
            self.tmux("set-option", "-g", *option)

    def open(self, command: list[str], app_env: dict[str, str]) -> tuple[str, int, float]:
        """A new session running ``command``; its name, the app's pid, and the moment just before it started."""
        self.count += 1
        name = f"arm{self.count}"
        assignments = [f"{k}={v}" for k, v in sorted(app_env.items())]
        shell = "exec env -i " + " ".join(_quote(x) for x in assignments + command)
        t0 = time.perf_counter()
        out = self.tmux(
            "new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), shell
        )
        return name, int(out.strip()), t0

    def capture(self, name: str, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", name, check=False)

    def keys(self, name: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", name, *keys)

    def close(self, name: str, pid: int) -> None:
        self.tmux("kill-session", "-t", name, check=False)
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 10, f"pid {pid} outlived its pane")

    def kill_server(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, env=self.env)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def wait_for(done: Callable[[], bool], timeout: float, what: str, step: float = 0.01) -> float:
    """Seconds until ``done()``; raises SystemExit with ``what`` after ``timeout``."""
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout:
            raise SystemExit(what)
        time.sleep(step)
    return time.perf_counter() - start


def tools_total(path: Path) -> int:
    try:
        return int(json.loads(path.read_bytes()).get("toolCalls", {}).get("total", -1))
    except (OSError, ValueError, TypeError):
        return -1


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(x.decode(errors="replace").split("=", 1) for x in raw if b"=" in x)


# ---------------------------------------------------------------------------------------------- the arms


class Arm:
    """One app as it is started, and what its screen shows when it is up."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.rows: set[str] = set()  # the session rows its table shows once settled (learned at warm-up)

    def shown(self, screen: str) -> set[str]:
        return {row_name(i) for i in range(SESSIONS) if row_name(i) in screen}

    def ready(self, screen: str) -> bool:
        return bool(self.rows) and self.rows <= self.shown(screen)


def first_frame(tmux: Tmux, arm: Arm, settle: float = 1.0) -> tuple[float, float, str, int]:
    """Start ``arm`` in a fresh pane; seconds to its first full frame, its peak RSS (MB), the session, the pid."""
    name, pid, t0 = tmux.open(arm.command, arm.env)
    while True:
        screen = tmux.capture(name)
        if arm.ready(screen):
            elapsed = time.perf_counter() - t0
            break
        if time.perf_counter() - t0 > 30:
            raise SystemExit(f"{arm.name}: no full frame in 30 s; the screen:\n{screen}")
        time.sleep(POLL)
    time.sleep(settle)
    return elapsed, peak_rss_mb(pid), name, pid


def learn(tmux: Tmux, arm: Arm, timeout: float = 60.0) -> dict[str, str]:
    """A first start (warms the bytecode caches): which rows its table shows once settled (the same rows in two
    captures a second apart); the app's environment."""
    name, pid, t0 = tmux.open(arm.command, arm.env)
    before: set[str] = set()
    while True:
        time.sleep(1.0)
        screen = tmux.capture(name)
        now = arm.shown(screen)
        if now and now == before:
            break
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"{arm.name} shows no settled rows in {timeout:g} s; its screen:\n{screen}")
        before = now
    arm.rows = now
    seen = environ(pid)
    tmux.close(name, pid)
    return seen


def cpu_window(pid: int, seconds: float, watcher: Optional[int] = None) -> tuple[float, float]:
    """% of a core used by ``pid`` (and by ``watcher``) over ``seconds``."""
    c0, w0, t0 = cpu_seconds(pid), cpu_seconds(watcher) if watcher else 0.0, time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - t0
    app = 100 * (cpu_seconds(pid) - c0) / elapsed
    return app, (100 * (cpu_seconds(watcher) - w0) / elapsed if watcher else float("nan"))


# --- keys: each press's effect, read off the screen


def _help_open(screen: str) -> bool:
    return HELP_TITLE in screen


def _filter_open(screen: str) -> bool:
    return FILTER_TITLE in screen


SELECTED = re.compile(r"proj-(\d\d) ")
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _background(params: str, current: str) -> str:
    """The background after one SGR sequence (tmux writes only the changes, so it carries over lines)."""
    codes = params.split(";") if params else ["0"]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in ("", "0", "49"):
            current = ""
        elif code in ("38", "48"):
            width = 4 if codes[i + 1 : i + 2] == ["2"] else 2
            if code == "48":
                current = ";".join(codes[i : i + 1 + width])
            i += width
        elif code.isdigit() and (40 <= int(code) <= 47 or 100 <= int(code) <= 107):
            current = code
        i += 1
    return current


def selected_row(tmux: Tmux, name: str) -> Optional[int]:
    """The row drawn highlighted: of the rows' lines, the one whose background differs from all the others'."""
    background = ""
    by_background: dict[str, list[int]] = {}
    for line in tmux.capture(name, escapes=True).splitlines():
        match = SELECTED.search(SGR.sub("", line))
        at = 0
        for sgr in SGR.finditer(line):
            if match is not None and len(SGR.sub("", line[: sgr.start()])) > match.start():
                break
            background = _background(sgr.group(1), background)
            at = sgr.end()
        if match is not None:
            by_background.setdefault(background, []).append(int(match.group(1)))
        for sgr in SGR.finditer(line, at):  # the rest of the line, for the next one
            background = _background(sgr.group(1), background)
    alone = [rows for rows in by_background.values() if len(rows) == 1]
    return alone[0][0] if len(by_background) > 1 and len(alone) == 1 else None


def press(tmux: Tmux, name: str, key: str, effect: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds from sending ``key`` until ``effect()`` holds (polled every POLL)."""
    t0 = time.perf_counter()
    tmux.keys(name, key)
    while not effect():
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"{key!r}: no effect on screen in {timeout} s:\n{tmux.capture(name)}")
        time.sleep(POLL)
    return time.perf_counter() - t0


def key_latencies(tmux: Tmux, name: str, presses: int) -> dict[str, list[float]]:
    """Each key's press-to-screen latencies in one running app, ``presses`` times each."""
    out: dict[str, list[float]] = {k: [] for k in ("?", "q (close help)", "/", "Escape (close prompt)", "j/k")}
    for _ in range(presses):
        out["?"].append(press(tmux, name, "?", lambda: _help_open(tmux.capture(name))))
        out["q (close help)"].append(press(tmux, name, "q", lambda: not _help_open(tmux.capture(name))))
        out["/"].append(press(tmux, name, "/", lambda: _filter_open(tmux.capture(name))))
        out["Escape (close prompt)"].append(press(tmux, name, "Escape", lambda: not _filter_open(tmux.capture(name))))
        here = selected_row(tmux, name)
        if here is None:
            continue
        out["j/k"].append(press(tmux, name, "j", lambda at=here: selected_row(tmux, name) not in (None, at)))
        out["j/k"].append(press(tmux, name, "k", lambda at=here: selected_row(tmux, name) == at))
    return out


# ---------------------------------------------------------------------------------------------- competitors


def competitors() -> dict[str, str]:
    """claude-squad and ECC 2.0's dashboard: each one's command when installed here, else why not."""
    found: dict[str, str] = {}
    squad = shutil.which("claude-squad") or shutil.which("cs")
    if squad:
        found["claude-squad"] = f"installed at {squad}, but no world of its own is built here: not measured"
    else:
        npm = (
            subprocess.run(["npm", "view", "claude-squad", "version"], capture_output=True, text=True, timeout=120)
            if shutil.which("npm")
            else None
        )
        npm_says = (
            "npm not found" if npm is None else
            (f"npm has claude-squad {npm.stdout.strip()}" if npm.returncode == 0 else "not on npm (npm view: 404)")
        )  # fmt: skip
        go = shutil.which("go")
        go_says = "no Go toolchain" if go is None else subprocess.run([go, "version"], capture_output=True,
                                                                      text=True).stdout.strip()  # fmt: skip
        found["claude-squad"] = (
            f"not installed: {npm_says}; no Debian package; it builds from source with Go >= 1.23 (its go.mod) "
            f"and its modules from GitHub, neither reachable here ({go_says}; Debian's golang-go is 1.19)"
        )
    ecc2 = shutil.which("ecc2") or next(
        (str(p) for p in Path.home().glob(".cache/ecc-hooks/ecc-universal-*/node_modules/**/ecc2") if p.is_file()),
        None,
    )
    if ecc2:
        found["ECC 2.0 dashboard"] = f"ecc2 at {ecc2}, but no ECC2 database is built here: not measured"
    else:
        found["ECC 2.0 dashboard"] = (
            "not installed: the npm package ecc-universal ships no ecc2 binary (its ecc-control-pane is a web "
            "page, not a terminal dashboard); ecc2 is Rust in ECC's repository, built with cargo from crates.io, "
            "which is not reachable here"
        )
    return found


# ---------------------------------------------------------------------------------------------- main


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh starts per arm for the first frame")
    parser.add_argument("--presses", type=int, default=30, help="presses of each key per arm")
    parser.add_argument("--load-seconds", type=float, default=10.0, help="CPU window under load, per round")
    parser.add_argument("--cpu-rounds", type=int, default=3, help="rounds of the CPU windows (median)")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="a short run: 3 starts, 8 presses, 6 s windows")
    parser.add_argument("--checkout", default=str(REPO), help="the checkout whose .venv/bin/ecc-hooks is measured")
    parser.add_argument("--only", default="frame,cpu,keys", help="which measures (comma-separated): frame,cpu,keys")
    parser.add_argument(BARE, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_app:
        bare_app()
        return 0
    if args.quick:
        args.runs, args.presses, args.load_seconds, args.idle_seconds, args.cpu_rounds = 3, 8, 6.0, 4.0, 1
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed")

    base, dropped = honest.clean_env()
    for var in ("NO_COLOR", "TMUX", "TMUX_PANE", "TEXTUAL"):
        base.pop(var, None)
    root = Path(tempfile.mkdtemp(prefix="bench-hud-"))
    venv = Path(args.checkout).resolve() / ".venv" / "bin"
    world = World(root, base, str(venv / "ecc-hooks"))
    app_env = {
        "PATH": base.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "TERM": TERM,
        "COLORTERM": COLORTERM,
        "ECC_HOOKS_HOME": str(world.home),
        "ECC_HOOKS_NO_WATCHER": "1",
    }
    python = str(venv / "python") if (venv / "python").exists() else sys.executable
    arms = [
        Arm("ecc-hooks hud", [str(venv / "ecc-hooks"), "hud"], app_env),
        Arm("bare Textual", [python, str(Path(__file__).resolve()), BARE], app_env),
    ]
    tmux = Tmux({**base, "TMUX_TMPDIR": str(root)})  # its socket in the scratch folder, removed with it
    report: list[str] = []
    try:
        t = time.perf_counter()
        world.start()
        report.append(
            f"world: {SESSIONS} sessions, {world.fired} hook events through capture.hook.handle, folded by a real "
            f"watcher (pid {world.watcher.pid if world.watcher else '?'}) in {time.perf_counter() - t:.1f} s"
        )
        tmux.start_server()
        for arm in arms:
            seen = learn(tmux, arm)
            leaks = sorted(k for k in seen if k.startswith("PYTHON"))
            report.append(
                f"{arm.name}: env TERM={seen.get('TERM')} COLORTERM={seen.get('COLORTERM')} LANG={seen.get('LANG')} "
                f"PYTHON*: {', '.join(leaks) or 'none'}; rows on its screen when settled: {len(arm.rows)} of {SESSIONS}"
            )
        t = time.perf_counter()
        for _ in range(20):
            tmux.capture("keeper")
        resolution = (time.perf_counter() - t) / 20 + POLL

        # 1 + 2: first frame and peak RSS, fresh starts, the order rotating
        only = set(args.only.split(","))
        frames: dict[str, list[float]] = {a.name: [] for a in arms}
        rss: dict[str, list[float]] = {a.name: [] for a in arms}
        for r in range(args.runs if "frame" in only else 0):
            for arm in arms[r % 2 :] + arms[: r % 2]:
                elapsed, peak, name, pid = first_frame(tmux, arm)
                frames[arm.name].append(elapsed)
                rss[arm.name].append(peak)
                tmux.close(name, pid)

        # 3: CPU idle and under load: each app alone, in rounds, the order rotating; medians over the rounds
        idle_all: dict[str, list[float]] = {a.name: [] for a in arms}
        loaded_all: dict[str, list[float]] = {a.name: [] for a in arms}
        watcher_all: dict[str, list[float]] = {a.name: [] for a in arms}
        rates: list[str] = []
        watcher_pid = world.watcher.pid if world.watcher else None
        for r in range(args.cpu_rounds if "cpu" in only else 0):
            for arm in arms[r % 2 :] + arms[: r % 2]:
                _, _, name, pid = first_frame(tmux, arm, settle=2.0)
                idle_all[arm.name].append(cpu_window(pid, args.idle_seconds)[0])
                with Load(world) as load:
                    if arm.name == "bare Textual":
                        os.kill(pid, signal.SIGUSR1)
                    time.sleep(1.0)  # the load is steady
                    app_cpu, watcher_cpu = cpu_window(pid, args.load_seconds, watcher_pid)
                loaded_all[arm.name].append(app_cpu)
                watcher_all[arm.name].append(watcher_cpu)
                rates.append(f"{load.events / load.seconds:.0f}/s (lag <= {load.late * 1000:.0f} ms)")
                if not arm.ready(tmux.capture(name)):
                    report.append(f"{arm.name}: rows missing from its screen after the load")
                tmux.close(name, pid)
        idle = {k: statistics.median(v) for k, v in idle_all.items() if v}
        loaded = {k: statistics.median(v) for k, v in loaded_all.items() if v}
        watcher_cpu_median = {k: statistics.median(v) for k, v in watcher_all.items() if v}

        # 4: key-to-screen latency
        keys: dict[str, dict[str, list[float]]] = {}
        for arm in arms if "keys" in only else []:
            _, _, name, pid = first_frame(tmux, arm, settle=2.0)
            keys[arm.name] = key_latencies(tmux, name, args.presses)
            tmux.close(name, pid)
        squads = competitors()
    finally:
        tmux.kill_server()
        world.stop()
        shutil.rmtree(root, ignore_errors=True)

    hud, bare = (a.name for a in arms)
    print(
        f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; tmux {subprocess.run(['tmux', '-V'], capture_output=True, text=True).stdout.strip()}; {WIDTH}x{HEIGHT}"
    )
    print(
        f"env: PYTHON* dropped for every arm: {', '.join(dropped) or 'none were set'}; caches warmed by a first start of each arm"
    )
    for line in report:
        print(line)
    print(
        f"screen polled every {POLL * 1000:.0f} ms + one capture-pane ({(resolution - POLL) * 1000:.1f} ms): resolution ~{resolution * 1000:.0f} ms"
    )
    print()
    print("| measure | ecc-hooks hud | bare Textual (floor) | ratio | target |")
    print("|---|---|---|---|---|")
    if frames[hud]:
        ratio = statistics.median(h / b for h, b in zip(frames[hud], frames[bare]))
        hud_ms, hud_mb, bare_mb = median_ms(frames[hud]), statistics.median(rss[hud]), statistics.median(rss[bare])
        print(
            f"| time to first frame, 20 sessions, median of {args.runs} | {hud_ms:.0f} ms | "
            f"{median_ms(frames[bare]):.0f} ms | {ratio:.2f}x | <= 500 ms: {'met' if hud_ms <= 500 else 'NOT met'} |"
        )
        print(
            f"| peak RSS (VmHWM), median | {hud_mb:.1f} MB | {bare_mb:.1f} MB | {hud_mb / bare_mb:.2f}x | "
            f"<= 80 MB: {'met' if hud_mb <= 80 else 'NOT met'} |"
        )
    if loaded:
        print(
            f"| CPU, 20 sessions x 5 events/s, median of {args.cpu_rounds} x {args.load_seconds:g} s | {loaded[hud]:.1f}% of a core | "
            f"{loaded[bare]:.1f}% | - | <= 10%: {'met' if loaded[hud] <= 10 else 'NOT met'} |"
        )
        print(
            f"| watcher CPU in the same windows | {watcher_cpu_median[hud]:.1f}% | {watcher_cpu_median[bare]:.1f}% "
            "| - | - |"
        )
        print(
            f"| CPU idle, median of {args.cpu_rounds} x {args.idle_seconds:g} s | {idle[hud]:.2f}% | {idle[bare]:.2f}% | - | - |"
        )
    for key in keys.get(hud, {}):
        h, b = keys[hud][key], keys[bare].get(key, [])
        if not h:
            print(f"| key {key} | not measured (no selection seen) | | | |")
            continue
        print(
            f"| key {key} to screen, median / p95 (n={len(h)}) | {median_ms(h):.0f} / {pct(h, 0.95) * 1000:.0f} ms | {median_ms(b):.0f} / {pct(b, 0.95) * 1000 if b else float('nan'):.0f} ms | {median_ms(h) / median_ms(b):.2f}x | <= 100 ms: {'met' if median_ms(h) <= 100 else 'NOT met'} |"
        )
    print()
    print("hook events through the real hook in each loaded window: " + "; ".join(rates))
    for name, why in squads.items():
        print(f"{name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
