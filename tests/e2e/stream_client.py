"""One long-lived ``claude -p --input-format stream-json`` session: many turns, model switches, per-turn cost.

Print mode with stream-json input keeps one process (and one cost tracker) across user turns. After each
turn the client emits a ``result`` event with its cumulative ``modelUsage[<model>].costUSD`` (the same
tracker the transcript's final ``cost-state`` line is written from), so the difference between two
results is the cost of the requests that turn made. ``set_model`` (a control request) switches the model
between turns; ``initialize`` returns, among others, the model picker with each alias's ``resolvedModel``.
"""

from __future__ import annotations

import json
import subprocess
import threading
from typing import Any

from tests.e2e.api_server import ScriptedAPI
from tests.e2e.harness import Workspace

TURN_TIMEOUT = 60.0  # seconds for one turn's result


class StreamClient:
    """``with StreamClient(ws, api, model) as c: c.set_model(m); c.ask("x") -> result event``."""

    def __init__(
        self,
        ws: Workspace,
        api: ScriptedAPI,
        model: str,
        *,
        settings: str = "{}",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        # settings "{}": no hooks, so a turn costs ~0.1 s of client time instead of several hook processes
        self.args = [
            str(ws.claude),
            "-p",
            "--input-format",
            "stream-json",
            "--output-format",
            "stream-json",
            "--verbose",
            "--settings",
            settings,
            "--model",
            model,
        ]
        self.ws, self.api, self.env = ws, api, ws.env(api, extra_env)
        self.proc: subprocess.Popen[str] | None = None
        self.events: list[dict[str, Any]] = []
        self._ids = 0

    def __enter__(self) -> StreamClient:
        self.proc = subprocess.Popen(
            self.args,
            cwd=self.ws.work,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> int | None:
        """Close stdin (the session ends and writes its cost-state line) and wait; kill if it hangs."""
        proc = self.proc
        if proc is None:
            return None
        try:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
            proc.wait(timeout=TURN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        return proc.returncode

    def _send(self, obj: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def _until(self, wanted: str) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        proc = self.proc
        timer = threading.Timer(TURN_TIMEOUT, proc.kill)  # a hung client must not hang the suite
        timer.start()
        try:
            while True:
                line = proc.stdout.readline()
                if not line:
                    raise AssertionError(f"client ended before a {wanted} event (rc={proc.poll()})")
                event = json.loads(line)
                self.events.append(event)
                if event.get("type") == wanted:
                    return event
        finally:
            timer.cancel()

    def control(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send a control request; return its response payload (fails on an error response)."""
        self._ids += 1
        self._send({"type": "control_request", "request_id": f"ecc-{self._ids}", "request": request})
        event = self._until("control_response")
        response = event["response"]
        assert response.get("subtype") == "success", response
        return response.get("response") or {}

    def initialize(self) -> dict[str, Any]:
        return self.control({"subtype": "initialize"})

    def set_model(self, model: str) -> str:
        """Switch the session's model; returns the model the client says it now uses."""
        return self.control({"subtype": "set_model", "model": model}).get("model")

    def ask(self, text: str) -> dict[str, Any]:
        """One user turn; returns its ``result`` event (cumulative cost and modelUsage)."""
        self._send({"type": "user", "message": {"role": "user", "content": text}})
        return self._until("result")
