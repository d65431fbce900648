"""Runtime workers of the other agents, followed through their events: the pinned Codex, Gemini CLI, OpenCode and
Aider (tests/e2e/AGENT_VERSIONS) in real tmux on the test's own socket, offline against the fake API
(``tests/e2e/fake_api``), with no hooks of ours in the user's configuration: the runtime gives each worker its
capture (``harness.<name>.worker_capture``) at launch.

One plan, a worker of each agent and a failing run of each; every state is read from the journal's events (the
test checks the events are there and the worker's state and reason agree) and checked against what its pane shows
(``capture-pane``):

- Codex (``--ask-for-approval on-request``, a command asking to leave its sandbox), Gemini CLI (approval mode
  ``default``) and OpenCode (``bash: ask``) wait at their permission prompt (PermissionRequest); once ``session
  approve`` answered it with their own keys (checked on their screen) they run (PostToolUse, the model's next answer
  held back by the fake API; their screen working), then complete (Stop; their reply on their screen);
- Aider, which has no permission prompt and no event before a reply, completes with its notification's Stop;
- each one's run whose model the fake API refuses fails: from a SessionEnd in the middle of its turn (Codex,
  Gemini CLI: neither has a failure hook) or a StopFailure (OpenCode's session.error, Aider's missing reply).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

from ecc_hooks.core import paths
from tests.e2e.fake_api import FakeAPI, Step, Usage, call, say
from tests.e2e.test_agent_registry import bin_dir
from tests.helpers import REPO, make_repo, wait_until

pytestmark = pytest.mark.e2e

SESSION = "agents"
STATE_TIMEOUT = 120  # seconds for a worker to reach a state (a turn takes a few seconds; the machine is shared)


@dataclass
class World:
    """The runtime's world for the other agents: the test's HOME (scratch: conftest), its ECC_HOOKS_HOME, a
    private tmux socket (the ``runtime`` fixture), the pinned agents first on PATH, one repository."""

    repo: Path
    env: dict[str, str]
    socket: str
    apis: list[FakeAPIWithFailures] = field(default_factory=list)
    held: dict[str, FakeAPIWithFailures] = field(default_factory=dict)  # a worker's API, its last answer held back

    def ecc(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ecc_hooks", *args],
            capture_output=True, text=True, env=self.env, cwd=self.repo, timeout=timeout, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def worktree(self, slug: str) -> Path:
        return self.repo.parent / f"{self.repo.name}-{SESSION}-{slug}"

    def worker(self, slug: str) -> Any:
        from ecc_hooks.runtime import store

        return store.Store(reading=True).worker(SESSION, slug)

    def screen(self, slug: str) -> str:
        pane = self.worker(slug).pane
        done = subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-J", "-t", pane],
                              capture_output=True, text=True, env=self.env, timeout=30)  # fmt: skip
        return done.stdout

    def api(self, steps: list[Step], held: Optional[int] = None) -> FakeAPIWithFailures:
        started = FakeAPIWithFailures(steps, held).start()
        self.apis.append(started)
        return started

    def running_then_completed(self, slug: str, api: FakeAPIWithFailures) -> Any:
        """After its approved command ran, the turn goes on (the model's next answer held back): running from its
        events (the PostToolUse last), its screen working; then the answer goes out: completed (Stop)."""
        from ecc_hooks.runtime import agents

        self.wait_state(slug, "running")
        names = [e["event"] for e in self.events(slug)]
        assert names[-1] == "PostToolUse", names
        agent = agents.get(self.worker(slug).agent)
        wait_until(lambda: agent.screen_state(self.screen(slug)) == "running", 60, lambda: self.screen(slug))
        api.gate.set()
        worker = self.wait_state(slug, "completed")
        names = [e["event"] for e in self.events(slug)]
        assert names[-2:] == ["PostToolUse", "Stop"] or names[-1] == "Stop", names
        return worker

    def events(self, slug: str) -> list[dict[str, Any]]:
        """The journal of the worker's agent session (the one the runtime joined it with)."""
        session = self.worker(slug).agent_session
        if not session:
            return []
        path = Path(paths.journal_path(session))
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def wait_state(self, slug: str, state: str, why: Callable[[], str] | None = None) -> Any:
        def reached() -> Any:
            worker = self.worker(slug)
            if worker.state in ("failed", "completed") and worker.state != state:
                raise AssertionError(told())  # it will not come back by itself
            return worker if worker.state == state else None

        def told() -> str:
            worker = self.worker(slug)
            names = [e["event"] for e in self.events(slug)]
            screen = self.screen(slug) if worker.pane else ""
            return f"{slug} to be {state}: {worker.state} ({worker.reason}); events {names}\n{screen[-1500:]}"

        return wait_until(reached, STATE_TIMEOUT, why or told, interval=0.2)


@pytest.fixture
def world(runtime: str, ecc_home: Path, tmp_path: Path) -> Iterator[World]:
    repo = make_repo(tmp_path / "repo", identity=True)
    env = {k: v for k, v in os.environ.items() if not re.search(r"API_KEY|TOKEN|OPENAI|ANTHROPIC|GEMINI|GOOGLE", k)}
    env["PYTHONPATH"] = str(REPO)
    env["HOME"] = str(tmp_path / "home")  # the agents' own folders in it (each agent's setup writes them)
    made = World(repo=repo, env=env, socket=runtime)
    yield made
    for api in made.apis:
        api.gate.set()
        api.stop()


BROKEN = "model-that-fails"  # the fake API refuses every request naming this model


class FakeAPIWithFailures(FakeAPI):
    """The fake API, refusing a request for the ``BROKEN`` model as a provider refuses an unknown model (400), and
    answering the step ``held`` only once ``gate`` is set (its agent thinks till then: a turn seen running)."""

    def __init__(self, steps: list[Step], held: Optional[int] = None) -> None:
        super().__init__(steps)
        self.held = held
        self.gate = threading.Event()

    def step_for(self, turn: int) -> Step:
        if turn == self.held:
            self.gate.wait(STATE_TIMEOUT)
        return super().step_for(turn)

    def _handle(self, handler: Any) -> None:
        import io

        from tests.e2e.fake_api import send_json

        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        if BROKEN.encode() in raw or BROKEN in handler.path:
            message = f"The model `{BROKEN}` does not exist"
            return send_json(handler, 400, {"error": {"message": message, "type": "invalid_request_error"}})
        handler.rfile = io.BytesIO(raw)
        return super()._handle(handler)


# a session that ended in the middle of its turn (SessionEnd after UserPromptSubmit, no Stop); with the exit status
# and the agent's own words when its process had ended by then
ENDED_MID_TURN = re.compile(r"(exited with status [1-9]\d*; )?the session ended \(\w+\) before its turn did")


def log_of(world: World, slug: str) -> str:
    """What a headless worker printed (``session logs``)."""
    done = world.ecc("session", "logs", SESSION, "--worker", slug)
    return done.stdout + done.stderr


def add_path(world: World, name: str) -> None:
    world.env["PATH"] = f"{bin_dir(name)}:{world.env.get('PATH', '/usr/bin:/bin')}"


def create(world: World, workers: list[dict[str, Any]]) -> None:
    plan = world.repo.parent / "plan.json"
    plan.write_text(json.dumps({"sessionName": SESSION, "repoRoot": str(world.repo), "workers": workers}))
    done = world.ecc("session", "create", str(plan), "--execute")
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------------------- Codex


def codex_setup(world: World, api: FakeAPI, slugs: list[str]) -> None:
    """Codex offline: the fake provider in ~/.codex/config.toml, the worktrees trusted (no folder question)."""
    from tests.e2e.test_harness_codex import provider_config

    add_path(world, "codex")
    home = Path(world.env["HOME"])
    (home / ".codex").mkdir(parents=True, exist_ok=True)
    trusted = "".join(f'\n[projects."{world.worktree(s)}"]\ntrust_level = "trusted"\n' for s in slugs)
    (home / ".codex" / "config.toml").write_text(provider_config(api) + trusted)
    world.env.update(FAKE_KEY="sk-fake", OPENAI_API_KEY="sk-fake")  # a key: no `codex login status`


def codex_workers(world: World) -> list[dict[str, Any]]:
    """One Codex worker in a pane asking before it runs a command outside its sandbox, one headless run refused."""
    api = world.api(
        [
            # outside the sandbox: Codex asks first (``on-request``)
            call(
                "exec_command",
                Usage(input=1200, output=40),
                cmd="touch made.txt",
                sandbox_permissions="require_escalated",
                justification="to make the file",
            ),  # fmt: skip
            say("All done.", Usage(input=1500, output=20)),
        ],
        held=1,
    )
    world.held["cx"] = api
    codex_setup(world, api, ["cx", "cxfail"])
    return [
        {"name": "cx", "task": "make a file", "agent": "codex", "permissionMode": "on-request"},
        {"name": "cxfail", "task": "make a file", "agent": "codex", "runtime": "headless", "model": BROKEN},
    ]


def check_codex(world: World) -> None:
    # waiting at its permission prompt: PermissionRequest, and the prompt on its screen
    worker = world.wait_state("cx", "waiting")
    names = [e["event"] for e in world.events("cx")]
    assert names[:2] == ["SessionStart", "UserPromptSubmit"] and names[-1] == "PermissionRequest", names
    assert {e.get("harness") for e in world.events("cx")} == {"codex"}
    assert worker.reason == "permission to use Bash"
    assert "Would you like to run the following command?" in world.screen("cx")
    assert worker.agent_session == world.events("cx")[0]["sessionId"]  # its own id, found by its SessionStart
    # approved on its screen: the command runs, the turn ends (Stop): completed, its reply on its screen
    approved = world.ecc("session", "approve", SESSION, "--worker", "cx")  # its own keys (y), checked on its screen
    assert approved.returncode == 0 and "approved:" in approved.stdout, approved.stdout + approved.stderr
    worker = world.running_then_completed("cx", world.held["cx"])
    assert (world.worktree("cx") / "made.txt").exists()
    assert "All done." in world.screen("cx") and worker.reason is None
    # a run whose model call fails: its turn started (SessionStart, UserPromptSubmit) and never ended; it exits 1
    worker = world.wait_state("cxfail", "failed")
    names = [e["event"] for e in world.events("cxfail")]
    assert names[:2] == ["SessionStart", "UserPromptSubmit"] and "Stop" not in names, names
    assert ENDED_MID_TURN.match(worker.reason or ""), worker.reason
    assert BROKEN in log_of(world, "cxfail")  # its own words, in its log (and in the reason when it had exited)


# ---------------------------------------------------------------------------- Gemini CLI


def gemini_setup(world: World, api: FakeAPI, tmp_path: Path) -> None:
    """Gemini CLI offline (its e2e test's world: ~/.gemini/settings.json with API-key auth), pointed at the fake API;
    no folder-trust question (a worker's pane cannot pass ``--skip-trust``)."""
    from tests.e2e.test_harness_gemini import KEY
    from tests.e2e.test_harness_gemini import world as gemini_world

    add_path(world, "gemini")
    home, _project, _ecc = gemini_world(tmp_path)
    assert str(home) == world.env["HOME"]
    settings = home / ".gemini" / "settings.json"
    user = json.loads(settings.read_text())
    user["security"]["folderTrust"] = {"enabled": False}
    settings.write_text(json.dumps(user))
    world.env.update(GOOGLE_GEMINI_BASE_URL=api.base_url, GEMINI_API_KEY=KEY)


def gemini_workers(world: World, tmp_path: Path) -> list[dict[str, Any]]:
    """One Gemini CLI worker in a pane asking before a shell command, one headless run refused."""
    from tests.e2e.test_harness_gemini import MODEL

    api = world.api(
        [
            call("run_shell_command", Usage(1200, 40), command="touch made.txt", description="make the file"),
            say("All done.", Usage(1500, 20)),
        ],
        held=1,
    )
    world.held["gm"] = api
    gemini_setup(world, api, tmp_path)
    return [
        {"name": "gm", "task": "make a file", "agent": "gemini", "model": MODEL, "permissionMode": "default"},
        {"name": "gmfail", "task": "make a file", "agent": "gemini", "runtime": "headless", "model": BROKEN},
    ]


def check_gemini(world: World) -> None:
    # waiting at its permission prompt: its ToolPermission notification (a PermissionRequest), and the question on
    # its screen once its hooks have run
    worker = world.wait_state("gm", "waiting")
    events = world.events("gm")
    assert [e["event"] for e in events] == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest"]
    assert {e.get("harness") for e in events} == {"gemini-cli"}
    assert worker.agent_session == events[0]["sessionId"] and worker.reason == "permission to use Bash"
    wait_until(lambda: "Allow execution" in world.screen("gm"), 60, lambda: world.screen("gm"))
    approved = world.ecc("session", "approve", SESSION, "--worker", "gm")  # its first option: allow once
    assert approved.returncode == 0 and "approved:" in approved.stdout, (
        approved.stdout + approved.stderr + world.screen("gm")
    )
    worker = world.running_then_completed("gm", world.held["gm"])
    assert (world.worktree("gm") / "made.txt").exists()
    wait_until(lambda: "All done." in world.screen("gm"), 60, lambda: world.screen("gm"))
    # a headless run whose model call fails: its turn started and never ended; it exits non-zero
    worker = world.wait_state("gmfail", "failed")
    names = [e["event"] for e in world.events("gmfail")]
    assert names == ["SessionStart", "UserPromptSubmit", "SessionEnd"], names
    assert ENDED_MID_TURN.match(worker.reason or ""), worker.reason
    assert BROKEN in log_of(world, "gmfail")  # its own words, in its log


# ---------------------------------------------------------------------------- OpenCode


def opencode_setup(world: World, api: FakeAPI, tmp_path: Path) -> str:
    """OpenCode offline (its e2e test's world: the fake provider in ~/.config/opencode/opencode.json), asking before
    a shell command, with a second model the fake API refuses; the model to run."""
    from tests.e2e.test_harness_opencode import MODEL
    from tests.e2e.test_harness_opencode import world as opencode_world

    add_path(world, "opencode")
    home, _work, env = opencode_world(tmp_path, api.base_url)
    assert str(home) == world.env["HOME"]
    path = home / ".config" / "opencode" / "opencode.json"
    config = json.loads(path.read_text())
    config["permission"] = {"bash": "ask"}
    models = config["provider"]["fake"]["models"]
    models[BROKEN] = dict(models[MODEL])
    path.write_text(json.dumps(config))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "OPENCODE_DB"):
        world.env.pop(name, None)
    world.env.update({k: v for k, v in env.items() if k.startswith("OPENCODE_")})
    return f"fake/{MODEL}"


