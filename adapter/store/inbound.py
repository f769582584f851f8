"""Inbound messages: every message a partner sent us that was accepted, kept as received."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, fields
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from adapter.errors import Conflict, Issue
from adapter.store.tables import inbound_message

M = inbound_message.c


@dataclass(frozen=True)
class InboundMessageRecord:
    """One received message; request_id (X-Request-Id) is unique: the duplicate check."""

    id: str
    request_id: str
    correlation_id: str
    bundle_id: str  # the sender's Bundle.id
    event: str  # MessageHeader.eventCoding.code
    reason: str | None  # MessageHeader.reason code
    partner_service: str | None  # the sending partner's HealthcareService id
    sender_endpoint: str  # MessageHeader.source.endpoint
    received_at: datetime
    referral_id: str | None = None  # the referral it created or changed
    onward_referral_id: str | None = None  # our onward referral it answered
    body: dict = field(default_factory=dict)  # the Bundle as received


class InboundRepository:
    """Inbound message rows; add them in the same transaction as the message's effect."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, record: InboundMessageRecord) -> InboundMessageRecord:
        """Store the record; Conflict (code duplicate) if its request_id was received before.

        On PostgreSQL a second transaction adding the same request_id waits for the first and
        fails once it commits, so a message added first in a unit of work has its effect once.
        """
        try:
            # No savepoint: after a Conflict the caller's whole unit of work rolls back anyway.
            self._db.execute(inbound_message.insert(), _row(record))
        except sa.exc.IntegrityError:
            raise Conflict(
                Issue(
                    "A message with this X-Request-Id has already been received.",
                    code="duplicate",
                )
            ) from None
        return record

    def set_effect(
        self, record_id: str, referral_id: str | None, onward_referral_id: str | None
    ) -> None:
        """Note what the message created or changed (known once its handler has run)."""
        self._db.execute(
            inbound_message.update()
            .where(M.id == record_id)
            .values(referral_id=referral_id, onward_referral_id=onward_referral_id)
        )

    def get(self, record_id: str) -> InboundMessageRecord | None:
        """The record, or None."""
        row = self._db.execute(sa.select(inbound_message).where(M.id == record_id)).first()
        return _record(row) if row else None

    def has_request_id(self, request_id: str) -> bool:
        """Whether a message with this X-Request-Id was received (its row is not read)."""
        query = sa.select(sa.literal(1)).where(M.request_id == request_id).limit(1)
        return self._db.execute(query).first() is not None

    def get_by_request_id(self, request_id: str) -> InboundMessageRecord | None:
        """The message received with this X-Request-Id, or None."""
        query = sa.select(inbound_message).where(M.request_id == request_id)
        row = self._db.execute(query).first()
        return _record(row) if row else None

    def get_by_bundle_id(self, bundle_id: str) -> InboundMessageRecord | None:
        """The first message received with this Bundle.id, or None."""
        query = (
            sa.select(inbound_message)
            .where(M.bundle_id == bundle_id)
            .order_by(M.received_at, M.id)
            .limit(1)
        )
        row = self._db.execute(query).first()
        return _record(row) if row else None

    def has_referral(self, referral_id: str) -> bool:
        """Whether a received message created or changed this referral (no row is read)."""
        query = sa.select(sa.literal(1)).where(M.referral_id == referral_id).limit(1)
        return self._db.execute(query).first() is not None

    def for_referral(self, referral_id: str) -> builtins.list[InboundMessageRecord]:
        """The messages that created or changed this referral, oldest first."""
        return self._oldest_first(M.referral_id == referral_id)

    def for_onward_referral(self, onward_referral_id: str) -> builtins.list[InboundMessageRecord]:
        """The messages answering this onward referral of ours, oldest first."""
        return self._oldest_first(M.onward_referral_id == onward_referral_id)

    def _oldest_first(self, where: sa.ColumnElement[bool]) -> builtins.list[InboundMessageRecord]:
        rows = self._db.execute(
            sa.select(inbound_message).where(where).order_by(M.received_at, M.id)
        )
        return [_record(row) for row in rows]


def _row(record: InboundMessageRecord) -> dict:
    row = {f.name: getattr(record, f.name) for f in fields(record)}
    row["body"] = orjson.dumps(record.body).decode()
    return row


def _record(row: Row) -> InboundMessageRecord:
    values = dict(row._mapping)
    values["body"] = orjson.loads(values["body"])
    return InboundMessageRecord(**values)
