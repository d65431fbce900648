"""Session adapters: one module per source of sessions, found by scanning this package.

An adapter module defines ``ADAPTER_ID``, ``DESCRIPTION``, ``TARGET_TYPES`` (the target types it reads)
and ``inspect(target, ctx) -> Inspection``; it raises ``TargetError`` for a target it cannot read.
Modules whose name starts with ``_`` are helpers. A new adapter is one new module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from ecc_hooks.handoff.adapters._common import Context, Details, Inspection, Target, TargetError

__all__ = ["Context", "Details", "Inspection", "Target", "TargetError", "adapter_for", "registry"]


def registry() -> dict[str, ModuleType]:
    """Adapter id -> module, in module-name order."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        adapter_id = getattr(module, "ADAPTER_ID", None)
        if isinstance(adapter_id, str) and callable(getattr(module, "inspect", None)):
            found[adapter_id] = module
    return found


def adapter_for(target_type: str) -> ModuleType | None:
    """The first adapter that accepts ``target_type``."""
    for module in registry().values():
        if target_type in module.TARGET_TYPES:
            return module
    return None
