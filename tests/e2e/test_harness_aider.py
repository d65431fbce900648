"""The pinned Aider (tests/e2e/AGENT_VERSIONS) driven offline against the fake API's Chat Completions dialect, with
our capture installed the two ways a user gets it: ``ecc-hooks install --harness aider`` (``~/.aider.conf.yml``) and
the runtime's ``worker_capture`` (its environment).

Scripted turns typed at Aider's prompt (stdin a pipe, the plain input), then end of input: a SEARCH/REPLACE edit
of a committed file (and, installed, a second text-only turn). Aider runs its notifications command at the prompt
after each reply: the journal gets one ``Stop`` per turn with ``harness: "aider"``; a model call that fails (a 404)
gives a ``StopFailure``. A runtime session with one Aider worker in tmux goes running (its screen) -> completed (its
Stop). The status payload says harness aider, no tool calls (Aider has
none: its edits are text, so the issue's failing shell command does not apply), and the cost Aider itself logged
and printed in its chat history; the tokens read back are Aider's own analytics figures.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.e2e.fake_api import FakeAPI, Usage, say
from tests.e2e.test_agent_registry import bin_dir, scratch_env
from tests.helpers import REPO, ecc

pytestmark = pytest.mark.e2e

SCHEMA = json.loads((REPO / "schemas" / "ecc.hud-status.v1.schema.json").read_text())
MODEL = "openai/fake-model"
EDIT = "hello.txt\n```\n<<<<<<< SEARCH\nhello world\n=======\nhello aider\n>>>>>>> REPLACE\n```\n"
# priced through Aider's own --model-metadata-file, so it computes and logs a cost
METADATA = {
    MODEL: {
        "max_input_tokens": 128000,
        "max_output_tokens": 4096,
        "input_cost_per_token": 0.000002,
        "output_cost_per_token": 0.000008,
        "litellm_provider": "openai",
        "mode": "chat",
    }
}


def make_world(tmp_path: Path) -> dict[str, Path]:
    home, ecc_home, repo = tmp_path / "home", tmp_path / "ecc", tmp_path / "repo"
    for folder in (home, ecc_home, repo):
        folder.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    (repo / "hello.txt").write_text("hello world\n")
    subprocess.run([*git[:3], "add", "hello.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    (tmp_path / "meta.json").write_text(json.dumps(METADATA))
    return {"home": home, "ecc": ecc_home, "repo": repo, "meta": tmp_path / "meta.json"}


def env_for(world: dict[str, Path], extra: dict[str, str] | None = None) -> dict[str, str]:
    env = scratch_env(world["home"], "aider")
    env.update(
        ECC_HOOKS_HOME=str(world["ecc"]),
        ECC_HOOKS_NO_WATCHER="1",  # no daemon outliving the test: the hook records the event itself
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
        PYTHONPATH=str(REPO),
        **(extra or {}),
    )
    return env


def run_aider(
    world: dict[str, Path], api: FakeAPI, env: dict[str, str], prompts: tuple[str, ...] = ("change hello to aider",)
) -> subprocess.CompletedProcess[str]:
    """Aider at its plain prompt (stdin a pipe): each prompt typed in turn, then end of input (it exits)."""
    argv = [
        str(bin_dir("aider") / "aider"),
        *("--model", MODEL, "--openai-api-base", f"{api.base_url}/v1", "--openai-api-key", "x"),
        *("--model-metadata-file", str(world["meta"]), "--edit-format", "diff"),
        *("--no-check-update", "--yes-always", "--no-analytics", "--no-show-model-warnings"),
        *("--no-pretty", "--no-fancy-input", "hello.txt"),
    ]
    return subprocess.run(
        argv,
        cwd=world["repo"],
        env=env,
        input="".join(p + "\n" for p in prompts),
        capture_output=True,
        text=True,
        timeout=180,
    )


def analytics(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def journal(world: dict[str, Path]) -> tuple[str, list[dict[str, Any]]]:
    [session] = os.listdir(world["ecc"] / "sessions")
    path = world["ecc"] / "sessions" / session / "events.jsonl"
    return session, [json.loads(line) for line in path.read_text().splitlines()]


def status(world: dict[str, Path], session: str) -> dict[str, Any]:
    env = {**env_for(world), "HOME": str(world["home"])}
    proc = subprocess.run(
        [sys.executable, "-m", "ecc_hooks.status", "--json", "--session", session, "--no-gh"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(REPO),
    )
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


def aider_cost_text(value: float) -> str:
    """Aider's own rendering of a cost (aider/coders/base_coder.py, ``format_cost``)."""
    if value == 0:
        return "0.00"
    if abs(value) >= 0.01:
        return f"{value:.2f}"
    return f"{value:.{max(2, 2 - int(math.log10(abs(value))))}f}"


