"""``errors.log``: the size-bounded log of what the hook and the status line could not use (they never print
and never fail, so this is where their problems go). Standard library only: both hot paths write it."""

from __future__ import annotations

import time

from ecc_hooks.core import jsonlite, paths
from ecc_hooks.core.fsio import append_bounded
from ecc_hooks.core.redact import redact

ERRORS_LOG_MAX = 1 << 20


def log_error(kind: str, detail: str = "", data: bytes = b"") -> None:
    """Append one entry to the size-bounded errors.log; never raises."""
    try:
        entry: dict[str, object] = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "kind": kind}
        if detail:
            entry["detail"] = redact(detail)[:500]
        if data:
            entry["bytes"] = len(data)
            entry["head"] = redact(data[:160].decode("utf-8", "replace"))
        line = jsonlite.dumps(entry, ensure_ascii=True).encode("ascii") + b"\n"
        append_bounded(paths.errors_log_path(), line, ERRORS_LOG_MAX)
    except Exception:
        pass
