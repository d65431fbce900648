"""Generate the published JSON Schemas in ``schemas/`` from the pydantic models.

``python -m ecc_hooks.schemas`` rewrites them; ``--check`` exits 1 when a file differs
from its model (CI and tests/test_schemas.py keep them current).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

REPO_SCHEMAS = Path(__file__).resolve().parent.parent.parent / "schemas"  # ecc_hooks/cli/schemas.py


def _registry() -> dict[str, type[BaseModel]]:
    """Schema file stem -> model. A new contract adds one line here."""
    from ecc_hooks.models.event import Event
    from ecc_hooks.models.hud import HudStatus
    from ecc_hooks.models.loop_status import LoopStatus, LoopStatusIndex, LoopStatusSession
    from ecc_hooks.models.plan import Plan
    from ecc_hooks.models.session import SessionSnapshot

    return {
        "ecc.event.v1": Event,
        "ecc.hud-status.v1": HudStatus,
        "ecc.session.v1": SessionSnapshot,
        "ecc.loop-status.v1": LoopStatus,
        "ecc.loop-status.index.v1": LoopStatusIndex,
        "ecc.loop-status.session.v1": LoopStatusSession,
        "ecc.orchestration-plan.v1": Plan,
    }


def render(model: type[BaseModel], schema_id: str) -> str:
    """The schema text for ``model``: stable key order, trailing newline."""
    schema = model.model_json_schema(mode="serialization")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id, **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema_files() -> dict[str, str]:
    """File name -> expected text for every published schema."""
    return {f"{stem}.schema.json": render(model, stem) for stem, model in _registry().items()}


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Write (or with ``--check`` verify) every schema under ``--dir``."""
    parser = argparse.ArgumentParser(prog="python -m ecc_hooks.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when a schema file is out of date")
    parser.add_argument("--dir", type=Path, default=REPO_SCHEMAS)
    args = parser.parse_args(argv)
    stale = []
    for name, text in schema_files().items():
        path = args.dir / name
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(name)
        else:
            args.dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            out(f"wrote {path}")
    if stale:
        out("out of date: " + ", ".join(stale) + " (run: python -m ecc_hooks.schemas)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
