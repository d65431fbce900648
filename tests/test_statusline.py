"""The status line end to end in a real subprocess: stdin from Claude Code, snapshot, config, hostile input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecc_hooks.core import compaction
from tests.helpers import CAPTURES, REPO, SAFE_PATH, wait_until

CAPTURE = CAPTURES / "statusline-stdin.jsonl"
SESSION = json.loads(CAPTURE.read_text().splitlines()[-1])["session_id"]
ESC_RE = "\x1b"


def stdin_line() -> dict:
    """The capture's last line (after the first responses: cost and used_percentage known)."""
    lines = [json.loads(x) for x in CAPTURE.read_text().splitlines() if x.strip()]
    return lines[-1]


def run_sl(
    stdin: bytes | dict, *, env: dict[str, str] | None = None, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    data = stdin if isinstance(stdin, bytes) else json.dumps(stdin).encode()
    full = {**os.environ, "COLUMNS": "200", **(env or {})}
    full.pop("NO_COLOR", None) if "NO_COLOR" not in (env or {}) else None
    argv = (
        [sys.executable, *SAFE_PATH, "-m", "ecc_hooks.statusline"]
        if code is None
        else [sys.executable, *SAFE_PATH, "-c", code]
    )
    result = subprocess.run(argv, input=data, capture_output=True, env=full, cwd=str(REPO), timeout=30)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode("utf-8"), result.stderr.decode()
    )


def write_snapshot(ecc_home: Path, snap: dict | bytes, session: str = SESSION) -> Path:
    directory = ecc_home / "sessions" / session
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hud.json"
    path.write_bytes(snap if isinstance(snap, bytes) else json.dumps(snap).encode())
    return path


