"""``UsageTracker``: a session's token usage, cost, context, burn rate and budget trend, read incrementally.

The tracker owns one ``FileScan`` per transcript (main + ``subagents/agent-*.jsonl``) and one ``Ledger``.
``update()`` reads only what was appended since the last call and returns an immutable ``SessionUsage``.
``to_state()`` saves the read positions together with the very records they account for, so a daemon that
persists it atomically and crashes resumes with ``from_state()`` without losing or double counting anything.
Totals are recomputed from the saved records on load, so a price table change re-prices old sessions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import orjson

from ecc_hooks.core import fsio, paths
from ecc_hooks.sources.usage.context import ContextStatus, context_status
from ecc_hooks.sources.usage.prices import KINDS, PriceTable, default_price_table
from ecc_hooks.sources.usage.reader import FileScan, Ledger

ZERO = Decimal(0)

STATE_SCHEMA = "ecc.usage-state.v1"
TRENDS = ("no-budget", "within-budget", "approaching-budget", "over-budget", "unknown")
BUDGET_ENV = "ECC_HOOKS_BUDGET_USD"


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        # str() first: a float's shortest repr is what Claude Code printed (0.261, not 0.26100000000000000977)
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


@dataclass(frozen=True)
class ModelUsage:
    """Tokens and cost of one model (normalized id) over the whole session, main and subagents."""

    model: str
    raw_ids: tuple[str, ...]
    messages: int
    tokens: dict[str, int]
    cost_by_kind: dict[str, Decimal] | None
    cost_usd: Decimal | None

    @property
    def priced(self) -> bool:
        """Whether the table priced every message of this model."""
        return self.cost_usd is not None


@dataclass(frozen=True)
class CostReport:
    """Our computed cost beside Claude Code's own figures (transcript ``cost-state``, status line) and the gaps."""

    computed_usd: Decimal | None
    priced_usd: Decimal
    unknown_models: tuple[str, ...]
    by_kind: dict[str, Decimal]
    main_usd: Decimal | None
    subagents_usd: Decimal | None
    transcript_reported_usd: Decimal | None = None
    transcript_model_usage: dict[str, Any] = field(default_factory=dict)
    statusline_reported_usd: Decimal | None = None

    @property
    def transcript_diff_usd(self) -> Decimal | None:
        """Computed minus the transcript's ``cost-state.totalCostUSD`` (None when either is missing)."""
        if self.computed_usd is None or self.transcript_reported_usd is None:
            return None
        return self.computed_usd - self.transcript_reported_usd

    @property
    def statusline_diff_usd(self) -> Decimal | None:
        """Computed minus the status line's ``cost.total_cost_usd`` (None when either is missing)."""
        if self.computed_usd is None or self.statusline_reported_usd is None:
            return None
        return self.computed_usd - self.statusline_reported_usd

    @property
    def session_usd(self) -> Decimal | None:
        """The figure to show (``session_cost``: Claude Code's reported figure, else ours)."""
        return session_cost(self.statusline_reported_usd, self.computed_usd)[0]

    @property
    def session_usd_source(self) -> str | None:
        """Where ``session_usd`` came from: ``statusline``, ``computed`` or None."""
        return session_cost(self.statusline_reported_usd, self.computed_usd)[1]


_N = TypeVar("_N")  # a cost figure: Decimal in the engine, float in the HUD


def session_cost(reported: _N | None, computed: _N | None) -> tuple[_N | None, str | None]:
    """The one cost rule (the usage engine and the HUD): what Claude Code reports (its status line's
    ``total_cost_usd``) when it reports it, numbers must equal the client's own; else ours, computed from the
    transcripts. Returns the figure and its source (``statusline``, ``computed`` or None)."""
    if reported is not None:
        return reported, "statusline"
    if computed is not None:
        return computed, "computed"
    return None, None


def reconcile_cost(cost: CostReport, statusline_stdin: Mapping[str, Any] | None) -> CostReport:
    """Return ``cost`` with the status line's ``cost.total_cost_usd`` kept beside the computed figure."""
    figure = None
    if isinstance(statusline_stdin, Mapping):
        block = statusline_stdin.get("cost")
        if isinstance(block, Mapping):
            figure = _decimal(block.get("total_cost_usd"))
    return replace(cost, statusline_reported_usd=figure)


def budget_from_env(env: Mapping[str, str]) -> tuple[Decimal | None, bool]:
    """The configured budget from ``ECC_HOOKS_BUDGET_USD``: (amount, configured); bad values give (None, True)."""
    raw = env.get(BUDGET_ENV, "").strip()
    if not raw:
        return None, False
    value = _decimal(raw)
    return (value if value is not None and value >= 0 else None), True


