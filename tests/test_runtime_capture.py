"""Runtime workers of the other agents (Codex, Gemini CLI, OpenCode, Aider) get their capture at every launch and
resume (their harness module's ``worker_capture``: environment through the process's environment or the pane's
launch file, arguments after the agent's binary and subcommand), are joined with their agent's session (the id we
chose, or the session whose SessionStart names the worker), and take their state from their events.

The harness module here is a stand-in with the contract's shape (the real ones have their own tests and the e2e
suite runs them): what is tested is what the runtime does with any module's answer.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.runtime import agents, detect
from tests.helpers import make_repo, wait_until

OTHERS = ("codex", "gemini", "opencode", "aider")
CAPTURE_ARGS = ["--capture-flag", "value with spaces", "-c", "hooks='x y'"]


def expected_at(agent: agents.Agent, argv: list[str], runtime: str) -> int:
    """Where the capture's arguments belong: after the binary and the subcommand it was launched with."""
    if runtime == "headless" and argv[1 : 1 + len(agent.headless)] == list(agent.headless):
        return 1 + len(agents.leading_words(agent.headless))
    if runtime != "headless" and agent.resume and argv[1 : 1 + len(agent.resume)] == list(agent.resume):
        return 1 + len(agents.leading_words(agent.resume))
    return 1


words = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1, max_size=40)


@given(
    name=st.sampled_from(OTHERS),
    runtime=st.sampled_from(("tmux", "headless")),
    prompt=words,
    model=st.one_of(st.none(), words),
    mode=st.one_of(st.none(), words),
    args=st.lists(words, max_size=4),
)
def test_the_capture_goes_after_the_binary_and_its_subcommand_whatever_the_prompt(
    name: str, runtime: str, prompt: str, model: Optional[str], mode: Optional[str], args: list[str]
) -> None:
    agent = agents.get(name)
    line = agent.start(prompt, runtime=runtime, model=model, permission_mode=mode)
    argv = agent.launch(prompt, runtime=runtime, model=model, permission_mode=mode)
    captured = agent.with_capture(line, args, runtime)
    assert captured is not None, line
    parsed = agent.parse_command(captured)
    assert parsed is not None
    at = expected_at(agent, argv, runtime)
    assert parsed[0] == [*argv[:at], *args, *argv[at:]]
    if agent.headless_stdin and runtime == "headless":
        assert parsed[1] == prompt  # still piped in, still in no command line
    # the model, permission mode and prompt read back as before: a resume keeps them
    assert agent.launch_options(captured) == agent.launch_options(line)


@pytest.mark.parametrize("name", OTHERS)
def test_a_resume_line_takes_the_capture_after_its_resume_subcommand(name: str) -> None:
    agent = agents.get(name)
    line = agent.resume_line(None, "tmux", None, agent.launch_options(agent.start("p", model="m")))
    assert line is not None
    captured = agent.with_capture(line, ["--x"], "tmux")
    assert captured is not None
    argv = shlex.split(captured.rsplit("; ", 1)[-1]) if agent.auth_check else shlex.split(captured)
    lead = agents.leading_words(agent.resume)
    assert argv[: 2 + len(lead)] == [agent.binary, *lead, "--x"], argv


@pytest.mark.parametrize(
    "line",
    [
        "bash ./scripts/orchestrate-codex-worker.sh task.md handoff.md status.md",  # a launcher of ECC's kind
        "codex exec 'do it' && rm -rf /",  # more than the agent's own command
        "codex 'unterminated",
        "",
    ],
)
def test_a_line_the_agent_did_not_make_takes_no_capture(line: str) -> None:
    assert agents.get("codex").with_capture(line, ["--x"], "headless") is None


# ---------------------------------------------------------------------------- launching with a capture


