"""Operators' view of the outbox: list and read messages, replay dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapter.errors import NotFound
from adapter.exchange.model import OutboundMessage
from adapter.exchange.outcomes import follow_task
from adapter.settings import Settings
from adapter.store import Store


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
        message = uow.outbox.replay(message_id, now + timedelta(seconds=settings.delivery_ttl), now)
        follow_task(uow, message, now)
    return message
