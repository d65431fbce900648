"""No secret reaches disk: each kind, sent through the real hook in every field that is kept,
must be absent from every file under ECC_HOOKS_HOME (journal, raw payload, errors.log).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecc_hooks.capture import hook, normalize
from ecc_hooks.core import redact
from tests.helpers import journal_lines, run_hook

SESSION = "5ec2e7a1-0000-4000-8000-redactiontest"

PEM_BODY = (
    "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7Qkrm"
    "BL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW"
)
OPENSSH_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDx"

# (kind, text as a user or a tool would write it, the credential material that must vanish)
SECRETS = [
    (
        "anthropic",
        "use sk-ant-api03-Xy7Kq2Lm9Np4Rs6Tv8Wz1Ab3Cd5Ef7Gh9Ij-kLmN now",
        "api03-Xy7Kq2Lm9Np4Rs6Tv8Wz1Ab3Cd5Ef7Gh9Ij",
    ),
    ("openai", "OPENAI=sk-Zq81Lm27Xc64Vb93Nm10As55Df python run.py", "Zq81Lm27Xc64Vb93Nm10As55Df"),
    ("openai-proj", "key sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56 here", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56"),
    ("aws", "aws configure set aws_access_key_id AKIAZ7Q3XK9LMN2P4R6T", "AKIAZ7Q3XK9LMN2P4R6T"),
    (
        "github-ghp",
        "git remote set-url origin https://ghp_R8sT2uV4wX6yZ8aB0cD2eF4gH6iJ8kL0mN2o@github.com/o/r",
        "R8sT2uV4wX6yZ8aB0cD2eF4gH6iJ8kL0mN2o",
    ),
    ("github-gho", "token gho_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8", "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8"),
    ("github-ghs", "GH ghs_Z9x8C7v6B5n4M3l2K1j0H9g8F7d6S5a4Q3w2", "Z9x8C7v6B5n4M3l2K1j0H9g8F7d6S5a4Q3w2"),
    (
        "github-pat",
        "gh auth login with github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789AB",
        "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789AB",
    ),
    (
        "slack-bot",
        "slack xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx ok",
        "0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "slack-user",
        "slack xoxp-2234567890-1987654321-ZyXwVuTsRqPoNmLkJiHgFeDc ok",
        "1987654321-ZyXwVuTsRqPoNmLkJiHgFeDc",
    ),
    (
        "bearer",
        "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_Kq9Zt' https://api.example.com",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_Kq9Zt",
    ),
    (
        "basic-auth-header",
        'curl -H "Authorization: Basic ZGVwbG95Omh1bnRlcjJodW50ZXIy" https://x.example.com',
        "ZGVwbG95Omh1bnRlcjJodW50ZXIy",
    ),
    ("flag-password", "mysql --password Pq7!zL2mX9vB -u root", "Pq7!zL2mX9vB"),
    ("flag-password-eq", "mysql --password=Rt5$yU8iO1pL -u root", "Rt5$yU8iO1pL"),
    ("flag-token", "deploy --token tk_9f8e7d6c5b4a3210 --prod", "tk_9f8e7d6c5b4a3210"),
    ("flag-token-eq", "deploy --token=tq_0a1b2c3d4e5f6789 --prod", "tq_0a1b2c3d4e5f6789"),
    ("flag-api-key", "cli --api-key ak_live_51HxYzQwErTy --verbose", "ak_live_51HxYzQwErTy"),
    ("flag-api-key-eq", "cli --api-key=ak_test_77JkLmNoPqRs --verbose", "ak_test_77JkLmNoPqRs"),
    ("flag-quoted", 'cli --auth-token "two words secret" --verbose', "two words secret"),
    ("env-password", "PGPASSWORD=Hunter2Hunter2Hunter psql -h db", "Hunter2Hunter2Hunter"),
    (
        "env-secret-key",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 ls",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("json-password", '{"user": "jane", "password": "correct horse battery staple"}', "correct horse battery staple"),
    ("json-api-key", "{'api_key': 'zz-9Y8x7W6v5U4t3S2r'}", "zz-9Y8x7W6v5U4t3S2r"),
    ("pem", f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\nrest", PEM_BODY),
    ("pem-unterminated", f"key: -----BEGIN OPENSSH PRIVATE KEY-----\n{OPENSSH_BODY}", OPENSSH_BODY),
    ("url-userinfo", "git clone https://deploy:S3cr3t-Pa55w0rd@git.example.com/org/repo.git", "S3cr3t-Pa55w0rd"),
    ("url-userinfo-at", "psql postgres://app:p@ss@w0rd!x@db.example.com:5432/app", "p@ss@w0rd!x"),
]


def payloads_for(text: str) -> list[tuple[str, dict, list[str]]]:
    """(field, payload, path to the record field that must show the redaction) for every kept field."""
    common = {"session_id": SESSION, "cwd": "/home/dev/work", "transcript_path": "/home/dev/t.jsonl"}
    return [
        (
            "bash-command",
            {
                **common,
                "hook_event_name": "PreToolUse",
                "tool_name": "Bash",
                "tool_input": {"command": text, "description": "run"},
                "tool_use_id": "t1",
            },
            ["input", "command"],
        ),
        ("prompt", {**common, "hook_event_name": "UserPromptSubmit", "prompt": text}, ["prompt"]),
        (
            "error",
            {
                **common,
                "hook_event_name": "PostToolUseFailure",
                "tool_name": "Bash",
                "tool_input": {"command": "make"},
                "error": f"Exit code 1\n{text}",
                "tool_use_id": "t2",
            },
            ["error"],
        ),
        (
            "notification",
            {**common, "hook_event_name": "Notification", "message": text, "notification_type": "idle_prompt"},
            ["message"],
        ),
        (
            "file-path",
            {
                **common,
                "hook_event_name": "PreToolUse",
                "tool_name": "Read",
                "tool_input": {"file_path": f"/tmp/{text}"},
                "tool_use_id": "t3",
            },
            ["input", "filePath"],
        ),
        (
            "mcp-input",
            {
                **common,
                "hook_event_name": "PreToolUse",
                "tool_name": "mcp__db__query",
                "tool_input": {"sql": text},
                "tool_use_id": "t4",
            },
            ["input", "sql"],
        ),
        (
            "last-message",
            {**common, "hook_event_name": "Stop", "last_assistant_message": text, "stop_hook_active": False},
            ["lastMessage"],
        ),
    ]


def secret_forms(secret: str) -> list[bytes]:
    """The secret as it could appear in a file: as is, JSON-escaped, and ASCII-escaped."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    return [f.encode("utf-8") for f in forms]


