"""What a screen found becomes the referral's vulnerability codes, by the rules in mappings/."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from adapter.conformance.full import questionnaires
from adapter.domain.assessment import CodedAnswer
from adapter.mapping import codes
from adapter.mapping.findings import _rules, screening_findings
from adapter.native.assessment_schema import load_assessment

ROOT = Path(__file__).resolve().parents[2]
ASSESSMENTS = ROOT / "fixtures" / "native" / "assessments"


def load(name: str):  # type: ignore[no-untyped-def]
    return load_assessment(json.loads((ASSESSMENTS / f"{name}.json").read_text()), questionnaires())


def test_every_rule_names_a_real_item_and_vulnerability() -> None:
    url, rules = _rules()
    compiled = questionnaires().get(url)
    assert compiled is not None
    for rule in rules:
        assert rule.link_id in compiled.items, rule.link_id
        assert codes.has("ld-vulnerability", rule.finding), rule.finding


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("declines-screening-cannock-court", ()),
        ("custody-identification-hereford", ()),
        (
            "lacks-capacity-worcester-s136",
            ("mental-health", "acquired-brain-injury", "alcohol", "safeguarding-adult"),
        ),
    ],
)
def test_findings_of_the_fixture_screens(name: str, expected: tuple[str, ...]) -> None:
    assert screening_findings(load(name), questionnaires()) == expected


def test_the_calculated_audit_c_total_decides_alcohol() -> None:
    screen = load("adult-custody-telford")
    assert "alcohol" in screen_findings(screen)
    answers = dict(screen.answers)
    never = CodedAnswer(
        "https://ld-adapter.github.io/fhir/CodeSystem/ld-audit-c-answer", "frequency-never"
    )
    answers["audit-c-frequency"] = (never,)
    answers.pop("audit-c-typical-day", None)
    answers.pop("audit-c-heavy-episodic", None)
    assert "alcohol" not in screen_findings(replace(screen, answers=answers))


def screen_findings(screen) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    return screening_findings(screen, questionnaires())