def check_turns(
    world: dict[str, Path], api: FakeAPI, log: Path, session: str, events: list[dict[str, Any]], turns: int = 1
) -> None:
    """One Stop per turn, the status payload and the usage against Aider's own log and chat history."""
    assert (world["repo"] / "hello.txt").read_text() == "hello aider\n"  # the scripted edit was applied
    assert [s.step for s in api.requests if s.step is not None] == list(range(turns))
    stops = [e for e in events if e["event"] == "Stop"]
    assert len(stops) == turns == len(events)
    for stop in stops:
        assert stop["harness"] == "aider" and stop["sessionId"] == session
        assert stop["transcriptPath"] == str(log) and stop["cwd"] == str(world["repo"])

    sent = [r["properties"] for r in analytics(log) if r["event"] == "message_send"]
    assert len(sent) == turns
    assert all(s["cost"] > 0 and s["prompt_tokens"] > 0 and s["completion_tokens"] > 0 for s in sent)

    doc = status(world, session)
    assert doc["context"]["harness"] == "aider"
    assert doc["toolCalls"]["total"] == 0 and doc["toolCalls"]["failures"] == 0
    assert doc["cost"]["sessionUsd"] == pytest.approx(sent[-1]["total_cost"], rel=1e-9)  # Aider's session total
    assert doc["cost"]["source"] == "reported"
    history = (world["repo"] / ".aider.chat.history.md").read_text()
    lines = re.findall(r"Cost: \$([0-9.]+) message, \$([0-9.]+) session", history)
    assert lines == [(aider_cost_text(s["cost"]), aider_cost_text(s["total_cost"])) for s in sent]
    assert lines[-1][1] == aider_cost_text(doc["cost"]["sessionUsd"])

    from ecc_hooks.harness import aider

    usage = aider.read_usage(session, str(log), {})
    assert usage is not None
    assert usage.tokens["input"] == sum(s["prompt_tokens"] for s in sent)
    assert usage.tokens["output"] == sum(s["completion_tokens"] for s in sent)
    assert usage.cost.statusline_reported_usd == sum(Decimal(str(s["cost"])) for s in sent)


