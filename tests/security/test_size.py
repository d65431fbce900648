"""Finding 8: size is no attack. ``status`` streams a journal of any length, the watcher watches only the
folders it reads, and raw mode keeps a bounded part of a huge payload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ecc_hooks.capture import normalize
from tests.helpers import journal_lines, wait_until, write_journal
from tests.security.support import run_installed, session_payload

SESSION = "5ec0717e-0000-4000-8000-00000000b19b"
PEAK = (
    "import resource,sys;from ecc_hooks.cli import main;code=main(sys.argv[1:]);"
    "sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss);sys.exit(code)"
)


def status_peak_mb(events: int) -> float:
    """Peak RSS of ``status --json`` on a journal of ``events`` events, and check it folded them all."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, "status", "--json", "--no-gh", "--session", SESSION],
        capture_output=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["toolCalls"]["total"] == events // 50 * 24  # every call folded
    return int(done.stderr.decode().split("PEAK ")[1].split()[0]) / 1024


def test_status_streams_a_large_journal(ecc_home: Path) -> None:
    journal = ecc_home / "sessions" / SESSION / "events.jsonl"
    small_size = write_journal(journal, 100_000)
    small = status_peak_mb(100_000)
    size = write_journal(journal, 400_000)
    assert size > 150 << 20 and size > 3.5 * small_size
    large = status_peak_mb(400_000)
    # Streaming: memory does not grow with the journal (holding it would add its 120 MB of growth, and more).
    # (The absolute figure, under 100 MB at 1,000,000 events, is benchmarks/bench_status_journal.py's: a child
    # of this test process starts from a baseline that varies with what ran before it.)
    assert large - small < 20, f"peak RSS {small:.0f} MB at 100k events, {large:.0f} MB at 400k"


def inotify_watches(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                count += sum(1 for line in info if line.startswith("inotify wd:"))
        except OSError:
            continue
    return count


def test_the_watcher_watches_only_the_folders_it_reads(tmp_path: Path, ecc_home: Path) -> None:
    projects = tmp_path / "projects" / "-home-dev-work"
    for n in range(1000):  # a big transcript folder: other sessions' folders, tool results
        (projects / f"other-{n:04d}" / "tool-results").mkdir(parents=True)
    transcript = projects / f"{SESSION}.jsonl"
    transcript.write_text(
        json.dumps(
            {
                "type": "user",
                "sessionId": SESSION,
                "message": {"role": "user", "content": "hi"},
                "timestamp": "2026-12-01T10:00:00Z",
            }
        )
        + "\n"
    )
    payload = json.loads(session_payload(SESSION, tmp_path))
    payload["transcript_path"] = str(transcript)
    run_installed("ecc_hooks.capture.hook", json.dumps(payload).encode(), tmp_path)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "watch", "--foreground", "--idle-exit", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: (ecc_home / "sessions" / SESSION / "hud.json").exists(), 20, "no snapshot")
        run_installed(
            "ecc_hooks.capture.hook", session_payload(SESSION, tmp_path, "UserPromptSubmit", prompt="go"), tmp_path
        )
        wait_until(lambda: inotify_watches(watcher.pid) >= 3, 20, "the watcher watches nothing")
        # sessions/, the session's folder, the transcript's folder (its subagents folder once it exists)
        assert inotify_watches(watcher.pid) <= 4
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)


def test_raw_mode_keeps_a_bounded_part_of_a_huge_payload(tmp_path: Path, ecc_home: Path) -> None:
    names = [f"src/module_{n:06d}/file_{n:06d}.py" for n in range(200_000)]
    payload = json.loads(
        session_payload(
            SESSION,
            tmp_path,
            "PostToolUse",
            tool_name="Glob",
            tool_use_id="g1",
            tool_input={"pattern": "**/*.py"},
            tool_response={"filenames": names},
        )
    )
    done = run_installed("ecc_hooks.capture.hook", json.dumps(payload).encode(), tmp_path, {"ECC_HOOKS_RAW": "1"})
    assert done.returncode == 0
    (record,) = journal_lines(ecc_home, SESSION)
    assert record["raw"]["ecc_truncated"] is True and record["toolUseId"] == "g1"
    kept = record["raw"]["tool_response"]["filenames"]
    assert kept == names[: len(kept)] and len(kept) < normalize.RAW_NODES
