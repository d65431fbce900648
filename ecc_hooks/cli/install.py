"""``ecc-hooks install | uninstall | doctor``: put ecc-hooks into a Claude Code settings file, take it out, check it.

The settings file belongs to the user: every other key and every foreign hook is kept, the file is
backed up before it changes and replaced atomically, and a file we cannot parse is refused untouched.
Claude Code validates settings, so our entries carry no extra keys. An entry is ours only when its command
is exactly one this installation writes now or wrote before (recorded in ``$ECC_HOOKS_HOME/installed.json``,
a file no repository can write): a settings file in a cloned repository cannot make ``doctor`` run its
command, ``uninstall`` delete the user's own entry or ``install`` replace a statusLine by ending a command
with our ``# ecc-hooks`` comment. Marked commands we did not write are reported, never run or removed.

``python -m ecc_hooks.install`` prints the plugin's ``hooks/hooks.json`` (generated from ``EVENTS``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ecc_hooks.core import endpoint, fsio, paths, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.fsio import atomic_write
from ecc_hooks.core.hookspec import (  # the hook settings the runtime gives its workers too (re-exported)
    EVENT_NAMES,
    EVENTS,
    HOOK_MODULE,
    HOOK_TIMEOUT,
    HTTP_EVENTS,
    MARKER,
    hooks_section,
    python_command,
)
from ecc_hooks.core.hookspec import (
    HTTP_TIMEOUT as HTTP_TIMEOUT,
)
from ecc_hooks.core.hookspec import (
    hook_entry as hook_entry,
)
from ecc_hooks.core.hookspec import (
    http_entry as http_entry,
)
from ecc_hooks.core.hookspec import (
    python_argv as python_argv,
)
from ecc_hooks.core.text import clean, clean_block
from ecc_hooks.harness import HARNESSES

STATUSLINE_MODULE = "ecc_hooks.statusline.client"  # asks the watcher to render, else renders itself
GIT_TIMEOUT = 10.0  # seconds for finding the project's git toplevel (a CLI the user waits on, not a HUD)
STATUSLINE_REFRESH = 5
PLUGIN_COMMAND = '"${CLAUDE_PLUGIN_ROOT}/hooks/ecc-hook"'  # quoted: the plugin root may contain spaces
PLUGIN_DESCRIPTION = "ecc-hooks: record every Claude Code hook event into a per-session journal for the HUD"
SCOPES = ("user", "project", "local")
NEW_FILE_MODE = 0o644  # what Claude Code itself gives a new settings file (before umask)

TRANSPORTS = ("http", "command")
_OUR_URL = re.compile(r"http://127\.0\.0\.1:[0-9]{1,5}/ecc-hooks/v1/event")


# ---------------------------------------------------------------------------- what we write


def is_our_url(url: object) -> bool:
    """True for the URL of an HTTP hook we wrote (any port: the endpoint may have moved)."""
    return isinstance(url, str) and _OUR_URL.fullmatch(url) is not None


def is_our_handler(handler: object, known: set[str] | None = None) -> bool:
    """A handler we wrote: one of our commands, or an HTTP hook to our endpoint."""
    if not isinstance(handler, dict):
        return False
    if handler.get("type") == "http":
        return is_our_url(handler.get("url"))
    return is_ours(handler.get("command"), known)


def statusline_entry(command: str) -> dict[str, Any]:
    """The ``statusLine`` value we install."""
    return {"type": "command", "command": command, "padding": 0, "refreshInterval": STATUSLINE_REFRESH}


def plugin_hooks_document() -> dict[str, Any]:
    """The plugin's ``hooks/hooks.json`` (same events as the installer, command through the shim)."""
    return {"description": PLUGIN_DESCRIPTION, "hooks": hooks_section(PLUGIN_COMMAND)}


def render_json(document: object) -> bytes:
    """Settings-file formatting: two-space indent, UTF-8 kept as is, trailing newline; never anything but JSON
    (``allow_nan=False``; a ``RawNumber`` goes back as the literal it was read as)."""
    nonce = os.urandom(8).hex()
    raws: list[str] = []

    def placeholder(value: object) -> str:
        if not isinstance(value, RawNumber):
            raise TypeError(f"{type(value).__name__} is not JSON")
        raws.append(value.text)
        return f"\0{nonce}:{len(raws) - 1}"

    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False, default=placeholder)
    for index, literal in enumerate(raws):
        text = text.replace(f'"\\u0000{nonce}:{index}"', literal, 1)
    return (text + "\n").encode("utf-8")


# Module paths earlier versions wrote into settings (before the layered package): the exact commands they
# wrote with this interpreter and this package are ours too, so install rewrites them and doctor flags them.
LEGACY_MODULES = ("ecc_hooks.hook", "ecc_hooks.capture.hook", "ecc_hooks.statusline", "ecc_hooks.statusline.render")


def current_commands() -> set[str]:
    """The commands this version writes."""
    return {python_command(HOOK_MODULE), python_command(STATUSLINE_MODULE)}


def known_commands() -> set[str]:
    """Every command this installation writes now, wrote before with this interpreter (the legacy module paths),
    or recorded having written (``installed.json``)."""
    known = current_commands() | {python_command(module) for module in LEGACY_MODULES}
    try:
        record = json.loads(fsio.read_file(paths.install_record_path(), 1 << 22))
        known.update(c for c in record.get("commands", []) if isinstance(c, str))
    except (OSError, ValueError, AttributeError):
        pass
    return known


