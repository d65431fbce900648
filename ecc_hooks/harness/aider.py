"""Aider (0.86.2): no hooks; its analytics log and its notifications command, read as Claude Code's events.

What Aider gives:
- ``--analytics-log FILE`` (``AIDER_ANALYTICS_LOG``; written even with ``--no-analytics``): JSON lines
  ``{event, properties, user_id, time}``: ``launched``, ``message_send_starting`` (a model call begins),
  ``message_send{main_model, prompt_tokens, completion_tokens, cost, total_cost}`` (its reply is in),
  ``message_send_exception{exception}``, ``exit``. A model Aider cannot name publicly is ``openai/REDACTED``.
- ``--notifications --notifications-command CMD``: CMD runs through the shell, with no payload and no arguments of
  its own, once at the first prompt after a model call (the next chat prompt, or a question such as "Create new
  file?"); its stdin may be the terminal (never read). It does not run when Aider exits, nor when a call starts.

So one event per wait: the notification becomes a ``Stop`` when the last model call since the last
``message_send_starting`` logged its reply, a ``StopFailure`` when it logged an exception or nothing (Aider breaks
off without a word on an authentication error, an exhausted context window or an interrupt), and a ``Notification``
(``idle_prompt``) when the log shows no call. A question mid-turn cannot be told from the idle prompt. There are no
tool calls (edits are text blocks), no turn start event, no session end.

Session identity: Aider has none. The command we install carries ``--log FILE`` (the analytics log) and, for a
runtime worker, ``--session ID`` (the id the runtime chose; its log is private to the worker). A user's own Aider
(``~/.aider.conf.yml``) shares one log between all its runs: its session is the run that wrote the log's last
``launched`` line (``aider-<time>-<offset>``), so two Aider runs at once under one HOME are told apart only by which
launched last: their figures mix.

Top level: standard library only (the hook imports this module on every notification).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path
    from typing import Any

    from ecc_hooks.harness.context import InstallContext, WorkerCapture
    from ecc_hooks.sources.usage.tracker import SessionUsage

HARNESS = "aider"
LOG_ENV = "AIDER_ANALYTICS_LOG"
SESSION_FILE = "aider-session"  # a runtime worker's session id, in its private folder (kept for a resume)
USER_LOG = (".aider", "ecc-hooks-analytics.jsonl")  # below HOME: the log a user's install points Aider at
CONFIG = ".aider.conf.yml"  # below HOME
TAIL = 1 << 20  # bytes of the log read per notification (the rest only when no ``launched`` line is in them)
LOG_CAP = 64 << 20  # bytes of the log read at most
EVENTS = frozenset({"Stop", "StopFailure", "Notification"})  # what ``payload_from`` builds
UNNAMED = "/REDACTED"  # Aider's analytics name for a model it does not publish
NO_REPLY = "aider logged no reply (an API error, an exhausted context window or an interrupt)"


# ---------------------------------------------------------------------------- the analytics log


def parse_line(line: bytes) -> dict[str, Any] | None:
    """One analytics line as ``{event, properties, time}``, None when it is not one (torn, foreign, binary)."""
    import json

    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("event"), str):
        return None
    props = record.get("properties")
    when = record.get("time")
    return {
        "event": record["event"],
        "properties": props if isinstance(props, dict) else {},
        "time": when if isinstance(when, (int, float)) and not isinstance(when, bool) else None,
    }


def read_log(path: str, tail: int | None = TAIL, start: int | None = None) -> tuple[int, bytes]:
    """(offset of the first byte, bytes): the last ``tail`` bytes of the log (all of it up to ``LOG_CAP`` with
    None), or from ``start`` (a line's offset) on, cut to whole lines. OSError when it is missing or refused
    (``core.fsio``'s rules)."""
    from ecc_hooks.core import fsio

    fd = fsio.open_file(path, os.O_RDONLY)
    try:
        end = os.fstat(fd).st_size
        whole = start is not None and start <= end
        if start is None or start > end:
            start = max(end - (LOG_CAP if tail is None else tail), 0)
        end = min(end, start + LOG_CAP)
        chunks = []
        at = start
        while at < end:
            chunk = os.pread(fd, min(end - at, 1 << 20), at)
            if not chunk:
                break
            chunks.append(chunk)
            at += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if start > 0 and not whole:  # the first line is cut: dropped
        cut = data.find(b"\n") + 1
        start, data = start + cut, data[cut:] if cut else b""
    return start, data[: data.rfind(b"\n") + 1]  # a line still being written is not read


def lines(start: int, data: bytes) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(offset, parsed line or None) for each whole line."""
    at = start
    for raw in data.split(b"\n")[:-1]:
        yield at, parse_line(raw)
        at += len(raw) + 1


def run_id(offset: int, record: dict[str, Any]) -> str:
    """A user-run Aider's session id: the ``launched`` line that began it (its time and its offset in the log)."""
    when = record.get("time")
    return f"aider-{int(when) if when is not None else 0}-{offset}"


def last_run(start: int, data: bytes) -> tuple[str, int] | None:
    """(session id, offset) of the last ``launched`` line, None when there is none."""
    found = None
    for offset, record in lines(start, data):
        if record is not None and record["event"] == "launched":
            found = (run_id(offset, record), offset)
    return found


def outcome(records: list[dict[str, Any]]) -> tuple[str, str | None, str | None]:
    """(event, error, model) of the wait that follows these records: how the last model call ended."""
    started = None
    for i, record in enumerate(records):
        if record["event"] == "message_send_starting":
            started = i
    if started is None:
        return "Notification", None, None
    for record in records[started + 1 :]:
        props = record["properties"]
        if record["event"] == "message_send":
            return "Stop", None, model_name(props.get("main_model"))
        if record["event"] == "message_send_exception":
            error = props.get("exception")
            return "StopFailure", str(error) if error is not None else NO_REPLY, None
    return "StopFailure", NO_REPLY, None


def model_name(value: object) -> str | None:
    """The model Aider logged, None when it logged none or hid it (``openai/REDACTED``)."""
    if not isinstance(value, str) or not value or value.endswith(UNNAMED):
        return None
    return value


# ---------------------------------------------------------------------------- the notification


def our_args(argv: list[str]) -> dict[str, str]:
    """``--session ID`` and ``--log FILE`` from the command's own arguments (anything else is ignored)."""
    found: dict[str, str] = {}
    for i, arg in enumerate(argv[:-1]):
        if arg in ("--session", "--log") and argv[i + 1]:
            found[arg[2:]] = argv[i + 1]
    return found


def payload_from(argv: list[str], environ: Mapping[bytes, bytes]) -> dict[str, Any] | None:
    """The Claude-shaped payload of one notification (Aider waits for the user), from the command's arguments and
    the analytics log; None when no session can be named (no ``--session`` and no ``launched`` line)."""
    args = our_args(argv)
    log = args.get("log")
    if log is None and environ.get(LOG_ENV.encode()):
        log = os.fsdecode(environ[LOG_ENV.encode()])
    log = os.path.abspath(log) if log else None
    session = args.get("session")
    records: list[dict[str, Any]] = []
    if log is not None:
        try:
            start, data = read_log(log)
            if session is None and last_run(start, data) is None and start > 0:
                start, data = read_log(log, None)
        except OSError:
            start, data = 0, b""
        first = 0
        if session is None:
            run = last_run(start, data)
            if run is not None:
                session, first = run
        records = [r for at, r in lines(start, data) if r is not None and at >= first]
    if session is None:
        return None
    event, error, model = outcome(records)
    payload: dict[str, Any] = {"hook_event_name": event, "session_id": session, "cwd": os.getcwd()}
    if log is not None:
        payload["transcript_path"] = log
    if model:
        payload["model"] = model
    if event == "StopFailure":
        payload["error"] = error
    elif event == "Notification":
        payload.update(notification_type="idle_prompt", message="aider is waiting for your input")
    return payload


def to_claude(payload: object) -> dict[str, Any] | None:
    """``payload_from``'s payload is Claude-shaped already: kept when it is one of ours, else dropped."""
    if not isinstance(payload, dict):
        return None
    if payload.get("hook_event_name") not in EVENTS or not isinstance(payload.get("session_id"), str):
        return None
    return payload


# ---------------------------------------------------------------------------- usage


def read_usage(session_id: str, transcript_path: str | None, env: Mapping[str, str]) -> SessionUsage | None:
    """Tokens and cost from the analytics log's ``message_send`` lines: the whole log of a worker (its own), the
    lines of one run for a user's session id (``aider-<time>-<offset>``). Tokens are Aider's: the server's usage
    when it sends one, else (streaming: Aider asks for none) its own count of the prompt and reply. Cost is Aider's
    own per reply; Aider logs 0 for a model it has no price for (and prints no "Cost:"), so 0 is unknown, not
    free. No context window: Aider records none (the last prompt's size is kept)."""
    from decimal import Decimal, InvalidOperation

    from ecc_hooks.harness.usage import Message, build_usage

    log = transcript_path or env.get(LOG_ENV)
    if not log:
        return None
    parsed = run_lines(log, session_id)
    messages = []
    for _, record in parsed:
        if record is None or record["event"] != "message_send":
            continue
        props = record["properties"]
        try:
            cost = Decimal(str(props.get("cost")))
        except (InvalidOperation, ValueError):
            cost = Decimal(0)
        messages.append(
            Message(
                model=model_name(props.get("main_model")) or "",
                input=count(props.get("prompt_tokens")),
                output=count(props.get("completion_tokens")),
                reported_usd=cost if cost.is_finite() and cost > 0 else None,
                at=record["time"],
            )
        )
    context = messages[-1].input if messages else None
    malformed = sum(1 for _, r in parsed if r is None)
    return build_usage(session_id, log, messages, context_tokens=context, lines=len(parsed), malformed_lines=malformed)


def run_lines(log: str, session_id: str) -> list[tuple[int, dict[str, Any] | None]]:
    """The log's lines of one session: a user's run (``aider-<time>-<offset>``: read from its ``launched`` line
    to the next one, not the whole shared log), else every line (a worker's log is its own)."""
    parts = session_id.split("-")
    if len(parts) == 3 and parts[0] == "aider" and all(p.isascii() and p.isdigit() for p in parts[1:]):
        start, data = read_log(log, None, int(parts[2]))
        parsed = list(lines(start, data))
        first = parsed[0][1] if parsed else None
        if first is not None and first["event"] == "launched" and run_id(start, first) == session_id:
            later = (i for i, (_, r) in enumerate(parsed) if i and r is not None and r["event"] == "launched")
            return parsed[: next(later, len(parsed))]
    start, data = read_log(log, None)
    return list(lines(start, data))


def count(value: object) -> int:
    """A token count as logged; anything else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


# ---------------------------------------------------------------------------- the runtime's workers


def notification_command(hook_argv: list[str], log: str, session: str | None = None) -> str:
    """The shell command Aider runs at each wait: our hook with the log (and the session) it reads."""
    import shlex

    from ecc_hooks.core.hookspec import MARKER

    extra = ["--session", session] if session else []
    return f"{shlex.join([*hook_argv, *extra, '--log', log])} {MARKER}"


def worker_capture(hook_argv: list[str], private_dir: Path, session_id: str | None) -> WorkerCapture:
    """A worker's capture through its environment (Aider reads ``AIDER_*`` over its config files): the
    notifications command naming the session and the session's own analytics log in ``private_dir``. The session:
    ``session_id`` when the runtime offers one (a fresh launch), else (a resume: Aider continues its chat with
    ``--restore-chat-history``) the one this worker's last launch had, kept in ``private_dir``; so a resumed worker's
    events, tokens and cost continue its session's, and a fresh launch starts its own."""
    from ecc_hooks.harness.context import WorkerCapture

    session = worker_session(private_dir, session_id)
    log = str(private_dir / worker_log(session))
    env = {
        LOG_ENV: log,
        "AIDER_NOTIFICATIONS": "true",
        "AIDER_NOTIFICATIONS_COMMAND": notification_command(hook_argv, log, session),
    }
    return WorkerCapture(env=env, args=[], session_id=session)


def exit_payload(private_dir: Path, session_id: str) -> dict[str, Any] | None:
    """The last event of a worker whose Aider exited without waiting (a headless ``--message`` run never waits, so
    its notifications command never runs): how its last model call ended, read from its own log as a notification
    would (``payload_from``): a Stop or a StopFailure; None when it made no call (its exit status says the rest)."""
    log = str(private_dir / worker_log(session_id))
    payload = payload_from(["--session", session_id, "--log", log], {})
    return payload if payload is not None and payload["hook_event_name"] != "Notification" else None


def worker_log(session: str) -> str:
    """The analytics log's name of one worker session (its id made a safe file name)."""
    from ecc_hooks.core import paths

    return f"aider-analytics-{paths.sanitize_session_id(session)}.jsonl"


def worker_session(private_dir: Path, offered: str | None) -> str:
    """The session a launch gets: the offered id, else the last one kept in ``private_dir``, else a new one;
    kept for the next resume (0600)."""
    import uuid

    from ecc_hooks.core import fsio, paths

    kept = private_dir / SESSION_FILE
    session = offered
    if session is None:
        try:
            session = paths.sanitize_session_id(fsio.read_file(str(kept), 4096).decode("utf-8").strip())
        except (OSError, UnicodeDecodeError):
            session = None
    session = session or f"aider-{uuid.uuid4()}"
    fsio.atomic_write(str(kept), session.encode() + b"\n")
    return session


# ---------------------------------------------------------------------------- install (~/.aider.conf.yml)

BEGIN = (
    "# >>> ecc-hooks: added by `ecc-hooks install --harness aider`, removed by `ecc-hooks uninstall --harness aider`"
)
END = "# <<< ecc-hooks"
REPLACED = "# ecc-hooks replaced: "  # a line of the user's we set aside with --force (put back by uninstall)
KEYS = ("analytics-log", "notifications", "notifications-command")
TRUE = frozenset({"true", "yes", "on"})


def yaml_quote(text: str) -> str:
    """A YAML single-quoted scalar (its only escape: ``''``)."""
    return "'" + text.replace("'", "''") + "'"


def yaml_value(text: str) -> str:
    """A plain or quoted one-line YAML scalar's text (a trailing comment dropped from a plain one)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text.split(" #", 1)[0].strip()


def top_key(line: str) -> str | None:
    """The key of a top-level ``key: value`` line, None for anything else."""
    if not line or line[0] in " \t#-" or ":" not in line:
        return None
    return line.split(":", 1)[0].strip().strip("'\"")


KEY = r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]*|'(?:[^']|'')*'|\"(?:[^\"\\\\]|\\\\.)*\")"
COMMENT = r"(?:[ \t]+#.*)?[ \t]*\r?"  # a trailing comment (after a blank), trailing blanks
SINGLE = r"'(?:[^']|'')*'"
DOUBLE = r'"(?:[^"\\]|\\.)*"'
# a plain scalar: no indicator first, no ": " or " #" in it (a mapping, a comment), no flow characters, no tab
PLAIN = r"[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:[^:#\[\]{}\t]|:(?=\S)|(?<=\S)#)*?"
ITEMS = f"(?:{PLAIN}|{SINGLE}|{DOUBLE})"
FLOW_LIST = rf"\[[ ]*(?:{ITEMS}[ ]*(?:,[ ]*{ITEMS}[ ]*)*)?\]"
SCALAR = f"(?:{SINGLE}|{DOUBLE}|{FLOW_LIST}|{PLAIN})"
SETTING = rf"{KEY}:(?P<value>[ \t]+{SCALAR})?{COMMENT}"
ITEM = rf"[ ]+- {SCALAR}{COMMENT}"  # a block list's item, below a key with no value
NOTE = r"[ \t]*(?:#.*)?\r?"  # a blank line or a comment


def unsafe_line(lines: list[str]) -> tuple[int, str] | None:
    """(line number, line) of the first line that is not one of a flat mapping of one-line settings (a blank, a
    comment, ``key: value`` with a plain, quoted or one-line list value, a block list's items below a ``key:``), None
    when there is none: a file we can read each setting of and add ours to without changing what YAML reads in it
    (after an unclosed ``[``, a nested mapping or a multi-line value our lines would be part of it, or an error)."""
    import re

    items_may_follow = False  # the last setting had no value: a block list's items may follow
    for number, line in enumerate(lines, 1):
        line = line[len(REPLACED) :] if line.startswith(REPLACED) else line  # a setting of theirs we set aside
        if re.fullmatch(NOTE, line) or (items_may_follow and re.fullmatch(ITEM, line)):
            continue
        setting = re.fullmatch(SETTING, line)
        if setting is None:
            return number, line
        items_may_follow = setting.group("value") is None
    return None


class Config:
    """``~/.aider.conf.yml`` as lines: the user's, our block, the lines we set aside. Only a flat mapping of
    top-level keys is edited (Aider's config is one); anything else is refused, nothing written."""

    def __init__(self, path: Path) -> None:
        from ecc_hooks.core.errors import UserError

        self.path = path
        try:
            text = path.read_bytes().decode("utf-8") if path.exists() else ""  # line ends as they are
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
        self.text = text
        # split on newlines only (``splitlines`` would also split on form feeds and the like inside values)
        self.lines = (text[:-1] if text.endswith("\n") else text).split("\n") if text else []
        if self.lines.count(BEGIN) != self.lines.count(END) or self.lines.count(BEGIN) > 1:
            raise UserError(f"{path}: our marked block is damaged (a begin or end line is missing): fix it by hand")
        bad = unsafe_line(self.user_lines())
        if bad is not None:
            raise UserError(
                f"{path}: line {bad[0]} is not a flat YAML `key: value` setting we can edit safely ({bad[1]!r}); "
                "fix it, or add Aider's settings by hand (nothing was changed)"
            )

    def user_lines(self) -> list[str]:
        if BEGIN not in self.lines:
            return list(self.lines)
        i, j = self.lines.index(BEGIN), self.lines.index(END)
        return self.lines[:i] + self.lines[j + 1 :]

    def users(self, key: str) -> str | None:
        """The user's own value of a key (outside our block), None when unset."""
        found = None
        for line in self.user_lines():
            if top_key(line) == key:
                found = yaml_value(line.split(":", 1)[1])
        return found


def install(ctx: InstallContext) -> list[str]:
    """Point Aider's analytics log and notifications command at us in ``~/.aider.conf.yml`` (a marked block; the
    user's own analytics log is used where it is set; their own notifications settings replaced only with
    ``--force``, set aside as comments that ``uninstall`` restores)."""
    from ecc_hooks.core.errors import UserError

    path = ctx.home / CONFIG
    config = Config(path)
    theirs = {key: config.users(key) for key in KEYS}
    replace = []
    if theirs["notifications-command"] is not None:
        replace.append("notifications-command")
    if theirs["notifications"] is not None and theirs["notifications"].lower() not in TRUE:
        replace.append("notifications")
    if replace and not ctx.force:
        raise UserError(
            f"{path} sets {' and '.join(replace)} of your own; ecc-hooks needs them to follow Aider: "
            "run again with --force to set yours aside (uninstall puts them back)"
        )
    log = theirs["analytics-log"] or str(ctx.home.joinpath(*USER_LOG))
    block = [BEGIN]
    if theirs["analytics-log"] is None:
        block.append(f"analytics-log: {yaml_quote(log)}")
    if theirs["notifications"] is None or "notifications" in replace:
        block.append("notifications: true")
    block += [f"notifications-command: {yaml_quote(notification_command(ctx.hook_argv, log))}", END]
    kept = [REPLACED + line if top_key(line) in replace else line for line in config.user_lines()]
    new = "\n".join([*kept, *block]) + "\n"
    said = [f"Aider's notifications run our hook; its analytics log: {log}"]
    said += [f"set aside your {key} (uninstall puts it back)" for key in replace]
    if new == config.text:
        return [f"already installed in {path}"]
    if ctx.dry_run:
        return [f"would write {path}", *said]
    _write(ctx, path, new)
    if theirs["analytics-log"] is None:
        os.makedirs(os.path.dirname(log), 0o700, exist_ok=True)  # Aider does not create the log's folder
    return [f"wrote {path}", *said]


def uninstall(ctx: InstallContext) -> list[str]:
    """Remove our block from ``~/.aider.conf.yml`` and put back what ``install --force`` set aside."""
    path = ctx.home / CONFIG
    if not path.exists():
        return [f"nothing to remove: no {path}"]
    config = Config(path)
    if BEGIN not in config.lines and not any(line.startswith(REPLACED) for line in config.lines):
        return [f"nothing to remove in {path}"]
    kept = [line[len(REPLACED) :] if line.startswith(REPLACED) else line for line in config.user_lines()]
    if ctx.dry_run:
        return [f"would remove our settings from {path}"]
    if not kept:  # install made the file: it goes
        ctx.backup(str(path))
        os.unlink(os.path.realpath(path))
        return [f"removed {path} (it held only our settings)"]
    new = "\n".join(kept) + "\n"
    _write(ctx, path, new)
    return [f"removed our settings from {path}"]


def _write(ctx: InstallContext, path: Path, text: str) -> None:
    """The config written (``context.write_config``), its old content backed up first."""
    from ecc_hooks.harness.context import write_config

    if path.exists():
        ctx.backup(str(path))
    write_config(str(path), text.encode("utf-8"))
