"""The validator against fixtures/validation: exactly the expected issues, no more, no fewer."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapter.conformance import has_errors, validate_resource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "validation"
INVALID = sorted(p for p in (FIXTURES / "invalid").glob("*.json") if ".expected" not in p.name)
VALID = sorted((FIXTURES / "valid").glob("*.json"))


def _as_tuples(issues: list[dict]) -> Counter:
    return Counter((i["severity"], i["code"], i["expression"], i["message_id"]) for i in issues)


def test_there_are_enough_invalid_fixtures() -> None:
    assert len(INVALID) >= 40


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_the_expected_issues(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text())["issues"]
    found = [
        {
            "severity": i.severity,
            "code": i.code,
            "expression": i.expression[0] if i.expression else None,
            "message_id": i.message_id,
        }
        for i in validate_resource(path.read_bytes())
    ]
    assert _as_tuples(found) == _as_tuples(expected)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_has_no_issues(path: Path) -> None:
    assert validate_resource(path.read_bytes()) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_invalid_fixture_has_a_diagnostic_sentence(path: Path) -> None:
    for issue in validate_resource(path.read_bytes()):
        assert len(issue.diagnostics) > 15
    expected = json.loads(path.with_suffix(".expected.json").read_text())["issues"]
    rejects = any(i["severity"] == "error" for i in expected)
    assert has_errors(validate_resource(path.read_bytes())) is rejects
