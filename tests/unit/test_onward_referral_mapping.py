"""The onward ServiceRequest and its Task as stored: shape, delivery status, validity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapter.conformance import has_errors, validate
from adapter.domain import OnwardReferral, OnwardReferralIds
from adapter.exchange.model import CANCELLED, DEAD_LETTER, DELIVERED, QUEUED, RETRYING
from adapter.mapping import codes
from adapter.mapping.onward_referral import (
    revoked,
    service_request_from_onward_referral,
    task_for_onward_referral,
    task_with_delivery_status,
)
from tests.support.onward import AT, SENDER, partner

IDS = OnwardReferralIds("onward-1", "sr-1", "task-1", "patient-1", "referral-1", ("consent-2",))
ONWARD = OnwardReferral(
    pathway="crisis-team",
    partner_service="crisis-telford",
    authored_on=AT,
    referred_by="Alex Morgan",
    referred_by_role="L&D practitioner (RMN)",
    reason="Thoughts of self-harm since release.",
    urgency="asap",
)


def _request(**changes: object) -> dict:
    onward = OnwardReferral(**{**ONWARD.__dict__, **changes})  # type: ignore[arg-type]
    return service_request_from_onward_referral(
        onward,
        IDS,
        findings=["self-harm-suicide-risk", "mental-health"],
        organization=SENDER.organization,
    )


def _task() -> dict:
    return task_for_onward_referral(
        IDS,
        organization=SENDER.organization,
        partner_organization=partner("health").organization,
        at=AT,
    )


def _errors(resource: dict) -> list:
    return [(i.message_id, i.expression) for i in validate(resource) if i.severity == "error"]


def test_service_request_follows_the_referral_and_asks_the_partner() -> None:
    request = _request()
    assert request["basedOn"] == [{"reference": "ServiceRequest/referral-1"}]
    assert request["performer"] == [{"reference": "HealthcareService/crisis-telford"}]
    assert request["category"][0]["coding"][0]["code"] == "crisis-team"
    assert request["code"]["coding"][0]["code"] == "referral-to-crisis-team"
    assert request["priority"] == "asap" and request["status"] == "active"
    assert request["supportingInfo"] == [{"reference": "Consent/consent-2"}]
    assert request["identifier"] == [
        {"system": codes.url("identifier.onward-referral"), "value": "onward-1"}
    ]
    role = request["contained"][0]
    assert request["requester"] == {"reference": f"#{role['id']}"}
    assert role["practitioner"] == {"display": "Alex Morgan"}
    assert role["organization"] == {"reference": "Organization/mpft"}


def test_reasons_are_the_findings_then_the_practitioners_words() -> None:
    reasons = _request()["reasonCode"]
    assert [r.get("coding", [{}])[0].get("code") for r in reasons] == [
        "self-harm-suicide-risk",
        "mental-health",
        None,
    ]
    assert reasons[-1] == {"text": "Thoughts of self-harm since release."}


def test_no_reason_and_no_note_make_no_empty_elements() -> None:
    request = service_request_from_onward_referral(
        OnwardReferral("gp", "gp-1", AT, "Alex Morgan"),
        IDS,
        findings=[],
        organization={"resourceType": "Organization", "id": "mpft"},
    )
    assert "reasonCode" not in request and "note" not in request
    assert not has_errors(validate(request))


@pytest.mark.parametrize("pathway", codes.codes("ld-onward-referral"))
def test_every_pathway_makes_a_valid_onward_referral(pathway: str) -> None:
    assert _errors(_request(pathway=pathway)) == []


def test_the_onward_referral_fails_its_profile_without_the_consent_it_relies_on() -> None:
    request = _request()
    del request["supportingInfo"]
    assert ("LD-PROFILE-CARDINALITY-MIN", ("ServiceRequest.supportingInfo",)) in _errors(request)


def test_cancelled_onward_referral_is_revoked_and_otherwise_the_same() -> None:
    request = _request()
    cancelled = revoked(request)
    assert cancelled["status"] == "revoked"
    assert {k: v for k, v in cancelled.items() if k != "status"} == {
        k: v for k, v in request.items() if k != "status"
    }
    assert _errors(cancelled) == []


def test_task_tracks_the_request_for_the_partner() -> None:
    task = _task()
    assert task["focus"] == {"reference": "ServiceRequest/sr-1"}
    assert task["for"] == {"reference": "Patient/patient-1"}
    assert task["owner"] == {"reference": "Organization/gp-wrekin"}
    assert task["requester"] == {"reference": "Organization/mpft"}
    assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == ("requested", QUEUED)
    assert _errors(task) == []


@pytest.mark.parametrize(
    ("delivery", "status"),
    [
        (QUEUED, "requested"),
        (RETRYING, "requested"),
        (DELIVERED, "received"),
        (DEAD_LETTER, "failed"),
        (CANCELLED, "cancelled"),
        ("sent", "requested"),  # GP Connect over MESH: in the practice's mailbox
        ("filed", "completed"),  # the practice's business acknowledgement
        ("failed", "failed"),  # a negative acknowledgement
    ],
)
def test_task_status_follows_delivery(delivery: str, status: str) -> None:
    later = AT + timedelta(minutes=5)
    task = task_with_delivery_status(_task(), delivery, later)
    assert task["status"] == status
    assert task["businessStatus"] == {"coding": [codes.coding("ld-delivery-status", delivery)]}
    assert task["lastModified"] == later.isoformat()
    assert _errors(task) == []


def test_a_task_whose_status_disagrees_with_delivery_fails_its_profile() -> None:
    task = {**task_with_delivery_status(_task(), DELIVERED, AT), "status": "requested"}
    assert ("LD-PROFILE-INVARIANT", ("Task",)) in _errors(task)


def test_every_delivery_state_of_the_outbox_and_of_itk_acks_has_a_code() -> None:
    itk_acks = {"sent", "filed", "failed"}  # GP Connect Send Document (adapter.services.gp_acks)
    assert set(codes.codes("ld-delivery-status")) == {
        QUEUED,
        RETRYING,
        DELIVERED,
        DEAD_LETTER,
        CANCELLED,
        *itk_acks,
    }


def test_resources_pass_fhirjs(fhirjs) -> None:  # type: ignore[no-untyped-def]
    task = task_with_delivery_status(_task(), DELIVERED, AT)
    for resource in (_request(), revoked(_request()), task):
        assert fhirjs.validate(resource) == [], resource["resourceType"]
