"""The real OpenCode (tests/e2e/AGENT_VERSIONS) driven offline through one scripted turn, captured by our plugin.

OpenCode talks to the scripted API through a configured OpenAI-compatible provider (``@ai-sdk/openai-compatible``,
bundled; ``OPENCODE_DISABLE_MODELS_FETCH=1``) whose model has rates, so OpenCode prices every reply itself. The
turn: a shell command that succeeds, one that fails (``exit 3``), then a text. Our plugin reaches OpenCode either
through ``ecc-hooks install --harness opencode`` (the user's plugin folder) or a runtime worker's capture
(``$OPENCODE_CONFIG_DIR``, the user's configuration untouched). Then the journal holds the turn's events under
OpenCode's own session id with ``harness: opencode``, and ``status --json`` says the harness, the tool calls and
the failure, and the tokens and cost OpenCode itself stored in its database.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks import harness
from ecc_hooks.harness import opencode
from tests.e2e.fake_api import FakeAPI, Usage, call, say
from tests.e2e.test_agent_registry import PINNED, bin_dir, scratch_env
from tests.helpers import REPO, ecc, wait_until

pytestmark = pytest.mark.e2e

MODEL = "fake-model"
OPENCODE_CONFIG = ("OPENCODE_CONFIG", "OPENCODE_CONFIG_DIR", "OPENCODE_CONFIG_CONTENT")  # the user's, if any
RATES = {"input": 1, "output": 2, "cache_read": 0.5}  # USD per million tokens
STEPS = [
    call("bash", Usage(input=100, output=20, cached=10, reasoning=5), command="echo hello", description="Say hello"),
    call("bash", Usage(input=150, output=30, cached=40), command="exit 3", description="Fail on purpose"),
    say("All done.", Usage(input=200, output=10, cached=50)),
]


def opencode_config(base_url: str) -> dict[str, Any]:
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "fake": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake",
                "options": {"baseURL": f"{base_url}/v1", "apiKey": "scripted"},
                "models": {MODEL: {"name": "Fake", "cost": RATES, "limit": {"context": 100000, "output": 4096}}},
            }
        },
        "model": f"fake/{MODEL}",
        "permission": {"bash": "allow"},
        "autoupdate": False,
        "share": "disabled",
    }


def world(tmp_path: Path, base_url: str) -> tuple[Path, Path, dict[str, str]]:
    """A scratch HOME with OpenCode's configuration, a work folder, and the environment both run with."""
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".config" / "opencode").mkdir(parents=True)
    (home / ".config" / "opencode" / "opencode.json").write_text(json.dumps(opencode_config(base_url)))
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True, timeout=30)
    env = scratch_env(home, "opencode")
    for name in (
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
        "OPENCODE_DB",
        *OPENCODE_CONFIG,
    ):
        env.pop(name, None)
    env.update(
        OPENCODE_DISABLE_MODELS_FETCH="1",
        OPENCODE_DISABLE_AUTOUPDATE="1",
        ECC_HOOKS_HOME=str(tmp_path / "ecc"),
        ECC_HOOKS_NO_WATCHER="1",
        PYTHONPATH=str(REPO),
        PWD=str(work),
    )
    return home, work, env


