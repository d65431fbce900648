"""What the end-to-end tests need, installed when missing: the one script both ``.ci/run`` and the test run use.

The README's test command is the whole suite: ``tests/conftest.py`` calls :func:`ensure` once, after collection,
when e2e tests were selected, and ``.ci/run`` runs this file (``python3 tests/e2e/install_deps.py --strict``)
before the tests, so the two cannot drift. What it installs, each only when missing, into the cache the tests
look in (``$XDG_CACHE_HOME/ecc-hooks``, else ``~/.cache/ecc-hooks`` of the real user):

- the pinned Claude Code client (``CLAUDE_CODE_VERSION``), ``npm install`` into ``claude-code-<version>``;
- the pinned ``ecc-universal`` (``ECC_UNIVERSAL_VERSION``, ECC's own tools, the oracle of the parity tests),
  ``npm install --ignore-scripts`` into ``ecc-universal-<version>``;
- the coding agents of ``AGENT_VERSIONS`` (npm into ``agents/<package>@<version>``, pip into a venv there);
- tmux, with ``apt-get`` only when running as root (otherwise it says how to get it).

Nothing is installed when ``ECC_TESTS_INSTALL=0``; ``ECC_CLAUDE_BIN`` / ``ECC_UNIVERSAL_DIR`` point at a client or
a package of the user's own instead. Whatever cannot be had is reported with why (no npm, offline, not root): the
tests that need it skip with that reason (fail under ``CI``), and the run's summary lists it. Installs are
serialized by a lock in the cache folder (two runs at once do not race npm). Standard library only: ``.ci/run``
runs it before any virtual environment exists.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

E2E_DIR = Path(__file__).resolve().parent
INSTALL_TIMEOUT = 900  # seconds for one npm or pip install (the client is ~100 MB)
_REAL_XDG_CACHE = os.environ.get("XDG_CACHE_HOME")  # read once: tests swap HOME and may set it per test
REAL_HOME = Path(pwd.getpwuid(os.getuid()).pw_dir)


def pinned(name: str) -> str:
    return (E2E_DIR / name).read_text().strip()


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/ecc-hooks``, else the real user's ``~/.cache/ecc-hooks`` (as of this module's import)."""
    return (Path(_REAL_XDG_CACHE) if _REAL_XDG_CACHE else REAL_HOME / ".cache") / "ecc-hooks"


def claude_prefix() -> Path:
    return cache_root() / f"claude-code-{pinned('CLAUDE_CODE_VERSION')}"


def claude_binary() -> Path:
    """Where the pinned client is (installed or not); ``$ECC_CLAUDE_BIN`` when set."""
    configured = os.environ.get("ECC_CLAUDE_BIN")
    return Path(configured) if configured else claude_prefix() / "node_modules" / ".bin" / "claude"


def ecc_prefix() -> Path:
    return cache_root() / f"ecc-universal-{pinned('ECC_UNIVERSAL_VERSION')}"


def ecc_package() -> Path:
    """The ``ecc-universal`` package folder (installed or not); ``$ECC_UNIVERSAL_DIR`` when set."""
    configured = os.environ.get("ECC_UNIVERSAL_DIR")
    return Path(configured) if configured else ecc_prefix() / "node_modules" / "ecc-universal"


@dataclass(frozen=True)
class Agent:
    """One line of ``AGENT_VERSIONS``: ``registry package version binary``."""

    registry: str
    package: str
    version: str
    binary: str

    @property
    def root(self) -> Path:
        return cache_root() / "agents" / f"{self.package}@{self.version}"

    @property
    def bin_dir(self) -> Path:
        return self.root / "node_modules" / ".bin" if self.registry == "npm" else self.root / "venv" / "bin"


