"""The pinned Gemini CLI (0.61.0), offline against tests/e2e/fake_api's Gemini dialect, captured like Claude Code.

One scripted turn: a shell command that succeeds (it prints the API key), one that exits 3, a file read that fails,
then a text reply. Our hook reaches Gemini CLI two ways: ``ecc-hooks install --harness gemini`` (the user's
``~/.gemini/settings.json``) and ``harness.gemini.worker_capture`` (a runtime worker: a private ``GEMINI_CLI_HOME``,
the user's folder untouched, the session id ours). Each run is checked the same way:

- the journal holds the events, each with ``harness: "gemini-cli"`` and Gemini CLI's own session id;
- the HUD payload validates and says ``context.harness``, 3 tool calls and 2 failures;
- the tokens equal the transcript's own (each gemini message's last version), and the cost equals those tokens
  times prices.json's Gemini row, computed here independently;
- the API key (a real-looking ``AIza...`` key, in the environment and in a tool's output) is in no file under
  ``ECC_HOOKS_HOME``, raw payload capture on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks import harness
from ecc_hooks.harness import gemini
from ecc_hooks.hud import inputs
from tests.e2e.fake_api import FakeAPI, Usage, call, say
from tests.e2e.test_agent_registry import bin_dir, scratch_env
from tests.helpers import REPO
from tests.leakcheck import end_session

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-pro"  # pinned: Gemini CLI's own default (gemini-3.1-pro-preview) is not in prices.json
KEY = "AIzaSyD7-eccHooksTestKey0123456789abcdEf"  # shaped like a real Gemini API key
PROMPT = "run the checks"


def script(project: Path) -> list[Any]:
    return [
        call("run_shell_command", Usage(1200, 40, 200, 15), command="echo key=$GEMINI_API_KEY", description="echo"),
        call("run_shell_command", Usage(1400, 30, 600, 0), command="exit 3", description="fail"),
        call("read_file", Usage(1500, 20, 0, 5), file_path=str(project / "missing.txt")),
        say("Both checks ran; one failed.", Usage(1700, 60, 1000, 8)),
    ]


def run_gemini(env: dict[str, str], cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """One headless turn, bounded; the whole process group killed if it overruns."""
    argv = [str(bin_dir("gemini") / "gemini"), "--skip-trust", "-y", "-m", MODEL, *args, "-p", PROMPT]
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"gemini overran its bound: {err[-2000:]}")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    home, project, ecc_home = tmp_path / "home", tmp_path / "project", tmp_path / "ecc"
    (home / ".gemini").mkdir(parents=True)
    project.mkdir()
    user = {"security": {"auth": {"selectedType": "gemini-api-key"}}, "ui": {"theme": "Default"}}
    (home / ".gemini" / "settings.json").write_text(json.dumps(user))
    return home, project, ecc_home


def base_env(home: Path, ecc_home: Path) -> dict[str, str]:
    env = scratch_env(home, "gemini")
    env.update(ECC_HOOKS_HOME=str(ecc_home), ECC_HOOKS_NO_WATCHER="1", ECC_HOOKS_RAW="1", TERM="dumb")
    env.pop("GEMINI_CLI_HOME", None)
    return env


def journal(ecc_home: Path, session: str) -> list[dict[str, Any]]:
    path = ecc_home / "sessions" / session / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def transcript_tokens(path: Path) -> list[dict[str, Any]]:
    """Each gemini message's token counts as the transcript last wrote them (read here, not by the module)."""
    last: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "gemini" and "tokens" in record:
            last[record["id"]] = {**record["tokens"], "model": record["model"]}
    return list(last.values())


