"""Every filesystem location ecc-hooks reads or writes; no other module joins paths.

Hot path: imported by the hook and the status line, so it uses ``os`` only.

Layout under ``ECC_HOOKS_HOME`` (default ``${CLAUDE_CONFIG_DIR:-~/.claude}/ecc``)::

    errors.log                      size-bounded log of hook input we could not use
    sessions/<session>/events.jsonl the per-session event journal (ecc.event.v1)
    sessions/<session>/statusline.json  what only the status line receives (cost, context)
    sessions/<session>/.statusline.lock  flock'd while a render compares and writes statusline.json
    sessions/<session>/hud.json     the latest HUD snapshot (written by the watcher)
    sessions/<session>/watch-state.json  the watcher's cursor + folded state + usage state (one atomic file)
    watch.lock, watch.log           the watcher's single-instance lock (holds its pid) and its bounded log
    sessions/<session>/handoff.json where the session's last handoff document was written (inspect)
    sessions/<session>/statusline.last  the status line's last good output (shown on an internal error)
    statusline.toml                 the user's status line config (segments, order, lines, theme)
    statusline.toml.cache.json      that config parsed, keyed by the file's mtime/size (no TOML parse per render)
    installed.json                  the commands ``install`` wrote (only those are ever run, replaced or removed)
    endpoint.json                   the watcher's loopback event endpoint: port and bearer token (http transport)
    sessions/<session>/seen         the identities of the events recorded in the last seconds (one line each)
    sessions/<session>/tool-ids     Gemini CLI's pending tool calls and the ids we gave them (FIFO per tool)
    sessions/<session>/input.lock   held while the runtime types into, or answers, the session's own tmux pane
    supervisor.lock                 the runtime supervisor's single-instance lock (holds its pid)
    runtime/supervisor.json         the running supervisor's pid, start time and the sessions it watches; left
                                    behind by a killed one (a hook or the watcher then restarts it)
    runtime/claude-settings.json    the settings layer (our hooks) the runtime passes to its Claude Code workers
    runtime/<session>/<worker>/     a worker's private folder (``runtime.launch.state_dir``): exit files, its log,
                                    scrollback, ``written.json`` (what the runtime last wrote into its status.md
                                    and handoff.md: a file that no longer matches is the worker's, kept)

Claude Code's own locations (read only): ``claude_config_dir()``, its ``projects/`` transcripts and a
transcript's ``subagents/`` folder.
"""

from __future__ import annotations

import os

SESSION_ID_MAX = 128
NO_WATCHER_ENV = "ECC_HOOKS_NO_WATCHER"  # "1": no hook and no status line starts the watcher daemon
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def package_root() -> str:
    """The folder holding the ``ecc_hooks`` package (the repository, or site-packages when installed)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # ecc_hooks/core/paths.py


def shipped_prices_path() -> str:
    """The price and context-window table shipped in the package."""
    return os.path.join(package_root(), "ecc_hooks", "data", "prices.json")


def launcher_code(module: str, call: str = "main()") -> str:
    """``python -c`` code running ``module``'s ``main`` from this package, with the caller's cwd off ``sys.path``.

    Hooks and the status line run in the user's project, where a ``json.py`` (or an ``ecc_hooks/``) would
    otherwise shadow ours; naming the package's folder also lets them run with ``-S`` (no site).
    """
    root = package_root()
    literal = f'"{root}"' if root.isprintable() and '"' not in root and "\\" not in root else repr(root)
    return f"import sys;sys.path=[{literal}]+[p for p in sys.path if p];from {module} import main;{call}"


def claude_config_dir() -> str:
    """Claude Code's own config directory: ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``."""
    return os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")


def claude_projects_dir() -> str:
    """Where Claude Code keeps its transcripts: ``<config dir>/projects/<cwd slug>/<session id>.jsonl``."""
    return os.path.join(claude_config_dir(), "projects")


