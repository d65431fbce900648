"""Issue 23, finding 11: no escape sequence, control or bidi character of a repository reaches the terminal raw
from any ``session`` subcommand.

A repository whose folder name holds an OSC title sequence, a clear-screen CSI and U+202E, and a worker whose
branch conflicts with the base in a file named with the same: ``create``, ``list``, ``status``, ``diff``,
``merge-queue`` and ``conflicts`` (human and JSON) print none of them raw, and still name the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import ecc, git, make_repo, wait_until

HOSTILE = "\x1b]0;owned\x07\x1b[2J\u202etxt.exe\x9b31m"
RAW = ("\x1b", "\x07", "\u202e", "\x9b")
# the file's name as the worker's shell writes it (octal escapes: the plan holds no raw control character)
FILE_PRINTF = r"evil\033]0;owned\007\033[2J\342\200\256name.txt"
FILE = "evil\x1b]0;owned\x07\x1b[2J\u202ename.txt"


def inert(where: str, text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the terminal from {where}: {text[:300]!r}"


@pytest.fixture
def hostile(tmp_path: Path, runtime: str) -> Path:
    repo = make_repo(tmp_path / f"repo{HOSTILE}")
    (repo / FILE).write_text("one\n")
    git(repo, "add", "--", FILE)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "a file with a hostile name")
    edit = (
        f'f=$(printf \'{FILE_PRINTF}\') && echo theirs > "$f" && git add -- "$f" && '
        "git -c user.name=w -c user.email=w@x commit -qm theirs"
    )
    plan = {
        "sessionName": "esc",
        "repoRoot": str(repo),
        "workers": [{"name": "w", "task": "t", "launcherCommand": edit}],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    created = ecc("session", "create", str(tmp_path / "plan.json"), "--execute", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    inert("session create", created.stdout + created.stderr)
    assert "repotxt.exe" in created.stdout  # the folder is still named, its escapes removed

    def state() -> str:
        return json.loads(ecc("session", "list", "--json", cwd=tmp_path).stdout)[0]["workers"][0]["state"]

    wait_until(lambda: state() == "completed", 30, state)
    (repo / FILE).write_text("ours\n")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qam", "the base edits it too")
    return tmp_path


def test_no_session_subcommand_prints_a_repository_escape_raw(hostile: Path) -> None:
    commands = [("list",), ("status", "esc"), ("diff", "esc"), ("diff", "esc", "--stat"),
                ("diff", "esc", "--worker", "w"), ("merge-queue", "esc"), ("conflicts", "esc")]  # fmt: skip
    commands += [(*c, "--json") for c in commands if c[0] != "diff" or len(c) == 2]
    for args in commands:
        done = ecc("session", *args, cwd=hostile)
        assert done.returncode == 0, (args, done.stderr)
        inert(f"session {' '.join(args)}", done.stdout + done.stderr)
    shown = ecc("session", "conflicts", "esc", cwd=hostile).stdout
    assert "base-conflict" in shown and "evil" in shown and "name.txt" in shown
    queue = ecc("session", "merge-queue", "esc", cwd=hostile).stdout
    assert "evil" in queue and "name.txt" in queue
    # the JSON still carries the exact name (escaped, so a parser reads it back)
    found = json.loads(ecc("session", "conflicts", "esc", "--json", cwd=hostile).stdout)
    assert found[0]["files"] == [FILE]


def test_the_session_cli_writes_human_lines_through_the_sanitiser() -> None:
    """The mechanism: cli/session.py has no bare print; its lines go through core.text (one place to audit)."""
    source = (Path(__file__).resolve().parents[2] / "ecc_hooks" / "cli" / "session.py").read_text()
    assert "print(" not in source
    assert source.count("sys.stdout.write(") == 2  # _say (human) and _json (dump_json)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200) | st.text(max_size=200))
def test_json_inert_escapes_the_same_on_its_ascii_fast_path(text: str) -> None:
    """``json_inert``'s ASCII fast path escapes exactly what the regular expression does (DEL), and JSON text with
    any invisible or C1 character comes out with none left (the same in the slow path's 10 s on a 20 MB report)."""
    from ecc_hooks.core.text import _json_inert_slow, dump_json, json_inert

    assert json_inert(text) == _json_inert_slow(text)
    serialized = dump_json({"v": text + "\x7f\u202e\x9b"}).decode("utf-8")
    assert not any(char in serialized for char in ("\x7f", "\u202e", "\x9b"))
    assert isinstance(json.loads(serialized)["v"], str)  # still JSON (dump_json also redacts: "SIG=..." goes)