def check_session(ecc_home: Path, session: str, monkeypatch: pytest.MonkeyPatch) -> None:
    events = journal(ecc_home, session)
    names = [e["event"] for e in events]
    assert names == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PreToolUse",
        "PostToolUseFailure",
        "PreToolUse",
        "PostToolUseFailure",
        "Stop",
        "SessionEnd",
    ], names
    assert {e["harness"] for e in events} == {"gemini-cli"} and {e["sessionId"] for e in events} == {session}
    pre = [e["toolUseId"] for e in events if e["event"] == "PreToolUse"]
    post = [e["toolUseId"] for e in events if e["event"].startswith("PostToolUse")]
    assert pre == post and len(set(pre)) == 3
    failures = [e for e in events if e["event"] == "PostToolUseFailure"]
    assert [(f["toolName"], f["error"]) for f in failures] == [
        ("Bash", "Exit Code: 3"),
        ("Read", f"File not found: {events[0]['cwd']}/missing.txt"),
    ]

    monkeypatch.setenv("ECC_HOOKS_HOME", str(ecc_home))
    payload = json.loads(inputs.session_payload(session, use_gh=False).model_dump_json(by_alias=True))
    assert payload["context"]["harness"] == "gemini-cli" and payload["context"]["sessionId"] == session
    assert payload["toolCalls"]["total"] == 3 and payload["toolCalls"]["failures"] == 2
    assert payload["context"]["model"] == MODEL

    transcript = Path(events[0]["transcriptPath"])
    messages = transcript_tokens(transcript)
    assert len(messages) == 4 and {m["model"] for m in messages} == {MODEL}
    usage = inputs.harness_usage("gemini-cli", session, str(transcript), {})
    assert usage is not None
    cached = sum(m["cached"] for m in messages)
    fresh = sum(m["input"] - m["cached"] + m["tool"] for m in messages)
    out = sum(m["output"] + m["thoughts"] for m in messages)
    assert (usage.tokens["input"], usage.tokens["cache_read"], usage.tokens["output"]) == (fresh, cached, out)
    assert usage.tokens["reasoning"] == sum(m["thoughts"] for m in messages) == 28
    prices = json.loads((REPO / "ecc_hooks" / "data" / "prices.json").read_text())["families"]["gemini-2-5-pro"]
    cost = (
        fresh * Decimal(str(prices["input"])) + cached * Decimal(str(prices["cache_read"]))
        + out * Decimal(str(prices["output"]))
    ) / 10**6  # fmt: skip
    assert cost > 0 and payload["cost"]["sessionUsd"] == pytest.approx(float(cost), rel=1e-9)
    assert payload["cost"]["source"] == "computed"


def check_no_key(ecc_home: Path, transcript: Path, agent_home: Path | None = None) -> None:
    """No file of ours holds the key (``agent_home``: a worker's private Gemini home, Gemini CLI's own files)."""
    assert KEY in transcript.read_text()  # the key really went through a tool's output
    ours = [p for p in ecc_home.rglob("*") if agent_home is None or not p.is_relative_to(agent_home)]
    leaked = [p for p in ours if p.is_file() and (KEY[8:24].encode() in p.read_bytes())]
    assert leaked == []
    raw = [e.get("raw") for e in journal(ecc_home, transcript_session(transcript)) if e["event"] == "PostToolUse"]
    assert "[REDACTED]" in json.dumps(raw)  # the output was recorded, masked


def transcript_session(transcript: Path) -> str:
    return str(json.loads(transcript.read_text().splitlines()[0])["sessionId"])