def budget_trend(
    policy: Mapping[str, Any],
    cost_usd: Decimal | None,
    budget_usd: Decimal | None,
    configured: bool,
    burn_usd_per_hour: Decimal | None = None,
) -> str:
    """``no-budget|within-budget|approaching-budget|over-budget|unknown``.

    ``policy`` is the ``budget`` section of ``prices.json`` (``PriceTable.budget``): ``approaching_fraction``
    (default 0.8) and ``approaching_horizon_hours`` (default 0: no look-ahead). Exact decimals, so a cost of
    exactly 80 % of the budget is "approaching" whatever binary floats would round it to. The usage engine
    and the HUD payload (``aggregate``) both call this.
    """
    if not configured:
        return "no-budget"
    if budget_usd is None or cost_usd is None:
        return "unknown"
    if cost_usd > budget_usd:
        return "over-budget"
    if cost_usd >= budget_usd * Decimal(str(policy.get("approaching_fraction", "0.8"))):
        return "approaching-budget"
    horizon = Decimal(str(policy.get("approaching_horizon_hours", "0")))
    if burn_usd_per_hour is not None and horizon > 0 and cost_usd + burn_usd_per_hour * horizon >= budget_usd:
        return "approaching-budget"
    return "within-budget"


@dataclass(frozen=True)
class SessionUsage:
    """Everything the HUD and the status line need about spend and context for one session."""

    session_id: str
    transcript_path: str
    models: tuple[ModelUsage, ...]
    tokens: dict[str, int]
    cost: CostReport
    context: ContextStatus
    burn_usd_per_hour: Decimal | None
    budget_usd: Decimal | None
    trend: str
    compactions: tuple[dict[str, Any], ...]
    messages: int
    lines: int
    malformed_lines: int
    files: int
    last_activity: float | None
    price_errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready camelCase view (USD as floats; exact strings under ``*Exact`` where it matters)."""

        def f(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        cost = self.cost
        return {
            "sessionId": self.session_id,
            "transcriptPath": self.transcript_path,
            "cost": {
                "sessionUsd": f(cost.session_usd),
                "sessionUsdSource": cost.session_usd_source,
                "computedUsd": f(cost.computed_usd),
                "computedUsdExact": None if cost.computed_usd is None else str(cost.computed_usd),
                "pricedUsd": f(cost.priced_usd),
                "unknownModels": list(cost.unknown_models),
                "byKind": {k: float(v) for k, v in cost.by_kind.items()},
                "mainUsd": f(cost.main_usd),
                "subagentsUsd": f(cost.subagents_usd),
                "transcriptReportedUsd": f(cost.transcript_reported_usd),
                "transcriptDiffUsd": f(cost.transcript_diff_usd),
                "statuslineReportedUsd": f(cost.statusline_reported_usd),
                "statuslineDiffUsd": f(cost.statusline_diff_usd),
                "budgetUsd": f(self.budget_usd),
                "trend": self.trend,
                "burnUsdPerHour": f(self.burn_usd_per_hour),
            },
            "models": [
                {
                    "model": m.model,
                    "rawIds": list(m.raw_ids),
                    "messages": m.messages,
                    "tokens": m.tokens,
                    "costByKind": None if m.cost_by_kind is None else {k: float(v) for k, v in m.cost_by_kind.items()},
                    "costUsd": f(m.cost_usd),
                }
                for m in self.models
            ],
            "tokens": self.tokens,
            "context": self.context.to_dict(),
            "compactions": list(self.compactions),
            "messages": self.messages,
            "lines": self.lines,
            "malformedLines": self.malformed_lines,
            "files": self.files,
            "lastActivity": self.last_activity,
            "priceErrors": list(self.price_errors),
        }


class UsageTracker:
    """Incremental usage of one session: ``update()`` folds what was appended, ``to_state()`` persists it."""

    def __init__(
        self,
        transcript_path: str,
        *,
        prices: PriceTable | None = None,
        env: Mapping[str, str] | None = None,
        budget_usd: Decimal | float | str | None = None,
        max_block: int = 1 << 22,
    ) -> None:
        """Track ``transcript_path``; ``env`` defaults to ``os.environ``, the budget to ``ECC_HOOKS_BUDGET_USD``."""
        self.transcript_path = os.path.abspath(transcript_path)
        self.session_id = os.path.splitext(os.path.basename(self.transcript_path))[0]
        self.table = prices or default_price_table()
        self.env: Mapping[str, str] = os.environ if env is None else env
        if budget_usd is None:
            self.budget_usd, self.budget_configured = budget_from_env(self.env)
        else:
            value = _decimal(budget_usd)
            self.budget_usd, self.budget_configured = (value if value is not None and value >= 0 else None), True
        self.max_block = max_block
        burn_minutes = float(self.table.budget.get("burn_window_minutes", 30))
        self.ledger = Ledger(self.table, burn_minutes * 60)
        self.files: dict[str, FileScan] = {"main": FileScan("main", self.transcript_path)}
        self.statusline: dict[str, Any] | None = None

    # -- reading ---------------------------------------------------------------------------
    def update(self, now: float | None = None, statusline: Mapping[str, Any] | None = None) -> SessionUsage:
        """Fold everything appended since the last call (all transcripts) and return the new snapshot."""
        if statusline is not None:
            self.observe_statusline(statusline)
        self._read("main")
        directory = paths.subagent_transcripts_dir(self.transcript_path)
        try:
            names = sorted(
                e.name for e in os.scandir(directory) if e.name.startswith("agent-") and e.name.endswith(".jsonl")
            )
        except OSError:
            names = []
        for name in names:
            key = "subagents/" + name
            if key not in self.files:
                self.files[key] = FileScan(key, os.path.join(directory, name))
        for key in [k for k in self.files if k != "main"]:
            self._read(key)
        self.ledger.prune_recent()
        return self.snapshot(now)

    def _read(self, key: str) -> None:
        scan = self.files[key]
        try:
            st = os.stat(scan.path)
            seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            seen = None
        if seen is not None and seen == scan.seen:
            return  # unchanged since it was last read to its end: no open, no read (sessions have many files)
        while True:
            block = fsio.read_new_block(scan.path, scan.cursor, self.max_block, scan.guard)
            if block.reset:
                # replaced, truncated or rewritten: its earlier contribution goes, then it is read from zero
                self._forget(scan)
                scan = FileScan(key, scan.path)
                if key != "main" and block.cursor == fsio.Cursor():
                    del self.files[key]  # a subagent transcript that is gone
                    return
                self.files[key] = scan
            scan.cursor = block.cursor
            if not block.data:
                # read to the end: remember the file as seen then (a later change moves size or mtime)
                if seen is not None and seen[1] == scan.cursor.ino and seen[2] == scan.cursor.offset:
                    scan.seen = seen
                return
            scan.feed(block.data, self.ledger)

    def _forget(self, scan: FileScan) -> None:
        others = [(k, s.msgs) for k, s in self.files.items() if k != scan.key]
        self.ledger.remove_file(scan.key, scan.msgs, others)

    def observe_statusline(self, stdin: Mapping[str, Any]) -> None:
        """Keep what the status line stdin knows: Claude Code's cost, the model id (with ``[1m]``) and window."""

        def section(name: str) -> Mapping[str, Any]:
            value = stdin.get(name)
            return value if isinstance(value, Mapping) else {}

        cost, model, window = section("cost"), section("model"), section("context_window")
        size = window.get("context_window_size")
        self.statusline = {
            "cost": {"total_cost_usd": cost.get("total_cost_usd")},
            "model": model.get("id") if isinstance(model.get("id"), str) else None,
            "window": size if type(size) is int and size > 0 else None,
        }

    # -- snapshot ----------------------------------------------------------------------------
    def snapshot(self, now: float | None = None) -> SessionUsage:
        """Build a ``SessionUsage`` from what has been read; ``now`` (epoch s) defaults to the last activity."""
        ledger = self.ledger
        models = []
        all_tokens = dict.fromkeys((*KINDS, "web_search_requests"), 0)
        by_kind = dict.fromkeys((*KINDS, "web_search"), ZERO)
        unknown = []
        for name in sorted(ledger.models):
            totals = ledger.models[name]
            tokens = dict(zip(KINDS, totals.tokens))
            tokens["web_search_requests"] = totals.web_search
            for k, v in tokens.items():
                all_tokens[k] += v
            priced = totals.unpriced == 0
            kind_cost = None
            if priced:
                kind_cost = {k: self.table.to_usd(c) for k, c in zip(KINDS, totals.cost)}
                kind_cost["web_search"] = self.table.to_usd(totals.web_cost)
                for k, usd in kind_cost.items():
                    by_kind[k] += usd
            else:
                unknown.append(name)
            models.append(
                ModelUsage(
                    model=name,
                    raw_ids=tuple(sorted(totals.raw_ids)),
                    messages=totals.messages,
                    tokens=tokens,
                    cost_by_kind=kind_cost,
                    cost_usd=None if kind_cost is None else sum(kind_cost.values(), ZERO),
                )
            )
        priced_usd = sum(by_kind.values(), ZERO)
        main = self.files["main"]
        reported = main.cost_state
        cost = CostReport(
            computed_usd=None if unknown else priced_usd,
            priced_usd=priced_usd,
            unknown_models=tuple(unknown),
            by_kind=by_kind,
            main_usd=None if ledger.source_unpriced["main"] else self.table.to_usd(ledger.source_cost["main"]),
            subagents_usd=None
            if ledger.source_unpriced["subagents"]
            else self.table.to_usd(ledger.source_cost["subagents"]),
            transcript_reported_usd=_decimal(reported["totalCostUSD"]) if reported else None,
            transcript_model_usage=dict(reported["modelUsage"]) if reported else {},
        )
        if self.statusline is not None:
            cost = reconcile_cost(cost, self.statusline)
        context = self._context(main)
        burn = self._burn_rate(now)
        return SessionUsage(
            session_id=self.session_id,
            transcript_path=self.transcript_path,
            models=tuple(models),
            tokens=all_tokens,
            cost=cost,
            context=context,
            burn_usd_per_hour=burn,
            budget_usd=self.budget_usd,
            trend=budget_trend(self.table.budget, cost.session_usd, self.budget_usd, self.budget_configured, burn),
            compactions=tuple(main.compactions),
            messages=len(ledger.best),
            lines=sum(s.lines for s in self.files.values()),
            malformed_lines=sum(s.malformed for s in self.files.values()),
            files=len(self.files),
            last_activity=self._last_activity(),
            price_errors=self.table.errors,
        )

    def _last_activity(self) -> float | None:
        return max((s.last_ts for s in self.files.values() if s.last_ts is not None), default=None)

    def _context(self, main: FileScan) -> ContextStatus:
        hint = self.statusline or {}
        last = main.last_ctx
        model = hint.get("model") or (last[1] if last else None)
        if last is None:
            return context_status(
                self.table, self.env, model, None, window=hint.get("window"), compacted=bool(main.compactions)
            )
        return context_status(self.table, self.env, model, last[2], last[3], window=hint.get("window"))

    def _burn_rate(self, now: float | None) -> Decimal | None:
        """USD per hour over the last ``burn_window_minutes``; None before ``burn_min_span_minutes`` of activity."""
        ledger = self.ledger
        first = min((s.first_ts for s in self.files.values() if s.first_ts is not None), default=None)
        last = self._last_activity()
        if first is None or last is None:
            return None
        now = last if now is None else max(now, last)
        start = now - ledger.burn_window_s
        total = 0
        for mid, ts in ledger.recent.items():
            if ts <= start or ts > now:
                continue
            _, costs, web = ledger.contribution(ledger.best[mid][1])
            if costs is None:
                return None
            total += sum(costs) + web
        span = now - max(start, first)
        if span < float(self.table.budget.get("burn_min_span_minutes", 1)) * 60:
            return None  # one instant of activity says nothing about a rate: no extrapolation
        return self.table.to_usd(total) * Decimal(3600) / Decimal(repr(span))

    # -- persistence -------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """JSON-ready state: per file, the cursor and the records it accounts for (one consistent snapshot)."""
        return {
            "schema": STATE_SCHEMA,
            "transcriptPath": self.transcript_path,
            "files": [scan.to_state() for scan in self.files.values()],
            "statusline": self.statusline,
        }

    def dumps_state(self) -> bytes:
        """``to_state()`` serialized with orjson, ready for ``fsio.atomic_write``."""
        return orjson.dumps(self.to_state())

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any] | bytes,
        *,
        prices: PriceTable | None = None,
        env: Mapping[str, str] | None = None,
        budget_usd: Decimal | float | str | None = None,
        max_block: int = 1 << 22,
    ) -> UsageTracker:
        """Resume from ``to_state()`` (dict or JSON bytes); totals are re-derived from the saved records."""
        if isinstance(state, (bytes, bytearray, str)):
            state = orjson.loads(state)
        if not isinstance(state, Mapping) or state.get("schema") != STATE_SCHEMA:
            raise ValueError("not an ecc.usage-state.v1 document")
        tracker = cls(state["transcriptPath"], prices=prices, env=env, budget_usd=budget_usd, max_block=max_block)
        tracker.files = {}
        for saved in state["files"]:
            scan = FileScan.from_state(saved)
            tracker.files[scan.key] = scan
            for mid, rec in scan.msgs.items():
                tracker.ledger.fold(scan.key, mid, rec)
        tracker.files.setdefault("main", FileScan("main", tracker.transcript_path))
        tracker.ledger.rebuild_times()
        tracker.statusline = state.get("statusline")
        return tracker
