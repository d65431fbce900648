"""An interactive agent's first prompt is pasted into its input box, never into a dialog: Claude Code 2.1.328's
folder trust question draws ``❯`` at its selected option ("No, exit"), and Enter answers it. Real tmux on its
own socket, a stand-in agent that shows that dialog until the test "accepts" it, then an input box."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecc_hooks.runtime import agents
from tests.helpers import wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")

STAND_IN = r"""
import os, select, sys
accepted, answered, got = sys.argv[1:4]
print("Quick safety check: Is this a project you created or one you trust?")
print("  Yes, I trust this folder")
print("\u276f No, exit")
print("Enter to confirm \u00b7 Esc to cancel", flush=True)
while not os.path.exists(accepted):
    if select.select([sys.stdin], [], [], 0.1)[0]:
        open(answered, "w").write(sys.stdin.readline())  # Enter reached the dialog: "No, exit"
        sys.exit(1)
print("\x1b[2J\x1b[H", end="")
print("\u2500" * 40)
print("\u276f ", end="", flush=True)
line = sys.stdin.readline()
open(got, "w").write(line)
"""


@pytest.fixture
def tmux_socket() -> object:
    name = f"ecc-test-paste-{os.getpid()}"
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)


def test_the_first_prompt_waits_for_the_trust_dialog_to_be_answered(tmp_path: Path, tmux_socket: str) -> None:
    claude = agents.get("claude")
    script = tmp_path / "agent.py"
    script.write_text(STAND_IN)
    accepted, answered, got = tmp_path / "accepted", tmp_path / "answered", tmp_path / "got"
    prompt = "fix the login bug and run the tests"
    agent = agents.shell([sys.executable, str(script), str(accepted), str(answered), str(got)])
    line = f"{agents.paste_first(prompt, claude.ready, claude.not_ready)} exec {agent}"
    subprocess.run(
        ["tmux", "-L", tmux_socket, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "30", line],
        check=True,
        timeout=30,
    )

    def screen() -> str:
        done = subprocess.run(["tmux", "-L", tmux_socket, "capture-pane", "-p"], capture_output=True, timeout=30)
        return done.stdout.decode("utf-8", "replace")

    wait_until(lambda: "No, exit" in screen(), 30, screen)
    time.sleep(3)  # the helper looks 0.2 s apart: a paste and Enter into the dialog would have come by now
    assert not answered.exists(), "Enter answered the trust dialog (No, exit)"
    assert prompt not in screen()

    accepted.write_text("yes")  # the person accepts the dialog; the input box comes up
    wait_until(got.exists, 60, screen)
    assert got.read_text().strip() == prompt
    assert not answered.exists()