def _record() -> dict[str, Any]:
    """``installed.json`` as it is (empty when missing or unreadable)."""
    try:
        record = json.loads(fsio.read_file(paths.install_record_path(), 1 << 22))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_record(record: dict[str, Any]) -> None:
    fsio.atomic_write(paths.install_record_path(), (json.dumps(record, indent=2) + "\n").encode())


def remember_commands(
    commands: set[str], replaced: tuple[str, object] | None = None, created: str | None = None
) -> None:
    """Add ``commands`` to ``installed.json`` (so a later install or uninstall still knows them as ours), and the
    statusLine ``install --force`` replaced in a settings file (``(path, value)``: uninstall puts it back)."""
    known = known_commands() - current_commands()
    record = _record()
    record.update({"schema": "ecc.installed.v1", "commands": sorted(known | commands)})
    if replaced is not None:
        saved = record.get("replacedStatusLines")
        saved = saved if isinstance(saved, dict) else {}
        saved[replaced[0]] = replaced[1]
        record["replacedStatusLines"] = saved
    if created is not None:
        made = record.get("createdFiles")
        made = [p for p in made if isinstance(p, str)] if isinstance(made, list) else []
        record["createdFiles"] = sorted(set(made) | {created})
    _write_record(record)


def created_by_install(path: str) -> bool:
    """``install`` created the settings file ``path`` (it did not exist before)."""
    made = _record().get("createdFiles")
    return isinstance(made, list) and path in made


def remember_created(path: str, made: bool = True) -> None:
    """Record (``made``) or forget in ``installed.json`` that an install created the file ``path``."""
    record = _record()
    found = record.get("createdFiles")
    known = {p for p in found if isinstance(p, str)} if isinstance(found, list) else set()
    record["createdFiles"] = sorted(known | {path} if made else known - {path})
    _write_record(record)


def replaced_statusline(path: str) -> object:
    """The statusLine ``install --force`` replaced in ``path`` (None: none recorded)."""
    saved = _record().get("replacedStatusLines")
    return saved.get(path) if isinstance(saved, dict) else None


def forget_replaced(path: str) -> None:
    record = _record()
    saved = record.get("replacedStatusLines")
    if isinstance(saved, dict) and path in saved:
        del saved[path]
        _write_record(record)


def is_ours(command: object, known: set[str] | None = None) -> bool:
    """True for a command string this installation wrote (exact equality; see the module docstring)."""
    return isinstance(command, str) and command in (known if known is not None else known_commands())


def is_marked(command: object) -> bool:
    """True for a command that carries our marker comment, ours or not (reported by doctor)."""
    return isinstance(command, str) and command.rstrip().endswith(MARKER)


# ---------------------------------------------------------------------------- where


def project_dir() -> str:
    """The project: ``$CLAUDE_PROJECT_DIR``, else the git toplevel of cwd, else cwd."""
    configured = os.environ.get("CLAUDE_PROJECT_DIR")
    if configured:
        return os.path.abspath(configured)
    from ecc_hooks.sources import git as gitstate  # GitPython: only the project scopes need it

    cwd = os.getcwd()
    return gitstate.toplevel(cwd, timeout=GIT_TIMEOUT) or cwd


def settings_path(scope: str, settings_file: str | None = None) -> str:
    """The settings file a scope names (``--settings-file`` wins), absolute."""
    if settings_file:
        return os.path.abspath(os.path.expanduser(settings_file))
    if scope == "user":
        return os.path.join(paths.claude_config_dir(), "settings.json")
    name = "settings.json" if scope == "project" else "settings.local.json"
    return os.path.join(project_dir(), ".claude", name)


# ---------------------------------------------------------------------------- reading and writing


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class RawNumber:
    """A JSON number a double cannot hold (``1e999``), kept as its literal so it is written back unchanged:
    Python would read it as ``inf`` and write ``Infinity``, which is not JSON (Claude Code would fail to parse)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __deepcopy__(self, memo: dict) -> RawNumber:
        return self


def _parse_float(text: str) -> float | RawNumber:
    value = float(text)
    return value if value - value == 0 else RawNumber(text)  # inf - inf is nan


def parse_settings(data: bytes, path: str) -> dict[str, Any]:
    """The settings object in ``data`` (empty means ``{}``); UserError when it is not a JSON object."""
    if not data.strip():
        return {}
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_reject_constant, parse_float=_parse_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UserError(
            f"{path} is not valid JSON ({exc}); fix it or move it aside, then run again (the file was not changed)"
        ) from None
    if not isinstance(document, dict):
        raise UserError(
            f"{path} holds a JSON {type(document).__name__}, not an object; Claude Code settings "
            "must be a JSON object; fix it or move it aside (the file was not changed)"
        )
    return document


def read_settings(path: str) -> tuple[dict[str, Any], bytes | None]:
    """The parsed settings and the file's bytes (None when the file does not exist)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return {}, None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; point --settings-file at a file") from None
    except PermissionError:
        raise UserError(f"cannot read {path} (permission denied); run as its owner or fix its mode") from None
    return parse_settings(data, path), data


