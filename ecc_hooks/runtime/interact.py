"""Input to a running worker without attaching: ``send`` (text typed into its pane and submitted) and ``answer``
(approve or deny the permission prompt it waits at).

**Only what the pane shows.** Both act on a tmux worker's live pane and check its screen first: ``answer``
presses the agent's own keys (``agents.Agent.approve``/``deny``, learned from the client itself) only while the
screen shows that agent's permission prompt, and ``send`` refuses while it does (text typed into a dialog would
answer it: a digit picks an option). A caller that showed the screen to a person passes the ``fingerprint`` of
what they saw (``look``'s ``fingerprint``: of the prompt, else of the screen); when it changed since,
nothing is pressed (a compare-and-set, under the session's lock, so two clients never answer one prompt twice).

**No text in a command line.** The text reaches the pane from a tmux buffer loaded from stdin and pasted
(``launch.send_keys(literal=True)``), never as an argument of ``send-keys``; Enter is pressed only once the text
shows on the screen.

Headless and ``claude-bg`` workers take no input while they run: a clear refusal says why and what works instead
(``session resume --prompt`` once it finished, ``claude attach``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime import agents, detect, launch
from ecc_hooks.runtime import store as st

SHOW_WAIT = 10.0  # seconds for sent text to show on the screen before Enter
ANSWER_WAIT = 5.0  # seconds for a permission prompt to go once answered
POLL = 0.1


@dataclass(frozen=True)
class Look:
    """A worker's screen as a person sees it, and the fingerprint ``send`` and ``answer`` compare: of the
    permission prompt it shows (what the person decides on: the rest of the screen may blink, Claude Code's
    bullet does), else of the whole screen."""

    slug: str
    screen: str
    prompt: Optional[str]  # the permission question it shows, if any

    @property
    def fingerprint(self) -> str:
        return detect.fingerprint(self.prompt if self.prompt is not None else self.screen)

    def shows(self, seen: str) -> bool:
        """Whether ``seen`` is this look's fingerprint (or the whole screen's, as the supervisor hashes it)."""
        return seen in (self.fingerprint, detect.fingerprint(self.screen))


def _worker(store: st.Store, name: str, worker: str) -> tuple[st.Session, st.Worker]:
    session = store.require_session(name)
    found = [w for w in store.workers(name) if not w.removed and worker in (w.slug, w.name)]
    if not found:
        raise UserError(f"session {name!r} has no worker {worker!r}")
    return session, found[0]


def _no_pane(session: st.Session, worker: st.Worker, what: str) -> UserError:
    """Why ``what`` cannot reach this worker, and what works instead."""
    if worker.runtime == "headless":
        return UserError(
            f"{worker.slug} runs headless: it reads no input while it runs, so it cannot be sent to or {what}. "
            f"Read it with `ecc-hooks session logs {session.name} --worker {worker.slug}`; once it finished, give "
            f"it more to do with `ecc-hooks session resume {session.name} --worker {worker.slug} --prompt TEXT`"
        )
    if worker.runtime == "claude-bg":
        where = f"`claude attach {worker.handle}`" if worker.handle else "`claude attach`"
        return UserError(
            f"{worker.slug} is a Claude Code background session: the runtime has no pane of it to type into, so "
            f"it cannot be sent to or {what} from here. Use {where}, or read it with "
            f"`ecc-hooks session logs {session.name} --worker {worker.slug}`"
        )
    return UserError(f"{worker.slug} has no running pane ({worker.state}): nothing to type into")


def _screen(session: st.Session, worker: st.Worker) -> Optional[str]:
    """The pane's screen as the supervisor captures it (so fingerprints compare), None when the pane is gone."""
    if not worker.pane:
        return None
    by_id = {p.id: p for p in launch.panes(session.name, session.tmux_socket) or []}
    pane = by_id.get(worker.pane)
    if pane is None or pane.dead:
        return None
    return launch.capture_many([worker.pane], session.tmux_socket).get(worker.pane)


def _agent(worker: st.Worker) -> Optional[agents.Agent]:
    """The agent the runtime launched itself (a ``launcherCommand`` is a script, whatever agent it names: its
    screen is not that agent's, so its keys are never pressed there)."""
    return agents.get(worker.agent) if worker.agent and worker.agent_launch else None


def _look(session: st.Session, worker: st.Worker, what: str) -> Look:
    if worker.runtime != "tmux":
        raise _no_pane(session, worker, what)
    screen = _screen(session, worker)
    if screen is None:
        raise _no_pane(session, worker, what)
    agent = _agent(worker)
    return Look(worker.slug, screen, agent.permission_prompt(screen) if agent else None)