def test_installed_hooks_capture_a_gemini_turn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, project, ecc_home = world(tmp_path)
    env = base_env(home, ecc_home)
    installed = subprocess.run(
        [str(Path(sys.executable).parent / "ecc-hooks"), "install", "--harness", "gemini"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    session = "5b0d7c8e-3f1a-4c2b-9d4e-6a7b8c9d0e1f"
    with FakeAPI(script(project)) as api:
        done = run_gemini(
            dict(env, GOOGLE_GEMINI_BASE_URL=api.base_url, GEMINI_API_KEY=KEY), project, ["--session-id", session]
        )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "one failed" in done.stdout
    check_session(ecc_home, session, monkeypatch)
    check_no_key(ecc_home, Path(journal(ecc_home, session)[0]["transcriptPath"]))


@pytest.mark.parametrize("user_tmp", [True, False], ids=["user-tmp-exists", "no-user-tmp"])
def test_a_runtime_worker_is_captured_without_touching_the_users_gemini_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_tmp: bool
) -> None:
    """The private home lies where the runtime puts it, below ECC_HOOKS_HOME (whose paths are read without
    following links): the worker's chat is read for its tokens and cost whether or not the user's ``tmp/`` exists."""
    home, project, ecc_home = world(tmp_path)
    if user_tmp:
        (home / ".gemini" / "tmp" / "bin").mkdir(parents=True)  # a user who ran Gemini CLI before
    user_settings = (home / ".gemini" / "settings.json").read_bytes()
    env = base_env(home, ecc_home)
    private = ecc_home / "runtime" / "gm2" / "gm2-1" / "capture"
    private.mkdir(mode=0o700, parents=True)
    for folder in (ecc_home, *private.relative_to(ecc_home).parents):
        (ecc_home / folder).chmod(0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    capture = gemini.worker_capture(harness.hook_argv("gemini"), private, "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f")
    assert capture.session_id == "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
    with FakeAPI(script(project)) as api:
        run_env = dict(env, GOOGLE_GEMINI_BASE_URL=api.base_url, GEMINI_API_KEY=KEY, **capture.env)
        done = run_gemini(run_env, project, capture.args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (home / ".gemini" / "settings.json").read_bytes() == user_settings
    check_session(ecc_home, capture.session_id, monkeypatch)  # tokens and cost of the worker's own chat
    transcript = Path(journal(ecc_home, capture.session_id)[0]["transcriptPath"])
    # written in the private home's own tmp/, reached through no link; the user's tmp/ gained nothing
    own_tmp = private / "gemini-home" / ".gemini" / "tmp"
    assert transcript.is_relative_to(own_tmp) and transcript.resolve() == transcript
    assert not own_tmp.is_symlink() and (own_tmp / "bin").is_symlink() == user_tmp
    assert [p.name for p in (home / ".gemini").rglob("*.jsonl")] == []
    check_no_key(ecc_home, transcript, private / "gemini-home")


class GeminiPane:
    """An interactive ``gemini`` in a detached tmux session on a private socket (no user tmux.conf)."""

    def __init__(self, root: Path, env: dict[str, str], cwd: Path, args: list[str]) -> None:
        self.socket = root / "tmux.sock"
        self.pane_pid = 0
        # Gemini CLI runs non-interactively in CI (``CI``, ``CONTINUOUS_INTEGRATION``, any ``CI_*``: "No input
        # provided via stdin"): this pane is a person's terminal, so none of them reaches it
        env = {k: v for k, v in env.items() if k not in ("CI", "CONTINUOUS_INTEGRATION") and not k.startswith("CI_")}
        command = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), str(bin_dir("gemini") / "gemini"), *args]
        self.tmux("new-session", "-d", "-s", "g", "-x", "150", "-y", "45", "-c", str(cwd), *command)
        pid = self.tmux("display-message", "-p", "-t", "g:0.0", "#{pane_pid}").stdout.strip()
        self.pane_pid = int(pid) if pid.isdigit() else 0
        self.tmux("set-option", "-t", "g", "remain-on-exit", "on")

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-f", "/dev/null", "-S", str(self.socket), *args], capture_output=True, text=True, timeout=15
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "g:0.0").stdout

    def close(self) -> None:
        self.tmux("kill-server")
        if self.pane_pid:
            end_session(self.pane_pid)


def wait_until(what: str, check: Callable[[], bool], pane: GeminiPane, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout}s for {what}; screen:\n{pane.screen()}")
        time.sleep(0.3)


def test_a_permission_prompt_is_a_wait_until_it_is_answered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    home, project, ecc_home = world(tmp_path)
    env = base_env(home, ecc_home)
    env.update(TERM="xterm-256color", GEMINI_API_KEY=KEY)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    gemini.install(harness.InstallContext(home=home, hook_argv=harness.hook_argv("gemini")))
    monkeypatch.setenv("ECC_HOOKS_HOME", str(ecc_home))
    session = "3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b"
    target = project / "a.txt"
    steps = [call("write_file", Usage(900, 20), file_path=str(target), content="x\n"), say("Written.", Usage(950, 5))]

    def events() -> list[str]:
        path = ecc_home / "sessions" / session / "events.jsonl"
        return [json.loads(line)["event"] for line in path.read_text().splitlines()] if path.exists() else []

    with FakeAPI(steps) as api:
        env["GOOGLE_GEMINI_BASE_URL"] = api.base_url
        pane = GeminiPane(tmp_path, env, project, ["--skip-trust", "-m", MODEL, "--session-id", session])
        try:
            wait_until("the prompt", lambda: "Type your message" in pane.screen(), pane)
            pane.tmux("send-keys", "-t", "g:0.0", "-l", "write the file")
            wait_until("the typed prompt", lambda: "write the file" in pane.screen(), pane)
            pane.tmux("send-keys", "-t", "g:0.0", "Enter")
            wait_until("the permission request", lambda: "PermissionRequest" in events(), pane)
            waiting = json.loads(inputs.session_payload(session, use_gh=False).model_dump_json(by_alias=True))
            assert waiting["context"]["turnState"] == "waiting"
            assert waiting["context"]["waitingFor"] == "permission to use Write"
            assert waiting["toolCalls"]["pending"] == 1 and not target.exists()
            wait_until("the question on screen", lambda: "Allow" in pane.screen(), pane)
            pane.tmux("send-keys", "-t", "g:0.0", "Enter")  # the first answer: allow once
            wait_until("the turn's end", lambda: "Stop" in events(), pane)
        finally:
            pane.close()
    assert events()[:6] == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PermissionRequest",
        "PostToolUse",
        "Stop",
    ]
    done = json.loads(inputs.session_payload(session, use_gh=False).model_dump_json(by_alias=True))
    assert done["context"]["turnState"] != "waiting" and done["context"]["waitingFor"] is None
    assert done["toolCalls"]["total"] == 1 and done["toolCalls"]["failures"] == 0 and done["toolCalls"]["pending"] == 0
    assert target.read_text() == "x\n"


