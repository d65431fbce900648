"""Our cost figures equal Claude Code's own, and our price table equals the prices the pinned client uses.

Two parts:

- **Price probes** (one client process for every model): for each model the client knows, scripted
  requests carry usage of ONE token kind at a time (input, 5m cache write, 1h cache write, cache read,
  then output on top of input) at several prompt sizes, so a price tier above some prompt size shows up.
  Each probe is one user turn of a stream-json print session; the per-model ``costUSD`` difference
  between two turn results is what the client charged for that request. Those derived prices must equal
  what ``ecc_hooks/data/prices.json`` gives for the same model and prompt size, and our tracker's total
  over the probe transcript must equal the transcript's ``cost-state``.
- **Sessions**: the default aliases and named models, with 1h cache writes and a subagent: our
  ``UsageTracker`` total (main + subagent transcripts) equals ``cost-state.totalCostUSD`` within 1e-6.
  An id the client does not know gives an unknown cost (None, model named), never a number.

Oracle: the client's ``cost-state`` / turn results. Nothing here hard-codes an expected price.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ecc_hooks.sources.usage import KINDS, UsageTracker, load_price_table
from tests.e2e import install_deps
from tests.e2e.api_server import Scenario, ScriptedAPI, SeenRequest, Step, Text, Usage, message_text, say, tool
from tests.e2e.conftest import _missing
from tests.e2e.harness import (
    RunResult,
    claude_bin,
    claude_version,
    install_hint,
    make_workspace,
    read_cost_state,
)
from tests.e2e.scenarios import CLIENT_MODELS
from tests.e2e.stream_client import StreamClient

pytestmark = pytest.mark.e2e

TOLERANCE = Decimal("0.000001")  # USD
M = Decimal(1_000_000)

# Every model id the pinned client's built-in catalog lists (its `CATALOG` of first-party ids), plus the
# `[1m]` spellings it accepts for the long-window models. Aliases are resolved at run time (initialize).
# Ids the client marks unknown (`hasUnknownModelCost`) are checked separately: they must stay unpriced.
CATALOG = (
    "claude-3-5-haiku",
    "claude-3-5-sonnet",
    "claude-3-7-sonnet",
    "claude-fable-5",
    "claude-fable-5-1",
    "claude-fable-5-2",
    "claude-haiku-4-5",
    "claude-haiku-5-5",
    "claude-mythos-5",
    "claude-mythos-5-1",
    "claude-mythos-5-2",
    "claude-opus-4-0",
    "claude-opus-4-1",
    "claude-opus-4-5",
    "claude-opus-4-6",
    "claude-opus-4-7",
    "claude-opus-4-8",
    "claude-opus-5",
    "claude-opus-5-5",
    "claude-sonnet-4-0",
    "claude-sonnet-4-5",
    "claude-sonnet-4-6",
    "claude-sonnet-5",
    "claude-sonnet-5-5",
    "claude-sonnet-4-5[1m]",
    "claude-sonnet-4-6[1m]",
    "claude-opus-4-6[1m]",
)
ALIASES = ("opus", "sonnet", "haiku")
# Prompt sizes (input + cache writes + cache reads) every kind is probed at, plus input alone at 1M (a
# tier above 250k changes the input price). The table's own tier thresholds (and one token past them)
# are added per model, so a boundary off by one fails too.
PROBE_SIZES = (100_000, 250_000)
INPUT_ONLY_SIZES = (1_000_000,)
# No legacy remap: claude-opus-4-0/4-1 are priced as themselves (the remap is checked in its own test).
PROBE_ENV = {"CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP": "1"}
PROCESSES = 2  # client processes probing in parallel (two cores)
# The client's prices are a function of the client binary: the derived prices are cached per version and
# plan under the real user's cache dir and re-probed when either changes (always under CI, or with
# ECC_E2E_REPROBE=1). The comparison with prices.json always runs.
CACHE_DIR = install_deps.cache_root()


def probe_usage(kind: str, size: int) -> Usage:
    """A request whose prompt is ``size`` tokens of one kind (output: ``size`` tokens over ``size`` input)."""
    return {
        "input": Usage(input_tokens=size),
        "cache_write_5m": Usage(cache_5m=size),
        "cache_write_1h": Usage(cache_1h=size),
        "cache_read": Usage(cache_read=size),
        "output": Usage(input_tokens=size, output_tokens=size),
    }[kind]


class ProbeScript:
    """Answers each probe turn by its marker (in the request's last user message), once; else usage 0.

    Keyed by marker, not by turn count, so a request the client adds on its own (a compaction summary
    after a large prompt, a retry) neither shifts the script nor adds usage. The client appends system
    reminders after the prompt (for the 5.x models, as a trailing ``system``-role message), so the marker
    is searched for in the last user message.
    """

    def __init__(self) -> None:
        self.usage: dict[str, Usage] = {}
        self.answered: set[str] = set()

    def __call__(self, request: SeenRequest) -> Step:
        users = [m for m in request.messages if isinstance(m, dict) and m.get("role") == "user"]
        found = MARKER.findall(message_text(users[-1])) if users else []
        marker = found[-1] if found else ""
        usage = self.usage.get(marker)
        if usage is None or marker in self.answered:
            return Step((Text("ok"),), None, Usage())
        self.answered.add(marker)
        return Step((Text("ok " + marker),), None, usage)


MARKER = re.compile(r"PROBE-\d{5}")


def probe_plan(model: str) -> list[tuple[str, int]]:
    """(kind, prompt size) of each probe request of ``model``."""
    row = load_price_table().lookup(model)
    sizes = set(PROBE_SIZES)
    for tier in row.tiers if row else ():
        sizes |= {tier.above_input_tokens, tier.above_input_tokens + 1}
    plan = [(kind, size) for size in sorted(sizes) for kind in KINDS]
    return plan + [("input", size) for size in INPUT_ONLY_SIZES if size not in sizes]


@dataclass
class ProbeRun:
    prices: dict[str, dict[int, dict[str, Decimal]]]  # model -> prompt size -> kind -> USD per Mtok
    resolved_aliases: dict[str, str]  # alias -> model (initialize's resolvedModel)
    set_model_answers: dict[str, str]
    request_models: dict[str, list[str]]  # model asked for -> model field of its requests
    unknown_model_cost: list[bool]  # each session's cost-state hasUnknownModelCost
    transcripts: list[str]  # each probe session's transcript (a copy, when cached)
    returncodes: list[int]
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "prices": {
                m: {str(s): {k: str(v) for k, v in r.items()} for s, r in by.items()} for m, by in self.prices.items()
            },
            "resolved_aliases": self.resolved_aliases,
            "set_model_answers": self.set_model_answers,
            "request_models": self.request_models,
            "unknown_model_cost": self.unknown_model_cost,
            "transcripts": self.transcripts,
            "returncodes": self.returncodes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProbeRun:
        prices = {
            m: {int(s): {k: Decimal(v) for k, v in r.items()} for s, r in by.items()}
            for m, by in data["prices"].items()
        }
        return cls(
            prices,
            data["resolved_aliases"],
            data["set_model_answers"],
            data["request_models"],
            data["unknown_model_cost"],
            data["transcripts"],
            data["returncodes"],
            cached=True,
        )


def _usd(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@dataclass
class _Group:
    """One client process probing some models; filled in by ``run``."""

    root: Path
    claude: Path
    models: list[str]
    first_turn: int
    probes: list[tuple[str, str, int, Decimal]] = field(default_factory=list)  # model, kind, size, cost
    answers: dict[str, str] = field(default_factory=dict)
    request_models: dict[str, list[str]] = field(default_factory=dict)
    resolved: dict[str, str] = field(default_factory=dict)
    returncode: int | None = None
    cost_state: dict[str, Any] | None = None
    transcript: Path | None = None
    error: BaseException | None = None

    def run(self, resolve_aliases: bool) -> None:
        try:
            self._run(resolve_aliases)
        except BaseException as exc:  # re-raised in the test's thread
            self.error = exc

    def _run(self, resolve_aliases: bool) -> None:
        ws = make_workspace(self.root, self.claude)
        script = ScriptedAPI(Scenario(steps=[ProbeScript()] * 5000))
        probe = script.scenario.steps[0]
        assert isinstance(probe, ProbeScript)
        turn = self.first_turn
        with script as api, StreamClient(ws, api, "claude-sonnet-4-5", extra_env=PROBE_ENV) as client:
            if resolve_aliases:
                pickers = client.initialize().get("models") or []
                self.resolved = {p["value"]: p.get("resolvedModel") for p in pickers if isinstance(p, dict)}
            for model in self.models:
                answer = self.answers[model] = client.set_model(model)
                seen_before = len(api.requests)
                before = Decimal(0)
                # the last turn of each model is tiny, so the next model switch does not compact
                for kind, size in [*probe_plan(model), ("settle", 1)]:
                    turn += 1
                    marker = f"PROBE-{turn:05d}"
                    probe.usage[marker] = Usage(input_tokens=1) if kind == "settle" else probe_usage(kind, size)
                    result = client.ask(marker)
                    assert not result.get("is_error"), result
                    spent = _usd(((result.get("modelUsage") or {}).get(answer) or {}).get("costUSD", 0))
                    if kind != "settle":
                        self.probes.append((model, kind, size, spent - before))
                    before = spent
                self.request_models[model] = sorted({r.model for r in api.requests[seen_before:] if r.script == "main"})
            self.returncode = client.close()
        self.transcript = next(ws.projects_dir.glob("*.jsonl"))
        self.cost_state = read_cost_state(self.transcript)
        assert self.cost_state is not None, f"no cost-state line in {self.transcript}"


def _probe(root: Path, claude: Path) -> ProbeRun:
    groups = []
    # aliases first (resolved in process 0's initialize), then the catalog, dealt round robin
    models = list(CATALOG)
    per = [models[i::PROCESSES] for i in range(PROCESSES)]
    for i, chunk in enumerate(per):
        groups.append(_Group(root / f"g{i}", claude, chunk, i * 10_000 // PROCESSES))
    threads = [threading.Thread(target=g.run, args=(i == 0,)) for i, g in enumerate(groups)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in groups:
        if g.error is not None:
            raise g.error
    resolved = groups[0].resolved
    extra = sorted({resolved[a] for a in ALIASES if resolved.get(a)} - set(CATALOG))
    if extra:  # an alias target the catalog list misses: probe it too
        late = _Group(root / "g-alias", claude, extra, 9_000)
        late.run(False)
        if late.error is not None:
            raise late.error
        groups.append(late)
    prices: dict[str, dict[int, dict[str, Decimal]]] = {}
    for g in groups:
        for model, kind, size, cost in g.probes:
            prices.setdefault(model, {}).setdefault(size, {})[kind] = cost * M / size
    for by_size in prices.values():
        for rates in by_size.values():
            if "output" in rates:
                rates["output"] -= rates["input"]  # the output probe carried `size` input tokens too
    return ProbeRun(
        prices=prices,
        resolved_aliases={a: resolved.get(a) for a in ALIASES},
        set_model_answers={m: a for g in groups for m, a in g.answers.items()},
        request_models={m: r for g in groups for m, r in g.request_models.items()},
        unknown_model_cost=[bool((g.cost_state or {}).get("hasUnknownModelCost")) for g in groups],
        transcripts=[str(g.transcript) for g in groups],
        returncodes=[g.returncode or 0 for g in groups],
    )


def _cache_key(claude: Path) -> str:
    plan = {m: probe_plan(m) for m in CATALOG}
    text = json.dumps([claude_version(), claude.resolve().stat().st_size, ALIASES, PROBE_ENV, plan], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory: pytest.TempPathFactory) -> ProbeRun:
    claude = claude_bin()
    if claude is None:
        _missing(f"Claude Code not installed: {install_hint()}")
    assert claude is not None
    cache = CACHE_DIR / f"price-probe-{claude_version()}-{_cache_key(claude)}.json"
    if not os.environ.get("CI") and not os.environ.get("ECC_E2E_REPROBE") and cache.exists():
        return ProbeRun.from_json(json.loads(cache.read_text()))
    run = _probe(tmp_path_factory.mktemp("probe"), claude)
    if not any(run.unknown_model_cost) and not any(run.returncodes):  # only a clean probe is worth keeping
        cache.parent.mkdir(parents=True, exist_ok=True)
        copies = []
        for i, transcript in enumerate(run.transcripts):
            copy = cache.with_name(f"{cache.stem}-session{i}.jsonl")
            shutil.copyfile(transcript, copy)
            copies.append(str(copy))
        cache.write_text(json.dumps({**run.to_json(), "transcripts": copies}, indent=1) + "\n")
    return run


def derived_rates(run: ProbeRun, model: str) -> dict[int, dict[str, Decimal]]:
    """Per prompt size: USD per million tokens of each kind probed, as the client charged them."""
    assert model in run.prices, f"{model} was not probed"
    return run.prices[model]


def test_probe_session_is_clean(probe_run: ProbeRun) -> None:
    assert probe_run.returncodes and not any(probe_run.returncodes)
    assert not any(probe_run.unknown_model_cost), "a probed model is unknown to the client"
    # set_model kept every id (no remap with CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP=1) and the requests
    # named it without the [1m] suffix (the window is a beta header, not part of the id)
    assert {m: a for m, a in probe_run.set_model_answers.items() if a != m} == {}
    assert {m: r for m, r in probe_run.request_models.items() if r != [m.replace("[1m]", "")]} == {}


def assert_same_prices(probe_run: ProbeRun, model: str) -> None:
    row = load_price_table().lookup(model)
    assert row is not None, f"{model}: the client prices it, our table does not know it"
    probed = derived_rates(probe_run, model)
    assert set(probed) >= set(PROBE_SIZES) | set(INPUT_ONLY_SIZES)
    for size, client in sorted(probed.items()):
        ours = dict(zip(KINDS, row.rates_for(size, fast=False).as_tuple()))
        diffs = {k: (str(v), str(ours[k])) for k, v in client.items() if abs(v - ours[k]) > TOLERANCE}
        assert not diffs, f"{model} at a {size}-token prompt, USD per Mtok (client, ours): {diffs}"


@pytest.mark.parametrize("model", CATALOG)
def test_table_prices_equal_the_clients(probe_run: ProbeRun, model: str) -> None:
    assert_same_prices(probe_run, model)


@pytest.mark.parametrize("alias", ALIASES)
def test_alias_targets_are_priced_like_the_client(probe_run: ProbeRun, alias: str) -> None:
    target = probe_run.resolved_aliases[alias]
    assert target, f"the client resolved no model for {alias}"
    assert_same_prices(probe_run, target)


def test_tracker_total_over_the_probe_transcripts(probe_run: ProbeRun) -> None:
    # our UsageTracker over each probe session's transcript (hundreds of requests, every model, every
    # kind, both sides of each tier) vs that transcript's cost-state, in total and per model
    assert probe_run.transcripts
    table = load_price_table()
    for transcript in probe_run.transcripts:
        usage = UsageTracker(transcript, env={}).update()
        state = read_cost_state(Path(transcript))
        assert state is not None
        assert usage.cost.unknown_models == (), "our tracker left a probed model unpriced"
        assert abs(usage.cost.computed_usd - _usd(state["totalCostUSD"])) <= TOLERANCE, (
            usage.cost.computed_usd,
            state["totalCostUSD"],
        )
        client: dict[str, Decimal] = {}
        for model, entry in state["modelUsage"].items():
            row = table.lookup(model)
            assert row is not None, model
            client[row.id] = client.get(row.id, Decimal(0)) + _usd(entry["costUSD"])
        ours = {m.model: m.cost_usd for m in usage.models}
        assert set(ours) == set(client)
        for model, cost in ours.items():
            assert cost is not None and abs(cost - client[model]) <= TOLERANCE, (model, cost, client[model])


# ----------------------------------------------------------------------------------------- sessions

Run = Callable[..., RunResult]
SESSION_MODELS = CLIENT_MODELS
SUBAGENT = "ECC-COST-SUBAGENT"


def session_scenario(long_context: bool) -> Scenario:
    """A main conversation that delegates to a (foreground) subagent; 1h and 5m cache writes on both sides."""
    big = 260_000 if long_context else 0  # past 200k: only a 1M window gets there
    return Scenario(
        steps=[
            tool(
                "Agent",
                {
                    "description": "count files",
                    "prompt": f"{SUBAGENT}: count the files here",
                    "subagent_type": "general-purpose",
                },
                usage=Usage(input_tokens=1_234, output_tokens=87, cache_5m=3_001, cache_1h=20_003),
            ),
            say(
                "The agent counted them.",
                usage=Usage(input_tokens=321, output_tokens=45, cache_read=23_004 + big, cache_1h=1_507),
            ),
        ],
        subagents={
            SUBAGENT: [
                tool(
                    "Bash",
                    {"command": "ls | wc -l", "description": "count files"},
                    usage=Usage(input_tokens=811, output_tokens=33, cache_1h=9_001),
                ),
                say("2 files", usage=Usage(input_tokens=57, output_tokens=12, cache_read=9_001, cache_5m=413)),
            ]
        },
    )


def tracked(result: RunResult):
    assert result.returncode == 0, f"claude exited {result.returncode}: {result.stderr}"
    assert result.transcript is not None and result.cost_state is not None
    return UsageTracker(str(result.transcript), env={}).update()


@pytest.mark.parametrize("model", SESSION_MODELS)
def test_session_cost_equals_claude_codes(claude_run: Run, model: str) -> None:
    result = claude_run(session_scenario("[1m]" in model), "delegate the count", model=model)
    usage = tracked(result)
    state = result.cost_state
    assert result.subagent_transcripts, "the subagent wrote no transcript"
    assert [r.script for r in result.requests if r.script != "side"].count(SUBAGENT) == 2
    # 1h cache writes really reached both sides' usage
    assert usage.tokens["cache_write_1h"] == 20_003 + 1_507 + 9_001
    assert usage.cost.subagents_usd and usage.cost.subagents_usd > 0
    assert usage.cost.computed_usd is not None, f"unpriced: {usage.cost.unknown_models}"
    diff = usage.cost.computed_usd - _usd(state["totalCostUSD"])
    print(
        f"\n[cost] {model}: requested {sorted({r.model for r in result.requests if r.script == 'main'})} "
        f"ours {usage.cost.computed_usd} client {state['totalCostUSD']} diff {diff}"
    )
    assert abs(diff) <= TOLERANCE
    assert usage.cost.transcript_diff_usd is not None and abs(usage.cost.transcript_diff_usd) <= TOLERANCE


def test_unknown_model_cost_is_unknown(claude_run: Run) -> None:
    model = "claude-nonexistent-9"
    result = claude_run(session_scenario(False), "delegate the count", model=model)
    usage = tracked(result)
    # the client puts a number on it anyway, but flags it
    assert result.cost_state["hasUnknownModelCost"] is True
    assert isinstance(result.cost_state["totalCostUSD"], (int, float))
    assert usage.cost.computed_usd is None
    assert model in usage.cost.unknown_models
    print(
        f"\n[cost] {model}: ours None (unknown {usage.cost.unknown_models}) client {result.cost_state['totalCostUSD']}"
    )


@pytest.mark.parametrize("disable_remap", [False, True])
def test_retired_id_is_remapped_and_priced_as_sent(claude_run: Run, disable_remap: bool) -> None:
    env = {"CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP": "1"} if disable_remap else {}
    steps = [say("remap?", usage=Usage(input_tokens=5_000, output_tokens=100, cache_1h=2_000))]
    result = claude_run(Scenario(steps=steps), "hi", model="claude-opus-4-1", extra_env=env)
    usage = tracked(result)
    sent = {r.model for r in result.requests if r.script == "main"}
    if disable_remap:
        assert sent == {"claude-opus-4-1"}
    else:
        assert sent != {"claude-opus-4-1"} and len(sent) == 1, sent  # remapped before the request
        assert "remapped" in result.stderr
    assert set(result.cost_state["modelUsage"]) == sent
    assert usage.cost.computed_usd is not None
    print(
        f"\n[cost] claude-opus-4-1 remap={'off' if disable_remap else 'on'}: sent {sent} "
        f"ours {usage.cost.computed_usd} client {result.cost_state['totalCostUSD']}"
    )
    assert abs(usage.cost.computed_usd - _usd(result.cost_state["totalCostUSD"])) <= TOLERANCE
