"""Secret redaction: every string that came from a payload, a transcript or stdin passes here before it is
written or printed (``text.dump_json`` and ``text.human`` call it for every output; the hook's normalizer
and the status line's sensor call it before their writes).

Hot path: ``re`` is imported and each pattern compiled only when a cheap substring test says the rule could
match, so the common string (no secret) costs a few ``in`` checks and no import.
Two layers: ``redact`` finds secrets inside free text (tokens with a known prefix, ``name=value`` forms,
flags, URLs, PEM blocks, JWTs); ``redact_tree`` also masks values whose *key* names a secret
(``{"password": "..."}``) and the argument after a secret flag in an argv-style list (``["--token", "..."]``).

Text is matched in every form it reaches us: plain, inside JSON (``\\"password\\": \\"...\\"``, and a token
right after a ``\\n`` escape, where no word boundary separates it), and as shell words (``PGPASSWORD=""x``,
``'a'b``). Over-masking is preferred to a leak: an unquoted secret value runs to the next whitespace.
"""

from __future__ import annotations

MASK = "[REDACTED]"
# Strings longer than this are cut before scanning (hot path): bounds the regex work per field.
SCAN_LIMIT = 65536

_KEYWORDS = (
    r"(?:password|passwd|passphrase|secret(?:[_-]?(?:access[_-]?)?key)?|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|signing[_-]?key|encryption[_-]?key|client[_-]?secret|credentials?|auth|accountkey"
    r"|sharedaccesskey|pwd)"
)
# Where a token may start: not glued to a word character, except after a JSON/C escape such as ``\n``.
_START = r"(?:(?<![A-Za-z0-9_])|(?<=\\[nrtbf]))"
# Where a command-line flag may start: not inside a word or another flag, except after a JSON escape.
_FLAG_START = r"(?:(?<![\w-])|(?<=\\[nrtbf]))"
# A shell-like word: quoted parts (also JSON-escaped quotes) and bare parts, glued together.
_WORD = r"(?:\\\"[^\"\n]*?\\\"|\"[^\"\n]*\"|'[^'\n]*'|(?:\\\\|\\(?![nrtbf\"'/])|[^\s\"'\\])+)+"
# A value after ``name=`` / ``name:``; JSON escapes end it.
_VALUE = r"(?:\\\"[^\"\n]*?\\\"|\"[^\"\n]*\"|'[^'\n]*'|(?:\\\\|\\(?![nrtbf\"'/])|[^\s\"'\\])+)+"
# A shell reference to an environment variable (``$NAME``, ``${NAME}``, ``${NAME:-}``, ``${NAME:-$OTHER}``,
# ``${NAME:?message}``), bare or double-quoted (JSON-escaped quotes too), that is a whole word: the value a
# command takes from the environment, not a secret. Names are upper case (the environment's convention): a
# literal ``$ecret1`` still counts as a secret. A default (``:-``, ``:=``, ``:+``) must be empty or a reference.
_NAME = r"(?-i:[A-Z_][A-Z0-9_]*)"  # upper case even inside a (?i) rule
_REF = (
    r"\$(?:" + _NAME + r"(?![A-Za-z0-9_])|\{" + _NAME
    + r"(?::?[-=+](?:\$" + _NAME + r"|\$\{" + _NAME + r"\})?|:?\?[^}\n\"\\]*)?\})"
)  # fmt: skip
_REF_END = r"(?=[\s;|&)<>]|\\[nrtbf]|\\?\"(?:[\s,;|&)}\]:]|\\[nrtbf]|\Z)|\Z)"
# Not a secret value: a variable reference standing alone as the word.
_NOT_A_REF = r"(?!(?:" + _REF + r"|\"" + _REF + r"\"|\\\"" + _REF + r"\\\")" + _REF_END + r")"

