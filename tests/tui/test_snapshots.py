"""SVG snapshots of the HUD (pytest-textual-snapshot) at 80x24 and 160x48: the main view, the preview (the
journal's events), a worker's diff and the merge and conflict queues, over the world the product's writers built
(``world.py``) with the clock frozen. A changed screen fails until it is looked at and accepted with
``pytest tests/tui/test_snapshots.py --snapshot-update``; Textual's own releases change them too, so its version is
pinned below 9 in pyproject.toml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecc_hooks.runtime import records as rec
from tests.tui import world
from tests.tui.conftest import Recorder
from tests.tui.test_app import settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
PROMPT = rec.ScreenData(
    worker="",
    screen=(
        "> clean the build folder\n\n"
        "\u25cf I'll remove the build folder.\n\n"
        "\u256d\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u256e\n"
        "\u2502 Bash command                          \u2502\n"
        "\u2502   rm -rf build                        \u2502\n"
        "\u2502 Do you want to proceed?               \u2502\n"
        "\u2502 \u276f 1. Yes                              \u2502\n"
        "\u2502   2. No, and tell Claude what to do   \u2502\n"
        "\u2570\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u256f"
    ),
    fingerprint="fp-1",
    prompt="Bash command: rm -rf build",
)
PATCH = """diff --git a/app.py b/app.py
index 3b18e51..a8c4f0d 100644
--- a/app.py
+++ b/app.py
@@ -1,6 +1,11 @@
 from flask import Flask

 app = Flask(__name__)
+
+
+@app.get("/health")
+def health():
+    return {"status": "ok"}


 @app.get("/")
diff --git a/tests/test_health.py b/tests/test_health.py
new file mode 100644
index 0000000..5f1e2b7
--- /dev/null
+++ b/tests/test_health.py
@@ -0,0 +1,6 @@
+from app import app
+
+
+def test_health():
+    response = app.test_client().get("/health")
+    assert response.json == {"status": "ok"}
"""
DIFF = rec.DiffData(
    diffs=[
        {
            "id": "w1",
            "branch": "orchestrator-api-w1",
            "base": "main",
            "committed": ["app.py", "tests/test_health.py"],
            "staged": [],
            "unstaged": ["README.md"],
            "untracked": ["notes.txt"],
            "summary": "Branch 2 files changed, 10 insertions(+) | Working tree 1 file changed, 1 untracked",
            "patch": PATCH,
            "truncated": False,
            "missing": False,
        }
    ],
    worktrees={"w1": "/work/api-worktrees/w1"},
    preview_lines=200,
)


def replies(recorder: Recorder, app: Any) -> None:
    recorder.replies.update(
        {
            "pane_screen": PROMPT,
            "screen": rec.ScreenData("w1", "\u276f \n\n  ? for shortcuts", "fp-w"),
            "diff": DIFF,
            "merge_queue": lambda r: rec.QueueData(app.store.queues["api"].merge),
            "conflicts": lambda r: rec.ConflictsData(app.store.queues["api"].conflicts),
        }
    )


async def settled(pilot: Any) -> None:
    await settle(pilot, pilot.app)


async def go_to(pilot: Any, key: str) -> None:
    await settled(pilot)
    order = [r.key for r in pilot.app.visible_rows()]
    await pilot.press("g", *["j"] * order.index(key))
    await settled(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_main_view(snap_compare: Callable[..., bool], make_app: Callable[..., Any], recorder: Recorder, size) -> None:
    app = make_app()
    replies(recorder, app)
    assert snap_compare(app, terminal_size=size, run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_preview_events(
    snap_compare: Callable[..., bool], make_app: Callable[..., Any], recorder: Recorder, size
) -> None:
    app = make_app()
    replies(recorder, app)

    async def before(pilot: Any) -> None:
        await go_to(pilot, f"s:{world.IDLE}")
        await pilot.press("right_square_bracket")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_diff(snap_compare: Callable[..., bool], make_app: Callable[..., Any], recorder: Recorder, size) -> None:
    app = make_app()
    replies(recorder, app)

    async def before(pilot: Any) -> None:
        await go_to(pilot, "w:api/w1")
        await pilot.press("d")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_queues(snap_compare: Callable[..., bool], make_app: Callable[..., Any], recorder: Recorder, size) -> None:
    app = make_app()
    replies(recorder, app)

    async def before(pilot: Any) -> None:
        await go_to(pilot, "w:api/w2")
        await pilot.press("m")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", [pytest.param((80, 24), id="80x24")])
def test_main_view_ascii(
    snap_compare: Callable[..., bool], make_app: Callable[..., Any], recorder: Recorder, size
) -> None:
    app = make_app(ascii=True)
    replies(recorder, app)
    assert snap_compare(app, terminal_size=size, run_before=settled)
