"""The HUD driven key by key (Textual's Pilot, ``App.run_test``) over a world the product's own writers built:
every control's key sends the runtime request the CLI would send for the selected row (a recording runner stands
in for ``runtime.client.run``; the real effects are in ``tests/e2e/test_hud_e2e.py``), refuses what does not
apply with a reason, and the rows follow the files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks.runtime import records as rec
from ecc_hooks.tui import keys, model
from tests.tui import world
from tests.tui.conftest import Recorder

pytestmark = pytest.mark.asyncio

PROMPT = rec.ScreenData(
    worker="",
    screen="Bash command\n\n  rm -rf build\n\nDo you want to proceed?\n> 1. Yes\n  2. No, and tell Claude what to do differently",
    fingerprint="fp-1",
    prompt="Bash command: rm -rf build",
)


async def settle(pilot: Any, app: Any) -> None:
    """Until the app's workers (but the file watcher, which runs for good) are done and their results shown."""
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(3):
        await pilot.pause()
        for worker in [w for w in app.workers if w.group != "files"]:
            try:
                await worker.wait()
            except (WorkerCancelled, WorkerFailed):  # an exclusive worker replaced by a newer one
                pass
    await pilot.pause()


async def select(pilot: Any, app: Any, key: str) -> None:
    """Move the cursor with j/k until the row ``key`` is selected (as a person would)."""
    await settle(pilot, app)
    order = [r.key for r in app.visible_rows()]
    assert key in order, order
    await pilot.press("g")
    for _ in range(order.index(key)):
        await pilot.press("j")
    await settle(pilot, app)
    assert app.selected == key


async def test_rows_are_grouped_with_the_waiting_session_first(make_app: Callable[..., Any]) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        rows = app.visible_rows()
        assert rows[0].key == f"s:{world.WAITING}" and rows[0].group == model.NEEDS
        assert rows[0].waiting_for == "permission to use Bash"
        groups = [r.group for r in rows]
        assert groups == sorted(groups)
        by_key = {r.key: r for r in rows}
        assert by_key["w:api/w3"].group == model.FAILED and "boom" in (by_key["w:api/w3"].reason or "")
        assert by_key["w:api/w4"].dimmed and by_key["w:api/w4"].state == "merged"
        # a worker that is a Claude Code session carries its figures and is not listed twice
        assert by_key["w:api/w1"].cost is not None and f"s:{world.WORKER_W1}" not in by_key
        assert app.selected == rows[0].key  # the first row that needs a person is selected


async def test_moving_skips_group_titles_and_wraps_at_the_ends(make_app: Callable[..., Any]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        order = [r.key for r in app.visible_rows()]
        seen = [app.selected]
        for _ in range(len(order) + 2):
            await pilot.press("j")
            seen.append(app.selected)
        assert seen[: len(order)] == order and seen[-1] == order[-1]
        await pilot.press("k")
        assert app.selected == order[-2]
        await pilot.press("g")
        assert app.selected == order[0]
        await pilot.press("G")
        assert app.selected == order[-1]
        await pilot.press("up", "up", "down")
        assert app.selected == order[-2]


async def test_tabs_and_the_preview(make_app: Callable[..., Any], recorder: Recorder) -> None:
    recorder.replies["pane_screen"] = PROMPT
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert app.active_tab() == "screen"
        assert "waiting at: Bash command" in str(app.query_one("#view-screen").render())
        assert recorder.requests[-1] == rec.PaneScreen(world.WAITING)
        tabs = []
        for _ in range(8):
            await pilot.press("right_square_bracket")
            await settle(pilot, app)
            tabs.append(app.active_tab())
        assert tabs == ["events", "todos", "checks", "agents", "risk", "handoff", "diff", "screen"]
        await pilot.press("h")
        assert app.active_tab() == "diff"
        await pilot.press("l", "l")
        assert app.active_tab() == "events"
        await settle(pilot, app)
        events = str(app.query_one("#view-events").render())
        assert "PermissionRequest" in events and "rm -rf build" in events
        await pilot.press("space")
        assert app.has_class("-no-preview") and not app.query_one("#preview").display
        await pilot.press("space")
        assert not app.has_class("-no-preview")


async def test_approve_and_deny_answer_the_prompt_that_was_shown(
    make_app: Callable[..., Any], recorder: Recorder
) -> None:
    recorder.replies["pane_screen"] = PROMPT
    recorder.replies["pane_approve"] = rec.InputData("my-app", "approved once")
    recorder.replies["pane_deny"] = rec.InputData("my-app", "denied")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        await settle(pilot, app)
        assert rec.PaneApprove(world.WAITING, "fp-1") in recorder.requests
        assert "approved once" in app.last_message
        await pilot.press("r")
        await settle(pilot, app)
        assert rec.PaneDeny(world.WAITING, "fp-1") in recorder.requests
        # a row that waits for nobody: nothing is sent, the reason is said
        await select(pilot, app, "w:api/w1")
        sent = len(recorder.requests)
        await pilot.press("a")
        await settle(pilot, app)
        assert not any(isinstance(r, (rec.Approve, rec.PaneApprove)) for r in recorder.requests[sent:])
        assert "not waiting for a person" in app.last_message


async def test_send_types_into_the_pane(make_app: Callable[..., Any], recorder: Recorder) -> None:
    recorder.replies["pane_send"] = rec.InputData("api", "sent")
    recorder.replies["pane_screen"] = PROMPT
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, app, f"s:{world.RUNNING}")
        await pilot.press("i")
        await pilot.press(*"run the tests", "enter")
        await settle(pilot, app)
        assert (
            rec.PaneSend(world.RUNNING, "run the tests", "fp-1") in recorder.requests
            or rec.PaneSend(world.RUNNING, "run the tests", None) in recorder.requests
        )
        await pilot.press("i", "escape")  # cancelled: nothing sent
        await settle(pilot, app)
        assert sum(isinstance(r, rec.PaneSend) for r in recorder.requests) == 1