# (trigger substrings, lowercase; pattern; replacement). A rule runs when any trigger is in the lowercased
# text. Order matters: whole blocks first, then prefixed tokens, then the generic forms that would
# otherwise eat part of a token.
_RULES: list[tuple[tuple[str, ...], str, str]] = [
    (
        ("private key",),
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
        "-----BEGIN PRIVATE KEY-----" + MASK + "-----END PRIVATE KEY-----",
    ),
    # JSON Web Tokens: header.payload.signature, the first two base64url JSON objects ("eyJ").
    (("eyj",), _START + r"eyJ[A-Za-z0-9_\-]{6,}\.eyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]*", MASK),
    (("sk-",), _START + r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}", "sk-" + MASK),
    (
        ("sk_live", "rk_live", "sk_test", "rk_test", "whsec_"),
        r"(?:(?:sk|rk)_(?:live|test)|whsec)_[A-Za-z0-9]{8,}",
        MASK,
    ),
    (("akia", "asia"), _START + r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])", MASK),
    (("ghp_", "gho_", "ghs_", "ghu_", "ghr_"), r"gh[pousr]_[A-Za-z0-9]{16,}", MASK),
    (("github_pat_",), r"github_pat_[A-Za-z0-9_]{16,}", MASK),
    (("glpat-",), r"glpat-[A-Za-z0-9_\-]{16,}", MASK),
    (("xox",), _START + r"xox[a-z]-[A-Za-z0-9\-]{8,}", MASK),
    (("aiza",), _START + r"AIza[0-9A-Za-z_\-]{30,}", MASK),
    (("npm_",), _START + r"npm_[A-Za-z0-9]{30,}", MASK),
    (("hf_",), _START + r"hf_[A-Za-z0-9]{30,}", MASK),
    # An Authorization header: whatever its scheme (Bearer, Basic, token, ...), the credential goes.
    (
        ("authorization",),
        r"(?i)(authorization\\?[\"']?\s*[:=]\s*\\?[\"']?(?:[a-z]+[ \t]+)?)([^\s\"'\\,;]+)",
        r"\1" + MASK,
    ),
    # "Bearer <token>" elsewhere; the token must look like one (a digit or a symbol in it), so
    # prose such as "the bearer instrument" stays as written.
    (
        ("bearer",),
        r"(?i)" + _START + r"(bearer)(\s+)(?=[A-Za-z]*[0-9._~+/=\-])[A-Za-z0-9._~+/=\-]{8,}",
        r"\1\2" + MASK,
    ),
    # [user]:password@ in a URL (redis://:pw@host too); greedy to the last "@" of the authority.
    (("://",), r"(?i)([a-z][a-z0-9+.\-]*://[^\s/:@?#\"'\\]*):[^\s/?#\"'\\]+@", r"\1:" + MASK + "@"),
    # Azure SAS and other signed URLs: the signature parameter.
    (("sig=",), r"(?i)((?:[?&;]|\\u0026|" + _START + r")sig=)[^&\s\"'#\\]+", r"\1" + MASK),
    # curl -u user:password (also --user=, -uuser:password); the user name stays.
    (
        ("-u", "--user"),
        r"(" + _FLAG_START + r"(?:-u\s*|--user[=\s]\s*)['\"]?[^\s:'\"\\]*:)(" + _WORD + ")",
        r"\1" + MASK,
    ),
    # mysql/mariadb -pPASSWORD (the password glued to -p).
    (
        ("mysql", "mariadb"),
        r"(?i)(" + _START + r"(?:mysql|mariadb)[\w-]*\b[^\n|;&]*?" + _FLAG_START + r"-p)(?=[^\s-])(" + _WORD + ")",
        r"\1" + MASK,
    ),
    # The default of a parameter expansion named as a secret (``${DB_PASSWORD:-hunter2}``), unless empty or
    # itself a reference; the assignment rule below leaves ``${NAME:`` alone (not ``name: value``).
    (
        ("${",),
        r"(?i)(\$\{\w*" + _KEYWORDS + r":?[-=+])(?!(?:\$" + _NAME + r"|\$\{" + _NAME + r"\})?\})([^}\n\"\\]+)",
        r"\1" + MASK,
    ),
    (
        ("pass", "secret", "token", "key", "credential", "auth", "pwd"),
        r"(?i)(" + _FLAG_START + r"--?[\w-]*" + _KEYWORDS + r"(?:[=\s]+))" + _NOT_A_REF + "(" + _WORD + ")",
        r"\1" + MASK,
    ),
    (
        ("pass", "secret", "token", "key", "credential", "auth", "pwd"),
        r"(?i)(?<!\$\{)(\b[\w.\-]*" + _KEYWORDS + r"\\?[\"']?\s*[:=]\s*)" + _NOT_A_REF + "(" + _VALUE + ")",
        r"\1" + MASK,
    ),
]

