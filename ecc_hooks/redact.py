"""Secret redaction applied to every string before anything is written.

Hot path: patterns compile lazily and only run when a cheap substring test says they
could match, so the common event (no secret) costs a few ``in`` checks per string.
Two layers: ``redact`` finds secrets inside free text (tokens with a known prefix,
``name=value`` forms, flags, URLs, PEM blocks); ``redact_tree`` also masks values whose
*key* names a secret (``{"password": "..."}``) and the argument after a secret flag in an
argv-style list (``["--token", "..."]``), where the text alone carries no hint.
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
# A quoted value (also in its JSON-escaped form \"...\", as in the head of a raw payload) or a bare word.
_QUOTED = r"\\?\"[^\"\n]*?\\?\"|'[^'\n]*'"

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
    # An Authorization header: whatever its scheme (Bearer, Basic, token, ...), the credential goes.
    (
        ("authorization",),
        r"(?i)(\bauthorization\\?[\"']?\s*[:=]\s*\\?[\"']?(?:[a-z]+[ \t]+)?)([^\s\"'\\,;]+)",
        r"\1" + MASK,
    ),
    # "Bearer <token>" elsewhere; the token must look like one (a digit or a symbol in it), so
    # prose such as "the bearer instrument" stays as written.
    (
        ("bearer",),
        r"(?i)\b(bearer)(\s+)(?=[A-Za-z]*[0-9._~+/=\-])[A-Za-z0-9._~+/=\-]{8,}",
        r"\1\2" + MASK,
    ),
    # user:password@ in a URL; greedy up to the last "@" of the authority (passwords may hold "@").
    (("://",), r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@?#]+):[^\s/?#]+@", r"\1:" + MASK + "@"),
    (
        ("--", "-p"),
        r"(?i)((?<![\w-])--?[\w-]*" + _KEYWORDS + r"(?:[=\s]+))(" + _QUOTED + r"|[^\s\"']+)",
        r"\1" + MASK,
    ),
    (
        ("pass", "secret", "token", "key", "credential", "auth"),
        r"(?i)(\b[\w.\-]*" + _KEYWORDS + r"\\?[\"']?\s*[:=]\s*)(" + _QUOTED + r"|[^\s\"',;&|}\\]+)",
        r"\1" + MASK,
    ),
]

_compiled: list[re.Pattern[str] | None] = [None] * len(_RULES)
_KEY_TRIGGERS = ("pass", "secret", "token", "key", "credential", "auth")
_secret_key: re.Pattern[str] | None = None
_secret_flag: re.Pattern[str] | None = None


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


def is_secret_key(key: str) -> bool:
    """True when a field name says its value is a secret (``password``, ``api_key``, ``GITHUB_TOKEN``...).

    The name must end with the keyword, so ``max_tokens``, ``author`` or ``token_count`` are not secrets.
    """
    global _secret_key
    lowered = key.lower()
    if not any(t in lowered for t in _KEY_TRIGGERS):
        return False
    if _secret_key is None:
        _secret_key = re.compile(r"(?i)[\w.\-]*(?:authorization|" + _KEYWORDS + ")")
    return _secret_key.fullmatch(key) is not None


def is_secret_flag(arg: str) -> bool:
    """True for a command-line flag whose next argument is a secret (``--password``, ``--api-key``)."""
    global _secret_flag
    if not arg.startswith("-") or not any(t in arg.lower() for t in _KEY_TRIGGERS):
        return False
    if _secret_flag is None:
        _secret_flag = re.compile(r"(?i)--?[\w-]*" + _KEYWORDS)
    return _secret_flag.fullmatch(arg) is not None


def redact_tree(value: object) -> object:
    """Redact every string inside a JSON-like value (dict keys included); other values pass through.

    Values under a secret-naming key are masked whole, as is the argument that follows a
    secret flag in a list of strings.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        out: dict[object, object] = {}
        for key, item in value.items():
            if isinstance(key, str):
                if is_secret_key(key) and item is not None and not isinstance(item, bool):
                    item = MASK
                key = redact(key)
            out[key] = redact_tree(item)
        return out
    if isinstance(value, list):
        items = []
        mask_next = False
        for item in value:
            if mask_next and isinstance(item, (str, int, float)) and not isinstance(item, bool):
                items.append(MASK)
            else:
                items.append(redact_tree(item))
            mask_next = isinstance(item, str) and is_secret_flag(item)
        return items
    return value
