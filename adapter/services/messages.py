"""Operators' view of the outbox: list and read messages, replay dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapter.errors import Conflict, Issue, NotFound
from adapter.exchange.model import OutboundMessage
from adapter.exchange.outcomes import follow_task
from adapter.settings import Settings
from adapter.store import Store, UnitOfWork


def list_messages(
    store: Store, status: str | None, limit: int, offset: int
) -> tuple[list[OutboundMessage], int]:
    """A page of messages (newest first) in one delivery status, or all; and the total."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.outbox.list(status, limit, offset)


def get_message(store: Store, message_id: str) -> OutboundMessage:
    """One message; NotFound if there is none with this id."""
    with store.unit_of_work(read_only=True) as uow:
        message = uow.outbox.get(message_id)
    if message is None:
        raise NotFound("There is no message with this id.")
    return message


def replay_message(store: Store, settings: Settings, message_id: str) -> OutboundMessage:
    """Queue a dead letter again, with a new time to live; Conflict unless it is dead-lettered."""
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        _refuse_if_withdrawn(uow, uow.outbox.get(message_id))
        message = uow.outbox.replay(message_id, now + timedelta(seconds=settings.delivery_ttl), now)
        follow_task(uow, message, now)
    return message


def _refuse_if_withdrawn(uow: UnitOfWork, message: OutboundMessage | None) -> None:
    """A referral message of an onward referral cancelled since is never sent again."""
    if message is None or message.kind != "onward-referral" or not message.onward_referral_id:
        return
    record = uow.onward_referrals.get(message.onward_referral_id)
    if record is not None and record.status != "active":
        raise Conflict(
            Issue(
                f"The onward referral this message asks for is {record.status}: "
                "it is not sent again.",
                code="business-rule",
            )
        )


def message_record(message: OutboundMessage) -> dict:
    """A message's delivery record, without its body."""
    when = {
        name: value.isoformat() if value else None
        for name, value in (
            ("created_at", message.created_at),
            ("next_attempt_at", message.next_attempt_at),
            ("last_attempt_at", message.last_attempt_at),
            ("delivered_at", message.delivered_at),
            ("expires_at", message.expires_at),
        )
    }
    return {
        "id": message.id,
        "kind": message.kind,
        "status": message.status,
        "attempts": message.attempts,
        "endpoint": f"Endpoint/{message.endpoint_id}",
        "transport": message.transport,
        "onward_referral_id": message.onward_referral_id,
        "request_id": message.request_id,
        "correlation_id": message.correlation_id,
        **when,
        "last_status_code": message.last_status_code,
        "last_error": message.last_error,
        "partner_outcome": message.partner_outcome,
    }
