"""Reading an ITK3 Response (event ITK008M): which message it answers, and what it says.

Per the ITK3 Message Distribution standard a response is a message Bundle whose MessageHeader
has `response.identifier` (the MessageHeader.id it answers) and `response.code` (ok,
transient-error, fatal-error), and whose OperationOutcome carries the ITK3 response code in
`issue.details.coding`: 10001-20013 answer an infrastructure acknowledgement request, 30001-30003
a business one. An infrastructure OK may carry no OperationOutcome: MessageHeader.response.code
`ok` alone says it. Codes are data (mappings/gp-send-document.json, section "ack").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from adapter.exchange.gp_send_document import value

INFRASTRUCTURE, BUSINESS = "infrastructure", "business"


class AckError(ValueError):
    """The body is not an ITK3 Response we can match; says what is missing, never the content."""


@dataclass(frozen=True)
class ItkAck:
    """One ITK3 Response, reduced to what moves an onward referral."""

    ack_id: str  # its own MessageHeader.id
    responds_to: str  # the MessageHeader.id of our message (our outbox message id)
    kind: str  # infrastructure | business
    positive: bool
    code: str  # the ITK3 response code, e.g. 20013, 30001, 20009 (else response.code)
    display: str  # our display of the code (mappings), never the practice's own text

    @property
    def reason(self) -> str:
        """Why it failed, as an operator reads it: the code and its display only."""
        return f"ITK3 response {self.code}: {self.display}".rstrip(": ")


def read_ack(body: bytes) -> ItkAck:
    """The ITK3 Response in a MESH message body (FHIR JSON); AckError if it is not one."""
    try:
        bundle = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AckError("the body is not JSON") from None
    resources = _resources(bundle)
    header = next((r for r in resources if r.get("resourceType") == "MessageHeader"), None)
    if header is None:
        raise AckError("no MessageHeader")
    if _event_code(header) != value("ack.event"):
        raise AckError(f"MessageHeader.event is not {value('ack.event')}")
    response = header.get("response")
    responds_to = response.get("identifier") if isinstance(response, dict) else None
    if not isinstance(responds_to, str) or not responds_to:
        raise AckError("no MessageHeader.response.identifier")
    assert isinstance(response, dict)
    code = _itk_code(resources)
    business = code in value("ack.business-codes")
    # An infrastructure OK may carry its code in the MessageHeader alone (no OperationOutcome).
    positive = response.get("code") == "ok" and code in (
        "",
        value("ack.infrastructure-ok"),
        value("ack.business-ok"),
    )
    # "Duplicate" says the practice has our message already: at least delivered, not refused.
    positive = positive or code in value("ack.duplicate-codes")
    if not code:
        code = str(response.get("code", ""))
    # Codes come from the practice's system: one we do not know is not echoed (it may be text).
    code = code if _known(code) else "unknown"
    return ItkAck(
        ack_id=str(header.get("id", "")),
        responds_to=responds_to,
        kind=BUSINESS if business else INFRASTRUCTURE,
        positive=positive,
        code=code,
        display=value("ack.displays").get(code, ""),
    )


def _resources(bundle: object) -> list[dict]:
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    if not isinstance(entries, list):
        raise AckError("not a Bundle with entries")
    found = [e.get("resource") for e in entries if isinstance(e, dict)]
    return [r for r in found if isinstance(r, dict)]


def _event_code(header: dict) -> object:
    event = header.get("event")
    return event.get("code") if isinstance(event, dict) else None


def _known(code: str) -> bool:
    """A code we may repeat: one we hold a display for, or any five-digit ITK3 code."""
    return code in value("ack.displays") or (code.isdigit() and len(code) == 5)


def _itk_code(resources: list[dict]) -> str:
    """The ITK3 response code of the first OperationOutcome issue that has one ("" if none)."""
    system = value("ack.response-code-system")
    for resource in resources:
        if resource.get("resourceType") != "OperationOutcome":
            continue
        for issue in _list(resource.get("issue"), "OperationOutcome.issue"):
            details = issue.get("details") if isinstance(issue, dict) else None
            if details is not None and not isinstance(details, dict):
                raise AckError("OperationOutcome.issue.details is not a CodeableConcept")
            for coding in _list((details or {}).get("coding"), "issue.details.coding"):
                if isinstance(coding, dict) and coding.get("system") == system:
                    return str(coding.get("code", ""))
    return ""


def _list(found: object, path: str) -> list:
    """A repeating element's items ([] when absent); AckError naming it when it is not a list."""
    if found is None:
        return []
    if not isinstance(found, list):
        raise AckError(f"{path} is not a list")
    return found
