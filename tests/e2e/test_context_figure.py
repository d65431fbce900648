"""One context figure, the client's own: with the interactive client in tmux past 80% of its usable window, its
screen says "N% context used"; our status line row, the HUD's ``usedPct``, its warning and the status table say
the same N (the last response's prompt and output over the window less the 20k the client keeps for output)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, Usage, say
from tests.e2e.conftest import Screen
from tests.e2e.harness import Workspace
from tests.e2e.test_context_conformance import install_statusline
from tests.e2e.test_needs_you import doc, status

pytestmark = pytest.mark.e2e

REPLY = "CTX-FIGURE-DONE"
ROW = re.compile(r"ctx [\u2588\u2591 ]*(\d+)%")  # our row's context segment, bar and figure


@pytest.mark.parametrize(("prompt", "output"), [(160_200, 1_000), (150_000, 10)])
def test_the_row_and_the_hud_say_what_the_clients_screen_says(
    screen: Callable[..., Screen], workspace: Workspace, scripted_api: ScriptedAPI, prompt: int, output: int
) -> None:
    install_statusline(workspace)
    usage = Usage(input_tokens=200, cache_read=prompt - 200, output_tokens=output)

    def settled(text: str) -> bool:
        return REPLY in text and re.search(r"\d+% context used", text) is not None and ROW.search(text) is not None

    shown = screen(Scenario(steps=[say(REPLY, usage=usage)]), "go", wait_for=settled)
    theirs = int(re.search(r"(\d+)% context used", shown.text).group(1))
    found = ROW.search(shown.text)
    assert found is not None and int(found.group(1)) == theirs, shown.text
    deadline = time.monotonic() + 30
    while doc(workspace)["context"]["contextWindow"]["usedPct"] is None and time.monotonic() < deadline:
        time.sleep(0.2)  # the sensor the status line recorded
    hud = doc(workspace)["context"]["contextWindow"]
    assert hud["usedPct"] == theirs and hud["compactsAtPct"] == pytest.approx(92.8, abs=0.05)
    reasons = doc(workspace)["risk"]["reasons"]
    warning = [r for r in reasons if r.startswith("context ")]
    assert not warning or f"{theirs}% used" in warning[0]  # the warning speaks the same figure
    assert f"{theirs}% used" in status(workspace, "--all").stdout