def look(name: str, worker: str) -> Look:
    """The worker's screen now and its fingerprint (to show a person before they approve)."""
    store = st.Store(reading=True)
    session, row = _worker(store, name, worker)
    return _look(session, row, "answered")


def _check_seen(now: Look, seen: Optional[str]) -> None:
    if seen is not None and not now.shows(seen):
        raise UserError(
            f"{now.slug}'s screen changed since you looked (it shows {now.fingerprint}, you saw {seen}): nothing was "
            "pressed; look again"
        )


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL)
    return condition()


def shown_mark(text: str) -> str:
    """What of ``text`` shows in the input box once pasted: its first non-blank line's first 20 characters (a long
    paste shows as ``[Pasted text ...]`` instead)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:20]


def send(name: str, worker: str, text: str, seen: Optional[str] = None) -> str:
    """Type ``text`` into the worker's pane and press Enter once it shows there; what was done. Refused (UserError)
    for a worker with no pane, one whose screen changed since ``seen``, and one at a permission prompt. A trailing
    line break is dropped (Enter submits)."""
    text = text.rstrip("\r\n")
    if not text.strip():
        raise UserError("nothing to send (the text is empty)")
    if "\x00" in text:
        raise UserError("the text holds a NUL character")
    store = st.Store()
    with st.session_lock(name):
        session, row = _worker(store, name, worker)
        if row.runtime == "tmux" and row.state not in (*st.LIVE, "completed", "stale"):
            raise UserError(f"{row.slug} is {row.state}: nothing runs in its pane to type into")
        before = _look(session, row, "answered")
        _check_seen(before, seen)
        if before.prompt is not None:
            raise UserError(
                f"{row.slug} waits at a permission prompt ({before.prompt.replace(chr(10), ' / ')}): text typed there would "
                f"answer it. Approve or deny it first: `ecc-hooks session approve|deny {name} --worker {row.slug}`"
            )
        agent = _agent(row)
        dialog = agent.screen_wait(before.screen, dialogs_only=True) if agent else None
        if dialog is not None:  # the folder trust question, a new API key, auto mode's choice: no input box there
            raise UserError(
                f"{row.slug} waits at a dialog ({dialog}): text typed there would answer it. Answer it in its pane: "
                f"`ecc-hooks session attach {name} --worker {row.slug}`"
            )
        mark = shown_mark(text)
        count = before.screen.count(mark)
        pasted = before.screen.count("[Pasted text")
        pane = row.pane or ""
        if not launch.send_keys(pane, text, literal=True, socket=session.tmux_socket):
            raise UserError(f"tmux could not paste into {row.slug}'s pane")

        def shown() -> bool:
            screen = _screen(session, row) or ""
            return screen.count(mark) > count or screen.count("[Pasted text") > pasted

        if not _wait(shown, SHOW_WAIT):
            raise UserError(
                f"the text did not show on {row.slug}'s screen within {SHOW_WAIT:.0f} s: Enter was not pressed "
                f"(look with `ecc-hooks session attach {name} --worker {row.slug}`)"
            )
        launch.send_keys(pane, "Enter", socket=session.tmux_socket)
        store.update(row, heartbeat_at=time.time())
    return f"sent {len(text)} character(s) and Enter"


def answer(name: str, worker: str, approve: bool, seen: Optional[str] = None) -> str:
    """Approve (once) or deny the permission prompt the worker waits at, with its agent's own keys; what was
    answered. Refused (UserError) unless its screen shows that prompt now, and when it changed since ``seen``."""
    verb = "approved" if approve else "denied"
    store = st.Store()
    with st.session_lock(name):
        session, row = _worker(store, name, worker)
        now = _look(session, row, verb)
        _check_seen(now, seen)
        agent = _agent(row)
        keys = (agent.approve if approve else agent.deny) if agent else ()
        if not keys:
            raise UserError(
                f"{row.slug} runs {agent.name if agent else 'a script'}: its permission prompt's keys are not known "
                "to ecc-hooks, "
                f"so nothing is pressed blind; answer it yourself: `ecc-hooks session attach {name} --worker {row.slug}`"
            )
        if now.prompt is None:
            raise UserError(
                f"{row.slug} is not at a permission prompt ({row.state}"
                + (f": {row.reason}" if row.reason else "")
                + "): nothing was pressed"
            )
        for key in keys:
            launch.send_keys(row.pane or "", key, socket=session.tmux_socket)
        store.update(row, heartbeat_at=time.time())
        gone = _wait(lambda: (_screen(session, row) or "") != now.screen, ANSWER_WAIT)
    question = now.prompt.replace("\n", " / ")
    return f"{verb}: {question}" + ("" if gone else f" (its screen had not changed {ANSWER_WAIT:.0f} s later)")
