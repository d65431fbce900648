"""ECC's own tools as the oracle: sessions built by ECC's orchestrator, inspected by ECC and by us.

``ecc-universal`` (ECC's Node implementation, pinned in tests/e2e/ECC_UNIVERSAL_VERSION, installed by CI into a
cache outside the repository) builds a real orchestration session: ``orchestrate-worktrees.js --execute`` makes
the git worktrees, the coordination files and the tmux session (on a private tmux socket: ``TMUX_TMPDIR``), and
its own launcher (``orchestrate-codex-worker.sh``) writes each worker's status and handoff around a ``codex``
stand-in: one worker completes, one fails, one keeps running, one never starts. ``session-inspect.js`` and
``ecc-hooks inspect`` then read the same session; every difference must be one listed, with its reason, in
tests/fixtures/ecc-parity/deviations.json (compared by ``parity.py``; that every listed one is still seen is
checked by test_ecc_generated.py, whose cases meet each). ECC's ``validateCanonicalSnapshot`` must accept every
snapshot we make.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e import install_deps, parity
from tests.e2e.conftest import _missing
from tests.helpers import REPO, git, make_repo, run_hook, wait_until

pytestmark = pytest.mark.e2e

VERSION = (REPO / "tests" / "e2e" / "ECC_UNIVERSAL_VERSION").read_text().strip()

# `codex exec ... -o FILE -` as ECC's launcher calls it: answers in the four sections the launcher asks for,
# writes a file in the worktree; a worktree named *-broken fails, one named *-hang waits for a .release file.
FAKE_CODEX = r"""#!/bin/sh
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
cat > /dev/null
case "$(pwd)" in *-hang) while [ ! -e "$(pwd)/.release" ]; do sleep 0.2; done ;; esac
case "$(pwd)" in *-broken) exit 1 ;; esac
printf '## Summary\n- Wrote the notes in %s\n\n## Files Changed\n- notes.md\n\n## Validation\n- read them back\n\n## Remaining Risks\n- none known\n' "$(pwd)" > "$out"
echo done > notes.md
"""


def ecc_root() -> Path:
    root = install_deps.ecc_package()
    if not (root / "scripts" / "session-inspect.js").exists() or shutil.which("node") is None:
        why = install_deps.why_missing("ecc-universal") or f"not in {root}"
        _missing(f"ecc-universal {VERSION} and node ({why}; python3 tests/e2e/install_deps.py installs it)")
    return root


class Orchestration:
    """A session ECC's orchestrator built, on a private tmux server."""

    def __init__(self, root: Path, ecc: Path, name: str, workers: list[dict[str, str]]) -> None:
        self.root, self.ecc, self.name = root, ecc, name
        self.repo = make_repo(root / "repo")
        git(self.repo, "config", "user.email", "t@example.com")
        git(self.repo, "config", "user.name", "t")
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "codex").write_text(FAKE_CODEX)
        (bin_dir / "codex").chmod(0o755)
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        self.env["TMUX_TMPDIR"] = str(root / "tmux")  # ECC's tmux calls name no socket: give them a private one
        (root / "tmux").mkdir()
        launcher = f"env PATH={bin_dir}:/usr/bin:/bin bash {ecc / 'scripts' / 'orchestrate-codex-worker.sh'}"
        self.plan = root / "plan.json"
        self.plan.write_text(
            json.dumps(
                {
                    "sessionName": name,
                    "repoRoot": str(self.repo),
                    "worktreeRoot": str(root),
                    "launcherCommand": launcher + " {task_file} {handoff_file} {status_file}",
                    "workers": workers,
                }
            )
        )
        done = self.run(["node", str(ecc / "scripts" / "orchestrate-worktrees.js"), str(self.plan), "--execute"])
        assert done.returncode == 0, done.stdout + done.stderr

    def run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, cwd=self.repo, timeout=60, **kwargs)

    def state(self, slug: str) -> str | None:
        try:
            text = (self.repo / ".orchestration" / self.name / slug / "status.md").read_text()
        except OSError:
            return None
        return next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("- State:")), None)

    def theirs(self, target: str) -> dict[str, Any]:
        done = self.run(["node", str(self.ecc / "scripts" / "session-inspect.js"), target])
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def ours(self, target: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "ecc_hooks", "inspect", target],
            capture_output=True,
            text=True,
            env={**self.env, "PYTHONPATH": str(REPO)},
            cwd=self.repo,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def kill_tmux(self) -> None:
        self.run(["tmux", "kill-server"])

    def close(self) -> None:
        for hang in self.root.glob("*-hang"):
            (hang / ".release").write_text("")
        self.kill_tmux()