def plain(text: str) -> str:
    """Output without our own SGR sequences (ESC [ digits;... m), to read its text."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_renders_stdin_alone_and_records_the_sensor(ecc_home: Path) -> None:
    stdin = stdin_line()
    result = run_sl(stdin)
    assert result.returncode == 0 and result.stderr == ""
    text = plain(result.stdout)
    cost = stdin["cost"]["total_cost_usd"]
    used = compaction.shown_from_stdin(stdin["context_window"], {})  # the figure Claude Code's screen shows
    assert used and cost > 0.01  # a capture after real responses
    assert stdin["model"]["display_name"] in text and f"${cost:.2f}" in text and f" {used}%" in text
    assert "tools --" in text  # no snapshot: the count is unknown, not zero
    sensor = json.loads((ecc_home / "sessions" / SESSION / "statusline.json").read_text())
    assert sensor["cost"]["total_cost_usd"] == cost and sensor["sessionId"] == SESSION
    assert (ecc_home / "sessions" / SESSION / "statusline.last").read_text() == result.stdout.rstrip("\n")


def test_merges_the_snapshot(ecc_home: Path) -> None:
    write_snapshot(
        ecc_home,
        {
            "toolCalls": {"total": 7, "failures": 1, "running": []},
            "todos": {"inProgress": "Fix parser", "counts": {"pending": 1, "inProgress": 1, "completed": 0}},
            "context": {"branch": "feat/x"},
            "risk": {"status": "ok", "dirtyWorktree": False},
        },
    )
    text = plain(run_sl(stdin_line()).stdout)
    assert "tools 7 \u27171" in text and "\u25b8 Fix parser 0/2" in text and "\u2387 feat/x" in text


@pytest.mark.parametrize("where", ["branch", "task", "model", "path", "agent", "reason"])
# PWNED sits inside a sequence (a title, a link target, a device control string): it must vanish with it.
# Text after a complete CSI is ordinary text and stays; the CSI itself must not.
@pytest.mark.parametrize(
    "evil",
    [
        "\x1b]0;PWNED\x07",
        "\x1b[2J\x1b[31mvisible",
        "\x9b31mvisible",
        "\x1b]8;;http://PWNED\x1b\\x\x1b]8;;\x1b\\",
        "\x9d0;PWNED\x9c",
        "\x1bPPWNED\x1b\\",
        "\r\nvisible\x08\x07\x1b",
    ],
)
def test_hostile_strings_never_reach_the_terminal(ecc_home: Path, where: str, evil: str) -> None:
    stdin = stdin_line()
    snap: dict = {
        "toolCalls": {"total": 1},
        "risk": {"status": "attention", "reasons": ["r"]},
        "context": {"branch": "main"},
        "todos": {"inProgress": "task"},
        "activeAgents": [{"id": "a", "state": "running", "agentType": "Explore"}],
    }
    value = "ok" + evil + "tail"
    if where == "branch":
        snap["context"]["branch"] = value
    elif where == "task":
        snap["todos"]["inProgress"] = value
    elif where == "model":
        stdin["model"] = {"id": value, "display_name": value}
    elif where == "path":
        stdin["workspace"] = {"current_dir": "/" + value}
        stdin["cwd"] = "/" + value
    elif where == "agent":
        snap["activeAgents"][0]["agentType"] = value
    else:
        snap["risk"]["reasons"] = [value]
    write_snapshot(ecc_home, snap)
    out = run_sl(stdin, env={"NO_COLOR": "1"}).stdout
    assert out.endswith("\n") and out.count("\n") == 1
    body = out[:-1]
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in body), repr(body)
    assert "PWNED" not in body
    assert "ok" in body and "ail" in body  # the printable text around the sequences survives (ESC t is a sequence)
    # With colour on, the only escapes are our own SGR sequences.
    colored = run_sl(stdin).stdout
    assert plain(colored).count(ESC_RE) == 0


def test_missing_snapshot_and_corrupt_snapshot(ecc_home: Path) -> None:
    missing = plain(run_sl(stdin_line()).stdout)
    for corrupt in (b"{not json", b"[1,2]", b"\xff\xfe", b'{"toolCalls": {"total": "many"}}', b"", b"[" * 100_000):
        write_snapshot(ecc_home, corrupt)
        result = run_sl(stdin_line())
        assert result.returncode == 0 and result.stderr == ""
        assert "tools --" in plain(result.stdout)
        assert plain(result.stdout).split("\u2502")[0] == missing.split("\u2502")[0]


@pytest.mark.parametrize(
    "data, says",
    [
        (b"", "no status data"),
        (b"   \n", "no status data"),
        (b"not json at all", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"a": NaN}', "not JSON"),
        (b"\xff\xfe garbage", "not JSON"),
    ],
)
def test_empty_and_non_json_stdin(ecc_home: Path, data: bytes, says: str) -> None:
    result = run_sl(data)
    assert result.returncode == 0 and result.stderr == ""
    assert says in result.stdout and result.stdout.endswith("\n")


def test_columns_40_drops_low_priority_segments(ecc_home: Path) -> None:
    write_snapshot(
        ecc_home,
        {
            "toolCalls": {"total": 7},
            "todos": {"inProgress": "A long task description here"},
            "context": {"branch": "feature/very-long-branch-name"},
        },
    )
    wide = plain(run_sl(stdin_line(), env={"COLUMNS": "200"}).stdout.rstrip("\n"))
    narrow = plain(run_sl(stdin_line(), env={"COLUMNS": "40"}).stdout.rstrip("\n"))
    assert len(narrow) <= 40 < len(wide)
    assert "ctx" in narrow and "Sonnet 4.5" in narrow  # the highest priorities survive
    assert "feature/very-long-branch-name" in wide and "feature/very-long-branch-name" not in narrow


def test_no_color_and_themes_from_config(ecc_home: Path) -> None:
    assert ESC_RE in run_sl(stdin_line()).stdout
    assert ESC_RE not in run_sl(stdin_line(), env={"NO_COLOR": "1"}).stdout
    ecc_home.mkdir(parents=True, exist_ok=True)
    (ecc_home / "statusline.toml").write_text(
        'theme = "plain"\nlines = [["model", "cost"], ["context"]]\n[segment.context]\nbar = 0\n'
    )
    out = run_sl(stdin_line()).stdout
    cost = f"${stdin_line()['cost']['total_cost_usd']:.2f}"
    first, second = out.splitlines()
    assert first == f"Sonnet 4.5 | {cost}" and second.startswith("ctx ") and out.endswith("%\n")
    assert (ecc_home / "statusline.toml.cache.json").exists()
    # An edited file is picked up (the cache is keyed by the file's stat).
    (ecc_home / "statusline.toml").write_text('theme = "plain"\nsegments = ["cost", "model"]\n')
    assert run_sl(stdin_line()).stdout == f"{cost} | Sonnet 4.5\n"


def test_broken_config_still_renders_and_says_so(ecc_home: Path) -> None:
    ecc_home.mkdir(parents=True, exist_ok=True)
    (ecc_home / "statusline.toml").write_text("theme = [unterminated\n")
    out = plain(run_sl(stdin_line()).stdout)
    assert "Sonnet 4.5" in out and "cfg!" in out


def test_internal_error_prints_the_last_good_line(ecc_home: Path) -> None:
    good = run_sl(stdin_line()).stdout
    code = (
        "import ecc_hooks.statusline.render as s\n"
        "def boom(*a, **k): raise RuntimeError('render bug')\n"
        "s.render_lines = boom\ns.main()"
    )
    result = run_sl(stdin_line(), code=code)
    assert result.returncode == 0 and result.stdout == good
    assert "render bug" in (ecc_home / "errors.log").read_text()
    other = dict(stdin_line(), session_id="another-session")
    assert "status line failed" in run_sl(other, code=code).stdout  # no last line for that session


def test_preview_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "statusline", "--preview", "--theme", "plain", "--width", "300"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert result.returncode == 0, result.stderr
    assert "Sonnet 4.5 | > Write the segment tests" in result.stdout and "~$1.84" in result.stdout  # plain: ASCII
    bad = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "statusline", "--preview", "--config", "/nonexistent.toml"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 1 and "no such config file" in bad.stderr


def test_the_shim_runs_the_same_status_line(ecc_home: Path) -> None:
    data = json.dumps(stdin_line()).encode()
    env = {**os.environ, "ECC_HOOKS_PYTHON": sys.executable, "COLUMNS": "200", "NO_COLOR": "1"}
    shim = subprocess.run(
        ["sh", str(REPO / "statusline" / "ecc-statusline")], input=data, capture_output=True, env=env, timeout=30
    )
    direct = run_sl(data, env={"NO_COLOR": "1"})
    assert shim.returncode == 0 and shim.stdout.decode() == direct.stdout


def loaded_after_render(stdin: bytes, env: dict[str, str]) -> set[str]:
    code = (
        "import sys\nbase = set(sys.modules)\nfrom ecc_hooks.statusline import main\nmain()\n"
        "sys.stderr.write(repr(sorted(set(sys.modules) - base)))"
    )
    result = subprocess.run(
        [sys.executable, *SAFE_PATH, "-c", code],
        input=stdin,
        capture_output=True,
        cwd=str(REPO),
        env={**os.environ, **env},
        timeout=30,
    )
    assert result.returncode == 0
    return set(eval(result.stderr.decode()))


def test_a_whole_render_stays_lean_and_parses_toml_only_when_the_file_changed(ecc_home: Path) -> None:
    data = json.dumps(stdin_line()).encode()
    new = loaded_after_render(data, {})
    forbidden = {"json", "re", "tomllib", "typing", "datetime", "subprocess", "hashlib", "pydantic", "orjson", "enum"}
    assert not (new & forbidden), sorted(new & forbidden)
    assert "ecc_hooks.statusline.segments.context" in new  # the probe saw a real render
    ecc_home.mkdir(parents=True, exist_ok=True)
    (ecc_home / "statusline.toml").write_text('segments = ["model", "context"]\n')
    parser = "tomllib" if sys.version_info >= (3, 11) else "tomli"  # 3.10 reads TOML with tomli
    assert parser in loaded_after_render(data, {})  # first render after a change parses
    second = loaded_after_render(data, {})
    assert (
        parser not in second and "ecc_hooks.statusline.segments.cost" not in second
    )  # cached; unused segments not imported


def test_a_linked_worktree_is_named_in_the_row(ecc_home: Path, tmp_path: Path) -> None:
    """A session in ``git worktree add``'s checkout: the snapshot status builds says so, and the row names it."""
    from tests.helpers import git, make_repo, run_hook

    repo = make_repo(tmp_path / "repo")
    linked = tmp_path / "wt-auth"
    git(repo, "worktree", "add", "-q", "-b", "feat/auth", str(linked))
    session = "5ec0717e-0000-4000-8000-00000000a0a0"
    for event in ("SessionStart", "UserPromptSubmit"):
        payload = {"session_id": session, "hook_event_name": event, "cwd": str(linked), "prompt": "x"}
        assert run_hook(json.dumps(payload).encode()).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "status", "--json", "--no-gh", "--session", session],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        timeout=60,
    )
    snapshot = json.loads(done.stdout)
    assert snapshot["context"]["linkedWorktree"] is True and snapshot["context"]["branch"] == "feat/auth"
    (ecc_home / "sessions" / session / "hud.json").write_text(json.dumps(snapshot))  # as the watcher writes it
    stdin = {**stdin_line(), "session_id": session, "cwd": str(linked)}
    text = plain(run_sl(stdin).stdout)
    assert "\u229e wt-auth \u2387 feat/auth" in text
    main_stdin = {**stdin, "session_id": "5ec0717e-0000-4000-8000-00000000a0a1"}
    assert "\u229e" not in plain(run_sl(main_stdin).stdout)  # no snapshot there, no claim


