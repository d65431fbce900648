"""Sample stdin and snapshot for ``ecc-hooks statusline --preview`` (not used on the render path)."""

from __future__ import annotations

NOW = 1_795_280_000.0

STDIN = {
    "session_id": "preview",
    "cwd": "/home/dev/work/ecc-hooks",
    "transcript_path": "/home/dev/.claude/projects/-home-dev-work-ecc-hooks/preview.jsonl",
    "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
    "workspace": {
        "current_dir": "/home/dev/work/ecc-hooks",
        "project_dir": "/home/dev/work/ecc-hooks",
        "added_dirs": [],
    },
    "version": "2.1.328",
    "cost": {
        "total_cost_usd": 1.84,
        "total_duration_ms": 1_938_000,
        "total_api_duration_ms": 412_000,
        "total_lines_added": 214,
        "total_lines_removed": 37,
    },
    "context_window": {
        "total_input_tokens": 96_000,
        "total_output_tokens": 4_100,
        "context_window_size": 200_000,
        "current_usage": {
            "input_tokens": 1_200,
            "output_tokens": 900,
            "cache_creation_input_tokens": 4_800,
            "cache_read_input_tokens": 90_000,
        },
        "used_percentage": 48,
        "remaining_percentage": 52,
    },
    "rate_limits": {
        "five_hour": {"used_percentage": 41, "resets_at": NOW + 2 * 3600},
        "seven_day": {"used_percentage": 12, "resets_at": NOW + 5 * 86400},
    },
}

SNAPSHOT = {
    "schema_version": "ecc.hud-status.v1",
    "generatedAt": "2026-11-21T12:00:00.000Z",
    "context": {
        "harness": "claude-code",
        "model": "claude-sonnet-4-5",
        "branch": "feat/statusline",
        "worktree": "/home/dev/work/ecc-hooks",
        "ahead": 2,
        "behind": 0,
        "contextWindow": {"remainingPct": 52, "pressure": "normal"},
    },
    "toolCalls": {"total": 37, "pending": 1, "stale": 0, "failures": 2, "running": ["Bash"]},
    "activeAgents": [{"id": "a1", "state": "running", "agentType": "Explore"}],
    "todos": {"inProgress": "Write the segment tests", "counts": {"pending": 2, "inProgress": 1, "completed": 3}},
    "checks": {
        "local": [{"command": "pytest -q", "status": "pass"}, {"command": "ruff check", "status": "fail"}],
        "remote": [],
    },
    "cost": {
        "sessionUsd": 1.84,
        "budgetUsd": None,
        "trend": "no-budget",
        "reportedUsd": 1.84,
        "computedUsd": 1.61,
        "differenceUsd": 0.23,
        "burnRateUsdPerHour": 3.42,
    },
    "risk": {"status": "attention", "reasons": ["failing checks: ruff check"], "dirtyWorktree": True, "conflicts": 0},
}
