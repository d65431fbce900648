"""Issue 23, finding 8: no secret reaches a file or a stream the runtime writes.

A real session on a real repository: a headless agent (a stand-in ``opencode`` on PATH) prints secrets of several
kinds, a private key over several lines, and a failure line holding a key; a ``setup`` command and the user's
``worker_finished`` hook print secrets; another worker commits a file holding one. None of them may reach
``runtime.db`` (its WAL too), ``workers.json``, ``hooks.log``, ``output.log``, ``session list``/``status`` (human
and JSON) or ``session diff`` (human and JSON). Then properties over every secret kind of ``secret_kinds``: the
log relay (any split of its input), the hooks.log writer and the store's reasons.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import ecc, make_repo, wait_until
from tests.security.secret_kinds import secret_texts
from tests.test_runtime_store import worker as make_worker

# one of each family; each sensitive part is unlike anything of ours
ANTHROPIC = "sk-ant-api03-Zq8xR2mK7vP4wN9tL3hJ6fD1sA5gY0uE"
GITHUB = "ghp_Q7w2E9r4T1y6U3i8O5p0A2s7D4f9G1h6J3k8"
AWS = "AKIAQ7W2E9R4T1Y6U3I8"
PASSWORD = "Hunter2-Qx81-zzTop"
PEM_BODY = "MIIEowIBAAKCAQEAq8Zr5Xv2Lm9Nw4Tb7Ps1Qa6Ud3Hk0Jy8Fg"
SENSITIVE = (
    "Zq8xR2mK7vP4wN9tL3hJ6fD1sA5gY0uE",
    "Q7w2E9r4T1y6U3i8O5p0A2s7D4f9G1h6J3k8",
    "Q7W2E9R4T1Y6U3I8",
    PASSWORD,
    PEM_BODY,
)

AGENT = f"""#!/bin/sh
[ "$1" = --version ] && {{ echo 1.0.0; exit 0; }}
echo "starting with ANTHROPIC_API_KEY={ANTHROPIC}"
echo "token {GITHUB} and key id {AWS}"
echo "DB_PASSWORD={PASSWORD}"
printf -- '-----BEGIN RSA PRIVATE KEY-----\\n{PEM_BODY}\\n{PEM_BODY}\\n-----END RSA PRIVATE KEY-----\\n'
printf 'Error: the API refused the key {ANTHROPIC}'
"""


def no_secret(where: str, data: bytes | str) -> None:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for part in SENSITIVE:
        assert part not in text, f"{part[:8]}... reached {where}"


@pytest.fixture
def leaky_session(
    tmp_path: Path, runtime: str, ecc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, dict[str, str]]:
    repo = make_repo(tmp_path / "repo")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "opencode").write_text(AGENT)
    (bin_dir / "opencode").chmod(0o755)
    hooks = ecc_home / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "worker_finished").write_text(f"#!/bin/sh\necho finishing with GH_TOKEN={GITHUB}\n")
    (hooks / "worker_finished").chmod(0o755)
    source = tmp_path / "creds.src"  # the plan (stored as the user wrote it) names the file, not the secret
    source.write_text(f"aws_secret_access_key = {PASSWORD}\nkey {ANTHROPIC}\n")
    commit = f"cp {source} creds.txt && git add creds.txt && git -c user.name=w -c user.email=w@x commit -qm creds"
    plan = {
        "sessionName": "leaky",
        "repoRoot": str(repo),
        "workers": [
            {"name": "agent", "task": "do it", "agent": "opencode", "runtime": "headless",
             "setup": [f"echo setting up with --password {PASSWORD} and {AWS}"]},
            {"name": "committer", "task": "commit", "launcherCommand": commit},
        ],
    }  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    monkeypatch.setenv("PATH", env["PATH"])  # the supervisor the CLI spawns inherits it
    done = ecc("session", "create", str(tmp_path / "plan.json"), "--execute", cwd=repo, env=env)
    assert done.returncode == 0, done.stderr

    def states() -> dict[str, str]:
        listed = json.loads(ecc("session", "list", "--json", cwd=repo, env=env).stdout)
        return {w["id"]: w["state"] for w in listed[0]["workers"]}

    wait_until(lambda: states() == {"agent": "failed", "committer": "completed"}, 60, lambda: str(states()))
    state_dir = ecc_home / "runtime" / "leaky" / "agent"
    wait_until(lambda: (state_dir / "hooks.log").exists() and b"finishing" in (state_dir / "hooks.log").read_bytes(),
               30, "the worker_finished hook")  # fmt: skip
    return repo, env


def test_no_secret_reaches_any_runtime_file_or_stream(leaky_session: tuple[Path, dict[str, str]], ecc_home: Path):
    repo, env = leaky_session
    state = ecc_home / "runtime" / "leaky"
    output = (state / "agent" / "output.log").read_bytes()
    assert b"starting with ANTHROPIC_API_KEY=" in output and b"Error: the API refused" in output  # the tail too
    no_secret("output.log", output)
    hooks_log = (state / "agent" / "hooks.log").read_bytes()
    assert b"[setup]" in hooks_log and b"[worker_finished]" in hooks_log
    no_secret("hooks.log", hooks_log)
    for name in ("runtime.db", "runtime.db-wal"):
        if (ecc_home / name).exists():
            no_secret(name, (ecc_home / name).read_bytes())
    reasons = [r[0] for r in sqlite3.connect(ecc_home / "runtime.db").execute("SELECT reason FROM workers")]
    assert any(r and "the agent reported: Error:" in r for r in reasons), reasons
    wait_until(lambda: (ecc_home / "runtime" / "workers.json").exists(), 30, "workers.json")
    no_secret("workers.json", (ecc_home / "runtime" / "workers.json").read_bytes())
    for args in (("list",), ("list", "--json"), ("status", "leaky"), ("status", "leaky", "--json"),
                 ("diff", "leaky", "--worker", "committer"), ("diff", "leaky", "--worker", "committer", "--json"),
                 ("diff", "leaky")):  # fmt: skip
        done = ecc("session", *args, cwd=repo, env=env)
        assert done.returncode == 0, (args, done.stderr)
        no_secret(f"session {' '.join(args)}", done.stdout + done.stderr)
    shown = ecc("session", "diff", "leaky", "--worker", "committer", cwd=repo, env=env).stdout
    assert "creds.txt" in shown and "aws_secret_access_key = [REDACTED]" in shown
    for coordination in (repo / ".orchestration" / "leaky").rglob("*.md"):
        no_secret(str(coordination), coordination.read_bytes())


# ---------------------------------------------------------------------------- properties over every kind


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret_texts(), st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=8))
def test_the_log_relay_never_writes_a_secret_however_its_input_is_split(found: tuple[str, str, str], cuts: list[int]):
    from ecc_hooks.core.logrelay import Relay

    _kind, text, sensitive = found
    data = ("first line\n" + text + "\nlast line without its newline").encode()
    relay, out, at = Relay(), [], 0
    for size in cuts * (len(data) // sum(cuts) + 1):
        out.append(relay.feed(data[at : at + size]))
        at += size
        if at >= len(data):
            break
    out.append(relay.close())
    written = b"".join(out).decode()
    assert sensitive not in written
    assert written.startswith("first line\n") and written.endswith("last line without its newline")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret_texts())
def test_hooks_log_never_holds_a_secret(ecc_home: Path, found: tuple[str, str, str]):
    from ecc_hooks.runtime import lifecycle

    _kind, text, sensitive = found
    log = ecc_home / "runtime" / "s" / "w" / "hooks.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    lifecycle.append_log(str(log), f"[setup] {text}: exit 1", text)
    assert sensitive not in log.read_text()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret_texts())
def test_the_store_keeps_no_secret_in_a_reason(tmp_path: Path, found: tuple[str, str, str]):
    from ecc_hooks.runtime import store as st_

    _kind, text, sensitive = found
    path = tmp_path / f"{os.urandom(4).hex()}.db"
    opened = st_.Store(str(path))
    row = make_worker("w")
    opened.add_session(st_.Session("s", "/r", "/c", "main", None, None, "sock", None, 0.0), [row])
    opened.transition(row, "starting", None)
    opened.transition(row, "failed", f"the agent reported: {text}")
    opened.request_cleanup("s", "w", False)
    opened.finish_cleanup(opened.pending_cleanups()[0]["id"], f"kept: {text}")
    opened.close()
    for name in (path, Path(f"{path}-wal")):
        if name.exists():
            assert sensitive.encode() not in name.read_bytes()
