"""The fatal-error answer to a message refused over MESH passes our validator and FHIR.js."""

from __future__ import annotations

import pytest

from adapter.conformance import has_errors, validate
from adapter.errors import InvalidInput, Issue
from adapter.exchange.refusal import is_error_response, refusal_message, refused_bundle_id
from tests.support.onward import SCENARIOS, build

ANSWER_ID = "5b0c7d1e-2f3a-4b5c-8d6e-7f8091a2b3c4"
MAILBOXES = ("X26ABC1", "X26ABC2")


def _refusal_of(refused: object) -> dict:
    error = InvalidInput(
        Issue(
            "birthDate must be on or before the time the message was received.",
            expression=("Bundle.entry[2].resource.birthDate",),
        )
    )
    answers = refused_bundle_id(refused, "local-id-fallback")
    return refusal_message(ANSWER_ID, refused, answers, error.operation_outcome(), MAILBOXES)


@pytest.mark.parametrize("kind", ["referral message", "not a message"])
def test_a_refusal_answer_passes_our_validator_and_fhirjs(kind: str, fhirjs) -> None:  # type: ignore[no-untyped-def]
    scenario = next(s for s in SCENARIOS if s.name == "home-area-ld")
    refused: object = build(scenario).message if kind == "referral message" else ["not", "FHIR"]
    answer = _refusal_of(refused)
    assert not has_errors(validate(answer)), validate(answer)
    assert fhirjs.validate(answer) == []
    header = answer["entry"][0]["resource"]
    expected_id = refused["id"] if isinstance(refused, dict) else "local-id-fallback"
    assert header["response"]["identifier"] == expected_id
    assert header["response"]["code"] == "fatal-error"
    assert header["destination"] == [{"endpoint": "X26ABC2"}]
    outcome = answer["entry"][1]["resource"]
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[2].resource.birthDate"]
    assert is_error_response(answer)  # so a receiver never answers it in turn
