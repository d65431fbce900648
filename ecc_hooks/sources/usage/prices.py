"""The price and context-window table: shipped data, a user override, model id normalization, request pricing.

Prices live in ``ecc_hooks/data/prices.json`` (USD per million tokens, from the spec's section 4) and may
be overridden by ``$ECC_HOOKS_HOME/prices.json``. Everything is ``Decimal``: a session total is a sum of
``tokens x rate`` products, which stays exact, so it can be compared with Claude Code's own figure to 1e-6.
An unknown model is never priced as another one: ``lookup`` returns None and the cost becomes unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ecc_hooks.core import fsio, paths

KINDS = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
"""Token kinds priced per million tokens, in the order of every per-kind tuple in this package."""

_SHIPPED = paths.shipped_prices_path()

# Provider wrappers around the Anthropic id: Bedrock ("us.anthropic.", "anthropic."), Vertex ("@date"),
# gateways ("anthropic/", "bedrock/", ARNs ending ".../us.anthropic.claude-...").
_REGION_PREFIX = re.compile(r"^(?:[a-z]{2,6}\.)?anthropic\.")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?$|:\d+$")
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|latest)$")
_DOT_VERSION = re.compile(r"(?<=\d)\.(?=\d)")
# "claude-opus-4-0" is Anthropic's alias of "claude-opus-4".
_ZERO_MINOR = re.compile(r"^(claude-[a-z]+-\d+)-0$")


@dataclass(frozen=True)
class ModelRef:
    """A model id as written somewhere, its normalized form, and whether it asked for the 1M window."""

    raw: str
    id: str
    one_m: bool


def normalize_model_id(raw: str) -> ModelRef:
    """Normalize a model id: lower case, no provider prefix, no date, no ``-v1:0``, no ``[1m]`` (kept as a flag)."""
    s = raw.strip().lower()
    one_m = "[1m]" in s
    s = s.replace("[1m]", "")
    s = s.rsplit("/", 1)[-1]
    s = s.split("@", 1)[0]
    s = _REGION_PREFIX.sub("", s)
    s = _BEDROCK_VERSION.sub("", s)
    s = _DATE_SUFFIX.sub("", s)
    s = _DOT_VERSION.sub("-", s)
    s = _ZERO_MINOR.sub(r"\1", s)
    return ModelRef(raw, s, one_m)


@dataclass(frozen=True)
class Rates:
    """USD per million tokens for each of ``KINDS``."""

    input: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    output: Decimal

    def as_tuple(self) -> tuple[Decimal, ...]:
        """The rates in ``KINDS`` order."""
        return (self.input, self.cache_write_5m, self.cache_write_1h, self.cache_read, self.output)


@dataclass(frozen=True)
class Tier:
    """Rates for a whole request whose prompt (input + cache writes + cache reads) exceeds a threshold."""

    above_input_tokens: int
    rates: Rates


@dataclass(frozen=True)
class ModelPrice:
    """One row of the table: the normalized id prefix it matches, rates, tiers and context windows."""

    id: str
    family: str
    rates: Rates
    tiers: tuple[Tier, ...] = ()
    window: int | None = None
    window_1m: int | None = None
    fast: Rates | None = None

    def rates_for(self, prompt_tokens: int, fast: bool) -> Rates | None:
        """Rates applying to one request: fast mode if asked (None when the table has none), else the tier."""
        if fast:
            return self.fast
        for tier in self.tiers:  # sorted highest threshold first
            if prompt_tokens > tier.above_input_tokens:
                return tier.rates
        return self.rates


@dataclass
class PriceTable:
    """The merged table, with a memo of id lookups and any problem met while loading the override."""

    models: tuple[ModelPrice, ...]
    aliases: dict[str, str]
    server_tools: dict[str, Decimal]
    context: dict[str, Any]
    budget: dict[str, Any]
    errors: tuple[str, ...] = ()
    scale_exp: int = 0
    """Decimal places that make every rate (and server tool price x 1e6) an integer: costs are summed as ints."""
    _memo: dict[str, ModelPrice | None] = field(default_factory=dict, repr=False)

    def int_rates(self, rates: Rates) -> tuple[int, ...]:
        """``rates`` x 10**scale_exp as exact integers, in ``KINDS`` order."""
        return tuple(int(r.scaleb(self.scale_exp)) for r in rates.as_tuple())

    def to_usd(self, units: int) -> Decimal:
        """USD from the summing unit (tokens x rate x 10**scale_exp, per million tokens), exactly."""
        return Decimal(units).scaleb(-6 - self.scale_exp)

    def lookup(self, model: str) -> ModelPrice | None:
        """The row pricing ``model`` (any spelling), or None when the table does not know it."""
        try:
            return self._memo[model]
        except KeyError:
            pass
        norm = normalize_model_id(model).id
        norm = normalize_model_id(self.aliases[norm]).id if norm in self.aliases else norm
        found = None
        for row in self.models:
            if _matches(norm, row.id):
                found = row
                break
        self._memo[model] = found
        return found


def _matches(norm: str, prefix: str) -> bool:
    """Exact match, or ``prefix-<word>``; never ``prefix-<number>``, which is a newer model, not a variant."""
    if norm == prefix:
        return True
    if not norm.startswith(prefix + "-"):
        return False
    return not norm[len(prefix) + 1 :].split("-", 1)[0].isdigit()


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValueError(f"not a price: {value!r}")
    result = Decimal(value)
    if not result.is_finite() or result < 0:
        raise ValueError(f"not a price: {value!r}")
    return result


def _rates(family: dict[str, Any]) -> Rates:
    return Rates(*(_dec(family[k]) for k in KINDS))


def _read_json(path: str) -> dict[str, Any]:
    # parse_float=Decimal: 0.30 stays 0.30, not 0.29999999999999998889776975
    data = json.loads(fsio.read_file(path, 1 << 22), parse_float=Decimal)
    if not isinstance(data, dict):
        raise ValueError("top level is not an object")
    return data


def merge_tables(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge an override over a raw table: families and settings key by key, aliases by name; override models first."""
    merged = dict(base)
    for key in ("aliases", "server_tools_usd_per_request"):
        if isinstance(override.get(key), dict):
            merged[key] = {**base.get(key, {}), **override[key]}
    for key in ("families", "context", "budget"):
        if isinstance(override.get(key), dict):
            section = {**base.get(key, {})}
            for sub, value in override[key].items():
                if isinstance(value, dict) and isinstance(section.get(sub), dict):
                    section[sub] = {**section[sub], **value}
                else:
                    section[sub] = value
            merged[key] = section
    if isinstance(override.get("models"), list):
        mine = [m for m in override["models"] if isinstance(m, dict) and isinstance(m.get("id"), str)]
        ids = {m["id"] for m in mine}
        merged["models"] = mine + [m for m in base.get("models", []) if m.get("id") not in ids]
    return merged


