"""Unit tests per status line segment, through the test helper ``render_segment`` (pure: no files, no clock)."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone

import pytest
import wcwidth
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.statusline.segments import DEFAULT_ORDER, REGISTRY, load, render_piece, render_segment
from ecc_hooks.statusline.segments._util import clean
from ecc_hooks.statusline.segments.context import autocompact_pct
from ecc_hooks.statusline.segments.layout import THEMES, cells, compose, validate

NOW = 1_800_000_000.0
STDIN = {
    "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
    "cost": {"total_cost_usd": 0.261, "total_duration_ms": 754_000, "total_lines_added": 12, "total_lines_removed": 3},
    "context_window": {"context_window_size": 200_000, "used_percentage": 26, "remaining_percentage": 74},
    "workspace": {"current_dir": "/home/dev/work/proj/sub"},
}


def test_every_registered_segment_is_a_module_with_defaults_and_render() -> None:
    for name in REGISTRY:
        module = load(name)
        assert isinstance(module.DEFAULTS, dict) and callable(module.render)
    assert set(DEFAULT_ORDER) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_no_data_is_never_shown_healthy(name: str) -> None:
    """With empty stdin and no snapshot a segment shows nothing or an 'unknown' piece, never ok/green."""
    piece = render_piece(name, stdin={}, snapshot={})
    assert piece is None or piece[1] in ("unknown", "dim", "info")
    assert piece is None or piece[1] != "ok"


def test_model() -> None:
    assert render_segment("model", STDIN) == "Sonnet 4.5"
    assert render_segment("model", {"model": {"id": "claude-opus-4-5"}}) == "claude-opus-4-5"
    assert render_segment("model", {}, {"context": {"model": "m-from-snapshot"}}) == "m-from-snapshot"
    assert render_piece("model", stdin={}) == ("model --", "unknown")
    assert render_segment("model", {**STDIN, "effort": {"level": "high"}}) == "Sonnet 4.5\u00b7high"
    codex = {"context": {"harness": "codex", "model": "gpt-5.1-codex"}}
    assert render_segment("model", {}, codex) == "codex gpt-5.1-codex"  # another agent's session says which
    assert render_segment("model", {}, {"context": {"harness": "claude-code", "model": "m"}}) == "m"
    odd = render_segment("model", {}, {"context": {"harness": "gemini-cli\x1b[2J"}})
    assert odd.startswith("gemini-cli") and "\x1b" not in odd  # payload text never reaches the terminal raw


def test_task_with_counts_and_absent_without_one() -> None:
    snap = {"todos": {"inProgress": "Write tests", "counts": {"pending": 2, "inProgress": 1, "completed": 3}}}
    assert render_segment("task", STDIN, snap) == "\u25b8 Write tests 3/6"
    assert render_segment("task", STDIN, {"todos": {"inProgress": None}}) is None
    long = {"todos": {"inProgress": "x" * 100}}
    assert (
        render_segment("task", STDIN, long, config={"segment": {"task": {"max": 10}}}) == "\u25b8 " + "x" * 9 + "\u2026"
    )


def test_cost_marked_when_reported_and_computed_disagree() -> None:
    agree = {"cost": {"reportedUsd": 0.261, "computedUsd": 0.262}}
    disagree = {"cost": {"reportedUsd": 0.261, "computedUsd": 0.40}}
    assert render_segment("cost", STDIN, agree) == "$0.26"
    assert render_segment("cost", STDIN, disagree) == "~$0.26"
    assert render_piece("cost", stdin={}) == ("$--", "unknown")
    assert render_segment("cost", {}, {"cost": {"sessionUsd": 1.5}}) == "$1.50"
    over = {"cost": {"budgetUsd": 0.2, "trend": "over-budget"}}
    assert render_piece("cost", stdin=STDIN, snapshot=over) == ("$0.26/$0.20", "bad")
    # the tolerance is data
    assert render_segment("cost", STDIN, disagree, config={"segment": {"cost": {"tolerance_usd": 1.0}}}) == "$0.26"


def test_burn_rate_thresholds() -> None:
    assert render_segment("burn", STDIN, {}) is None
    assert render_piece("burn", stdin=STDIN, snapshot={"cost": {"burnRateUsdPerHour": 4.2}}) == ("$4.20/h", "ok")
    assert render_piece("burn", stdin=STDIN, snapshot={"cost": {"burnRateUsdPerHour": 40}})[1] == "bad"
    assert (
        render_piece(
            "burn",
            stdin=STDIN,
            snapshot={"cost": {"burnRateUsdPerHour": 4.2}},
            config={"segment": {"burn": {"warn": 4}}},
        )[1]
        == "warn"
    )


def test_tools_failures_running_and_unknown() -> None:
    snap = {"toolCalls": {"total": 12, "failures": 2, "running": ["Bash", "Read", "Edit"], "stale": 0}}
    assert render_piece("tools", stdin=STDIN, snapshot=snap) == ("tools 12 \u27172 \u25b6Bash,Read", "warn")
    assert render_piece("tools", stdin=STDIN, snapshot={"toolCalls": {"total": 3}}) == ("tools 3", "info")
    assert render_piece("tools", stdin=STDIN, snapshot={}) == ("tools --", "unknown")


def test_lines_and_duration() -> None:
    assert render_segment("lines", STDIN) == "+12 -3"
    assert render_segment("lines", {"cost": {"total_lines_added": 0, "total_lines_removed": 0}}) is None
    assert render_segment("duration", STDIN) == "12m34s"
    assert render_segment("duration", {}) is None


def test_agents_running_only() -> None:
    snap = {
        "activeAgents": [
            {"id": "a", "state": "running", "agentType": "Explore"},
            {"id": "b", "state": "completed", "agentType": "Plan"},
            {"id": "c", "state": "waiting", "agentType": "Explore"},
        ]
    }
    assert render_segment("agents", STDIN, snap) == "agents 2 Explore"
    assert render_segment("agents", STDIN, {"activeAgents": [{"id": "b", "state": "completed"}]}) is None


def test_agents_are_counted_by_their_real_kind() -> None:
    """Runtime workers show as their agent, or ``script`` (issue 24: it said ``agents 5 claude`` for 2 + 3)."""
    kinds = ["claude", "script", "script", "claude", "script"]
    snap = {"activeAgents": [{"id": str(n), "state": "running", "agentType": k} for n, k in enumerate(kinds)]}
    assert render_segment("agents", STDIN, snap) == "agents 5 claude\u00d72,script\u00d73"


def test_git_from_snapshot_only_and_dimmed_when_stale() -> None:
    snap = {"context": {"branch": "main", "ahead": 2, "behind": 1}, "risk": {"dirtyWorktree": True}}
    assert render_piece("git", stdin=STDIN, snapshot=snap, snapshot_age=1.0) == ("\u2387 main* \u21912\u21931", "warn")
    assert render_piece("git", stdin=STDIN, snapshot=snap, snapshot_age=10_000.0)[1] == "dim"
    assert render_segment("git", {**STDIN, "worktree": {"branch": "from-stdin"}}, {}) is None


def test_directory_shortened_under_home() -> None:
    assert render_segment("directory", STDIN, env={"HOME": "/home/dev"}) == "\u2026/proj/sub"
    assert render_segment("directory", {"cwd": "/home/dev/x"}, env={"HOME": "/home/dev"}) == "~/x"
    assert render_segment("directory", {}) is None


def test_context_is_the_figure_claude_code_shows() -> None:
    # no current_usage: 26% of 200k is 52,000 tokens, 29% of the 180,000 Claude Code counts against
    assert render_segment("context", STDIN) == "ctx \u2588\u2588\u2588\u2591\u2591\u2591\u2591\u2591\u2591\u2591 29%"
    exact = {"context_window": {"context_window_size": 200_000, "used_percentage": 81, "current_usage": {
        "input_tokens": 200, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 160_000, "output_tokens": 1_000,
    }}}  # fmt: skip
    assert render_piece("context", stdin=exact, config={"segment": {"context": {"bar": 0}}}) == ("ctx 90%", "bad")
    assert render_piece("context", stdin={}) == ("ctx --", "unknown")
    assert render_piece("context", stdin={"context_window": {"used_percentage": None}}) == ("ctx --", "unknown")
    from_snapshot = render_segment(
        "context", {}, {"context": {"contextWindow": {"usedPct": 40}}}, config={"segment": {"context": {"bar": 0}}}
    )
    assert from_snapshot == "ctx 40%"
    past = {"context_window": {"used_percentage": 90, "context_window_size": 200000}}  # 180,000: 100% shown
    assert render_piece("context", stdin=past)[1] == "bad" and "compacting" in render_segment("context", past)
    with_distance = render_segment("context", STDIN, config={"segment": {"context": {"bar": 0, "show_compact": True}}})
    assert with_distance == "ctx 29% \u21e364%"  # 92.8 - 28.9, on the same scale
    assert autocompact_pct(200_000, load("context").DEFAULTS, {}) == pytest.approx(167_000 / 180_000 * 100)
    assert autocompact_pct(200_000, load("context").DEFAULTS, {"DISABLE_AUTO_COMPACT": "1"}) is None
    assert autocompact_pct(
        200_000, load("context").DEFAULTS, {"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"}
    ) == pytest.approx(50.0)


def test_rate_limits_against_elapsed_window() -> None:
    limits = {
        "rate_limits": {
            "five_hour": {"used_percentage": 80, "resets_at": NOW + 4 * 3600},
            "seven_day": {"used_percentage": 10, "resets_at": NOW + 3.5 * 86400},
        }
    }
    text, level = render_piece("rate_limits", stdin=limits, now=NOW)
    assert text == "5h 80%/20% 7d 10%/50%"
    assert level == "warn"  # 80 % used with a fifth of the window gone
    assert render_segment("rate_limits", STDIN) is None
    ms = {"rate_limits": {"five_hour": {"used_percentage": 10, "resets_at": (NOW + 2.5 * 3600) * 1000}}}
    assert render_segment("rate_limits", ms, now=NOW) == "5h 10%/50%"


def test_checks_and_risk() -> None:
    snap = {
        "checks": {
            "local": [{"command": "pytest", "status": "pass"}, {"command": "ruff", "status": "fail"}],
            "remote": [{"name": "CI", "status": "pending"}],
        },
        "risk": {"status": "attention", "reasons": ["failing checks: ruff"]},
    }
    assert render_piece("checks", stdin=STDIN, snapshot=snap) == ("checks \u27131 \u27171 \u20261", "bad")
    assert render_segment("checks", STDIN, {"checks": {"local": [], "remote": []}}) is None
    assert render_piece("risk", stdin=STDIN, snapshot=snap) == ("\u26a0 failing checks: ruff", "warn")
    assert render_piece("risk", stdin=STDIN, snapshot={"risk": {"status": "unknown"}}) == ("risk ?", "unknown")
    assert render_segment("risk", STDIN, {}) is None


@pytest.mark.parametrize(
    "hostile",
    [
        "main\x1b[31mRED\x1b[0m",
        "x\x1b]0;pwned\x07y",
        "x\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
        "a\x9b31mb",
        "a\x9d0;t\x9cb",
        "a\x1bPq#0\x1b\\b",
        "a\x07\x08\x7f\x85b",
        "a\u202eb\u200bc",
        "\x1bc",
    ],
)
def test_clean_removes_every_escape_and_control(hostile: str) -> None:
    out = clean(hostile)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in out)
    assert "\u202e" not in out and "\u200b" not in out
    assert "pwned" not in out and "evil" not in out and "31m" not in out


def test_layout_drops_low_priority_first_and_fits() -> None:
    pieces = [("model", "info", 95), ("directory-long-text", "dim", 20), ("ctx 26%", "ok", 100)]
    row = compose(pieces, 20, "plain")
    assert row == "model | ctx 26%"
    assert cells(compose(pieces, 8, "plain")) <= 8
    for theme in THEMES:
        colored = compose(pieces, 200, theme, color=True)
        plain = compose(pieces, 200, theme, color=False)
        assert "\x1b" not in plain
        assert ("\x1b" in colored) == (theme != "plain")


def test_config_validation_reports_without_failing() -> None:
    config, error = validate({"theme": "neon", "segments": ["model", "nope"]}, REGISTRY, DEFAULT_ORDER)
    assert error is not None and "neon" in error
    assert config["lines"] == [["model"]]
    config, error = validate({"theme": "minimal", "lines": [["model"], ["context", "cost"]]}, REGISTRY, DEFAULT_ORDER)
    assert error is None and config == {"theme": "minimal", "lines": [["model"], ["context", "cost"]]}


UNICODE = unicodedata.unidata_version


# Text of the kinds a row carries, from blocks whose widths did not move between Unicode versions (Python's
# tables and wcwidth's may be of different versions: 3.10 has Unicode 13): Latin, combining accents, box
# drawing and arrows, CJK, Hangul, fullwidth forms, emoji faces and pictographs.
_RANGES = (
    (0x20, 0x7E), (0xA1, 0x17F), (0x300, 0x36F), (0x2190, 0x21FF), (0x2500, 0x257F), (0x3041, 0x3096),
    (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0xFF01, 0xFF5E), (0x1F300, 0x1F320), (0x1F600, 0x1F64F),
)  # fmt: skip
ALPHABET = [
    chr(o)
    for lo, hi in _RANGES
    for o in range(lo, hi + 1)
    if unicodedata.category(chr(o)) not in ("Cn", "Cc", "Mc") and unicodedata.east_asian_width(chr(o)) != "A"
]


@settings(max_examples=300)
@given(st.text(st.sampled_from(ALPHABET), max_size=40))
def test_cells_agrees_with_wcwidth(text: str) -> None:
    theirs = wcwidth.wcswidth(text, unicode_version=UNICODE)  # the same Unicode version as Python's tables
    assert cells(text) == theirs, [(hex(ord(c)), cells(c), wcwidth.wcwidth(c, unicode_version=UNICODE)) for c in text]


def test_cells_of_wide_combining_and_emoji_text() -> None:
    assert cells("日本語") == 6 and cells("한국어") == 6
    assert cells("e\u0301te\u0301") == 3  # combining acute accents take no cell
    assert cells("🚀 done ✅") == 10 and cells("🫠") == 2


def test_cells_agrees_with_unicode_on_common_wide_and_narrow_text() -> None:
    for text in ("ctx ███░░ 26%", "日本語のテキスト", "한국어", "✗ ▶ ⚠ │", "🚀 done", "🫠"):
        wide = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
        assert cells(text) == wide, text


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2400, 1, 1)))
def test_epoch_reads_the_journals_stamps_as_datetime_does(moment: datetime) -> None:
    from ecc_hooks.core.timestamps import iso
    from ecc_hooks.statusline.segments._util import epoch

    aware = moment.replace(tzinfo=timezone.utc)
    stamp = iso(aware)
    assert abs(epoch(stamp) - aware.timestamp()) < 0.001, stamp


def test_a_wait_outranks_every_other_reason_in_the_risk_segment() -> None:
    snapshot = {
        "risk": {"status": "attention", "reasons": ["failing checks: pytest"]},
        "context": {"waitingFor": "permission to use Bash", "waitingSince": "2026-05-01T12:00:00.000Z"},
    }
    from ecc_hooks.statusline.segments._util import epoch

    now = epoch("2026-05-01T12:02:05.000Z") or 0.0
    assert render_segment("risk", snapshot=snapshot, now=now) == "\u23f8 needs you: permission to use Bash 2m05s"