# Guards: a cheap test that finds every place a costly rule could match (a superset), keyed by the rule's index.
# The generic flag and ``name=value`` rules try a ``[\w.-]*`` prefix at every word start, and even the bare
# keyword alternation costs ~40 ms per 64 KiB of prose that merely contains "pass" ("tests passed"); the relay
# of a headless agent's output runs every line through here. The flag rule's guard starts at a ``-``; the
# assignment rule's guard starts at each ``:`` or ``=`` and looks back for a keyword just before it.
_FLAG_GUARD = len(_RULES) - 2
_ASSIGN_GUARD = len(_RULES) - 1

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

_compiled: list[re.Pattern[str] | None] = [None] * len(_RULES)
_guards: dict[int, re.Pattern[str]] = {}
_KEY_TRIGGERS = ("pass", "secret", "token", "key", "credential", "auth", "pwd")
_secret_key: re.Pattern[str] | None = None
_secret_flag: re.Pattern[str] | None = None


def _pattern(index: int) -> re.Pattern[str]:
    compiled = _compiled[index]
    if compiled is None:
        import re  # only once a trigger fired: most strings never need it

        compiled = _compiled[index] = re.compile(_RULES[index][1], re.DOTALL)
    return compiled


def redact(text: str, limit: int | None = SCAN_LIMIT) -> str:
    """Return ``text`` with every recognised secret replaced by ``[REDACTED]``.

    ``limit`` cuts longer text before scanning (the hot path's bound); ``None`` scans all of it (documents).
    """
    if limit is not None and len(text) > limit:
        # The cut may split a secret from what marks it as one: the word it falls in goes too.
        floor = max(limit - 4096, 0)
        cut = text.rfind(" ", floor, limit)
        text = text[: cut if cut > 0 else floor]
    for _ in range(3):  # a mask can expose a neighbour (AKIA...sk-...): run again until nothing changes
        masked = _one_pass(text)
        if masked == text:
            break
        text = masked
    return text


def _guarded_out(index: int, text: str) -> bool:
    """True when the rule's guard finds no place the rule could match."""
    if index == _FLAG_GUARD:
        return _guard(index, r"(?i)-[\w-]*" + _KEYWORDS + r"[=\s]").search(text) is None
    if index != _ASSIGN_GUARD:
        return False
    ends_with_keyword = _guard(index, r"(?i)" + _KEYWORDS + r"\Z")
    for sign in (":", "="):
        at = text.find(sign)
        while at >= 0:
            end = at
            while end > 0 and text[end - 1].isspace():  # the rule's \s* before the sign
                end -= 1
            if end > 0 and text[end - 1] in "\"'":  # its optional quote, and the backslash before it
                end -= 1
                if end > 0 and text[end - 1] == "\\":
                    end -= 1
            if ends_with_keyword.search(text, max(end - 32, 0), end):
                return False
            at = text.find(sign, at + 1)
    return True


def _guard(index: int, source: str) -> re.Pattern[str]:
    guard = _guards.get(index)
    if guard is None:
        import re

        guard = _guards[index] = re.compile(source)
    return guard


def _one_pass(text: str) -> str:
    lowered = text.lower()
    for index, (triggers, _, replacement) in enumerate(_RULES):
        if any(t in lowered for t in triggers) and not _guarded_out(index, text):
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
        import re

        _secret_key = re.compile(r"(?i)[\w.\-]*(?:authorization|" + _KEYWORDS + ")")
    return _secret_key.fullmatch(key) is not None


def is_secret_flag(arg: str) -> bool:
    """True for a command-line flag whose next argument is a secret (``--password``, ``--api-key``)."""
    global _secret_flag
    if not arg.startswith("-") or not any(t in arg.lower() for t in _KEY_TRIGGERS):
        return False
    if _secret_flag is None:
        import re

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
        items: list[object] = []
        mask_next = False
        for item in value:
            if mask_next and isinstance(item, (str, int, float)) and not isinstance(item, bool):
                items.append(MASK)
            else:
                items.append(redact_tree(item))
            mask_next = isinstance(item, str) and is_secret_flag(item)
        return items
    return value


def redact_strings(value: object) -> object:
    """Redact every string value inside JSON-like data whose keys are ours (a payload we built): no key masking,
    so typed fields keep their types. Strings are scanned whole."""
    if isinstance(value, str):
        return redact(value, limit=None)
    if isinstance(value, dict):
        return {key: redact_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_strings(item) for item in value]
    return value
