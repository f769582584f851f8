"""OnwardReferral ⇄ the onward ServiceRequest, the Task tracking it, and a lawful-basis Consent.

These are the resources the adapter stores; `adapter.exchange.message` cuts them down to what one
partner may see. What each pathway asks for is data (`mappings/onward-referral-rules.json`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from adapter.domain import ConsentDecision, OnwardReferral, OnwardReferralIds, Referrer
from adapter.mapping import codes
from adapter.mapping.common import fhir_datetime, reference
from adapter.mapping.consent import consent_from_decision
from adapter.mapping.organization import practitioner_role
from adapter.mapping.service_request import reason_code

PATHWAY = "ld-onward-referral"
DELIVERY = "ld-delivery-status"
LAWFUL_BASIS_DECISION = "lawful-basis"


@functools.cache
def onward_rules() -> dict:
    """mappings/onward-referral-rules.json: pathway codes, recipient types, overdue waits."""
    path = codes.mappings_dir() / "onward-referral-rules.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _pathway_codes() -> dict[str, dict]:
    return onward_rules()["pathways"]


def _overdue_days() -> dict[str, int]:
    return onward_rules()["overdue_after_days"]


def overdue_after(pathway: str) -> timedelta:
    """How long an onward referral on this pathway may wait for the partner's first answer."""
    days = _overdue_days()
    return timedelta(days=days.get(pathway, days["default"]))


def shortest_overdue_wait() -> timedelta:
    """The shortest wait of any pathway: nothing made later than that ago can be overdue."""
    return timedelta(days=min(_overdue_days().values()))


def referral_code(pathway: str) -> dict:
    """The ServiceRequest.code coding for a pathway; KeyError names a pathway with no rule."""
    return dict(_pathway_codes()[pathway])


def service_request_from_onward_referral(
    onward: OnwardReferral,
    ids: OnwardReferralIds,
    *,
    findings: Iterable[str],
    organization: dict,
) -> dict:
    """The onward ServiceRequest (ld-onward-referral) as stored.

    findings are the vulnerability codes the partner may be told (already cut to its disclosure
    rule); organization is our own Organization, for whom the practitioner refers.
    """
    request: dict = {
        "resourceType": "ServiceRequest",
        "id": ids.service_request,
        "meta": {"profile": [codes.url("onward.service-request-profile"), _uk_core()]},
        "contained": [_requester(onward, organization)],
        "identifier": [_identifier(ids.onward_referral)],
        "basedOn": [reference("ServiceRequest", ids.referral)],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [codes.coding(PATHWAY, onward.pathway)]}],
        "priority": onward.urgency,
        "code": {"coding": [referral_code(onward.pathway)]},
        "subject": reference("Patient", ids.patient),
        "authoredOn": fhir_datetime(onward.authored_on),
        "requester": {"reference": f"#{_REQUESTER}"},
        "performer": [reference("HealthcareService", onward.partner_service)],
    }
    reasons = [reason_code(finding) for finding in dict.fromkeys(findings)]
    if onward.reason:
        reasons.append({"text": onward.reason})
    if reasons:
        request["reasonCode"] = reasons
    if onward.note:
        request["note"] = [{"text": onward.note}]
    request["supportingInfo"] = [reference("Consent", cid) for cid in ids.consents]
    return request


_REQUESTER = "referrer"  # the contained PractitionerRole practitioner_role() makes


def _uk_core() -> str:
    return codes.url("profile.ServiceRequest")


def _identifier(onward_referral_id: str) -> dict:
    return {"system": codes.url("identifier.onward-referral"), "value": onward_referral_id}


def _requester(onward: OnwardReferral, organization: dict) -> dict:
    referrer = Referrer(name=onward.referred_by, role=onward.referred_by_role)
    return practitioner_role(referrer, organization)


def revoked(service_request: dict) -> dict:
    """The onward ServiceRequest once cancelled: status revoked, nothing else changed."""
    return {**service_request, "status": codes.url("onward.cancelled-status")}


def task_for_onward_referral(
    ids: OnwardReferralIds, *, organization: dict, partner_organization: dict, at: datetime
) -> dict:
    """The Task tracking the onward referral: ours to the partner, queued for delivery."""
    task: dict = {
        "resourceType": "Task",
        "id": ids.task,
        "meta": {
            "profile": [codes.url(f"onward.{k}") for k in ("task-profile", "task-uk-core-profile")]
        },
        "identifier": [_identifier(ids.onward_referral)],
        "status": "requested",
        "intent": "order",
        "focus": reference("ServiceRequest", ids.service_request),
        "for": reference("Patient", ids.patient),
        "authoredOn": fhir_datetime(at),
        "requester": reference("Organization", organization["id"]),
        "owner": reference("Organization", partner_organization["id"]),
    }
    return task_with_delivery_status(task, "queued", at)


def task_with_delivery_status(task: dict, delivery_status: str, at: datetime) -> dict:
    """The Task once delivery reaches this ld-delivery-status; Task.status follows from it."""
    return {
        **task,
        "status": codes.prop(DELIVERY, delivery_status, "task-status"),
        "businessStatus": {"coding": [codes.coding(DELIVERY, delivery_status)]},
        "lastModified": fhir_datetime(at),
    }


def lawful_basis_consent(
    consent_id: str,
    patient_id: str,
    *,
    scope: str,
    lawful_basis: str,
    capacity: str,
    recorded_by: str,
    recorded_by_role: str | None,
    at: datetime,
) -> dict:
    """A Consent (ld-consent) recording that information is shared without consent, and why."""
    decision = ConsentDecision(
        scope=scope,
        decision=LAWFUL_BASIS_DECISION,
        capacity=capacity,
        recorded_by=recorded_by,
        recorded_at=at,
        recorded_by_role=recorded_by_role,
        lawful_basis=lawful_basis,
    )
    return consent_from_decision(decision, consent_id, patient_id)