def opencode_workers(world: World, tmp_path: Path) -> list[dict[str, Any]]:
    """One OpenCode worker in a pane asking before a shell command, one headless run refused."""
    api = world.api(
        [
            call("bash", Usage(input=100, output=20), command="touch made.txt", description="Make the file"),
            say("All done.", Usage(input=150, output=10)),
        ],
        held=1,
    )
    world.held["oc"] = api
    model = opencode_setup(world, api, tmp_path)
    return [
        {"name": "oc", "task": "make a file", "agent": "opencode", "model": model},
        {
            "name": "ocfail",
            "task": "make a file",
            "agent": "opencode",
            "runtime": "headless",
            "model": f"fake/{BROKEN}",
        },
    ]


def check_opencode(world: World) -> None:
    # waiting at its permission prompt: its permission.asked event (a PermissionRequest), the question on its screen
    worker = world.wait_state("oc", "waiting")
    events = world.events("oc")
    assert [e["event"] for e in events] == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest"]
    assert {e.get("harness") for e in events} == {"opencode"}
    assert worker.agent_session == events[0]["sessionId"] and worker.reason == "permission to use Bash"
    wait_until(lambda: "Permission required" in world.screen("oc"), 60, lambda: world.screen("oc"))
    approved = world.ecc("session", "approve", SESSION, "--worker", "oc")  # its selected option: allow once
    assert approved.returncode == 0 and "approved:" in approved.stdout, (
        approved.stdout + approved.stderr + world.screen("oc")
    )
    worker = world.running_then_completed("oc", world.held["oc"])
    assert (world.worktree("oc") / "made.txt").exists()
    wait_until(lambda: "All done." in world.screen("oc"), 60, lambda: world.screen("oc"))
    # a headless run whose model call fails: its session.error (a StopFailure) with the provider's words
    worker = world.wait_state("ocfail", "failed")
    assert [e["event"] for e in world.events("ocfail")][-1] == "StopFailure"
    assert worker.reason == f"the API call failed: The model `{BROKEN}` does not exist", worker.reason


