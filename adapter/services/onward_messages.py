"""What an onward referral makes, from what the store holds: FHIR resources, the message, headers.

The steps are adapter.exchange's (consent check, disclosure, message); this gathers their inputs
inside the caller's unit of work and puts the outputs together for it to store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapter.domain import OnwardReferral, OnwardReferralIds
from adapter.errors import Issue, Unprocessable
from adapter.exchange.consent_check import ConsentBasis, check_consent
from adapter.exchange.disclosure import rule_for
from adapter.exchange.message import (
    Sender,
    SharedRecord,
    bars_headers,
    cancellation_message,
    onward_referral_message,
    requesting_practitioner,
)
from adapter.exchange.partners import Partner, ods_code
from adapter.mapping.onward_referral import (
    lawful_basis_consent,
    revoked,
    service_request_from_onward_referral,
    task_for_onward_referral,
    task_with_delivery_status,
)
from adapter.native.onward_referral_schema import OnwardReferralRequest
from adapter.native.referral_schema import load_referral
from adapter.services.common import bare_id, new_id
from adapter.services.gp_documents import GpSender, gp_document
from adapter.settings import Settings
from adapter.store import ReferralRecord, UnitOfWork
from adapter.store.onward_referrals import OnwardReferralRecord

_SCREEN_DONE = ("completed", "amended")


@dataclass(frozen=True)
class Built:
    """What to store and send: new or changed resources, the message Bundle and its headers."""

    resources: list[dict]
    message: dict
    headers: dict[str, str]
    resource_ids: dict


def sender(settings: Settings, directory: list[dict]) -> Sender:
    """This adapter as a sender: the trust with our ODS code in the service directory."""
    for resource in directory:
        if (
            resource.get("resourceType") == "Organization"
            and ods_code(resource) == settings.ods_code
        ):
            return Sender(resource, settings.source_endpoint, settings.fhir_base_url)
    raise Unprocessable(
        Issue(
            "This adapter's own organisation (LD_ADAPTER_ODS_CODE) is not in the service "
            "directory, so it cannot say who is sending.",
            code="not-found",
        )
    )


def build_onward(
    uow: UnitOfWork,
    referral: ReferralRecord,
    partner: Partner,
    onward: OnwardReferral,
    ours: Sender,
    record_id: str,
    message_id: str,
    gp: GpSender | None = None,
) -> Built:
    """Check consent, then make the ServiceRequest, Task, message and headers (or 422).

    A partner reached by MESH (`gp` given) gets a GP Connect Send Document message instead of a
    BaRS request: the contact summary PDF, cut to the same disclosure rule.
    """
    patient_id = bare_id(referral.resource_ids["patient"]) or ""
    stored_consents = _read_all(uow, "Consent", referral.resource_ids.get("consents", []))
    rule = rule_for(partner.recipient_type)
    basis = check_consent(rule, stored_consents, onward.lawful_basis)
    relied = [c for c in stored_consents if c["id"] in basis.consent_ids]
    made = _lawful_basis_consents(basis, rule.consent_scope, patient_id, onward)
    ids = OnwardReferralIds(
        onward_referral=record_id,
        service_request=new_id(),
        task=new_id(),
        patient=patient_id,
        referral=bare_id(referral.resource_ids["service_request"]) or "",
        consents=tuple(c["id"] for c in (*relied, *made)),
    )
    concerns = load_referral(referral.native).concerns
    request = service_request_from_onward_referral(
        onward,
        ids,
        findings=basis.disclosure.allowed_findings(concerns),
        organization=ours.organization,
    )
    task = task_for_onward_referral(
        ids,
        organization=ours.organization,
        partner_organization=partner.organization,
        at=onward.authored_on,
    )
    questionnaire, encounter = _latest_screen(uow, referral.id)
    shared = SharedRecord(
        _read(uow, "Patient", patient_id), [*relied, *made], encounter, questionnaire
    )
    if gp is not None:
        document = gp_document(
            gp,
            referral,
            onward,
            ours.organization,
            (message_id, record_id),
            (shared.patient, request, encounter),
            basis.disclosure,
        )
        message, headers = document.message, document.headers
    else:
        message = onward_referral_message(
            message_id, onward.authored_on, request, shared, basis.disclosure, partner, ours
        )
        practitioner = requesting_practitioner(
            onward.referred_by, onward.referred_by_role, ours.organization
        )
        headers = bars_headers(partner.endpoint, partner.service, ours.organization, practitioner)
    resource_ids = {
        "service_request": f"ServiceRequest/{ids.service_request}",
        "task": f"Task/{ids.task}",
        "patient": f"Patient/{patient_id}",
        "consents": [f"Consent/{c}" for c in ids.consents],
    }
    return Built([request, task, *made], message, headers, resource_ids)


def build_cancellation(
    uow: UnitOfWork,
    record: OnwardReferralRecord,
    partner: Partner | None,
    sent: dict | None,
    ours: Sender,
    message_id: str,
    at: datetime,
    partner_had_it: bool,
) -> Built:
    """The revoked ServiceRequest, the cancelled Task and (if the partner had it) the message."""
    request = revoked(_read(uow, "ServiceRequest", bare_id(record.resource_ids["service_request"])))
    # The Task is done with, whatever delivery does now (the worker leaves a cancelled one alone).
    task = task_with_delivery_status(
        _read(uow, "Task", bare_id(record.resource_ids["task"])), "cancelled", at
    )
    message: dict = {}
    headers: dict[str, str] = {}
    # A partner taken out of the partners bundle since gets nothing more from us.
    if partner_had_it and sent is not None and partner is not None:
        message = cancellation_message(message_id, at, request, sent, partner, ours)
        headers = bars_headers(partner.endpoint, partner.service, ours.organization)
    return Built([request, task], message, headers, record.resource_ids)


def onward_from_request(request: OnwardReferralRequest, at: datetime) -> OnwardReferral:
    """The domain onward referral a native request asks for."""
    referred_by = request.referred_by
    return OnwardReferral(
        pathway=request.pathway,
        partner_service=request.to,
        authored_on=at,
        referred_by=referred_by.name,
        referred_by_role=referred_by.role,
        reason=request.reason,
        urgency=request.urgency,
        note=request.note,
        lawful_basis=request.lawful_basis,
    )


def _lawful_basis_consents(
    basis: ConsentBasis, scope: str, patient_id: str, onward: OnwardReferral
) -> list[dict]:
    """The Consent recording a share on a lawful basis (none when the person consented)."""
    if basis.lawful_basis is None:
        return []
    return [
        lawful_basis_consent(
            new_id(),
            patient_id,
            scope=scope,
            lawful_basis=basis.lawful_basis,
            capacity=basis.capacity,
            recorded_by=onward.referred_by,
            recorded_by_role=onward.referred_by_role,
            at=onward.authored_on,
        )
    ]


def _latest_screen(uow: UnitOfWork, referral_id: str) -> tuple[dict | None, dict | None]:
    """The QuestionnaireResponse and Encounter of the referral's latest finished screen."""
    screens = [
        a
        for a in uow.assessments.for_referral(referral_id)
        if a.kind == "screening" and a.status in _SCREEN_DONE
    ]
    if not screens:
        return None, None
    ids = screens[-1].resource_ids
    return (
        _read(uow, "QuestionnaireResponse", bare_id(ids["questionnaire_response"])),
        _read(uow, "Encounter", bare_id(ids["encounter"])),
    )


def _read_all(uow: UnitOfWork, resource_type: str, references: list[str]) -> list[dict]:
    return [_read(uow, resource_type, bare_id(reference)) for reference in references]


def _read(uow: UnitOfWork, resource_type: str, resource_id: str | None) -> dict:
    resource = uow.resources.read(resource_type, resource_id or "")
    if resource is None:  # the store made it with the referral: missing means a broken store
        raise LookupError(f"{resource_type}/{resource_id} is referenced but not stored")
    return resource
