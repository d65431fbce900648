"""The hot path's import graph is its latency: prove which modules a hook call loads.

Each hot module is imported in a fresh interpreter and ``sys.modules`` is compared with a bare
``python -c pass`` started the same way. Counting modules is stable across machines and CI,
unlike wall-clock asserts (timings live in benchmarks/bench_hook.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import CAPTURES, REPO, capture_payloads

FORBIDDEN = [
    "json",  # its decoder imports re, enum, functools, collections: ~8 ms of a 12 ms hook (core.jsonlite instead)
    "re",
    "typing",
    "pydantic",
    "orjson",
    "git",
    "watchfiles",
    "importlib.metadata",
    "email",
    "datetime",
    "hashlib",
    "subprocess",
    "asyncio",
    "typing_extensions",
]

# Newly loaded modules (beyond a bare interpreter), measured on CPython 3.11 with the editable install:
#   ecc_hooks.capture.hook       13  (11 of ours incl. core.jsonlite, _json, select: no json, no re, no typing)
#   ecc_hooks.statusline.render  13  (11 of ours incl. core.jsonlite, _json, select: no json, no typing;
#                                     segment modules load when a row renders)
# Budgets leave a few modules of headroom; going past one means a new import reached the hot path:
# make it lazy or justify raising the budget here.
# The commands Claude Code runs (``capture.client``, ``statusline.client``) load only themselves and their packages.
BUDGETS = {
    "ecc_hooks.capture.hook": 15,
    "ecc_hooks.statusline.render": 14,
    "ecc_hooks.capture.client": 3,
    "ecc_hooks.statusline.client": 3,
}
# A runtime worker's recorded call loads a few more: ``capture.dedupe``, ``fcntl`` and ``core.spawn`` (its lock: one event recorded
# once when the runtime's settings layer and the user's own installation both run a hook of ours for it).
RUNTIME_RECORD_BUDGET = BUDGETS["ecc_hooks.capture.hook"] + 4


def loaded(body: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> set[str]:
    """Modules loaded after running ``body`` in a fresh interpreter (json is imported after the snapshot)."""
    code = "import sys\n" + body + "\nmods = sorted(sys.modules)\nimport json\nprint(json.dumps(mods))"
    result = subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, cwd=str(REPO), timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr.decode()
    return set(json.loads(result.stdout.decode().splitlines()[-1]))


def hot_modules() -> list[str]:
    """The hot modules that exist in this tree (the status line is being written alongside)."""
    return [name for name in BUDGETS if importlib.util.find_spec(name) is not None]


@pytest.fixture(scope="module")
def baseline() -> set[str]:
    return loaded("pass")


@pytest.mark.parametrize("module", list(BUDGETS))
def test_hot_module_imports_stay_lean(module: str, baseline: set[str]) -> None:
    if module not in hot_modules():
        pytest.skip(f"{module} does not exist yet")
    new = loaded(f"import {module}") - baseline
    bad = sorted(m for m in new if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert bad == [], f"{module} loads {bad}"
    assert module in new  # the probe really imported it
    assert len(new) <= BUDGETS[module], f"{module} loads {len(new)} new modules: {sorted(new)}"


def test_a_recorded_event_loads_nothing_forbidden_either(baseline: set[str], ecc_home) -> None:
    """Lazy imports count too: run a whole hook call on a real payload, then look."""
    payload = next(p for p in capture_payloads() if p["hook_event_name"] == "PostToolUse")
    body = "from ecc_hooks.capture import hook\nhook.main()"
    new = loaded(body, json.dumps(payload).encode()) - baseline
    bad = sorted(m for m in new if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert bad == []
    assert len(new) <= BUDGETS["ecc_hooks.capture.hook"], sorted(new)
    assert "ecc_hooks.capture.dedupe" not in new  # only a runtime worker's hook pays for it
    assert (ecc_home / "sessions" / payload["session_id"] / "events.jsonl").exists()  # the call did record


def test_a_runtime_workers_recorded_event_loads_its_dedupe_and_no_more(baseline: set[str], ecc_home) -> None:
    """A runtime worker's hook (``$ECC_SESSION``) also records each event once (``capture.dedupe``) and checks the
    supervisor runs (``core.spawn``): within its own budget, nothing forbidden."""
    payload = next(p for p in capture_payloads() if p["hook_event_name"] == "PostToolUse")
    body = "from ecc_hooks.capture import client\nclient.main()"
    new = loaded(body, json.dumps(payload).encode(), env={**os.environ, "ECC_SESSION": "a-session"}) - baseline
    assert sorted(m for m in new if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)) == []
    assert {"ecc_hooks.capture.dedupe", "ecc_hooks.core.spawn"} <= new
    assert len(new) <= RUNTIME_RECORD_BUDGET, sorted(new)
    assert (ecc_home / "sessions" / payload["session_id"] / "seen").exists()


def test_the_probe_can_see_a_forbidden_import(baseline: set[str]) -> None:
    """Guard against a probe that sees nothing: a known heavy import must show up."""
    assert "datetime" in loaded("import datetime") - baseline


# The installed commands run with ``python -S`` (no site): every module ours pulls in is paid on each call,
# including those site would otherwise have loaded anyway. Measured on CPython 3.11 with a whole call (a hook
# recording a PostToolUse, a status line rendering a capture with a snapshot present):
# - with a watcher running, both commands hand their stdin to it (``core.relay``): their package, ``core``,
#   ``core.relay`` and ``_socket``: 6;
# - with none, they do the work themselves: the hook 25 (it parses and writes JSON through core.jsonlite: no
#   json, so no re, enum, functools or collections), the status line 41 (14 of them the segment modules of a
#   full row; redact, text, errno, core.jsonlite; unicodedata for the cell widths of non-ASCII text, which the
#   bar always is; fcntl, the builtin that locks the sensor file so an older render never overwrites a newer
#   one's figures). A few modules of headroom each.
INSTALLED_BUDGETS = {
    ("ecc_hooks.capture.client", "served"): 6,
    ("ecc_hooks.statusline.client", "served"): 6,
    ("ecc_hooks.capture.client", "alone"): 28,
    ("ecc_hooks.statusline.client", "alone"): 43,
    ("ecc_hooks.statusline.render", "alone"): 41,
}


def loaded_installed(module: str, stdin: bytes, env: dict[str, str]) -> set[str]:
    """Modules loaded by a whole call of the command the installer writes, beyond ``python -S -c pass``."""
    from ecc_hooks.cli import install

    report = ";import sys as _s;_s.stderr.write('\\nMODULES ' + ' '.join(sorted(_s.modules)))"
    argv = install.python_argv(module)
    runs = []
    for code in (report[1:], argv[3] + report):
        done = subprocess.run([*argv[:3], code], input=stdin, capture_output=True, timeout=60, env=env, cwd="/")
        assert done.returncode == 0, done.stderr.decode()
        runs.append(set(done.stderr.decode().rsplit("MODULES ", 1)[1].split()))
    return runs[1] - runs[0]


@pytest.mark.parametrize(("module", "how"), list(INSTALLED_BUDGETS))
def test_installed_command_stays_lean(module: str, how: str, ecc_home, daemons) -> None:
    import os

    from tests.helpers import running, wait_until

    if module == "ecc_hooks.capture.client":
        payload = next(p for p in capture_payloads() if p["hook_event_name"] == "PostToolUse")
        stdin = json.dumps(payload).encode()
    else:
        stdin = (CAPTURES / "statusline-stdin.jsonl").read_bytes().splitlines()[-1]
        session = json.loads(stdin)["session_id"]
        (ecc_home / "sessions" / session).mkdir(parents=True)
        from ecc_hooks.statusline.segments import sample

        (ecc_home / "sessions" / session / "hud.json").write_text(json.dumps(sample.SNAPSHOT))
    if how == "served":
        running(daemons("--idle-exit", "300"))
        wait_until(lambda: (ecc_home / "watcher.sock").is_socket(), 30, "the watcher's socket")
    new = loaded_installed(module, stdin, {**os.environ, "COLUMNS": "200"})
    bad = sorted(m for m in new if any(m == f or m.startswith(f + ".") for f in FORBIDDEN + ["typing", "tomllib"]))
    assert bad == [], f"{module} loads {bad}"
    assert module in new
    done_here = {"ecc_hooks.capture.hook", "ecc_hooks.statusline.render"} & new
    assert not done_here if how == "served" else done_here  # handed to the watcher, or done in the command
    assert len(new) <= INSTALLED_BUDGETS[module, how], f"{module} loads {len(new)} new modules: {sorted(new)}"
    if module == "ecc_hooks.capture.client":  # and the event was recorded, by whichever process
        assert (ecc_home / "sessions" / payload["session_id"] / "events.jsonl").exists()
