"""The profile and message tiers against fixtures/conformance: exactly the expected issues."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapter.conformance import has_errors, validate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conformance"
INVALID = sorted(p for p in (FIXTURES / "invalid").glob("*.json") if ".expected" not in p.name)
VALID = sorted((FIXTURES / "valid").glob("*.json"))
# Every profile-tier and message-tier message id must be exercised by some fixture.
# (LD-MSG-UNKNOWN-EVENT is retired: a message's definition is never guessed from its event.)
RULE_IDS = {
    "LD-PROFILE-CARDINALITY-MIN",
    "LD-PROFILE-CARDINALITY-MAX",
    "LD-PROFILE-FIXED",
    "LD-PROFILE-PATTERN",
    "LD-PROFILE-BINDING-REQUIRED",
    "LD-PROFILE-BINDING-EXTENSIBLE",
    "LD-PROFILE-SLICE-MIN",
    "LD-PROFILE-SLICE-MAX",
    "LD-PROFILE-EXTENSION-MISSING",
    "LD-PROFILE-EXTENSION-UNKNOWN",
    "LD-PROFILE-NHS-NUMBER",
    "LD-PROFILE-INVARIANT",
    "LD-PROFILE-INVARIANT-WARNING",
    "LD-MSG-FOCUS-MISSING",
    "LD-MSG-FOCUS-UNRESOLVED",
    "LD-MSG-FOCUS-TYPE",
    "LD-MSG-EVENT-MISMATCH",
    "LD-MSG-EVENT-SYSTEM-OLD",
    "LD-MSG-COUNT-MIN",
    "LD-MSG-COUNT-MAX",
}


def _found(path: Path) -> Counter:
    return Counter(
        (i.severity, i.code, i.expression[0] if i.expression else None, i.message_id)
        for i in validate(path.read_bytes())
        if i.severity != "information"
    )


def _expected(path: Path) -> list[dict]:
    return json.loads(path.with_suffix(".expected.json").read_text())["issues"]


def test_there_are_enough_invalid_fixtures_covering_every_rule() -> None:
    assert len(INVALID) >= 25
    covered = {i["message_id"] for p in INVALID for i in _expected(p)}
    assert covered >= RULE_IDS, RULE_IDS - covered


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_the_expected_issues(path: Path) -> None:
    expected = Counter(
        (i["severity"], i["code"], i["expression"], i["message_id"]) for i in _expected(path)
    )
    assert _found(path) == expected


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_has_at_least_one_profile_or_message_issue(path: Path) -> None:
    ids = {i["message_id"] for i in _expected(path)}
    assert ids & RULE_IDS


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_message_has_no_errors_or_warnings(path: Path) -> None:
    issues = validate(path.read_bytes())
    assert not has_errors(issues)
    assert [i for i in issues if i.severity == "warning"] == []