async def test_worker_controls_send_the_runtime_requests(make_app: Callable[..., Any], recorder: Recorder) -> None:
    recorder.replies.update(
        {
            "screen": rec.ScreenData("w1", "$ ", "fp-w"),
            "logs": rec.LogsData([rec.WorkerLog("w3", "headless", "/tmp/w3.log", "migrating\nboom")]),
            "diff": rec.DiffData([]),
            "resume": rec.ResumeData(["w1"]),
            "retry": rec.RetryData(["w3"]),
            "stop": rec.StopData([rec.Outcome("w1", "stopped")]),
            "pr": rec.PullRequestData("https://example.invalid/pr/1"),
            "resolve": rec.ResolveData("w2", "claude", "resolve"),
        }
    )
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await select(pilot, app, "w:api/w3")
        await pilot.press("t")
        await settle(pilot, app)
        assert rec.Retry("api", "w3") in recorder.requests and "retrying w3" in app.last_message
        await pilot.press("L")
        await settle(pilot, app)
        assert rec.Logs("api", "w3") in recorder.requests
        assert "boom" in str(app.screen.query_one("#text-screen").query("Static").last().render())
        await pilot.press("escape")
        await select(pilot, app, "w:api/w1")
        await pilot.press("u")
        await settle(pilot, app)
        assert rec.Resume("api", "w1") in recorder.requests
        await pilot.press("s")  # a completed worker: nothing runs to stop
        await settle(pilot, app)
        assert not any(isinstance(r, rec.Stop) for r in recorder.requests) and "nothing runs" in app.last_message
        await pilot.press("p", "n")  # asked first; no: nothing sent
        await settle(pilot, app)
        assert not any(isinstance(r, rec.PullRequest) for r in recorder.requests)
        await pilot.press("p", "y")
        await settle(pilot, app)
        assert rec.PullRequest("api", "w1") in recorder.requests and "example.invalid/pr/1" in app.last_message
        await pilot.press("d")
        await settle(pilot, app)
        assert app.active_tab() == "diff" and rec.Diff("api", "w1", patch=True) in recorder.requests
        await select(pilot, app, "w:api/w2")
        await pilot.press("R", "y")
        await settle(pilot, app)
        assert rec.Resolve("api", "w2") in recorder.requests


async def test_stop_asks_then_stops_a_running_worker(
    make_app: Callable[..., Any], recorder: Recorder, ecc_home: Path, hud_world: Path
) -> None:
    data = world.workers(ecc_home, hud_world)
    data["sessions"][0]["workers"][0]["state"] = "running"
    (ecc_home / "runtime" / "workers.json").write_text(__import__("json").dumps(data))
    recorder.replies["stop"] = rec.StopData([rec.Outcome("w1", "stopped")])
    recorder.replies["screen"] = rec.ScreenData("w1", "working", "fp-w")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, app, "w:api/w1")
        await pilot.press("s", "escape")
        await settle(pilot, app)
        assert not any(isinstance(r, rec.Stop) for r in recorder.requests)
        await pilot.press("s", "y")
        await settle(pilot, app)
        assert rec.Stop("api", "w1") in recorder.requests and "w1: stopped" in app.last_message


