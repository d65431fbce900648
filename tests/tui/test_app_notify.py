"""``[hud] notify = true``: the HUD runs the user's ``[notify]`` command for a row's transition too, once, by the rule
the watcher and the supervisor use (``notify.row_event``); off by default (they run it already). A session whose
turn ends in an API error is a ``failed`` row, told as ``failed``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks.hud import notify
from tests.tui import world
from tests.tui.test_app import settle

pytestmark = pytest.mark.asyncio


def told_lines(told: Path) -> list[str]:
    return told.read_text().splitlines() if told.exists() else []


async def wait_for(condition: Callable[[], Any]) -> Any:
    for _ in range(250):
        found = condition()
        if found:
            return found
        await asyncio.sleep(0.02)
    return condition()


async def test_the_hud_runs_the_notify_command_once_per_transition_when_told_to(
    make_app: Callable[..., Any], ecc_home: Path, hud_world: Path, tmp_path: Path
) -> None:
    told = tmp_path / "told.log"
    command = f'printf "%s|%s|%s\\n" "$ECC_NOTIFY_EVENT" "$ECC_NOTIFY_NAME" "$ECC_NOTIFY_REASON" >> {told}'
    (ecc_home / "config.toml").write_text(f"[notify]\ncommand = '{command}'\n[hud]\nnotify = true\n")
    settings = notify.load()
    assert settings.problems == [] and settings.hud_notify
    assert make_app().notify_on is False  # the default: the daemons tell, the HUD only rings
    app = make_app(watch=True, notify=settings.hud_notify)
    rings: list[str] = []
    app.bell = lambda: rings.append("bell")  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert told_lines(told) == []  # the rows at start-up are history
        world.record(world.RUNNING, str(hud_world / "api"), world.T0 + 90, "StopFailure", error="overloaded_error")
        world.fold(world.RUNNING)
        row = await wait_for(lambda: (r := app.store.row(f"s:{world.RUNNING}")) and r.state == "failed" and r)
        assert row, app.store.row(f"s:{world.RUNNING}")
        lines = await wait_for(lambda: told_lines(told))
        assert lines == [f"failed|{row.name}|{row.reason}"] and "overloaded_error" in lines[0]
        world.fold(world.RUNNING)  # rewritten, same state: nothing more
        await asyncio.sleep(0.3)
        await settle(pilot, app)
        assert told_lines(told) == lines and rings == ["bell"]
