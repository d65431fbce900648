"""The HUD's other screens: the help (every key as bound now), a text viewer (logs), and the merge and conflict
queues of one runtime session with their controls (apply, resolve)."""

from __future__ import annotations

from typing import Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from ecc_hooks.core.text import clean, clean_block
from ecc_hooks.tui.dialogs import Confirm
from ecc_hooks.tui.queues import ConfirmApply, QueueView

CLOSE = [Binding("escape,q", "close", "close", id="hud.close")]


class HelpScreen(ModalScreen[None]):
    """Every control and the keys bound to it now (the user's ``[hud.keymap]`` applied)."""

    BINDINGS = CLOSE + [Binding("question_mark", "close", show=False)]

    def __init__(self, bound: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.bound = bound

    def compose(self) -> ComposeResult:
        text = Text("ecc-hooks hud: keys (rebind them in [hud.keymap] of config.toml)\n", style="bold")
        width = max(len(shown) for shown, _, _ in self.bound) + 2
        group = None
        for shown, what, g in self.bound:
            if g != group:
                group = g
                text.append(f"\n{g.upper()}\n", style="underline")
            text.append(shown.ljust(width), style="bold").append(what + "\n")
        with VerticalScroll(id="help"):
            yield Static(text, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """Untrusted text (a worker's log), made inert and bounded, in a scrollable view."""

    BINDINGS = CLOSE
    LINES = 2000

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = clean(title, 120)
        lines = clean_block(text).splitlines()[-self.LINES :]
        self.body = "\n".join(line[:500] for line in lines)

    def compose(self) -> ComposeResult:
        with Vertical(id="text-screen"):
            yield Static(Text(self.title_text, style="bold"))
            with VerticalScroll():
                yield Static(Text(self.body or "(nothing)"), markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).scroll_end(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)


class QueuesScreen(Screen[None]):
    """One runtime session's merge queue and conflict queue: the supervisor's last export at once, then the queue
    the runtime computes now (and again after an apply); ``A`` applies, ``R`` starts an agent on the selected
    entry's conflicts."""

    BINDINGS = CLOSE + [
        Binding("A", "apply", "apply the queue", id="hud.queue.apply"),
        Binding("R", "resolve", "resolve with an agent", id="hud.queue.resolve"),
    ]

    def __init__(self, session: str) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Static(Text(f"merge and conflict queues of {clean(self.session, 60)}", style="bold"), id="queue-title")
        yield QueueView(id="queue-view")
        yield Footer()

    def on_mount(self) -> None:
        self.show()
        self.compute()

    def show(self) -> None:
        queue = self.app.store.queues.get(self.session)  # type: ignore[attr-defined]
        view = self.query_one(QueueView)
        if queue is not None:
            view.show(queue.merge, queue.conflicts)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def compute(self) -> None:
        """The queue now (the runtime computes it read-only), so what is applied is what is shown."""
        from ecc_hooks.runtime import records as rec

        run = self.app.runner  # type: ignore[attr-defined]
        try:
            data = run(rec.MergeQueue(self.session))
            conflicts = run(rec.Conflicts(self.session))
        except Exception as exc:
            self.app.call_from_thread(self.app.say, clean(f"queue: {exc}", 300), True)  # type: ignore[attr-defined]
            return
        self.app.call_from_thread(self.query_one(QueueView).show, data.entries, conflicts.conflicts)

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_apply(self) -> None:
        entries = self.query_one(QueueView).entries

        def go(strategy: Optional[str]) -> None:
            if strategy:
                from ecc_hooks.runtime import records as rec

                self.app.run_control("apply", None, follow=rec.Apply(self.session, strategy))  # type: ignore[attr-defined]
                self.set_timer(0.5, self.compute)

        self.app.push_screen(ConfirmApply(entries, session=self.session), go)

    def action_resolve(self) -> None:
        worker = self.query_one(QueueView).selected_id
        if not worker:
            self.app.say("no queue entry selected", True)  # type: ignore[attr-defined]
            return
        from ecc_hooks.runtime import records as rec

        slug = worker.split("/", 1)[-1]
        self.app.push_screen(
            Confirm(f"Resolve {slug}'s conflicts?", "Starts claude in its worktree on the conflicting files."),
            lambda yes: self.app.run_control("resolve", None, follow=rec.Resolve(self.session, slug)) if yes else None,  # type: ignore[attr-defined]
        )
