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

**Any Claude Code session in tmux**, not only a worker: ``pane_look``, ``pane_send`` and ``pane_answer`` find a plain
session's pane from its journal (the SessionStart hook recorded ``$TMUX`` and ``$TMUX_PANE``), check before using it
that the session did not end or give the pane to a later session, that the socket is this user's (``lstat``: no
link followed), that the pane lives and runs Claude Code; then the same code as a worker's types or presses
(``Target``: a worker's pane and a session's alike).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from ecc_hooks.core import terminal
from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime import agents, detect, launch
from ecc_hooks.runtime import store as st
from ecc_hooks.runtime.records import Refused

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


@dataclass(frozen=True)
class Target:
    """A tmux pane input goes to, whoever's it is (a runtime worker's, or a plain Claude Code session's): its
    server, the agent whose screen it shows (None: its keys are never pressed blind), and what the messages say."""

    label: str  # how a person names it: the worker's slug, or ``Claude Code session <id>``
    pane: str  # ``%N``
    socket: str  # the runtime's tmux socket name, or a server's absolute socket path (``launch.tmux_run``)
    agent: Optional[agents.Agent]
    gone: Callable[[], Exception]  # why nothing can be typed there when its pane is gone
    answer_hint: str  # the command that approves or denies it
    attach_hint: str  # where a person answers it in its pane


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


def _agent(worker: st.Worker) -> Optional[agents.Agent]:
    """The agent the runtime launched itself (a ``launcherCommand`` is a script, whatever agent it names: its
    screen is not that agent's, so its keys are never pressed there)."""
    return agents.get(worker.agent) if worker.agent and worker.agent_launch else None


def _worker_target(session: st.Session, worker: st.Worker, what: str) -> Target:
    if worker.runtime != "tmux" or not worker.pane:
        raise _no_pane(session, worker, what)
    return Target(
        worker.slug, worker.pane, session.tmux_socket, _agent(worker), lambda: _no_pane(session, worker, what),
        f"ecc-hooks session approve|deny {session.name} --worker {worker.slug}",
        f"ecc-hooks session attach {session.name} --worker {worker.slug}",
    )  # fmt: skip


def _screen(target: Target) -> Optional[str]:
    """The pane's screen as the supervisor captures it (so fingerprints compare), None when the pane is gone."""
    pane = launch.pane(target.pane, target.socket)
    if pane is None or pane.dead:
        return None
    return launch.capture_many([target.pane], target.socket).get(target.pane)


def _look(target: Target) -> Look:
    screen = _screen(target)
    if screen is None:
        raise target.gone()
    return Look(target.label, screen, target.agent.permission_prompt(screen) if target.agent else None)


def look(name: str, worker: str) -> Look:
    """The worker's screen now and its fingerprint (to show a person before they approve)."""
    store = st.Store(reading=True)
    session, row = _worker(store, name, worker)
    return _look(_worker_target(session, row, "answered"))


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


def _sendable(text: str) -> str:
    """``text`` without its trailing line break (Enter submits); UserError when there is nothing to send."""
    text = text.rstrip("\r\n")
    if not text.strip():
        raise UserError("nothing to send (the text is empty)")
    if "\x00" in text:
        raise UserError("the text holds a NUL character")
    return text


def _type(target: Target, text: str, seen: Optional[str]) -> None:
    """Paste ``text`` into the target's pane and press Enter once it shows; refused (UserError) when its screen
    changed since ``seen``, or shows a permission prompt or a dialog (text typed there would answer it)."""
    before = _look(target)
    _check_seen(before, seen)
    if before.prompt is not None:
        raise UserError(
            f"{target.label} waits at a permission prompt ({before.prompt.replace(chr(10), ' / ')}): text typed there "
            f"would answer it. Approve or deny it first: `{target.answer_hint}`"
        )
    dialog = target.agent.screen_wait(before.screen, dialogs_only=True) if target.agent else None
    if dialog is not None:  # the folder trust question, a new API key, auto mode's choice: no input box there
        raise UserError(
            f"{target.label} waits at a dialog ({dialog}): text typed there would answer it. Answer it in its pane: "
            f"`{target.attach_hint}`"
        )
    mark = shown_mark(text)
    count = before.screen.count(mark)
    pasted = before.screen.count("[Pasted text")
    if not launch.send_keys(target.pane, text, literal=True, socket=target.socket):
        raise UserError(f"tmux could not paste into {target.label}'s pane")

    def shown() -> bool:
        screen = _screen(target) or ""
        return screen.count(mark) > count or screen.count("[Pasted text") > pasted

    if not _wait(shown, SHOW_WAIT):
        raise UserError(
            f"the text did not show on {target.label}'s screen within {SHOW_WAIT:.0f} s: Enter was not pressed "
            f"(look with `{target.attach_hint}`)"
        )
    launch.send_keys(target.pane, "Enter", socket=target.socket)


def _press(target: Target, approve: bool, seen: Optional[str], why_not: Callable[[], str]) -> str:
    """Approve or deny the permission prompt the target's screen shows, with its agent's own keys; what was
    answered. Refused (UserError) unless its screen shows that prompt now (``why_not``: what it is instead), and
    when it changed since ``seen``."""
    verb = "approved" if approve else "denied"
    now = _look(target)
    _check_seen(now, seen)
    keys = (target.agent.approve if approve else target.agent.deny) if target.agent else ()
    if not keys:
        raise UserError(
            f"{target.label} runs {target.agent.name if target.agent else 'a script'}: its permission prompt's keys "
            f"are not known to ecc-hooks, so nothing is pressed blind; answer it yourself: `{target.attach_hint}`"
        )
    if now.prompt is None:
        raise UserError(f"{target.label} is not at a permission prompt ({why_not()}): nothing was pressed")
    for key in keys:
        launch.send_keys(target.pane, key, socket=target.socket)
    gone = _wait(lambda: (_screen(target) or "") != now.screen, ANSWER_WAIT)
    question = now.prompt.replace("\n", " / ")
    return f"{verb}: {question}" + ("" if gone else f" (its screen had not changed {ANSWER_WAIT:.0f} s later)")