async def test_cleanup_shows_the_lost_work_refusal_and_forces_only_when_told(
    make_app: Callable[..., Any], recorder: Recorder
) -> None:
    def cleanup(request: rec.Cleanup) -> rec.CleanupData:
        if not request.force:
            raise rec.Refused("lost-work", "w1 has 2 commits main lacks", rec.Cleanup("api", "w1", force=True))
        return rec.CleanupData(["w1"])

    recorder.replies["cleanup"] = cleanup
    recorder.replies["screen"] = rec.ScreenData("w1", "$ ", "fp-w")
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await select(pilot, app, "w:api/w1")
        await pilot.press("C", "y")
        await settle(pilot, app)
        assert recorder.requests[-1] == rec.Cleanup("api", "w1")
        assert "2 commits main lacks" in str(app.screen.query("Static").first().render()) or any(
            "2 commits main lacks" in str(s.render()) for s in app.screen.query("Static")
        )
        await pilot.press("y")
        await settle(pilot, app)
        assert recorder.requests[-1] == rec.Cleanup("api", "w1", force=True)
        assert "cleanup queued: w1" in app.last_message


async def test_queues_and_apply_with_a_strategy(make_app: Callable[..., Any], recorder: Recorder) -> None:
    from ecc_hooks.tui.screens import QueuesScreen

    entries = world.workers  # the export's queue is what the screen shows first, then the runtime's own
    recorder.replies["merge_queue"] = lambda r: rec.QueueData(app.store.queues["api"].merge)
    recorder.replies["conflicts"] = lambda r: rec.ConflictsData(app.store.queues["api"].conflicts)
    recorder.replies["apply"] = rec.QueueData(merged=[rec.Outcome("w1", "merged into main")])
    recorder.replies["screen"] = rec.ScreenData("w1", "$ ", "fp-w")
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await select(pilot, app, "w:api/w1")
        await pilot.press("m")
        await settle(pilot, app)
        assert isinstance(app.screen, QueuesScreen) and app.screen.session == "api"
        assert rec.MergeQueue("api") in recorder.requests and rec.Conflicts("api") in recorder.requests
        await pilot.press("A", "escape")
        await settle(pilot, app)
        assert not any(isinstance(r, rec.Apply) for r in recorder.requests)
        await pilot.press("A", "2", "enter")
        await settle(pilot, app)
        assert rec.Apply("api", "squash") in recorder.requests and "merged into main" in app.last_message
        await pilot.press("escape")
        assert not isinstance(app.screen, QueuesScreen)
        del entries


async def test_create_from_the_quick_form_and_from_a_plan_file(
    make_app: Callable[..., Any], recorder: Recorder, tmp_path: Path
) -> None:
    recorder.replies["create"] = rec.CreateData("demo", "ecc-hooks", "/tmp/x", [])
    plan = tmp_path / "plan.json"
    plan.write_text('{"sessionName": "p", "workers": [{"name": "a", "task": "t"}]}')
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("n", *"demo: write the docs", "enter")
        await settle(pilot, app)
        made = [r for r in recorder.requests if isinstance(r, rec.Create)]
        assert made[-1].quick == {
            "sessionName": "demo",
            "workers": [{"name": "demo-1", "task": "write the docs", "agent": "claude"}],
        }
        assert "created demo" in app.last_message
        await pilot.press("n")
        await pilot.press(*str(plan), "enter")
        await settle(pilot, app)
        assert recorder.requests[-1] == rec.Create(plan_file=str(plan))
        await pilot.press("n", *"no colon here", "enter")
        await settle(pilot, app)
        assert "neither a plan file" in app.last_message


