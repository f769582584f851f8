"""A QuestionnaireResponse says when its answers could not be checked against a Questionnaire."""

from __future__ import annotations

from adapter.conformance import has_errors, validate

OUR_PROFILE = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-screening-response"


def _response(**extra: object) -> dict:
    answer = {"linkId": "q1", "answer": [{"valueString": "yes"}]}
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [answer],
        **extra,
    }


def _found(resource: dict) -> list[tuple[str, str, str]]:
    return [
        (i.severity, i.message_id, i.expression[0])
        for i in validate(resource)
        if i.message_id and i.message_id.startswith("LD-QR")
    ]


def test_no_questionnaire_is_a_warning_that_answers_were_not_checked() -> None:
    found = _found(_response())
    assert found == [
        ("warning", "LD-QR-QUESTIONNAIRE-MISSING", "QuestionnaireResponse.questionnaire")
    ]


def test_an_unknown_questionnaire_is_a_warning_not_an_error() -> None:
    response = _response(questionnaire="https://example.org/Questionnaire/phq-9")
    assert _found(response) == [
        ("warning", "LD-QR-QUESTIONNAIRE-NOT-OURS", "QuestionnaireResponse.questionnaire")
    ]
    assert not has_errors(validate(response))


def test_claiming_our_profile_with_an_unknown_questionnaire_is_an_error() -> None:
    response = _response(
        meta={"profile": [OUR_PROFILE]}, questionnaire="https://example.org/Questionnaire/phq-9"
    )
    assert ("error", "LD-QR-UNKNOWN-QUESTIONNAIRE", "QuestionnaireResponse.questionnaire") in (
        _found(response)
    )