def test_a_narrow_pane_keeps_the_warnings_and_drops_figures_first() -> None:
    """60 columns, a critical context and a failing check: the warnings stay, the cost goes (or, with
    ``overflow = "wrap"``, everything stays over two rows)."""
    from ecc_hooks.statusline import render

    stdin = {
        **stdin_line(),
        "context_window": {
            "context_window_size": 200_000,
            "current_usage": {"input_tokens": 200, "cache_read_input_tokens": 165_000, "output_tokens": 10},
        },
    }
    snapshot = {
        "risk": {"status": "attention", "reasons": ["failing checks: pytest -q"]},
        "toolCalls": {"total": 12, "failures": 1},
        "context": {"branch": "main"},
    }
    rows = render.render_lines(stdin, snapshot, {"theme": "plain"}, width=60, now=0.0, env={}, color=False)
    [row] = rows
    assert len(row) <= 60 and "failing checks" in row and "ctx" in row and "92%" in row, row
    assert "$" not in row  # the cost, a figure, went before any warning
    wrapped = render.render_lines(
        stdin, snapshot, {"theme": "plain", "overflow": "wrap"}, width=60, now=0.0, env={}, color=False
    )
    assert len(wrapped) >= 2 and all(len(r) <= 60 for r in wrapped)
    joined = " ".join(wrapped)
    assert "$" in joined and "failing checks" in joined and "Sonnet" in joined


