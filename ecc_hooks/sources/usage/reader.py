"""Incremental transcript folding: per-file scans and the session ledger that deduplicates message usage.

A transcript is mostly user ``tool_result`` lines and attachments that carry no usage; parsing them all
would cap throughput at the JSON parser's speed. So each complete line is first tested at the byte level
for the only markers that matter (``"usage"``, ``compact_boundary``, ``cost-state``) and only those lines
reach ``orjson.loads``. A line that is not a JSON object (cheap first/last byte test, or a parse error on
a candidate) is counted as malformed and skipped.

Usage is keyed by ``message.id``: several lines of one response share it and early ones hold partial
``output_tokens``, and a subagent's messages may be replayed into the main file as sidechain copies. Each
file keeps the best record per id (``record_key`` order: largest output first), and the ledger keeps the
best record across files, so totals are order independent: a split scan equals a cold scan exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import orjson

from ecc_hooks.core import fsio
from ecc_hooks.sources.usage.prices import KINDS, PriceTable, normalize_model_id

GUARD_BYTES = 32
_MARKERS = (b'"usage"', b"compact_boundary", b"cost-state")
_MAIN = "main"


class Rec(NamedTuple):
    """One response's usage as a file last showed it (cache writes split 5m/1h)."""

    model: str
    input: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int
    output: int
    web_search: int
    ts: float | None
    side: bool
    fast: bool


def record_key(rec: Rec) -> tuple[Any, ...]:
    """Total order on records: the largest output wins, the rest only breaks ties deterministically."""
    return (
        rec.output,
        rec.input,
        rec.cache_write_5m,
        rec.cache_write_1h,
        rec.cache_read,
        rec.web_search,
        rec.model,
        -1.0 if rec.ts is None else rec.ts,
        rec.side,
        rec.fast,
    )


def _rank(file_key: str, rec: Rec) -> tuple[Any, ...]:
    """Session-wide order: the record order, then the file, so equal records from two files resolve the same
    way whatever order the files were read in (the main file first, then subagent files by name)."""
    return (record_key(rec), file_key == _MAIN, file_key)


def _count(value: Any) -> int:
    # bool is an int subclass; a negative or fractional count is not a token count
    return value if type(value) is int and value >= 0 else 0