def run_turn(work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = str(bin_dir("opencode") / PINNED["opencode"][3])
    done = subprocess.run(
        [binary, "run", "--format", "json", "Run the two commands, then report."],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def session_of(done: subprocess.CompletedProcess[str]) -> str:
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            found = json.loads(line).get("sessionID")
            if isinstance(found, str):
                return found
    raise AssertionError(f"no session id in OpenCode's output: {done.stdout[-1000:]}")


def journal(ecc_home: Path, session: str) -> list[dict[str, Any]]:
    path = ecc_home / "sessions" / session / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def database_totals(home: Path, session: str) -> dict[str, Any]:
    """OpenCode's own figures for the session, read from its database (independently of ``read_usage``)."""
    path = home / ".local" / "share" / "opencode" / "opencode.db"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT cost, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read FROM session WHERE id = ?",
            (session,),
        ).fetchone()
    finally:
        connection.close()
    return dict(zip(("cost", "input", "output", "reasoning", "cache_read"), row))


def check_turn(
    tmp_path: Path, home: Path, work: Path, env: dict[str, str], done: subprocess.CompletedProcess[str]
) -> None:
    session = session_of(done)
    ecc_home = tmp_path / "ecc"
    events = wait_until(  # the last hook may still run after OpenCode exited: it never waits for one
        lambda: (found := journal(ecc_home, session)) and found[-1]["event"] == "Stop" and found,
        30,
        lambda: f"no Stop in the journal: {[e['event'] for e in journal(ecc_home, session)]}",
    )
    names = [e["event"] for e in events]
    assert names == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PreToolUse",
        "PostToolUseFailure",
        "Stop",
    ]
    assert {e["harness"] for e in events} == {"opencode"}
    assert {e["sessionId"] for e in events} == {session}
    assert events[2]["input"]["command"] == "echo hello" and events[5]["input"]["command"] == "exit 3"
    assert events[0]["cwd"] == str(work)

    shown = ecc("status", "--session", session, "--json", cwd=work, env=env)
    assert shown.returncode == 0, shown.stderr
    payload = json.loads(shown.stdout)
    if isinstance(payload, list):
        payload = payload[0]
    assert payload["context"]["harness"] == "opencode"
    tools = payload["toolCalls"]
    assert tools["total"] == 2 and tools["failures"] == 1, tools

    own = database_totals(home, session)
    usage = opencode.read_usage(session, events[0].get("transcriptPath"), env)
    assert usage is not None
    assert usage.tokens["input"] == own["input"] and usage.tokens["cache_read"] == own["cache_read"]
    assert usage.tokens["output"] == own["output"] + own["reasoning"]
    assert usage.cost.statusline_reported_usd == Decimal(repr(own["cost"])) > 0
    assert Decimal(str(payload["cost"]["sessionUsd"])) == Decimal(repr(own["cost"])).quantize(
        Decimal(str(payload["cost"]["sessionUsd"]))
    )


def test_an_installed_plugin_captures_a_turn(tmp_path: Path) -> None:
    with FakeAPI(STEPS) as api:
        home, work, env = world(tmp_path, api.base_url)
        installed = ecc("install", "--harness", "opencode", cwd=work, env=env)
        assert installed.returncode == 0, installed.stderr
        plugin = home / ".config" / "opencode" / "plugin" / opencode.PLUGIN_NAME
        assert plugin.read_text().startswith(opencode.MARKER)
        done = run_turn(work, env)
    check_turn(tmp_path, home, work, env, done)
    removed = ecc("uninstall", "--harness", "opencode", cwd=work, env=env)
    assert removed.returncode == 0 and not plugin.exists()


def test_a_workers_capture_leaves_the_users_configuration_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENCODE_CONFIG_CONTENT", raising=False)
    with FakeAPI(STEPS) as api:
        home, work, env = world(tmp_path, api.base_url)
        config = home / ".config" / "opencode" / "opencode.json"
        before = config.read_bytes()
        private = tmp_path / "capture"
        private.mkdir(mode=0o700)
        capture = opencode.worker_capture(harness.hook_argv("opencode"), private, None)
        done = run_turn(work, {**env, **capture.env})
    check_turn(tmp_path, home, work, env, done)
    assert config.read_bytes() == before
    assert not (home / ".config" / "opencode" / "plugin").exists()
    # OpenCode installed no plugin SDK from npm into the worker's folder (offline, and twice as fast)
    assert sorted(p.name for p in private.iterdir()) == [opencode.PLUGIN_NAME]


def test_a_worker_with_a_config_folder_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback: the user's OPENCODE_CONFIG_CONTENT is not plain JSON, so the plugin comes from a config folder."""
    with FakeAPI(STEPS) as api:
        home, work, env = world(tmp_path, api.base_url)
        env["OPENCODE_CONFIG_CONTENT"] = '{ // theirs\n "share": "disabled" }'
        monkeypatch.setenv("OPENCODE_CONFIG_CONTENT", env["OPENCODE_CONFIG_CONTENT"])
        private = tmp_path / "capture"
        private.mkdir(mode=0o700)
        capture = opencode.worker_capture(harness.hook_argv("opencode"), private, None)
        assert "OPENCODE_CONFIG_DIR" in capture.env
        done = run_turn(work, {**env, **capture.env})
    check_turn(tmp_path, home, work, env, done)
    assert not (private / "package.json").exists() and not any((private / "node_modules").iterdir())
