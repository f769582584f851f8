"""FHIR messages to partners in BaRS shape: an onward referral, its cancellation, and the headers.

A message holds only what the partner's disclosure allows (adapter.exchange.disclosure). Entries
have RESTful fullUrls under our FHIR base, so stored references resolve inside the Bundle as they
are; a reference to something left out is dropped, except the L&D referral a request is based on,
which becomes a logical reference by identifier. Built once, when the message is queued.

In the service layer, inside the one transaction:

    rule = rule_for(partner.recipient_type)
    basis = check_consent(rule, stored_consents, onward.lawful_basis)    # or 422
    (basis.lawful_basis: store lawful_basis_consent(...) and rely on it)
    request = service_request_from_onward_referral(
        onward, ids, findings=basis.disclosure.allowed_findings(concerns), organization=ours)
    task = task_for_onward_referral(ids, organization=ours, partner_organization=..., at=now)
    body = onward_referral_message(row_id, now, request, SharedRecord(...), basis.disclosure,
                                   partner, Sender(ours, settings.source_endpoint, fhir_base))
    headers = bars_headers(partner.endpoint, partner.service, ours, requesting_practitioner(...))
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapter.exchange.disclosure import Disclosure, cancellation_disclosure, minimise
from adapter.exchange.headers import bars_headers, requesting_practitioner, software_version
from adapter.exchange.references import keep_resolvable
from adapter.mapping import codes
from adapter.mapping.common import fhir_datetime, reference

NEW, DELETE = "new", "delete"
__all__ = [
    "PartnerLike",
    "Sender",
    "SharedRecord",
    "bars_headers",
    "cancellation_message",
    "onward_referral_message",
    "requesting_practitioner",
]


class PartnerLike(Protocol):
    """A partner as adapter.exchange.partners.Partner holds it."""

    @property
    def service(self) -> dict: ...
    @property
    def organization(self) -> dict: ...
    @property
    def endpoint(self) -> dict: ...


@dataclass(frozen=True)
class Sender:
    """This adapter as the sender: our Organization, where replies go, our FHIR base."""

    organization: dict
    source_endpoint: str  # settings.source_endpoint
    fhir_base_url: str  # settings.fhir_base_url: entries' fullUrls


@dataclass(frozen=True)
class SharedRecord:
    """What the store holds about the person that a message may carry, before minimisation."""

    patient: dict
    consents: Sequence[dict]  # the Consents relied on
    encounter: dict | None = None  # the contact (the screening's, when a screen is sent)
    questionnaire_response: dict | None = None  # the latest completed screen


def onward_referral_message(
    message_id: str,
    at: datetime,
    service_request: dict,
    record: SharedRecord,
    disclosure: Disclosure,
    partner: PartnerLike,
    sender: Sender,
) -> dict:
    """The message Bundle asking the partner to take the person on (reason new)."""
    candidates = [
        service_request,
        record.patient,
        *record.consents,
        *(r for r in (record.encounter, record.questionnaire_response) if r is not None),
    ]
    resources = [r for r in (minimise(c, disclosure) for c in candidates) if r is not None]
    return _message(message_id, at, NEW, resources, partner, sender, disclosure)


def cancellation_message(
    message_id: str,
    at: datetime,
    service_request: dict,
    sent: dict,
    partner: PartnerLike,
    sender: Sender,
) -> dict:
    """The message telling the partner an onward referral is withdrawn (reason delete).

    service_request is the revoked onward ServiceRequest, sent the referral message the partner
    was given: the person is identified from that, so a cancellation never tells the partner
    anything new, whatever has happened to the consents since.
    """
    disclosure = cancellation_disclosure()
    patients = [e["resource"] for e in sent.get("entry", ()) if _is("Patient", e)]
    cut = [minimise(p, disclosure) for p in patients[:1]]
    resources = [_cancelled(service_request, disclosure), *(p for p in cut if p is not None)]
    return _message(message_id, at, DELETE, resources, partner, sender, disclosure)


def _is(resource_type: str, entry: object) -> bool:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    return isinstance(resource, dict) and resource.get("resourceType") == resource_type


def _cancelled(service_request: dict, disclosure: Disclosure) -> dict:
    kept = minimise(service_request, disclosure) or {}
    head = {k: kept.pop(k) for k in ("resourceType", "id") if k in kept}
    head["meta"] = {"profile": [codes.url("onward.cancellation-profile")]}
    return {**head, **kept, "status": codes.url("onward.cancelled-status")}


def _message(
    message_id: str,
    at: datetime,
    reason: str,
    resources: list[dict],
    partner: PartnerLike,
    sender: Sender,
    disclosure: Disclosure,
) -> dict:
    directory = [sender.organization, partner.organization, partner.service]
    for item in directory:
        cut = minimise(item, disclosure)
        if cut is not None and _key(cut) not in {_key(r) for r in resources}:
            resources.append(cut)
    included = {_key(r) for r in resources}
    resources = [keep_resolvable(r, included) for r in resources]
    patient = next((r for r in resources if r["resourceType"] == "Patient"), None)
    if patient is not None and not patient.get("identifier"):
        patient["identifier"] = [_local_patient_identifier(patient["id"], sender.organization)]
    focus = resources[0]
    header = _header(message_id, reason, focus, partner, sender)
    bundle: dict = {"resourceType": "Bundle", "id": message_id}
    bundle["meta"] = {"lastUpdated": fhir_datetime(at)}
    if _is_uuid(message_id):
        system = codes.url("onward.bundle-identifier-system")
        bundle["identifier"] = {"system": system, "value": message_id}
    bundle["type"] = "message"
    bundle["timestamp"] = fhir_datetime(at)
    base = sender.fhir_base_url.rstrip("/")
    bundle["entry"] = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
        for r in (header, *resources)
    ]
    return bundle


def _header(
    message_id: str, reason: str, focus: dict, partner: PartnerLike, sender: Sender
) -> dict:
    new = reason == NEW
    return {
        "resourceType": "MessageHeader",
        "id": message_id,
        "meta": {"profile": [codes.url("onward.header-profile" if new else _CANCEL_HEADER)]},
        "eventCoding": {
            "system": codes.url("onward.event-system"),
            "code": codes.url("onward.event"),
        },
        "destination": [
            {
                "endpoint": partner.endpoint["address"],
                "receiver": _ref(partner.organization),
            }
        ],
        "sender": _ref(sender.organization),
        "source": _source(sender),
        "reason": {"coding": [{"system": codes.url("onward.reason-system"), "code": reason}]},
        "focus": [reference(focus["resourceType"], focus["id"])],
        "definition": codes.url("onward.definition" if new else _CANCEL_DEFINITION),
    }


_CANCEL_HEADER = "onward.cancellation-header-profile"
_CANCEL_DEFINITION = "onward.cancellation-definition"


def _source(sender: Sender) -> dict:
    return {
        "name": codes.url("onward.software-name"),
        "software": "ld-adapter",
        "version": software_version(),
        "endpoint": sender.source_endpoint,
    }


def _ref(resource: dict) -> dict:
    ref = reference(resource["resourceType"], resource["id"])
    if isinstance(resource.get("name"), str):
        ref["display"] = resource["name"]
    return ref


def _key(resource: dict) -> tuple[str, str]:
    return resource["resourceType"], resource["id"]


def _local_patient_identifier(patient_id: str, organization: dict) -> dict:
    """Our own id for the person, when the partner may see none of the person's identifiers."""
    identifier: dict = {
        "type": {"coding": [codes.coding("ld-local-identifier-type", "local-patient-id")]},
        "system": codes.url("identifier.local-patient-id"),
        "value": patient_id,
    }
    ods = [i for i in organization.get("identifier", ()) if i.get("system") == _ods_system()]
    if ods:
        identifier["assigner"] = {"identifier": {"system": _ods_system(), "value": ods[0]["value"]}}
    return identifier


def _ods_system() -> str:
    return codes.url("identifier.ods-organization-code")


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