def _backup(path: str, st: os.stat_result) -> str:
    """Copy ``path`` to a fresh ``<path>.ecc-hooks-<UTC stamp>.bak`` with the same mode; return its name."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for attempt in range(100):
        backup = f"{path}.ecc-hooks-{stamp}{'' if attempt == 0 else f'-{attempt}'}.bak"
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, st.st_mode & 0o777)
        except FileExistsError:
            continue  # never overwrite an older backup: it may hold the user's only copy
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out)
            os.fchmod(out.fileno(), st.st_mode & 0o777)
        return backup
    raise UserError(f"too many backups of {path} this second; remove some *.ecc-hooks-*.bak files")


def write_settings(path: str, data: bytes, backup_first: bool = True) -> str | None:
    """Back up the current file (if any; not for the watcher's own transport switch, which changes only our
    handlers, again and again), then replace it atomically keeping mode and owner; return the backup."""
    real = os.path.realpath(path)  # a symlinked settings file (dotfile managers) keeps its link
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    try:
        os.makedirs(os.path.dirname(real), exist_ok=True)
        backup = _backup(real, st) if st is not None and backup_first else None
        mode = (st.st_mode & 0o777) if st is not None else (NEW_FILE_MODE & ~_umask())
        atomic_write(real, data, mode)
        if (os.stat(real).st_mode & 0o777) != mode:
            os.chmod(real, mode)  # the temp file was created through the umask; restore the exact mode
        if st is not None and os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
            os.chown(real, st.st_uid, st.st_gid)  # root editing a user's file must not take it over
    except PermissionError as exc:
        raise UserError(f"cannot write {real} ({exc.strerror}); run as its owner or fix its mode") from None
    return backup


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# ---------------------------------------------------------------------------- the merge (pure)


def _hooks_of(settings: dict[str, Any], path: str) -> dict[str, Any] | None:
    hooks = settings.get("hooks")
    if hooks is None:
        return None
    if not isinstance(hooks, dict):
        raise UserError(f'"hooks" in {path} is not an object; fix it by hand (the file was not changed)')
    return hooks


def _strip_ours(hooks: dict[str, Any], path: str, known: set[str]) -> set[str]:
    """Remove our handlers everywhere; drop groups we emptied; return the events whose list we emptied."""
    emptied: set[str] = set()
    for event, groups in list(hooks.items()):
        if not isinstance(groups, list):
            if event in EVENT_NAMES:
                raise UserError(f'"hooks.{event}" in {path} is not a list; fix it by hand (the file was not changed)')
            continue  # something foreign we do not understand: not ours to touch
        kept_groups = []
        touched = False
        for group in groups:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(handlers, list):
                kept_groups.append(group)
                continue
            kept = [h for h in handlers if not is_our_handler(h, known)]
            if len(kept) == len(handlers):
                kept_groups.append(group)
                continue
            touched = True
            if kept:  # a foreign handler shares the group: keep the group with it
                group["hooks"] = kept
                kept_groups.append(group)
        if touched:
            hooks[event] = kept_groups
            if not kept_groups:
                emptied.add(event)
    return emptied


def installed(
    settings: dict[str, Any],
    path: str,
    *,
    statusline: bool,
    force: bool,
    known: set[str] | None = None,
    http: endpoint.Endpoint | None = None,
) -> dict[str, Any]:
    """A copy of ``settings`` with our hooks (and status line) in place; everything foreign kept. ``http``:
    the tool events as HTTP hooks to that endpoint (the http transport)."""
    known = known_commands() if known is None else known
    result = copy.deepcopy(settings)
    hooks = _hooks_of(result, path)
    if hooks is None:
        hooks = result["hooks"] = {}
    emptied = _strip_ours(hooks, path, known)
    for event, groups in hooks_section(python_command(HOOK_MODULE), http).items():
        hooks.setdefault(event, []).extend(groups)
    for event in emptied - set(EVENT_NAMES):
        del hooks[event]  # an event an older version registered and this one no longer does
    if statusline:
        current = result.get("statusLine")
        if (
            current is not None
            and not (isinstance(current, dict) and is_ours(current.get("command"), known))
            and not force
        ):
            shown = current.get("command") if isinstance(current, dict) else current
            raise UserError(
                f"{path} already has a statusLine of its own ({shown!r}); keep it with "
                "--no-statusline, or replace it with --force (the old one stays in the backup)"
            )
        result["statusLine"] = statusline_entry(python_command(STATUSLINE_MODULE))
    return result


def uninstalled(settings: dict[str, Any], path: str, known: set[str] | None = None) -> dict[str, Any]:
    """A copy of ``settings`` without our entries, dropping the groups, lists and section we emptied."""
    known = known_commands() if known is None else known
    result = copy.deepcopy(settings)
    hooks = _hooks_of(result, path)
    if hooks is not None:
        had = len(hooks)
        for event in _strip_ours(hooks, path, known):
            del hooks[event]
        if had and not hooks:
            del result["hooks"]
    current = result.get("statusLine")
    if isinstance(current, dict) and is_ours(current.get("command"), known):
        previous = replaced_statusline(path)
        if previous is not None:
            result["statusLine"] = previous  # the one install --force replaced
        else:
            del result["statusLine"]
    return result


# ---------------------------------------------------------------------------- install / uninstall


AGENT_NAMES = ("claude", *HARNESSES)  # Claude Code's settings, then the other agents' (``harness``)


def harness_list(text: str) -> list[str]:
    """``--harness``'s comma-separated agents, each once, in the order given; a name we do not know: an error."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in AGENT_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown agent {', '.join(unknown) or '(none)'}: choose from {', '.join(AGENT_NAMES)}"
        )
    return list(dict.fromkeys(names))


