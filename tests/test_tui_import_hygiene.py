"""The full-screen HUD's toolkit (Textual, and Rich under it) stays out of everything else.

Textual is a runtime dependency for ``ecc-hooks hud`` only: a hook call, the status line and the one-shot
``status`` command must not pay its import (tens of milliseconds and megabytes) nor break when it is broken.
Each module is imported in a fresh interpreter and ``sys.modules`` is read there; the positive control proves
the check sees a Textual import when there is one.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO

TOOLKITS = ("textual", "rich")
KEPT_CLEAN = [
    "ecc_hooks.capture.client",
    "ecc_hooks.capture.hook",
    "ecc_hooks.statusline.client",
    "ecc_hooks.statusline.render",
    "ecc_hooks.cli.status",
]


def toolkit_modules_loaded_by(module: str) -> list[str]:
    """The Textual and Rich modules in ``sys.modules`` after importing ``module`` in a fresh interpreter."""
    code = (
        f"import sys, importlib\nimportlib.import_module({module!r})\n"
        f"found = sorted(m for m in sys.modules if m.split('.')[0] in {TOOLKITS!r})\n"
        "import json\nprint(json.dumps(found))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO), timeout=60)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", KEPT_CLEAN)
def test_module_loads_neither_textual_nor_rich(module: str) -> None:
    assert toolkit_modules_loaded_by(module) == []


def test_the_check_sees_a_toolkit_import() -> None:
    """Positive control: importing a Textual module is seen, Rich under it too (the check is not vacuous)."""
    loaded = toolkit_modules_loaded_by("textual.widget")
    assert "textual" in loaded and "rich" in loaded
