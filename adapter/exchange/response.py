"""A `servicerequest-response` message: our decision or outcome, sent back to a referrer.

The referrer's own message (the Bundle as received) says what to answer: its Bundle id becomes
`MessageHeader.response.identifier`, its ServiceRequest comes back with its new status, and a Task
carries the decision or outcome (ld-referral-outcome) and a rejection's reason
(dos-rejected-reasons-bars). The person is named only by an identifier the referrer sent us.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapter.exchange.headers import software_version
from adapter.exchange.inbound_message import resolve
from adapter.exchange.message import PartnerLike, Sender
from adapter.mapping import codes
from adapter.mapping.common import fhir_datetime, reference

OUTCOME = "ld-referral-outcome"
REJECTED_REASON = "dos-rejected-reasons-bars"


@dataclass(frozen=True)
class Answer:
    """What we tell the referrer: an ld-referral-outcome code, with a reason when rejected."""

    code: str
    reason: str | None
    at: datetime
    task_id: str


def response_message(
    message_id: str,
    answer: Answer,
    received: dict,
    partner: PartnerLike,
    sender: Sender,
    reply_to: str,
) -> dict:
    """The message Bundle answering `received` (the referrer's message), sent to `reply_to`."""
    theirs = referred_request(received)
    request = _service_request(theirs, received, answer)
    task = _task(answer, request, partner, sender)
    resources = [request, task, sender.organization]
    if partner.organization.get("id") != sender.organization.get("id"):
        resources.append(partner.organization)
    header = _header(message_id, received, request, partner, sender, reply_to)
    base = sender.fhir_base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "id": message_id,
        "meta": {"lastUpdated": fhir_datetime(answer.at)},
        "identifier": {"system": codes.url("onward.bundle-identifier-system"), "value": message_id},
        "type": "message",
        "timestamp": fhir_datetime(answer.at),
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in (header, *resources)
        ],
    }


def referred_request(bundle: dict) -> dict:
    """The ServiceRequest a referral message is about: its header's focus, else the first one."""
    resources = _resources(bundle)
    header = (
        resources[0] if resources and resources[0].get("resourceType") == "MessageHeader" else {}
    )
    for focus in header.get("focus") or ():
        found = resolve(bundle, focus.get("reference") if isinstance(focus, dict) else None)
        if found is not None and found.get("resourceType") == "ServiceRequest":
            return found
    return next((r for r in resources if r.get("resourceType") == "ServiceRequest"), {})


def _service_request(theirs: dict, received: dict, answer: Answer) -> dict:
    """The referrer's ServiceRequest, as far as it identifies itself, with its new status."""
    request: dict = {"resourceType": "ServiceRequest", "id": theirs.get("id") or answer.task_id}
    if theirs.get("identifier"):
        request["identifier"] = theirs["identifier"]
    request["status"] = codes.prop(OUTCOME, answer.code, "service-request-status")
    request["intent"] = theirs.get("intent") or "order"
    request["subject"] = _subject(theirs, received)
    return request


def _subject(theirs: dict, received: dict) -> dict:
    """The person, by an identifier the referrer gave (NHS number first): nothing to follow."""
    subject = _object(theirs.get("subject"))
    if isinstance(subject.get("identifier"), dict):
        return {"identifier": subject["identifier"]}
    patient = resolve(received, subject.get("reference")) or {}
    identifiers = [i for i in patient.get("identifier") or () if isinstance(i, dict)]
    chosen = next(
        (i for i in identifiers if i.get("system") == codes.url("identifier.nhs-number")), None
    )
    chosen = chosen or next(iter(identifiers), None)
    if chosen is not None:
        return {"identifier": {k: chosen[k] for k in ("system", "value") if k in chosen}}
    return {"display": "The person referred"}  # no identifier to give: never a name


def _task(answer: Answer, request: dict, partner: PartnerLike, sender: Sender) -> dict:
    task: dict = {
        "resourceType": "Task",
        "id": answer.task_id,
        "meta": {"profile": [codes.url("response.task-profile")]},
        "status": codes.prop(OUTCOME, answer.code, "task-status"),
        "businessStatus": {"coding": [codes.coding(OUTCOME, answer.code)]},
        "intent": "order",
        "focus": reference("ServiceRequest", request["id"]),
        "for": request["subject"],
        "authoredOn": fhir_datetime(answer.at),
        "lastModified": fhir_datetime(answer.at),
        "requester": reference("Organization", partner.organization["id"]),
        "owner": reference("Organization", sender.organization["id"]),
    }
    if answer.reason:
        task["statusReason"] = {"coding": [codes.coding(REJECTED_REASON, answer.reason)]}
    return task


def _header(
    message_id: str,
    received: dict,
    request: dict,
    partner: PartnerLike,
    sender: Sender,
    reply_to: str,
) -> dict:
    return {
        "resourceType": "MessageHeader",
        "id": message_id,
        "meta": {"profile": [codes.url("response.header-profile")]},
        "eventCoding": {
            "system": codes.url("onward.event-system"),
            "code": codes.url("response.event"),
        },
        "destination": [{"endpoint": reply_to, "receiver": _ref(partner.organization)}],
        "sender": _ref(sender.organization),
        "source": {
            "name": codes.url("onward.software-name"),
            "software": "ld-adapter",
            "version": software_version(),
            "endpoint": sender.source_endpoint,
        },
        "reason": {"coding": [{"system": codes.url("onward.reason-system"), "code": "new"}]},
        "response": {"identifier": str(received.get("id")), "code": "ok"},
        "focus": [reference("ServiceRequest", request["id"])],
        "definition": codes.url("response.definition"),
    }


def _ref(resource: dict) -> dict:
    ref = reference(resource["resourceType"], resource["id"])
    if isinstance(resource.get("name"), str):
        ref["display"] = resource["name"]
    return ref


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _resources(bundle: dict) -> list[dict]:
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    found = [e.get("resource") for e in entries or () if isinstance(e, dict)]
    return [r for r in found if isinstance(r, dict)]
