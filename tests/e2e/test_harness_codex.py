"""The pinned Codex CLI (tests/e2e/AGENT_VERSIONS) offline against the fake Responses API, captured by our hooks.

One scripted turn: a patch Codex applies itself, a shell command that succeeds, one that fails (``exit 3``), then a
text reply. With our hook
installed by ``ecc-hooks install --harness codex --trust`` (its trust written into config.toml: no
``--dangerously-bypass-hook-trust``), or given to a runtime worker as ``-c`` overrides (``worker_capture``), the
journal holds the turn's events with ``harness: "codex"`` and Codex's own session id; the HUD payload validates,
names the harness, counts two tool calls and one failure, and its tokens are the rollout's own totals. Without
``--trust`` Codex skips our hook without a word: no journal at all (what the trust is for). The trust hashes we
compute are the ones the binary's app-server lists.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks import harness
from ecc_hooks.core import paths
from ecc_hooks.harness import codex
from tests.e2e.fake_api import FakeAPI, Usage, call, say
from tests.e2e.fake_api.responses import offered_tools
from tests.e2e.test_agent_registry import bin_dir
from tests.helpers import REPO

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = 120  # seconds for one `codex exec` turn (about 2 s measured)
PATCH = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\nEOF\n"
STEPS = [
    call("exec_command", Usage(input=900, output=60, cached=0, reasoning=20), cmd=PATCH),  # Codex applies it itself
    call("exec_command", Usage(input=1200, output=40, cached=200, reasoning=10), cmd="echo hello"),
    call("exec_command", Usage(input=1500, output=30, cached=1000, reasoning=5), cmd="exit 3"),
    say("All done.", Usage(input=1800, output=20, cached=1400, reasoning=0)),
]


@pytest.fixture
def codex_env(tmp_path: Path, ecc_home: Path) -> dict[str, str]:
    """A scratch HOME with only the fake provider in ~/.codex/config.toml; our ECC_HOOKS_HOME; no credentials."""
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    env = {k: v for k, v in os.environ.items() if not re.search(r"API_KEY|TOKEN|OPENAI|CODEX", k)}
    env.update(HOME=str(home), PATH=f"{bin_dir('codex')}:{env.get('PATH', '/usr/bin:/bin')}", FAKE_KEY="sk-fake")
    return env


def provider_config(api: FakeAPI) -> str:
    return (
        'model = "gpt-5"\nmodel_provider = "fake"\n\n[model_providers.fake]\nname = "fake"\n'
        f'base_url = "{api.base_url}/v1"\nenv_key = "FAKE_KEY"\nwire_api = "responses"\n'
    )


def ecc_hooks_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "ecc_hooks", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(REPO),
    )


def run_codex(env: dict[str, str], work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = ["codex", "exec", *args, "--skip-git-repo-check", "-s", "danger-full-access", "-C", str(work), "run"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)


def session_of(done: subprocess.CompletedProcess[str]) -> str:
    found = re.search(r"session id: ([0-9a-f-]{36})", done.stderr)
    assert done.returncode == 0 and found, f"codex exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return found.group(1)


def journal(session: str) -> list[dict[str, Any]]:
    path = Path(paths.journal_path(session))
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def rollout_totals(home: Path, session: str) -> dict[str, int]:
    (path,) = (home / ".codex" / "sessions").glob(f"*/*/*/rollout-*-{session}.jsonl")
    counts = [json.loads(line) for line in path.read_text().splitlines() if '"token_count"' in line]
    return counts[-1]["payload"]["info"]["total_token_usage"]


def status_json(env: dict[str, str], session: str) -> dict[str, Any]:
    done = ecc_hooks_cli(env, "status", "--json", "--no-gh", "--session", session)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def check_the_turn(env: dict[str, str], api: FakeAPI, session: str) -> None:
    """The journal, the HUD payload and its tokens for the scripted turn."""
    assert "exec_command" in offered_tools(api.requests[0].body or {})
    assert [r.step for r in api.requests if r.method == "POST"] == [0, 1, 2, 3]
    events = journal(session)
    patch = events.pop(2)  # PreToolUse and never a PostToolUse: recorded without an id, never left pending
    assert patch["event"] == "PreToolUse" and patch["input"]["command"] == PATCH and "toolUseId" not in patch
    assert [e["event"] for e in events] == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PreToolUse",
        "PostToolUseFailure",
        "Stop",
        "SessionEnd",
    ]
    assert {e["harness"] for e in events} == {"codex"}
    assert {e["sessionId"] for e in events} == {session}
    failure = events[5]
    assert failure["toolName"] == "Bash" and failure["input"]["command"] == "exit 3"
    assert failure["outcome"] == "failure" and failure["error"].startswith("Exit code 3")
    assert events[3]["outcome"] == "success" and events[3]["input"]["command"] == "echo hello"
    assert events[6]["lastMessage"] == "All done."

    from ecc_hooks.models.hud import HudStatus

    payload = status_json(env, session)
    HudStatus.model_validate(payload)
    assert payload["context"]["harness"] == "codex"
    tools = payload["toolCalls"]
    assert (tools["total"], tools["failures"], tools["pending"]) == (2, 1, 0), tools
    totals = rollout_totals(Path(env["HOME"]), session)
    assert totals["input_tokens"] == sum(s.usage.input for s in STEPS)  # Codex recorded what the API said
    usage = codex.read_usage(session, events[0]["transcriptPath"], env)  # what the HUD's usage dispatch calls
    assert usage is not None
    assert usage.tokens["input"] + usage.tokens["cache_read"] == totals["input_tokens"]
    assert usage.tokens["cache_read"] == totals["cached_input_tokens"]
    assert usage.tokens["output"] == totals["output_tokens"]
    assert usage.tokens["reasoning"] == totals["reasoning_output_tokens"]
    # Codex reports no cost: tokens x prices.json's gpt-5 row, read here on its own
    prices = json.loads((REPO / "ecc_hooks" / "data" / "prices.json").read_text())
    rates = prices["families"]["openai-gpt-5"]
    expected = (
        (totals["input_tokens"] - totals["cached_input_tokens"]) * rates["input"]
        + totals["cached_input_tokens"] * rates["cache_read"]
        + totals["output_tokens"] * rates["output"]
    ) / 1_000_000
    assert payload["cost"]["source"] == "computed"
    assert abs(payload["cost"]["sessionUsd"] - expected) < 0.00005, (payload["cost"], expected)
    window = payload["context"]["contextWindow"]
    assert window["windowSize"] == 258400  # the rollout's model_context_window, not the table's 400000
    assert window["usedPct"] == round(STEPS[-1].usage.input / 258400 * 100)


def test_installed_with_trust_codex_runs_our_hook_and_the_hud_follows(
    codex_env: dict[str, str], tmp_path: Path
) -> None:
    with FakeAPI(STEPS) as api:
        Path(codex_env["HOME"], ".codex", "config.toml").write_text(provider_config(api))
        untrusted = ecc_hooks_cli(codex_env, "install", "--harness", "codex")
        assert untrusted.returncode == 0 and "--trust" in untrusted.stdout, untrusted.stdout + untrusted.stderr
        skipped = session_of(run_codex(codex_env, tmp_path / "work"))
        assert journal(skipped) == []  # untrusted: Codex skipped our hook silently

        trusted = ecc_hooks_cli(codex_env, "install", "--harness", "codex", "--trust")
        assert trusted.returncode == 0, trusted.stderr
        api.requests.clear()
        session = session_of(run_codex(codex_env, tmp_path / "work"))
        check_the_turn(codex_env, api, session)

    removed = ecc_hooks_cli(codex_env, "uninstall", "--harness", "codex")
    assert removed.returncode == 0, removed.stderr
    # install created hooks.json and only ours was in it: uninstall removes it (the user's config.toml stays)
    assert not Path(codex_env["HOME"], ".codex", "hooks.json").exists()
    config = codex.toml_module().loads(Path(codex_env["HOME"], ".codex", "config.toml").read_text())
    assert "hooks" not in config or not config["hooks"].get("state")


def test_a_runtime_worker_is_captured_without_touching_the_users_config(
    codex_env: dict[str, str], tmp_path: Path
) -> None:
    capture = codex.worker_capture(harness.hook_argv("codex"), tmp_path / "private", None)
    with FakeAPI(STEPS) as api:
        config = Path(codex_env["HOME"], ".codex", "config.toml")
        written = provider_config(api)
        config.write_text(written)
        before = sorted(p.name for p in config.parent.iterdir())
        session = session_of(run_codex(dict(codex_env, **capture.env), tmp_path / "work", *capture.args))
        check_the_turn(codex_env, api, session)
    assert config.read_text() == written
    assert not (config.parent / "hooks.json").exists() and "hooks.json" not in before


def test_our_trust_hashes_are_the_ones_codex_lists(codex_env: dict[str, str]) -> None:
    """Codex's app-server ``hooks/list``: every hook we install is listed with the hash we wrote, as trusted."""
    assert ecc_hooks_cli(codex_env, "install", "--harness", "codex", "--trust").returncode == 0
    listed = app_server_hooks(codex_env)
    ours = [h for h in listed if h["command"].endswith(codex.MARKER)]
    assert sorted(h["eventName"].lower() for h in ours) == sorted(e.lower() for e, _ in codex.EVENTS)
    assert {h["trustStatus"] for h in ours} == {"trusted"}, ours


def app_server_hooks(env: dict[str, str]) -> list[dict[str, Any]]:
    proc = subprocess.Popen(
        ["codex", "app-server"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        requests = [
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"clientInfo": {"name": "t", "version": "0"}},
            },
            {"jsonrpc": "2.0", "method": "initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "hooks/list", "params": {"cwds": [env["HOME"]]}},
        ]
        for request in requests:
            proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if not ready:
                continue
            line = proc.stdout.readline()
            assert line, "app-server closed its output"
            message = json.loads(line)
            if message.get("id") == 2:
                return message["result"]["data"][0]["hooks"]
        raise AssertionError("no hooks/list answer within 60 s")
    finally:
        proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