def assert_nowhere(home: Path, secret: str) -> None:
    """Read every file under ``home`` (journal, errors.log, anything else) and look for the secret."""
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files, "nothing was written: the check would be vacuous"
    for path in files:
        data = path.read_bytes()
        for form in secret_forms(secret):
            assert form not in data, f"secret found in {path.relative_to(home)}"


def dig(record: dict, keys: list[str]) -> str:
    value: object = record
    for key in keys:
        assert isinstance(value, dict) and key in value, f"{keys} missing from {record}"
        value = value[key]
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize("kind, text, secret", SECRETS, ids=[s[0] for s in SECRETS])
def test_secret_reaches_no_file(kind: str, text: str, secret: str, ecc_home: Path) -> None:
    assert secret in text
    sent = payloads_for(text)
    for _, payload, _ in sent:
        result = run_hook(json.dumps(payload).encode())
        assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    # With the raw switch the whole payload is kept: the secret sits where nothing summarizes it.
    raw_payload = {
        "session_id": SESSION,
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "env"},
        "tool_response": {"stdout": text, "stderr": ""},
        "tool_use_id": "t5",
        "extra": {"nested": [text, {"deeper": text}]},
    }
    assert run_hook(json.dumps(raw_payload).encode(), env={hook.RAW_ENV: "1"}).returncode == 0
    # A malformed payload lands in errors.log with its (redacted) head.
    broken = (b'{"session_id":"s","prompt":' + json.dumps(text[:100]).encode())[:150]
    assert run_hook(broken).returncode == 0

    records = journal_lines(ecc_home, SESSION)
    assert len(records) == len(sent) + 1
    for (field, _, keys), record in zip(sent, records):
        assert redact.MASK in dig(record, keys), f"{field}: not recorded redacted"
    assert redact.MASK in json.dumps(records[-1]["raw"])
    assert [json.loads(line)["kind"] for line in (ecc_home / "errors.log").read_bytes().splitlines()] == [
        "malformed-json"
    ]
    assert_nowhere(ecc_home, secret)