def build_table(raw: dict[str, Any], errors: tuple[str, ...] = ()) -> PriceTable:
    """Turn a raw (merged) table into a ``PriceTable``; a bad row is skipped and named in ``errors``."""
    families = raw.get("families", {})
    problems = list(errors)
    rows = []
    for entry in raw.get("models", []):
        try:
            family = entry.get("family", "")
            rates = _rates(entry["prices"]) if "prices" in entry else _rates(families[family])
            tiers = tuple(
                sorted(
                    (
                        Tier(
                            int(t["above_input_tokens"]),
                            _rates(t["prices"]) if "prices" in t else _rates(families[t["family"]]),
                        )
                        for t in entry.get("tiers", [])
                    ),
                    key=lambda t: -t.above_input_tokens,
                )
            )
            fast_spec = (entry.get("speed") or {}).get("fast")
            fast = None
            if fast_spec is not None:
                fast = _rates(fast_spec["prices"]) if "prices" in fast_spec else _rates(families[fast_spec["family"]])
            rows.append(
                ModelPrice(
                    id=normalize_model_id(entry["id"]).id,
                    family=family,
                    rates=rates,
                    tiers=tiers,
                    window=int(entry["window"]) if entry.get("window") else None,
                    window_1m=int(entry["window_1m"]) if entry.get("window_1m") else None,
                    fast=fast,
                )
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            problems.append(f"price row {entry!r} skipped: {exc!r}")
    server = {}
    for name, value in (raw.get("server_tools_usd_per_request") or {}).items():
        try:
            server[name] = _dec(value)
        except ValueError as exc:
            problems.append(f"server tool price {name} skipped: {exc}")
    places = [0]
    for row in rows:
        for rate_set in (row.rates, row.fast, *(t.rates for t in row.tiers)):
            if rate_set is not None:
                places += [-r.normalize().as_tuple().exponent for r in rate_set.as_tuple()]  # type: ignore[operator]
    places += [-r.normalize().as_tuple().exponent - 6 for r in server.values()]  # type: ignore[operator]
    aliases = {normalize_model_id(k).id: v for k, v in (raw.get("aliases") or {}).items() if isinstance(v, str)}
    return PriceTable(
        models=tuple(rows),
        aliases=aliases,
        server_tools=server,
        context=dict(raw.get("context") or {}),
        budget=dict(raw.get("budget") or {}),
        errors=tuple(problems),
        scale_exp=max(places),
    )


def load_price_table(shipped: str | None = None, override: str | None = None) -> PriceTable:
    """Load the shipped table merged with the user override (``paths.prices_override_path()`` by default).

    A missing override is normal; an unreadable one is ignored and reported in ``errors`` (the
    watcher must survive a bad file), never half applied.
    """
    raw = _read_json(shipped or _SHIPPED)
    override_path = override if override is not None else paths.prices_override_path()
    errors: tuple[str, ...] = ()
    try:
        raw = merge_tables(raw, _read_json(override_path))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        errors = (f"price override {override_path} ignored: {exc}",)
    return build_table(raw, errors)


_DEFAULT: PriceTable | None = None


def default_price_table() -> PriceTable:
    """The table loaded once per process (shipped + override)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_price_table()
    return _DEFAULT
