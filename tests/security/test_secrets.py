"""Finding 3: secrets reach no file and no stdout: loop-status's output and files, the status line's sensor
file and last line, and each form the first redactor missed or did not cover."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecc_hooks.core.redact import redact
from tests.security.support import cli, run_installed
from tests.test_loop_status import tool_use

# Each (text, sensitive part): the forms that leaked, then the kinds the first list left out.
LEAKED = [
    ('{"stdout":"done\\nghp_Q8mZ2xT4vL9pR3sK7wN1bY6cF0hJ5dGa"}', "Q8mZ2xT4vL9pR3sK7wN1bY6cF0hJ5dGa"),
    ("redis://:r3d1sS3cretPw@cache:6379/0", "r3d1sS3cretPw"),
    ("PASSWORD=a&b9Zq7Wm2Kx", "b9Zq7Wm2Kx"),
    ("PASSWORD=a,b9Zq7Wm2Kx", "b9Zq7Wm2Kx"),
    ("PASSWORD=a;b9Zq7Wm2Kx", "b9Zq7Wm2Kx"),
    ('PGPASSWORD=""s3cr3tV4lu3', "s3cr3tV4lu3"),
    ("sk_live_51HqLyjWDarjtT1zdp7dcXYZ", "51HqLyjWDarjtT1zdp7dcXYZ"),
    ("rk_live_51HqLyjWDarjtT1zdp7dcXYZ", "51HqLyjWDarjtT1zdp7dcXYZ"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "SyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"),
    ("published with npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("GitLab: glpat-xY9zW8vU7tS6rQ5pO4nM", "xY9zW8vU7tS6rQ5pO4nM"),
    ("HF: hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"),
    (
        "AccountName=a;AccountKey=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4==;EndpointSuffix=core.windows.net",
        "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4",
    ),
    ("https://a.blob.core.windows.net/c?sv=2022-11-02&sig=Xk2%2Bq9ZLw8f%3D&se=2030", "Xk2%2Bq9ZLw8f%3D"),
    ("curl -u admin:Tr0ub4dor3xq https://api.example.com", "Tr0ub4dor3xq"),
    ("mysql -h db -uroot -pC0rr3ctH0rs3 app", "C0rr3ctH0rs3"),
]


@pytest.mark.parametrize("text, sensitive", LEAKED)
def test_each_missed_form_is_redacted(text: str, sensitive: str) -> None:
    assert sensitive not in redact(text)
    assert sensitive not in redact(json.dumps({"x": "line\n" + text}))  # and as raw JSON text


def test_loop_status_prints_and_writes_no_secret(tmp_path: Path) -> None:
    sensitive = "ghp_L00pSt4tusL34k3dTh1sT0k3nAbCd"
    transcript = tmp_path / "0c65f61e-2b60-4a0b-a867-edb104d8f8a0.jsonl"
    line = tool_use("toolu_01", "Bash", {"command": f"GITHUB_TOKEN={sensitive} ./deploy.sh --password hunter2xyz"}, 0)
    transcript.write_text(json.dumps(line) + "\n")
    now = "2026-05-12T12:00:00Z"  # two hours after the call: it is stuck
    out_dir = tmp_path / "out"
    for args in ((), ("--json",), ("--write-dir", str(out_dir))):
        done = cli("loop-status", "--transcript", str(transcript), "--now", now, *args)
        assert done.returncode == 0, done.stderr
        assert b"pending_bash" in done.stdout or b"attention" in done.stdout
        assert sensitive.encode() not in done.stdout and b"hunter2xyz" not in done.stdout
    written = b"".join(p.read_bytes() for p in out_dir.rglob("*.json"))
    assert b"./deploy.sh" in written and sensitive.encode() not in written and b"hunter2xyz" not in written


def test_the_status_line_keeps_and_prints_no_secret(tmp_path: Path, ecc_home: Path) -> None:
    sensitive = "sk-ant-api03-St4tusL1neSt4d1nL34kAAAA"
    session = "5ec0717e-0000-4000-8000-000000000003"
    stdin = {
        "session_id": session,
        "cwd": str(tmp_path),
        "transcript_path": str(tmp_path / "t.jsonl"),
        "model": {"id": "claude-sonnet-4-5", "display_name": f"Sonnet {sensitive}"},
        "workspace": {"current_dir": f"/tmp/ANTHROPIC_API_KEY={sensitive}", "project_dir": str(tmp_path)},
        "cost": {"total_cost_usd": 0.01},
    }
    done = run_installed("ecc_hooks.statusline.client", json.dumps(stdin).encode(), tmp_path, {"COLUMNS": "300"})
    assert done.returncode == 0 and b"Sonnet" in done.stdout
    folder = ecc_home / "sessions" / session
    assert (folder / "statusline.json").exists() and (folder / "statusline.last").exists()
    for data in (done.stdout, (folder / "statusline.json").read_bytes(), (folder / "statusline.last").read_bytes()):
        assert sensitive.encode() not in data and b"St4tusL1neSt4d1nL34k" not in data
