"""``session retry`` (the original command again, for every runtime) and ``session resume --prompt`` with real
tmux and real processes; the resume line of each runtime, which keeps the planned model and permission mode
(read back from the launch line: a property test), and a relaunched session judged on its own events only."""

from __future__ import annotations

import json
import shlex
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.runtime import agents, detect
from tests.helpers import ecc, make_repo, wait_until


def plan(path: Path, repo: Path, name: str, workers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def row(name: str, slug: str) -> Any:
    from ecc_hooks.runtime import store

    return store.Store().worker(name, slug)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", identity=True)


def test_retry_relaunches_the_original_command_in_tmux_and_headless(tmp_path: Path, repo: Path, runtime: str) -> None:
    runs = tmp_path / "runs"
    # fails on its first run, succeeds on the next: the same command both times
    step = f"echo run >> {runs}.$ECC_WORKER; [ $(wc -l < {runs}.$ECC_WORKER) -ge 2 ] || exit 4; echo second run ok"
    workers = [
        {"name": "pane", "task": "t", "launcherCommand": step},
        {"name": "bg", "task": "t", "runtime": "headless", "launcherCommand": step},
        {"name": "fine", "task": "t", "launcherCommand": "echo fine"},
    ]
    assert (
        ecc("session", "create", str(plan(tmp_path / "p.json", repo, "re", workers)), "--execute", cwd=repo).returncode
        == 0
    )
    want = {"pane": "failed", "bg": "failed", "fine": "completed"}
    wait_until(lambda: {s: row("re", s).state for s in want} == want, 30, lambda: str({s: row("re", s) for s in want}))
    refused = ecc("session", "retry", "re", "--worker", "fine", cwd=repo)
    assert refused.returncode == 1 and "fine is completed" in refused.stderr
    prompted = ecc("session", "resume", "re", "--worker", "pane", "--prompt", "more", cwd=repo)
    assert prompted.returncode == 1 and "--prompt is for agent workers" in prompted.stderr
    retried = ecc("session", "retry", "re", cwd=repo)
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == "retrying: pane, bg"  # the finished one is left alone
    done = {"pane": "completed", "bg": "completed", "fine": "completed"}
    wait_until(lambda: {s: row("re", s).state for s in done} == done, 30, lambda: str({s: row("re", s) for s in done}))
    assert row("re", "pane").launches == row("re", "bg").launches == 2 and row("re", "fine").launches == 1
    for slug in ("pane", "bg"):
        assert Path(f"{runs}.{slug}").read_text() == "run\nrun\n"
    logs = ecc("session", "logs", "re", "--worker", "bg", cwd=repo)
    assert "second run ok" in logs.stdout
    nothing = ecc("session", "retry", "re", cwd=repo)
    assert nothing.returncode == 1 and "nothing to retry" in nothing.stderr


def launched(runtime: str, prompt: str, model: str | None, mode: str | None) -> str:
    return agents.get("claude").start(
        prompt, runtime=runtime, model=model, permission_mode=mode, session_id=str(uuid.uuid4())
    )


words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30
)


@given(prompt=words, model=st.one_of(st.none(), words), mode=st.one_of(st.none(), words))
def test_a_resume_keeps_the_planned_model_and_permission_mode(prompt: str, model: str | None, mode: str | None) -> None:
    claude = agents.get("claude")
    for runtime in ("headless", "tmux"):
        options = claude.launch_options(launched(runtime, prompt, model, mode))
        want = (["--model", model] if model else []) + (["--permission-mode", mode] if mode else [])
        assert options == want


def test_a_headless_resume_is_claude_p_with_the_prompt_on_stdin() -> None:
    claude = agents.get("claude")
    options = ["--model", "m", "--permission-mode", "acceptEdits"]
    layer = " ".join(claude.settings_args())  # our hooks' settings layer, on every start
    line = claude.resume_line("abc", "headless", "do more", options)
    assert line == (
        f"printf '%s' 'do more' | claude -p --output-format stream-json --verbose --resume abc {layer} "
        "--model m --permission-mode acceptEdits"
    )
    assert claude.resume_line("abc", "headless", None, options) == line.replace(
        "'do more'", shlex.quote(agents.RESUME_PROMPT)
    )
    pane = claude.resume_line("abc", "tmux", "do more", options) or ""
    assert (
        pane.endswith(f"claude --resume abc {layer} --model m --permission-mode acceptEdits") and "load-buffer" in pane
    )
    assert (
        claude.resume_line("abc", "tmux", None, options)
        == f"claude --resume abc {layer} --model m --permission-mode acceptEdits"
    )
    with pytest.raises(Exception, match="background session resumes without a new prompt"):
        claude.resume_line("abc", "claude-bg", "do more")
    assert agents.get("aider").resume_line(None, "headless", "x") is None  # no headless resume: relaunched instead


def test_a_resumed_session_is_judged_on_its_own_events(tmp_path: Path) -> None:
    journal = tmp_path / "events.jsonl"

    def record(event: str, ts: str) -> str:
        return json.dumps({"schemaVersion": "ecc.event.v1", "ts": ts, "event": event, "sessionId": "s"}) + "\n"

    earlier = ["SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"]
    journal.write_text("".join(record(e, f"2026-12-07T04:00:0{n}.000Z") for n, e in enumerate(earlier)))
    since = 1796616010.0  # 2026-12-07T04:00:10Z: the relaunch
    everything = detect.JournalFollower(str(journal))
    everything.poll()
    assert everything.last_turn_event == "SessionEnd"
    own = detect.JournalFollower(str(journal), since=since)
    own.poll()
    assert not own.seen and own.last_turn_event is None  # nothing of the earlier run counts
    with journal.open("a") as handle:
        handle.write(record("SessionStart", "2026-12-07T04:00:10.000Z"))
        handle.write(record("UserPromptSubmit", "2026-12-07T04:00:11.000Z"))
    own.poll()
    assert own.seen and own.verdict()[0] == "running" and own.prompts == 1