def test_a_call_declined_at_the_prompt_ends_the_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Esc at "Allow execution of [Shell]?": Gemini CLI says "Request cancelled" and fires no hook; the watcher
    reads the declined call from the chat and records it denied (as Claude Code's rejection at its prompt) and the
    turn over, once."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    home, project, ecc_home = world(tmp_path)
    env = base_env(home, ecc_home)
    env.update(TERM="xterm-256color", GEMINI_API_KEY=KEY, ECC_HOOKS_NO_WATCHER="0")  # the watcher reads the chat
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    gemini.install(harness.InstallContext(home=home, hook_argv=harness.hook_argv("gemini")))
    monkeypatch.setenv("ECC_HOOKS_HOME", str(ecc_home))
    session = "4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c"
    steps = [call("run_shell_command", Usage(900, 20), command="echo hi > b.txt", description="b"), say("No.")]

    def status() -> dict[str, Any]:
        return json.loads(inputs.session_payload(session, use_gh=False).model_dump_json(by_alias=True))

    try:
        with FakeAPI(steps) as api:
            env["GOOGLE_GEMINI_BASE_URL"] = api.base_url
            pane = GeminiPane(tmp_path, env, project, ["--skip-trust", "-m", MODEL, "--session-id", session])
            try:
                wait_until("the prompt", lambda: "Type your message" in pane.screen(), pane)
                pane.tmux("send-keys", "-t", "g:0.0", "-l", "make b")
                wait_until("the typed prompt", lambda: "make b" in pane.screen(), pane)
                pane.tmux("send-keys", "-t", "g:0.0", "Enter")
                wait_until("the question on screen", lambda: "Allow" in pane.screen(), pane)
                wait_until("the wait", lambda: status()["context"]["turnState"] == "waiting", pane, 30)
                assert status()["context"]["waitingFor"] == "permission to use Bash"
                pane.tmux("send-keys", "-t", "g:0.0", "Escape")  # declined: no hook fires
                wait_until("the cancellation", lambda: "Request cancelled" in pane.screen(), pane, 15)
                wait_until("the wait's end", lambda: status()["context"]["turnState"] != "waiting", pane, 10)
                time.sleep(2)  # the watcher goes on reading the chat: nothing is recorded twice
                after = status()
            finally:
                pane.close()
    finally:
        stop_watcher(ecc_home)
    assert after["context"]["turnState"] == "idle" and after["context"]["waitingFor"] is None
    assert after["toolCalls"]["total"] == 1 and after["toolCalls"]["pending"] == 0
    # the person said no: denied (a failure that never ran), as Claude Code's rejection at its prompt is counted
    assert after["toolCalls"]["denied"] == 1 and after["toolCalls"]["failures"] == 1
    assert after["toolCalls"]["interrupted"] == 0
    events = journal(ecc_home, session)
    assert [e["event"] for e in events] == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PermissionRequest",
        "PermissionDenied",
        "Stop",
    ]
    ended = events[4]
    assert ended["toolUseId"] == events[2]["toolUseId"] and ended["toolName"] == "Bash"
    assert "User denied execution" in ended["reason"]
    assert not (project / "b.txt").exists()


def stop_watcher(ecc_home: Path) -> None:
    """Kill the watcher a hook started for this test (its pid is in its lock file)."""
    lock = ecc_home / "watch.lock"
    pid = lock.read_text().strip() if lock.exists() else ""
    if pid.isdigit():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