def test_plain_and_ascii_rows_use_no_glyph_a_terminal_may_lack() -> None:
    from ecc_hooks.statusline import render
    from ecc_hooks.statusline.segments import sample

    snapshot = {**sample.SNAPSHOT, "context": {**sample.SNAPSHOT["context"], "waitingFor": None}}
    stdin = stdin_line()
    fancy = render.render_lines(stdin, snapshot, {}, width=200, now=0.0, env={}, color=False)
    assert not all(row.isascii() for row in fancy)  # the default theme does use them
    for config in ({"theme": "plain"}, {"theme": "powerline", "ascii": True}, {"ascii": True}):
        for color in (True, False):
            rows = render.render_lines(stdin, snapshot, config, width=200, now=0.0, env={}, color=color)
            assert rows and all(row.isascii() for row in rows), (config, rows)
    config, error = render.validate({"ascii": "yes"}, render.REGISTRY, render.DEFAULT_ORDER)
    assert error == "ascii must be true or false"


def test_a_snapshot_behind_the_journal_is_marked_stale_and_the_watcher_started(daemons, ecc_home: Path) -> None:
    """The watcher died: hud.json says tools 10, the journal has moved on. The row dims what came from the
    snapshot, says how stale it is, never repeats the snapshot's context warning beside the live figure, and
    starts a watcher (once: a second refresh within the rate limit starts none)."""
    from ecc_hooks.hud import watcher as watch

    snapshot = {
        "risk": {"status": "attention", "reasons": ["context critical: 18% left", "1 tool call(s) failed"]},
        "toolCalls": {"total": 10, "failures": 1},
        "context": {"branch": "main"},
    }
    hud = write_snapshot(ecc_home, snapshot, session=stdin_line()["session_id"])
    journal = hud.parent / "events.jsonl"
    journal.write_text("")
    os.utime(hud, (1_000_000_000, 1_000_000_000))  # written long before the journal's last change
    env = {"ECC_HOOKS_NO_WATCHER": "0"}
    out = run_sl(stdin_line(), env=env).stdout
    text = plain(out)
    assert "\u29d6 stale" in text and "tools 10" in text
    assert "\x1b[2mtools 10" in out  # dimmed: not a current figure
    assert "context critical" not in text  # the snapshot's context warning is not the live figure's moment
    wait_until(lambda: watch.lock_holder() is not None, 30, "the status line to start a watcher")
    first = watch.lock_holder()
    daemons.pids.append(first)
    stamp = (ecc_home / "watch-restart.stamp").stat().st_mtime
    run_sl(stdin_line(), env=env)
    assert (ecc_home / "watch-restart.stamp").stat().st_mtime == stamp  # rate-limited: no second start
    os.utime(hud, None)  # a current snapshot: nothing stale
    assert "stale" not in plain(run_sl(stdin_line(), env=env).stdout)


