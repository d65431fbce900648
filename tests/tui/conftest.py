"""The HUD's tests: a world on disk (``world.py``) under a private ``ECC_HOOKS_HOME``, the app's clock frozen, and
a recording runner in place of the runtime's client where a test checks which request a key sends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.tui import world


@pytest.fixture
def hud_world(ecc_home: Path, tmp_path: Path) -> Path:
    """Three plain sessions and a runtime session ``api`` with four workers and its queues."""
    work = tmp_path / "work"
    world.sessions(work)
    world.workers(ecc_home, work)
    return work


class Recorder:
    """Stands in for ``runtime.client.run``: records each request and answers from ``replies`` (verb -> data, or
    an exception to raise, or a callable taking the request)."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.replies: dict[str, Any] = {}

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        reply = self.replies.get(request.verb)
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            return reply(request)
        if reply is None:
            from ecc_hooks.runtime import records as rec

            raise rec.Refused("not-found", f"no reply scripted for {request.verb}")
        return reply

    def verbs(self) -> list[str]:
        return [r.verb for r in self.requests]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_app(hud_world: Path, recorder: Recorder) -> Callable[..., Any]:
    """A HUD over the world, its clock frozen, not watching files unless asked."""
    from ecc_hooks.tui.app import HudApp

    def make(**kwargs: Any) -> HudApp:
        kwargs.setdefault("watch", False)
        kwargs.setdefault("clock", lambda: world.NOW)
        kwargs.setdefault("runner", recorder)
        return HudApp(**kwargs)

    return make