def validate_with_ecc(ecc: Path, snapshot: dict[str, Any]) -> None:
    code = (
        f"const m=require({json.dumps(str(ecc / 'scripts/lib/session-adapters/canonical-session.js'))});"
        "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{m.validateCanonicalSnapshot(JSON.parse(s));"
        "console.log('valid')})"
    )
    done = subprocess.run(["node", "-e", code], input=json.dumps(snapshot), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "valid", done.stderr


@pytest.fixture(scope="module")
def ecc() -> Path:
    return ecc_root()


@pytest.fixture
def orchestration(tmp_path: Path, ecc: Path) -> Iterator[Orchestration]:
    if shutil.which("tmux") is None:
        _missing("tmux not installed")
    built = Orchestration(
        tmp_path,
        ecc,
        "parity",
        [
            {"name": "Docs ok", "task": "write the notes"},
            {"name": "broken", "task": "this one fails"},
            {"name": "hang", "task": "this one keeps running"},
            {"name": "idle", "task": "this one never starts", "launcherCommand": "sleep 600"},
        ],
    )
    yield built
    built.close()


def compare(run: Orchestration, target: str) -> dict[str, Any]:
    theirs, ours = run.theirs(target), run.ours(target)
    parity.RAN.add("parity")
    left = parity.unexplained(theirs, ours)
    assert not left, "differences from ECC's session-inspect not in deviations.json:\n" + parity.describe(left)
    validate_with_ecc(run.ecc, ours)
    return ours


def test_a_live_session_ecc_built_reads_the_same_in_both(orchestration: Orchestration) -> None:
    states = {"docs-ok": "completed", "broken": "failed", "hang": "running", "idle": "not started"}
    wait_until(lambda: all(orchestration.state(s) == want for s, want in states.items()), 30, "the workers' states")
    ours = compare(orchestration, str(orchestration.plan))
    by_id = {w["id"]: w for w in ours["workers"]}
    assert {w: by_id[w]["state"] for w in states} == states
    assert by_id["idle"]["health"] == "unknown" and by_id["hang"]["health"] == "healthy"
    assert by_id["docs-ok"]["outputs"]["summary"][0].startswith("Wrote the notes")
    assert "uncommitted changes in the worktree" in by_id["docs-ok"]["observations"]
    # a bare session name, where ECC's users keep them: <cwd>/.claude/orchestration/<name>
    claude_dir = orchestration.repo / ".claude" / "orchestration"
    claude_dir.mkdir(parents=True)
    shutil.move(orchestration.repo / ".orchestration" / "parity", claude_dir / "parity")
    compare(orchestration, "parity")


def test_once_its_tmux_is_gone_a_running_status_is_idle_in_both(tmp_path: Path, ecc: Path) -> None:
    if shutil.which("tmux") is None:
        _missing("tmux not installed")
    run = Orchestration(
        tmp_path, ecc, "gone", [{"name": "Docs ok", "task": "notes"}, {"name": "hang", "task": "keeps running"}]
    )
    try:
        wait_until(lambda: run.state("hang") == "running" and run.state("docs-ok") == "completed", 30, "states")
        run.kill_tmux()  # the status.md still says running
        time.sleep(0.2)
        ours = compare(run, str(run.plan))
        assert ours["session"]["state"] == "idle"
    finally:
        run.close()


def test_every_kind_of_snapshot_we_make_passes_eccs_validator(ecc: Path, tmp_path: Path, ecc_home: Path) -> None:
    session = "5ec0717e-0000-4000-8000-0000000ecc01"
    repo = make_repo(tmp_path / "r")
    for event in ("SessionStart", "UserPromptSubmit", "Stop"):
        body = {"session_id": session, "hook_event_name": event, "cwd": str(repo), "prompt": "x"}
        assert run_hook(json.dumps(body).encode()).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "inspect", session], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    validate_with_ecc(ecc, json.loads(done.stdout))