def agents() -> list[Agent]:
    out = []
    for line in (E2E_DIR / "AGENT_VERSIONS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(Agent(*line.split()[:4]))
    return out


@dataclass(frozen=True)
class Dep:
    """One thing the tests need: where it is, or why it is not there."""

    name: str
    ok: bool
    detail: str  # the path (ok) or the reason (not ok)
    installed_now: bool = False


RESULTS: dict[str, Dep] = {}  # the last ensure() of this process, by name (the e2e skips quote the reason)


def why_missing(name: str) -> str:
    """The reason ``name`` is not there, as the install found it (empty when it was not looked for)."""
    dep = RESULTS.get(name)
    return "" if dep is None or dep.ok else dep.detail


def _package_version(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _run(argv: list[str], log: Callable[[str], None]) -> str | None:
    """Run an installer; None when it worked, else its last output lines."""
    log("  $ " + " ".join(argv))
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{argv[0]}: {exc}"
    if done.returncode == 0:
        return None
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return f"{argv[0]} exited {done.returncode}: " + " / ".join(tail)


def _npm_install(prefix: Path, spec: str, log: Callable[[str], None], *extra: str) -> str | None:
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found (install Node.js with npm to have it)"
    prefix.mkdir(parents=True, exist_ok=True)
    return _run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error", *extra, spec],
                log)  # fmt: skip


def _tmux(install: bool, log: Callable[[str], None]) -> Dep:
    if shutil.which("tmux"):
        return Dep("tmux", True, shutil.which("tmux") or "tmux")
    if not install:
        return Dep("tmux", False, "tmux not installed (ECC_TESTS_INSTALL=0)")
    if os.getuid() != 0 or shutil.which("apt-get") is None:
        how = "not root" if os.getuid() != 0 else "no apt-get"
        return Dep("tmux", False, f"tmux not installed ({how}: install it with your package manager, e.g. "
                                  "sudo apt-get install tmux)")  # fmt: skip
    env_argv = ["env", "DEBIAN_FRONTEND=noninteractive"]
    problem = _run([*env_argv, "apt-get", "update", "-qq"], log) or _run(
        [*env_argv, "apt-get", "install", "-y", "-qq", "tmux"], log
    )
    if problem or not shutil.which("tmux"):
        return Dep("tmux", False, f"tmux could not be installed: {problem or 'not on PATH after apt-get'}")
    return Dep("tmux", True, shutil.which("tmux") or "tmux", installed_now=True)


def _claude(install: bool, log: Callable[[str], None]) -> Dep:
    version = pinned("CLAUDE_CODE_VERSION")
    binary = claude_binary()
    if os.environ.get("ECC_CLAUDE_BIN"):
        ok = os.access(binary, os.X_OK)
        return Dep("claude-code", ok, str(binary) if ok else f"ECC_CLAUDE_BIN={binary} is not an executable")
    package = claude_prefix() / "node_modules" / "@anthropic-ai" / "claude-code"
    if os.access(binary, os.X_OK) and _package_version(package) == version:
        return Dep("claude-code", True, str(binary))
    if not install:
        return Dep("claude-code", False, f"Claude Code {version} not in {claude_prefix()} (ECC_TESTS_INSTALL=0)")
    log(f"installing Claude Code {version} into {claude_prefix()}")
    problem = _npm_install(claude_prefix(), f"@anthropic-ai/claude-code@{version}", log)
    if problem is None and os.access(binary, os.X_OK):
        return Dep("claude-code", True, str(binary), installed_now=True)
    return Dep("claude-code", False, f"Claude Code {version} could not be installed: {problem or 'no binary'}")


def _ecc(install: bool, log: Callable[[str], None]) -> Dep:
    version = pinned("ECC_UNIVERSAL_VERSION")
    package = ecc_package()
    if shutil.which("node") is None:
        return Dep("ecc-universal", False, "node not found (ECC's tools run on Node.js)")
    if os.environ.get("ECC_UNIVERSAL_DIR") or _package_version(package) == version:
        ok = (package / "scripts" / "session-inspect.js").exists()
        return Dep("ecc-universal", ok, str(package) if ok else f"no ecc-universal package in {package}")
    if not install:
        return Dep("ecc-universal", False, f"ecc-universal {version} not in {ecc_prefix()} (ECC_TESTS_INSTALL=0)")
    log(f"installing ecc-universal {version} into {ecc_prefix()}")
    problem = _npm_install(ecc_prefix(), f"ecc-universal@{version}", log, "--ignore-scripts")
    if problem is None and _package_version(package) == version:
        return Dep("ecc-universal", True, str(package), installed_now=True)
    return Dep("ecc-universal", False, f"ecc-universal {version} could not be installed: {problem or 'no package'}")


def _agent(agent: Agent, install: bool, log: Callable[[str], None]) -> Dep:
    name = f"{agent.package}@{agent.version}"
    binary = agent.bin_dir / agent.binary
    if os.access(binary, os.X_OK):
        return Dep(name, True, str(binary))
    if not install:
        return Dep(name, False, f"{name} not in {agent.root} (ECC_TESTS_INSTALL=0)")
    log(f"installing {name} into {agent.root}")
    if agent.registry == "npm":
        problem = _npm_install(agent.root, name, log)
    else:
        agent.root.mkdir(parents=True, exist_ok=True)
        venv = agent.root / "venv"
        problem = _run([sys.executable, "-m", "venv", str(venv)], log) or _run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", f"{agent.package}=={agent.version}"],
            log,
        )  # fmt: skip
    if problem is None and os.access(binary, os.X_OK):
        return Dep(name, True, str(binary), installed_now=True)
    return Dep(name, False, f"{name} could not be installed: {problem or 'no binary'}")


def ensure(log: Callable[[str], None] = print, install: bool | None = None) -> list[Dep]:
    """Everything the e2e tests need, installed when missing (unless ``install`` is False, or
    ``ECC_TESTS_INSTALL=0``); one :class:`Dep` each, kept in :data:`RESULTS`."""
    if install is None:
        install = os.environ.get("ECC_TESTS_INSTALL", "1") != "0"
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".install.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run installing the same thing: wait for it, then find it there
        deps = [_tmux(install, log), _claude(install, log), _ecc(install, log)]
        deps += [_agent(agent, install, log) for agent in agents()]
    RESULTS.clear()
    RESULTS.update((dep.name, dep) for dep in deps)
    return deps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when anything could not be had (CI)")
    parser.add_argument("--check", action="store_true", help="install nothing: only say what is there")
    args = parser.parse_args(argv)
    deps = ensure(log=lambda line: print(line, file=sys.stderr, flush=True), install=False if args.check else None)
    for dep in deps:
        mark = "ok" if dep.ok else "MISSING"
        print(f"{dep.name}: {mark}{' (installed now)' if dep.installed_now else ''}: {dep.detail}")
    return 1 if args.strict and not all(dep.ok for dep in deps) else 0


if __name__ == "__main__":
    sys.exit(main())
