"""The screen's consent answers as decisions, by the rules in mappings/screening-consents.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from adapter.domain import ConsentDecision
from adapter.mapping.screen_consents import consents_after_screen
from adapter.native.assessment_schema import load_assessment

NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native" / "assessments"
AGREED = ConsentDecision(
    scope="screening",
    decision="agreed",
    capacity="has-capacity",
    recorded_by="Sgt Priya Kaur",
    recorded_at=datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
)


def _screen(name: str):  # type: ignore[no-untyped-def]
    return load_assessment(json.loads((NATIVE / name).read_text()))


def test_a_screen_finding_the_person_lacks_capacity_says_so_on_the_screening_consent():
    (screening,) = consents_after_screen((AGREED,), _screen("lacks-capacity-worcester-s136.json"))
    assert screening.capacity == "lacks-capacity"
    assert screening.decision == "agreed"  # agreement is not asked of a person lacking capacity
    assert screening.recorded_by == "Alex Morgan"
    assert screening.recorded_at == datetime(2026, 11, 24, 14, 50, tzinfo=UTC)


def test_sharing_decisions_the_referral_lacked_are_added_after_its_own():
    decisions = consents_after_screen((AGREED,), _screen("adult-custody-telford.json"))
    assert [(d.scope, d.decision) for d in decisions] == [
        ("screening", "agreed"),
        ("share-health", "agreed"),
        ("share-criminal-justice", "limited"),
    ]
    assert decisions[0] is AGREED  # unchanged: the referrer's record stands


def test_a_custody_identification_changes_no_consent():
    assert consents_after_screen((AGREED,), _screen("custody-identification-hereford.json")) == (
        AGREED,
    )
