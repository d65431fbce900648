"""How long a worker has been in its state: the runtime's export says when it entered it (``stateSince``, its last
logged transition), and the HUD ages its row from that, not from ``updatedAt``, which every heartbeat and screen
change moves (a working Claude Code worker's spinner made it "running 0s" for ever)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ecc_hooks.runtime import snapshot, store
from ecc_hooks.tui import model
from tests.test_runtime_store import new_store, worker

pytestmark = pytest.mark.usefixtures("ecc_home")
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class Clock:
    """``time.time`` as the store reads it, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def exported(name: str) -> dict[str, dict]:
    data = json.loads((Path(os.environ["ECC_HOOKS_HOME"]) / "runtime" / "workers.json").read_text())
    return {w["id"]: w for s in data["sessions"] if s["session"] == name for w in s["workers"]}


def iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def test_the_state_is_aged_from_its_transition_not_from_the_last_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(store.time, "time", clock)
    opened = new_store("aged", [worker("w", session="aged")])
    row = opened.worker("aged", "w")
    clock.now = START + 10
    opened.transition(row, "starting", None)
    opened.transition(row, "running", None)
    clock.now = START + 130
    opened.update(row, heartbeat_at=clock.now, fingerprint="spinner moved")  # what the supervisor does each tick
    assert opened.state_since("aged") == {"w": START + 10}
    snapshot.export(opened, queues=False)
    shown = exported("aged")["aged/w"]
    assert shown["stateSince"] == iso(START + 10) and shown["updatedAt"] == iso(START + 130)
    now = datetime.fromtimestamp(START + 190, timezone.utc)
    assert model.state_text(model.worker_row("aged", shown, None), now) == "running 3m"

    clock.now = START + 200
    opened.transition(row, "waiting", "permission to use Bash")
    assert opened.state_since("aged") == {"w": START + 200}


def test_an_export_from_before_state_since_is_aged_from_its_update() -> None:
    older = {"id": "s/w", "state": "running", "updatedAt": iso(START)}
    now = datetime.fromtimestamp(START + 5, timezone.utc)
    assert model.state_text(model.worker_row("s", older, None), now) == "running 5s"