PLAN_SCRIPT = """
const {buildOrchestrationPlan} = require(process.argv[1]);
let s = ''; process.stdin.on('data', d => s += d).on('end', () => {
  try {
    const p = buildOrchestrationPlan(JSON.parse(s));
    console.log(JSON.stringify({ok: true, sessionName: p.sessionName, coordinationDir: p.coordinationDir,
      workers: p.workerPlans.map(w => ({workerName: w.workerName, branchName: w.branchName,
        worktreePath: w.worktreePath, seedPaths: w.seedPaths, taskFilePath: w.taskFilePath,
        handoffFilePath: w.handoffFilePath, launchCommand: w.launchCommand, gitCommand: w.gitCommand}))}));
  } catch (e) { console.log(JSON.stringify({ok: false, error: String(e.message)})); }
});
"""

# ASCII names: slugs are exactly ECC's. Beyond ASCII we deviate on purpose (issue 24): ECC drops every non-ASCII
# letter (``Données`` -> ``donn-es``, ``²`` -> the fallback), ours keep a slug the user recognises (accents taken off,
# other scripts' letters kept: ``plan.slugify``, tests/test_session_smaller.py).
names = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=16)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    session=names,
    workers=st.lists(names, min_size=1, max_size=4),
    seeds=st.lists(st.sampled_from(["a", "b/c", "a/../b", "./a"]), max_size=3),
)
def test_our_plans_name_everything_as_eccs_orchestrator_does(
    ecc: Path, tmp_path_factory: pytest.TempPathFactory, session: str, workers: list[str], seeds: list[str]
) -> None:
    from ecc_hooks.core.errors import UserError
    from ecc_hooks.runtime import plan as planning

    root = tmp_path_factory.mktemp("plan")
    config = {
        "sessionName": session,
        "repoRoot": str(root / "repo"),
        "launcherCommand": "go {worker_name_sh} {worktree_path} {branch_name_sh} {status_file}",
        "seedPaths": seeds,
        "workers": [{"name": name, "task": f"task {i}"} for i, name in enumerate(workers)],
    }
    done = subprocess.run(
        ["node", "-e", PLAN_SCRIPT, str(ecc / "scripts" / "lib" / "tmux-worktree-orchestrator.js")],
        input=json.dumps(config), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    theirs = json.loads(done.stdout)
    try:
        ours = planning.preview(planning.build(planning.validate(config), cwd=str(root)))
    except UserError as exc:  # both refuse the same plans (duplicate slugs, seeds outside the repository)
        assert not theirs["ok"], f"only we refused: {exc}"
        return
    assert theirs["ok"], f"only ECC refused: {theirs.get('error')}"
    assert ours["sessionName"] == theirs["sessionName"] and ours["coordinationDir"] == theirs["coordinationDir"]
    for mine, their in zip(ours["workers"], theirs["workers"], strict=True):
        for key in ("workerName", "branchName", "worktreePath", "seedPaths", "taskFilePath", "handoffFilePath"):
            assert mine[key] == their[key], key
        assert mine["launchCommand"] == their["launchCommand"]
    assert ours["commands"] == [w["gitCommand"] for w in theirs["workers"]]
