"""The published JSON Schemas in schemas/ are exactly what the pydantic models generate, and nothing else is there."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from ecc_hooks.cli import schemas
from tests.helpers import REPO

EXPECTED = schemas.schema_files()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_checked_in_schema_equals_the_model(name: str) -> None:
    path = REPO / "schemas" / name
    assert path.exists(), f"{name} missing: run python -m ecc_hooks.schemas"
    assert path.read_text() == EXPECTED[name], f"{name} differs from its model: run python -m ecc_hooks.schemas"
    json.loads(path.read_text())  # and it is JSON


def test_no_stray_schema_files() -> None:
    assert sorted(p.name for p in (REPO / "schemas").glob("*.json")) == sorted(EXPECTED)


def test_check_mode_reports_a_stale_file(tmp_path) -> None:
    for name, text in EXPECTED.items():
        (tmp_path / name).write_text(text)
    assert schemas.main(["--check", "--dir", str(tmp_path)], out=lambda _: None) == 0
    stale = sorted(EXPECTED)[0]
    (tmp_path / stale).write_text("{}\n")
    said: list[str] = []
    assert schemas.main(["--check", "--dir", str(tmp_path)], out=said.append) == 1
    assert stale in said[0]


def test_undeclared_keys_finds_what_the_contract_does_not_name() -> None:
    # The walker the e2e tests run over real payloads: it must see a key the schema lacks, at any depth.
    from ecc_hooks.hud.aggregate import PayloadInputs, SessionState, build_payload
    from tests.helpers import undeclared_keys

    schema = json.loads((REPO / "schemas" / "ecc.hud-status.v1.schema.json").read_text())
    doc = build_payload(SessionState(), PayloadInputs(now=datetime.now(timezone.utc))).model_dump(mode="json")
    assert undeclared_keys(doc, schema) == []
    doc["cost"]["mysteryUsd"] = 1.0
    doc["checks"]["local"] = [{"command": "pytest", "status": "pass", "surprise": True}]
    assert sorted(undeclared_keys(doc, schema)) == ["$.checks.local[0].surprise", "$.cost.mysteryUsd"]
