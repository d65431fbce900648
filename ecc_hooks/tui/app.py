"""``ecc-hooks hud``: every live Claude Code session and runtime worker on one screen, the ones that need a person
first, every control one key away (Textual).

**Fed by file events, not a polling loop.** One async worker watches the sessions and runtime folders
(``watchfiles.awatch``, filtered to ``hud.json`` and ``workers.json``, 50 ms debounce); each batch re-reads only
the files whose stat changed (``model.Store.reload``, on a thread) and updates the table by row key. The one timer
ticks every second to age the "since" column and to notice a daemon that started or died (two lock-file reads).

**Controls run through the runtime's client** (``controls.request``), the same requests the CLI sends, on a thread
worker each; a refusal is shown with the runtime's own words, and a refused cleanup that would lose work offers its
follow-up (``--force``: the work kept under ``refs/ecc-hooks/backup/``) behind a second confirmation. Mutations of a
worker's work (stop, apply, cleanup, pr) ask first.

**The terminal is always given back**: SIGTERM and SIGHUP exit through Textual's driver (which restores the
screen, the cursor and mouse reporting); only SIGKILL cannot be caught (``reset`` repairs a terminal then).
"""

from __future__ import annotations

import os
import signal
from typing import Any, Optional

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from ecc_hooks.tui import controls, keys, model
from ecc_hooks.tui.model import Row

TABS = (
    ("screen", "Screen"),
    ("events", "Events"),
    ("todos", "Todos"),
    ("checks", "Checks"),
    ("agents", "Agents"),
    ("risk", "Risk"),
    ("handoff", "Handoff"),
    ("diff", "Diff"),
)
WIDE = 140  # from this width every column shows (agent, checks, tools); under 110 the fewest
SCREEN_EVERY = 0.5  # seconds between two captures of the selected pane while its Screen tab shows
PREVIEW_CAP = 400  # lines kept of a screen, a log or a handoff in the preview
CONFIRMED = {  # control -> (title, body) of its confirmation, formatted with the row
    "stop": ("Stop {row.name}?", "Its agent is interrupted, then terminated; its scrollback is kept and `u` resumes it."),
    "pr": ("Open a pull request for {row.name}?", "Pushes {row.where} and opens a pull request with its handoff "
           "(redacted) as the body."),
    "resolve": ("Resolve {row.name}'s conflicts?", "Starts claude in its worktree on the conflicts the queue lists."),
    "cleanup": ("Clean up {row.name}?", "Removes its worktree and branch; refused if that would lose uncommitted or "
                "unmerged work."),
}  # fmt: skip
STATE_STYLE = {
    model.NEEDS: "bold yellow",
    model.WORKING: "green",
    model.IDLE: "cyan",
    model.FINISHED: "blue",
    model.FAILED: "bold red",
}


