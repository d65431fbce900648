"""Sessions made by OUR runtime, read by ECC's own tools and by ours (issue 25).

A worker launched by ECC's own launcher (``orchestrate-codex-worker.sh`` around a ``codex`` stand-in, as
tests/e2e/test_ecc_parity.py runs it) writes its ``handoff.md`` and ``status.md`` itself; our supervisor must keep
its report (it used to replace it with "The agent left no final message."). Then ECC's ``inspectSessionTarget``
(through the ``ecc_oracle``) and ``ecc-hooks inspect`` read the session: the same, listed deviations aside
(tests/fixtures/ecc-parity/deviations.json), and ECC's ``validateCanonicalSnapshot`` accepts ours.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.ecc_oracle import EccOracle
from tests.e2e.test_ecc_parity import FAKE_CODEX, differences, explained
from tests.helpers import REPO, ecc, make_repo, wait_until

pytestmark = pytest.mark.e2e

REGISTRY = "scripts/lib/session-adapters/registry.js"
CANONICAL = "scripts/lib/session-adapters/canonical-session.js"


class RuntimeSession:
    """A session our runtime (``ecc-hooks session create``) made and runs."""

    def __init__(self, root: Path, name: str, workers: list[dict[str, Any]], **extra: Any) -> None:
        self.root, self.name = root, name
        self.repo = make_repo(root / "repo", identity=True)
        self.plan = root / "plan.json"
        self.plan.write_text(json.dumps({"sessionName": name, "repoRoot": str(self.repo), "workers": workers,
                                         **extra}))  # fmt: skip
        (root / "tmux").mkdir()
        done = ecc("session", "create", str(self.plan), "--execute", cwd=self.repo)
        assert done.returncode == 0, done.stderr

    def file(self, slug: str, name: str) -> Path:
        return self.repo / ".orchestration" / self.name / slug / name

    def states(self) -> dict[str, str]:
        """Each worker's state as our runtime has it (``session list``)."""
        done = ecc("session", "list", "--json", cwd=self.repo)
        listed = next(s for s in json.loads(done.stdout) if s["session"] == self.name)
        return {w["id"]: w["state"] for w in listed["workers"]}

    def theirs(self, oracle: EccOracle, socket: str) -> dict[str, Any]:
        """ECC's inspect of the plan. ECC's tmux calls name no server: ``$TMUX`` points them at our runtime's
        (tmux's own rule), so both see the same panes."""
        path = subprocess.run(["tmux", "-L", socket, "display-message", "-p", "#{socket_path}"], capture_output=True,
                              text=True, timeout=30).stdout.strip()  # fmt: skip
        env = {"TMUX": f"{path},0,0"}
        return dict(oracle.call(REGISTRY, "inspectSessionTarget", [str(self.plan), {"cwd": str(self.repo)}],
                                cwd=self.repo, env=env))  # fmt: skip

    def ours(self) -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "ecc_hooks", "inspect", str(self.plan)], capture_output=True,
                              text=True, cwd=self.repo, timeout=60, env={**_env(), "PYTHONPATH": str(REPO)})  # fmt: skip
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "TMUX"}


def agree(run: RuntimeSession, oracle: EccOracle, socket: str) -> dict[str, Any]:
    """ECC's snapshot and ours: every difference listed in deviations.json; ours valid for ECC. Ours."""
    theirs, ours = run.theirs(oracle, socket), run.ours()
    unlisted = [d for d in differences(theirs, ours) if explained(d) is None]
    assert not unlisted, "differences from ECC's inspect not in deviations.json:\n" + "\n".join(
        f"  {path}: theirs {json.dumps(t)} ours {json.dumps(o)}" for path, t, o in unlisted
    )
    oracle.call(CANONICAL, "validateCanonicalSnapshot", [ours])
    return ours


def launcher(root: Path, oracle: EccOracle) -> str:
    """ECC's own worker launcher around the ``codex`` stand-in of the parity tests."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text(FAKE_CODEX)
    (bin_dir / "codex").chmod(0o755)
    script = oracle.root / "scripts" / "orchestrate-codex-worker.sh"
    return f"env PATH={bin_dir}:/usr/bin:/bin bash {script} {{task_file}} {{handoff_file}} {{status_file}}"


def test_eccs_launcher_keeps_its_report_under_our_supervisor(
    tmp_path: Path, runtime: str, ecc_oracle: EccOracle
) -> None:
    command = launcher(tmp_path, ecc_oracle)
    workers = [{"name": "Docs ok", "task": "write the notes", "launcherCommand": command},
               {"name": "broken", "task": "this one fails", "launcherCommand": command}]  # fmt: skip
    run = RuntimeSession(tmp_path, "launched", workers)
    want = {"docs-ok": "completed", "broken": "failed"}
    wait_until(lambda: run.states() == want, 60, lambda: str(run.states()))
    # the supervisor's pass after the end: its state merged into the launcher's status.md
    wait_until(lambda: all("- Task file: " in run.file(s, "status.md").read_text() for s in want), 30,
               lambda: run.file("docs-ok", "status.md").read_text())  # fmt: skip
    handoff = run.file("docs-ok", "handoff.md").read_text()
    assert handoff.startswith("# Handoff\n\n- Completed: ") and "## Git Status" in handoff  # the launcher's, whole
    assert "- Wrote the notes in " in handoff and "no final message" not in handoff
    assert "The Codex worker exited with a non-zero status." in run.file("broken", "handoff.md").read_text()
    status = run.file("docs-ok", "status.md").read_text()
    assert status.startswith("# Status\n") and "- Handoff file: " in status  # the launcher's lines kept
    assert re.findall(r"^- State: (.+)$", status, re.M) == ["completed"]
    ours = agree(run, ecc_oracle, runtime)
    by_id = {w["id"]: w for w in ours["workers"]}
    assert by_id["docs-ok"]["outputs"]["summary"][0].startswith("Wrote the notes in ")
    assert {w: by_id[w]["state"] for w in want} == want
