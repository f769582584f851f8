"""Telling a partner over MESH that we refused its FHIR message: the answer goes through the outbox.

Only a partner (the one whose MESH Endpoint is the Mex-From mailbox) is answered: a mailbox we do
not know gets nothing (the refusal is audited, as every one). A duplicate is not a refusal, and an
error response is never answered (adapter.exchange.refusal). The answer is queued as any message
to the partner, with MESH envelope: Mex-To their mailbox, our FHIR workflow, Mex-Subject the
correlation id of the refused message; the delivery worker sends it.

The other way round, a partner's fatal-error answer to one of our messages dead-letters that
message (it was `delivered`: MESH took it), with their OperationOutcome kept as for an HTTP refusal
and the issue codes as the reason; its Task follows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from adapter.errors import AdapterError, Unprocessable
from adapter.exchange.inbound_message import resolve
from adapter.exchange.mesh_inbox import MeshInbound
from adapter.exchange.model import OutboundMessage
from adapter.exchange.outcomes import undelivered_after_all
from adapter.exchange.partners import Partner, transport_of
from adapter.exchange.refusal import is_error_response, refusal_message, refused_bundle_id
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork

FindPartner = Callable[[UnitOfWork, str], Partner | None]  # by the Mex-From mailbox

REFUSAL_KIND = "refusal"  # the outbox kind of our answer to a message we refused
_ISSUE_CODE = re.compile(r"[a-z-]{1,40}")  # a FHIR issue type code


def answer_refusal(
    store: Store,
    settings: Settings,
    inbound: MeshInbound,
    refused: tuple[object, str],  # (the body as parsed, or None; its correlation id)
    error: AdapterError,
    find_partner: FindPartner,
) -> str | None:
    """Queue the fatal-error response to a refused message; its outbox id, or None if none."""
    body, correlation_id = refused
    if error.status == 409 or error.status >= 500 or is_error_response(body):
        return None
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        partner = find_partner(uow, inbound.sender)
        if partner is None:
            return None
        message_id = str(uuid.uuid4())
        answers = refused_bundle_id(body, inbound.local_id or inbound.message_id)
        mailboxes = (settings.mesh_mailbox, str(partner.endpoint["address"]))
        outcome = error.operation_outcome()
        message = OutboundMessage(
            id=message_id,
            request_id=str(uuid.uuid4()),
            correlation_id=correlation_id,
            endpoint_id=partner.endpoint["id"],
            transport=transport_of(partner.endpoint) or "mesh",
            ordering_key=f"{partner.endpoint['id']}|refusal:{message_id}",
            kind=REFUSAL_KIND,
            body=refusal_message(message_id, body, answers, outcome, mailboxes),
            created_at=now,
            next_attempt_at=now,
            expires_at=now + timedelta(seconds=settings.delivery_ttl),
        )
        return uow.outbox.add(message).id


def take_refusal_answer(
    store: Store, inbound: MeshInbound, body: dict, find_partner: FindPartner
) -> None:
    """A partner's fatal-error answer to one of our messages: dead-letter it, with its outcome."""
    header = body["entry"][0]["resource"]  # is_error_response checked the shape
    answered = header["response"].get("identifier")
    with store.unit_of_work() as uow:
        partner = find_partner(uow, inbound.sender)
        message = uow.outbox.get(answered) if isinstance(answered, str) else None
        if partner is None or message is None or message.endpoint_id != partner.endpoint["id"]:
            raise Unprocessable(
                "The error response answers no message of ours sent to this partner.",
                code="not-found",
                expression=("Bundle.entry[0].resource.response.identifier",),
            )
        outcome = _outcome(body, header)
        why = (_refused_reason(outcome), f"MESH message {inbound.message_id}")
        undelivered_after_all(uow, message, why, inbound.received_at, outcome)


def _outcome(body: dict, header: dict) -> dict | None:
    """The OperationOutcome response.details points at, if the Bundle holds it."""
    details = header["response"].get("details")
    found = resolve(body, details.get("reference") if isinstance(details, dict) else None)
    return found if found and found.get("resourceType") == "OperationOutcome" else None


def _refused_reason(outcome: dict | None) -> str:
    """Why, in the issue codes only (FHIR issue types): diagnostics may quote the message."""
    issues = (outcome or {}).get("issue")
    found = (
        [i.get("code") for i in issues if isinstance(i, dict)] if isinstance(issues, list) else []
    )
    plain = sorted({c for c in found if isinstance(c, str) and _ISSUE_CODE.fullmatch(c)})
    return f"the partner refused it (MESH): {' '.join(plain) or 'no reason given'}"