def test_an_installed_aiders_turns_land_in_the_journal_with_its_own_figures(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    installed = ecc("install", "--harness", "aider", cwd=tmp_path, env=env_for(world))
    assert installed.returncode == 0, installed.stderr
    config = (world["home"] / ".aider.conf.yml").read_text()
    assert "notifications-command:" in config and "analytics-log:" in config
    log = world["home"] / ".aider" / "ecc-hooks-analytics.jsonl"
    with FakeAPI([say(EDIT, Usage(input=900, output=40)), say("Nothing else to change.")]) as api:
        done = run_aider(world, api, env_for(world), ("change hello to aider", "anything else?"))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    session, events = journal(world)
    assert re.fullmatch(r"aider-\d+-\d+", session)  # the run that wrote the log's last "launched" line
    check_turns(world, api, log, session, events, turns=2)

    removed = ecc("uninstall", "--harness", "aider", cwd=tmp_path, env=env_for(world))
    assert removed.returncode == 0, removed.stderr
    assert not (world["home"] / ".aider.conf.yml").exists()


def test_a_runtime_worker_of_aider_carries_the_session_id_it_was_given(tmp_path: Path) -> None:
    from ecc_hooks import harness
    from ecc_hooks.harness import aider

    world = make_world(tmp_path)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    env = env_for(world)
    capture = aider.worker_capture(harness.hook_argv("aider"), private, "aider-worker-1")
    assert capture.session_id == "aider-worker-1" and capture.args == []
    with FakeAPI([say(EDIT, Usage(input=900, output=40))]) as api:
        done = run_aider(world, api, {**env, **capture.env})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    session, events = journal(world)
    assert session == "aider-worker-1"
    assert not (world["home"] / ".aider.conf.yml").exists()  # the user's config untouched
    check_turns(world, api, private / aider.worker_log(session), session, events)


class Unrouted:
    """The fake API under a path it does not serve: every model call gets a 404 (litellm's NotFoundError)."""

    def __init__(self, api: FakeAPI) -> None:
        self.base_url = f"{api.base_url}/unrouted"


def test_a_worker_whose_model_call_fails_ends_its_turn_in_a_stop_failure(tmp_path: Path) -> None:
    """Aider logs no exception for an API error (only ``message_send_starting``): the wait after it is a failure."""
    from ecc_hooks import harness
    from ecc_hooks.harness import aider

    world = make_world(tmp_path)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    capture = aider.worker_capture(harness.hook_argv("aider"), private, "aider-worker-2")
    with FakeAPI([say(EDIT)]) as api:
        done = run_aider(world, Unrouted(api), {**env_for(world), **capture.env})  # type: ignore[arg-type]
        assert [s.step for s in api.requests] == [None]  # the one call, unanswered
    assert done.returncode == 0 and "NotFoundError" in done.stdout
    session, events = journal(world)
    [failure] = events
    assert (failure["event"], failure["harness"], failure["sessionId"]) == ("StopFailure", "aider", session)
    assert failure["error"] == aider.NO_REPLY
    doc = status(world, session)
    assert doc["context"]["harness"] == "aider" and doc["context"]["turnError"]
    assert doc["cost"]["sessionUsd"] == 0  # no reply logged: no tokens spent
    assert (world["repo"] / "hello.txt").read_text() == "hello world\n"


def test_a_runtime_tmux_worker_of_aider_completes_from_its_stop(tmp_path: Path) -> None:
    """``ecc-hooks session create`` with one Aider worker in tmux (the prompt typed into its pane): the runtime gives
    it its capture (``worker_capture``); its state goes running -> completed from the Stop its notification records
    under the session id the runtime chose, and its screen shows the reply at Aider's prompt."""
    from tests.e2e.tmux_runner import tmux_available

    if not tmux_available():
        pytest.skip("tmux is not installed")
    world = make_world(tmp_path)
    socket = f"ecc-aider-e2e-{os.getpid()}"
    env = {k: v for k, v in env_for(world).items() if k not in ("TMUX", "TMUX_PANE")}
    env.update(
        ECC_HOOKS_TMUX_SOCKET=socket,
        ECC_HOOKS_SUPERVISOR_TICK="0.3",
        # an interactive Aider's first-run questions, answered for it (as a user's own config would)
        AIDER_ANALYTICS="false",
        AIDER_GITIGNORE="false",
        AIDER_SHOW_RELEASE_NOTES="false",
        AIDER_SHOW_MODEL_WARNINGS="false",
        AIDER_CHECK_UPDATE="false",
        AIDER_MODEL_METADATA_FILE=str(world["meta"]),
    )
    plan = tmp_path / "plan.json"
    worker = {"name": "w1", "task": "say hello", "agent": "aider", "model": MODEL, "runtime": "tmux"}
    plan.write_text(json.dumps({"sessionName": "ad", "repoRoot": str(world["repo"]), "workers": [worker]}))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ecc_hooks", *args],
            env=env,
            cwd=world["repo"],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def states() -> dict[str, Any]:
        done = cli("session", "status", "ad", "--json")
        assert done.returncode == 0, done.stderr
        [one] = json.loads(done.stdout)["workers"]
        return dict(one)

    with FakeAPI([say("Hello from the fake model.", Usage(input=900, output=40))]) as api:
        env.update(AIDER_OPENAI_API_BASE=f"{api.base_url}/v1", AIDER_OPENAI_API_KEY="x")
        try:
            created = cli("session", "create", str(plan), "--execute")
            assert created.returncode == 0, created.stderr
            seen = [states()["state"]]
            deadline = 120
            while seen[-1] not in ("completed", "failed") and deadline > 0:
                subprocess.run(["sleep", "1"], check=True)
                deadline -= 1
                seen.append(states()["state"])
            row = states()
            screen = cli("session", "screen", "ad", "--worker", "w1").stdout
        finally:
            cli("session", "stop", "ad")
            cli("session", "supervise", "--stop")
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)
            tmux_dir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
            (tmux_dir / socket).unlink(missing_ok=True)
    assert seen[-1] == "completed", (seen, row)
    assert "running" in seen  # before its turn ended: the screen's reading (Aider says nothing at a turn's start)
    assert "Hello from the fake model." in screen and "Tokens:" in screen
    session = row["figures"]["sessionId"]
    events = [json.loads(x) for x in (world["ecc"] / "sessions" / session / "events.jsonl").read_text().splitlines()]
    assert [(e["event"], e["harness"]) for e in events] == [("Stop", "aider")]
    assert [s.step for s in api.requests if s.step is not None] == [0]