@dataclass
class FakeHarness:
    """A harness module's ``worker_capture`` with the contract's shape, recording its calls."""

    choose: bool  # it can choose the session id (Gemini's --session-id), or its agent chooses (Codex)
    calls: list[tuple[list[str], Path, Optional[str]]]

    def worker_capture(self, hook_argv: list[str], private_dir: Path, session_id: Optional[str]) -> Any:
        from ecc_hooks.harness import WorkerCapture

        self.calls.append((hook_argv, private_dir, session_id))
        (private_dir / "hooks.json").write_text(json.dumps({"hook": hook_argv}))
        args = ["--hooks-from", str(private_dir / "hooks.json")]
        if self.choose and session_id:
            args += ["--session-id", session_id]
        env = {"FAKE_CAPTURE_HOME": str(private_dir), "FAKE_CAPTURE_SECRET": "capture-secret-value"}
        return WorkerCapture(env=env, args=args, session_id=session_id if self.choose else None)


@pytest.fixture
def fake_codex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``codex`` on PATH that records its argv and environment, then waits a while (the worker stays live)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen"
    seen.mkdir()
    script = (
        "#!/bin/sh\n"
        '[ "$1" = --version ] && { echo "codex-cli 0.171.0"; exit 0; }\n'
        '[ "$1" = login ] && exit 0\n'
        f'n=$(ls {seen} | grep -c argv); for a in "$@"; do printf "%s\\n" "$a"; done > {seen}/argv-$n\n'
        f"env > {seen}/.env-$n && mv {seen}/.env-$n {seen}/env-$n\n"
        'if [ -n "${FAKE_CODEX_GATE:-}" ]; then while [ ! -e "$FAKE_CODEX_GATE" ]; do sleep 0.05; done; '
        "echo 'ERROR: unexpected status 400 Bad Request: The model `nope` does not exist' >&2; exit 1; fi\n"
        "exec sleep 60\n"
    )
    (bin_dir / "codex").write_text(script)
    (bin_dir / "codex").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")  # no `codex login status` needed
    return seen


def use_harness(monkeypatch: pytest.MonkeyPatch, fake: FakeHarness) -> None:
    from ecc_hooks import harness
    from ecc_hooks.runtime import daemon

    real = harness.module
    monkeypatch.setattr(harness, "module", lambda name: fake if name == "codex" else real(name))
    monkeypatch.setattr(daemon, "spawn", lambda: None)  # this test's passes are the only ones


def create(tmp_path: Path, runtime: str, task: str = "fix the bug") -> tuple[Any, Any]:
    from ecc_hooks.runtime import control, plan, store

    repo = make_repo(tmp_path / "repo", identity=True)
    raw = {"sessionName": "cap", "repoRoot": str(repo), "workers": [{"name": "w", "task": task, "agent": "codex",
                                                                   "runtime": runtime}]}  # fmt: skip
    control.create(plan.build(plan.validate(raw), cwd=str(repo)))
    db = store.Store()
    return db, db.session("cap")


def seen_files(seen: Path, kind: str) -> list[Path]:
    return sorted(seen.glob(f"{kind}-*"), key=lambda p: int(p.name.split("-")[1]))


