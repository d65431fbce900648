"""The checked-in captures (tests/fixtures/captures/) still have the shape the pinned client sends: regenerate
them with tests/e2e/regenerate_captures.py into a temporary folder and compare events and keys."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.regenerate_captures import regenerate
from tests.helpers import CAPTURES


def shapes(path: Path) -> dict[str, set[str]]:
    """Event name (or "statusline") -> the union of the top-level keys its objects carry."""
    found: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            obj = json.loads(line)
            found.setdefault(obj.get("hook_event_name", "statusline"), set()).update(obj)
    return found


def test_checked_in_captures_match_what_the_client_sends_now(tmp_path: Path, claude_client: Path) -> None:
    counts = regenerate(tmp_path)
    assert counts["hook-payloads.jsonl"] >= 20 and counts["statusline-stdin.jsonl"] >= 2
    for name in ("hook-payloads.jsonl", "statusline-stdin.jsonl"):
        fresh, kept = shapes(tmp_path / name), shapes(CAPTURES / name)
        assert set(kept) <= set(fresh), f"{name}: the client no longer sends {set(kept) - set(fresh)}"
        for event, keys in kept.items():
            assert keys == fresh[event], f"{name} {event}: keys changed: {keys ^ fresh[event]}"
