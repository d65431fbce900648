"""The HUD's rows without Textual: their order (needs you first, a held-up session before one at its idle prompt;
working and idle rows stay put while their sessions work) and their ages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.hud.state import IDLE_WAIT
from ecc_hooks.tui import model
from ecc_hooks.tui.model import Row

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)


def at(seconds_ago: int) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")


def row(name: str, group: int, since: str, waiting_for: str | None = None) -> Row:
    return Row(key=f"s:{name}", name=name, agent="claude", objective="", state="x", group=group, since=since,
               waiting_for=waiting_for)  # fmt: skip


def test_a_held_up_session_comes_before_one_at_its_idle_prompt_however_long_that_waited() -> None:
    rows = [
        row("idle-prompt", model.NEEDS, at(600), IDLE_WAIT),
        row("permission", model.NEEDS, at(5), "permission to use Bash"),
        row("question", model.NEEDS, at(50), "an answer"),
    ]
    assert [r.name for r in model.ordered(rows)] == ["question", "permission", "idle-prompt"]


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), st.integers(0, 10_000)), min_size=1, max_size=8, unique_by=lambda t: t[0]
    )
)
def test_working_rows_keep_their_place_whatever_their_activity(items: list[tuple[str, int]]) -> None:
    """New events move a working session's last activity; its row must not move (the table is not rebuilt)."""
    rows = [row(name, model.WORKING, at(ago)) for name, ago in items]
    assert [r.name for r in model.ordered(rows)] == sorted(name for name, _ in items)


def test_finished_rows_the_most_recent_first() -> None:
    rows = [
        row("old", model.FINISHED, at(900)),
        row("new", model.FINISHED, at(10)),
        row("mid", model.FINISHED, at(300)),
    ]
    assert [r.name for r in model.ordered(rows)] == ["new", "mid", "old"]


def test_ages_are_to_the_second_only_under_a_minute() -> None:
    assert [model.age(at(s), NOW) for s in (0, 59, 60, 125, 3599, 3600, 90000)] == [
        "0s", "59s", "1m", "2m", "59m", "1h00m", "1d01h"
    ]  # fmt: skip
    assert model.age(None, NOW) == ""