def _apply_harness(args: argparse.Namespace, name: str, agent: str) -> int:
    """``install``/``uninstall`` for another agent: its module edits the agent's own configuration."""
    from pathlib import Path

    from ecc_hooks import harness

    def backup(target: str) -> str | None:
        try:
            return _backup(target, os.stat(target))
        except FileNotFoundError:
            return None

    ctx = harness.InstallContext(
        home=Path(os.path.expanduser("~")),
        hook_argv=harness.hook_argv(agent),
        consent=bool(getattr(args, "trust", False)),
        dry_run=bool(args.dry_run),
        force=bool(getattr(args, "force", False)),
        backup=backup,
        created=remember_created,
        was_created=created_by_install,
    )
    module = harness.module(agent)
    lines = module.install(ctx) if name == "install" else module.uninstall(ctx)
    for line in lines:
        print(f"ecc-hooks: {agent}: {line}")
    return 0


def _apply(args: argparse.Namespace, name: str) -> int:
    agents = getattr(args, "harness", None) or ["claude"]
    status = 0
    for agent in agents:
        status = max(status, _apply_claude(args, name) if agent == "claude" else _apply_harness(args, name, agent))
    return status


def _apply_claude(args: argparse.Namespace, name: str) -> int:
    path = settings_path(args.scope, args.settings_file)
    if name == "uninstall":
        purge_blockers(args)
    settings, original = read_settings(path)
    if name == "install" and transport_of(args) == "http" and args.scope == "project" and not args.settings_file:
        raise UserError(
            "--transport http would put the endpoint's token into the project's committed settings; use "
            "--scope local (or user) for the http transport"
        )
    http = None
    renewed = None  # the port another user held, left for a fresh one
    watcher = name == "install" and getattr(args, "watcher", False)  # the watcher's own switch (endpoint.park)
    if watcher and transport_of(args) == "http":
        config = endpoint.load()
        if os.path.abspath(path) not in endpoint.parked_files() or config is None:
            print(f"ecc-hooks: {path} is not parked: left as it is")  # uninstalled or reinstalled meanwhile
            return 0
        if endpoint.listener_uid(config) != os.getuid():
            raise UserError(f"127.0.0.1:{config.port} is not held by this user's watcher: {path} keeps command hooks")
    if name == "install" and transport_of(args) == "http":
        # a dry run writes nothing: it shows the endpoint there is, or a placeholder for the one install makes
        if args.dry_run:
            http = endpoint.load() or endpoint.Endpoint(0, "<generated by install>")
        else:
            http = endpoint.ensure()
            owner = endpoint.listener_uid(http)
            if owner is not None and owner != os.getuid():  # someone else holds it now: never post there
                renewed, http = http.port, endpoint.ensure(renew=True)
    if not args.dry_run and os.path.lexists(paths.endpoint_path()):
        parked = watcher and http is None  # the watcher stops: command hooks until the next one holds the port
        endpoint.remember_settings(os.path.abspath(path), http is not None, parked)  # whom fall_back rewrites
    if name == "install" and not args.dry_run and not watcher:
        endpoint.clear_taken()  # the user is told below which transport this file has and why
    if name == "install":
        result = installed(settings, path, statusline=not args.no_statusline, force=args.force, http=http)
    else:
        if original is None:
            print(f"ecc-hooks: {path} does not exist; nothing to remove")
            if not args.dry_run:
                _say_what_stays(path, None, args)
            return 0
        result = uninstalled(settings, path)
    data = render_json(result)
    if original is not None and result == settings:
        # Nothing of ours to change: leave the bytes (and the user's formatting) alone.
        print(f"ecc-hooks: {path} already {'up to date' if name == 'install' else 'has no ecc-hooks entries'}")
        if name == "install":
            print(f"  {transport_reason(args, http)}")
        if name == "uninstall" and not args.dry_run:
            _say_what_stays(path, None, args)
        return 0
    if args.dry_run:
        verb = "create" if original is None else "replace"
        print(f"ecc-hooks: --dry-run: would {verb} {path} with:")
        from ecc_hooks.core.text import json_inert

        sys.stdout.write(clean_block(json_inert(data.decode("utf-8"))))
        return 0
    if name == "install":
        before = settings.get("statusLine")
        foreign = before is not None and not (isinstance(before, dict) and is_ours(before.get("command")))
        replaced = (path, before) if foreign and result.get("statusLine") != before else None
        made = path if original is None else None
        remember_commands({python_command(HOOK_MODULE), python_command(STATUSLINE_MODULE)}, replaced, made)
    elif result == {} and created_by_install(path):
        os.unlink(os.path.realpath(path))  # nothing left but what install brought: the file goes too
        print(f"ecc-hooks: removed {path} (install created it; nothing else was in it)")
        _say_what_stays(path, None, args)
        return 0
    restored = name == "uninstall" and replaced_statusline(path) is not None and "statusLine" in result
    backup = write_settings(path, data, backup_first=not watcher)
    what = "installed into" if name == "install" else "removed from"
    print(f"ecc-hooks: {what} {path}" + (f" (backup: {backup})" if backup else ""))
    if restored:
        forget_replaced(path)
        print("  statusLine: the one install --force replaced is back")
    if name == "uninstall":
        _say_what_stays(path, result, args)
    if name == "install":
        print(f"  hooks: {len(EVENTS)} events -> {python_command(HOOK_MODULE)}")
        if renewed is not None:
            print(f"  127.0.0.1:{renewed} is held by another user's process: the endpoint moved to a fresh port")
        print(f"  {transport_reason(args, http)}")
        if http is not None:
            print(f"  {serve_endpoint(http)}")
        if not args.no_statusline:
            print(f"  statusLine -> {python_command(STATUSLINE_MODULE)}")
    return 0


