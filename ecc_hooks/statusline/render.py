"""Claude Code's ``statusLine`` command (installed as ``python -S -c`` calling ``main``, see
``install.python_argv``; ``python -m ecc_hooks.statusline`` and ``ecc-hooks statusline`` run the same).

Claude Code runs this as a fresh process after every assistant message and every refresh
interval, with the session's state on stdin. It does three things, all cheap:

1. records what only the status line receives (cost, context window, rate limits, prompt
   cache) in ``sessions/<id>/statusline.json``, so the HUD learns it;
2. merges stdin with the session's latest snapshot (``hud.json``, kept by the watcher; stdin
   alone when there is none) and renders the configured segments (``ecc_hooks.segments``);
3. keeps that output as the session's last good line, printed again if a later render fails.

It never does git, network or transcript work, never exits non-zero, and strips control
characters and escape sequences from every untrusted string. The TOML config is parsed only
when its file changed (the parsed form is cached as JSON keyed by the file's stat), so a render
without a config file, or with an unchanged one, imports no TOML parser. Hot path: standard
library only, and no ``typing`` at run time.
"""

from __future__ import annotations

import os
import sys
import time

from ecc_hooks.core import jsonlite, paths
from ecc_hooks.core.fsio import atomic_write, open_file, read_file, read_stdin
from ecc_hooks.core.redact import redact_strings
from ecc_hooks.core.text import clean
from ecc_hooks.statusline.segments import DEFAULT_ORDER, REGISTRY, Context
from ecc_hooks.statusline.segments import run as run_segment
from ecc_hooks.statusline.segments.layout import compose, validate, wrap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

STDIN_CAP = 4 << 20
STDIN_TIMEOUT = 2.0
DEFAULT_WIDTH = 120
SNAPSHOT_CAP = 1 << 20
CONFIG_CAP = 1 << 20
LAST_LINE_CAP = 8 << 10

# ---------------------------------------------------------------------------- JSON without ``json``
# (core.jsonlite: ``import json`` would load ``re`` and with it a third of this process's start-up)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def loads(data: bytes | str) -> Any:
    """``json.loads`` for UTF-8 JSON text; ValueError on anything else (NaN/Infinity included)."""
    return jsonlite.loads(data, parse_constant=_refuse_constant)


def dumps(value: Any) -> str:
    """Compact ASCII JSON (NaN refused) of plain JSON data."""
    return jsonlite.dumps(value, ensure_ascii=True)


# Fields of the status line stdin that the HUD needs and hooks never see.
SENSOR_KEYS = (
    "model",
    "cost",
    "context_window",
    "exceeds_200k_tokens",
    "rate_limits",
    "prompt_cache",
    "version",
    "workspace",
    "worktree",
    "agent",
    "fast_mode",
    "effort",
    "transcript_path",
    "cwd",
)


# ---------------------------------------------------------------------------- config


def parse_toml(path: str) -> tuple[dict[str, Any], str | None]:
    """Read and validate a status line TOML file: ``(config, first problem or None)``; never raises."""
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef, import-not-found, unused-ignore]
        except ImportError:
            return {}, "reading statusline.toml needs Python 3.11+ or the tomli package"
    try:
        raw = tomllib.loads(read_file(path, CONFIG_CAP).decode("utf-8"))
    except UnicodeDecodeError:
        return {}, f"{os.path.basename(path)} is not UTF-8 text"
    except OSError as exc:
        return {}, f"cannot read {os.path.basename(path)}: {exc.strerror or exc}"
    except ValueError as exc:  # tomllib.TOMLDecodeError
        return {}, f"{os.path.basename(path)}: {exc}"
    config, error = validate(raw, REGISTRY, DEFAULT_ORDER)
    if error is None:
        from ecc_hooks.statusline.segments import load

        for name, table in (config.get("segment") or {}).items():
            known = load(name).DEFAULTS if name in REGISTRY else {}
            unknown = sorted(k for k in table if k not in known)
            if name in REGISTRY and unknown:
                error = f"unknown key {unknown[0]!r} in [segment.{name}] (known: {', '.join(sorted(known))})"
                break
    return config, error