async def test_filter_help_and_quit(make_app: Callable[..., Any]) -> None:
    from ecc_hooks.tui.screens import HelpScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"api/", "enter")
        await settle(pilot, app)
        assert {r.key for r in app.visible_rows()} == {"w:api/w1", "w:api/w2", "w:api/w3", "w:api/w4"}
        assert app.selected in {"w:api/w1", "w:api/w2", "w:api/w3", "w:api/w4"}
        await pilot.press("slash", *["backspace"] * 4, "enter")
        await settle(pilot, app)
        assert len(app.visible_rows()) == 7
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        for k in keys.KEYS:
            assert k.help in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_keymap_rebinds_a_control(make_app: Callable[..., Any], recorder: Recorder) -> None:
    recorder.replies["pane_screen"] = PROMPT
    recorder.replies["pane_approve"] = rec.InputData("my-app", "approved once")
    app = make_app(keymap={"hud.approve": "y"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        await settle(pilot, app)
        assert not any(isinstance(r, rec.PaneApprove) for r in recorder.requests)
        await pilot.press("y")
        await settle(pilot, app)
        assert rec.PaneApprove(world.WAITING, "fp-1") in recorder.requests


async def test_attach_hands_the_terminal_to_tmux(make_app: Callable[..., Any], recorder: Recorder) -> None:
    recorder.replies["attach"] = rec.AttachData(["tmux", "-L", "ecc-hooks", "attach", "-t", "=api"])
    recorder.replies["screen"] = rec.ScreenData("w1", "$ ", "fp-w")
    ran: list[list[str]] = []
    app = make_app(terminal=lambda argv, env: ran.append(list(argv)) or 0)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, app, "w:api/w1")
        await pilot.press("enter")
        await settle(pilot, app)
        assert rec.Attach("api", "w1") in recorder.requests
        assert ran == [["tmux", "-L", "ecc-hooks", "attach", "-t", "=api"]]


async def test_rows_follow_the_snapshots_and_ring_once_per_transition(
    make_app: Callable[..., Any], ecc_home: Path, hud_world: Path
) -> None:
    app = make_app(watch=True)
    rings: list[str] = []
    app.bell = lambda: rings.append("bell")  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.store.row(f"s:{world.RUNNING}").state == "running"  # type: ignore[union-attr]
        assert rings == []  # what was there at the start rings nothing
        world.record(world.RUNNING, str(hud_world / "api"), world.T0 + 90, "PermissionRequest", tool_name="Bash",
                     tool_input={"command": "git push"})  # fmt: skip
        world.record(world.RUNNING, str(hud_world / "api"), world.T0 + 91, "Notification",
                     notification_type="permission_prompt", message="Claude needs your permission to use Bash")  # fmt: skip
        world.fold(world.RUNNING)  # the watcher's write: the HUD sees the file change, not a timer
        for _ in range(200):
            await asyncio.sleep(0.02)
            row = app.store.row(f"s:{world.RUNNING}")
            if row is not None and row.group == model.NEEDS:
                break
        await settle(pilot, app)
        assert app.store.row(f"s:{world.RUNNING}").group == model.NEEDS  # type: ignore[union-attr]
        assert [r.key for r in app.visible_rows()][:2] == [f"s:{world.WAITING}", f"s:{world.RUNNING}"]
        assert rings == ["bell"]
        world.fold(world.RUNNING)  # rewritten, same state: no second ring
        await asyncio.sleep(0.3)
        await settle(pilot, app)
        assert rings == ["bell"]


async def test_daemons_down_are_said_and_w_starts_them(make_app: Callable[..., Any], recorder: Recorder) -> None:
    started: list[str] = []
    recorder.replies["list"] = lambda r: started.append("supervisor") or rec.ListData([])
    app = make_app(spawn_watcher=lambda: started.append("watcher"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert "watcher and supervisor down (w starts)" in str(app.query_one("#summary").render())
        assert "watcher down" in model.what_text(app.store.row(f"s:{world.RUNNING}"))  # type: ignore[arg-type]
        await pilot.press("w")
        await settle(pilot, app)
        assert started == ["watcher", "supervisor"]


async def test_the_summary_is_laid_out_only_when_it_changes(make_app: Callable[..., Any]) -> None:
    """Every tick and every batch of file events rewrites the summary line; a Static's update lays the whole screen
    out again by default, which was most of the HUD's CPU idle and under load (benchmarks/bench_hud.py): an
    unchanged summary is not updated, a changed one is, without a layout pass."""
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        summary = app.query_one("#summary")
        refreshes: list[bool] = []
        refresh = summary.refresh

        def spy(*args: Any, **kwargs: Any) -> Any:
            refreshes.append(bool(kwargs.get("layout")))
            return refresh(*args, **kwargs)

        summary.refresh = spy  # type: ignore[method-assign]
        for _ in range(3):
            app.show_rows(app.store.rows)
            app.tick()
        await settle(pilot, app)
        assert refreshes == []
        app.filter_text = "proj"
        app.show_rows(app.store.rows)
        await settle(pilot, app)
        assert "filter: proj" in str(summary.render())
        assert refreshes and not any(refreshes)


async def test_a_preview_read_again_unchanged_is_not_laid_out_again(make_app: Callable[..., Any]) -> None:
    """The screen tab is read again twice a second; what comes back the same is not put on screen again (each
    Static update lays the whole screen out), what changed is."""
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        view = app.query_one("#view-screen")
        refreshes: list[bool] = []
        refresh = view.refresh

        def spy(*args: Any, **kwargs: Any) -> Any:
            refreshes.append(bool(kwargs.get("layout")))
            return refresh(*args, **kwargs)

        view.refresh = spy  # type: ignore[method-assign]
        for _ in range(3):
            app.load_preview()
            await settle(pilot, app)
        assert refreshes == []
        app._show_slow(app.selected, "screen", "something new")  # (a later read may replace it again)
        assert "something new" in str(view.render())
        assert refreshes