def send(name: str, worker: str, text: str, seen: Optional[str] = None) -> str:
    """Type ``text`` into the worker's pane and press Enter once it shows there; what was done. Refused (UserError)
    for a worker with no pane, one whose screen changed since ``seen``, and one at a permission prompt. A trailing
    line break is dropped (Enter submits)."""
    text = _sendable(text)
    store = st.Store()
    with st.session_lock(name):
        session, row = _worker(store, name, worker)
        if row.runtime == "tmux" and row.state not in (*st.LIVE, "completed", "stale"):
            raise UserError(f"{row.slug} is {row.state}: nothing runs in its pane to type into")
        _type(_worker_target(session, row, "answered"), text, seen)
        store.update(row, heartbeat_at=time.time())
    return f"sent {len(text)} character(s) and Enter"


def answer(name: str, worker: str, approve: bool, seen: Optional[str] = None) -> str:
    """Approve (once) or deny the permission prompt the worker waits at, with its agent's own keys; what was
    answered. Refused (UserError) unless its screen shows that prompt now, and when it changed since ``seen``."""
    store = st.Store()
    with st.session_lock(name):
        session, row = _worker(store, name, worker)
        target = _worker_target(session, row, "approved" if approve else "denied")
        done = _press(target, approve, seen, lambda: row.state + (f": {row.reason}" if row.reason else ""))
        store.update(row, heartbeat_at=time.time())
    return done


# ---------------------------------------------------------------------------- a plain Claude Code session's pane


def _session_gone(claude_session: str, why: str) -> Refused:
    return Refused("not-found", f"Claude Code session {claude_session}: {why}; nothing was typed or pressed")


def _checked_socket(claude_session: str, socket: str) -> None:
    """The recorded server socket, before tmux is pointed at it: a socket (not a link to one) owned by this user."""
    problem = terminal.socket_problem(socket)
    if problem == "gone":
        raise _session_gone(claude_session, f"its tmux server is gone ({socket} does not exist)")
    if problem is not None:
        raise Refused(
            "unsafe",
            f"Claude Code session {claude_session}: {socket} is not a tmux socket of yours ({problem}): nothing was "
            "typed or pressed",
        )


def _session_target(claude_session: str) -> Target:
    """The pane a plain Claude Code session runs in (its journal's latest SessionStart), refused (``not-found``,
    ``unsafe``) unless it still does: the session did not end and no later session started there, the socket is
    this user's, the pane lives and a Claude Code process runs in it."""
    from ecc_hooks.hud import inputs

    where = inputs.session_terminal(claude_session)
    if where is None:
        raise _session_gone(
            claude_session,
            "no tmux pane is recorded for it (it started outside tmux, its hooks are not installed, or it started "
            "before ecc-hooks recorded panes)",
        )
    if where.ended:
        raise _session_gone(claude_session, f"it ended (its pane was {where.pane})")
    successor = inputs.pane_successor(where)
    if successor is not None:
        raise _session_gone(claude_session, f"its pane {where.pane} runs session {successor} now")
    _checked_socket(claude_session, where.socket)
    pane = launch.pane(where.pane, where.socket)
    if pane is None or pane.dead or pane.pid is None:
        raise _session_gone(claude_session, f"its pane {where.pane} is gone")
    claude = agents.get("claude")
    if not launch.runs_program(pane.pid, "claude"):
        raise _session_gone(claude_session, f"its pane {where.pane} no longer runs Claude Code")
    attach = f"tmux -S {where.socket} switch-client -t {where.pane}"
    return Target(
        f"Claude Code session {claude_session}", where.pane, where.socket, claude,
        lambda: _session_gone(claude_session, f"its pane {where.pane} is gone"),
        f"the HUD's approve or deny keys, or `{attach}`", f"`{attach}`",
    )  # fmt: skip


def _session_id(given: str) -> str:
    """The session a person named (its whole id or any unique prefix, as ``status`` shows it), else refused
    ``not-found`` with who matched: resolved before the lock, so two prefixes of one session share it."""
    from ecc_hooks.hud import inputs

    try:
        return inputs.resolve_session(given)
    except UserError as exc:
        raise Refused("not-found", str(exc)) from None


def pane_look(claude_session: str) -> Look:
    """A plain Claude Code session's screen now, the permission prompt it shows and their fingerprint."""
    return _look(_session_target(_session_id(claude_session)))


def pane_send(claude_session: str, text: str, seen: Optional[str] = None) -> str:
    """``send`` for a plain Claude Code session's pane: the same checks, the text from a tmux buffer."""
    text = _sendable(text)
    claude_session = _session_id(claude_session)
    with st.input_lock(claude_session):
        _type(_session_target(claude_session), text, seen)
    return f"sent {len(text)} character(s) and Enter"


def pane_answer(claude_session: str, approve: bool, seen: Optional[str] = None) -> str:
    """``answer`` for a plain Claude Code session's pane: pressed only while its screen shows Claude Code's
    permission prompt (and the one ``seen``, when given)."""
    claude_session = _session_id(claude_session)
    with st.input_lock(claude_session):
        return _press(_session_target(claude_session), approve, seen, lambda: "its screen shows none")
