"""An onward referral to a GP practice reached by MESH: the contact summary PDF in an ITK3 message.

GP Connect Send Document instead of a BaRS request: MESH routes it to the person's registered
practice by NHS number, date of birth and surname. Everything in it is cut to the GP's disclosure
rule first; the message is checked against the STU3 models before it is queued (else 422).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from adapter.directory import service_at_site
from adapter.documents import letterhead_for_service, render_pdf
from adapter.documents.contact_summary import ContactSummary, contact_summary_document
from adapter.domain import OnwardReferral
from adapter.errors import Issue, Unprocessable
from adapter.exchange.disclosure import Disclosure, minimise
from adapter.exchange.gp_send_document import (
    Report,
    identity_of,
    mesh_headers,
    send_document_message,
)
from adapter.exchange.stu3_check import ensure_stu3
from adapter.store import ReferralRecord


@dataclass(frozen=True)
class GpSender:
    """What a Send Document message needs of us besides our Organization."""

    directory: Sequence[dict]  # the service directory: our service's letterhead
    mailbox: str | None  # our MESH mailbox id; None when MESH is not set up


@dataclass(frozen=True)
class GpDocument:
    """The ITK3 message and its MESH envelope."""

    message: dict
    headers: dict[str, str]


def gp_document(
    gp: GpSender,
    referral: ReferralRecord,
    onward: OnwardReferral,
    organization: dict,
    ids: tuple[str, str],  # (message id, onward referral id)
    shared: tuple[dict, dict, dict | None],  # stored Patient, onward ServiceRequest, Encounter
    disclosure: Disclosure,
) -> GpDocument:
    """The Send Document message for this onward referral, checked; 422 when it cannot go."""
    if not gp.mailbox:
        raise Unprocessable(
            Issue(
                "The partner is reached by MESH, but this adapter has no MESH mailbox set up.",
                code="business-rule",
                expression=("to",),
            )
        )
    patient, request, encounter = shared
    seen = minimise(patient, disclosure) or {"resourceType": "Patient", "id": patient["id"]}
    told = minimise(request, disclosure) or {}
    identity = identity_of(seen)
    service = _service(gp.directory, referral)
    report = Report(
        message_id=ids[0],
        sender_reference=ids[1],
        at=onward.authored_on,
        patient=seen,
        practitioner_name=_practitioner(onward),
        organization=organization,
        mailbox=gp.mailbox,
        seen_by=_provider(gp.directory, service, organization),
    )
    summary = ContactSummary(
        letterhead=letterhead_for_service(gp.directory, service["id"]),
        patient=seen,
        service_request=told,
        contact_date=_contact_date(encounter, referral),
        practitioner=_practitioner(onward),
    )
    pdf = render_pdf(contact_summary_document(summary))
    message = send_document_message(report, identity, pdf)
    ensure_stu3(message)
    return GpDocument(message, mesh_headers(report, identity))


def _practitioner(onward: OnwardReferral) -> str:
    role = f" ({onward.referred_by_role})" if onward.referred_by_role else ""
    return f"{onward.referred_by}{role}"


def _service(directory: Sequence[dict], referral: ReferralRecord) -> dict:
    """Our L&D service at the referral's site, from the service directory."""
    service = service_at_site(directory, referral.site)
    if service is None:
        raise Unprocessable(
            Issue(
                "No L&D service in the service directory covers this referral's site, so the "
                "summary cannot say who saw the person or how to reach them.",
                code="business-rule",
            )
        )
    return service


def _provider(directory: Sequence[dict], service: dict, ours: dict) -> dict:
    """The service's Organization (else ours), with the service's phone first (GPCM-SD-031)."""
    reference = (service.get("providedBy") or {}).get("reference", "")
    found = next((r for r in directory if f"{r['resourceType']}/{r['id']}" == reference), ours)
    phones: dict[str, dict] = {}
    for telecom in (*service.get("telecom", ()), *found.get("telecom", ())):
        if telecom.get("system") == "phone" and telecom.get("value"):
            phones.setdefault(telecom["value"], telecom)
    return {**found, "telecom": list(phones.values())}


def _contact_date(encounter: dict | None, referral: ReferralRecord) -> date:
    """When L&D saw the person: the screening contact, else when the referral came in."""
    start = ((encounter or {}).get("period") or {}).get("start")
    if isinstance(start, str):
        return datetime.fromisoformat(start).date()
    return referral.received_at.date()
