"""``core.launchfile``: a program started with its arguments and environment from a private file (never from a
command line). The format round-trips any arguments and environment; garbage is refused with ValueError; the
launcher gives the program exactly the file's environment (plus tmux's own terminal variables), removes the file,
and refuses a link."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.core import launchfile

items = st.binary(min_size=1, max_size=40).filter(lambda b: b"\0" not in b)
names = st.binary(min_size=1, max_size=20).filter(lambda b: b"\0" not in b and b"=" not in b)
values = st.binary(max_size=40).filter(lambda b: b"\0" not in b)


@given(program=items, argv=st.lists(st.binary(max_size=30).filter(lambda b: b"\0" not in b), max_size=6),
       env=st.dictionaries(names, values, max_size=8))  # fmt: skip
@settings(max_examples=300)
def test_the_format_round_trips(program: bytes, argv: list[bytes], env: dict[bytes, bytes]) -> None:
    assert launchfile.decode(launchfile.encode(program, argv, env)) == (program, argv, env)


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_garbage_is_refused_never_crashes(data: bytes) -> None:
    try:
        program, argv, env = launchfile.decode(data)
    except ValueError:
        return
    assert program and b"\0" not in program and all(b"=" not in k for k in env)


@pytest.mark.parametrize("env", [{"A=B": "x"}, {"": "x"}, {"A": "x\0y"}])
def test_what_cannot_be_carried_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        launchfile.encode("/bin/sh", ["/bin/sh"], env)


def test_the_launcher_runs_the_program_with_exactly_the_files_environment(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    path = folder / "launch-abc"
    secret = "sk-ant-api03-" + "x" * 40
    launchfile.write(str(path), "/bin/sh", ["/bin/sh", "-c", "env; cat /proc/$$/cmdline"], {"K": f"a {secret}"})
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    done = subprocess.run(
        ["/bin/sh", "-c", launchfile.command(str(path))],
        env={"PATH": "/usr/bin:/bin", "TMUX_PANE": "%9", "LEAK": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    shown = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and "\0" not in line)
    assert shown["K"] == f"a {secret}" and shown["TMUX_PANE"] == "%9" and "LEAK" not in shown
    assert not path.exists()  # read once, then gone
    assert secret not in launchfile.command(str(path))


def test_the_launcher_refuses_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(launchfile.encode("/bin/sh", ["/bin/sh", "-c", "echo ran"], {}))
    link = tmp_path / "launch-link"
    os.symlink(real, link)
    done = subprocess.run(["/bin/sh", "-c", launchfile.command(str(link))], capture_output=True, text=True, timeout=60)
    assert done.returncode == 127 and "ran" not in done.stdout
