"""ECC's own functions as a differential oracle, called thousands of times without a node start each.

``EccOracle`` keeps one ``node`` process that loads modules of the pinned ``ecc-universal`` package
(tests/e2e/ECC_UNIVERSAL_VERSION) and answers calls over JSON lines:

    with EccOracle(ecc_root) as ecc:
        snapshot = ecc.call("scripts/lib/session-adapters/registry.js", "inspectSessionTarget",
                            [target, {"cwd": str(repo)}], cwd=repo, env={"TMUX_TMPDIR": str(tmux)})

Each call runs in ``cwd`` (default: unchanged) with ``env`` laid over the node process's environment for that
call only (``TZ`` included: node reads it again when it changes); ``process.exit`` and writes to stdout inside
ECC's code are caught, so one call cannot end or corrupt the channel. A throw comes back as ``EccError`` with
ECC's message. Values cross as JSON (a ``Date`` as its ISO string, ``undefined`` dropped as JSON does).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

DRIVER = r"""
'use strict';
const path = require('path');
const readline = require('readline');
const root = process.argv[1];
const out = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);  // ECC's prints go to stderr
console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
const realExit = process.exit;
process.exit = (code) => { throw Object.assign(new Error(`process.exit(${code})`), {eccExit: code}); };
const home = process.cwd();
const base = {...process.env};
readline.createInterface({input: process.stdin}).on('line', async (line) => {
  let reply;
  const call = JSON.parse(line);
  try {
    for (const key of Object.keys(process.env)) if (!(key in base)) delete process.env[key];
    Object.assign(process.env, base, call.env || {});
    for (const [key, value] of Object.entries(call.env || {})) if (value === null) delete process.env[key];
    process.chdir(call.cwd || home);
    const mod = require(path.resolve(root, call.module));
    const value = await mod[call.fn](...(call.args || []));
    reply = {ok: true, value: value === undefined ? null : value};
  } catch (error) {
    reply = {ok: false, error: String(error && error.message || error), exit: error && error.eccExit};
  }
  out(JSON.stringify(reply) + '\n');
});
process.stdin.on('end', () => realExit(0));
"""


class EccError(Exception):
    """ECC's function threw (or called ``process.exit``); the message is ECC's."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class EccOracle:
    """One node process serving calls into the ``ecc-universal`` package at ``root``."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        base = {k: v for k, v in os.environ.items() if k != "TMUX"}
        self.proc = subprocess.Popen(
            ["node", "-e", DRIVER, str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**base, **(env or {})},
        )

    def call(
        self,
        module: str,
        fn: str,
        args: list[Any] | None = None,
        *,
        cwd: Path | str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Any:
        """``require(root/module)[fn](...args)``: its value, or ``EccError`` when it threw. ``env`` entries set
        to None are unset for the call."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = {"module": module, "fn": fn, "args": args or [], "cwd": str(cwd) if cwd else None, "env": env}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the ECC oracle (node) ended (exit {self.proc.wait(timeout=10)})")
        reply = json.loads(line)
        if not reply["ok"]:
            raise EccError(reply["error"], reply.get("exit"))
        return reply["value"]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> EccOracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