def ecc_agent_data_home() -> str:
    """ECC's agent data home, where its own hooks keep session summaries and aliases, resolved as ECC's
    ``lib/agent-data-home.js`` does: ``$ECC_AGENT_DATA_HOME`` (``~`` expanded, relative to the working
    directory), ``~/.cursor/ecc`` inside a Cursor hook (``$CURSOR_VERSION`` / ``$CURSOR_PROJECT_DIR``), else
    ``~/.claude`` (``$HOME``, not ``$CLAUDE_CONFIG_DIR``: ECC ignores it). ECC's per-project override
    (``.cursor/ecc-agent-data.json``) is not read: a repository's file never picks where we read."""
    from ecc_hooks.core.jsvalues import trim as js_trim

    raw = os.environ.get("HOME") or os.environ.get("USERPROFILE") or ""
    user_home = os.path.abspath(raw) if js_trim(raw) else os.path.expanduser("~")
    configured = js_trim(os.environ.get("ECC_AGENT_DATA_HOME") or "")
    if configured.startswith("~"):
        rest = configured[1:].lstrip("/\\")
        return os.path.join(user_home, rest) if rest else user_home
    if configured:
        return os.path.abspath(configured)
    if any(js_trim(os.environ.get(name) or "") for name in ("CURSOR_VERSION", "CURSOR_PROJECT_DIR")):
        return os.path.join(user_home, ".cursor", "ecc")
    return os.path.join(user_home, ".claude")


def ecc_session_dirs() -> list[str]:
    """Where ECC's session summaries (``YYYY-MM-DD[-<id>]-session.tmp``) live, canonical first, then the
    legacy folder older ECC installs wrote."""
    base = ecc_agent_data_home()
    return [os.path.join(base, "session-data"), os.path.join(base, "sessions")]


def ecc_aliases_path() -> str:
    """ECC's session aliases (``session-aliases.json``: name -> ``{"sessionPath": ...}``)."""
    return os.path.join(ecc_agent_data_home(), "session-aliases.json")


def home() -> str:
    """The ecc-hooks state directory (absolute)."""
    configured = os.environ.get("ECC_HOOKS_HOME")
    return os.path.abspath(configured or os.path.join(claude_config_dir(), "ecc"))


def sanitize_session_id(raw: object) -> str | None:
    """Map any session id to a safe single path component, or None when there is none.

    Ids of the usual shape (UUIDs) pass unchanged. Anything else (``/``, ``\\``, ``..``,
    control characters, over-long) is cleaned and suffixed with a hash of the original, so
    two distinct hostile ids never share a journal and none can leave ``sessions/``.
    """
    if not isinstance(raw, str) or not raw:
        return None
    if len(raw) <= SESSION_ID_MAX and raw[0] != "." and ".." not in raw and all(c in _SAFE for c in raw):
        return raw
    import hashlib  # only for hostile ids: keep it off the common path

    cleaned = "".join(c if c in _SAFE and c != "." else "_" for c in raw[:64]).strip("_") or "id"
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"x-{cleaned}-{digest}"


def sessions_dir() -> str:
    """Directory holding one folder per session."""
    return os.path.join(home(), "sessions")


def session_dir(session_id: str) -> str:
    """Folder of one (already sanitized) session."""
    if sanitize_session_id(session_id) != session_id:
        raise ValueError(f"unsafe session id: {session_id!r}")
    return os.path.join(sessions_dir(), session_id)


def journal_path(session_id: str) -> str:
    """The session's append-only event journal."""
    return os.path.join(session_dir(session_id), "events.jsonl")


def statusline_sensor_path(session_id: str) -> str:
    """What the status line last learned from Claude Code's stdin for this session."""
    return os.path.join(session_dir(session_id), "statusline.json")


def hud_path(session_id: str) -> str:
    """The session's latest HUD snapshot."""
    return os.path.join(session_dir(session_id), "hud.json")


def statusline_lock_path(session_id: str) -> str:
    """Held while one render decides whether its stdin is newer than the recorded sensor and writes it (hidden:
    the watcher does not wake for it)."""
    return os.path.join(session_dir(session_id), ".statusline.lock")


def statusline_last_path(session_id: str) -> str:
    """The status line's last good output for this session (printed again when a render fails)."""
    return os.path.join(session_dir(session_id), "statusline.last")


def statusline_config_path() -> str:
    """The user's status line config (TOML)."""
    return os.path.join(home(), "statusline.toml")


def statusline_config_cache_path() -> str:
    """The status line config, parsed once and cached as JSON (keyed by the TOML file's stat)."""
    return os.path.join(home(), "statusline.toml.cache.json")


def watch_state_path(session_id: str) -> str:
    """The watcher's resume point for a session: journal cursor, folded state and usage state in one file."""
    return os.path.join(session_dir(session_id), "watch-state.json")


def watch_lock_path() -> str:
    """The watcher's lock file (flock'd by the one running instance, which writes its pid into it)."""
    return os.path.join(home(), "watch.lock")


