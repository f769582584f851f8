"""The servicerequest-response message we send back to a referrer: valid, addressed, minimal."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapter.conformance import has_errors, validate
from adapter.exchange.response import Answer, referred_request, response_message
from tests.support.golden import strip_volatile
from tests.support.onward import SCENARIOS, SENDER, build, partner

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "messages"

AT = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)
RESPONSE_ID = "7e1d2c3b-4a59-4b6c-8d7e-9f0a1b2c3d4e"


def _answer(code: str, reason: str | None = None) -> Answer:
    return Answer(code=code, reason=reason, at=AT, task_id="answer-task-1")


def _received() -> dict:
    """A referral message as we received it: our own onward referral message to a home-area L&D."""
    scenario = next(s for s in SCENARIOS if s.name == "home-area-ld")
    return build(scenario).message


@pytest.mark.parametrize(
    ("code", "reason", "task_status", "request_status"),
    [
        ("accepted", None, "accepted", "active"),
        ("rejected", "22", "rejected", "revoked"),
        ("seen", None, "in-progress", "active"),
        ("did-not-attend", None, "in-progress", "active"),
        ("completed", None, "completed", "completed"),
    ],
)
def test_a_response_answers_the_referral_message_and_passes_both_validators(
    code: str, reason: str | None, task_status: str, request_status: str, fhirjs
) -> None:
    received = _received()
    referrer = partner("home-area-ld")
    message = response_message(
        RESPONSE_ID, _answer(code, reason), received, referrer, SENDER, "https://them.example/fhir"
    )
    assert not has_errors(validate(message)), validate(message)
    assert fhirjs.validate(message) == []
    header = message["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == "servicerequest-response"
    assert header["response"] == {"identifier": received["id"], "code": "ok"}
    assert header["destination"][0]["endpoint"] == "https://them.example/fhir"
    resources = {e["resource"]["resourceType"]: e["resource"] for e in message["entry"]}
    theirs = referred_request(received)
    assert resources["ServiceRequest"]["id"] == theirs["id"]
    assert resources["ServiceRequest"]["status"] == request_status
    task = resources["Task"]
    assert task["status"] == task_status
    assert task["businessStatus"]["coding"][0]["code"] == code
    if reason:
        assert task["statusReason"]["coding"][0]["code"] == reason


def test_a_response_names_the_person_by_identifier_only() -> None:
    received = _received()
    message = response_message(
        RESPONSE_ID, _answer("accepted"), received, partner("home-area-ld"), SENDER, "x"
    )
    types = [e["resource"]["resourceType"] for e in message["entry"]]
    assert "Patient" not in types
    patient = next(
        e["resource"] for e in received["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    text = json.dumps(message)
    for name in patient.get("name", []):
        assert name.get("family", "never") not in text


def test_a_rejection_matches_its_golden_message() -> None:
    """The shape partners code against (fixtures/messages/home-area-ld.response-rejected.json)."""
    message = strip_volatile(
        response_message(
            RESPONSE_ID,
            _answer("rejected", "22"),
            _received(),
            partner("home-area-ld"),
            SENDER,
            "https://ld-adapter.example.nhs.uk/fhir",
        )
    )
    golden = GOLDEN / "home-area-ld.response-rejected.json"
    if os.environ.get("LD_ADAPTER_UPDATE_GOLDENS") == "1":
        golden.write_text(json.dumps(message, indent=2, ensure_ascii=False) + "\n")
    assert message == json.loads(golden.read_text(encoding="utf-8"))
