"""Bad native assessments: one issue per problem, at the native field path, never echoing values."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from adapter.domain.assessment import CodedAnswer
from adapter.errors import InvalidInput
from adapter.native.assessment_schema import load_assessment, native_path_for

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "native" / "assessments"
SECRET = "Zebedee-Quux-1966"  # a value that must never appear in a diagnostic


def _payload(name: str = "adult-custody-telford") -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _problems(payload: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        load_assessment(payload)
    issues = caught.value.issues
    for issue in issues:
        assert SECRET not in issue.diagnostics
    return {issue.expression[0] if issue.expression else "": issue.diagnostics for issue in issues}


def test_a_code_alone_is_resolved_against_the_items_options() -> None:
    assessment = load_assessment(_payload())
    assert assessment.answers["audit-c-frequency"] == (
        CodedAnswer(
            "https://ld-adapter.github.io/fhir/CodeSystem/ld-audit-c-answer",
            "frequency-2-3-per-week",
            "2 to 3 times a week",
        ),
    )
    assert assessment.outcome == "full-assessment"  # taken from the screening-outcome answer


def test_not_an_object() -> None:
    assert _problems([SECRET]) == {"": "Expected the assessment as a JSON object."}


def test_missing_fields_are_each_reported() -> None:
    problems = _problems({})
    assert set(problems) == {
        "kind",
        "questionnaire",
        "status",
        "practitioner",
        "setting",
        "site",
        "started_at",
        "answers",
    }


def test_answers_typed_by_their_items() -> None:
    payload = _payload()
    answers = payload["answers"]
    answers["age-years"] = [SECRET]
    answers["under-18"] = ["no"]
    answers["audit-c-frequency"] = [SECRET]
    answers["received-at"] = ["2026-11-24T09:40:00"]
    answers["last-use-date"] = ["20/11/2026"]
    answers["current-team"] = [" "]
    answers["presenting-concerns"] = ["low-mood", {"system": "x", "code": SECRET}]
    answers["no-such-question"] = [True]
    answers["alcohol"] = [True]
    answers["audit-c-total"] = [6]
    answers["substances"] = SECRET
    problems = _problems(payload)
    assert problems == {
        "answers.age-years[0]": "Expected a whole number.",
        "answers.under-18[0]": "Expected true or false.",
        "answers.audit-c-frequency[0]": "Expected a code from its answerOption list.",
        "answers.received-at[0]": "Expected the date-time to carry a zone (Z or +hh:mm).",
        "answers.last-use-date[0]": "Expected an ISO 8601 date, YYYY-MM-DD.",
        "answers.current-team[0]": "Expected a non-blank string.",
        "answers.presenting-concerns[1]": (
            "Expected a code from ValueSet "
            "https://ld-adapter.github.io/fhir/ValueSet/ld-mental-health-concern."
        ),
        "answers.no-such-question": (
            "Unknown item: not a linkId of "
            "https://ld-adapter.github.io/fhir/Questionnaire/ld-screening|1.0.0."
        ),
        "answers.alcohol": "Item is a group and takes no answers.",
        "answers.audit-c-total": "Item is calculated by the adapter: leave it out.",
        "answers.substances": "Expected a JSON array of 1 to 50 answers.",
    }


def test_envelope_rules() -> None:
    payload = _payload()
    payload.update(
        kind="triage",
        status="final",
        site="custody telford",
        ended_at="2026-11-24T09:00:00Z",
        legal_status="3",
        risks=["self-harm-risk", "self-harm-risk"],
        outcome="signpost",
        questionnaire_extra=SECRET,
    )
    payload["practitioner"]["identifier"]["register"] = "gphc"
    problems = _problems(payload)
    assert set(problems) == {
        "kind",
        "status",
        "site",
        "ended_at",
        "legal_status",
        "risks[1]",
        "outcome",
        "questionnaire_extra",
        "practitioner.identifier.register",
    }
    assert problems["legal_status"] == "Expected one of 19, 20."
    assert problems["outcome"] == "Expected outcome to equal the answer to screening-outcome."


def test_unknown_questionnaire_version() -> None:
    payload = _payload()
    payload["questionnaire"] = payload["questionnaire"].replace("1.0.0", "9.9.9")
    assert _problems(payload) == {
        "questionnaire": "Expected the url|version of a known Questionnaire."
    }


def test_completed_needs_an_end_and_in_progress_has_none() -> None:
    payload = _payload()
    del payload["ended_at"]
    assert set(_problems(payload)) == {"ended_at"}
    payload = _payload()
    payload["status"] = "in-progress"
    assert set(_problems(payload)) == {"ended_at"}


def test_questionnaire_rules_are_reported_at_native_paths() -> None:
    payload = _payload("declines-screening-cannock-court")
    payload["answers"]["self-harm"] = ["plan"]  # mental health is disabled when screening declined
    payload["answers"]["outreach-offered"] = [True, False]  # does not repeat
    del payload["answers"]["safeguarding-concern"]  # required
    problems = _problems(payload)
    assert set(problems) == {
        "answers.self-harm",
        "answers.outreach-offered[1]",
        "answers.safeguarding-concern",
    }
    assert "disabled" in problems["answers.self-harm"]


def test_required_items_wait_until_the_screen_is_completed() -> None:
    payload = _payload("declines-screening-cannock-court")
    del payload["answers"]["safeguarding-concern"]
    del payload["answers"]["screening-outcome"]
    payload["status"] = "in-progress"
    del payload["ended_at"]
    assessment = load_assessment(payload)
    assert assessment.outcome is None


def test_youth_needs_an_appropriate_adult_answer() -> None:
    payload = _payload("youth-shrewsbury-appropriate-adult")
    del payload["answers"]["appropriate-adult-present"]
    assert set(_problems(payload)) == {"answers.appropriate-adult-present"}


def test_native_path_for_points_into_answers() -> None:
    response = {
        "item": [
            {
                "linkId": "alcohol",
                "item": [
                    {"linkId": "audit-c-frequency", "answer": [{"valueCoding": {}}]},
                    {"linkId": "audit-c-typical-day", "answer": [{}, {"valueCoding": {}}]},
                ],
            }
        ]
    }
    base = "QuestionnaireResponse"
    assert native_path_for(f"{base}.item[0].item[1].answer[1].valueCoding", response) == (
        "answers.audit-c-typical-day[1]"
    )
    assert native_path_for(f"{base}.item[0].item[0]", response) == "answers.audit-c-frequency"
    assert native_path_for(f"{base}.item[0]", response) == "answers.audit-c-frequency"
    assert native_path_for(f"{base}.item[7]", response) == "answers"
    assert native_path_for(base, response) == "answers"


def test_fixture_payloads_are_not_changed_by_loading() -> None:
    payload = _payload()
    before = copy.deepcopy(payload)
    load_assessment(payload)
    assert payload == before