def _say_what_stays(path: str, result: dict[str, Any] | None, args: argparse.Namespace) -> None:
    """After uninstall: what is left behind, and ``--purge`` to remove the state folder too."""
    if result == {}:
        print(f"  {path} is now empty ({{}}); it was created by install, delete it if nothing else uses it")
    home = paths.home()
    if getattr(args, "purge", False):
        purge(home)
        return
    if os.path.isdir(home):
        print(
            f"  kept: {home} (journals, snapshots, handoff records, the endpoint's token); "
            "`ecc-hooks uninstall --purge` removes it, after stopping the watcher"
        )


def live_runtime_sessions() -> list[str]:
    """The runtime's sessions with workers that still run (or start): a purge would orphan them."""
    from ecc_hooks.runtime import client

    return client.live_sessions()


def purge_blockers(args: argparse.Namespace) -> None:
    """Refuse ``--purge`` (before anything is changed) while runtime sessions have live workers, unless
    ``--stop-sessions``: then they are stopped first."""
    if not getattr(args, "purge", False) or args.dry_run or not os.path.isdir(paths.home()):
        return
    live = live_runtime_sessions()
    if not live:
        return
    if not args.stop_sessions:
        names = ", ".join(clean(name, 80) for name in live)
        raise UserError(
            f"runtime sessions still have live workers ({names}): purging would delete their state under them; "
            f"stop them first (`ecc-hooks session stop NAME`), or pass --stop-sessions to stop them here"
        )
    from ecc_hooks.runtime import client
    from ecc_hooks.runtime.records import Stop

    for name in live:
        client.run(Stop(name))
        print(f"  stopped runtime session {clean(name, 80)}")


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Until process ``pid`` has exited (bounded)."""
    deadline = time.monotonic() + timeout
    while pid > 0 and time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    return  # exited, not yet reaped
        except (OSError, IndexError):
            return
        time.sleep(0.02)


def purge(home: str) -> None:
    """Stop the watcher and delete the state folder (only a folder that is ours: the user's, with our files)."""
    import shutil

    from ecc_hooks.hud import watcher as watch

    if not os.path.isdir(home):
        print(f"  {home}: nothing to purge")
        return
    st = os.lstat(home)
    if os.path.islink(home) or st.st_uid != os.getuid():
        raise UserError(f"{home} is a link or not yours: not deleting it")
    ours = {"sessions", "watch.lock", "installed.json", "errors.log", "endpoint.json", "config.toml", "statusline.toml"}
    ours |= {"runtime", "runtime.db", "supervisor.lock"}  # the runtime's alone (a home only `session` commands used)
    if not ours & set(os.listdir(home)):
        raise UserError(f"{home} does not look like an ecc-hooks state folder: not deleting it")
    from ecc_hooks.runtime import client

    stopped = watch.stop_running()
    if stopped is not None:
        print(f"  stopped the watcher (pid {stopped})")
    stopped = watch.stop_running(path=client.supervisor_lock_path())  # it and its helper would recreate the folder
    if stopped is not None:
        _wait_gone(stopped)  # it lets go of its lock before its database closes (and removes its -shm, -wal)
        print(f"  stopped the runtime's supervisor (pid {stopped}) and its helper")

    def vanished(function: Any, path: str, info: Any) -> None:
        if not issubclass(info[0], FileNotFoundError):  # gone meanwhile is what we want
            raise info[1]

    shutil.rmtree(home, onerror=vanished)
    print(f"  purged: {home}")


# ---------------------------------------------------------------------------- doctor


@dataclass
class Report:
    """What doctor found: lines to print and problems (each with how to fix it)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)  # command -> "hook" | "statusline"


def _inspect(label: str, path: str, report: Report) -> None:
    """Describe our entries in one settings file and collect their commands."""
    try:
        settings, original = read_settings(path)
    except UserError as exc:
        report.lines.append(f"{label:8} {path}: UNREADABLE")
        report.problems.append(str(exc))
        return
    if original is None:
        report.lines.append(f"{label:8} {path}: no file")
        return
    events: list[str] = []
    known = known_commands()
    mine: set[str] = set()  # ours, in this file
    forged: list[str] = []
    urls: set[str] = set()  # our HTTP hooks' endpoints
    hooks = settings.get("hooks")
    for event, groups in hooks.items() if isinstance(hooks, dict) else []:
        for group in groups if isinstance(groups, list) else []:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            for handler in handlers if isinstance(handlers, list) else []:
                command = handler.get("command") if isinstance(handler, dict) else None
                if isinstance(handler, dict) and handler.get("type") == "http" and is_our_url(handler.get("url")):
                    urls.add(str(handler["url"]))
                    if event not in events:
                        events.append(event)
                elif is_ours(command, known):
                    report.commands.setdefault(command, "hook")
                    mine.add(command)
                    if event not in events:
                        events.append(event)
                elif is_marked(command) and command not in forged:
                    forged.append(command)
    status = settings.get("statusLine")
    if status is None:
        status_text = "none"
    elif isinstance(status, dict) and is_ours(status.get("command"), known):
        status_text = "ours"
        report.commands.setdefault(status["command"], "statusline")
        mine.add(status["command"])
    else:
        status_text = "foreign"
        if isinstance(status, dict) and is_marked(status.get("command")) and status["command"] not in forged:
            forged.append(status["command"])
    outdated = sorted(mine - current_commands())
    for command in outdated:
        report.lines.append(f"           outdated: {clean(command, 160)}")
    if outdated:
        report.problems.append(
            f"{path} has {len(outdated)} command(s) an earlier install wrote (an old module path "
            f"or interpreter); run `ecc-hooks install --settings-file {shlex.quote(path)}` to "
            "rewrite them"
        )
    for command in forged:
        report.problems.append(
            f"{path} has a command marked {MARKER!r} that this installation did not write "
            f"(not run): {clean(command, 200)!r}; remove it unless you added it yourself, "
            "then run `ecc-hooks install` for the scope you want"
        )
    report.lines.append(f"{label:8} {path}")
    if events:
        missing = [e for e in EVENT_NAMES if e not in events]
        text = f"{len(events)} events" + (f" (missing: {', '.join(missing)})" if missing else " (all)")
        report.lines.append(f"           hooks: {text}")
        if missing:
            report.lines.append(
                f"           note: run `ecc-hooks install --settings-file {shlex.quote(path)}` "
                "to register the missing events"
            )
    else:
        report.lines.append("           hooks: none")
    report.lines.append(f"           statusLine: {status_text}")
    if urls:
        config = endpoint.load()
        owner = endpoint.listener_uid(config) if config is not None else None
        live = owner is not None
        if live and config is not None and owner != os.getuid():
            report.problems.append(
                f"another user's process listens on 127.0.0.1:{config.port}, the endpoint Claude Code posts "
                "tool events to: stop it, or reinstall (a new endpoint) with `ecc-hooks install`"
            )
        report.lines.append(
            f"           tool events: http -> {', '.join(sorted(urls))} "
            f"({'a watcher listens' if live else 'no watcher listens now: the next SessionStart starts one'})"
        )
        if config is None or urls != {config.url}:
            report.problems.append(
                f"{path} posts tool events to {', '.join(sorted(urls))}, which is not the endpoint in "
                f"{paths.endpoint_path()}; run `ecc-hooks install --settings-file {shlex.quote(path)}` to rewrite them"
            )
    elif events:
        report.lines.append("           tool events: command hooks (transport: command)")
    if settings.get("disableAllHooks") is True:
        report.problems.append(f'{path} sets "disableAllHooks": true, so no hook runs; remove that key')


def _doctor_payloads(session: str, cwd: str) -> tuple[bytes, bytes]:
    """A SessionStart hook payload and a status line stdin, shaped like Claude Code's."""
    hook = {
        "session_id": session,
        "transcript_path": os.path.join(cwd, f"{session}.jsonl"),
        "cwd": cwd,
        "hook_event_name": "SessionStart",
        "source": "startup",
    }
    status = {
        "session_id": session,
        "transcript_path": hook["transcript_path"],
        "cwd": cwd,
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "workspace": {"current_dir": cwd, "project_dir": cwd, "added_dirs": []},
        "version": "2.1.328",
        "cost": {
            "total_cost_usd": 0.01,
            "total_duration_ms": 1000,
            "total_api_duration_ms": 500,
            "total_lines_added": 0,
            "total_lines_removed": 0,
        },
        "context_window": {
            "total_input_tokens": 1000,
            "total_output_tokens": 10,
            "context_window_size": 200000,
            "current_usage": None,
            "used_percentage": None,
            "remaining_percentage": None,
        },
        "exceeds_200k_tokens": False,
    }
    return json.dumps(hook).encode(), json.dumps(status).encode()


def _journal_lines(home: str) -> int:
    """Journal lines written under a scratch ECC_HOOKS_HOME (every ``*.jsonl`` below it)."""
    count = 0
    for folder, _, files in os.walk(home):
        for name in files:
            if name.endswith(".jsonl"):
                with open(os.path.join(folder, name), "rb") as handle:
                    count += handle.read().count(b"\n")
    return count


def _tail(data: bytes) -> str:
    """The last line of a command's output, made safe to print (it may echo anything)."""
    text = data.decode("utf-8", "replace").strip()
    return clean(text.splitlines()[-1], 300) if text else ""


def check_command(command: str, kind: str) -> str | None:
    """Run one of our commands as Claude Code would (``sh -c``, payload on stdin, scratch home); problem or None."""
    with tempfile.TemporaryDirectory(prefix="ecc-doctor-") as scratch:
        home = os.path.join(scratch, "home")
        cwd = os.path.join(scratch, "project")
        os.mkdir(cwd)
        hook_stdin, status_stdin = _doctor_payloads(f"ecc-doctor-{uuid.uuid4().hex[:12]}", cwd)
        # No watcher for a check: it would outlive the scratch home it watches.
        env = {
            **os.environ,
            "ECC_HOOKS_HOME": home,
            "CLAUDE_PROJECT_DIR": cwd,
            "COLUMNS": "100",
            paths.NO_WATCHER_ENV: "1",
        }
        done = proc.run(
            ["sh", "-c", command],
            input=hook_stdin if kind == "hook" else status_stdin,
            env=env,
            cwd=cwd,
            timeout=HOOK_TIMEOUT + 5,
        )
        if done.timed_out:
            return f"timed out after {HOOK_TIMEOUT + 5} s"
        if done.code != 0:
            return f"exit {done.code}: {_tail(done.err) or done.error or 'no message'}"
        if kind == "hook":
            if done.out.strip():
                return f"printed on stdout ({_tail(done.out)!r}); a recording hook must print nothing"
            lines = _journal_lines(home)
            if lines != 1:
                try:  # the hook logs why it wrote nothing in the scratch home's errors.log
                    with open(os.path.join(home, "errors.log"), "rb") as handle:
                        detail = _tail(handle.read())
                except OSError:
                    detail = _tail(done.err)
                return f"wrote {lines} journal lines, expected 1" + (f": {detail}" if detail else "")
            return None
        first = done.out.decode("utf-8", "replace").splitlines()[:1]
        if not first or not first[0].strip():
            return f"printed nothing (Claude Code would show a blank row){': ' + _tail(done.err) if done.err else ''}"
        return None


def socket_summary(problems: list[str]) -> str:
    """Who answers on the watcher's local socket (the hook and status line commands hand their work to it)."""
    from ecc_hooks.core import relay

    path = os.path.join(paths.home(), relay.SOCKET_NAME.decode())
    if not os.path.lexists(path):
        return f"watcher socket: none ({path}); the commands do their work themselves until a watcher starts"
    try:
        conn = relay.connect(os.fsencode(paths.home()), 2.0)
    except OSError as exc:
        return f"watcher socket: nobody answers ({exc.strerror or exc}): left by a watcher that died; the next one replaces it"
    try:
        owner = relay.peer_uid(conn)
    finally:
        conn.close()
    if owner != os.getuid():
        problems.append(f"{path} is served by another user's process (uid {owner}): remove it")
        return f"watcher socket: served by uid {owner}, not you: the commands send it nothing"
    return f"watcher socket: your watcher answers ({path})"


def errors_summary() -> str:
    """``errors.log`` of the real ECC_HOOKS_HOME, counted by ``kind``."""
    path = paths.errors_log_path()
    counts: dict[str, int] = {}
    last: dict[str, Any] = {}
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    kind = entry.get("kind", "?")
                    last = entry
                except (ValueError, AttributeError):
                    kind = "unparsable"
                counts[str(kind)] = counts.get(str(kind), 0) + 1
    except FileNotFoundError:
        return f"errors.log: none ({path})"
    except OSError as exc:
        return f"errors.log: cannot read {path} ({exc.strerror})"
    total = sum(counts.values())
    by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    if not total:
        return f"errors.log: empty ({path})"
    latest = f"\n  last: {clean(last.get('ts', '?'), 40)} {clean(last.get('kind', '?'), 40)}" if last else ""
    if last.get("detail"):
        latest += f": {clean(last['detail'], 200)}"
    return f"errors.log: {total} entries ({by_kind}) in {path}{latest}"


def watcher_summary() -> str:
    """Whether the watcher runs, and since when (its lock file is written when it starts)."""
    from ecc_hooks.hud import watcher as watch

    pid = watch.lock_holder()
    if pid is None:
        return "watcher: not running (the next SessionStart starts it; or `ecc-hooks watch`)"
    if pid < 0:
        return "watcher: the lock is held but its pid is unreadable"
    try:
        started = os.stat(paths.watch_lock_path()).st_mtime
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started))
        from ecc_hooks.core.text import duration

        return f"watcher: running, pid {pid}, since {since} ({duration(time.time() - started)} ago)"
    except OSError:
        return f"watcher: running, pid {pid}"


