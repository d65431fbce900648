"""The rules every ECC parity test compares by: differences field by field, explained only by deviations.json.

``tests/fixtures/ecc-parity/deviations.json`` lists where our ``ecc.session.v1`` differs from ECC's
``inspectSessionTarget`` on purpose, with the reason: ``additions`` (keys ECC does not write), ``deviations``
(a path, the exact value on each side or either left out, and optionally a ``rule`` of ``RULES`` both values and
the case's ``Facts`` must follow) and ``eccBugs`` (ECC's own bugs we handle correctly: the generated suite compares
us with ECC on the input without the bug's trigger, and counts the bug as seen when ECC's answer on the real input
differs). ``SEEN`` collects what the tests of this run met, ``RAN`` which suites compared anything: a listed entry
no longer seen is a fixed difference to take off the list (tests/e2e/test_ecc_generated.py checks it).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from tests.helpers import REPO

DEVIATIONS_FILE = REPO / "tests" / "fixtures" / "ecc-parity" / "deviations.json"
DEVIATIONS: dict[str, Any] = json.loads(DEVIATIONS_FILE.read_text())
# Orchestration sessions only: entries of another adapter (claude-history) are checked by their own suite.
ORCHESTRATION = [entry for entry in DEVIATIONS["deviations"] if entry.get("adapter", "dmux-tmux") == "dmux-tmux"]
VALIDATOR = "scripts/lib/session-adapters/canonical-session.js"
REFUSAL = "(refusal)"  # the path of a difference where only one side refused the target

SEEN: Counter[str] = Counter()  # the entries (``entry_id``) and ECC bug ids met in this run: how often
RAN: set[str] = set()  # the suites whose comparisons ran


Diff = tuple[str, Any, Any]
Pair = tuple[Any, Any]  # (theirs, ours): the workers a difference lies in, else the two snapshots
Facts = dict[str, Any]  # what the suite knows of the case beyond the snapshots (e.g. the tmux panes ECC can see)


def differences(theirs: Any, ours: Any, path: str = "") -> list[Diff]:
    """(path, theirs, ours) for every leaf that differs; workers are matched by id and named ``[*]``."""
    return [diff for diff, _ in located(theirs, ours, path)]


def located(theirs: Any, ours: Any, path: str = "", pair: Pair | None = None) -> list[tuple[Diff, Pair]]:
    """``differences``, each with the pair of workers it lies in (the rules of some entries look at them).

    ``aggregates.states`` and ``aggregates.healths`` are not compared key by key: each side's must be the counts
    of its own workers (``unexplained`` checks that); how the workers differ is compared per worker."""
    pair = (theirs, ours) if pair is None else pair
    if path in (".aggregates.states", ".aggregates.healths"):
        return []
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out = []
        for key in sorted(set(theirs) | set(ours)):
            out += located(theirs.get(key, "<absent>"), ours.get(key, "<absent>"), f"{path}.{key}", pair)
        return out
    if path == ".workers" and isinstance(theirs, list) and isinstance(ours, list):
        mine = {w["id"]: w for w in ours}
        order = ([w["id"] for w in theirs], [w["id"] for w in ours])
        out = [] if order[0] == order[1] else [((f"{path}[order]", *order), pair)]
        for worker in theirs:
            out += located(worker, mine.get(worker["id"], "<absent>"), f"{path}[*]", (worker, mine.get(worker["id"])))
        return out
    return [] if theirs == ours else [((path, theirs, ours), pair)]


def miscounted(snapshot: Any) -> list[str]:
    """The aggregates of a snapshot that are not the counts of its own workers."""
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("aggregates"), dict):
        return []
    workers = snapshot.get("workers") or []
    wrong = []
    for key, field in (("states", "state"), ("healths", "health")):
        counts: dict[str, int] = {}
        for worker in workers:
            counts[worker[field]] = counts.get(worker[field], 0) + 1
        if snapshot["aggregates"].get(key) != counts:
            wrong.append(f".aggregates.{key}")
    return wrong


def _normalized_state(theirs: Any, ours: Any, pair: Pair, facts: Facts) -> bool:
    """Ours is ECC's state word normalized (``done`` -> completed; a ``- Merged:`` line makes completed merged)."""
    from ecc_hooks.handoff.adapters._common import normalize_worker_state

    word = normalize_worker_state(theirs).value
    return bool(ours == word or (ours == "merged" and word == "completed"))


