"""Untrusted text on its way to a person or a file: the one sanitiser and the one JSON emitter.

Two rules, each in one place:

- **Human output** (the status line, ``status``, Markdown handoffs, ``loop-status`` text, ``doctor``) goes
  through ``clean`` (one line) or ``clean_block`` (keeps newlines and tabs): escape sequences (CSI, OSC,
  DCS/SOS/PM/APC, two-character escapes) are removed whole, then every other C0/C1 control, DEL, bidi
  override/isolate, zero-width and tag character is dropped. ``human`` also redacts secrets first.
- **JSON output** (``--json`` of every command, ``hud.json``, ``--write-dir`` files) goes through
  ``dump_json``: every string value is redacted, then serialized, then ``json_inert`` writes every
  control, bidi, zero-width, tag and line/paragraph separator character as a ``\\uXXXX`` escape, so
  printing the JSON to a terminal is inert while a JSON parser still reads the same strings.

Hot path (the status line imports ``clean``): ``re`` is imported only when an escape is present.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# C0 controls, DEL and C1 controls (0x80-0x9F: a terminal may take 0x9B as CSI and 0x9D as OSC).
_C0 = {c: None for c in range(0x20)}
_C1 = {0x7F: None} | {c: None for c in range(0x80, 0xA0)}
# Bidi marks, embeddings, overrides and isolates reorder what the user reads; zero-width characters,
# the word joiner family and Unicode tag characters hide text.
_INVISIBLE_CODES = (
    [0x061C, 0x115F, 0x1160, 0x180E, 0x3164, 0xFEFF, 0xFFA0]
    + list(range(0x200B, 0x2010))
    + list(range(0x2028, 0x202F))
    + list(range(0x2060, 0x2070))
    + list(range(0xE0000, 0xE0080))
)
_INVISIBLE = {c: None for c in _INVISIBLE_CODES}
# One line: line breaks and tabs become spaces (words on either side stay apart), the rest goes.
_STRIP_LINE = _C0 | _C1 | _INVISIBLE | {0x09: " ", 0x0A: " ", 0x0D: " "}
_STRIP_BLOCK = {c: None for c in _C0 | _C1 | _INVISIBLE if c not in (0x09, 0x0A)}
_ESCAPE_STARTS = ("\x1b", "\x9b", "\x9d", "\x90", "\x98", "\x9e", "\x9f")
_escape_re = None
_inert_re = None


def _strip_escapes(text: str) -> str:
    global _escape_re
    if not any(s in text for s in _ESCAPE_STARTS):
        return text
    if _escape_re is None:
        import re  # only when an escape is present

        _escape_re = re.compile(
            r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
            # OSC and DCS/SOS/PM/APC strings up to BEL/ST; an unterminated one ends at the line's end, so
            # it can never swallow the rest of a document
            r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
            r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c\n]*(?:\x1b\\|\x9c)?"
            r"|\x1b[ -/]*[0-~]?"  # other escapes (nF, Fp, Fe, Fs)
        )
    return _escape_re.sub("", text)


def clean(value: object, limit: int = 80) -> str:
    """An untrusted value as printable single-line text, capped at ``limit`` characters with an ellipsis."""
    if value is None:
        return ""
    text = _strip_escapes(value if isinstance(value, str) else str(value)).translate(_STRIP_LINE)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "\u2026"
    return text


def clean_block(value: object) -> str:
    """Untrusted multi-line text made inert for a terminal: like ``clean`` but newlines and tabs stay, no cap."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _strip_escapes(text.replace("\r\n", "\n")).translate(_STRIP_BLOCK)


def human(value: object) -> str:
    """Text for a person: secrets redacted, then ``clean_block``."""
    from ecc_hooks.core.redact import redact

    return clean_block(redact(value if isinstance(value, str) else str(value), limit=None))


def json_inert(text: str) -> str:
    """Serialized JSON with every invisible or terminal-active character written as a ``\\uXXXX`` escape.

    Outside strings JSON text is ASCII, so rewriting characters anywhere only touches string contents;
    the parsed value is unchanged. ASCII text (the usual case) has only DEL to escape: a scan in C, not the
    regular expression's character by character (10 s on a 20 MB report).
    """
    if text.isascii():
        return text.replace("\x7f", "\\u007f") if "\x7f" in text else text
    return _json_inert_slow(text)


def _json_inert_slow(text: str) -> str:
    """``json_inert`` by the regular expression, for text with non-ASCII characters."""
    global _inert_re
    if _inert_re is None:
        import re

        codes = sorted(set(_C1) | set(_INVISIBLE))
        _inert_re = re.compile("[" + "".join(f"\\U{c:08x}" for c in codes) + "]")

    def escape(match: Any) -> str:
        code = ord(match.group())
        if code > 0xFFFF:  # a surrogate pair, as JSON spells characters past the BMP
            code -= 0x10000
            return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
        return f"\\u{code:04x}"

    return _inert_re.sub(escape, text)


def dump_json(value: Any, indent: bool = False) -> bytes:
    """JSON for a person's terminal or a file others read: string values redacted, every risky character escaped.

    ``value`` is plain JSON data (``model_dump(mode="json")`` for a model). Keys are ours and kept. Standard
    library ``json``: our documents are small, and the core layer imports nothing outside the standard library.
    """
    import json

    from ecc_hooks.core.redact import redact_strings

    text = json.dumps(
        redact_strings(value),
        ensure_ascii=False,
        allow_nan=False,
        indent=2 if indent else None,
        separators=(",", ": ") if indent else (",", ":"),
    )
    return json_inert(text).encode("utf-8")


# how each agent resumes a session by its id (``harness`` names: Claude Code's is ``claude-code``); Aider keeps no
# sessions: it restores the folder's chat history instead
RESUME_ARGS = {
    "claude-code": ("claude", "--resume"),
    "codex": ("codex resume", None),
    "gemini-cli": ("gemini", "--resume"),
    "opencode": ("opencode", "--session"),
}


def resume_command(session_id: str, cwd: str | None = None, harness: str | None = None) -> str:
    """``[cd DIR && ]claude --resume ID`` (or the agent's own: ``codex resume ID``, ``gemini --resume ID``,
    ``opencode --session ID``, ``aider --restore-chat-history``) for a person to paste: every value shell-quoted,
    and an id that starts with ``-`` joined to its option (``--resume=-x``) so it can never be read as a flag of its
    own (``codex resume -- -x`` where the id is an argument)."""
    import shlex

    where = f"cd {shlex.quote(cwd)} && " if cwd else ""
    if harness == "aider":
        return where + "aider --restore-chat-history"
    command, option = RESUME_ARGS.get(harness or "claude-code", RESUME_ARGS["claude-code"])
    if option is None:
        resume = f"-- {shlex.quote(session_id)}" if session_id.startswith("-") else shlex.quote(session_id)
    elif session_id.startswith("-"):
        resume = shlex.quote(f"{option}={session_id}")
    else:
        resume = f"{option} {shlex.quote(session_id)}"
    return where + f"{command} {resume}"


def duration(seconds: float) -> str:
    """A compact duration: ``45s``, ``12m05s``, ``3h07m``, ``2d04h``."""
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"