def taken_summary() -> str | None:
    """What ``endpoint.fall_back`` left for the user (another user held the endpoint's port), or None."""
    note = endpoint.taken()
    if note is None:
        return None
    files = note.get("files")
    rewritten = ", ".join(clean(str(f), 200) for f in files) if isinstance(files, list) and files else "none"
    return f"{endpoint.taken_text(note)}; these settings files now use command hooks: {rewritten}"


def config_problems() -> list[str]:
    """What is wrong with ``statusline.toml`` and ``config.toml`` (a bad file would otherwise quietly give
    the defaults)."""
    from ecc_hooks.hud import notify

    problems = []
    toml = paths.statusline_config_path()
    if os.path.exists(toml):
        from ecc_hooks.statusline.render import parse_toml

        _, error = parse_toml(toml)
        if error:
            problems.append(f"{toml}: {error}; the status line uses its defaults until it is fixed")
    problems += [f"{p} ({notify.config_path()})" for p in notify.load().problems]
    return problems


def _say(text: str) -> None:
    """Print a line of doctor's report: it quotes settings files and command output, so it is made inert."""
    print(clean_block(text))


def _doctor(args: argparse.Namespace) -> int:
    report = Report()
    seen: dict[str, str] = {}
    targets = [(scope, settings_path(scope)) for scope in SCOPES]
    if args.settings_file:
        targets.append(("file", settings_path("user", args.settings_file)))
    for label, path in targets:
        real = os.path.realpath(path)
        if real in seen:  # e.g. the project is the home directory: check each file once
            report.lines.append(f"{label:8} {path}: same file as {seen[real]}")
            continue
        seen[real] = label
        _inspect(label, path, report)
    for line in report.lines:
        _say(line)
    if not report.commands:
        _say(errors_summary())
        raise UserError(
            "ecc-hooks is not installed in any of these settings files; run `ecc-hooks install` "
            "(add --scope project|local or --settings-file PATH for another file)"
        )
    _say("commands (run with sh -c, payload on stdin, scratch ECC_HOOKS_HOME):")
    for command, kind in report.commands.items():
        problem = check_command(command, kind)
        _say(f"  {'ok  ' if problem is None else 'FAIL'} {kind:10} {command}")
        if problem is not None:
            _say(f"       {problem}")
            report.problems.append(
                f"the {kind} command `{command}` fails ({problem}); make sure its interpreter "
                "can import ecc_hooks, or rerun `ecc-hooks install` from the environment that has it"
            )
    _say(watcher_summary())
    _say(socket_summary(report.problems))
    note = taken_summary()
    if note is not None:
        _say(f"endpoint: {note}")
        report.problems.append(
            f"{note}; run `ecc-hooks install` to keep the command transport (this clears the note), or "
            "`ecc-hooks install --transport http` once the port is yours again (a fresh one if it is still taken)"
        )
    for problem in config_problems():
        _say(f"config: {problem}")
        report.problems.append(problem)
    _say(errors_summary())
    if report.problems:
        raise UserError("problems found:\n  - " + "\n  - ".join(report.problems))
    _say("ecc-hooks: everything installed works")
    return 0


