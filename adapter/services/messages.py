"""Operators' view of the outbox: list and read messages, replay dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapter.errors import Conflict, Issue, NotFound
from adapter.exchange.model import FINAL_STATES, ONWARD_REFERRAL, PENDING_STATES, OutboundMessage
from adapter.exchange.outcomes import follow_task
from adapter.exchange.redact import sanitised_outcome
from adapter.services.onward_checks import before_sending
from adapter.services.onward_referrals import cancel_onward_referral
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


def cancel_message(
    store: Store, settings: Settings, directory: list[dict], message_id: str
) -> OutboundMessage:
    """Cancel a message still waiting to go; Conflict if it has gone, or a worker holds it.

    A message of an onward referral is cancelled as the referral is (BaRS: the referral is
    cancelled and the partner told if it may have it); any other kind (a response, a
    cancellation) is withdrawn alone.
    """
    message = get_message(store, message_id)
    if message.status not in PENDING_STATES:
        raise Conflict(
            Issue(
                f"Only a waiting message can be cancelled; this one is {message.status}.",
                code="business-rule",
            )
        )
    if message.kind == ONWARD_REFERRAL and message.onward_referral_id:
        cancel_onward_referral(store, settings, message.onward_referral_id, directory)
        return get_message(store, message_id)
    with store.unit_of_work() as uow:
        if not uow.outbox.cancel_pending([message_id]):
            raise Conflict(
                Issue(
                    "It is being delivered right now, or has just gone; look again in a moment.",
                    code="business-rule",
                )
            )
        cancelled = uow.outbox.get(message_id)
    assert cancelled is not None
    return cancelled


def _refuse_if_withdrawn(uow: UnitOfWork, message: OutboundMessage | None) -> None:
    """A referral message that may no longer go (cancelled, consent withdrawn) is never resent."""
    if message is None:
        return
    check = before_sending(uow, message)
    if check.withdraw:
        raise Conflict(Issue(f"It is not sent again: {check.withdraw}.", code="business-rule"))


def message_record(message: OutboundMessage, include_body: bool = False) -> dict:
    """A message's delivery record; with `include_body`, the Bundle and the partner's whole outcome.

    Without it, only a sanitised outcome: a partner's diagnostics may name the person.
    """
    final = message.status in FINAL_STATES  # then there is no next attempt, whatever is stored
    when = {
        name: value.isoformat() if value else None
        for name, value in (
            ("created_at", message.created_at),
            ("next_attempt_at", None if final else message.next_attempt_at),
            ("last_attempt_at", message.last_attempt_at),
            ("delivered_at", message.delivered_at),
            ("expires_at", message.expires_at),
        )
    }
    record = {
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
    }
    if include_body:
        return {**record, "partner_outcome": message.partner_outcome, "body": message.body}
    return {**record, "partner_outcome": sanitised_outcome(message.partner_outcome)}
