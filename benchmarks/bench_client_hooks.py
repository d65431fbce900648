"""What ecc-hooks costs a real Claude Code session, per tool call: the figure users feel.

    .venv/bin/python benchmarks/bench_client_hooks.py [--runs 7] [--calls 20]

The pinned real client (``claude -p``, offline against the e2e scripted Messages API) runs the same session
of ``--calls`` quick Bash calls (``true``) under four settings files, alternated run by run:

- none: no hooks at all;
- ecc-hooks command: the same with ``--transport command`` (a hook process for every event, which hands it
  to the running watcher over its local socket);
- ecc-hooks: what ``ecc-hooks install --transport http`` writes (tool events posted to the watcher, which the
  SessionStart hook starts when none runs, as in real use; the default install is the command transport);
- true: a command hook running ``true`` on every event ecc-hooks registers (the client's own cost of
  running that many command hooks);
- python -S: a command hook running ``python -S -c pass`` on the same events (an interpreter's floor);
- one idle hook: a single ``true`` hook on an event the session never fires (PreCompact): on this client a
  session with any hook configured runs faster than one with none, so "none" alone overstates what hooks cost.

Printed: the median wall time of each, and the time each adds per tool call over ``none``. Every ecc-hooks
run is checked afterwards: its journal holds one PreToolUse and one PostToolUse per call. Target (issue 14):
at most 10 ms added per tool call.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool  # noqa: E402
from tests.e2e.harness import claude_bin, make_workspace  # noqa: E402


def settings_for(variant: str, installed: dict, root: Path, command_install: dict | None = None) -> Path:
    """A settings file for ``variant``; the controls hook exactly the events ecc-hooks hooks."""
    path = root / f"settings-{variant}.json"
    if variant == "none":
        data: dict = {}
    elif variant == "one idle hook":  # a hook on an event this session never fires: hooks present, none run
        data = {"hooks": {"PreCompact": [{"hooks": [{"type": "command", "command": "true", "timeout": 30}]}]}}
    elif variant == "ecc-hooks":
        data = installed
    elif variant == "ecc-hooks command":
        data = command_install or {}
    else:
        command = "true" if variant == "true" else f"{shlex.quote(sys.executable)} -S -c pass"
        data = {
            "hooks": {
                event: [{"matcher": "*", "hooks": [{"type": "command", "command": command, "timeout": 30}]}]
                for event in installed.get("hooks", {})
            }
        }
    path.write_text(json.dumps(data, indent=2))
    return path


def run_once(ws, api: ScriptedAPI, settings: Path, env: dict[str, str]) -> tuple[float, str | None]:
    args = [str(ws.claude), "-p", "run the commands", "--settings", str(settings), "--model", "claude-sonnet-4-5"]
    args += ["--allowedTools", "Bash"]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=ws.work, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"claude failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per variant (at least 5)")
    parser.add_argument("--calls", type=int, default=20, help="Bash calls per session")
    args = parser.parse_args()
    claude = claude_bin()
    if claude is None:
        raise SystemExit("the pinned Claude Code client is not installed (see tests/e2e/README.md)")
    steps = [tool("Bash", {"command": "true", "description": f"step {i}"}) for i in range(args.calls)]
    steps.append(say("done"))
    variants = ["none", "one idle hook", "ecc-hooks", "ecc-hooks command", "true", "python -S"]
    times: dict[str, list[float]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="ecc-bench-client-") as tmp, ScriptedAPI(Scenario(steps=steps)) as api:
        root = Path(tmp)
        ws = make_workspace(root, claude)
        mine = root / "installed.json"  # exactly what `ecc-hooks install` writes by default, nothing else
        done = subprocess.run(
            [sys.executable, "-m", "ecc_hooks", "install", "--settings-file", str(mine), "--no-statusline"]
            + ["--transport", "http"],
            env={**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)},
            cwd=str(REPO),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise SystemExit(f"install failed: {done.stdout}{done.stderr}")
        installed = json.loads(mine.read_text())
        transport = "http" if "http" in mine.read_text() else "command"
        legacy = root / "installed-command.json"  # the same with --transport command (a process per event)
        subprocess.run(
            [sys.executable, "-m", "ecc_hooks", "install", "--settings-file", str(legacy), "--no-statusline"]
            + ["--transport", "command"],
            env={**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)},
            cwd=str(REPO),
            check=True,
            capture_output=True,
            timeout=60,
        )
        command_install = json.loads(legacy.read_text())
        files = {v: settings_for(v, installed, root, command_install) for v in variants}
        env = ws.env(api, {"ECC_HOOKS_NO_WATCHER": "0"})
        env = {k: v for k, v in env.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        run_once(ws, api, files["ecc-hooks"], env)  # warm: caches, the watcher started
        run_once(ws, api, files["none"], env)
        for i in range(args.runs):
            order = variants if i % 2 == 0 else list(reversed(variants))
            for variant in order:
                before = set(ws.journal_sessions())
                seconds, _ = run_once(ws, api, files[variant], env)
                times[variant].append(seconds)
                if variant in ("ecc-hooks", "ecc-hooks command"):
                    new = [s for s in ws.journal_sessions() if s not in before]
                    if len(new) != 1:
                        raise SystemExit(f"expected one new journal, found {new}")
                    deadline = time.monotonic() + 10
                    while True:  # events posted to the watcher land within milliseconds
                        journal = ws.journal(new[0])
                        pre = sum(1 for r in journal if r.get("event") == "PreToolUse")
                        post = sum(1 for r in journal if r.get("event") == "PostToolUse")
                        if (pre, post) == (args.calls, args.calls) or time.monotonic() > deadline:
                            break
                        time.sleep(0.05)
                    if (pre, post) != (args.calls, args.calls):
                        raise SystemExit(f"journal holds {pre} PreToolUse / {post} PostToolUse of {args.calls}")
        holder = (ws.ecc_home / "watch.lock").read_text().strip() if (ws.ecc_home / "watch.lock").exists() else ""
        if holder.isdigit():
            try:
                os.kill(int(holder), signal.SIGTERM)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # let it write its checkpoint before the folder goes
                    os.kill(int(holder), 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
    base = statistics.median(times["none"])
    print(
        f"client {ws.claude}; {args.calls} Bash calls per session, {args.runs} runs per variant, alternated; "
        f"ecc-hooks as installed ({transport} transport for tool events)"
    )
    for variant in variants:
        med = statistics.median(times[variant])
        added = (med - base) / args.calls * 1000
        extra = "" if variant == "none" else f"   +{added:6.1f} ms per tool call"
        print(f"{variant:<17} median {med:6.3f} s{extra}")
    added = (statistics.median(times["ecc-hooks"]) - base) / args.calls * 1000
    print(f"ecc-hooks adds {added:.1f} ms per tool call (target <= 10 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