def parse_ts(value: Any) -> float | None:
    """An ISO-8601 timestamp (``...Z``) as epoch seconds, or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def rec_from_usage(model: str, usage: dict[str, Any], ts: float | None, side: bool) -> Rec:
    """Build a record from an API ``usage`` object; without a 5m/1h breakdown every cache write is 5m."""
    written = _count(usage.get("cache_creation_input_tokens"))
    split = usage.get("cache_creation")
    if isinstance(split, dict) and ("ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split):
        c5 = _count(split.get("ephemeral_5m_input_tokens"))
        c1 = _count(split.get("ephemeral_1h_input_tokens"))
        # A total larger than its breakdown: the unexplained part is priced as 5m, the default TTL.
        c5 += max(written - c5 - c1, 0)
    else:
        c5, c1 = written, 0
    server = usage.get("server_tool_use")
    web = _count(server.get("web_search_requests")) if isinstance(server, dict) else 0
    return Rec(
        model,
        _count(usage.get("input_tokens")),
        c5,
        c1,
        _count(usage.get("cache_read_input_tokens")),
        _count(usage.get("output_tokens")),
        web,
        ts,
        side,
        usage.get("speed") == "fast",
    )


class ModelTotals:
    """Running sums for one model: tokens and cost per kind (integers in the table's unit), unpriced messages."""

    __slots__ = ("model", "raw_ids", "messages", "unpriced", "tokens", "cost", "web_search", "web_cost")

    def __init__(self, model: str) -> None:
        self.model = model
        self.raw_ids: dict[str, int] = {}
        self.messages = 0
        self.unpriced = 0
        self.tokens = [0] * len(KINDS)
        self.cost = [0] * len(KINDS)
        self.web_search = 0
        self.web_cost = 0


class Ledger:
    """Session-wide best record per message id, and the totals they add up to, kept incrementally."""

    def __init__(self, table: PriceTable, burn_window_s: float) -> None:
        self.table = table
        self.best: dict[str, tuple[str, Rec]] = {}
        self.models: dict[str, ModelTotals] = {}
        self.source_cost = {"main": 0, "subagents": 0}
        self.source_unpriced = {"main": 0, "subagents": 0}
        self.burn_window_s = burn_window_s
        self.recent: dict[str, float] = {}
        self.max_ts: float | None = None  # of winning records: only bounds the recent set
        self._price_memo: dict[tuple[str, bool], tuple[str, Any]] = {}
        self._rate_memo: dict[int, tuple[int, ...]] = {}
        web_rate = table.server_tools.get("web_search_requests")
        # integer arithmetic, exact: Decimal would be 3x slower on a cold scan of a 200 MB transcript
        self._web_unit = None if web_rate is None else int(web_rate.scaleb(6 + table.scale_exp))

    def _group(self, rec: Rec) -> tuple[str, Any]:
        memo_key = (rec.model, rec.fast)
        hit = self._price_memo.get(memo_key)
        if hit is None:
            row = self.table.lookup(rec.model)
            name = row.id if row is not None else normalize_model_id(rec.model).id
            hit = (name + " (fast)" if rec.fast else name, row)
            self._price_memo[memo_key] = hit
        return hit

    def contribution(self, rec: Rec) -> tuple[str, tuple[int, ...] | None, int]:
        """Group name, cost per kind (None when unpriced) and web search cost, in ``table.to_usd`` units."""
        group, row = self._group(rec)
        rates = None
        if row is not None:
            rates = row.rates_for(rec.input + rec.cache_write_5m + rec.cache_write_1h + rec.cache_read, rec.fast)
        web = rec.web_search * self._web_unit if (rec.web_search and self._web_unit is not None) else 0
        if rates is None:
            return group, None, web
        ints = self._rate_memo.get(id(rates))
        if ints is None:
            ints = self._rate_memo[id(rates)] = self.table.int_rates(rates)
        return (
            group,
            (
                rec.input * ints[0],
                rec.cache_write_5m * ints[1],
                rec.cache_write_1h * ints[2],
                rec.cache_read * ints[3],
                rec.output * ints[4],
            ),
            web,
        )

    def _apply(self, file_key: str, rec: Rec, sign: int) -> None:
        group, costs, web = self.contribution(rec)
        totals = self.models.get(group)
        if totals is None:
            totals = self.models[group] = ModelTotals(group)
        source = "main" if file_key == _MAIN and not rec.side else "subagents"
        totals.messages += sign
        totals.raw_ids[rec.model] = totals.raw_ids.get(rec.model, 0) + sign
        if not totals.raw_ids[rec.model]:
            del totals.raw_ids[rec.model]
        t = totals.tokens
        t[0] += sign * rec.input
        t[1] += sign * rec.cache_write_5m
        t[2] += sign * rec.cache_write_1h
        t[3] += sign * rec.cache_read
        t[4] += sign * rec.output
        totals.web_search += sign * rec.web_search
        totals.web_cost += sign * web
        if costs is None:
            totals.unpriced += sign
            self.source_unpriced[source] += sign
        else:
            c = totals.cost
            c[0] += sign * costs[0]
            c[1] += sign * costs[1]
            c[2] += sign * costs[2]
            c[3] += sign * costs[3]
            c[4] += sign * costs[4]
            self.source_cost[source] += sign * (costs[0] + costs[1] + costs[2] + costs[3] + costs[4] + web)
        if not totals.messages:
            del self.models[group]

    def fold(self, file_key: str, mid: str, rec: Rec) -> None:
        """A file's best record for ``mid`` improved: make it the session's if it beats the current best."""
        current = self.best.get(mid)
        if current is not None and _rank(*current) >= _rank(file_key, rec):
            return
        if current is not None:
            self._apply(current[0], current[1], -1)
        self.best[mid] = (file_key, rec)
        self._apply(file_key, rec, +1)
        if rec.ts is not None:
            self._note_time(mid, rec.ts)
        else:
            self.recent.pop(mid, None)

    def _note_time(self, mid: str, ts: float) -> None:
        if self.max_ts is None or ts > self.max_ts:
            self.max_ts = ts
        if ts >= self.max_ts - self.burn_window_s:
            self.recent[mid] = ts
        else:
            self.recent.pop(mid, None)  # a new winner for this id may be older than the one it replaced

    def remove_file(self, file_key: str, msgs: dict[str, Rec], others: list[tuple[str, dict[str, Rec]]]) -> None:
        """Take a file's contribution out; a message it shared falls back to the best other file's record."""
        for mid in msgs:
            current = self.best.get(mid)
            if current is None or current[0] != file_key:
                continue
            self._apply(file_key, current[1], -1)
            del self.best[mid]
            self.recent.pop(mid, None)
            replacement = None
            for other_key, other in others:
                rec = other.get(mid)
                if rec is not None and (replacement is None or _rank(other_key, rec) > _rank(*replacement)):
                    replacement = (other_key, rec)
            if replacement is not None:
                self.best[mid] = replacement
                self._apply(replacement[0], replacement[1], +1)
        self.rebuild_times()

    def rebuild_times(self) -> None:
        """Recompute the latest timestamp and the recent set from the records (after a removal or a load)."""
        stamps = [(mid, rec.ts) for mid, (_, rec) in self.best.items() if rec.ts is not None]
        self.max_ts = max((t for _, t in stamps), default=None)
        self.recent = {}
        if self.max_ts is not None:
            floor = self.max_ts - self.burn_window_s
            self.recent = {mid: t for mid, t in stamps if t >= floor}

    def prune_recent(self) -> None:
        """Forget recent messages that fell out of the burn window (kept small for the per-append fold)."""
        if self.max_ts is None:
            return
        floor = self.max_ts - self.burn_window_s
        if any(t < floor for t in self.recent.values()):
            self.recent = {mid: t for mid, t in self.recent.items() if t >= floor}


class FileScan:
    """One transcript file's read position, its best record per message id, and main-chain facts."""

    def __init__(self, key: str, path: str) -> None:
        self.key = key
        self.path = path
        self.cursor = fsio.Cursor()
        self.guard = b""
        self.lines = 0
        self.malformed = 0
        self.msgs: dict[str, Rec] = {}
        # (message id, model, prompt tokens, output tokens, timestamp) of the last main-chain response
        self.last_ctx: tuple[str, str, int, int, float | None] | None = None
        self.compactions: list[dict[str, Any]] = []
        self.cost_state: dict[str, Any] | None = None
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        # (dev, ino, size, mtime_ns) when last read to its end (not persisted: a new process reads once)
        self.seen: tuple[int, int, int, int] | None = None

    @property
    def is_main(self) -> bool:
        """Whether this is the session's main transcript (the only one that drives context %)."""
        return self.key == _MAIN

    def feed(self, data: bytes, ledger: Ledger) -> None:
        """Fold a block of complete lines (as returned by ``fsio.read_new_block``)."""
        self.guard = (self.guard + data[-GUARD_BYTES:])[-GUARD_BYTES:]
        m_usage, m_compact, m_cost = _MARKERS
        for line in data.split(b"\n"):
            if line[:1] != b"{" or line[-1:] != b"}":
                # rare: blank lines, CRLF, padding; only these pay for a stripped copy
                line = line.strip()
                if not line:
                    continue
                if line[:1] != b"{" or line[-1:] != b"}":
                    self.lines += 1
                    self.malformed += 1
                    continue
            self.lines += 1
            if m_usage not in line and m_compact not in line and m_cost not in line:
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                self.malformed += 1
                continue
            try:
                self._fold(obj, ledger)
            except (AttributeError, TypeError, ValueError):
                # a known type whose fields have unexpected shapes: count it, keep going
                self.malformed += 1

    def _fold(self, obj: dict[str, Any], ledger: Ledger) -> None:
        kind = obj.get("type")
        if kind == "assistant":
            self._assistant(obj, ledger)
        elif kind == "system":
            if obj.get("subtype") == "compact_boundary" and obj.get("isSidechain") is not True:
                meta = obj.get("compactMetadata")
                meta = meta if isinstance(meta, dict) else {}
                self.compactions.append(
                    {
                        "trigger": meta.get("trigger"),
                        "preTokens": meta.get("preTokens"),
                        "postTokens": meta.get("postTokens"),
                        "timestamp": obj.get("timestamp"),
                    }
                )
                self.last_ctx = None
        elif kind == "cost-state":
            total = obj.get("totalCostUSD")
            if isinstance(total, (int, float)) and not isinstance(total, bool):
                usage = obj.get("modelUsage")
                self.cost_state = {
                    "totalCostUSD": total,
                    "modelUsage": usage if isinstance(usage, dict) else {},
                    "timestamp": obj.get("timestamp"),
                }

    def _assistant(self, obj: dict[str, Any], ledger: Ledger) -> None:
        message = obj.get("message")
        if not isinstance(message, dict):
            raise TypeError("assistant line without a message object")
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return
        model = message.get("model")
        if not isinstance(model, str) or model == "<synthetic>":
            return  # locally made messages (API errors, interruptions): no request, no spend
        # Claude Code prices a response by the model it asked for (``requestedModel``, which keeps the
        # ``[1m]`` suffix), not by the ``message.model`` the API echoed (tests/e2e/README.md, "Cost").
        requested = obj.get("requestedModel")
        if isinstance(requested, str) and requested and requested != "<synthetic>":
            model = requested
        mid = message.get("id") or obj.get("requestId") or obj.get("uuid")
        if not isinstance(mid, str):
            raise TypeError("assistant usage without an id")
        ts = parse_ts(obj.get("timestamp"))
        side = obj.get("isSidechain") is True
        rec = rec_from_usage(model, usage, ts, side)
        if ts is not None:
            # from every usage line, winners or not, so a split scan and a cold scan agree
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
        if self.is_main and not side:
            self.last_ctx = (
                mid,
                model,
                rec.input + rec.cache_write_5m + rec.cache_write_1h + rec.cache_read,
                rec.output,
                ts,
            )
        old = self.msgs.get(mid)
        if old is None or record_key(rec) > record_key(old):
            self.msgs[mid] = rec
            ledger.fold(self.key, mid, rec)

    # -- persistence -------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """JSON-ready state: the cursor and every record it accounts for, saved together."""
        return {
            "key": self.key,
            "path": self.path,
            "cursor": list(self.cursor),
            "guard": self.guard.hex(),
            "lines": self.lines,
            "malformed": self.malformed,
            "msgs": {mid: list(rec) for mid, rec in self.msgs.items()},
            "lastCtx": list(self.last_ctx) if self.last_ctx else None,
            "compactions": self.compactions,
            "costState": self.cost_state,
            "firstTs": self.first_ts,
            "lastTs": self.last_ts,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FileScan:
        """Rebuild a scan saved by ``to_state`` (records are re-folded into a ledger by the caller)."""
        scan = cls(state["key"], state["path"])
        scan.cursor = fsio.Cursor(*state["cursor"])
        scan.guard = bytes.fromhex(state.get("guard", ""))
        scan.lines = int(state.get("lines", 0))
        scan.malformed = int(state.get("malformed", 0))
        scan.msgs = {mid: Rec(*values) for mid, values in state.get("msgs", {}).items()}
        last = state.get("lastCtx")
        scan.last_ctx = tuple(last) if last else None
        scan.compactions = list(state.get("compactions", []))
        scan.cost_state = state.get("costState")
        scan.first_ts = state.get("firstTs")
        scan.last_ts = state.get("lastTs")
        return scan
