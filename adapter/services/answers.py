"""Answering a referral a partner sent us: a decision, then outcomes, each sent back to them.

The referral message we received (its inbound_message row) says whom to answer and how: the
partner, its Bundle id (our `response.identifier`), its X-Correlation-Id and its source.endpoint.
The answer is stored and its servicerequest-response message queued in one transaction (outbox).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapter.errors import Conflict, Issue, Unprocessable
from adapter.exchange.headers import bars_headers
from adapter.exchange.model import OutboundMessage
from adapter.exchange.partners import (
    FHIR_MESSAGING,
    Partner,
    partner_for_service,
    transport_of,
)
from adapter.exchange.response import Answer, response_message
from adapter.native.answer_schema import AnswerRequest
from adapter.services.common import ensure_conformant, new_id
from adapter.services.onward_messages import sender
from adapter.services.referrals import existing_referral, move_referral_on
from adapter.settings import Settings
from adapter.store import ReferralRecord, Store, UnitOfWork
from adapter.store.answers import ReferralAnswerRecord
from adapter.store.inbound import InboundMessageRecord

REQUEST_EVENT = "servicerequest-request"
RESPONSE_KIND = "response"  # the outbox kind of a message answering a referral we received
# Where each answer moves the referral's L&D pathway (forward only).
_PATHWAY_AFTER = {"accepted": "screening", "rejected": "closed", "completed": "closed"}


@dataclass(frozen=True)
class AnswerView:
    """A recorded answer and the delivery of the message carrying it."""

    record: ReferralAnswerRecord
    message: OutboundMessage | None

    def to_json(self) -> dict:
        """The native JSON of an answer."""
        record = self.record
        return {
            "id": record.id,
            "referral_id": record.referral_id,
            "kind": record.kind,
            record.kind: record.code,
            "reason": record.reason,
            "recorded_at": record.recorded_at.isoformat(),
            "recorded_by": record.recorded_by,
            "message": (
                {"id": self.message.id, "status": self.message.status} if self.message else None
            ),
        }


def record_answer(
    store: Store, settings: Settings, referral_id: str, request: AnswerRequest, directory: list
) -> AnswerView:
    """Store a decision or outcome and queue its servicerequest-response; all or nothing."""
    ours = sender(settings, directory)
    with store.unit_of_work() as uow:
        uow.lock_keys([f"referral-answer:{referral_id}"])  # one answer at a time per referral
        referral = existing_referral(uow, referral_id)
        received = _received_message(uow, referral_id)
        previous = uow.answers.for_referral(referral_id)
        _check_order(referral, request, previous)
        partner = _partner(uow, received)
        now = datetime.now(UTC)
        message_id = new_id()
        answer = Answer(request.code, request.reason, now, new_id())
        body = response_message(
            message_id, answer, received.body, partner, ours, received.sender_endpoint
        )
        ensure_conformant([body])
        outbound = OutboundMessage(
            id=message_id,
            request_id=str(uuid.uuid4()),
            correlation_id=received.correlation_id,
            endpoint_id=partner.endpoint["id"],
            transport=transport_of(partner.endpoint) or FHIR_MESSAGING,  # as the partner is reached
            # Answers about one referral go in order: a decision never overtaken by an outcome.
            ordering_key=f"{partner.endpoint['id']}|referral:{referral_id}",
            kind=RESPONSE_KIND,
            body=body,
            created_at=now,
            next_attempt_at=now,
            expires_at=now + timedelta(seconds=settings.delivery_ttl),
            headers=bars_headers(partner.endpoint, partner.service, ours.organization),
        )
        message = uow.outbox.add(outbound)
        record = uow.answers.add(
            ReferralAnswerRecord(
                id=new_id(),
                referral_id=referral_id,
                kind=request.kind,
                code=request.code,
                reason=request.reason,
                recorded_at=now,
                recorded_by=request.recorded_by,
                message_id=message.id,
            )
        )
        if request.code in _PATHWAY_AFTER:
            move_referral_on(uow, referral, _PATHWAY_AFTER[request.code], directory)
        return AnswerView(record, message)


def answers_of(store: Store, referral_id: str) -> list[AnswerView]:
    """The decision and outcomes recorded for a referral, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        existing_referral(uow, referral_id)
        return [
            AnswerView(a, uow.outbox.get(a.message_id) if a.message_id else None)
            for a in uow.answers.for_referral(referral_id)
        ]


def _received_message(uow: UnitOfWork, referral_id: str) -> InboundMessageRecord:
    """The referral message that created the referral; 422 for a referral not received so."""
    for message in uow.inbound.for_referral(referral_id):
        if message.event == REQUEST_EVENT and message.reason in (None, "new"):
            return message
    raise Unprocessable(
        Issue(
            "Only a referral received as a message from a partner can be answered: this one "
            "was recorded here, so there is no one to send a decision or outcome to.",
            code="business-rule",
        )
    )


def _check_order(
    referral: ReferralRecord, request: AnswerRequest, previous: list[ReferralAnswerRecord]
) -> None:
    """One decision first; outcomes only after acceptance and before completion."""
    decisions = [a for a in previous if a.kind == "decision"]
    if request.kind == "decision" and decisions:
        _conflict(f"This referral was already {decisions[0].code}; a decision is made once.")
    if request.kind == "outcome" and (not decisions or decisions[0].code != "accepted"):
        _conflict("An outcome can be recorded only once the referral has been accepted.")
    if any(a.code == "completed" for a in previous):
        _conflict("This referral is completed; nothing more can be recorded.")
    if referral.status == "closed" and request.kind == "decision":
        _conflict("This referral is closed (cancelled by the referrer); it cannot be answered.")


def _conflict(text: str) -> None:
    raise Conflict(Issue(text, code="business-rule"))


def _partner(uow: UnitOfWork, received: InboundMessageRecord) -> Partner:
    partner = partner_for_service(uow, received.partner_service or "")
    if partner is None:
        raise Unprocessable(
            Issue(
                "The service that sent this referral is no longer a partner this adapter can "
                "send to (see the partners bundle).",
                code="business-rule",
            )
        )
    return partner