def load_config(path: str | None = None, cache_path: str | None = None) -> tuple[dict[str, Any], str | None]:
    """The status line config: ``({}, None)`` without a file (no import, one ``stat``), else cached or parsed.

    The parsed form is cached as JSON beside it, keyed by the file's (mtime_ns, ctime_ns, size,
    inode): an unchanged file costs one small JSON read, a changed one is parsed once.
    """
    path = path or paths.statusline_config_path()
    try:
        st = os.stat(path)
    except OSError:
        return {}, None
    key = [path, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]
    cache_path = cache_path or paths.statusline_config_cache_path()
    try:
        cached = loads(read_file(cache_path, CONFIG_CAP))
        if isinstance(cached, dict) and cached.get("key") == key and isinstance(cached.get("config"), dict):
            return cached["config"], cached.get("error")
    except (OSError, ValueError):
        pass
    config, error = parse_toml(path)
    if error:  # once per change of the file (the result is cached): the row shows "cfg!", errors.log says why
        _log("statusline-config", f"{path}: {error}")
    try:
        st = os.stat(path)  # reading tightened a loose mode (a new ctime): key the cache by the file as it is now
        key = [path, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]
        data = dumps({"key": key, "config": config, "error": error}).encode()
        atomic_write(cache_path, data, durable=False)
    except (OSError, TypeError, ValueError):
        pass
    return config, error


# ---------------------------------------------------------------------------- render


def render_lines(
    stdin: Mapping[str, Any],
    snapshot: Mapping[str, Any],
    config: Mapping[str, Any],
    *,
    width: int,
    now: float,
    env: Mapping[str, str],
    snapshot_age: float | None = None,
    config_error: str | None = None,
    color: bool = True,
    theme: str | None = None,
    snapshot_behind: float | None = None,
    endpoint_taken: str | None = None,
) -> list[str]:
    """The rows to print: each configured line's segments, fitted to ``width`` and styled by the theme.

    ``snapshot_behind`` (seconds): the snapshot is older than the journal, so what comes from it alone is
    dimmed (never shown as current beside live figures) and the first row says ``stale`` and since when."""
    ctx = Context(stdin, snapshot, config, width, now, env, snapshot_age)
    rows = config.get("lines") or [list(DEFAULT_ORDER)]
    theme = theme or config.get("theme") or "default"
    ascii = config.get("ascii") is True
    out = []
    for i, row in enumerate(rows):
        pieces = []
        for name in row:
            try:
                piece = run_segment(name, ctx)
            except Exception:
                piece = (f"{name} !", "unknown")
            if piece and piece[0]:
                level = "dim" if snapshot_behind is not None and name in SNAPSHOT_ONLY else piece[1]
                pieces.append((piece[0], level, priority(REGISTRY[name][1], level)))
        if snapshot_behind is not None and i == 0:
            from ecc_hooks.core.text import duration

            pieces.append((f"\u29d6 stale {duration(snapshot_behind)}", "warn", priority(20, "warn")))
        if endpoint_taken and i == 0:
            pieces.append((endpoint_taken, "bad", priority(30, "bad")))
        if config_error and i == 0:
            pieces.append(("cfg! " + clean(config_error, 60), "warn", priority(10, "warn")))
        if config.get("overflow") == "wrap":
            out += [line for part in wrap(pieces, width, theme) if (line := compose(part, width, theme, color, ascii))]
            continue
        line = compose(pieces, width, theme, color, ascii)
        if line:
            out.append(line)
    return out


# Segments whose figures come from the snapshot alone: dimmed when it is behind the journal.
SNAPSHOT_ONLY = frozenset({"tools", "agents", "checks", "risk", "git", "task", "burn"})
WARNING_RANK = 1000  # a warning or an error outranks every figure when a row must drop something


def priority(rank: int, level: str) -> int:
    """A piece's priority in a row that does not fit: warnings (``warn``, ``bad``) before any figure, then the
    segment's own rank."""
    return rank + (WARNING_RANK if level in ("warn", "bad") else 0)


