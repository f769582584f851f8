"""Each fixture response yields exactly the issues its sidecar .expected.json lists."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapter.conformance.questionnaire_response import (
    MESSAGES,
    load_questionnaire_index,
    validate_questionnaire_response,
)

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "questionnaires"
RESPONSES = sorted(p for p in FIXTURE_DIR.glob("*.json") if not p.name.endswith(".expected.json"))
INDEX = load_questionnaire_index()
# Ids only reachable with JSON the base validator rejects first, or a broken evaluator.
NOT_IN_FIXTURES = {"LD-QR-MALFORMED", "LD-QR-NO-LINKID", "LD-QR-CALCULATION-FAILED"}


def load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def expected_for(path: Path) -> list[dict]:
    return load(path.with_name(path.name.replace(".json", ".expected.json")))  # type: ignore[return-value]


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.stem)
def test_fixture_yields_exactly_the_expected_issues(path: Path) -> None:
    issues = validate_questionnaire_response(load(path), INDEX)  # type: ignore[arg-type]
    found = Counter((i.code, i.expression, i.message_id) for i in issues)
    expected = Counter(
        (row["code"], (row["expression"],), row["message_id"]) for row in expected_for(path)
    )
    assert found == expected


def test_every_rule_has_an_invalid_fixture() -> None:
    covered = {
        row["message_id"]
        for path in RESPONSES
        if path.name.startswith("invalid-")
        for row in expected_for(path)
    }
    assert covered == set(MESSAGES) - NOT_IN_FIXTURES


def test_there_are_valid_fixtures_for_each_screening_story() -> None:
    names = {p.stem for p in RESPONSES if p.name.startswith("valid-")}
    assert {
        "valid-screening-adult-custody",
        "valid-screening-youth-appropriate-adult",
        "valid-screening-declined",
        "valid-screening-lacks-capacity",
    } <= names