# ---------------------------------------------------------------------------- Aider


def aider_setup(world: World, api: FakeAPI, tmp_path: Path, ecc_home: Path) -> None:
    """Aider offline (its e2e test's model, priced by its own metadata file, and environment), through ``AIDER_*``
    variables (a worker's command line is the runtime's): the fake API, the repository's file in the chat, no
    questions at start (.gitignore, update check, model warnings)."""
    from tests.e2e.test_harness_aider import METADATA, env_for

    add_path(world, "aider")
    meta = tmp_path / "aider-meta.json"
    meta.write_text(json.dumps(METADATA))
    own = env_for({"home": Path(world.env["HOME"]), "ecc": ecc_home})
    world.env.update({k: v for k, v in own.items() if k.startswith(("LITELLM_", "GIT_"))})
    world.env.update(
        AIDER_OPENAI_API_BASE=f"{api.base_url}/v1",
        OPENAI_API_KEY="x",
        AIDER_MODEL_METADATA_FILE=str(meta),
        AIDER_EDIT_FORMAT="diff",
        AIDER_FILE="hello.txt",
        AIDER_CHECK_UPDATE="false",
        AIDER_ANALYTICS="false",
        AIDER_SHOW_MODEL_WARNINGS="false",
        AIDER_GITIGNORE="false",
        AIDER_SHOW_RELEASE_NOTES="false",
        AIDER_FANCY_INPUT="false",
    )
    (world.repo / "hello.txt").write_text("hello world\n")
    subprocess.run(["git", "-C", str(world.repo), "add", "hello.txt"], check=True, timeout=30)
    subprocess.run(["git", "-C", str(world.repo), "commit", "-qm", "hello"], check=True, timeout=30)