class HudApp(App[None]):
    """The full-screen HUD."""

    CSS_PATH = "hud.tcss"
    TITLE = "ecc-hooks hud"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding(k.keys, k.id.removeprefix("hud."), k.label or k.help, id=k.id, show=bool(k.label), tooltip=k.help)
        for k in keys.KEYS
    ]

    def __init__(
        self,
        ascii: bool = False,
        watch: bool = True,
        keymap: Optional[dict[str, str]] = None,
        bell: bool = True,
        notify: bool = False,
        clock: Optional[Any] = None,
        runner: Optional[Any] = None,
        terminal: Optional[Any] = None,
        spawn_watcher: Optional[Any] = None,
        problems: Optional[list[str]] = None,
    ) -> None:
        super().__init__()
        if self.no_color:  # NO_COLOR: no colour at all (Textual's default keeps greys); selection shown reversed
            from textual.filter import Monochrome, NoColor

            self._filters = [f for f in self._filters if not isinstance(f, Monochrome)] + [NoColor()]
        self.problems = list(problems or [])  # config.toml's, said on screen at start (the valid rest applies)
        from ecc_hooks.core import proc, spawn
        from ecc_hooks.runtime import client

        # What reaches outside, injectable for tests (harlequin's driver, claude-squad's executors): the runtime's
        # client (request -> data, or records.Refused raised), the terminal hand-over (argv, env -> status), the
        # watcher's start.
        self.runner = runner or client.run
        self.terminal = terminal or (lambda argv, env: proc.interactive(argv, env=env))
        self.spawn_watcher = spawn_watcher or spawn.spawn_watcher
        self.ascii = ascii
        self.watching = watch
        self.bell_on = bell
        self.notify_on = notify  # [hud] notify: run [notify].command too (the watcher and supervisor run it already)
        self.user_keymap = keymap or {}
        self.clock = clock or model.utcnow  # tests freeze it for snapshots
        self.store = model.Store()
        self.filter_text = ""
        self.selected: Optional[str] = None  # the selected row's key
        self.preview_shown = True
        self.last_message = ""
        self.previous_states: dict[str, str] = {}
        self._shown: list[tuple[Any, ...]] = []  # the shape of the rows last shown (``_rows_read``)
        self._painted = False  # the first frame is on screen (the first preview waits for it)
        self._lines_shown: dict[str, Text] = {}  # one-line Statics: what each shows now
        self._views_shown: dict[str, Any] = {}  # preview tabs: what each shows now
        self._screen_fp: dict[str, str] = {}  # row key -> the fingerprint of the screen last shown (approve checks it)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("", id="summary")
        with Vertical(id="body"):
            table: DataTable[Any] = DataTable(id="rows", cursor_type="row", zebra_stripes=False)
            yield table
            with TabbedContent(id="preview"):
                for tab, title in TABS:
                    with TabPane(title, id=f"tab-{tab}"):
                        if tab == "diff":
                            from ecc_hooks.tui.diffview import DiffView

                            yield DiffView(id="view-diff", ascii=self.ascii)
                        else:
                            with VerticalScroll():
                                yield Static("", id=f"view-{tab}", markup=False)
        yield Static("", id="message")
        yield Footer()

    def live(self) -> bool:
        """Still on screen: a worker's result or a tick that arrives while the app exits is dropped."""
        return self.is_running and not self._exit and bool(self.screen_stack)

    @property
    def main(self) -> Any:
        """The main screen (its widgets are looked up there: a dialog or the queues may be on top)."""
        return self.screen_stack[0] if self.screen_stack else self.screen

    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        for problem in self.problems:
            self.notify(problem, title="config.toml", severity="error", timeout=15)
        if self.ascii:
            from ecc_hooks.tui import look

            self.add_class(look.ASCII_CLASS)
            look.plain_scrollbars(self.main.query_one("#rows", DataTable))
            for scrolled in self.query(VerticalScroll):
                look.plain_scrollbars(scrolled)
        self._layout(self.size.width)
        self._set_columns(self.size.width)
        loop = __import__("asyncio").get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, self.exit)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        self.show_rows(self.store.reload())  # here, not on a worker: the first frame has the rows
        if self.watching:
            self.watch_files()
        self.set_interval(1.0, self.tick)

    def on_resize(self, event: Any) -> None:
        self._layout(event.size.width)
        self._set_columns(event.size.width)
        self.show_rows(self.store.rows)

    def _set_columns(self, width: int) -> None:
        """The columns for this width (the last one, what it does, takes the rest); anew when they change."""
        table = self.main.query_one("#rows", DataTable)
        wanted = self._columns(width)
        if [(str(c.key.value), c.width) for c in table.columns.values()] == wanted:
            return
        table.clear(columns=True)
        for name, size in wanted:
            table.add_column(name, width=size, key=name)

    def _layout(self, width: int) -> None:
        self.set_class(not self.preview_shown, "-no-preview")

    @staticmethod
    def _columns(width: int) -> list[tuple[str, int]]:
        fixed = HudApp._fixed_columns(width)
        rest = width - sum(size for _, size in fixed) - 2 * (len(fixed) + 1) - 2  # cell padding, the scrollbar
        return [*fixed, ("WHAT", max(rest, 10))]

    @staticmethod
    def _fixed_columns(width: int) -> list[tuple[str, int]]:
        if width >= WIDE:
            return [("NAME", 20), ("AGENT", 8), ("STATE", 15), ("CONTEXT", 11), ("COST", 6), ("TOOLS", 6),
                    ("CHECKS", 14), ("WHERE", 20)]  # fmt: skip
        if width >= 110:
            return [("NAME", 20), ("STATE", 13), ("CONTEXT", 11), ("COST", 6), ("TOOLS", 6), ("WHERE", 14)]
        return [("NAME", 15), ("STATE", 15), ("CTX", 4), ("COST", 6)]

    # ------------------------------------------------------------------ data

    @work(exclusive=True, group="files", exit_on_error=False)
    async def watch_files(self) -> None:
        """Re-read the rows on every batch of changes to a snapshot or the runtime's export."""
        from watchfiles import awatch

        paths = self.store.watch_paths()
        if not paths:
            return
        async for changes in awatch(
            *paths,
            debounce=50,
            step=20,
            watch_filter=lambda _change, path: model.Store.relevant(path),
            recursive=True,
            ignore_permission_denied=True,
        ):
            if changes:
                self.refresh_rows()

    @work(exclusive=True, group="reload", thread=True, exit_on_error=False)
    def refresh_rows(self) -> None:
        rows = self.store.reload()
        self.call_from_thread(self._rows_read, rows)

    @staticmethod
    def _shape(rows: list[Row]) -> list[tuple[Any, ...]]:
        """What a person acts on: which rows there are, their states and what they wait for."""
        return [(r.key, r.state, r.group, r.waiting_for, r.down) for r in rows]

    def _rows_read(self, rows: list[Row]) -> None:
        """Rows re-read after a change: on screen at once when a row came, went or changed state; figures alone
        (cost, tools, context) wait for the next tick, so a busy fleet rewriting its snapshots several times a
        second repaints the table once a second, not at every batch (each repaint costs the whole table)."""
        if self._shape(rows) != self._shown:
            self.show_rows(rows)

    def tick(self) -> None:
        """Once a second: ages move on; a daemon that started or stopped is seen (its lock file)."""
        if not self.live():
            return
        before = (self.store.daemons.watcher, self.store.daemons.supervisor)
        daemons = model.read_daemons()
        if (daemons.watcher, daemons.supervisor) != before:
            self.refresh_rows()
        else:
            self.show_rows(self.store.rows)

    def visible_rows(self) -> list[Row]:
        needle = self.filter_text.lower()
        if not needle:
            return self.store.rows
        return [
            r for r in self.store.rows
            if needle in " ".join((r.name, r.state, r.where, r.objective, r.agent, r.waiting_for or "")).lower()
        ]  # fmt: skip

    def show_rows(self, rows: list[Row]) -> None:
        """Put the rows on screen: changed cells in place when the order is the same, else the table anew."""
        if not self.live():
            return
        self._notify_transitions(rows)
        self._shown = self._shape(rows)
        table = self.main.query_one("#rows", DataTable)
        now = self.clock()
        shown = self.visible_rows()
        wanted = self._table_rows(shown, now, table)
        current = [str(k.value) for k in table.rows]
        if current == [key for key, _ in wanted]:
            for key, cells in wanted:
                for column, value in zip(table.columns, cells):
                    if table.get_cell(key, column) != value:
                        table.update_cell(key, column, value)
        else:
            table.clear()
            for key, cells in wanted:
                table.add_row(*cells, key=key)
            self._restore_cursor(table)
        self._summary(rows)
        self._select_current(table)

    def _table_rows(self, rows: list[Row], now: Any, table: DataTable[Any]) -> list[tuple[str, list[Any]]]:
        names = [str(c.value) for c in table.columns]  # the column keys
        widths = {str(c.key.value): c.width for c in table.columns.values()}
        out: list[tuple[str, list[Any]]] = []
        group = None
        for row in rows:
            if row.group != group:
                group = row.group
                count = sum(1 for r in rows if r.group == group)
                title = Text(f"{model.GROUPS[group]} ({count})", style="bold " + STATE_STYLE[group])
                out.append((f"g:{group}", [title] + [""] * (len(names) - 1)))
            out.append((row.key, [self._cell(name, row, now, widths[name]) for name in names]))
        return out

    def _cell(self, column: str, row: Row, now: Any, width: int) -> Any:
        dim = "dim" if row.dimmed else ""
        text: str
        style = dim
        if column == "NAME":
            text = row.name
        elif column == "STATE":
            text, style = model.state_text(row, now), f"{STATE_STYLE[row.group]} {dim}".strip()
        elif column == "CONTEXT":
            text = model.context_bar(row.context_pct, 6, self.ascii)
            if row.context_pct is not None and row.context_pct >= 85:
                style = "red"
            elif row.context_pct is not None and row.context_pct >= 70:
                style = "yellow"
        elif column == "CTX":
            text = f"{row.context_pct}%" if row.context_pct is not None else "--"
        elif column == "COST":
            text = f"${row.cost:.2f}" if row.cost is not None else "?"
        elif column == "TOOLS":
            mark = "x" if self.ascii else "\u2717"
            text = f"{row.tools}" + (f" {mark}{row.failures}" if row.failures else "")
        elif column == "CHECKS":
            text = row.checks or "-"
            style = "red" if row.checks.startswith("failing") else dim
        elif column == "AGENT":
            text = row.agent
        elif column == "WHERE":
            text = row.where or "-"
        else:
            text = model.what_text(row)
            if row.down:
                style = "yellow"
        if self.ascii:  # the ellipsis is not ASCII: cut here, to the column's width
            from ecc_hooks.tui import look

            return Text(look.cut(text, width, True), style=style, no_wrap=True, overflow="crop")
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")

    def _summary(self, rows: list[Row]) -> None:
        counts = [sum(1 for r in rows if r.group == g) for g in range(len(model.GROUPS))]
        parts = [f"{n} {model.GROUPS[g]}" for g, n in enumerate(counts) if n]
        daemons = self.store.daemons
        down = [name for name, pid in (("watcher", daemons.watcher), ("supervisor", daemons.supervisor)) if pid is None]
        text = Text("ecc-hooks hud ", style="bold")
        if down:
            text.append(f"{' and '.join(down)} down (w starts) ", style="bold yellow")
        dot = " | " if self.ascii else " \u00b7 "
        text.append(dot.lstrip() + (dot.join(parts) or "no sessions yet"))
        if self.filter_text:
            text.append(f"{dot}filter: {self.filter_text}", style="bold")
        self._line("#summary", text)

    def _line(self, selector: str, text: Text) -> None:
        """Show ``text`` on a one-line Static (its height fixed in hud.tcss), only when it changed and without a
        layout pass: ``Static.update`` lays the whole screen out again by default, and the summary, rewritten on
        every tick and every batch of file events, made that most of the HUD's CPU (benchmarks/bench_hud.py)."""
        widget = self.main.query_one(selector, Static)
        if self._lines_shown.get(selector) != text:
            self._lines_shown[selector] = text
            widget.update(text, layout=False)

    def _restore_cursor(self, table: DataTable[Any]) -> None:
        keys_now = [str(k.value) for k in table.rows]
        target = self.selected if self.selected in keys_now else None
        if target is None:
            target = next((k for k in keys_now if not k.startswith("g:")), None)
        if target is not None:
            table.move_cursor(row=keys_now.index(target), animate=False)

    def _select_current(self, table: DataTable[Any]) -> None:
        key = self._cursor_key(table)
        if key is not None and key != self.selected:
            self.selected = key
            self.load_preview()
        elif key is None:
            self.selected = None
            self._clear_preview()

    @staticmethod
    def _cursor_key(table: DataTable[Any]) -> Optional[str]:
        if not table.row_count:
            return None
        try:
            key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:
            return None
        return None if key.startswith("g:") else key

    def current_row(self) -> Optional[Row]:
        return self.store.row(self.selected)

    def _notify_transitions(self, rows: list[Row]) -> None:
        from ecc_hooks.hud import notify

        settings = None  # read when a transition comes (edits apply at once, as the watcher reads it), once per batch
        for row in rows:
            event = notify.row_event(self.previous_states.get(row.key), row.state)
            if event is not None:
                settings = settings or notify.load()
            if event is not None and event in settings.notify_on:
                text = f"{row.name}: " + ({"waiting": "needs you", "finished": "finished", "failed": "failed"}[event])
                if row.waiting_for and event == "waiting":
                    text += f" ({row.waiting_for})"
                self.notify(text, severity="warning" if event != "finished" else "information", timeout=6)
                if self.bell_on:
                    self.bell()
                if self.notify_on:
                    self._run_notify(settings, row, event)
        self.previous_states = {r.key: r.state for r in rows}

    @staticmethod
    def _run_notify(settings: Any, row: Row, event: str) -> None:
        """``[hud] notify = true``: the user's ``[notify]`` command for the row's transition, as the watcher and the
        supervisor run it (values redacted and cleaned by ``notify.environment``; on a thread of its own)."""
        from ecc_hooks.hud import notify

        reason = row.waiting_for if event == "waiting" else row.reason or row.objective
        notify.send(settings, event, notify.environment(event, row.key[2:], None, reason, name=row.name))

    # ------------------------------------------------------------------ preview

    @on(DataTable.RowHighlighted, "#rows")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = str(event.row_key.value) if event.row_key is not None else None
        if key is not None and key.startswith("g:"):
            return
        if key != self.selected:
            self.selected = key
            self.load_preview()

    @on(DataTable.RowSelected, "#rows")
    def _enter(self, _event: DataTable.RowSelected) -> None:
        """Enter on a row (the table's own key) attaches, as ``o`` does."""
        self.action_attach()

    @on(TabbedContent.TabActivated, "#preview")
    def _tab(self, _event: TabbedContent.TabActivated) -> None:
        self.load_preview()

    def active_tab(self) -> str:
        return str(self.main.query_one("#preview", TabbedContent).active or "tab-screen").removeprefix("tab-")

    def _clear_preview(self) -> None:
        for tab, _ in TABS:
            self._show_slow(None, tab, Text(""))

    def load_preview(self) -> None:
        if not self.live():
            return
        if not self._painted:  # the first frame first: the preview's reads import the runtime on a thread
            self._painted = True
            self.call_after_refresh(self.load_preview)
            return
        row = self.current_row()
        if row is None or not self.preview_shown:
            return
        tab = self.active_tab()
        if tab in ("todos", "checks", "agents", "risk"):
            from ecc_hooks.tui import preview

            self._view(tab, preview.from_payload(tab, row))
        else:
            self.load_slow(row, tab)

    @work(exclusive=True, group="preview", thread=True, exit_on_error=False)
    def load_slow(self, row: Row, tab: str) -> None:
        """The screen, events, handoff and diff tabs: files and processes, off the UI thread."""
        from ecc_hooks.tui import preview

        text, fingerprint = preview.slow(tab, row, self.runner)
        if fingerprint is not None:
            self._screen_fp[row.key] = fingerprint
        self.call_from_thread(self._show_slow, row.key, tab, text)
        if tab == "screen" and fingerprint is not None and row.group in (model.NEEDS, model.WORKING, model.IDLE):
            # a live pane is read again; a row without one (no pane recorded, a headless log) waits for a change
            self.call_from_thread(self.set_timer, SCREEN_EVERY, self._screen_again)

    def _screen_again(self) -> None:
        if not self.live():
            return
        if self.preview_shown and self.active_tab() == "screen" and not self.screen_stack[1:]:
            self.load_preview()

    def _show_slow(self, key: Optional[str], tab: str, shown: Any) -> None:
        """Put a tab's content on screen if its row is still the selected one (the diff tab: a ``DiffData``)."""
        if not self.live():
            return
        if key != self.selected:
            return
        if tab != "diff":
            self._view(tab, shown)
            return
        from ecc_hooks.tui.diffview import DiffView

        view = self.main.query_one("#view-diff", DiffView)
        if isinstance(shown, Text):
            view.show(None)
        else:
            view.show(shown.diffs[0] if shown.diffs else None, preview_lines=shown.preview_lines,
                      worktree=shown.worktrees.get(key.split("/", 1)[-1]) if key else None)  # fmt: skip

    def _view(self, tab: str, content: Any) -> None:
        """Show ``content`` in a preview tab unless it shows that already: the screen tab is read again twice a
        second and mostly comes back the same, and each ``Static.update`` lays the whole screen out again."""
        if self._views_shown.get(tab) != content:
            self._views_shown[tab] = content
            self.main.query_one(f"#view-{tab}", Static).update(content)

    # ------------------------------------------------------------------ keys

    def say(self, text: str, error: bool = False) -> None:
        self.last_message = text
        if not self.live():
            return
        self._line("#message", Text(text, style="red" if error else "green", no_wrap=True, overflow="ellipsis"))

    def _refuse(self, control: str) -> bool:
        why = controls.why_not(control, self.current_row())
        if why is not None:
            self.say(why, error=True)
            self.bell()
            return True
        return False

    def _move(self, step: Optional[int] = None, to: Optional[str] = None) -> None:
        table = self.main.query_one("#rows", DataTable)
        keys_now = [str(k.value) for k in table.rows]
        rows = [i for i, k in enumerate(keys_now) if not k.startswith("g:")]
        if not rows:
            return
        here = table.cursor_row
        if to == "top":
            target = rows[0]
        elif to == "bottom":
            target = rows[-1]
        elif step is not None and step > 0:
            target = next((i for i in rows if i > here), rows[-1])
        else:
            target = next((i for i in reversed(rows) if i < here), rows[0])
        table.move_cursor(row=target, animate=False)

    def action_down(self) -> None:
        self._move(1)

    def action_up(self) -> None:
        self._move(-1)

    def action_top(self) -> None:
        self._move(to="top")

    def action_bottom(self) -> None:
        self._move(to="bottom")

    def _switch_tab(self, step: int) -> None:
        ids = [f"tab-{t}" for t, _ in TABS]
        tabs = self.main.query_one("#preview", TabbedContent)
        here = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(here + step) % len(ids)]

    def action_next_tab(self) -> None:
        self._switch_tab(1)

    def action_prev_tab(self) -> None:
        self._switch_tab(-1)

    def action_preview(self) -> None:
        self.preview_shown = not self.preview_shown
        self._layout(self.size.width)
        self.load_preview()

    def action_filter(self) -> None:
        from ecc_hooks.tui.dialogs import TextPrompt

        def done(text: Optional[str]) -> None:
            if text is not None:
                self.filter_text = text.strip()
                self.show_rows(self.store.rows)

        self.push_screen(TextPrompt("Filter rows (empty: all)", value=self.filter_text), done)

    def action_help(self) -> None:
        from ecc_hooks.tui.screens import HelpScreen

        self.push_screen(HelpScreen(self._bound_keys()))

    def _bound_keys(self) -> list[tuple[str, str, str]]:
        """(keys as bound now, what, group) for the help screen: the defaults with the user's keymap applied."""
        return [(keys.display(self.user_keymap.get(k.id, k.keys)), k.help, k.group) for k in keys.KEYS]

    def action_quit(self) -> None:  # type: ignore[override]
        self.exit()

    # the controls ---------------------------------------------------------

    def run_control(self, control: str, row: Optional[Row], follow: Optional[Any] = None, **extra: Any) -> None:
        """Send ``control``'s request for ``row`` (or the request ``follow``) on a thread; say what happened."""
        self.say(f"{control}: …" if not self.ascii else f"{control}: ...")
        self._send(control, row, follow, extra)

    @work(thread=True, group="controls", exit_on_error=False)
    def _send(self, control: str, row: Optional[Row], follow: Optional[Any], extra: dict[str, Any]) -> None:
        from ecc_hooks.core.errors import UserError
        from ecc_hooks.core.text import clean
        from ecc_hooks.runtime import records as rec

        request = follow if follow is not None else controls.request(control, row, **extra)  # type: ignore[arg-type]
        try:
            data = self.runner(request)
        except rec.Refused as refused:
            self.call_from_thread(self._refused, control, row, refused)
            return
        except UserError as exc:
            self.call_from_thread(self.say, clean(f"{control}: {exc}", 400), True)
            return
        self.call_from_thread(self._done, control, row, data)

    def _done(self, control: str, row: Optional[Row], data: Any) -> None:
        if not self.live():
            return
        from ecc_hooks.core.text import clean
        from ecc_hooks.runtime import records as rec

        if isinstance(data, rec.AttachData):
            self._attach(data)
            return
        if isinstance(data, rec.LogsData):
            from ecc_hooks.tui.screens import TextScreen

            text = "\n\n".join(f"== {log.worker} ({log.where})\n{log.text or '(nothing kept)'}" for log in data.logs)
            self.push_screen(TextScreen(f"logs: {row.name if row else ''}", text))
            return
        self.say(clean(controls.outcome(control, data), 400))
        self.refresh_rows()

    def _refused(self, control: str, row: Optional[Row], refused: Any) -> None:
        if not self.live():
            return
        from ecc_hooks.core.text import clean

        message = clean(str(refused), 600)
        if refused.kind == "lost-work" and refused.follow_up is not None:
            from ecc_hooks.tui.dialogs import Confirm

            def go(yes: Optional[bool]) -> None:
                if yes:
                    self.run_control(control, row, follow=refused.follow_up)

            self.push_screen(Confirm(f"{control} refused: it would lose work", message + "\n\nForce it? The work is kept "
                                     "under refs/ecc-hooks/backup/ first."), go)  # fmt: skip
            return
        self.say(f"{control} refused: {message}", error=True)

    def _confirm(self, title: str, body: str, then: Any) -> None:
        from ecc_hooks.tui.dialogs import Confirm

        self.push_screen(Confirm(title, body), lambda yes: then() if yes else None)

    def action_approve(self) -> None:
        if not self._refuse("approve"):
            row = self.current_row()
            self.run_control("approve", row, screen=self._screen_fp.get(row.key) if row else None)

    def action_deny(self) -> None:
        if not self._refuse("deny"):
            row = self.current_row()
            self.run_control("deny", row, screen=self._screen_fp.get(row.key) if row else None)

    def action_send(self) -> None:
        if self._refuse("send"):
            return
        from ecc_hooks.tui.dialogs import TextPrompt

        row = self.current_row()

        def done(text: Optional[str]) -> None:
            if text:
                self.run_control("send", row, text=text)

        self.push_screen(TextPrompt(f"Send to {row.name if row else ''} (Enter sends)"), done)

    def _confirmed(self, control: str) -> None:
        """A control that changes a worker's work, sent only after the person said yes (``CONFIRMED``)."""
        if self._refuse(control):
            return
        row = self.current_row()
        assert row is not None
        title, body = CONFIRMED[control]
        self._confirm(title.format(row=row), body.format(row=row), lambda: self.run_control(control, row))

    def action_stop(self) -> None:
        self._confirmed("stop")

    def action_resume(self) -> None:
        if not self._refuse("resume"):
            self.run_control("resume", self.current_row())

    def action_retry(self) -> None:
        if not self._refuse("retry"):
            self.run_control("retry", self.current_row())

    def action_logs(self) -> None:
        if not self._refuse("logs"):
            self.run_control("logs", self.current_row())

    def action_attach(self) -> None:
        if self._refuse("attach"):
            return
        row = self.current_row()
        if row is not None and row.runtime is None:
            self._attach_pane(row)
            return
        self.run_control("attach", row)

    def _attach(self, where: Any) -> None:
        """Hand the terminal to tmux (or ``claude attach``) and take it back when the person detaches."""
        self._hand_over(where.argv)
        self.refresh_rows()

    def _hand_over(self, argv: list[str]) -> None:
        """Give the terminal to ``argv`` (a nested tmux attach: ``TMUX`` unset) until it exits, then redraw."""
        from textual.app import SuspendNotSupported

        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        try:
            with self.suspend():
                self.terminal(argv, env)
        except SuspendNotSupported:  # no terminal of its own (a headless test run): nothing to give back
            self.terminal(argv, env)
        self.refresh(layout=True)

    def _attach_pane(self, row: Row) -> None:
        from ecc_hooks.hud import inputs

        where = inputs.session_terminal(row.session_id or "")
        if where is None:
            self.say(f"{row.name} does not run in a tmux pane its hooks saw", error=True)
            return
        from ecc_hooks.core import proc, terminal

        problem = terminal.socket_problem(where.socket)  # recorded by a hook: checked before tmux is pointed at it
        if problem is not None:
            self.say(f"attach: {problem}", error=True)
            return
        inside = os.environ.get("TMUX", "").split(",", 1)[0]
        if inside == where.socket:  # the same server: switch this client to it (prefix + L comes back)
            proc.run(["tmux", "-S", where.socket, "switch-client", "-t", where.pane], timeout=5)
            return
        self._hand_over(["tmux", "-S", where.socket, "attach", "-t", where.pane])

    def action_diff(self) -> None:
        if not self._refuse("diff"):
            self.preview_shown = True
            self._layout(self.size.width)
            self.main.query_one("#preview", TabbedContent).active = "tab-diff"
            self.load_preview()

    def action_pr(self) -> None:
        self._confirmed("pr")

    def action_resolve(self) -> None:
        self._confirmed("resolve")

    def action_cleanup(self) -> None:
        self._confirmed("cleanup")

    def queue_session(self) -> Optional[str]:
        """The runtime session the queues are for: the selected worker's, else the first one with a queue."""
        row = self.current_row()
        if row is not None and row.runtime is not None:
            return row.runtime[0]
        return next(iter(self.store.queues), None)

    def action_queues(self) -> None:
        from ecc_hooks.tui.screens import QueuesScreen

        session = self.queue_session()
        if session is None:
            self.say("no runtime session has a merge queue yet", error=True)
            return
        self.push_screen(QueuesScreen(session))

    def action_apply(self) -> None:
        session = self.queue_session()
        if session is None:
            self.say("no runtime session has a merge queue yet", error=True)
            return
        from ecc_hooks.tui.queues import ConfirmApply

        queue = self.store.queues.get(session) or model.Queue(session)

        def go(strategy: Optional[str]) -> None:
            if strategy:
                from ecc_hooks.runtime import records as rec

                self.run_control("apply", None, follow=rec.Apply(session, strategy))

        self.push_screen(ConfirmApply(queue.merge, session=session), go)

    def action_create(self) -> None:
        from ecc_hooks.tui.dialogs import TextPrompt

        def done(text: Optional[str]) -> None:
            if text:
                self._create(text.strip())

        self.push_screen(TextPrompt("Create a session", body="A plan file's path, or NAME: TASK (one claude worker "
                                    f"in this repository, {os.getcwd()})"), done)  # fmt: skip

    def _create(self, text: str) -> None:
        from ecc_hooks.runtime import records as rec

        path = os.path.abspath(os.path.expanduser(text))
        if os.path.isfile(path):
            request = rec.Create(plan_file=path)
        elif ":" in text:
            name, task = (part.strip() for part in text.split(":", 1))
            if not name or not task:
                self.say("create: give NAME: TASK", error=True)
                return
            from ecc_hooks.runtime.plan import slugify

            request = rec.Create(quick={"sessionName": name, "workers": [{"name": f"{slugify(name)}-1", "task": task,
                                                                          "agent": "claude"}]})  # fmt: skip
        else:
            self.say(f"create: {text!r} is neither a plan file nor NAME: TASK", error=True)
            return
        self.run_control("create", None, follow=request)

    def action_daemons(self) -> None:
        self.say("starting the watcher and the supervisor ...")
        self._start_daemons()

    @work(thread=True, group="daemons", exit_on_error=False)
    def _start_daemons(self) -> None:
        from ecc_hooks.runtime import records as rec

        try:
            self.spawn_watcher()
        except OSError as exc:
            self.call_from_thread(self.say, f"watcher: {exc}", True)
        try:
            self.runner(rec.ListSessions())  # starts a supervisor when none runs and waits for its first pass
        except Exception as exc:  # said, not raised: the HUD stays up
            self.call_from_thread(self.say, f"supervisor: {exc}", True)
        self.call_from_thread(self.refresh_rows)
        self.call_from_thread(self.say, "watcher and supervisor started")
