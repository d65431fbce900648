"""Many hook processes appending to one session journal at once: nothing torn, nothing lost.

Claude Code runs all matching hooks of an event in parallel, and parallel tool calls and
subagents fire at the same moment, so one journal gets many simultaneous writers. Starting
6,400 interpreters would take minutes on a small machine, so 32 processes each run the real
write path (``ecc_hooks.hook.handle``) 200 times, some records far larger than PIPE_BUF;
a second test starts 64 real ``python -m ecc_hooks.hook`` processes at once.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ecc_hooks.capture import hook
from ecc_hooks.models.event import Event
from tests.helpers import journal_lines

WORKERS = 32
EVENTS_PER_WORKER = 200
SESSION = "0b5e7a52-1c7e-4c55-9d8f-concurrency"

# One definition of the payloads, shared by this process (expectations) and the workers (writes).
PAYLOAD_CODE = textwrap.dedent(
    '''
    def big_size(worker, seq):
        """Every 7th event of a worker carries a 30-60 KB command (recorded whole in raw)."""
        return 30_000 + (worker * 7919 + seq * 104729) % 30_000 if seq % 7 == 3 else 0

    def command(worker, seq):
        size = big_size(worker, seq)
        head = f"echo w{worker} s{seq} "
        if not size:
            return head + "small"
        filler = "".join(chr(0x61 + (worker + seq + i) % 26) for i in range(64))
        return head + (filler * (size // 64 + 1))[: size - len(head)]

    def payload(worker, seq):
        return {
            "session_id": SESSION,
            "hook_event_name": "PreToolUse" if seq % 2 else "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command(worker, seq), "description": f"w{worker} s{seq}"},
            "tool_response": {"stdout": "ok", "stderr": "", "interrupted": False},
            "tool_use_id": f"toolu_w{worker:02d}_s{seq:03d}",
        }
    '''
)
namespace: dict = {"SESSION": SESSION}
exec(PAYLOAD_CODE, namespace)
payload, command, big_size = namespace["payload"], namespace["command"], namespace["big_size"]

WORKER_SCRIPT = (
    "import json, os, sys, time\n"
    "from ecc_hooks.capture import hook\n"
    f"SESSION = {SESSION!r}\n"
    + PAYLOAD_CODE
    + textwrap.dedent(
        f"""
        worker, go = int(sys.argv[1]), sys.argv[2]
        datas = [json.dumps(payload(worker, seq)).encode() for seq in range({EVENTS_PER_WORKER})]
        while not os.path.exists(go):  # start together: the point is contention
            time.sleep(0.001)
        for seq, data in enumerate(datas):
            os.environ[hook.RAW_ENV] = "1" if big_size(worker, seq) else "0"
            hook.handle(data, None, time.time())
        """
    )
)


def check_journal(records: list[dict], expected: dict[str, dict]) -> None:
    """Each expected tool_use_id exactly once, each record valid, big commands intact in raw."""
    ids = [r["toolUseId"] for r in records]
    assert len(ids) == len(set(ids)), "a record was written twice"
    assert set(ids) == set(expected), "a record was lost"
    for record in records:
        Event.model_validate(record)
        sent = expected[record["toolUseId"]]
        assert record["event"] == sent["hook_event_name"]
        if "raw" in record:
            assert record["raw"]["tool_input"]["command"] == sent["tool_input"]["command"]


def test_32_processes_x_200_events_on_one_journal(ecc_home: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "ECC_HOOKS_HOME": str(ecc_home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, str(w), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(WORKERS)
    ]
    time.sleep(0.5)  # let the interpreters reach the start line; correctness does not depend on it
    go.write_text("go")
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert (proc.returncode, out, err) == (0, b"", b"")

    journal = ecc_home / "sessions" / SESSION / "events.jsonl"
    raw_lines = journal.read_bytes().split(b"\n")
    assert raw_lines[-1] == b""  # ends with a newline: the last record is whole
    raw_lines = raw_lines[:-1]
    assert len(raw_lines) == WORKERS * EVENTS_PER_WORKER
    big = sum(1 for w in range(WORKERS) for s in range(EVENTS_PER_WORKER) if big_size(w, s))
    assert sum(1 for line in raw_lines if len(line) > select.PIPE_BUF * 4) == big  # the big ones really are big
    records = [json.loads(line) for line in raw_lines]  # a torn or interleaved line fails here
    expected = {p["tool_use_id"]: p for p in (payload(w, s) for w in range(WORKERS) for s in range(EVENTS_PER_WORKER))}
    check_journal(records, expected)
    for w in range(WORKERS):  # each writer's own records keep their order
        mine = [r["toolUseId"] for r in records if r["toolUseId"].startswith(f"toolu_w{w:02d}_")]
        assert mine == sorted(mine)
    assert not (ecc_home / "errors.log").exists()


def test_64_real_hook_processes_at_once(ecc_home: Path) -> None:
    count = 64
    sent = [payload(w, s) for w, s in zip(range(count), [3, 1] * (count // 2))]  # half big (seq 3), half small
    env = {**os.environ, "ECC_HOOKS_HOME": str(ecc_home), hook.RAW_ENV: "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks.capture.hook"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in sent
    ]
    # All 64 are alive and waiting on stdin before any payload goes out.
    datas = [json.dumps(p).encode() for p in sent]
    for proc, data in zip(procs, datas):
        proc.stdin.write(data)
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=300) == 0
        assert proc.stdout.read() == b"" and proc.stderr.read() == b""
        proc.stdout.close()
        proc.stderr.close()

    records = journal_lines(ecc_home, SESSION)
    assert len(records) == count
    check_journal(records, {p["tool_use_id"]: p for p in sent})
    assert sum(1 for r in records if len(r["raw"]["tool_input"]["command"]) > select.PIPE_BUF) == count // 2
    assert not (ecc_home / "errors.log").exists()