def width_from(env: Mapping[str, str], config: Mapping[str, Any]) -> int:
    """Columns to fill: ``COLUMNS`` (Claude Code sets it), else the config's ``width``, else 120."""
    try:
        columns = int(env.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    width = config.get("width")
    return width if isinstance(width, int) and width > 0 else DEFAULT_WIDTH


def color_from(env: Mapping[str, str], config: Mapping[str, Any]) -> bool:
    """Colour unless ``NO_COLOR`` is set (any non-empty value, per no-color.org) or the config says no."""
    if env.get("NO_COLOR"):
        return False
    return config.get("color", True) is not False


# ---------------------------------------------------------------------------- I/O


SENSOR_LOCK_WAIT = 0.5  # seconds a render waits for another one writing the sensor; then it leaves the file be


def client_clock(stdin: Mapping[str, Any]) -> float | None:
    """When Claude Code built this stdin: its ``cost.total_duration_ms`` (the session's age, which only grows)."""
    cost = stdin.get("cost")
    ms = cost.get("total_duration_ms") if isinstance(cost, dict) else None
    return ms if isinstance(ms, (int, float)) and not isinstance(ms, bool) else None


def _recorded_clock(path: str) -> float | None:
    try:
        recorded = loads(read_file(path, SNAPSHOT_CAP))
    except (OSError, ValueError, RecursionError):
        return None
    return client_clock(recorded) if isinstance(recorded, dict) else None


def record_sensor(session: str, stdin: Mapping[str, Any], now: float) -> None:
    """Keep what only the status line learns, for the watcher and the HUD (``stdin`` already redacted).

    Renders overlap (Claude Code starts one after every message and refresh; the watcher answers them on several
    threads and writes after answering), so an older stdin can finish last: under the sensor's lock, a stdin
    older than the recorded one (by Claude Code's own clock, ``client_clock``) is not written, and the sensor
    never goes back to an earlier turn's cost and context."""
    import fcntl  # a builtin module: cheap, and only on this path

    sensor = {k: stdin[k] for k in SENSOR_KEYS if k in stdin}
    sensor["receivedAt"] = now
    sensor["sessionId"] = session
    path = paths.statusline_sensor_path(session)
    lock = open_file(paths.statusline_lock_path(session), os.O_RDWR | os.O_CREAT, create_dirs=True)
    try:
        deadline = time.monotonic() + SENSOR_LOCK_WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("another render holds the sensor's lock") from None
                time.sleep(0.005)
        mine, recorded = client_clock(sensor), _recorded_clock(path)
        if mine is not None and recorded is not None and mine < recorded:
            return  # a newer render already recorded a later moment
        atomic_write(path, dumps(sensor).encode(), durable=False)
    finally:
        os.close(lock)


def load_snapshot(session: str, now: float | None = None) -> tuple[dict[str, Any], float | None]:
    """The session's latest HUD snapshot and its age in seconds; ``({}, None)`` when missing or unreadable."""
    try:
        fd = open_file(paths.hud_path(session), os.O_RDONLY)
        try:
            mtime = os.fstat(fd).st_mtime
            snap = loads(os.read(fd, SNAPSHOT_CAP))
        finally:
            os.close(fd)
    except (OSError, ValueError, RecursionError):
        return {}, None
    if not isinstance(snap, dict):
        return {}, None
    return snap, (max((now if now is not None else time.time()) - mtime, 0.0))


STALE_SLACK = 2.0  # seconds the watcher may take to fold a journal line into hud.json before it counts as behind


def snapshot_behind(session: str, age: float | None, now: float) -> float | None:
    """Seconds the snapshot (``age`` old) has been behind the session's journal, or None when it is current:
    the journal's mtime says, without reading it."""
    if age is None:
        return None
    try:
        changed = os.stat(paths.journal_path(session)).st_mtime
    except OSError:
        return None
    written = now - age
    return max(now - changed, 0.0) if changed > written + STALE_SLACK else None


def save_last_line(session: str, text: str) -> None:
    """Remember the last good output of this session (shown again when a render fails)."""
    atomic_write(paths.statusline_last_path(session), text.encode("utf-8", "replace")[:LAST_LINE_CAP], durable=False)


def last_line(session: str | None) -> str | None:
    """The session's last good output, or None."""
    if not session:
        return None
    try:
        text = read_file(paths.statusline_last_path(session), LAST_LINE_CAP).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    return text or None


def _log(kind: str, detail: str) -> None:
    try:
        from ecc_hooks.core.errorlog import log_error  # off the hot path: only after something went wrong

        log_error(kind, detail)
    except Exception:
        pass


def parse_stdin(data: bytes, problem: str | None) -> tuple[dict[str, Any] | None, str]:
    """Claude Code's stdin as a dict, or ``(None, the line to print instead)``."""
    if not data.strip():
        return None, "ecc-hooks: no status data on stdin"
    try:
        stdin = loads(data)
    except (ValueError, RecursionError):
        return None, "ecc-hooks: " + ("stdin cut off" if problem else "stdin is not JSON")
    if not isinstance(stdin, dict):
        return None, "ecc-hooks: stdin is not a JSON object"
    return stdin, ""


def endpoint_taken() -> str | None:
    """The warning piece when another user held the http transport's port (``core.endpoint.fall_back`` left a
    note): the user must know that calls may have reached that user, that tool events stopped going there and why;
    None without a note (one failed open)."""
    try:
        note = loads(read_file(paths.endpoint_taken_path(), 1 << 16))
    except (OSError, ValueError, RecursionError):
        return None
    port = note.get("port") if isinstance(note, dict) else None
    if type(port) is not int:
        return None
    uid = note.get("uid")
    who = uid if type(uid) is int else "?"
    return (
        f"\u26a0 port {port} taken by uid {who}: tool calls may have reached it; hooks now commands (ecc-hooks doctor)"
    )


def render_stdin(
    stdin: Mapping[str, Any],
    session: str | None,
    env: Mapping[str, str],
    now: float,
    after: list[Callable[[], None]] | None = None,
    stale: list[float] | None = None,
) -> str:
    """Everything between Claude Code's parsed stdin and the text to print (records the sensor, keeps the line).

    Every string of stdin is redacted first, so neither the sensor file, the last line nor the row holds a
    secret (the snapshot was redacted by the watcher that wrote it). ``after``: the two file writes are
    appended there instead of done (the watcher answers the status line first, then writes). ``stale``: gets how
    far the snapshot is behind the journal when it is (the command then starts the watcher again)."""
    stdin = redact_strings(stdin)  # type: ignore[assignment]

    def write(step: Callable[[], None]) -> None:
        if after is None:
            step()
        else:
            after.append(step)

    snapshot: dict[str, Any] = {}
    age = None
    if session:

        def sensor() -> None:
            try:
                record_sensor(session, stdin, now)
            except (OSError, ValueError, TypeError) as exc:
                _log("statusline-sensor", repr(exc))

        write(sensor)
        snapshot, age = load_snapshot(session, now)
    behind = snapshot_behind(session, age, now) if session and snapshot else None
    if behind is not None and stale is not None:
        stale.append(behind)
    config, config_error = load_config()
    lines = render_lines(
        stdin,
        snapshot,
        config,
        width=width_from(env, config),
        now=now,
        env=env,
        snapshot_age=age,
        config_error=config_error,
        color=color_from(env, config),
        snapshot_behind=behind,
        endpoint_taken=endpoint_taken(),
    )
    output = "\n".join(lines) or "ecc-hooks: nothing to show"
    if session:

        def keep() -> None:
            try:
                save_last_line(session, output)
            except OSError:
                pass

        write(keep)
    return output


def main(data: bytes | None = None, problem: str | None = None) -> int:
    """Status line entry point: always prints something useful, always returns 0. ``data``: stdin already
    read (by ``client``, which asked the watcher first)."""
    output = "ecc-hooks: status line failed (see errors.log)"
    session = None  # known before rendering, so a failed render can fall back to this session's last line
    try:
        if data is None:
            data, problem = read_stdin(0, STDIN_CAP, STDIN_TIMEOUT)
        stdin, refusal = parse_stdin(data, problem)
        if stdin is None:
            output = refusal
        else:
            session = paths.sanitize_session_id(stdin.get("session_id"))
            behind: list[float] = []
            output = render_stdin(stdin, session, os.environ, time.time(), stale=behind)
            if behind:  # no watcher keeps the snapshot current: start one (rate-limited, detached)
                from ecc_hooks.core.spawn import restart_watcher

                restart_watcher()
    except Exception as exc:
        _log("statusline-render", repr(exc))
        output = last_line(session) or output
    try:
        sys.stdout.write(output + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
