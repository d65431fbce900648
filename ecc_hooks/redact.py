"""Secret redaction applied to every string before anything is written.

Hot path: patterns compile lazily and only run when a cheap substring test says they
could match, so the common event (no secret) costs a few ``in`` checks per string.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"
# Strings longer than this are cut before scanning: bounds the regex work per field.
SCAN_LIMIT = 65536

_KEYWORDS = (
    r"(?:password|passwd|passphrase|secret(?:[_-]?(?:access[_-]?)?key)?|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|signing[_-]?key|encryption[_-]?key|client[_-]?secret|credentials?|auth)"
)

# (trigger substrings, lowercase; pattern; replacement). A rule runs when any trigger is in
# the lowercased text. Order matters: whole blocks first, then prefixed tokens, then the
# generic "name=value" forms that would otherwise eat part of a token.
_RULES: list[tuple[tuple[str, ...], str, str]] = [
    (
        ("private key",),
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
        "-----BEGIN PRIVATE KEY-----" + MASK + "-----END PRIVATE KEY-----",
    ),
    (("sk-",), r"\bsk-(?:ant-)?[A-Za-z0-9_\-]{8,}", "sk-" + MASK),
    (("akia", "asia"), r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", MASK),
    (("ghp_", "gho_", "ghs_", "ghu_", "ghr_"), r"\bgh[pousr]_[A-Za-z0-9]{16,}", MASK),
    (("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{16,}", MASK),
    (("xox",), r"\bxox[a-z]-[A-Za-z0-9\-]{8,}", MASK),
    (("bearer", "basic", "authorization"), r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=\-]{6,}", r"\1\2" + MASK),
    (("://",), r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@]+):[^\s/@]+@", r"\1:" + MASK + "@"),
    (
        ("--", "-p"),
        r"(?i)((?<![\w-])--?" + _KEYWORDS + r"(?:[=\s]+))(\"[^\"]*\"|'[^']*'|[^\s\"']+)",
        r"\1" + MASK,
    ),
    (
        ("pass", "secret", "token", "key", "credential", "auth"),
        r"(?i)(\b[\w.\-]*" + _KEYWORDS + r"[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s\"',;&|}]+)",
        r"\1" + MASK,
    ),
]

_compiled: list[re.Pattern[str] | None] = [None] * len(_RULES)


def _pattern(index: int) -> re.Pattern[str]:
    compiled = _compiled[index]
    if compiled is None:
        compiled = _compiled[index] = re.compile(_RULES[index][1], re.DOTALL)
    return compiled


def redact(text: str) -> str:
    """Return ``text`` with every recognised secret replaced by ``[REDACTED]``."""
    if len(text) > SCAN_LIMIT:
        text = text[:SCAN_LIMIT]
    lowered = text.lower()
    for index, (triggers, _, replacement) in enumerate(_RULES):
        if any(t in lowered for t in triggers):
            text = _pattern(index).sub(replacement, text)
            lowered = text.lower()
    return text


def redact_tree(value: object) -> object:
    """Redact every string inside a JSON-like value (dict keys included); other values pass through."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value