# ---------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Options of ``install``, ``uninstall`` and ``doctor``."""
    if name != "doctor":
        parser.add_argument(
            "--scope",
            choices=SCOPES,
            default="user",
            help="user: ~/.claude/settings.json; project: <project>/.claude/settings.json; "
            "local: <project>/.claude/settings.local.json (default: user)",
        )
    parser.add_argument(
        "--settings-file",
        metavar="PATH",
        help="this settings file instead of the scope's" if name != "doctor" else "check this settings file too",
    )
    if name == "install":
        parser.add_argument(
            "--transport",
            choices=TRANSPORTS,
            help="how tool events reach ecc-hooks: command (a hook process per event, handed to the watcher's "
            "local socket; the default) or http (a loopback request to the watcher, no process per tool call; "
            "opt in: while no watcher runs another local user could take its port, so a session that finds it "
            "taken falls back to commands; never in committed project settings, which must not carry the token)",
        )
        parser.add_argument("--no-statusline", action="store_true", help="leave statusLine alone")
        parser.add_argument("--force", action="store_true", help="replace a statusLine that is not ours")
        parser.add_argument("--watcher", action="store_true", help=argparse.SUPPRESS)  # endpoint.park/unpark
    if name != "doctor":
        parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
        parser.add_argument(
            "--harness",
            type=harness_list,
            metavar="AGENTS",
            help=f"the agents to {name} for, comma-separated: {', '.join(AGENT_NAMES)} (default: claude, Claude "
            "Code's settings); codex: ~/.codex/hooks.json (its hooks run once trusted: --trust writes their hashes); "
            "gemini: ~/.gemini/settings.json; opencode: a plugin in ~/.config/opencode/plugin/; aider: "
            "~/.aider.conf.yml (its analytics log and notifications command)",
        )
    if name == "install":
        parser.add_argument(
            "--trust",
            action="store_true",
            help="with --harness codex: also mark our hooks trusted in Codex's config.toml (Codex skips untrusted "
            "hooks without a word)",
        )
    if name == "uninstall":
        parser.add_argument(
            "--purge",
            action="store_true",
            help="also stop the watcher and the runtime's supervisor and delete the state folder ($ECC_HOOKS_HOME)",
        )
        parser.add_argument(
            "--stop-sessions",
            action="store_true",
            help="with --purge: stop runtime sessions that still have live workers (else --purge refuses)",
        )