def aider_workers(world: World, tmp_path: Path, ecc_home: Path) -> list[dict[str, Any]]:
    """One Aider worker editing a file, one whose model is refused (both in panes: Aider takes its task typed)."""
    from tests.e2e.test_harness_aider import EDIT, MODEL

    api = world.api([say(EDIT, Usage(input=300, output=40))])
    aider_setup(world, api, tmp_path, ecc_home)
    return [
        {"name": "ad", "task": "change hello to aider", "agent": "aider", "model": MODEL},
        {"name": "adfail", "task": "change hello to aider", "agent": "aider", "model": f"openai/{BROKEN}"},
    ]


def check_aider(world: World) -> None:
    # its reply applied, at its prompt again: the notification command's Stop (Aider has no permission prompt and no
    # event before a reply: until then its screen says it runs)
    worker = world.wait_state("ad", "completed")
    events = world.events("ad")
    assert [e["event"] for e in events] == ["Stop"] and events[0].get("harness") == "aider"
    assert worker.agent_session == events[0]["sessionId"]  # the id the runtime offered at launch, Aider has none
    assert (world.worktree("ad") / "hello.txt").read_text() == "hello aider\n"
    assert "Applied edit to hello.txt" in world.screen("ad")
    # a model call its provider refuses: the notification's StopFailure (no reply logged); the error on its screen
    worker = world.wait_state("adfail", "failed")
    assert [e["event"] for e in world.events("adfail")] == ["StopFailure"]
    assert (worker.reason or "").startswith("the API call failed: "), worker.reason
    assert f"The model `{BROKEN}` does not exist" in world.screen("adfail")


