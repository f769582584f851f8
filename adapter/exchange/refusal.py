"""The answer to a FHIR message we refuse over MESH: a FHIR response message with `fatal-error`.

Over HTTP a refused $process-message gets its OperationOutcome in the reply. MESH has no reply, so
the refusal goes back as a message, as an ITK3 receiver answers over MESH ("return the
acknowledgement to the MESH mailbox the original message was sent from"): a message Bundle whose
MessageHeader (FHIR R4 messaging) has `response.identifier` = the refused Bundle's id (BaRS:
"the original request BundleID"), `response.code` `fatal-error` and `response.details` the
OperationOutcome with our issues, the same the HTTP sender would get. A message that is itself an
error response is never answered: two receivers refusing each other would never stop.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adapter.exchange.inbound_message import header_of
from adapter.mapping import codes
from adapter.mapping.common import fhir_datetime

ERROR_CODES = ("fatal-error", "transient-error")


def is_error_response(body: object) -> bool:
    """True for a message Bundle whose MessageHeader answers another with an error."""
    header = _header(body)
    response = header.get("response") if header else None
    return isinstance(response, dict) and response.get("code") in ERROR_CODES


def refused_bundle_id(body: object, fallback: str) -> str:
    """The refused message's Bundle id (what the answer names), else `fallback` (its request id)."""
    bundle_id = body.get("id") if isinstance(body, dict) else None
    return bundle_id if isinstance(bundle_id, str) and bundle_id else fallback


def refusal_message(
    message_id: str, refused: object, answers: str, outcome: dict, mailboxes: tuple[str, str]
) -> dict:
    """The fatal-error response to `refused` (id `answers`); mailboxes = (ours, theirs)."""
    ours, theirs = mailboxes
    outcome_id, header_id = str(uuid.uuid4()), str(uuid.uuid4())
    header = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": _event(refused),
        "destination": [{"endpoint": theirs}],
        "source": {"endpoint": ours},
        # The OperationOutcome is what this message is about: a receiver (ours included) wants
        # focus to name the main resource, and an error response has no other.
        "focus": [{"reference": f"urn:uuid:{outcome_id}"}],
        "response": {
            "identifier": answers,
            "code": "fatal-error",
            "details": {"reference": f"urn:uuid:{outcome_id}"},
        },
    }
    return {
        "resourceType": "Bundle",
        "id": message_id,
        "type": "message",
        "timestamp": fhir_datetime(datetime.now(UTC)),
        "entry": [
            {"fullUrl": f"urn:uuid:{header_id}", "resource": header},
            {"fullUrl": f"urn:uuid:{outcome_id}", "resource": {**outcome, "id": outcome_id}},
        ],
    }


def _event(refused: object) -> dict:
    """The refused message's event (a response answers in its terms), else BaRS's response event."""
    header = _header(refused)
    event = header.get("eventCoding") if header else None
    if isinstance(event, dict) and isinstance(event.get("code"), str):
        return {k: event[k] for k in ("system", "code", "display") if isinstance(event.get(k), str)}
    return {"system": codes.url("inbound.event-system"), "code": codes.url("response.event")}


def _header(body: object) -> dict:
    """The MessageHeader of a message Bundle (not yet validated), or {}."""
    return header_of(body) if isinstance(body, dict) else {}