def _pane_by_worktree(theirs: Any, ours: Any, pair: Pair, facts: Facts) -> bool:
    """ECC found no pane titled after the worker; we matched one ECC could see (the current window's) by the
    worker's worktree."""
    their, our = pair
    if not isinstance(their, dict) or not isinstance(our, dict):
        return False
    pane = our["runtime"].get("paneId")
    return their["runtime"]["pid"] is None and pane is not None and pane in facts.get("current_window", ())


def _normalized_session_state(theirs: Any, ours: Any, pair: Pair, facts: Facts) -> bool:
    """ECC's session rule (no live pane: missing, failed, all completed, else idle) over our normalization of
    ECC's worker states: ``Completed`` and ``done`` workers make a completed session for us, an idle one for ECC."""
    from ecc_hooks.handoff.adapters._common import normalize_worker_state

    if theirs == "active" or not isinstance(pair[0], dict):
        return False
    words = [normalize_worker_state(worker["state"]).value for worker in pair[0]["workers"]]
    if not words:
        return bool(ours == "missing")
    if "failed" in words:
        return bool(ours == "failed")
    return bool(ours == ("completed" if all(w in ("completed", "merged") for w in words) else "idle"))


def _folder_of_name(theirs: Any, ours: Any, pair: Pair, facts: Facts) -> bool:
    """Ours names a coordination folder target by its absolute path, ECC (on the twin) by the session's name."""
    return isinstance(ours, str) and os.path.isabs(ours) and os.path.basename(ours) == theirs


def _other_window(theirs: Any, ours: Any, pair: Pair, facts: Facts) -> bool:
    """Our pane is in a window other than the session's current one: ECC lists the current window only
    (``list-panes -t``), we list every window (``-s``). ``facts["current_window"]``: the pane ids ECC could see."""
    our = pair[1]
    if not isinstance(our, dict) or "current_window" not in facts:
        return False
    pane = our["runtime"].get("paneId")
    return pane is not None and pane not in facts["current_window"]


def _all_panes_dead(theirs: Any, ours: Any, pair: Pair, facts: Facts) -> bool:
    """The session's tmux is up but every pane in it is dead (remain-on-exit)."""
    return facts.get("live_panes") == 0


RULES = {
    "normalized-state": _normalized_state,
    "normalized-session-state": _normalized_session_state,
    "pane-by-worktree": _pane_by_worktree,
    "folder-of-name": _folder_of_name,
    "other-window": _other_window,
    "all-panes-dead": _all_panes_dead,
}


def explained(diff: Diff, pair: Pair = (None, None), facts: Facts | None = None) -> str | None:
    """The deviation entry's reason for ``diff`` (None: unexplained). An entry names a path and optionally the
    exact value on each side, or a ``rule`` (``RULES``) the two values must follow."""
    path, theirs, ours = diff
    if theirs == "<absent>" and path in DEVIATIONS["additions"]["paths"]:
        return "addition"
    for entry in ORCHESTRATION:
        if entry["path"] != path or entry.get("theirs", theirs) != theirs or entry.get("ours", ours) != ours:
            continue
        if "rule" in entry and not RULES[entry["rule"]](theirs, ours, pair, facts or {}):
            continue
        return entry_id(entry)
    return None


def entry_id(entry: dict[str, Any]) -> str:
    """How a deviation entry is named in ``SEEN`` and in the message of one no longer seen."""
    values = {k: entry[k] for k in ("theirs", "ours", "rule") if k in entry}
    return f"{entry['path']} {json.dumps(values, ensure_ascii=False)}" if values else str(entry["path"])


def unexplained(theirs: Any, ours: Any, facts: Facts | None = None) -> list[Diff]:
    """The differences no entry explains; the explained ones are recorded in ``SEEN``."""
    left = [(path, "counts of its workers", "counts of its workers") for path in miscounted(theirs) + miscounted(ours)]
    for diff, pair in located(theirs, ours):
        reason = explained(diff, pair, facts)
        if reason is None:
            left.append(diff)
        else:
            SEEN[reason] += 1
    return left


def describe(diffs: list[Diff]) -> str:
    """One line per difference, for an assertion message."""
    return "\n".join(
        f"  {path}: theirs {json.dumps(t, ensure_ascii=False)} ours {json.dumps(o, ensure_ascii=False)}"
        for path, t, o in diffs
    )


def listed() -> set[str]:
    """Every entry a run must see: the deviations' paths and ECC's bugs' ids."""
    return {entry_id(entry) for entry in ORCHESTRATION} | {bug["id"] for bug in DEVIATIONS.get("eccBugs", [])}
