"""An onward referral as the native API shows it: the record, its delivery and its messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapter.exchange.model import ONWARD_REFERRAL, PENDING_STATES, OutboundMessage
from adapter.exchange.redact import sanitised_outcome
from adapter.store.onward_referrals import OnwardReferralRecord


@dataclass(frozen=True)
class OnwardReferralView:
    """An onward referral record with the messages sent for it, as the native API shows it."""

    record: OnwardReferralRecord
    messages: list[OutboundMessage]
    overdue_since: datetime | None = None  # set when listed as overdue: when the wait ran out

    def to_json(self) -> dict:
        """The native JSON: the request, its status, its delivery and the FHIR ids it made."""
        referral_message = next((m for m in self.messages if m.kind == ONWARD_REFERRAL), None)
        return {
            "id": self.record.id,
            "version": self.record.version,
            "referral_id": self.record.referral_id,
            "created_at": self.record.created_at.isoformat(),
            "updated_at": self.record.updated_at.isoformat(),
            "status": self.record.status,
            "pathway": self.record.pathway,
            "to": self.record.partner_service,
            "delivery": _delivery_json(referral_message),
            # The partner's answers (servicerequest-response), oldest first; `outcome` the latest.
            "outcome": self.record.outcomes[-1] if self.record.outcomes else None,
            "outcomes": self.record.outcomes,
            "messages": [_message_summary(m) for m in self.messages],
            "fhir": self.record.resource_ids,
            "request": self.record.native,
            **({"overdue_since": self.overdue_since.isoformat()} if self.overdue_since else {}),
        }


def _delivery_json(message: OutboundMessage | None) -> dict | None:
    if message is None:
        return None
    return {
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "last_status_code": message.last_status_code,
        # Codes only: a partner's diagnostics may name the person (full: ?include=body)
        "partner_outcome": sanitised_outcome(message.partner_outcome),
        "next_attempt_at": (
            _iso(message.next_attempt_at) if message.status in PENDING_STATES else None
        ),
        "delivered_at": _iso(message.delivered_at),
        "message_id": message.id,
    }


def _message_summary(message: OutboundMessage) -> dict:
    return {"id": message.id, "kind": message.kind, "status": message.status}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