def transport_of(args: argparse.Namespace) -> str:
    """``--transport``, else command: the http transport is safe only while the user's watcher holds the
    endpoint's port, and nothing on a machine without a user service manager holding it from login can make
    sure of that (another local user may bind it while no watcher runs and receive every tool call)."""
    chosen = getattr(args, "transport", None)
    return str(chosen) if chosen else "command"


def serve_endpoint(config: endpoint.Endpoint) -> str:
    """Make the user's watcher listen on the endpoint now (a running Claude Code reloads the settings and posts
    at once; a watcher started before this endpoint existed serves another port or none: it is restarted). What
    happened, as a line to print."""
    owner = endpoint.listener_uid(config)
    if owner == os.getuid():
        return f"watcher: listens on 127.0.0.1:{config.port}"
    if os.environ.get(paths.NO_WATCHER_ENV) == "1":
        return f"watcher: not started ({paths.NO_WATCHER_ENV}=1); the next SessionStart starts it"
    from ecc_hooks.core.spawn import spawn_watcher
    from ecc_hooks.hud import watcher as watch

    if watch.lock_holder() is not None:
        watch.stop_running()  # it does not serve this endpoint: the new one will (calls meanwhile are backfilled)
    try:
        spawn_watcher()
    except OSError as exc:
        return f"watcher: could not start ({exc.strerror or exc}); the next SessionStart starts it"
    owner = endpoint.wait_owner(config, time.monotonic() + endpoint.LISTEN_WAIT)
    if owner == os.getuid():
        return f"watcher: started, listens on 127.0.0.1:{config.port}"
    return "watcher: not listening yet; the next SessionStart checks the port before any tool call"


def transport_reason(args: argparse.Namespace, http: endpoint.Endpoint | None) -> str:
    """The line ``install`` prints: which transport the file got, and why."""
    if http is None:
        why = (
            "--transport command"
            if getattr(args, "transport", None)
            else "the default: the http transport's port could be taken by another local user while no watcher "
            "runs, and what Claude Code posts there would reach them; `--transport http` opts in"
        )
        return f"transport: command (every event a command hook, handed to the watcher's local socket; {why})"
    return (
        f"transport: http (--transport http): tool events ({', '.join(sorted(HTTP_EVENTS))}) -> {http.url} "
        f"(the watcher; token in {paths.endpoint_path()}). If another user holds that port when a session "
        "starts, the hooks fall back to commands and the status line says so"
    )


def run(args: argparse.Namespace, name: str) -> int:
    """Run ``install``, ``uninstall`` or ``doctor``."""
    if name == "doctor":
        return _doctor(args)
    return _apply(args, name)


if __name__ == "__main__":
    sys.stdout.buffer.write(render_json(plugin_hooks_document()))
