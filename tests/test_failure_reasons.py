"""A failed worker's reason carries the agent's own last error lines (redacted, inert for a terminal, bounded) and
the path of its whole log, in status.md, handoff.md, ``session status`` and ``session list``: real git, real
processes, real tmux on the test's own socket."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as hs

from ecc_hooks.runtime.failure import WORDS_MAX, error_lines
from tests.helpers import ecc, make_repo, wait_until

ROOT_REFUSAL = "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons"
SECRET = "sk-ant-api03-" + "a1B2c3D4e5" * 8


def test_each_failure_names_the_agents_words_and_its_log(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")  # no identity: a commit in a worktree fails as it does for a user
    workers = [
        {"name": "root", "task": "t", "runtime": "headless",
         "launcherCommand": f"echo 'starting up'; echo '{ROOT_REFUSAL}' >&2; exit 1"},
        {"name": "commit", "task": "t",  # tmux
         "launcherCommand": "echo x > x.txt && git add x.txt && git -c user.useConfigOnly=true commit -qm x"},
        {"name": "boom", "task": "t", "launcherCommand": f"echo 'token {SECRET}'; echo boom; exit 3"},
    ]  # fmt: skip
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"sessionName": "why", "repoRoot": str(repo), "workers": workers}))
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr

    def reasons() -> dict[str, str]:
        listed = ecc("session", "list", "--json", cwd=repo)
        assert listed.returncode == 0, listed.stderr
        return {w["id"]: w["reason"] for w in json.loads(listed.stdout)[0]["workers"] if w["state"] == "failed"}

    wait_until(lambda: len(reasons()) == 3, 60, lambda: f"three failures: {reasons()}")
    got = reasons()
    words = {"root": ROOT_REFUSAL, "commit": "Author identity unknown", "boom": "boom"}
    statuses = {"root": 1, "commit": 128, "boom": 3}
    for slug, reason in got.items():
        match = re.fullmatch(r"exited with status (\d+): (.*) \(log: (/.+)\)", reason)
        assert match, reason
        assert int(match.group(1)) == statuses[slug]
        assert words[slug] in match.group(2), reason
        log = Path(match.group(3))
        assert log.is_file() and words[slug] in log.read_text(), (slug, log)
        assert len(reason) <= 300 and "\n" not in reason
        assert "\x1b" not in reason
    assert "starting up" not in got["root"]  # the error line, not whatever came last
    assert SECRET not in got["boom"] and SECRET not in Path(re.findall(r"\(log: (/.+)\)", got["boom"])[0]).read_text()

    coordination = repo / ".orchestration" / "why"
    for slug, said in words.items():
        assert said in (coordination / slug / "status.md").read_text(), slug
        assert said in (coordination / slug / "handoff.md").read_text(), slug
    status = ecc("session", "status", "why", cwd=repo)
    listed = ecc("session", "list", cwd=repo)
    for slug, reason in got.items():
        assert reason in status.stdout, status.stdout
        assert f"{slug} failed: {reason}" in listed.stdout, listed.stdout


def test_error_lines_pick_the_last_errors_else_the_last_lines() -> None:
    assert error_lines("compiling\nerror: no such file\nlinking\ndone\n") == ["error: no such file"]
    assert error_lines("one\ntwo\nthree\n") == ["two", "three"]
    stream = [
        json.dumps({"type": "assistant", "message": {"content": "an error in the conversation"}}),
        json.dumps(
            {"type": "result", "subtype": "error_during_execution", "is_error": True, "result": "API Error: 401"}
        ),
    ]  # Claude Code's stream-json: the conversation is not an error, its error result is
    assert error_lines("\n".join(stream)) == ["API Error: 401"]


def test_a_warning_the_tool_went_on_after_is_not_why_it_stopped() -> None:
    """``codex login status`` without a login: its warning looks like an error ("could not"), its cause does not."""
    warning = "WARNING: proceeding, even though we could not create PATH aliases: Refusing to create helper binaries"
    assert error_lines(f"{warning}\nNot logged in\n") == ["Not logged in"]
    assert error_lines(f"Not logged in\n{warning}\n") == ["Not logged in"]
    assert error_lines(f"{warning}\n") == [warning[:WORDS_MAX]]  # said nothing else: the warning is all there is


@settings(max_examples=200, deadline=None)
@given(hs.text(alphabet=hs.characters(codec="utf-8"), max_size=3000))
def test_error_lines_are_bounded_single_lines_inert_in_a_terminal(output: str) -> None:
    lines = error_lines(output + "\n" + f"fatal: {SECRET}")
    assert lines and sum(len(x) for x in lines) <= WORDS_MAX
    for line in lines:
        assert line == line.strip() and not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
    assert SECRET not in " ".join(lines)