def at_clock(stdin: dict, ms: int, used: int) -> dict:
    """``stdin`` as Claude Code would have built it ``ms`` into the session, with ``used`` percent of context."""
    return {
        **stdin,
        "cost": {**stdin["cost"], "total_duration_ms": ms},
        "context_window": {**stdin["context_window"], "used_percentage": used},
    }


def test_an_older_render_finishing_last_does_not_take_the_sensor_back(ecc_home: Path) -> None:
    """The live chain's ``2 == 26``: a render started after the first response finished after the last one's, and
    the sensor (and so hud.json) went back to the first response's context. The later moment stays recorded."""
    stdin = stdin_line()
    later, earlier = at_clock(stdin, 9_000, 26), at_clock(stdin, 4_000, 2)
    assert run_sl(later).returncode == 0
    assert run_sl(earlier).returncode == 0  # the older stdin's render ends last
    sensor = json.loads((ecc_home / "sessions" / SESSION / "statusline.json").read_text())
    assert sensor["context_window"]["used_percentage"] == 26
    assert sensor["cost"]["total_duration_ms"] == 9_000
    assert run_sl(at_clock(stdin, 12_000, 30)).returncode == 0  # a newer one still replaces it
    sensor = json.loads((ecc_home / "sessions" / SESSION / "statusline.json").read_text())
    assert sensor["context_window"]["used_percentage"] == 30


def test_concurrent_renders_leave_the_latest_moment(ecc_home: Path) -> None:
    """Renders on many threads (as the watcher answers them), in any order: the sensor holds the latest stdin."""
    import random
    import threading

    from ecc_hooks.statusline import render

    stdin = stdin_line()
    clocks = list(range(1_000, 1_000 + 40 * 250, 250))
    random.Random(7).shuffle(clocks)
    start = threading.Barrier(len(clocks))

    def write(ms: int) -> None:
        start.wait()
        render.record_sensor(SESSION, at_clock(stdin, ms, ms // 1_000), 0.0)

    threads = [threading.Thread(target=write, args=(ms,)) for ms in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sensor = json.loads((ecc_home / "sessions" / SESSION / "statusline.json").read_text())
    assert sensor["cost"]["total_duration_ms"] == max(clocks)
