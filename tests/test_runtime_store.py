"""The runtime's SQLite store: transitions are enforced (property test), a stale view loses the compare-and-set,
every change is logged with its reason, and the file is private."""

from __future__ import annotations

import itertools
import os
import stat
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc_hooks.runtime import store

pytestmark = pytest.mark.usefixtures("ecc_home")
NAMES = itertools.count()  # one session per example (the home is the test's, shared by its examples)


def worker(name: str = "w", session: str = "s") -> store.Worker:
    return store.Worker(
        session=session, slug=name, seq=0, name=name, agent=None, runtime="tmux", branch="b", worktree="/w",
        task="t", task_file="/t", status_file="/s", handoff_file="/h", launch_command="true", agent_launch=0, agent_session=None,
        state="pending", reason=None, launch_token=None, command=None, launches=0, pane=None, handle=None, pid=None,
        pid_start=None, exit_code=None, port_base=None, ports=0, fingerprint=None, heartbeat_at=None,
        started_at=None, finished_at=None, handoff_done=0, removed=0, updated_at=time.time(),
    )  # fmt: skip


def new_store(name: str, workers: list[store.Worker]) -> store.Store:
    opened = store.Store()
    session = store.Session(name, "/r", "/c", "HEAD", None, None, "sock", None, time.time())
    opened.add_session(session, workers)
    return opened


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.sampled_from(store.STATES), max_size=25))
def test_only_allowed_transitions_happen_and_each_is_logged(moves: list[str]) -> None:
    name = f"s-{next(NAMES)}"
    row = worker(session=name)
    opened = new_store(name, [row])
    state, logged = "pending", [(None, "pending")]
    for n, target in enumerate(moves):
        if target == state or target in store.ALLOWED[state]:
            opened.transition(row, target, f"move {n}")
            if target != state:
                logged.append((state, target))
            state = target
        else:
            with pytest.raises(store.InvalidTransition):
                opened.transition(row, target, f"move {n}")
        assert opened.worker(name, "w").state == state  # the row, not only the object
    assert [(r["from_state"], r["to_state"]) for r in opened.history(name, "w")] == logged


def test_a_stale_view_loses_the_compare_and_set() -> None:
    first, second = new_store("cas", [worker(session="cas")]), store.Store()
    mine, theirs = first.worker("cas", "w"), second.worker("cas", "w")
    first.transition(mine, "starting")
    with pytest.raises(store.InvalidTransition, match="changed state meanwhile"):
        second.transition(theirs, "stopped", "stopped by the user")  # allowed from pending, but it moved
    assert first.worker("cas", "w").state == "starting"


def test_the_database_is_private_and_never_followed_through_a_link(ecc_home: Path) -> None:
    new_store("private", [worker(session="private")])
    assert stat.S_IMODE(os.stat(ecc_home / "runtime.db").st_mode) == 0o600
    target = ecc_home / "elsewhere.db"
    (ecc_home / "runtime.db").unlink()
    os.symlink(target, ecc_home / "runtime.db")
    with pytest.raises(Exception, match="link"):
        store.Store()
    assert not target.exists()


def test_a_second_store_in_one_process_keeps_the_first_ones_locks(ecc_home: Path) -> None:
    """Closing any descriptor of a file drops the process's POSIX locks on it: opening the store again (the
    supervisor does, per cleanup) must not, or another process's close deletes the WAL under the first one."""
    import subprocess
    import sys

    from tests.helpers import REPO

    first = new_store("locks", [worker(session="locks")])
    store.Store()  # a second one in the same process
    writer = (
        "from ecc_hooks.runtime import store; s = store.Store(); w = s.worker('locks', 'w'); "
        "s.transition(w, 'starting'); s.close()"
    )
    done = subprocess.run([sys.executable, "-c", writer], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (ecc_home / "runtime.db-wal").exists()  # the last-connection cleanup did not run: we are still here
    assert first.worker("locks", "w").state == "starting"


def test_many_processes_opening_a_fresh_store_at_once_all_succeed(ecc_home: Path) -> None:
    """The first open creates the database: processes racing to do it must all get it (one creates, the
    others check what it made)."""
    import subprocess
    import sys

    from tests.helpers import REPO

    go = ecc_home.parent / "go"
    code = (  # every process loaded and waiting, then all open the store at once
        "import os, time; from ecc_hooks.runtime import store\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.0005)\n"
        "store.Store().close()"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stderr=subprocess.PIPE) for _ in range(12)]
    import time

    time.sleep(1.5)  # all of them started (a slow start only makes the race less likely, never a failure)
    go.write_text("")
    results = [(p.wait(timeout=60), p.stderr.read().decode()) for p in procs if p.stderr]
    assert all(code == 0 for code, _ in results), [err for code, err in results if code]
    assert stat.S_IMODE(os.stat(ecc_home / "runtime.db").st_mode) == 0o600