# ---------------------------------------------------------------------------- the plan


def test_one_plan_with_a_worker_of_each_agent_follows_each_through_its_events(
    world: World, tmp_path: Path, ecc_home: Path
) -> None:
    workers = [
        *codex_workers(world),
        *gemini_workers(world, tmp_path),
        *opencode_workers(world, tmp_path),
        *aider_workers(world, tmp_path, ecc_home),
    ]
    create(world, workers)
    check_codex(world)
    check_gemini(world)
    check_opencode(world)
    check_aider(world)


# ---------------------------------------------------------------------------- a headless Aider run


def test_a_headless_aider_worker_records_its_reply_with_its_tokens_and_cost(
    world: World, tmp_path: Path, ecc_home: Path
) -> None:
    """Aider's ``--message`` run never waits, so its notifications command never runs: at its exit the runtime
    records its last event from the worker's own analytics log, once; its tokens and cost are Aider's own."""
    from tests.e2e.test_harness_aider import EDIT, MODEL

    api = world.api([say(EDIT, Usage(input=300, output=40))])
    aider_setup(world, api, tmp_path, ecc_home)
    create(world, [{"name": "ad1", "task": "change hello to aider", "agent": "aider", "model": MODEL,
                    "runtime": "headless"}])  # fmt: skip
    worker = world.wait_state("ad1", "completed")
    assert (world.worktree("ad1") / "hello.txt").read_text() == "hello aider\n"
    events = world.events("ad1")
    assert [e["event"] for e in events] == ["Stop"] and events[0].get("harness") == "aider", events
    assert events[0]["sessionId"] == worker.agent_session
    log = ecc_home / "runtime" / SESSION / "ad1" / "capture"
    sent = [
        json.loads(line)["properties"]
        for found in log.glob("aider-analytics-*.jsonl")
        for line in found.read_text().splitlines()
        if json.loads(line)["event"] == "message_send"
    ]
    assert len(sent) == 1 and sent[0]["cost"] > 0, sent
    done = world.ecc("session", "status", SESSION, "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)["workers"][0]["figures"]
    assert figures["costUsd"] == pytest.approx(sent[0]["cost"], rel=1e-9), figures
    done = world.ecc("status", "--json", "--session", worker.agent_session)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["context"]["harness"] == "aider" and doc["context"]["model"] == MODEL
    assert doc["cost"]["source"] == "reported"
    assert doc["cost"]["sessionUsd"] == pytest.approx(sent[0]["cost"], rel=1e-9)
    # a later pass of the supervisor records nothing again
    world.ecc("session", "status", SESSION)
    assert [e["event"] for e in world.events("ad1")] == ["Stop"]


# ---------------------------------------------------------------------------- a Codex provider of the user's own


def test_a_codex_worker_with_a_provider_of_the_users_own_runs_without_a_login(world: World) -> None:
    """Its config.toml chooses a provider whose key (``env_key``) is set, not OPENAI_API_KEY: Codex is not logged in
    and needs no login, so the worker's launch skips ``codex login status`` and the run completes. Without the key
    the check stops it, and the reason is Codex's cause (``Not logged in``), not the warning it printed first."""
    api = world.api([say("All done.", Usage(input=1200, output=20))])
    codex_setup(world, api, ["cxkey"])
    del world.env["OPENAI_API_KEY"]  # FAKE_KEY only, the provider's own
    create(world, [{"name": "cxkey", "task": "say done", "agent": "codex", "runtime": "headless"}])
    worker = world.wait_state("cxkey", "completed")
    assert "Stop" in [e["event"] for e in world.events("cxkey")] and worker.reason is None
    assert "Not logged in" not in log_of(world, "cxkey")


def test_a_codex_worker_without_its_providers_key_fails_with_the_cause(world: World) -> None:
    api = world.api([say("All done.", Usage(input=1200, output=20))])
    codex_setup(world, api, ["cxnokey"])
    for key in ("OPENAI_API_KEY", "FAKE_KEY"):
        del world.env[key]
    create(world, [{"name": "cxnokey", "task": "say done", "agent": "codex", "runtime": "headless"}])
    worker = world.wait_state("cxnokey", "failed")
    assert re.match(r"exited with status 1: Not logged in \(log: ", worker.reason or ""), worker.reason