def test_structured_secrets_in_tool_input(ecc_home: Path) -> None:
    """Keys that name a secret and argv-style flag lists: the text alone has no hint, the structure does."""
    values = {
        "password": "Str0ngP4ss!Word",
        "api_key": "ak-structured-1234567",
        "GITHUB_TOKEN": "tok-structured-89",
        "nested": "DbPassNested-42",
        "argv": "ArgvToken-77zz",
        "numeric": 918273645,
    }
    tool_input = {
        "password": values["password"],
        "api_key": values["api_key"],
        "apiToken": values["numeric"],
        "env": {"GITHUB_TOKEN": values["GITHUB_TOKEN"], "DB_PASSWORD": values["nested"]},
        "args": ["--verbose", "--token", values["argv"]],
        "query": "select 1",
    }
    payload = {
        "session_id": SESSION,
        "hook_event_name": "PreToolUse",
        "tool_name": "mcp__svc__call",
        "tool_input": tool_input,
        "tool_use_id": "t9",
    }
    assert run_hook(json.dumps(payload).encode(), env={hook.RAW_ENV: "1"}).returncode == 0
    [record] = journal_lines(ecc_home, SESSION)
    assert record["input"]["password"] == redact.MASK
    assert record["input"]["apiToken"] == redact.MASK
    assert record["input"]["query"] == "select 1"
    assert record["raw"]["tool_input"]["args"] == ["--verbose", "--token", redact.MASK]
    for value in values.values():
        assert_nowhere(ecc_home, str(value))


ORDINARY = [
    "curl -d max_tokens=100 https://api.example.com/v1/messages",
    "git push origin main",
    "open https://docs.example.com/guide/setup?section=install#top",
    "git log --author=jane --oneline",
    "author=jane",
    "pytest -k token_count --maxfail=1",
    "the basic approach is to read the key points",
    "ssh git@github.com",
    "task-notification for risk-assessment",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_survives(text: str, ecc_home: Path) -> None:
    payload = {
        "session_id": SESSION,
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": text},
        "tool_use_id": "t6",
    }
    assert run_hook(json.dumps(payload).encode()).returncode == 0
    [record] = journal_lines(ecc_home, SESSION)
    assert record["input"]["command"] == text
    assert redact.redact(text) == text


def test_long_fields_are_capped(ecc_home: Path) -> None:
    long = "word " * 5000
    sent = [
        (
            {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": long}},
            ["input", "command"],
            normalize.MEDIUM,
        ),
        ({"hook_event_name": "UserPromptSubmit", "prompt": long}, ["prompt"], normalize.MEDIUM),
        ({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "error": long}, ["error"], normalize.LONG),
        ({"hook_event_name": "Notification", "message": long}, ["message"], normalize.MEDIUM),
        (
            {"hook_event_name": "PreToolUse", "tool_name": "mcp__a__b", "tool_input": {"q": long}},
            ["input", "q"],
            normalize.SHORT,
        ),
        ({"hook_event_name": "Stop", "last_assistant_message": long}, ["lastMessage"], normalize.MEDIUM),
    ]
    for payload, _, _ in sent:
        assert run_hook(json.dumps({"session_id": SESSION, **payload}).encode()).returncode == 0
    records = journal_lines(ecc_home, SESSION)
    assert len(records) == len(sent)
    for (_, keys, cap), record in zip(sent, records):
        value = dig(record, keys)
        assert len(value) == cap
        assert value == long[: cap - 1] + "\u2026"


def test_secret_straddling_the_cap_leaves_nothing_usable(ecc_home: Path) -> None:
    """Redaction runs before the cut: a secret the cap would split is masked, not half kept."""
    secret = "Zx9Cv8Bn7Mq6Wl5Ek4"
    text = "x" * (normalize.MEDIUM - 20) + " --password " + secret  # a cut-then-redact would keep 7 characters
    assert len(text[: normalize.MEDIUM - 1].split(" --password ")[1]) >= 6
    payload = {"session_id": SESSION, "hook_event_name": "UserPromptSubmit", "prompt": text}
    assert run_hook(json.dumps(payload).encode()).returncode == 0
    [record] = journal_lines(ecc_home, SESSION)
    assert len(record["prompt"]) == normalize.MEDIUM
    assert secret[:6] not in record["prompt"]
    assert record["prompt"] == redact.redact(text)[: normalize.MEDIUM - 1] + "\u2026"