def watch_log_path() -> str:
    """Size-bounded log of what the watcher daemon could not process."""
    return os.path.join(home(), "watch.log")


def handoff_record_path(session_id: str) -> str:
    """The session's handoff record: ``{"path": <handoff document>, "writtenAt": ...}`` (written by inspect)."""
    return os.path.join(session_dir(session_id), "handoff.json")


def errors_log_path() -> str:
    """Size-bounded log of unusable hook input."""
    return os.path.join(home(), "errors.log")


def cli_errors_log_path() -> str:
    """Tracebacks of CLI internal errors (exit 3 points here)."""
    return os.path.join(home(), "cli-errors.log")


def install_record_path() -> str:
    """Every command ``ecc-hooks install`` wrote into a settings file (how install, uninstall and doctor know ours)."""
    return os.path.join(home(), "installed.json")


def endpoint_path() -> str:
    """The loopback endpoint Claude Code's HTTP hooks post tool events to (port, token; written by install)."""
    return os.path.join(home(), "endpoint.json")


def endpoint_taken_path() -> str:
    """Written when another user was found holding the endpoint's port (``core.endpoint.fall_back``): what the
    status line, ``status`` and ``doctor`` tell the user, until the next ``install``."""
    return os.path.join(home(), "endpoint-taken.json")


def prices_override_path() -> str:
    """The user's price table override, merged over the shipped ``ecc_hooks/data/prices.json``."""
    return os.path.join(home(), "prices.json")


def hook_trust_path() -> str:
    """The repository hooks the user trusted: ``{repository: {hook path in it: sha256 of its content}}`` (0600)."""
    return os.path.join(home(), "trusted-hooks.json")


def seen_path(session_id: str) -> str:
    """The identities of the session's recently recorded events (``capture.dedupe``): a second hook of ours for
    the same event records nothing."""
    return os.path.join(session_dir(session_id), "seen")


def tool_ids_path(session_id: str) -> str:
    """The tool-call ids we invent for an agent whose hooks carry none (Gemini CLI): the calls still waiting for
    their result, and the next number (``harness.gemini``)."""
    return os.path.join(session_dir(session_id), "tool-ids")


def input_lock_path(session_id: str) -> str:
    """Held while the runtime types into a plain session's tmux pane or answers its prompt (``runtime.interact``):
    two clients never answer one prompt twice."""
    return os.path.join(session_dir(session_id), "input.lock")


def supervisor_lock_path() -> str:
    """The runtime supervisor's single-instance lock (flock'd by the one running, which writes its pid into it)."""
    return os.path.join(home(), "supervisor.lock")


def supervisor_record_path() -> str:
    """What the running supervisor watches (pid, since, sessions); removed when it stops on its own or is
    stopped, so one left behind with no lock holder means it was killed while it had work."""
    return os.path.join(home(), "runtime", "supervisor.json")


def supervisor_log_path() -> str:
    """The supervisor's output (through the redacting log relay)."""
    return os.path.join(home(), "runtime", "supervisor.log")


def runtime_settings_path() -> str:
    """The settings layer the runtime gives its Claude Code workers (``claude --settings``): our hooks."""
    return os.path.join(home(), "runtime", "claude-settings.json")


def hook_copies_dir() -> str:
    """Where a hook's trusted snapshot is written to run (0700; each copy removed once it ran)."""
    return os.path.join(home(), "runtime", "hook-copies")


def subagent_transcripts_dir(transcript_path: str) -> str:
    """Where Claude Code writes a session's subagent transcripts: ``<dir>/<session_id>/subagents/``."""
    stem = os.path.splitext(os.path.basename(transcript_path))[0]
    return os.path.join(os.path.dirname(transcript_path), stem, "subagents")


def ensure_dir(path: str) -> str:
    """Create the state folder ``path`` (the home or a folder below it) at 0700 and return it.

    Every level below the home is reached without following links and must belong to this user; a loose
    mode of ours is tightened (``fsio.ensure_state_dir``).
    """
    from ecc_hooks.core import fsio  # fsio imports this module

    return fsio.ensure_state_dir(path)


def ensure_session_dir(session_id: str) -> str:
    """Create ``$ECC_HOOKS_HOME``, ``sessions/`` and the session's folder, each 0700; return the session's folder."""
    return ensure_dir(session_dir(session_id))