@pytest.mark.parametrize("workspace", ["headless", "tmux"])
def test_a_worker_gets_its_capture_at_launch_and_again_at_resume(
    tmp_path: Path, runtime: str, workspace: str, fake_codex: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeHarness(choose=False, calls=[])
    use_harness(monkeypatch, fake)
    db, session = create(tmp_path, workspace)
    wait_until(lambda: len(seen_files(fake_codex, "env")) == 1, 30, "the agent to start")
    worker = db.worker("cap", "w")
    private = Path(os.environ["ECC_HOOKS_HOME"]) / "runtime" / "cap" / "w" / "capture"
    from ecc_hooks import harness

    assert [(c[0], c[1]) for c in fake.calls] == [(harness.hook_argv("codex"), private)]
    offered = fake.calls[0][2]
    assert offered and uuid.UUID(offered)  # a fresh launch offers an id; this agent chooses its own
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    argv = seen_files(fake_codex, "argv")[0].read_text().splitlines()
    subcommand = ["exec"] if workspace == "headless" else []
    assert argv[: len(subcommand) + 2] == [*subcommand, "--hooks-from", str(private / "hooks.json")]
    env = seen_files(fake_codex, "env")[0].read_text()
    assert f"FAKE_CAPTURE_HOME={private}" in env and "FAKE_CAPTURE_SECRET=capture-secret-value" in env
    assert "ECC_WORKER=w" in env  # the worker's own variables still win
    assert "capture-secret-value" not in (worker.command or "")  # the environment is in no command line
    assert worker.agent_session is None  # its session is found by its SessionStart

    from ecc_hooks.runtime import control

    with_lock = __import__("ecc_hooks.runtime.store", fromlist=["session_lock"]).session_lock
    with with_lock("cap"):
        control.stop(db, session, [worker], grace=1.0)
        control.resume(db, session, [db.worker("cap", "w")])
    wait_until(lambda: len(seen_files(fake_codex, "env")) == 2, 30, "the resumed agent to start")
    assert fake.calls[1][1] == private and fake.calls[1][2] is None  # a resume offers no id: it continues its own
    argv = seen_files(fake_codex, "argv")[1].read_text().splitlines()
    if workspace == "tmux":  # `codex resume --last`: the capture after its subcommand
        assert argv[:3] == ["resume", "--hooks-from", str(private / "hooks.json")]
    assert "FAKE_CAPTURE_SECRET=capture-secret-value" in seen_files(fake_codex, "env")[1].read_text()


def test_an_id_the_harness_chose_is_the_workers_session(
    tmp_path: Path, runtime: str, fake_codex: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeHarness(choose=True, calls=[])
    use_harness(monkeypatch, fake)
    db, _session = create(tmp_path, "headless")
    wait_until(lambda: len(seen_files(fake_codex, "argv")) == 1, 30, "the agent to start")
    chosen = fake.calls[0][2]
    assert db.worker("cap", "w").agent_session == chosen
    argv = seen_files(fake_codex, "argv")[0].read_text().splitlines()
    assert argv[argv.index("--session-id") + 1] == chosen


# ---------------------------------------------------------------------------- joining and following its session


def journal_line(session_id: str, event: str, at: float, runtime: Optional[dict[str, str]] = None, **more: Any) -> str:
    from datetime import datetime, timezone

    ts = datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    record = {"schemaVersion": "ecc.event.v1", "ts": ts, "event": event, "sessionId": session_id, **more}
    if runtime is not None:
        record["runtime"] = runtime
    return json.dumps(record) + "\n"


def write_journal(home: Path, session_id: str, lines: list[str]) -> Path:
    path = home / "sessions" / session_id / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("a") as handle:
        handle.writelines(lines)
    return path


def test_the_session_whose_start_names_the_worker_is_found(ecc_home: Path) -> None:
    since = time.time() - 10
    mine = {"session": "cap", "worker": "w"}
    write_journal(ecc_home, "earlier", [journal_line("earlier", "SessionStart", since - 60, mine)])  # a past launch
    os.utime(ecc_home / "sessions" / "earlier" / "events.jsonl", (since - 60, since - 60))
    write_journal(ecc_home, "other", [journal_line("other", "SessionStart", since + 1, {"session": "cap",
                                                                                      "worker": "v"})])  # fmt: skip
    write_journal(ecc_home, "plain", [journal_line("plain", "SessionStart", since + 1)])  # no runtime worker's
    assert detect.find_session("cap", "w", since) is None
    write_journal(ecc_home, "sub", [journal_line("sub", "SessionStart", since + 3, mine)])  # a subagent, later
    write_journal(ecc_home, "main", [journal_line("main", "UserPromptSubmit", since + 1),
                                     journal_line("main", "SessionStart", since + 2, mine)])  # fmt: skip
    assert detect.find_session("cap", "w", since) == "main"
    assert detect.find_session("cap", "w", since + 2.5) == "sub"
    # a resumed session: its new SessionStart after a long journal of its earlier launch
    long = [journal_line("main", "PostToolUse", since + 4, tool_name="Bash") for _ in range(3000)]
    write_journal(ecc_home, "main", [*long, journal_line("main", "SessionStart", since + 5, mine, source="resume")])
    assert detect.find_session("cap", "w", since + 4.5) == "main"


def test_a_worker_is_joined_with_its_session_and_its_state_follows_its_events(
    tmp_path: Path, runtime: str, fake_codex: Path, monkeypatch: pytest.MonkeyPatch, ecc_home: Path
) -> None:
    from ecc_hooks.runtime.supervisor import Supervisor

    fake = FakeHarness(choose=False, calls=[])
    use_harness(monkeypatch, fake)
    db, session = create(tmp_path, "headless")
    wait_until(lambda: len(seen_files(fake_codex, "argv")) == 1, 30, "the agent to start")
    supervisor = Supervisor(db)

    def state() -> tuple[str, Optional[str]]:
        from ecc_hooks.runtime.store import session_lock

        with session_lock("cap"):
            supervisor.reconcile(db.session("cap"))
        worker = db.worker("cap", "w")
        return worker.state, worker.reason

    assert state() == ("running", None)  # no event yet: its process (and screen) say so
    assert db.worker("cap", "w").agent_session is None
    thread = "019a0000-0000-7000-8000-00000000c0de"
    worker = db.worker("cap", "w")
    # the hook as it runs inside the worker (the client passes $ECC_SESSION and $ECC_WORKER), Claude-shaped payloads
    # as the harness modules make them
    base = {"session_id": thread, "cwd": worker.worktree, "transcript_path": None}
    hook(base, "SessionStart", source="startup")
    hook(base, "UserPromptSubmit", prompt="fix the bug")
    assert state() == ("running", None)
    assert db.worker("cap", "w").agent_session == thread  # remembered in its record
    hook(base, "PreToolUse", tool_name="Bash", tool_input={"command": "rm -rf build"}, tool_use_id="call_1")
    hook(base, "PermissionRequest", tool_name="Bash", tool_input={"command": "rm -rf build"})
    waiting, reason = state()
    assert (waiting, reason) == ("waiting", "permission to use Bash")
    hook(base, "PostToolUse", tool_name="Bash", tool_input={"command": "rm -rf build"}, tool_use_id="call_1",
         tool_response="")  # fmt: skip
    assert state() == ("running", None)
    hook(base, "Stop", stop_hook_active=False, last_assistant_message="Done.")
    assert state() == ("completed", None)


def hook(base: dict[str, Any], event: str, **fields: Any) -> None:
    """One payload through the real hook's handler, as the hook client runs it inside the worker ``cap/w``."""
    from ecc_hooks.capture.hook import handle

    payload = json.dumps({**base, "hook_event_name": event, **fields}).encode()
    handle(payload, None, time.time(), start=False, runtime=("cap", "w"))


def test_a_run_that_failed_mid_turn_says_so_with_the_agents_own_words(
    tmp_path: Path, runtime: str, fake_codex: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecc_hooks.runtime.store import session_lock
    from ecc_hooks.runtime.supervisor import Supervisor

    fake = FakeHarness(choose=False, calls=[])
    use_harness(monkeypatch, fake)
    gate = tmp_path / "fail-now"
    monkeypatch.setenv("FAKE_CODEX_GATE", str(gate))  # the fake waits for it, then fails as Codex does
    db, _session = create(tmp_path, "headless")
    wait_until(lambda: len(seen_files(fake_codex, "argv")) == 1, 30, "the agent to start")
    worker = db.worker("cap", "w")
    base = {"session_id": "019a0000-0000-7000-8000-00000000fa11", "cwd": worker.worktree, "transcript_path": None}
    hook(base, "SessionStart", source="startup")
    hook(base, "UserPromptSubmit", prompt="fix the bug")
    hook(base, "SessionEnd", reason="other")
    gate.touch()
    from ecc_hooks.runtime import launch

    wait_until(lambda: launch.read_exit("cap", "w", worker.launch_token) is not None, 30, "the agent to exit")
    supervisor = Supervisor(db)

    def ended() -> Optional[str]:
        with session_lock("cap"):
            supervisor.reconcile(db.session("cap"))
        row = db.worker("cap", "w")
        return row.reason if row.state == "failed" else None

    reason = wait_until(ended, 30, lambda: f"the worker to fail: {db.worker('cap', 'w')}")
    assert reason.startswith(
        "exited with status 1; the session ended (other) before its turn did: "
        "ERROR: unexpected status 400 Bad Request: The model `nope` does not exist"
    ), reason


def test_an_aider_worker_at_a_question_after_its_reply_waits_though_its_turn_ended(
    tmp_path: Path, runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Aider's notification after a reply is a Stop, also when it then asks to edit a file not in its chat: its
    screen's question (the last line; one answered stays above) makes it wait, its answer completes it."""
    from ecc_hooks.runtime import control, daemon, plan, store
    from ecc_hooks.runtime.store import session_lock
    from ecc_hooks.runtime.supervisor import Supervisor

    bin_dir, gate = tmp_path / "bin", tmp_path / "answered"
    bin_dir.mkdir()
    question = "Allow edits to b.txt which was not previously added to chat? (Y)es/(N)o [Yes]:"
    (bin_dir / "aider").write_text(
        "#!/bin/sh\n"
        '[ "$1" = --version ] && { echo "aider 0.86.2"; exit 0; }\n'
        "printf 'Add a.txt to the chat? (Y)es/(N)o [Yes]: y\\n'; read task\n"
        f"printf '%s ' '{question}'; while [ ! -e {gate} ]; do sleep 0.05; done\n"
        "printf 'y\\nApplied edit to b.txt\\ndiff> '; exec sleep 60\n"
    )
    (bin_dir / "aider").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    monkeypatch.setattr(daemon, "spawn", lambda: None)
    repo = make_repo(tmp_path / "repo", identity=True)
    raw = {"sessionName": "ask", "repoRoot": str(repo), "workers": [{"name": "w", "task": "edit b", "agent": "aider"}]}
    control.create(plan.build(plan.validate(raw), cwd=str(repo)))
    db = store.Store()
    worker = db.worker("ask", "w")
    assert worker.agent_session  # the id the runtime offered, which Aider's capture takes
    supervisor = Supervisor(db)

    def state() -> tuple[str, Optional[str]]:
        with session_lock("ask"):
            supervisor.reconcile(db.session("ask"))
        row = db.worker("ask", "w")
        return row.state, row.reason

    from ecc_hooks.runtime import launch

    wait_until(lambda: question in (launch.capture(worker.pane or "", worker_socket()) or ""), 30, "the question")
    hook({"session_id": worker.agent_session, "cwd": worker.worktree}, "Stop")  # its notification after the reply
    assert state() == ("waiting", question)
    gate.touch()
    wait_until(lambda: "diff>" in (launch.capture(worker.pane or "", worker_socket()) or ""), 30, "the answer")
    assert state() == ("completed", None)


def worker_socket() -> str:
    from ecc_hooks.runtime import launch

    return launch.tmux_socket()


def test_a_pass_reads_only_what_the_journals_gained_since_the_last(ecc_home: Path) -> None:
    since = time.time() - 10
    mine = {"session": "cap", "worker": "w"}
    other = {"session": "cap", "worker": "v"}
    busy = write_journal(ecc_home, "busy", [journal_line("busy", "PostToolUse", since + 1) for _ in range(30000)])
    assert busy.stat().st_size > detect.FIND_TAIL  # only its last MB is read at first
    read: dict[str, Any] = {}
    assert detect.find_session("cap", "w", since, read) is None
    assert read[str(busy)].offset == busy.stat().st_size  # read to its end
    write_journal(ecc_home, "busy", [journal_line("busy", "SessionStart", since + 2, other)])
    write_journal(ecc_home, "mine", [journal_line("mine", "SessionStart", since + 3, mine)])
    assert detect.find_session("cap", "w", since, read) == "mine"
    assert read[str(busy)].offset == busy.stat().st_size
    assert detect.find_session("cap", "w", since, {}) == "mine"  # a first pass of its own finds it alike


def test_an_agents_last_event_at_its_exit_is_recorded_from_its_log_once_per_launch(
    ecc_home: Path, tmp_path: Path
) -> None:
    """A headless Aider run never waits, so its notification never runs: the runtime records its end from the
    worker's own log when its process is gone; a second pass of the same launch records nothing again."""
    from ecc_hooks.core import paths
    from ecc_hooks.harness import aider
    from tests.helpers import REPO

    private = tmp_path / "capture"
    private.mkdir(mode=0o700)
    turn = REPO / "tests" / "fixtures" / "harness" / "aider" / "analytics-turn.jsonl"
    (private / aider.worker_log("w1")).write_bytes(turn.read_bytes())
    assert agents.record_exit("aider", str(private), "w1", "tok1", str(tmp_path))
    assert not agents.record_exit("aider", str(private), "w1", "tok1", str(tmp_path))
    assert not agents.record_exit("codex", str(private), "w1", "tok1", str(tmp_path))  # its hooks say it all
    events = [json.loads(line) for line in Path(paths.journal_path("w1")).read_text().splitlines()]
    assert [(e["event"], e["harness"], e["sessionId"], e["cwd"]) for e in events] == [
        ("Stop", "aider", "w1", str(tmp_path))
    ]
    assert agents.record_exit("aider", str(private), "w1", "tok2", str(tmp_path))  # a resume: its own end
    assert not agents.record_exit("aider", str(private), "nothing-sent", "tok3", str(tmp_path))  # no call logged


def test_a_codex_worker_with_a_provider_of_its_own_needs_no_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``codex login status`` says "Not logged in" to a user whose config.toml chooses a provider of their own: its
    ``env_key`` set in the worker's environment stands for credentials, as OPENAI_API_KEY does."""
    import subprocess

    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    (home / ".codex").mkdir(parents=True)
    bin_dir.mkdir()
    fake = bin_dir / "codex"  # logged in to nothing; otherwise says what it was asked
    fake.write_text('#!/bin/sh\nif [ "$1" = login ]; then echo "Not logged in" >&2; exit 1; fi\necho "ran $*"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    agent = agents.get("codex")
    before = agent.start("do it", runtime="headless")  # no provider of the user's own yet
    (home / ".codex" / "config.toml").write_text(
        'model_provider = "fake"\n[model_providers.fake]\nname = "fake"\nenv_key = "FAKE_KEY"\n'
    )
    line = agent.start("do it", runtime="headless")
    clean_env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home)}

    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", "-c", line], env=env, capture_output=True, text=True, timeout=30)

    assert run({**clean_env, "FAKE_KEY": "k"}).stdout.startswith("ran exec")
    refused = run(clean_env)  # the key unset: the login check still stops it, in Codex's words
    assert refused.returncode == 1 and "Not logged in" in refused.stderr and not refused.stdout
    # a line made before the config changed is still the agent's own: it takes its capture
    for made in (before, line):
        parsed = agent.parse_command(made)
        assert parsed is not None and parsed[0][:2] == ["codex", "exec"] and parsed[1] == "do it"
        assert agent.with_capture(made, ["-c", "x=1"], "headless") is not None
